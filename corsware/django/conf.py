"""Django settings -> :class:`~corsware.CORSPolicy`, read lazily and rebuilt on change.

Two ways to configure, never both:

- ``CORSWARE_POLICY``: a dict of ``CORSPolicy`` keywords (or a ``CORSPolicy``), corsware's
  own defaults (nothing allowed until configured).
- django-cors-headers' setting names, with django-cors-headers' defaults for the ones not
  set (methods, headers, a max-age of 86400), so that moving over is a change of import
  lines.

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
from .._policy import OPTION_NAMES, CORSPolicy
from .signals import check_request_enabled

__all__ = ["CORS_SETTINGS", "Config", "Issue", "current", "current_request", "load"]

#: django-cors-headers' defaults (``corsheaders.defaults``) for the settings not given.
DEFAULT_METHODS: Final = ("DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT")
DEFAULT_HEADERS: Final = ("accept", "authorization", "content-type", "user-agent", "x-csrftoken", "x-requested-with")
DEFAULT_MAX_AGE: Final = 86400

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
    "allow_origin_regex": "CORS_ALLOWED_ORIGIN_REGEXES",
    "allow_methods": "CORS_ALLOW_METHODS",
    "allow_headers": "CORS_ALLOW_HEADERS",
    "expose_headers": "CORS_EXPOSE_HEADERS",
    "max_age": "CORS_PREFLIGHT_MAX_AGE",
    "allow_credentials": "CORS_ALLOW_CREDENTIALS",
    "allow_private_network": "CORS_ALLOW_PRIVATE_NETWORK",
}


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
    cors_names = [n for n in (*CORS_SETTINGS, *LEGACY_SETTINGS) if _has(n)]
    for old, new in LEGACY_SETTINGS.items():
        if _has(old):
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
    elif cors_names:
        policy = _policy(_cors_headers_kwargs(), issues, hooked, "CORS_ALLOWED_ORIGINS", _FIELD_SETTING)
    else:
        policy = _policy({}, issues, hooked, "CORSWARE_POLICY", {})
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


def _cors_headers_kwargs() -> dict[str, Any]:
    def get(name: str, default: Any) -> Any:
        legacy = next((old for old, new in LEGACY_SETTINGS.items() if new == name), None)
        if _has(name):
            return getattr(settings, name)
        if legacy is not None and _has(legacy):
            return getattr(settings, legacy)
        return default

    allow_all = get("CORS_ALLOW_ALL_ORIGINS", False)
    kwargs: dict[str, Any] = {
        # CORS_ALLOW_ALL_ORIGINS=True is '*' (with credentials that is refused, see docs).
        "allow_origins": ["*"] if allow_all is True else get("CORS_ALLOWED_ORIGINS", ()),
        "allow_methods": get("CORS_ALLOW_METHODS", DEFAULT_METHODS),
        "allow_headers": get("CORS_ALLOW_HEADERS", DEFAULT_HEADERS),
        "expose_headers": get("CORS_EXPOSE_HEADERS", ()),
        "allow_credentials": get("CORS_ALLOW_CREDENTIALS", False),
        "allow_private_network": get("CORS_ALLOW_PRIVATE_NETWORK", False),
    }
    if not isinstance(allow_all, bool):
        kwargs["allow_origins"] = allow_all  # reported by the core as an invalid type
    regexes = get("CORS_ALLOWED_ORIGIN_REGEXES", ())
    if regexes:
        kwargs["allow_origin_regex"] = list(regexes) if isinstance(regexes, (list, tuple)) else regexes
    max_age = get("CORS_PREFLIGHT_MAX_AGE", DEFAULT_MAX_AGE)
    # django-cors-headers sends no Max-Age header for 0; so does corsware's None.
    kwargs["max_age"] = None if max_age == 0 and not isinstance(max_age, bool) else max_age
    return kwargs


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
    return _policy(kwargs, issues, hooked, "CORSWARE_POLICY", {})


def _policy(
    kwargs: dict[str, Any], issues: list[Issue], hooked: bool, origin_setting: str, names: Mapping[str, str]
) -> CORSPolicy | None:
    if hooked:
        kwargs = {**kwargs, "allow_origin_callback": _combine(kwargs.get("allow_origin_callback"))}
    try:
        return CORSPolicy(**kwargs)
    except CORSConfigError as exc:
        issues.extend(_issue(p, origin_setting, names) for p in exc.problems)
        return None


def _issue(problem: Problem, origin_setting: str, names: Mapping[str, str]) -> Issue:
    field = problem.field
    head = field.split("[", 1)[0].split(".", 1)[0]
    if not names:  # CORSWARE_POLICY: the field is a key of the dict
        where = f"CORSWARE_POLICY[{field!r}]" if "[" not in field else f"CORSWARE_POLICY: {field}"
        setting = "CORSWARE_POLICY"
    else:
        setting = names.get(head, "CORS_ALLOW_ALL_ORIGINS" if problem.value == "*" else origin_setting)
        where = setting
    return Issue(
        "corsware.E002",
        f"{where}: {problem.value!r} is refused [{problem.code}].",
        problem.message[:1].upper() + problem.message[1:] + ".",
        setting,
    )


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
    user = policy._kwargs.get("allow_origin_callback")
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
