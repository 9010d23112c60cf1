"""Per-path rules agree with the router: the rule that applies is the rule of the route that
serves the request, and where readings of a path disagree, the strictest answer.

Each attack below was a credentialed read by an origin that the matching route's rule
refuses. Every test sends the request through corsware with a real router behind it
(Werkzeug via Flask, Starlette, Django) and checks two things: which route served it (the
premise, from the app's body) and that the attacker's origin got no CORS header.
"""

from __future__ import annotations

import asyncio
import http.client
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from corsware import CORSPolicy
from corsware.asgi import CORSMiddleware as ASGIMiddleware
from corsware.wsgi import CORSMiddleware as WSGIMiddleware

from ..support import paths_app
from ..support.drivers import Request, call_asgi, call_wsgi
from ..support.paths_app import ACCOUNT, ADMIN, PARTNER, POLICY
from ..support.server_kinds import gunicorn_cmd, uvicorn_cmd
from ..support.servers import free_port, running

PF = "Access-Control-Request-Method"


def _headers(origin: str, preflight: bool) -> list[tuple[str, str]]:
    return [("Origin", origin), (PF, "POST")] if preflight else [("Origin", origin)]


def _acao(headers: list[tuple[str, str]]) -> list[str]:
    return [v for k, v in headers if k.lower() == "access-control-allow-origin"]


# -- runners: (route served or None for a preflight, ACAO values) ------------------------


def run_core(path: str, origin: str, preflight: bool) -> tuple[str | None, list[str]]:
    decision = CORSPolicy(**POLICY).evaluate("OPTIONS" if preflight else "GET", path, _headers(origin, preflight))
    return None, _acao(list(decision.headers))


def run_wsgi_flask(path: str, origin: str, preflight: bool) -> tuple[str | None, list[str]]:
    """corsware.wsgi around a Flask app; PATH_INFO as a PEP 3333 server hands it over."""
    app = paths_app.flask_app()
    app.wsgi_app = WSGIMiddleware(app.wsgi_app, **POLICY)  # type: ignore[method-assign]
    path_info = path.encode("utf-8").decode("latin-1")
    _status, headers, body, _ = call_wsgi(app, Request("OPTIONS" if preflight else "GET", path_info,
                                                      _headers(origin, preflight)))  # fmt: skip
    return (None if preflight else body.decode()), _acao(headers)


def run_flask_extension(path: str, origin: str, preflight: bool) -> tuple[str | None, list[str]]:
    """corsware.flask.CORS(app, resources=...), flask-cors's spelling of the same rules."""
    from corsware.flask import CORS

    app = paths_app.flask_app()
    resources = {pattern: {"origins": rule["allow_origins"]} for pattern, rule in POLICY["paths"].items()}
    CORS(app, resources=resources, supports_credentials=True)
    path_info = path.encode("utf-8").decode("latin-1")
    _status, headers, body, _ = call_wsgi(app, Request("OPTIONS" if preflight else "GET", path_info,
                                                      _headers(origin, preflight)))  # fmt: skip
    return (None if preflight else body.decode()), _acao(headers)


def run_asgi_starlette(path: str, origin: str, preflight: bool) -> tuple[str | None, list[str]]:
    """corsware.asgi around a Starlette app; scope["path"] as an ASGI server decodes it."""
    app = ASGIMiddleware(paths_app.starlette_app(), **POLICY)
    req = Request("OPTIONS" if preflight else "GET", path, _headers(origin, preflight))
    _status, headers, body, _ = asyncio.run(call_asgi(app, req))
    return (None if preflight else body.decode()), _acao(headers)


def _django(path: str, origin: str, preflight: bool, *, asgi: bool) -> tuple[str | None, list[str]]:
    """Django's own handlers, given the path as a server hands it over (no test client,
    whose URL parsing would read '//api' as a host)."""
    from django.core.handlers.asgi import ASGIHandler
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    from ..support import django_project

    django_project.setup()
    method = "OPTIONS" if preflight else "GET"
    with override_settings(ROOT_URLCONF="tests.support.paths_app", CORSWARE_POLICY=POLICY):
        if asgi:
            _status, headers, body = asyncio.run(_django_asgi(ASGIHandler(), method, path, _headers(origin, preflight)))
        else:
            req = Request(method, path.encode("utf-8").decode("latin-1"), _headers(origin, preflight))
            _status, headers, body, _ = call_wsgi(WSGIHandler(), req)
    return (None if preflight else body.decode()), _acao(headers)


async def _django_asgi(app: Any, method: str, path: str, headers: list[tuple[str, str]]) -> tuple[int, Any, bytes]:
    """One request to Django's ASGI handler, which waits for the client to go away after
    its body: the second receive() waits until the response is complete."""
    done = asyncio.Event()
    sent: list[dict[str, Any]] = []
    first = True

    async def receive() -> dict[str, Any]:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "https",
        "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "server": ("api.example.com", 443), "client": ("127.0.0.1", 50000),
    }  # fmt: skip
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]], body


RUNNERS: dict[str, Callable[[str, str, bool], tuple[str | None, list[str]]]] = {
    "core": run_core,
    "wsgi-flask": run_wsgi_flask,
    "flask-extension": run_flask_extension,
    "asgi-starlette": run_asgi_starlette,
    "django-wsgi": lambda p, o, f: _django(p, o, f, asgi=False),
    "django-asgi": lambda p, o, f: _django(p, o, f, asgi=True),
}

#: (name, path as the server decodes it, attacker origin, {runner: route its router serves}).
ATTACKS = [
    (
        "leading '//': Werkzeug serves //api/admin/users with the admin view",
        "//api/admin/users",
        PARTNER,
        {"wsgi-flask": "admin", "flask-extension": "admin", "asgi-starlette": "other", "django-wsgi": "other"},
    ),
    (
        "encoded slash + dot segments: /account/x/..%2F..%2Fpartner/y is served by /account/<path>",
        "/account/x/../../partner/y",
        PARTNER,
        {"wsgi-flask": "account", "flask-extension": "account", "asgi-starlette": "account", "django-wsgi": "account"},
    ),
    (
        "CVE-2020-25032 both ways: /partner/../api/admin/x is served by /partner/<path>",
        "/partner/../api/admin/x",
        ADMIN,
        {"wsgi-flask": "partner", "asgi-starlette": "partner", "django-asgi": "partner"},
    ),
    (
        "an empty segment: Werkzeug serves /account//x with the catch-all, not /account/<path>",
        "/account//x",
        ACCOUNT,
        {"wsgi-flask": "other", "flask-extension": "other", "asgi-starlette": "account", "django-wsgi": "account"},
    ),
    (
        "repeated inner slashes: /api//admin/users",
        "/api//admin/users",
        PARTNER,
        {"asgi-starlette": "other", "django-wsgi": "other"},
    ),
]


@pytest.mark.parametrize("preflight", [False, True], ids=["actual", "preflight"])
@pytest.mark.parametrize("runner", list(RUNNERS))
@pytest.mark.parametrize(("name", "path", "origin", "served"), ATTACKS, ids=[a[0] for a in ATTACKS])
def test_ambiguous_path_is_refused_everywhere(
    name: str, path: str, origin: str, served: dict[str, str], runner: str, preflight: bool
) -> None:
    """The path reads differently to different routers: no CORS header, whatever the router."""
    route, acao = RUNNERS[runner](path, origin, preflight)
    if route is not None and runner in served:
        assert route == served[runner], f"premise: the {runner} router serves {path!r} with {served[runner]}"
    assert acao == [], f"{origin} read {path!r} ({route or 'preflight'}) through {runner}"


NON_ASCII = "/données/rapport"


@pytest.mark.parametrize("preflight", [False, True], ids=["actual", "preflight"])
@pytest.mark.parametrize("runner", list(RUNNERS))
def test_wsgi_non_ascii_path_matches_its_rule_like_every_adapter(runner: str, preflight: bool) -> None:
    """PEP 3333 PATH_INFO is latin-1 text of the UTF-8 bytes: '/données/*' applies under WSGI
    exactly as in the core, ASGI and Django (before, WSGI fell through to the '/*' rule)."""
    route, refused = RUNNERS[runner](NON_ASCII, PARTNER, preflight)
    assert route in (None, "donnees")
    assert refused == [], f"the partner read {NON_ASCII} through {runner}"
    route, allowed = RUNNERS[runner](NON_ASCII, ADMIN, preflight)
    assert allowed == [ADMIN], f"the '/données/*' rule was not applied through {runner}"


# -- ASGI root_path: rules are relative to the mount point -------------------------------


def _mounted() -> Any:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    return Starlette(routes=[Mount("/v1", app=paths_app.starlette_cors_app())])


async def _get(app: Any, path: str, origin: str, preflight: bool = False) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://api.example.com") as client:
        return await client.request("OPTIONS" if preflight else "GET", path, headers=dict(_headers(origin, preflight)))


@pytest.mark.parametrize("preflight", [False, True], ids=["actual", "preflight"])
def test_starlette_mount_root_path_rules_are_relative_to_the_mount(preflight: bool) -> None:
    """Inside Mount("/v1", ...), scope["path"] is /v1/api/admin/users: the '/api/admin/*'
    rule applies (before, '/*' did, and the partner read the admin view)."""
    resp = asyncio.run(_get(_mounted(), "/v1/api/admin/users", PARTNER, preflight))
    if not preflight:
        assert resp.text == "admin"
    assert "access-control-allow-origin" not in resp.headers
    resp = asyncio.run(_get(_mounted(), "/v1/api/admin/users", ADMIN, preflight))
    assert resp.headers["access-control-allow-origin"] == ADMIN


def _ws_accepted(app: Any, path: str, origin: str) -> bool:
    """A WebSocket handshake through the ASGI stack, as a server drives it: accepted or not."""
    sent: list[dict[str, Any]] = []
    connected = False

    async def receive() -> dict[str, Any]:
        nonlocal connected
        if not connected:
            connected = True
            return {"type": "websocket.connect"}
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "websocket", "asgi": {"version": "3.0"}, "scheme": "wss", "path": path, "raw_path": path.encode(),
        "root_path": "", "query_string": b"", "server": ("api.example.com", 443), "client": ("127.0.0.1", 5),
        "headers": [(b"host", b"api.example.com"), (b"origin", origin.encode())], "subprotocols": [],
    }  # fmt: skip
    asyncio.run(app(scope, receive, send))
    return bool(sent) and sent[0]["type"] == "websocket.accept"


def test_starlette_mount_root_path_applies_to_the_websocket_check() -> None:
    """check_websocket_origin matches the route path too: under Mount("/v1"), the admin
    socket is the '/api/admin/*' rule's, so the partner's handshake is refused."""
    assert not _ws_accepted(_mounted(), "/v1/api/admin/ws", PARTNER)
    assert _ws_accepted(_mounted(), "/v1/api/admin/ws", ADMIN)


def _raw_get(port: int, path: str, origin: str) -> tuple[str, list[tuple[str, str]]]:
    """GET with the path byte for byte (no client-side normalisation)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.putheader("Origin", origin)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.read().decode(), resp.getheaders()
    finally:
        conn.close()


def test_uvicorn_root_path_rules_are_relative_to_the_mount() -> None:
    """uvicorn --root-path /prefix (behind a proxy that strips /prefix) puts the prefix in
    scope["path"]: the rule is matched on the route path, as Starlette routes it."""
    port = free_port()
    cmd = [*uvicorn_cmd(port, "tests.support.paths_app:starlette_cors_app"), "--root-path", "/prefix"]
    with running(cmd, port):
        body, headers = _raw_get(port, "/api/admin/users", PARTNER)
        assert body == "admin"
        assert _acao(headers) == []
        body, headers = _raw_get(port, "/api/admin/users", ADMIN)
        assert _acao(headers) == [ADMIN]


@pytest.mark.parametrize(
    ("path", "served"),
    [("//api/admin/users", "admin"), ("/account/x/..%2F..%2Fpartner/y", "account"), ("/données/x", "donnees")],
)
def test_gunicorn_flask_paths_as_sent_on_the_wire(path: str, served: str) -> None:
    """gunicorn passes '//' through and decodes %2F; Werkzeug then routes the path to a view
    whose rule refuses the partner origin: corsware must not give it CORS headers."""
    port = free_port()
    with running(gunicorn_cmd(port, "tests.support.paths_app:flask_cors_wsgi()"), port):
        wire = path.encode("utf-8").decode("latin-1") if not path.isascii() else path
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.putrequest("GET", _quote_non_ascii(wire))
            conn.putheader("Origin", PARTNER)
            conn.endheaders()
            resp = conn.getresponse()
            body, headers = resp.read().decode(), resp.getheaders()
        finally:
            conn.close()
        assert body == served
        assert _acao(headers) == []


def _quote_non_ascii(path: str) -> str:
    from urllib.parse import quote

    return quote(path.encode("latin-1").decode("utf-8"), safe="/%")
