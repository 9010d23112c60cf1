"""The quick-start pages work exactly as written: start the server they show, run the curl
commands they show, and compare with the output they show.

For each quick-start page (English and Chinese): the ```python title="app.py" block is
written to a fresh directory, every server command of its ```console blocks (``flask``,
``uvicorn``, ``gunicorn``) is started on a free loopback port in place of 5001, and every
``curl`` command is run against it. The documented status, CORS headers (``Access-Control-*``
and ``Vary``; the set must be identical, so a header the page says is absent must be absent)
and body must match what the server really sends.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.ci import need_executable
from tests.support.docs_blocks import DOCS, blocks
from tests.support.servers import free_port, running

pytestmark = pytest.mark.server

PAGES = ["quickstart-wsgi.md", "quickstart-asgi.md", "zh/quickstart-wsgi.md", "zh/quickstart-asgi.md"]
SERVERS = ("flask", "uvicorn", "gunicorn")
DOC_PORT = "5001"


@dataclass
class Command:
    argv: list[str]
    output: list[str]


def _commands(page: Path) -> list[Command]:
    found: list[Command] = []
    for block in blocks(page):
        if block.language != "console":
            continue
        for line in block.code.splitlines():
            if line.startswith("$ "):
                text = line[2:].split("  #", 1)[0]
                found.append(Command(shlex.split(text), []))
            elif found:
                found[-1].output.append(line)
    return found


def _cors_view(lines: list[str]) -> tuple[str | None, dict[str, str], str]:
    """(status code, CORS headers by lower-case name, body) of a ``curl -si`` output."""
    status = None
    headers: dict[str, str] = {}
    body: list[str] = []
    in_body = False
    for raw in lines:
        line = raw.rstrip("\r")
        if in_body:
            body.append(line)
        elif m := re.match(r"HTTP/[\d.]+ (\d{3})", line):
            status = m.group(1)
        elif line == "":
            in_body = status is not None
        elif ":" in line:
            name, value = line.split(":", 1)
            if name.lower().startswith("access-control-") or name.lower() == "vary":
                headers[name.lower()] = value.strip()
    return status, headers, "\n".join(body).strip()


def _app_source(page: Path) -> str:
    apps = [b for b in blocks(page) if b.title == "app.py"]
    assert len(apps) == 1, f'{page} must have exactly one ```python title="app.py" block'
    return apps[0].code


@pytest.mark.parametrize("name", PAGES)
def test_quick_start_page_works_as_written(name: str, tmp_path: Path) -> None:
    page = DOCS / name
    curl = need_executable("curl", "the quick-start pages check the server with curl")
    (tmp_path / "app.py").write_text(_app_source(page), encoding="utf-8")
    commands = _commands(page)
    servers = [c for c in commands if c.argv[0] in SERVERS]
    checks = [c for c in commands if c.argv[0] == "curl"]
    assert servers, f"{name} shows no server command"
    assert len(checks) >= 3, f"{name} shows fewer than three curl checks"
    bin_dir = str(Path(sys.executable).parent)
    env = {"PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    for server in servers:
        port = str(free_port())
        argv = [a.replace(DOC_PORT, port) for a in server.argv]
        with running(argv, int(port), env=env, cwd=str(tmp_path)):
            for check in checks:
                args = [curl if a == "curl" else a.replace(DOC_PORT, port) for a in check.argv]
                args[1:1] = ["--max-time", "10"]
                proc = subprocess.run(args, capture_output=True, text=True, timeout=20, check=False)
                assert proc.returncode == 0, f"{shlex.join(check.argv)} failed: {proc.stderr}"
                want = _cors_view(check.output)
                got = _cors_view(proc.stdout.splitlines())
                assert got == want, (
                    f"{name}, under `{shlex.join(server.argv)}`:\n  {shlex.join(check.argv)}\n"
                    f"  documented: {want}\n  actual:     {got}\n--- actual output ---\n{proc.stdout}"
                )


def test_the_reader_sees_status_headers_and_body() -> None:
    status, headers, body = _cors_view(
        ["HTTP/1.1 200 OK", "Content-Type: text/plain", "Vary: Origin", "Access-Control-Allow-Origin: *", "", "hi"]
    )
    assert (status, headers, body) == ("200", {"vary": "Origin", "access-control-allow-origin": "*"}, "hi")
