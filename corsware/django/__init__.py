"""Django integration: ``corsware.django`` in ``INSTALLED_APPS`` (system checks) and
``corsware.django.CorsMiddleware`` in ``MIDDLEWARE``.

Settings: django-cors-headers' names (``CORS_ALLOWED_ORIGINS``, ...), or ``CORSWARE_POLICY``
(a dict of :class:`~corsware.CORSPolicy` keywords, or a ``CORSPolicy``). See
``docs/django.md``.
"""

from __future__ import annotations

from .middleware import CorsMiddleware

__all__ = ["CorsMiddleware"]
