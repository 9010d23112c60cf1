"""One runner per framework: sends one request of the shared case table through corsware
wrapping that framework's app, and normalises the answer for ``tests.support.checks.check``.

In-process runners build the framework app once and a ``CORSMiddleware(app, policy=...)``
per request (httpx's ASGI/WSGI transports). Sanic, Bottle and Pyramid run under a real
server instead (:class:`LiveServers`, one server per framework for the whole table, see
``tests.support.frameworks.serve``):

- Sanic builds its app in the ASGI lifespan start-up, which httpx's transport never runs;
- Bottle (``catchall=False``) and Pyramid re-raise an app error to their caller, and an
  in-process WSGI transport re-raises it to the test instead of reading corsware's 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

import corsware.asgi
import corsware.wsgi
from corsware import CORSPolicy

from ..drivers import Request, Response, _asgi_httpx, _headers_of
from ..server_kinds import REPO, gunicorn_cmd, uvicorn_cmd
from ..servers import free_port, running
from . import common
from .serve import CASE_HEADER

#: Servers refuse request headers this large before corsware runs (see tests/servers/test_table.py).
HEADER_LIMIT = 4096


@dataclass
class LiveServer:
    port: int
    log: Path
    calls: Path
    client: httpx.Client  # one for the whole table: building one per request costs more than the request

    def calls_count(self) -> int:
        return len(self.calls.read_bytes().splitlines()) if self.calls.exists() else 0

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class LiveServers:
    """The real servers of the runners that need one, each started on first use and
    stopped by :meth:`close`."""

    def __init__(self, tmp: Path) -> None:
        self._tmp = tmp
        self._stack = contextlib.ExitStack()
        self._servers: dict[str, LiveServer] = {}

    def get(self, runner: FrameworkRunner) -> LiveServer:
        found = self._servers.get(runner.name)
        if found is None:
            assert runner.command is not None
            port = free_port()
            directory = self._tmp / runner.name
            directory.mkdir()
            client = self._stack.enter_context(httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10))
            server = LiveServer(port, directory / "server.log", directory / "calls", client)
            env = {"SERVERS_CALLS_FILE": str(server.calls)}
            self._stack.enter_context(
                running(runner.command(port), port, env=env, cwd=str(REPO), output=server.log, timeout=60)
            )
            found = self._servers[runner.name] = server
        return found

    def close(self) -> None:
        self._stack.close()


@dataclass
class FrameworkRunner:
    """How the case table reaches one framework."""

    name: str
    framework: str  # as the docs name it
    dist: str  # the PyPI distribution whose installed version the docs table shows
    interface: str  # "ASGI" or "WSGI"
    served_by: str  # what carries the requests in the tests
    in_process: Callable[[dict[str, Any], Request], Response] | None = None
    command: Callable[[int], list[str]] | None = None  # the real server, given its port
    joins_repeated_headers: bool = True
    #: Vary tokens the framework adds to its own 500 page (Falcon negotiates its error
    #: body, hence ``Vary: Accept``): expected on top of the case's Vary when the app raises.
    error_vary: tuple[str, ...] = field(default=())

    @property
    def real_server(self) -> bool:
        return self.command is not None


def _asgi(app_factory: Callable[[], Any], calls: Callable[[], list[str]] = lambda: common.CALLS) -> Any:
    app_once = functools.cache(app_factory)

    def run(policy: dict[str, Any], req: Request) -> Response:
        app = app_once()
        calls().clear()
        resp = asyncio.run(_asgi_httpx(corsware.asgi.CORSMiddleware(app, policy=CORSPolicy(**policy)), req))
        return Response(resp.status_code, _headers_of(resp), resp.content, bool(calls()))

    return run


def _wsgi(app_factory: Callable[[], Any]) -> Any:
    app_once = functools.cache(app_factory)

    def run(policy: dict[str, Any], req: Request) -> Response:
        app = app_once()
        common.reset()
        wrapped = corsware.wsgi.CORSMiddleware(app, policy=CORSPolicy(**policy))
        with httpx.Client(transport=httpx.WSGITransport(app=wrapped)) as client:
            resp = client.request(req.method, "https://api.example.com" + req.path, headers=req.headers)
        return Response(resp.status_code, _headers_of(resp), resp.content, bool(common.CALLS))

    return run


def _litestar() -> Any:
    from .litestar_app import make_app

    return make_app()


def _quart() -> Any:
    from .quart_app import make_app

    return make_app()


def _falcon_asgi() -> Any:
    from .falcon_app import make_asgi_app

    return make_asgi_app()


def _falcon_wsgi() -> Any:
    from .falcon_app import make_wsgi_app

    return make_wsgi_app()


def _channels() -> Any:
    from .channels_app import make_app

    return make_app()


def _channels_calls() -> list[str]:
    from .channels_app import calls

    return calls()


RUNNERS = [
    FrameworkRunner("litestar", "Litestar", "litestar", "ASGI", "httpx.ASGITransport", _asgi(_litestar)),
    FrameworkRunner("quart", "Quart", "quart", "ASGI", "httpx.ASGITransport", _asgi(_quart)),
    FrameworkRunner(
        "sanic", "Sanic (ASGI mode)", "sanic", "ASGI", "uvicorn --lifespan on",
        command=lambda port: uvicorn_cmd(port, "tests.support.frameworks.serve:sanic_asgi", lifespan="on"),
    ),
    FrameworkRunner(
        "falcon-asgi", "Falcon (falcon.asgi.App)", "falcon", "ASGI", "httpx.ASGITransport", _asgi(_falcon_asgi),
        error_vary=("Accept",),
    ),
    FrameworkRunner(
        "channels", "Django Channels", "channels", "ASGI", "httpx.ASGITransport", _asgi(_channels, _channels_calls)
    ),
    FrameworkRunner(
        "bottle", "Bottle", "bottle", "WSGI", "gunicorn (sync worker)",
        command=lambda port: gunicorn_cmd(port, "tests.support.frameworks.serve:bottle_wsgi()"),
    ),
    FrameworkRunner(
        "pyramid", "Pyramid", "pyramid", "WSGI", "gunicorn (sync worker)",
        command=lambda port: gunicorn_cmd(port, "tests.support.frameworks.serve:pyramid_wsgi()"),
    ),
    FrameworkRunner(
        "falcon-wsgi", "Falcon (falcon.App)", "falcon", "WSGI", "httpx.WSGITransport", _wsgi(_falcon_wsgi),
        joins_repeated_headers=False, error_vary=("Accept",),
    ),
]  # fmt: skip


def oversized(headers: list[tuple[str, str]]) -> bool:
    return any(len(name) + len(value) > HEADER_LIMIT for name, value in headers)


def over_loopback(server: LiveServer, index: int, req: Request) -> Response | None:
    """Send ``req`` to a live server as case ``index``; None when the server dropped the
    connection (allowed for oversized headers only, checked by the caller)."""
    before = server.calls_count()
    # Leading/trailing whitespace is not part of a field value (RFC 9110 §5.5): servers
    # strip it and httpx refuses to send it, so send the value as parsed.
    headers = [(name, value.strip(" \t")) for name, value in req.headers]
    headers.append((CASE_HEADER, str(index)))
    try:
        resp = server.client.request(req.method, req.path, headers=headers)
    except httpx.TransportError:
        return None
    return Response(resp.status_code, _headers_of(resp), resp.content, server.calls_count() > before)


@dataclass
class Handshake:
    """What an ASGI app did with a WebSocket handshake driven in-process."""

    accepted: bool
    echoed: str | None
    close_code: int | None


async def websocket_handshake(app: Any, path: str, headers: list[tuple[str, str]]) -> Handshake:
    """Drive one WebSocket connection the way an ASGI server does: connect, send ``"hi"``
    if accepted, wait for the echo, disconnect."""
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "scheme": "wss",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "server": ("api.example.com", 443),
        "client": ("127.0.0.1", 50000),
        "subprotocols": [],
        "state": {},
    }
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    inbox.put_nowait({"type": "websocket.connect"})
    result = Handshake(False, None, None)

    async def receive() -> dict[str, Any]:
        return await inbox.get()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.accept":
            result.accepted = True
            inbox.put_nowait({"type": "websocket.receive", "text": "hi"})
        elif message["type"] == "websocket.send":
            result.echoed = message.get("text")
            inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
        elif message["type"] == "websocket.close":
            result.close_code = message.get("code", 1000)
            inbox.put_nowait({"type": "websocket.disconnect", "code": result.close_code})

    await asyncio.wait_for(app(scope, receive, send), timeout=10)
    return result
