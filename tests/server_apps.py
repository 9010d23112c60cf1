"""Apps that the real servers started by the tests import (gunicorn, uvicorn, uWSGI).

- ``wsgi_app`` / ``asgi_app``: the shared test app (``tests/apps.py``) recording every path
  it is called with in the file named by ``SERVERS_CALLS_FILE``, so a test in another
  process can tell whether a request reached the app (a preflight never must).
- ``case_wsgi()`` / ``case_asgi()``: factories for policies that cannot be written in a
  policy file (compiled regexes, callbacks): ``SERVERS_CASE`` holds the index of the case
  in ``tests/cases.py`` whose policy to use.
- ``client_app`` / ``api_app``: the two Flask apps of the blog posts (a page on one port,
  an API on another).

The variables are deliberately not ``CORSWARE_*``: corsware refuses unknown ``CORSWARE_*``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from corsware import CORSPolicy

from . import apps


def _record(path: str) -> None:
    calls_file = os.environ.get("SERVERS_CALLS_FILE")
    if calls_file:
        # O_APPEND: one short write per call, atomic even with several workers.
        fd = os.open(calls_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, path.encode("utf-8", "surrogateescape") + b"\n")
        finally:
            os.close(fd)


_wsgi_inner = apps.WSGIApp()
_asgi_inner = apps.ASGIApp()


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    _record(environ["PATH_INFO"])
    return _wsgi_inner(environ, start_response)


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        _record(scope["path"])
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


def _client() -> Any:
    """The blog's "client" (port 5000 there): a page whose script calls the API."""
    import flask

    app = flask.Flask("client")

    @app.route("/")
    def page() -> str:
        api = os.environ.get("SERVERS_API_URL", "")
        return (
            "<!doctype html><title>client</title><script>"
            f"fetch('{api}/api/login', {{method: 'POST', credentials: 'include', "
            "headers: {'Content-Type': 'application/json'}, body: '{\"user\": \"ming\"}'})"
            f".then(() => fetch('{api}/api/', {{credentials: 'include'}}))"
            "</script>this is client"
        )

    return app


def _api() -> Any:
    """The blog's "server" (port 5001 there), untouched: corsware is mounted around it."""
    import flask

    app = flask.Flask("api")

    @app.route("/")
    def hello_world() -> str:
        return "this is server"

    @app.route("/api/")
    def api() -> str:
        return "api"

    @app.route("/api/login", methods=["POST"])
    def login() -> Any:
        data = flask.request.get_json()
        response = flask.jsonify({"user": data["user"], "ok": True})
        response.set_cookie("session", "s3cret", httponly=True, samesite="None", secure=True)
        return response

    return app


client_app = _client()
api_app = _api()
