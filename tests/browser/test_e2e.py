"""End-to-end: real cross-origin ``fetch()`` calls in Chromium and Firefox against corsware behind real servers.

One Chromium (playwright, ``/usr/bin/chromium``, never a downloaded browser) and one Firefox
(Debian's ``firefox-esr`` over Marionette, ``tests/support/firefox.py``) per run. For each engine,
each server kind (uvicorn + corsware wrapping Starlette, uvicorn + Starlette's
``add_middleware``, gunicorn + Flask) and each policy in ``browser_scenarios.configs`` one
API server is started on loopback; every scenario of that policy runs as parallel fetches
from the pages that need them, the server's request log is read, and the server is stopped.
Each test then checks one scenario in one engine: what the page observed, what the engine's
console said, and what the server saw. See docs/browser-tests.md.
"""

from __future__ import annotations

import contextlib
import json
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from ..support import firefox as firefox_driver
from ..support.browser_app import POLICY_ENV
from ..support.browser_scenarios import APIS, COOKIE, PAGES, SCENARIOS, Scenario, configs
from ..support.ci import need_executable
from ..support.servers import PYTHON, free_port, running, serving

pytestmark = [pytest.mark.browser, pytest.mark.server]

ROOT = Path(__file__).resolve().parents[2]
PROBE_JS = (ROOT / "tests" / "support" / "browser_probe.js").read_bytes()

# Headless, no first-run/background traffic, no QUIC; *.test resolves to loopback and every
# other name fails to resolve, so nothing leaves the machine. CorsNonWildcardRequestHeadersSupport
# makes Chromium follow the Fetch standard: `Access-Control-Allow-Headers: *` does not cover
# Authorization (stock Chromium still lets it; Firefox and the standard do not).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP *.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE localhost",
    "--enable-features=CorsNonWildcardRequestHeadersSupport",
]


def _gunicorn_options() -> list[str]:
    # gunicorn >= 25 opens a control socket (~/.gunicorn/gunicorn.ctl here) by default, shared by every
    # gunicorn on the machine (and parallel test runs); ours needs none.
    major, minor = (int(part) for part in metadata.version("gunicorn").split(".")[:2])
    return ["--no-control-socket"] if (major, minor) >= (25, 0) else []


def _server_command(kind: str, port: int) -> list[str]:
    if kind == "gunicorn":
        return [PYTHON, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                "--worker-class", "gthread", "--threads", "8", "--graceful-timeout", "2",
                "--log-level", "warning", *_gunicorn_options(),
                "tests.support.browser_app:wsgi_app()"]  # fmt: skip
    factory = {"uvicorn-wrapped": "asgi_wrapped", "uvicorn-add_middleware": "asgi_add_middleware"}[kind]
    return [PYTHON, "-m", "uvicorn", "--factory", f"tests.support.browser_app:{factory}", "--host", "127.0.0.1",
            "--port", str(port), "--log-level", "warning", "--no-access-log"]  # fmt: skip


SERVER_KINDS = ("uvicorn-wrapped", "uvicorn-add_middleware", "gunicorn")


# -- the page origin: a tiny in-process server answering for every *.test host ----------------

_PAGE = b"<!doctype html><meta charset=utf-8><title>corsware browser tests</title><body><script src=/probe.js></script>"


class _PageHandler(BaseHTTPRequestHandler):
    """Serves the page, its script and ``/raw-star``: a hand-written (not corsware) endpoint
    whose preflight answer is ``Access-Control-Allow-Headers: *``, to check the browser itself."""

    def _raw_star_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", self.headers.get("Origin", ""))
        self.send_header("Access-Control-Allow-Headers", "*")
        self.send_header("Content-Length", "0")

    def do_OPTIONS(self) -> None:
        self.send_response(204)
        self._raw_star_headers()
        self.end_headers()

    def do_GET(self) -> None:
        if self.path.startswith("/raw-star"):
            self.send_response(200)
            self._raw_star_headers()
            self.end_headers()
            return
        if self.path == "/probe.js":
            body, kind = PROBE_JS, "text/javascript"
        else:
            body, kind = _PAGE, "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def page_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
    server.daemon_threads = True
    with serving(server):
        yield server.server_address[1]


ENGINES = ("chromium", "firefox")

#: Every host name the suite's pages and APIs use (Firefox resolves them to 127.0.0.1).
LOCAL_HOSTS = sorted({urlsplit(url.format(page=0, api=0)).hostname or "" for url in [*PAGES.values(), *APIS.values()]})


class ChromiumGroup:
    """One policy group in Chromium: a fresh browser context (cookie jar, preflight cache)."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context()
        self.context.add_cookies(
            [{"name": COOKIE.split("=")[0], "value": COOKIE.split("=")[1], "url": "http://localhost/"}]
        )

    def run(self, page_url: str, specs: list[dict[str, Any]]) -> dict[str, Any]:
        page = self.context.new_page()
        try:
            console: list[str] = []
            page.on("console", lambda message, into=console: into.append(message.text))
            page.goto(page_url)
            results: dict[str, Any] = page.evaluate("specs => corswareRun(specs)", specs)
            _collect_cors_errors(page, results, console)
        finally:
            page.close()
        return results

    def close(self) -> None:
        self.context.close()


class FirefoxGroup:
    """One policy group in Firefox: the one session, its console emptied first.

    Each group talks to a new API port, so nothing the preflight cache holds from an earlier
    group applies; the cookie is set as Chromium's is (host ``localhost``, every port).
    """

    def __init__(self, browser: firefox_driver.Firefox, page_port: int) -> None:
        self.browser = browser
        browser.clear_console()
        browser.client.navigate(PAGES["local"].format(page=page_port) + "/")
        browser.client.execute_script(f"document.cookie = {json.dumps(COOKIE + '; path=/; SameSite=Lax')};")

    def run(self, page_url: str, specs: list[dict[str, Any]]) -> dict[str, Any]:
        results = self.browser.run_specs(page_url, specs)
        rejected = {sid for sid, result in results.items() if result["outcome"] == "rejected"}
        blocked = self.browser.blocked(results, rejected)
        for sid, result in results.items():
            result["blocked"] = blocked.get(sid, [])
        return results

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def browsers(page_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Starts each engine the first time a test asks for it; one of each per run.

    Module-scoped on purpose: playwright's sync API keeps an event loop running in this
    thread while it is open, which would break every later test that calls
    ``asyncio.run()``; all browser tests live in this module.
    """
    started: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:

        def get(engine: str) -> Any:
            if engine not in started:
                started[engine] = _launch(engine, stack, page_port, tmp_path_factory.mktemp(engine))
            return started[engine]

        yield get


def _launch(engine: str, stack: contextlib.ExitStack, page_port: int, tmp: Path) -> Any:
    if engine == "chromium":
        executable = need_executable("chromium", "the browser tests drive Debian's chromium")
        from playwright.sync_api import sync_playwright

        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        stack.callback(browser.close)
        return browser
    executable = need_executable("firefox-esr", "the browser tests drive Debian's firefox-esr over Marionette")
    browser = stack.enter_context(firefox_driver.launched(executable, LOCAL_HOSTS, tmp / "firefox.log"))
    # The first preflight of a fresh Firefox session is not cached (whatever its
    # Access-Control-Max-Age): spend it on a throwaway one, so "preflight-cached" tests the
    # server's answer and not this start-up quirk.
    browser.run_specs(PAGES["app"].format(page=page_port) + "/", [_raw_star_spec(page_port, "X-Warm-Up")])
    return browser


def _raw_star_spec(page_port: int, header: str) -> dict[str, Any]:
    url = f"http://app.example.test:{page_port}/raw-star?s=raw"
    return {"id": "raw", "url": url, "init": {"headers": {header: "x"}}}


# -- one policy group: start the API, run its scenarios in the browser, read the server log ---


@dataclass
class Outcome:
    page: dict[str, Any]  # what corswareProbe reported
    server: list[dict[str, Any]]  # the requests the server recorded for this scenario


def _url(scenario: Scenario, page_port: int, api_port: int) -> str:
    base = APIS[scenario.api].format(api=api_port)
    query = f"s={scenario.id}"
    if scenario.query:
        query += "&" + scenario.query.format(api2=APIS["api2"].format(api=api_port))
    return f"{base}{scenario.path}?{query}"


_BLOCKED = re.compile(r"Access to fetch at '([^']*)'.* has been blocked by CORS policy: (.*)")


def _collect_cors_errors(page: Any, results: dict[str, Any], console: list[str]) -> None:
    """Attach Chromium's "blocked by CORS policy" console reasons to each scenario's result.

    Chromium reports them asynchronously, so wait (boundedly) until every rejected fetch has one.
    """
    rejected = {sid for sid, result in results.items() if result["outcome"] == "rejected"}
    for result in results.values():
        result["blocked"] = []
    for _ in range(100):  # up to 5 s
        blocked: dict[str, list[str]] = {}
        for text in console:
            match = _BLOCKED.search(text)
            if match:
                sid = parse_qs(urlsplit(match.group(1)).query).get("s", [""])[0]
                blocked.setdefault(sid, []).append(match.group(2))
        if rejected <= blocked.keys():
            break
        page.wait_for_timeout(50)
    for sid, reasons in blocked.items():
        if sid in results:
            results[sid]["blocked"] = reasons


def _run_group(engine: str, browser: Any, kind: str, config: str, page_port: int) -> dict[str, Outcome]:
    scenarios = [s for s in SCENARIOS if s.config == config]
    api_port = free_port()
    env = {POLICY_ENV: json.dumps(configs(page_port)[config])}
    page_results: dict[str, Any] = {}
    with running(_server_command(kind, api_port), api_port, env=env, cwd=str(ROOT)):
        group = ChromiumGroup(browser) if engine == "chromium" else FirefoxGroup(browser, page_port)
        try:
            for page_key in sorted({s.page_key for s in scenarios}):
                specs = [
                    {"id": s.id, "url": _url(s, page_port, api_port), "init": s.init, "repeat": s.repeat,
                     "stream": s.stream, "sandboxed": s.sandboxed, "read_headers": list(s.headers)}
                    for s in scenarios if s.page_key == page_key
                ]  # fmt: skip
                page_results.update(group.run(PAGES[page_key].format(page=page_port) + "/", specs))
        finally:
            group.close()
        with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/__log", timeout=10) as response:
            log = json.loads(response.read())
    by_scenario: dict[str, list[dict[str, Any]]] = {s.id: [] for s in scenarios}
    for entry in log:
        sid = parse_qs(entry["query"]).get("s", [""])[0]
        if sid in by_scenario:
            by_scenario[sid].append(entry)
    return {s.id: Outcome(page_results[s.id], by_scenario[s.id]) for s in scenarios}


@pytest.fixture(scope="module")
def outcomes(browsers: Any, page_port: int) -> Any:
    """Lazily runs each (engine, server kind, policy) group once and keeps what it observed (or
    how it failed, so a broken group fails each of its tests at once instead of restarting servers)."""
    cache: dict[tuple[str, str, str], dict[str, Outcome] | Exception] = {}

    def get(engine: str, kind: str, scenario: Scenario) -> Outcome:
        browser = browsers(engine)  # skips (or fails under CI) when the engine is missing
        key = (engine, kind, scenario.config)
        if key not in cache:
            try:
                cache[key] = _run_group(engine, browser, kind, scenario.config, page_port)
            except Exception as exc:
                cache[key] = exc
        group = cache[key]
        if isinstance(group, Exception):
            raise RuntimeError(f"the {scenario.config!r} group under {kind} in {engine} could not run") from group
        return group[scenario.id]

    return get


def _origin(key: str | None, page_port: int) -> str | None:
    return PAGES[key].format(page=page_port) if key in PAGES else key


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kind", SERVER_KINDS)
@pytest.mark.parametrize("scenario", [pytest.param(s, id=s.id) for s in SCENARIOS])
def test_browser_scenario(engine: str, kind: str, scenario: Scenario, outcomes: Any, page_port: int) -> None:
    outcome = outcomes(engine, kind, scenario)
    page, server = outcome.page, outcome.server
    context = f"{scenario.spec}\npage saw: {page}\nserver saw: {server}"

    # What the server received, in order: proves which requests the browser sent at all.
    assert tuple(f"{e['method']} {e['status']}" for e in server) == scenario.seen, context
    if scenario.sandboxed:
        assert page["frame_origin"] == "null", context
    if scenario.last_origin is not None:
        assert server[-1]["origin"] == _origin(scenario.last_origin, page_port), context
    preflights = [e for e in server if e["method"] == "OPTIONS"]
    for preflight in preflights:
        assert preflight["acrm"] == scenario.init.get("method", "GET"), context
    if scenario.preflight_acrh is not None:
        assert [p["acrh"] for p in preflights] == [scenario.preflight_acrh], context
    for entry in server:
        carried = entry["cookie"] == COOKIE
        assert carried == (entry["method"] in scenario.cookie_on), f"cookie on {entry['method']}?\n{context}"

    # What the page could observe: resolved and readable, or a TypeError and nothing else.
    if not scenario.resolves:
        assert page["outcome"] == "rejected", context
        assert page["error"].startswith("TypeError"), context
        # ... and the TypeError is the engine's CORS verdict, not some other network failure:
        # Chromium's one "blocked by CORS policy" message (sometimes twice for a sandboxed
        # frame, hence the set), Firefox's "Cross-Origin Request Blocked" reasons, exactly.
        # Both are what corsware's model says (`corsware explain --engine`).
        assert sorted(set(page["blocked"])) == sorted(scenario.console[engine]), context
        return
    assert page["outcome"] == "resolved", context
    assert page["blocked"] == [], context
    assert page["status"] == scenario.status, context
    if scenario.body is not None:
        assert scenario.body in page["body"], context
    if scenario.stream:
        assert page["chunks"] >= 1, context
    if scenario.echo:
        echoed = json.loads(page["body"])
        assert {k: echoed[k] for k in scenario.echo} == scenario.echo, context
    assert page["headers"] == scenario.headers, context
    if scenario.redirected is not None:
        assert page["redirected"] is scenario.redirected, context


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("header", "resolves"),
    [pytest.param("Authorization", False, id="authorization-refused"), pytest.param("X-Other", True, id="control")],
)
def test_engine_follows_the_standard_for_wildcard_authorization(
    browsers: Any, page_port: int, engine: str, header: str, resolves: bool
) -> None:
    """The harness's own check: a preflight answered with ``Access-Control-Allow-Headers: *``
    does not let ``Authorization`` through (Fetch §"CORS-preflight fetch" step 7.8, "CORS
    non-wildcard request-header name", https://fetch.spec.whatwg.org/#cors-preflight-fetch).

    Here the two engines disagree out of the box, and the standard is right: stock Chromium
    and Firefox ESR still let ``*`` cover Authorization (Firefox with a console warning that
    it "will disallow" it soon). Chromium runs with CorsNonWildcardRequestHeadersSupport and
    Firefox with ``network.cors_preflight.authorization_covered_by_wildcard`` off, so both
    test the standard's browser; corsware answers ``*, authorization`` for
    ``allow_headers=["*"]`` (scenario ``star-authorization``), which satisfies both either way.
    """
    browser = browsers(engine)
    spec = _raw_star_spec(page_port, header)
    page_url = PAGES["evil"].format(page=page_port) + "/"
    if engine == "firefox":
        result = browser.run_specs(page_url, [spec])["raw"]
    else:
        page = browser.new_page()
        try:
            page.goto(page_url)
            result = page.evaluate("spec => corswareProbe(spec)", spec)
        finally:
            page.close()
    assert result["outcome"] == ("resolved" if resolves else "rejected"), result


def test_docs_table_lists_every_scenario() -> None:
    """docs/browser-tests.md tabulates each scenario once, so the page cannot drift from the table."""
    docs = (ROOT / "docs" / "browser-tests.md").read_text(encoding="utf-8")
    policies = "|".join(sorted({s.config for s in SCENARIOS}))
    rows = re.findall(rf"^\| `([a-z0-9-]+)` \| (?:{policies})\b", docs, flags=re.MULTILINE)
    assert sorted(rows) == sorted(s.id for s in SCENARIOS)
