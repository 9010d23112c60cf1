"""flask-cors's option names, mapped onto :class:`~corsware.CORSPolicy`.

flask-cors guesses: strings that look like regexes are matched with ``re.match`` (a prefix
match, case-insensitive for origins), resource patterns used to be ordered by a guess at
their specificity (CVE-2024-6839), and ``origins='*'`` with ``supports_credentials=True``
reflects every origin with credentials. This module does not guess: each option is mapped
deliberately, and an option whose flask-cors meaning is insecure or ambiguous is refused
with a :class:`~corsware.CORSConfigError` that says what to write instead.
"""

from __future__ import annotations

import datetime
import difflib
import os
import re
import sys
import warnings
from collections.abc import Iterable, Mapping
from typing import Any, Final

from .._errors import CORSConfigError, Problem
from .._log import logger
from .._paths import PathPattern
from .._policy import OPTION_NAMES, CORSPolicy

__all__ = [
    "CONFIG_KEYS",
    "FLASK_CORS_DEFAULTS",
    "IGNORED_OPTIONS",
    "KEYWORDS",
    "options_from_config",
    "policy_from_options",
]


#: flask-cors's options and their defaults (flask-cors 6 documentation, "API Docs").
FLASK_CORS_DEFAULTS: Final[Mapping[str, Any]] = {
    "resources": r"/*",
    "origins": "*",
    "methods": ["GET", "HEAD", "POST", "OPTIONS", "PUT", "PATCH", "DELETE"],
    "allow_headers": "*",
    "expose_headers": None,
    "supports_credentials": False,
    "max_age": None,
    "send_wildcard": False,
    "vary_header": True,
    "automatic_options": True,
    "always_send": True,
    "allow_private_network": False,
    "intercept_exceptions": True,
}

#: Names flask-cors 1.x took, which flask-cors 2.0 and later still accept without error but
#: ignore (logging "Unknown option passed to Flask-CORS"): corsware ignores them too, with a
#: ``DeprecationWarning`` naming the current option. (The config key ``CORS_HEADERS`` is the
#: same story: see :func:`options_from_config`.)
IGNORED_OPTIONS: Final[Mapping[str, str]] = {"headers": "allow_headers"}

#: Every keyword the Flask drop-in takes as an option: flask-cors's, corsware's (but
#: ``paths``: per-path rules are ``resources`` here) and the ignored 1.x names.
KEYWORDS: Final = (*FLASK_CORS_DEFAULTS, *(n for n in OPTION_NAMES if n != "paths"), *IGNORED_OPTIONS)

#: Flask config keys read like flask-cors does: ``CORS_ORIGINS`` -> ``origins``, ...
CONFIG_KEYS: Final[Mapping[str, str]] = {"CORS_" + name.upper(): name for name in FLASK_CORS_DEFAULTS}

#: Where a core field comes from, in flask-cors's words (for error messages).
_FLASK_NAME: Final = {
    "allow_origins": "origins",
    "allow_origin_regex": "origins",
    "allow_methods": "methods",
    "allow_credentials": "supports_credentials",
}

#: Characters that make a string a regular expression rather than an origin or a path.
_REGEX_CHARS: Final = frozenset("\\^$[](){}?+|")
_MATCH_ALL: Final = ("/*", "*")


def options_from_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The flask-cors options found in a Flask config (``CORS_ORIGINS``, ...).

    ``CORS_*`` keys that are not flask-cors options are logged, not refused: the common
    ``CORS_HEADERS = 'Content-Type'`` line of many tutorials never did anything in
    flask-cors either.
    """
    out: dict[str, Any] = {}
    for key, value in config.items():
        if not isinstance(key, str) or not key.startswith("CORS_"):
            continue
        if key in CONFIG_KEYS:
            out[CONFIG_KEYS[key]] = value
        else:
            close = difflib.get_close_matches(key, list(CONFIG_KEYS), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            logger.warning("Flask config %s is not a flask-cors/corsware option and has no effect%s", key, hint)
    return out


def policy_from_options(options: Mapping[str, Any]) -> CORSPolicy:
    """Build the policy that flask-cors ``options`` describe (defaults filled in).

    ``options`` may also hold :class:`~corsware.CORSPolicy` keywords (``allow_origins``,
    ``dangerously_allow_insecure_origins``, ...), which apply to every resource and win
    over the mapped flask-cors options. Every problem is collected and raised together.
    """
    problems: list[Problem] = []
    opts = dict(FLASK_CORS_DEFAULTS)
    native: dict[str, Any] = {}
    ignored: dict[str, Any] = {}
    for key, value in options.items():
        if key in FLASK_CORS_DEFAULTS:
            opts[key] = value
        elif key in OPTION_NAMES and key != "paths":
            native[key] = value
        elif key in IGNORED_OPTIONS:
            ignored[key] = value
        else:
            problems.append(_unknown(key, value, ""))
    for key, value in ignored.items():
        _warn_ignored(key, value, "", opts)
    resources = _resources(opts.pop("resources"), problems)
    top: dict[str, Any] = {}  # no resource matches every path: unmatched paths get no CORS
    rules: dict[str | re.Pattern[str], CORSPolicy] = {}
    seen: list[tuple[str, PathPattern]] = []
    for res_key, own in resources:
        pattern = _resource_pattern(res_key, problems)
        if pattern is None:
            continue
        _check_shadowing(res_key, pattern, seen, problems)
        merged = dict(opts)
        for name, value in own.items():
            if name in FLASK_CORS_DEFAULTS and name != "resources":
                merged[name] = value
            elif name not in IGNORED_OPTIONS:
                problems.append(_unknown(name, value, f"resources[{res_key!r}]."))
        for name in IGNORED_OPTIONS.keys() & own.keys():
            _warn_ignored(name, own[name], f"resources[{res_key!r}].", merged)
        kwargs = {**_map(merged, problems, _field_prefix(res_key, len(resources))), **native}
        if isinstance(pattern, str) and pattern in _MATCH_ALL:
            top = kwargs
            seen.append((str(res_key), PathPattern("*")))
            continue
        seen.append((str(res_key), PathPattern(pattern)))
        try:
            rules[pattern] = CORSPolicy(**kwargs)
        except CORSConfigError as exc:
            problems.extend(_rename(p, f"resources[{res_key!r}].", native) for p in exc.problems)
    try:
        policy = CORSPolicy(**top, paths=rules or None)
    except CORSConfigError as exc:
        prefix = _field_prefix(next((k for k, _ in resources if _is_match_all(k)), "/*"), len(resources))
        problems.extend(_rename(p, prefix, native) for p in exc.problems)
    if problems:
        raise CORSConfigError(problems)
    return policy


def _field_prefix(key: object, count: int) -> str:
    return "" if count == 1 and _is_match_all(key) else f"resources[{key!r}]."


def _is_match_all(key: object) -> bool:
    return isinstance(key, str) and _glob(key) in _MATCH_ALL


def _unknown(key: str, value: object, prefix: str) -> Problem:
    known = sorted({*FLASK_CORS_DEFAULTS, *OPTION_NAMES} - {"paths"})
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return Problem(f"{prefix}{key}", value, "unknown_option", f"is not a flask-cors or corsware option{hint}")


def _warn_ignored(key: str, value: object, prefix: str, opts: Mapping[str, Any]) -> None:
    """``headers=``: flask-cors 1.x's name for ``allow_headers``. flask-cors 2.0 and later
    accept it and ignore it, so an app moving over from flask-cors has run with the
    ``allow_headers`` in force (by default ``'*'``): corsware does the same, and says so."""
    current = IGNORED_OPTIONS[key]
    message = (
        f"flask-cors option {prefix}{key}={value!r} has no effect: {key!r} is flask-cors 1.x's name for "
        f"{current!r}, which flask-cors 2.0 and later ignore, and so does corsware; {current}={opts[current]!r} "
        f"applies. Write {current}={value!r} to allow only those headers, or remove {key}="
    )
    # A DeprecationWarning for tools and test runs, and a log line: it is hidden by default
    # outside __main__, and what the user wrote is not applied.
    warnings.warn(message, DeprecationWarning, stacklevel=_caller_stacklevel())
    logger.warning("%s", message)


def _caller_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning point at the first caller outside corsware
    (the line with ``CORS(...)`` or ``@cross_origin(...)``), for a call from the function
    that calls ``warnings.warn``."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # corsware/
    frame = sys._getframe(2)  # noqa: SLF001 - the caller of the function that calls this
    level = 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1  # type: ignore[assignment]
    return level


def _rename(problem: Problem, prefix: str, native: Mapping[str, Any]) -> Problem:
    field = problem.field
    name = field.split("[", 1)[0]
    if name in _FLASK_NAME and name not in native:
        field = _FLASK_NAME[name] + field[len(name) :]
    return Problem(prefix + field, problem.value, problem.code, problem.message)


# -- resources -----------------------------------------------------------------------------


def _resources(value: object, problems: list[Problem]) -> list[tuple[str | re.Pattern[str], Mapping[str, Any]]]:
    """flask-cors accepts a pattern, a list of patterns, or a dict of pattern -> options."""
    if isinstance(value, (str, re.Pattern)):
        return [(value, {})]
    if isinstance(value, Mapping):
        out: list[tuple[str | re.Pattern[str], Mapping[str, Any]]] = []
        for key, own in value.items():
            if not isinstance(own, Mapping):
                problems.append(
                    Problem(f"resources[{key!r}]", own, "invalid_type", "must be a dict of flask-cors options")
                )
                continue
            out.append((key, own))
        return out
    if isinstance(value, Iterable):
        return [(key, {}) for key in value]
    problems.append(Problem("resources", value, "invalid_type", "must be a path pattern, a list or a dict of them"))
    return []


def _glob(text: str) -> str | None:
    """flask-cors's resource regex as a corsware glob, or None if it is a real regex.

    Only the regex syntax that resource patterns use in practice is translated: ``^``/``$``
    anchors are dropped (corsware matches the whole path), ``.*`` and a bare ``*`` (as in
    flask-cors's own ``r"/api/*"`` examples) become the glob ``*``, and ``\\.``, ``\\/``,
    ``\\-`` and a bare ``.`` stand for themselves.
    """
    body = text.removeprefix("^").removesuffix("$")
    out: list[str] = []
    i = 0
    while i < len(body):
        if body.startswith(".*", i):
            out.append("*")
            i += 2
        elif body[i] == "\\" and i + 1 < len(body) and body[i + 1] in "./-":
            out.append(body[i + 1])
            i += 2
        elif body[i] in _REGEX_CHARS:
            return None
        else:
            out.append(body[i])
            i += 1
    return re.sub(r"\*+", "*", "".join(out))


def _resource_pattern(key: object, problems: list[Problem]) -> str | re.Pattern[str] | None:
    if isinstance(key, re.Pattern):
        return _compiled_resource(key, problems)
    if not isinstance(key, str):
        problems.append(Problem("resources", key, "invalid_path_pattern", "must be a string or an re.Pattern"))
        return None
    glob = _glob(key)
    if glob is not None and _flask_cors_prefix(key) and not glob.endswith("*"):
        # flask-cors compiled this string (it has regex syntax) and matched it with re.match:
        # r"^/api" covers /api/users too. As a literal it would match one path only.
        glob += "*"
    if glob is None:
        problems.append(
            Problem(
                f"resources[{key!r}]",
                key,
                "resource_looks_like_regex",
                "is a regular expression; flask-cors matched it against the start of the path only, "
                "corsware does not guess: write a path or glob such as '/api/*' (matched against the "
                f"whole path), or pass re.compile({key!r}) to match it against the whole path",
            )
        )
        return None
    if not glob.startswith(("/", "*")):
        problems.append(Problem(f"resources[{key!r}]", key, "invalid_path_pattern", "must start with '/'"))
        return None
    return glob


def _flask_cors_prefix(text: str) -> bool:
    """Whether flask-cors matched the resource string ``text`` as a prefix: it compiles a
    string with any of ``*\\]?$^[]()`` in it (``probably_regex``) and matches it with
    ``re.match``, unless a final ``$`` (or ``\\Z``) ends the match; other strings are compared
    whole."""
    if not any(c in _FLASK_CORS_REGEX_HINT for c in text):
        return False
    return not (text.endswith(("$", r"\Z")) and not text.endswith(r"\$"))


#: The characters that make flask-cors compile a resource string (``probably_regex``).
_FLASK_CORS_REGEX_HINT: Final = frozenset("*\\]?$^[]()")
#: Inline global flags at the start of a pattern (``(?i)``), already in ``Pattern.flags``.
_LEADING_FLAGS: Final = re.compile(r"\(\?[aiLmsux]+\)")
#: A first character that is a literal other than '/': a regex starting with it never
#: matches a path, which always starts with '/'.
_NOT_A_PATH_START: Final = re.compile(r"[A-Za-z0-9_~%!,;:=@&'\"<>-]")


def _compiled_resource(regex: re.Pattern[Any], problems: list[Problem]) -> re.Pattern[str] | None:
    """A compiled resource regex, meaning what it means in flask-cors: matched with
    ``re.match``, at the start of the path, so ``re.compile(r"/api/*")`` covers every
    ``/api/...`` path. corsware's ``paths`` match the whole path (``fullmatch``), so the
    regex is extended with ``(?s:.*)``: ``(?:<regex>)(?s:.*)`` fullmatches exactly the paths
    ``<regex>`` matches the start of (a ``$`` or ``\\Z`` in it still ends the match)."""
    field = f"resources[{regex!r}]"
    body = regex.pattern
    if not isinstance(body, str):
        problems.append(Problem(field, body, "invalid_path_pattern", "must be a str regex (paths are text), not bytes"))
        return None
    # Leading global flags are in regex.flags already; inside a group they are an error (3.11+).
    while (flags := _LEADING_FLAGS.match(body)) is not None:
        body = body[flags.end() :]
    start = body.removeprefix("^").removeprefix(r"\A")
    if regex.flags & re.VERBOSE:
        start = start.lstrip()
    if _NOT_A_PATH_START.match(start):
        problems.append(
            Problem(
                field,
                regex.pattern,
                "invalid_path_pattern",
                "never matches: it is matched at the start of the path (as flask-cors does), and paths start "
                f"with '/'; write re.compile({'/' + start!r})",
            )
        )
        return None
    end = "\n" if regex.flags & re.VERBOSE else ""  # a trailing '# comment' must not swallow the ')'
    return re.compile(f"(?:{body}{end})(?s:.*)", regex.flags)


def _check_shadowing(
    key: object, pattern: str | re.Pattern[str], seen: list[tuple[str, PathPattern]], problems: list[Problem]
) -> None:
    """A resource that an earlier one fully covers can never apply: say so, loudly.

    flask-cors sorts resources by a guess at their specificity; corsware applies the first
    match in declaration order (CVE-2024-6839), so a migrated ``{'/api/*': ..., '/api/secure':
    ...}`` would silently give ``/api/secure`` the permissive rule.
    """
    if not isinstance(pattern, str):
        return
    for earlier_key, earlier in seen:
        if earlier.matches(pattern):
            problems.append(
                Problem(
                    f"resources[{key!r}]",
                    key,
                    "resource_shadowed",
                    f"never applies: {earlier_key!r}, declared before it, matches every path it matches. "
                    "corsware applies the first matching resource in declaration order (flask-cors sorted "
                    "them by a guess at specificity, CVE-2024-6839); declare the more specific resource first",
                )
            )
            return


# -- one set of options --------------------------------------------------------------------


def _map(opts: Mapping[str, Any], problems: list[Problem], prefix: str) -> dict[str, Any]:
    """flask-cors options (no ``resources``) -> CORSPolicy keywords."""
    out: dict[str, Any] = {}
    origins, regexes = _origins(opts["origins"], problems, prefix)
    out["allow_origins"] = origins
    if regexes:
        out["allow_origin_regex"] = regexes
    credentials = opts["supports_credentials"]
    out["allow_credentials"] = credentials
    # flask-cors upper-cases the configured methods; browsers send the standard ones upper-case.
    out["allow_methods"] = [m.upper() for m in _names(opts["methods"], "methods", problems, prefix)]
    # flask-cors's '*' echoed every requested header, Authorization included: so does
    # corsware's '*' (it names Authorization in the answer, which browsers require).
    out["allow_headers"] = _names(opts["allow_headers"], "allow_headers", problems, prefix)
    out["expose_headers"] = _names(opts["expose_headers"], "expose_headers", problems, prefix)
    out["max_age"] = _max_age(opts["max_age"], problems, prefix)
    out["allow_private_network"] = opts["allow_private_network"]
    for name in ("send_wildcard", "always_send", "vary_header", "automatic_options", "intercept_exceptions"):
        if not isinstance(opts[name], bool):
            problems.append(
                Problem(prefix + name, opts[name], "invalid_type", f"must be True or False, not {opts[name]!r}")
            )
    if opts["vary_header"] is False:
        problems.append(
            Problem(
                prefix + "vary_header",
                False,
                "vary_header_disabled",
                "corsware always sends 'Vary: Origin' when a response depends on the Origin header "
                "(Fetch standard, 'CORS protocol and HTTP caches'); without it a cache can serve one "
                "origin's answer to another. Remove vary_header=False",
            )
        )
    if opts["automatic_options"] is False:
        problems.append(
            Problem(
                prefix + "automatic_options",
                False,
                "automatic_options_disabled",
                "corsware always answers CORS preflights itself so they never reach your views; OPTIONS "
                "requests without Access-Control-Request-Method still do. Remove automatic_options=False",
            )
        )
    if opts["intercept_exceptions"] is False:
        problems.append(
            Problem(
                prefix + "intercept_exceptions",
                False,
                "intercept_exceptions_disabled",
                "corsware always adds CORS headers to error responses so that browsers let scripts read "
                "the error instead of reporting a CORS failure. Remove intercept_exceptions=False",
            )
        )
    if origins == ["*"] and credentials is True:
        problems.append(
            Problem(
                prefix + "origins",
                "*",
                "wildcard_origin_with_credentials",
                "origins='*' (flask-cors's default) with supports_credentials=True would let every website "
                "read responses with the user's cookies (flask-cors reflected any origin); list the origins "
                "that may send credentials, e.g. origins=['https://app.example.com']",
            )
        )
        out["allow_credentials"] = False  # reported above, in flask-cors's words
    return out


def _origins(value: object, problems: list[Problem], prefix: str) -> tuple[list[str], list[re.Pattern[str]]]:
    if value is None:
        return [], []
    items = [value] if isinstance(value, (str, re.Pattern)) else value
    if not isinstance(items, Iterable):
        problems.append(Problem(prefix + "origins", value, "invalid_type", "must be a string, a regex or a list"))
        return [], []
    origins: list[str] = []
    regexes: list[re.Pattern[str]] = []
    for item in items:
        if isinstance(item, re.Pattern):
            regexes.append(item)  # matched with fullmatch (flask-cors: re.match, a prefix match)
        elif isinstance(item, str) and (".*" in item or any(c in _REGEX_CHARS for c in item)):
            problems.append(
                Problem(
                    prefix + "origins",
                    item,
                    "origin_looks_like_regex",
                    "looks like a regular expression; flask-cors guessed so and matched it against the start "
                    "of the origin, ignoring case. corsware does not guess: write an origin or pattern "
                    "('https://app.example.com', 'https://*.example.com', 'http://localhost:*'), or pass "
                    f"re.compile({item!r}), which must match the whole origin",
                )
            )
        elif isinstance(item, str):
            origins.append(item)
        else:
            problems.append(Problem(prefix + "origins", item, "invalid_type", "must be a string or an re.Pattern"))
    return origins, regexes


def _names(value: object, name: str, problems: list[Problem], prefix: str) -> list[str]:
    """A header or method list: None, a comma-separated string, or an iterable of strings."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, Iterable):
        out = []
        for item in value:
            if isinstance(item, str):
                out.append(item)
            else:
                problems.append(Problem(prefix + name, item, "invalid_type", "must hold only strings"))
        return out
    problems.append(Problem(prefix + name, value, "invalid_type", "must be a string or a list of strings"))
    return []


def _max_age(value: object, problems: list[Problem], prefix: str) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, datetime.timedelta):
        return int(value.total_seconds())
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    problems.append(
        Problem(prefix + "max_age", value, "invalid_type", "must be seconds (int or digits) or a timedelta")
    )
    return None
