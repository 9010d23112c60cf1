"""Regressions: every known failure of a peer CORS library, as one named test.

Each test id names the CVE or issue it comes from (``docs/security.md`` lists
each with its source). HTTP cases run through the policy core (``policy.evaluate``)
and every runner of ``tests/support/drivers.py`` (bare WSGI and ASGI, Flask, Starlette); cases
that need bytes an HTTP client refuses to send (control characters, non-ASCII, a literal
``%20`` in the decoded path) run through the bare adapters, which receive exactly what a
server hands them. Configuration-time cases assert the ``CORSConfigError`` code from the
core and both adapters' constructors.

Cases already in the shared table ``tests/support/cases.py`` are not repeated: ``REFERENCED``
pins them by id, so removing one from the table fails here.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Any

import pytest

from corsware import CORSConfigError, CORSPolicy, RequestKind
from corsware.asgi import CORSMiddleware as ASGIMiddleware
from corsware.wsgi import CORSMiddleware as WSGIMiddleware

from ..support import shared_app
from ..support.cases import (
    APP,
    CASES,
    EVIL,
    MAIN,
    PF_VARY,
    REFUSED_ACTUAL,
    REFUSED_PREFLIGHT,
    Case,
    allowed_actual,
    allowed_preflight,
    preflight,
)
from ..support.checks import check, check_core
from ..support.drivers import RUNNERS, Request, Runner

#: Runners that hand the request to corsware byte for byte (no HTTP client in between).
RAW_RUNNERS = ("wsgi", "asgi")


@dataclass
class Reg:
    """A regression case: an HTTP case plus whether it needs a raw runner (or only some)."""

    case: Case
    raw_only: bool = False
    only: tuple[str, ...] = ()


TRUSTED = "https://trusted.example.com"
STAR_ANY = {"access-control-allow-origin": "*", "vary": None}
GLOB = {"allow_origins": ["https://*.example.com"]}
PUBLIC = {"allow_origins": [APP], "paths": {"/public/*": {"allow_origins": ["*"]}}}
FILES = {"allow_origins": [APP], "paths": {"/files/a b": {"allow_origins": ["*"]}}}


def reflected(origin: str) -> dict[str, str | None]:
    return {"access-control-allow-origin": origin, "vary": "Origin"}


def _glob(origin: str, allowed: bool = False) -> Reg:
    expect = reflected(origin) if allowed else REFUSED_ACTUAL
    verdict = "matches" if allowed else "never matches"
    return Reg(Case(f"flask-cors #209: '*.example.com' {verdict} {origin}", GLOB, headers=[("Origin", origin)],
                    expect=expect))  # fmt: skip


REGRESSIONS: list[Reg] = [
    # -- path rules: flask-cors CVE-2024-6839 (order), -6844 (unquote_plus), CVE-2020-25032 (dot segments) --
    Reg(Case("CVE-2024-6839: a specific rule declared first beats a broad permissive one",
             {"allow_origins": [APP], "paths": {"/api/v1/secure": {"allow_origins": [TRUSTED]},
                                                "/api/*": {"allow_origins": ["*"]}}},
             path="/api/v1/secure", headers=[("Origin", EVIL)], expect=REFUSED_ACTUAL)),
    Reg(Case("CVE-2024-6839: the specific rule still allows its own origin",
             {"allow_origins": [APP], "paths": {"/api/v1/secure": {"allow_origins": [TRUSTED]},
                                                "/api/*": {"allow_origins": ["*"]}}},
             path="/api/v1/secure", headers=[("Origin", TRUSTED)], expect=reflected(TRUSTED))),
    Reg(Case("CVE-2024-6839: a longer pattern declared later never wins by its length",
             {"paths": {"/api/*": {"allow_origins": [APP]},
                        "/api/v1/public/a-much-longer-pattern/*": {"allow_origins": ["*"]}}},
             path="/api/v1/public/a-much-longer-pattern/x", headers=[("Origin", EVIL)], expect=REFUSED_ACTUAL)),
    Reg(Case("CVE-2024-6844: a literal %20 in the decoded path is not a space", FILES, path="/files/a%20b",
             headers=[("Origin", EVIL)], expect=REFUSED_ACTUAL), raw_only=True),
    Reg(Case("CVE-2024-6844: control - the rule matches the path the router sees", FILES, path="/files/a b",
             headers=[("Origin", EVIL)], expect=STAR_ANY), raw_only=True),
    Reg(Case("CVE-2020-25032: '..' never widens a path rule", PUBLIC, path="/public/../private/data",
             headers=[("Origin", EVIL)], expect=REFUSED_ACTUAL)),
    Reg(Case("CVE-2020-25032: '/public/..' is the root, not public", PUBLIC, path="/public/..",
             headers=[("Origin", EVIL)], expect=REFUSED_ACTUAL), raw_only=True),
    # Even within one rule a path with dot segments gets no CORS under per-path rules: routers
    # read it differently (browsers never send one; tests/security/test_path_rules.py).
    Reg(Case("CVE-2020-25032: '.' segments under path rules get no CORS, even within one rule", PUBLIC,
             path="/public/./a/../b", headers=[("Origin", EVIL)], expect=REFUSED_ACTUAL), raw_only=True),
    # -- private network: flask-cors CVE-2024-6221 --
    Reg(Case("CVE-2024-6221: ACAPN only when the preflight asks for it",
             {"allow_origins": [APP], "allow_private_network": True}, "OPTIONS", headers=preflight(APP, "GET"),
             status=204, reaches_app=False,
             expect={"access-control-allow-origin": APP, "access-control-allow-methods": "GET, HEAD, POST",
                     "access-control-allow-headers": "accept, accept-language, content-language, content-type",
                     "access-control-max-age": "600", "vary": PF_VARY})),
    Reg(Case("CVE-2024-6221: ACRPN other than 'true' never grants ACAPN",
             {"allow_origins": [APP]}, "OPTIONS",
             headers=preflight(APP, "GET", None, ("Access-Control-Request-Private-Network", "TRUE")),
             status=204, reaches_app=False,
             expect={"access-control-allow-origin": APP, "access-control-allow-methods": "GET, HEAD, POST",
                     "access-control-allow-headers": "accept, accept-language, content-language, content-type",
                     "access-control-max-age": "600", "vary": PF_VARY})),
    # -- regexes: Starlette #800; globs: flask-cors #209 --
    Reg(Case("starlette #800: 'https://.*\\.example\\.com' never admits a.example.com.evil.net",
             {"allow_origin_regex": r"https://.*\.example\.com"}, headers=[("Origin", "https://a.example.com.evil.net")],
             expect=REFUSED_ACTUAL)),
    Reg(Case("starlette #800: control - the same regex admits a.example.com",
             {"allow_origin_regex": r"https://.*\.example\.com"}, headers=[("Origin", "https://a.example.com")],
             expect=reflected("https://a.example.com"))),
    _glob("https://a.example.com", allowed=True),
    _glob("https://aexample.com"),
    _glob("https://xexample.com.attacker.io"),
    _glob("https://a.examplexcom"),
    _glob("https://.example.com"),
    _glob("https://a..example.com"),
    _glob("https://-a.example.com"),
    _glob("https://a.example.com."),
    _glob("https://a.example.com:443"),
    _glob("https://a.example.com%2eevil.net"),
    # -- Vary: rs/cors #10, expressjs/cors #106, gorilla/handlers #248 --
    Reg(Case("expressjs/cors #106: one literal origin still varies on Origin without Origin",
             {"allow_origins": [APP]}, expect={"vary": "Origin"}, body=b"ok")),
    Reg(Case("gorilla/handlers #248: Vary: Origin on a path rule's non-CORS response",
             {"paths": {"/api/*": {"allow_origins": [APP]}}}, path="/api/x", expect={"vary": "Origin"})),
    Reg(Case("rs/cors #10: Vary: Origin on a refused preflight", {"allow_origins": [APP]}, "OPTIONS",
             headers=preflight(EVIL, "GET"), status=403, reaches_app=False, expect=REFUSED_PREFLIGHT)),
    # -- hostile request values: rs/cors #170 (GO-2024-2883), go-chi/cors #36 --
    Reg(Case("rs/cors #170: 10 000 repeated header names refused", MAIN, "OPTIONS",
             headers=preflight(APP, "PUT", "x-a," * 10_000), status=403, reaches_app=False, expect=REFUSED_PREFLIGHT)),
    Reg(Case("go-chi/cors #36: 64 KiB of header names refused", MAIN, "OPTIONS",
             headers=preflight(APP, "PUT", ("content-type," * 6000)[:65536]), status=403, reaches_app=False,
             expect=REFUSED_PREFLIGHT)),
    Reg(Case("rs/cors #170: 64 KiB requested method refused", MAIN, "OPTIONS", headers=preflight(APP, "P" * 65536),
             status=403, reaches_app=False, expect=REFUSED_PREFLIGHT)),
    Reg(Case("rs/cors #170: 64 KiB origin on a preflight refused", MAIN, "OPTIONS",
             headers=preflight("https://" + "a" * 65536 + ".example.com", "PUT"), status=403, reaches_app=False,
             expect=REFUSED_PREFLIGHT)),
    Reg(Case("rs/cors #170: non-ASCII header name refused", MAIN, "OPTIONS", headers=preflight(APP, "PUT", "x-\xe9"),
             status=403, reaches_app=False, expect=REFUSED_PREFLIGHT), raw_only=True),
    Reg(Case("rs/cors #170: NUL in a header name refused", MAIN, "OPTIONS", headers=preflight(APP, "PUT", "x-a\x00"),
             status=403, reaches_app=False, expect=REFUSED_PREFLIGHT), raw_only=True),
    Reg(Case("rs/cors #170: non-ASCII origin refused", MAIN, headers=[("Origin", "https://\xe4pp.example.com")],
             expect=REFUSED_ACTUAL), raw_only=True),
    Reg(Case("rs/cors #170: control byte in origin refused", MAIN, headers=[("Origin", APP + "\x7f")],
             expect=REFUSED_ACTUAL), raw_only=True),
    # -- origins and methods as sent on the wire (Fetch "CORS check") --
    Reg(Case("jub0bs null: preflight from Origin null refused by default", MAIN, "OPTIONS",
             headers=preflight("null", "PUT"), status=403, reaches_app=False, expect=REFUSED_PREFLIGHT)),
    Reg(Case("fetch CORS check: preflight with an empty Origin refused", MAIN, "OPTIONS", headers=preflight("", "PUT"),
             status=403, reaches_app=False, expect=REFUSED_PREFLIGHT)),
    Reg(Case("fetch CORS check: preflight with two Origin headers refused", MAIN, "OPTIONS",
             headers=[("Origin", APP), *preflight(APP, "PUT")], status=403, reaches_app=False,
             expect=REFUSED_PREFLIGHT, repeated_headers=True)),
    Reg(Case("starlette ACRH tolerance: two Access-Control-Request-Headers lines are one list", MAIN, "OPTIONS",
             headers=[*preflight(APP, "PUT", "content-type"), ("Access-Control-Request-Headers", "authorization")],
             status=204, reaches_app=False, expect=allowed_preflight(), repeated_headers=True)),
    Reg(Case("flask-cors method substring: 'PU' is not 'PUT'", MAIN, "OPTIONS", headers=preflight(APP, "PU"),
             status=403, reaches_app=False, expect=REFUSED_PREFLIGHT)),
    Reg(Case("flask-cors method case: 'put' is not 'PUT'", MAIN, "OPTIONS", headers=preflight(APP, "put"),
             status=403, reaches_app=False, expect=REFUSED_PREFLIGHT)),
    Reg(Case("fetch method: lower-case 'options' is not a preflight, the app answers", MAIN, "options",
             headers=preflight(APP, "PUT"), expect=allowed_actual(), body=b"ok"),
        # wsgiref's validator refuses a non-standard REQUEST_METHOD before corsware sees it.
        only=("asgi",)),
]  # fmt: skip

#: Regressions the shared table already covers (test id in ``tests/support/cases.py``).
REFERENCED = {
    "CVE-2024-6221: PNA refused unless configured": "PNA refused unless configured",
    "CVE-2024-6221: PNA never for a refused origin": "PNA never for a refused origin",
    "CVE-2024-6866: paths are case-sensitive": "path rules are case-sensitive (CVE-2024-6866)",
    "CVE-2024-6844: '+' is not a space": "'+' is not a space (CVE-2024-6844)",
    "starlette #800: regex fullmatch": "regex fullmatch refuses a suffix (starlette #800)",
    "flask-cors #209: lookalike suffix": "lookalike suffix refused",
    "flask-cors #209: glued label": "lookalike glued label refused",
    "flask-cors #209: apex": "apex not covered by *. pattern",
    "starlette #2560: no ACAC/ACEH to a refused origin": "refused origin: no ACAO, ACAC or ACEH (starlette #2560)",
    "rs/cors #10: Vary on a non-CORS response": "no-origin: untouched but Vary: Origin",
    "rs/cors #170: 1 MiB of commas": "preflight with 1 MiB of commas refused",
    "rs/cors #170: 64 KiB origin": "64 KiB origin refused",
    "fetch: two Origin headers": "two Origin headers are invalid",
    "fetch: empty Origin": "empty Origin refused",
    "jub0bs: Origin null": "Origin: null refused by default",
    "flask-cors: patch is not PATCH": "preflight method is case-sensitive: patch is not PATCH",
    "flask-cors: ET is not GET": "preflight method substring: ET is not GET",
    "fetch: browsers' literal '*' never covers Authorization, so it is named": (
        "allow_headers '*' covers Authorization, named for browsers"
    ),
    "fetch: refused preflight is 403 without CORS headers": "preflight from refused origin: 403, no CORS headers",
    "warp #1158: OPTIONS without ACRM reaches the app": "OPTIONS without ACRM reaches the app (not a preflight)",
    "starlette #1116: app error keeps CORS headers": "app exception: 500 with CORS headers, error re-raised",
}


def _params() -> list[Any]:
    out = []
    for reg in REGRESSIONS:
        for runner in RUNNERS:
            if reg.raw_only and runner.name not in RAW_RUNNERS:
                continue
            if reg.only and runner.name not in reg.only:
                continue
            if reg.case.repeated_headers and not runner.joins_repeated_headers:
                continue
            out.append(pytest.param(reg.case, runner, id=f"{reg.case.id} [{runner.name}]"))
    return out


@pytest.mark.parametrize(("case", "runner"), _params())
def test_regression_adapter(case: Case, runner: Runner) -> None:
    resp = runner.run(case.policy, Request(case.method, case.path, case.headers))
    check(case, resp)
    if runner.observes_errors:
        assert resp.error is None, resp.error


@pytest.mark.parametrize("case", [pytest.param(r.case, id=r.case.id) for r in REGRESSIONS])
def test_regression_core(case: Case) -> None:
    check_core(case)


@pytest.mark.parametrize(("origin", "table_id"), list(REFERENCED.items()), ids=list(REFERENCED))
def test_regression_in_shared_table(origin: str, table_id: str) -> None:
    """The shared table still holds this regression (it runs there through every runner)."""
    assert table_id in {c.id for c in CASES}, f"{origin}: case {table_id!r} disappeared from tests/support/cases.py"


# -- configuration time --------------------------------------------------------------------

CONFIG = [
    ("starlette #1113/#3137: '*' with credentials", {"allow_origins": ["*"], "allow_credentials": True},
     "wildcard_origin_with_credentials"),
    ("fetch http-new-header-syntax: expose '*' with credentials",
     {"allow_origins": [APP], "expose_headers": "*", "allow_credentials": True}, "expose_wildcard_with_credentials"),
    ("jub0bs: null refused without its opt-in", {"allow_origins": ["null"]}, "null_origin"),
    ("jub0bs: insecure origin with credentials", {"allow_origins": ["http://app.example.com"],
                                                 "allow_credentials": True}, "insecure_origin_with_credentials"),
    ("jub0bs: public-suffix pattern *.github.io", {"allow_origins": ["https://*.github.io"], "allow_credentials": True},
     "public_suffix_pattern_with_credentials"),
    ("jub0bs: public-suffix pattern *.co.uk", {"allow_origins": ["https://*.co.uk"], "allow_credentials": True},
     "public_suffix_pattern_with_credentials"),
    ("django E013: trailing slash", {"allow_origins": ["https://a.com/"]}, "origin_trailing_slash"),
    ("django E013: no scheme", {"allow_origins": ["a.com"]}, "origin_no_scheme"),
    ("jub0bs: default port", {"allow_origins": ["https://a.com:443"]}, "origin_default_port"),
    ("jub0bs: upper case", {"allow_origins": ["HTTPS://A.com"]}, "origin_uppercase"),
    ("jub0bs: non-ASCII host", {"allow_origins": ["https://r\xe9sum\xe9.com"]}, "origin_non_ascii"),
    ("flask-cors #209: '*' inside a label", {"allow_origins": ["https://a*.example.com"]}, "origin_wildcard_position"),
    ("starlette #800: unescaped-dot regex admits lookalikes", {"allow_origin_regex": r"https://[a-z]+.example.com"},
     "regex_matches_lookalike"),
    ("sanic-cors CVE-2026-37737: unanchored-prefix regex", {"allow_origin_regex": r"https://.*example\.com"},
     "regex_matches_lookalike"),
    ("fetch forbidden method: CONNECT", {"allow_origins": [APP], "allow_methods": ["CONNECT"]}, "forbidden_method"),
    # -- origin regexes, probed beyond hyphenated '.invalid' hosts (finding: regex probe set) --
    ("regex probe set: 'https://.*\\.com' with credentials admits attacker.com",
     {"allow_origin_regex": r"https://.*\.com", "allow_credentials": True}, "public_suffix_pattern_with_credentials"),
    ("regex probe set: 'https://\\w+\\.\\w+' with credentials admits attacker.com",
     {"allow_origin_regex": r"https://\w+\.\w+", "allow_credentials": True}, "regex_matches_any_origin"),
    ("regex probe set: 'https://[a-z0-9.]+' with credentials admits attacker.com",
     {"allow_origin_regex": r"https://[a-z0-9.]+", "allow_credentials": True}, "regex_matches_any_origin"),
    ("regex probe set: '(\\.[a-z]+)*' after the domain admits example.com.attacker.net",
     {"allow_origin_regex": r"https://example\.com(\.[a-z]+)*", "allow_credentials": True}, "regex_matches_lookalike"),
    ("regex probe set: '(\\.[a-z]+)*' after the domain, without credentials",
     {"allow_origin_regex": r"https://example\.com(\.[a-z]+)*"}, "regex_matches_lookalike"),
    ("regex probe set: a TLD class after the domain admits app.example.evil",
     {"allow_origin_regex": r"https://app\.example\.[a-z]+", "allow_credentials": True}, "regex_matches_lookalike"),
    ("regex probe set: a glued class before the domain admits attacker-example.com",
     {"allow_origin_regex": r"https://[a-z]+-example\.com", "allow_credentials": True},
     "public_suffix_pattern_with_credentials"),
    # -- origin regexes get the plain origins' credential guards (finding: regex credential guards) --
    ("regex credential guards: 'https?://' admits plain http",
     {"allow_origin_regex": r"https?://app\.example\.com", "allow_credentials": True},
     "insecure_origin_with_credentials"),
    ("regex credential guards: '(http|https)://' with a port admits plain http",
     {"allow_origin_regex": r"(http|https)://(app|admin)\.example\.com(:\d+)?", "allow_credentials": True},
     "insecure_origin_with_credentials"),
    ("regex credential guards: 'wss?://' admits plain ws",
     {"allow_origin_regex": r"wss?://app\.example\.com", "allow_credentials": True}, "insecure_origin_with_credentials"),
    ("regex credential guards: a class under github.io is a public-suffix pattern",
     {"allow_origin_regex": r"https://[a-z0-9-]+\.github\.io", "allow_credentials": True},
     "public_suffix_pattern_with_credentials"),
    ("regex credential guards: a class under co.uk is a public-suffix pattern",
     {"allow_origin_regex": r"https://[a-z0-9-]+\.co\.uk", "allow_credentials": True},
     "public_suffix_pattern_with_credentials"),
]  # fmt: skip


def _construct(where: str, kwargs: dict[str, Any]) -> None:
    if where == "core":
        CORSPolicy(**kwargs)
    elif where == "wsgi":
        WSGIMiddleware(shared_app.WSGIApp(), **kwargs)
    else:
        ASGIMiddleware(shared_app.ASGIApp(), **kwargs)


@pytest.mark.parametrize("where", ["core", "wsgi", "asgi"])
@pytest.mark.parametrize(("kwargs", "code"), [pytest.param(k, c, id=i) for i, k, c in CONFIG])
def test_regression_config(kwargs: dict[str, Any], code: str, where: str) -> None:
    with pytest.raises(CORSConfigError) as info:
        _construct(where, kwargs)
    assert code in info.value.codes


#: Regexes that must stay accepted with credentials: (regex, an origin it allows, origins it must not).
LEGITIMATE_REGEXES = [
    (r"https://[a-z0-9-]+\.example\.com", "https://a-1.example.com",
     ["https://attacker.com", "https://example.com.attacker.net", "https://attackerexample.com"]),
    (r"https://(app|admin)\.example\.com", "https://admin.example.com", ["https://app.example.com.evil"]),
    (r"https://pr-\d+\.preview\.example\.com", "https://pr-12.preview.example.com", ["https://pr-1.preview.example.co"]),
    (r"http://localhost:\d+", "http://localhost:5173", ["http://localhost.attacker.net:5173"]),
    (r"https://(www\.)?example\.(com|org)", "https://www.example.org", ["https://example.net"]),
    (r"https://.*\.example\.com", "https://a.b.example.com", ["https://a.example.com.evil.net"]),
    (re.compile(r"https://(staging|www)\.example\.org(:[0-9]+)?"), "https://www.example.org:8443",
     ["https://attacker.org"]),
]  # fmt: skip


@pytest.mark.parametrize("where", ["core", "wsgi", "asgi"])
@pytest.mark.parametrize(
    ("regex", "allowed", "refused"), LEGITIMATE_REGEXES, ids=[str(r[0]) for r in LEGITIMATE_REGEXES]
)
def test_regression_regex_guards_keep_legitimate_regexes(
    regex: str | re.Pattern[str], allowed: str, refused: list[str], where: str
) -> None:
    """Control for the regex findings: regexes that name their domain stay accepted with credentials."""
    _construct(where, {"allow_origin_regex": regex, "allow_credentials": True})
    policy = CORSPolicy(allow_origin_regex=regex, allow_credentials=True)
    assert policy.evaluate("GET", "/", [("Origin", allowed)]).header("Access-Control-Allow-Origin") == allowed
    for origin in refused:
        assert not policy.evaluate("GET", "/", [("Origin", origin)]).allowed, origin


#: The regex credential guards lift with the same opt-ins as plain origins.
OPTED_IN = [
    (r"https?://app\.example\.com", {"dangerously_allow_insecure_origins": True}, "http://app.example.com"),
    (r"https://[a-z0-9-]+\.github\.io", {"dangerously_allow_public_suffix_patterns": True},
     "https://someone.github.io"),
]  # fmt: skip


@pytest.mark.parametrize("where", ["core", "wsgi", "asgi"])
@pytest.mark.parametrize(("regex", "opt_in", "origin"), OPTED_IN, ids=[r[0] for r in OPTED_IN])
def test_regression_regex_guards_lift_with_the_dangerous_opt_ins(
    regex: str, opt_in: dict[str, bool], origin: str, where: str
) -> None:
    _construct(where, {"allow_origin_regex": regex, "allow_credentials": True, **opt_in})
    policy = CORSPolicy(allow_origin_regex=regex, allow_credentials=True, **opt_in)  # type: ignore[arg-type]
    assert policy.evaluate("GET", "/", [("Origin", origin)]).header("Access-Control-Allow-Origin") == origin


def test_regression_regex_insecure_message_says_what_to_write() -> None:
    """The refusal of a regex admitting plain http suggests the https-only regex."""
    with pytest.raises(CORSConfigError) as info:
        CORSPolicy(allow_origin_regex=r"https?://app\.example\.com", allow_credentials=True)
    (problem,) = info.value.problems
    assert problem.code == "insecure_origin_with_credentials"
    assert "write 'https://app\\\\.example\\\\.com'" in problem.message, problem.message
    assert "dangerously_allow_insecure_origins=True" in problem.message


def test_regression_config_all_problems_at_once_tower_http() -> None:
    """tower-http panics at the first problem; corsware reports every problem in one error (S25)."""
    with pytest.raises(CORSConfigError) as info:
        CORSPolicy(allow_origins=["*", "https://a.com/"], allow_credentials=True, expose_headers="*",
                   allow_methods=["CONNECT"])  # fmt: skip
    assert {"wildcard_origin_with_credentials", "origin_trailing_slash", "forbidden_method"} <= set(info.value.codes)


# -- bounded time for hostile values ---------------------------------------------------------

HOSTILE = {
    "1 MiB of commas": preflight(APP, "PUT", "," * (1 << 20)),
    "1 MiB of spaces": preflight(APP, "PUT", " " * (1 << 20)),
    "1 MiB of tabs and commas": preflight(APP, "PUT", "\t," * (1 << 19)),
    "10 000 repeated names": preflight(APP, "PUT", "x-a," * 10_000),
    "100 000 repeated names, within each line": preflight(APP, "PUT", ",".join(["content-type"] * 100_000)),
    "64 KiB origin": preflight("https://" + "a." * 32768 + "example.com", "PUT"),
    "64 KiB of dots in the origin host": preflight("https://" + "." * 65536 + "example.com", "PUT"),
    "64 KiB method": preflight(APP, "A" * 65536),
    "1 MiB of control bytes": preflight(APP, "PUT", "\x01\r\n" * (1 << 18)),
    "1 MiB non-ASCII": preflight(APP, "PUT", "\u00e9" * (1 << 20)),
}


@pytest.mark.parametrize("headers", list(HOSTILE.values()), ids=[f"rs-cors #170: {k}" for k in HOSTILE])
def test_regression_hostile_values_bounded_time(headers: list[tuple[str, str]]) -> None:
    """Refused (never an exception) in bounded time, whatever the size of the input."""
    policy = CORSPolicy(**{**MAIN, "allow_origins": [*MAIN["allow_origins"], "https://*.example.org"],
                           "allow_origin_regex": r"https://[a-z0-9-]+\.example\.net"})  # fmt: skip
    start = time.perf_counter()
    decision = policy.evaluate("OPTIONS", "/", headers)
    elapsed = time.perf_counter() - start
    assert decision.kind is RequestKind.PREFLIGHT
    assert not decision.allowed
    assert decision.status == 403
    assert elapsed < 0.25, f"{elapsed:.3f}s"


# -- WebSockets: Starlette #229 (Cross-Site WebSocket Hijacking) ------------------------------


def test_regression_websocket_hijacking_starlette_229() -> None:
    inner = shared_app.ASGIApp()
    app = ASGIMiddleware(inner, allow_origins=[APP], check_websocket_origin=True)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/ws", "headers": [(b"origin", EVIL.encode()), (b"host", b"api.example.com")],
             "scheme": "wss"}  # fmt: skip
    asyncio.run(app(scope, receive, send))
    assert inner.calls == []
    assert sent == [{"type": "websocket.close", "code": 1008}]


# -- bugs found by the property tests (fixed in this branch) ---------------------------------


def test_regression_kelvin_sign_is_not_a_header_name() -> None:
    """Found by test_props_headers: 'x-\\u212a'.lower() == 'x-k', so the parser granted a
    non-token name. Non-ASCII lists are now refused before lower-casing."""
    policy = CORSPolicy(allow_origins=[APP], allow_headers=["X-K"])
    headers = [*preflight(APP, "GET", "x-\u212a")]
    decision = policy.evaluate("OPTIONS", "/", headers)
    assert (decision.status, decision.reason) == (403, "request_headers_invalid")
    assert policy.evaluate("OPTIONS", "/", [*preflight(APP, "GET", "X-K")]).status == 204  # control


def test_regression_config_message_escapes_control_characters() -> None:
    """Found by test_props_origins: the 'origin_no_scheme' suggestion embedded the value
    raw, so a stray newline in a configured origin split the error message."""
    with pytest.raises(CORSConfigError) as info:
        CORSPolicy(allow_origins=["app.example.com\n"])
    (problem,) = info.value.problems
    assert problem.code == "origin_no_scheme"
    assert "\n" not in str(problem)
    assert "write 'https://app.example.com\\n'" in problem.message


@pytest.mark.parametrize("where", ["wsgi", "asgi"])
def test_regression_cve_2024_6221_debug_mode_never_grants_pna_to_a_refused_origin(where: str) -> None:
    """Debug mode answers refused preflights 204 with what *is* allowed: for a refused
    origin that is no ACAO, ACAC or ACAPN (the method it may use is still named)."""
    from ..support.drivers import call_asgi, call_wsgi

    policy = CORSPolicy(allow_origins=[APP], allow_private_network=True, allow_credentials=True)
    req = Request("OPTIONS", "/", preflight(EVIL, "GET", None, ("Access-Control-Request-Private-Network", "true")))
    if where == "wsgi":
        mw: Any = WSGIMiddleware(shared_app.WSGIApp(), policy, debug=True)
        status, headers, _, error = call_wsgi(mw, req)
    else:
        mw = ASGIMiddleware(shared_app.ASGIApp(), policy, debug=True)
        status, headers, _, error = asyncio.run(call_asgi(mw, req))
    names = {k for k, _ in headers}
    assert (status, error) == (204, None)
    assert "corsware-reason" in names
    granted = {
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-allow-private-network",
    }
    assert not names & granted, headers


# -- Flask: the policy follows Flask's own routing (corsware.flask) ---------------------------
# A @cross_origin view's options apply to the requests Flask routes to it; corsware once
# routed each request itself first, and disagreed with Flask. Each case is a credentialed
# read (or a crash) that this allowed. PARTNER may read the app-wide API with credentials;
# the account view allows only APP.

PARTNER = "https://partner.example.org"
READ = [(PARTNER, None), (APP, APP)]  # (origin, Access-Control-Allow-Origin expected)


def _flask_client(app: Any, host: str = "api.example.com") -> Any:
    import httpx

    transport = httpx.WSGITransport(app=app, raise_app_exceptions=False)
    return httpx.Client(transport=transport, base_url=f"https://{host}")


def _account_app(calls: list[str] | None = None) -> Any:
    """A Flask app whose /account view allows only APP (with credentials)."""
    import flask

    from corsware.flask import cross_origin

    app = flask.Flask("account")

    @app.route("/account", methods=["GET", "PUT"])
    @cross_origin(origins=[APP], supports_credentials=True)
    def account() -> str:
        if calls is not None:
            calls.append(flask.request.method)
        return "secret"

    return app


def _check_reads(client: Any, path: str, *, preflight_too: bool = True) -> None:
    for origin, allowed in READ:
        got = client.get(path, headers={"Origin": origin})
        assert (got.status_code, got.headers.get("access-control-allow-origin")) == (200, allowed), origin
        if preflight_too:
            pre = client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": "PUT"})
            assert pre.status_code == (204 if allowed else 403), origin
            assert pre.headers.get("access-control-allow-origin") == allowed, origin


SERVER_NAME_HOSTS = [
    pytest.param("www.api.example.com", id="flask SERVER_NAME: Host www. still gets the view's policy"),
    pytest.param("127.0.0.1:8000", id="flask SERVER_NAME: Host IP:port still gets the view's policy"),
    pytest.param("alias.example.net", id="flask SERVER_NAME: an alias Host still gets the view's policy"),
    pytest.param("api.example.com", id="flask SERVER_NAME: control - the SERVER_NAME Host"),
]


def _flask_version() -> tuple[int, int]:
    from importlib.metadata import version

    major, minor = version("flask").split(".")[:2]
    return int(major), int(minor)


@pytest.mark.parametrize("host", SERVER_NAME_HOSTS)
def test_regression_flask_server_name(host: str) -> None:
    """Flask 3.1 serves every Host with SERVER_NAME set; corsware's own lookup (bound to
    SERVER_NAME) missed the view and applied the app-wide policy to the account view."""
    if host != "api.example.com" and _flask_version() < (3, 1):
        pytest.skip("Flask < 3.1 routes only the SERVER_NAME host (others get Flask's own 404, never the view)")
    from corsware.flask import CORS

    app = _account_app()
    app.config["SERVER_NAME"] = "api.example.com"
    CORS(app, origins=[PARTNER], supports_credentials=True)
    with _flask_client(app, host) as client:
        _check_reads(client, "/account")


def _mount_dispatcher(outer: Any, inner: Any) -> None:
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    outer.wsgi_app = DispatcherMiddleware(outer.wsgi_app, {"/inner": inner})


def _mount_view(outer: Any, inner: Any) -> None:
    import flask
    from werkzeug.wrappers import Response as WerkzeugResponse

    @outer.route("/inner/<path:rest>", methods=["GET", "PUT"])
    def to_inner(rest: str) -> Any:
        # A copy of the environ, as proxies do: the inner decision must still reach the outer.
        environ = {**flask.request.environ, "SCRIPT_NAME": "/inner", "PATH_INFO": "/" + rest}
        return WerkzeugResponse.from_app(inner.wsgi_app, environ)


NESTED = [
    pytest.param(
        _mount_dispatcher, False, True, id="flask nested apps: DispatcherMiddleware, standalone @cross_origin"
    ),
    pytest.param(_mount_dispatcher, True, True, id="flask nested apps: DispatcherMiddleware, inner CORS(inner)"),
    # The outer view runs only for actual requests: the outer app answers the preflight.
    pytest.param(_mount_view, False, False, id="flask nested apps: outer view calls inner.wsgi_app"),
]


@pytest.mark.parametrize(("mount", "inner_extension", "preflight_too"), NESTED)
def test_regression_flask_nested_apps(mount: Any, inner_extension: bool, preflight_too: bool) -> None:
    """An outer app's CORS(app) set environ['corsware.flask'] = True: the inner app's
    standalone @cross_origin view took it for its own extension, and the outer app-wide
    policy replaced the view's."""
    import flask

    from corsware.flask import CORS

    inner = _account_app()
    if inner_extension:
        CORS(inner, resources={})
    outer = flask.Flask("outer")
    mount(outer, inner)
    CORS(outer, origins=[PARTNER], supports_credentials=True)
    with _flask_client(outer) as client:
        _check_reads(client, "/inner/account", preflight_too=preflight_too)


#: Converter calls, per request: Flask's own match only.
_TENANT_CALLS: list[str] = []


def _tenant_app() -> Any:
    import flask
    from werkzeug.routing import BaseConverter, ValidationError

    from corsware.flask import CORS

    class Tenant(BaseConverter):
        """Needs the app context, as a converter that loads a database row does."""

        def to_python(self, value: str) -> str:
            _TENANT_CALLS.append(value)
            if value not in flask.current_app.config["TENANTS"]:  # raises outside the app context
                raise ValidationError()
            return value

    app = _account_app()
    app.config["TENANTS"] = {"acme"}
    app.url_map.converters["tenant"] = Tenant

    @app.route("/t/<tenant:name>", methods=["GET", "PUT"])
    def tenant(name: str) -> str:
        return name

    CORS(app, origins=[PARTNER], supports_credentials=True)
    return app


CONVERTERS = [
    pytest.param(
        "GET", "/t/acme", PARTNER, 200, PARTNER, id="flask converters: one needing current_app no longer 500s"
    ),
    pytest.param("OPTIONS", "/t/acme", PARTNER, 204, PARTNER, id="flask converters: preflight to its route answered"),
    pytest.param("GET", "/t/other", PARTNER, 404, PARTNER, id="flask converters: its ValidationError is Flask's 404"),
    pytest.param(
        "GET", "/account", PARTNER, 200, None, id="flask converters: control - the view's policy still applies"
    ),
]


@pytest.mark.parametrize(("method", "path", "origin", "status", "allowed"), CONVERTERS)
def test_regression_flask_converters(method: str, path: str, origin: str, status: int, allowed: str | None) -> None:
    """Once a @cross_origin view existed, corsware routed every request before Flask, outside
    the app context: a converter using current_app raised, a bare 500 without CORS headers;
    every converter ran twice per request."""
    app = _tenant_app()
    headers = {"Origin": origin}
    if method == "OPTIONS":
        headers["Access-Control-Request-Method"] = "PUT"
    _TENANT_CALLS.clear()
    with _flask_client(app) as client:
        got = client.request(method, path, headers=headers)
    assert (got.status_code, got.headers.get("access-control-allow-origin")) == (status, allowed)
    assert len(_TENANT_CALLS) == (1 if path.startswith("/t/") else 0)  # Flask's own match only
