"""``corsware check``: validate a policy file and point out settings worth a second look."""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from typing import Any, Final

from .._errors import CORSConfigError
from .._origins import OriginPattern, parse_origin_pattern
from .._policy import CORSPolicy
from ._output import EXIT_NO, EXIT_OK, CommandError, Style, print_json

__all__ = ["PolicyWarning", "load_policy", "policy_warnings", "run_check"]

#: Chromium caps Access-Control-Max-Age at 7200 s (Firefox at 86400 s); MDN.
CHROMIUM_MAX_AGE: Final = 7200
_BROAD_REGEX: Final = re.compile(r"(?<!\\)\.[*+]|\\S[*+]|\[\^")


@dataclass(frozen=True)
class PolicyWarning:
    """A valid but questionable setting: ``field``, stable ``code``, a sentence."""

    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


def load_policy(path: str) -> CORSPolicy:
    """Load a policy file, turning every problem into a :class:`CommandError` (exit 2)."""
    try:
        return CORSPolicy.from_file(path)
    except CORSConfigError as exc:
        raise CommandError.from_config(exc, path) from None


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
    """Validate ``args.policy``; exit 0 when clean, 1 with warnings (2 is raised as an error)."""
    policy = load_policy(args.policy)
    warnings = policy_warnings(policy)
    if args.json:
        print_json({"ok": True, "file": args.policy, "policy": policy.describe(),
                    "warnings": [w.as_dict() for w in warnings]})  # fmt: skip
        return EXIT_NO if warnings else EXIT_OK
    style = Style.for_stream(sys.stdout)
    out = sys.stdout
    out.write(f"{style(args.policy, 'bold')}: {style('valid', 'green', 'bold')}\n\n")
    out.write(style("# normalised policy", "dim") + "\n")
    for line in toml_lines(policy.describe()):
        out.write(f"{line}\n")
    if warnings:
        out.write(f"\n{style(f'{len(warnings)} warning(s):', 'yellow', 'bold')}\n")
        for w in warnings:
            out.write(f"  {style('!', 'yellow')} {w.field}: {w.message} [{w.code}]\n")
        return EXIT_NO
    out.write(f"\n{style('no warnings', 'green')}\n")
    return EXIT_OK
