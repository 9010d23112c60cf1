"""corsware.flask: flask-cors option mapping, the extension, the decorator, errors."""

from __future__ import annotations

import datetime
import logging
import re
from pathlib import Path
from typing import Any

import flask
import httpx
import pytest

from corsware import CORSConfigError, CORSPolicy
from corsware.flask import CORS, cross_origin
from corsware.flask._options import policy_from_options

from ..support.drivers import Request, call_wsgi

APP = "https://app.example.com"
EVIL = "https://evil.example.net"
FLASK_METHODS = ["GET", "HEAD", "POST", "OPTIONS", "PUT", "PATCH", "DELETE"]


def describe(**options: Any) -> dict[str, Any]:
    return policy_from_options(options).describe()


# -- option mapping ------------------------------------------------------------------------

MAPPING = [
    pytest.param({}, {"allow_origins": ["*"], "allow_methods": FLASK_METHODS, "max_age": None,
                      "allow_credentials": False, "expose_headers": []}, id="flask-cors defaults"),
    pytest.param({"origins": [APP], "supports_credentials": True}, {"allow_origins": [APP], "allow_credentials": True},
                 id="origins + supports_credentials"),
    pytest.param({"origins": APP}, {"allow_origins": [APP]}, id="origins as one string"),
    pytest.param({"origins": "https://*.example.com"}, {"allow_origins": ["https://*.example.com"]},
                 id="subdomain pattern is a pattern, not a regex"),
    pytest.param({"origins": [re.compile(r"https://(a|b)\.example\.com")]},
                 {"allow_origins": [], "allow_origin_regex": [r"https://(a|b)\.example\.com"]}, id="compiled regex origin"),
    pytest.param({"methods": "GET, PUT"}, {"allow_methods": ["GET", "PUT"]}, id="methods as a string"),
    pytest.param({"methods": ["get", "patch"]}, {"allow_methods": ["GET", "PATCH"]}, id="methods upper-cased as flask-cors"),
    pytest.param({"allow_headers": ["X-A"]}, {"allow_headers": ["x-a"]}, id="allow_headers list"),
    pytest.param({"expose_headers": "X-Request-Id"}, {"expose_headers": ["X-Request-Id"]}, id="expose_headers string"),
    pytest.param({"max_age": datetime.timedelta(minutes=10)}, {"max_age": 600}, id="max_age timedelta"),
    pytest.param({"max_age": "120"}, {"max_age": 120}, id="max_age digits"),
    pytest.param({"max_age": 60}, {"max_age": 60}, id="max_age int"),
    pytest.param({"allow_private_network": True}, {"allow_private_network": True}, id="allow_private_network"),
    pytest.param({"send_wildcard": True, "always_send": False}, {"allow_origins": ["*"]}, id="send_wildcard/always_send accepted"),
    pytest.param({"origins": [APP], "dangerously_allow_null_origin": True, "allow_origins": [APP, "null"]},
                 {"allow_origins": [APP, "null"]}, id="corsware keywords win"),
]  # fmt: skip


@pytest.mark.parametrize(("options", "expected"), MAPPING)
def test_mapping(options: dict[str, Any], expected: dict[str, Any]) -> None:
    got = describe(**options)
    assert {k: got[k] for k in expected} == expected
    assert "paths" not in got


def test_default_allow_headers_keep_authorization() -> None:
    # flask-cors's '*' echoed every requested header; Fetch's '*' never covers Authorization.
    decision = policy_from_options({}).evaluate(
        "OPTIONS",
        "/",
        {"Origin": APP, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization,x-a"},
    )
    assert decision.status == 204


RESOURCES = [
    pytest.param({"/api/*": {"origins": [APP]}}, {"/api/*": [APP]}, id="glob"),
    pytest.param({r"/api/.*": {}}, {"/api/*": ["*"]}, id="regex .* becomes a glob"),
    pytest.param({r"^/v1\.0/users$": {}}, {"/v1.0/users": ["*"]}, id="anchors and escaped dots"),
    pytest.param(["/a/*", "/b"], {"/a/*": ["*"], "/b": ["*"]}, id="list of resources"),
    pytest.param(r"/only/*", {"/only/*": ["*"]}, id="one resource string"),
    pytest.param({re.compile(r"/r/(x|y)"): {}}, {"re:(?:/r/(x|y))(?s:.*)": ["*"]},
                 id="compiled resource regex, matched at the start as flask-cors does"),
    pytest.param({r"^/api": {}}, {"/api*": ["*"]}, id="flask-cors regex string without $ is a prefix"),
    pytest.param({"/z/*": {}, "/a/specific": {"origins": [APP]}}, {"/z/*": ["*"], "/a/specific": [APP]},
                 id="declaration order kept"),
]  # fmt: skip


@pytest.mark.parametrize(("resources", "paths"), RESOURCES)
def test_resources(resources: Any, paths: dict[str, list[str]]) -> None:
    got = describe(resources=resources)
    assert got["allow_origins"] == []  # unmatched paths: no CORS
    assert list(got["paths"]) == list(paths)
    assert {k: v["allow_origins"] for k, v in got["paths"].items()} == paths


def test_match_all_resource_is_the_app_wide_policy() -> None:
    got = describe(resources={"/private/*": {"origins": [APP]}, r"/*": {"origins": "*"}})
    assert got["allow_origins"] == ["*"]
    assert list(got["paths"]) == ["/private/*"]


ERRORS = [
    pytest.param({"supports_credentials": True}, "origins", "wildcard_origin_with_credentials",
                 "origins=['https://app.example.com']", id="credentials with default '*'"),
    pytest.param({"origins": [r"https?://example\.com"]}, "origins", "origin_looks_like_regex",
                 "re.compile('https?://example\\\\.com')", id="regex-ish origin string"),
    pytest.param({"origins": ["https://.*\\.example\\.com"]}, "origins", "origin_looks_like_regex",
                 "'https://*.example.com'", id="regex .* origin"),
    pytest.param({"resources": {r"/api/(v1|v2)/x": {}}}, "resources['/api/(v1|v2)/x']", "resource_looks_like_regex",
                 "'/api/*'", id="regex resource string"),
    pytest.param({"resources": {"/api/*": {}, "/api/secure": {"origins": [APP]}}}, "resources['/api/secure']",
                 "resource_shadowed", "declare the more specific resource first",
                 id="CVE-2024-6839: a specific resource after a broad one"),
    pytest.param({"resources": {r"/*": {}, "/later": {}}}, "resources['/later']", "resource_shadowed", "'/*'",
                 id="resources after a match-all"),
    pytest.param({"vary_header": False}, "vary_header", "vary_header_disabled", "Remove vary_header=False",
                 id="vary_header False"),
    pytest.param({"automatic_options": False}, "automatic_options", "automatic_options_disabled",
                 "Remove automatic_options=False", id="automatic_options False"),
    pytest.param({"intercept_exceptions": False}, "intercept_exceptions", "intercept_exceptions_disabled",
                 "Remove intercept_exceptions=False", id="intercept_exceptions False"),
    pytest.param({"orgins": [APP]}, "orgins", "unknown_option", "did you mean 'origins'?", id="typo"),
    pytest.param({"resources": {"/a/*": {"origin": APP}}}, "resources['/a/*'].origin", "unknown_option",
                 "did you mean 'origins'?", id="typo in a resource"),
    pytest.param({"max_age": 1.5}, "max_age", "invalid_type", "timedelta", id="max_age float"),
    pytest.param({"send_wildcard": "yes"}, "send_wildcard", "invalid_type", "True or False", id="non-bool flag"),
    pytest.param({"origins": ["https://a.com/"]}, "origins", None, "'https://a.com'",
                 id="core problems in flask-cors names"),
    pytest.param({"resources": {"/a/*": {"origins": "*", "supports_credentials": True}}},
                 "resources['/a/*'].origins", "wildcard_origin_with_credentials", "list the origins",
                 id="per-resource problem"),
]  # fmt: skip


@pytest.mark.parametrize(("options", "field", "code", "says"), ERRORS)
def test_errors(options: dict[str, Any], field: str, code: str | None, says: str) -> None:
    with pytest.raises(CORSConfigError) as info:
        policy_from_options(options)
    (problem,) = [p for p in info.value.problems if p.field == field]
    if code is not None:
        assert problem.code == code
    assert says in problem.message


def test_path_matching_is_strict_through_flask() -> None:
    app = make_app()
    CORS(app, resources={r"/api/v1/.*": {"origins": [APP]}})
    with client(app) as c:
        assert c.get("/api/v1/open", headers={"Origin": APP}).headers["access-control-allow-origin"] == APP
        # CVE-2024-6866: case-sensitive; and the resource matches the whole path, not a prefix.
        assert "access-control-allow-origin" not in c.get("/API/v1/open", headers={"Origin": APP}).headers
        assert "access-control-allow-origin" not in c.get("/x/api/v1/open", headers={"Origin": APP}).headers


def test_every_problem_reported_at_once() -> None:
    with pytest.raises(CORSConfigError) as info:
        policy_from_options({"vary_header": False, "orgins": 1, "origins": [r"^https://x\.com$"]})
    assert set(info.value.codes) == {"vary_header_disabled", "unknown_option", "origin_looks_like_regex"}


# -- the extension over HTTP ---------------------------------------------------------------


def client(app: flask.Flask) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=app, raise_app_exceptions=False), base_url="https://api.test")


def make_app(calls: list[str] | None = None) -> flask.Flask:
    app = flask.Flask(__name__)
    calls = calls if calls is not None else []

    @app.route("/api/v1/secure", methods=["GET", "PUT"])
    def secure() -> str:
        calls.append("secure")
        return "secure"

    @app.route("/api/v1/open")
    def open_() -> str:
        return "open"

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("unhandled")

    @app.route("/handled")
    def handled() -> str:
        raise ValueError("handled")

    @app.errorhandler(ValueError)
    def on_value_error(exc: ValueError) -> tuple[str, int]:
        return "handled by the app", 418

    return app


def test_cve_2024_6839_declaration_order() -> None:
    app = make_app()
    CORS(app, resources={"/api/v1/secure": {"origins": [APP]}, re.compile(r"/api/(v1|v2)/.*"): {"origins": "*"}})
    with client(app) as c:
        assert "access-control-allow-origin" not in c.get("/api/v1/secure", headers={"Origin": EVIL}).headers
        assert c.get("/api/v1/secure", headers={"Origin": APP}).headers["access-control-allow-origin"] == APP
        assert c.get("/api/v1/open", headers={"Origin": EVIL}).headers["access-control-allow-origin"] == "*"


# CORS(app) with no options keeps flask-cors's default (origins="*", no credentials): the one
# exception to "nothing allowed until configured", and the docs must say so where they claim it.
BARE_CORS_REQUESTS = [
    pytest.param("GET", [("Origin", EVIL)], id="actual-any-site"),
    pytest.param("GET", [("Origin", "http://localhost:3000")], id="actual-plain-http"),
    pytest.param("GET", [("Origin", "null")], id="actual-null-origin"),
    pytest.param("GET", [("Origin", EVIL), ("Cookie", "session=1")], id="actual-with-cookie"),
    pytest.param("OPTIONS", [("Origin", EVIL), ("Access-Control-Request-Method", "PUT"),
                             ("Access-Control-Request-Headers", "authorization,x-anything")], id="preflight-any-site"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "headers"), BARE_CORS_REQUESTS)
def test_bare_cors_allows_every_origin_without_credentials(method: str, headers: list[tuple[str, str]]) -> None:
    app = make_app()
    CORS(app)
    with client(app) as c:
        resp = c.request(method, "/api/v1/secure", headers=headers)
    assert resp.status_code in (200, 204)
    assert resp.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in resp.headers


_CLAIMS_NOTHING_ALLOWED = re.compile(
    r"nothing allowed until configured|allows nothing until configured|默认不允许任何源", re.I
)
DOCS_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("page", ["README.md", "docs/flask.md", "docs/zh/flask.md"])
def test_docs_say_what_bare_cors_allows(page: str) -> None:
    paragraphs = re.split(r"\n\s*\n", (DOCS_ROOT / page).read_text(encoding="utf-8"))

    def tells(paragraph: str) -> bool:
        return "CORS(app)" in paragraph and "Access-Control-Allow-Origin: *" in paragraph

    assert any(tells(p) for p in paragraphs), f"{page} must say that CORS(app) alone answers ACAO: * to any origin"
    for paragraph in paragraphs:
        if _CLAIMS_NOTHING_ALLOWED.search(paragraph):
            assert tells(paragraph), (
                f"{page} claims nothing is allowed by default without the CORS(app) exception:\n{paragraph}"
            )


def test_error_handlers_and_unhandled_exceptions_carry_headers() -> None:
    app = make_app()
    app.config["PROPAGATE_EXCEPTIONS"] = False
    CORS(app, origins=[APP])
    with client(app) as c:
        handled = c.get("/handled", headers={"Origin": APP})
        assert (handled.status_code, handled.text) == (418, "handled by the app")
        assert handled.headers["access-control-allow-origin"] == APP
        unhandled = c.get("/boom", headers={"Origin": APP})
        assert unhandled.status_code == 500
        assert unhandled.headers["access-control-allow-origin"] == APP
        missing = c.get("/nowhere", headers={"Origin": APP})
        assert missing.status_code == 404
        assert missing.headers["access-control-allow-origin"] == APP


def test_unhandled_exception_in_testing_mode_reraised_with_headers() -> None:
    app = make_app()
    app.testing = True  # Flask re-raises; the WSGI middleware answers 500 and re-raises for the server
    CORS(app, origins=[APP])
    status, headers, _, error = call_wsgi(app, Request("GET", "/boom", [("Origin", APP)]))
    assert status == 500
    assert ("access-control-allow-origin", APP) in headers
    assert isinstance(error, RuntimeError)


def test_preflight_never_reaches_the_view() -> None:
    calls: list[str] = []
    app = make_app(calls)
    CORS(app, origins=[APP], methods=["PUT"])
    with client(app) as c:
        resp = c.options("/api/v1/secure", headers={"Origin": APP, "Access-Control-Request-Method": "PUT"})
    assert resp.status_code == 204
    assert resp.headers["access-control-allow-methods"] == "PUT"
    assert calls == []


def test_init_app_factory_and_config() -> None:
    cors = CORS(supports_credentials=True)

    def create_app(origin: str) -> flask.Flask:
        app = make_app()
        app.config["CORS_ORIGINS"] = [origin]
        app.config["CORS_EXPOSE_HEADERS"] = "X-Total"
        cors.init_app(app)
        return app

    one, two = create_app(APP), create_app("https://two.example.com")
    assert not hasattr(cors, "app")
    assert one.extensions["corsware"].policy.describe()["allow_origins"] == [APP]
    with client(two) as c:
        resp = c.get("/api/v1/open", headers={"Origin": "https://two.example.com"})
    assert resp.headers["access-control-allow-origin"] == "https://two.example.com"
    assert resp.headers["access-control-allow-credentials"] == "true"
    assert resp.headers["access-control-expose-headers"] == "X-Total"
    with pytest.raises(RuntimeError, match="already installed"):
        cors.init_app(one)


def test_precedence_config_then_constructor_then_init_app() -> None:
    app = make_app()
    app.config.update(CORS_ORIGINS=["https://config.example.com"], CORS_MAX_AGE=10, CORS_METHODS=["GET"])
    CORS(origins=[APP], max_age=20).init_app(app, max_age=30)
    got = app.extensions["corsware"].policy.describe()
    assert (got["allow_origins"], got["max_age"], got["allow_methods"]) == ([APP], 30, ["GET"])


def test_config_errors_raise_at_init_app() -> None:
    app = make_app()
    app.config["CORS_SUPPORTS_CREDENTIALS"] = True
    with pytest.raises(CORSConfigError, match="supports_credentials"):
        CORS(app)


def test_unknown_config_key_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()
    app.config["CORS_HEADERS"] = "Content-Type"
    with caplog.at_level(logging.WARNING, logger="corsware"):
        CORS(app, origins=[APP])
    assert "CORS_HEADERS" in caplog.text
    assert "CORS_ALLOW_HEADERS" in caplog.text


def test_policy_swap_at_run_time() -> None:
    app = make_app()
    CORS(app, policy=CORSPolicy(allow_origins=[APP]))
    app.extensions["corsware"].policy = CORSPolicy(allow_origins=["https://new.example.com"])
    with client(app) as c:
        assert "access-control-allow-origin" not in c.get("/api/v1/open", headers={"Origin": APP}).headers


# -- @cross_origin ---------------------------------------------------------------------------


def decorated_app(calls: list[str]) -> flask.Flask:
    app = flask.Flask(__name__)

    @app.route("/view", methods=["GET", "PUT"])
    @cross_origin(origins=[APP], methods=["PUT"], max_age=5)
    def view() -> str:
        calls.append(flask.request.method)
        return "view"

    @app.route("/view-error")
    @cross_origin(origins=[APP])
    def view_error() -> str:
        flask.abort(400)

    @app.route("/plain")
    def plain() -> str:
        return "plain"

    return app


@pytest.mark.parametrize("with_extension", [True, False], ids=["with CORS(app, resources={})", "standalone"])
def test_cross_origin(with_extension: bool) -> None:
    calls: list[str] = []
    app = decorated_app(calls)
    if with_extension:
        CORS(app, resources={})  # no app-wide CORS: only the decorated views
    with client(app) as c:
        pre = c.options("/view", headers={"Origin": APP, "Access-Control-Request-Method": "PUT"})
        assert pre.status_code == 204
        assert (pre.headers["access-control-allow-origin"], pre.headers["access-control-max-age"]) == (APP, "5")
        refused = c.options("/view", headers={"Origin": EVIL, "Access-Control-Request-Method": "PUT"})
        assert refused.status_code == 403
        assert calls == []  # preflights never reach the view
        put = c.put("/view", headers={"Origin": APP})
        assert (put.status_code, put.headers["access-control-allow-origin"], put.headers["vary"]) == (
            200,
            APP,
            "Origin",
        )
        assert calls == ["PUT"]
        plain_options = c.options("/view")  # not a preflight: Flask's default OPTIONS answer
        assert plain_options.status_code == 200
        assert "PUT" in plain_options.headers["allow"]
        error = c.get("/view-error", headers={"Origin": APP})
        assert (error.status_code, error.headers["access-control-allow-origin"]) == (400, APP)
        assert "access-control-allow-origin" not in c.get("/plain", headers={"Origin": APP}).headers


def test_cross_origin_overrides_app_wide_policy() -> None:
    app = decorated_app([])
    CORS(app, origins=["https://other.example.com"])
    with client(app) as c:
        assert c.get("/view", headers={"Origin": APP}).headers["access-control-allow-origin"] == APP
        assert "access-control-allow-origin" not in c.get("/plain", headers={"Origin": APP}).headers
        other = c.get("/plain", headers={"Origin": "https://other.example.com"})
        assert other.headers["access-control-allow-origin"] == "https://other.example.com"


def test_cross_origin_validates_at_decoration() -> None:
    with pytest.raises(CORSConfigError, match="vary_header"):
        cross_origin(vary_header=False)
    with pytest.raises(TypeError, match="resources"):
        cross_origin(resources={"/x": {}})


def test_cross_origin_reads_app_config() -> None:
    app = flask.Flask(__name__)
    app.config["CORS_EXPOSE_HEADERS"] = ["X-From-Config"]

    @app.route("/v")
    @cross_origin(origins=[APP])
    def v() -> str:
        return "v"

    with client(app) as c:
        assert c.get("/v", headers={"Origin": APP}).headers["access-control-expose-headers"] == "X-From-Config"


def test_public_names() -> None:
    import corsware.flask

    assert corsware.flask.__all__ == ["CORS", "cross_origin"]


# -- the policy follows Flask's own routing ----------------------------------------------------
# Once any @cross_origin view exists, the wrapper lets Flask route each request and applies
# the policy of the view Flask chose (see corsware/flask/__init__.py). The security regressions are
# in tests/security/test_regressions.py (SERVER_NAME, nested apps, converters).

OTHER = "https://other.example.com"


@pytest.fixture(params=[False, True], ids=["plain mode", "routed mode"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    import corsware.flask

    monkeypatch.setattr(corsware.flask._MODE, "routed", request.param)
    return bool(request.param)


def _shared_cases() -> list[Any]:
    from ..support.cases import PARAMS

    return [p for p in PARAMS if not p.values[0].repeated_headers]


@pytest.mark.parametrize("case", _shared_cases())
def test_shared_table_in_both_modes(case: Any, mode: bool) -> None:
    """The extension gives the same answers whether Flask routes first or not."""
    from ..support.checks import check
    from ..support.drivers import RUNNERS

    (runner,) = [r for r in RUNNERS if r.name == "flask-extension"]
    check(case, runner.run(case.policy, Request(case.method, case.path, case.headers)))


def routed_app(calls: list[str]) -> flask.Flask:
    app = decorated_app(calls)
    bp = flask.Blueprint("bp", __name__)

    @app.get("/both")
    @cross_origin(origins=[APP], methods=["GET"])
    def both_get() -> str:
        return "get"

    @app.put("/both")
    def both_put() -> str:
        return "put"

    @app.route("/dir/")
    @cross_origin(origins=[APP])
    def directory() -> str:
        return "dir"

    @app.route("/view-boom")
    @cross_origin(origins=[APP])
    def view_boom() -> str:
        raise RuntimeError("unhandled")

    @bp.route("/bp/view", methods=["GET", "PUT"])
    @cross_origin(origins=[APP])
    def bp_view() -> str:
        return "bp"

    @bp.before_request
    def bp_hook() -> None:
        calls.append("bp before_request")

    @app.before_request
    def hook() -> None:
        calls.append("before_request")

    @app.after_request
    def after(response: flask.Response) -> flask.Response:
        response.headers["X-After"] = "1"
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    app.register_blueprint(bp)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    CORS(app, origins=[OTHER])
    return app


def pf(origin: str, method: str) -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": method}


ROUTED = [
    pytest.param("GET", "/nowhere", {"Origin": OTHER}, 404, OTHER, id="404: app-wide policy"),
    pytest.param("POST", "/view", {"Origin": OTHER}, 405, OTHER, id="405: app-wide policy"),
    pytest.param("GET", "/dir", {"Origin": OTHER}, 308, OTHER, id="strict-slash redirect: app-wide policy"),
    pytest.param("GET", "/dir/", {"Origin": APP}, 200, APP, id="the view after the redirect: its policy"),
    pytest.param("OPTIONS", "/both", pf(OTHER, "PUT"), 204, OTHER,
                 id="preflight for PUT: the PUT view (app-wide), not the OPTIONS rule's"),
    pytest.param("OPTIONS", "/both", pf(APP, "GET"), 204, APP, id="preflight for GET: the decorated GET view"),
    pytest.param("OPTIONS", "/both", pf(OTHER, "GET"), 403, None, id="preflight for GET refused by the view"),
    pytest.param("OPTIONS", "/nowhere", pf(OTHER, "PUT"), 204, OTHER, id="preflight to no route: app-wide"),
    pytest.param("OPTIONS", "/view", pf(OTHER, "DELETE"), 204, OTHER,
                 id="preflight for a method no view serves: app-wide"),
    pytest.param("GET", "/view-boom", {"Origin": APP}, 500, APP, id="unhandled exception: the view's policy"),
    pytest.param("PUT", "/bp/view", {"Origin": APP}, 200, APP, id="blueprint view: its policy"),
    pytest.param("OPTIONS", "/bp/view", pf(APP, "PUT"), 204, APP, id="blueprint view preflight"),
    pytest.param("GET", "/plain", {"Origin": OTHER}, 200, OTHER, id="undecorated view: app-wide"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "headers", "status", "allowed"), ROUTED)
def test_routed_policy_choice(
    method: str, path: str, headers: dict[str, str], status: int, allowed: str | None
) -> None:
    calls: list[str] = []
    app = routed_app(calls)
    with client(app) as c:
        got = c.request(method, path, headers=headers)
    assert (got.status_code, got.headers.get("access-control-allow-origin")) == (status, allowed)
    if method == "OPTIONS":
        # Answered by the extension's first before_request function: no other hook, no view;
        # the core's answer replaces what after_request functions made of it.
        assert calls == []
        assert "x-after" not in got.headers
    elif status == 200:
        assert got.headers["x-after"] == "1"


@pytest.mark.parametrize("decorated", [True, False], ids=["decorated view", "app-wide"])
def test_routed_unhandled_exception_reraised_with_the_right_headers(decorated: bool) -> None:
    app = routed_app([])
    app.config["PROPAGATE_EXCEPTIONS"] = True  # Flask re-raises; the wrapper answers 500, re-raises
    path, origin = ("/view-boom", APP) if decorated else ("/boom-plain", OTHER)

    @app.route("/boom-plain")
    def boom_plain() -> str:
        raise RuntimeError("unhandled")

    status, headers, _, error = call_wsgi(app, Request("GET", path, [("Origin", origin)]))
    assert (status, isinstance(error, RuntimeError)) == (500, True)
    assert ("access-control-allow-origin", origin) in headers


def test_routed_app_that_starts_lazily() -> None:
    """A WSGI middleware below the extension that starts the response while iterated."""
    app = routed_app([])
    flask_wsgi = app.wsgi_app.state.inner  # type: ignore[attr-defined]

    def lazy(environ: dict[str, Any], start_response: Any) -> Any:
        yield from flask_wsgi(environ, start_response)

    app.wsgi_app.state.inner = lazy  # type: ignore[attr-defined]
    for path, origin, status in [("/view", APP, 200), ("/plain", OTHER, 200), ("/view-boom", APP, 500)]:
        got, headers, _, _ = call_wsgi(app, Request("GET", path, [("Origin", origin)]))
        assert (got, ("access-control-allow-origin", origin) in headers) == (status, True), path
    got, headers, _, _ = call_wsgi(app, Request("OPTIONS", "/view", list(pf(APP, "PUT").items())))
    assert (got, ("access-control-allow-origin", APP) in headers) == (204, True)


def test_routed_policy_swap() -> None:
    app = routed_app([])
    app.extensions["corsware"].policy = CORSPolicy(allow_origins=["https://new.example.com"])
    with client(app) as c:
        assert "access-control-allow-origin" not in c.get("/plain", headers={"Origin": OTHER}).headers
        new = c.get("/plain", headers={"Origin": "https://new.example.com"})
        assert new.headers["access-control-allow-origin"] == "https://new.example.com"
        assert c.get("/view", headers={"Origin": APP}).headers["access-control-allow-origin"] == APP


def test_standalone_view_under_an_outer_extension_answers_itself() -> None:
    """The inner app has no extension: its view answers by itself, and the outer wrapper
    applies the same (view) policy instead of its app-wide one."""
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    calls: list[str] = []
    inner = decorated_app(calls)
    outer = flask.Flask("outer")
    outer.wsgi_app = DispatcherMiddleware(outer.wsgi_app, {"/inner": inner})  # type: ignore[method-assign]
    CORS(outer, origins=[OTHER])
    with client(outer) as c:
        put = c.put("/inner/view", headers={"Origin": APP})
        assert (put.status_code, put.headers["access-control-allow-origin"]) == (200, APP)
        assert "access-control-allow-origin" not in c.put("/inner/view", headers={"Origin": OTHER}).headers
        pre = c.options("/inner/view", headers=pf(APP, "PUT"))
        assert (pre.status_code, pre.headers["access-control-max-age"]) == (204, "5")
        # The inner app's undecorated view: the outer app-wide policy, as before.
        assert c.get("/inner/plain", headers={"Origin": OTHER}).headers["access-control-allow-origin"] == OTHER
    assert calls == ["PUT", "PUT"]


# -- @cross_origin on the shared table, with and without the extension ------------------------


def decorated_table_app(policy: dict[str, Any], with_extension: bool) -> flask.Flask:
    """The shared table's app, its catch-all view decorated with ``@cross_origin``."""
    from ..support import shared_app

    app = shared_app.flask_app()
    app.view_functions["everything"] = cross_origin(policy=CORSPolicy(**policy))(app.view_functions["everything"])
    if with_extension:
        CORS(app, resources={})
    return app


#: The methods of the shared table's catch-all view (tests/support/shared_app.py).
TABLE_VIEW_METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}


def _decorated_case(case: Any) -> Any:
    """What a decorated view answers: as the table says, except that an ordinary OPTIONS
    request gets Flask's default OPTIONS answer (as with flask-cors), not the view's."""
    import dataclasses

    if case.method == "OPTIONS" and not any(k.lower() == "access-control-request-method" for k, _ in case.headers):
        return dataclasses.replace(case, reaches_app=False, body=b"")
    return case


@pytest.mark.parametrize("with_extension", [True, False], ids=["with CORS(app, resources={})", "standalone"])
@pytest.mark.parametrize("case", _shared_cases())
def test_cross_origin_shared_table_in_both_modes(case: Any, with_extension: bool) -> None:
    """A ``@cross_origin`` view answers alike with and without the extension (README and
    docs/flask.md promise it), ordinary OPTIONS requests included."""
    from ..support.checks import check
    from ..support.drivers import Response

    if case.path == "/raise" and not with_extension:
        pytest.skip("documented: an unhandled exception needs the extension to carry CORS headers")
    acrm = [v for k, v in case.headers if k.lower() == "access-control-request-method"]
    if with_extension and acrm and acrm[0] not in TABLE_VIEW_METHODS:
        pytest.skip("documented: with the extension, a preflight for a method no view serves gets the app's rules")
    app = decorated_table_app(case.policy, with_extension)
    with client(app) as c:
        resp = c.request(case.method, case.path, headers=case.headers)
    got = Response(resp.status_code, _headers_of(resp), resp.content, bool(app.config["CALLS"]))
    check(_decorated_case(case), got)


def _headers_of(resp: httpx.Response) -> list[tuple[str, str]]:
    return [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in resp.headers.raw]


# -- Blueprints: CORS(blueprint), as flask-cors ----------------------------------------------


def make_api_blueprint(calls: list[str]) -> flask.Blueprint:
    bp = flask.Blueprint("api", __name__)

    @bp.route("/items", methods=["GET", "PUT"])
    def items() -> str:
        calls.append("items")
        return "items"

    @bp.route("/boom")
    def boom() -> str:
        raise RuntimeError("unhandled")

    @bp.route("/abort")
    def abort() -> str:
        flask.abort(400)

    @bp.route("/decorated")
    @cross_origin(origins=[OTHER])
    def decorated() -> str:
        return "decorated"

    @bp.before_request
    def hook() -> None:
        calls.append("bp before_request")

    return bp


def blueprint_app(setup: str, calls: list[str]) -> flask.Flask:
    """The ``api`` blueprint (CORS: APP, PUT, max_age 5) under ``/v1`` and ``/v2``.

    ``setup`` says which CORS the app has and in which order it is installed."""
    bp = make_api_blueprint(calls)
    app = flask.Flask(__name__)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/plain")
    def plain() -> str:
        calls.append("plain")
        return "plain"

    bp_options: dict[str, Any] = {"origins": [APP], "methods": ["PUT"], "max_age": 5}
    if setup == "app-wide first":
        CORS(app, origins=[OTHER])
    if setup == "init_app(bp)":
        CORS().init_app(bp, **bp_options)
    elif setup != "registered before CORS(bp)":
        CORS(bp, **bp_options)
    app.register_blueprint(bp, url_prefix="/v1")
    app.register_blueprint(bp, url_prefix="/v2", name="api2")  # twice, another prefix
    if setup == "registered before CORS(bp)":
        CORS(app, origins=[OTHER])
        CORS(bp, **bp_options)
    if setup == "app-wide after":
        CORS(app, origins=[OTHER])
    return app


ONLY = ["blueprint only", "init_app(bp)"]
WITH_APP = ["app-wide first", "app-wide after", "registered before CORS(bp)"]

# (method, path, headers, status, allowed origin in blueprint-only apps, with app-wide CORS too)
BLUEPRINT = [
    pytest.param("GET", "/v1/items", {"Origin": APP}, 200, APP, APP, id="url_prefix: the blueprint's rules"),
    pytest.param("GET", "/v2/items", {"Origin": APP}, 200, APP, APP, id="second registration, other prefix"),
    pytest.param("GET", "/v1/items", {"Origin": OTHER}, 200, None, None,
                 id="origin refused by the blueprint: the app's rules do not apply"),
    pytest.param("OPTIONS", "/v1/items", pf(APP, "PUT"), 204, APP, APP, id="preflight: the blueprint's"),
    pytest.param("OPTIONS", "/v2/items", pf(OTHER, "PUT"), 403, None, None, id="preflight refused by the blueprint"),
    pytest.param("GET", "/v1/boom", {"Origin": APP}, 500, APP, APP, id="unhandled exception in a blueprint view"),
    pytest.param("GET", "/v1/abort", {"Origin": APP}, 400, APP, APP, id="HTTP error in a blueprint view"),
    pytest.param("GET", "/v1/decorated", {"Origin": OTHER}, 200, OTHER, OTHER,
                 id="@cross_origin in the blueprint wins"),
    pytest.param("GET", "/plain", {"Origin": OTHER}, 200, None, OTHER, id="app route: the app's rules or none"),
    pytest.param("GET", "/v1/nowhere", {"Origin": OTHER}, 404, None, OTHER,
                 id="404 under the prefix: no blueprint, the app's rules"),
    pytest.param("OPTIONS", "/plain", pf(OTHER, "GET"), None, None, OTHER,
                 id="preflight to an app route: Flask's answer or the app's"),
]  # fmt: skip


@pytest.mark.parametrize("setup", ONLY + WITH_APP)
@pytest.mark.parametrize(("method", "path", "headers", "status", "only", "with_app"), BLUEPRINT)
def test_blueprint_cors(
    setup: str,
    method: str,
    path: str,
    headers: dict[str, str],
    status: int | None,
    only: str | None,
    with_app: str | None,
) -> None:
    calls: list[str] = []
    app = blueprint_app(setup, calls)
    app_wide = setup in WITH_APP
    with client(app) as c:
        got = c.request(method, path, headers=headers)
    allowed = with_app if app_wide else only
    if status is None:  # preflight to an app route: 204 from corsware, or Flask's own 200
        status = 204 if app_wide else 200
    assert (got.status_code, got.headers.get("access-control-allow-origin")) == (status, allowed)
    if allowed is None and not app_wide and not path.startswith("/v"):
        assert "vary" not in got.headers  # blueprint-only CORS leaves the app's routes untouched
    elif allowed is not None and method != "OPTIONS":
        assert got.headers["vary"] == "Origin"
    if method == "OPTIONS" and path.startswith("/v"):
        assert calls == []  # preflights never reach the view nor the blueprint's hooks
        if status == 204:
            assert (got.headers["access-control-allow-methods"], got.headers["access-control-max-age"]) == ("PUT", "5")


def test_blueprint_unhandled_exception_reraised_with_headers() -> None:
    """Blueprint-only CORS: Flask re-raises (testing); the 500 still carries the headers."""
    app = blueprint_app("blueprint only", [])
    app.config["PROPAGATE_EXCEPTIONS"] = True
    status, headers, _, error = call_wsgi(app, Request("GET", "/v1/boom", [("Origin", APP)]))
    assert (status, isinstance(error, RuntimeError)) == (500, True)
    assert ("access-control-allow-origin", APP) in headers


def test_blueprint_on_several_apps() -> None:
    bp = make_api_blueprint([])
    CORS(bp, origins=[APP])
    one, two = flask.Flask("one"), flask.Flask("two")
    one.register_blueprint(bp)
    two.register_blueprint(bp, url_prefix="/api")
    CORS(two, origins=[OTHER])
    for app, path in [(one, "/items"), (two, "/api/items")]:
        with client(app) as c:
            assert c.get(path, headers={"Origin": APP}).headers["access-control-allow-origin"] == APP


def test_blueprint_resources_match_the_whole_path() -> None:
    """As flask-cors: resources are matched against request.path, url_prefix included."""
    bp = make_api_blueprint([])
    CORS(bp, resources={"/v1/*": {"origins": [APP]}})
    app = flask.Flask(__name__)
    app.register_blueprint(bp, url_prefix="/v1")
    app.register_blueprint(bp, url_prefix="/v2", name="api2")
    with client(app) as c:
        assert c.get("/v1/items", headers={"Origin": APP}).headers["access-control-allow-origin"] == APP
        assert "access-control-allow-origin" not in c.get("/v2/items", headers={"Origin": APP}).headers


def test_nested_blueprints_innermost_cors_wins() -> None:
    parent, child, other = (
        flask.Blueprint("parent", __name__),
        flask.Blueprint("child", __name__),
        flask.Blueprint("other", __name__),
    )
    for bp in (child, other):

        @bp.route("/x")
        def x() -> str:
            return "x"

    CORS(parent, origins=[OTHER])
    CORS(child, origins=[APP])
    parent.register_blueprint(child, url_prefix="/child")
    parent.register_blueprint(other, url_prefix="/other")
    app = flask.Flask(__name__)
    app.register_blueprint(parent, url_prefix="/p")
    with client(app) as c:
        assert c.get("/p/child/x", headers={"Origin": APP}).headers["access-control-allow-origin"] == APP
        assert c.get("/p/other/x", headers={"Origin": OTHER}).headers["access-control-allow-origin"] == OTHER


def test_blueprint_registered_before_cors_on_an_app_without_corsware() -> None:
    """Flask keeps no list of the apps a blueprint is on: such an app is told what to write."""
    bp = make_api_blueprint([])
    app = flask.Flask(__name__)
    app.testing = True
    app.register_blueprint(bp)

    @app.route("/plain")
    def plain() -> str:
        return "plain"

    CORS(bp, origins=[APP])
    with app.test_client() as c:
        with pytest.raises(RuntimeError, match=r"CORS\(blueprint\) before app.register_blueprint"):
            c.get("/items", headers={"Origin": APP})
        assert c.get("/plain").status_code == 200


def test_blueprint_cors_errors() -> None:
    bp = flask.Blueprint("bp", __name__)
    with pytest.raises(CORSConfigError, match="supports_credentials"):
        CORS(bp, supports_credentials=True)
    CORS(bp, origins=[APP])
    with pytest.raises(RuntimeError, match="already installed on the blueprint 'bp'"):
        CORS(bp)
    app = flask.Flask(__name__)
    app.register_blueprint(bp)
    CORS(app)
    with pytest.raises(RuntimeError, match="already installed on this app"):
        CORS(app)
