"""Issue "first hour" #14: configuration problems speak the syntax the configuration was
written in, and point to `corsware explain-code CODE` rather than to docs a pip user lacks.

One table per syntax: the same mistakes written as Python keywords, in a TOML file, in a
JSON file and as ``CORSWARE_*`` variables, each with the fix text its message must show.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

import corsware.wsgi
from corsware import CORSConfigError, CORSPolicy
from corsware._errors import Fix, Problem
from corsware._mount import _parse_env, policy_from_env
from corsware._syntax import render_problem
from corsware.cli._codes import reason_codes
from tests.support.docs_blocks import DOCS, ROOT

from ..support.cli import corsware as run_cli

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

# -- Python keywords: unchanged wording, the fix as data -----------------------------------------

# (id, keywords, code, fragment of the message, one Fix the problem must carry)
PYTHON: list[tuple[str, dict[str, Any], str, str, Fix]] = [
    ("bare string", {"allow_origins": "https://a.com"}, "bare_string", "write ['https://a.com']",
     Fix("allow_origins", ["https://a.com"])),
    ("comma-separated bare string", {"allow_origins": "https://a.com,https://b.com"}, "bare_string",
     "write ['https://a.com', 'https://b.com']", Fix("allow_origins", ["https://a.com", "https://b.com"])),
    ("trailing slash", {"allow_origins": ["https://a.com/"]}, "origin_trailing_slash", "write 'https://a.com'",
     Fix("allow_origins", "https://a.com", "item")),
    ("no scheme", {"allow_origins": ["a.com"]}, "origin_no_scheme", "write 'https://a.com'",
     Fix("allow_origins", "https://a.com", "item")),
    ("default port", {"allow_origins": ["https://a.com:443"]}, "origin_default_port", "write 'https://a.com'",
     Fix("allow_origins", "https://a.com", "item")),
    ("wildcard with credentials", {"allow_origins": ["*"], "allow_credentials": True},
     "wildcard_origin_with_credentials", "e.g. ['https://app.example.com']",
     Fix("allow_origins", ["https://app.example.com"])),
    ("null origin", {"allow_origins": ["null"]}, "null_origin", "also pass dangerously_allow_null_origin=True",
     Fix("dangerously_allow_null_origin", True, "keyword")),
    ("insecure origin with credentials", {"allow_origins": ["http://a.com"], "allow_credentials": True},
     "insecure_origin_with_credentials", "or pass dangerously_allow_insecure_origins=True",
     Fix("dangerously_allow_insecure_origins", True, "keyword")),
    ("public suffix pattern with credentials", {"allow_origins": ["https://*.github.io"], "allow_credentials": True},
     "public_suffix_pattern_with_credentials", "or pass dangerously_allow_public_suffix_patterns=True",
     Fix("dangerously_allow_public_suffix_patterns", True, "keyword")),
    ("max_age out of range", {"max_age": 100000}, "max_age_out_of_range", "e.g. max_age=86400, or None",
     Fix("max_age", 86400, "keyword")),
    ("negative max_age", {"max_age": -1}, "max_age_out_of_range", "e.g. max_age=0", Fix("max_age", 0, "keyword")),
    ("credentials as a string", {"allow_credentials": "true"}, "invalid_type",
     "must be True or False, not 'true'; write True", Fix("allow_credentials", True)),
    ("wildcard and a regex", {"allow_origins": ["*"], "allow_origin_regex": r"https://a\.example\.com"},
     "wildcard_origin_redundant", "allow_origins=['*'] already allows", Fix("allow_origins", ["*"], "keyword")),
    ("method in lower case", {"allow_methods": ["delete"]}, "method_case", "write 'DELETE'",
     Fix("allow_methods", "DELETE", "item")),
]  # fmt: skip


@pytest.mark.parametrize(("kwargs", "code", "fragment", "fix"), [pytest.param(*row[1:], id=row[0]) for row in PYTHON])
def test_python_keywords_keep_python_wording_and_carry_the_fix(
    kwargs: dict[str, Any], code: str, fragment: str, fix: Fix
) -> None:
    with pytest.raises(CORSConfigError) as info:
        CORSPolicy(**kwargs)
    problem = next(p for p in info.value.problems if p.code == code)
    assert fragment in problem.message, problem.message
    assert fix in problem.fix
    # The Python text of every fix is in the message: that is what other syntaxes rewrite.
    assert all(f.python_text() in problem.message for f in problem.fix), (problem.fix, problem.message)


def test_did_you_mean_carries_the_option_name() -> None:
    with pytest.raises(CORSConfigError) as info:
        CORSPolicy.from_mapping({"allow_origin": ["https://a.com"]})
    (problem,) = info.value.problems
    assert "did you mean 'allow_origins'?" in problem.message
    assert problem.fix == (Fix("allow_origins", ["https://a.com"], "name"),)


# -- policy files ----------------------------------------------------------------------------------

# (id, file text, code, fragment of the message)
TOML: list[tuple[str, str, str, str]] = [
    ("bare string", 'allow_origins = "https://a.com"', "bare_string",
     'is the string "https://a.com", not a list; write allow_origins = ["https://a.com"] (only "*" may be'),
    ("wildcard and a regex", 'allow_origins = ["*"]\nallow_origin_regex = ["https://a\\\\.example\\\\.com"]',
     "wildcard_origin_redundant", 'allow_origins = ["*"] already allows every origin'),
    ("comma-separated bare string", 'allow_origins = "https://a.com, https://b.com"', "bare_string",
     'write allow_origins = ["https://a.com", "https://b.com"]'),
    ("trailing slash", 'allow_origins = ["https://a.com/"]', "origin_trailing_slash", 'write "https://a.com"'),
    ("path", 'allow_origins = ["https://a.com/app"]', "origin_has_path", 'write "https://a.com"'),
    ("upper case", 'allow_origins = ["https://A.com"]', "origin_uppercase", 'write "https://a.com"'),
    ("comma in one item", 'allow_origins = ["https://a.com,https://b.com"]', "origin_comma_separated",
     'separate items: ["https://a.com", "https://b.com"]'),
    ("regex as an origin", 'allow_origins = ["https://.*\\\\.example\\\\.com"]', "origin_looks_like_regex",
     "write the pattern \"https://*.example.com\" in allow_origins, or allow_origin_regex = ['https://.*\\.example\\.com']"),
    ("wildcard with credentials", 'allow_origins = ["*"]\nallow_credentials = true',
     "wildcard_origin_with_credentials",
     'together with allow_credentials = true would let every website read'),
    ("wildcard with credentials: the example", 'allow_origins = ["*"]\nallow_credentials = true',
     "wildcard_origin_with_credentials", 'e.g. allow_origins = ["https://app.example.com"]'),
    ("null origin", 'allow_origins = ["null"]', "null_origin", "also add dangerously_allow_null_origin = true"),
    ("insecure origin with credentials", 'allow_origins = ["http://a.com"]\nallow_credentials = true',
     "insecure_origin_with_credentials", "or add dangerously_allow_insecure_origins = true"),
    ("public suffix pattern with credentials", 'allow_origins = ["https://*.github.io"]\nallow_credentials = true',
     "public_suffix_pattern_with_credentials", "or add dangerously_allow_public_suffix_patterns = true"),
    ("unknown option", 'allow_origin = ["https://a.com"]', "unknown_option", "did you mean allow_origins?"),
    # TOML has no None: the alternative the Python message offers is left out.
    ("max_age out of range", "max_age = 100000", "max_age_out_of_range",
     "use a value in that range, e.g. max_age = 86400 [max_age_out_of_range]"),
    ("credentials as a string", 'allow_credentials = "true"', "invalid_type",
     'must be true or false, not "true"; write allow_credentials = true'),
    ("max_age as a string", 'max_age = "600"', "invalid_type", 'not "600"; write max_age = 600'),
    ("per-path rule: null", '[paths."/api/*"]\nallow_origins = ["null"]', "null_origin",
     'also add dangerously_allow_null_origin = true under [paths."/api/*"]'),
    ("per-path rule: bare string", '[paths."/api/*"]\nallow_origins = "https://a.com"', "bare_string",
     'write allow_origins = ["https://a.com"] under [paths."/api/*"]'),
]  # fmt: skip

JSON: list[tuple[str, dict[str, Any], str, str]] = [
    ("bare string", {"allow_origins": "https://a.com"}, "bare_string",
     'is the string "https://a.com", not a list; write "allow_origins": ["https://a.com"]'),
    ("trailing slash", {"allow_origins": ["https://a.com/"]}, "origin_trailing_slash", 'write "https://a.com"'),
    ("no scheme", {"allow_origins": ["a.com"]}, "origin_no_scheme", 'write "https://a.com"'),
    ("regex as an origin", {"allow_origins": ["https://.*\\.example\\.com"]}, "origin_looks_like_regex",
     'write the pattern "https://*.example.com" in "allow_origins", or '
     '"allow_origin_regex": ["https://.*\\\\.example\\\\.com"]'),
    ("wildcard with credentials", {"allow_origins": ["*"], "allow_credentials": True},
     "wildcard_origin_with_credentials", 'e.g. "allow_origins": ["https://app.example.com"]'),
    ("null origin", {"allow_origins": ["null"]}, "null_origin", 'also add "dangerously_allow_null_origin": true'),
    ("insecure origin with credentials", {"allow_origins": ["http://a.com"], "allow_credentials": True},
     "insecure_origin_with_credentials", 'or add "dangerously_allow_insecure_origins": true'),
    ("public suffix pattern with credentials", {"allow_origins": ["https://*.github.io"], "allow_credentials": True},
     "public_suffix_pattern_with_credentials", 'or add "dangerously_allow_public_suffix_patterns": true'),
    ("unknown option", {"allow_origin": ["https://a.com"]}, "unknown_option", 'did you mean "allow_origins"?'),
    ("max_age out of range", {"max_age": 100000}, "max_age_out_of_range",
     'e.g. "max_age": 86400, or null to omit the header'),
    ("credentials as a string", {"allow_credentials": "true"}, "invalid_type",
     'must be true or false, not "true"; write "allow_credentials": true'),
    ("per-path rule", {"paths": {"/api/*": {"allow_origins": ["*"], "allow_credentials": True}}},
     "wildcard_origin_with_credentials",
     'e.g. "allow_origins": ["https://app.example.com"] in the "/api/*" rule of "paths"'),
]  # fmt: skip


def _file_problem(path: Path, code: str) -> Problem:
    with pytest.raises(CORSConfigError) as info:
        CORSPolicy.from_file(path)
    assert code in info.value.codes, info.value
    return next(p for p in info.value.problems if p.code == code)


@pytest.mark.parametrize(("text", "code", "fragment"), [pytest.param(*row[1:], id=row[0]) for row in TOML])
def test_toml_policy_file_problems_are_worded_in_toml(tmp_path: Path, text: str, code: str, fragment: str) -> None:
    path = tmp_path / "cors.toml"
    path.write_text(text + "\n", encoding="utf-8")
    problem = _file_problem(path, code)
    assert fragment in str(problem), str(problem)


@pytest.mark.parametrize(("data", "code", "fragment"), [pytest.param(*row[1:], id=row[0]) for row in JSON])
def test_json_policy_file_problems_are_worded_in_json(
    tmp_path: Path, data: dict[str, Any], code: str, fragment: str
) -> None:
    path = tmp_path / "cors.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    problem = _file_problem(path, code)
    assert fragment in problem.message, problem.message


def test_corsware_check_words_problems_in_the_file_syntax(tmp_path: Path) -> None:
    path = tmp_path / "cors.toml"
    path.write_text('allow_origins = ["*"]\nallow_credentials = "true"\n', encoding="utf-8")
    r = run_cli("check", str(path))
    assert r.code == 2
    assert "write allow_credentials = true" in r.err, r.err


def test_policy_file_from_the_environment_is_worded_in_its_syntax(tmp_path: Path) -> None:
    path = tmp_path / "cors.toml"
    path.write_text('allow_origins = ["null"]\n', encoding="utf-8")
    with pytest.raises(CORSConfigError, match=re.escape("also add dangerously_allow_null_origin = true")):
        policy_from_env({"CORSWARE_POLICY_FILE": str(path)})


# -- CORSWARE_* variables --------------------------------------------------------------------------

ENV: list[tuple[str, dict[str, str], str, str]] = [
    ("wildcard with credentials", {"CORSWARE_ALLOW_ORIGINS": "*", "CORSWARE_ALLOW_CREDENTIALS": "true"},
     "wildcard_origin_with_credentials", "together with CORSWARE_ALLOW_CREDENTIALS=true would let"),
    ("wildcard with credentials: the example", {"CORSWARE_ALLOW_ORIGINS": "*", "CORSWARE_ALLOW_CREDENTIALS": "1"},
     "wildcard_origin_with_credentials", "e.g. CORSWARE_ALLOW_ORIGINS=https://app.example.com"),
    ("null origin", {"CORSWARE_ALLOW_ORIGINS": "null"}, "null_origin",
     "also set CORSWARE_DANGEROUSLY_ALLOW_NULL_ORIGIN=true"),
    ("insecure origin with credentials", {"CORSWARE_ALLOW_ORIGINS": "http://a.com", "CORSWARE_ALLOW_CREDENTIALS": "on"},
     "insecure_origin_with_credentials", "or set CORSWARE_DANGEROUSLY_ALLOW_INSECURE_ORIGINS=true"),
    ("public suffix pattern with credentials",
     {"CORSWARE_ALLOW_ORIGINS": "https://*.github.io", "CORSWARE_ALLOW_CREDENTIALS": "yes"},
     "public_suffix_pattern_with_credentials", "or set CORSWARE_DANGEROUSLY_ALLOW_PUBLIC_SUFFIX_PATTERNS=true"),
    ("trailing slash", {"CORSWARE_ALLOW_ORIGINS": "https://a.com/"}, "origin_trailing_slash", "write https://a.com"),
    ("max_age out of range", {"CORSWARE_ALLOW_ORIGINS": "https://a.com", "CORSWARE_MAX_AGE": "100000"},
     "max_age_out_of_range", "e.g. CORSWARE_MAX_AGE=86400, or CORSWARE_MAX_AGE=none to omit the header"),
    ("regex as an origin", {"CORSWARE_ALLOW_ORIGINS": "https://.*\\.example\\.com"}, "origin_looks_like_regex",
     "write the pattern https://*.example.com in CORSWARE_ALLOW_ORIGINS, or "
     "CORSWARE_ALLOW_ORIGIN_REGEX=https://.*\\.example\\.com"),
    # A JSON array of origins with one bare-string-like item: the fix is the variable's list.
    ("comma in one JSON item", {"CORSWARE_ALLOW_ORIGINS": '["https://a.com,https://b.com"]'},
     "origin_comma_separated", "separate items: https://a.com,https://b.com"),
    # CORSWARE_PATHS holds JSON: its rules are worded in JSON, naming the variable.
    ("per-path rule", {"CORSWARE_ALLOW_ORIGINS": "https://a.com",
                       "CORSWARE_PATHS": '{"/api/*": {"allow_origins": "https://b.com"}}'},
     "bare_string", 'write "allow_origins": ["https://b.com"] in the "/api/*" rule of CORSWARE_PATHS'),
    ("per-path unknown option", {"CORSWARE_ALLOW_ORIGINS": "https://a.com",
                                 "CORSWARE_PATHS": '{"/api/*": {"allow_origin": []}}'},
     "unknown_option", 'did you mean "allow_origins"?'),
]  # fmt: skip


@pytest.mark.parametrize(("env", "code", "fragment"), [pytest.param(*row[1:], id=row[0]) for row in ENV])
def test_environment_problems_are_worded_as_variables(env: dict[str, str], code: str, fragment: str) -> None:
    with pytest.raises(CORSConfigError) as info:
        policy_from_env(env)
    problem = next(p for p in info.value.problems if p.code == code)
    assert fragment in problem.message, problem.message
    assert problem.field.startswith("CORSWARE_")


def test_from_env_factory_words_problems_as_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORSWARE_APP", "tests.support.server_app:wsgi_app")
    monkeypatch.setenv("CORSWARE_ALLOW_ORIGINS", "https://a.com,https://b.com,*")
    monkeypatch.setenv("CORSWARE_ALLOW_CREDENTIALS", "true")
    with pytest.raises(CORSConfigError) as info:
        corsware.wsgi.from_env()
    assert "e.g. CORSWARE_ALLOW_ORIGINS=https://app.example.com" in str(info.value)
    assert "allow_credentials=True" not in str(info.value)


ROUND_TRIP = [row[4] for row in PYTHON if row[4].form in ("value", "keyword")] + [
    Fix("allow_origin_regex", [r"https://(a|b)\.example\.com"]),
    Fix("allow_origin_regex", [r"https://a\.example\.com", r"https://b\.example\.com"]),
    Fix("allow_headers", ["X-A", "X-B"]),
]


@pytest.mark.parametrize("fix", ROUND_TRIP, ids=repr)
def test_suggested_settings_read_back_as_the_suggested_value(fix: Fix) -> None:
    """What a message tells to write, pasted into the file or the environment, is the fix."""
    problem = Problem(fix.option, None, "invalid_type", fix.python_text(), fix=(fix,))
    toml_text = render_problem(problem, "toml").message
    assert tomllib.loads(toml_text) == {fix.option: fix.value}, toml_text
    json_text = render_problem(problem, "json").message
    assert json.loads("{" + json_text + "}") == {fix.option: fix.value}, json_text
    var, _, raw = render_problem(problem, "env").message.partition("=")
    name = var.removeprefix("CORSWARE_").lower()
    problems: list[Problem] = []
    parsed = _parse_env(var, name, raw, problems)
    if isinstance(parsed, str):
        # One regex as written, or "*" (kept a string by the parser): the same as a list of it.
        parsed = [parsed]
    assert not problems, problems
    assert parsed == fix.value, (var, raw, parsed)


def test_rendering_keeps_code_field_value_and_fix() -> None:
    problem = Problem("allow_origins", "x", "null_origin", "pass a=True", fix=(Fix("a", True, "keyword"),))
    rendered = render_problem(problem, "toml")
    assert (rendered.field, rendered.value, rendered.code, rendered.fix) == (
        problem.field, problem.value, problem.code, problem.fix,
    )  # fmt: skip
    assert rendered.message == "add a = true"
    assert render_problem(problem, "python") is problem


# -- corsware explain-code: the reason codes, shipped in the package --------------------------------

PACKAGED = ROOT / "corsware" / "cli" / "reason_codes.md"


def test_packaged_reason_codes_equal_the_docs_page() -> None:
    """The wheel ships corsware/cli/reason_codes.md (docs/ is not installed): keep it a copy."""
    assert PACKAGED.read_text(encoding="utf-8") == (DOCS / "reason-codes.md").read_text(encoding="utf-8"), (
        "run: cp docs/reason-codes.md corsware/cli/reason_codes.md"
    )


def test_every_documented_code_can_be_explained() -> None:
    from tests.support.reason_codes import documented_codes

    documented = {code for codes in documented_codes().values() for code in codes}
    explained = {c.code for c in reason_codes()}
    assert explained == documented
    assert all(len(c.columns) == 3 and all(text for _, text in c.columns) for c in reason_codes())


def test_explain_code_prints_the_row() -> None:
    r = run_cli("explain-code", "null_origin")
    assert r.code == 0, r.err
    assert "null_origin" in r.out
    assert "What to do" in r.out
    assert "dangerously_allow_null_origin" in r.out
    r = run_cli("explain-code", "origin_not_allowed", "--json")
    assert r.code == 0
    (row,) = r.json["codes"]
    assert row["code"] == "origin_not_allowed"
    assert row["columns"]["Request kind"] == "actual, preflight"
    r = run_cli("explain-code")
    assert r.code == 0
    assert "bare_string" in r.out
    assert "path_ambiguous" in r.out


def test_explain_code_unknown_code_suggests() -> None:
    r = run_cli("explain-code", "nul_origin")
    assert r.code == 2
    assert "did you mean 'null_origin'?" in r.err


def test_core_messages_point_to_explain_code_not_docs() -> None:
    """A pip user has no docs/ directory: messages name `corsware explain-code CODE` instead,
    and every code they name can be explained. (corsware/django points to its own page.)"""
    codes = {c.code for c in reason_codes()}
    sources = sorted((ROOT / "corsware").glob("*.py")) + sorted((ROOT / "corsware" / "cli").glob("*.py"))
    for path in sources:
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines():
            stripped = line.strip()
            assert not (stripped.startswith(('"', 'f"')) and "see docs/" in stripped), (
                f"{path.name}: a message points to docs/: {stripped}"
            )
        for named in re.findall(r"corsware explain-code ([a-z0-9_]+)", text):
            assert named in codes, f"{path.name} names {named!r}, which explain-code does not know"


def test_no_policy_points_to_explain_code() -> None:
    with pytest.raises(CORSConfigError) as info:
        policy_from_env({})
    assert "run `corsware explain-code no_policy`" in str(info.value)
    assert "docs/" not in str(info.value)
