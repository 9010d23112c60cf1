"""The same tiny app in every framework, so one case table can drive all of them.

Routes (identical everywhere):
- ``/raise``: raises ``AppError`` before starting the response
- ``/notfound``: 404
- ``/vary``: sets ``Vary: Accept-Encoding``
- ``/app-cors``: sets its own ``Access-Control-Allow-Origin: *`` (corsware must own these)
- ``/stream``: streams ``chunk1`` then ``chunk2``
- anything else: 200 ``ok`` with ``X-Request-Id: 1``

Each app records the paths it was called with in ``calls`` so a test can assert that a
preflight never reached it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any


class AppError(RuntimeError):
    """Raised by the ``/raise`` route."""


def append_call(path: str) -> None:
    """When the process is a server started by the tests, append ``path`` to the file named
    by ``SERVERS_CALLS_FILE``: the tests read which paths reached the app. ``O_APPEND``: one
    short write per call, atomic even with several workers."""
    calls_file = os.environ.get("SERVERS_CALLS_FILE")
    if calls_file:
        fd = os.open(calls_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, path.encode("utf-8", "surrogateescape") + b"\n")
        finally:
            os.close(fd)


def _route(path: str) -> tuple[int, list[tuple[str, str]], list[bytes]]:
    if path == "/notfound":
        return 404, [("Content-Type", "text/plain")], [b"not found"]
    if path == "/vary":
        return 200, [("Content-Type", "text/plain"), ("Vary", "Accept-Encoding")], [b"ok"]
    if path == "/app-cors":
        return 200, [("Content-Type", "text/plain"), ("Access-Control-Allow-Origin", "*")], [b"ok"]
    if path == "/stream":
        return 200, [("Content-Type", "text/plain")], [b"chunk1", b"chunk2"]
    return 200, [("Content-Type", "text/plain"), ("X-Request-Id", "1")], [b"ok"]


_REASONS = {200: "OK", 404: "Not Found"}


class WSGIApp:
    """A bare PEP 3333 application."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        self.calls.append(path)
        if path == "/raise":
            raise AppError("boom")
        status, headers, body = _route(path)
        start_response(f"{status} {_REASONS[status]}", headers)
        return body


class ASGIApp:
    """A bare ASGI 3 application."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            self.calls.append("lifespan")
            return
        path = scope["path"]
        self.calls.append(path)
        if path == "/raise":
            raise AppError("boom")
        status, headers, body = _route(path)
        raw = [(k.lower().encode(), v.encode()) for k, v in headers]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        for i, chunk in enumerate(body):
            await send({"type": "http.response.body", "body": chunk, "more_body": i < len(body) - 1})


def flask_app() -> Any:
    """The routes as a Flask app (not in testing mode, so Flask handles its own errors)."""
    import flask

    app = flask.Flask("corsware-tests")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    calls: list[str] = []
    app.config["CALLS"] = calls

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
    @app.route("/<path:path>", methods=["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
    def everything(path: str) -> Any:
        real = flask.request.path
        calls.append(real)
        if real == "/raise":
            raise AppError("boom")
        status, headers, body = _route(real)
        if real == "/stream":

            def gen() -> Iterator[bytes]:
                yield from body

            return flask.Response(gen(), status=status, headers=headers)
        return flask.Response(b"".join(body), status=status, headers=headers)

    return app


def starlette_response(path: str) -> Any:
    """The routes' response as a Starlette response (shared by the Starlette and FastAPI apps)."""
    from starlette.responses import Response, StreamingResponse

    if path == "/raise":
        raise AppError("boom")
    status, headers, body = _route(path)
    if path == "/stream":

        async def gen() -> Any:
            for chunk in body:
                yield chunk

        return StreamingResponse(gen(), status_code=status, headers=dict(headers))
    return Response(b"".join(body), status_code=status, headers=dict(headers))


def starlette_app(middleware: list[Any] | None = None) -> Any:
    """The routes as a Starlette app; ``middleware`` goes through Starlette's own stack."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.routing import Route

    calls: list[str] = []

    async def everything(request: Request) -> Any:
        calls.append(request.url.path)
        return starlette_response(request.url.path)

    methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
    app = Starlette(routes=[Route("/{path:path}", everything, methods=methods)], middleware=middleware)
    app.state.calls = calls
    return app


def fastapi_app(policy: dict[str, Any]) -> Any:
    """The routes as a FastAPI app with ``app.add_middleware(corsware.asgi.CORSMiddleware, ...)``."""
    from .fastapi_app import make_app

    return make_app(policy)


def flask_ext_app(policy: dict[str, Any]) -> Any:
    """The Flask app with ``corsware.flask.CORS(app, policy=...)``."""
    from corsware import CORSPolicy
    from corsware.flask import CORS

    app = flask_app()
    CORS(app, policy=CORSPolicy(**policy))
    return app
