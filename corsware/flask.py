"""Flask integration: ``CORS(app)`` / ``CORS().init_app(app)`` and ``@cross_origin()``.

A drop-in for flask-cors's names (``from corsware.flask import CORS, cross_origin``). The
extension wraps ``app.wsgi_app``, so every response, including those of error handlers and
of unhandled exceptions, carries the CORS headers. The protocol itself is the core's: this
module only chooses which policy applies to a request.

Which policy applies is decided by Flask's own routing, never by a second lookup. A
``@cross_origin`` view's options apply to the requests Flask routes to that view; every
other request gets the app-wide policy. Routing the request a second time before Flask
does (as this module once did, with ``url_map.bind_to_environ``) disagrees with Flask
whenever Flask's adapter differs from a plain bind (``SERVER_NAME`` and host or subdomain
matching), runs URL converters twice and outside the app context (a converter using
``current_app`` or a database session crashed), and cannot see into an app mounted inside
another. So the wrapper works in one of two modes:

* **Plain** (no ``@cross_origin`` view exists in the process): the app-wide policy is the
  only one, and the wrapper is exactly :class:`corsware.wsgi.CORSMiddleware`; preflights
  are answered before Flask sees them.
* **Routed** (some ``@cross_origin`` view exists): the request enters Flask. A
  ``before_request`` hook registered first (``before_request_funcs[None][0]``) reads
  ``request.url_rule``, computed by Flask's own URL adapter inside the app context, and
  records the view's policy in the environ; a preflight is answered there (for the method in
  ``Access-Control-Request-Method``, re-matched with the same adapter when the OPTIONS rule
  does not serve it), so no view and no other ``before_request`` hook runs. The wrapper
  chooses the policy when the response starts: the recorded view policy, else the app-wide
  one (404, 405, redirects, or Flask failing before the hook). It answers every preflight
  with the core's answer for that policy and replaces whatever Flask produced for it.

The record (``environ["corsware.flask"]``, one ``_Routing`` object per request, shared by
any copy of the environ) is the innermost routing decision: a ``@cross_origin`` view of an
app mounted inside another (``DispatcherMiddleware``, or a view calling ``inner.wsgi_app``)
records its policy too, with or without its own extension, and every corsware wrapper
around it applies that policy instead of its app-wide one, as flask-cors does. The record
also lists the ``_State`` of every wrapper the request passed through, so a view knows
whether *its own* app's extension handles the request or whether it must answer by itself
(standalone mode); an outer app's extension does not count. (A boolean flag, as once used,
said neither which app set it nor which view was chosen.)

The preflight of a request that an *outer view* would pass to an inner app is answered by
the outer app (that view never runs for a preflight): mount inner apps with
``DispatcherMiddleware`` to have their preflights answered by their own views.

Options are flask-cors's (``origins``, ``supports_credentials``, ``resources``, ...; see
``docs/flask.md`` for the mapping), read from ``CORS_*`` config keys too, or a ready
:class:`~corsware.CORSPolicy` as ``policy=``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Final, TypeVar

from flask import Flask, Response, current_app, request
from flask.globals import request_ctx
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException

from ._decision import RequestKind
from ._flask_options import (
    FLASK_CORS_DEFAULTS,
    IGNORED_OPTIONS,
    KEYWORDS,
    options_from_config,
    policy_from_options,
)
from ._headers import STR_CODEC, merge_response_headers
from ._keywords import check_keywords
from ._policy import CORSPolicy
from .wsgi import CORSMiddleware

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from werkzeug.routing import Rule

__all__ = ["CORS", "cross_origin"]

F = TypeVar("F", bound=Callable[..., Any])

#: The attribute ``@cross_origin`` sets on a view: its options (or ``{"policy": ...}``).
_VIEW_OPTIONS: Final = "__corsware_options__"
#: In the WSGI environ (routed mode): the request's ``_Routing``.
_ENVIRON_KEY: Final = "corsware.flask"
#: In a wrapper's copy of the environ: what ``_replay`` must do (start or raise).
_PENDING: Final = "corsware.flask.pending"
_ACRM: Final = "HTTP_ACCESS_CONTROL_REQUEST_METHOD"


class _Mode:
    #: Set when a first view is decorated with ``@cross_origin``: from then on every wrapper
    #: lets Flask route (see the module docstring). Until then the wrapper is the plain middleware.
    routed = False


_MODE: Final = _Mode()


def _is_preflight_environ(environ: WSGIEnvironment) -> bool:
    # Fetch §"CORS-preflight request" (https://fetch.spec.whatwg.org/#cors-preflight-request):
    # OPTIONS with Origin and Access-Control-Request-Method, tested as corsware.wsgi does.
    return environ.get("REQUEST_METHOD") == "OPTIONS" and "HTTP_ORIGIN" in environ and _ACRM in environ


class _Routing:
    """What corsware knows of a request's routing, in ``environ["corsware.flask"]``.

    One object per request, created by the outermost wrapper: an app that hands a *copy* of
    the environ to an app it mounts still shares it, so the inner app's decision reaches the
    outer wrappers.
    """

    __slots__ = ("states", "view")

    def __init__(self) -> None:
        #: The ``_State`` of every extension whose wrapper the request passed through: a
        #: view's own app is in it (its extension applies the view's policy) or not.
        self.states: list[_State] = []
        #: The policy of the ``@cross_origin`` view Flask routed the request to; the
        #: innermost decision when apps are mounted inside one another.
        self.view: CORSPolicy | None = None


def _discard(data: bytes) -> None:
    """The ``write`` callable handed to an app whose preflight answer corsware replaces."""


class _Start:
    """Pending for ``_replay``: start the response the wrapped app started."""

    __slots__ = ("exc_info", "headers", "status", "write")

    def __init__(self, status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None) -> None:
        self.status = status
        self.headers = headers
        self.exc_info = exc_info
        self.write: Callable[[bytes], object] = _discard

    def __call__(self, start_response: StartResponse) -> Iterable[bytes]:
        if self.exc_info is None:
            self.write = start_response(self.status, self.headers)
        else:
            self.write = start_response(self.status, self.headers, self.exc_info)
        return ()


class _Raise:
    """Pending for ``_replay``: the wrapped app raised before starting its response."""

    __slots__ = ("exc",)

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def __call__(self, start_response: StartResponse) -> Iterable[bytes]:
        raise self.exc


def _replay(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """The app under the routed-mode middlewares: replays what the wrapped app already did,
    so that :class:`~corsware.wsgi.CORSMiddleware` merges the headers of the policy chosen
    after Flask routed the request (and answers 500 with them if the app raised)."""
    pending: _Start | _Raise = environ.pop(_PENDING)
    return pending(start_response)


class _State:
    """What ``init_app`` stores in ``app.extensions["corsware"]``."""

    def __init__(self, app: Flask, inner: WSGIApplication, policy: CORSPolicy) -> None:
        self.app = app
        self.inner = inner
        #: Plain mode: the whole wrapper.
        self.middleware = CORSMiddleware(inner, policy)
        #: Routed mode, app-wide policy.
        self.routed = CORSMiddleware(_replay, policy)
        self._views: dict[int, CORSMiddleware] = {}
        self._decorated_count = -1
        self._decorated: frozenset[str] = frozenset()

    @property
    def policy(self) -> CORSPolicy:
        """The app-wide policy; assign a new one to swap it atomically."""
        return self.middleware.policy

    @policy.setter
    def policy(self, policy: CORSPolicy) -> None:
        self.middleware.policy = policy
        self.routed.policy = policy

    def decorated_endpoints(self) -> frozenset[str]:
        views = self.app.view_functions
        if len(views) != self._decorated_count:  # views may be added after init_app
            self._decorated = frozenset(name for name, view in views.items() if hasattr(view, _VIEW_OPTIONS))
            self._decorated_count = len(views)
        return self._decorated

    def middleware_for(self, policy: CORSPolicy | None) -> CORSMiddleware:
        """The routed-mode middleware of a view policy (``None``: the app-wide policy)."""
        if policy is None:
            return self.routed
        mw = self._views.get(id(policy))  # the middleware holds the policy: its id stays its own
        if mw is None:
            mw = self._views.setdefault(id(policy), CORSMiddleware(_replay, policy))
        return mw

    def before_request(self) -> Response | None:
        """The extension's first ``before_request`` function: record the policy of the view
        Flask routed the request to, and answer preflights (no view runs for them)."""
        environ = request.environ
        routing = environ.get(_ENVIRON_KEY)
        if not isinstance(routing, _Routing) or self not in routing.states:
            return None  # plain mode, or Flask called without this extension's wrapper
        preflight = _is_preflight_environ(environ)
        rule = request.url_rule  # Flask's own adapter: SERVER_NAME, host/subdomain matching
        if preflight:
            # The preflight asks about the method in Access-Control-Request-Method: the view
            # that would serve that method is the one whose options answer it.
            method = environ[_ACRM]
            if rule is None or (rule.methods is not None and method not in rule.methods):
                rule = _rule_serving(method)
        if rule is not None:
            options = getattr(self.app.view_functions.get(rule.endpoint), _VIEW_OPTIONS, None)
            if options is not None:
                routing.view = view_policy(self.app, options)
        if not preflight:
            return None
        # Ends Flask's handling; the wrapper then sends the same answer, replacing whatever
        # after_request functions made of this response.
        return _preflight_response(self.app, self.middleware_for(routing.view), environ)


def _rule_serving(method: str) -> Rule | None:
    """The rule Flask would route this request to with ``method``, by Flask's own adapter."""
    adapter = request_ctx.url_adapter
    if adapter is None:
        return None
    try:
        rule, _ = adapter.match(method=method, return_rule=True)
    except HTTPException:  # not found, method not allowed, redirect: the app-wide policy
        return None
    return rule


def _preflight_response(app: Flask, mw: CORSMiddleware, environ: WSGIEnvironment) -> Response:
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def capture(status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None) -> Any:
        started.append((status, headers))
        return _discard

    mw(environ, capture)  # a preflight: answered by the middleware itself, never replayed
    status, headers = started[0]
    return app.response_class(status=status, headers=headers)


class _Dispatch:
    """The WSGI callable installed as ``app.wsgi_app``."""

    def __init__(self, state: _State) -> None:
        self.state = state

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not _MODE.routed:
            return self.state.middleware(environ, start_response)
        return self._route(environ, start_response)

    def _route(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        state = self.state
        # corsware decides on the request as it reached this wrapper: a dispatcher below may
        # rewrite PATH_INFO for the app it mounts.
        entry = dict(environ)
        routing = environ.get(_ENVIRON_KEY)
        if not isinstance(routing, _Routing):
            routing = environ[_ENVIRON_KEY] = _Routing()
        routing.states.append(state)
        if _is_preflight_environ(entry):
            return self._preflight(routing, environ, entry, start_response)
        started = False

        def routed_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
        ) -> Callable[[bytes], object]:
            nonlocal started
            started = True
            # Flask has routed the request by now: the recorded view's policy, or the app's.
            pending = _Start(status, headers, exc_info)
            entry[_PENDING] = pending
            state.middleware_for(routing.view)(entry, start_response)
            return pending.write

        try:
            body = state.inner(environ, routed_start_response)
        except Exception as exc:
            if started:
                raise
            return self._failed(routing, entry, start_response, exc)
        if started:
            return body
        return _LazyBody(body, lambda: started, lambda exc: self._failed(routing, entry, start_response, exc))

    def _failed(
        self, routing: _Routing, entry: WSGIEnvironment, start_response: StartResponse, exc: Exception
    ) -> Iterable[bytes]:
        """The app raised before starting its response: 500 with the chosen policy's headers,
        then the exception re-raised for the server to log (as corsware.wsgi does)."""
        entry[_PENDING] = _Raise(exc)
        return self.state.middleware_for(routing.view)(entry, start_response)

    def _preflight(
        self, routing: _Routing, environ: WSGIEnvironment, entry: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """Let Flask route the preflight (the hook records the view), then answer it here.

        The core's answer replaces whatever the app produced (Fetch §"CORS-preflight fetch":
        the preflight is the CORS protocol's own request, not the resource's).
        """
        started: list[str] = []  # (a list: appended to by the closure below)

        def discard_start(status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None) -> Any:
            started.append(status)
            return _discard

        error: Exception | None = None
        try:
            body = self.state.inner(environ, discard_start)
            try:
                if not started:  # an app that starts while iterated: run it until it starts
                    for _ in body:
                        if started:
                            break
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
        except Exception as exc:
            error = exc
        answer = self.state.middleware_for(routing.view)(entry, start_response)
        return answer if error is None else _then_raise(answer, error)


def _then_raise(body: Iterable[bytes], exc: Exception) -> Iterator[bytes]:
    """Send the answer, then re-raise the app's error for the server to log."""
    yield from body
    raise exc


class _LazyBody:
    """The body of an app that starts its response only while it is iterated."""

    __slots__ = ("_body", "_failed", "_started")

    def __init__(
        self, body: Iterable[bytes], started: Callable[[], bool], failed: Callable[[Exception], Iterable[bytes]]
    ) -> None:
        self._body = body
        self._started = started
        self._failed = failed

    def __iter__(self) -> Iterator[bytes]:
        iterator = iter(self._body)
        try:
            first = next(iterator)
        except StopIteration:
            return
        except Exception as exc:
            if self._started():
                raise
            yield from self._failed(exc)
            return
        yield first
        yield from iterator

    def close(self) -> None:
        # PEP 3333: the server calls close() on what we return; it must reach the app's.
        close = getattr(self._body, "close", None)
        if close is not None:
            close()


class CORS:
    """The Flask extension: ``CORS(app, **options)`` or ``cors = CORS(); cors.init_app(app)``.

    ``options`` are flask-cors's (``resources``, ``origins``, ``methods``,
    ``allow_headers``, ``expose_headers``, ``supports_credentials``, ``max_age``,
    ``send_wildcard``, ``vary_header``, ``automatic_options``, ``always_send``,
    ``allow_private_network``, ``intercept_exceptions``) and may add ``CORSPolicy``
    keywords; or pass ``policy=CORSPolicy(...)``. Precedence as in flask-cors: defaults <
    ``CORS_*`` config < constructor options < ``init_app`` options. Invalid options raise
    :class:`~corsware.CORSConfigError` from ``init_app``, at start-up.

    The extension object keeps no reference to the app; the state lives in
    ``app.extensions["corsware"]`` (``.policy`` can be reassigned at run time).
    """

    @check_keywords("a flask-cors or corsware", KEYWORDS)
    def __init__(self, app: Flask | None = None, *, policy: CORSPolicy | None = None, **options: Any) -> None:
        if policy is not None and options:
            raise TypeError("pass either policy= or flask-cors options, not both")
        self._policy = policy
        self._options = options
        if app is not None:
            self.init_app(app)

    @check_keywords("a flask-cors or corsware", KEYWORDS)
    def init_app(self, app: Flask, **options: Any) -> None:
        """Install CORS on ``app`` (once per app)."""
        if "corsware" in app.extensions:
            raise RuntimeError("corsware.flask.CORS is already installed on this app")
        if self._policy is not None:
            if options:
                raise TypeError("this CORS() was given policy=; init_app cannot add options")
            policy = self._policy
        else:
            policy = policy_from_options({**options_from_config(app.config), **self._options, **options})
        state = _State(app, app.wsgi_app, policy)
        app.extensions["corsware"] = state
        # Build the policies of views decorated so far now, so their errors show at start-up.
        for endpoint in state.decorated_endpoints():
            view_policy(app, getattr(app.view_functions[endpoint], _VIEW_OPTIONS))
        # First of the app's before_request functions: it answers preflights before the others.
        app.before_request_funcs.setdefault(None, []).insert(0, state.before_request)
        app.wsgi_app = _Dispatch(state)  # type: ignore[method-assign]


def view_policy(app: Flask, options: dict[str, Any]) -> CORSPolicy:
    """The policy of a ``@cross_origin`` view in ``app``: flask-cors's defaults, then the
    app's ``CORS_*`` config, then the decorator's options (cached per app)."""
    cache: dict[int, CORSPolicy] = app.extensions.setdefault("corsware.views", {})
    policy = cache.get(id(options))
    if policy is None:
        if "policy" in options:
            policy = options["policy"]
        else:
            config = {k: v for k, v in options_from_config(app.config).items() if k != "resources"}
            policy = policy_from_options({**config, **options, "resources": FLASK_CORS_DEFAULTS["resources"]})
        cache[id(options)] = policy
    return policy


@check_keywords("a flask-cors or corsware", KEYWORDS)
def cross_origin(*, policy: CORSPolicy | None = None, **options: Any) -> Callable[[F], F]:
    """Give one view its own CORS options (flask-cors's names), or ``policy=``.

    Put it below ``@app.route``. With the extension installed the options are applied by
    its wrapper to the requests Flask routes to the view (preflights never reach the view;
    error responses carry the headers). Without it the view answers preflights itself and
    adds the headers to its own and its error handlers' responses (unhandled exceptions
    need the extension: ``CORS(app, resources={})`` installs it without any app-wide CORS);
    an outer app's extension wrapping this app applies the view's options too.
    """
    if policy is not None and options:
        raise TypeError("pass either policy= or flask-cors options, not both")
    if "resources" in options:
        raise TypeError("cross_origin() applies to its view; 'resources' belongs to CORS(app)")
    # Options flask-cors ignores (headers=) are warned about once, here, and not kept.
    kept = {k: v for k, v in options.items() if k not in IGNORED_OPTIONS}
    stored: dict[str, Any] = {"policy": policy} if policy is not None else kept
    if policy is None:
        # Validate now, at import time; the app's CORS_* config is merged in at first use.
        policy_from_options({**options, "resources": FLASK_CORS_DEFAULTS["resources"]})

    def decorator(view: F) -> F:
        _MODE.routed = True  # from now on the extension's wrappers let Flask route each request

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if request.method == "OPTIONS" and not _is_preflight():
                # As flask-cors: ordinary OPTIONS requests get Flask's default answer.
                return current_app.make_default_options_response()
            routing = request.environ.get(_ENVIRON_KEY)
            if isinstance(routing, _Routing) and current_app.extensions.get("corsware") in routing.states:
                # This app's own extension recorded the view's policy and applies it. (An
                # outer app's extension does not count: the view answers by itself.)
                return current_app.ensure_sync(view)(*args, **kwargs)
            return _standalone(view, args, kwargs, stored)

        setattr(wrapper, _VIEW_OPTIONS, stored)
        # Let OPTIONS reach the wrapper (Flask would otherwise answer it without the view).
        wrapper.provide_automatic_options = False  # type: ignore[attr-defined]
        wrapper.required_methods = {"OPTIONS"}  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def _is_preflight() -> bool:
    return "Origin" in request.headers and "Access-Control-Request-Method" in request.headers


def _standalone(view: Callable[..., Any], args: Any, kwargs: Any, options: dict[str, Any]) -> Response:
    """``@cross_origin`` without the extension: the core decides, the view's response is patched."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    policy = view_policy(app, options)
    routing = request.environ.get(_ENVIRON_KEY)
    if isinstance(routing, _Routing):  # wrappers around this app (an outer app's extension)
        routing.view = policy  # apply the view's policy too
    decision = policy.evaluate(request.method, request.path, list(request.headers.items()))
    if decision.kind is RequestKind.PREFLIGHT:
        # Answered here, never passed to the view (Fetch §"CORS-preflight fetch").
        return app.response_class(status=decision.status, headers=list(decision.headers))
    try:
        response = app.make_response(app.ensure_sync(view)(*args, **kwargs))
    except Exception as exc:  # the app's error handlers; an unhandled error propagates
        response = app.make_response(app.handle_user_exception(exc))
    cors = [(k, v) for k, v in decision.headers if k.lower() != "vary"]
    vary = tuple(t.strip() for k, v in decision.headers if k.lower() == "vary" for t in v.split(","))
    response.headers = Headers(merge_response_headers(response.headers.items(), cors, vary, STR_CODEC))
    return response
