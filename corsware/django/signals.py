"""The dynamic per-request hook, as in django-cors-headers.

``check_request_enabled`` is sent with ``sender=None, request=request`` for a CORS request
whose origin the policy does not allow by itself. If any receiver returns a truthy value,
the origin is allowed for that request; methods, headers, credentials and max-age still
come from the policy. Receivers run synchronously (under ASGI, in the event loop thread):
keep them quick and non-blocking.

.. code-block:: python

    from corsware.django.signals import check_request_enabled

    def allow_api_for_partners(sender, request, **kwargs):
        return request.path_info.startswith("/partner-api/")

    check_request_enabled.connect(allow_api_for_partners)
"""

from __future__ import annotations

from django.dispatch import Signal

__all__ = ["check_request_enabled"]

check_request_enabled = Signal()
