"""The test routes as a Pyramid app (WSGI).

Pyramid has no exception view for ``AppError`` here, so it re-raises the error to its
caller: corsware answers the 500 (with the CORS headers) and the server logs the error.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

from .common import AppError, record, route


def make_app() -> Any:
    with warnings.catch_warnings():
        # WebOb (Pyramid's request/response library) imports the cgi module, deprecated
        # since Python 3.11 (neither is corsware's to fix).
        warnings.filterwarnings("ignore", "'cgi' is deprecated", DeprecationWarning)
        # Pyramid 2.1 imports pkg_resources, which setuptools >= 81 warns about.
        warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
        from pyramid.config import Configurator
        from pyramid.response import Response

    def everything(request: Any) -> Any:
        path = request.path_info
        record(path)
        if path == "/raise":
            raise AppError("boom")
        status, headers, body = route(path)
        if path == "/stream":

            def chunks() -> Iterator[bytes]:
                yield from body

            return Response(app_iter=chunks(), status=status, headerlist=headers)
        return Response(body=b"".join(body), status=status, headerlist=headers)

    with Configurator() as config:
        config.add_route("everything", "/*rest")
        config.add_view(everything, route_name="everything")
        return config.make_wsgi_app()
