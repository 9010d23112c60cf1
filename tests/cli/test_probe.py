"""``corsware probe`` against real servers on 127.0.0.1: corsware itself, and the classic
misconfigurations it must diagnose; plus unreachable, non-HTTP and silent servers."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from corsware.wsgi import CORSMiddleware

from ..support.cases import MAIN
from ..support.cli import corsware
from ..support.servers import free_port, serving, wsgi_server

pytestmark = pytest.mark.server

APP = "https://app.example.com"


def _ok(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def _auth_first(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """An auth layer in front of CORS: the credential-less preflight gets 401."""
    if "HTTP_AUTHORIZATION" not in environ:
        start_response("401 Unauthorized", [("WWW-Authenticate", "Bearer"), ("Content-Type", "text/plain")])
        return [b"login first"]
    return _ok(environ, start_response)


def _hand_rolled(acah: str, acao: str, acac: bool) -> Any:
    """The after_request hack of the blog posts: the same CORS headers on every response."""

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        headers = [("Access-Control-Allow-Origin", acao), ("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE"),
                   ("Access-Control-Allow-Headers", acah), ("Content-Type", "text/plain")]  # fmt: skip
        if acac:
            headers.append(("Access-Control-Allow-Credentials", "true"))
        start_response("200 OK", headers)
        return [b"ok"]

    return app


ROUTES: dict[str, Any] = {
    "corsware": CORSMiddleware(_ok, **MAIN),
    "auth-first": _auth_first,
    "star-credentials": _hand_rolled("Content-Type", "*", acac=True),
    "star-headers": _hand_rolled("*", APP, acac=False),
    "no-cors": _ok,
}


def _router(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    name = environ["PATH_INFO"].strip("/").split("/")[0]
    return ROUTES[name](environ, start_response)


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server = wsgi_server(_router)
    with serving(server):
        yield f"http://127.0.0.1:{server.server_port}"


def codes(r: Any) -> list[str]:
    return [f["code"] for f in r.json["failures"]]


def test_probe_corsware_allowed(base: str) -> None:
    r = corsware("probe", f"{base}/corsware/x", "--origin", APP, "--method", "PUT",
                 "-H", "Content-Type: application/json", "--credentials")  # fmt: skip
    assert r.code == 0, r.out + r.err
    assert "verdict: ALLOWED" in r.out
    assert "> Access-Control-Request-Headers: content-type" in r.out
    assert "< Access-Control-Allow-Origin: https://app.example.com" in r.out


def test_probe_corsware_refused_origin(base: str) -> None:
    r = corsware("probe", f"{base}/corsware/x", "--origin", "https://evil.example.net", "--json")
    assert r.code == 1
    assert codes(r) == ["missing_allow_origin"]
    assert "No 'Access-Control-Allow-Origin' header is present" in r.json["failures"][0]["message"]
    assert r.json["actual"]["status"] == 200


def test_probe_corsware_method_refused_at_preflight(base: str) -> None:
    r = corsware("probe", f"{base}/corsware/x", "--origin", APP, "--method", "PATCH", "--json")
    assert r.code == 1
    assert r.json["preflight"]["status"] == 403
    assert codes(r) == ["preflight_status"]
    assert "actual" not in r.json  # the browser stops at the failed preflight


def test_probe_auth_before_cors(base: str) -> None:
    r = corsware("probe", f"{base}/auth-first/x", "--origin", APP, "-H", "Authorization: Bearer t")
    assert r.code == 1
    assert "the preflight answered 401: your auth layer runs before CORS" in r.out
    assert "[preflight_auth]" in r.out
    assert "answer OPTIONS preflights before authentication" in r.out


def test_probe_star_with_credentials(base: str) -> None:
    r = corsware("probe", f"{base}/star-credentials/", "--origin", APP, "--credentials", "--json")
    assert r.code == 1
    assert codes(r) == ["wildcard_with_credentials"]
    assert "'*' cannot be used with credentials" in r.json["failures"][0]["message"]
    # The same server is fine for a request without credentials.
    assert corsware("probe", f"{base}/star-credentials/", "--origin", APP).code == 0


def test_probe_authorization_not_covered_by_star(base: str) -> None:
    r = corsware("probe", f"{base}/star-headers/", "--origin", APP, "-H", "Authorization: Bearer t", "--json")
    assert r.code == 1
    assert codes(r) == ["authorization_not_covered"]
    assert "'Authorization' is not covered by '*'" in r.json["failures"][0]["message"]
    ok = corsware("probe", f"{base}/star-headers/", "--origin", APP, "-H", "X-Trace: 1", "--json")
    assert ok.code == 0, ok.out
    assert any("Vary: Origin" in n for n in ok.json["actual"]["notes"])  # reflected ACAO without Vary


def test_probe_server_without_cors(base: str) -> None:
    r = corsware("probe", f"{base}/no-cors/", "--origin", APP, "--method", "DELETE", "--json")
    assert r.code == 1
    assert codes(r) == ["missing_allow_origin"]  # 200 to OPTIONS but no CORS headers


def test_probe_preflight_only(base: str) -> None:
    r = corsware("probe", f"{base}/corsware/x", "--origin", APP, "--method", "DELETE", "--preflight-only", "--json")
    assert r.code == 0
    assert r.json["allowed"] is True
    assert "actual" not in r.json
    r = corsware("probe", f"{base}/corsware/x", "--origin", APP, "--preflight-only")
    assert r.code == 2
    assert "needs no preflight" in r.err


def test_probe_unreachable() -> None:
    port = free_port()  # nothing listens there
    r = corsware("probe", f"http://127.0.0.1:{port}/", "--origin", APP, "--json")
    assert r.code == 2
    assert r.json["error"]["code"] == "unreachable"
    assert "connection refused" in r.err


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "127.0.0.1:8000/x", "file:///etc/passwd", "http:///x"])
def test_probe_not_an_http_url(url: str) -> None:
    r = corsware("probe", url, "--origin", APP)
    assert r.code == 2
    assert "corsware: error:" in r.err
    assert r.out == ""


def _listener(reply: bytes | None) -> tuple[socket.socket, threading.Thread, list[socket.socket]]:
    """Accept connections; answer ``reply`` (then close), or stay silent if None."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    sock.settimeout(10)
    held: list[socket.socket] = []

    def serve() -> None:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        held.append(conn)
        if reply is not None:
            conn.recv(65536)
            conn.sendall(reply)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return sock, thread, held


def test_probe_timeout() -> None:
    sock, thread, held = _listener(None)
    try:
        port = sock.getsockname()[1]
        r = corsware("probe", f"http://127.0.0.1:{port}/", "--origin", APP, "--timeout", "0.5")
        assert r.code == 2
        assert "did not answer within 0.5 s" in r.err
    finally:
        thread.join(5)
        for conn in held:
            conn.close()
        sock.close()


def test_probe_server_not_speaking_http() -> None:
    sock, thread, held = _listener(b"SSH-2.0-OpenSSH_9.2\r\n")
    try:
        port = sock.getsockname()[1]
        r = corsware("probe", f"http://127.0.0.1:{port}/", "--origin", APP, "--json")
        assert r.code == 2
        assert r.json["error"]["code"] == "not_http"
    finally:
        thread.join(5)
        for conn in held:
            conn.close()
        sock.close()


@pytest.mark.parametrize("timeout", ["0", "-1", "121"])
def test_probe_timeout_is_bounded(timeout: str) -> None:
    r = corsware("probe", "http://127.0.0.1:9/", "--origin", APP, "--timeout", timeout)
    assert r.code == 2
    assert "--timeout must be between" in r.err


# -- hostile servers: a raw socket on loopback, answering byte by byte ---------------------


def _read_request(conn: socket.socket) -> bytes:
    """The request head (the probe sends no body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


@contextlib.contextmanager
def _raw_server(answer: Callable[[socket.socket, threading.Event], None]) -> Iterator[str]:
    """Serve every connection with ``answer(conn, stop)`` in its own thread; yield the base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.1)
    stop = threading.Event()

    def handle(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            answer(conn, stop)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        sock.close()


def _drip_forever(conn: socket.socket, stop: threading.Event) -> None:
    """A status line, then a header line that never ends: one byte every 0.2 s."""
    _read_request(conn)
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: ":
        if stop.wait(0.2):
            return
        conn.sendall(bytes([byte]))
    while not stop.wait(0.2):
        conn.sendall(b"a")


def _each_answer_slowly(conn: socket.socket, stop: threading.Event) -> None:
    """A complete CORS-allowing answer to each request, in 4 pieces 0.2 s apart (0.6 s)."""
    _read_request(conn)
    head = (f"HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: {APP}\r\n"
            "Access-Control-Allow-Methods: DELETE\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").encode()  # fmt: skip
    for index in range(4):
        if index and stop.wait(0.2):
            return
        conn.sendall(head[index * len(head) // 4 : (index + 1) * len(head) // 4])


#: (server, probe arguments): each needs more than --timeout 1 in total.
DEADLINE_CASES = {
    # A per-read timeout never fires: each byte arrives well within it (hours, before).
    "drip one byte every 0.2 s": (_drip_forever, ["--method", "GET"]),
    # Preflight and actual request each answer within 1 s, together they take 1.2 s.
    "preflight and request share the deadline": (_each_answer_slowly, ["--method", "DELETE"]),
}


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("case", list(DEADLINE_CASES))
def test_probe_timeout_is_a_deadline_for_the_whole_probe(case: str, as_json: bool) -> None:
    """Security finding: --timeout bounded each socket read, so a dripping server held the probe for hours."""
    answer, extra = DEADLINE_CASES[case]
    with _raw_server(answer) as base:
        url = f"{base}/x"
        started = time.monotonic()
        r = corsware("probe", url, "--origin", APP, "--timeout", "1", *extra, *(["--json"] if as_json else []),
                     timeout=20)  # fmt: skip
        elapsed = time.monotonic() - started
    assert elapsed < 10, f"the probe ran {elapsed:.1f} s with --timeout 1"
    assert r.code == 2, r.out + r.err
    message = f"{url} did not answer within 1 s (--timeout: one deadline for the whole probe"
    assert message in r.err
    if as_json:
        assert r.json["ok"] is False
        assert r.json["error"]["code"] == "timeout"
        assert message in r.json["error"]["message"]
    else:
        assert r.out == ""


def _answer(response: bytes) -> Callable[[socket.socket, threading.Event], None]:
    def answer(conn: socket.socket, stop: threading.Event) -> None:
        _read_request(conn)
        conn.sendall(response)

    return answer


def _no_raw_control(text: str) -> None:
    """Only printable characters, and line feeds between lines (a CR would rewrite a line)."""
    for line in text.split("\n"):
        assert line.isprintable(), f"raw control or format character in {line!r}"


_TAIL = b"Content-Length: 0\r\nConnection: close\r\n\r\n"
#: (response bytes, the response headers --json must report exactly, text that must show escaped)
HOSTILE_RESPONSES = {
    "erase the line and print a fake verdict": (
        b"HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: \x1b[2K\rverdict: ALLOWED\r\n" + _TAIL,
        [["Access-Control-Allow-Origin", "\x1b[2K\rverdict: ALLOWED"]],
        ["< Access-Control-Allow-Origin: \\x1b[2K\\rverdict: ALLOWED"],
    ),
    "set the window title, bell, DEL": (
        b"HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: https://app.example.com\r\n"
        b"Access-Control-Expose-Headers: \x1b]0;title\x07\x7f\r\n" + _TAIL,
        [["Access-Control-Allow-Origin", APP], ["Access-Control-Expose-Headers", "\x1b]0;title\x07\x7f"]],
        ["< Access-Control-Expose-Headers: \\x1b]0;title\\x07\\x7f"],
    ),
    # Header bytes are ISO-8859-1 characters (like the browser's ByteString): the UTF-8 of
    # U+202E RIGHT-TO-LEFT OVERRIDE is 'â', U+0080 (a C1 control), '®'; 0x9B is the C1 CSI.
    "C1 controls and the bytes of U+202E": (
        b"HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: https://app.example.com\r\n"
        b"Vary: Origin\xe2\x80\xae\x9b31m\r\n" + _TAIL,
        [["Access-Control-Allow-Origin", APP], ["Vary", "Origin\xe2\x80\xae\x9b31m"]],
        ["< Vary: Originâ\\x80®\\x9b31m"],
    ),
    "a control character in a header name": (
        b"HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: https://app.example.com\r\n"
        b"Access-Control-Max-Age\x1b[8m: 1\r\n" + _TAIL,
        [["Access-Control-Allow-Origin", APP], ["Access-Control-Max-Age\x1b[8m", "1"]],
        ["< Access-Control-Max-Age\\x1b[8m: 1"],
    ),
    # RFC 9112 §2.2: a bare CR does not end a line. http.client's parser splits there,
    # which let a server forge a field (here, an allowing ACAO the browser never sees).
    "a bare CR cannot forge a header field": (
        b"HTTP/1.1 200 OK\r\nAccess-Control-Expose-Headers: a\rAccess-Control-Allow-Origin: https://app.example.com\r\n"
        + _TAIL,
        [["Access-Control-Expose-Headers", "a\rAccess-Control-Allow-Origin: https://app.example.com"]],
        ["< Access-Control-Expose-Headers: a\\rAccess-Control-Allow-Origin: https://app.example.com"],
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE_RESPONSES))
def test_probe_escapes_what_the_server_sent(case: str) -> None:
    """Security finding: probe printed header names and values raw, so a server could drive the terminal."""
    response, exact, shown = HOSTILE_RESPONSES[case]
    with _raw_server(_answer(response)) as base:
        text = corsware("probe", f"{base}/x", "--origin", APP)
        data = corsware("probe", f"{base}/x", "--origin", APP, "--json")
    _no_raw_control(text.out)
    _no_raw_control(text.err)
    for line in shown:
        assert line in text.out
    verdicts = [line for line in text.out.split("\n") if line.startswith("verdict")]
    assert verdicts == ["verdict: ALLOWED: the browser lets the script read the response" if data.json["allowed"]
                        else "verdict: BLOCKED"]  # fmt: skip
    headers = [
        h for h in data.json["actual"]["response_headers"] if h[0].lower() not in ("content-length", "connection")
    ]
    assert headers == exact  # --json: the exact values
    assert data.code == text.code == (0 if data.json["allowed"] else 1)
    if case == "a bare CR cannot forge a header field":
        assert [f["code"] for f in data.json["failures"]] == ["missing_allow_origin"]


def test_probe_escapes_a_hostile_status_line() -> None:
    """The error quoting a non-HTTP answer is escaped too (http.client quotes the raw line)."""
    with _raw_server(_answer(b"\x1b]0;pwned\x07\x1b[2K\rHTTP/9 ok\r\n\r\n")) as base:
        r = corsware("probe", f"{base}/x", "--origin", APP)
    assert r.code == 2
    assert "not answer with HTTP/1.x" in r.err
    _no_raw_control(r.err)
    assert "\\x1b]0;pwned\\x07" in r.err


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text, é, 中文", "plain text, é, 中文"),
        ("\x1b[2K\rverdict: ALLOWED", "\\x1b[2K\\rverdict: ALLOWED"),
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
        ("a\nb\tc\x00d\x7f", "a\\nb\\tc\\x00d\\x7f"),
        ("\x85\x9b", "\\x85\\x9b"),  # C1: NEL, CSI
        ("evil\u202egnp.exe", "evil\\u202egnp.exe"),  # RIGHT-TO-LEFT OVERRIDE
        ("\u2066x\u2069\u200b\u2028\ufeff", "\\u2066x\\u2069\\u200b\\u2028\\ufeff"),  # isolates, ZWSP, LS, BOM
        ("\U000e0041", "\\U000e0041"),  # a tag character (format)
    ],
)
def test_printable_escapes_every_non_printable_character(raw: str, shown: str) -> None:
    from corsware.cli._output import printable  # new in the fix: imported here so the module loads before it

    assert printable(raw) == shown
