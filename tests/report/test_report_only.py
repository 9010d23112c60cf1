"""Report-only mode (``report_only=``) and decision events (``on_decision=``): the layers, the
records on ``corsware.report``, the bounded tally, and the integrations (Flask, Django,
mounting). The CLI over the records is tested in tests/cli/test_traffic.py."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import threading
from collections.abc import Iterable
from typing import Any

import httpx
import pytest

from corsware import CORSPolicy, DecisionEvent
from corsware import asgi as cw_asgi
from corsware import wsgi as cw_wsgi
from corsware._report import OTHER_ORIGINS, RECORD_KEY, Tally

APP = "https://app.example.com"
ADMIN = "https://admin.example.com"
EVIL = "https://evil.example.net"
CANDIDATE = {"allow_origins": [APP], "allow_credentials": True, "allow_methods": ["GET", "PUT"]}


def reflect_any(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """The classic hand-written hook: reflect any Origin, with credentials; answers OPTIONS itself."""
    headers = [("Content-Type", "text/plain")]
    origin = environ.get("HTTP_ORIGIN")
    if origin is not None:
        headers += [("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Credentials", "true")]
        if environ["REQUEST_METHOD"] == "OPTIONS":
            headers += [("Access-Control-Allow-Methods", "GET, PUT, DELETE")]
    start_response("200 OK", headers)
    return [b"app:" + environ["REQUEST_METHOD"].encode()]


def no_cors(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"plain"]


async def reflect_any_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    headers = [(b"content-type", b"text/plain")]
    origin = dict(scope["headers"]).get(b"origin")
    if origin is not None:
        headers += [(b"access-control-allow-origin", origin), (b"access-control-allow-credentials", b"true")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"app:" + scope["method"].encode()})


def wsgi_call(app: Any, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="https://api.test") as client:
        return client.request(method, path, headers=headers)


def asgi_call(app: Any, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://api.test") as client:
            return await client.request(method, path, headers=headers)

    return asyncio.run(go())


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    caplog.set_level(logging.INFO, logger="corsware.report")
    out: list[dict[str, Any]] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            out.append(json.loads(record.getMessage()))

    handler = Keep()
    logging.getLogger("corsware.report").addHandler(handler)
    yield out
    logging.getLogger("corsware.report").removeHandler(handler)


# -- report-only without policy=: nothing changes, differences are recorded ---------------

# (origin, method, extra request headers, expected outcome)
PASS_THROUGH = [
    pytest.param(APP, "GET", {}, "same", id="allowed-by-both"),
    pytest.param(EVIL, "GET", {}, "would_refuse", id="reflected-today-refused-by-candidate"),
    pytest.param(APP, "OPTIONS", {"Access-Control-Request-Method": "PUT"}, "same", id="preflight-allowed-by-both"),
    pytest.param(APP, "OPTIONS", {"Access-Control-Request-Method": "DELETE"}, "would_refuse",
                 id="preflight-method-the-candidate-refuses"),
    pytest.param(EVIL, "OPTIONS", {"Access-Control-Request-Method": "PUT"}, "would_refuse", id="preflight-evil"),
]  # fmt: skip


@pytest.mark.parametrize(("origin", "method", "extra", "expected"), PASS_THROUGH)
@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
def test_report_only_without_policy_passes_everything_through(
    kind: str, origin: str, method: str, extra: dict[str, str], expected: str, records: list[dict[str, Any]]
) -> None:
    headers = {"Origin": origin, **extra}
    if kind == "wsgi":
        bare = wsgi_call(reflect_any, method, "/api/me", headers)
        mw: Any = cw_wsgi.CORSMiddleware(reflect_any, report_only=CANDIDATE)
        got = wsgi_call(mw, method, "/api/me", headers)
    else:
        bare = asgi_call(reflect_any_asgi, method, "/api/me", headers)
        mw = cw_asgi.CORSMiddleware(reflect_any_asgi, report_only=CANDIDATE)
        got = asgi_call(mw, method, "/api/me", headers)
    assert not mw.enforcing
    # Untouched: the app answered (preflights included), with exactly its own headers.
    assert (got.status_code, got.content, got.headers.multi_items()) == (
        bare.status_code, bare.content, bare.headers.multi_items(),
    )  # fmt: skip
    assert got.content.startswith(b"app:")
    assert [r["outcome"] for r in records] == [expected]
    record = records[0]
    assert (record["origin"], record["method"], record["path"], record[RECORD_KEY]) == (origin, method, "/api/me", 1)
    assert record["sent"]["acao"] == origin
    assert record["sent"]["acac"] is True
    assert record["candidate"]["allowed"] is (expected == "same")
    assert mw.report.tally()[0]["outcome"] == expected


@pytest.mark.parametrize(
    ("app", "candidate", "origin", "expected"),
    [
        pytest.param(no_cors, CANDIDATE, APP, "would_allow", id="refused-today-allowed-by-candidate"),
        pytest.param(reflect_any, {"allow_origins": [APP]}, APP, "would_drop_credentials", id="loses-credentials"),
        pytest.param(no_cors, {"allow_origins": [ADMIN]}, APP, "same", id="refused-by-both"),
    ],
)
def test_report_only_outcomes(app: Any, candidate: dict[str, Any], origin: str, expected: str) -> None:
    mw = cw_wsgi.CORSMiddleware(app, report_only=candidate)
    wsgi_call(mw, "GET", "/x", {"Origin": origin})
    assert [row["outcome"] for row in mw.report.tally()] == [expected]


def test_report_only_with_policy_enforces_the_policy_and_reports_the_candidate(records: list[dict[str, Any]]) -> None:
    policy = CORSPolicy(allow_origins=[APP, ADMIN], allow_credentials=True)
    mw = cw_wsgi.CORSMiddleware(no_cors, policy=policy, report_only=CANDIDATE)
    assert mw.enforcing
    assert mw.policy is policy
    allowed = wsgi_call(mw, "GET", "/x", {"Origin": ADMIN})
    assert allowed.headers["access-control-allow-origin"] == ADMIN  # enforced
    refused = wsgi_call(mw, "GET", "/x", {"Origin": EVIL})
    assert "access-control-allow-origin" not in refused.headers
    preflight = wsgi_call(mw, "OPTIONS", "/x", {"Origin": ADMIN, "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 204
    assert preflight.content == b""
    outcomes = [(r["origin"], r["kind"], r["outcome"]) for r in records]
    # ADMIN: allowed by the policy in force, refused by the candidate; EVIL: refused by both.
    assert outcomes == [(ADMIN, "actual", "would_refuse"), (EVIL, "actual", "same"),
                        (ADMIN, "preflight", "would_refuse")]  # fmt: skip
    assert records[2]["request_method"] == "GET"


def test_without_report_only_the_middleware_is_the_plain_class() -> None:
    """Construct-time composition: the hot ``__call__`` of a plain middleware is untouched."""
    plain = cw_wsgi.CORSMiddleware(no_cors, allow_origins=[APP])
    assert type(plain) is cw_wsgi.CORSMiddleware
    assert plain.report is None
    layered = cw_wsgi.CORSMiddleware(no_cors, allow_origins=[APP], report_only=CANDIDATE)
    assert type(layered) is not cw_wsgi.CORSMiddleware
    assert isinstance(layered, cw_wsgi.CORSMiddleware)
    assert type(cw_asgi.CORSMiddleware(reflect_any_asgi, allow_origins=[APP])) is cw_asgi.CORSMiddleware


class CountingPolicy:
    """Stands in for the candidate: counts the decisions asked of it (a plan taken for a
    request through the request-time API, or an ``evaluate``)."""

    def __init__(self, policy: CORSPolicy) -> None:
        self.policy = policy
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        if name in ("plan", "route", "evaluate", "aevaluate"):
            self.calls += 1
        return getattr(self.policy, name)


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
def test_requests_without_origin_are_not_evaluated(kind: str) -> None:
    if kind == "wsgi":
        mw: Any = cw_wsgi.CORSMiddleware(reflect_any, report_only=CANDIDATE)
        call: Any = wsgi_call
    else:
        mw = cw_asgi.CORSMiddleware(reflect_any_asgi, report_only=CANDIDATE)
        call = asgi_call
    counting = CountingPolicy(mw.report.candidate)
    mw.report.candidate = counting
    call(mw, "GET", "/", {})
    call(mw, "OPTIONS", "/", {"Access-Control-Request-Method": "PUT"})
    assert counting.calls == 0
    assert mw.report.tally() == []
    call(mw, "GET", "/", {"Origin": APP})
    assert counting.calls == 1


def test_tally_caps_distinct_origins_and_counts_the_rest_as_other() -> None:
    mw = cw_wsgi.CORSMiddleware(reflect_any, report_only=CANDIDATE)
    mw.report._tally.max_origins = 3
    for i in range(50):
        wsgi_call(mw, "GET", "/", {"Origin": f"https://o{i}.example"})
    rows = mw.report.tally()
    named = {row["origin"] for row in rows} - {OTHER_ORIGINS}
    assert len(named) == 3
    assert sum(row["count"] for row in rows) == 50
    assert next(row for row in rows if row["origin"] == OTHER_ORIGINS)["count"] == 47
    assert {"first_seen", "last_seen", "path_rule", "reason"} <= set(rows[0])


def test_tally_is_thread_safe() -> None:
    tally = Tally(max_origins=10)

    def hammer(n: int) -> None:
        for i in range(2000):
            tally.add(f"https://o{(n * 7 + i) % 40}.example", None, "would_refuse", "origin_not_allowed", 1.0)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = tally.snapshot()
    assert sum(row["count"] for row in rows) == 16000
    assert len(rows) == 11  # 10 named origins + "(other)"


def test_report_only_refuses_bad_input_at_construction() -> None:
    with pytest.raises(TypeError, match=r"report_only must be a corsware\.CORSPolicy or a mapping"):
        cw_wsgi.CORSMiddleware(no_cors, report_only=["https://a.example"])  # type: ignore[arg-type]
    with pytest.raises(Exception, match="allow_origin"):
        cw_wsgi.CORSMiddleware(no_cors, report_only={"allow_origin": [APP]})

    async def cb(origin: str) -> bool:
        return True

    with pytest.raises(TypeError, match="async"):
        cw_wsgi.CORSMiddleware(no_cors, report_only=CORSPolicy(allow_origin_callback=cb))


# -- decision events ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
@pytest.mark.parametrize(
    ("every", "expected"),
    [
        pytest.param(False, [(EVIL, "actual", False, "origin_not_allowed"),
                             (APP, "preflight", False, "method_not_allowed")], id="refusals"),
        pytest.param(True, [(APP, "actual", True, "allowed"), (EVIL, "actual", False, "origin_not_allowed"),
                            (APP, "preflight", False, "method_not_allowed")], id="every-decision"),
    ],
)  # fmt: skip
def test_on_decision_events(kind: str, every: bool, expected: list[tuple[Any, ...]]) -> None:
    events: list[DecisionEvent] = []
    options: dict[str, Any] = {"allow_origins": [APP], "on_decision": events.append, "on_decision_all": every}
    if kind == "wsgi":
        mw: Any = cw_wsgi.CORSMiddleware(no_cors, **options)
        call: Any = wsgi_call
    else:
        mw = cw_asgi.CORSMiddleware(reflect_any_asgi, **options)
        call = asgi_call
    call(mw, "GET", "/", {})  # not CORS: no event
    call(mw, "GET", "/a", {"Origin": APP})
    call(mw, "GET", "/b", {"Origin": EVIL})
    refused = call(mw, "OPTIONS", "/c", {"Origin": APP, "Access-Control-Request-Method": "DELETE"})
    assert refused.status_code == 403  # enforced as without the hook
    assert [(e.origin, e.kind, e.allowed, e.reason) for e in events] == expected
    with pytest.raises(dataclasses.FrozenInstanceError):
        events[0].reason = "x"  # type: ignore[misc]


def test_on_decision_hook_failure_is_logged_once_and_never_breaks_the_response(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(event: DecisionEvent) -> None:
        raise RuntimeError("metrics backend down")

    mw = cw_wsgi.CORSMiddleware(no_cors, allow_origins=[APP], on_decision=broken)
    for _ in range(3):
        response = wsgi_call(mw, "GET", "/", {"Origin": EVIL})
        assert response.status_code == 200
        assert response.content == b"plain"
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and "on_decision" in r.getMessage()]
    assert len(errors) == 1


def test_on_decision_needs_an_enforced_policy() -> None:
    with pytest.raises(TypeError, match="on_decision reports the decisions of the policy in force"):
        cw_wsgi.CORSMiddleware(no_cors, report_only=CANDIDATE, on_decision=print)
    with pytest.raises(TypeError, match="on_decision_all=True needs on_decision"):
        cw_wsgi.CORSMiddleware(no_cors, allow_origins=[APP], on_decision_all=True)


# -- integrations ---------------------------------------------------------------------


def flask_app(**config: Any) -> Any:
    from flask import Flask, request

    app = Flask("reflect")
    app.config.update(config)

    @app.get("/api/me")
    def me() -> str:
        return "me"

    @app.after_request
    def add_cors(response: Any) -> Any:  # the classic hand-written hook reflecting any origin
        response.headers["Access-Control-Allow-Origin"] = request.headers.get("Origin", "")
        response.headers["Access-Control-Allow-Credentials"] = "true"
        return response

    return app


@pytest.mark.parametrize("how", ["keyword", "config"])
def test_flask_report_only_alone_leaves_the_hook_in_charge(how: str) -> None:
    from corsware.flask import CORS

    if how == "keyword":
        app = flask_app()
        CORS(app, report_only=CANDIDATE)
    else:
        app = flask_app(CORSWARE_REPORT_ONLY=CANDIDATE)
        CORS(app)
    client = app.test_client()
    response = client.get("/api/me", headers={"Origin": EVIL})
    assert response.headers["Access-Control-Allow-Origin"] == EVIL  # the hook still answers
    client.get("/api/me", headers={"Origin": APP})
    rows = app.extensions["corsware.report"].tally()
    assert {(r["origin"], r["outcome"]) for r in rows} == {(EVIL, "would_refuse"), (APP, "same")}
    assert "corsware" not in app.extensions  # nothing enforced


def test_flask_report_only_beside_options_enforces_them() -> None:
    from flask import Flask

    from corsware.flask import CORS

    app = Flask("plain")
    app.get("/api/me")(lambda: "me")
    CORS(app, origins=[APP, ADMIN], supports_credentials=True, report_only=CANDIDATE)
    response = app.test_client().get("/api/me", headers={"Origin": ADMIN})
    assert response.headers["Access-Control-Allow-Origin"] == ADMIN
    assert [(r["origin"], r["outcome"]) for r in app.extensions["corsware.report"].tally()] == [(ADMIN, "would_refuse")]


def test_mount_report_only_file_alone_enforces_nothing(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    candidate = tmp_path / "candidate.toml"
    candidate.write_text(f'allow_origins = ["{APP}"]\nallow_credentials = true\n')
    for var in [v for v in __import__("os").environ if v.startswith("CORSWARE_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("CORSWARE_REPORT_ONLY_FILE", str(candidate))
    mw = cw_wsgi.wrap(reflect_any)
    assert not mw.enforcing
    assert wsgi_call(mw, "GET", "/", {"Origin": EVIL}).headers["access-control-allow-origin"] == EVIL
    assert mw.report is not None
    assert mw.report.tally()[0]["outcome"] == "would_refuse"
    monkeypatch.setenv("CORSWARE_ALLOW_ORIGINS", ADMIN)
    enforced = cw_asgi.wrap(reflect_any_asgi)
    assert enforced.enforcing
    assert enforced.report is not None


def test_django_report_only_setting() -> None:
    from ..support import django_project

    django_project.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    with override_settings(CORSWARE_REPORT_ONLY={"allow_origins": [APP]}):
        handler = WSGIHandler()
        response = wsgi_call(handler, "GET", "/app-cors", {"Origin": EVIL})
        assert response.headers["access-control-allow-origin"] == "*"  # the view's own header, untouched
        middleware = handler._middleware_chain
        while not hasattr(middleware, "report"):
            middleware = middleware.get_response  # type: ignore[attr-defined]
        assert [(r["origin"], r["outcome"]) for r in middleware.report.tally()] == [(EVIL, "would_refuse")]
    with override_settings(CORSWARE_REPORT_ONLY={"allow_origins": [APP]}, CORS_ALLOWED_ORIGINS=[ADMIN]):
        handler = WSGIHandler()
        response = wsgi_call(handler, "GET", "/", {"Origin": ADMIN})
        assert response.headers["access-control-allow-origin"] == ADMIN  # enforced
        middleware = handler._middleware_chain
        while not hasattr(middleware, "report"):
            middleware = middleware.get_response  # type: ignore[attr-defined]
        assert middleware.enforcing
        assert [(r["origin"], r["outcome"]) for r in middleware.report.tally()] == [(ADMIN, "would_refuse")]


# -- the request-time API: no evaluate() per request, the same answers as evaluate() --------


def _sync_allow_app(origin: str) -> bool:
    return origin == APP


async def _async_allow_app(origin: str) -> bool:
    return origin == APP


# (candidate, method, path, request headers): each decided by the layer as evaluate() decides it.
AS_EVALUATE = [
    pytest.param(CANDIDATE, "GET", "/x", {"Origin": APP}, id="exact-origin"),
    pytest.param(CANDIDATE, "GET", "/x", {"Origin": EVIL}, id="refused-origin"),
    pytest.param(CANDIDATE, "OPTIONS", "/x", {"Origin": APP, "Access-Control-Request-Method": "DELETE"},
                 id="preflight-method-refused"),
    pytest.param({"allow_origins": ["https://*.example.com"]}, "OPTIONS", "/x",
                 {"Origin": ADMIN, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x-a"},
                 id="preflight-pattern-header-refused"),
    pytest.param({"allow_origins": [ADMIN], "paths": {"/api/*": {"allow_origins": [APP]}}}, "GET", "/api/me",
                 {"Origin": APP}, id="path-rule"),
    pytest.param({"allow_origins": [ADMIN], "paths": {"/api/*": {"allow_origins": [APP]}}}, "GET", "/api//me",
                 {"Origin": APP}, id="ambiguous-path"),
    pytest.param({"allow_origin_callback": _sync_allow_app}, "GET", "/x", {"Origin": APP}, id="sync-callback"),
    pytest.param({"allow_origin_callback": _sync_allow_app}, "OPTIONS", "/x",
                 {"Origin": EVIL, "Access-Control-Request-Method": "GET"}, id="sync-callback-preflight"),
]  # fmt: skip


@pytest.mark.parametrize(("candidate", "method", "path", "headers"), AS_EVALUATE)
@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
def test_report_only_decides_as_evaluate_without_calling_it(
    kind: str,
    candidate: dict[str, Any],
    method: str,
    path: str,
    headers: dict[str, str],
    records: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The layers use the core's request-time API (cached answers), never ``evaluate()``
    per request (report-only costs about one cached decision: docs/tighten.md), and decide the same."""
    policy = CORSPolicy.from_mapping({k: v for k, v in candidate.items() if k != "allow_origin_callback"})
    if "allow_origin_callback" in candidate:
        policy = policy.replace(allow_origin_callback=candidate["allow_origin_callback"])
    expected = policy.evaluate(method, path, list(headers.items()))
    events: list[DecisionEvent] = []

    def no_evaluate(*args: Any) -> Any:
        raise AssertionError("evaluate() per request")

    monkeypatch.setattr(CORSPolicy, "evaluate", no_evaluate)
    monkeypatch.setattr(CORSPolicy, "aevaluate", no_evaluate)
    options: dict[str, Any] = {"policy": policy, "report_only": policy, "on_decision": events.append,
                               "on_decision_all": True}  # fmt: skip
    if kind == "wsgi":
        mw: Any = cw_wsgi.CORSMiddleware(no_cors, **options)
        wsgi_call(mw, method, path, headers)
    else:
        mw = cw_asgi.CORSMiddleware(reflect_any_asgi, **options)
        asgi_call(mw, method, path, headers)
    rows = mw.report.tally()
    assert [(r["outcome"], r["reason"], r["path_rule"]) for r in rows] == [
        ("same", expected.reason, expected.path_rule)
    ]
    assert [(e.kind, e.allowed, e.reason, e.rule, e.path_rule, e.status) for e in events] == [
        (expected.kind.value, expected.allowed, expected.reason, expected.rule, expected.path_rule, expected.status)
    ]
    candidate_record = records[0]["candidate"]
    assert (candidate_record["allowed"], candidate_record["acao"], candidate_record["rule"]) == (
        expected.allowed, expected.header("Access-Control-Allow-Origin"), expected.rule,
    )  # fmt: skip


def test_asgi_report_only_awaits_an_async_candidate_callback(records: list[dict[str, Any]]) -> None:
    candidate = CORSPolicy(allow_origin_callback=_async_allow_app, allow_credentials=True)
    mw = cw_asgi.CORSMiddleware(reflect_any_asgi, report_only=candidate)
    asgi_call(mw, "GET", "/", {"Origin": APP})
    asgi_call(mw, "GET", "/", {"Origin": EVIL})
    assert sorted((r["origin"], r["outcome"]) for r in mw.report.tally()) == [(APP, "same"), (EVIL, "would_refuse")]


async def _ok_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


_PUT = (b"access-control-request-method", b"PUT")
RAW_REQUESTS = {
    "two-origin-headers": ("GET", [(b"origin", APP.encode()), (b"origin", APP.encode())]),
    "two-request-methods": ("OPTIONS", [(b"origin", APP.encode()), _PUT, _PUT]),
    "request-headers-allowed-first": ("OPTIONS", [(b"origin", APP.encode()), _PUT,
                                                  (b"access-control-request-headers", b"x-token"),
                                                  (b"access-control-request-headers", b"x-other")]),
    "request-headers-allowed-last": ("OPTIONS", [(b"origin", APP.encode()), _PUT,
                                                 (b"access-control-request-headers", b"x-other"),
                                                 (b"access-control-request-headers", b"x-token")]),
    "private-network": ("OPTIONS", [(b"origin", APP.encode()), _PUT,
                                    (b"access-control-request-private-network", b"true")]),
    "request-method-on-get": ("GET", [(b"origin", APP.encode()), _PUT]),
    "options-without-request-method": ("OPTIONS", [(b"origin", APP.encode())]),
}  # fmt: skip


@pytest.mark.parametrize(("method", "headers"), RAW_REQUESTS.values(), ids=RAW_REQUESTS)
def test_the_asgi_report_layer_reads_the_request_as_the_adapter_does(
    method: str, headers: list[tuple[bytes, bytes]]
) -> None:
    """The ASGI adapter and its report-only layer each scan the request headers (a call to
    share one scan would cost every request of the adapter; both places say so): with a
    candidate equal to the policy, any difference in how they read repeated or preflight
    headers shows as a difference in the tally. Each request is built so that reading one
    header of a repeated pair, or missing one, changes the verdict."""
    policy = CORSPolicy(allow_origins=[APP], allow_methods=["PUT"], allow_headers=["x-token"])
    mw = cw_asgi.CORSMiddleware(_ok_asgi, policy=policy, report_only=CORSPolicy.from_mapping(policy.describe()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "https",
             "path": "/", "raw_path": b"/", "root_path": "", "query_string": b"", "headers": headers}  # fmt: skip
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(mw(scope, receive, send))
    assert sent[0]["type"] == "http.response.start"
    assert [row["outcome"] for row in mw.report.tally()] == ["same"]
