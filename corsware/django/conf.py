"""Django settings -> :class:`~corsware.CORSPolicy`, read lazily and rebuilt on change.

Two ways to configure, never both:

- ``CORSWARE_POLICY``: a dict of ``CORSPolicy`` keywords (or a ``CORSPolicy``), corsware's
  own defaults (nothing allowed until configured).
- django-cors-headers' setting names, with django-cors-headers' defaults for the ones not
  set (methods, headers, a max-age of 86400), so that moving over is a change of import
  lines. These defaults also apply when no setting is given at all (origins allowed only
  through ``check_request_enabled``): they never depend on whether some other setting exists.

``conf`` mirrors django-cors-headers' ``corsheaders.conf.conf`` for code that reads the
settings through it.

Every problem becomes an :class:`Issue` with a stable id; the system checks report them all
(``manage.py check``), the middleware refuses to start with them.
"""

from __future__ import annotations

import difflib
import re
import threading
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from .._callback import call_origin_callback, judge
from .._errors import CORSConfigError, Problem
from .._log import logger
from .._policy import OPTION_NAMES, CORSPolicy
from .defaults import default_headers, default_methods
from .signals import check_request_enabled

__all__ = [
    "CORS_SETTINGS",
    "KNOWN_SETTINGS",
    "Config",
    "Issue",
    "Settings",
    "conf",
    "current",
    "current_request",
    "load",
]


#: django-cors-headers' defaults (``corsheaders.defaults``) for the settings not given.
DEFAULT_METHODS: Final = default_methods
DEFAULT_HEADERS: Final = default_headers
DEFAULT_MAX_AGE: Final = 86400
#: django-cors-headers' default ``CORS_URLS_REGEX`` (every path), as ``conf`` reports it.
DEFAULT_URLS_REGEX: Final = r"^.*$"
#: Each setting ``conf`` reports, and its default: what the policy is built from when not set.
_DEFAULTS: Final[Mapping[str, Any]] = {
    "CORS_ALLOW_HEADERS": DEFAULT_HEADERS,
    "CORS_ALLOW_METHODS": DEFAULT_METHODS,
    "CORS_ALLOW_CREDENTIALS": False,
    "CORS_ALLOW_PRIVATE_NETWORK": False,
    "CORS_PREFLIGHT_MAX_AGE": DEFAULT_MAX_AGE,
    "CORS_ALLOW_ALL_ORIGINS": False,
    "CORS_ALLOWED_ORIGINS": (),
    "CORS_ALLOWED_ORIGIN_REGEXES": (),
    "CORS_EXPOSE_HEADERS": (),
    "CORS_URLS_REGEX": DEFAULT_URLS_REGEX,
}

#: django-cors-headers' settings that describe the policy, and the CORSPolicy keyword each feeds.
CORS_SETTINGS: Final[Mapping[str, str]] = {
    "CORS_ALLOWED_ORIGINS": "allow_origins",
    "CORS_ALLOWED_ORIGIN_REGEXES": "allow_origin_regex",
    "CORS_ALLOW_ALL_ORIGINS": "allow_origins",
    "CORS_ALLOW_METHODS": "allow_methods",
    "CORS_ALLOW_HEADERS": "allow_headers",
    "CORS_EXPOSE_HEADERS": "expose_headers",
    "CORS_PREFLIGHT_MAX_AGE": "max_age",
    "CORS_ALLOW_CREDENTIALS": "allow_credentials",
    "CORS_ALLOW_PRIVATE_NETWORK": "allow_private_network",
}
#: Names django-cors-headers 3.x used; still read (as it does), with a warning.
LEGACY_SETTINGS: Final[Mapping[str, str]] = {
    "CORS_ORIGIN_WHITELIST": "CORS_ALLOWED_ORIGINS",
    "CORS_ORIGIN_REGEX_WHITELIST": "CORS_ALLOWED_ORIGIN_REGEXES",
    "CORS_ORIGIN_ALLOW_ALL": "CORS_ALLOW_ALL_ORIGINS",
}
_FIELD_SETTING: Final = {
    "allow_origins": "CORS_ALLOWED_ORIGINS",
    "allow_origin_regex": "CORS_ALLOWED_ORIGIN_REGEXES",
    "allow_methods": "CORS_ALLOW_METHODS",
    "allow_headers": "CORS_ALLOW_HEADERS",
    "expose_headers": "CORS_EXPOSE_HEADERS",
    "max_age": "CORS_PREFLIGHT_MAX_AGE",
    "allow_credentials": "CORS_ALLOW_CREDENTIALS",
    "allow_private_network": "CORS_ALLOW_PRIVATE_NETWORK",
}
#: django-cors-headers settings that were removed there, so corsware does not read them.
REMOVED_SETTINGS: Final[Mapping[str, str]] = {
    "CORS_REPLACE_HTTPS_REFERER": "django-cors-headers 4.0 removed it: list the origins in CSRF_TRUSTED_ORIGINS "
    "instead (see 'CSRF' in docs/django.md)",
    "CORS_MODEL": "django-cors-headers 3.0 removed it: decide per request with the check_request_enabled "
    "signal, or an allow_origin_callback in CORSWARE_POLICY",
}
#: Every ``CORS_*`` / ``CORSWARE_*`` setting name corsware knows; any other is reported (W005).
KNOWN_SETTINGS: Final = (
    *CORS_SETTINGS, "CORS_URLS_REGEX", "CORSWARE_POLICY", "CORSWARE_REPORT_ONLY", *LEGACY_SETTINGS, *REMOVED_SETTINGS,
)  # fmt: skip


@dataclass(frozen=True)
class Issue:
    """One problem with the settings, as the system checks report it."""

    id: str  # "corsware.E001" ...
    msg: str
    hint: str | None
    obj: str  # the setting concerned
    error: bool = True


@dataclass(frozen=True)
class Config:
    """What the middleware needs, built once per settings state."""

    policy: CORSPolicy
    urls_regex: re.Pattern[str] | None
    hooked: bool  # whether check_request_enabled had receivers when this was built


def _has(name: str) -> bool:
    return hasattr(settings, name)


def load() -> tuple[Config | None, list[Issue]]:
    """Read the settings now; return the config (None if there are errors) and every issue."""
    issues: list[Issue] = []
    hooked = check_request_enabled.has_listeners()
    urls_regex = _urls_regex(issues)
    _unknown_settings(issues)
    cors_names = [n for n in (*CORS_SETTINGS, *LEGACY_SETTINGS) if _has(n)]
    for old, new in LEGACY_SETTINGS.items():
        if _has(old) and _has(new):
            # django-cors-headers reads the 3.x name only when the current one is absent.
            issues.append(
                Issue(
                    "corsware.W001",
                    f"{old} has no effect: it is django-cors-headers' old name for {new}, which is set too "
                    "and is the one read.",
                    f"Remove {old} (merge what it holds into {new} if it is still needed).",
                    old,
                    error=False,
                )
            )
        elif _has(old):
            issues.append(
                Issue(
                    "corsware.W001",
                    f"{old} is django-cors-headers' old name for {new}.",
                    f"Rename it {new}.",
                    old,
                    error=False,
                )
            )
    policy: CORSPolicy | None = None
    if _has("CORSWARE_POLICY"):
        if cors_names:
            issues.append(
                Issue(
                    "corsware.E004",
                    f"CORSWARE_POLICY and django-cors-headers settings ({', '.join(cors_names)}) are both set.",
                    "Use one: move those values into CORSWARE_POLICY (see docs/django.md), or remove CORSWARE_POLICY.",
                    "CORSWARE_POLICY",
                )
            )
        else:
            policy = _native_policy(settings.CORSWARE_POLICY, issues, hooked)
    else:
        # django-cors-headers' names and defaults, also with no setting at all: the defaults
        # must not depend on whether some unrelated CORS_* setting happens to exist.
        kwargs, sources = _cors_headers_kwargs(issues)
        policy = _policy(kwargs, issues, hooked, sources)
    if policy is None or any(i.error for i in issues):
        return None, issues
    return Config(policy, urls_regex, hooked), issues


def _urls_regex(issues: list[Issue]) -> re.Pattern[str] | None:
    value = getattr(settings, "CORS_URLS_REGEX", None)
    if value is None:
        return None
    if isinstance(value, re.Pattern):
        return value
    if not isinstance(value, str):
        issues.append(
            Issue(
                "corsware.E003",
                f"CORS_URLS_REGEX must be a string or re.Pattern, not {value!r}.",
                None,
                "CORS_URLS_REGEX",
            )
        )
        return None
    try:
        compiled = re.compile(value)
    except re.error as exc:
        issues.append(
            Issue("corsware.E003", f"CORS_URLS_REGEX {value!r} is not a valid regex: {exc}.", None, "CORS_URLS_REGEX")
        )
        return None
    if not value.endswith(("$", r"\Z", "*", ".+")):
        issues.append(
            Issue(
                "corsware.W004",
                f"CORS_URLS_REGEX {value!r} must match the whole path (django-cors-headers matched its start only).",
                f"If it is meant as a prefix, write {value + '.*'!r}.",
                "CORS_URLS_REGEX",
                error=False,
            )
        )
    return compiled


def _read(name: str) -> tuple[Any, str]:
    """A django-cors-headers setting as django-cors-headers reads it: the name, else its 3.x
    name, else its default (``_DEFAULTS``). Returns the value and the setting it came from."""
    if _has(name):
        return getattr(settings, name), name
    legacy = _LEGACY_NAME.get(name)
    if legacy is not None and _has(legacy):
        return getattr(settings, legacy), legacy
    return _DEFAULTS[name], name


_LEGACY_NAME: Final = {new: old for old, new in LEGACY_SETTINGS.items()}


def _unknown_settings(issues: list[Issue]) -> None:
    """W005: a mistyped ``CORS_*`` / ``CORSWARE_*`` name is otherwise silently ignored, and
    the site simply sends no CORS headers."""
    current_names = [n for n in KNOWN_SETTINGS if n not in LEGACY_SETTINGS and n not in REMOVED_SETTINGS]
    for name in dir(settings):
        if not name.startswith(("CORS_", "CORSWARE_")) or (name in KNOWN_SETTINGS and name not in REMOVED_SETTINGS):
            continue
        if name in REMOVED_SETTINGS:
            message = f"{name} has no effect: {REMOVED_SETTINGS[name]}."
            issues.append(Issue("corsware.W005", message, f"Remove {name}.", name, error=False))
            continue
        close = difflib.get_close_matches(name, KNOWN_SETTINGS, n=1, cutoff=0.75)
        if close and close[0] in LEGACY_SETTINGS:
            new = LEGACY_SETTINGS[close[0]]
            hint = f"Did you mean {new} (called {close[0]} in django-cors-headers 3.x)?"
        elif close:
            hint = f"Did you mean {close[0]}?"
        else:
            hint = f"The settings corsware reads: {', '.join(current_names)}."
        message = f"{name} is not a setting corsware reads, so it has no effect."
        issues.append(Issue("corsware.W005", message, hint, name, error=False))


def _cors_headers_kwargs(issues: list[Issue]) -> tuple[dict[str, Any], dict[str, str]]:
    """CORSPolicy keywords from django-cors-headers' settings, and for each keyword the
    setting the user wrote it in (a 3.x name when that is what the settings use)."""
    sources: dict[str, str] = {}

    def get(field: str) -> Any:
        value, sources[field] = _read(_FIELD_SETTING[field])
        return value

    allow_all, all_source = _read("CORS_ALLOW_ALL_ORIGINS")
    fields = ("allow_origins", "allow_methods", "allow_headers", "expose_headers", "allow_credentials",
              "allow_private_network")  # fmt: skip
    kwargs: dict[str, Any] = {field: get(field) for field in fields}
    regexes = get("allow_origin_regex")
    if allow_all is True:
        # CORS_ALLOW_ALL_ORIGINS=True is '*' (with credentials that is refused, see docs).
        # django-cors-headers then ignores the origin lists (it checks CORS_ALLOW_ALL_ORIGINS
        # first): so does corsware, with a warning (W007), where CORSPolicy would refuse '*'
        # next to regexes as redundant.
        for field, value in (("allow_origins", kwargs["allow_origins"]), ("allow_origin_regex", regexes)):
            if value:
                issues.append(_ignored_beside_allow_all(sources[field], all_source))
        kwargs["allow_origins"], sources["allow_origins"] = ["*"], all_source
        regexes = ()
    elif allow_all is not False:
        # django-cors-headers refuses a non-bool too (corsheaders.E005); the core would read a
        # string as a list of origins and suggest ['True'].
        issues.append(
            Issue(
                "corsware.E002",
                f"{all_source}: {allow_all!r} is refused [invalid_type].",
                _bool_hint(all_source, allow_all),
                all_source,
            )
        )
    if regexes:
        kwargs["allow_origin_regex"] = list(regexes) if isinstance(regexes, (list, tuple)) else regexes
    max_age = get("max_age")
    # django-cors-headers sends no Max-Age header for 0; so does corsware's None.
    kwargs["max_age"] = None if max_age == 0 and not isinstance(max_age, bool) else max_age
    return kwargs, sources


def _ignored_beside_allow_all(setting: str, all_source: str) -> Issue:
    """W007: an origin list next to ``CORS_ALLOW_ALL_ORIGINS = True`` is never read."""
    return Issue(
        "corsware.W007",
        f"{setting} has no effect: {all_source} = True allows every origin (django-cors-headers ignores "
        f"{setting} then too).",
        f"Remove {setting}, or set {all_source} = False to allow only the origins {setting} lists.",
        setting,
        error=False,
    )


def _bool_hint(setting: str, value: object) -> str:
    """``CORS_ALLOW_ALL_ORIGINS = "True"``: say what to write, in settings syntax."""
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        fix = f"write {setting} = True"
    elif text in ("false", "0", "no", "off", "", "none"):
        fix = f"write {setting} = False"
    else:
        fix = f"write {setting} = True or {setting} = False"
    return f"{setting} must be True or False, not {value!r}: {fix} (no quotes)."


class Settings:
    """django-cors-headers' settings as ``corsheaders.conf.conf`` reports them, for code that
    reads them through it (``from corsware.django.conf import conf``; ``conf.CORS_ALLOW_HEADERS``).

    Each attribute is read from the settings on access (``override_settings`` applies): the
    setting, else its django-cors-headers 3.x name, else django-cors-headers' default. These
    are the values corsware's policy is built from when ``CORSWARE_POLICY`` is not set; with
    ``CORSWARE_POLICY`` they are only the defaults (``current().policy.describe()`` tells the
    policy in force).
    """

    def __getattr__(self, name: str) -> Any:
        # Only for names that are not attributes: the settings in ``_DEFAULTS``.
        if name not in _DEFAULTS:
            raise AttributeError(f"{name!r} is not a setting conf reports; it reports {', '.join(_DEFAULTS)}")
        return _read(name)[0]

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *_DEFAULTS]


#: The settings as django-cors-headers' ``corsheaders.conf.conf`` reports them.
conf: Final = Settings()


def _native_policy(value: object, issues: list[Issue], hooked: bool) -> CORSPolicy | None:
    if isinstance(value, CORSPolicy):
        return _hook(value) if hooked else value
    if not isinstance(value, Mapping):
        issues.append(
            Issue(
                "corsware.E001",
                f"CORSWARE_POLICY must be a dict of CORSPolicy options, not {type(value).__name__}.",
                "For example CORSWARE_POLICY = {'allow_origins': ['https://app.example.com']}.",
                "CORSWARE_POLICY",
            )
        )
        return None
    kwargs: dict[str, Any] = {}
    for key, item in value.items():
        if key not in OPTION_NAMES:
            close = difflib.get_close_matches(str(key), OPTION_NAMES, n=1)
            issues.append(
                Issue(
                    "corsware.E001",
                    f"CORSWARE_POLICY has an unknown option {key!r}.",
                    f"Did you mean {close[0]!r}?" if close else f"Options: {', '.join(OPTION_NAMES)}.",
                    "CORSWARE_POLICY",
                )
            )
        elif key == "allow_origin_callback" and isinstance(item, str):
            try:
                kwargs[key] = import_string(item)
            except ImportError as exc:
                hint = "Give a dotted path to a callable, or the callable itself."
                issues.append(
                    Issue("corsware.E001", f"CORSWARE_POLICY['allow_origin_callback']: {exc}.", hint, "CORSWARE_POLICY")
                )
        else:
            kwargs[key] = item
    if any(i.error for i in issues):
        return None
    return _policy(kwargs, issues, hooked, None)


def _policy(
    kwargs: dict[str, Any], issues: list[Issue], hooked: bool, sources: Mapping[str, str] | None
) -> CORSPolicy | None:
    """Build the policy; ``sources`` maps keywords to django-cors-headers settings, or is
    None for ``CORSWARE_POLICY`` (the keywords are its keys)."""
    if hooked:
        kwargs = {**kwargs, "allow_origin_callback": _combine(kwargs.get("allow_origin_callback"))}
    try:
        policy = CORSPolicy(**kwargs)
    except CORSConfigError as exc:
        issues.extend(_issue(p, sources) for p in exc.problems)
        return None
    for warning in policy.warnings:
        # W008: an entry that does nothing (a forbidden header name, ...): ignored, never fatal.
        base = _issue(warning, sources)
        issues.append(
            Issue("corsware.W008", base.msg.replace(" is refused [", " does nothing [", 1), base.hint, base.obj,
                  error=False)
        )  # fmt: skip
    return policy


_SUBSCRIPT = re.compile(r"""\[(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\]]*)\]|[^.\[]+""")
_KEYWORD = re.compile(r"\b(?:(?:also )?(pass|set) )?([a-z_]+)=((?:True|False|None)\b|\['\*'\])")
#: A message starting with an ordinary lower-case word (not an identifier or a value).
_PLAIN_WORD = re.compile(r"[a-z]+\b(?![_=(\[])")


def _issue(problem: Problem, sources: Mapping[str, str] | None) -> Issue:
    """The core's problem, named after the setting the user wrote, hints in settings syntax."""
    field = problem.field
    if sources is None:  # CORSWARE_POLICY: the field is a (nested) key of the dict
        setting = "CORSWARE_POLICY"
        # paths['/public/*'].allow_origins -> CORSWARE_POLICY['paths']['/public/*']['allow_origins']
        where = setting + "".join(p if p.startswith("[") else f"[{p!r}]" for p in _SUBSCRIPT.findall(field))
    else:
        head = field.split("[", 1)[0].split(".", 1)[0]
        setting = sources.get(head, _FIELD_SETTING.get(head, head))
        where = setting
    message = _settings_syntax(problem, setting, sources is not None)
    if message.startswith(("is ", "must ")):  # said of the field itself: name it
        hint = f"{where} {message}."
    elif _PLAIN_WORD.match(message):  # a sentence: capitalised
        hint = message[:1].upper() + message[1:] + "."
    else:  # starts with a name or a value ("allow_origins=['*'] ..."), kept as written
        hint = message + "."
    return Issue("corsware.E002", f"{where}: {problem.value!r} is refused [{problem.code}].", hint, setting)


def _settings_syntax(problem: Problem, setting: str, cors_names: bool) -> str:
    """Rewrite the core's keyword syntax (``allow_credentials=True``) into what a Django
    settings file says: ``CORS_ALLOW_CREDENTIALS = True``, or ``'allow_credentials': True``
    inside ``CORSWARE_POLICY``."""

    def keyword(m: re.Match[str]) -> str:
        verb, name, value = m.group(1), m.group(2), m.group(3)
        if value == "['*']" and cors_names and name == "allow_origins":
            return f"{verb + ' ' if verb else ''}CORS_ALLOW_ALL_ORIGINS = True"
        if not cors_names:
            return f"{'add ' if verb == 'pass' else 'set ' if verb else ''}{name!r}: {value}"
        if name in _FIELD_SETTING:
            return f"{verb + ' ' if verb else ''}{_FIELD_SETTING[name]} = {value}"
        # dangerously_* and the other CORSPolicy-only options: django-cors-headers' names
        # cannot say them.
        return (
            f"{'set ' if verb else ''}{name!r}: {value} in CORSWARE_POLICY (move your CORS_* settings there: "
            "django-cors-headers' names cannot express it; see docs/django.md)"
        )

    message = _KEYWORD.sub(keyword, problem.message)
    if cors_names:
        message = message.replace("or None to omit the header", "or 0 to omit the header")
        if problem.code == "bare_string":
            message = message.replace("; write [", f"; write {setting} = [")
        elif problem.code == "invalid_type" and message.startswith("must be True or False"):
            return _bool_hint(setting, problem.value)[len(setting) + 1 : -1]
    return message


# -- the dynamic hook ------------------------------------------------------------------------

#: The request being decided, for ``check_request_enabled`` (set by the middleware).
current_request: ContextVar[Any] = ContextVar("corsware_django_request", default=None)


#: How the warning about a receiver's non-bool result names it.
_RECEIVER: Final = "check_request_enabled receiver"


def _combine(user: Callable[[str], Any] | None) -> Callable[[str], bool | Awaitable[bool]]:
    """An origin callback that asks ``check_request_enabled``, then the user's callback.

    Receivers are judged by the same rule as origin callbacks (:func:`corsware._callback.judge`):
    only ``True`` enables CORS, where django-cors-headers took any truthy value; so
    ``"false"`` or ``0`` from a receiver refuses, with a warning naming the receiver.
    """

    def allow(origin: str) -> bool | Awaitable[bool]:
        request = current_request.get()
        if request is not None:
            # Every receiver's result is judged (not any(), which stops at the first True),
            # so each one returning a non-bool is warned about.
            verdicts = [judge(r, receiver, _RECEIVER) for receiver, r in
                        check_request_enabled.send(sender=None, request=request)]  # fmt: skip
            if any(verdicts):
                return True
        return call_origin_callback(user, origin) if user is not None else False

    allow.__qualname__ = "check_request_enabled"
    return allow


def _hook(policy: CORSPolicy) -> CORSPolicy:
    user = policy.options.get("allow_origin_callback")
    return policy.replace(allow_origin_callback=_combine(user))


# -- the cache -------------------------------------------------------------------------------

_lock = threading.Lock()
_cache: Config | None = None


def current() -> Config:
    """The config for the current settings; raises ``ImproperlyConfigured`` listing every
    error (``manage.py check`` reports the same with ids and hints)."""
    global _cache  # noqa: PLW0603 - one config per settings state, swapped atomically
    config = _cache
    if config is not None and config.hooked == check_request_enabled.has_listeners():
        return config
    with _lock:
        config, issues = load()
        for issue in issues:
            if not issue.error:
                # Servers do not run the system checks: what they would warn about is logged.
                logger.warning("%s %s %s", issue.id, issue.msg, issue.hint or "")
        if config is None:
            from django.core.exceptions import ImproperlyConfigured

            errors = "\n".join(f"  {i.id} {i.msg} HINT: {i.hint}" for i in issues if i.error)
            raise ImproperlyConfigured(f"invalid CORS settings (run 'manage.py check'):\n{errors}")
        _cache = config
        return config


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    """``override_settings`` (and any settings change signal) rebuilds the policy."""
    global _cache  # noqa: PLW0603
    if setting.startswith(("CORS_", "CORSWARE_")):
        _cache = None
