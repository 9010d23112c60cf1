"""``corsware probe``: send what a browser sends to any server and judge the answers."""

from __future__ import annotations

import argparse
import http.client
import io
import socket
import ssl
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from .. import __version__
from ._browser import BrowserRequest, check_actual, check_preflight
from ._output import CommandError, printable
from ._report import Report, Step, preflight_reasons
from ._requests import browser_request

__all__ = ["MAX_TIMEOUT", "run_probe"]

#: Upper bound of ``--timeout``, the deadline of the whole probe, so it never hangs for long.
MAX_TIMEOUT = 120.0
_MAX_BODY = 1 << 20
#: Bytes kept to parse the response head from (http.client refuses longer heads anyway).
_MAX_HEAD = 1 << 23
_OWS = " \t"


class _Target:
    """A parsed http(s) URL."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            shown = parts.scheme or "no scheme"
            raise CommandError("bad_url", f"{url!r} is not an HTTP URL ({shown}); write http://... or https://...")
        if not parts.hostname:
            raise CommandError("bad_url", f"{url!r} has no host")
        try:
            self.port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise CommandError("bad_url", f"{url!r} has an invalid port") from None
        self.url = url
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class _Expired(TimeoutError):
    """The probe's deadline passed (a :class:`TimeoutError`, like an expired socket timeout)."""


class _Deadline:
    """One clock for the whole probe: ``--timeout`` bounds everything, not each socket call.

    A per-call socket timeout restarts at every byte, so a server dripping one byte per
    second could keep a probe running for hours; every network operation of every request
    (name resolution, connect, TLS handshake, send, each read) gets only what is left.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds left (always > 0); raise :class:`_Expired` once the deadline has passed."""
        left = self._end - time.monotonic()
        if left <= 0:
            raise _Expired
        return left


def _resolve(host: str, port: int, deadline: _Deadline) -> list[tuple[Any, ...]]:
    """``getaddrinfo`` within the deadline (it has no timeout of its own, hence the thread)."""
    answer: list[list[tuple[Any, ...]] | OSError] = []

    def run() -> None:
        try:
            answer.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as exc:
            answer.append(exc)

    worker = threading.Thread(target=run, name="corsware-probe-resolve", daemon=True)
    worker.start()
    worker.join(deadline.left())
    if not answer:
        raise _Expired
    if isinstance(answer[0], OSError):
        raise answer[0]
    return answer[0]


def _connect(target: _Target, deadline: _Deadline) -> socket.socket:
    """A connected (and for https, TLS-established) socket, within the deadline."""
    error: OSError = ConnectionRefusedError(f"no address for {target.host}")
    for family, kind, proto, _, address in _resolve(target.host, target.port, deadline):
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(deadline.left())
            sock.connect(address)
        except TimeoutError:
            sock.close()
            raise  # the deadline is spent: no time left for the next address
        except OSError as exc:
            sock.close()
            error = exc
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if target.scheme != "https":
            return sock
        try:
            tls = ssl.create_default_context().wrap_socket(
                sock, server_hostname=target.host, do_handshake_on_connect=False
            )
            # One timeout for the whole handshake: CPython's ssl module turns a socket
            # timeout into a deadline for each handshake, read and write call.
            tls.settimeout(deadline.left())
            tls.do_handshake()
        except BaseException:
            sock.close()
            raise
        return tls
    raise error


class _Reader(io.RawIOBase):
    """The socket's read side for http.client: each read gets only the time left.

    It also keeps the first bytes read (the response head), so the headers can be parsed
    exactly as they were sent (:func:`_head_fields`).
    """

    def __init__(self, sock: socket.socket, deadline: _Deadline) -> None:
        self._sock = sock
        self._deadline = deadline
        self.head = bytearray()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self._sock.settimeout(self._deadline.left())
        count = self._sock.recv_into(buffer)
        if len(self.head) < _MAX_HEAD:
            self.head += memoryview(buffer)[: min(count, _MAX_HEAD - len(self.head))]
        return count


class _DeadlineSocket:
    """What http.client sees as its socket: sends and reads bounded by the deadline.

    Closing it does nothing: the probe closes the real socket itself once the response is
    read (http.client closes its socket early when the response ends the connection).
    """

    def __init__(self, sock: socket.socket, deadline: _Deadline) -> None:
        self.sock = sock
        self._deadline = deadline
        self.reader = _Reader(sock, deadline)

    def sendall(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            self.sock.settimeout(self._deadline.left())
            view = view[self.sock.send(view) :]

    def makefile(self, mode: str, *args: object, **kwargs: object) -> io.BufferedReader:
        return io.BufferedReader(self.reader)

    def close(self) -> None:
        pass


class _Connection(http.client.HTTPConnection):
    """http.client's request writing and response framing, on a deadline-bound socket."""

    def __init__(self, target: _Target, deadline: _Deadline) -> None:
        super().__init__(target.host, target.port)
        self.default_port = 443 if target.scheme == "https" else 80  # for the Host header
        self._target = target
        self._deadline = deadline
        self.bound: _DeadlineSocket | None = None

    def connect(self) -> None:
        self.bound = _DeadlineSocket(_connect(self._target, self._deadline), self._deadline)
        self.sock = self.bound


def _head_fields(head: bytes) -> list[tuple[str, str]]:
    """The header fields of the final response head, exactly as sent.

    http.client's own parser (the ``email`` package) also ends a line at a bare CR, so a
    server could make ``X: a<CR>Access-Control-Allow-Origin: *`` look like two fields. Here,
    as in RFC 9112 §2.2 and §5, lines end at LF (an optional CR before it is dropped), a
    bare CR stays inside the value, values lose only their surrounding whitespace (Fetch
    "normalize"), and obsolete line folding joins a line to the previous value with a space
    (RFC 9112 §5.2). Values are decoded as ISO-8859-1, one character per byte, like
    http.client and the browser's ByteString.
    """
    lines = [line[:-1] if line.endswith(b"\r") else line for line in head.split(b"\n")]
    fields: list[tuple[str, str]] = []
    index = 0
    while index < len(lines):
        # A block is a status line, then fields up to an empty line; http.client skips
        # "100 Continue" blocks, and so does this.
        status = lines[index].split(None, 2)[1:2]
        index += 1
        fields = []
        while index < len(lines) and lines[index]:
            line = lines[index].decode("iso-8859-1")
            index += 1
            if line[0] in _OWS:
                if fields:  # obs-fold: a continuation of the previous value
                    name, value = fields[-1]
                    fields[-1] = (name, f"{value} {line.strip(_OWS)}".strip(_OWS))
            elif ":" in line:
                name, value = line.split(":", 1)
                fields.append((name, value.strip(_OWS)))
        index += 1
        if status != [b"100"]:
            break
    return fields


def _send(
    target: _Target, method: str, headers: list[tuple[str, str]], deadline: _Deadline
) -> tuple[int, list[tuple[str, str]]]:
    conn = _Connection(target, deadline)
    where = f"{target.host}:{target.port}"
    try:
        conn.putrequest(method, target.path, skip_accept_encoding=True)
        sent = {k.lower() for k, _ in headers}
        for name, value in [("User-Agent", f"corsware-probe/{__version__}"), ("Accept", "*/*"),
                            ("Sec-Fetch-Mode", "cors")]:  # fmt: skip
            if name.lower() not in sent:
                conn.putheader(name, value)
        for name, value in headers:
            conn.putheader(name, value)
        body = b"" if method in ("POST", "PUT", "PATCH") else None
        if body is not None:
            conn.putheader("Content-Length", "0")
        conn.endheaders()
        resp = conn.getresponse()
        resp.read(_MAX_BODY)
    except TimeoutError:  # socket.timeout is TimeoutError since 3.10; _Expired is one too
        raise CommandError(
            "timeout",
            f"{target.url} did not answer within {deadline.seconds:g} s (--timeout: one deadline for the whole "
            "probe, connecting, sending and reading every response; raise it, at most "
            f"{MAX_TIMEOUT:g} s, if the server is just slow)",
        ) from None
    except ConnectionRefusedError:
        raise CommandError(
            "unreachable", f"cannot connect to {where}: connection refused (is the server running?)"
        ) from None
    except socket.gaierror as exc:
        raise CommandError("unreachable", f"cannot resolve {target.host!r}: {exc.strerror}") from None
    except ssl.SSLError as exc:
        reason = printable(str(exc.reason or exc))
        raise CommandError("tls", f"TLS handshake with {where} failed: {reason}") from None
    except http.client.HTTPException as exc:
        # The exception can quote what the server sent (a bad status line): escaped.
        shown = printable(f"{type(exc).__name__}: {exc}")
        raise CommandError("not_http", f"{where} did not answer with HTTP/1.x ({shown})") from None
    except OSError as exc:
        raise CommandError("unreachable", f"cannot talk to {where}: {exc.strerror or exc}") from None
    finally:
        conn.close()
        if conn.bound is not None:
            conn.bound.sock.close()
    assert conn.bound is not None  # noqa: S101 - getresponse() has connected
    return resp.status, _head_fields(bytes(conn.bound.reader.head))


def _notes(status: int, headers: list[tuple[str, str]], req: BrowserRequest) -> list[str]:
    notes: list[str] = []
    lowered = {k.lower(): v for k, v in headers}
    acao = lowered.get("access-control-allow-origin")
    vary = {t.strip().lower() for t in lowered.get("vary", "").split(",")}
    if acao not in (None, "*") and "origin" not in vary and "*" not in vary:
        # Fetch §"CORS protocol and HTTP caches".
        notes.append("Access-Control-Allow-Origin depends on Origin but the response lacks 'Vary: Origin': "
                     "a cache can serve it to another origin")  # fmt: skip
    if 300 <= status < 400 and "location" in lowered:
        notes.append(f"redirect to {lowered['location']}: the browser follows it and checks that response too")
    return notes


def run_probe(args: argparse.Namespace) -> int:
    """Send the preflight (when a browser would) and the request, then judge both."""
    target = _Target(args.url)
    req = browser_request(args)
    if not 0 < args.timeout <= MAX_TIMEOUT:
        raise CommandError("usage", f"--timeout must be between 0 and {MAX_TIMEOUT:g} seconds, not {args.timeout:g}")
    if args.preflight_only and not req.needs_preflight:
        raise CommandError("usage", "--preflight-only: this request needs no preflight, so nothing would be sent")
    deadline = _Deadline(args.timeout)  # starts now: both requests share it
    steps: list[Step] = []
    if req.needs_preflight:
        pf_headers = req.preflight_headers()
        status, headers = _send(target, "OPTIONS", pf_headers, deadline)
        step = Step("preflight", "OPTIONS", target.url, pf_headers, status, headers, "the server")
        step.failures = check_preflight(status, headers, req)
        step.notes = _notes(status, headers, req)
        steps.append(step)
    if (not steps or not steps[0].failures) and not args.preflight_only:
        actual_headers = req.actual_headers()
        status, headers = _send(target, req.method, actual_headers, deadline)
        step = Step("actual", req.method, target.url, actual_headers, status, headers, "the server")
        step.failures = check_actual(headers, req)
        step.notes = _notes(status, headers, req)
        steps.append(step)
    report = Report(req, target.url, preflight_reasons(req), steps, preflight_only=args.preflight_only)
    report.use_engine(args.engine)
    return report.emit(args.json)
