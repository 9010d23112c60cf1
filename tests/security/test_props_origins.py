"""Properties of origin matching and of configured-origin parsing (hypothesis).

- The compiled matcher agrees with a naive reference written here from the rules in the
  docs (exact string equality; ``*.`` = one or more whole leading DNS labels, same scheme
  and port; ``:*`` = any port; browsers never send a default port).
- Lookalike hosts (suffix appended, label glued, dot replaced, apex, trailing dot, other
  scheme or port) never match an exact origin, a ``*.`` pattern or an anchored regex.
- Parsing is a normalisation: an accepted pattern re-parses to itself; following the fix a
  refusal suggests converges to an accepted pattern; ``describe()`` round-trips through
  ``from_mapping``.
"""

from __future__ import annotations

import ast
import re

from hypothesis import assume, example, given
from hypothesis import strategies as st

from corsware import CORSConfigError, CORSPolicy, Problem
from corsware._origins import OriginPattern, parse_origin_pattern

from ..support.props import BUDGET, DEFAULT_PORTS, LABELS, SCHEMES, host, pattern, request_origin, serialise

_LDH = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def _split(origin: str) -> tuple[str, str, str | None] | None:
    """Naive split of a serialised origin; None when it is not one."""
    if "://" not in origin:
        return None
    scheme, rest = origin.split("://", 1)
    if not re.fullmatch(r"[a-z][a-z0-9+.-]*", scheme):
        return None
    port = None
    if ":" in rest:
        rest, port = rest.rsplit(":", 1)
        if not (port.isdigit() and 1 <= len(port) <= 5):
            return None
    if not rest or any(c not in "abcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()+;=" for c in rest):
        return None
    return scheme, rest, port


def _ldh_host(hostname: str) -> bool:
    labels = hostname.split(".")
    return all(_LDH.fullmatch(label) for label in labels) and not labels[-1].isdigit()


def reference_allows(patterns: list[str], origin: str) -> bool:
    """The documented matching rules, written as plainly as possible."""
    if origin in [p for p in patterns if "*" not in p]:
        return True  # exact patterns: string equality
    parts = _split(origin)
    if parts is None:
        return False
    scheme, hostname, port = parts
    for p in patterns:
        p_scheme, p_rest = p.split("://", 1)
        p_host, _, p_port = p_rest.partition(":")
        if p_scheme != scheme:
            continue
        if p_port == "*" and not p_host.startswith("*.") and hostname == p_host:
            return True  # any-port pattern: any port, or none
        if p_host.startswith("*."):
            suffix = p_host[2:]
            if port is not None and port == DEFAULT_PORTS.get(scheme):
                continue  # browsers omit the default port; a value carrying it is not theirs
            if not _ldh_host(hostname) or not hostname.endswith("." + suffix):
                continue
            if p_port == "*" or (p_port or None) == port:
                return True
    return False


@BUDGET
@given(st.lists(pattern(), min_size=1, max_size=6, unique=True), st.lists(request_origin(), min_size=1, max_size=8))
@example(["https://*.example.com"], ["https://a.example.com", "https://example.com", "https://aexample.com"])
@example(["http://localhost:*"], ["http://localhost", "http://localhost:5173", "http://localhostx:1"])
def test_matcher_agrees_with_reference(patterns: list[str], origins: list[str]) -> None:
    policy = CORSPolicy(allow_origins=patterns)
    candidates = origins + patterns  # the patterns' own text as origins, too ('*' included)
    for origin in candidates:
        decision = policy.evaluate("GET", "/", [("Origin", origin)])
        assert decision.allowed == reference_allows(patterns, origin), (origin, patterns, decision.reason)
        if decision.allowed:
            assert decision.header("Access-Control-Allow-Origin") == origin


def _lookalikes(domain: str) -> list[str]:
    """Hosts that look like ``domain`` (or a subdomain of it) but belong to someone else."""
    out = [f"{domain}.evil.net", f"evil{domain}", f"evil-{domain}", f"{domain}evil.net", f"{domain}.", f"{domain}-x"]
    for i, ch in enumerate(domain):
        if ch == ".":
            out += [
                domain[:i] + "x" + domain[i + 1 :],
                domain[:i] + "-" + domain[i + 1 :],
                domain[:i] + domain[i + 1 :],
            ]
    return out


@BUDGET
@given(SCHEMES, host(min_labels=2), LABELS, st.sampled_from(["exact", "subdomains", "regex", "regex-dotstar"]))
def test_lookalikes_never_match(scheme: str, domain: str, sub: str, kind: str) -> None:
    if kind == "exact":
        policy = CORSPolicy(allow_origins=[f"{scheme}://{sub}.{domain}"])
        legit = f"{scheme}://{sub}.{domain}"
    elif kind == "subdomains":
        policy = CORSPolicy(allow_origins=[f"{scheme}://*.{domain}"])
        legit = f"{scheme}://{sub}.{domain}"
    elif kind == "regex":
        policy = CORSPolicy(allow_origin_regex=rf"{scheme}://[a-z0-9-]+\.{re.escape(domain)}")
        legit = f"{scheme}://{sub}.{domain}"
    else:
        policy = CORSPolicy(allow_origin_regex=rf"{scheme}://.*\.{re.escape(domain)}")
        legit = f"{scheme}://{sub}.{domain}"
    assert policy.evaluate("GET", "/", [("Origin", legit)]).allowed  # control: the test can fail
    other = "http" if scheme == "https" else "https"
    attempts = [f"{scheme}://{sub}.{look}" for look in _lookalikes(domain)]
    attempts += [f"{other}://{sub}.{domain}", f"{scheme}://{sub}.{domain}:8443", legit.upper(), f"{legit}/"]
    if kind != "exact":
        attempts += [f"{scheme}://{domain}", f"{scheme}://.{domain}", f"{scheme}://{sub}..{domain}"]
    for attempt in attempts:
        if attempt.removeprefix(f"{scheme}://").endswith("." + domain) and kind != "exact":
            continue  # e.g. domain 'a.com', lookalike 'ax.a.com' is a genuine subdomain
        decision = policy.evaluate("GET", "/", [("Origin", attempt)])
        assert not decision.allowed, (attempt, kind, domain)
        assert decision.header("Access-Control-Allow-Origin") is None


# -- origin regexes with credentials: accepted means nothing foreign is admitted -------------

_REGEX_CLASSES = st.sampled_from(["[a-z]+", "[a-z0-9-]+", r"\w+", ".*", ".+", "[a-z0-9.]+", "[^.]+", r"\d+"])
_REGEX_TRAILERS = st.sampled_from(["", r"(\.[a-z]+)*", r"(:\d+)?", r"[a-z.]*", r"(\.[a-z]+)?", r"\w*"])


@st.composite
def regex_and_attackers(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A credentialed origin regex built from literal labels and classes, and origins an
    attacker could own around the labels it writes literally."""
    scheme = draw(st.sampled_from(["https", "https", "https", "https?", "(http|https)", "http"]))
    # Leading labels chosen freely, then (mostly) literal labels, as real regexes are written.
    lead = draw(st.lists(st.one_of(LABELS.map(re.escape), _REGEX_CLASSES), min_size=1, max_size=2))
    parts = lead + draw(st.lists(LABELS.map(re.escape), max_size=2))
    regex = f"{scheme}://" + r"\.".join(parts) + draw(st.one_of(st.just(""), _REGEX_TRAILERS))
    literal = [p.replace("\\", "") for p in parts if not any(c in p for c in "[]+*.")]
    tail = ".".join(literal[-2:]) or "example.com"
    near = st.sampled_from([f"{tail}.attacker.net", f"attacker{tail}", f"{tail}x", f"a.{tail}.evil", f"{tail}.co"])
    hosts = st.lists(st.one_of(host(), near, host().map(lambda h: f"{h}.{tail}")), min_size=1, max_size=6)
    origins = [f"{draw(SCHEMES)}://{h}" for h in draw(hosts)]
    return regex, origins


@BUDGET
@given(regex_and_attackers())
@example((r"https://.*\.com", ["https://attacker.com"]))
@example((r"https://\w+\.\w+", ["https://attacker.com"]))
@example((r"https://[a-z0-9.]+", ["https://attacker.com", "https://example.com.attacker.net"]))
@example((r"https://example\.com(\.[a-z]+)*", ["https://example.com.attacker.net"]))
@example((r"https?://app\.example\.com", ["http://app.example.com"]))
@example((r"https://[a-z0-9-]+\.github\.io", ["https://attacker.github.io"]))
def test_credentialed_regex_admits_only_what_it_names(drawn: tuple[str, list[str]]) -> None:
    """With credentials, an accepted regex admits only https origins whose registrable
    domain it writes literally (``example\\.com``); everything else was refused at
    construction (lookalike, foreign site, public suffix, plain http)."""
    regex, origins = drawn
    try:
        policy = CORSPolicy(allow_origin_regex=regex, allow_credentials=True)
    except CORSConfigError as exc:
        refused = set(exc.codes)
    else:
        refused = set()
    assert refused <= {
        "regex_matches_lookalike",
        "regex_matches_any_origin",
        "public_suffix_pattern_with_credentials",
        "insecure_origin_with_credentials",
    }, (regex, refused)
    if refused:
        return
    for origin in origins:
        if not policy.evaluate("GET", "/", [("Origin", origin)]).allowed:
            continue
        scheme, hostname = origin.split("://", 1)
        if hostname.rsplit(".", 1)[-1].isdigit():
            continue  # a numeric last label is no domain name: a browser's URL parser refuses it
        assert scheme == "https", (regex, origin)
        # The generated labels hold no multi-label public suffix: the registrable domain is
        # the last two labels.
        owned = ".".join(hostname.split(".")[-2:])
        assert re.escape(owned) in regex, (regex, origin)


# -- configured-origin parsing: a normalisation ---------------------------------------------

_TEXT_PARTS = st.tuples(
    st.sampled_from(["https", "http", "HTTPS", "Http", "ftp", "h ttp", "", "wss", "1http"]),
    st.sampled_from(["://", ":/", "", "//"]),
    st.one_of(
        host(),
        host().map(str.upper),
        host().map(lambda h: "*." + h),
        host().map(lambda h: "a*" + h),
        st.sampled_from(["r\u00e9sum\u00e9.com", "[::1]", "[0:0::1]", "127.0.0.1", "1.2.3.999", "u@a.com", "a..b"]),
    ),
    st.sampled_from(["", ":443", ":80", ":8080", ":0", ":080", ":*", ":99999", ":x"]),
    st.sampled_from(["", "/", "/path", "?q=1", "#f", "/?"]),
)
TEXTS = st.one_of(_TEXT_PARTS.map("".join), st.text(max_size=40))
_FIX = re.compile(r"write ('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")")


def _suggested_fix(problem: Problem) -> str | None:
    # The message starts with the offending text's repr, which may itself contain "write";
    # the suggestion is the last one.
    found = _FIX.findall(problem.message[len(repr(problem.value)) :])
    if not found:
        return None
    fix = ast.literal_eval(found[-1])
    assert isinstance(fix, str)
    return fix


@BUDGET
@given(TEXTS)
@example("HTTPS://App.Example.COM:443/")
@example("https://r\u00e9sum\u00e9.com/")
def test_pattern_parsing_is_a_normalisation(text: str) -> None:
    seen = [text]
    current = text
    for _ in range(6):
        result = parse_origin_pattern(current, "allow_origins")
        if isinstance(result, OriginPattern):
            # An accepted pattern is a fixed point.
            again = parse_origin_pattern(result.text, "allow_origins")
            assert again == result
            return
        fix = _suggested_fix(result)
        if fix is None:
            return  # refused without a mechanical fix (e.g. an invalid host): fine
        assert fix not in seen, f"suggested fixes cycle: {[*seen, fix]}"
        seen.append(fix)
        current = fix
    raise AssertionError(f"suggested fixes never converge: {seen}")


REGEXES = st.sampled_from([r"https://[a-z]+\.example\.org", r"http://127\.0\.0\.1:\d+"])
_POLICY_KW = st.fixed_dictionaries(
    {
        "allow_origins": st.lists(pattern(), max_size=4, unique=True),
        "allow_methods": st.lists(st.sampled_from(["GET", "PUT", "PATCH", "DELETE", "PURGE"]), unique=True),
        "allow_headers": st.lists(st.sampled_from(["X-A", "x-b", "Authorization", "X-Requested-With"]), unique=True),
        "expose_headers": st.lists(st.sampled_from(["X-Request-Id", "ETag", "x-total"]), unique=True),
        "max_age": st.one_of(st.none(), st.integers(0, 86400)),
        "allow_private_network": st.booleans(),
        "allow_origin_regex": st.lists(REGEXES, max_size=2, unique=True),
    },
    optional={
        "paths": st.dictionaries(
            st.sampled_from(["/api/*", "/public/*", "/health"]),
            st.fixed_dictionaries({"allow_origins": st.lists(pattern(), max_size=2, unique=True)}),
            max_size=2,
        )
    },
)


@BUDGET
@given(_POLICY_KW)
def test_describe_round_trips_through_from_mapping(kwargs: dict[str, object]) -> None:
    try:
        policy = CORSPolicy(**kwargs)  # type: ignore[arg-type]
    except CORSConfigError as exc:
        # Generated combinations a policy legitimately refuses (redundant wildcards...).
        assume(False)
        raise AssertionError from exc  # pragma: no cover
    described = policy.describe()
    again = CORSPolicy.from_mapping(described)
    assert again.describe() == described
    assert again == policy
    assert hash(again) == hash(policy)
    # And it behaves the same on a request.
    for configured in kwargs["allow_origins"][:2]:  # type: ignore[index]
        origin = str(configured).replace("*.", "a.").replace(":*", ":8080")
        headers = [("Origin", origin), ("Access-Control-Request-Method", "PUT")]
        assert again.evaluate("OPTIONS", "/api/x", headers) == policy.evaluate("OPTIONS", "/api/x", headers)


@BUDGET
@given(SCHEMES, host(), st.sampled_from([None, "8080"]))
def test_exact_origin_reflected_byte_for_byte(scheme: str, hostname: str, port: str | None) -> None:
    """Fetch "CORS check": ACAO must be byte-for-byte the request's serialised origin."""
    origin = serialise(scheme, hostname, port)
    decision = CORSPolicy(allow_origins=[origin]).evaluate("GET", "/", {"Origin": origin})
    assert decision.header("Access-Control-Allow-Origin") == origin
    assert decision.header("Vary") == "Origin"
