"""`make demo` runs `python -m corsware.demo`; check it does what the README promises."""

from __future__ import annotations

import subprocess
import sys

from .servers import free_port


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
