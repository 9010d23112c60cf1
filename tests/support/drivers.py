"""Runners that send one request through one adapter or integration and normalise the
response, so the shared case table can check them all the same way."""

from __future__ import annotations

import asyncio
import sys
import wsgiref.validate
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from corsware import CORSPolicy
from corsware.asgi import CORSMiddleware as ASGIMiddleware
from corsware.wsgi import CORSMiddleware as WSGIMiddleware

from . import shared_app


@dataclass
class Request:
    method: str = "GET"
    path: str = "/"
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]  # names lower-cased
    body: bytes
    app_called: bool
    error: BaseException | None = None

    def values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name.lower()]


def _wsgi_environ(req: Request) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": req.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": req.path,
        "QUERY_STRING": "",
        "SERVER_NAME": "api.example.com",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https",
        "wsgi.input": __import__("io").BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in req.headers:
        key = "HTTP_" + name.upper().replace("-", "_")
        # Real servers (gunicorn, Werkzeug) join repeated headers with a comma.
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def call_wsgi(app: Any, req: Request) -> tuple[int, list[tuple[str, str]], bytes, BaseException | None]:
    """Drive a WSGI app the way a server does: start_response, iterate, always close()."""
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info is not None and captured.get("sent"):
            raise exc_info[1].with_traceback(exc_info[2])
        captured["status"] = int(status.split(" ", 1)[0])
        captured["headers"] = [(k.lower(), v) for k, v in headers]
        return lambda data: captured.setdefault("written", []).append(data)

    error: BaseException | None = None
    body = b""
    result = None
    try:
        result = app(_wsgi_environ(req), start_response)
        for chunk in result:
            captured["sent"] = True
            body += chunk
    except Exception as exc:
        error = exc
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if "status" not in captured:
        raise AssertionError(f"no response was started; app error: {error!r}")
    return captured["status"], captured["headers"], body, error


async def call_asgi(app: Any, req: Request) -> tuple[int, list[tuple[str, str]], bytes, BaseException | None]:
    """Drive an ASGI app the way a server does, collecting its messages."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": req.method,
        "scheme": "https",
        "path": req.path,
        "raw_path": req.path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in req.headers],
        "server": ("api.example.com", 443),
        "client": ("127.0.0.1", 50000),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    error: BaseException | None = None
    try:
        await app(scope, receive, send)
    except Exception as exc:
        error = exc
    starts = [m for m in sent if m["type"] == "http.response.start"]
    if len(starts) != 1:
        raise AssertionError(f"expected exactly one response start, got {len(starts)} (error {error!r})")
    headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in starts[0].get("headers", [])]
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return starts[0]["status"], headers, body, error


def _httpx_request(client: httpx.Client, req: Request) -> httpx.Response:
    # httpx would percent-encode a space; send the path as the router must see it.
    return client.request(req.method, "https://api.example.com" + req.path, headers=req.headers)


@dataclass
class Runner:
    """One way of running a request through corsware."""

    name: str
    run: Callable[[dict[str, Any], Request], Response]
    observes_errors: bool  # whether the runner sees an app exception re-raised to the server
    joins_repeated_headers: bool = True


def _run_wsgi(policy: dict[str, Any], req: Request) -> Response:
    inner = shared_app.WSGIApp()
    app = wsgiref.validate.validator(WSGIMiddleware(wsgiref.validate.validator(inner), CORSPolicy(**policy)))
    status, headers, body, error = call_wsgi(app, req)
    return Response(status, headers, body, bool(inner.calls), error)


def _run_asgi(policy: dict[str, Any], req: Request) -> Response:
    inner = shared_app.ASGIApp()
    app = ASGIMiddleware(inner, CORSPolicy(**policy))
    status, headers, body, error = asyncio.run(call_asgi(app, req))
    return Response(status, headers, body, bool(inner.calls), error)


def _run_flask(policy: dict[str, Any], req: Request) -> Response:
    flask_app = shared_app.flask_app()
    flask_app.wsgi_app = WSGIMiddleware(flask_app.wsgi_app, **policy)  # type: ignore[method-assign]
    with httpx.Client(transport=httpx.WSGITransport(app=flask_app)) as client:
        resp = _httpx_request(client, req)
    calls = flask_app.config["CALLS"]
    headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in resp.headers.raw]
    return Response(resp.status_code, headers, resp.content, bool(calls))


async def _asgi_httpx(app: Any, req: Request) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport) as client:
        return await client.request(req.method, "https://api.example.com" + req.path, headers=req.headers)


def _run_starlette(policy: dict[str, Any], req: Request, *, add_middleware: bool) -> Response:
    from starlette.middleware import Middleware

    if add_middleware:
        app = shared_app.starlette_app([Middleware(ASGIMiddleware, **policy)])
        outer = app
    else:
        app = shared_app.starlette_app()
        outer = ASGIMiddleware(app, **policy)
    resp = asyncio.run(_asgi_httpx(outer, req))
    headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in resp.headers.raw]
    return Response(resp.status_code, headers, resp.content, bool(app.state.calls))


def _headers_of(resp: httpx.Response) -> list[tuple[str, str]]:
    return [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in resp.headers.raw]


def _run_flask_ext(policy: dict[str, Any], req: Request) -> Response:
    flask_app = shared_app.flask_ext_app(policy)
    with httpx.Client(transport=httpx.WSGITransport(app=flask_app)) as client:
        resp = _httpx_request(client, req)
    return Response(resp.status_code, _headers_of(resp), resp.content, bool(flask_app.config["CALLS"]))


def _run_django(policy: dict[str, Any], req: Request, *, asgi: bool) -> Response:
    from django.core.handlers.asgi import ASGIHandler
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    from . import django_project

    django_project.setup()
    django_project.CALLS.clear()
    with override_settings(CORSWARE_POLICY=policy):
        if asgi:
            resp = asyncio.run(_asgi_httpx(ASGIHandler(), req))
        else:
            with httpx.Client(transport=httpx.WSGITransport(app=WSGIHandler())) as client:
                resp = _httpx_request(client, req)
    return Response(resp.status_code, _headers_of(resp), resp.content, bool(django_project.CALLS))


def _run_fastapi(policy: dict[str, Any], req: Request) -> Response:
    app = shared_app.fastapi_app(policy)
    resp = asyncio.run(_asgi_httpx(app, req))
    return Response(resp.status_code, _headers_of(resp), resp.content, bool(app.state.calls))


RUNNERS = [
    Runner("wsgi", _run_wsgi, observes_errors=True),
    Runner("asgi", _run_asgi, observes_errors=True),
    Runner("flask", _run_flask, observes_errors=False, joins_repeated_headers=False),
    Runner("starlette-wrapped", lambda p, r: _run_starlette(p, r, add_middleware=False), observes_errors=False),
    Runner("starlette-add_middleware", lambda p, r: _run_starlette(p, r, add_middleware=True), observes_errors=False),
    Runner("flask-extension", _run_flask_ext, observes_errors=False, joins_repeated_headers=False),
    Runner(
        "django-wsgi", lambda p, r: _run_django(p, r, asgi=False), observes_errors=False, joins_repeated_headers=False
    ),
    Runner("django-asgi", lambda p, r: _run_django(p, r, asgi=True), observes_errors=False),
    Runner("fastapi", _run_fastapi, observes_errors=False),
]
