"""``corsware check``: validate a policy file and point out settings worth a second look."""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from .._errors import CORSConfigError, Problem
from .._origins import OriginPattern, parse_origin_pattern
from .._policy import OPTION_NAMES, CORSPolicy, load_policy_file
from .._syntax import in_syntax, syntax_of_file
from ._output import EXIT_NO, EXIT_OK, CommandError, Style, print_json

__all__ = [
    "TOOL_TABLE", "WARNING_CODES", "PolicyFile", "PolicyWarning", "accepted_codes", "load_policy",
    "load_policy_file_settings", "policy_warnings", "run_check",
]  # fmt: skip

#: Chromium caps Access-Control-Max-Age at 7200 s (Firefox at 86400 s); MDN.
CHROMIUM_MAX_AGE: Final = 7200
_BROAD_REGEX: Final = re.compile(r"(?<!\\)\.[*+]|\\S[*+]|\[\^")

#: Every code :func:`policy_warnings` can give (the table in docs/cli.md lists them).
WARNING_CODES: Final = (
    "any_origin", "null_origin", "insecure_origin_with_credentials", "any_port", "broad_subdomains",
    "broad_regex", "max_age_capped", "private_network_legacy", "dangerous_opt_in", "allows_nothing",
)  # fmt: skip

#: The top-level table of a policy file holding the command's own settings, not the policy's:
#: ``[corsware]`` in TOML, ``"corsware": {...}`` in JSON.
TOOL_TABLE: Final = "corsware"
_TOOL_SETTINGS: Final = ("accept",)


@dataclass(frozen=True)
class PolicyWarning:
    """A valid but questionable setting: ``field``, stable ``code``, a sentence."""

    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class PolicyFile:
    """A policy file as the command reads it: the policy, and the warnings it accepts."""

    policy: CORSPolicy
    accept: tuple[str, ...] = ()


def _unknown_code(code: str) -> str:
    """The end of a sentence about a code that is not a warning code: the nearest one, or all."""
    close = difflib.get_close_matches(code, WARNING_CODES, n=1)
    return f"did you mean {close[0]!r}?" if close else f"the codes are: {', '.join(WARNING_CODES)}"


def _tool_settings(table: object, problems: list[Problem]) -> tuple[str, ...]:
    """Read the ``[corsware]`` table (problems are appended, every one of them)."""
    if not isinstance(table, Mapping):
        problems.append(Problem(TOOL_TABLE, table, "invalid_type",
                                "must be a table of the corsware command's settings ([corsware] in TOML, an object "
                                "in JSON), e.g. accept = ['max_age_capped']"))  # fmt: skip
        return ()
    accept: list[str] = []
    for key, value in table.items():
        field = f"{TOOL_TABLE}.{key}"
        if key not in _TOOL_SETTINGS:
            if key in OPTION_NAMES:
                hint = (f"is a CORSPolicy option, not a setting of the command: move it above the [{TOOL_TABLE}] "
                        f"table (in TOML, every key after a [table] line belongs to that table)")  # fmt: skip
            else:
                close = difflib.get_close_matches(str(key), _TOOL_SETTINGS, n=1)
                hint = "is not a setting of the corsware command; " + (
                    f"did you mean {close[0]!r}?" if close else f"the settings are: {', '.join(_TOOL_SETTINGS)}"
                )
            problems.append(Problem(field, value, "unknown_option", hint))
            continue
        if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
            problems.append(Problem(field, value, "invalid_type",
                                    "must be a list of warning codes, e.g. ['max_age_capped']"))  # fmt: skip
            continue
        for code in value:
            if code in WARNING_CODES:
                accept.append(code)
            else:
                why = f"{code!r} is not a warning code of corsware check; {_unknown_code(code)}"
                problems.append(Problem(field, code, "unknown_warning", why))
    return tuple(dict.fromkeys(accept))


def load_policy_file_settings(path: str) -> PolicyFile:
    """Load a policy file and its ``[corsware]`` table; every problem becomes one :class:`CommandError`.

    The table is taken out before the policy is built, so ``CORSPolicy.from_mapping`` stays
    strict about every other key; the problems of both are reported together.
    """
    try:
        data = load_policy_file(path)
    except CORSConfigError as exc:
        raise CommandError.from_config(exc, path) from None
    problems: list[Problem] = []
    accept = _tool_settings(data.pop(TOOL_TABLE), problems) if TOOL_TABLE in data else ()
    policy: CORSPolicy | None = None
    try:
        policy = CORSPolicy.from_mapping(data)
    except CORSConfigError as exc:
        # The policy's problems are worded in the file's syntax, like CORSPolicy.from_file's.
        problems[:0] = in_syntax(exc, syntax_of_file(path)).problems
    if problems or policy is None:
        raise CommandError.from_config(CORSConfigError(problems), path)
    return PolicyFile(policy, accept)


def load_policy(path: str) -> CORSPolicy:
    """Load a policy file, turning every problem into a :class:`CommandError` (exit 2)."""
    return load_policy_file_settings(path).policy


def accepted_codes(option: str, codes: Sequence[str]) -> tuple[str, ...]:
    """Validate the codes given as ``--accept`` (a usage error, exit 2, names the nearest code)."""
    for code in codes:
        if code not in WARNING_CODES:
            raise CommandError("usage", f"{option} {code!r} is not a warning code of corsware check; "
                                        f"{_unknown_code(code)}")  # fmt: skip
    return tuple(dict.fromkeys(codes))


def _rule_warnings(prefix: str, d: dict[str, Any]) -> list[PolicyWarning]:
    out: list[PolicyWarning] = []
    credentials = bool(d.get("allow_credentials"))

    def warn(field: str, code: str, message: str) -> None:
        out.append(PolicyWarning(prefix + field, code, message))

    for origin in d.get("allow_origins", []):
        if origin == "*":
            warn("allow_origins", "any_origin", "'*' lets every website read responses: fine for public data only")
            continue
        if origin == "null":
            warn("allow_origins", "null_origin",
                 "'null' is the origin of every sandboxed iframe and file: page: any site can obtain it")  # fmt: skip
            continue
        parsed = parse_origin_pattern(origin, "allow_origins")
        if not isinstance(parsed, OriginPattern):  # pragma: no cover - the policy is already valid
            continue
        if credentials and parsed.insecure:
            warn("allow_origins", "insecure_origin_with_credentials",
                 f"{origin!r} is plain http: anyone on the network path can inject script into it and read "
                 "credentialed responses; use https")  # fmt: skip
        if parsed.kind == "any-port" and not parsed.insecure and parsed.scheme == "https":
            warn("allow_origins", "any_port", f"{origin!r} allows every port of {parsed.host}")
        elif parsed.kind == "any-port" and parsed.insecure:
            warn("allow_origins", "any_port", f"{origin!r} allows every plain-http port of {parsed.host}")
        if parsed.kind == "subdomains" and credentials:
            warn("allow_origins", "broad_subdomains",
                 f"{origin!r} trusts every subdomain of {parsed.host} with credentials: one forgotten or "
                 "user-content subdomain can read your users' data")  # fmt: skip
    for regex in d.get("allow_origin_regex", []):
        if _BROAD_REGEX.search(regex):
            warn("allow_origin_regex", "broad_regex",
                 f"{regex!r} contains an open-ended part ('.*', '.+', '\\S+', '[^...]'); "
                 "prefer explicit labels like '[a-z0-9-]+'")  # fmt: skip
        if credentials and regex.startswith(("http://", "https?", "(http|https)", "(https?")):
            warn("allow_origin_regex", "insecure_origin_with_credentials",
                 f"{regex!r} admits plain-http origins while credentials are allowed")  # fmt: skip
    max_age = d.get("max_age")
    if isinstance(max_age, int) and max_age > CHROMIUM_MAX_AGE:
        warn("max_age", "max_age_capped",
             f"{max_age} s is more than Chromium honours ({CHROMIUM_MAX_AGE} s; Firefox: 86400 s); "
             "browsers silently use their cap")  # fmt: skip
    if d.get("allow_private_network"):
        warn("allow_private_network", "private_network_legacy",
             "Private Network Access is legacy: Chrome 142+ uses Local Network Access (a user permission) "
             "and ignores this header")  # fmt: skip
    for flag in ("dangerously_allow_null_origin", "dangerously_allow_insecure_origins",
                 "dangerously_allow_public_suffix_patterns"):  # fmt: skip
        if d.get(flag):
            warn(flag, "dangerous_opt_in", "is on: a setting corsware refuses by default is allowed")
    return out


def policy_warnings(policy: CORSPolicy) -> list[PolicyWarning]:
    """Settings that are valid but deserve a human's attention, top level then per path."""
    d = policy.describe()
    # Entries the policy ignored (a forbidden header name, ...): the core's own warnings.
    out = [PolicyWarning(w.field, w.code, w.message) for w in policy.warnings]
    out += _rule_warnings("", d)
    paths: dict[str, Any] = d.get("paths", {})
    if not d["allow_origins"] and not d["allow_origin_regex"] and not paths:
        out.append(
            PolicyWarning("allow_origins", "allows_nothing", "no origin is allowed: every cross-origin read fails")
        )
    for pattern, rule in paths.items():
        out.extend(_rule_warnings(f"paths[{pattern!r}].", rule))
    return out


def toml_lines(d: dict[str, Any], table: str = "") -> list[str]:
    """Render a described policy as TOML (which ``corsware check`` can read back)."""
    lines: list[str] = []
    nested: list[tuple[str, dict[str, Any]]] = []
    for key, value in d.items():
        if key == "paths":
            nested.extend((f"paths.{json.dumps(p)}", v) for p, v in value.items())
        elif value is None:
            lines.append(f"# {key}: not set (header omitted)")
        else:
            lines.append(f"{key} = {json.dumps(value)}")
    for name, sub in nested:
        lines.extend(["", f"[{name}]", *toml_lines(sub, name)])
    return lines


def run_check(args: argparse.Namespace) -> int:
    """Validate ``args.policy``; exit 0 when clean or every warning is accepted, else 1 (2 is raised)."""
    accept_cli = accepted_codes("--accept", args.accept)
    loaded = load_policy_file_settings(args.policy)
    policy = loaded.policy
    accept = set(loaded.accept) | set(accept_cli)
    warnings = policy_warnings(policy)
    open_warnings = [w for w in warnings if w.code not in accept]
    status = EXIT_NO if open_warnings else EXIT_OK
    if args.json:
        print_json({"ok": True, "file": args.policy, "policy": policy.describe(),
                    "warnings": [{**w.as_dict(), "accepted": w.code in accept} for w in warnings],
                    "accepted": {"file": list(loaded.accept), "command_line": list(accept_cli)}})  # fmt: skip
        return status
    style = Style.for_stream(sys.stdout)
    out = sys.stdout
    out.write(f"{style(args.policy, 'bold')}: {style('valid', 'green', 'bold')}\n\n")
    out.write(style("# normalised policy", "dim") + "\n")
    for line in toml_lines(policy.describe()):
        out.write(f"{line}\n")
    if loaded.accept:
        out.write(f"\n[{TOOL_TABLE}]\naccept = {json.dumps(list(loaded.accept))}\n")
    if not warnings:
        out.write(f"\n{style('no warnings', 'green')}\n")
        return status
    accepted = len(warnings) - len(open_warnings)
    if not accepted:
        heading = f"{len(warnings)} warning(s):"
    elif open_warnings:
        heading = f"{len(warnings)} warning(s), {accepted} accepted:"
    else:
        heading = f"{len(warnings)} warning(s), all accepted:"
    out.write(f"\n{style(heading, 'yellow' if open_warnings else 'green', 'bold')}\n")
    for w in warnings:
        if w.code in accept:
            out.write(style(f"  - {w.field}: {w.message} [{w.code}] (accepted)", "dim") + "\n")
        else:
            out.write(f"  {style('!', 'yellow')} {w.field}: {w.message} [{w.code}]\n")
    return status
