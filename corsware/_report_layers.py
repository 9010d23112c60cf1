"""The report-only and decision-event layers around a WSGI or ASGI app (see ``corsware._report``).

They are composed when a middleware is built, never per request: ``CORSMiddleware(app,
report_only=..., on_decision=...)`` is created as a subclass whose ``__call__`` runs
:class:`WSGILayer` / :class:`ASGILayer` around the middleware's own ``__call__`` (enforcing)
or around the app (report-only without a policy: everything passes untouched). A middleware
built without those keywords is the plain class, and pays nothing.

The layers use only ``CORSPolicy.evaluate`` / ``aevaluate`` and read the response's CORS
headers as the client gets them, so they observe the enforced response, whoever produced it.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from ._errors import CORSConfigError
from ._log import logger
from ._middleware import MiddlewareBase, log_build_failure
from ._paths import asgi_route_path, wsgi_route_path
from ._policy import CORSPolicy
from ._report import DecisionHook, Reporter, Sent

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from .asgi import Message, Receive, Scope, Send

__all__ = ["ASGILayer", "Once", "WSGILayer", "attach", "layered"]

#: The request headers a CORS decision depends on (Fetch §"CORS protocol"), WSGI names.
_WSGI_HEADERS: Final = (
    ("HTTP_ACCESS_CONTROL_REQUEST_METHOD", "Access-Control-Request-Method"),
    ("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "Access-Control-Request-Headers"),
    ("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK", "Access-Control-Request-Private-Network"),
)
_ASGI_HEADERS: Final = frozenset(
    {
        b"origin",
        b"access-control-request-method",
        b"access-control-request-headers",
        b"access-control-request-private-network",
    }
)


class Once:
    """Logs the first failure of a layer's own code at ERROR; the response is never affected."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._logged = False
        self._lock = threading.Lock()

    def failed(self) -> None:
        with self._lock:
            first, self._logged = not self._logged, True
        if first:
            logger.error("corsware %s failed; the response is unaffected, further failures are not logged",
                         self.what, exc_info=True)  # fmt: skip


class WSGILayer:
    """Reports (``reporter``) and emits decision events (``hook``, on the decisions of
    ``policy()``) around ``inner``, a WSGI app; never changes what ``inner`` answers."""

    def __init__(
        self,
        inner: WSGIApplication,
        *,
        reporter: Reporter | None = None,
        hook: DecisionHook | None = None,
        policy: Callable[[], CORSPolicy] | None = None,
    ) -> None:
        if hook is not None and policy is None:
            raise TypeError("a decision hook needs the enforced policy")
        self.inner = inner
        self.reporter = reporter
        self.hook = hook
        self.policy = policy
        self._once = Once("report-only layer")

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        if origin is None:  # not a CORS request (Fetch §"CORS protocol"): nothing to report
            return self.inner(environ, start_response)
        reporter = self.reporter
        try:
            method: str = environ.get("REQUEST_METHOD", "GET")
            path = wsgi_route_path(environ.get("PATH_INFO", ""))
            headers = [("Origin", origin)]
            headers += [(name, environ[key]) for key, name in _WSGI_HEADERS if key in environ]
            if self.hook is not None and self.policy is not None:
                decision = self.policy().evaluate(method, path, headers)
                if self.hook.wants(decision):
                    self.hook.emit(method, path, origin, decision)
            candidate = None if reporter is None else reporter.candidate.evaluate(method, path, headers)
        except Exception:
            self._once.failed()
            return self.inner(environ, start_response)
        if reporter is None or candidate is None:
            return self.inner(environ, start_response)
        observed = False

        def observing(status: str, response_headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None) -> Any:
            nonlocal observed
            if not observed:
                observed = True
                try:
                    reporter.observe(method, path, origin, candidate, Sent.from_text(status, response_headers), headers)
                except Exception:
                    self._once.failed()
            if exc_info is None:
                return start_response(status, response_headers)
            return start_response(status, response_headers, exc_info)

        return self.inner(environ, observing)


class ASGILayer:
    """The ASGI twin of :class:`WSGILayer` (``aevaluate``: async origin callbacks work)."""

    def __init__(
        self,
        inner: Callable[[Scope, Receive, Send], Any],
        *,
        reporter: Reporter | None = None,
        hook: DecisionHook | None = None,
        policy: Callable[[], CORSPolicy] | None = None,
    ) -> None:
        if hook is not None and policy is None:
            raise TypeError("a decision hook needs the enforced policy")
        self.inner = inner
        self.reporter = reporter
        self.hook = hook
        self.policy = policy
        self._once = Once("report-only layer")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        headers: list[tuple[str, str]] = []
        origin: str | None = None
        for name, value in scope["headers"]:
            if name in _ASGI_HEADERS:
                text = value.decode("latin-1")
                headers.append((name.decode("latin-1"), text))
                if name == b"origin":
                    origin = text if origin is None else f"{origin}, {text}"
        if origin is None:  # not a CORS request: nothing to report
            await self.inner(scope, receive, send)
            return
        reporter = self.reporter
        try:
            method: str = scope["method"]
            path = asgi_route_path(scope)
            if self.hook is not None and self.policy is not None:
                decision = await self.policy().aevaluate(method, path, headers)
                if self.hook.wants(decision):
                    self.hook.emit(method, path, origin, decision)
            candidate = None if reporter is None else await reporter.candidate.aevaluate(method, path, headers)
        except Exception:
            self._once.failed()
            await self.inner(scope, receive, send)
            return
        if reporter is None or candidate is None:
            await self.inner(scope, receive, send)
            return
        observed = False
        seen_origin = origin

        async def observing(message: Message) -> None:
            nonlocal observed
            if not observed and message["type"] == "http.response.start":
                observed = True
                try:
                    sent = Sent.from_raw(message["status"], message.get("headers", ()))
                    reporter.observe(method, path, seen_origin, candidate, sent, headers)
                except Exception:
                    self._once.failed()
            await send(message)

        await self.inner(scope, receive, observing)


# -- composition at construction -------------------------------------------------------

_LAYERED: dict[type, type] = {}
_LAYERED_LOCK: Final = threading.Lock()


def layered(cls: type) -> type:
    """The subclass of a middleware class whose ``__call__`` runs its layer (made once per class)."""
    with _LAYERED_LOCK:
        sub = _LAYERED.get(cls)
        if sub is not None:
            return sub
        if inspect.iscoroutinefunction(cls.__call__):

            async def acall(self: Any, scope: Scope, receive: Receive, send: Send) -> None:
                await self.layer(scope, receive, send)

            call: Callable[..., Any] = acall
        else:

            def call(self: Any, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
                result: Iterable[bytes] = self.layer(environ, start_response)
                return result

        call.__doc__ = "Run the report-only / decision-event layer around the middleware (see corsware._report)."
        namespace = {"__call__": call, "__module__": cls.__module__, "__qualname__": cls.__qualname__,
                     "__doc__": cls.__doc__, "_layered": True}  # fmt: skip
        sub = type(cls.__name__, (cls,), namespace)
        _LAYERED[cls] = sub
        return sub


def attach(
    middleware: MiddlewareBase,
    *,
    enforcing: bool,
    report_only: CORSPolicy | Mapping[str, Any] | None,
    on_decision: Callable[[Any], object] | None,
    on_decision_all: bool,
    max_report_origins: int = 1000,
) -> None:
    """Build the layers of a middleware created by :func:`layered`'s subclass.

    ``enforcing`` False (``report_only`` without ``policy=`` or policy keywords): the layer
    calls the app directly, so corsware changes nothing.
    """
    try:
        _attach(middleware, enforcing, report_only, on_decision, on_decision_all, max_report_origins)
    except (CORSConfigError, TypeError) as exc:
        log_build_failure(middleware, exc)
        raise


def _attach(
    middleware: MiddlewareBase,
    enforcing: bool,
    report_only: CORSPolicy | Mapping[str, Any] | None,
    on_decision: Callable[[Any], object] | None,
    on_decision_all: bool,
    max_report_origins: int,
) -> None:
    if not getattr(type(middleware), "_layered", False):
        raise TypeError(f"{type(middleware).__qualname__} was not built with its report-only layer")
    reporter = None if report_only is None else Reporter(report_only, max_origins=max_report_origins)
    if reporter is not None and middleware.sync_only and reporter.candidate.has_async_callback:
        raise TypeError(
            "the report_only policy's allow_origin_callback is async, which a WSGI server cannot await; "
            "pass a plain function, or use corsware.asgi.CORSMiddleware"
        )
    hook = None
    if on_decision is not None:
        if not enforcing:
            raise TypeError(
                "on_decision reports the decisions of the policy in force, and report_only without policy= "
                "enforces none: pass policy=, or read middleware.report.tally() and the corsware.report log"
            )
        hook = DecisionHook(on_decision, every=on_decision_all)
    elif on_decision_all:
        raise TypeError("on_decision_all=True needs on_decision=callable")
    base: Callable[..., Any] = super(type(middleware), middleware).__call__  # type: ignore[misc]
    app: Any = middleware.app  # type: ignore[attr-defined]
    inner = base if enforcing else app
    layer_type = ASGILayer if inspect.iscoroutinefunction(base) else WSGILayer
    middleware.report = reporter
    middleware.layer = layer_type(  # type: ignore[attr-defined]
        inner, reporter=reporter, hook=hook, policy=lambda: middleware.policy
    )
    middleware.enforcing = enforcing
