"""``Plan._fast`` (preflights decided with set operations, refusals included) against
``Plan._preflight``, the reference: whenever it answers, an allowed answer equals the
reference's and a refusal is the reference's own shared refusal, for every generated
request; and the refusals a hostile client sends with never-seen header lists take it."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from corsware import CORSPolicy

POLICIES = [
    CORSPolicy(
        allow_origins=["https://app.example.com", "https://*.example.org"],
        allow_methods=["GET", "PUT", "PATCH"],
        allow_headers=["X-Token", "Authorization"],
        allow_credentials=True,
    ),
    CORSPolicy(allow_origins=["https://app.example.com"], allow_private_network=True, allow_headers=["x-a"]),
    CORSPolicy(allow_origins=["*"], allow_headers=["x-token"]),
    CORSPolicy(allow_origins=["https://app.example.com"], allow_headers=["*"]),  # not taken
    CORSPolicy(allow_origins=["https://app.example.com"], allow_headers=[r"X-Company-.*"]),  # not taken
]
ORIGINS = st.sampled_from(["https://app.example.com", "https://a.b.example.org", "https://evil.com", "null", ""])
METHODS = st.sampled_from(["GET", "PUT", "PATCH", "patch", "DELETE", "POST", "G ET", "", "X" * 70])
NAMES = st.sampled_from(
    ["x-token", "X-Token", "authorization", "content-type", "x-a", "x-other", "x-company-1", "", " ", "x token",
     "x-token\n", "x-to\u212aen", "\u00e9", "a" * 5000]  # KELVIN SIGN, non-ASCII, too long
)  # fmt: skip
HEADER_LISTS = st.lists(st.tuples(NAMES, st.sampled_from(["", " ", "\t"])), max_size=6).map(
    lambda items: ",".join(space + name + space for name, space in items)
)


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(range(len(POLICIES))), ORIGINS, METHODS, HEADER_LISTS, st.booleans())
@example(0, "https://app.example.com", "PUT", "x-to\u212aen", False)
@example(1, "https://app.example.com", "GET", "", True)
@example(0, "https://app.example.com", "GET", "x token,x-other", False)
def test_fast_refusal_matches_reference(index: int, origin: str, method: str, headers: str, pna: bool) -> None:
    plan = POLICIES[index].plan
    rule = plan.matcher.static_rule(origin)
    fast = plan._fast(origin, method, headers, pna)
    reference = plan._preflight(origin, rule, method, headers, pna, False, shared=True)
    if fast is not None and fast.allowed:
        assert fast == reference
    elif fast is not None:
        assert fast is reference  # the very same shared refusal


def test_refusals_with_never_seen_header_lists_take_the_fast_path() -> None:
    plan = POLICIES[0].plan
    for i in range(50):
        headers = f"x-token,x-unknown-{i}"
        fast = plan._fast("https://app.example.com", "PUT", headers, False)
        assert fast is not None
        assert fast.reason == "header_not_allowed"
    assert plan._fast("https://evil.example.net", "PUT", "x-anything", False).reason == "origin_not_allowed"
