"""The test routes as Falcon apps: ``falcon.App`` (WSGI) and ``falcon.asgi.App`` (ASGI).

A sink on ``/`` is Falcon's catch-all: it gets every path and every method, OPTIONS
included (a responder class would get Falcon's default OPTIONS answer instead).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from .common import AppError, record, route


def _fill(resp: Any, path: str) -> list[bytes]:
    status, headers, body = route(path)
    resp.status = status
    for name, value in headers:
        if name == "Content-Type":
            resp.content_type = value
        else:
            resp.set_header(name, value)
    return body


def make_wsgi_app(*, cors_enable: bool = False, middleware: list[Any] | None = None) -> Any:
    """``falcon.App``; ``cors_enable``/``middleware``: Falcon's own CORS (dead under corsware)."""
    import falcon

    def sink(req: Any, resp: Any, **_: Any) -> None:
        record(req.path)
        if req.path == "/raise":
            raise AppError("boom")
        body = _fill(resp, req.path)
        if req.path == "/stream":
            resp.stream = iter(body)
        else:
            resp.data = b"".join(body)

    app = falcon.App(cors_enable=cors_enable, middleware=middleware)
    app.add_sink(sink, "/")
    return app


def make_asgi_app(*, cors_enable: bool = False, middleware: list[Any] | None = None) -> Any:
    """``falcon.asgi.App``; ``cors_enable``/``middleware`` as for :func:`make_wsgi_app`."""
    import falcon.asgi

    async def sink(req: Any, resp: Any, **_: Any) -> None:
        record(req.path)
        if req.path == "/raise":
            raise AppError("boom")
        body = _fill(resp, req.path)
        if req.path == "/stream":

            async def chunks() -> AsyncIterator[bytes]:
                for chunk in body:
                    yield chunk

            resp.stream = chunks()
        else:
            resp.data = b"".join(body)

    app = falcon.asgi.App(cors_enable=cors_enable, middleware=middleware)
    app.add_sink(sink, "/")
    return app
