"""The browser model (corsware.cli._browser) against the Fetch standard's rules, in process."""

from __future__ import annotations

import pytest

from corsware.cli._browser import BrowserRequest, check_actual, check_preflight, console_messages, unsafe_header_names

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


# -- what each engine's console says (corsware explain/probe --engine) ------------------------

URL = "https://api.example.com/items"
_FF = "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at "
_CR = f"Access to fetch at '{URL}' from origin '{APP}' has been blocked by CORS policy: "
_CR_PF = _CR + "Response to preflight request doesn't pass access control check: "
_FF_NOT_SENT = f"{_FF}{URL}. (Reason: CORS request did not succeed). Status code: (null)."


@pytest.mark.parametrize(
    ("req", "step", "status", "pairs", "chromium", "firefox"),
    [
        pytest.param(BrowserRequest(APP), "actual", 200, [],
                     [_CR + "No 'Access-Control-Allow-Origin' header is present on the requested resource."],
                     [f"{_FF}{URL}. (Reason: CORS header ‘Access-Control-Allow-Origin’ missing). Status code: 200."],  # noqa: RUF001
                     id="missing-acao"),
        pytest.param(BrowserRequest(APP), "actual", 200, [("Access-Control-Allow-Origin", "https://other.example")],
                     [_CR + "The 'Access-Control-Allow-Origin' header has a value 'https://other.example' that is "
                            "not equal to the supplied origin."],
                     [f"{_FF}{URL}. (Reason: CORS header ‘Access-Control-Allow-Origin’ does not match "  # noqa: RUF001
                      "‘https://other.example’)."],  # noqa: RUF001
                     id="mismatch"),
        pytest.param(BrowserRequest(APP, credentials=True), "actual", 200, [("Access-Control-Allow-Origin", "*")],
                     [_CR + "The value of the 'Access-Control-Allow-Origin' header in the response must not be the "
                            "wildcard '*' when the request's credentials mode is 'include'."],
                     [f"{_FF}‘{URL}’. (Reason: Credential is not supported if the CORS header "  # noqa: RUF001
                      "‘Access-Control-Allow-Origin’ is ‘*’)."],  # noqa: RUF001
                     id="star-with-credentials"),
        pytest.param(BrowserRequest(APP, credentials=True), "actual", 200, [("Access-Control-Allow-Origin", APP)],
                     [_CR + "The value of the 'Access-Control-Allow-Credentials' header in the response is '' which "
                            "must be 'true' when the request's credentials mode is 'include'."],
                     [f"{_FF}{URL}. (Reason: expected ‘true’ in CORS header ‘Access-Control-Allow-Credentials’)."],  # noqa: RUF001
                     id="no-acac"),
        # A refused corsware preflight (403, no CORS headers): both engines name the missing ACAO.
        pytest.param(BrowserRequest(APP, "PUT"), "preflight", 403, [],
                     [_CR_PF + "No 'Access-Control-Allow-Origin' header is present on the requested resource."],
                     [f"{_FF}{URL}. (Reason: CORS header ‘Access-Control-Allow-Origin’ missing). Status code: 403.",  # noqa: RUF001
                      _FF_NOT_SENT],
                     id="preflight-refused"),
        pytest.param(BrowserRequest(APP, "PUT"), "preflight", 404, [("Access-Control-Allow-Origin", APP)],
                     [_CR_PF + "It does not have HTTP ok status."],
                     [f"{_FF}{URL}. (Reason: CORS preflight response did not succeed). Status code: 404.", _FF_NOT_SENT],
                     id="preflight-not-ok"),
        pytest.param(BrowserRequest(APP, "PUT"), "preflight", 204,
                     [("Access-Control-Allow-Origin", APP), ("Access-Control-Allow-Methods", "GET")],
                     [_CR + "Method PUT is not allowed by Access-Control-Allow-Methods in preflight response."],
                     [f"{_FF}{URL}. (Reason: Did not find method in CORS header ‘Access-Control-Allow-Methods’).",  # noqa: RUF001
                      _FF_NOT_SENT],
                     id="method"),
        pytest.param(BrowserRequest(APP, headers=(("X-Custom", "1"),)), "preflight", 204,
                     [("Access-Control-Allow-Origin", APP), ("Access-Control-Allow-Headers", "content-type")],
                     [_CR + "Request header field x-custom is not allowed by Access-Control-Allow-Headers in "
                            "preflight response."],
                     [f"{_FF}{URL}. (Reason: header ‘x-custom’ is not allowed according to header "  # noqa: RUF001
                      "‘Access-Control-Allow-Headers’ from CORS preflight response).", _FF_NOT_SENT],  # noqa: RUF001
                     id="header"),
    ],
)  # fmt: skip
def test_console_messages(
    req: BrowserRequest, step: str, status: int, pairs: list[tuple[str, str]], chromium: list[str], firefox: list[str]
) -> None:
    failures = check_preflight(status, pairs, req) if step == "preflight" else check_actual(pairs, req)
    assert failures
    assert console_messages("chromium", URL, req, status, pairs, failures) == chromium
    assert console_messages("firefox", URL, req, status, pairs, failures) == firefox
