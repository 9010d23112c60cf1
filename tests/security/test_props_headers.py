"""Properties of the Access-Control-Request-Headers parser and of preflight header checks.

``parse_request_headers`` must agree with a plain reference (split on commas, strip
spaces and tabs, lower-case, drop empties, every item an RFC 9110 token, sorted unique;
refuse anything longer than the cap), and stay bounded in time and output whatever it is
given.
"""

from __future__ import annotations

import string
import time

from hypothesis import example, given
from hypothesis import strategies as st

from corsware import CORSPolicy
from corsware._headers import MAX_REQUEST_HEADERS_LENGTH, parse_request_headers

from ..support.props import BUDGET

_TCHAR = set("!#$%&'*+-.^_`|~" + string.digits + string.ascii_letters)


def reference_parse(raw: str) -> tuple[str, ...] | None:
    if len(raw) > MAX_REQUEST_HEADERS_LENGTH:
        return None
    names = set()
    for piece in raw.split(","):
        item = piece.strip(" \t")
        if not item:
            continue
        if any(c not in _TCHAR for c in item):
            return None
        names.add(item.lower())
    return tuple(sorted(names))


_NAMES = st.sampled_from(["x-a", "X-A", "content-type", "Authorization", "x_b", "a.b", "*", "x-\xe9", "x a", "k"])
_SEPS = st.sampled_from([",", ", ", " ,", ",,", "\t,\t", ", ,", ",\r", ";", " "])
#: Lists that look like what browsers and proxies send, with hostile separators mixed in.
HEADER_LISTS = st.one_of(
    st.lists(st.tuples(_NAMES, _SEPS), max_size=12).map(lambda pairs: "".join(n + s for n, s in pairs)),
    st.text(alphabet=st.sampled_from(list(", \tabcxyz-_*\r\n\x00\xe9\u212a\u0130")), max_size=60),
    st.text(max_size=80),
)


@BUDGET
@given(HEADER_LISTS)
@example("x-\u212a")  # KELVIN SIGN lower-cases to an ASCII 'k'
@example("\u0130")  # I WITH DOT lower-cases to two code points
@example(" Content-Type ,, AUTHORIZATION,\tcontent-type , ")
def test_parse_request_headers_agrees_with_reference(raw: str) -> None:
    assert parse_request_headers(raw) == reference_parse(raw)


@BUDGET
@given(st.text(alphabet=st.sampled_from(list(", \tx-a\r\xe9")), min_size=0, max_size=64), st.integers(1, 20_000))
def test_parse_request_headers_is_bounded(unit: str, repeat: int) -> None:
    raw = unit * repeat
    start = time.perf_counter()
    result = parse_request_headers(raw)
    elapsed = time.perf_counter() - start
    assert elapsed < 0.05, f"{len(raw)} chars took {elapsed:.3f}s"
    if len(raw) > MAX_REQUEST_HEADERS_LENGTH:
        assert result is None
    if result is not None:
        assert len(result) <= len(raw) // 2 + 1
        assert sum(map(len, result)) <= len(raw)


@BUDGET
@given(
    st.lists(st.sampled_from(["x-a", "x-b", "content-type", "authorization"]), min_size=1, max_size=4),
    st.lists(st.sampled_from(["x-a", "x-b", "x-c", "content-type", "authorization", "accept"]), max_size=6),
    st.booleans(),
    st.data(),
)
def test_preflight_headers_granted_iff_each_allowed(
    allowed: list[str], requested: list[str], star: bool, data: st.DataObject
) -> None:
    """Fetch "CORS-preflight fetch": each requested name must be allowed; '*' covers every
    name, Authorization included; safelisted names always pass; case and white space never
    matter."""
    if star:  # '*' plus other names is redundant (a warning, the names ignored)
        allow = ["*", *allowed]
    else:
        allow = allowed
    policy = CORSPolicy(allow_origins=["https://a.example.com"], allow_headers=sorted(set(allow)))
    spelled = [data.draw(st.sampled_from([n, n.upper(), f" {n}\t", n.title()])) for n in requested]
    headers = [("Origin", "https://a.example.com"), ("Access-Control-Request-Method", "GET"),
               ("Access-Control-Request-Headers", ",".join(spelled))]  # fmt: skip
    decision = policy.evaluate("OPTIONS", "/", headers)
    safelisted = {"accept", "accept-language", "content-language", "content-type"}
    expected = all(star or n in allowed or n in safelisted for n in {r.lower() for r in requested})
    assert decision.allowed == expected, (allow, spelled, decision.reason)
    assert decision.status == (204 if expected else 403)
