"""A Django project configured in-process (``settings.configure``) for the tests.

``setup()`` is idempotent; the project's URLconf is this module: the routes of
``tests/support/shared_app.py`` (plus ``/async``, an async view). Tests change the CORS settings with
``override_settings``, which is also what rebuilds corsware's policy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

CALLS: list[str] = []


def setup() -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="corsware-tests-" + "x" * 40,
            ALLOWED_HOSTS=["*"],
            ROOT_URLCONF=__name__,
            INSTALLED_APPS=["corsware.django"],
            MIDDLEWARE=["corsware.django.CorsMiddleware"],
            USE_TZ=True,
            LOGGING_CONFIG=None,
        )
        django.setup()


def everything(request: Any) -> Any:
    from django.core.handlers.asgi import ASGIRequest
    from django.http import HttpResponse, StreamingHttpResponse

    from .shared_app import AppError, _route

    path = request.path_info
    CALLS.append(path)
    if path == "/raise":
        raise AppError("boom")
    status, headers, body = _route(path)
    if path == "/stream":
        # Django warns when an async server consumes a sync iterator, and vice versa.
        async def agen() -> AsyncIterator[bytes]:
            for chunk in body:
                yield chunk

        def gen() -> Iterator[bytes]:
            yield from body

        response: Any = StreamingHttpResponse(agen() if isinstance(request, ASGIRequest) else gen(), status=status)
    else:
        response = HttpResponse(b"".join(body), status=status)
    for name, value in headers:
        response[name] = value
    return response


async def async_view(request: Any) -> Any:
    from django.http import HttpResponse

    CALLS.append(request.path_info)
    return HttpResponse(b"async ok", content_type="text/plain")


def _urlpatterns() -> list[Any]:
    from django.urls import path, re_path

    return [path("async", async_view), re_path(r"^.*$", everything)]


def __getattr__(name: str) -> Any:
    # Django imports ROOT_URLCONF after setup(); building the patterns lazily keeps this
    # module importable before settings exist.
    if name == "urlpatterns":
        return _urlpatterns()
    raise AttributeError(name)
