"""The ``AppConfig`` of ``corsware.django``: registers the system checks."""

from __future__ import annotations

from django.apps import AppConfig
from django.core import checks


class CorswareConfig(AppConfig):
    """``INSTALLED_APPS = [..., "corsware.django"]``: ``manage.py check`` reports every
    problem of the CORS settings (ids ``corsware.E001``...) before the first request."""

    name = "corsware.django"
    label = "corsware"
    verbose_name = "corsware (CORS)"

    def ready(self) -> None:
        from .checks import check_cors_settings

        checks.register(check_cors_settings, checks.Tags.security)
