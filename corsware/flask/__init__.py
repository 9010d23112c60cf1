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

**Blueprints** (``CORS(bp)``, as flask-cors): the blueprint's policy is kept in a registry
and applies to the requests Flask routes to the blueprint's views (``request.blueprints``,
computed from the routed rule), innermost blueprint first; a ``@cross_origin`` view's
options win over it, and it wins over the app-wide policy. Each registration of the
blueprint installs the wrapper on its app, without app-wide CORS (``policy`` ``None``:
other requests pass untouched) unless ``CORS(app)`` adds it, before or after. A blueprint
registered *before* ``CORS(bp)`` cannot be followed to its apps (Flask keeps no list):
an app with corsware finds the policy at request time; in one without, a request routed
to the blueprint fails with a message saying what to write.

Options are flask-cors's (``origins``, ``supports_credentials``, ``resources``, ...; see
``docs/flask.md`` for the mapping), read from ``CORS_*`` config keys too, or a ready
:class:`~corsware.CORSPolicy` as ``policy=``.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeVar

from flask import Blueprint, Flask, Response, current_app, request
from flask.globals import request_ctx
from flask.signals import request_started
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException

from .._decision import RequestKind, classify
from .._headers import STR_CODEC, merge_response_headers
from .._keywords import check_keywords
from .._policy import CORSPolicy
from .._report import Reporter, candidate_policy
from .._report_layers import WSGILayer
from ..wsgi import CORSMiddleware, GuardedBody
from ._options import (
    CONFIG_KEYS,
    FLASK_CORS_DEFAULTS,
    IGNORED_OPTIONS,
    KEYWORDS,
    options_from_config,
    policy_from_options,
)

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from flask.sansio.blueprints import BlueprintSetupState
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
    #: Set when a first view is decorated with ``@cross_origin`` or a first blueprint gets
    #: ``CORS(blueprint)``: from then on every wrapper lets Flask route (see the module
    #: docstring). Until then the wrapper is the plain middleware.
    routed = False


_MODE: Final = _Mode()

#: The policy of every blueprint given ``CORS(blueprint)``. Looked up at request time through
#: ``app.blueprints``, so it holds whenever the blueprint was registered.
_BLUEPRINTS: Final[weakref.WeakKeyDictionary[object, CORSPolicy]] = weakref.WeakKeyDictionary()


def _is_preflight_environ(environ: WSGIEnvironment) -> bool:
    kind = classify(environ.get("REQUEST_METHOD"), environ.get("HTTP_ORIGIN"), environ.get(_ACRM))
    return kind is RequestKind.PREFLIGHT


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
    """What corsware stores in ``app.extensions["corsware"]``.

    Created by ``CORS(app)``, or by the registration of a blueprint given ``CORS(blueprint)``
    on an app without the extension: then ``policy`` is ``None`` (no app-wide CORS) and
    requests routed to no CORS blueprint pass through untouched, as with flask-cors.
    """

    def __init__(self, app: Flask, inner: WSGIApplication, policy: CORSPolicy | None) -> None:
        self.app = app
        self.inner = inner
        #: Whether ``CORS(app)`` / ``init_app(app)`` installed it (a second one is an error).
        self.app_wide = policy is not None
        #: Plain mode: the whole wrapper (``None``: no app-wide CORS).
        self.middleware: CORSMiddleware | None = None
        #: Routed mode, app-wide policy (``None``: no app-wide CORS).
        self.routed: CORSMiddleware | None = None
        if policy is not None:
            self.policy = policy
        self._views: dict[int, CORSMiddleware] = {}
        self._decorated_count = -1
        self._decorated: frozenset[str] = frozenset()

    @property
    def policy(self) -> CORSPolicy | None:
        """The app-wide policy (``None``: none); assign a new one to swap it atomically."""
        return None if self.middleware is None else self.middleware.policy

    @policy.setter
    def policy(self, policy: CORSPolicy) -> None:
        if self.middleware is None or self.routed is None:
            # Before any request, or when CORS(app) follows a blueprint's registration.
            self.middleware = CORSMiddleware(self.inner, policy)
            self.routed = CORSMiddleware(_replay, policy)
        else:
            self.middleware.policy = policy
            self.routed.policy = policy

    def decorated_endpoints(self) -> frozenset[str]:
        views = self.app.view_functions
        if len(views) != self._decorated_count:  # views may be added after init_app
            self._decorated = frozenset(name for name, view in views.items() if hasattr(view, _VIEW_OPTIONS))
            self._decorated_count = len(views)
        return self._decorated

    def middleware_for(self, policy: CORSPolicy | None) -> CORSMiddleware | None:
        """The routed-mode middleware of a routed policy (``None``: the app-wide one, which
        is ``None`` itself when the app has no app-wide CORS)."""
        if policy is None:
            return self.routed
        mw = self._views.get(id(policy))  # the middleware holds the policy: its id stays its own
        if mw is None:
            mw = self._views.setdefault(id(policy), CORSMiddleware(_replay, policy))
        return mw

    def policy_of_rule(self, rule: Rule) -> CORSPolicy | None:
        """The policy of the view a rule routes to: its ``@cross_origin`` options, else the
        ``CORS(blueprint)`` of its innermost blueprint that has one, else ``None``."""
        options = getattr(self.app.view_functions.get(rule.endpoint), _VIEW_OPTIONS, None)
        if options is not None:
            return view_policy(self.app, options)
        return blueprint_policy(self.app, rule.endpoint)

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
            policy = self.policy_of_rule(rule)
            if policy is not None:
                routing.view = policy
        if not preflight:
            return None
        mw = self.middleware_for(routing.view)
        if mw is None:
            return None  # no CORS for this request (blueprint-only CORS): Flask answers it
        # Ends Flask's handling; the wrapper then sends the same answer, replacing whatever
        # after_request functions made of this response.
        return _preflight_response(self.app, mw, environ)


def _blueprint_names(endpoint: str) -> Iterator[str]:
    """The registered names of an endpoint's blueprints, innermost first (as Flask's
    ``request.blueprints``): ``"a.b.view"`` gives ``"a.b"``, then ``"a"``."""
    name = endpoint.rpartition(".")[0]
    while name:
        yield name
        name = name.rpartition(".")[0]


def blueprint_policy(app: Flask, endpoint: str) -> CORSPolicy | None:
    """The ``CORS(blueprint)`` policy of an endpoint's innermost blueprint that has one."""
    for name in _blueprint_names(endpoint):
        blueprint = app.blueprints.get(name)
        policy = None if blueprint is None else _BLUEPRINTS.get(blueprint)
        if policy is not None:
            return policy
    return None


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
        middleware = self.state.middleware
        if not _MODE.routed and middleware is not None:
            return middleware(environ, start_response)
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
            mw = state.middleware_for(routing.view)
            if mw is None:  # no CORS for this request: untouched
                return _start(start_response, status, headers, exc_info)
            pending = _Start(status, headers, exc_info)
            entry[_PENDING] = pending
            mw(entry, start_response)
            return pending.write

        try:
            body = state.inner(environ, routed_start_response)
        except Exception as exc:
            if started:
                raise
            return self._failed(routing, entry, start_response, exc)
        if started:
            return body
        return GuardedBody(body, lambda: started, lambda exc: self._failed(routing, entry, start_response, exc))

    def _failed(
        self, routing: _Routing, entry: WSGIEnvironment, start_response: StartResponse, exc: Exception
    ) -> Iterable[bytes]:
        """The app raised before starting its response: 500 with the chosen policy's headers,
        then the exception re-raised for the server to log (as corsware.wsgi does)."""
        mw = self.state.middleware_for(routing.view)
        if mw is None:  # no CORS for this request: as if corsware were not there
            raise exc
        entry[_PENDING] = _Raise(exc)
        return mw(entry, start_response)

    def _preflight(
        self, routing: _Routing, environ: WSGIEnvironment, entry: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """Let Flask route the preflight (the hook records the view), then answer it here.

        The core's answer replaces whatever the app produced (Fetch §"CORS-preflight fetch":
        the preflight is the CORS protocol's own request, not the resource's).
        """
        state = self.state
        started: list[str] = []  # (a list: appended to by the closure below)
        passed: list[Callable[[bytes], object]] = []

        def preflight_start(status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None) -> Any:
            started.append(status)
            if state.middleware_for(routing.view) is None:
                # No CORS for this request (blueprint-only CORS): Flask's answer, untouched.
                write = _start(start_response, status, headers, exc_info)
                passed.append(write)
                return write
            return _discard

        error: Exception | None = None
        head: list[bytes] = []
        try:
            body = state.inner(environ, preflight_start)
            iterator = iter(body)
            try:
                if not started:  # an app that starts while iterated: run it until it starts
                    for chunk in iterator:
                        head.append(chunk)
                        if started:
                            break
            finally:
                if not passed:
                    close = getattr(body, "close", None)
                    if close is not None:
                        close()
        except Exception as exc:
            if passed:
                raise
            error = exc
        if passed:
            return _Passed(head, iterator, body)
        mw = state.middleware_for(routing.view)
        if mw is None:  # the app failed before starting, and no CORS applies: as without corsware
            raise error if error is not None else RuntimeError("the WSGI app returned without starting a response")
        answer = mw(entry, start_response)
        return answer if error is None else _then_raise(answer, error)


class _Passed:
    """The body of a response passed through untouched, its first chunks already read."""

    __slots__ = ("_body", "_head", "_iterator")

    def __init__(self, head: list[bytes], iterator: Iterator[bytes], body: Iterable[bytes]) -> None:
        self._head = head
        self._iterator = iterator
        self._body = body

    def __iter__(self) -> Iterator[bytes]:
        yield from self._head
        yield from self._iterator

    def close(self) -> None:
        close = getattr(self._body, "close", None)  # PEP 3333: close() reaches the app's
        if close is not None:
            close()


def _start(
    start_response: StartResponse, status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None
) -> Callable[[bytes], object]:
    if exc_info is None:
        return start_response(status, headers)
    return start_response(status, headers, exc_info)


def _then_raise(body: Iterable[bytes], exc: Exception) -> Iterator[bytes]:
    """Send the answer, then re-raise the app's error for the server to log."""
    yield from body
    raise exc


class CORS:
    """The Flask extension: ``CORS(app, **options)`` or ``cors = CORS(); cors.init_app(app)``;
    the same for a ``flask.Blueprint`` (``CORS(bp)``), whose routes only it covers.

    ``options`` are flask-cors's (``resources``, ``origins``, ``methods``,
    ``allow_headers``, ``expose_headers``, ``supports_credentials``, ``max_age``,
    ``send_wildcard``, ``vary_header``, ``automatic_options``, ``always_send``,
    ``allow_private_network``, ``intercept_exceptions``) and may add ``CORSPolicy``
    keywords; or pass ``policy=CORSPolicy(...)``. Precedence as in flask-cors: defaults <
    ``CORS_*`` config (apps only: a blueprint has no config) < constructor options <
    ``init_app`` options. Invalid options raise [`CORSConfigError`][corsware.CORSConfigError] from
    ``init_app``, at start-up.

    The extension object keeps no reference to the app; the state lives in
    ``app.extensions["corsware"]`` (``.policy`` can be reassigned at run time).

    A request Flask routes to a view gets the first of: the view's ``@cross_origin``
    options, the ``CORS(blueprint)`` of its innermost blueprint that has one, the app's
    ``CORS(app)``. Resource patterns are matched against the whole path (``request.path``,
    the blueprint's ``url_prefix`` included), as flask-cors does.
    """

    @check_keywords("a flask-cors or corsware", KEYWORDS)
    def __init__(
        self,
        app: Flask | Blueprint | None = None,
        *,
        policy: CORSPolicy | None = None,
        report_only: CORSPolicy | Mapping[str, Any] | None = None,
        **options: Any,
    ) -> None:
        if policy is not None and options:
            raise TypeError("pass either policy= or flask-cors options, not both")
        self._policy = policy
        self._options = options
        self._report_only = report_only
        if app is not None:
            self.init_app(app)

    @check_keywords("a flask-cors or corsware", KEYWORDS)
    def init_app(
        self, app: Flask | Blueprint, *, report_only: CORSPolicy | Mapping[str, Any] | None = None, **options: Any
    ) -> None:
        """Install CORS on ``app`` or on a blueprint (once per app or blueprint).

        ``report_only`` (or the ``CORSWARE_REPORT_ONLY`` config key): a candidate policy (a
        ``CORSPolicy`` or its keywords) reported on beside what answers today, see
        docs/tighten.md. Given alone (no options, no ``policy=``, no ``CORS_*`` config), the
        extension enforces nothing: the app's own CORS code answers, corsware only reports.
        """
        if self._policy is not None and options:
            raise TypeError("this CORS() was given policy=; init_app cannot add options")
        if isinstance(app, Blueprint):
            if report_only is not None or self._report_only is not None:
                raise TypeError("report_only applies to an app (CORS(app, report_only=...)), not to a blueprint")
            self._init_blueprint(app, options)
            return
        candidate = report_only if report_only is not None else self._report_only
        if candidate is None:
            candidate = app.config.get(REPORT_ONLY_CONFIG)
        configured = any(key in app.config for key in CONFIG_KEYS)
        if candidate is not None and self._policy is None and not options and not self._options and not configured:
            _install_report_only(app, candidate, enforcing=False)
            return
        state = app.extensions.get("corsware")
        if isinstance(state, _State) and state.app_wide:
            raise RuntimeError("corsware.flask.CORS is already installed on this app")
        if self._policy is not None:
            policy = self._policy
        else:
            policy = policy_from_options({**options_from_config(app.config), **self._options, **options})
        if isinstance(state, _State):  # installed by a CORS blueprint's registration
            state.policy = policy
            state.app_wide = True
        else:
            _install(app, policy)
        if candidate is not None:
            _install_report_only(app, candidate, enforcing=True)

    def _init_blueprint(self, blueprint: Blueprint, options: dict[str, Any]) -> None:
        if blueprint in _BLUEPRINTS:
            raise RuntimeError(f"corsware.flask.CORS is already installed on the blueprint {blueprint.name!r}")
        # flask-cors reads no CORS_* config for a blueprint (it has none); the policy is
        # built now, so its errors show at start-up.
        policy = self._policy if self._policy is not None else policy_from_options({**self._options, **options})
        _MODE.routed = True  # from now on the extension's wrappers let Flask route each request
        _BLUEPRINTS[blueprint] = policy
        if getattr(blueprint, "_got_registered_once", False):
            # Already registered (flask-cors fails here: Flask refuses setup methods now).
            # Apps with corsware find the policy at request time through app.blueprints;
            # the others cannot be reached from here (Flask keeps no list of them).
            _watch_unreachable_apps()
        else:
            blueprint.record(_on_register)  # each registration installs the wrapper on its app


#: The Flask config key of the report-only candidate (a dict of ``CORSPolicy`` keywords).
REPORT_ONLY_CONFIG: Final = "CORSWARE_REPORT_ONLY"


def _install_report_only(app: Flask, candidate: CORSPolicy | Mapping[str, Any], *, enforcing: bool) -> None:
    """Wrap ``app.wsgi_app`` (corsware's wrapper when ``enforcing``) in the report-only layer,
    outermost, so it reads the CORS headers of the response as the client gets them. The
    reporter is ``app.extensions["corsware.report"]``."""
    if "corsware.report" in app.extensions:
        raise RuntimeError("corsware report-only mode is already installed on this app")
    reporter = Reporter(candidate_policy(candidate, "report_only"))
    if reporter.candidate.has_async_callback:
        raise TypeError("the report_only policy's allow_origin_callback is async, which Flask cannot await")
    app.extensions["corsware.report"] = reporter
    app.wsgi_app = WSGILayer(app.wsgi_app, reporter=reporter)  # type: ignore[method-assign]


def _install(app: Flask, policy: CORSPolicy | None) -> _State:
    state = _State(app, app.wsgi_app, policy)
    app.extensions["corsware"] = state
    # Build the policies of views decorated so far now, so their errors show at start-up.
    for endpoint in state.decorated_endpoints():
        view_policy(app, getattr(app.view_functions[endpoint], _VIEW_OPTIONS))
    # First of the app's before_request functions: it answers preflights before the others.
    app.before_request_funcs.setdefault(None, []).insert(0, state.before_request)
    app.wsgi_app = _Dispatch(state)  # type: ignore[method-assign]
    return state


def _on_register(setup: BlueprintSetupState) -> None:
    """A CORS blueprint is registered: its app needs the wrapper (without app-wide CORS
    unless ``CORS(app)`` installs it, before or after)."""
    app = setup.app
    if not isinstance(app, Flask):
        raise TypeError(f"corsware.flask supports Flask apps, not {type(app).__name__}")
    if not isinstance(app.extensions.get("corsware"), _State):
        _install(app, None)


_WATCH_LOCK: Final = threading.Lock()
_WATCHING: list[Callable[..., None]] = []


def _watch_unreachable_apps() -> None:
    """Connect (once) a ``request_started`` receiver that refuses, loudly, a request routed to
    a CORS blueprint in an app that has no corsware wrapper: the blueprint was registered
    there before ``CORS(blueprint)``, so its CORS could not be installed."""
    with _WATCH_LOCK:
        if not _WATCHING:
            _WATCHING.append(_refuse_unreachable)  # blinker keeps a weak reference only
            request_started.connect(_refuse_unreachable)


def _refuse_unreachable(sender: Flask, **extra: Any) -> None:
    if isinstance(sender.extensions.get("corsware"), _State):
        return
    rule = request.url_rule
    if rule is None or blueprint_policy(sender, rule.endpoint) is None:
        return
    raise RuntimeError(
        f"the blueprint of {rule.endpoint!r} has corsware CORS, but it was registered on this app before "
        "CORS(blueprint) was called, and the app has no corsware extension: call CORS(blueprint) before "
        "app.register_blueprint(blueprint), or install CORS(app, resources={}) on the app (no app-wide CORS)"
    )


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
            target: Callable[..., Any] = view
            if request.method == "OPTIONS" and not _is_preflight():
                # As flask-cors: an ordinary OPTIONS request gets Flask's default answer, with
                # the CORS headers of an actual request (it is one: Fetch §"CORS protocol").
                target = _default_options
            routing = request.environ.get(_ENVIRON_KEY)
            if isinstance(routing, _Routing) and current_app.extensions.get("corsware") in routing.states:
                # This app's own extension recorded the view's policy and applies it. (An
                # outer app's extension does not count: the view answers by itself.)
                return current_app.ensure_sync(target)(*args, **kwargs)
            return _standalone(target, args, kwargs, stored)

        setattr(wrapper, _VIEW_OPTIONS, stored)
        # Let OPTIONS reach the wrapper (Flask would otherwise answer it without the view).
        wrapper.provide_automatic_options = False  # type: ignore[attr-defined]
        wrapper.required_methods = {"OPTIONS"}  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def _default_options(*args: Any, **kwargs: Any) -> Response:
    """Flask's own answer to an ordinary ``OPTIONS`` request (the ``Allow`` header)."""
    return current_app.make_default_options_response()


def _is_preflight() -> bool:
    headers = request.headers
    kind = classify(request.method, headers.get("Origin"), headers.get("Access-Control-Request-Method"))
    return kind is RequestKind.PREFLIGHT


def _standalone(view: Callable[..., Any], args: Any, kwargs: Any, options: dict[str, Any]) -> Response:
    """``@cross_origin`` without the extension: the core decides, the view's response is patched."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]  # noqa: SLF001 - werkzeug's API
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
