"""Every configuration error: refused at construction with a stable code and a message that
names the value and says how to fix it; all problems reported at once."""

from __future__ import annotations

import re
from typing import Any

import pytest

from corsware import CORSConfigError, CORSPolicy

CRED = {"allow_credentials": True}

# (id, keywords, expected code, a fragment the message must contain)
ERRORS: list[tuple[str, dict[str, Any], str, str]] = [
    ("origin with a path", {"allow_origins": ["https://a.com/app"]}, "origin_has_path", "'https://a.com'"),
    ("origin with a trailing slash", {"allow_origins": ["https://a.com/"]}, "origin_trailing_slash", "'https://a.com'"),
    ("origin with a query", {"allow_origins": ["https://a.com?x=1"]}, "origin_has_query", "'https://a.com'"),
    ("origin with a fragment", {"allow_origins": ["https://a.com#x"]}, "origin_has_path", "'https://a.com'"),
    ("origin with the default https port", {"allow_origins": ["https://a.com:443"]}, "origin_default_port", "'https://a.com'"),
    ("origin with the default http port", {"allow_origins": ["http://a.com:80"]}, "origin_default_port", "'http://a.com'"),
    ("origin in upper case", {"allow_origins": ["https://A.com"]}, "origin_uppercase", "'https://a.com'"),
    ("scheme in upper case", {"allow_origins": ["HTTPS://a.com"]}, "origin_uppercase", "'https://a.com'"),
    ("non-punycode host", {"allow_origins": ["https://résumé.com"]}, "origin_non_ascii", "xn--rsum-bpad.com"),
    ("origin without a scheme", {"allow_origins": ["a.com"]}, "origin_no_scheme", "'https://a.com'"),
    ("origin with user info", {"allow_origins": ["https://u@a.com"]}, "origin_userinfo", "@"),
    ("file: URL as an origin", {"allow_origins": ["file://"]}, "origin_file_scheme", "Origin: null"),
    ("origin with a bad port", {"allow_origins": ["https://a.com:99999"]}, "origin_invalid_port", "99999"),
    ("origin with a leading-zero port", {"allow_origins": ["https://a.com:080"]}, "origin_invalid_port", "080"),
    ("origin with a bad label", {"allow_origins": ["https://a_b.com"]}, "origin_invalid_host", "a_b"),
    ("origin with an empty label", {"allow_origins": ["https://a..com"]}, "origin_invalid_host", "empty"),
    ("origin with a numeric TLD", {"allow_origins": ["https://a.123"]}, "origin_invalid_host", "numeric"),
    ("IPv6 not compressed", {"allow_origins": ["http://[0:0:0:0:0:0:0:1]:8000"]}, "origin_invalid_host", "[::1]"),
    ("wildcard inside a label", {"allow_origins": ["https://ex*.com"]}, "origin_wildcard_position", "whole"),
    ("wildcard in the middle", {"allow_origins": ["https://a.*.com"]}, "origin_wildcard_position", "whole"),
    ("wildcard in part of a port", {"allow_origins": ["http://localhost:80*"]}, "origin_wildcard_position", "port"),
    ("wildcard on an IP", {"allow_origins": ["https://*.0.0.1"]}, "origin_invalid_host", ""),
    ("'*' with credentials", {"allow_origins": ["*"], **CRED}, "wildcard_origin_with_credentials", "list the origins"),
    ("'*' with other origins", {"allow_origins": ["*", "https://a.com"]}, "wildcard_origin_redundant", "remove"),
    ("expose '*' with credentials", {"allow_origins": ["https://a.com"], "expose_headers": "*", **CRED},
     "expose_wildcard_with_credentials", "list the header names"),
    ("plain http with credentials", {"allow_origins": ["http://app.example.com"], **CRED},
     "insecure_origin_with_credentials", "dangerously_allow_insecure_origins"),
    ("public suffix pattern with credentials", {"allow_origins": ["https://*.github.io"], **CRED},
     "public_suffix_pattern_with_credentials", "dangerously_allow_public_suffix_patterns"),
    ("TLD pattern with credentials", {"allow_origins": ["https://*.com"], **CRED},
     "public_suffix_pattern_with_credentials", "'com'"),
    ("null without opt-in", {"allow_origins": ["null"]}, "null_origin", "dangerously_allow_null_origin"),
    ("invalid header name", {"allow_headers": ["X Custom"]}, "invalid_header_name", "'X Custom'"),
    ("invalid expose header name", {"expose_headers": ["X:Y"]}, "invalid_header_name", "'X:Y'"),
    ("exposing Set-Cookie", {"expose_headers": ["Set-Cookie"]}, "forbidden_response_header", "never"),
    ("invalid method token", {"allow_methods": ["GE T"]}, "invalid_method", "'GE T'"),
    ("empty method", {"allow_methods": [""]}, "invalid_method", "''"),
    ("CONNECT", {"allow_methods": ["CONNECT"]}, "forbidden_method", "CONNECT"),
    ("TRACE", {"allow_methods": ["TRACE"]}, "forbidden_method", "TRACE"),
    ("track in lower case", {"allow_methods": ["track"]}, "forbidden_method", "track"),
    ("normalised method in lower case", {"allow_methods": ["delete"]}, "method_case", "'DELETE'"),
    ("patch in lower case", {"allow_methods": ["patch"]}, "method_case", "'PATCH'"),
    ("'*' and methods", {"allow_methods": ["*", "GET"]}, "wildcard_redundant", "remove"),
    ("'*' and expose headers", {"expose_headers": ["*", "X-A"]}, "wildcard_redundant", "remove"),
    ("negative max_age", {"max_age": -1}, "max_age_out_of_range", "0..86400"),
    ("max_age too large", {"max_age": 86401}, "max_age_out_of_range", "0..86400"),
    ("max_age not an int", {"max_age": "600"}, "invalid_type", "'600'"),
    ("max_age a bool", {"max_age": True}, "invalid_type", "True"),
    ("unparsable regex", {"allow_origin_regex": "https://(a"}, "invalid_regex", "not a valid regex"),
    ("regex with an unescaped dot", {"allow_origin_regex": r"https://app.example\.com"}, "regex_matches_lookalike",
     "https://appxexample.com"),
    ("regex with an unanchored domain", {"allow_origin_regex": r"https://.*example\.com"}, "regex_matches_lookalike",
     "evilexample.com"),
    ("regex allowing a suffix", {"allow_origin_regex": r"https://[a-z]+\.example\.com.*"}, "regex_matches_lookalike",
     "corsware-lookalike.invalid"),
    ("regex matching any origin with credentials", {"allow_origin_regex": r"https?://.*", **CRED},
     "regex_matches_any_origin", "every site"),
    ("regex naming no domain with credentials", {"allow_origin_regex": r"https://\w+\.\w+", **CRED},
     "regex_matches_any_origin", "'https://attacker.com'"),
    ("regex admitting IP addresses with credentials",
     {"allow_origin_regex": r"https://app\.example\.com|https://\d+\.\d+\.\d+\.\d+", **CRED},
     "regex_matches_any_origin", "'https://203.0.113.7', outside the domains it names (example.com)"),
    ("regex admitting plain http with credentials", {"allow_origin_regex": r"https?://app\.example\.com", **CRED},
     "insecure_origin_with_credentials", "write 'https://app\\\\.example\\\\.com', or set dangerously_allow_insecure_origins=True"),
    ("regex under a public suffix with credentials", {"allow_origin_regex": r"https://[a-z0-9-]+\.github\.io", **CRED},
     "public_suffix_pattern_with_credentials", "dangerously_allow_public_suffix_patterns=True"),
    ("regex of the wrong type", {"allow_origin_regex": 42}, "invalid_type", "int"),
    ("bare string origins", {"allow_origins": "https://a.com"}, "bare_string", "['https://a.com']"),
    # Issue "first hour" #10: the fix of a comma-separated string is the split list.
    ("comma-separated string of origins", {"allow_origins": "https://a.com, https://b.com"}, "bare_string",
     "write ['https://a.com', 'https://b.com']"),
    ("comma-separated origins in one item", {"allow_origins": ["https://a.com,https://b.com"]},
     "origin_comma_separated", "['https://a.com', 'https://b.com']"),
    # #11: a regex in allow_origins is named as one, with the '*.' pattern or the regex option.
    ("regex in allow_origins", {"allow_origins": [r"https://.*\.example\.com"]}, "origin_looks_like_regex",
     r"write the pattern 'https://*.example.com' in allow_origins, or allow_origin_regex=[r'https://.*\.example\.com']"),
    ("character class in allow_origins", {"allow_origins": [r"https://[a-z]+\.example\.com"]},
     "origin_looks_like_regex", "'https://*.example.com'"),
    ("optional group in allow_origins", {"allow_origins": [r"https://(www\.)?example\.com"]},
     "origin_looks_like_regex", r"allow_origin_regex=[r'https://(www\.)?example\.com']"),
    # Real-world configurations #6: os.getenv("ALLOWED_ORIGINS", "").split(",") is [""].
    ("empty origin", {"allow_origins": [""]}, "origin_empty", "unset environment variable"),
    ("bare string methods", {"allow_methods": "GET"}, "bare_string", "['GET']"),
    ("bare string headers", {"allow_headers": "X-A"}, "bare_string", "['X-A']"),
    ("bare string expose", {"expose_headers": "X-A"}, "bare_string", "['X-A']"),
    ("origins not strings", {"allow_origins": [b"https://a.com"]}, "invalid_type", "bytes"),
    ("origins a dict", {"allow_origins": {"https://a.com": 1}}, "invalid_type", "dict"),
    ("credentials not a bool", {"allow_credentials": "yes"}, "invalid_type", "'yes'"),
    ("callback not callable", {"allow_origin_callback": "https://a.com"}, "invalid_type", "callable"),
    ("paths not a mapping", {"paths": [("/a", {})]}, "invalid_type", "mapping"),
    ("path pattern without slash", {"paths": {"api/*": {}}}, "invalid_path_pattern", "'/'"),
    ("error inside a path rule", {"paths": {"/api/*": {"allow_origins": ["https://a.com/"]}}},
     "origin_trailing_slash", "'https://a.com'"),
    ("unknown option inside a path rule", {"paths": {"/api/*": {"allow_origin": ["https://a.com"]}}},
     "unknown_option", "did you mean 'allow_origins'"),
    ("nested paths", {"paths": {"/a/*": CORSPolicy(paths={"/b": {}})}}, "nested_paths", "cannot"),
    ("cache size negative", {"preflight_cache_size": -1}, "invalid_type", ">= 0"),
]  # fmt: skip


@pytest.mark.parametrize(("kwargs", "code", "fragment"), [pytest.param(*e[1:], id=e[0]) for e in ERRORS])
def test_refused_at_construction(kwargs: dict[str, Any], code: str, fragment: str) -> None:
    with pytest.raises(CORSConfigError) as info:
        CORSPolicy(**kwargs)
    assert code in info.value.codes
    problem = next(p for p in info.value.problems if p.code == code)
    assert fragment in problem.message, problem.message
    assert isinstance(info.value, ValueError)
    assert code in str(info.value)


def test_every_problem_reported_at_once() -> None:
    with pytest.raises(CORSConfigError) as info:
        CORSPolicy(
            allow_origins=["https://a.com/", "null", "*"],
            allow_methods=["TRACE"],
            allow_headers=["x y"],
            max_age=-5,
            allow_credentials=True,
        )
    assert set(info.value.codes) >= {
        "origin_trailing_slash",
        "null_origin",
        "wildcard_origin_with_credentials",
        "forbidden_method",
        "invalid_header_name",
        "max_age_out_of_range",
    }
    assert "problems" in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"allow_origins": ["null"], "dangerously_allow_null_origin": True}, id="null opt-in"),
        pytest.param({"allow_origins": ["http://a.com"], **CRED, "dangerously_allow_insecure_origins": True}, id="http opt-in"),
        pytest.param({"allow_origins": ["http://localhost:3000", "http://127.0.0.1:8000", "http://[::1]:5000"], **CRED},
                     id="loopback http with credentials"),
        pytest.param({"allow_origins": ["https://*.github.io"], **CRED, "dangerously_allow_public_suffix_patterns": True},
                     id="public suffix opt-in"),
        pytest.param({"allow_origins": ["https://*.github.io"]}, id="public suffix without credentials"),
        pytest.param({"allow_origins": ["https://*.example.com:*", "http://localhost:*"]}, id="port patterns"),
        pytest.param({"allow_origins": ["https://xn--rsum-bpad.com"]}, id="punycode"),
        pytest.param({"allow_origins": ["https://a.com:8443", "http://10.0.0.1:8080"]}, id="ports and IPv4"),
        pytest.param({"allow_origin_regex": r"https://([a-z0-9-]+\.)*example\.com"}, id="safe regex"),
        pytest.param({"allow_origin_regex": r"https://([a-z0-9-]+\.)*example\.com", **CRED}, id="safe regex with credentials"),
        pytest.param({"allow_origin_regex": [r"http://localhost:\d+", r"http://127\.0\.0\.1:\d+"], **CRED},
                     id="loopback regexes with credentials"),
        pytest.param({"allow_origin_regex": r"https?://app\.example\.com", **CRED, "dangerously_allow_insecure_origins": True},
                     id="http regex opt-in"),
        pytest.param({"allow_origin_regex": r"https://[a-z0-9-]+\.github\.io", **CRED,
                      "dangerously_allow_public_suffix_patterns": True}, id="public suffix regex opt-in"),
        pytest.param({"allow_origin_regex": r"https://[a-z0-9-]+\.github\.io"}, id="public suffix regex without credentials"),
        pytest.param({"allow_origin_regex": r"https://\w+\.\w+"}, id="regex naming no domain without credentials"),
        pytest.param({"allow_origin_regex": re.compile(r"https://(www|app)\.example\.org(:[0-9]+)?")}, id="compiled regex"),
        pytest.param({"allow_methods": ["PURGE", "PATCH"], "allow_headers": ["*", "Authorization"]}, id="custom method"),
        pytest.param({"max_age": 0}, id="max_age 0"),
        pytest.param({"max_age": None}, id="max_age None"),
        pytest.param({"allow_origins": ("https://a.com", "https://a.com")}, id="tuple with duplicates"),
    ],
)  # fmt: skip
def test_accepted(kwargs: dict[str, Any]) -> None:
    CORSPolicy(**kwargs)


def test_unknown_option_suggests_the_right_name() -> None:
    with pytest.raises(CORSConfigError) as info:
        CORSPolicy.from_mapping({"allow_origin": ["https://a.com"], "alow_credentials": True})
    messages = [p.message for p in info.value.problems]
    assert any("did you mean 'allow_origins'" in m for m in messages)
    assert any("did you mean 'allow_credentials'" in m for m in messages)


def test_unknown_keyword_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        CORSPolicy(allow_origin=["https://a.com"])  # type: ignore[call-arg]


# Harmless no-ops: the policy starts, the entry is dropped (or kept, for a response header
# name, which a page could really send), a WARNING is logged and policy.warnings has it.
# (id, keywords, code, message fragment, compiled allow_headers)
WARNINGS: list[tuple[str, dict[str, Any], str, str, list[str]]] = [
    ("forbidden request header (FastAPI apps list Cookie)", {"allow_headers": ["Cookie", "X-A"]},
     "forbidden_request_header", "allow_credentials", ["x-a"]),
    ("forbidden Sec- header", {"allow_headers": ["Sec-Fetch-Mode"]}, "forbidden_request_header", "ignored", []),
    ("django-cors-headers < 4 default list", {"allow_headers": [
        "accept", "accept-encoding", "authorization", "content-type", "dnt", "origin", "user-agent",
        "x-csrftoken", "x-requested-with"]}, "forbidden_request_header", "'dnt'",
     ["accept", "authorization", "content-type", "user-agent", "x-csrftoken", "x-requested-with"]),
    ("response header listed as a request header", {"allow_headers": ["Access-Control-Allow-Origin"]},
     "response_header_in_allow_headers", "response header", ["access-control-allow-origin"]),
    ("'*' and headers", {"allow_headers": ["*", "X-A"]}, "wildcard_redundant", "Authorization included", ["*"]),
    ("'*' and Authorization (what corsware 0.1 asked for)", {"allow_headers": ["*", "Authorization"]},
     "wildcard_redundant", "keep only '*'", ["*"]),
]  # fmt: skip


@pytest.mark.parametrize(("kwargs", "code", "fragment", "compiled"), [pytest.param(*w[1:], id=w[0]) for w in WARNINGS])
def test_harmless_entries_warn_and_start(
    kwargs: dict[str, Any], code: str, fragment: str, compiled: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="corsware"):
        policy = CORSPolicy(**kwargs)
    assert code in [w.code for w in policy.warnings]
    assert any(fragment in w.message for w in policy.warnings)
    assert policy.describe()["allow_headers"] == compiled
    assert any(code in record.getMessage() for record in caplog.records)


def test_rule_warnings_are_reported_with_the_rule() -> None:
    policy = CORSPolicy(paths={"/api/*": {"allow_headers": ["DNT"]}})
    assert [(w.field, w.code) for w in policy.warnings] == [
        ("paths['/api/*'].allow_headers", "forbidden_request_header")
    ]
