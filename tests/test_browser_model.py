"""The browser model (corsware.cli._browser) against the Fetch standard's rules, in process."""

from __future__ import annotations

import pytest

from corsware.cli._browser import BrowserRequest, check_actual, check_preflight, unsafe_header_names

APP = "https://app.example.com"


@pytest.mark.parametrize(
    ("headers", "unsafe"),
    [
        ([("Content-Type", "text/plain;charset=utf-8")], ()),
        ([("Content-Type", "application/json")], ("content-type",)),
        ([("Accept", "application/json"), ("Accept-Language", "de-CH")], ()),
        ([("Accept", 'a"b')], ("accept",)),
        ([("Range", "bytes=0-99")], ()),
        ([("Range", "bytes=0-99,200-300")], ("range",)),
        ([("X-B", "1"), ("x-a", "1"), ("X-A", "2"), ("Authorization", "t")], ("authorization", "x-a", "x-b")),
        ([("Accept", "a" * 128)], ()),
        ([("Accept", "a" * 129)], ("accept",)),
        # Safelisted values over 1024 bytes together make all of them unsafe.
        ([("Accept", "a" * 128)] * 9, ("accept",)),
    ],
)
def test_unsafe_header_names(headers: list[tuple[str, str]], unsafe: tuple[str, ...]) -> None:
    assert unsafe_header_names(headers) == unsafe


def test_needs_preflight() -> None:
    assert not BrowserRequest(APP, "POST", (("Content-Type", "multipart/form-data; boundary=x"),)).needs_preflight
    assert BrowserRequest(APP, "PATCH").needs_preflight
    assert BrowserRequest(APP, "get").needs_preflight  # only upper-case GET is safelisted
    assert BrowserRequest(APP, private_network=True).needs_preflight
    req = BrowserRequest(APP, "PUT", (("X-B", "1"), ("x-a", "1")), private_network=True)
    assert req.preflight_headers() == [
        ("Origin", APP),
        ("Access-Control-Request-Method", "PUT"),
        ("Access-Control-Request-Headers", "x-a,x-b"),
        ("Access-Control-Request-Private-Network", "true"),
    ]


def codes(failures: list) -> list[str]:  # type: ignore[type-arg]
    return [f.code for f in failures]


@pytest.mark.parametrize(
    ("headers", "credentials", "expected"),
    [
        ([], False, ["missing_allow_origin"]),
        ([("Access-Control-Allow-Origin", "*")], False, []),
        ([("Access-Control-Allow-Origin", "*")], True, ["wildcard_with_credentials"]),
        ([("Access-Control-Allow-Origin", APP)], True, ["credentials_not_allowed"]),
        ([("Access-Control-Allow-Origin", APP), ("Access-Control-Allow-Credentials", "True")], True,
         ["credentials_not_allowed"]),  # ABNF %s"true": case-sensitive
        ([("Access-Control-Allow-Origin", APP), ("Access-Control-Allow-Credentials", "true")], True, []),
        ([("Access-Control-Allow-Origin", APP), ("Access-Control-Allow-Origin", APP)], False,
         ["multiple_allow_origin"]),
        ([("Access-Control-Allow-Origin", APP + "/")], False, ["origin_mismatch"]),
        ([("Access-Control-Allow-Origin", "https://APP.example.com")], False, ["origin_mismatch"]),
    ],
)  # fmt: skip
def test_cors_check(headers: list[tuple[str, str]], credentials: bool, expected: list[str]) -> None:
    assert codes(check_actual(headers, BrowserRequest(APP, credentials=credentials))) == expected


def _pf(methods: str, headers: str, **extra: str) -> list[tuple[str, str]]:
    out = [("Access-Control-Allow-Origin", APP), ("Access-Control-Allow-Credentials", "true")]
    out += [("Access-Control-Allow-Methods", methods), ("Access-Control-Allow-Headers", headers)]
    return out + list(extra.items())


@pytest.mark.parametrize(
    ("req", "pairs", "expected"),
    [
        (BrowserRequest(APP, "PUT"), _pf("*", ""), []),
        (BrowserRequest(APP, "PUT", credentials=True), _pf("*", ""), ["method_not_allowed"]),
        (BrowserRequest(APP, "PUT", credentials=True), _pf("GET, PUT", ""), []),
        (BrowserRequest(APP, "patch"), _pf("PATCH", ""), ["method_not_allowed"]),  # byte-exact
        (BrowserRequest(APP, "GET", (("X-A", "1"),)), _pf("", "*"), []),
        (BrowserRequest(APP, "GET", (("X-A", "1"),), credentials=True), _pf("", "*"), ["header_not_allowed"]),
        (BrowserRequest(APP, "GET", (("Authorization", "t"),)), _pf("", "*"), ["authorization_not_covered"]),
        (BrowserRequest(APP, "GET", (("Authorization", "t"),)), _pf("", "*, Authorization"), []),
        (BrowserRequest(APP, "GET", private_network=True), _pf("", ""), ["private_network_not_allowed"]),
    ],
)
def test_preflight_checks(req: BrowserRequest, pairs: list[tuple[str, str]], expected: list[str]) -> None:
    assert codes(check_preflight(204, pairs, req)) == expected


@pytest.mark.parametrize(
    ("status", "code"), [(401, "preflight_auth"), (405, "preflight_not_handled"), (302, "preflight_redirect"),
                         (403, "preflight_status"), (500, "preflight_status")]
)  # fmt: skip
def test_preflight_status(status: int, code: str) -> None:
    assert codes(check_preflight(status, [], BrowserRequest(APP, "PUT"))) == [code]
