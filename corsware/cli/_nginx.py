"""Compile a :class:`~corsware.CORSPolicy` to nginx configuration enforcing the same policy.

The output has two parts, because nginx allows ``map`` only in the ``http`` context and
``add_header`` only in ``server``/``location``:

- ``maps``: ``map`` blocks (include inside ``http { }``) that classify the request and
  compute every CORS header value from ``$uri``, ``$http_origin`` and the
  ``Access-Control-Request-*`` headers, exactly as corsware's plan does;
- ``location``: directives (include inside each ``location`` that fronts the app) that
  answer preflights with 204/403 and add the headers to every other response.

Per-path rules become a ``map`` on ``$uri`` (first match in declaration order, as in
corsware), so no extra ``location`` blocks are needed. Every match is a case-sensitive
PCRE with an explicit end anchor: nginx compares plain ``map`` strings case-insensitively,
which would let ``https://APP.example.com`` or method ``patch`` through.

What nginx cannot express is refused with :class:`NotExportable`, never dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from .._errors import Problem
from .._headers import SAFELISTED_REQUEST_HEADERS
from .._origins import _DEFAULT_PORTS, _REQUEST_ORIGIN_RE, MAX_ORIGIN_LENGTH
from .._paths import PathPattern
from .._policy import CORSPolicy
from .._settings import Settings

__all__ = ["NginxConfig", "NotExportable", "export_nginx"]

_LABEL: Final = r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
_TCHAR: Final = r"[!#$%&'*+\-.^_`|~0-9a-z]"
_PREFIX_RE: Final = re.compile(r"[a-z][a-z0-9_]{0,30}")
#: An escape, a character class (skipped whole), or the opening of a capturing group.
_GROUP_TOKEN: Final = re.compile(r"\\.|\[\^?\]?(?:\\.|[^\]\\])*\]|\((?:\?P?<(?![=!])\w+>)?(?!\?)", re.DOTALL)
#: Headers corsware owns; an upstream's own values are hidden (``proxy_hide_header``).
_OWNED: Final = (
    "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers", "Access-Control-Expose-Headers", "Access-Control-Max-Age",
    "Access-Control-Allow-Private-Network",
)  # fmt: skip


class NotExportable(Exception):
    """The policy uses something nginx cannot express; ``problems`` says what and where."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class NginxConfig:
    """The two parts of the exported configuration (see the module docstring)."""

    maps: str
    location: str
    prefix: str


def _q(text: str) -> str:
    """Quote for nginx: inside "...", nginx unescapes \\\\ and \\" (and \\t \\r \\n)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _numbered(regex: re.Pattern[str]) -> str | None:
    """``regex.pattern`` with its named groups written as the numbered groups they are.

    nginx turns every named group of a ``map`` regex into a variable: ``(?P<host>...)``
    stops nginx from starting ("duplicate variable") and another name can overwrite a
    variable the configuration uses. Python numbers named groups like the others, so
    ``(?P<n>...)`` becomes ``(...)``, the backreference ``(?P=n)`` becomes ``(?:\\N)`` and the
    condition ``(?(n)...)`` becomes ``(?(N)...)``, with the same numbers: the meaning is
    unchanged. None if the rewrite does not give back the same groups (never expected).
    """
    if not regex.groupindex:
        return regex.pattern
    number = regex.groupindex

    def rewrite(m: re.Match[str]) -> str:
        if m.group("define"):
            return "("
        if m.group("backref"):
            return f"(?:\\{number[m.group('backref')]})"
        if m.group("cond") in number:
            return f"(?({number[m.group('cond')]})"
        return m.group()

    pattern = _NAMED_TOKEN.sub(rewrite, regex.pattern)
    try:
        rewritten = re.compile(pattern, regex.flags)
    except re.error:  # pragma: no cover - a guard
        return None
    return pattern if rewritten.groups == regex.groups and not rewritten.groupindex else None


def _pcre(regex: re.Pattern[str], field: str, problems: list[Problem]) -> str | None:
    """A Python regex as a PCRE group; only the flags PCRE spells the same way.

    The pattern is copied as written but for named groups (:func:`_numbered`), and the
    wrapping adds no capturing group, so backreferences keep their meaning.
    """
    flags = regex.flags & ~re.UNICODE
    if flags & ~(re.IGNORECASE | re.DOTALL):
        problems.append(Problem(field, regex.pattern, "not_exportable",
                                "regex flags other than IGNORECASE/DOTALL cannot be written for nginx"))  # fmt: skip
        return None
    pattern = _numbered(regex)
    if pattern is None:  # pragma: no cover - _numbered's guard
        problems.append(Problem(field, regex.pattern, "not_exportable",
                                "its named groups could not be renumbered for nginx: use numbered groups"))  # fmt: skip
        return None
    inline = ("i" if flags & re.IGNORECASE else "") + ("s" if flags & re.DOTALL else "")
    return f"(?{inline}:{pattern})" if inline else f"(?:{pattern})"


def _non_capturing(pattern: str) -> str:
    """``pattern`` with every capturing group ``(...)`` made non-capturing ``(?:...)``.

    Named groups too; escapes and character classes (where ``(`` is a literal) are
    skipped whole.
    """
    return _GROUP_TOKEN.sub(lambda m: "(?:" if m.group().startswith("(") else m.group(), pattern)


#: An escape, a character class or a comment (skipped whole), or a named group's
#: definition, backreference or condition.
_NAMED_TOKEN: Final = re.compile(
    r"\\.|\[\^?\]?(?:\\.|[^\]\\])*\]|\(\?#[^)]*\)"
    r"|\(\?P<(?P<define>\w+)>|\(\?P=(?P<backref>\w+)\)|\(\?\((?P<cond>\w+)\)",
    re.DOTALL,
)


#: What corsware tries an origin regex on (a value shaped like a serialised origin), with no
#: capturing group: see the comment in :func:`_origin_alternatives`.
_ORIGIN_SHAPE: Final = _non_capturing(_REQUEST_ORIGIN_RE.pattern)
if re.compile(_ORIGIN_SHAPE).groups:  # pragma: no cover - guards a change of _REQUEST_ORIGIN_RE
    raise AssertionError(f"the origin shape must have no capturing group: {_ORIGIN_SHAPE!r}")


def _origin_alternatives(s: Settings, field: str, problems: list[Problem]) -> list[str]:
    """PCREs, each matching (whole) the request origins one configured entry allows."""
    out: list[str] = []
    if s.allow_null:
        out.append("null")
    for p in s.origins:
        host = re.escape(p.host)
        if p.kind == "exact":
            out.append(re.escape(p.text))
        elif p.kind == "any-port":
            # corsware: same scheme and host, no port or any 1-5 digit port.
            out.append(f"{re.escape(p.scheme)}://{host}(?::[0-9]{{1,5}})?")
        else:
            # One or more LDH labels before the suffix; at most 253 characters of host;
            # the scheme's default port never appears in what browsers send.
            if p.port is None:
                port = ""
            elif p.port == "*":
                default = _DEFAULT_PORTS.get(p.scheme)
                port = f"(?::(?!{default}\\z)[0-9]{{1,5}})?" if default else "(?::[0-9]{1,5})?"
            else:
                port = f":{p.port}"
            out.append(f"{re.escape(p.scheme)}://(?=[^:]{{1,253}}(?::|\\z))(?:{_LABEL}\\.)+{host}{port}")
    for regex in s.regexes:
        pcre = _pcre(regex, f"{field}allow_origin_regex", problems)
        if pcre is not None:
            # corsware tries regexes only on values shaped like a serialised origin. That
            # check comes first, and adds no capturing group: the user's groups keep their
            # numbers, so a backreference (\1, or (?P=name), which PCRE also spells) names
            # the same group in nginx as in Python. With the origin shape's own groups in
            # front, '\1' would have meant the request's scheme and nginx would have admitted
            # origins corsware refuses. Keeping the numbering (rather than refusing
            # backreferences) exports every regex corsware accepts, with the same meaning;
            # the map entry adds no group either ('~^N:' + alternative + '\z').
            if re.compile(f"(?=(?:{_ORIGIN_SHAPE})\\Z){pcre}").groups != regex.groups:  # pragma: no cover
                raise AssertionError(f"the export renumbered the groups of {regex.pattern!r}")
            out.append(f"(?=(?:{_ORIGIN_SHAPE})\\z){pcre}")
    return out


def _header_list(s: Settings) -> str:
    """PCRE (used case-insensitively) for an acceptable Access-Control-Request-Headers."""
    if s.any_header:
        item = _TCHAR + "+"  # '*' covers every name, Authorization included
    else:
        names = sorted({*SAFELISTED_REQUEST_HEADERS, *s.headers}, key=lambda n: (-len(n), n))
        item = "(?:" + "|".join(re.escape(n) for n in names) + ")"
    return rf"[ \t]*(?:{item}[ \t]*)?(?:,[ \t]*(?:{item}[ \t]*)?)*"


class _Maps:
    """Accumulates ``map`` blocks, one line per entry."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.blocks: list[str] = []

    def var(self, name: str) -> str:
        return f"${self.prefix}_{name}"

    def add(self, source: str, name: str, entries: list[tuple[str, str]], default: str = '""', why: str = "") -> None:
        lines = [f"# {why}"] if why else []
        lines.append(f"map {source} {self.var(name)} {{")
        lines += [f"    {key} {value};" for key, value in entries]
        lines += [f"    default {default};", "}"]
        self.blocks.append("\n".join(lines))


def _rules(policy: CORSPolicy) -> list[tuple[PathPattern | None, Settings]]:
    return [(None, policy.settings), *((pattern, rule.settings) for pattern, rule in policy.rules)]


def _path_regex(pattern: PathPattern, problems: list[Problem]) -> str | None:
    """The PCRE for a per-path rule, anchored at both ends like corsware's fullmatch."""
    if pattern.literal is not None:
        return f"(?s)^{re.escape(pattern.literal)}\\z"
    assert pattern.regex is not None  # noqa: S101 - a PathPattern is a literal or a regex
    if pattern.text.startswith("re:"):
        pcre = _pcre(pattern.regex, f"paths[{pattern.text!r}]", problems)
        return None if pcre is None else f"^{pcre}\\z"
    # A glob: corsware compiles it (re.escape'd parts joined by '.*') with DOTALL.
    return f"(?s)^{pattern.regex.pattern}\\z"


def _check_values(s: Settings, field: str, problems: list[Problem]) -> None:
    if s.callback is not None:
        problems.append(Problem(f"{field}allow_origin_callback", getattr(s.callback, "__qualname__", "callback"),
                                "not_exportable", "a Python callback cannot run inside nginx; list the origins "
                                "or use allow_origin_regex"))  # fmt: skip
    for pattern in s.header_patterns:
        problems.append(Problem(f"{field}allow_headers", pattern.pattern, "not_exportable",
                                "a header-name pattern is matched by corsware in Python; list the names "
                                "for nginx"))  # fmt: skip
    for name, values in (("allow_methods", s.methods), ("allow_headers", s.headers), ("expose_headers", s.expose)):
        for value in values:
            if "$" in value:
                problems.append(Problem(f"{field}{name}", value, "not_exportable",
                                        "'$' starts a variable in nginx values and cannot be escaped"))  # fmt: skip


def export_nginx(policy: CORSPolicy, prefix: str = "corsware") -> NginxConfig:
    """Compile ``policy`` to nginx configuration; raise :class:`NotExportable` if it cannot be."""
    problems: list[Problem] = []
    if _PREFIX_RE.fullmatch(prefix) is None:
        problems.append(Problem("prefix", prefix, "invalid_prefix", "must be lower-case letters, digits, '_'"))
    rules = _rules(policy)
    m = _Maps(prefix)
    rule = m.var("rule")

    path_entries: list[tuple[str, str]] = []
    for index, (pattern, _) in enumerate(rules[1:], 1):
        assert pattern is not None  # noqa: S101 - only the top-level rule has no pattern
        regex = _path_regex(pattern, problems)
        if regex is not None:
            path_entries.append((_q("~" + regex), str(index)))

    origin_entries: list[tuple[str, str]] = []
    method_entries: list[tuple[str, str]] = []
    header_entries: list[tuple[str, str]] = []
    pna_ok: list[tuple[str, str]] = []
    pna_value: list[tuple[str, str]] = []
    per_rule: dict[str, list[tuple[str, str]]] = {
        k: [] for k in ("acao", "acac", "aceh", "acam", "acah", "max_age", "preflight_vary", "vary")
    }
    for index, (pattern, s) in enumerate(rules):
        r = str(index)
        field = "" if pattern is None else f"paths[{pattern.text!r}]."
        _check_values(s, field, problems)
        # -- which origins this rule allows (Fetch §"CORS check": byte-exact origin) --
        if s.any_origin:
            origin_entries.append((_q(f"~^{r}:"), "1"))
        else:
            origin_entries.append((_q(f"~(?s)^{r}:.{{{MAX_ORIGIN_LENGTH + 1}}}"), '""'))
            origin_entries += [(_q(f"~^{r}:{alt}\\z"), "1") for alt in _origin_alternatives(s, field, problems)]
        # -- preflight: method (byte-exact, safelisted always pass), headers, PNA --
        if s.any_method:
            method_entries.append((_q(f"~^{r}:(?=.{{1,64}}\\z){_TCHAR.replace('a-z', 'a-zA-Z')}+\\z"), "1"))
        else:
            names = sorted({*s.methods, "GET", "HEAD", "POST"})
            method_entries.append((_q(f"~^{r}:(?=.{{1,64}}\\z)(?:{'|'.join(re.escape(n) for n in names)})\\z"), "1"))
        header_entries.append((_q(f"~(?s)^{r}:.{{4097}}"), '""'))
        header_entries.append((_q(f"~*^{r}:{_header_list(s)}\\z"), "1"))
        if s.private_network:
            pna_value.append((_q(f"~^{r}:true\\z"), "true"))
        else:
            pna_ok.append((_q(f"~^{r}:true\\z"), '""'))
        # -- header values, as corsware's Plan computes them --
        per_rule["acao"].append((_q(f"1:{r}"), '"*"' if s.any_origin else "$http_origin"))
        if s.credentials:
            per_rule["acac"].append((_q(f"1:{r}"), '"true"'))
        if s.any_expose or s.expose:
            per_rule["aceh"].append((_q(f"1:{r}"), _q("*" if s.any_expose else ", ".join(s.expose))))
        if s.any_method:
            # '*' is a wildcard only without credentials (Fetch §http-new-header-syntax).
            per_rule["acam"].append((r, "$http_access_control_request_method" if s.credentials else '"*"'))
        elif s.methods:
            per_rule["acam"].append((r, _q(", ".join(s.methods))))
        if s.any_header:
            if s.credentials:
                # Reflected as sent (browsers send it lower-cased and sorted); corsware
                # normalises it, nginx cannot.
                per_rule["acah"].append((r, "$http_access_control_request_headers"))
            else:
                # A literal '*' never covers Authorization in a browser: named beside it.
                per_rule["acah"].append((r, _q("*, authorization")))
        else:
            safelisted = [h for h in sorted(SAFELISTED_REQUEST_HEADERS) if h not in s.headers]
            per_rule["acah"].append((r, _q(", ".join([*safelisted, *s.headers]))))
        if s.max_age is not None:
            per_rule["max_age"].append((r, _q(str(s.max_age))))
        vary = [] if s.any_origin else ["Origin"]
        vary += ["Access-Control-Request-Method", "Access-Control-Request-Headers",
                 "Access-Control-Request-Private-Network"]  # fmt: skip
        per_rule["preflight_vary"].append((r, _q(", ".join(vary))))
        allows_some = s.any_origin or s.origins or s.allow_null or s.regexes
        if allows_some and not s.any_origin:
            # Fetch §"CORS protocol and HTTP caches": Vary: Origin on every response.
            per_rule["vary"].append((r, '"Origin"'))
    if problems:
        raise NotExportable(problems)

    m.add("$uri", "rule", path_entries, "0", "per-path rules, first match wins (0: the top-level policy)")
    m.add(f'"{rule}:$http_origin"', "origin_ok", origin_entries, why="1 if the rule allows the request's Origin")
    m.add("$http_origin", "has_origin", [('""', "0")], "1")
    m.add("$http_access_control_request_method", "has_acrm", [('""', "0")], "1")
    m.add(f'"$request_method:{m.var("has_origin")}:{m.var("has_acrm")}"', "preflight", [(_q("~^OPTIONS:1:1\\z"), "1")],
          "0", 'Fetch "CORS-preflight request": OPTIONS with Origin and Access-Control-Request-Method')  # fmt: skip
    m.add(f'"{rule}:$http_access_control_request_method"', "method_ok", method_entries)
    m.add(f'"{rule}:$http_access_control_request_headers"', "headers_ok", header_entries)
    m.add(f'"{rule}:$http_access_control_request_private_network"', "pna_ok", pna_ok, "1")
    m.add(f'"{rule}:$http_access_control_request_private_network"', "acapn", pna_value)
    ok = "".join(m.var(n) for n in ("origin_ok", "method_ok", "headers_ok", "pna_ok"))
    m.add(f'"{m.var("preflight")}:{ok}"', "preflight_status", [('"1:1111"', "204"), (_q("~^1:"), "403")],
          why="204: allowed preflight, 403: refused (Fetch suggests 403 without CORS headers)")  # fmt: skip
    key = f'"{m.var("origin_ok")}:{rule}"'
    m.add(key, "acao", per_rule["acao"])
    m.add(key, "acac", per_rule["acac"])
    m.add(key, "aceh", per_rule["aceh"])
    for name in ("acam", "acah", "max_age", "preflight_vary", "vary"):
        m.add(rule, name, per_rule[name])
    m.add("$uri", "empty", [], why="the (empty) body of a refused preflight")

    header = (f"# corsware {_version()}: CORS policy for nginx (http context).\n"
              "# Generated by `corsware export nginx`; regenerate rather than edit.\n")  # fmt: skip
    maps = header + "\n\n".join(m.blocks) + "\n"
    return NginxConfig(maps, _location(m), prefix)


def _location(m: _Maps) -> str:
    v: Callable[[str], str] = m.var
    lines = [
        f"# corsware {_version()}: CORS policy for nginx (location context; needs the maps in http {{ }}).",
        "# corsware owns the CORS headers: hide any the upstream sets itself.",
        *(f"proxy_hide_header {h};" for h in _OWNED),
        "",
        "# Preflights are answered here and never reach the upstream.",
        f"if ({v('preflight_status')} = 204) {{",
        f"    add_header Access-Control-Allow-Origin {v('acao')} always;",
        f"    add_header Access-Control-Allow-Credentials {v('acac')} always;",
        f"    add_header Access-Control-Allow-Methods {v('acam')} always;",
        f"    add_header Access-Control-Allow-Headers {v('acah')} always;",
        f"    add_header Access-Control-Max-Age {v('max_age')} always;",
        f"    add_header Access-Control-Allow-Private-Network {v('acapn')} always;",
        f"    add_header Vary {v('preflight_vary')} always;",
        "    return 204;",
        "}",
        f"if ({v('preflight_status')} = 403) {{",
        f"    add_header Vary {v('preflight_vary')} always;",
        # A variable, not "": nginx replaces an empty literal text with its HTML error page.
        f"    return 403 {v('empty')};",
        "}",
        "",
        "# Every other response (empty values add no header).",
        f"add_header Access-Control-Allow-Origin {v('acao')} always;",
        f"add_header Access-Control-Allow-Credentials {v('acac')} always;",
        f"add_header Access-Control-Expose-Headers {v('aceh')} always;",
        f"add_header Vary {v('vary')} always;",
    ]
    return "\n".join(lines) + "\n"


def _version() -> str:
    from .. import __version__

    return __version__
