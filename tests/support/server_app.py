"""Apps that the real servers started by the tests import (gunicorn, uvicorn, uWSGI).

- ``wsgi_app`` / ``asgi_app``: the shared test app (``tests/support/shared_app.py``) recording every path
  it is called with in the file named by ``SERVERS_CALLS_FILE``, so a test in another
  process can tell whether a request reached the app (a preflight never must).
- ``case_wsgi()`` / ``case_asgi()``: factories for policies that cannot be written in a
  policy file (compiled regexes, callbacks): ``SERVERS_CASE`` holds the index of the case
  in ``tests/support/cases.py`` whose policy to use.

The variables are deliberately not ``CORSWARE_*``: corsware refuses unknown ``CORSWARE_*``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from corsware import CORSPolicy

from . import shared_app

_wsgi_inner = shared_app.WSGIApp()
_asgi_inner = shared_app.ASGIApp()


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    shared_app.append_call(environ["PATH_INFO"])
    return _wsgi_inner(environ, start_response)


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        shared_app.append_call(scope["path"])
    await _asgi_inner(scope, receive, send)


def _case_policy() -> CORSPolicy:
    from .cases import CASES

    return CORSPolicy(**CASES[int(os.environ["SERVERS_CASE"])].policy)


def case_wsgi() -> Any:
    import corsware.wsgi

    return corsware.wsgi.wrap(wsgi_app, _case_policy())


def case_asgi() -> Any:
    import corsware.asgi

    return corsware.asgi.wrap(asgi_app, _case_policy())
