"""Apps with real routers for the path-rule tests: every app names, in its body, the route
that served the request, so a test knows what the router dispatched.

Routes (the same in Flask, Starlette and Django): ``/api/admin/<path>`` → ``admin``,
``/account/<path>`` → ``account``, ``/partner/<path>`` → ``partner``, ``/données/<path>`` →
``donnees``, anything else → ``other``; ``/api/admin/ws`` and ``/ws/<path>`` are Starlette
WebSocket routes.
"""

from __future__ import annotations

from typing import Any

ADMIN = "https://admin.example.com"
PARTNER = "https://partner.example.net"
ACCOUNT = "https://account.example.com"

ROUTES = ("admin", "account", "partner", "donnees")
PREFIXES = {"admin": "/api/admin/", "account": "/account/", "partner": "/partner/", "donnees": "/données/"}


def _creds(origin: str) -> dict[str, Any]:
    return {"allow_origins": [origin], "allow_credentials": True}


#: The issue's policy: each route's rule allows its own origin with credentials; the
#: partner origin is allowed everywhere else ("/*" declared last, as users write it).
POLICY: dict[str, Any] = {
    **_creds(PARTNER),
    "paths": {
        "/api/admin/*": _creds(ADMIN),
        "/account/*": _creds(ACCOUNT),
        "/partner/*": _creds(PARTNER),
        "/données/*": _creds(ADMIN),
        "/*": _creds(PARTNER),
    },
}

#: The origin each route's rule allows (``other`` routes: the partner).
ROUTE_ORIGIN = {"admin": ADMIN, "account": ACCOUNT, "partner": PARTNER, "donnees": ADMIN, "other": PARTNER}


def flask_app() -> Any:
    """A Flask app routing like the module docstring says (Werkzeug's router)."""
    from flask import Flask

    app = Flask(__name__)
    for name, prefix in PREFIXES.items():

        def view(name: str = name, **_: str) -> str:
            return name

        # The rule "/account/*" covers "/account/" too: so does the route.
        app.add_url_rule(prefix, name, view, methods=["GET", "POST"], defaults={"rest": ""})
        app.add_url_rule(f"{prefix}<path:rest>", name, view, methods=["GET", "POST"])
    app.add_url_rule("/<path:rest>", "other", lambda **_: "other", methods=["GET", "POST"])
    return app


def starlette_app() -> Any:
    """A Starlette app routing like the module docstring says, plus ``/ws/<path>``."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket

    def view(name: str) -> Any:
        async def endpoint(request: Request) -> PlainTextResponse:
            return PlainTextResponse(name)

        return endpoint

    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    routes: list[Any] = [
        Route(f"{prefix}{{rest:path}}", view(name), methods=["GET", "POST"]) for name, prefix in PREFIXES.items()
    ]
    routes += [
        WebSocketRoute("/api/admin/ws", ws),
        WebSocketRoute("/ws/{rest:path}", ws),
        Route("/{rest:path}", view("other"), methods=["GET", "POST"]),
    ]
    return Starlette(routes=routes)


def starlette_cors_app() -> Any:
    """``corsware.asgi.CORSMiddleware(starlette_app(), **POLICY)``: a uvicorn factory."""
    from corsware.asgi import CORSMiddleware

    return CORSMiddleware(starlette_app(), check_websocket_origin=True, **POLICY)


def _django_view(name: str) -> Any:
    def view(request: Any, rest: str = "") -> Any:
        from django.http import HttpResponse

        return HttpResponse(name.encode(), content_type="text/plain")

    return view


def __getattr__(name: str) -> Any:
    # Django's URLconf (ROOT_URLCONF="tests.support.paths_app"), built once settings exist.
    if name == "urlpatterns":
        from django.urls import path, re_path

        patterns: list[Any] = []
        for n, prefix in PREFIXES.items():
            patterns += [path(prefix[1:], _django_view(n)), path(f"{prefix[1:]}<path:rest>", _django_view(n))]
        return [*patterns, re_path(r"^.*$", _django_view("other"))]
    raise AttributeError(name)


def flask_cors_wsgi() -> Any:
    """``corsware.wsgi.CORSMiddleware`` around :func:`flask_app`: a gunicorn factory."""
    from corsware.wsgi import CORSMiddleware

    app = flask_app()
    app.wsgi_app = CORSMiddleware(app.wsgi_app, **POLICY)  # type: ignore[method-assign]
    return app
