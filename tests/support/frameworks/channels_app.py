"""The test routes as a Django Channels app (ASGI): ``ProtocolTypeRouter`` with Django's
ASGI handler for HTTP (the views of tests/support/django_project.py, without corsware's Django
middleware: here corsware wraps the whole router) and a ``URLRouter`` for WebSockets.
"""

from __future__ import annotations

from typing import Any

from .common import record


def make_app(*, origin_validator: bool = False) -> Any:
    """The router; ``origin_validator`` wraps the WebSocket routes in Channels' own
    ``AllowedHostsOriginValidator`` (see docs/frameworks.md for why corsware's check is
    the one to use)."""
    from channels.generic.websocket import AsyncWebsocketConsumer
    from channels.routing import ProtocolTypeRouter, URLRouter
    from channels.security.websocket import AllowedHostsOriginValidator
    from django.core.handlers.asgi import ASGIHandler
    from django.test import override_settings
    from django.urls import re_path

    from .. import django_project

    django_project.setup()

    class Echo(AsyncWebsocketConsumer):
        async def connect(self) -> None:
            record(self.scope["path"])
            await self.accept()

        async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
            await self.send(text_data=text_data, bytes_data=bytes_data)

    websocket: Any = URLRouter([re_path(r"^/?ws/echo$", Echo.as_asgi())])
    if origin_validator:
        websocket = AllowedHostsOriginValidator(websocket)
    # Django builds its middleware chain when the handler is created.
    with override_settings(MIDDLEWARE=[]):
        http = ASGIHandler()
    return ProtocolTypeRouter({"http": http, "websocket": websocket})


def calls() -> list[str]:
    """The HTTP paths the Django views were called with (they record in django_project)."""
    from .. import django_project

    return django_project.CALLS
