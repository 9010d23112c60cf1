"""Apps served by real servers (gunicorn gthread, uvicorn) in the load and fault tests.

Every response echoes the request's ``X-Req`` header and the Origin the app saw in its body
(``<req>|<origin>``), so a client can detect a response that belongs to another request.
Routes: ``/`` (echo, after a tiny random pause so threads and tasks interleave),
``/swaps`` (how many policy swaps happened), ``/stream`` (slow chunks, for disconnects),
``/raise-mid-stream``.

With ``CORSWARE_SWAP=1`` a background thread replaces the middleware's policy back and
forth between ``POLICY_A`` and ``POLICY_B`` as fast as it can while requests flow.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from collections.abc import Iterator
from typing import Any

from corsware import CORSPolicy
from corsware.asgi import CORSMiddleware as ASGIMiddleware
from corsware.wsgi import CORSMiddleware as WSGIMiddleware

#: Many distinct allowed origins (any subdomain) next to refused ones; preflights with
#: any header list (``allow_headers="*"``) exercise the preflight cache under contention.
LOAD_POLICY = CORSPolicy(
    allow_origins=["https://*.example.com", "https://app.example.org"],
    allow_methods=["GET", "PUT"],
    allow_headers="*",
    expose_headers=["X-Req"],
    allow_credentials=False,
    preflight_cache_size=256,
)
#: The two policies swapped under load: every header differs between them.
POLICY_A = CORSPolicy(
    allow_origins=["https://*.a.example.com", "https://shared.example.com"],
    allow_methods=["PUT"],
    allow_headers=["X-A"],
    expose_headers=["X-From-A"],
    allow_credentials=True,
    max_age=100,
)
POLICY_B = CORSPolicy(
    allow_origins=["https://*.b.example.com", "https://shared.example.com"],
    allow_methods=["DELETE"],
    allow_headers=["X-B"],
    expose_headers=["X-From-B"],
    allow_credentials=False,
    max_age=200,
)

SWAPS = {"count": 0}


def _swapper(mw: WSGIMiddleware | ASGIMiddleware) -> None:
    while True:
        mw.policy = POLICY_B if mw.policy is POLICY_A else POLICY_A
        SWAPS["count"] += 1
        time.sleep(0.0005)


def _echo(req: str, origin: str) -> bytes:
    return f"{req}|{origin}".encode("latin-1", "replace")


def _wsgi_inner(environ: dict[str, Any], start_response: Any) -> Any:
    path = environ["PATH_INFO"]
    if path == "/swaps":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [str(SWAPS["count"]).encode()]
    if path == "/raise-mid-stream":

        def broken() -> Iterator[bytes]:
            yield b"first"
            raise RuntimeError("mid-stream failure")

        start_response("200 OK", [("Content-Type", "text/plain")])
        return broken()
    time.sleep(random.random() * 0.002)
    body = _echo(environ.get("HTTP_X_REQ", ""), environ.get("HTTP_ORIGIN", ""))
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


async def _asgi_inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    headers = dict(scope["headers"])
    if path == "/swaps":
        body = str(SWAPS["count"]).encode()
    elif path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for _ in range(200):
            await send({"type": "http.response.body", "body": b"x" * 65536, "more_body": True})
            await asyncio.sleep(0.005)
        await send({"type": "http.response.body", "body": b""})
        return
    else:
        await asyncio.sleep(random.random() * 0.002)
        body = _echo(headers.get(b"x-req", b"").decode("latin-1"), headers.get(b"origin", b"").decode("latin-1"))
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


_SWAP = os.environ.get("CORSWARE_SWAP") == "1"
wsgi_app = WSGIMiddleware(_wsgi_inner, POLICY_A if _SWAP else LOAD_POLICY)
asgi_app = ASGIMiddleware(_asgi_inner, POLICY_A if _SWAP else LOAD_POLICY)
if _SWAP:
    _which = os.environ.get("CORSWARE_SWAP_APP", "wsgi")
    threading.Thread(target=_swapper, args=(wsgi_app if _which == "wsgi" else asgi_app,), daemon=True).start()
