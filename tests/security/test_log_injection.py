"""CVE-2024-1681 (flask-cors < 4.0.1 logged the request path unescaped at DEBUG): CR, LF and
other control characters in the path, Origin, Access-Control-Request-Headers or
Access-Control-Request-Method never make corsware write a second log line.

The ``corsware`` logger is captured at DEBUG through a real ``StreamHandler`` with a
formatter, as an application would configure it, and the *written text* is checked: one
line per record, no control character, the hostile value visible in escaped form.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Iterator

import pytest

from corsware import CORSPolicy
from corsware.asgi import CORSMiddleware as ASGIMiddleware
from corsware.wsgi import CORSMiddleware as WSGIMiddleware

from ..support import shared_app
from ..support.cases import APP, MAIN
from ..support.drivers import Request, call_asgi, call_wsgi

FORGED = "\r\nINFO:corsware:forged record\x1b[2J\x00\x85next"  # header values are latin-1 bytes
FORGED_PATH = FORGED + "\u2028\u2029"  # an ASGI path is text: Unicode line separators too
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

#: (name, method, path, headers): each puts the forged text in one request value.
VECTORS = [
    ("path", "GET", "/x" + FORGED_PATH, [("Origin", "https://evil.example.net")]),
    ("origin", "GET", "/", [("Origin", APP + FORGED)]),
    ("origin on a preflight", "OPTIONS", "/", [("Origin", "https://e.net" + FORGED),
                                               ("Access-Control-Request-Method", "PUT")]),
    ("acrh", "OPTIONS", "/", [("Origin", APP), ("Access-Control-Request-Method", "PUT"),
                              ("Access-Control-Request-Headers", "x-a" + FORGED)]),
    ("acrm", "OPTIONS", "/", [("Origin", APP), ("Access-Control-Request-Method", "PUT" + FORGED)]),
    ("path on a preflight", "OPTIONS", "/p" + FORGED_PATH, [("Origin", APP), ("Access-Control-Request-Method", "PATCH")]),
]  # fmt: skip


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
    logger = logging.getLogger("corsware")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def _run(where: str, method: str, path: str, headers: list[tuple[str, str]]) -> None:
    policy = CORSPolicy(**MAIN)
    if where == "core":
        policy.evaluate(method, path, headers)
    elif where == "wsgi":
        # No wsgiref validator here: it rightly refuses such a path before corsware sees it;
        # servers that do not validate (the threat) hand it through.
        call_wsgi(WSGIMiddleware(shared_app.WSGIApp(), policy), Request(method, path, headers))
    else:
        asyncio.run(call_asgi(ASGIMiddleware(shared_app.ASGIApp(), policy), Request(method, path, headers)))


@pytest.mark.parametrize("where", ["core", "wsgi", "asgi"])
@pytest.mark.parametrize(("method", "path", "headers"), [pytest.param(*v[1:], id=f"CVE-2024-1681: {v[0]}")
                                                         for v in VECTORS])  # fmt: skip
def test_log_injection_cve_2024_1681(
    log_stream: io.StringIO, where: str, method: str, path: str, headers: list[tuple[str, str]]
) -> None:
    _run(where, method, path, headers)
    text = log_stream.getvalue()
    lines = text.splitlines()
    assert lines, "the refusal must be logged (otherwise this test proves nothing)"
    assert text.count("\n") == len(lines) == 1, lines  # one request, one record, one line
    for line in lines:
        assert line.startswith("DEBUG:corsware:refused "), line
        assert _CONTROL.search(line) is None, repr(line)
        assert "INFO:corsware:forged" not in line.split(":", 2)[0]
    # The hostile value is still visible to the reader, escaped.
    assert "\\x0d\\x0aINFO:corsware:forged record\\x1b[2J\\x00\\x85next" in text


def test_log_value_is_capped(log_stream: io.StringIO) -> None:
    """A 1 MiB header cannot become a 1 MiB log record."""
    CORSPolicy(**MAIN).evaluate("OPTIONS", "/", [("Origin", "https://e.net"), ("Access-Control-Request-Method", "PUT"),
                                                 ("Access-Control-Request-Headers", "\n" * (1 << 20))])  # fmt: skip
    text = log_stream.getvalue()
    assert text.count("\n") == 1
    assert len(text) < 4096
