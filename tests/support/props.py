"""Shared hypothesis settings and strategies for the security property tests.

The example budget is fixed by a settings profile so ``make test`` stays fast and
deterministic; ``CORSWARE_PROP_EXAMPLES=20000`` runs the same properties much deeper.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

settings.register_profile(
    "corsware-security",
    max_examples=int(os.environ.get("CORSWARE_PROP_EXAMPLES", "300")),
    deadline=None,
    derandomize=os.environ.get("CORSWARE_PROP_RANDOM", "") == "",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
#: Decorate each property with this (loading a profile globally would change other tests).
BUDGET = settings.get_profile("corsware-security")

#: A small alphabet of DNS labels, so that generated patterns and origins collide often.
LABELS = st.sampled_from(["a", "b", "app", "example", "com", "evil", "x-y", "net", "0", "io", "co"])
SCHEMES = st.sampled_from(["http", "https"])
PORTS = st.sampled_from([None, "8080", "5173", "443", "80", "1"])


def host(min_labels: int = 1) -> st.SearchStrategy[str]:
    """Lower-case LDH hosts such as ``app.example.com`` (last label never numeric)."""
    return st.builds(
        lambda inner, last: ".".join([*inner, last]),
        st.lists(LABELS, min_size=min_labels - 1, max_size=3),
        LABELS.filter(lambda label: not label.isdigit()),
    )


def serialise(scheme: str, hostname: str, port: str | None) -> str:
    return f"{scheme}://{hostname}" + ("" if port is None else f":{port}")


#: Ports browsers never put in an origin: the scheme's default.
DEFAULT_PORTS = {"http": "80", "https": "443"}


@st.composite
def pattern(draw: st.DrawFn) -> str:
    """A configured origin that ``CORSPolicy`` accepts: exact, ``*.`` subdomains, or ``:*``."""
    scheme = draw(SCHEMES)
    port = draw(PORTS)
    if port == DEFAULT_PORTS[scheme]:
        port = None
    kind = draw(st.sampled_from(["exact", "subdomains", "any-port"]))
    if kind == "subdomains":
        return serialise(scheme, "*." + draw(host()), draw(st.sampled_from([port, "*"])))
    if kind == "any-port":
        return serialise(scheme, draw(host()), "*")
    return serialise(scheme, draw(host()), port)


@st.composite
def request_origin(draw: st.DrawFn) -> str:
    """What a browser (or an attacker) may send: mostly well-formed, sometimes mangled."""
    scheme = draw(st.sampled_from(["http", "https", "HTTPS", "ftp"]))
    hostname = draw(host())
    port = draw(PORTS)
    text = serialise(scheme, hostname, port)
    mangle = draw(st.sampled_from(["", "", "", "upper", "dot", "slash", "label", "space", "user", "empty-label"]))
    if mangle == "upper":
        text = text.upper()
    elif mangle == "dot":
        text = serialise(scheme, hostname + ".", port)
    elif mangle == "slash":
        text += "/"
    elif mangle == "label":
        text = serialise(scheme, hostname.replace(".", "", 1), port)
    elif mangle == "space":
        text = " " + text
    elif mangle == "user":
        text = serialise(scheme, "u@" + hostname, port)
    elif mangle == "empty-label":
        text = serialise(scheme, "." + hostname, port)
    return text
