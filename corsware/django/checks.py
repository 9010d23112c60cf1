"""System checks: ``manage.py check`` lists every problem of the CORS settings.

Ids are stable (documented in ``docs/django.md``):

- ``corsware.E001`` ``CORSWARE_POLICY`` is not a dict/CORSPolicy, or has an unknown key
- ``corsware.E002`` a setting's value is refused by the policy (one per problem; the
  core's reason code in brackets)
- ``corsware.E003`` ``CORS_URLS_REGEX`` is not a valid regex
- ``corsware.E004`` ``CORSWARE_POLICY`` and django-cors-headers settings are both set
- ``corsware.E005`` django-cors-headers' middleware is in ``MIDDLEWARE`` too
- ``corsware.W001`` a django-cors-headers 3.x setting name is used
- ``corsware.W002`` ``corsware.django.CorsMiddleware`` is not in ``MIDDLEWARE``
- ``corsware.W003`` the middleware is below ``CommonMiddleware``
- ``corsware.W004`` ``CORS_URLS_REGEX`` looks like a prefix (it must match the whole path)
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning

from .conf import load

__all__ = ["check_cors_settings"]

_OURS = "corsware.django.CorsMiddleware"
_THEIRS = "corsheaders.middleware.CorsMiddleware"
_COMMON = "django.middleware.common.CommonMiddleware"


def check_cors_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Report every problem of the CORS settings and of the middleware's placement."""
    _, issues = load()
    messages: list[CheckMessage] = [
        (Error if issue.error else Warning)(issue.msg, hint=issue.hint, obj=issue.obj, id=issue.id) for issue in issues
    ]
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if _THEIRS in middleware:
        messages.append(
            Error(
                f"{_THEIRS} is in MIDDLEWARE together with corsware.",
                hint=f"Remove it: two CORS layers disagree on headers. {_OURS} reads the same settings.",
                obj="MIDDLEWARE",
                id="corsware.E005",
            )
        )
    if _OURS not in middleware:
        messages.append(
            Warning(
                f"{_OURS} is not in MIDDLEWARE, so no CORS headers are sent.",
                hint=f"Add {_OURS!r} near the top of MIDDLEWARE.",
                obj="MIDDLEWARE",
                id="corsware.W002",
            )
        )
    elif _COMMON in middleware and middleware.index(_COMMON) < middleware.index(_OURS):
        messages.append(
            Warning(
                f"{_OURS} is below {_COMMON}.",
                hint="Move it above: CommonMiddleware's APPEND_SLASH redirect would answer preflights "
                "and its responses would lack CORS headers.",
                obj="MIDDLEWARE",
                id="corsware.W003",
            )
        )
    return messages
