"""The shared table of HTTP cases. Every adapter and integration runs all of it.

``expect`` lists the exact value of every ``Access-Control-*`` header the response must
carry (any other ``Access-Control-*`` header is a failure) and of ``Vary`` (compared as a
set of tokens; ``None`` means no ``Vary`` at all).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

APP = "https://app.example.com"
EVIL = "https://evil.example.net"

#: The policy of the issue's example: credentials, an exact origin and a subdomain pattern.
MAIN: dict[str, Any] = {
    "allow_origins": [APP, "https://*.example.com"],
    "allow_methods": ["GET", "POST", "PUT", "DELETE"],
    "allow_headers": ["Content-Type", "Authorization"],
    "expose_headers": ["X-Request-Id"],
    "allow_credentials": True,
    "max_age": 600,
}
SAFE = "accept, accept-language, content-language, content-type"
PF_VARY = (
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"
)
PF_VARY_STAR = "Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"


def allowed_actual(origin: str = APP) -> dict[str, str | None]:
    return {
        "access-control-allow-origin": origin,
        "access-control-allow-credentials": "true",
        "access-control-expose-headers": "X-Request-Id",
        "vary": "Origin",
    }


def allowed_preflight(origin: str = APP) -> dict[str, str | None]:
    return {
        "access-control-allow-origin": origin,
        "access-control-allow-credentials": "true",
        "access-control-allow-methods": "GET, POST, PUT, DELETE",
        "access-control-allow-headers": f"{SAFE}, authorization",
        "access-control-max-age": "600",
        "vary": PF_VARY,
    }


REFUSED_PREFLIGHT: dict[str, str | None] = {"vary": PF_VARY}
REFUSED_ACTUAL: dict[str, str | None] = {"vary": "Origin"}


@dataclass
class Case:
    id: str
    policy: dict[str, Any]
    method: str = "GET"
    path: str = "/"
    headers: list[tuple[str, str]] = field(default_factory=list)
    status: int = 200
    reaches_app: bool = True
    expect: dict[str, str | None] = field(default_factory=dict)
    body: bytes | None = None
    app_raises: bool = False
    repeated_headers: bool = False  # needs a transport that joins repeated headers


def preflight(origin: str, method: str, headers: str | None = None, *extra: tuple[str, str]) -> list[tuple[str, str]]:
    out = [("Origin", origin), ("Access-Control-Request-Method", method)]
    if headers is not None:
        out.append(("Access-Control-Request-Headers", headers))
    out.extend(extra)
    return out


STAR: dict[str, Any] = {"allow_origins": ["*"], "expose_headers": ["X-Request-Id"]}
STAR_HEADERS = {"access-control-allow-origin": "*", "access-control-expose-headers": "X-Request-Id", "vary": None}
PATHS: dict[str, Any] = {
    "allow_origins": [APP],
    "paths": {"/public/*": {"allow_origins": ["*"]}, "/files/a b": {"allow_origins": ["*"]}},
}
PNA: dict[str, Any] = {"allow_origins": [APP], "allow_private_network": True, "max_age": None}
PNA_REQ = ("Access-Control-Request-Private-Network", "true")

CASES = [
    # -- classification (Fetch §"CORS protocol") --
    Case("no-origin: untouched but Vary: Origin", MAIN, expect={"vary": "Origin"}, body=b"ok"),
    Case("allowed simple GET", MAIN, headers=[("Origin", APP)], expect=allowed_actual(), body=b"ok"),
    Case("allowed POST", MAIN, method="POST", headers=[("Origin", APP)], expect=allowed_actual()),
    Case("subdomain pattern, nested labels", MAIN, headers=[("Origin", "https://a.b.example.com")],
         expect=allowed_actual("https://a.b.example.com")),
    Case("refused origin: no ACAO, ACAC or ACEH (starlette #2560)", MAIN, headers=[("Origin", EVIL)],
         expect=REFUSED_ACTUAL, body=b"ok"),
    Case("lookalike suffix refused", MAIN, headers=[("Origin", "https://app.example.com.evil.net")], expect=REFUSED_ACTUAL),
    Case("lookalike glued label refused", MAIN, headers=[("Origin", "https://evilexample.com")], expect=REFUSED_ACTUAL),
    Case("apex not covered by *. pattern", {"allow_origins": ["https://*.example.com"]},
         headers=[("Origin", "https://example.com")], expect=REFUSED_ACTUAL),
    Case("other scheme refused", MAIN, headers=[("Origin", "http://app.example.com")], expect=REFUSED_ACTUAL),
    Case("other port refused", MAIN, headers=[("Origin", "https://a.example.com:8443")], expect=REFUSED_ACTUAL),
    Case("upper-case origin refused (browsers send lower case)", MAIN, headers=[("Origin", "https://APP.example.com")],
         expect=REFUSED_ACTUAL),
    Case("empty Origin refused", MAIN, headers=[("Origin", "")], expect=REFUSED_ACTUAL),
    Case("Origin: null refused by default", MAIN, headers=[("Origin", "null")], expect=REFUSED_ACTUAL),
    Case("two Origin headers are invalid", MAIN, headers=[("Origin", APP), ("Origin", APP)],
         expect=REFUSED_ACTUAL, repeated_headers=True),
    Case("64 KiB origin refused", MAIN, headers=[("Origin", "https://" + "a" * 65536 + ".example.com")],
         expect=REFUSED_ACTUAL),
    Case("OPTIONS without ACRM reaches the app (not a preflight)", MAIN, method="OPTIONS", headers=[("Origin", APP)],
         expect=allowed_actual(), body=b"ok"),
    # -- preflight (Fetch §"CORS-preflight fetch") --
    Case("preflight allowed", MAIN, "OPTIONS", headers=preflight(APP, "PUT", "content-type,authorization"),
         status=204, reaches_app=False, expect=allowed_preflight(), body=b""),
    Case("preflight without request headers", MAIN, "OPTIONS", headers=preflight(APP, "DELETE"),
         status=204, reaches_app=False, expect=allowed_preflight()),
    Case("preflight for a safelisted method not listed", {**MAIN, "allow_methods": ["PUT"]}, "OPTIONS",
         headers=preflight(APP, "GET", "authorization"), status=204, reaches_app=False,
         expect={**allowed_preflight(), "access-control-allow-methods": "PUT"}),
    Case("preflight from refused origin: 403, no CORS headers", MAIN, "OPTIONS", headers=preflight(EVIL, "PUT"),
         status=403, reaches_app=False, expect=REFUSED_PREFLIGHT, body=b""),
    Case("preflight method is case-sensitive: patch is not PATCH", {**MAIN, "allow_methods": ["PATCH"]}, "OPTIONS",
         headers=preflight(APP, "patch"), status=403, reaches_app=False, expect=REFUSED_PREFLIGHT),
    Case("preflight method substring: ET is not GET", MAIN, "OPTIONS", headers=preflight(APP, "ET"),
         status=403, reaches_app=False, expect=REFUSED_PREFLIGHT),
    Case("preflight method not allowed", MAIN, "OPTIONS", headers=preflight(APP, "PATCH"),
         status=403, reaches_app=False, expect=REFUSED_PREFLIGHT),
    Case("preflight header not allowed", MAIN, "OPTIONS", headers=preflight(APP, "PUT", "x-secret"),
         status=403, reaches_app=False, expect=REFUSED_PREFLIGHT),
    Case("preflight header list parsed tolerantly", MAIN, "OPTIONS",
         headers=preflight(APP, "PUT", " Content-Type ,, AUTHORIZATION,\tcontent-type , "),
         status=204, reaches_app=False, expect=allowed_preflight()),
    Case("preflight with empty header list", MAIN, "OPTIONS", headers=preflight(APP, "PUT", ""),
         status=204, reaches_app=False, expect=allowed_preflight()),
    Case("preflight with 1 MiB of commas refused", MAIN, "OPTIONS", headers=preflight(APP, "PUT", "," * (1 << 20)),
         status=403, reaches_app=False, expect=REFUSED_PREFLIGHT),
    Case("preflight with a non-token header name refused", MAIN, "OPTIONS", headers=preflight(APP, "PUT", "x a"),
         status=403, reaches_app=False, expect=REFUSED_PREFLIGHT),
    Case("preflight max_age None omits Max-Age", {**MAIN, "max_age": None}, "OPTIONS", headers=preflight(APP, "PUT"),
         status=204, reaches_app=False,
         expect={k: v for k, v in allowed_preflight().items() if k != "access-control-max-age"}),
    Case("preflight on an unconfigured policy is refused", {}, "OPTIONS", headers=preflight(APP, "PUT"),
         status=403, reaches_app=False, expect=REFUSED_PREFLIGHT),
    # -- wildcards --
    Case("'*': static ACAO on CORS requests, no Vary", STAR, headers=[("Origin", EVIL)], expect=STAR_HEADERS),
    Case("'*': static ACAO on non-CORS requests too (Fetch: CORS and HTTP caches)", STAR, expect=STAR_HEADERS),
    Case("'*' covers the null origin", STAR, headers=[("Origin", "null")], expect=STAR_HEADERS),
    Case("'*' preflight", {"allow_origins": ["*"], "allow_methods": "*", "allow_headers": "*"}, "OPTIONS",
         headers=preflight(EVIL, "PURGE", "x-a,x-b"), status=204, reaches_app=False,
         expect={"access-control-allow-origin": "*", "access-control-allow-methods": "*",
                 "access-control-allow-headers": "*, authorization", "access-control-max-age": "600",
                 "vary": PF_VARY_STAR}),
    # '*' covers Authorization (as in Starlette, flask-cors, django-cors-headers), named
    # beside '*' because browsers do not let a literal '*' cover it (Fetch "CORS
    # non-wildcard request-header name").
    Case("allow_headers '*' covers Authorization, named for browsers", {"allow_origins": [APP], "allow_headers": "*"},
         "OPTIONS", headers=preflight(APP, "GET", "authorization,x-a"), status=204, reaches_app=False,
         expect={"access-control-allow-origin": APP, "access-control-allow-methods": "GET, HEAD, POST",
                 "access-control-allow-headers": "*, authorization", "access-control-max-age": "600",
                 "vary": PF_VARY}),
    Case("Authorization listed next to '*' (redundant, a warning)",
         {"allow_origins": [APP], "allow_headers": ["*", "Authorization"]},
         "OPTIONS", headers=preflight(APP, "GET", "authorization,x-a"), status=204, reaches_app=False,
         expect={"access-control-allow-origin": APP, "access-control-allow-methods": "GET, HEAD, POST",
                 "access-control-allow-headers": "*, authorization", "access-control-max-age": "600",
                 "vary": PF_VARY}),
    # flask-cors documents header-name patterns (allow_headers=[r"X-COMPANY-.*"]): matched
    # whole and in any case; the granted names are echoed after the listed ones.
    Case("header-name pattern grants matching names",
         {"allow_origins": [APP], "allow_headers": ["Content-Type", r"X-COMPANY-.*"]}, "OPTIONS",
         headers=preflight(APP, "GET", "content-type,x-company-id"), status=204, reaches_app=False,
         expect={"access-control-allow-origin": APP, "access-control-allow-methods": "GET, HEAD, POST",
                 "access-control-allow-headers": f"{SAFE}, x-company-id", "access-control-max-age": "600",
                 "vary": PF_VARY}),
    Case("header-name pattern refuses other names", {"allow_origins": [APP], "allow_headers": [r"X-COMPANY-.*"]},
         "OPTIONS", headers=preflight(APP, "GET", "x-company-id,x-other"), status=403, reaches_app=False,
         expect=REFUSED_PREFLIGHT),
    Case("header-name pattern matches whole names only", {"allow_origins": [APP], "allow_headers": [r"X-COMPANY-.*"]},
         "OPTIONS", headers=preflight(APP, "GET", "y-x-company-id"), status=403, reaches_app=False,
         expect=REFUSED_PREFLIGHT),
    Case("'*' headers with credentials reflect the names asked",
         {**MAIN, "allow_headers": ["*", "Authorization"], "allow_methods": "*"}, "OPTIONS",
         headers=preflight(APP, "PATCH", "X-B, authorization,x-a"), status=204, reaches_app=False,
         expect={**allowed_preflight(), "access-control-allow-methods": "PATCH",
                 "access-control-allow-headers": "authorization,x-a,x-b"}),
    # -- null, ports, regexes, callback --
    Case("null allowed with its opt-in", {"allow_origins": ["null"], "dangerously_allow_null_origin": True},
         headers=[("Origin", "null")], expect={"access-control-allow-origin": "null", "vary": "Origin"}),
    Case("port pattern", {"allow_origins": ["http://localhost:*"]}, headers=[("Origin", "http://localhost:5173")],
         expect={"access-control-allow-origin": "http://localhost:5173", "vary": "Origin"}),
    Case("regex fullmatch allows", {"allow_origin_regex": r"https://[a-z0-9-]+\.example\.com"},
         headers=[("Origin", "https://shop.example.com")],
         expect={"access-control-allow-origin": "https://shop.example.com", "vary": "Origin"}),
    Case("regex fullmatch refuses a suffix (starlette #800)", {"allow_origin_regex": r"https://[a-z0-9-]+\.example\.com"},
         headers=[("Origin", "https://a.example.com.evil.net")], expect=REFUSED_ACTUAL),
    Case("compiled regex", {"allow_origin_regex": re.compile(r"https://(staging|www)\.example\.org")},
         headers=[("Origin", "https://www.example.org")],
         expect={"access-control-allow-origin": "https://www.example.org", "vary": "Origin"}),
    Case("origin callback allows", {"allow_origin_callback": lambda o: o.endswith(".tenant.test")},
         headers=[("Origin", "https://acme.tenant.test")],
         expect={"access-control-allow-origin": "https://acme.tenant.test", "vary": "Origin"}),
    Case("origin callback refuses", {"allow_origin_callback": lambda o: o.endswith(".tenant.test")},
         headers=[("Origin", EVIL)], expect=REFUSED_ACTUAL),
    # -- private network access (CVE-2024-6221) --
    Case("PNA refused unless configured", {"allow_origins": [APP]}, "OPTIONS",
         headers=preflight(APP, "GET", None, PNA_REQ), status=403, reaches_app=False, expect=REFUSED_PREFLIGHT),
    Case("PNA allowed for an allowed origin", PNA, "OPTIONS", headers=preflight(APP, "GET", None, PNA_REQ),
         status=204, reaches_app=False,
         expect={"access-control-allow-origin": APP, "access-control-allow-methods": "GET, HEAD, POST",
                 "access-control-allow-headers": SAFE, "access-control-allow-private-network": "true",
                 "vary": PF_VARY}),
    Case("PNA never for a refused origin", PNA, "OPTIONS", headers=preflight(EVIL, "GET", None, PNA_REQ),
         status=403, reaches_app=False, expect=REFUSED_PREFLIGHT),
    # -- the app's own responses --
    Case("404 from the app carries CORS headers", MAIN, path="/notfound", headers=[("Origin", APP)],
         status=404, expect=allowed_actual(), body=b"not found"),
    Case("app exception: 500 with CORS headers, error re-raised", MAIN, path="/raise", headers=[("Origin", APP)],
         status=500, expect=allowed_actual(), app_raises=True),
    Case("app exception without Origin: 500 with Vary", MAIN, path="/raise", status=500,
         expect={"vary": "Origin"}, app_raises=True),
    Case("Vary merged with the app's", MAIN, path="/vary", headers=[("Origin", APP)],
         expect={**allowed_actual(), "vary": "Accept-Encoding, Origin"}),
    Case("Vary merged on non-CORS responses", MAIN, path="/vary", expect={"vary": "Accept-Encoding, Origin"}),
    Case("app's own ACAO replaced for an allowed origin", MAIN, path="/app-cors", headers=[("Origin", APP)],
         expect=allowed_actual()),
    Case("app's own ACAO removed for a refused origin", MAIN, path="/app-cors", headers=[("Origin", EVIL)],
         expect=REFUSED_ACTUAL),
    Case("streaming body untouched", MAIN, path="/stream", headers=[("Origin", APP)], expect=allowed_actual(),
         body=b"chunk1chunk2"),
    # -- per-path rules (CVE-2024-6839, -6844, -6866, CVE-2020-25032) --
    Case("path rule applies", PATHS, path="/public/x", headers=[("Origin", EVIL)],
         expect={"access-control-allow-origin": "*", "vary": None}),
    Case("unmatched path uses the top-level policy", PATHS, path="/private", headers=[("Origin", EVIL)],
         expect=REFUSED_ACTUAL),
    Case("path rules are case-sensitive (CVE-2024-6866)", PATHS, path="/PUBLIC/x", headers=[("Origin", EVIL)],
         expect=REFUSED_ACTUAL),
    Case("'+' is not a space (CVE-2024-6844)", PATHS, path="/files/a+b", headers=[("Origin", EVIL)],
         expect=REFUSED_ACTUAL),
    Case("an unconfigured policy leaves responses untouched", {}, headers=[("Origin", APP)], expect={}, body=b"ok"),
]  # fmt: skip

PARAMS = [pytest.param(case, id=case.id) for case in CASES]
