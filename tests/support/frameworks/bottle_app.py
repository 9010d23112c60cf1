"""The test routes as a Bottle app (WSGI).

``catchall = False`` makes Bottle re-raise an app error instead of rendering its own 500
page, so corsware's 500 (with the CORS headers) is what the client gets, and the server
logs the error. Bottle's default (``catchall = True``: its own 500 page, the exception
passed to ``start_response`` as ``exc_info``) is checked in tests/integrations/test_frameworks.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .common import METHODS, AppError, record, route


def make_app(*, catchall: bool = False) -> Any:
    import bottle

    app = bottle.Bottle()
    app.config["catchall"] = catchall  # Bottle(catchall=False) is deprecated since 0.13

    @app.route("/", method=METHODS)
    @app.route("/<rest:path>", method=METHODS)
    def everything(rest: str = "") -> Any:
        path = bottle.request.path
        record(path)
        if path == "/raise":
            raise AppError("boom")
        status, headers, body = route(path)
        if path == "/stream":

            def chunks() -> Iterator[bytes]:
                yield from body

            return bottle.HTTPResponse(chunks(), status=status, headers=dict(headers))
        return bottle.HTTPResponse(b"".join(body), status=status, headers=dict(headers))

    return app
