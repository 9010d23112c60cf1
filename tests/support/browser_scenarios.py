"""The browser suite's scenario table: what a page does, and what the Fetch standard says follows.

Each ``Scenario`` is one thing a page does with ``fetch()`` against the API (served by
``tests/support/browser_app.py`` under a policy from ``CONFIGS``), what the page must then observe
(resolved with a readable status/body/headers, or rejected with ``TypeError``) and what the
server must have seen (preflights, the actual request, or nothing past a refused preflight).
``spec`` says which rule of the Fetch standard decides it; docs/browser-tests.md tabulates it.

Pages are served on several origins that ``--host-resolver-rules`` maps to 127.0.0.1
(``*.test`` is reserved by RFC 2606, so nothing else can answer), plus ``localhost``, which
the credentialed scenarios use: ``http://localhost`` is a loopback origin that corsware accepts
with credentials, and page and API there are same-site, so the browser sends a ``SameSite=Lax``
cookie with ``credentials: "include"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from corsware.cli._browser import chromium_reason, firefox_reason

# Page origins, by key; {page} is the page server's port. "null" is a sandboxed iframe in "app".
PAGES = {
    "app": "http://app.example.test:{page}",
    "tenant": "http://shop.tenant.example.test:{page}",
    "suffix-lookalike": "http://eviltenant.example.test:{page}",
    "prefix-lookalike": "http://shop.tenant.example.test.evil.test:{page}",
    "evil": "http://evil.test:{page}",
    "local": "http://localhost:{page}",
}

# API hosts, by key; every one reaches the same server ({api} is its port).
APIS = {
    "api": "http://api.example.test:{api}",
    "api2": "http://api2.example.test:{api}",
    "local": "http://localhost:{api}",
}

COOKIE = "session=s3cret"
JSON_BODY = '{"hello": "corsware"}'
JSON = {"method": "POST", "headers": {"Content-Type": "application/json"}, "body": JSON_BODY}


def configs(page_port: int) -> dict[str, dict[str, Any]]:
    """The policies (``CORSPolicy`` keywords), one API server per policy and server kind."""
    app = f"http://app.example.test:{page_port}"
    local = f"http://localhost:{page_port}"
    tutorial = {
        "allow_origins": [app, f"http://*.tenant.example.test:{page_port}"],
        "allow_methods": ["GET", "POST", "PUT", "PATCH", "DELETE"],
        "allow_headers": ["Content-Type", "X-Custom", "Authorization"],
        "expose_headers": ["X-Request-Id"],
        "max_age": 600,
    }
    star = {"allow_origins": [app], "allow_methods": ["*"], "allow_headers": ["*"]}
    credentials = {
        "allow_origins": [local],
        "allow_methods": ["GET", "POST", "PUT"],
        "allow_headers": ["Content-Type"],
        "expose_headers": ["X-Request-Id"],
        "allow_credentials": True,
    }
    return {
        "tutorial": {
            **tutorial,
            "paths": {
                "/nocache/*": {**tutorial, "max_age": 0},
                "/sandbox/*": {"allow_origins": ["null"], "dangerously_allow_null_origin": True},
            },
        },
        "star": {**star, "paths": {"/listed/*": {**star, "allow_headers": ["*", "Authorization"]}}},
        "credentials": {
            **credentials,
            "paths": {"/nocreds/*": {key: v for key, v in credentials.items() if key != "allow_credentials"}},
        },
        "public": {
            "allow_origins": ["*"],
            "allow_methods": ["GET", "POST", "PUT"],
            "allow_headers": ["Content-Type"],
            "expose_headers": ["X-Request-Id"],
        },
    }


@dataclass(frozen=True)
class Scenario:
    id: str
    config: str
    page: str  # a PAGES key, or "null" (a sandboxed iframe inside the "app" page)
    path: str  # on the API; ?s=<id> is appended so the server log can be filtered
    init: dict[str, Any]  # fetch() init
    spec: str  # the Fetch standard's rule that decides the outcome
    resolves: bool
    status: int | None = None
    body: str | None = None  # expected to be contained in the body read by the page
    echo: dict[str, Any] = field(default_factory=dict)  # fields of /echo's JSON the page must read
    headers: dict[str, str | None] = field(default_factory=dict)  # response.headers.get(name) in the page
    seen: tuple[str, ...] = ()  # "METHOD STATUS" of every request the server received, in order
    last_origin: str | None = None  # the Origin header of the last request the server received
    preflight_acrh: str | None = None  # Access-Control-Request-Headers of the preflight
    cookie_on: tuple[str, ...] = ()  # methods whose requests carried the cookie (all others must not)
    api: str = "api"
    query: str = ""  # extra query, {api} substituted (redirect targets)
    repeat: int = 1  # sequential fetches of the same URL (preflight cache)
    stream: bool = False
    redirected: bool | None = None
    # What each engine's console says when the fetch is rejected (docs/troubleshooting.md maps them).
    console: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def sandboxed(self) -> bool:
        return self.page == "null"

    @property
    def page_key(self) -> str:
        return "app" if self.sandboxed else self.page


SIMPLE_OK = ("GET 200",)
PREFLIGHT_THEN = {m: ("OPTIONS 204", f"{m} 200") for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "PURGE")}
REFUSED_PREFLIGHT = ("OPTIONS 403",)
# What each engine's console says, from corsware's model of it (corsware/cli/_browser.py, which
# `corsware explain/probe --engine` print): the browser suite checks it against both browsers.
# Chromium: what follows "has been blocked by CORS policy: "; Firefox: the "(Reason: ...)" parts.
#: A simple request whose response lacks ACAO.
NO_ACAO = {
    "chromium": (chromium_reason("missing_allow_origin"),),
    "firefox": (firefox_reason("missing_allow_origin", status=200),),
}
#: A refused preflight (corsware's 403 carries no CORS headers): both engines run the CORS
#: check before the status (Fetch §"CORS-preflight fetch" step 7) and name the missing ACAO;
#: Firefox then also reports the request that was never sent.
PREFLIGHT_REFUSED = {
    "chromium": (chromium_reason("missing_allow_origin", preflight=True),),
    "firefox": (firefox_reason("missing_allow_origin", status=403), firefox_reason("request_failed")),
}
NO_ACAC = {
    "chromium": (chromium_reason("credentials_not_allowed"),),
    "firefox": (firefox_reason("credentials_not_allowed"),),
}
STAR_WITH_CREDENTIALS = {
    "chromium": (chromium_reason("wildcard_with_credentials"),),
    "firefox": (firefox_reason("wildcard_with_credentials"),),
}
CORS_CHECK = "CORS check: ACAO must be `*` or the request's serialized origin, else a network error (TypeError)"
PREFLIGHT_RULE = "not a simple request -> CORS-preflight fetch (OPTIONS) first, then the request"

# A table reads better one scenario per block than one argument per line.
# fmt: off
SCENARIOS: list[Scenario] = [
    # -- "tutorial": explicit origins + a subdomain pattern, explicit methods/headers ---------
    Scenario("simple-get", "tutorial", "app", "/echo", {}, CORS_CHECK, True, 200, echo={"method": "GET"},
             seen=SIMPLE_OK, last_origin="app"),
    Scenario("simple-post-text", "tutorial", "app", "/echo",
             {"method": "POST", "headers": {"Content-Type": "text/plain"}, "body": "hi"},
             "POST with a safelisted Content-Type is sent without a preflight", True, 200,
             echo={"method": "POST", "body": "hi"}, seen=("POST 200",)),
    Scenario("json-post", "tutorial", "app", "/echo", JSON,
             "Content-Type: application/json is not safelisted -> " + PREFLIGHT_RULE, True, 200,
             echo={"content_type": "application/json", "body": JSON_BODY}, seen=PREFLIGHT_THEN["POST"],
             preflight_acrh="content-type"),
    Scenario("put", "tutorial", "app", "/echo", {"method": "PUT", "body": "x"},
             "PUT is not a CORS-safelisted method -> " + PREFLIGHT_RULE, True, 200,
             echo={"method": "PUT"}, seen=PREFLIGHT_THEN["PUT"]),
    Scenario("patch", "tutorial", "app", "/echo", {"method": "PATCH", "body": "x"},
             "PATCH is not safelisted (and fetch() never upper-cases it) -> " + PREFLIGHT_RULE, True, 200,
             echo={"method": "PATCH"}, seen=PREFLIGHT_THEN["PATCH"]),
    Scenario("delete", "tutorial", "app", "/echo", {"method": "DELETE"},
             "DELETE is not safelisted -> " + PREFLIGHT_RULE, True, 200,
             echo={"method": "DELETE"}, seen=PREFLIGHT_THEN["DELETE"]),
    Scenario("custom-header", "tutorial", "app", "/echo", {"headers": {"X-Custom": "yes"}},
             "a CORS-unsafe header is preflighted and must be listed in ACAH", True, 200,
             echo={"x_custom": "yes"}, seen=PREFLIGHT_THEN["GET"], preflight_acrh="x-custom"),
    Scenario("authorization-listed", "tutorial", "app", "/echo", {"headers": {"Authorization": "Bearer t0ken"}},
             "Authorization listed by name in ACAH is allowed", True, 200,
             echo={"authorization": "Bearer t0ken"}, seen=PREFLIGHT_THEN["GET"], preflight_acrh="authorization"),
    Scenario("header-not-allowed", "tutorial", "app", "/echo", {"headers": {"X-Other": "1"}},
             "preflight fails (403, header not in ACAH) -> network error; the request is never sent", False,
             seen=REFUSED_PREFLIGHT, preflight_acrh="x-other", console=PREFLIGHT_REFUSED),
    Scenario("method-not-allowed", "tutorial", "app", "/echo", {"method": "PURGE"},
             "preflight fails (403, method not in ACAM) -> network error; the request is never sent", False,
             seen=REFUSED_PREFLIGHT, console=PREFLIGHT_REFUSED),
    Scenario("exposed-header", "tutorial", "app", "/echo", {},
             "a header listed in ACEH (and the safelisted Content-Type) is readable", True, 200,
             headers={"X-Request-Id": "42", "Content-Type": "application/json"}, seen=SIMPLE_OK),
    Scenario("non-exposed-header", "tutorial", "app", "/echo", {},
             "a header not in ACEH is filtered out of the CORS-filtered response", True, 200,
             headers={"X-Internal": None}, seen=SIMPLE_OK),
    Scenario("not-found-404", "tutorial", "app", "/notfound", {},
             "the CORS check does not look at the status: a 404 with ACAO is readable", True, 404,
             body="no such thing", seen=("GET 404",)),
    Scenario("app-500", "tutorial", "app", "/fail", {},
             "a 500 with ACAO is readable (the page can show the error)", True, 500,
             body="the app said no", seen=("GET 500",)),
    Scenario("app-exception", "tutorial", "app", "/raise", {},
             "the server's 500 for an exception still carries ACAO, so it is readable", True, 500,
             seen=("GET 500",)),
    Scenario("redirect-same-origin", "tutorial", "app", "/redirect", {},
             "a CORS request follows a redirect whose response passes the CORS check", True, 200,
             echo={"method": "GET"}, seen=("GET 302", "GET 200"), last_origin="app", redirected=True,
             query="to=/echo%3Fs%3Dredirect-same-origin"),
    Scenario("redirect-cross-origin", "tutorial", "app", "/redirect", {},
             "a redirect to another origin taints the origin: the next request says `Origin: null`, "
             "which this policy refuses", False,
             seen=("GET 302", "GET 200"), last_origin="null",
             query="to={api2}/echo%3Fs%3Dredirect-cross-origin", console=NO_ACAO),
    Scenario("streaming", "tutorial", "app", "/stream", {},
             "a streamed body is readable chunk by chunk once the headers pass the CORS check", True, 200,
             body="chunk1 chunk2 chunk3", stream=True, seen=SIMPLE_OK),
    Scenario("preflight-cached", "tutorial", "app", "/echo", JSON,
             "Access-Control-Max-Age: 600 -> the preflight is cached; 2 requests, 1 preflight", True, 200,
             repeat=2, seen=("OPTIONS 204", "POST 200", "POST 200")),
    Scenario("preflight-not-cached", "tutorial", "app", "/nocache/echo", JSON,
             "Access-Control-Max-Age: 0 -> no caching; 2 requests, 2 preflights", True, 200,
             repeat=2, seen=("OPTIONS 204", "POST 200", "OPTIONS 204", "POST 200")),
    Scenario("subdomain-pattern", "tutorial", "tenant", "/echo", {},
             CORS_CHECK + " (a subdomain of the `*.tenant` pattern is reflected)", True, 200,
             seen=SIMPLE_OK, last_origin="tenant"),
    Scenario("subdomain-pattern-json", "tutorial", "tenant", "/echo", JSON,
             PREFLIGHT_RULE + ", from a pattern-matched origin", True, 200, seen=PREFLIGHT_THEN["POST"]),
    Scenario("lookalike-suffix", "tutorial", "suffix-lookalike", "/echo", {},
             CORS_CHECK + " (`eviltenant.` is not a subdomain of `tenant.`)", False, seen=SIMPLE_OK, console=NO_ACAO),
    Scenario("lookalike-prefix", "tutorial", "prefix-lookalike", "/echo", {},
             CORS_CHECK + " (`shop.tenant.example.test.evil.test` is not under `tenant.example.test`)", False,
             seen=SIMPLE_OK, console=NO_ACAO),
    Scenario("disallowed-origin-get", "tutorial", "evil", "/echo", {},
             "a simple request is sent, but without ACAO the response is withheld (TypeError)", False,
             seen=SIMPLE_OK, last_origin="evil", console=NO_ACAO),
    Scenario("disallowed-origin-json", "tutorial", "evil", "/echo", JSON,
             "the preflight fails (403) -> network error; the POST is never sent", False, seen=REFUSED_PREFLIGHT, console=PREFLIGHT_REFUSED),
    Scenario("null-origin-refused", "tutorial", "null", "/echo", {},
             "a sandboxed iframe's origin serialises as `null`; not allowed -> TypeError", False,
             seen=SIMPLE_OK, last_origin="null", console=NO_ACAO),
    Scenario("null-origin-allowed", "tutorial", "null", "/sandbox/echo", {},
             "ACAO `null` matches the serialised opaque origin (allowed only with the dangerous opt-in)", True, 200,
             echo={"origin": "null"}, seen=SIMPLE_OK, last_origin="null"),
    # -- "star": allow_headers/allow_methods "*" --------------------------------------------
    Scenario("star-authorization", "star", "app", "/echo", {"headers": {"Authorization": "Bearer t0ken"}},
             "`allow_headers=['*']` covers Authorization: corsware answers ACAH `*, authorization`, since a "
             "literal `*` never covers it (CORS non-wildcard request-header name)", True, 200,
             echo={"authorization": "Bearer t0ken"}, seen=PREFLIGHT_THEN["GET"], preflight_acrh="authorization"),
    Scenario("star-authorization-listed", "star", "app", "/listed/echo", {"headers": {"Authorization": "Bearer t0ken"}},
             "ACAH `*, authorization` covers Authorization by name", True, 200,
             echo={"authorization": "Bearer t0ken"}, seen=PREFLIGHT_THEN["GET"]),
    Scenario("star-custom-header", "star", "app", "/echo", {"headers": {"X-Anything-Goes": "1"}},
             "ACAH `*` covers any other header for a request without credentials", True, 200,
             seen=PREFLIGHT_THEN["GET"], preflight_acrh="x-anything-goes"),
    Scenario("star-method", "star", "app", "/echo", {"method": "PURGE"},
             "ACAM `*` covers any method for a request without credentials", True, 200,
             echo={"method": "PURGE"}, seen=PREFLIGHT_THEN["PURGE"]),
    # -- "credentials": allow_credentials with a loopback origin ----------------------------
    Scenario("credentialed-get", "credentials", "local", "/echo", {"credentials": "include"},
             "credentials: include needs ACAO = the origin and ACAC: true; the cookie is sent", True, 200,
             echo={"cookie": COOKIE}, headers={"X-Request-Id": "42"}, seen=SIMPLE_OK, cookie_on=("GET",), api="local"),
    Scenario("credentialed-put", "credentials", "local", "/echo",
             {"method": "PUT", "credentials": "include", "headers": {"Content-Type": "application/json"}, "body": "{}"},
             "the preflight never carries credentials; the PUT after it does", True, 200,
             echo={"cookie": COOKIE, "method": "PUT"}, seen=PREFLIGHT_THEN["PUT"], cookie_on=("PUT",), api="local"),
    Scenario("credentials-omitted", "credentials", "local", "/echo", {},
             "the default credentials mode (same-origin) sends no cookie cross-origin", True, 200,
             echo={"cookie": None}, seen=SIMPLE_OK, api="local"),
    Scenario("credentials-not-allowed", "credentials", "local", "/nocreds/echo", {"credentials": "include"},
             "credentials: include without ACAC: true -> TypeError (though the server got the cookie)", False,
             seen=SIMPLE_OK, cookie_on=("GET",), api="local", console=NO_ACAC),
    # -- "public": allow_origins ["*"] ------------------------------------------------------
    Scenario("public-any-origin", "public", "evil", "/echo", {},
             "ACAO `*` passes the CORS check for any origin without credentials", True, 200,
             headers={"X-Request-Id": "42"}, seen=SIMPLE_OK),
    Scenario("public-json", "public", "evil", "/echo", JSON,
             PREFLIGHT_RULE + "; ACAO `*` on preflight and response", True, 200, seen=PREFLIGHT_THEN["POST"]),
    Scenario("public-null-origin", "public", "null", "/echo", {},
             "ACAO `*` also covers the opaque `null` origin", True, 200, seen=SIMPLE_OK, last_origin="null"),
    Scenario("public-credentialed", "public", "local", "/echo", {"credentials": "include"},
             "ACAO `*` fails the CORS check when credentials are included -> TypeError", False,
             seen=SIMPLE_OK, cookie_on=("GET",), api="local", console=STAR_WITH_CREDENTIALS),
]
# fmt: on
