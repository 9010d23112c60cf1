"""Configurations people write with flask-cors, Starlette's CORSMiddleware and corsware's
own constructors, in their real shape: they start and mean what they meant there; a
misspelt keyword gets corsware's "did you mean" on every supported Python.

(django-cors-headers' shapes are in tests/integrations/test_django.py, beside the other settings tests.)
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flask
import httpx
import pytest
from starlette.applications import Starlette

import corsware
import corsware.asgi
import corsware.wsgi
from corsware import CORSConfigError, CORSPolicy
from corsware.flask import CORS, cross_origin
from corsware.flask._options import policy_from_options

from ..support.ci import IN_CI

APP = "https://app.example.com"
ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "support" / "keyword_typo_script.py"

# -- a misspelt keyword, on every constructor ------------------------------------------------


def _starlette_add_middleware() -> None:
    app = Starlette()
    app.add_middleware(corsware.asgi.CORSMiddleware, allow_header=["X-Token"])  # type: ignore[call-arg]

    async def start() -> None:  # Starlette builds its middleware at the first request
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://api.test") as c:
            await c.get("/")

    asyncio.run(start())


def _flask_init_app() -> None:
    CORS().init_app(flask.Flask(__name__), allow_header=["X-Token"])  # type: ignore[call-arg]


# (constructor, the callee named in the message)
TYPOS: list[Any] = [
    pytest.param(lambda: CORSPolicy(allow_header=["X-Token"]), "a CORSPolicy", id="CORSPolicy"),  # type: ignore[call-arg]
    pytest.param(lambda: corsware.wsgi.CORSMiddleware(None, allow_header=["X-Token"]),  # type: ignore[call-arg,arg-type]
                 "a corsware.wsgi.CORSMiddleware", id="wsgi.CORSMiddleware"),
    pytest.param(lambda: corsware.asgi.CORSMiddleware(None, allow_header=["X-Token"]),  # type: ignore[call-arg,arg-type]
                 "a corsware.asgi.CORSMiddleware", id="asgi.CORSMiddleware"),
    pytest.param(_starlette_add_middleware, "a corsware.asgi.CORSMiddleware", id="Starlette add_middleware"),
    pytest.param(lambda: CORS(flask.Flask(__name__), allow_header=["X-Token"]), "a flask-cors or corsware",
                 id="flask CORS(app)"),
    pytest.param(lambda: CORS(allow_header=["X-Token"]), "a flask-cors or corsware", id="flask CORS() without app"),
    pytest.param(_flask_init_app, "a flask-cors or corsware", id="flask init_app"),
    pytest.param(lambda: cross_origin(allow_header=["X-Token"]), "a flask-cors or corsware", id="flask cross_origin"),
]  # fmt: skip


@pytest.mark.parametrize(("make", "callee"), TYPOS)
def test_misspelt_keyword_says_did_you_mean(make: Callable[[], object], callee: str) -> None:
    with pytest.raises(TypeError) as info:  # what Python raised, and code may catch
        make()
    # corsware's own message, not Python's (3.13 adds "Did you mean" to TypeError, 3.10-3.12 do not).
    assert str(info.value) == (
        f"invalid CORS policy: allow_header: is not {callee} option; did you mean 'allow_headers'? [unknown_option]"
    )
    # Both families: code catching Python's TypeError, or corsware's CORSConfigError (a ValueError).
    assert isinstance(info.value, CORSConfigError)
    assert info.value.codes == ("unknown_option",)


def test_misspelt_keyword_with_nothing_close_lists_the_options() -> None:
    with pytest.raises(CORSConfigError, match=r"zzz: is not a CORSPolicy option; the options are: allow_credentials"):
        CORSPolicy(zzz=1)  # type: ignore[call-arg]


def test_checked_constructors_keep_their_signature() -> None:
    import inspect

    assert "allow_headers" in inspect.signature(CORSPolicy).parameters
    assert "check_websocket_origin" in inspect.signature(corsware.asgi.CORSMiddleware).parameters
    assert CORSPolicy.__init__.__doc__ == CORSPolicy.__init__.__wrapped__.__doc__  # type: ignore[attr-defined]


def _pyenv_pythons() -> list[Path]:
    root = os.environ.get("PYENV_ROOT")
    if root is None and shutil.which("pyenv"):
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=False).stdout.strip()
    root = root or str(Path.home() / ".pyenv")
    found = []
    for minor in ("3.10", "3.11", "3.12", "3.13"):
        candidates = sorted(Path(root, "versions").glob(f"{minor}.*/bin/python"))
        if candidates:
            found.append(candidates[-1])
    return found


def _run_script(python: Path | str) -> str:
    # Only corsware importable: the interpreters have nothing installed, and the core needs nothing.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONNOUSERSITE": "1"}
    done = subprocess.run([str(python), "-I" if False else "-B", str(SCRIPT)], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_misspelt_keyword_message_is_the_same_on_every_python() -> None:
    pythons = _pyenv_pythons()
    versions = {p.parent.parent.name for p in pythons}
    if not any(v.startswith("3.10.") for v in versions) or not any(v.startswith("3.13.") for v in versions):
        message = f"pyenv Python 3.10 and 3.13 are needed (found {sorted(versions) or 'none'})"
        if IN_CI:
            pytest.fail(message + " -- CI must run this test, not skip it")
        pytest.skip(message)
    expected = _run_script(sys.executable)
    assert expected.count("did you mean 'allow_headers'?") == 3, expected
    for python in pythons:
        assert _run_script(python) == expected, python


# -- flask-cors: resources mean what they mean there --------------------------------------------


def _flask_cors_matches(pattern: Any, path: str) -> bool:
    """Whether flask-cors applies the resource ``pattern`` to ``path`` (its own code)."""
    from flask_cors.core import parse_resources, try_match_pattern

    ((resolved, _),) = parse_resources({pattern: {}})
    return try_match_pattern(path, resolved, caseSensitive=True)


PATHS = ["/", "/api", "/api/", "/api/users", "/api/users/1", "/apiary", "/x/api/users", "/files/12", "/files/12/raw",
         "/files/x", "/v1.0/users", "/v1.0/users/42", "/v2/a", "/API/users"]  # fmt: skip

# Resource patterns flask-cors matches with re.match, at the start of the path.
PREFIX_RESOURCES = [
    pytest.param(re.compile(r"/api/*"), id="re.compile('/api/*')"),
    pytest.param(re.compile(r"/api/.*"), id="re.compile('/api/.*')"),
    pytest.param(re.compile(r"/files/[0-9]+"), id="re.compile('/files/[0-9]+')"),
    pytest.param(re.compile(r"/files/[0-9]+$"), id="re.compile with $"),
    pytest.param(re.compile(r"^/(v1\.0|v2)/"), id="re.compile with ^ and a group"),
    pytest.param(re.compile(r"(?i)/api/"), id="re.compile with inline flags"),
    pytest.param(re.compile(r"/api  # the API", re.VERBOSE), id="re.compile verbose with a comment"),
    pytest.param(r"^/api", id="'^/api' string"),
    pytest.param(r"/v1\.0/users", id="escaped-dot string"),
    pytest.param(r"^/v1\.0/users$", id="anchored string"),
]


@pytest.mark.parametrize("pattern", PREFIX_RESOURCES)
def test_resource_patterns_match_the_paths_flask_cors_matches(pattern: Any) -> None:
    policy = policy_from_options({"resources": {pattern: {"origins": [APP]}}})
    got = {path: policy.rule_for(path)[0] is not None for path in PATHS}
    assert got == {path: _flask_cors_matches(pattern, path) for path in PATHS}


def test_compiled_api_resource_covers_every_api_route() -> None:
    # The exact shape from the issue: with fullmatch only /api and /api/ had CORS.
    app = flask.Flask(__name__)

    @app.route("/api/users")
    def users() -> str:
        return "users"

    CORS(app, resources={re.compile(r"/api/*"): {"origins": [APP], "supports_credentials": True}})
    with app.test_client() as c:
        got = c.get("/api/users", headers={"Origin": APP})
        assert got.headers["Access-Control-Allow-Origin"] == APP
        assert got.headers["Access-Control-Allow-Credentials"] == "true"
        pre = c.options("/api/users", headers={"Origin": APP, "Access-Control-Request-Method": "PUT"})
        assert pre.status_code == 204


NEVER_MATCHING = [
    pytest.param(re.compile(r"api/.*"), "re.compile('/api/.*')", id="no leading slash"),
    pytest.param(re.compile(r"^api"), "re.compile('/api')", id="anchored, no leading slash"),
]


@pytest.mark.parametrize(("pattern", "fix"), NEVER_MATCHING)
def test_resource_regex_that_matches_no_path_is_refused(pattern: re.Pattern[str], fix: str) -> None:
    assert not any(_flask_cors_matches(pattern, path) for path in PATHS)  # dead in flask-cors too
    with pytest.raises(CORSConfigError) as info:
        policy_from_options({"resources": {pattern: {"origins": [APP]}}})
    ((problem),) = info.value.problems
    assert (problem.code, problem.message[:13]) == ("invalid_path_pattern", "never matches")
    assert fix in problem.message


# -- flask-cors 1.x's headers=: accepted and ignored, as flask-cors 2.0+ do ------------------------

PREFLIGHT = {"Origin": APP, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "X-Other"}


def _headers_app(kind: str) -> flask.Flask:
    app = flask.Flask(__name__)
    if kind == "cross_origin":

        @app.route("/v", methods=["GET", "PUT"])
        @cross_origin(origins=[APP], headers=["Content-Type"])  # type: ignore[call-arg]
        def decorated() -> str:
            return "v"

        return app

    @app.route("/v", methods=["GET", "PUT"])
    def view() -> str:
        return "v"

    if kind == "CORS(app)":
        CORS(app, origins=[APP], headers=["Content-Type"])  # type: ignore[call-arg]
    else:
        CORS(app, resources={"/v": {"origins": [APP], "headers": ["Content-Type"]}})
    return app


@pytest.mark.parametrize("kind", ["CORS(app)", "resources", "cross_origin"])
def test_headers_keyword_is_ignored_with_a_deprecation_warning(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app = _headers_app(kind)
    (warning,) = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert "flask-cors 1.x's name for 'allow_headers'" in str(warning.message)
    assert "allow_headers='*' applies. Write allow_headers=['Content-Type']" in str(warning.message)
    assert warning.filename == __file__  # points at the user's line, not into corsware
    assert any("headers=['Content-Type'] has no effect" in r.getMessage() for r in caplog.records)
    with app.test_client() as c:
        # As flask-cors 2.0 and later: the default allow_headers='*' applies.
        assert c.options("/v", headers=PREFLIGHT).status_code == 204
