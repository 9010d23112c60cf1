"""The two-origin demo: a page on one origin calling an API on another, wrapped by corsware.

``python -m corsware.demo`` (or ``make demo``) starts three local servers, the
"client on :5000, API on :5001" setup of countless Flask CORS tutorials, plus a second
page on :5002 playing an origin that is *not* allowed:

- ``http://localhost:5000/``: a page whose script calls the API (allowed origin)
- ``http://localhost:5002/``: the same page on another origin (refused)
- ``http://localhost:5001/api/...``: a WSGI API wrapped by ``corsware.wsgi.CORSMiddleware``

It then makes the calls a browser would (preflight, then the request) from both origins
and prints what the browser would conclude. ``--once`` exits after that.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from ._policy import CORSPolicy
from .wsgi import CORSMiddleware

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["main"]

_PAGE = """<!doctype html>
<meta charset="utf-8">
<title>corsware demo: {label}</title>
<style>body{{font:16px system-ui;margin:2em}} pre{{background:#f4f4f4;padding:1em}}</style>
<h1>corsware demo — page on {origin}</h1>
<p>This page calls the API on <code>{api}</code> with <code>fetch()</code>: a JSON POST
(preflighted) and a GET that reads the exposed <code>X-Request-Id</code> header.</p>
<pre id="out">calling…</pre>
<script>
const out = document.getElementById("out");
const log = (line) => out.textContent = (out.textContent === "calling…" ? "" : out.textContent) + line + "\\n";
(async () => {{
  try {{
    const r = await fetch("{api}/api/echo", {{method: "POST",
      headers: {{"Content-Type": "application/json"}}, body: JSON.stringify({{hello: "corsware"}})}});
    log("POST /api/echo -> " + r.status + " " + await r.text());
  }} catch (e) {{ log("POST /api/echo -> blocked by the browser: " + e); }}
  try {{
    const r = await fetch("{api}/api/hello");
    log("GET /api/hello -> " + r.status + " X-Request-Id=" + r.headers.get("X-Request-Id") + " " + await r.text());
  }} catch (e) {{ log("GET /api/hello -> blocked by the browser: " + e); }}
}})();
</script>
"""


def api_app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """The demo API: knows nothing about CORS."""
    path = environ.get("PATH_INFO", "")
    if path == "/api/hello":
        body = json.dumps({"message": "hello from the API"}).encode()
    elif path == "/api/echo" and environ["REQUEST_METHOD"] == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.dumps({"you_sent": json.loads(environ["wsgi.input"].read(length) or b"null")}).encode()
    else:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]
    start_response("200 OK", [("Content-Type", "application/json"), ("X-Request-Id", "42")])
    return [body]


def page_app(label: str, origin: str, api: str) -> Any:
    """A static page that calls the API from ``origin``."""
    html = _PAGE.format(label=label, origin=origin, api=api).encode()

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [html]

    return app


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _browser_call(api: str, origin: str) -> str:
    """Do what a browser does for a JSON POST from ``origin``; return its verdict."""
    pre = urllib.request.Request(f"{api}/api/echo", method="OPTIONS")
    pre.add_header("Origin", origin)
    pre.add_header("Access-Control-Request-Method", "POST")
    pre.add_header("Access-Control-Request-Headers", "content-type")
    try:
        with urllib.request.urlopen(pre, timeout=5) as resp:
            status, headers = resp.status, resp.headers
    except urllib.error.HTTPError as err:
        status, headers = err.code, err.headers
    if not 200 <= status < 300 or headers.get("Access-Control-Allow-Origin") != origin:
        return f"preflight {status}, no Access-Control-Allow-Origin -> the browser blocks the call"
    req = urllib.request.Request(f"{api}/api/echo", data=b'{"hello": "corsware"}', method="POST")
    req.add_header("Origin", origin)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=5) as resp:
        body = resp.read().decode()
        acao = resp.headers.get("Access-Control-Allow-Origin")
    verdict = "readable by the page" if acao == origin else "blocked (no ACAO)"
    return f"preflight {status} OK, POST {resp.status} {body} -> {verdict}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The demo's options (shared with ``corsware demo``)."""
    parser.add_argument("--host", default="localhost", help="host name the pages use (default: localhost)")
    parser.add_argument("--client-port", type=int, default=5000)
    parser.add_argument("--api-port", type=int, default=5001)
    parser.add_argument("--other-port", type=int, default=5002)
    parser.add_argument("--once", action="store_true", help="make the calls, print the result and exit")
    parser.add_argument("--json", action="store_true", help="print the servers and results as one JSON document")


def main(argv: list[str] | None = None) -> int:
    """Run the demo; see the module docstring."""
    parser = argparse.ArgumentParser(prog="corsware demo", description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_arguments(parser)
    args = parser.parse_args(argv)

    ports = {}
    for name in ("client_port", "api_port", "other_port"):
        wanted = getattr(args, name)
        ports[name] = wanted if _port_free(wanted) else _free_port()
        if ports[name] != wanted:
            print(f"note: port {wanted} is busy, using {ports[name]} instead")
    host = args.host
    client = f"http://{host}:{ports['client_port']}"
    other = f"http://{host}:{ports['other_port']}"
    api = f"http://{host}:{ports['api_port']}"

    policy = CORSPolicy(
        allow_origins=[client, f"http://127.0.0.1:{ports['client_port']}"],
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
        expose_headers=["X-Request-Id"],
        max_age=60,
    )
    servers = [
        make_server("127.0.0.1", ports["client_port"], page_app("allowed origin", client, api), _Server, _QuietHandler),
        make_server("127.0.0.1", ports["other_port"], page_app("refused origin", other, api), _Server, _QuietHandler),
        make_server("127.0.0.1", ports["api_port"], CORSMiddleware(api_app, policy), _Server, _QuietHandler),
    ]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        if args.json:
            calls = {client: _browser_call(api, client), other: _browser_call(api, other)}
            print(json.dumps({"client": client, "other": other, "api": f"{api}/api/hello",
                              "policy": policy.describe(), "calls": calls}, indent=2))  # fmt: skip
            sys.stdout.flush()
            if args.once:
                return 0
            threading.Event().wait()
        print("corsware demo: three local servers\n")
        print(f"  client page   {client}/   (an allowed origin)")
        print(f"  other page    {other}/   (an origin the API does not allow)")
        print(f"  API           {api}/api/hello   (wrapped by corsware.wsgi.CORSMiddleware)\n")
        print("policy:", json.dumps(policy.describe()), "\n")
        print("What a browser does for a JSON POST to the API:")
        print(f"  from {client}: {_browser_call(api, client)}")
        print(f"  from {other}: {_browser_call(api, other)}")
        if args.once:
            return 0
        print("\nOpen the two pages in a browser to watch it live. Ctrl-C stops the demo.")
        threading.Event().wait()
    except KeyboardInterrupt:
        print("\nstopped")
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
