"""corsware.django: settings, system checks, override_settings, async path, the hook."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ..support import django_project

django_project.setup()

from asgiref.sync import iscoroutinefunction  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.management.base import SystemCheckError  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import override_settings  # noqa: E402

from corsware.django import CorsMiddleware  # noqa: E402
from corsware.django.checks import check_cors_settings  # noqa: E402
from corsware.django.signals import check_request_enabled  # noqa: E402

APP = "https://app.example.com"
EVIL = "https://evil.example.net"
PREFLIGHT = {"Origin": APP, "Access-Control-Request-Method": "PUT"}
OURS = "corsware.django.CorsMiddleware"
CSRF = "django.middleware.csrf.CsrfViewMiddleware"
# django-cors-headers 4.x's corsheaders.defaults, written out.
DEFAULT_HEADERS = ("accept", "authorization", "content-type", "user-agent", "x-csrftoken", "x-requested-with")
DEFAULT_METHODS = ("DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT")


def wsgi(method: str, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    with httpx.Client(transport=httpx.WSGITransport(app=WSGIHandler()), base_url="https://api.test") as c:
        return c.request(method, path, headers=headers)


def asgi(method: str, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=ASGIHandler(), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="https://api.test") as c:
            return await c.request(method, path, headers=headers)

    return asyncio.run(go())


SEND = pytest.mark.parametrize("send", [wsgi, asgi], ids=["wsgi", "asgi"])


def ids(**settings: Any) -> list[str]:
    with override_settings(**settings):
        return [m.id for m in check_cors_settings()]


# -- system checks ---------------------------------------------------------------------------

#: django-cors-headers' default_headers before 4.0, which settings files still copy: three of
#: them (accept-encoding, dnt, origin) are forbidden request headers no script can set.
PRE_4_DEFAULT_HEADERS = ("accept", "accept-encoding", "authorization", "content-type", "dnt", "origin",
                         "user-agent", "x-csrftoken", "x-requested-with")  # fmt: skip


CHECKS = [
    pytest.param({"CORSWARE_POLICY": {"allow_orgins": [APP]}}, ["corsware.E001"], id="E001 unknown key"),
    pytest.param({"CORSWARE_POLICY": [APP]}, ["corsware.E001"], id="E001 not a dict"),
    pytest.param({"CORS_ALLOW_ALL_ORIGINS": True, "CORS_ALLOW_CREDENTIALS": True}, ["corsware.E002"],
                 id="E002 allow-all with credentials"),
    pytest.param({"CORS_ALLOWED_ORIGINS": ["https://a.com/", "a.com"]}, ["corsware.E002", "corsware.E002"],
                 id="E002 every bad origin reported"),
    pytest.param({"CORS_ALLOWED_ORIGIN_REGEXES": [r"https://.*example.com"]}, ["corsware.E002"], id="E002 loose regex"),
    pytest.param({"CORSWARE_POLICY": {"allow_origins": ["*"], "allow_credentials": True}}, ["corsware.E002"],
                 id="E002 native policy"),
    pytest.param({"CORS_URLS_REGEX": "(unclosed"}, ["corsware.E003"], id="E003 bad regex"),
    pytest.param({"CORSWARE_POLICY": {}, "CORS_ALLOWED_ORIGINS": [APP]}, ["corsware.E004"], id="E004 both ways"),
    pytest.param({"MIDDLEWARE": ["corsheaders.middleware.CorsMiddleware", "corsware.django.CorsMiddleware"]},
                 ["corsware.E005"], id="E005 django-cors-headers too"),
    pytest.param({"CORS_ORIGIN_WHITELIST": [APP]}, ["corsware.W001"], id="W001 legacy name"),
    pytest.param({"MIDDLEWARE": []}, ["corsware.W002"], id="W002 middleware missing"),
    pytest.param({"MIDDLEWARE": ["django.middleware.common.CommonMiddleware", "corsware.django.CorsMiddleware"]},
                 ["corsware.W003"], id="W003 below CommonMiddleware"),
    pytest.param({"CORS_URLS_REGEX": r"^/api/"}, ["corsware.W004"], id="W004 prefix regex"),
    pytest.param({"CORS_ALLOWED_ORIGIN": [APP]}, ["corsware.W005"], id="W005 mistyped name"),
    pytest.param({"CORS_REPLACE_HTTPS_REFERER": True}, ["corsware.W005"], id="W005 removed name"),
    pytest.param({"MIDDLEWARE": [OURS, CSRF], "CORS_ALLOWED_ORIGINS": [APP], "CORS_ALLOW_CREDENTIALS": True},
                 ["corsware.W006"], id="W006 credentialed origin not CSRF-trusted"),
    pytest.param({"MIDDLEWARE": [OURS, CSRF], "CORS_ALLOWED_ORIGINS": [APP], "CORS_ALLOW_CREDENTIALS": True,
                  "CSRF_TRUSTED_ORIGINS": [APP]}, [], id="W006 not when trusted"),
    pytest.param({"MIDDLEWARE": [OURS], "CORS_ALLOWED_ORIGINS": [APP], "CORS_ALLOW_CREDENTIALS": True}, [],
                 id="W006 not without CsrfViewMiddleware"),
    pytest.param({"MIDDLEWARE": [OURS, CSRF], "CORS_ALLOWED_ORIGINS": [APP]}, [], id="W006 not without credentials"),
    pytest.param({"CORS_ALLOWED_ORIGINS": [APP], "CORS_URLS_REGEX": r"^/api/.*$"}, [], id="valid"),
    pytest.param({"CORS_ALLOWED_ORIGINS": [APP], "CORS_ALLOW_HEADERS": PRE_4_DEFAULT_HEADERS},
                 ["corsware.W008", "corsware.W008", "corsware.W008"], id="W008 pre-4.0 default headers start"),
    # Real-world shapes django-cors-headers starts with: warned about, never refused.
    pytest.param({"CORS_ALLOW_ALL_ORIGINS": True, "CORS_ALLOWED_ORIGIN_REGEXES": [r"^https://\w+\.example\.com$"]},
                 ["corsware.W007"], id="W007 allow-all beside regexes"),
    pytest.param({"CORS_ALLOW_ALL_ORIGINS": True, "CORS_ALLOWED_ORIGINS": [APP]}, ["corsware.W007"],
                 id="W007 allow-all beside origins"),
    pytest.param({"CORS_ORIGIN_ALLOW_ALL": True, "CORS_ORIGIN_REGEX_WHITELIST": [r"^https://\w+\.example\.com$"]},
                 ["corsware.W001", "corsware.W001", "corsware.W007"], id="W007 with the 3.x names"),
    pytest.param({"CORS_ALLOW_ALL_ORIGINS": False, "CORS_ALLOWED_ORIGIN_REGEXES": [r"^https://\w+\.example\.com$"]},
                 [], id="allow-all False beside regexes"),
]  # fmt: skip


@SEND
def test_pre_4_default_headers_start_and_serve(send: Any) -> None:
    """Real-world configurations #1: the old default list starts (W008 warnings only) and a
    preflight with Authorization and X-CSRFToken is allowed."""
    with override_settings(CORS_ALLOWED_ORIGINS=[APP], CORS_ALLOW_HEADERS=PRE_4_DEFAULT_HEADERS):
        messages = check_cors_settings()
        assert {(m.id, m.obj) for m in messages} == {("corsware.W008", "CORS_ALLOW_HEADERS")}
        assert "'accept-encoding'" in " ".join(m.msg for m in messages)
        r = send("OPTIONS", "/", {"Origin": APP, "Access-Control-Request-Method": "POST",
                                  "Access-Control-Request-Headers": "authorization, x-csrftoken"})  # fmt: skip
    assert r.status_code == 204
    assert "x-csrftoken" in r.headers["access-control-allow-headers"]


@pytest.mark.parametrize(("settings", "expected"), CHECKS)
def test_system_checks(settings: dict[str, Any], expected: list[str]) -> None:
    assert ids(**settings) == expected


def test_check_messages_name_the_setting_and_give_a_hint() -> None:
    with override_settings(CORS_ALLOW_ALL_ORIGINS=True, CORS_ALLOW_CREDENTIALS=True):
        (message,) = check_cors_settings()
    assert message.obj == "CORS_ALLOW_ALL_ORIGINS"
    assert "wildcard_origin_with_credentials" in message.msg
    assert "list the origins" in message.hint


# The setting the user wrote (3.x names included), and hints in settings-file syntax.
# (settings, obj, message starts with, the hint contains, the hint must not contain)
MESSAGES = [
    pytest.param({"CORS_ORIGIN_WHITELIST": ["https://a.com/"]}, "CORS_ORIGIN_WHITELIST",
                 "CORS_ORIGIN_WHITELIST: 'https://a.com/'", "write 'https://a.com'", "CORS_ALLOWED_ORIGINS",
                 id="3.x CORS_ORIGIN_WHITELIST"),
    pytest.param({"CORS_ORIGIN_REGEX_WHITELIST": [r"https://.*example.com"]}, "CORS_ORIGIN_REGEX_WHITELIST",
                 "CORS_ORIGIN_REGEX_WHITELIST: 'https://.*example.com'", "lookalike", "CORS_ALLOWED_ORIGINS",
                 id="3.x CORS_ORIGIN_REGEX_WHITELIST"),
    pytest.param({"CORS_ORIGIN_ALLOW_ALL": True, "CORS_ALLOW_CREDENTIALS": True}, "CORS_ORIGIN_ALLOW_ALL",
                 "CORS_ORIGIN_ALLOW_ALL: '*'", "CORS_ALLOW_CREDENTIALS = True", "allow_credentials=True",
                 id="3.x CORS_ORIGIN_ALLOW_ALL"),
    pytest.param({"CORS_ALLOW_ALL_ORIGINS": "True"}, "CORS_ALLOW_ALL_ORIGINS", "CORS_ALLOW_ALL_ORIGINS: 'True'",
                 "write CORS_ALLOW_ALL_ORIGINS = True", "['True']", id="allow-all as a string"),
    pytest.param({"CORS_ALLOW_CREDENTIALS": "false"}, "CORS_ALLOW_CREDENTIALS", "CORS_ALLOW_CREDENTIALS: 'false'",
                 "write CORS_ALLOW_CREDENTIALS = False", "['false']", id="credentials as a string"),
    pytest.param({"CORS_ALLOWED_ORIGINS": ["file://"]}, "CORS_ALLOWED_ORIGINS", "CORS_ALLOWED_ORIGINS: 'file://'",
                 "'dangerously_allow_null_origin': True in CORSWARE_POLICY", "DNS label", id="file:// origin"),
    pytest.param({"CORSWARE_POLICY": {"allow_origins": ["file://"]}}, "CORSWARE_POLICY",
                 "CORSWARE_POLICY['allow_origins']: 'file://'", "send 'Origin: null'", "DNS label",
                 id="file:// origin in CORSWARE_POLICY"),
    pytest.param({"CORS_ALLOWED_ORIGINS": ["null"]}, "CORS_ALLOWED_ORIGINS", "CORS_ALLOWED_ORIGINS: 'null'",
                 "'dangerously_allow_null_origin': True in CORSWARE_POLICY", "=True", id="null origin"),
    pytest.param({"CORS_ALLOWED_ORIGINS": APP}, "CORS_ALLOWED_ORIGINS", f"CORS_ALLOWED_ORIGINS: {APP!r}",
                 f"write CORS_ALLOWED_ORIGINS = [{APP!r}]", "Is the string", id="bare string"),
    pytest.param({"CORS_PREFLIGHT_MAX_AGE": 100000}, "CORS_PREFLIGHT_MAX_AGE", "CORS_PREFLIGHT_MAX_AGE: 100000",
                 "or 0 to omit the header", "None", id="max-age: 0, not None"),
    pytest.param({"CORSWARE_POLICY": {"allow_origins": ["*"], "allow_origin_regex": [r"^https://\w+\.example\.com$"]}},
                 "CORSWARE_POLICY", "CORSWARE_POLICY['allow_origin_regex']: ", "'allow_origins': ['*'] already allows",
                 "Allow_origins", id="hint keeps the option's spelling"),
    pytest.param({"CORSWARE_POLICY": {"paths": {"/api/*": {"allow_origins": ["https://a.com/"]}}}},
                 "CORSWARE_POLICY", "CORSWARE_POLICY['paths']['/api/*']['allow_origins']: 'https://a.com/'",
                 "write 'https://a.com'", "paths[", id="per-path rule as dict keys"),
]  # fmt: skip


@pytest.mark.parametrize(("settings", "obj", "msg", "hint", "not_in_hint"), MESSAGES)
def test_check_messages_use_the_settings_as_written(
    settings: dict[str, Any], obj: str, msg: str, hint: str, not_in_hint: str
) -> None:
    with override_settings(**settings):
        (message,) = [m for m in check_cors_settings() if m.id == "corsware.E002"]
    assert (message.obj, message.msg[: len(msg)]) == (obj, msg)
    assert hint in message.hint
    assert not_in_hint not in message.hint


# 3.x names: the warning names the current setting, and says when the 3.x one is not read.
LEGACY_HINTS = [
    pytest.param({"CORS_ORIGIN_WHITELIST": [APP]}, "CORS_ORIGIN_WHITELIST is django-cors-headers' old name for "
                 "CORS_ALLOWED_ORIGINS.", "Rename it CORS_ALLOWED_ORIGINS.", id="3.x name read"),
    pytest.param({"CORS_ORIGIN_WHITELIST": [EVIL], "CORS_ALLOWED_ORIGINS": [APP]},
                 "CORS_ORIGIN_WHITELIST has no effect: it is django-cors-headers' old name for CORS_ALLOWED_ORIGINS, "
                 "which is set too", "Remove CORS_ORIGIN_WHITELIST", id="3.x name beside the current one"),
]  # fmt: skip


@pytest.mark.parametrize(("settings", "msg", "hint"), LEGACY_HINTS)
def test_legacy_setting_names_are_warned_about(settings: dict[str, Any], msg: str, hint: str) -> None:
    with override_settings(**settings):
        (message,) = check_cors_settings()
    assert (message.id, message.msg[: len(msg)], message.hint[: len(hint)]) == ("corsware.W001", msg, hint)


MISTYPED = [
    pytest.param("CORS_ALLOWED_ORIGIN", "Did you mean CORS_ALLOWED_ORIGINS?", id="CORS_ALLOWED_ORIGIN"),
    pytest.param("CORS_ALLOW_CREDENTIAL", "Did you mean CORS_ALLOW_CREDENTIALS?", id="CORS_ALLOW_CREDENTIAL"),
    pytest.param("CORS_ORIGIN_WHITELST", "Did you mean CORS_ALLOWED_ORIGINS (called CORS_ORIGIN_WHITELIST",
                 id="3.x name mistyped"),
    pytest.param("CORSWARE_POLCY", "Did you mean CORSWARE_POLICY?", id="CORSWARE_POLCY"),
    pytest.param("CORS_SOMETHING_ELSE", "The settings corsware reads: CORS_ALLOWED_ORIGINS, ", id="no close name"),
    pytest.param("CORS_REPLACE_HTTPS_REFERER", "Remove CORS_REPLACE_HTTPS_REFERER.", id="removed in 4.0"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "hint"), MISTYPED)
def test_mistyped_setting_names_are_reported(name: str, hint: str) -> None:
    with override_settings(**{name: True}):
        (message,) = check_cors_settings()
        err = io.StringIO()
        call_command("check", stderr=err)  # a warning: reported, not fatal
    assert (message.id, message.obj, message.hint[: len(hint)]) == ("corsware.W005", name, hint)
    assert f"{name}: (corsware.W005)" in err.getvalue()


CSRF_POST = {"Origin": APP, "Cookie": "csrftoken=" + "t" * 32, "X-CSRFToken": "t" * 32}


@pytest.mark.parametrize(
    ("trusted", "status", "check_ids"),
    [
        pytest.param([], 403, ["corsware.W006"], id="not trusted: CSRF 403, and the check says so"),
        pytest.param([APP], 200, [], id="trusted exactly"),
        pytest.param(["https://*.example.com"], 200, [], id="trusted by Django's wildcard form"),
    ],
)
def test_credentialed_post_needs_csrf_trusted_origins(trusted: list[str], status: int, check_ids: list[str]) -> None:
    settings = {"MIDDLEWARE": [OURS, CSRF], "CORS_ALLOWED_ORIGINS": [APP], "CORS_ALLOW_CREDENTIALS": True}
    with override_settings(**settings, CSRF_TRUSTED_ORIGINS=trusted):
        resp = wsgi("POST", "/x", CSRF_POST)
        assert [m.id for m in check_cors_settings()] == check_ids
    assert resp.status_code == status
    assert resp.headers["access-control-allow-origin"] == APP  # the browser can read the 403 too


CSRF_HINTS = [
    pytest.param(["https://*.example.com"], [], "CSRF_TRUSTED_ORIGINS = ['https://*.example.com']",
                 id="subdomain pattern: Django's wildcard form"),
    pytest.param([APP, "https://*.example.com"], ["https://other.example.org"],
                 f"CSRF_TRUSTED_ORIGINS = ['https://other.example.org', {APP!r}, 'https://*.example.com']",
                 id="existing entries kept"),
    pytest.param(["http://localhost:*"], [], "list each port you use", id="any port: no CSRF equivalent"),
]  # fmt: skip


@pytest.mark.parametrize(("origins", "trusted", "hint"), CSRF_HINTS)
def test_csrf_trusted_origins_hint(origins: list[str], trusted: list[str], hint: str) -> None:
    settings = {"MIDDLEWARE": [OURS, CSRF], "CORS_ALLOWED_ORIGINS": origins, "CORS_ALLOW_CREDENTIALS": True}
    with override_settings(**settings, CSRF_TRUSTED_ORIGINS=trusted):
        (message,) = check_cors_settings()
    assert (message.id, message.obj) == ("corsware.W006", "CSRF_TRUSTED_ORIGINS")
    assert hint in message.hint


def test_checks_are_registered_with_manage_py_check() -> None:
    with override_settings(CORSWARE_POLICY={"allow_orgins": [APP]}), pytest.raises(SystemCheckError, match="E001"):
        call_command("check")


def test_invalid_settings_refuse_to_start() -> None:
    with override_settings(CORS_ALLOWED_ORIGINS=["https://a.com/"]), pytest.raises(ImproperlyConfigured, match="E002"):
        WSGIHandler()  # loads the middleware, as a server does at start-up


# -- settings and their defaults -------------------------------------------------------------


@SEND
def test_django_cors_headers_settings_and_defaults(send: Any) -> None:
    django_project.CALLS.clear()
    with override_settings(CORS_ALLOWED_ORIGINS=[APP], CORS_EXPOSE_HEADERS=["X-Request-Id"]):
        pre = send("OPTIONS", "/x", {**PREFLIGHT, "Access-Control-Request-Headers": "x-csrftoken,authorization"})
        get = send("GET", "/x", {"Origin": APP})
    assert pre.status_code == 204
    assert pre.headers["access-control-max-age"] == "86400"  # django-cors-headers' default
    assert pre.headers["access-control-allow-methods"] == "DELETE, GET, OPTIONS, PATCH, POST, PUT"
    assert "x-csrftoken" in pre.headers["access-control-allow-headers"]
    assert get.headers["access-control-allow-origin"] == APP
    assert get.headers["access-control-expose-headers"] == "X-Request-Id"
    assert django_project.CALLS == ["/x"]


def test_settings_extend_the_defaults_module() -> None:
    # django-cors-headers' README: CORS_ALLOW_HEADERS = (*default_headers, "my-custom-header");
    # moving over changes only the import line.
    from corsware.django.defaults import default_headers, default_methods

    assert (default_headers, default_methods) == (DEFAULT_HEADERS, DEFAULT_METHODS)
    headers = {
        **PREFLIGHT,
        "Access-Control-Request-Method": "PURGE",
        "Access-Control-Request-Headers": "my-custom-header",
    }
    with override_settings(
        CORS_ALLOWED_ORIGINS=[APP],
        CORS_ALLOW_HEADERS=(*default_headers, "my-custom-header"),
        CORS_ALLOW_METHODS=(*default_methods, "PURGE"),
    ):
        pre = wsgi("OPTIONS", "/x", headers)
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-headers"].endswith("x-requested-with, my-custom-header")


@SEND
@pytest.mark.parametrize(
    "unrelated",
    [pytest.param({}, id="no CORS setting at all"), pytest.param({"CORS_EXPOSE_HEADERS": []}, id="an unrelated one")],
)
def test_defaults_do_not_depend_on_other_settings(
    send: Any, unrelated: dict[str, Any], partner_hook: list[str]
) -> None:
    # Origins allowed only through check_request_enabled still get django-cors-headers'
    # defaults, whether or not some other CORS_* setting exists.
    headers = {
        "Origin": EVIL,
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization",
    }
    with override_settings(**unrelated):
        pre = send("OPTIONS", "/partner/x", headers)
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-methods"] == ", ".join(DEFAULT_METHODS)
    assert set(DEFAULT_HEADERS) <= set(pre.headers["access-control-allow-headers"].split(", "))
    assert pre.headers["access-control-max-age"] == "86400"


def test_django_cors_headers_constants() -> None:
    from django.test import Client

    from corsware.django import middleware

    expected = {
        "ACCESS_CONTROL_ALLOW_ORIGIN": "access-control-allow-origin",
        "ACCESS_CONTROL_EXPOSE_HEADERS": "access-control-expose-headers",
        "ACCESS_CONTROL_ALLOW_CREDENTIALS": "access-control-allow-credentials",
        "ACCESS_CONTROL_ALLOW_HEADERS": "access-control-allow-headers",
        "ACCESS_CONTROL_ALLOW_METHODS": "access-control-allow-methods",
        "ACCESS_CONTROL_MAX_AGE": "access-control-max-age",
        "ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK": "access-control-request-private-network",
        "ACCESS_CONTROL_ALLOW_PRIVATE_NETWORK": "access-control-allow-private-network",
    }
    assert {name: getattr(middleware, name, None) for name in expected} == expected
    with override_settings(CORS_ALLOWED_ORIGINS=[APP], CORS_ALLOW_CREDENTIALS=True):
        response = Client().get("/x", headers={"Origin": APP})  # as django-cors-headers users' tests read them
    assert response[middleware.ACCESS_CONTROL_ALLOW_ORIGIN] == APP
    assert response[middleware.ACCESS_CONTROL_ALLOW_CREDENTIALS] == "true"


# (settings, attribute of conf, value): django-cors-headers' corsheaders.conf.conf semantics.
CONF = [
    pytest.param({}, "CORS_ALLOW_HEADERS", DEFAULT_HEADERS, id="default headers"),
    pytest.param({}, "CORS_ALLOW_METHODS", DEFAULT_METHODS, id="default methods"),
    pytest.param({}, "CORS_PREFLIGHT_MAX_AGE", 86400, id="default max-age"),
    pytest.param({}, "CORS_URLS_REGEX", r"^.*$", id="default urls regex"),
    pytest.param({}, "CORS_ALLOWED_ORIGINS", (), id="default origins"),
    pytest.param({"CORS_ALLOWED_ORIGINS": [APP]}, "CORS_ALLOWED_ORIGINS", [APP], id="set"),
    pytest.param({"CORS_ORIGIN_WHITELIST": [APP]}, "CORS_ALLOWED_ORIGINS", [APP], id="3.x name"),
    pytest.param({"CORS_ORIGIN_WHITELIST": [EVIL], "CORS_ALLOWED_ORIGINS": [APP]}, "CORS_ALLOWED_ORIGINS", [APP],
                 id="new name wins"),
    pytest.param({"CORS_ORIGIN_ALLOW_ALL": True}, "CORS_ALLOW_ALL_ORIGINS", True, id="3.x allow-all"),
    pytest.param({"CORS_ALLOW_CREDENTIALS": True}, "CORS_ALLOW_CREDENTIALS", True, id="credentials"),
    pytest.param({"CORS_EXPOSE_HEADERS": ["X-Id"]}, "CORS_EXPOSE_HEADERS", ["X-Id"], id="expose"),
]  # fmt: skip


@pytest.mark.parametrize(("settings", "name", "value"), CONF)
def test_conf_reads_the_settings_like_corsheaders_conf(settings: dict[str, Any], name: str, value: Any) -> None:
    from corsware.django.conf import conf

    with override_settings(**settings):
        assert getattr(conf, name) == value


# Settings django-cors-headers 4.x reads (3.x names, origin lists beside allow-all): the
# same Access-Control-Allow-Origin as its middleware, for each origin.
PEER_SETTINGS = [
    pytest.param({"CORS_ALLOW_ALL_ORIGINS": True, "CORS_ALLOWED_ORIGIN_REGEXES": [r"^https://\w+\.example\.com$"]},
                 id="allow-all beside regexes"),
    pytest.param({"CORS_ALLOW_ALL_ORIGINS": True, "CORS_ALLOWED_ORIGINS": [APP]}, id="allow-all beside origins"),
    pytest.param({"CORS_ORIGIN_ALLOW_ALL": True, "CORS_ORIGIN_REGEX_WHITELIST": [r"^https://\w+\.example\.com$"]},
                 id="3.x allow-all beside 3.x regexes"),
    pytest.param({"CORS_ORIGIN_WHITELIST": [APP]}, id="3.x CORS_ORIGIN_WHITELIST"),
    pytest.param({"CORS_ORIGIN_REGEX_WHITELIST": [r"^https://\w+\.example\.com$"]}, id="3.x CORS_ORIGIN_REGEX_WHITELIST"),
    pytest.param({"CORS_ORIGIN_ALLOW_ALL": True}, id="3.x CORS_ORIGIN_ALLOW_ALL"),
    pytest.param({"CORS_ORIGIN_WHITELIST": [EVIL], "CORS_ALLOWED_ORIGINS": [APP]}, id="both names: the 4.x one read"),
    pytest.param({"CORS_ORIGIN_ALLOW_ALL": True, "CORS_ALLOW_ALL_ORIGINS": False, "CORS_ALLOWED_ORIGINS": [APP]},
                 id="both allow-all names: the 4.x one read"),
]  # fmt: skip


@pytest.mark.parametrize("settings", PEER_SETTINGS)
def test_settings_django_cors_headers_accepts_behave_as_there(settings: dict[str, Any]) -> None:
    from corsheaders.middleware import CorsMiddleware as Theirs
    from django.test import RequestFactory

    theirs = Theirs(lambda request: HttpResponse("x"))
    with override_settings(**settings):
        for origin in (APP, EVIL, "https://x.example.com"):
            want = theirs(RequestFactory().get("/x", HTTP_ORIGIN=origin)).get("access-control-allow-origin")
            assert wsgi("GET", "/x", {"Origin": origin}).headers.get("access-control-allow-origin") == want, origin


def test_settings_warnings_are_logged_when_the_middleware_starts(caplog: pytest.LogCaptureFixture) -> None:
    # Servers do not run the system checks: the middleware logs what they would warn about.
    settings = {"CORS_ORIGIN_ALLOW_ALL": True, "CORS_ORIGIN_REGEX_WHITELIST": [r"^https://\w+\.example\.com$"]}
    with caplog.at_level("WARNING", logger="corsware"), override_settings(**settings):
        assert wsgi("GET", "/x", {"Origin": EVIL}).headers["access-control-allow-origin"] == "*"
    logged = [r.getMessage() for r in caplog.records if r.name == "corsware"]
    assert any(m.startswith("corsware.W007 CORS_ORIGIN_REGEX_WHITELIST has no effect") for m in logged), logged
    assert any("Rename it CORS_ALLOW_ALL_ORIGINS" in m for m in logged), logged


def test_max_age_zero_omits_the_header() -> None:
    with override_settings(CORS_ALLOWED_ORIGINS=[APP], CORS_PREFLIGHT_MAX_AGE=0):
        assert "access-control-max-age" not in wsgi("OPTIONS", "/x", PREFLIGHT).headers


def test_allow_all_origins_is_a_static_star() -> None:
    with override_settings(CORS_ALLOW_ALL_ORIGINS=True):
        assert wsgi("GET", "/x", {"Origin": EVIL}).headers["access-control-allow-origin"] == "*"


def test_override_settings_rebuilds_the_policy() -> None:
    with override_settings(CORSWARE_POLICY={"allow_origins": [APP]}):
        assert wsgi("GET", "/x", {"Origin": APP}).headers["access-control-allow-origin"] == APP
        with override_settings(CORSWARE_POLICY={"allow_origins": ["https://other.example.com"]}):
            assert "access-control-allow-origin" not in wsgi("GET", "/x", {"Origin": APP}).headers
        assert wsgi("GET", "/x", {"Origin": APP}).headers["access-control-allow-origin"] == APP


def test_callback_by_dotted_path() -> None:
    policy = {"allow_origin_callback": "tests.integrations.test_django.tenant_origin"}
    with override_settings(CORSWARE_POLICY=policy):
        assert wsgi("GET", "/x", {"Origin": "https://acme.tenant.test"}).headers["access-control-allow-origin"]


def tenant_origin(origin: str) -> bool:
    return origin.endswith(".tenant.test")


@SEND
def test_urls_regex(send: Any) -> None:
    django_project.CALLS.clear()
    with override_settings(CORS_ALLOWED_ORIGINS=[APP], CORS_URLS_REGEX=r"^/api/.*$"):
        assert send("GET", "/api/x", {"Origin": APP}).headers["access-control-allow-origin"] == APP
        outside = send("GET", "/apiary", {"Origin": APP})
        assert "access-control-allow-origin" not in outside.headers
        assert "vary" not in outside.headers
        preflight_outside = send("OPTIONS", "/other", PREFLIGHT)  # reaches the view, untouched
    assert preflight_outside.status_code == 200
    assert django_project.CALLS == ["/api/x", "/apiary", "/other"]


def test_urls_regex_matches_the_whole_path() -> None:
    # django-cors-headers used re.match: r"/api/x" also covered "/api/xyz" and "/api/x/secret".
    with override_settings(CORS_ALLOWED_ORIGINS=[APP], CORS_URLS_REGEX=r"/api/x"):
        assert wsgi("GET", "/api/x", {"Origin": APP}).headers["access-control-allow-origin"] == APP
        assert "access-control-allow-origin" not in wsgi("GET", "/api/x/secret", {"Origin": APP}).headers


# -- async -----------------------------------------------------------------------------------


def test_middleware_is_sync_and_async_capable() -> None:
    async def async_get_response(request: Any) -> HttpResponse:
        return HttpResponse()

    with override_settings(CORSWARE_POLICY={"allow_origins": [APP]}):
        assert iscoroutinefunction(CorsMiddleware(async_get_response))
        assert not iscoroutinefunction(CorsMiddleware(lambda request: HttpResponse()))
    assert CorsMiddleware.sync_capable
    assert CorsMiddleware.async_capable


def test_async_view_under_asgi() -> None:
    django_project.CALLS.clear()
    with override_settings(CORSWARE_POLICY={"allow_origins": [APP], "allow_methods": ["PUT"]}):
        resp = asgi("GET", "/async", {"Origin": APP})
        pre = asgi("OPTIONS", "/async", PREFLIGHT)
    assert (resp.status_code, resp.text, resp.headers["access-control-allow-origin"]) == (200, "async ok", APP)
    assert pre.status_code == 204
    assert django_project.CALLS == ["/async"]


async def async_tenant_origin(origin: str) -> bool:
    await asyncio.sleep(0)
    return origin.endswith(".tenant.test")


def test_async_callback_under_asgi() -> None:
    with override_settings(CORSWARE_POLICY={"allow_origin_callback": async_tenant_origin}):
        resp = asgi("GET", "/async", {"Origin": "https://acme.tenant.test"})
    assert resp.headers["access-control-allow-origin"] == "https://acme.tenant.test"


# -- the dynamic hook ------------------------------------------------------------------------


@pytest.fixture
def partner_hook() -> Iterator[list[str]]:
    seen: list[str] = []

    def allow_partner_api(sender: Any, request: Any, **kwargs: Any) -> bool:
        seen.append(request.path_info)
        return bool(request.path_info.startswith("/partner/"))

    check_request_enabled.connect(allow_partner_api)
    try:
        yield seen
    finally:
        check_request_enabled.disconnect(allow_partner_api)


@SEND
def test_check_request_enabled(send: Any, partner_hook: list[str]) -> None:
    with override_settings(CORS_ALLOWED_ORIGINS=[APP], CORS_ALLOW_METHODS=["PUT"]):
        assert send("GET", "/partner/x", {"Origin": EVIL}).headers["access-control-allow-origin"] == EVIL
        assert "access-control-allow-origin" not in send("GET", "/other", {"Origin": EVIL}).headers
        pre = send("OPTIONS", "/partner/x", {"Origin": EVIL, "Access-Control-Request-Method": "PUT"})
        assert (pre.status_code, pre.headers["access-control-allow-methods"]) == (204, "PUT")
        assert send("GET", "/other", {"Origin": APP}).headers["access-control-allow-origin"] == APP
    # The hook is asked only about origins the settings do not allow.
    assert partner_hook == ["/partner/x", "/other", "/partner/x"]


def test_hook_connected_after_first_request_is_used() -> None:
    with override_settings(CORS_ALLOWED_ORIGINS=[APP]):
        assert "access-control-allow-origin" not in wsgi("GET", "/partner/x", {"Origin": EVIL}).headers

        def allow_all(sender: Any, request: Any, **kwargs: Any) -> bool:
            return True

        check_request_enabled.connect(allow_all)
        try:
            assert wsgi("GET", "/partner/x", {"Origin": EVIL}).headers["access-control-allow-origin"] == EVIL
        finally:
            check_request_enabled.disconnect(allow_all)
        assert "access-control-allow-origin" not in wsgi("GET", "/partner/x", {"Origin": EVIL}).headers


def test_view_set_cors_headers_are_replaced() -> None:
    with override_settings(CORSWARE_POLICY={"allow_origins": [APP]}):
        resp = wsgi("GET", "/app-cors", {"Origin": EVIL})
    assert "access-control-allow-origin" not in resp.headers
    assert re.fullmatch(r"origin", resp.headers["vary"], re.I)


def test_policy_object_setting_with_the_hook(partner_hook: list[str]) -> None:
    from corsware import CORSPolicy

    with override_settings(CORSWARE_POLICY=CORSPolicy(allow_origins=[APP])):
        assert wsgi("GET", "/partner/x", {"Origin": EVIL}).headers["access-control-allow-origin"] == EVIL
        assert wsgi("GET", "/x", {"Origin": APP}).headers["access-control-allow-origin"] == APP


def test_public_names() -> None:
    import corsware.django
    import corsware.django.signals

    assert corsware.django.__all__ == ["CorsMiddleware"]
    assert corsware.django.signals.__all__ == ["check_request_enabled"]
