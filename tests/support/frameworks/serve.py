"""What the real servers of tests/integrations/test_frameworks.py import: one framework app behind a
corsware middleware per case of the shared table.

One server per framework serves every case: the request header ``X-Test-Case: <index>``
(an index into ``tests.support.cases.CASES``) picks which ``CORSMiddleware(app, policy=...)``
answers it, all of them wrapping the same app. Requests without it (and the lifespan) go
through the ``MAIN`` policy with ``check_websocket_origin=True``. The header is ignored by
corsware (it is neither ``Origin`` nor an ``Access-Control-Request-*`` header) and by the
apps, so each case sees exactly what it would see alone.

- ``uvicorn --factory --lifespan on tests.support.frameworks.serve:sanic_asgi``
- ``gunicorn 'tests.support.frameworks.serve:bottle_wsgi()'`` / ``'...:pyramid_wsgi()'``
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import corsware.asgi
import corsware.wsgi
from corsware import CORSPolicy

from ..cases import CASES, MAIN

CASE_HEADER = "X-Test-Case"
_CASE_HEADER_RAW = CASE_HEADER.lower().encode()
_CASE_ENVIRON = "HTTP_" + CASE_HEADER.upper().replace("-", "_")


class _Policies:
    """The corsware middleware of each case, built on first use (cases sharing a policy
    object share one)."""

    def __init__(self, build: Callable[[CORSPolicy], Any]) -> None:
        self._build = build
        self._by_policy: dict[int, Any] = {}
        self.default = build(CORSPolicy(**MAIN))

    def get(self, index: str | None) -> Any:
        if index is None:
            return self.default
        policy = CASES[int(index)].policy
        found = self._by_policy.get(id(policy))
        if found is None:
            found = self._by_policy[id(policy)] = self._build(CORSPolicy(**policy))
        return found


class ASGIDispatch:
    """An ASGI app choosing, per request, the corsware middleware of the case it names."""

    def __init__(self, app: Any) -> None:
        self._policies = _Policies(
            lambda policy: corsware.asgi.CORSMiddleware(app, policy=policy, check_websocket_origin=True)
        )

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        index = None
        if scope["type"] in ("http", "websocket"):
            for name, value in scope["headers"]:
                if name == _CASE_HEADER_RAW:
                    index = value.decode()
        await self._policies.get(index)(scope, receive, send)


class WSGIDispatch:
    """The WSGI counterpart of :class:`ASGIDispatch`."""

    def __init__(self, app: Any) -> None:
        self._policies = _Policies(lambda policy: corsware.wsgi.CORSMiddleware(app, policy=policy))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        wrapped: Iterable[bytes] = self._policies.get(environ.get(_CASE_ENVIRON))(environ, start_response)
        return wrapped


def sanic_asgi() -> ASGIDispatch:
    from .sanic_app import make_app

    return ASGIDispatch(make_app())


def bottle_wsgi() -> WSGIDispatch:
    from .bottle_app import make_app

    return WSGIDispatch(make_app(catchall=False))


def pyramid_wsgi() -> WSGIDispatch:
    from .pyramid_app import make_app

    return WSGIDispatch(make_app())
