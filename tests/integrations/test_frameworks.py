"""The shared HTTP case table through corsware wrapping a real app of each framework, and
what is specific to each (docs/frameworks.md).

ASGI: Litestar, Quart, Sanic (ASGI mode, under uvicorn), Falcon (``falcon.asgi.App``),
Django Channels (HTTP and WebSocket routing). WSGI: Bottle and Pyramid (under gunicorn),
Falcon (``falcon.App``). How each is driven is in ``tests/support/frameworks/runners.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.metadata
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import corsware.asgi
import corsware.wsgi
from corsware import CORSPolicy

from ..support.cases import APP, CASES, EVIL, MAIN, Case
from ..support.checks import check
from ..support.drivers import Request, Response, _asgi_httpx, _headers_of
from ..support.frameworks import common, versions
from ..support.frameworks.runners import (
    RUNNERS,
    FrameworkRunner,
    LiveServers,
    over_loopback,
    oversized,
    websocket_handshake,
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServers]:
    servers = LiveServers(Path(tmp_path_factory.mktemp("frameworks")))
    try:
        yield servers
    finally:
        servers.close()


def _params() -> list[Any]:
    return [
        pytest.param(runner, index, case, id=f"{runner.name}:{case.id}",
                     marks=[pytest.mark.server] if runner.real_server else [])
        for runner in RUNNERS
        for index, case in enumerate(CASES)
    ]  # fmt: skip


def _expected(runner: FrameworkRunner, case: Case) -> Case:
    """The case as this framework must answer it: Falcon's own 500 page adds ``Vary: Accept``."""
    if not (case.app_raises and runner.error_vary and not runner.real_server):
        return case
    vary = ", ".join(filter(None, [case.expect.get("vary"), *runner.error_vary]))
    return dataclasses.replace(case, expect={**case.expect, "vary": vary})


@pytest.mark.parametrize(("runner", "index", "case"), _params())
def test_case_table(live: LiveServers, runner: FrameworkRunner, index: int, case: Case) -> None:
    if case.repeated_headers and not runner.joins_repeated_headers:
        pytest.skip("httpx's WSGITransport keeps only the last repeated header; servers join them (see 'wsgi')")
    req = Request(case.method, case.path, case.headers)
    if runner.in_process is not None:
        check(_expected(runner, case), runner.in_process(case.policy, req))
        return
    server = live.get(runner)
    errors_before = server.log_text().count("AppError: boom")
    resp = over_loopback(server, index, req)
    if resp is None or (oversized(case.headers) and resp.status in (400, 431)):
        # The server refused an oversized request before the app (and corsware) ran: safe.
        assert oversized(case.headers), f"{runner.name} dropped the connection"
        assert resp is None or not [k for k, _ in resp.headers if k.startswith("access-control-")]
        return
    check(case, resp)
    if case.app_raises:
        deadline = time.monotonic() + 5
        while server.log_text().count("AppError: boom") <= errors_before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.log_text().count("AppError: boom") > errors_before, server.log_text()[-3000:]


def test_every_framework_has_a_runner() -> None:
    assert sorted(r.name for r in RUNNERS) == sorted(
        ["litestar", "quart", "sanic", "falcon-asgi", "channels", "bottle", "pyramid", "falcon-wsgi"]
    )


# -- an app with CORS of its own: corsware owns the headers, the framework's are dead -----


def _litestar_with_cors() -> Any:
    from litestar.config.cors import CORSConfig

    from ..support.frameworks.litestar_app import make_app

    return make_app(cors_config=CORSConfig(allow_origins=["*"]))


def _falcon_asgi_with_cors() -> Any:
    from ..support.frameworks.falcon_app import make_asgi_app

    return make_asgi_app(cors_enable=True)


def _falcon_wsgi_with_cors() -> Any:
    from ..support.frameworks.falcon_app import make_wsgi_app

    return make_wsgi_app(cors_enable=True)


def _falcon_wsgi_with_cors_middleware() -> Any:
    import falcon

    from ..support.frameworks.falcon_app import make_wsgi_app

    return make_wsgi_app(middleware=[falcon.CORSMiddleware(allow_origins="*", expose_headers="X-Own")])


#: (id, the app with its own CORS on, ASGI?, the option the warning names)
OWN_CORS = [
    ("litestar cors_config", _litestar_with_cors, True, "cors_config"),
    ("falcon.asgi cors_enable", _falcon_asgi_with_cors, True, "cors_enable=True"),
    ("falcon cors_enable", _falcon_wsgi_with_cors, False, "cors_enable=True"),
    ("falcon CORSMiddleware", _falcon_wsgi_with_cors_middleware, False, "falcon.CORSMiddleware"),
]
_BY_ID = {case.id: case for case in CASES}
OWN_CORS_CASES = [
    _BY_ID[name]
    for name in (
        "allowed simple GET",
        "refused origin: no ACAO, ACAC or ACEH (starlette #2560)",
        "preflight allowed",
        "preflight from refused origin: 403, no CORS headers",
        "no-origin: untouched but Vary: Origin",
    )
]


def _send(app: Any, asgi: bool, req: Request) -> Response:
    common.reset()
    if asgi:
        resp = asyncio.run(_asgi_httpx(app, req))
    else:
        # Bottle's own 500 passes the exception to start_response (exc_info, PEP 3333), which
        # httpx re-raises by default: read the response, as a server does.
        transport = httpx.WSGITransport(app=app, raise_app_exceptions=False)
        with httpx.Client(transport=transport) as client:
            resp = client.request(req.method, "https://api.example.com" + req.path, headers=req.headers)
    return Response(resp.status_code, _headers_of(resp), resp.content, bool(common.CALLS))


@pytest.mark.parametrize(("name", "factory", "asgi", "option"), OWN_CORS, ids=[o[0] for o in OWN_CORS])
@pytest.mark.parametrize("case", OWN_CORS_CASES, ids=lambda c: c.id)
def test_framework_cors_is_replaced_by_corsware(name: str, factory: Any, asgi: bool, option: str, case: Case) -> None:
    """Under corsware the framework's own CORS never shows: the answers are exactly the
    case table's (corsware's), whatever the framework was configured to say."""
    app = factory()
    middleware = corsware.asgi.CORSMiddleware if asgi else corsware.wsgi.CORSMiddleware
    check(
        case,
        _send(middleware(app, policy=CORSPolicy(**case.policy)), asgi, Request(case.method, case.path, case.headers)),
    )


@pytest.mark.parametrize(("name", "factory", "asgi", "option"), OWN_CORS, ids=[o[0] for o in OWN_CORS])
def test_framework_cors_is_live_without_corsware(name: str, factory: Any, asgi: bool, option: str) -> None:
    """The control for the test above: alone, the same app does answer with its own CORS
    headers (so the replacement is corsware's doing, not a framework that stayed silent)."""
    resp = _send(factory(), asgi, Request("GET", "/", [("Origin", EVIL)]))
    assert resp.values("access-control-allow-origin") == ["*"]


@pytest.mark.parametrize(("name", "factory", "asgi", "option"), OWN_CORS, ids=[o[0] for o in OWN_CORS])
def test_framework_cors_dead_config_is_warned(
    name: str, factory: Any, asgi: bool, option: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Regression: wrapping an app whose framework CORS is on logs one WARNING
    naming the option to remove, for the middleware and for ``wrap()`` alike."""
    app = factory()
    module = corsware.asgi if asgi else corsware.wsgi
    with caplog.at_level(logging.WARNING, logger="corsware"):
        module.CORSMiddleware(app, policy=CORSPolicy(**MAIN))
        module.wrap(app, CORSPolicy(**MAIN))
    warnings = [r for r in caplog.records if r.name == "corsware" and r.levelno == logging.WARNING]
    assert len(warnings) == 2, [r.getMessage() for r in caplog.records]
    message = warnings[0].getMessage()
    assert f"Remove {option} from the app" in message
    assert "never takes effect" in message
    assert message.startswith(f"{module.__name__}.CORSMiddleware wraps an app built as ")


def _plain_apps() -> list[tuple[str, Any]]:
    from ..support.frameworks import falcon_app, litestar_app, quart_app

    return [
        ("litestar", litestar_app.make_app()),
        ("falcon.asgi", falcon_app.make_asgi_app()),
        ("falcon", falcon_app.make_wsgi_app()),
        ("quart", quart_app.make_app()),
    ]


def test_apps_without_cors_of_their_own_are_not_warned(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="corsware"):
        for name, app in _plain_apps():
            middleware = corsware.wsgi.CORSMiddleware if name == "falcon" else corsware.asgi.CORSMiddleware
            middleware(app, policy=CORSPolicy(**MAIN))
    assert [r.getMessage() for r in caplog.records if r.name == "corsware"] == []


# -- WebSocket origin checks ----------------------------------------------------------------

#: (id, extra handshake headers, accepted): the MAIN policy (credentials) with
#: check_websocket_origin=True; the Host is api.example.com.
HANDSHAKES = [
    ("allowed origin", [("Origin", APP)], True),
    ("allowed subdomain pattern", [("Origin", "https://a.example.com")], True),
    ("refused origin", [("Origin", EVIL)], False),
    ("no Origin (not a browser)", [], True),
    ("same origin", [("Origin", "https://api.example.com")], True),
    ("null origin", [("Origin", "null")], False),
]


def _quart() -> Any:
    from ..support.frameworks.quart_app import make_app

    return make_app()


def _channels(origin_validator: bool = False) -> Any:
    from ..support.frameworks.channels_app import make_app

    return make_app(origin_validator=origin_validator)


@pytest.mark.parametrize("factory", [_quart, _channels], ids=["quart", "channels"])
@pytest.mark.parametrize(("name", "headers", "accepted"), HANDSHAKES, ids=[h[0] for h in HANDSHAKES])
def test_websocket_origin_checked_in_process(factory: Any, name: str, headers: Any, accepted: bool) -> None:
    app = corsware.asgi.CORSMiddleware(factory(), policy=CORSPolicy(**MAIN), check_websocket_origin=True)
    common.reset()
    result = asyncio.run(websocket_handshake(app, "/ws/echo", [("Host", "api.example.com"), *headers]))
    assert result.accepted is accepted
    assert bool(common.CALLS) is accepted, "a refused handshake must not reach the app"
    if accepted:
        assert result.echoed == "hi"
    else:
        assert result.close_code == 1008  # policy violation; the server answers the handshake with 403


def test_channels_allowed_hosts_origin_validator_is_not_the_check_to_use() -> None:
    """Channels' ``AllowedHostsOriginValidator`` compares the Origin's host with
    ``ALLOWED_HOSTS`` (the names *this* server answers to), not with the origins the CORS
    policy trusts: with ``ALLOWED_HOSTS=["*"]`` it lets every origin in, and with the API's
    own host only it refuses the front end the policy allows. corsware's
    ``check_websocket_origin=True`` uses the policy; the docs say to use it, not the validator."""
    from django.test import override_settings

    def handshake(app: Any, origin: str) -> bool:
        return asyncio.run(
            websocket_handshake(app, "/ws/echo", [("Host", "api.example.com"), ("Origin", origin)])
        ).accepted

    # tests/support/django_project.py has ALLOWED_HOSTS=["*"]: the validator admits a hostile origin.
    assert handshake(_channels(origin_validator=True), EVIL) is True
    corsware_checked = corsware.asgi.CORSMiddleware(_channels(), policy=CORSPolicy(**MAIN), check_websocket_origin=True)
    assert handshake(corsware_checked, EVIL) is False
    with override_settings(ALLOWED_HOSTS=["api.example.com"]):
        validated = _channels(origin_validator=True)  # reads ALLOWED_HOSTS when built
    # With the API's own host only, it refuses the front end the policy trusts...
    assert handshake(validated, APP) is False
    assert handshake(corsware_checked, APP) is True
    # ...so stacking both refuses it too: the two lists disagree, use one (corsware's).
    both = corsware.asgi.CORSMiddleware(validated, policy=CORSPolicy(**MAIN), check_websocket_origin=True)
    assert handshake(both, APP) is False


def _sanic_runner() -> FrameworkRunner:
    return next(r for r in RUNNERS if r.name == "sanic")


@pytest.mark.server
@pytest.mark.parametrize(("name", "headers", "accepted"), HANDSHAKES, ids=[h[0] for h in HANDSHAKES])
def test_websocket_origin_checked_under_sanic(live: LiveServers, name: str, headers: Any, accepted: bool) -> None:
    """Sanic's WebSocket in ASGI mode, over a real socket (uvicorn), behind corsware's check."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    server = live.get(_sanic_runner())
    before = server.calls_count()
    # The server's Host is 127.0.0.1:<port>; "same origin" means that host here.
    origin = dict(headers).get("Origin")
    if name == "same origin":
        origin = f"http://127.0.0.1:{server.port}"
    url = f"ws://127.0.0.1:{server.port}/ws/echo"
    if accepted:
        with connect(url, origin=origin, open_timeout=10) as ws:  # type: ignore[arg-type]
            ws.send("hi")
            assert ws.recv(timeout=10) == "hi"
    else:
        with pytest.raises(InvalidStatus) as refused:
            connect(url, origin=origin, open_timeout=10)  # type: ignore[arg-type]
        assert refused.value.response.status_code == 403
    assert (server.calls_count() > before) is accepted


# -- what the in-process transports cannot show ---------------------------------------------


def test_sanic_needs_the_lifespan_corsware_passes_on() -> None:
    """Sanic finishes building its app in the ASGI lifespan start-up. Without it (httpx's
    in-process transport runs none) every request fails, so the table runs Sanic under
    uvicorn with ``--lifespan on``, which corsware passes through to the app. Even then the
    failure is a 500 carrying the CORS headers, so the browser shows the real error."""
    from ..support.drivers import call_asgi
    from ..support.frameworks.sanic_app import make_app

    app = corsware.asgi.CORSMiddleware(make_app("corsware-tests-no-lifespan"), policy=CORSPolicy(**MAIN))
    common.reset()
    status, headers, _, error = asyncio.run(call_asgi(app, Request("GET", "/", [("Origin", APP)])))
    assert error is not None
    assert common.CALLS == []
    assert status == 500
    assert ("access-control-allow-origin", APP) in headers


@pytest.mark.server
def test_sanic_served_with_its_lifespan(live: LiveServers) -> None:
    server = live.get(_sanic_runner())
    resp = over_loopback(server, 0, Request("GET", "/", []))
    assert resp is not None
    assert resp.status == 200
    log = server.log_text()
    assert "Application startup complete." in log
    assert re.search(r"mode: \w+, ASGI", log), log[-2000:]


def test_bottle_catchall_answers_its_own_500_with_cors_headers() -> None:
    """Bottle's default ``catchall=True`` renders its own 500 page and never re-raises:
    corsware merges the CORS headers into that page like into any response (the table runs
    ``catchall=False`` under gunicorn, where corsware answers the 500)."""
    from ..support.frameworks.bottle_app import make_app

    app = corsware.wsgi.CORSMiddleware(make_app(catchall=True), policy=CORSPolicy(**MAIN))
    resp = _send(app, False, Request("GET", "/raise", [("Origin", APP)]))
    case = _BY_ID["app exception: 500 with CORS headers, error re-raised"]
    check(case, resp)
    assert b"Internal Server Error" in resp.body


# -- the docs ------------------------------------------------------------------------------


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version.split("+", maxsplit=1)[0])[:3])


def test_docs_table_shows_the_verified_versions() -> None:
    """docs/frameworks.md (and its Chinese twin) say which version each framework was
    verified at. Every other column must match exactly; a version shown must not be newer
    than the one installed (the suite just verified the installed one). A newer release on
    PyPI must not fail a fresh machine's run: the table then understates, and
    ``python -m tests.support.frameworks.versions`` brings it up to date."""
    for page in versions.PAGES:
        shown, expected = versions.table_in(page)
        shown_rows = [line.split("|")[1:-1] for line in shown.strip().splitlines()[2:]]
        expected_rows = [line.split("|")[1:-1] for line in expected.strip().splitlines()[2:]]
        assert len(shown_rows) == len(expected_rows), f"{page}: run python -m tests.support.frameworks.versions"
        for got, want in zip(shown_rows, expected_rows, strict=True):
            assert [got[0], got[1], got[3]] == [want[0], want[1], want[3]], f"{page}: {got} vs {want}"
            assert _release(got[2]) <= _release(want[2]), (
                f"{page} claims {got[0].strip()} {got[2].strip()} was verified, but {want[2].strip()} is installed"
            )


def test_docs_table_lists_every_runner() -> None:
    names = {r.framework for r in RUNNERS}
    assert {row[0] for row in versions.rows()} == names
    for runner in RUNNERS:
        assert importlib.metadata.version(runner.dist)
