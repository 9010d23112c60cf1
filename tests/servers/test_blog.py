"""The scenario of the usual Flask CORS blog post: a Flask "client" app serving a page on
one port, whose script calls a Flask "API" app on another port. The API's code is the
post's, untouched; corsware is mounted around it by gunicorn's command line, with the
policy in CORSWARE_* variables. Requests are sent with the headers a browser sends."""

from __future__ import annotations

import httpx
import pytest

from ..support.server_kinds import REPO, gunicorn_cmd
from ..support.servers import free_port, running

pytestmark = pytest.mark.server

#: What Chrome sends with a cross-origin fetch() besides Origin (Fetch §"HTTP-network-or-cache fetch").
BROWSER = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    "Accept": "*/*",
    "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8",
    "Accept-Encoding": "gzip, deflate",
    "Sec-Fetch-Mode": "cors",
    "Sec-Fetch-Dest": "empty",
}


def test_the_client_origin_may_call_the_api_and_no_other() -> None:
    client_port, api_port = free_port(), free_port()
    client_origin = f"http://127.0.0.1:{client_port}"
    api = f"http://127.0.0.1:{api_port}"
    policy = {
        "CORSWARE_ALLOW_ORIGINS": client_origin,
        "CORSWARE_ALLOW_METHODS": "GET, POST",
        "CORSWARE_ALLOW_HEADERS": "Content-Type",
        "CORSWARE_ALLOW_CREDENTIALS": "true",
    }
    client_cmd = gunicorn_cmd(client_port, "tests.support.blog_app:client_app")
    api_cmd = gunicorn_cmd(api_port, 'corsware.wsgi:wrap("tests.support.blog_app:api_app")')
    with (
        running(client_cmd, client_port, env={"SERVERS_API_URL": api}, cwd=str(REPO)),
        running(api_cmd, api_port, env=policy, cwd=str(REPO)),
        httpx.Client(timeout=10) as browser,
    ):
        # The page comes from the client's origin; its script targets the API's.
        page = browser.get(client_origin + "/", headers=BROWSER)
        assert page.status_code == 200
        assert f"fetch('{api}/api/login'" in page.text

        from_page = {**BROWSER, "Origin": client_origin, "Referer": client_origin + "/", "Sec-Fetch-Site": "same-site"}
        # A JSON POST is not a CORS-safelisted request: the browser preflights it first.
        pre = browser.options(
            api + "/api/login",
            headers={
                **from_page,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert pre.status_code == 204
        assert pre.headers["access-control-allow-origin"] == client_origin
        assert pre.headers["access-control-allow-credentials"] == "true"
        assert "POST" in pre.headers["access-control-allow-methods"].split(", ")
        assert "content-type" in pre.headers["access-control-allow-headers"].split(", ")

        login = browser.post(api + "/api/login", json={"user": "ming"}, headers=from_page)
        assert login.status_code == 200
        assert login.json() == {"ok": True, "user": "ming"}
        assert login.headers["access-control-allow-origin"] == client_origin
        assert login.headers["access-control-allow-credentials"] == "true"
        assert "session=s3cret" in login.headers["set-cookie"]

        # The follow-up GET carries the session cookie (credentials: 'include').
        hello = browser.get(api + "/api/", headers=from_page)
        assert hello.text == "api"
        assert hello.request.headers["cookie"] == "session=s3cret"
        assert hello.headers["access-control-allow-origin"] == client_origin
        assert hello.headers["vary"] == "Origin"

        # Any other origin: same host on another port, localhost instead of 127.0.0.1, a site.
        for other in (f"http://127.0.0.1:{free_port()}", f"http://localhost:{client_port}", "https://evil.example.net"):
            elsewhere = {**BROWSER, "Origin": other, "Referer": other + "/", "Sec-Fetch-Site": "cross-site"}
            refused = browser.options(
                api + "/api/login",
                headers={
                    **elsewhere,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "content-type",
                },
            )
            assert refused.status_code == 403, other
            assert not any(k.lower().startswith("access-control-") for k in refused.headers), other
            # A simple GET still runs (CORS does not stop requests), but without
            # Access-Control-Allow-Origin the browser keeps the response from the script.
            read = browser.get(api + "/api/", headers=elsewhere)
            assert read.text == "api"
            assert "access-control-allow-origin" not in read.headers, other
            assert read.headers["vary"] == "Origin"

        # Opening the API directly (no Origin) is not CORS: untouched but for Vary.
        direct = httpx.get(api + "/")
        assert direct.text == "this is server"
        assert direct.headers["vary"] == "Origin"
        assert "access-control-allow-origin" not in direct.headers
