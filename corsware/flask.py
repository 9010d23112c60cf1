"""Flask integration: ``CORS(app)`` / ``CORS().init_app(app)`` and ``@cross_origin()``.

A drop-in for flask-cors's names (``from corsware.flask import CORS, cross_origin``). The
extension wraps ``app.wsgi_app`` in :class:`corsware.wsgi.CORSMiddleware`, so preflights
are answered before Flask routes them and every response, including those of error
handlers and of unhandled exceptions, carries the CORS headers. The protocol itself is the
core's: this module only chooses which policy applies to a request.

Options are flask-cors's (``origins``, ``supports_credentials``, ``resources``, ...; see
``docs/flask.md`` for the mapping), read from ``CORS_*`` config keys too, or a ready
:class:`~corsware.CORSPolicy` as ``policy=``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Final, TypeVar

from flask import Flask, Response, current_app, request
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException

from ._decision import RequestKind
from ._flask_options import FLASK_CORS_DEFAULTS, options_from_config, policy_from_options
from ._headers import STR_CODEC, merge_response_headers
from ._policy import CORSPolicy
from .wsgi import CORSMiddleware

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["CORS", "cross_origin"]

F = TypeVar("F", bound=Callable[..., Any])

#: The attribute ``@cross_origin`` sets on a view: its options (or ``{"policy": ...}``).
_VIEW_OPTIONS: Final = "__corsware_options__"
#: Set in the WSGI environ by the extension: the view policy was applied by the middleware.
_ENVIRON_KEY: Final = "corsware.flask"


class _State:
    """What ``init_app`` stores in ``app.extensions["corsware"]``."""

    def __init__(self, app: Flask, inner: WSGIApplication, policy: CORSPolicy) -> None:
        self.app = app
        self.middleware = CORSMiddleware(inner, policy)
        self.view_middleware: dict[str, CORSMiddleware] = {}
        self._decorated_count = -1
        self._decorated: frozenset[str] = frozenset()

    @property
    def policy(self) -> CORSPolicy:
        """The app-wide policy; assign a new one to swap it atomically."""
        return self.middleware.policy

    @policy.setter
    def policy(self, policy: CORSPolicy) -> None:
        self.middleware.policy = policy

    def decorated_endpoints(self) -> frozenset[str]:
        views = self.app.view_functions
        if len(views) != self._decorated_count:  # views may be added after init_app
            self._decorated = frozenset(name for name, view in views.items() if hasattr(view, _VIEW_OPTIONS))
            self._decorated_count = len(views)
        return self._decorated

    def middleware_for(self, environ: WSGIEnvironment) -> CORSMiddleware:
        """The view's middleware when the request routes to a ``@cross_origin`` view."""
        decorated = self.decorated_endpoints()
        if not decorated:
            return self.middleware
        endpoint = self._endpoint(environ)
        if endpoint is None or endpoint not in decorated:
            return self.middleware
        mw = self.view_middleware.get(endpoint)
        if mw is None:
            view = self.app.view_functions[endpoint]
            mw = CORSMiddleware(self.middleware.app, view_policy(self.app, getattr(view, _VIEW_OPTIONS)))
            self.view_middleware[endpoint] = mw
        return mw

    def _endpoint(self, environ: WSGIEnvironment) -> str | None:
        # A preflight asks about the method in Access-Control-Request-Method: the view that
        # would serve that method is the one whose options answer it.
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ and "HTTP_ORIGIN" in environ:
            method = environ["HTTP_ACCESS_CONTROL_REQUEST_METHOD"]
        app = self.app
        subdomain = None if app.subdomain_matching else (app.url_map.default_subdomain or None)
        try:
            adapter = app.url_map.bind_to_environ(environ, server_name=app.config["SERVER_NAME"], subdomain=subdomain)
            rule, _ = adapter.match(method=method, return_rule=True)
        except HTTPException:  # not found, method not allowed, redirect: the app-wide policy
            return None
        endpoint: str = rule.endpoint
        return endpoint


class _Dispatch:
    """The WSGI callable installed as ``app.wsgi_app``."""

    def __init__(self, state: _State) -> None:
        self.state = state

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        environ[_ENVIRON_KEY] = True
        return self.state.middleware_for(environ)(environ, start_response)


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

    def __init__(self, app: Flask | None = None, *, policy: CORSPolicy | None = None, **options: Any) -> None:
        if policy is not None and options:
            raise TypeError("pass either policy= or flask-cors options, not both")
        self._policy = policy
        self._options = options
        if app is not None:
            self.init_app(app)

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


def cross_origin(*, policy: CORSPolicy | None = None, **options: Any) -> Callable[[F], F]:
    """Give one view its own CORS options (flask-cors's names), or ``policy=``.

    Put it below ``@app.route``. With the extension installed the options are applied by
    its middleware (preflights never reach the view; error responses carry the headers).
    Without it the view answers preflights itself and adds the headers to its own and its
    error handlers' responses (unhandled exceptions need the extension: ``CORS(app,
    resources={})`` installs it without any app-wide CORS).
    """
    if policy is not None and options:
        raise TypeError("pass either policy= or flask-cors options, not both")
    if "resources" in options:
        raise TypeError("cross_origin() applies to its view; 'resources' belongs to CORS(app)")
    stored: dict[str, Any] = {"policy": policy} if policy is not None else dict(options)
    if policy is None:
        # Validate now, at import time; the app's CORS_* config is merged in at first use.
        policy_from_options({**options, "resources": FLASK_CORS_DEFAULTS["resources"]})

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if request.method == "OPTIONS" and not _is_preflight():
                # As flask-cors: ordinary OPTIONS requests get Flask's default answer.
                return current_app.make_default_options_response()
            if request.environ.get(_ENVIRON_KEY):
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
