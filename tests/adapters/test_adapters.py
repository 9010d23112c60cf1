"""Behaviour specific to the WSGI and ASGI adapters (the shared table covers the rest)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from corsware import CORSPolicy
from corsware.asgi import CORSMiddleware as ASGIMiddleware
from corsware.wsgi import CORSMiddleware as WSGIMiddleware

from ..support import shared_app
from ..support.drivers import Request, call_asgi, call_wsgi

APP = "https://app.example.com"
POLICY = CORSPolicy(allow_origins=[APP], allow_methods=["PUT"], allow_headers=["X-A"])


# -- construction ---------------------------------------------------------------------


@pytest.mark.parametrize("cls", [WSGIMiddleware, ASGIMiddleware])
def test_policy_or_options_not_both(cls: Any) -> None:
    with pytest.raises(TypeError, match="either policy= or policy options"):
        cls(shared_app.WSGIApp(), POLICY, allow_origins=[APP])
    with pytest.raises(TypeError, match="CORSPolicy"):
        cls(shared_app.WSGIApp(), {"allow_origins": [APP]})
    with pytest.raises(TypeError, match="debug"):
        cls(shared_app.WSGIApp(), POLICY, debug="yes")
    assert cls(shared_app.WSGIApp(), allow_origins=[APP]).policy == CORSPolicy(allow_origins=[APP])


def test_the_adapters_signatures_differ_only_by_the_websocket_check() -> None:
    """Each adapter spells out its own typed signature (what ``inspect.signature``, IDEs and
    the docs show); they repeat each other on purpose, and this keeps them in step."""
    import inspect

    def shared(cls: Any) -> list[tuple[str, Any, Any]]:
        params = inspect.signature(cls).parameters.values()
        return [(p.name, p.kind, p.default) for p in params if p.name not in ("app", "check_websocket_origin")]

    assert shared(WSGIMiddleware) == shared(ASGIMiddleware)
    assert "check_websocket_origin" in inspect.signature(ASGIMiddleware).parameters
    assert "check_websocket_origin" not in inspect.signature(WSGIMiddleware).parameters


def test_policy_swap_is_seen_by_the_next_request() -> None:
    mw = WSGIMiddleware(shared_app.WSGIApp(), POLICY)
    req = Request("GET", "/", [("Origin", "https://new.example.com")])
    assert dict(call_wsgi(mw, req)[1]).get("access-control-allow-origin") is None
    mw.policy = CORSPolicy(allow_origins=["https://new.example.com"])
    assert dict(call_wsgi(mw, req)[1])["access-control-allow-origin"] == "https://new.example.com"
    with pytest.raises(TypeError):
        mw.policy = None  # type: ignore[assignment]


# -- the debug switch -----------------------------------------------------------------


@pytest.mark.parametrize("adapter", ["wsgi", "asgi"])
def test_debug_makes_refused_preflights_diagnosable(adapter: str) -> None:
    req = Request("OPTIONS", "/", [("Origin", APP), ("Access-Control-Request-Method", "PUT"),
                                   ("Access-Control-Request-Headers", "x-a,x-secret")])  # fmt: skip
    if adapter == "wsgi":
        mw: Any = WSGIMiddleware(shared_app.WSGIApp(), POLICY)
        run = lambda: call_wsgi(mw, req)  # noqa: E731
    else:
        mw = ASGIMiddleware(shared_app.ASGIApp(), POLICY)
        run = lambda: asyncio.run(call_asgi(mw, req))  # noqa: E731
    status, headers, _, _ = run()
    assert status == 403
    assert not [k for k, _ in headers if k.startswith("access-control-")]
    mw.debug = True
    status, headers, _, _ = run()
    h = dict(headers)
    assert status == 204  # an ok status, so the browser's console names the missing header
    assert h["access-control-allow-origin"] == APP
    assert h["access-control-allow-methods"] == "PUT"
    assert h["access-control-allow-headers"] == "x-a"  # x-secret is what the browser will name
    assert "x-secret" in h["corsware-reason"]
    assert "access-control-max-age" not in h


def test_debug_never_grants_a_refused_origin() -> None:
    mw = WSGIMiddleware(shared_app.WSGIApp(), POLICY, debug=True)
    req = Request("OPTIONS", "/", [("Origin", "https://evil.example"), ("Access-Control-Request-Method", "PUT")])
    status, headers, _, _ = call_wsgi(mw, req)
    assert status == 204
    assert "access-control-allow-origin" not in dict(headers)
    assert "origin_not_allowed" not in dict(headers)["corsware-reason"]  # detail, not the code
    assert "evil.example" in dict(headers)["corsware-reason"]


def test_debug_with_star_headers_names_the_granted_headers() -> None:
    """A debug answer (refused here for its method) names the granted headers, never '*':
    browsers would not let a literal '*' cover Authorization."""
    mw = WSGIMiddleware(shared_app.WSGIApp(), allow_origins=[APP], allow_headers="*", debug=True)
    req = Request("OPTIONS", "/", [("Origin", APP), ("Access-Control-Request-Method", "PUT"),
                                   ("Access-Control-Request-Headers", "authorization,x-a")])  # fmt: skip
    h = dict(call_wsgi(mw, req)[1])
    assert h["access-control-allow-headers"] == "authorization,x-a"
    assert "access-control-allow-methods" not in h


# -- WSGI specifics -------------------------------------------------------------------


class ClosingBody:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)

    def close(self) -> None:
        self.closed = True


def test_wsgi_close_is_always_called() -> None:
    body = ClosingBody([b"a", b"b"])

    def app(environ: Any, start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body

    status, _, out, _ = call_wsgi(WSGIMiddleware(app, POLICY), Request("GET", "/", [("Origin", APP)]))
    assert (status, out, body.closed) == (200, b"ab", True)


def test_wsgi_lazy_start_response_in_a_generator() -> None:
    closed: list[bool] = []

    def app(environ: Any, start_response: Any) -> Any:
        try:
            start_response("201 Created", [("Content-Type", "text/plain")])
            yield b"made"
        finally:
            closed.append(True)

    status, headers, out, err = call_wsgi(WSGIMiddleware(app, POLICY), Request("GET", "/", [("Origin", APP)]))
    assert (status, out, err) == (201, b"made", None)
    assert dict(headers)["access-control-allow-origin"] == APP
    assert closed == [True]


def test_wsgi_generator_raising_before_start_gets_a_cors_500() -> None:
    def app(environ: Any, start_response: Any) -> Any:
        raise shared_app.AppError("lazy boom")
        yield b""  # pragma: no cover

    status, headers, out, err = call_wsgi(WSGIMiddleware(app, POLICY), Request("GET", "/", [("Origin", APP)]))
    assert status == 500
    assert dict(headers)["access-control-allow-origin"] == APP
    assert out == b"Internal Server Error"
    assert isinstance(err, shared_app.AppError)


def test_wsgi_error_after_start_is_reraised_without_a_second_start() -> None:
    starts: list[str] = []

    def app(environ: Any, start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        raise shared_app.AppError("after start")

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        starts.append(status)

    mw = WSGIMiddleware(app, POLICY)
    with pytest.raises(shared_app.AppError):
        mw({"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_ORIGIN": APP}, start_response)
    assert starts == ["200 OK"]


def test_wsgi_write_callable_passes_through() -> None:
    def app(environ: Any, start_response: Any) -> Any:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written")
        return []

    written: list[bytes] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        return written.append

    WSGIMiddleware(app, POLICY)({"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_ORIGIN": APP}, start_response)
    assert written == [b"written"]


# -- ASGI specifics -------------------------------------------------------------------


def test_asgi_lifespan_and_unknown_scopes_pass_through() -> None:
    inner = shared_app.ASGIApp()
    mw = ASGIMiddleware(inner, POLICY)

    async def nothing() -> Any:
        return {}

    async def ignore(message: Any) -> None:
        return None

    asyncio.run(mw({"type": "lifespan"}, nothing, ignore))
    assert inner.calls == ["lifespan"]


def test_asgi_error_after_start_is_reraised_without_a_second_start() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise shared_app.AppError("mid-stream")

    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request"}

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"origin", APP.encode())]}
    with pytest.raises(shared_app.AppError):
        asyncio.run(ASGIMiddleware(app, POLICY)(scope, receive, send))
    assert [m["type"] for m in sent] == ["http.response.start"]
    assert (b"access-control-allow-origin", APP.encode()) in sent[0]["headers"]


def test_asgi_async_origin_callback() -> None:
    async def check(origin: str) -> bool:
        await asyncio.sleep(0)
        return origin.endswith(".tenant.test")

    mw = ASGIMiddleware(shared_app.ASGIApp(), allow_origin_callback=check, allow_methods=["PUT"])
    status, headers, _, _ = asyncio.run(call_asgi(mw, Request("GET", "/", [("Origin", "https://a.tenant.test")])))
    assert dict(headers)["access-control-allow-origin"] == "https://a.tenant.test"
    pre = [("Origin", "https://a.tenant.test"), ("Access-Control-Request-Method", "PUT")]
    status, headers, _, _ = asyncio.run(call_asgi(mw, Request("OPTIONS", "/", pre)))
    assert status == 204
    pre[0] = ("Origin", "https://evil.example")
    status, headers, _, _ = asyncio.run(call_asgi(mw, Request("OPTIONS", "/", pre)))
    assert status == 403


async def _websocket(mw: Any, headers: list[tuple[bytes, bytes]]) -> tuple[list[Any], list[str]]:
    inner_calls: list[str] = []
    sent: list[Any] = []

    async def receive() -> Any:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/ws", "scheme": "wss", "headers": headers}
    await mw(scope, receive, send)
    return sent, inner_calls


CREDENTIALED = POLICY.replace(allow_credentials=True)


@pytest.mark.parametrize(
    ("headers", "policy", "check", "allowed"),
    [
        pytest.param([(b"origin", b"https://evil.example"), (b"host", b"api.example.com")], CREDENTIALED, True, False,
                     id="cross-site websocket hijacking refused"),
        pytest.param([(b"origin", APP.encode()), (b"host", b"api.example.com")], CREDENTIALED, True, True,
                     id="allowed origin of a credentialed policy"),
        pytest.param([(b"origin", APP.encode()), (b"host", b"api.example.com")], POLICY, True, False,
                     id="allowed origin of a policy without credentials: refused"),
        pytest.param([(b"origin", b"https://api.example.com"), (b"host", b"api.example.com")], POLICY, True, True,
                     id="same origin"),
        pytest.param([(b"host", b"api.example.com")], POLICY, True, True, id="no origin (not a browser)"),
        pytest.param([(b"origin", b"https://evil.example")], POLICY, False, True, id="checking off: untouched"),
    ],
)  # fmt: skip
def test_websocket_origin_check(
    headers: list[tuple[bytes, bytes]], policy: CORSPolicy, check: bool, allowed: bool
) -> None:
    reached: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["type"])
        await send({"type": "websocket.accept"})

    mw = ASGIMiddleware(app, policy, check_websocket_origin=check)
    sent, _ = asyncio.run(_websocket(mw, headers))
    assert bool(reached) == allowed
    assert sent[0]["type"] == ("websocket.accept" if allowed else "websocket.close")


def test_wsgi_refuses_an_async_callback_at_construction() -> None:
    async def check(origin: str) -> bool:
        return True

    class AsyncCallable:
        async def __call__(self, origin: str) -> bool:
            return True

    for callback in (check, AsyncCallable()):
        with pytest.raises(TypeError, match="cannot await"):
            WSGIMiddleware(shared_app.WSGIApp(), allow_origin_callback=callback)
        with pytest.raises(TypeError, match="cannot await"):
            WSGIMiddleware(shared_app.WSGIApp(), paths={"/api/*": CORSPolicy(allow_origin_callback=callback)})
    mw = WSGIMiddleware(shared_app.WSGIApp(), POLICY)
    with pytest.raises(TypeError, match="cannot await"):
        mw.policy = CORSPolicy(allow_origin_callback=check)
    assert mw.policy is POLICY
    ASGIMiddleware(shared_app.ASGIApp(), allow_origin_callback=check)  # fine under ASGI


@pytest.mark.parametrize("adapter", ["core", "wsgi", "asgi"])
def test_two_request_method_headers_are_invalid_everywhere(adapter: str) -> None:
    headers = [("Origin", APP), ("Access-Control-Request-Method", "PUT"), ("Access-Control-Request-Method", "PUT")]
    if adapter == "core":
        decision = POLICY.evaluate("OPTIONS", "/", headers)
        assert (decision.status, decision.reason) == (403, "request_method_invalid")
        return
    req = Request("OPTIONS", "/", headers)
    if adapter == "wsgi":
        status = call_wsgi(WSGIMiddleware(shared_app.WSGIApp(), POLICY), req)[0]
    else:
        status = asyncio.run(call_asgi(ASGIMiddleware(shared_app.ASGIApp(), POLICY), req))[0]
    assert status == 403
