"""The fast paths of the request-time core (docs/performance.md) against the reference implementations they shortcut.

Each fast path must give exactly the answer of the general code it skips:
- ``Plan.for_request`` / ``for_raw_request`` (classification written into the one call per
  request) vs ``classify`` followed by ``no_origin``, ``for_origin`` or ``for_preflight``;
- ``Plan._fast_preflight`` (allowed preflights without the regex and problem list) vs
  ``Plan._preflight``;
- the header-merge fast path (``Addition.merged_raw``/``merged_text``) vs ``merge_response_headers``;
- ``is_token_list`` (``bytes.translate``) vs the token-list grammar as a regex;
- the per-origin answer memo (patterns, regexes, refusals) vs ``OriginMatcher.static_rule``,
  bounded, never holding callback answers, still logging every refusal.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from corsware import CORSPolicy
from corsware._compile import addition
from corsware._decision import RequestKind, classify
from corsware._headers import BYTES_CODEC, STR_CODEC, is_token_list, merge_response_headers
from corsware.asgi import CORSMiddleware as ASGIMiddleware

POLICIES = [
    CORSPolicy(
        allow_origins=["https://app.example.com", "https://*.example.org"],
        allow_methods=["GET", "PUT", "PATCH"],
        allow_headers=["X-Token", "Authorization"],
        allow_credentials=True,
        max_age=None,
    ),
    CORSPolicy(
        allow_origins=["https://app.example.com"],
        allow_origin_regex=r"https://[a-z]+\.example\.net",
        allow_private_network=True,
    ),
    CORSPolicy(allow_origins=["*"], allow_headers=["x-token"], expose_headers=["X-Id"]),
    CORSPolicy(allow_origins=["https://app.example.com"], allow_headers=["*"]),  # no fast path
    CORSPolicy(allow_origins=["https://app.example.com"], allow_methods="*", allow_credentials=True),
]
ORIGINS = st.sampled_from(
    ["https://app.example.com", "https://a.b.example.org", "https://x.example.net", "https://evil.com", "null", ""]
)
METHODS = st.sampled_from(["GET", "PUT", "PATCH", "patch", "DELETE", "POST", "G ET", "", "X" * 70])
NAMES = st.sampled_from(
    [
        "x-token",
        "X-Token",
        "authorization",
        "content-type",
        "accept",
        "x-other",
        "",
        " ",
        "x token",
        "x-token\n",
        "x-to\u212aen",
    ]  # KELVIN SIGN: lower-cases to "k", must still be refused
)
HEADER_LISTS = st.lists(st.tuples(NAMES, st.sampled_from(["", " ", "\t", "  "])), max_size=6).map(
    lambda items: ",".join(space + name + space for name, space in items)
)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(range(len(POLICIES))), ORIGINS, METHODS, HEADER_LISTS, st.booleans())
@example(0, "https://app.example.com", "PUT", "x-to\u212aen", False)  # KELVIN SIGN: not 'x-token'
def test_fast_preflight_matches_reference(index: int, origin: str, method: str, headers: str, pna: bool) -> None:
    plan = POLICIES[index].plan
    fast = plan._fast_preflight(origin, method, headers, pna)
    rule = plan.matcher.static_rule(origin)
    reference = plan._preflight(origin, rule, method, headers, pna, False)
    if fast is not None:
        assert fast == reference
    # The fast path only ever shortcuts allowed answers, and takes the plain allowed ones.
    assert fast is None or reference.allowed


def test_fast_preflight_is_taken_for_a_plain_allowed_preflight() -> None:
    plan = POLICIES[0].plan
    answer = plan._fast_preflight("https://app.example.com", "PUT", "x-token, content-type", False)
    assert answer is not None
    assert answer.allowed
    assert dict(answer.text)["Access-Control-Allow-Origin"] == "https://app.example.com"


HEADER_NAMES = st.sampled_from(
    ["Content-Type", "content-length", "Vary", "vary", "VARY", "Access-Control-Allow-Origin", "access-control-x",
     "Age", "accept-ranges", "X-Id", "", "v", "A"]
)  # fmt: skip
APP_HEADERS = st.lists(st.tuples(HEADER_NAMES, st.sampled_from(["1", "Origin", "Accept-Encoding", "*", "a, b"])))
CORS = (("Access-Control-Allow-Origin", "https://app.example.com"), ("Access-Control-Allow-Credentials", "true"))


@settings(max_examples=300, deadline=None)
@given(APP_HEADERS, st.sampled_from([(), ("Origin",)]))
def test_merge_fast_path_matches_reference(app: list[tuple[str, str]], vary: tuple[str, ...]) -> None:
    add = addition(CORS, vary, True, "allow_origins")
    assert add.merged_text(list(app)) == merge_response_headers(app, CORS, vary, STR_CODEC)
    assert add.merged_text(iter(app)) == merge_response_headers(app, CORS, vary, STR_CODEC)  # any iterable
    raw_app = [(k.lower().encode(), v.encode()) for k, v in app]
    raw_cors = tuple((k.lower().encode(), v.encode()) for k, v in CORS)
    raw_vary = tuple(v.encode() for v in vary)
    expected = merge_response_headers(raw_app, raw_cors, raw_vary, BYTES_CODEC)
    assert add.merged_raw(raw_app) == expected
    assert add.merged_raw(iter(raw_app)) == expected  # any iterable


def _asgi_headers(app_headers: Any) -> list[tuple[bytes, bytes]]:
    """Run one GET from an allowed origin through the ASGI middleware; return the headers sent."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": app_headers()})
        await send({"type": "http.response.body", "body": b"ok"})

    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    mw = ASGIMiddleware(app, allow_origins=["https://app.example.com"])
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"origin", b"https://app.example.com")]}
    asyncio.run(mw(scope, receive, send))
    return [(bytes(k), bytes(v)) for k, v in sent[0]["headers"]]


def test_asgi_merges_headers_given_as_tuple_or_generator_or_with_app_vary() -> None:
    expected = [
        (b"content-type", b"text/plain"),
        (b"vary", b"Origin"),
        (b"access-control-allow-origin", b"https://app.example.com"),
    ]
    assert _asgi_headers(lambda: [(b"content-type", b"text/plain")]) == expected
    assert _asgi_headers(lambda: ((b"content-type", b"text/plain"),)) == expected
    assert _asgi_headers(lambda: (h for h in [(b"content-type", b"text/plain")])) == expected
    merged = _asgi_headers(lambda: [(b"Vary", b"Accept-Encoding"), (b"Access-Control-Allow-Origin", b"*")])
    assert merged == [
        (b"vary", b"Accept-Encoding, Origin"),
        (b"access-control-allow-origin", b"https://app.example.com"),
    ]


def test_origin_memo_is_bounded_and_agrees_with_the_matcher() -> None:
    policy = CORSPolicy(allow_origins=["https://*.example.org"], preflight_cache_size=8)
    plan = policy.plan
    for i in range(50):
        origin = f"https://h{i}.example.org" if i % 2 else f"https://h{i}.evil.org"
        first, again = plan.for_origin(origin), plan.for_origin(origin)
        assert first == again
        assert first.allowed == (plan.matcher.static_rule(origin) is not None)
        assert len(plan._seen) <= 8


def test_origin_memo_never_keeps_callback_answers() -> None:
    calls: list[str] = []

    def callback(origin: str) -> bool:
        calls.append(origin)
        return len(calls) == 1  # allowed the first time only

    policy = CORSPolicy(allow_origins=["https://app.example.com"], allow_origin_callback=callback)
    request = ("GET", "/", {"Origin": "https://other.example.com"})
    assert policy.evaluate(*request).allowed
    assert not policy.evaluate(*request).allowed
    assert calls == ["https://other.example.com"] * 2
    assert len(policy.plan._seen) == 0


def test_memoised_refusals_are_still_logged(caplog: Any) -> None:
    plan = CORSPolicy(allow_origins=["https://app.example.com"]).plan
    with caplog.at_level(logging.DEBUG, logger="corsware"):
        plan.for_origin("https://evil.example.com", "/a")
        plan.for_origin("https://evil.example.com", "/b")
    refused = [r.getMessage() for r in caplog.records if "refused origin" in r.getMessage()]
    assert len(refused) == 2
    assert '"/b"' in refused[1]


def test_preflight_cache_stays_bounded_and_skips_oversized_lists() -> None:
    policy = CORSPolicy(allow_origins=["https://app.example.com"], allow_headers=["*"], preflight_cache_size=16)
    plan = policy.plan
    for i in range(200):
        plan.for_preflight("https://app.example.com", "GET", f"x-h{i}")
        assert len(plan.cache) <= 16
    huge = "," * (1 << 20)
    answer = plan.for_preflight("https://app.example.com", "GET", huge)
    assert not answer.allowed
    assert all(key[2] != huge for key in plan.cache._data)


CALLBACK_POLICY = CORSPolicy(
    allow_origins=["https://app.example.com"], allow_origin_callback=lambda o: o.endswith(".net")
)
REQUEST_METHODS = st.sampled_from([None, "PUT", "GET", "patch", "", "G ET"])


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from([*POLICIES, CALLBACK_POLICY]),
    st.sampled_from(["OPTIONS", "options", "GET", "POST", "PUT", ""]),
    st.one_of(st.none(), ORIGINS),
    REQUEST_METHODS,
    HEADER_LISTS,
    st.booleans(),
    st.booleans(),
)
def test_for_request_matches_reference(
    policy: CORSPolicy, method: str, origin: str | None, acrm: str | None, headers: str, pna: bool, debug: bool
) -> None:
    plan = policy.plan
    kind = classify(method, origin, acrm)
    if kind is RequestKind.NOT_CORS:
        expected: object = plan.no_origin
    elif kind is RequestKind.PREFLIGHT:
        assert origin is not None
        assert acrm is not None
        expected = plan.for_preflight(origin, acrm, headers, pna, debug, "/")
    else:
        assert origin is not None
        expected = plan.for_origin(origin, "/")
    assert plan.for_request(method, origin, acrm, headers, pna, debug, "/") == expected
    if not headers.isascii():
        return  # ASGI servers give latin-1 bytes: such a list arrives as its UTF-8 bytes, another str
    raw = plan.for_raw_request(
        method,
        None if origin is None else origin.encode("latin-1"),
        None if acrm is None else acrm.encode("latin-1"),
        headers.encode("latin-1"),
        pna,
        debug,
        "/",
    )
    assert raw == expected


TOKEN_LIST_GRAMMAR = r"[!#$%&'*+\-.^_`|~0-9a-z,]*"  # lower-case tchar (RFC 9110 §5.6.2) and commas


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from([*"aZz09-_.,!~`|^' \t\n\"(){}/:;<=>?@[]\\é\u212a\x00\x7f"]), max_size=12))
def test_is_token_list_matches_the_grammar(value: str) -> None:
    """The C-level check of ``_fast`` (a refused preflight's header list) accepts exactly
    what the grammar's regex does."""
    assert is_token_list(value) == (re.fullmatch(TOKEN_LIST_GRAMMAR, value) is not None)
