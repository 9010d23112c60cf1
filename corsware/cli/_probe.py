"""``corsware probe``: send what a browser sends to any server and judge the answers."""

from __future__ import annotations

import argparse
import http.client
import socket
import ssl
from urllib.parse import urlsplit

from .. import __version__
from .._browser import BrowserRequest, check_actual, check_preflight
from ._output import CommandError
from ._report import Report, Step, preflight_reasons
from ._requests import browser_request

__all__ = ["MAX_TIMEOUT", "run_probe"]

#: Upper bound of ``--timeout`` so a probe can never hang for long.
MAX_TIMEOUT = 120.0
_MAX_BODY = 1 << 20


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


def _send(
    target: _Target, method: str, headers: list[tuple[str, str]], timeout: float
) -> tuple[int, list[tuple[str, str]]]:
    conn: http.client.HTTPConnection
    if target.scheme == "https":
        conn = http.client.HTTPSConnection(target.host, target.port, timeout=timeout,
                                           context=ssl.create_default_context())  # fmt: skip
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
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
        return resp.status, [(k, v) for k, v in resp.getheaders()]
    except TimeoutError:  # socket.timeout is TimeoutError since 3.10
        raise CommandError("timeout", f"{where} did not answer within {timeout:g} s (--timeout)") from None
    except ConnectionRefusedError:
        raise CommandError(
            "unreachable", f"cannot connect to {where}: connection refused (is the server running?)"
        ) from None
    except socket.gaierror as exc:
        raise CommandError("unreachable", f"cannot resolve {target.host!r}: {exc.strerror}") from None
    except ssl.SSLError as exc:
        raise CommandError("tls", f"TLS handshake with {where} failed: {exc.reason or exc}") from None
    except http.client.HTTPException as exc:
        raise CommandError("not_http", f"{where} did not answer with HTTP/1.x ({type(exc).__name__}: {exc})") from None
    except OSError as exc:
        raise CommandError("unreachable", f"cannot talk to {where}: {exc.strerror or exc}") from None
    finally:
        conn.close()


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
    steps: list[Step] = []
    if req.needs_preflight:
        pf_headers = req.preflight_headers()
        status, headers = _send(target, "OPTIONS", pf_headers, args.timeout)
        step = Step("preflight", "OPTIONS", target.url, pf_headers, status, headers, "the server")
        step.failures = check_preflight(status, headers, req)
        step.notes = _notes(status, headers, req)
        steps.append(step)
    if (not steps or not steps[0].failures) and not args.preflight_only:
        actual_headers = req.actual_headers()
        status, headers = _send(target, req.method, actual_headers, args.timeout)
        step = Step("actual", req.method, target.url, actual_headers, status, headers, "the server")
        step.failures = check_actual(headers, req)
        step.notes = _notes(status, headers, req)
        steps.append(step)
    report = Report(req, target.url, preflight_reasons(req), steps, preflight_only=args.preflight_only)
    return report.emit(args.json)
