"""``corsware.django.CorsMiddleware``: sync and async capable Django middleware.

It translates the request to the policy core's view (method, ``path_info``, Origin, the
preflight headers) and the core's decision back to the response; the core decides.
Put it as high as possible in ``MIDDLEWARE`` (above ``CommonMiddleware``, whose
``APPEND_SLASH`` redirect would otherwise answer preflights).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final, Literal, TypeAlias

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from .._compile import ACAC, ACAH, ACAM, ACAO, ACAPN, ACEH, ACMA, Addition, PreflightAnswer
from .._decision import NEEDS_CALLBACK, NeedsCallback, Plan, RequestKind, async_verdict, classify, sync_verdict
from .._headers import STR_CODEC, merge_response_headers
from .conf import Config, current, current_request
from .report import with_report_only

__all__ = [
    "ACCESS_CONTROL_ALLOW_CREDENTIALS",
    "ACCESS_CONTROL_ALLOW_HEADERS",
    "ACCESS_CONTROL_ALLOW_METHODS",
    "ACCESS_CONTROL_ALLOW_ORIGIN",
    "ACCESS_CONTROL_ALLOW_PRIVATE_NETWORK",
    "ACCESS_CONTROL_EXPOSE_HEADERS",
    "ACCESS_CONTROL_MAX_AGE",
    "ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK",
    "CorsMiddleware",
]

# The header names django-cors-headers 4.x exports from ``corsheaders.middleware`` (tests and
# views use them as ``response[ACCESS_CONTROL_ALLOW_ORIGIN]``): same names, same values.
# Django's response headers are case-insensitive, so they match what corsware sends. They
# are the core's names (``corsware._compile``), lower-cased as django-cors-headers spells them.
ACCESS_CONTROL_ALLOW_ORIGIN: Final = ACAO.lower()
ACCESS_CONTROL_EXPOSE_HEADERS: Final = ACEH.lower()
ACCESS_CONTROL_ALLOW_CREDENTIALS: Final = ACAC.lower()
ACCESS_CONTROL_ALLOW_HEADERS: Final = ACAH.lower()
ACCESS_CONTROL_ALLOW_METHODS: Final = ACAM.lower()
ACCESS_CONTROL_MAX_AGE: Final = ACMA.lower()
ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK: Final = "access-control-request-private-network"
ACCESS_CONTROL_ALLOW_PRIVATE_NETWORK: Final = ACAPN.lower()

_PREFIX: Final = "access-control-"


class CorsMiddleware:
    """Apply the CORS settings to every response; answer preflights without calling views.

    Preflights (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``, Fetch
    §"CORS-preflight fetch") get 204 or 403 from here. Every other response, error pages
    included (Django turns view exceptions into responses below this middleware), gets its
    CORS headers and ``Vary`` merged in; ``Access-Control-*`` headers set by views are
    dropped, since corsware is the single authority for them.

    Invalid settings raise ``ImproperlyConfigured`` when Django loads the middleware (at
    start-up); ``manage.py check`` lists them with ids and hints.
    """

    sync_capable = True
    async_capable = True

    def __new__(cls, get_response: Callable[[HttpRequest], Any]) -> CorsMiddleware:
        # CORSWARE_REPORT_ONLY set: a subclass with the report-only layer (corsware.django.report).
        return object.__new__(with_report_only(cls))

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)
        current()  # fail at start-up, not at the first request

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        config = current()
        path = request.path_info
        if _skipped(config, path):
            return self.get_response(request)
        token = current_request.set(request)  # check_request_enabled receivers read it
        try:
            step = _Step(config.policy.plan_for(path), request, path)
            outcome = step.decide()
            if outcome is NEEDS_CALLBACK:
                outcome = step.decided(sync_verdict(step.ask_callback()))
        finally:
            current_request.reset(token)
        if isinstance(outcome, HttpResponse):
            return outcome  # a preflight's answer: no view runs
        response = self.get_response(request)
        if outcome is not None:
            _apply(response, outcome)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        config = current()
        path = request.path_info
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        if _skipped(config, path):
            return await get_response(request)
        token = current_request.set(request)
        try:
            step = _Step(config.policy.plan_for(path), request, path)
            outcome = step.decide()
            if outcome is NEEDS_CALLBACK:
                outcome = step.decided(await async_verdict(step.ask_callback()))
        finally:
            current_request.reset(token)
        if isinstance(outcome, HttpResponse):
            return outcome
        response = await get_response(request)
        if outcome is not None:
            _apply(response, outcome)
        return response


def _skipped(config: Config, path: str) -> bool:
    # CORS_URLS_REGEX limits CORS to the paths it matches, whole path (re.fullmatch).
    return config.urls_regex is not None and config.urls_regex.fullmatch(path) is None


_Outcome: TypeAlias = "Addition | HttpResponse | None"


class _Step:
    """One request translated to the core's terms; ``decide`` asks the core, and when the
    core needs the origin callback the middleware (sync or async) calls it and passes its
    verdict to ``decided``."""

    __slots__ = ("origin", "path", "plan", "preflight")

    def __init__(self, plan: Plan, request: HttpRequest, path: str) -> None:
        meta = request.META
        self.plan = plan
        self.path = path
        self.origin: str | None = meta.get("HTTP_ORIGIN")
        acrm: str | None = meta.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
        self.preflight: tuple[str, str, bool] | None = None
        if acrm is not None and classify(request.method, self.origin, acrm) is RequestKind.PREFLIGHT:
            pna = meta.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK") == "true"
            self.preflight = (acrm, meta.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", ""), pna)

    def decide(self) -> _Outcome | Literal[NeedsCallback.NEEDS_CALLBACK]:
        origin = self.origin
        if origin is None:  # not a CORS request: only Vary or a static '*'
            return self.plan.no_origin
        if self.preflight is not None:
            answer = self.plan.for_preflight(origin, *self.preflight, False, self.path)
            return answer if answer is NEEDS_CALLBACK else _preflight_response(answer)
        return self.plan.for_origin(origin, self.path)

    def ask_callback(self) -> bool | Awaitable[bool]:
        assert self.origin is not None  # noqa: S101 - only CORS requests need the callback
        return self.plan.origin_callback(self.origin)

    def decided(self, allowed: bool) -> _Outcome:
        assert self.origin is not None  # noqa: S101 - only CORS requests need the callback
        if self.preflight is not None:
            method, headers, pna = self.preflight
            return _preflight_response(
                self.plan.for_preflight_decided(self.origin, allowed, method, headers, pna, False, self.path)
            )
        return self.plan.for_origin_decided(self.origin, allowed, self.path)


def _preflight_response(answer: PreflightAnswer) -> HttpResponse:
    response = HttpResponse(status=answer.status)
    del response.headers["Content-Type"]  # a 204 has no body; a 403's type comes with the answer
    for name, value in answer.text:
        response.headers[name] = value
    return response


def _apply(response: HttpResponseBase, add: Addition) -> None:
    headers = response.headers
    merged = merge_response_headers(headers.items(), add.text, add.vary_text, STR_CODEC)
    for name in [n for n in headers if n.lower().startswith(_PREFIX) or n.lower() == "vary"]:
        del headers[name]
    for name, value in merged:
        low = name.lower()
        if low.startswith(_PREFIX) or low == "vary":
            headers[name] = value
