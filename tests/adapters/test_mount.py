"""corsware.wsgi.wrap / corsware.asgi.wrap / from_env: finding the app and the policy at
start-up, and saying precisely what is wrong (the servers themselves: test_servers_*.py)."""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import pytest

import corsware.asgi
import corsware.wsgi
from corsware import CORSConfigError, CORSPolicy
from corsware._mount import MountError, import_object, policy_from_env, resolve_policy

from ..support import server_app, shared_app
from ..support.drivers import Request, call_wsgi

APP = "https://app.example.com"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CORSWARE_"):
            monkeypatch.delenv(name)


@pytest.fixture
def pkg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throw-away package ``mountpkg`` on sys.path."""
    root = tmp_path / "mountpkg"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "good.py").write_text(
        textwrap.dedent(
            """
            def application(environ, start_response):
                start_response("200 OK", [("Content-Type", "text/plain")])
                return [b"hi"]

            class Holder:
                app = staticmethod(application)

            def create_app():
                return application

            def not_a_factory_result():
                return 42

            NAME = "not callable"

            def allow(origin):
                return origin.endswith(".tenant.test")
            """
        )
    )
    (root / "needs_missing.py").write_text("import surely_not_installed_xyz\n")
    (root / "broken.py").write_text("raise RuntimeError('settings missing')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return root


# -- import strings --------------------------------------------------------------------


def test_import_object_finds_attributes_dotted_paths_and_factories(pkg: Path) -> None:
    good = import_object("mountpkg.good:application")
    assert import_object("mountpkg.good:Holder.app") is good
    assert import_object("mountpkg.good:create_app()") is good


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("mountpkg.good", "expected 'module:attribute'"),
        (":application", "expected 'module:attribute'"),
        ("mountpkg.good:", "expected 'module:attribute'"),
        ("mountpkg.good:app-lication", "expected 'module:attribute'"),
        ("nosuchpkg.wsgi:application", "no module named 'nosuchpkg'"),
        ("mountpkg.nosuch:application", "no module named 'mountpkg.nosuch'"),
        ("mountpkg.needs_missing:app", "importing 'mountpkg.needs_missing' failed: No module named 'surely_not"),
        ("mountpkg.broken:app", "importing 'mountpkg.broken' raised RuntimeError: settings missing"),
        ("mountpkg.good:aplication", "'mountpkg.good' has no attribute 'aplication'; did you mean 'application'?"),
        ("mountpkg.good:Holder.ap", "'mountpkg.good:Holder' has no attribute 'ap'; did you mean 'app'?"),
        ("mountpkg.good:NAME", "is a str, not an application"),
        ("mountpkg.good:NAME()", "is a str, not a factory to call"),
        ("mountpkg.good:not_a_factory_result()", "is a int, not an application"),
    ],
)
def test_bad_import_strings_say_what_is_wrong(pkg: Path, spec: str, message: str) -> None:
    with pytest.raises(MountError, match=re.escape(message)):
        corsware.wsgi.wrap(spec, {"allow_origins": [APP]})


def test_module_not_found_names_the_search_path(pkg: Path) -> None:
    with pytest.raises(MountError, match="run the server from your project directory or set PYTHONPATH"):
        corsware.wsgi.wrap("nosuchpkg:app", {"allow_origins": [APP]})


def test_wsgi_and_asgi_apps_are_told_apart() -> None:
    flask_app = shared_app.flask_app()
    starlette_app = shared_app.starlette_app()
    corsware.wsgi.wrap(flask_app, {"allow_origins": [APP]})
    corsware.asgi.wrap(starlette_app, {"allow_origins": [APP]})
    with pytest.raises(MountError, match=r"looks like a WSGI application; use corsware\.wsgi"):
        corsware.asgi.wrap(flask_app, {"allow_origins": [APP]})
    with pytest.raises(MountError, match=r"looks like an ASGI application; use corsware\.asgi"):
        corsware.wsgi.wrap(starlette_app, {"allow_origins": [APP]})
    with pytest.raises(MountError, match=r"looks like an ASGI application"):
        corsware.wsgi.wrap("tests.support.server_app:asgi_app", {"allow_origins": [APP]})
    with pytest.raises(MountError, match="not int"):
        corsware.wsgi.wrap(3, {"allow_origins": [APP]})  # type: ignore[arg-type]


def test_unusual_but_valid_signatures_are_accepted() -> None:
    class OptionalExtra:
        def __call__(self, environ, start_response, extra=None):
            return []

    def star_args(*args):
        return []

    corsware.wsgi.wrap(OptionalExtra(), {"allow_origins": [APP]})
    corsware.wsgi.wrap(star_args, {"allow_origins": [APP]})
    corsware.asgi.wrap(star_args, {"allow_origins": [APP]})


def test_wrapped_app_serves_with_the_policy(pkg: Path) -> None:
    mw = corsware.wsgi.wrap("mountpkg.good:application", {"allow_origins": [APP]})
    status, headers, body, error = call_wsgi(mw, Request("GET", "/", [("Origin", APP)]))
    assert (status, body, error) == (200, b"hi", None)
    assert ("access-control-allow-origin", APP) in headers


# -- policy sources --------------------------------------------------------------------


def test_policy_argument_forms(tmp_path: Path) -> None:
    policy = CORSPolicy(allow_origins=[APP])
    assert resolve_policy(policy) is policy
    assert resolve_policy({"allow_origins": [APP]}).describe() == policy.describe()
    path = tmp_path / "p.json"
    path.write_text('{"allow_origins": ["https://app.example.com"]}')
    assert resolve_policy(path).describe() == policy.describe()
    assert resolve_policy(str(path)).describe() == policy.describe()
    with pytest.raises(TypeError, match="not int"):
        resolve_policy(3)  # type: ignore[arg-type]
    with_callback = resolve_policy({"allow_origins": [APP], "allow_origin_callback": lambda o: o == "https://b.test"})
    assert with_callback.evaluate("GET", "/", {"Origin": "https://b.test"}).allowed
    with pytest.raises(CORSConfigError, match="did you mean 'allow_origins'"):
        resolve_policy({"allow_origin": [APP]})


def test_env_variables_map_to_keywords() -> None:
    env = {
        "CORSWARE_ALLOW_ORIGINS": " https://app.example.com, https://*.example.com ,",
        "CORSWARE_ALLOW_METHODS": '["GET", "PUT"]',
        "CORSWARE_ALLOW_HEADERS": "*",
        "CORSWARE_EXPOSE_HEADERS": "X-Request-Id",
        "CORSWARE_ALLOW_CREDENTIALS": "Yes",
        "CORSWARE_MAX_AGE": "none",
        "CORSWARE_ALLOW_ORIGIN_REGEX": r"https://[a-z]{2,8}\.example\.org",
        "CORSWARE_ALLOW_PRIVATE_NETWORK": "0",
        "CORSWARE_PATHS": '{"/public/*": {"allow_origins": ["*"]}}',
        "CORSWARE_PREFLIGHT_CACHE_SIZE": "16",
    }
    described = policy_from_env(env).describe()
    assert described["allow_origins"] == [APP, "https://*.example.com"]
    assert described["allow_methods"] == ["GET", "PUT"]
    assert described["allow_credentials"] is True
    assert described["max_age"] is None
    policy = policy_from_env(env)
    assert policy.evaluate("GET", "/", {"Origin": "https://ab.example.org"}).allowed
    assert not policy.evaluate("GET", "/", {"Origin": "https://a.example.org"}).allowed
    assert policy.rule_for("/public/x")[0] == "/public/*"


def test_several_regexes_as_a_json_array() -> None:
    policy = policy_from_env(
        {"CORSWARE_ALLOW_ORIGIN_REGEX": r'["https://a\\.example\\.org", "https://b\\.example\\.org"]'}
    )
    assert policy.evaluate("GET", "/", {"Origin": "https://b.example.org"}).allowed


@pytest.mark.parametrize(
    ("env", "field", "code"),
    [
        ({"CORSWARE_ALLOW_ORIGIN": APP}, "CORSWARE_ALLOW_ORIGIN", "unknown_option"),
        (
            {"CORSWARE_ALLOW_CREDENTIALS": "maybe", "CORSWARE_ALLOW_ORIGINS": APP},
            "CORSWARE_ALLOW_CREDENTIALS",
            "env_malformed",
        ),
        ({"CORSWARE_MAX_AGE": "10m", "CORSWARE_ALLOW_ORIGINS": APP}, "CORSWARE_MAX_AGE", "env_malformed"),
        ({"CORSWARE_PATHS": "{nope", "CORSWARE_ALLOW_ORIGINS": APP}, "CORSWARE_PATHS", "env_malformed"),
        ({"CORSWARE_ALLOW_ORIGINS": "https://app.example.com/"}, "CORSWARE_ALLOW_ORIGINS", None),
        (
            {"CORSWARE_ALLOW_ORIGINS": "*", "CORSWARE_ALLOW_CREDENTIALS": "true"},
            "CORSWARE_ALLOW_ORIGINS",
            "wildcard_origin_with_credentials",
        ),
        ({}, "CORSWARE_POLICY_FILE", "no_policy"),
        (
            {"CORSWARE_POLICY_FILE": "p.toml", "CORSWARE_ALLOW_ORIGINS": APP},
            "CORSWARE_POLICY_FILE",
            "policy_source_conflict",
        ),
        (
            {"CORSWARE_CHECK_WEBSOCKET_ORIGIN": "true", "CORSWARE_ALLOW_ORIGINS": APP},
            "CORSWARE_CHECK_WEBSOCKET_ORIGIN",
            "unknown_option",
        ),
        (
            {"CORSWARE_ALLOW_ORIGIN_CALLBACK": "nosuchpkg:f", "CORSWARE_ALLOW_ORIGINS": APP},
            "CORSWARE_ALLOW_ORIGIN_CALLBACK",
            "callback_unavailable",
        ),
    ],
)
def test_env_problems_name_the_variable(env: dict[str, str], field: str, code: str | None) -> None:
    with pytest.raises(CORSConfigError) as info:
        policy_from_env(env)
    assert any(p.field.startswith(field) for p in info.value.problems), info.value
    if code is not None:
        assert code in info.value.codes
    assert field in str(info.value)


def test_unknown_variable_suggests_the_right_one() -> None:
    with pytest.raises(CORSConfigError, match="did you mean 'CORSWARE_ALLOW_ORIGINS'"):
        policy_from_env({"CORSWARE_ALLOW_ORIGIN": APP})


def test_callback_from_an_import_string(pkg: Path) -> None:
    env = {"CORSWARE_ALLOW_ORIGINS": APP, "CORSWARE_ALLOW_ORIGIN_CALLBACK": "mountpkg.good:allow"}
    policy = policy_from_env(env)
    assert policy.evaluate("GET", "/", {"Origin": "https://acme.tenant.test"}).allowed
    assert not policy.evaluate("GET", "/", {"Origin": "https://evil.example.net"}).allowed


TOML = """
allow_origins = ["https://app.example.com", "https://*.example.com"]
allow_methods = ["GET", "POST", "PUT", "DELETE"]
allow_headers = ["Content-Type", "Authorization"]
allow_credentials = true
max_age = 600

[paths."/public/*"]
allow_origins = ["*"]
"""


def test_policy_file_from_env_toml_with_paths(tmp_path: Path, pkg: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(TOML)
    env = {"CORSWARE_POLICY_FILE": str(path), "CORSWARE_ALLOW_ORIGIN_CALLBACK": "mountpkg.good:allow"}
    policy = policy_from_env(env)
    assert policy.evaluate("GET", "/x", {"Origin": "https://a.example.com"}).allowed
    assert policy.evaluate("GET", "/x", {"Origin": "https://acme.tenant.test"}).allowed
    public = policy.evaluate("GET", "/public/a", {"Origin": "https://evil.example.net"})
    assert ("Access-Control-Allow-Origin", "*") in public.headers


@pytest.mark.parametrize(
    ("name", "text", "code", "shown"),
    [
        ("policy.toml", 'allow_origin = ["https://app.example.com"]', "unknown_option", "allow_origin: is not"),
        ("policy.toml", "allow_origins = [", "file_malformed", "is not valid TOML"),
        ("policy.json", '{"allow_origins": "https://app.example.com"', "file_malformed", "is not valid JSON"),
        ("policy.yaml", "allow_origins: []", "file_type", "must end in .toml or .json"),
        ("missing.toml", None, "file_unreadable", "cannot read the policy file"),
    ],
)
def test_policy_file_problems_name_the_file(tmp_path: Path, name: str, text: str | None, code: str, shown: str) -> None:
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    with pytest.raises(CORSConfigError) as info:
        policy_from_env({"CORSWARE_POLICY_FILE": str(path)})
    assert info.value.codes == (code,)
    assert f"CORSWARE_POLICY_FILE={path}" in str(info.value)
    assert shown in str(info.value)
    with pytest.raises(CORSConfigError, match=re.escape(str(path))):
        corsware.wsgi.wrap(server_app.wsgi_app, path)


# -- the zero-argument factories -------------------------------------------------------


def test_from_env_needs_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORSWARE_ALLOW_ORIGINS", APP)
    with pytest.raises(MountError, match="CORSWARE_APP is not set"):
        corsware.wsgi.from_env()
    with pytest.raises(MountError, match="CORSWARE_APP is not set"):
        corsware.asgi.from_env()


def test_from_env_reads_app_policy_and_switches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORSWARE_APP", "tests.support.server_app:asgi_app")
    monkeypatch.setenv("CORSWARE_ALLOW_ORIGINS", APP)
    monkeypatch.setenv("CORSWARE_DEBUG", "on")
    monkeypatch.setenv("CORSWARE_CHECK_WEBSOCKET_ORIGIN", "1")
    mw = corsware.asgi.from_env()
    assert mw.app is server_app.asgi_app
    assert mw.debug is True
    assert mw.check_websocket_origin is True
    assert mw.policy.describe()["allow_origins"] == [APP]
    monkeypatch.delenv("CORSWARE_CHECK_WEBSOCKET_ORIGIN")
    monkeypatch.setenv("CORSWARE_APP", "tests.support.server_app:wsgi_app")
    monkeypatch.setenv("CORSWARE_DEBUG", "sometimes")
    with pytest.raises(CORSConfigError, match="CORSWARE_DEBUG: must be true or false"):
        corsware.wsgi.from_env()
    monkeypatch.setenv("CORSWARE_DEBUG", "off")
    wsgi_mw = corsware.wsgi.from_env()
    assert wsgi_mw.app is server_app.wsgi_app
    assert wsgi_mw.debug is False


def test_explicit_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORSWARE_DEBUG", "true")
    monkeypatch.setenv("CORSWARE_ALLOW_ORIGIN", "typo is ignored when policy= is given")
    mw = corsware.wsgi.wrap(server_app.wsgi_app, {"allow_origins": [APP]}, debug=False)
    assert mw.debug is False


def test_exported_names() -> None:
    assert {"MountError", "wrap", "from_env"} <= set(corsware.wsgi.__all__)
    assert {"MountError", "wrap", "from_env"} <= set(corsware.asgi.__all__)
    assert corsware.wsgi.MountError is corsware.asgi.MountError is MountError


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(CORSConfigError) as info:
        policy_from_env({"CORSWARE_ALLOW_ORIGINS": "https://app.example.com/", "CORSWARE_ALLOW_CREDENTIALS": "maybe"})
    assert info.value.codes == ("env_malformed", "origin_trailing_slash")


# -- docs/servers.md stays true ----------------------------------------------------------

DOCS = Path(__file__).resolve().parents[2] / "docs" / "servers.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", DOCS.read_text(), flags=re.S | re.M)


def test_documented_policy_files_load_and_agree(tmp_path: Path) -> None:
    tomls = [b for b in _blocks("toml") if "[paths." in b]
    (json_text,) = _blocks("json")
    assert len(tomls) == 1
    (tmp_path / "cors.toml").write_text(tomls[0])
    (tmp_path / "cors.json").write_text(json_text)
    from_toml = CORSPolicy.from_file(tmp_path / "cors.toml")
    from_json = CORSPolicy.from_file(tmp_path / "cors.json")
    assert from_toml.describe() == from_json.describe()
    assert from_toml.rule_for("/public/x")[0] == "/public/*"
    for block in _blocks("toml"):
        (tmp_path / "any.toml").write_text(block)
        CORSPolicy.from_file(tmp_path / "any.toml")


def test_documented_variables_are_exactly_the_known_ones() -> None:
    from corsware._mount import ENV_VARS

    documented = set(re.findall(r"^\| `(CORSWARE_[A-Z_]+)` \|", DOCS.read_text(), flags=re.M))
    assert documented == set(ENV_VARS)


def test_documented_mount_codes_are_the_ones_raised() -> None:
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", DOCS.read_text(), flags=re.M))
    import ast

    tree = ast.parse((Path(__file__).resolve().parents[2] / "corsware" / "_mount.py").read_text())
    raised = {
        node.args[2].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "Problem"
        and len(node.args) > 2
        and isinstance(node.args[2], ast.Constant)
    }
    assert raised == documented
