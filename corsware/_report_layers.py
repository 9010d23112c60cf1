"""The report-only and decision-event layers around a WSGI or ASGI app (see ``corsware._report``).

They are composed when a middleware is built, never per request: ``CORSMiddleware(app,
report_only=..., on_decision=...)`` is created as a subclass whose ``__call__`` runs
:class:`WSGILayer` / :class:`ASGILayer` around the middleware's own ``__call__`` (enforcing)
or around the app (report-only without a policy: everything passes untouched). A middleware
built without those keywords is the plain class, and pays nothing.

The layers decide through the core's request-time API, as the adapters do
(``classify``, ``Plan.for_origin`` / ``for_preflight`` and their ``*_decided`` forms after
the origin callback): the candidate's answer to a request is the cached one, and what the
response carried is compared with it (its ``Access-Control-Allow-Origin`` and
``-Credentials``) as the client gets it, whoever produced it. A request without ``Origin``
costs one header lookup; a record is built only when the answers differ.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

from ._decision import NEEDS_CALLBACK, NeedsCallback, Plan, RequestKind, async_verdict, classify, sync_verdict
from ._errors import CORSConfigError
from ._log import log_build_failure, logger
from ._paths import asgi_route_path, wsgi_route_path
from ._policy import CORSPolicy
from ._report import Answer, DecisionHook, Reporter, Sent

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from ._middleware import MiddlewareBase
    from .asgi import Message, Receive, Scope, Send

__all__ = [
    "ASGILayer",
    "Once",
    "WSGILayer",
    "ask",
    "attach",
    "decide",
    "decided",
    "layered",
    "raw_cors",
    "route",
    "text_cors",
]

_T = TypeVar("_T")
_PREFLIGHT: Final = RequestKind.PREFLIGHT
_OPTIONS: Final = "OPTIONS"
#: Lengths of the two response header names compared (a cheap test before ``lower()``).
_ACAO_LEN: Final = len("access-control-allow-origin")
_ACAC_LEN: Final = len("access-control-allow-credentials")


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


# -- the request-time API, as the adapters call it --------------------------------------


def route(policy: CORSPolicy, route_path: Callable[[_T], str], request: _T) -> tuple[str | None, Plan]:
    """The path rule (its text, None at the top level) and plan of ``policy`` for a request
    (``route_path(request)`` is its route path, computed only under per-path rules)."""
    if policy.has_paths:
        return policy.route(route_path(request))
    return None, policy.plan


def ask(
    plan: Plan, kind: RequestKind, origin: str, acrm: str, acrh: str, pna: bool, path: str
) -> Answer | Literal[NeedsCallback.NEEDS_CALLBACK]:
    """The plan's answer to a CORS request (``kind`` is not ``NOT_CORS``), or
    :data:`~corsware._decision.NEEDS_CALLBACK`; never in debug mode (``evaluate`` neither)."""
    if kind is _PREFLIGHT:
        return plan.for_preflight(origin, acrm, acrh, pna, False, path)
    return plan.for_origin(origin, path)


def decided(
    plan: Plan, kind: RequestKind, allowed: bool, origin: str, acrm: str, acrh: str, pna: bool, path: str
) -> Answer:
    """The answer once the origin callback said ``allowed``."""
    if kind is _PREFLIGHT:
        return plan.for_preflight_decided(origin, allowed, acrm, acrh, pna, False, path)
    return plan.for_origin_decided(origin, allowed, path)


def decide(plan: Plan, kind: RequestKind, origin: str, acrm: str, acrh: str, pna: bool, path: str) -> Answer:
    """:func:`ask`, calling a (sync) origin callback when the plan needs it, as the WSGI adapter does."""
    answer = ask(plan, kind, origin, acrm, acrh, pna, path)
    if answer is NEEDS_CALLBACK:
        return decided(plan, kind, sync_verdict(plan.origin_callback(origin)), origin, acrm, acrh, pna, path)
    return answer


def text_cors(headers: Iterable[tuple[str, str]]) -> tuple[str | None, bool]:
    """A WSGI response's ``Access-Control-Allow-Origin`` (repeated ones joined, None when
    absent) and whether ``Access-Control-Allow-Credentials`` is ``true``."""
    acao: str | None = None
    acac = False
    for name, value in headers:
        size = len(name)
        if size == _ACAO_LEN:
            if name.lower() == "access-control-allow-origin":
                acao = value if acao is None else f"{acao}, {value}"
        elif size == _ACAC_LEN and name.lower() == "access-control-allow-credentials":
            acac = value.strip() == "true"
    return acao, acac


def raw_cors(headers: Iterable[tuple[bytes, bytes]]) -> tuple[str | None, bool]:
    """:func:`text_cors` for an ASGI ``http.response.start``'s headers."""
    acao: str | None = None
    acac = False
    for name, value in headers:
        size = len(name)
        if size == _ACAO_LEN:
            if name.lower() == b"access-control-allow-origin":
                text = value.decode("latin-1")
                acao = text if acao is None else f"{acao}, {text}"
        elif size == _ACAC_LEN and name.lower() == b"access-control-allow-credentials":
            acac = value.strip() == b"true"
    return acao, acac


def status_code(status_line: str) -> int:
    """The code of a WSGI status line (``"204 No Content"``); 0 when it has none."""
    try:
        return int(status_line[:3])
    except ValueError:
        return 0


class _Layer:
    """What both layers hold: the app they wrap, the reporter, the decision hook and the
    enforced policy it reads; ``__call__`` is the WSGI or ASGI runner."""

    def __init__(
        self,
        inner: Any,
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
        self.failures = Once("report-only layer")
        self.layer = self  # what the runner reads from its owner


def run_wsgi_layer(owner: Any, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """The WSGI layer's request handling; ``owner.layer`` is the :class:`WSGILayer` (the
    layer itself, or the middleware whose ``__call__`` this is: one call per request)."""
    layer: WSGILayer = owner.layer
    origin = environ.get("HTTP_ORIGIN")
    if origin is None:  # not a CORS request (Fetch §"CORS protocol"): nothing to report
        return layer.inner(environ, start_response)
    reporter = layer.reporter
    try:
        method: str = environ.get("REQUEST_METHOD", "GET")
        acrm: str | None = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
        kind = classify(method, origin, acrm)
        path_info: str = environ.get("PATH_INFO", "")
        acrh: str | None = None
        pna = False
        if kind is _PREFLIGHT:
            acrh = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
            pna = environ.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK") == "true"
        hook = layer.hook
        if hook is not None and layer.policy is not None:
            path_rule, plan = route(layer.policy(), wsgi_route_path, path_info)
            decision = decide(plan, kind, origin, acrm or "", acrh or "", pna, path_info)
            if hook.wants(decision):
                hook.emit(kind, method, wsgi_route_path(path_info), origin, decision, path_rule)
        candidate: Answer | None = None
        if reporter is not None:
            # route() and decide() inlined: this runs on every CORS request. The hook's and
            # the candidate's decisions are run_asgi_layer's again, on purpose: there the origin
            # callback is awaited, which a shared function could not do without a call or a
            # coroutine per request. tests/report/test_report_only.py runs both layers on one
            # table (test_report_only_decides_as_evaluate_without_calling_it, test_on_decision_events).
            policy = reporter.candidate
            if policy.has_paths:
                path_rule, plan = policy.route(wsgi_route_path(path_info))
            else:
                path_rule, plan = None, policy.plan
            found: Answer | Literal[NeedsCallback.NEEDS_CALLBACK]
            if kind is _PREFLIGHT:
                found = plan.for_preflight(origin, acrm or "", acrh or "", pna, False, path_info)
            else:
                found = plan.for_origin(origin, path_info)
            if found is NEEDS_CALLBACK:
                verdict = sync_verdict(plan.origin_callback(origin))
                found = decided(plan, kind, verdict, origin, acrm or "", acrh or "", pna, path_info)
            candidate = found
    except Exception:
        layer.failures.failed()
        return layer.inner(environ, start_response)
    if reporter is None or candidate is None:
        return layer.inner(environ, start_response)
    observed = False

    def observing(status: str, response_headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None) -> Any:
        nonlocal observed
        if not observed:
            observed = True
            try:
                acao, acac = text_cors(response_headers)
                code = status_code(status) if kind is _PREFLIGHT else None
                level = reporter.compare(kind, origin, candidate, path_rule, code, acao, acac)
                if level:
                    sent = Sent(status_code(status), acao, acac)
                    reporter.record(level, kind, method, wsgi_route_path(path_info), origin, candidate,
                                    path_rule, sent, acrm, acrh)  # fmt: skip
            except Exception:
                layer.failures.failed()
        if exc_info is None:
            return start_response(status, response_headers)
        return start_response(status, response_headers, exc_info)

    return layer.inner(environ, observing)


class WSGILayer(_Layer):
    """Reports (``reporter``) and emits decision events (``hook``, on the decisions of
    ``policy()``) around ``inner``, a WSGI app; never changes what ``inner`` answers."""

    inner: WSGIApplication
    __call__ = run_wsgi_layer


async def run_asgi_layer(owner: Any, scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI layer's request handling; ``owner.layer`` is the :class:`ASGILayer` (the
    layer itself, or the middleware whose ``__call__`` this is: one coroutine per request,
    not two)."""
    layer: ASGILayer = owner.layer
    if scope["type"] != "http":
        await layer.inner(scope, receive, send)
        return
    method: str = scope["method"]
    raw: bytes | None = None
    raw_acrm: bytes | None = None
    raw_acrh = b""
    pna = False
    # The same scan as corsware.asgi.CORSMiddleware.__call__'s, on purpose: sharing a function
    # would cost the adapter a call on every request. tests/report/test_report_only.py
    # ``test_the_asgi_report_layer_reads_the_request_as_the_adapter_does`` keeps them reading
    # repeated and preflight headers alike.
    if method != _OPTIONS:
        # Only a preflight needs more than Origin: one name compared per header.
        for name, value in scope["headers"]:
            if name == b"origin":
                raw = value if raw is None else raw + b", " + value
    else:
        for name, value in scope["headers"]:
            if name == b"origin":
                raw = value if raw is None else raw + b", " + value
            elif name == b"access-control-request-method":
                raw_acrm = value if raw_acrm is None else raw_acrm + b"," + value
            elif name == b"access-control-request-headers":
                raw_acrh = value if not raw_acrh else raw_acrh + b"," + value
            elif name == b"access-control-request-private-network":
                pna = value == b"true"
    if raw is None:  # not a CORS request: nothing to report
        await layer.inner(scope, receive, send)
        return
    reporter = layer.reporter
    try:
        origin = raw.decode("latin-1")
        kind = classify(method, origin, raw_acrm)
        acrm = None if raw_acrm is None else raw_acrm.decode("latin-1")
        acrh = raw_acrh.decode("latin-1") if raw_acrh else None
        values = (origin, acrm or "", acrh or "", pna, scope["path"])
        hook = layer.hook
        if hook is not None and layer.policy is not None:
            path_rule, plan = route(layer.policy(), asgi_route_path, scope)
            decision = ask(plan, kind, *values)
            if decision is NEEDS_CALLBACK:
                verdict = await async_verdict(plan.origin_callback(origin))
                decision = decided(plan, kind, verdict, *values)
            if hook.wants(decision):
                hook.emit(kind, method, asgi_route_path(scope), origin, decision, path_rule)
        candidate: Answer | None = None
        if reporter is not None:
            # route() inlined: this runs on every CORS request. The hook's and the candidate's
            # decisions are run_wsgi_layer's again, on purpose: here the origin callback is
            # awaited, which a shared function could not do without a call or a coroutine per
            # request. tests/report/test_report_only.py runs both layers on one table
            # (test_report_only_decides_as_evaluate_without_calling_it, test_on_decision_events).
            policy = reporter.candidate
            if policy.has_paths:
                path_rule, plan = policy.route(asgi_route_path(scope))
            else:
                path_rule, plan = None, policy.plan
            found = ask(plan, kind, *values)
            if found is NEEDS_CALLBACK:
                verdict = await async_verdict(plan.origin_callback(origin))
                found = decided(plan, kind, verdict, *values)
            candidate = found
    except Exception:
        layer.failures.failed()
        await layer.inner(scope, receive, send)
        return
    if reporter is None or candidate is None:
        await layer.inner(scope, receive, send)
        return
    observed = False
    answer = candidate

    # A plain function returning ``send(message)``'s awaitable, which the app awaits:
    # no coroutine of its own per message.
    def observing(message: Message) -> Awaitable[None]:
        nonlocal observed
        if not observed and message["type"] == "http.response.start":
            observed = True
            try:
                acao, acac = raw_cors(message.get("headers", ()))
                status: int = message["status"]
                level = reporter.compare(kind, origin, answer, path_rule, status, acao, acac)
                if level:
                    reporter.record(level, kind, method, asgi_route_path(scope), origin, answer, path_rule,
                                    Sent(status, acao, acac), acrm, acrh)  # fmt: skip
            except Exception:
                layer.failures.failed()
        return send(message)

    await layer.inner(scope, receive, observing)


class ASGILayer(_Layer):
    """The ASGI twin of :class:`WSGILayer` (async origin callbacks are awaited)."""

    inner: Callable[[Scope, Receive, Send], Any]
    __call__ = run_asgi_layer


# -- composition at construction -------------------------------------------------------

_LAYERED: dict[type, type] = {}
_LAYERED_LOCK: Final = threading.Lock()


def layered(cls: type) -> type:
    """The subclass of a middleware class whose ``__call__`` runs its layer (made once per class)."""
    with _LAYERED_LOCK:
        sub = _LAYERED.get(cls)
        if sub is not None:
            return sub
        # The layer's own request function, taking the middleware as its owner (it reads
        # ``owner.layer``): no call between the server and the layer.
        call: Callable[..., Any] = run_asgi_layer if inspect.iscoroutinefunction(cls.__call__) else run_wsgi_layer
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
    app: Any = middleware.app
    inner = base if enforcing else app
    layer_type = ASGILayer if inspect.iscoroutinefunction(base) else WSGILayer
    middleware.report = reporter
    middleware.layer = layer_type(  # type: ignore[attr-defined]
        inner, reporter=reporter, hook=hook, policy=lambda: middleware.policy
    )
    middleware.enforcing = enforcing
