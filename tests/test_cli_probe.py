"""``corsware probe`` against real servers on 127.0.0.1: corsware itself, and the classic
misconfigurations it must diagnose; plus unreachable, non-HTTP and silent servers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable, Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from corsware.wsgi import CORSMiddleware

from .cases import MAIN
from .cli import corsware
from .servers import free_port

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


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _router, _Server, _Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


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
