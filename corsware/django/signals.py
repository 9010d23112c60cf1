"""The dynamic per-request hook, as in django-cors-headers.

``check_request_enabled`` is sent with ``sender=None, request=request`` for a CORS request
whose origin the policy does not allow by itself. If any receiver returns ``True`` (the
bool), the origin is allowed for that request; methods, headers, credentials and max-age
still come from the policy. Any other result refuses: django-cors-headers took any truthy
value, so ``"false"`` or ``{"enabled": False}`` enabled CORS there; here a non-bool result
is logged once per receiver at WARNING. ``Origin: null`` is never enabled by a receiver
(only ``dangerously_allow_null_origin`` allows it). Receivers run synchronously (under ASGI, in the event loop thread):
keep them quick and non-blocking.

```python
from corsware.django.signals import check_request_enabled

def allow_api_for_partners(sender, request, **kwargs):
    return request.path_info.startswith("/partner-api/")

check_request_enabled.connect(allow_api_for_partners)
```
"""

from __future__ import annotations

from django.dispatch import Signal

__all__ = ["check_request_enabled"]

check_request_enabled = Signal()
