"""Configuration problems worded in the syntax the configuration was written in.

The checks word their messages in Python, the syntax of ``CORSPolicy(...)`` keywords:
``write ['https://a.com']``, ``pass dangerously_allow_null_origin=True``. A policy read
from a TOML file, a JSON file or ``CORSWARE_*`` environment variables gets the same
messages in its own syntax, so that what the message says to write can be pasted where
the mistake is:

========  ==================================================================
python    ``allow_origins=['https://a.com']``, ``allow_credentials=True``
toml      ``allow_origins = ["https://a.com"]``, ``allow_credentials = true``,
          per-path rules under ``[paths."/api/*"]``
json      ``"allow_origins": ["https://a.com"]``, ``true``
env       ``CORSWARE_ALLOW_ORIGINS=https://a.com,https://b.com``,
          ``CORSWARE_ALLOW_CREDENTIALS=true`` (per-path rules are JSON in ``CORSWARE_PATHS``)
========  ==================================================================

Suggestions are rewritten from the structured :class:`~corsware._errors.Fix` data of each
problem: the Python text of a fix is found in the message and replaced by the same setting
in the target syntax. Settings the prose merely mentions (``together with
allow_credentials=True``) are rewritten by pattern, like the Django settings adapter does
for its own syntax (``corsware.django.conf``).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import replace
from typing import Final, Literal

from ._errors import CORSConfigError, Fix, Problem

__all__ = ["Syntax", "in_syntax", "render_problem", "render_value", "syntax_of_file"]

Syntax = Literal["python", "toml", "json", "env"]

ENV_PREFIX: Final = "CORSWARE_"
#: ``paths['/api/*'].allow_origins``: a problem of a per-path rule (fields from ``_compile_paths``).
_RULE_FIELD: Final = re.compile(r"""paths\[(?P<key>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\]\.""")
#: ``allow_credentials=True`` said in the prose of a message (not a suggestion with a Fix).
_KEYWORD: Final = re.compile(r"\b(?:(?P<verb>pass|set) )?(?P<name>[a-z_]+)=(?P<value>True|False|None)\b")
_BARE_KEY: Final = re.compile(r"[A-Za-z0-9_-]+")
#: Prose that names Python values, and how each syntax says it ("" drops it: TOML has no null).
_PHRASES: Final[dict[str, dict[str, str]]] = {
    "True or False": {"toml": "true or false", "json": "true or false", "env": "true or false"},
    ", or None to omit the header": {
        "toml": "",
        "json": ", or null to omit the header",
        "env": ", or CORSWARE_MAX_AGE=none to omit the header",
    },
    "seconds or None": {"toml": "seconds", "json": "seconds or null", "env": "seconds or none"},
    "(only '*' may be": {"toml": '(only "*" may be', "json": '(only "*" may be', "env": "(only * may be"},
    " in allow_origins, or ": {
        "toml": " in allow_origins, or ",
        "json": ' in "allow_origins", or ',
        "env": " in CORSWARE_ALLOW_ORIGINS, or ",
    },
}


def syntax_of_file(path: object) -> Syntax:
    """The syntax of a policy file, from its name (``from_file`` accepts ``.toml`` and ``.json``)."""
    return "json" if str(path).lower().endswith(".json") else "toml"


def in_syntax(exc: CORSConfigError, syntax: Syntax) -> CORSConfigError:
    """``exc`` with every problem worded in ``syntax`` (codes, fields and values unchanged)."""
    if syntax == "python":
        return exc
    return CORSConfigError([render_problem(p, syntax) for p in exc.problems])


def render_problem(problem: Problem, syntax: Syntax) -> Problem:
    """One problem with its message worded in ``syntax``."""
    if syntax == "python":
        return problem
    rule = _rule_of(problem.field)
    # CORSWARE_PATHS holds the per-path rules as JSON: their settings are written in JSON.
    values: Syntax = "json" if syntax == "env" and rule is not None else syntax
    message = problem.message
    for fix in problem.fix:
        old = fix.python_text()
        at = message.rfind(old)
        if at == -1:
            continue
        before = message[:at]
        if fix.form == "keyword" and before.endswith("pass "):
            before = before[: -len("pass ")] + ("set " if values == "env" else "add ")
        message = before + _render_fix(fix, values, rule, syntax) + message[at + len(old) :]
    message = _KEYWORD.sub(lambda m: _keyword(m, values), message)
    for python, by_syntax in _PHRASES.items():
        message = message.replace(python, by_syntax[values])
    if isinstance(problem.value, str) and values != "env":
        # The offending value, quoted as the file quotes it ("is the string "https://a.com"").
        message = message.replace(repr(problem.value), render_value(problem.value, values))
    return replace(problem, message=message)


def render_value(value: object, syntax: Syntax, option: str = "") -> str:
    """``value`` (Python data) written in ``syntax``; ``option`` picks the env list format."""
    if syntax == "python":
        return repr(value)
    if syntax == "json":
        return json.dumps(value, ensure_ascii=False, default=str)
    if syntax == "env":
        return _env_value(value, option)
    return _toml_value(value)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        if "\\" in value and "'" not in value and value.isprintable():
            return f"'{value}'"  # a literal string: regexes without doubled backslashes
        # A basic string: JSON's escapes are TOML's, plus DEL (TOML 1.0 "String").
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value))


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def _env_value(value: object, option: str) -> str:
    """As ``corsware._mount`` reads a variable: true/false, none, a comma-separated list."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
        if option == "allow_origin_regex":  # one regex as written, several as a JSON array
            return items[0] if len(items) == 1 and not items[0].startswith("[") else json.dumps(items)
        if all(item and "," not in item for item in items) and not (items and items[0].startswith("[")):
            return ",".join(items)
        return json.dumps(items)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def _name(option: str, syntax: Syntax) -> str:
    if syntax == "env":
        return ENV_PREFIX + option.upper()
    if syntax == "json":
        return json.dumps(option)
    return _toml_key(option)


def _assignment(option: str, value: object, syntax: Syntax) -> str:
    text = render_value(value, syntax, option)
    if syntax == "env":
        return f"{ENV_PREFIX}{option.upper()}={text}"
    if syntax == "json":
        return f"{json.dumps(option)}: {text}"
    return f"{_toml_key(option)} = {text}"


def _render_fix(fix: Fix, syntax: Syntax, rule: str | None, source: Syntax) -> str:
    if fix.form == "item":
        value = fix.value
        if syntax == "env" and isinstance(value, str):
            return value
        return render_value(value, syntax, fix.option)
    if fix.form == "name":
        return _name(fix.option, syntax)
    text = _assignment(fix.option, fix.value, syntax)
    return text + _where(rule, source)


def _where(rule: str | None, source: Syntax) -> str:
    """Where a setting of a per-path rule goes, in the syntax of the configuration."""
    if rule is None:
        return ""
    if source == "toml":
        return f" under [paths.{json.dumps(rule, ensure_ascii=False)}]"
    container = "CORSWARE_PATHS" if source == "env" else '"paths"'
    return f" in the {json.dumps(rule, ensure_ascii=False)} rule of {container}"


def _keyword(m: re.Match[str], syntax: Syntax) -> str:
    verb, name, value = m.group("verb"), m.group("name"), m.group("value")
    data = {"True": True, "False": False, "None": None}[value]
    if syntax == "toml" and data is None:
        return m.group(0)  # TOML cannot write None; no message says it
    said = (("set " if syntax == "env" else "add ") if verb == "pass" else f"{verb} ") if verb else ""
    return said + _assignment(name, data, syntax)


def _rule_of(field: str) -> str | None:
    """The path pattern of the per-path rule a problem is about, or None (the top level)."""
    m = _RULE_FIELD.match(field)
    if m is None:
        return None
    key = ast.literal_eval(m.group("key"))
    return key if isinstance(key, str) else None
