"""``corsware check / explain / export / demo``, driven as a user would (subprocess)."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from .cli import corsware
from .servers import free_port

MAIN_TOML = """
allow_origins = ["https://app.example.com", "https://*.example.com"]
allow_methods = ["GET", "POST", "PUT", "DELETE"]
allow_headers = ["Content-Type", "Authorization"]
expose_headers = ["X-Request-Id"]
allow_credentials = true
max_age = 600

[paths."/public/*"]
allow_origins = ["*"]
"""


@pytest.fixture
def main_toml(tmp_path: Path) -> Path:
    path = tmp_path / "cors.toml"
    path.write_text(MAIN_TOML)
    return path


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# -- check ----------------------------------------------------------------------------------


def test_check_clean_policy_exits_0(tmp_path: Path) -> None:
    policy = write(tmp_path, "p.json", json.dumps({"allow_origins": ["https://app.example.com"]}))
    r = corsware("check", policy)
    assert r.code == 0, r.err
    assert "valid" in r.out
    assert "no warnings" in r.out
    assert 'allow_origins = ["https://app.example.com"]' in r.out
    assert "\x1b[" not in r.out  # not a TTY: no colour


def test_check_output_is_a_policy_file_again(tmp_path: Path, main_toml: Path) -> None:
    """The normalised policy printed by check reads back as the same policy."""
    r = corsware("check", str(main_toml))
    toml_text = r.out.split("# normalised policy\n", 1)[1].split("\n\n", 1)[0]
    again = write(tmp_path, "again.toml", toml_text)
    r2 = corsware("check", again, "--json")
    assert r2.json["policy"]["allow_origins"] == ["https://app.example.com", "https://*.example.com"]


def test_check_warnings_exit_1(tmp_path: Path, main_toml: Path) -> None:
    r = corsware("check", str(main_toml), "--json")
    assert r.code == 1
    codes = {(w["field"], w["code"]) for w in r.json["warnings"]}
    assert codes == {("allow_origins", "broad_subdomains"), ("paths['/public/*'].allow_origins", "any_origin")}


@pytest.mark.parametrize(
    ("policy", "code"),
    [
        ({"allow_origins": ["http://intranet.example.com"], "allow_credentials": True,
          "dangerously_allow_insecure_origins": True}, "insecure_origin_with_credentials"),
        ({"allow_origins": ["https://app.example.com"], "max_age": 86400}, "max_age_capped"),
        ({"allow_origins": ["https://app.example.com"], "allow_private_network": True}, "private_network_legacy"),
        ({"allow_origin_regex": r"https://.*\.example\.com"}, "broad_regex"),
        ({"allow_origins": ["null"], "dangerously_allow_null_origin": True}, "null_origin"),
        ({"allow_origins": ["https://staging.example.com:*"]}, "any_port"),
        ({}, "allows_nothing"),
    ],
)  # fmt: skip
def test_check_warning_codes(tmp_path: Path, policy: dict[str, object], code: str) -> None:
    r = corsware("check", write(tmp_path, "p.json", json.dumps(policy)), "--json")
    assert r.code == 1
    assert code in {w["code"] for w in r.json["warnings"]}


def test_check_max_age_within_browser_caps_is_quiet(tmp_path: Path) -> None:
    policy = {"allow_origins": ["https://app.example.com"], "max_age": 7200}
    assert corsware("check", write(tmp_path, "p.json", json.dumps(policy))).code == 0


def test_check_missing_file(tmp_path: Path) -> None:
    r = corsware("check", str(tmp_path / "nope.toml"))
    assert r.code == 2
    assert r.out == ""
    assert "cannot read the policy file" in r.err
    assert "[file_unreadable]" in r.err
    assert "Traceback" not in r.err


def test_check_malformed_toml_and_json(tmp_path: Path) -> None:
    r = corsware("check", write(tmp_path, "bad.toml", "allow_origins = [\n"))
    assert r.code == 2
    assert "is not valid TOML" in r.err
    assert "[file_malformed]" in r.err
    r = corsware("check", write(tmp_path, "bad.json", '{"allow_origins": ["https://a.com"],}'), "--json")
    assert r.code == 2
    assert r.json["ok"] is False
    assert r.json["error"]["code"] == "policy_file"
    assert r.json["error"]["problems"][0]["code"] == "file_malformed"
    assert "is not valid JSON" in r.err


def test_check_wrong_extension(tmp_path: Path) -> None:
    r = corsware("check", write(tmp_path, "cors.yaml", "allow_origins: []"))
    assert r.code == 2
    assert "[file_type]" in r.err


def test_check_unknown_key_suggests(tmp_path: Path) -> None:
    r = corsware(
        "check", write(tmp_path, "p.toml", 'allow_orgins = ["https://a.example.com"]\nmax_age = "x"\n'), "--json"
    )
    assert r.code == 2
    problems = r.json["error"]["problems"]
    assert problems[0]["code"] == "unknown_option"
    # Worded in TOML, the file's syntax: the key as it is written there.
    assert "did you mean allow_origins?" in problems[0]["message"]
    assert any(p["field"] == "max_age" for p in problems)  # every problem, not just the first
    assert "did you mean allow_origins?" in r.err


def test_check_invalid_policy_lists_every_problem(tmp_path: Path) -> None:
    policy = {"allow_origins": ["https://a.com/", "*"], "allow_credentials": True}
    r = corsware("check", write(tmp_path, "p.json", json.dumps(policy)))
    assert r.code == 2
    assert "origin_trailing_slash" in r.err
    assert "problems" in r.err


# -- explain --------------------------------------------------------------------------------


def test_explain_allowed_credentialed_put(main_toml: Path) -> None:
    r = corsware("explain", str(main_toml), "--origin", "https://app.example.com", "--method", "PUT",
                 "-H", "Content-Type: application/json", "-H", "Authorization", "--credentials", "--json")  # fmt: skip
    assert r.code == 0, r.out
    d = r.json
    assert d["allowed"] is True
    assert d["preflight_needed"] is True
    assert dict(map(tuple, d["preflight"]["request_headers"]))["Access-Control-Request-Headers"] == (
        "authorization,content-type"
    )
    assert d["preflight"]["status"] == 204
    assert d["corsware_preflight"]["rule"] == "'https://app.example.com'"
    assert ["Access-Control-Allow-Credentials", "true"] in d["actual"]["response_headers"]


def test_explain_simple_request_sends_no_preflight(main_toml: Path) -> None:
    r = corsware("explain", str(main_toml), "--origin", "https://a.example.com",
                 "-H", "Content-Type: text/plain; charset=utf-8", "--method", "POST")  # fmt: skip
    assert r.code == 0
    assert "preflight: not sent" in r.out
    assert "verdict: ALLOWED" in r.out


def test_explain_refused_origin_says_which_rule_and_fix(main_toml: Path) -> None:
    r = corsware("explain", str(main_toml), "--origin", "https://evil.example.net", "--method", "DELETE")
    assert r.code == 1
    assert "verdict: BLOCKED" in r.out
    assert "[origin_not_allowed]" in r.out
    assert "add the origin to allow_origins" in r.out
    assert "actual request: not sent" in r.out


def test_explain_simple_get_from_refused_origin_names_missing_acao(main_toml: Path) -> None:
    r = corsware("explain", str(main_toml), "--origin", "https://evil.example.net", "--json")
    assert r.code == 1
    codes = [f["code"] for f in r.json["failures"]]
    assert codes == ["origin_not_allowed"]
    assert "No 'Access-Control-Allow-Origin' header is present" in r.json["actual"]["notes"][0]


def test_explain_path_rule(main_toml: Path) -> None:
    r = corsware("explain", str(main_toml), "--origin", "https://evil.example.net", "--path", "/public/x", "--json")
    assert r.code == 0
    assert r.json["path_rule"] == "/public/*"
    # With credentials, the public '*' rule is not enough: the browser refuses '*'.
    r = corsware("explain", str(main_toml), "--origin", "https://evil.example.net", "--path", "/public/x",
                 "--credentials", "--json")  # fmt: skip
    assert r.code == 1
    assert [f["code"] for f in r.json["failures"]] == ["wildcard_with_credentials"]


def test_explain_credentials_without_allow_credentials(tmp_path: Path) -> None:
    policy = write(tmp_path, "p.json", json.dumps({"allow_origins": ["https://app.example.com"]}))
    r = corsware("explain", policy, "--origin", "https://app.example.com", "--credentials", "--json")
    assert r.code == 1
    assert [f["code"] for f in r.json["failures"]] == ["credentials_not_allowed"]


def test_explain_authorization_not_covered_by_star(tmp_path: Path) -> None:
    policy = write(tmp_path, "p.json", json.dumps({"allow_origins": ["https://app.example.com"], "allow_headers": "*"}))
    r = corsware("explain", policy, "--origin", "https://app.example.com", "-H", "Authorization: Bearer t", "--json")
    assert r.code == 1
    assert r.json["failures"][0]["code"] == "authorization_not_covered"


def test_explain_private_network(tmp_path: Path) -> None:
    on = {"allow_origins": ["https://app.example.com"], "allow_private_network": True}
    r = corsware("explain", write(tmp_path, "on.json", json.dumps(on)), "--origin", "https://app.example.com",
                 "--private-network", "--json")  # fmt: skip
    assert r.code == 0
    assert ["Access-Control-Allow-Private-Network", "true"] in r.json["preflight"]["response_headers"]
    off = write(tmp_path, "off.json", json.dumps({"allow_origins": ["https://app.example.com"]}))
    r = corsware("explain", off, "--origin", "https://app.example.com", "--private-network", "--json")
    assert r.code == 1
    assert r.json["failures"][0]["code"] == "private_network_not_allowed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--origin", "https://app.example.com/"], "is not an origin"),
        (["--origin", "app.example.com"], "is not an origin"),
        (["--origin", "https://app.example.com", "--method", "GET POST"], "is not a method"),
        (["--origin", "https://app.example.com", "-H", "Cookie: a=b"], "forbidden request header"),
        (["--origin", "https://app.example.com", "-H", "bad name: x"], "is not a header name"),
    ],
)
def test_explain_bad_request_options(main_toml: Path, args: list[str], message: str) -> None:
    r = corsware("explain", str(main_toml), *args)
    assert r.code == 2
    assert message in r.err
    assert r.out == ""


def test_usage_errors_exit_2(main_toml: Path) -> None:
    r = corsware("explain", str(main_toml))  # --origin is required
    assert r.code == 2
    assert "--origin" in r.err
    assert corsware("frobnicate").code == 2


@pytest.mark.parametrize("command", ["check", "explain", "probe", "export", "demo"])
def test_help_has_examples(command: str) -> None:
    r = corsware(command, "--help")
    assert r.code == 0
    assert "examples:" in r.out
    assert f"corsware {command}" in r.out
    assert "--json" in r.out


# -- export nginx (the round trip through nginx is tests/test_cli_nginx.py) ---------------------


def test_export_nginx_writes_two_files(tmp_path: Path, main_toml: Path) -> None:
    out = tmp_path / "conf"
    r = corsware("export", "nginx", str(main_toml), "-o", str(out))
    assert r.code == 0, r.err
    maps, location = (out / "corsware-maps.conf").read_text(), (out / "corsware-cors.conf").read_text()
    assert "map $uri $corsware_rule" in maps
    assert "return 204;" in location
    assert "add_header Vary $corsware_vary always;" in location
    stdout = corsware("export", "nginx", str(main_toml), "--json").json
    assert stdout["http"] == maps
    assert stdout["location"] == location


def test_export_nginx_prefix(main_toml: Path) -> None:
    r = corsware("export", "nginx", str(main_toml), "--prefix", "api_cors")
    assert r.code == 0
    assert "$api_cors_acao" in r.out
    assert "$corsware_" not in r.out
    r = corsware("export", "nginx", str(main_toml), "--prefix", "Bad-Prefix")
    assert r.code == 2
    assert "invalid_prefix" in r.err


def test_export_nginx_refuses_what_nginx_cannot_express(tmp_path: Path) -> None:
    policy = write(tmp_path, "p.json", json.dumps({"allow_origins": ["https://a.example.com"],
                                                   "expose_headers": ["X-$Id"]}))  # fmt: skip
    r = corsware("export", "nginx", policy, "--json")
    assert r.code == 2
    assert r.json["error"]["code"] == "not_exportable"
    assert r.json["error"]["problems"][0]["field"] == "expose_headers"
    assert "cannot be enforced by nginx" in r.err


def test_export_nginx_bad_policy(tmp_path: Path) -> None:
    r = corsware("export", "nginx", write(tmp_path, "p.toml", "allow_origin = []\n"))
    assert r.code == 2
    assert "did you mean allow_origins?" in r.err


# -- demo, entry points, colour --------------------------------------------------------------


def test_demo_once_json() -> None:
    ports = [str(free_port()) for _ in range(3)]
    r = corsware(
        "demo", "--once", "--json", "--client-port", ports[0], "--api-port", ports[1], "--other-port", ports[2]
    )
    assert r.code == 0, r.err
    d = r.json
    assert "readable by the page" in d["calls"][d["client"]]
    assert "the browser blocks the call" in d["calls"][d["other"]]


def test_installed_script_and_module_agree() -> None:
    script = Path(sys.executable).with_name("corsware")
    assert script.exists(), "pip install -e . installs the corsware script"
    out = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True).stdout
    assert out == corsware("--version").out


def _tty_output(args: list[str], env: dict[str, str]) -> str:
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "corsware", *args], stdout=follower, stderr=subprocess.DEVNULL,
                              env=env, timeout=30, check=False)  # fmt: skip
        assert proc.returncode in (0, 1)
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks).decode()
    finally:
        os.close(leader)


def test_colour_only_on_a_tty_and_never_with_no_color(main_toml: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    assert "\x1b[" in _tty_output(["check", str(main_toml)], env)
    assert "\x1b[" not in _tty_output(["check", str(main_toml)], {**env, "NO_COLOR": "1"})
