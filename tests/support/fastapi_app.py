"""The routes of ``tests/support/shared_app.py`` as a FastAPI app.

No ``from __future__ import annotations`` here: FastAPI reads the annotations of the
endpoint at run time to inject the ``Request``.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from corsware.asgi import CORSMiddleware

from .shared_app import starlette_response


def make_app(policy: dict[str, Any], *, middleware: bool = True) -> FastAPI:
    app = FastAPI()
    calls: list[str] = []
    app.state.calls = calls

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
    async def everything(request: Request) -> Response:
        calls.append(request.url.path)
        response: Response = starlette_response(request.url.path)
        return response

    if middleware:
        app.add_middleware(CORSMiddleware, **policy)
    return app
