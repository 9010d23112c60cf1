"""ASGI 3 middleware: ``CORSMiddleware(app, ...)`` for Starlette, FastAPI, Django ASGI or
any ASGI callable, and a drop-in for ``app.add_middleware(CORSMiddleware, ...)``.

It only translates the scope and messages to the policy core and back.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, Final

from ._compile import Addition, PreflightAnswer
from ._decision import NEEDS_CALLBACK, PREFLIGHT_METHOD, async_verdict
from ._headers import BYTES_CODEC, merge_response_headers
from ._keywords import check_keywords
from ._middleware import MiddlewareBase, PolicyOptions, log_build_failure
from ._mount import (
    DEBUG_VAR,
    WEBSOCKET_VAR,
    MountError,
    app_from_env,
    env_flag,
    report_only_from_env,
    resolve_app,
    resolve_policy,
)
from ._paths import asgi_route_path
from ._policy import OPTION_NAMES, CORSPolicy

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._report import DecisionEvent

__all__ = ["ASGIApp", "CORSMiddleware", "Message", "Receive", "Scope", "Send"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_ERROR_BODY: Final = b"Internal Server Error"
_ERROR_HEADERS: Final = (
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"content-length", str(len(_ERROR_BODY)).encode()),
)


async def _send_error(send: Send, add: Addition) -> None:
    """Answer 500 with the CORS headers: the browser should see the 500, not a CORS
    failure (starlette #1116). The app's exception is re-raised by the caller."""
    headers = merge_response_headers(_ERROR_HEADERS, add.raw, add.vary_raw, BYTES_CODEC)
    with contextlib.suppress(Exception):  # e.g. the client is gone; the app's error wins
        await send({"type": "http.response.start", "status": 500, "headers": headers})
        await send({"type": "http.response.body", "body": _ERROR_BODY})


class CORSMiddleware(MiddlewareBase):
    """Apply a ``corsware.CORSPolicy`` to an ASGI application.

    Accepts ``policy=`` or the policy's keywords (Starlette's names, so
    ``app.add_middleware(corsware.asgi.CORSMiddleware, allow_origins=[...])`` is a drop-in).
    ``check_websocket_origin=True`` also checks WebSocket handshakes, which carry the
    user's cookies whatever the policy says about credentials: a cross-origin handshake
    passes only for an origin allowed by a policy with ``allow_credentials=True`` (listed,
    a ``*.`` pattern, a regex or the callback; never ``'*'``), so a policy without
    credentials refuses every cross-origin handshake. Origin-less handshakes (non-browser
    clients) and same-origin ones (``https://<Host>``, or ``http://<Host>`` for a loopback
    host) pass; the scheme the server sees is not trusted, since behind a TLS-terminating
    proxy it says ``ws`` for ``https`` pages. There is no separate list of WebSocket origins:
    give the socket's path its own credentialed policy (``paths={"/ws": {...}}``).

    When the app raises before starting its response, the client gets a 500 carrying the
    CORS headers and the exception is re-raised for the server (or Starlette's
    ``ServerErrorMiddleware``) to log.

    ``report_only=``, ``on_decision=`` and ``on_decision_all=`` work as in
    ``corsware.wsgi.CORSMiddleware`` (report what a candidate policy would change;
    call a hook with each refusal), and an async ``allow_origin_callback`` of the candidate
    is awaited.
    """

    app: ASGIApp
    display_name = "corsware.asgi.CORSMiddleware"

    # The WSGI adapter's signature again (and check_websocket_origin), on purpose: each adapter
    # spells out its own typed keywords (inspect.signature, IDEs, the docs); MiddlewareBase.__init__
    # does what they share.
    # tests/adapters/test_adapters.py::test_the_adapters_signatures_differ_only_by_the_websocket_check
    @check_keywords("a corsware.asgi.CORSMiddleware", OPTION_NAMES, on_error=log_build_failure)
    def __init__(
        self,
        app: ASGIApp,
        policy: CORSPolicy | None = None,
        *,
        debug: bool = False,
        check_websocket_origin: bool = False,
        report_only: CORSPolicy | Mapping[str, Any] | None = None,
        on_decision: Callable[[DecisionEvent], object] | None = None,
        on_decision_all: bool = False,
        **options: Unpack[PolicyOptions],
    ) -> None:
        self.check_websocket_origin = check_websocket_origin
        super().__init__(app, policy, debug, report_only, on_decision, on_decision_all, options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket" and self.check_websocket_origin:
                await self._websocket(scope, receive, send)
            else:  # lifespan and unknown scopes pass through untouched
                await self.app(scope, receive, send)
            return
        policy = self._policy  # read once: a concurrent swap is seen whole or not at all
        path = scope["path"]
        # Per-path rules match the route path: scope["path"] less root_path, as Starlette routes.
        plan = policy.plan_for(asgi_route_path(scope)) if policy.has_paths else policy.plan
        method = scope["method"]
        origin: bytes | None = None
        # The report-only layer (corsware._report_layers.run_asgi_layer) scans the headers
        # alike, on purpose (a shared function would cost a call here, on every request);
        # tests/report/test_report_only.py ``test_the_asgi_report_layer_reads_the_request_as_the_adapter_does``
        # keeps the two in step.
        if method != PREFLIGHT_METHOD:
            # Only a preflight (an OPTIONS request, Fetch §"CORS-preflight request") has
            # values beyond Origin to read: the common case compares one name per header and
            # decodes nothing; for_raw_request decides the kind.
            for name, value in scope["headers"]:
                if name == b"origin":
                    # Two Origin headers make an invalid origin, as when a WSGI server joins them.
                    origin = value if origin is None else origin + b", " + value
            found = plan.for_raw_request(method, origin, None, b"", False, False, path)
        else:
            acrm: bytes | None = None
            acrh = b""
            pna = False
            for name, value in scope["headers"]:
                if name == b"origin":
                    origin = value if origin is None else origin + b", " + value
                elif name == b"access-control-request-method":
                    # Repeated, it is joined as a WSGI server joins it, which makes it invalid.
                    acrm = value if acrm is None else acrm + b"," + value
                elif name == b"access-control-request-headers":
                    acrh = value if not acrh else acrh + b"," + value
                elif name == b"access-control-request-private-network":
                    pna = value == b"true"
            # Decoded here rather than by for_raw_request: a preflight's values are text in
            # the core (its cache keys), and one call less on every preflight.
            origin_text = None if origin is None else origin.decode("latin-1")
            acrm_text = None if acrm is None else acrm.decode("latin-1")
            acrh_text = acrh.decode("latin-1")
            found = plan.for_request(method, origin_text, acrm_text, acrh_text, pna, self.debug, path)
            if found is NEEDS_CALLBACK:
                assert origin_text is not None  # noqa: S101 - only an Origin is asked about
                allowed = await async_verdict(plan.origin_callback(origin_text))
                found = plan.for_request_decided(allowed, method, origin_text, acrm_text, acrh_text, pna, self.debug,
                                                 path)  # fmt: skip
            if type(found) is PreflightAnswer:
                # A preflight: answered here, never passed to the app.
                await send({"type": "http.response.start", "status": found.status, "headers": list(found.raw)})
                await send({"type": "http.response.body", "body": b""})
                return
        if found is None:
            await self.app(scope, receive, send)
            return
        if found is NEEDS_CALLBACK:
            assert origin is not None  # noqa: S101 - only an Origin is asked about
            origin_text = origin.decode("latin-1")
            allowed = await async_verdict(plan.origin_callback(origin_text))
            found = plan.for_origin_decided(origin_text, allowed, path)
        addition: Addition = found  # type: ignore[assignment]
        # The response, through the app with the CORS headers merged in.
        started = False

        async def cors_send(message: Message) -> None:
            nonlocal started
            if not started and message["type"] == "http.response.start":
                started = True
                message["headers"] = addition.merged_raw(message.get("headers", ()))
            await send(message)

        try:
            await self.app(scope, receive, cors_send)
        except Exception:
            if not started:
                await _send_error(send, addition)
            raise

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = asgi_route_path(scope)
        plan = self._policy.plan_for(path)
        origin: str | None = None
        host: str | None = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value.decode("latin-1") if origin is None else f"{origin}, {value.decode('latin-1')}"
            elif name == b"host":
                host = value.decode("latin-1")
        # scope["scheme"] is not used: behind a TLS-terminating proxy it says ws for https
        # pages (see corsware._origins.is_own_origin). The plan logs why it refuses.
        allowed = plan.for_websocket(origin, host, path)
        if allowed is NEEDS_CALLBACK:
            assert origin is not None  # noqa: S101 - an Origin-less handshake needs no rule
            allowed = plan.for_websocket_decided(origin, await async_verdict(plan.origin_callback(origin)), path)
        if allowed:
            await self.app(scope, receive, send)
            return
        # ASGI: closing before accepting makes the server answer the handshake with 403.
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.close", "code": 1008})


# -- mounting by import string / environment (``uvicorn --factory``) ---------------------
# The environment and import strings are read by corsware._mount, which imports no adapter.


def wrap(
    app: str | ASGIApp,
    policy: CORSPolicy | Mapping[str, Any] | str | os.PathLike[str] | None = None,
    *,
    debug: bool | None = None,
    check_websocket_origin: bool | None = None,
    report_only: CORSPolicy | Mapping[str, Any] | str | os.PathLike[str] | None = None,
) -> CORSMiddleware:
    """Wrap an ASGI app (object or ``"module:attribute"``) in `CORSMiddleware`.

    ``None`` arguments are read from the environment as in
    [`corsware.wsgi.wrap`][corsware.wsgi.wrap] (``CORSWARE_CHECK_WEBSOCKET_ORIGIN`` and
    ``CORSWARE_REPORT_ONLY_FILE`` too).
    """
    resolved_app = resolve_app(app, "asgi")
    candidate, enforced = report_only_from_env(report_only, policy)
    debug = env_flag(os.environ, DEBUG_VAR) if debug is None else debug
    if not enforced:
        return CORSMiddleware(resolved_app, debug=debug, report_only=candidate)
    websocket = env_flag(os.environ, WEBSOCKET_VAR) if check_websocket_origin is None else check_websocket_origin
    return CORSMiddleware(
        resolved_app,
        resolve_policy(policy, asgi=True),
        debug=debug,
        check_websocket_origin=websocket,
        report_only=candidate,
    )


def from_env() -> CORSMiddleware:
    """Zero-argument factory for ``uvicorn --factory corsware.asgi:from_env``."""
    return wrap(app_from_env())


__all__ += ["MountError", "from_env", "wrap"]
