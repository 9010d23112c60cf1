"""System checks: ``manage.py check`` lists every problem of the CORS settings.

Ids are stable (documented in ``docs/django.md``):

- ``corsware.E001`` ``CORSWARE_POLICY`` is not a dict/CORSPolicy, or has an unknown key
- ``corsware.E002`` a setting's value is refused by the policy (one per problem; the
  core's reason code in brackets)
- ``corsware.E003`` ``CORS_URLS_REGEX`` is not a valid regex
- ``corsware.E004`` ``CORSWARE_POLICY`` and django-cors-headers settings are both set
- ``corsware.E005`` django-cors-headers' middleware is in ``MIDDLEWARE`` too
- ``corsware.W001`` a django-cors-headers 3.x setting name is used
- ``corsware.W002`` ``corsware.django.CorsMiddleware`` is not in ``MIDDLEWARE``
- ``corsware.W003`` the middleware is below ``CommonMiddleware``
- ``corsware.W004`` ``CORS_URLS_REGEX`` looks like a prefix (it must match the whole path)
- ``corsware.W005`` a ``CORS_*`` / ``CORSWARE_*`` setting corsware does not read (a typo,
  or a setting django-cors-headers removed)
- ``corsware.W006`` an origin allowed with credentials is missing from
  ``CSRF_TRUSTED_ORIGINS`` while ``CsrfViewMiddleware`` is on, so its POSTs get a CSRF 403
- ``corsware.W007`` ``CORS_ALLOWED_ORIGINS`` / ``CORS_ALLOWED_ORIGIN_REGEXES`` beside
  ``CORS_ALLOW_ALL_ORIGINS = True``: never read (django-cors-headers ignores them too)
- ``corsware.W008`` an entry that does nothing and is ignored (``policy.warnings``: a
  forbidden request header such as ``accept-encoding`` in ``CORS_ALLOW_HEADERS``, ...)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning
from django.utils.http import is_same_domain

from .._origins import OriginPattern
from .._policy import CORSPolicy
from .conf import load

__all__ = ["check_cors_settings"]

_OURS = "corsware.django.CorsMiddleware"
_THEIRS = "corsheaders.middleware.CorsMiddleware"
_COMMON = "django.middleware.common.CommonMiddleware"
_CSRF = "django.middleware.csrf.CsrfViewMiddleware"


def check_cors_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Report every problem of the CORS settings and of the middleware's placement."""
    config, issues = load()
    messages: list[CheckMessage] = [
        (Error if issue.error else Warning)(issue.msg, hint=issue.hint, obj=issue.obj, id=issue.id) for issue in issues
    ]
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if _THEIRS in middleware:
        messages.append(
            Error(
                f"{_THEIRS} is in MIDDLEWARE together with corsware.",
                hint=f"Remove it: two CORS layers disagree on headers. {_OURS} reads the same settings.",
                obj="MIDDLEWARE",
                id="corsware.E005",
            )
        )
    if _OURS not in middleware:
        messages.append(
            Warning(
                f"{_OURS} is not in MIDDLEWARE, so no CORS headers are sent.",
                hint=f"Add {_OURS!r} near the top of MIDDLEWARE.",
                obj="MIDDLEWARE",
                id="corsware.W002",
            )
        )
    elif _COMMON in middleware and middleware.index(_COMMON) < middleware.index(_OURS):
        messages.append(
            Warning(
                f"{_OURS} is below {_COMMON}.",
                hint="Move it above: CommonMiddleware's APPEND_SLASH redirect would answer preflights "
                "and its responses would lack CORS headers.",
                obj="MIDDLEWARE",
                id="corsware.W003",
            )
        )
    if config is not None and _CSRF in middleware:
        messages.extend(_csrf_trust(config.policy))
    return messages


def _csrf_trust(policy: CORSPolicy) -> list[CheckMessage]:
    """W006: Django's CSRF check refuses an unsafe request whose ``Origin`` is neither the
    site's own nor in ``CSRF_TRUSTED_ORIGINS`` ("Origin checking failed"), whatever CORS
    allows. With credentials (cookies, so a session that CSRF protects) every such origin
    needs an entry there too."""
    trusted = [str(t) for t in getattr(settings, "CSRF_TRUSTED_ORIGINS", None) or ()]
    missing: list[str] = []
    any_port: list[str] = []
    for pattern in _credentialed_origins(policy):
        if pattern.port == "*":
            any_port.append(pattern.text)  # CSRF_TRUSTED_ORIGINS has no port wildcard
            continue
        entry = pattern.text  # 'https://*.example.com' is already CSRF_TRUSTED_ORIGINS' wildcard form
        if not _trusted(pattern, trusted) and entry not in missing:
            missing.append(entry)
    messages: list[CheckMessage] = []
    if missing:
        names = ", ".join(repr(m) for m in missing)
        messages.append(
            Warning(
                f"CORS allows {names} with credentials, but CSRF_TRUSTED_ORIGINS does not list "
                f"{'it' if len(missing) == 1 else 'them'}: Django's CsrfViewMiddleware answers "
                f"{'its' if len(missing) == 1 else 'their'} POST, PUT, PATCH and DELETE requests with 403 "
                "('Origin checking failed').",
                hint=f"Write CSRF_TRUSTED_ORIGINS = {[*trusted, *missing]!r} (see 'CSRF' in docs/django.md).",
                obj="CSRF_TRUSTED_ORIGINS",
                id="corsware.W006",
            )
        )
    for text in any_port:
        scheme_host = text.rsplit(":", 1)[0]
        if not any(t.startswith(scheme_host + ":") for t in trusted):
            messages.append(
                Warning(
                    f"CORS allows {text!r} with credentials, but CSRF_TRUSTED_ORIGINS has no entry for it: "
                    "Django's CsrfViewMiddleware answers its unsafe requests with 403 ('Origin checking failed').",
                    hint=f"CSRF_TRUSTED_ORIGINS has no port wildcard: list each port you use, "
                    f"e.g. CSRF_TRUSTED_ORIGINS = [..., {scheme_host + ':3000'!r}] (see 'CSRF' in docs/django.md).",
                    obj="CSRF_TRUSTED_ORIGINS",
                    id="corsware.W006",
                )
            )
    return messages


def _credentialed_origins(policy: CORSPolicy) -> list[OriginPattern]:
    """The origins the policy (and its per-path rules) allows with credentials."""
    found: list[OriginPattern] = []
    for each in (policy, *(rule for _, rule in policy.rules)):
        if each.settings.credentials:
            found.extend(each.settings.origins)
    return found


def _trusted(pattern: OriginPattern, trusted: list[str]) -> bool:
    """Whether Django's CSRF origin check accepts every origin ``pattern`` allows, decided as
    ``CsrfViewMiddleware._origin_verified`` does: an exact entry, or a ``scheme://*.domain``
    entry whose domain covers the host."""
    if pattern.text in trusted:
        return True
    host = f"csrf-probe.{pattern.host}" if pattern.kind == "subdomains" else pattern.host
    netloc = host if pattern.port is None else f"{host}:{pattern.port}"
    for entry in trusted:
        if "*" not in entry:
            continue
        parsed = urlsplit(entry)
        if parsed.scheme == pattern.scheme and is_same_domain(netloc, parsed.netloc.lstrip("*")):
            return True
    return False
