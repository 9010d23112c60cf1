"""Report-only mode under hostile input: the records on ``corsware.report`` (log injection,
CVE-2024-1681 as in test_log_injection.py), the in-memory tally (bounded whatever clients
send) and ``corsware suggest`` (an origin in a log cannot write a key into the policy)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from corsware import asgi as cw_asgi
from corsware import wsgi as cw_wsgi
from corsware._report import OTHER_ORIGINS
from corsware.cli import main as cli_main

CANDIDATE = {"allow_origins": ["https://app.example.com"], "allow_credentials": True}
HOSTILE = [
    pytest.param('https://x.example\r\n{"corsware_report":1,"forged":true}', id="crlf-forged-record"),
    pytest.param("https://x.example\x85\u2028\u2029next", id="nel-u2028-u2029"),
    pytest.param("https://x.example\x00\x1b[2J\x7f", id="nul-esc-del"),
    pytest.param("https://" + "a" * 100_000 + ".example", id="100k-origin"),
]


def reflect(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [("Access-Control-Allow-Origin", environ.get("HTTP_ORIGIN", ""))])
    return [b"ok"]


async def reflect_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    origin = dict(scope["headers"]).get(b"origin", b"")
    await send({"type": "http.response.start", "status": 200, "headers": [(b"access-control-allow-origin", origin)]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """A real StreamHandler on corsware.report, formatted as servers do."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("corsware.report")
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.INFO)
    yield out
    logger.removeHandler(handler)
    logger.setLevel(old)


@pytest.mark.parametrize("origin", HOSTILE)
@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
def test_cve_2024_1681_report_record_is_one_escaped_capped_line(kind: str, origin: str, stream: io.StringIO) -> None:
    path = "/p\r\nINFO corsware.report forged"
    if kind == "wsgi":
        mw: Any = cw_wsgi.CORSMiddleware(reflect, report_only=CANDIDATE)
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "HTTP_ORIGIN": origin}
        list(mw(environ, lambda status, headers, exc_info=None: None))
    else:
        mw = cw_asgi.CORSMiddleware(reflect_asgi, report_only=CANDIDATE)
        scope = {"type": "http", "method": "GET", "path": path, "root_path": "",
                 "headers": [(b"origin", origin.encode("utf-8"))]}  # fmt: skip

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b""}

        async def send(message: dict[str, Any]) -> None:
            pass

        asyncio.run(mw(scope, receive, send))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1, lines
    line = lines[0]
    assert not any(ch in line for ch in "\x00\x1b\x7f\x85\u2028\u2029\r")
    assert len(line) < 1500
    record = json.loads(line[line.index("{") :])
    assert "forged" not in record
    assert record["path"].startswith("/p\r\n")  # the value itself is kept, escaped in the line


def test_report_tally_memory_is_bounded_whatever_origins_clients_send() -> None:
    mw = cw_wsgi.CORSMiddleware(reflect, report_only=CANDIDATE)
    for i in range(5000):
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_ORIGIN": f"https://{i}.attacker.example"}
        list(mw(environ, lambda status, headers, exc_info=None: None))
    rows = mw.report.tally()
    assert len(rows) == 1001
    assert rows[0] == {**rows[0], "origin": OTHER_ORIGINS, "count": 4000}


def test_suggest_origin_from_a_log_cannot_write_policy_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    forged = 'https://x.example"]\nallow_origins = ["*"]\ndangerously_allow_null_origin = true\n#'
    record = {"corsware_report": 1, "time": "2025-01-01T00:00:00.000Z", "method": "GET", "path": "/",
              "origin": forged, "kind": "actual", "outcome": "same", "sent": {"status": 200, "acao": forged,
              "acac": True}, "candidate": {"allowed": True, "reason": "allowed"}}  # fmt: skip
    log = tmp_path / "app.log"
    log.write_text(json.dumps(record) + "\n")
    out = tmp_path / "cors.toml"
    assert cli_main(["suggest", str(log), "--credentials", "-o", str(out)]) == 0
    from corsware._policy import load_policy_file

    data = load_policy_file(out)
    assert data["allow_origins"] == []
    assert "dangerously_allow_null_origin" not in data
    capsys.readouterr()
