"""Faulty applications and clients: corsware never swallows the app's error, never loses
the app's response, never starts a second response, and always lets ``close()`` through.

The app-raises-before-start case is in the shared table (``app exception: 500 with CORS
headers, error re-raised``); this file covers everything after that point, in process
(WSGI under ``wsgiref.validate``, ASGI with a recording server) and over loopback against
gunicorn and uvicorn for a failing stream and a client that disconnects mid-response.
"""

from __future__ import annotations

import asyncio
import socket
import wsgiref.validate
from collections.abc import Iterator
from typing import Any

import pytest

from corsware import CORSPolicy
from corsware.asgi import CORSMiddleware as ASGIMiddleware
from corsware.wsgi import CORSMiddleware as WSGIMiddleware

from ..support.cases import APP, EVIL, MAIN
from ..support.drivers import Request, call_wsgi
from ..support.harness import fetch, serve

POLICY = CORSPolicy(**MAIN)
ALLOWED = {"access-control-allow-origin": APP, "access-control-allow-credentials": "true",
           "access-control-expose-headers": "X-Request-Id", "vary": "Origin"}  # fmt: skip


class AppError(RuntimeError):
    pass


def _cors(headers: list[tuple[str, str]]) -> dict[str, str]:
    return {k: v for k, v in headers if k.startswith("access-control-") or k == "vary"}


# -- WSGI ------------------------------------------------------------------------------------


class Body:
    """A WSGI iterable that records close() and can fail at a given step."""

    def __init__(self, chunks: list[bytes], fail_at: int | None = None, start: Any = None) -> None:
        self.chunks = chunks
        self.fail_at = fail_at
        self.start = start  # a callable run on the first step (lazy start_response)
        self.closed = 0

    def __iter__(self) -> Iterator[bytes]:
        if self.start is not None:
            self.start()
        for i, chunk in enumerate(self.chunks):
            if i == self.fail_at:
                raise AppError(f"failed at chunk {i}")
            yield chunk
        if self.fail_at == len(self.chunks):
            raise AppError("failed after the last chunk")

    def close(self) -> None:
        self.closed += 1


def _wsgi(app: Any, origin: str | None = APP, validate: bool = True) -> tuple[int, dict[str, str], bytes, Any, int]:
    starts = []

    def counting(environ: Any, start_response: Any) -> Any:
        def sr(*args: Any) -> Any:
            starts.append(args)
            return start_response(*args)

        return mw(environ, sr)

    mw = WSGIMiddleware(wsgiref.validate.validator(app) if validate else app, POLICY)
    outer = wsgiref.validate.validator(counting) if validate else counting
    headers = [] if origin is None else [("Origin", origin)]
    status, got, body, error = call_wsgi(outer, Request("GET", "/", headers))
    return status, _cors(got), body, error, len(starts)


@pytest.mark.parametrize("origin", [APP, EVIL, None], ids=["allowed", "refused", "no-origin"])
@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy-start"])
def test_wsgi_close_always_called(origin: str | None, lazy: bool) -> None:
    body = Body([b"a", b"b"])

    def app(environ: Any, start_response: Any) -> Any:
        def go() -> None:
            start_response("200 OK", [("Content-Type", "text/plain")])

        if lazy:
            body.start = go
        else:
            go()
        return body

    status, cors, data, error, starts = _wsgi(app, origin)
    assert (status, data, error, starts) == (200, b"ab", None, 1)
    assert body.closed == 1
    assert cors["vary"] == "Origin"
    assert ("access-control-allow-origin" in cors) == (origin == APP)


def test_wsgi_raise_after_start_propagates_once() -> None:
    def app(environ: Any, start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        raise AppError("after start")

    status, cors, _data, error, starts = _wsgi(app)
    assert isinstance(error, AppError)
    assert starts == 1
    assert (status, cors) == (200, ALLOWED)


@pytest.mark.parametrize("fail_at", [1, 2], ids=["mid-stream", "after-last-chunk"])
def test_wsgi_mid_stream_error_propagates_and_closes(fail_at: int) -> None:
    body = Body([b"first", b"second"], fail_at=fail_at)

    def app(environ: Any, start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body

    status, cors, data, error, starts = _wsgi(app)
    assert isinstance(error, AppError)
    assert data == b"first" if fail_at == 1 else b"firstsecond"
    assert (status, cors, starts, body.closed) == (200, ALLOWED, 1, 1)


def test_wsgi_lazy_generator_error_before_start_gives_500_and_reraises() -> None:
    body = Body([b"never"], fail_at=0)

    def app(environ: Any, start_response: Any) -> Any:
        return body  # start_response never called: the first step fails

    status, cors, data, error, starts = _wsgi(app)
    assert isinstance(error, AppError)
    assert (status, cors, data, starts) == (500, ALLOWED, b"Internal Server Error", 1)
    assert body.closed == 1


def test_wsgi_generator_app() -> None:
    def app(environ: Any, start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Vary", "Cookie")])
        yield b"gen"
        yield b"erator"

    status, cors, data, error, starts = _wsgi(app)
    assert (status, data, error, starts) == (200, b"generator", None, 1)
    assert cors == {**ALLOWED, "vary": "Cookie, Origin"}


def test_wsgi_write_callable_keeps_the_body() -> None:
    written: list[bytes] = []

    def app(environ: Any, start_response: Any) -> Any:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written ")
        return [b"returned"]

    def server_side(environ: Any, start_response: Any) -> Any:
        def sr(*args: Any) -> Any:
            real_write = start_response(*args)

            def write(data: bytes) -> None:
                written.append(data)
                real_write(data)

            return write

        return mw(environ, sr)

    mw = WSGIMiddleware(app, POLICY)
    status, got, body, error = call_wsgi(server_side, Request("GET", "/", [("Origin", APP)]))
    assert (status, error) == (200, None)
    assert _cors(got) == ALLOWED
    assert written == [b"written "]
    assert body == b"returned"


def test_wsgi_exc_info_restart_before_body_is_merged() -> None:
    """PEP 3333: an app may call start_response again with exc_info before any body."""

    def app(environ: Any, start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise AppError("handled")
        except AppError:
            import sys

            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"error page"]

    status, cors, data, error, starts = _wsgi(app, validate=False)
    assert (status, cors, data, error, starts) == (500, ALLOWED, b"error page", None, 2)


# -- ASGI ------------------------------------------------------------------------------------


def _asgi(app: Any, origin: str | None = APP, send_fails_on: str | None = None) -> tuple[list[dict[str, Any]], Any]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if send_fails_on is not None and message["type"] == send_fails_on:
            raise OSError("client disconnected")
        sent.append(message)

    headers = [] if origin is None else [(b"origin", origin.encode())]
    scope = {"type": "http", "method": "GET", "path": "/", "headers": headers, "scheme": "https", "query_string": b""}
    error = None
    try:
        asyncio.run(ASGIMiddleware(app, POLICY)(scope, receive, send))
    except Exception as exc:
        error = exc
    return sent, error


def _starts(sent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in sent if m["type"] == "http.response.start"]


def _asgi_cors(message: dict[str, Any]) -> dict[str, str]:
    return _cors([(k.decode(), v.decode()) for k, v in message["headers"]])


def test_asgi_raise_after_start_propagates_no_second_start() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise AppError("after start")

    sent, error = _asgi(app)
    assert isinstance(error, AppError)
    (start,) = _starts(sent)
    assert _asgi_cors(start) == ALLOWED
    assert [m["type"] for m in sent] == ["http.response.start"]


def test_asgi_mid_stream_error_keeps_what_was_sent() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        raise AppError("mid-stream")

    sent, error = _asgi(app)
    assert isinstance(error, AppError)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[1]["body"] == b"first"


def test_asgi_body_before_start_is_not_covered_up() -> None:
    """An invalid app (body first) is passed through as is: corsware invents no start."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.body", "body": b"oops"})

    sent, error = _asgi(app)
    assert error is None
    assert sent == [{"type": "http.response.body", "body": b"oops"}]


def test_asgi_second_start_from_the_app_is_not_merged_or_duplicated() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.start", "status": 500, "headers": [(b"x-second", b"1")]})

    sent, error = _asgi(app)
    assert error is None
    starts = _starts(sent)
    assert len(starts) == 2  # the app's two, passed on for the server to reject; none added
    assert _asgi_cors(starts[0]) == ALLOWED
    assert starts[1]["headers"] == [(b"x-second", b"1")]


@pytest.mark.parametrize(
    "headers",
    [None, [], [[b"content-type", b"text/plain"]], ((b"content-type", b"text/plain"),)],
    ids=["missing", "empty", "lists", "tuple"],
)
def test_asgi_unusual_header_containers(headers: Any) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        start: dict[str, Any] = {"type": "http.response.start", "status": 200}
        if headers is not None:
            start["headers"] = headers
        await send(start)
        await send({"type": "http.response.body", "body": b"ok"})

    sent, error = _asgi(app)
    assert error is None
    (start,) = _starts(sent)
    assert _asgi_cors(start) == ALLOWED


def test_asgi_unknown_message_passes_through() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.trailers", "headers": [], "more_trailers": False})
        await send({"type": "http.response.body", "body": b"ok"})

    sent, error = _asgi(app)
    assert error is None
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.trailers", "http.response.body"]


def test_asgi_client_disconnect_mid_body_reaches_the_app() -> None:
    seen: list[BaseException] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            await send({"type": "http.response.body", "body": b"x"})
        except OSError as exc:
            seen.append(exc)
            raise

    sent, error = _asgi(app, send_fails_on="http.response.body")
    assert isinstance(error, OSError)
    assert seen == [error]
    assert len(_starts(sent)) == 1


def test_asgi_app_error_wins_over_a_gone_client() -> None:
    """App raises before start, and the 500 cannot be sent: the app's error propagates."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AppError("before start")

    sent, error = _asgi(app, send_fails_on="http.response.start")
    assert isinstance(error, AppError)
    assert sent == []


# -- real servers ----------------------------------------------------------------------------


@pytest.mark.server
def test_uvicorn_client_disconnect_mid_stream_leaves_server_healthy() -> None:
    with serve("asgi") as port:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(f"GET /stream HTTP/1.1\r\nHost: x\r\nOrigin: {'https://a.example.com'}\r\n\r\n".encode())
            head = b""
            while b"\r\n\r\n" not in head:
                head += sock.recv(65536)
            assert b"access-control-allow-origin: https://a.example.com" in head.lower()
        # The client is gone mid-stream; the server keeps serving, with CORS headers.
        status, headers, body = asyncio.run(
            fetch(port, "GET", "/", [("X-Req", "1"), ("Origin", "https://b.example.com")])
        )
        assert status == 200
        assert ("access-control-allow-origin", "https://b.example.com") in headers
        assert body == b"1|https://b.example.com"


@pytest.mark.server
def test_gunicorn_mid_stream_error_keeps_headers_and_server() -> None:
    with serve("wsgi") as port:
        status, headers, body = asyncio.run(
            fetch(port, "GET", "/raise-mid-stream", [("Origin", "https://a.example.com")])
        )
        assert status == 200
        assert ("access-control-allow-origin", "https://a.example.com") in headers
        assert body.startswith(b"first")
        status, headers, body = asyncio.run(
            fetch(port, "GET", "/", [("X-Req", "2"), ("Origin", "https://c.example.com")])
        )
        assert (status, body) == (200, b"2|https://c.example.com")
