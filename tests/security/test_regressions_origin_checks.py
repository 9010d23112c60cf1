"""Regressions: the origin callback and the WebSocket origin check (corsware's own findings).

- *callback asked about null*: ``allow_origin_callback`` was asked about ``Origin: null``,
  so a deny-list callback (``origin not in BLOCKED``) granted it, with credentials, without
  ``dangerously_allow_null_origin``.
- *callback truthiness*: a callback's (or a Django ``check_request_enabled`` receiver's)
  result was judged by truthiness, so ``"false"``, ``"0"``, ``b"0"``, ``{"enabled": False}``
  and ``NotImplemented`` allowed the origin. Only ``True`` allows now, and a non-bool
  result is logged once per callback.
- *websocket without credentials*: a handshake carries the user's cookies whatever the
  policy says, yet ``check_websocket_origin=True`` let through every origin CORS allowed
  without credentials (``allow_origins=["*"]``: every site).
- *websocket plain-http own origin*: the same-origin shortcut built the site's origin from
  ``scope["scheme"]``, which is ``ws`` behind a TLS-terminating proxy, so ``http://<host>``
  (a page any network attacker can serve) counted as the site itself.

Each case runs through every place the rule applies: the core (``policy.evaluate`` and
``aevaluate``), the bare WSGI and ASGI adapters, Django under WSGI and ASGI, and for
WebSockets a real Starlette ``WebSocketRoute`` driven by ``starlette.testclient``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from corsware import CORSPolicy
from corsware.asgi import CORSMiddleware as ASGIMiddleware

from ..support.drivers import RUNNERS, Request

APP = "https://app.example.com"
EVIL = "https://evil.example"
API_HOST = "api.example.com"
BLOCKED = frozenset({EVIL})
RUNNER = {runner.name: runner for runner in RUNNERS}

#: Where an HTTP request is decided: the core, the bare adapters, Django.
SYNC_PLACES = ("evaluate", "aevaluate", "wsgi", "asgi", "django-wsgi", "django-asgi")
#: The places that can await an async callback.
ASYNC_PLACES = ("aevaluate", "asgi", "django-asgi")

#: Truthy results that are not True: each used to allow the origin.
ODD_RESULTS = [
    pytest.param("false", id="str 'false'"),
    pytest.param("0", id="str '0'"),
    pytest.param(b"0", id="bytes b'0'"),
    pytest.param({"enabled": False}, id="dict enabled False"),
    pytest.param(NotImplemented, id="NotImplemented"),
    pytest.param(1, id="int 1"),
]

KINDS = {
    "actual": ("GET", []),
    "preflight": ("OPTIONS", [("Access-Control-Request-Method", "PUT")]),
}


def decide(place: str, policy: dict[str, Any], origin: str, kind: str) -> tuple[bool, str | None]:
    """(allowed, Access-Control-Allow-Origin) for one request decided at ``place``."""
    method, extra = KINDS[kind]
    headers = [("Origin", origin), *extra]
    if place in ("evaluate", "aevaluate"):
        cors = CORSPolicy(**policy)
        if place == "evaluate":
            decision = cors.evaluate(method, "/x", headers)
        else:
            decision = asyncio.run(cors.aevaluate(method, "/x", headers))
        return decision.allowed, decision.header("Access-Control-Allow-Origin")
    response = RUNNER[place].run(policy, Request(method, "/x", headers))
    assert response.error is None, response.error
    acao = response.values("access-control-allow-origin")
    # A refusal is an answer, not a crash: Django turns an exception into a 500.
    assert response.status in ((200,) if kind == "actual" else (204, 403)), response.status
    allowed = bool(acao) and (kind == "actual" or response.status == 204)
    return allowed, acao[0] if acao else None


def sync_callback(result: object) -> Callable[[str], object]:
    def answer(origin: str) -> object:
        return result

    return answer


def async_callback(result: object) -> Callable[[str], object]:
    async def answer(origin: str) -> object:
        await asyncio.sleep(0)
        return result

    return answer


# -- B1: the callback is never asked about null without the opt-in ---------------------------


def deny_list(origin: str) -> bool:
    """A deny-list callback: allows everything not blocked (null included, before the fix)."""
    return origin not in BLOCKED


async def async_deny_list(origin: str) -> bool:
    await asyncio.sleep(0)
    return origin not in BLOCKED


NULL_CASES = [
    *(pytest.param(place, deny_list, id=f"{place}-sync") for place in SYNC_PLACES),
    *(pytest.param(place, async_deny_list, id=f"{place}-async") for place in ASYNC_PLACES),
]


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize(("place", "callback"), NULL_CASES)
def test_regression_callback_never_grants_null_without_opt_in(place: str, callback: Any, kind: str) -> None:
    policy = {"allow_origins": [APP], "allow_methods": ["PUT"], "allow_credentials": True,
              "allow_origin_callback": callback}  # fmt: skip
    assert decide(place, policy, "null", kind) == (False, None)
    # Controls: the callback still decides real origins, and the opt-in still works.
    assert decide(place, policy, "https://partner.example", kind) == (True, "https://partner.example")
    assert decide(place, policy, EVIL, kind) == (False, None)
    opted_in = {**policy, "dangerously_allow_null_origin": True}
    assert decide(place, opted_in, "null", kind) == (True, "null")


def test_regression_callback_asked_about_null_only_with_opt_in() -> None:
    seen: list[str] = []

    def record(origin: str) -> bool:
        seen.append(origin)
        return False

    CORSPolicy(allow_origin_callback=record).evaluate("GET", "/", {"Origin": "null"})
    assert seen == []
    CORSPolicy(allow_origin_callback=record, dangerously_allow_null_origin=True).evaluate(
        "GET", "/", {"Origin": "null"}
    )
    assert seen == ["null"]


# -- B2: only True allows ---------------------------------------------------------------------

ODD_PLACES = [
    *(pytest.param(place, sync_callback, id=f"{place}-sync") for place in SYNC_PLACES),
    *(pytest.param(place, async_callback, id=f"{place}-async") for place in ASYNC_PLACES),
]


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize(("place", "make"), ODD_PLACES)
@pytest.mark.parametrize("result", ODD_RESULTS)
def test_regression_callback_truthy_non_bool_refuses(place: str, make: Any, result: object, kind: str) -> None:
    policy = {"allow_origins": [APP], "allow_methods": ["PUT"], "allow_credentials": True}
    assert decide(place, {**policy, "allow_origin_callback": make(result)}, EVIL, kind) == (False, None)
    # Control: True (the bool) allows through the very same path.
    assert decide(place, {**policy, "allow_origin_callback": make(True)}, EVIL, kind) == (True, EVIL)


@pytest.fixture
def receiver_result() -> Iterator[list[object]]:
    """A connected check_request_enabled receiver returning ``holder[0]``."""
    from corsware.django.signals import check_request_enabled

    holder: list[object] = [None]

    def enable_for_partners(sender: Any, request: Any, **kwargs: Any) -> object:
        return holder[0]

    check_request_enabled.connect(enable_for_partners)
    try:
        yield holder
    finally:
        check_request_enabled.disconnect(enable_for_partners)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("place", ["django-wsgi", "django-asgi"])
@pytest.mark.parametrize("result", ODD_RESULTS)
def test_regression_django_receiver_truthy_non_bool_refuses(
    receiver_result: list[object], place: str, result: object, kind: str
) -> None:
    policy = {"allow_origins": [APP], "allow_methods": ["PUT"]}
    receiver_result[0] = result
    assert decide(place, policy, EVIL, kind) == (False, None)
    receiver_result[0] = True  # control
    assert decide(place, policy, EVIL, kind) == (True, EVIL)


@pytest.mark.parametrize("place", ["django-wsgi", "django-asgi"])
def test_regression_django_receiver_never_enables_null(receiver_result: list[object], place: str) -> None:
    receiver_result[0] = True
    policy = {"allow_origins": [APP], "allow_credentials": True}
    assert decide(place, policy, "null", "actual") == (False, None)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and r.name == "corsware"]


def test_regression_callback_non_bool_warned_once_per_callback(caplog: pytest.LogCaptureFixture) -> None:
    def tenant_lookup(origin: str) -> object:
        return "false"

    def other_lookup(origin: str) -> object:
        return False  # a bool: refused without a warning

    policy = CORSPolicy(allow_origins=[APP], allow_origin_callback=tenant_lookup)
    quiet = CORSPolicy(allow_origins=[APP], allow_origin_callback=other_lookup)
    with caplog.at_level(logging.WARNING, logger="corsware"):
        for origin in (EVIL, "https://b.example", EVIL):
            assert not policy.evaluate("GET", "/", {"Origin": origin}).allowed
            assert not quiet.evaluate("GET", "/", {"Origin": origin}).allowed
    (message,) = _warnings(caplog)
    assert "allow_origin_callback" in message
    assert "tenant_lookup" in message
    assert "returned str" in message


def test_regression_django_receiver_non_bool_warned_with_its_name(
    receiver_result: list[object], caplog: pytest.LogCaptureFixture
) -> None:
    receiver_result[0] = {"enabled": False}
    with caplog.at_level(logging.WARNING, logger="corsware"):
        decide("django-wsgi", {"allow_origins": [APP]}, EVIL, "actual")
        decide("django-asgi", {"allow_origins": [APP]}, EVIL, "actual")
    (message,) = _warnings(caplog)
    assert "check_request_enabled receiver" in message
    assert "enable_for_partners" in message
    assert "returned dict" in message


def test_warned_record_is_thread_safe_and_bounded(caplog: pytest.LogCaptureFixture) -> None:
    from corsware import _callback as callback_module

    def racy(origin: str) -> object:
        return "0"

    barrier = threading.Barrier(8)

    def judge_many() -> None:
        barrier.wait()
        for _ in range(200):
            callback_module.judge("0", racy)

    with caplog.at_level(logging.WARNING, logger="corsware"):
        threads = [threading.Thread(target=judge_many) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(_warnings(caplog)) == 1
    callbacks = [sync_callback("0") for _ in range(callback_module._WARNED_LIMIT + 50)]
    for callback in callbacks:
        callback_module.judge("0", callback)
    assert len(callback_module._warned) <= callback_module._WARNED_LIMIT


# -- A: WebSockets ----------------------------------------------------------------------------


def _starlette_ws(**options: Any) -> Any:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket

    async def hello(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    middleware = [Middleware(ASGIMiddleware, check_websocket_origin=True, **options)]
    return Starlette(routes=[WebSocketRoute("/ws", hello)], middleware=middleware)


def handshake(options: dict[str, Any], url: str, origin: str | None) -> bool:
    """Open a WebSocket through a real Starlette route; True if the app accepted it."""
    from starlette.websockets import WebSocketDisconnect

    with warnings.catch_warnings():
        # Starlette 1.x prefers the httpx2 package for its test client; httpx works the same.
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        from starlette.testclient import TestClient

    headers = {} if origin is None else {"origin": origin}
    client = TestClient(_starlette_ws(**options))
    code = None
    try:
        with client.websocket_connect(url, headers=headers) as ws:
            assert ws.receive_text() == "hello"
    except WebSocketDisconnect as exc:
        code = exc.code
    assert code in (None, 1008)  # refused: closed before accept, "policy violation"
    return code is None


STAR = {"allow_origins": ["*"]}
LISTED = {"allow_origins": [APP]}
CREDENTIALED = {"allow_origins": [APP, "https://*.tenant.example"], "allow_credentials": True}
CALLBACK = {"allow_origin_callback": lambda o: o == "https://partner.example", "allow_credentials": True}
ASYNC_CALLBACK = {"allow_origin_callback": async_deny_list, "allow_credentials": True}
# The documented way to keep a public API and a credentialed socket: a per-path policy.
PUBLIC_API_PRIVATE_SOCKET = {"allow_origins": ["*"], "paths": {"/ws": CREDENTIALED}}
# Behind a TLS-terminating proxy the server sees ws:// (scope["scheme"] == "ws").
BEHIND_PROXY = f"ws://{API_HOST}/ws"
DIRECT_TLS = f"wss://{API_HOST}/ws"

WEBSOCKET_CASES = [
    # Refused: the findings.
    pytest.param(STAR, BEHIND_PROXY, EVIL, False, id="'*' never lets any site open a cookie-carrying socket"),
    pytest.param(LISTED, BEHIND_PROXY, APP, False, id="listed origin of a policy without credentials: refused"),
    pytest.param(STAR, BEHIND_PROXY, f"http://{API_HOST}", False,
                 id="http://<host> behind a TLS proxy (scheme ws) is not the own origin"),
    pytest.param(CREDENTIALED, BEHIND_PROXY, f"http://{API_HOST}", False,
                 id="http://<host> spoof refused under a credentialed policy too"),
    pytest.param(CREDENTIALED, DIRECT_TLS, f"http://{API_HOST}", False, id="http://<host> refused over wss too"),
    pytest.param(CREDENTIALED, BEHIND_PROXY, EVIL, False, id="unlisted origin of a credentialed policy"),
    pytest.param(CREDENTIALED, BEHIND_PROXY, "null", False, id="null"),
    pytest.param(ASYNC_CALLBACK, BEHIND_PROXY, "null", False, id="null, async deny-list callback"),
    pytest.param(CREDENTIALED, BEHIND_PROXY, f"https://{API_HOST}:8443", False, id="own host, other port"),
    pytest.param(CREDENTIALED, BEHIND_PROXY, f"https://{API_HOST}.evil.example", False, id="own host as a prefix"),
    # Passed.
    pytest.param(CREDENTIALED, BEHIND_PROXY, APP, True, id="listed origin of a credentialed policy"),
    pytest.param(CREDENTIALED, BEHIND_PROXY, "https://a.tenant.example", True, id="'*.' pattern, credentialed"),
    pytest.param(CALLBACK, BEHIND_PROXY, "https://partner.example", True, id="callback, credentialed"),
    pytest.param(ASYNC_CALLBACK, BEHIND_PROXY, "https://partner.example", True, id="async callback, credentialed"),
    pytest.param(PUBLIC_API_PRIVATE_SOCKET, BEHIND_PROXY, APP, True, id="per-path credentialed policy for /ws"),
    pytest.param(PUBLIC_API_PRIVATE_SOCKET, BEHIND_PROXY, EVIL, False, id="per-path policy: '*' elsewhere is moot"),
    pytest.param(STAR, BEHIND_PROXY, None, True, id="no Origin (not a browser)"),
    pytest.param(LISTED, BEHIND_PROXY, f"https://{API_HOST}", True, id="https://<host> behind a TLS proxy"),
    pytest.param(LISTED, DIRECT_TLS, f"https://{API_HOST}", True, id="https://<host> over wss"),
    pytest.param(LISTED, "ws://localhost:8000/ws", "http://localhost:8000", True, id="http loopback: localhost"),
    pytest.param(LISTED, "ws://127.0.0.1:8000/ws", "http://127.0.0.1:8000", True, id="http loopback: 127.0.0.1"),
    pytest.param(LISTED, "ws://[::1]:8000/ws", "http://[::1]:8000", True, id="http loopback: [::1]"),
]  # fmt: skip


@pytest.mark.parametrize(("options", "url", "origin", "accepted"), WEBSOCKET_CASES)
def test_regression_websocket_origin_check(
    options: dict[str, Any], url: str, origin: str | None, accepted: bool
) -> None:
    assert handshake(options, url, origin) is accepted


def test_websocket_refusal_without_credentials_names_the_fix(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="corsware"):
        assert handshake(STAR, BEHIND_PROXY, EVIL) is False
    (line,) = [r.getMessage() for r in caplog.records if "websocket" in r.getMessage()]
    assert "allow_credentials=True" in line
    assert EVIL in line
