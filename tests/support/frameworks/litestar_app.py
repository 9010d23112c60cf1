"""The test routes as a Litestar app (ASGI)."""

# No "from __future__ import annotations": Litestar reads the handler's annotations at
# run time, and the names are local to make_app.
from collections.abc import AsyncIterator
from typing import Any

from .common import METHODS, AppError, record, route


def make_app(*, cors_config: Any = None) -> Any:
    """A ``litestar.Litestar`` serving every path; ``cors_config``: Litestar's own CORS
    (dead configuration under corsware, see docs/frameworks.md)."""
    from litestar import Litestar, Request, Response
    from litestar import route as litestar_route
    from litestar.response import Stream

    @litestar_route(["/", "/{rest:path}"], http_method=METHODS)
    async def everything(request: Request[Any, Any, Any]) -> Response[Any]:
        path = request.scope["path"]
        record(path)
        if path == "/raise":
            raise AppError("boom")
        status, headers, body = route(path)
        if path == "/stream":

            async def chunks() -> AsyncIterator[bytes]:
                for chunk in body:
                    yield chunk

            return Stream(chunks(), status_code=status, headers=dict(headers))
        media_type = dict(headers).pop("Content-Type")
        return Response(b"".join(body), status_code=status, headers=dict(headers), media_type=media_type)

    return Litestar([everything], cors_config=cors_config, debug=False, logging_config=None)
