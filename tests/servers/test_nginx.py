"""nginx in front of corsware, configured as in the blog posts (tests/support/server_kinds.py has
the generated nginx.conf): what the proxy changes on the way to the app."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ..support.cases import APP, EVIL, MAIN, PATHS
from ..support.server_kinds import nginx_gunicorn, nginx_uwsgi

pytestmark = pytest.mark.server


def _get(url: str, path: str, headers: list[tuple[str, str]]) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=10, limits=httpx.Limits(max_keepalive_connections=0)) as client:
        return client.get(path, headers=headers)


def test_path_rules_see_the_path_the_app_sees(tmp_path: Path) -> None:
    """``location /proxy/ { proxy_pass http://upstream/; }`` strips the prefix: corsware's
    per-path rules match the upstream path, the one the app routes on."""
    with nginx_gunicorn(tmp_path, PATHS, 0) as server:
        public = _get(server.url, "/proxy/public/x", [("Origin", EVIL)])
        private = _get(server.url, "/proxy/private", [("Origin", EVIL)])
        allowed = _get(server.url, "/proxy/private", [("Origin", APP)])
        calls = server.calls.read_text().splitlines()
    assert public.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-origin" not in private.headers
    assert allowed.headers["access-control-allow-origin"] == APP
    assert calls == ["/public/x", "/private", "/private"]


def test_uwsgi_pass_keeps_only_the_last_repeated_header(tmp_path: Path) -> None:
    """nginx sends each request header as its own uwsgi variable and uWSGI keeps the last,
    so the app never sees two Origin headers. Browsers send exactly one Origin, so CORS is
    unaffected; over proxy_pass (and directly) servers join them and corsware refuses."""
    with nginx_uwsgi(tmp_path, MAIN, 0) as server:
        last_allowed = _get(server.url, "/", [("Origin", EVIL), ("Origin", APP)])
        last_refused = _get(server.url, "/", [("Origin", APP), ("Origin", EVIL)])
    assert last_allowed.headers["access-control-allow-origin"] == APP
    assert "access-control-allow-origin" not in last_refused.headers
    assert last_refused.headers["vary"] == "Origin"
