"""The two-origin demo: a page on one origin calling an API on another, wrapped by corsware.

``python -m corsware.demo`` (or ``make demo``) starts three local servers, the
"client on :5000, API on :5001" setup of countless Flask CORS tutorials, plus a second
page on :5002 playing an origin that is *not* allowed:

- ``http://localhost:5000/``: a page whose script calls the API (allowed origin)
- ``http://localhost:5002/``: the same page on another origin (refused)
- ``http://localhost:5001/api/...``: a WSGI API wrapped by ``corsware.wsgi.CORSMiddleware``

It then makes the calls a browser would (preflight, then the request) from both origins
and prints what the browser would conclude. ``--once`` exits after that. Every
cross-origin request the API receives (from these calls or from the pages in a browser) is
logged on the terminal with corsware's decision and its reason code; the refused page says
what the browser console shows. Re-running right away keeps the same ports.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable
from html import escape as html_escape
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any, TextIO
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from ._decision import RequestKind
from ._log import escape
from ._policy import CORSPolicy
from .wsgi import CORSMiddleware

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["main"]

_PAGE = """<!doctype html>
<meta charset="utf-8">
<title>corsware demo: {label}</title>
<style>body{{font:16px system-ui;margin:2em}} pre{{background:#f4f4f4;padding:1em}}</style>
<h1>corsware demo — page on {origin}</h1>
<p>This page calls the API on <code>{api}</code> with <code>fetch()</code>: a JSON POST
(preflighted) and a GET that reads the exposed <code>X-Request-Id</code> header.</p>
<pre id="out">calling…</pre>
{console_hint}<script>
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


# What the refused page tells the reader: the page's script only sees "TypeError: Failed
# to fetch"; the reason is in the console, in these words (Chromium's messages, see
# docs/troubleshooting.md). A refused preflight is a 403, hence "HTTP ok status" for the POST.
_CONSOLE_HINT = """<h2>Why does it say "blocked"?</h2>
<p>This origin is not in the API's <code>allow_origins</code>, so corsware adds no
<code>Access-Control-Allow-Origin</code> header and the browser blocks both calls (the
<code>POST</code> is not even sent): the script above only gets
<code>TypeError: Failed to fetch</code>. The reason is in the
browser console: open the developer tools (F12, or Ctrl+Shift+I / Cmd+Option+I) and choose
<b>Console</b>. Chromium (Chrome, Edge) says, for the <code>GET</code>:</p>
<pre>{get_message}</pre>
<p>and for the JSON <code>POST</code>, whose preflight corsware refuses with a 403:</p>
<pre>{post_message}</pre>
<p>The terminal running the demo shows the same calls from the API's side, each with
corsware's decision and its reason code (<code>origin_not_allowed</code>).</p>
"""
_BLOCKED = "Access to fetch at '{url}' from origin '{origin}' has been blocked by CORS policy: "
_NO_ACAO = "No 'Access-Control-Allow-Origin' header is present on the requested resource."
_PREFLIGHT_NOT_OK = "Response to preflight request doesn't pass access control check: It does not have HTTP ok status."


def _not_ready(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Placeholder app of a server bound before its app is built (never serves: the
    servers start after ``set_app``)."""
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


def page_app(label: str, origin: str, api: str, *, refused: bool = False) -> Any:
    """A static page that calls the API from ``origin``; a ``refused`` origin's page also
    says where to look (the browser console) and what it will say."""
    hint = ""
    if refused:
        get_message = _BLOCKED.format(url=f"{api}/api/hello", origin=origin) + _NO_ACAO
        post_message = _BLOCKED.format(url=f"{api}/api/echo", origin=origin) + _PREFLIGHT_NOT_OK
        hint = _CONSOLE_HINT.format(
            get_message=html_escape(get_message, quote=False), post_message=html_escape(post_message, quote=False)
        )
    html = _PAGE.format(label=label, origin=origin, api=api, console_hint=hint).encode()

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [html]

    return app


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # SO_REUSEADDR: the previous run's connections stay in TIME-WAIT on these ports for a
    # minute (RFC 9293 §3.6, https://www.rfc-editor.org/rfc/rfc9293#section-3.6); without it
    # a re-run could not bind them and moved to random ports. It never lets two listening
    # servers share a port.
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve(port: int, app: WSGIApplication) -> _Server:
    """A server for ``app`` on ``port``, or on a free port when that one is really taken."""
    try:
        return make_server("127.0.0.1", port, app, _Server, _QuietHandler)
    except OSError:
        server = make_server("127.0.0.1", 0, app, _Server, _QuietHandler)
        print(f"note: port {port} is busy, using {server.server_port} instead")
        return server


class _DecisionLog:
    """Wraps the API: prints one line per cross-origin request with corsware's decision.

    The decision is the policy's own (``CORSPolicy.evaluate``), made from the same method,
    path and headers the middleware sees. Values from the request are escaped, so a crafted
    Origin cannot write control characters to the terminal.
    """

    def __init__(self, app: WSGIApplication, policy: CORSPolicy, out: TextIO) -> None:
        self.app = app
        self.policy = policy
        self.out = out
        self.lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None:
            method = environ.get("REQUEST_METHOD", "GET")
            path = environ.get("PATH_INFO", "")
            headers = [(k[5:].replace("_", "-"), v) for k, v in environ.items() if k.startswith("HTTP_")]
            decision = self.policy.evaluate(method, path, headers)
            kind = " (preflight)" if decision.kind is RequestKind.PREFLIGHT else ""
            verdict = "allowed" if decision.allowed else "refused"
            line = f"  [API] {method} {escape(path)}{kind} origin {escape(origin)}: {verdict} [{decision.reason}]\n"
            with self.lock:
                self.out.write(line)
                self.out.flush()
        return self.app(environ, start_response)


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

    # Bound first, so the pages and the policy name the ports really in use; the apps
    # (which need those names) are set once the ports are known.
    names = ("client_port", "other_port", "api_port")
    servers = [_serve(getattr(args, name), _not_ready) for name in names]
    ports = {name: server.server_port for name, server in zip(names, servers, strict=True)}
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
    # The decision of every cross-origin call, as it happens (to stderr under --json,
    # whose stdout is one JSON document).
    decisions = _DecisionLog(CORSMiddleware(api_app, policy), policy, sys.stderr if args.json else sys.stdout)
    servers[0].set_app(page_app("allowed origin", client, api))
    servers[1].set_app(page_app("refused origin", other, api, refused=True))
    servers[2].set_app(decisions)
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
