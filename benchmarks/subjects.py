"""The subjects: a bare app per family, the floors, corsware and its peers, each built
for one scenario.

Families (each subject is compared with its own family's bare app):

- ``asgi``: a bare ASGI app; a no-op middleware; a no-op that wraps ``send``; corsware;
  corsware with ``report_only=`` (a candidate equal to the policy: both answers agree, the
  common case); Starlette's ``CORSMiddleware``; ``asgi-cors``.
- ``wsgi``: a bare WSGI app; a no-op middleware; a no-op that wraps ``start_response``;
  corsware; corsware with ``report_only=``.
- ``flask``: a Flask app; corsware around it; the same app with ``flask-cors``.
- ``django``: a Django app; corsware around it; the same app with ``django-cors-headers``.

With ``python -m benchmarks --before REV`` every family also has ``corsware_before``: the
package as it was at git revision ``REV`` (:mod:`benchmarks.before`), configured from the
same keywords as ``corsware`` and wrapped the same way.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from corsware import CORSPolicy
from corsware.asgi import CORSMiddleware as CorswareASGI
from corsware.wsgi import CORSMiddleware as CorswareWSGI

from .scenarios import ALLOW_HEADERS, EXPOSE_HEADERS, MAX_AGE, METHODS, SUBDOMAIN_REGEX, SUBDOMAIN_SUFFIX, Scenario

FAMILIES = ("asgi", "wsgi", "flask", "django")
BARE = "bare"
#: Shown in tables and the chart.
LABELS = {
    "bare": "bare app",
    "noop": "no-op middleware",
    "noop_wrap": "no-op wrapping send/start_response",
    "static_headers": "fixed CORS headers, no logic",
    "corsware": "corsware",
    "corsware_before": "corsware before",
    "corsware_report_only": "corsware + report_only",
    "starlette": "Starlette CORSMiddleware",
    "asgi_cors": "asgi-cors",
    "flask_cors": "flask-cors",
    "django_cors": "django-cors-headers",
}
PEERS = {"asgi": ("starlette", "asgi_cors"), "wsgi": (), "flask": ("flask_cors",), "django": ("django_cors",)}


@dataclass(frozen=True)
class Subject:
    family: str
    name: str
    app: Callable[..., Any]
    interface: str  # "asgi" or "wsgi"


# -- bare apps and floors -------------------------------------------------------------------

_OK_HEADERS_RAW = ((b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"2"))


async def bare_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The smallest honest ASGI app: a 200 ``ok`` with a fresh header list."""
    await send({"type": "http.response.start", "status": 200, "headers": list(_OK_HEADERS_RAW)})
    await send({"type": "http.response.body", "body": b"ok"})


def bare_wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The smallest honest WSGI app: a 200 ``ok``."""
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "2")])
    return [b"ok"]


class NoopASGI:
    """Floor: a middleware that only passes the call through."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


class NoopWrapASGI:
    """Floor for a middleware that must add response headers: it wraps ``send``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def wrapped(message: Any) -> None:
            if message["type"] == "http.response.start":
                pass  # a real middleware adds its headers here
            await send(message)

        await self.app(scope, receive, wrapped)


class NoopWSGI:
    """Floor: a middleware that only passes the call through."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)


class NoopWrapWSGI:
    """Floor for a middleware that must add response headers: it wraps ``start_response``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: Any, start_response: Any) -> Any:
        def wrapped(status: str, headers: Any, exc_info: Any = None) -> Any:
            return start_response(status, headers, exc_info)

        return self.app(environ, wrapped)


class StaticHeadersASGI:
    """Server floor: appends fixed response headers (those corsware sends to the allowed
    origin) with no logic at all, to show what sending them costs the server."""

    def __init__(self, app: Any, headers: tuple[tuple[bytes, bytes], ...]) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def wrapped(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *self.headers]
            await send(message)

        await self.app(scope, receive, wrapped)


class StaticHeadersWSGI:
    """:class:`StaticHeadersASGI` for WSGI."""

    def __init__(self, app: Any, headers: tuple[tuple[str, str], ...]) -> None:
        self.app = app
        self.headers = headers

    def __call__(self, environ: Any, start_response: Any) -> Any:
        def wrapped(status: str, headers: Any, exc_info: Any = None) -> Any:
            return start_response(status, [*headers, *self.headers], exc_info)

        return self.app(environ, wrapped)


# -- configuration of each subject for a scenario ---------------------------------------------


def corsware_keywords(scenario: Scenario) -> dict[str, Any]:
    """The keywords of corsware's policy for ``scenario``: one builder for today's package
    and the ``--before`` one, so the two are always configured alike."""
    origins = list(scenario.origins)
    if scenario.subdomains:
        origins.append(f"https://*.{SUBDOMAIN_SUFFIX}")
    return {
        "allow_origins": origins,
        "allow_origin_regex": scenario.regex,
        "allow_methods": list(METHODS),
        "allow_headers": list(ALLOW_HEADERS),
        "allow_credentials": True,
        "expose_headers": list(EXPOSE_HEADERS),
        "max_age": MAX_AGE,
    }


@functools.cache
def corsware_policy(scenario: Scenario) -> CORSPolicy:
    return CORSPolicy(**corsware_keywords(scenario))


@functools.cache
def before_policy(before: ModuleType, scenario: Scenario) -> Any:
    """The ``corsware_before`` subject's policy: the old package's ``CORSPolicy`` built from
    the same keywords (one object per scenario, like :func:`corsware_policy`, so its caches
    carry over from one family to the next alike)."""
    return before.CORSPolicy(**corsware_keywords(scenario))


def report_only_candidate(scenario: Scenario) -> CORSPolicy:
    """The candidate of the ``corsware + report_only`` subject: a policy equal to the one
    enforced (its own object, with its own caches), so every answer agrees and nothing is
    logged, which is what report-only costs on the requests that do not change."""
    return CORSPolicy.from_mapping(corsware_policy(scenario).describe())


def _peer_regexes(scenario: Scenario) -> list[str]:
    out = [SUBDOMAIN_REGEX] if scenario.subdomains else []
    if scenario.regex:
        out.append(scenario.regex)
    return out


def _joined_regex(scenario: Scenario) -> str | None:
    regexes = _peer_regexes(scenario)
    return "|".join(f"(?:{r})" for r in regexes) if regexes else None


def starlette_cors(app: Any, scenario: Scenario) -> Any:
    from starlette.middleware.cors import CORSMiddleware

    return CORSMiddleware(
        app,
        allow_origins=list(scenario.origins),
        allow_origin_regex=_joined_regex(scenario),
        allow_methods=list(METHODS),
        allow_headers=list(ALLOW_HEADERS),
        allow_credentials=True,
        expose_headers=list(EXPOSE_HEADERS),
        max_age=MAX_AGE,
    )


def asgi_cors(app: Any, scenario: Scenario) -> Any:
    """asgi-cors has no credentials, no expose list and does not answer preflights itself;
    its max_age writes a str header value (invalid ASGI), so it is left unset."""
    from asgi_cors import asgi_cors as wrap

    regex = _joined_regex(scenario)
    compiled = re.compile(regex) if regex else None
    callback = None if compiled is None else (lambda origin: compiled.fullmatch(origin.decode("latin-1")) is not None)
    return wrap(
        app, hosts=list(scenario.origins), callback=callback, headers=list(ALLOW_HEADERS), methods=list(METHODS)
    )


def flask_app(scenario: Scenario | None = None) -> Any:
    """A Flask app with one route; with ``scenario``, configured with flask-cors."""
    import flask

    app = flask.Flask("corsware-bench")

    @app.route("/", methods=["GET", "POST", "PUT", "DELETE"])
    def index() -> Any:
        return flask.Response(b"ok", mimetype="text/plain")

    if scenario is not None:
        from flask_cors import CORS

        CORS(
            app,
            origins=[*scenario.origins, *(re.compile(r) for r in _peer_regexes(scenario))],
            methods=list(METHODS),
            allow_headers=list(ALLOW_HEADERS),
            expose_headers=list(EXPOSE_HEADERS),
            supports_credentials=True,
            max_age=MAX_AGE,
        )
    return app


# -- Django: one process-wide settings object; django-cors-headers reads it per request --------


def _django_view(request: Any) -> Any:
    from django.http import HttpResponse

    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns: list[Any] = []


@functools.lru_cache(maxsize=1)
def _django_setup() -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            ALLOWED_HOSTS=["*"],
            ROOT_URLCONF=__name__,
            MIDDLEWARE=[],
            INSTALLED_APPS=[],
            USE_TZ=True,
            SECRET_KEY="benchmark-only",
            LOGGING_CONFIG=None,
        )
    django.setup()
    from django.urls import path

    urlpatterns[:] = [path("", _django_view)]


def django_app(with_cors_headers: bool) -> Any:
    """The Django WSGI handler, bare or with django-cors-headers' middleware."""
    _django_setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    middleware = ["corsheaders.middleware.CorsMiddleware"] if with_cors_headers else []
    with override_settings(MIDDLEWARE=middleware):
        return WSGIHandler()


def configure_django_cors(scenario: Scenario) -> None:
    """Point django-cors-headers' settings at ``scenario`` (read by it on every request)."""
    _django_setup()
    from django.conf import settings

    settings.CORS_ALLOWED_ORIGINS = list(scenario.origins)
    settings.CORS_ALLOWED_ORIGIN_REGEXES = _peer_regexes(scenario)
    settings.CORS_ALLOW_METHODS = list(METHODS)
    settings.CORS_ALLOW_HEADERS = list(ALLOW_HEADERS)
    settings.CORS_ALLOW_CREDENTIALS = True
    settings.CORS_EXPOSE_HEADERS = list(EXPOSE_HEADERS)
    settings.CORS_PREFLIGHT_MAX_AGE = MAX_AGE


# -- building a family for a scenario ---------------------------------------------------------


@functools.cache
def _flask_bare() -> Any:
    return flask_app()


@functools.cache
def _django_bare() -> Any:
    return django_app(False)


@functools.cache
def _django_cors() -> Any:
    return django_app(True)


def family(name: str, scenario: Scenario, before: ModuleType | None = None) -> list[Subject]:
    """The subjects of family ``name``, configured for ``scenario``; the bare app first.
    With ``before`` (:func:`benchmarks.before.load`), a ``corsware_before`` subject follows
    ``corsware``: the old package around the same app, with the same keywords."""
    policy = corsware_policy(scenario)

    def then_before(app: Any) -> dict[str, Any]:
        if before is None:
            return {}
        middleware = before.asgi.CORSMiddleware if name == "asgi" else before.wsgi.CORSMiddleware
        return {"corsware_before": middleware(app, policy=before_policy(before, scenario))}

    if name == "asgi":
        apps: dict[str, Any] = {
            "bare": bare_asgi,
            "noop": NoopASGI(bare_asgi),
            "noop_wrap": NoopWrapASGI(bare_asgi),
            "corsware": CorswareASGI(bare_asgi, policy=policy),
            **then_before(bare_asgi),
            "corsware_report_only": CorswareASGI(bare_asgi, policy=policy, report_only=report_only_candidate(scenario)),
            "starlette": starlette_cors(bare_asgi, scenario),
            "asgi_cors": asgi_cors(bare_asgi, scenario),
        }
        return [Subject(name, key, app, "asgi") for key, app in apps.items()]
    if name == "wsgi":
        apps = {
            "bare": bare_wsgi,
            "noop": NoopWSGI(bare_wsgi),
            "noop_wrap": NoopWrapWSGI(bare_wsgi),
            "corsware": CorswareWSGI(bare_wsgi, policy=policy),
            **then_before(bare_wsgi),
            "corsware_report_only": CorswareWSGI(bare_wsgi, policy=policy, report_only=report_only_candidate(scenario)),
        }
        return [Subject(name, key, app, "wsgi") for key, app in apps.items()]
    if name == "flask":
        bare = _flask_bare()
        apps = {"bare": bare, "corsware": CorswareWSGI(bare, policy=policy), **then_before(bare),
                "flask_cors": flask_app(scenario)}  # fmt: skip
        return [Subject(name, key, app, "wsgi") for key, app in apps.items()]
    if name == "django":
        configure_django_cors(scenario)
        bare = _django_bare()
        apps = {"bare": bare, "corsware": CorswareWSGI(bare, policy=policy), **then_before(bare),
                "django_cors": _django_cors()}  # fmt: skip
        return [Subject(name, key, app, "wsgi") for key, app in apps.items()]
    raise ValueError(f"unknown family {name!r}")
