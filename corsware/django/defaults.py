"""django-cors-headers' defaults, under the names its documentation has settings files import.

django-cors-headers' README extends its defaults in ``settings.py``:

    from corsheaders.defaults import default_headers
    CORS_ALLOW_HEADERS = (*default_headers, "my-custom-header")

With corsware, change only the import line (``corsheaders.defaults`` ->
``corsware.django.defaults``); the values are django-cors-headers 4.x's, and they are also
what ``corsware.django`` uses for ``CORS_ALLOW_HEADERS`` / ``CORS_ALLOW_METHODS`` when those
settings are not given. This module imports nothing from Django, so a settings file may
import it before Django is configured.
"""

from __future__ import annotations

from typing import Final

__all__ = ["default_headers", "default_methods"]

#: ``CORS_ALLOW_HEADERS`` when not set. The CORS-safelisted request headers (Fetch
#: §"CORS-safelisted request-header", https://fetch.spec.whatwg.org/#cors-safelisted-request-header)
#: are allowed whatever this says, within their value limits.
default_headers: Final[tuple[str, ...]] = (
    "accept",
    "authorization",
    "content-type",
    "user-agent",
    "x-csrftoken",
    "x-requested-with",
)

#: ``CORS_ALLOW_METHODS`` when not set.
default_methods: Final[tuple[str, ...]] = ("DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT")
