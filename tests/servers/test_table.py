"""The shared HTTP case table, over loopback, against real servers.

One server per (server kind, policy), started through corsware's own mounting (see
``tests/support/server_kinds.py``): gunicorn (sync worker) and uvicorn run the whole table. The
gthread worker, uWSGI, nginx (in front of gunicorn and of uWSGI), granian (ASGI and WSGI,
HTTP/1.1 and h2c), hypercorn (HTTP/1.1 and h2c) and daphne run the cases of
three representative policies: ``MAIN`` (preflights allowed and refused, actual requests,
errors, streaming, Vary merging, app-set CORS headers, repeated and oversized headers),
``STAR`` (the static ``*`` answer) and ``PATHS`` (per-path rules, where a proxy could
change the path). The other policies only change what the core decides, which does not
depend on the server; what these servers change is the transport, and the three cover it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..support.cases import CASES, MAIN, PATHS, STAR, Case
from ..support.checks import check
from ..support.drivers import Response
from ..support.server_kinds import HTTP2_KINDS, KINDS, ServerPool, is_jsonable

pytestmark = pytest.mark.server

FULL_KINDS = ("gunicorn-sync", "uvicorn")
SUBSET_KINDS = (
    "gunicorn-gthread", "uwsgi", "nginx-gunicorn", "nginx-uwsgi",
    "granian-asgi", "granian-asgi-h2c", "granian-wsgi", "granian-wsgi-h2c",
    "hypercorn", "hypercorn-h2c", "daphne",
)  # fmt: skip
SUBSET_POLICIES = (MAIN, STAR, PATHS)

#: nginx's uwsgi_pass sends each header as its own uwsgi variable and uWSGI keeps only the
#: last one, so two Origin headers reach the app as one (see test_nginx.py).
KEEPS_LAST_REPEATED = frozenset({"nginx-uwsgi"})

#: Servers refuse large request headers before corsware sees them (gunicorn: 431 over
#: 8 KiB; nginx: 400 over 8 KiB; uWSGI: drops requests over its 4 KiB buffer; uvicorn/h11:
#: 400 or a reset when a request arrives in pieces larger than 16 KiB, else it passes it
#: on). Such a refusal is a safe answer (no CORS headers, app not reached); when the server
#: does pass the request on, corsware must refuse it as the table says.
HEADER_LIMIT = 4096

#: Over HTTP/2 the client (``h2``, pure Python) HPACK-encodes the header block itself, which
#: for a 1 MiB header takes minutes; HTTP/2 servers refuse header blocks beyond their
#: SETTINGS_MAX_HEADER_LIST_SIZE long before that (granian: 16 KiB by default). The 64 KiB
#: origin case still runs over HTTP/2, and the 1 MiB cases run over HTTP/1.1 everywhere.
H2_SEND_LIMIT = 128 * 1024

#: granian's WSGI interface over HTTP/2 answers an exception raised from the response
#: iterable (corsware starts the 500, then re-raises the app's error so the server logs it)
#: by resetting the stream (RST_STREAM INTERNAL_ERROR) instead of sending that 500; over
#: HTTP/1.1 it sends the 500. The client sees a failed request, not a readable error.
RESETS_ON_APP_ERROR = frozenset({"granian-wsgi-h2c"})


def _group(index: int, case: Case) -> str:
    return json.dumps(case.policy, sort_keys=True) if is_jsonable(case.policy) else f"case-{index}"


def _params() -> list[Any]:
    params = []
    for kind in (*FULL_KINDS, *SUBSET_KINDS):
        chosen = [
            (i, c) for i, c in enumerate(CASES) if kind in FULL_KINDS or any(c.policy is p for p in SUBSET_POLICIES)
        ]
        # Group by policy (stable within a group) so each server starts once.
        order: dict[str, int] = {}
        for i, c in chosen:
            order.setdefault(_group(i, c), len(order))
        chosen.sort(key=lambda ic: order[_group(*ic)])
        params += [pytest.param(kind, i, c, id=f"{kind}:{c.id}") for i, c in chosen]
    return params


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerPool]:
    servers = ServerPool(Path(tmp_path_factory.mktemp("servers")))
    try:
        yield servers
    finally:
        servers.close()


def _oversized(case: Case) -> bool:
    return any(len(name) + len(value) > HEADER_LIMIT for name, value in case.headers)


@pytest.mark.parametrize(("kind", "index", "case"), _params())
def test_case_over_loopback(pool: ServerPool, kind: str, index: int, case: Case) -> None:
    assert kind in KINDS
    if case.repeated_headers and kind in KEEPS_LAST_REPEATED:
        pytest.skip("uwsgi_pass keeps the last of repeated headers; asserted in tests/servers/test_nginx.py")
    if kind in HTTP2_KINDS and sum(len(n) + len(v) for n, v in case.headers) > H2_SEND_LIMIT:
        pytest.skip("a header block this large is not HPACK-encoded by the test client (H2_SEND_LIMIT)")
    server = pool.get(kind, _group(index, case), case.policy, index)
    before = server.calls_count()
    errors_before = server.log_text().count("AppError: boom")
    # Leading/trailing whitespace is not part of a field value (RFC 9110 §5.5): every
    # server strips it, and httpx refuses to send it; so send the value as parsed.
    headers = [(name, value.strip(" \t")) for name, value in case.headers]
    dropped: httpx.TransportError | None = None
    h2 = kind in HTTP2_KINDS  # h2c with prior knowledge
    limits = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(base_url=server.url, timeout=10, limits=limits, http1=not h2, http2=h2) as client:
        try:
            resp = client.request(case.method, case.path, headers=headers)
            assert resp.http_version == ("HTTP/2" if h2 else "HTTP/1.1"), resp.http_version
        except httpx.TransportError as exc:
            dropped = exc
    if dropped is not None and case.app_raises and kind in RESETS_ON_APP_ERROR:
        assert "StreamReset" in repr(dropped), repr(dropped)
        logged = server.wait_logged("AppError: boom", more_than=errors_before)
        assert logged > errors_before, f"{kind} did not log the app's exception:\n{server.log_text()[-3000:]}"
        return
    if dropped is not None:
        # Only a server refusing an oversized request may drop the connection.
        assert _oversized(case), f"{kind} dropped the connection: {dropped!r}"
        assert server.calls_count() == before
        return
    got = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in resp.headers.raw]
    response = Response(resp.status_code, got, resp.content, server.calls_count() > before)
    if _oversized(case) and resp.status_code in (400, 431):
        # The server refused it before the app (and corsware) ran: a safe answer too.
        assert not response.app_called
        assert [k for k, _ in got if k.startswith("access-control-")] == []
        return
    check(case, response)
    if case.app_raises:
        # The client got a readable 500; the server must still have logged the app's error.
        logged = server.wait_logged("AppError: boom", more_than=errors_before)
        assert logged > errors_before, f"{kind} did not log the app's exception:\n{server.log_text()[-3000:]}"
