"""The two Flask apps of the usual Flask CORS blog post (a ``client.py`` page on port 5000
and a ``server.py`` API on port 5001), as gunicorn imports them in tests/servers/test_blog.py.

The API is the post's code, untouched: corsware is mounted around it by the server
command (``corsware.wsgi:wrap("tests.support.blog_app:api_app")``), not by editing it.
"""

from __future__ import annotations

import os
from typing import Any


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
        # Same site as the client (ports do not count), so SameSite=Lax cookies are sent.
        response.set_cookie("session", "s3cret", httponly=True, samesite="Lax")
        return response

    return app


client_app = _client()
api_app = _api()
