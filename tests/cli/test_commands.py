"""``corsware check / explain / export / demo``, driven as a user would (subprocess)."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from corsware.cli._check import WARNING_CODES

from ..support.cli import corsware
from ..support.servers import free_port

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


WARNING_CASES = [
    ({"allow_origins": ["http://intranet.example.com"], "allow_credentials": True,
      "dangerously_allow_insecure_origins": True}, "insecure_origin_with_credentials"),
    ({"allow_origins": ["https://app.example.com"], "max_age": 86400}, "max_age_capped"),
    ({"allow_origins": ["https://app.example.com"], "allow_private_network": True}, "private_network_legacy"),
    ({"allow_origin_regex": r"https://.*\.example\.com"}, "broad_regex"),
    ({"allow_origins": ["null"], "dangerously_allow_null_origin": True}, "null_origin"),
    ({"allow_origins": ["https://staging.example.com:*"]}, "any_port"),
    ({"allow_origins": ["*"]}, "any_origin"),
    ({"allow_origins": ["https://*.example.com"], "allow_credentials": True}, "broad_subdomains"),
    ({"allow_origins": ["https://*.github.io"], "allow_credentials": True,
      "dangerously_allow_public_suffix_patterns": True}, "dangerous_opt_in"),
    ({}, "allows_nothing"),
]  # fmt: skip


def test_every_warning_code_is_known_and_documented() -> None:
    """WARNING_CODES (what --accept takes) is exactly what check produces and docs/cli.md lists."""
    assert sorted(code for _, code in WARNING_CASES) == sorted(WARNING_CODES)
    page = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()
    table = page.split("Warning codes (`warnings[].code` in JSON):", 1)[1].split("\n\n", 2)[1]
    assert re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.M) == list(WARNING_CODES)


@pytest.mark.parametrize(("policy", "code"), WARNING_CASES)
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


# -- check: accepting the warnings you mean -------------------------------------------------


def test_check_accept_on_the_command_line(main_toml: Path) -> None:
    """main_toml warns broad_subdomains and any_origin: both must be accepted for exit status 0."""
    r = corsware("check", str(main_toml), "--accept", "broad_subdomains")
    assert r.code == 1
    assert "2 warning(s), 1 accepted:\n" in r.out
    assert "[broad_subdomains] (accepted)\n" in r.out
    assert "  ! paths['/public/*'].allow_origins: " in r.out
    r = corsware("check", str(main_toml), "--accept", "broad_subdomains", "--accept", "any_origin")
    assert r.code == 0, r.out
    assert "2 warning(s), all accepted:\n" in r.out
    assert "[any_origin] (accepted)\n" in r.out
    r = corsware("check", str(main_toml), "--accept", "any_origin", "--json")
    assert r.code == 1
    assert {w["code"]: w["accepted"] for w in r.json["warnings"]} == {"broad_subdomains": False, "any_origin": True}
    assert r.json["accepted"] == {"file": [], "command_line": ["any_origin"]}


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_check_accept_in_the_policy_file(tmp_path: Path, suffix: str) -> None:
    policy = {"allow_origins": ["https://app.example.com"], "max_age": 86400}
    tool = {"accept": ["max_age_capped"]}
    text = (
        json.dumps({**policy, "corsware": tool})
        if suffix == ".json"
        else 'allow_origins = ["https://app.example.com"]\nmax_age = 86400\n\n[corsware]\naccept = ["max_age_capped"]\n'
    )
    path = write(tmp_path, f"p{suffix}", text)
    r = corsware("check", path)
    assert r.code == 0, r.out + r.err
    assert "1 warning(s), all accepted:\n  - max_age: " in r.out
    assert r.out.endswith("[max_age_capped] (accepted)\n")
    # The normalised policy printed by check keeps the table, so it reads back the same.
    again = write(tmp_path, "again.toml", r.out.split("# normalised policy\n", 1)[1].split("\n1 warning", 1)[0])
    assert corsware("check", again).code == 0
    r = corsware("check", path, "--json")
    assert (r.code, r.json["accepted"]) == (0, {"file": ["max_age_capped"], "command_line": []})
    assert r.json["warnings"][0]["accepted"] is True
    # explain and export read the same file (the table is not a policy option).
    assert corsware("explain", path, "--origin", "https://app.example.com").code == 0
    assert corsware("export", "nginx", path).code == 0


def test_a_policy_file_with_the_command_table_serves_the_middleware_too(tmp_path: Path) -> None:
    """The [corsware] table is the command's: CORSPolicy.from_file and CORSWARE_POLICY_FILE skip it."""
    from corsware import CORSPolicy
    from corsware._mount import policy_from_env

    text = 'allow_origins = ["https://app.example.com"]\nmax_age = 86400\n\n[corsware]\naccept = ["max_age_capped"]\n'
    path = write(tmp_path, "p.toml", text)
    policy = CORSPolicy.from_file(path)
    assert policy.describe()["allow_origins"] == ["https://app.example.com"]
    assert policy_from_env({"CORSWARE_POLICY_FILE": path}) == policy
    assert corsware("check", path).code == 0


def test_check_accept_unknown_code_suggests(main_toml: Path) -> None:
    r = corsware("check", str(main_toml), "--accept", "broad_subdomain")
    assert (r.code, r.out) == (2, "")
    assert r.err == (
        "corsware: error: --accept 'broad_subdomain' is not a warning code of corsware check; "
        "did you mean 'broad_subdomains'?\n"
    )
    r = corsware("check", str(main_toml), "--accept", "zzz", "--json")
    assert r.json["error"]["code"] == "usage"
    assert "the codes are: any_origin, null_origin," in r.json["error"]["message"]


@pytest.mark.parametrize(
    ("table", "field", "code", "message"),
    [
        ('[corsware]\naccept = ["max_age_cap"]', "corsware.accept", "unknown_warning",
         "'max_age_cap' is not a warning code of corsware check; did you mean 'max_age_capped'?"),
        ("[corsware]\nacept = []", "corsware.acept", "unknown_option",
         "is not a setting of the corsware command; did you mean 'accept'?"),
        ('[corsware]\naccept = "max_age_capped"', "corsware.accept", "invalid_type",
         "must be a list of warning codes, e.g. ['max_age_capped']"),
        ('corsware = "max_age_capped"', "corsware", "invalid_type",
         "must be a table of the corsware command's settings ([corsware] in TOML, an object in JSON), "
         "e.g. accept = ['max_age_capped']"),
        ("[corsware]\nmax_age = 600", "corsware.max_age", "unknown_option",
         "is a CORSPolicy option, not a setting of the command: move it above the [corsware] table "
         "(in TOML, every key after a [table] line belongs to that table)"),
    ],
    ids=["unknown-code", "unknown-setting", "not-a-list", "not-a-table", "policy-option-in-the-table"],
)  # fmt: skip
def test_check_policy_file_table_problems(tmp_path: Path, table: str, field: str, code: str, message: str) -> None:
    """Problems of the [corsware] table are reported with the policy's own, all at once."""
    path = write(tmp_path, "p.toml", f'allow_origins = ["https://app.example.com/"]\n{table}\n')
    r = corsware("check", path, "--json")
    assert r.code == 2
    problems = [(p["field"], p["code"], p["message"]) for p in r.json["error"]["problems"]]
    assert problems == [("allow_origins", "origin_trailing_slash", problems[0][2]), (field, code, message)]
    assert corsware("explain", path, "--origin", "https://app.example.com").code == 2


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


def test_explain_authorization_covered_by_star(tmp_path: Path) -> None:
    """'*' covers Authorization, answered so that a browser's literal '*' rule accepts it."""
    policy = write(tmp_path, "p.json", json.dumps({"allow_origins": ["https://app.example.com"], "allow_headers": "*"}))
    r = corsware("explain", policy, "--origin", "https://app.example.com", "-H", "Authorization: Bearer t", "--json")
    assert r.code == 0, r.out
    assert r.json["failures"] == []


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
        (["--origin", "https://app.example.com/"], "ends with '/'"),
        (["--origin", "app.example.com"], "has no scheme"),
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


# Every origin-like value of the command line is read by the parser that checks allow_origins,
# and refused with its sentence and fix, the fix written as the option to type.
BAD_ORIGINS = [
    ("http://localhost:3000/", "--origin 'http://localhost:3000/' ends with '/'; browsers never send it: "
                               "write --origin http://localhost:3000"),
    ("HTTP://LOCALHOST:3000", "--origin 'HTTP://LOCALHOST:3000' must be lower case: write --origin http://localhost:3000"),
    ("http://Localhost:3000", "--origin 'http://Localhost:3000' must be lower case, as browsers send it: "
                              "write --origin http://localhost:3000"),
    ("http://localhost:3000/app", "--origin 'http://localhost:3000/app' has a path; an origin is only "
                                  "scheme://host[:port]: write --origin http://localhost:3000"),
    ("https://app.example.com?x=1", "--origin 'https://app.example.com?x=1' has a query or fragment; an origin is "
                                    "only scheme://host[:port]: write --origin https://app.example.com"),
    ("localhost:3000", "--origin 'localhost:3000' has no scheme; write --origin https://localhost:3000"),
    ("https://app.example.com:443", "--origin 'https://app.example.com:443' names the default port, which browsers "
                                    "omit: write --origin https://app.example.com"),
    ("https://bücher.example", "--origin 'https://bücher.example' is not ASCII; browsers send the punycode form: "
                               "write --origin https://xn--bcher-kva.example"),
    ("http://localhost:99999", "--origin 'http://localhost:99999' has an invalid port '99999' (1-65535, no leading "
                               "zeros)"),
    ("https://[::0001]", "--origin 'https://[::0001]' must write the IPv6 address as browsers do: '[::1]'"),
    ("https://*.example.com", "--origin 'https://*.example.com' is a pattern; a browser sends one origin: write one "
                              "it covers, e.g. --origin https://app.example.com"),
    ("http://localhost:*", "--origin 'http://localhost:*' is a pattern; a browser sends one origin: write one it "
                           "covers, e.g. --origin http://localhost:8080"),
    ("https://a.example.com, https://b.example.com", "--origin 'https://a.example.com, https://b.example.com' holds "
                                                     "several origins; a browser sends one: write --origin "
                                                     "https://a.example.com"),
    ("", "--origin '' is empty: write the page's origin, e.g. --origin https://app.example.com"),
    ("file:///home/me/index.html", "--origin 'file:///home/me/index.html': pages opened from file: URLs (and "
                                   "sandboxed iframes) send 'Origin: null': write --origin null"),
    ("https://.*\\.example\\.com", "--origin 'https://.*\\\\.example\\\\.com' looks like a regular expression; a "
                                "browser sends one origin: write e.g. --origin https://app.example.com"),
]  # fmt: skip


@pytest.mark.parametrize("command", ["explain", "probe"])
@pytest.mark.parametrize(("origin", "message"), BAD_ORIGINS, ids=[o or "empty" for o, _ in BAD_ORIGINS])
def test_origin_argument_gets_the_policy_validators_fix(main_toml: Path, command: str, origin: str,
                                                        message: str) -> None:  # fmt: skip
    where = str(main_toml) if command == "explain" else "http://127.0.0.1:9/"  # refused before any request
    r = corsware(command, where, "--origin", origin)
    assert (r.code, r.out) == (2, "")
    assert r.err == f"corsware: error: {message}\n"
    r = corsware(command, where, "--origin", origin, "--json")
    assert (r.json["error"]["code"], r.json["error"]["message"]) == ("usage", message)


@pytest.mark.parametrize("origin", ["null", "https://app.example.com", "http://localhost:3000", "https://[::1]:8443",
                                    "https://my_app.example.com"])  # fmt: skip
def test_origin_argument_accepts_what_browsers_send(main_toml: Path, origin: str) -> None:
    """Hosts a URL can hold but a policy cannot list (an underscore) are still sent as given."""
    r = corsware("explain", str(main_toml), "--origin", origin, "--json")
    assert r.code in (0, 1), r.err
    assert r.json["request"]["origin"] == origin


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


# -- export nginx (the round trip through nginx is tests/cli/test_nginx.py) ---------------------


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
