"""Property tests for the parsers and the origin matcher."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from corsware import CORSPolicy
from corsware._headers import MAX_REQUEST_HEADERS_LENGTH, parse_request_headers
from corsware._origins import OriginMatcher, parse_origin_pattern, parse_request_origin

LABEL = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=8)
HOST = st.lists(LABEL, min_size=1, max_size=4).map(".".join)
TOKEN = st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=12)


def reference_subdomain_match(pattern_host: str, host: str) -> bool:
    """The obvious definition: one or more whole labels, then '.', then the suffix."""
    return host.endswith("." + pattern_host) and len(host) > len(pattern_host) + 1


@settings(max_examples=300)
@given(suffix=HOST, host=HOST, scheme=st.sampled_from(["http", "https"]))
def test_subdomain_pattern_agrees_with_reference(suffix: str, host: str, scheme: str) -> None:
    if suffix.rsplit(".", maxsplit=1)[-1].isdigit() or host.rsplit(".", maxsplit=1)[-1].isdigit():
        return
    pattern = parse_origin_pattern(f"https://*.{suffix}", "allow_origins")
    assert not isinstance(pattern, Exception)
    matcher = OriginMatcher([pattern])  # type: ignore[list-item]
    expected = scheme == "https" and reference_subdomain_match(suffix, host)
    assert (matcher.static_rule(f"{scheme}://{host}") is not None) == expected


LOOKALIKE_POLICY = CORSPolicy(allow_origins=["https://*.example.com", "https://example.org"])


@settings(max_examples=300)
@given(prefix=LABEL, glue=st.sampled_from(["", "-", "x", "."]), tail=st.sampled_from(["", ".evil.net", "x", ":8443"]))
def test_lookalikes_never_match(prefix: str, glue: str, tail: str) -> None:
    policy = LOOKALIKE_POLICY
    candidates = [
        f"https://{prefix}{glue}example.com{tail}",
        f"https://example.org{glue}{prefix}{tail}",
        f"http://{prefix}.example.com",
    ]
    for origin in candidates:
        genuine = origin.startswith("https://") and (
            (glue == "." and tail in ("", ".evil.net") and origin.endswith(".example.com"))
            or origin == "https://example.org"
        )
        assert policy.evaluate("GET", "/", {"Origin": origin}).allowed == genuine, origin


@given(st.text(max_size=300))
def test_request_origin_parser_total(value: str) -> None:
    parts = parse_request_origin(value)
    if parts is not None:
        scheme, host, port = parts
        assert value == f"{scheme}://{host}" + (f":{port}" if port else "")


def reference_header_names(raw: str) -> tuple[str, ...]:
    return tuple(sorted({item.strip(" \t").lower() for item in raw.split(",")} - {""}))


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(st.sampled_from(["", " ", "\t", "  "]), TOKEN, st.sampled_from(["", " ", "\t"])), max_size=12
    ).map(lambda items: ",".join(a + b + c for a, b, c in items)),
    st.booleans(),
)
def test_request_headers_parser_agrees_with_reference(raw: str, extra_commas: bool) -> None:
    if extra_commas:
        raw = ",," + raw + ", ,"
    assert parse_request_headers(raw) == reference_header_names(raw)
    # Normalising twice changes nothing.
    once = parse_request_headers(raw)
    assert once is not None
    assert parse_request_headers(",".join(once)) == once


@given(st.text(max_size=200))
def test_request_headers_parser_never_raises(raw: str) -> None:
    result = parse_request_headers(raw)
    if result is not None:
        assert list(result) == sorted(set(result))
        assert all(name == name.lower() and name for name in result)


def test_request_headers_parser_is_bounded() -> None:
    assert parse_request_headers("," * (MAX_REQUEST_HEADERS_LENGTH + 1)) is None
    assert parse_request_headers("x-a," * 10_000) is None
    assert parse_request_headers("," * MAX_REQUEST_HEADERS_LENGTH) == ()


@settings(max_examples=100)
@given(st.lists(st.sampled_from(["https://a.com", "https://*.b.org", "http://localhost:*", "https://c.net:8443"]),
                max_size=4, unique=True), st.booleans())  # fmt: skip
def test_describe_round_trips(origins: list[str], credentials: bool) -> None:
    policy = CORSPolicy(allow_origins=origins, allow_credentials=credentials, allow_headers=["X-A"], max_age=5)
    again = CORSPolicy.from_mapping(policy.describe())
    assert again == policy
    assert again.describe() == policy.describe()
