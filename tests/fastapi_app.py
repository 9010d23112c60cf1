"""The routes of ``tests/apps.py`` as a FastAPI app.

No ``from __future__ import annotations`` here: FastAPI reads the annotations of the
endpoint at run time to inject the ``Request``.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response, StreamingResponse

from corsware.asgi import CORSMiddleware

from .apps import AppError, _route


def make_app(policy: dict[str, Any], *, middleware: bool = True) -> FastAPI:
    app = FastAPI()
    calls: list[str] = []
    app.state.calls = calls

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
    async def everything(request: Request) -> Response:
        path = request.url.path
        calls.append(path)
        if path == "/raise":
            raise AppError("boom")
        status, headers, body = _route(path)
        if path == "/stream":

            async def gen() -> Any:
                for chunk in body:
                    yield chunk

            return StreamingResponse(gen(), status_code=status, headers=dict(headers))
        return Response(b"".join(body), status_code=status, headers=dict(headers))

    if middleware:
        app.add_middleware(CORSMiddleware, **policy)
    return app
