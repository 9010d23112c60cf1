"""`make demo` runs `python -m corsware.demo`; check it does what the README promises."""

from __future__ import annotations

import io
import subprocess
import sys
import urllib.request
from collections.abc import Callable

import pytest

from corsware import CORSPolicy
from corsware.demo import _DecisionLog, api_app, page_app

from ..support.servers import free_port, wait_for_port


def test_demo_shows_an_allowed_and_a_refused_call() -> None:
    ports = [str(free_port()) for _ in range(3)]
    out = subprocess.run(
        [sys.executable, "-m", "corsware.demo", "--once", "--host", "127.0.0.1",
         "--client-port", ports[0], "--api-port", ports[1], "--other-port", ports[2]],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert f"http://127.0.0.1:{ports[0]}/" in out
    assert f"from http://127.0.0.1:{ports[0]}: preflight 204 OK, POST 200" in out
    assert "readable by the page" in out
    assert f"from http://127.0.0.1:{ports[2]}: preflight 403" in out
    assert "the browser blocks the call" in out


def _run_demo(ports: list[str]) -> str:
    return subprocess.run(
        [sys.executable, "-m", "corsware.demo", "--once", "--host", "127.0.0.1",
         "--client-port", ports[0], "--api-port", ports[1], "--other-port", ports[2]],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip


def test_demo_run_again_right_away_keeps_its_ports() -> None:
    # The first run's connections linger in TIME_WAIT on the servers' ports for a minute;
    # the servers reuse the address (SO_REUSEADDR) instead of moving to random ports.
    ports = [str(free_port()) for _ in range(3)]
    _run_demo(ports)
    again = _run_demo(ports)
    assert "busy" not in again, again
    for port in ports:
        assert f"http://127.0.0.1:{port}/" in again, again


def test_demo_logs_each_cross_origin_call_with_its_decision() -> None:
    ports = [str(free_port()) for _ in range(3)]
    out = _run_demo(ports)
    client, other = f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[2]}"
    lines = [line.strip() for line in out.splitlines() if line.strip().startswith("[API] ")]
    assert lines == [
        f'[API] OPTIONS "/api/echo" (preflight) origin "{client}": allowed [allowed]',
        f'[API] POST "/api/echo" origin "{client}": allowed [allowed]',
        f'[API] OPTIONS "/api/echo" (preflight) origin "{other}": refused [origin_not_allowed]',
    ], out


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> Callable[[bytes], object]:
    return lambda data: None


def test_decision_log_escapes_what_the_request_sent() -> None:
    policy = CORSPolicy(allow_origins=["https://app.example.com"])
    out = io.StringIO()
    log = _DecisionLog(api_app, policy, out)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/api/hello", "HTTP_ORIGIN": "https://evil.example\r\nforged",
               "wsgi.input": io.BytesIO()}  # fmt: skip
    log(environ, _start_response)
    assert out.getvalue() == (
        '  [API] GET "/api/hello" origin "https://evil.example\\x0d\\x0aforged": refused [origin_not_allowed]\n'
    )


# (page, must contain, must not contain)
PAGES = [
    pytest.param(False, [], ["console"], id="allowed-origin-page"),
    pytest.param(True, [
        "open the developer tools",
        "<b>Console</b>",
        "Access to fetch at 'http://localhost:5001/api/hello' from origin 'http://localhost:5002' has been "
        "blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present on the requested resource.",
        "Access to fetch at 'http://localhost:5001/api/echo' from origin 'http://localhost:5002' has been "
        "blocked by CORS policy: Response to preflight request doesn't pass access control check: "
        "It does not have HTTP ok status.",
    ], [], id="refused-origin-page"),
]  # fmt: skip


@pytest.mark.parametrize(("refused", "present", "absent"), PAGES)
def test_refused_page_says_to_open_the_console_and_what_it_shows(
    refused: bool, present: list[str], absent: list[str]
) -> None:
    origin = "http://localhost:5002" if refused else "http://localhost:5000"
    app = page_app("label", origin, "http://localhost:5001", refused=refused)
    html = b"".join(app({"REQUEST_METHOD": "GET", "PATH_INFO": "/"}, _start_response)).decode()
    for text in present:
        assert text in html
    for text in absent:
        assert text not in html.lower()


def test_refused_page_served_by_the_demo_has_the_console_hint() -> None:
    ports = [str(free_port()) for _ in range(3)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "corsware.demo", "--host", "127.0.0.1",
         "--client-port", ports[0], "--api-port", ports[1], "--other-port", ports[2]],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for_port(int(ports[2]), None)
        html = urllib.request.urlopen(f"http://127.0.0.1:{ports[2]}/", timeout=10).read().decode()
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert "open the developer tools" in html
    assert (
        f"Access to fetch at 'http://127.0.0.1:{ports[1]}/api/hello' from origin 'http://127.0.0.1:{ports[2]}'" in html
    )
