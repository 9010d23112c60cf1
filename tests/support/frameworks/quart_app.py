"""The test routes as a Quart app (ASGI), with a WebSocket echo at ``/ws/echo``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from .common import METHODS, AppError, record, route


def make_app() -> Any:
    """A ``quart.Quart`` serving every path (not in testing mode: Quart answers an app
    error with its own 500 instead of propagating it)."""
    import quart

    app = quart.Quart("corsware-tests")
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/", defaults={"rest": ""}, methods=METHODS)
    @app.route("/<path:rest>", methods=METHODS)
    async def everything(rest: str) -> Any:
        path = quart.request.path
        record(path)
        if path == "/raise":
            raise AppError("boom")
        status, headers, body = route(path)
        if path == "/stream":

            async def chunks() -> AsyncIterator[bytes]:
                for chunk in body:
                    yield chunk

            return quart.Response(chunks(), status=status, headers=headers)
        return quart.Response(b"".join(body), status=status, headers=headers)

    @app.websocket("/ws/echo")
    async def echo() -> None:
        record(quart.websocket.path)
        await quart.websocket.accept()
        await quart.websocket.send(await quart.websocket.receive())

    return app
