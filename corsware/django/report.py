"""Report-only mode for Django: the ``CORSWARE_REPORT_ONLY`` setting (see ``corsware._report``).

``CORSWARE_REPORT_ONLY = {"allow_origins": [...], ...}`` (the keywords of ``CORSPolicy``)
makes ``corsware.django.CorsMiddleware`` report where that candidate would answer differently
from the response the client gets. With no other CORS setting (no ``CORS_*``, no
``CORSWARE_POLICY``) the middleware enforces nothing: requests and responses pass untouched
and whatever answers CORS today keeps answering. The layer is a subclass chosen when Django
builds the middleware, so without the setting nothing changes and nothing is paid.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import Any, Final

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from .._decision import RequestKind, classify
from .._errors import CORSConfigError
from .._report import Reporter, Sent
from .._report_layers import Once, decide, route
from .conf import KNOWN_SETTINGS

__all__ = ["REPORT_ONLY_SETTING", "with_report_only"]

REPORT_ONLY_SETTING: Final = "CORSWARE_REPORT_ONLY"
_PREFLIGHT: Final = RequestKind.PREFLIGHT
_CLASSES: dict[type, type] = {}
_FAILURES: Final = Once("Django report-only layer")
_LOCK: Final = threading.Lock()


def with_report_only(cls: type) -> type:
    """``cls``, or its report-only subclass when ``CORSWARE_REPORT_ONLY`` is set."""
    if getattr(settings, REPORT_ONLY_SETTING, None) is None:
        return cls
    with _LOCK:
        sub = _CLASSES.get(cls)
        if sub is None:
            sub = _CLASSES[cls] = type(cls.__name__, (_ReportOnly, cls), {"__module__": cls.__module__})
        return sub


class _ReportOnly:
    """The report-only layer over ``corsware.django.CorsMiddleware`` (or around the next
    middleware when no CORS setting is enforced)."""

    get_response: Callable[[HttpRequest], Any]
    async_mode: bool

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        try:
            self.report = Reporter(getattr(settings, REPORT_ONLY_SETTING))
        except (CORSConfigError, TypeError) as exc:
            raise ImproperlyConfigured(f"{REPORT_ONLY_SETTING}: {exc}") from exc
        if self.report.candidate.has_async_callback:
            raise ImproperlyConfigured(f"{REPORT_ONLY_SETTING}: allow_origin_callback must be a plain function here")
        self.enforcing = any(hasattr(settings, name) for name in KNOWN_SETTINGS if name != REPORT_ONLY_SETTING)
        super().__init__(get_response)  # type: ignore[call-arg]
        self._inner: Callable[[HttpRequest], Any] = super().__call__ if self.enforcing else get_response  # type: ignore[misc]

    def _candidate(self, request: HttpRequest) -> tuple[Any, ...] | None:
        meta = request.META
        origin = meta.get("HTTP_ORIGIN")
        if origin is None:  # not a CORS request: nothing to report
            return None
        try:
            method = request.method or "GET"
            acrm: str | None = meta.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
            kind = classify(method, origin, acrm)
            acrh: str | None = None
            pna = False
            if kind is _PREFLIGHT:
                acrh = meta.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
                pna = meta.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK") == "true"
            path = request.path_info  # already the route path (decoded by Django)
            path_rule, plan = route(self.report.candidate, str, path)
            answer = decide(plan, kind, origin, acrm or "", acrh or "", pna, path)
        except Exception:
            _FAILURES.failed()
            return None
        return kind, method, path, origin, answer, path_rule, acrm, acrh

    def _observe(self, seen: tuple[Any, ...] | None, response: HttpResponseBase) -> None:
        if seen is None:
            return
        kind, method, path, origin, answer, path_rule, acrm, acrh = seen
        try:
            # As the WSGI and ASGI layers do: compare, and build the record only when there
            # is something to log.
            headers = response.headers
            status = response.status_code
            acao: str | None = headers.get("Access-Control-Allow-Origin")
            acac = headers.get("Access-Control-Allow-Credentials", "").strip() == "true"
            report = self.report
            level = report.compare(kind, origin, answer, path_rule, status, acao, acac)
            if level:
                sent = Sent(status, acao, acac)
                report.record(level, kind, method, path, origin, answer, path_rule, sent, acrm, acrh)
        except Exception:
            _FAILURES.failed()

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self._acall(request)
        seen = self._candidate(request)
        response = self._inner(request)
        self._observe(seen, response)
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        seen = self._candidate(request)
        inner: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self._inner
        response = await inner(request)
        self._observe(seen, response)
        return response
