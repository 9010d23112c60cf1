"""The test routes as a Sanic app, run in ASGI mode (under uvicorn), with a WebSocket
echo at ``/ws/echo``.

Sanic finishes building its app (routes, signals) in the ASGI lifespan start-up, so it
must be served by a server that runs the lifespan; httpx's in-process ASGI transport does
not, hence the real server in tests/integrations/test_frameworks.py.
"""

from __future__ import annotations

from typing import Any

from .common import METHODS, AppError, record, route


def make_app(name: str = "corsware-tests") -> Any:
    from sanic import Sanic, response
    from sanic.request import Request

    app = Sanic(name)
    app.config.ACCESS_LOG = False

    @app.route("/", methods=METHODS, name="root")
    @app.route("/<rest:path>", methods=METHODS, name="everything")
    async def everything(request: Request, rest: str = "") -> Any:
        path = request.path
        record(path)
        if path == "/raise":
            raise AppError("boom")
        status, headers, body = route(path)
        if path == "/stream":
            stream = await request.respond(status=status, headers=dict(headers))
            for chunk in body:
                await stream.send(chunk)
            await stream.eof()
            return None
        return response.raw(
            b"".join(body), status=status, headers=dict(headers), content_type=dict(headers)["Content-Type"]
        )

    @app.websocket("/ws/echo")
    async def echo(request: Request, ws: Any) -> None:
        record(request.path)
        await ws.send(await ws.recv())

    return app
