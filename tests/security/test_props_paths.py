"""Property: the per-path rule corsware applies is never looser than the rule of the route
a real router dispatches the path to (Starlette, Werkzeug, Django), whatever the path:
dot segments, repeated slashes, decoded ``%2F``, non-ASCII, an ASGI ``root_path`` prefix.

"Never looser" is checked for each origin of the policy: when corsware allows an origin on
a path, the rule of the route that serves the path allows it too.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corsware import CORSPolicy
from corsware._paths import asgi_route_path, wsgi_route_path

from ..support.paths_app import POLICY, ROUTE_ORIGIN

ORIGINS = sorted(set(ROUTE_ORIGIN.values()))
SEGMENTS = ["api", "admin", "users", "account", "partner", "données", "x", "..", ".", "", "%2e%2e", "+"]

paths = st.builds(
    lambda lead, segs: lead + "/".join(segs),
    st.sampled_from(["/", "//", "///"]),
    st.lists(st.sampled_from(SEGMENTS), max_size=7),
)
root_paths = st.sampled_from(["", "/v1", "/v1/api", "/prefix"])

_policy = CORSPolicy(**POLICY)


def _allowed_origins(route_path: str) -> set[str]:
    allowed = set()
    for origin in ORIGINS:
        decision = _policy.evaluate("GET", route_path, {"Origin": origin})
        if decision.allowed:
            allowed.add(origin)
    return allowed


def _check(route: str | None, route_path: str, router: str) -> None:
    allowed = _allowed_origins(route_path)
    if route is None:  # not found or a redirect: no view's content is read
        return
    assert allowed <= {ROUTE_ORIGIN[route]}, (
        f"{router} serves {route_path!r} with {route!r}, whose rule allows only {ROUTE_ORIGIN[route]}; "
        f"corsware allowed {sorted(allowed)}"
    )


@pytest.fixture(scope="module")
def starlette_routes() -> list[Any]:
    from ..support.paths_app import starlette_app

    return list(starlette_app().routes)


def _starlette_route(routes: list[Any], scope: dict[str, Any]) -> str | None:
    from starlette.routing import Match

    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return _name(route.path)
    return None


def _name(route_path: str) -> str:
    for name, prefix in {"admin": "/api/admin/", "account": "/account/", "partner": "/partner/",
                         "donnees": "/données/"}.items():  # fmt: skip
        if route_path.startswith(prefix):
            return name
    return "other"


@settings(max_examples=300, deadline=None)
@given(path=paths, root_path=root_paths)
def test_starlette_router_never_gets_a_looser_rule(starlette_routes: list[Any], path: str, root_path: str) -> None:
    full = root_path + path if root_path else path
    scope = {"type": "http", "method": "GET", "path": full, "root_path": root_path, "headers": []}
    _check(_starlette_route(starlette_routes, scope), asgi_route_path(scope), "Starlette")


@pytest.fixture(scope="module")
def werkzeug_adapter() -> Any:
    from ..support.paths_app import flask_app

    return flask_app().url_map.bind("api.example.com")


@settings(max_examples=300, deadline=None)
@given(path=paths)
def test_werkzeug_router_never_gets_a_looser_rule(werkzeug_adapter: Any, path: str) -> None:
    from werkzeug.exceptions import HTTPException
    from werkzeug.routing import RequestRedirect

    path_info = path.encode("utf-8").decode("latin-1")  # what a WSGI server hands over
    try:
        endpoint, _ = werkzeug_adapter.match(wsgi_route_path(path_info), method="GET")
        route: str | None = endpoint
    except (RequestRedirect, HTTPException):
        route = None
    _check(route, wsgi_route_path(path_info), "Werkzeug")


@pytest.fixture(scope="module")
def django_resolver() -> Any:
    from django.urls import get_resolver

    from ..support import django_project

    django_project.setup()
    return get_resolver("tests.support.paths_app")


@settings(max_examples=300, deadline=None)
@given(path=paths)
def test_django_router_never_gets_a_looser_rule(django_resolver: Any, path: str) -> None:
    from django.urls import Resolver404

    try:
        match = django_resolver.resolve(path)
        route: str | None = match.func(None).content.decode()
    except Resolver404:
        route = None
    _check(route, path, "Django")
