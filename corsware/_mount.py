"""Mount corsware around an existing app without touching its code.

Servers that accept an application *factory* call these at start-up:

- gunicorn: ``gunicorn 'corsware.wsgi:wrap("myproject.wsgi:application")'``
- uWSGI: ``uwsgi --need-app --module 'corsware.wsgi:from_env()'`` (app in ``CORSWARE_APP``)
- uvicorn: ``uvicorn --factory corsware.asgi:from_env`` (app in ``CORSWARE_APP``)

The policy comes from ``policy=`` (a ``CORSPolicy``, a mapping, or a policy file path),
else from the environment: ``CORSWARE_POLICY_FILE`` (the TOML/JSON file the CLI reads), or
one ``CORSWARE_<KEYWORD>`` variable per ``CORSPolicy`` keyword. ``CORSWARE_REPORT_ONLY_FILE``
names a candidate policy tried in report-only mode (docs/tighten.md); set alone, corsware
enforces nothing and only reports. Everything is resolved and
validated here, at start-up: a bad file, an unknown key or variable, or an import string
naming nothing callable stops the server with a message saying what to fix, instead of
failing on the first request.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from ._errors import CORSConfigError, Problem
from ._policy import OPTION_NAMES, CORSPolicy
from ._syntax import in_syntax

__all__ = [
    "APP_VAR",
    "ENV_VARS",
    "MountError",
    "app_from_env",
    "env_flag",
    "import_object",
    "policy_from_env",
    "report_only_from_env",
    "resolve_app",
    "resolve_policy",
]

APP_VAR: Final = "CORSWARE_APP"
FILE_VAR: Final = "CORSWARE_POLICY_FILE"
DEBUG_VAR: Final = "CORSWARE_DEBUG"
WEBSOCKET_VAR: Final = "CORSWARE_CHECK_WEBSOCKET_ORIGIN"
CALLBACK_VAR: Final = "CORSWARE_ALLOW_ORIGIN_CALLBACK"
REPORT_ONLY_VAR: Final = "CORSWARE_REPORT_ONLY_FILE"

_PREFIX: Final = "CORSWARE_"
#: Options given as lists: a JSON array, or a comma-separated list ("*" stays the string "*").
_LISTS: Final = frozenset({"allow_origins", "allow_methods", "allow_headers", "expose_headers"})
#: Boolean options: true/false, 1/0, yes/no, on/off (any case).
_BOOLS: Final = frozenset(
    {
        "allow_credentials",
        "allow_private_network",
        "dangerously_allow_null_origin",
        "dangerously_allow_insecure_origins",
        "dangerously_allow_public_suffix_patterns",
    }
)
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})

#: Every ``CORSWARE_*`` variable that means something, by name -> what it sets.
ENV_VARS: Final[dict[str, str]] = {
    APP_VAR: "the app to wrap, 'module:attribute' (from_env only)",
    FILE_VAR: "path of a TOML or JSON policy file",
    DEBUG_VAR: "the middleware's debug switch (true/false)",
    WEBSOCKET_VAR: "ASGI only: refuse WebSocket handshakes from disallowed origins (true/false)",
    **{_PREFIX + name.upper(): f"CORSPolicy({name}=...)" for name in OPTION_NAMES},
    CALLBACK_VAR: "'module:function', imported at start-up and passed as allow_origin_callback",
    REPORT_ONLY_VAR: "a policy file tried in report-only mode (docs/tighten.md); alone, nothing is enforced",
}


class MountError(ValueError):
    """The app to wrap could not be found: bad import string, missing module or attribute,
    or an object that is not the right kind of application. Raised at start-up."""


# -- finding the app -------------------------------------------------------------------


def import_object(spec: str, *, what: str = "app") -> Any:
    """Import ``"package.module:attribute"`` (the attribute may be dotted, or end in ``()``
    to call a zero-argument factory such as Flask's ``create_app()``).

    Raises :class:`MountError` saying exactly which part is wrong.
    """
    if not isinstance(spec, str):
        raise MountError(f"{what}: expected an import string 'module:attribute', not {type(spec).__name__}")
    module_name, sep, attr_path = spec.strip().partition(":")
    call = attr_path.endswith("()")
    if call:
        attr_path = attr_path[:-2]
    if not sep or not module_name or not attr_path or not all(p.isidentifier() for p in attr_path.split(".")):
        raise MountError(
            f"{what} {spec!r}: expected 'module:attribute' (e.g. 'myproject.wsgi:application', "
            "'myproject.asgi:application' or 'app:create_app()')"
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            raise MountError(
                f"{what} {spec!r}: no module named {missing!r} (searched sys.path from {os.getcwd()!r}; "
                "run the server from your project directory or set PYTHONPATH)"
            ) from None
        raise MountError(f"{what} {spec!r}: importing {module_name!r} failed: {exc}") from exc
    except Exception as exc:
        raise MountError(f"{what} {spec!r}: importing {module_name!r} raised {type(exc).__name__}: {exc}") from exc
    obj: Any = module
    walked = module_name
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            names = [n for n in dir(obj) if not n.startswith("_")]
            close = difflib.get_close_matches(part, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise MountError(f"{what} {spec!r}: {walked!r} has no attribute {part!r}{hint}") from None
        walked = f"{walked}.{part}" if walked != module_name else f"{module_name}:{part}"
    if call:
        if not callable(obj):
            raise MountError(f"{what} {spec!r}: {walked!r} is a {type(obj).__name__}, not a factory to call")
        obj = obj()
    if not callable(obj):
        raise MountError(f"{what} {spec!r}: is a {type(obj).__name__}, not an application (a callable)")
    return obj


def _positional_count(app: Any) -> int | None:
    """How many positional arguments ``app(...)`` requires, when Python can tell."""
    try:
        params = inspect.signature(app).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty for p in params)


def _is_async(app: Any) -> bool:
    return inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(getattr(app, "__call__", None))  # noqa: B004


def resolve_app(app: Any, kind: str) -> Any:
    spec = app if isinstance(app, str) else None
    if spec is not None:
        app = import_object(spec)
    elif not callable(app):
        raise MountError(f"app: expected an import string or an application, not {type(app).__name__}")
    label = repr(spec) if spec is not None else type(app).__name__
    # PEP 3333 apps take (environ, start_response); ASGI 3 apps are async (scope, receive, send).
    if kind == "wsgi" and (_is_async(app) or _positional_count(app) == 3):
        raise MountError(f"app {label} looks like an ASGI application; use corsware.asgi.wrap / from_env")
    if kind == "asgi" and not _is_async(app) and _positional_count(app) == 2:
        raise MountError(f"app {label} looks like a WSGI application; use corsware.wsgi.wrap / from_env")
    return app


# -- finding the policy ----------------------------------------------------------------


def _parse_env(var: str, name: str, raw: str, problems: list[Problem]) -> Any:
    text = raw.strip()
    if name in _BOOLS:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        problems.append(Problem(var, raw, "env_malformed", "must be true or false (also 1/0, yes/no, on/off)"))
        return None
    if name in ("max_age", "preflight_cache_size"):
        if name == "max_age" and text.lower() in ("", "none"):
            return None
        try:
            return int(text)
        except ValueError:
            what = "a whole number of seconds, or 'none'" if name == "max_age" else "a whole number"
            problems.append(Problem(var, raw, "env_malformed", f"must be {what}"))
            return None
    if name == "paths" or text.startswith("["):
        try:
            return json.loads(text)
        except ValueError as exc:
            problems.append(Problem(var, raw, "env_malformed", f"is not valid JSON: {exc}"))
            return None
    if name in _LISTS:
        return "*" if text == "*" else [item.strip() for item in text.split(",") if item.strip()]
    # allow_origin_regex: one regex as written (regexes contain commas); a JSON array for several.
    return raw


def _env_field(field: str) -> str:
    """Name a problem after the variable that caused it (``allow_origins[0]`` -> ``CORSWARE_ALLOW_ORIGINS[0]``)."""
    for name in OPTION_NAMES:
        if field == name or (field.startswith(name) and field[len(name)] in "[. "):
            return _PREFIX + name.upper() + field[len(name) :]
    return field


def _prefixed(exc: CORSConfigError, path: str | os.PathLike[str], label: str) -> CORSConfigError:
    """Name the file in every problem of a policy file, so a start-up error says where to look."""
    whole_file = str(Path(path))
    problems = [
        Problem(label if p.field == whole_file else f"{label}: {p.field}", p.value, p.code, p.message, fix=p.fix)
        for p in exc.problems
    ]
    return CORSConfigError(problems)


def policy_from_env(environ: Mapping[str, str] | None = None, *, asgi: bool = False) -> CORSPolicy:
    """The policy described by ``CORSWARE_*`` environment variables.

    Either ``CORSWARE_POLICY_FILE`` or ``CORSWARE_<KEYWORD>`` variables (not both), plus
    optionally ``CORSWARE_ALLOW_ORIGIN_CALLBACK``. Unknown ``CORSWARE_*`` names are errors
    with a "did you mean"; so is setting nothing at all (a policy that allows nothing is
    never what a wrapped deployment means).
    """
    env = os.environ if environ is None else environ
    problems: list[Problem] = []
    options: dict[str, Any] = {}
    option_vars: list[str] = []
    for var in sorted(k for k in env if k.startswith(_PREFIX)):
        name = var[len(_PREFIX) :].lower()
        if var not in ENV_VARS:
            close = difflib.get_close_matches(var, sorted(ENV_VARS), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(sorted(ENV_VARS))}"
            problems.append(Problem(var, env[var], "unknown_option", f"is not a corsware variable{hint}"))
        elif var == WEBSOCKET_VAR and not asgi:
            problems.append(Problem(var, env[var], "unknown_option", "applies to ASGI apps only (corsware.asgi)"))
        elif name in OPTION_NAMES and var != CALLBACK_VAR:
            option_vars.append(var)
            count = len(problems)
            value = _parse_env(var, name, env[var], problems)
            if len(problems) == count:  # an unreadable value is reported, not passed on
                options[name] = value
    file = env.get(FILE_VAR)
    if file is not None and option_vars:
        problems.append(
            Problem(
                FILE_VAR,
                file,
                "policy_source_conflict",
                f"is set together with {', '.join(option_vars)}; put every option in the file or use only variables",
            )
        )
    elif file is None and not option_vars and not problems:
        problems.append(
            Problem(
                FILE_VAR,
                None,
                "no_policy",
                "no policy configured: set CORSWARE_POLICY_FILE=policy.toml or CORSWARE_ALLOW_ORIGINS=... "
                "(run `corsware explain-code no_policy`)",
            )
        )
    callback: Callable[[str], Any] | None = None
    if CALLBACK_VAR in env:
        try:
            callback = import_object(env[CALLBACK_VAR], what=CALLBACK_VAR)
        except MountError as exc:
            problems.append(Problem(CALLBACK_VAR, env[CALLBACK_VAR], "callback_unavailable", str(exc)))
    if any(p.code in ("policy_source_conflict", "no_policy") for p in problems):
        raise CORSConfigError(problems)
    # Build the policy even when some variables were unreadable, to report every problem at once.
    policy: CORSPolicy | None = None
    if file is not None:
        try:
            policy = CORSPolicy.from_file(file)
        except CORSConfigError as exc:
            problems.extend(_prefixed(exc, file, f"{FILE_VAR}={file}").problems)
    else:
        try:
            policy = CORSPolicy.from_mapping(options)
        except CORSConfigError as exc:
            # Worded as variables (CORSWARE_ALLOW_CREDENTIALS=true), then named after them.
            problems.extend(
                Problem(_env_field(p.field), p.value, p.code, p.message, fix=p.fix)
                for p in in_syntax(exc, "env").problems
            )
    if problems or policy is None:
        raise CORSConfigError(problems)
    # A file cannot hold a function: the callback comes from its own variable in both cases.
    return policy if callback is None else policy.replace(allow_origin_callback=callback)


def resolve_policy(
    policy: CORSPolicy | Mapping[str, Any] | str | os.PathLike[str] | None,
    environ: Mapping[str, str] | None = None,
    *,
    asgi: bool = False,
) -> CORSPolicy:
    """A ``CORSPolicy`` from what a factory was given: a policy, a mapping of its keywords,
    a policy file path, or None (the environment, see :func:`policy_from_env`)."""
    if policy is None:
        return policy_from_env(environ, asgi=asgi)
    if isinstance(policy, CORSPolicy):
        return policy
    if isinstance(policy, (str, os.PathLike)):
        try:
            return CORSPolicy.from_file(Path(policy))
        except CORSConfigError as exc:
            raise _prefixed(exc, policy, str(policy)) from None
    if isinstance(policy, Mapping):
        # from_mapping reads plain data; a callback can only come from Python, so allow it here.
        data = dict(policy)
        callback = data.pop("allow_origin_callback", None)
        built = CORSPolicy.from_mapping(data)
        return built if callback is None else built.replace(allow_origin_callback=callback)
    raise TypeError(f"policy must be a CORSPolicy, a mapping, a policy file path or None, not {type(policy).__name__}")


def report_only_from_env(
    report_only: CORSPolicy | Mapping[str, Any] | str | os.PathLike[str] | None, policy: object
) -> tuple[CORSPolicy | None, bool]:
    """The report-only candidate (argument, else ``CORSWARE_REPORT_ONLY_FILE``) and whether a
    policy is enforced: not when the candidate comes alone (no ``policy`` argument, no
    ``CORSWARE_POLICY_FILE`` or ``CORSWARE_<KEYWORD>`` variable)."""
    if report_only is None and REPORT_ONLY_VAR in os.environ:
        report_only = os.environ[REPORT_ONLY_VAR]
    if report_only is None:
        return None, True
    if isinstance(report_only, (str, os.PathLike)):
        try:
            candidate = CORSPolicy.from_file(Path(report_only))
        except CORSConfigError as exc:
            raise _prefixed(exc, report_only, f"{REPORT_ONLY_VAR}={report_only}") from None
    else:
        candidate = resolve_policy(report_only)
    option_vars = [_PREFIX + name.upper() for name in OPTION_NAMES]
    enforced = policy is not None or FILE_VAR in os.environ or any(var in os.environ for var in option_vars)
    return candidate, enforced


def env_flag(environ: Mapping[str, str], var: str) -> bool:
    raw = environ.get(var)
    if raw is None:
        return False
    if raw.strip().lower() in _TRUE:
        return True
    if raw.strip().lower() in _FALSE:
        return False
    raise CORSConfigError([Problem(var, raw, "env_malformed", "must be true or false (also 1/0, yes/no, on/off)")])


def app_from_env() -> str:
    """The import string of the app to wrap, from ``CORSWARE_APP``."""
    spec = os.environ.get(APP_VAR, "").strip()
    if not spec:
        raise MountError(f"{APP_VAR} is not set: set it to the app to wrap, e.g. {APP_VAR}=myproject.wsgi:application")
    return spec
