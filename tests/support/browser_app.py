"""The API the browser suite calls: one route table, served as Starlette (ASGI) and Flask (WSGI).

uvicorn and gunicorn load these factories in their own process; the policy arrives as JSON
in ``CORSWARE_BROWSER_POLICY`` (``CORSPolicy.from_mapping``), so every server kind runs the
very same policy. Three ways of installing corsware are served:

- ``asgi_wrapped()``: ``corsware.asgi.CORSMiddleware(starlette_app)``, the outermost layer
- ``asgi_add_middleware()``: ``starlette_app.add_middleware(CORSMiddleware, ...)``, inside
  Starlette's ``ServerErrorMiddleware`` (how FastAPI users install it)
- ``wsgi_app()``: ``flask_app.wsgi_app = corsware.wsgi.CORSMiddleware(flask_app.wsgi_app)``

Outside corsware sits a recorder that notes every request the server received (method,
query, Origin, Access-Control-Request-*, whether a cookie came, the status sent) and serves
that log at ``GET /__log``, so a test can count the preflights the browser sent and prove
that a refused preflight kept the actual request from ever being sent.

Routes (any method; the last path segment decides, so ``/nocache/echo`` is ``echo`` under
another path rule): ``echo`` (200 JSON of what the app saw, with ``X-Request-Id: 42`` and
``X-Internal: secret``), ``notfound`` (404), ``fail`` (a 500 the app returns), ``raise``
(the app raises), ``redirect?to=URL`` (302), ``stream`` (three chunks, flushed apart).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs

from corsware import CORSPolicy

POLICY_ENV = "CORSWARE_BROWSER_POLICY"
STREAM_CHUNKS = (b"chunk1 ", b"chunk2 ", b"chunk3")
STREAM_PAUSE = 0.05


class AppError(RuntimeError):
    """Raised by the ``raise`` route: an unhandled exception in the application."""


def _policy() -> CORSPolicy:
    return CORSPolicy.from_mapping(json.loads(os.environ[POLICY_ENV]))


def _echo(method: str, query: str, headers: dict[str, str], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    seen = {
        "method": method,
        "query": query,
        "origin": headers.get("origin"),
        "cookie": headers.get("cookie"),
        "content_type": headers.get("content-type"),
        "x_custom": headers.get("x-custom"),
        "authorization": headers.get("authorization"),
        "body": body.decode("utf-8", "replace"),
    }
    return (
        200,
        [("Content-Type", "application/json"), ("X-Request-Id", "42"), ("X-Internal", "secret")],
        json.dumps(seen).encode(),
    )


def _route(
    method: str, path: str, query: str, headers: dict[str, str], body: bytes
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Everything but ``raise`` and ``stream``, the same for both frameworks."""
    name = path.rstrip("/").rsplit("/", 1)[-1]
    if name == "notfound":
        return 404, [("Content-Type", "text/plain")], b"no such thing"
    if name == "fail":
        return 500, [("Content-Type", "text/plain")], b"the app said no"
    if name == "redirect":
        target = parse_qs(query).get("to", ["/echo"])[0]
        return 302, [("Location", target), ("Content-Type", "text/plain")], b"moved"
    return _echo(method, query, headers, body)


# -- the request recorder (outside corsware) -----------------------------------------------


class _Log:
    """Requests the server received, in order; thread-safe for gunicorn's gthread worker."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.entries: list[dict[str, Any]] = []

    def add(self, method: str, query: str, headers: dict[str, str]) -> dict[str, Any]:
        entry = {
            "method": method,
            "query": query,
            "origin": headers.get("origin"),
            "acrm": headers.get("access-control-request-method"),
            "acrh": headers.get("access-control-request-headers"),
            "cookie": headers.get("cookie"),
            "status": None,
        }
        with self._lock:
            self.entries.append(entry)
        return entry

    def dump(self) -> bytes:
        with self._lock:
            return json.dumps(self.entries).encode()


class ASGIRecorder:
    """Outermost ASGI layer: records each HTTP request, answers ``GET /__log``."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.log = _Log()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/__log":
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
            )
            await send({"type": "http.response.body", "body": self.log.dump()})
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        entry = self.log.add(scope["method"], scope["query_string"].decode("latin-1"), headers)

        async def recording_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
            await send(message)

        await self.app(scope, receive, recording_send)


class WSGIRecorder:
    """Outermost WSGI layer: records each request, answers ``GET /__log``."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.log = _Log()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/__log":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [self.log.dump()]
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        entry = self.log.add(environ["REQUEST_METHOD"], environ.get("QUERY_STRING", ""), headers)

        def recording_start_response(status: str, response_headers: Any, exc_info: Any = None) -> Any:
            entry["status"] = int(status.split(" ", 1)[0])
            return start_response(status, response_headers, exc_info)

        return self.app(environ, recording_start_response)


# -- Starlette (ASGI) -----------------------------------------------------------------------


def _starlette(middleware: list[Any] | None = None) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response, StreamingResponse
    from starlette.routing import Route

    async def everything(request: Request) -> Response:
        path = request.url.path
        if path.endswith("/raise"):
            raise AppError("boom")
        if path.endswith("/stream"):

            async def chunks() -> Any:
                for chunk in STREAM_CHUNKS:
                    yield chunk
                    await asyncio.sleep(STREAM_PAUSE)

            return StreamingResponse(chunks(), media_type="text/plain")
        headers = {k.lower(): v for k, v in request.headers.items()}
        status, response_headers, body = _route(request.method, path, request.url.query, headers, await request.body())
        return Response(body, status_code=status, headers=dict(response_headers))

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "PURGE"]
    return Starlette(routes=[Route("/{path:path}", everything, methods=methods)], middleware=middleware)


def asgi_wrapped() -> Any:
    """uvicorn factory: corsware wraps the whole Starlette app."""
    from corsware.asgi import CORSMiddleware

    return ASGIRecorder(CORSMiddleware(_starlette(), policy=_policy()))


def asgi_add_middleware() -> Any:
    """uvicorn factory: corsware added with Starlette's ``add_middleware`` (FastAPI's way)."""
    from corsware.asgi import CORSMiddleware

    app = _starlette()
    app.add_middleware(CORSMiddleware, policy=_policy())
    return ASGIRecorder(app)


# -- Flask (WSGI) ---------------------------------------------------------------------------


def wsgi_app() -> Any:
    """gunicorn factory: a Flask app whose ``wsgi_app`` corsware wraps (the Flask idiom)."""
    import flask

    from corsware.wsgi import CORSMiddleware

    app = flask.Flask("corsware-browser-tests")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "PURGE"]

    @app.route("/", defaults={"path": ""}, methods=methods)
    @app.route("/<path:path>", methods=methods)
    def everything(path: str) -> Any:
        request = flask.request
        if request.path.endswith("/raise"):
            raise AppError("boom")
        if request.path.endswith("/stream"):

            def chunks() -> Iterator[bytes]:
                for chunk in STREAM_CHUNKS:
                    yield chunk
                    time.sleep(STREAM_PAUSE)

            return flask.Response(chunks(), mimetype="text/plain")
        headers = {k.lower(): v for k, v in request.headers.items()}
        query = request.query_string.decode("latin-1")
        status, response_headers, body = _route(request.method, request.path, query, headers, request.get_data())
        return flask.Response(body, status=status, headers=response_headers)

    app.wsgi_app = WSGIRecorder(CORSMiddleware(app.wsgi_app, policy=_policy()))  # type: ignore[method-assign]
    return app
