"""Starlette/FastAPI: where corsware sits relative to ServerErrorMiddleware, and what a
custom 500 handler becomes in each position."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from corsware.asgi import CORSMiddleware

from ..support.fastapi_app import make_app

APP = "https://app.example.com"


async def fetch(app: Any, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://api.test") as client:
        return await client.get(path, headers={"Origin": APP})


async def custom_500(request: Request, exc: Exception) -> PlainTextResponse:
    return PlainTextResponse("custom 500 page", status_code=500)


async def boom(request: Request) -> PlainTextResponse:
    raise RuntimeError("boom")


def starlette(add_middleware: bool) -> Any:
    middleware = [Middleware(CORSMiddleware, allow_origins=[APP])] if add_middleware else None
    return Starlette(routes=[Route("/boom", boom)], middleware=middleware, exception_handlers={500: custom_500})


def fastapi(add_middleware: bool) -> Any:
    app = make_app({"allow_origins": [APP]}, middleware=add_middleware)
    app.add_exception_handler(500, custom_500)
    return app


@pytest.mark.parametrize("factory", [starlette, fastapi])
def test_add_middleware_inside_server_error_middleware(factory: Any) -> None:
    # add_middleware puts corsware inside ServerErrorMiddleware: corsware answers the 500
    # itself, with CORS headers, so the custom 500 handler is not used.
    resp = asyncio.run(fetch(factory(True), "/raise" if factory is fastapi else "/boom"))
    assert resp.status_code == 500
    assert resp.headers["access-control-allow-origin"] == APP
    assert resp.text == "Internal Server Error"


@pytest.mark.parametrize("factory", [starlette, fastapi])
def test_wrapping_the_outermost_app_keeps_the_custom_500(factory: Any) -> None:
    app = CORSMiddleware(factory(False), allow_origins=[APP])
    resp = asyncio.run(fetch(app, "/raise" if factory is fastapi else "/boom"))
    assert resp.status_code == 500
    assert resp.headers["access-control-allow-origin"] == APP
    assert resp.text == "custom 500 page"


def test_fastapi_add_middleware_with_starlette_keywords() -> None:
    app = make_app({"allow_origins": [APP], "allow_methods": ["GET", "PUT"], "allow_headers": ["X-Token"],
                    "allow_credentials": True, "expose_headers": ["X-Request-Id"], "max_age": 60})  # fmt: skip

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://api.test") as client:
            headers = {
                "Origin": APP,
                "Access-Control-Request-Method": "PUT",
                "Access-Control-Request-Headers": "x-token",
            }
            return await client.options("/items", headers=headers)

    resp = asyncio.run(go())
    assert resp.status_code == 204
    assert resp.headers["access-control-allow-credentials"] == "true"
    assert resp.headers["access-control-max-age"] == "60"
    assert app.state.calls == []


# A bad add_middleware policy fails when Starlette builds its stack: at the lifespan
# start-up (which uvicorn's default lifespan="auto" reduces to an INFO line) and again at
# every request. Each attempt must log the whole problem list at ERROR.
BAD_POLICIES = [
    pytest.param({"allow_origins": ["https://app.example.com/", "null"]},
                 ["[origin_trailing_slash]", "[null_origin]"], id="two-problems"),
    pytest.param({"allow_origins": ["*"], "allow_credentials": True},
                 ["[wildcard_origin_with_credentials]"], id="wildcard-with-credentials"),
    pytest.param({"allow_origin": [APP]}, ["allow_origin"], id="misspelled-keyword"),
]  # fmt: skip


@pytest.mark.parametrize(("options", "fragments"), BAD_POLICIES)
def test_lazy_build_failure_is_logged_at_error_on_every_attempt(
    options: dict[str, Any], fragments: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    app = Starlette(routes=[Route("/boom", boom)])
    app.add_middleware(CORSMiddleware, **options)
    with caplog.at_level("ERROR", logger="corsware"):
        for _ in range(2):
            with pytest.raises((ValueError, TypeError)):
                asyncio.run(fetch_raising(app, "/boom"))
    records = [r for r in caplog.records if r.name == "corsware"]
    assert [r.levelname for r in records] == ["ERROR", "ERROR"]
    for record in records:
        text = record.getMessage()
        assert text.startswith("corsware.asgi.CORSMiddleware could not be built"), text
        assert "policy = corsware.CORSPolicy(...)" in text
        for fragment in fragments:
            assert fragment in text


async def fetch_raising(app: Any, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://api.test") as client:
        return await client.get(path, headers={"Origin": APP})
