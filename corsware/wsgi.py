"""WSGI (PEP 3333) middleware: ``CORSMiddleware(app, policy=...)`` for Flask, Django or any
WSGI callable.

It only translates ``environ``/``start_response`` to the policy core and back: the core
decides, this module applies.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

from ._compile import Addition, PreflightAnswer
from ._decision import NEEDS_CALLBACK, sync_verdict
from ._headers import STR_CODEC, merge_response_headers
from ._keywords import check_keywords
from ._middleware import MiddlewareBase, PolicyOptions, log_build_failure
from ._mount import DEBUG_VAR, MountError, app_from_env, env_flag, report_only_from_env, resolve_app, resolve_policy
from ._paths import wsgi_route_path
from ._policy import OPTION_NAMES, CORSPolicy

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from typing_extensions import Unpack

    from ._report import DecisionEvent

__all__ = ["CORSMiddleware"]

_STATUS_LINES: Final = {204: "204 No Content", 403: "403 Forbidden"}
_ERROR_BODY: Final = b"Internal Server Error"
_ERROR_HEADERS: Final = (
    ("Content-Type", "text/plain; charset=utf-8"),
    ("Content-Length", str(len(_ERROR_BODY))),
)


class CORSMiddleware(MiddlewareBase):
    """Apply a ``corsware.CORSPolicy`` to a WSGI application.

    ``CORSMiddleware(app, policy=policy)`` or ``CORSMiddleware(app, allow_origins=[...],
    ...)`` with the policy's keywords (Starlette's names). Preflights are answered here and
    never reach ``app``; every other request reaches ``app`` and gets its CORS headers
    merged into the app's response, error responses included.

    ``report_only=candidate`` (a ``CORSPolicy`` or a mapping of its keywords) compares every
    CORS response with what ``candidate`` would send and reports the differences (logger
    ``corsware.report``, ``middleware.report.tally()``) without changing any response;
    given without ``policy=`` or policy keywords, corsware enforces nothing and only reports
    (see docs/tighten.md). ``on_decision=hook`` is called with a ``corsware.DecisionEvent``
    for each refusal (each CORS decision with ``on_decision_all=True``); it costs one more
    cached decision per CORS request. Both are composed when the middleware is built: a
    middleware without them runs exactly as before.
    """

    sync_only = True
    app: WSGIApplication
    display_name = "corsware.wsgi.CORSMiddleware"

    # The ASGI adapter's signature again, on purpose: each adapter spells out its own typed
    # keywords (inspect.signature, IDEs, the docs); MiddlewareBase.__init__ does what they share.
    # tests/adapters/test_adapters.py::test_the_adapters_signatures_differ_only_by_the_websocket_check
    @check_keywords("a corsware.wsgi.CORSMiddleware", OPTION_NAMES, on_error=log_build_failure)
    def __init__(
        self,
        app: WSGIApplication,
        policy: CORSPolicy | None = None,
        *,
        debug: bool = False,
        report_only: CORSPolicy | Mapping[str, Any] | None = None,
        on_decision: Callable[[DecisionEvent], object] | None = None,
        on_decision_all: bool = False,
        **options: Unpack[PolicyOptions],
    ) -> None:
        super().__init__(app, policy, debug, report_only, on_decision, on_decision_all, options)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        policy = self._policy  # read once: a concurrent swap is seen whole or not at all
        # Per-path rules match the route path: PATH_INFO decoded as the router decodes it.
        path = environ.get("PATH_INFO", "")
        plan = policy.plan_for(wsgi_route_path(path)) if policy.has_paths else policy.plan
        origin = environ.get("HTTP_ORIGIN")
        acrm = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
        if acrm is None:  # not a preflight, whatever the method (for_request reads it only with ACRM)
            found = plan.for_request(None, origin, None, "", False, False, path)
        else:  # the rest of a preflight's values (for_request reads them only then)
            acrh = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "")
            pna = environ.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK") == "true"
            found = plan.for_request(environ.get("REQUEST_METHOD"), origin, acrm, acrh, pna, self.debug, path)
        if found is None:
            return self.app(environ, start_response)
        if found is NEEDS_CALLBACK:
            assert origin is not None  # noqa: S101 - only an Origin is asked about
            allowed = sync_verdict(plan.origin_callback(origin))
            found = plan.for_request_decided(
                allowed,
                environ.get("REQUEST_METHOD"),
                origin,
                acrm,
                environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", ""),
                environ.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK") == "true",
                self.debug,
                path,
            )
        if acrm is not None and type(found) is PreflightAnswer:  # (only a request with ACRM gets one)
            # A preflight: answered here, never passed to the app.
            start_response(_STATUS_LINES[found.status], list(found.text))
            return []
        add: Addition = found  # type: ignore[assignment]
        # Respond through the app with the CORS headers merged in.
        started = False

        def cors_start_response(status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None) -> Any:
            nonlocal started
            started = True
            merged = add.merged_text(headers)
            if exc_info is None:
                return start_response(status, merged)
            return start_response(status, merged, exc_info)

        try:
            result = self.app(environ, cors_start_response)
        except Exception:
            if started:
                raise
            return _error_response(start_response, add)
        if started:
            return result
        # The app returned an iterable that will call start_response lazily (a generator):
        # guard its first step too.
        return GuardedBody(result, lambda: started, lambda _exc: _error_response(start_response, add))


def _error_response(start_response: StartResponse, add: Addition) -> Iterable[bytes]:
    """Answer 500 with the CORS headers for an app that raised before starting its response."""
    exc_info = sys.exc_info()
    merged = merge_response_headers(_ERROR_HEADERS, add.text, add.vary_text, STR_CODEC)
    # No exc_info: start_response was never called (PEP 3333 makes it optional then), and
    # uWSGI turns exc_info into a SystemError and drops the response (uwsgi#2278).
    start_response("500 Internal Server Error", merged)
    return _BodyThenRaise(exc_info[1])


class _BodyThenRaise:
    """Yields the 500 body, then re-raises the app's exception so the server logs it.

    The client already has the whole (Content-Length delimited) response by then.
    """

    __slots__ = ("_exc",)

    def __init__(self, exc: BaseException | None) -> None:
        self._exc = exc

    def __iter__(self) -> Iterator[bytes]:
        yield _ERROR_BODY
        if self._exc is not None:
            exc, self._exc = self._exc, None
            raise exc


class GuardedBody:
    """An app iterable whose first step may call ``start_response`` or raise: then, if the
    response has not started, ``on_error(exc)`` answers instead (used by the Flask
    integration too)."""

    __slots__ = ("_iterable", "_on_error", "_started")

    def __init__(
        self,
        iterable: Iterable[bytes],
        started: Callable[[], bool],
        on_error: Callable[[Exception], Iterable[bytes]],
    ) -> None:
        self._iterable = iterable
        self._started = started
        self._on_error = on_error

    def __iter__(self) -> Iterator[bytes]:
        iterator = iter(self._iterable)
        try:
            first = next(iterator)
        except StopIteration:
            return
        except Exception as exc:
            if self._started():
                raise
            yield from self._on_error(exc)
            return
        yield first
        yield from iterator

    def close(self) -> None:
        # PEP 3333: the server calls close() on what we return; it must reach the app's.
        close = getattr(self._iterable, "close", None)
        if close is not None:
            close()


# -- mounting by import string / environment (gunicorn and uWSGI factories) ------------
# The environment and import strings are read by corsware._mount, which imports no adapter.


def wrap(
    app: str | WSGIApplication,
    policy: CORSPolicy | Mapping[str, Any] | str | os.PathLike[str] | None = None,
    *,
    debug: bool | None = None,
    report_only: CORSPolicy | Mapping[str, Any] | str | os.PathLike[str] | None = None,
) -> CORSMiddleware:
    """Wrap a WSGI app (object or ``"module:attribute"``) in `CORSMiddleware`.

    ``policy=None`` reads the environment (``CORSWARE_POLICY_FILE`` or ``CORSWARE_<KEYWORD>``);
    ``debug=None`` reads ``CORSWARE_DEBUG``. ``report_only`` (a policy, mapping or file; None
    reads ``CORSWARE_REPORT_ONLY_FILE``) adds report-only mode; given without any policy, the
    app's own CORS answers and corsware only reports. Usable as a gunicorn factory:
    ``gunicorn 'corsware.wsgi:wrap("myproject.wsgi:application")'``.
    """
    resolved_app = resolve_app(app, "wsgi")
    candidate, enforced = report_only_from_env(report_only, policy)
    debug = env_flag(os.environ, DEBUG_VAR) if debug is None else debug
    if not enforced:
        return CORSMiddleware(resolved_app, debug=debug, report_only=candidate)
    return CORSMiddleware(resolved_app, resolve_policy(policy), debug=debug, report_only=candidate)


def from_env() -> CORSMiddleware:
    """Zero-argument factory: the WSGI app named by ``CORSWARE_APP``, policy from the environment."""
    return wrap(app_from_env())


__all__ += ["MountError", "from_env", "wrap"]
