"""Run nginx on loopback in front of a tiny upstream, with corsware's exported snippet."""

from __future__ import annotations

import contextlib
import http.client
import re
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from corsware.cli._nginx import NginxConfig

from .drivers import Request, Response
from .servers import free_port, running

#: The upstream plays tests/support/shared_app.py's app: it marks its responses so a test can tell
#: whether a request reached it (a preflight never must).
_CONF = """
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    default_type text/plain;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    # Big enough for the table's 64 KiB Origin and 1 MiB Access-Control-Request-Headers,
    # so the exported maps (not nginx's 8 KiB default limit) refuse them.
    large_client_header_buffers 4 2m;
    include {d}/corsware-maps.conf;

    server {{
        listen 127.0.0.1:{upstream};
        location / {{ add_header X-App-Called 1 always; return 200 "ok"; }}
        location = /notfound {{ add_header X-App-Called 1 always; return 404 "not found"; }}
        location = /app-cors {{
            add_header X-App-Called 1 always;
            add_header Access-Control-Allow-Origin "*" always;
            add_header Access-Control-Allow-Credentials "true" always;
            return 200 "ok";
        }}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            include {d}/corsware-cors.conf;
            proxy_pass http://127.0.0.1:{upstream};
        }}
    }}
}}
"""


def nginx_version(binary: str) -> tuple[int, ...]:
    out = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False).stderr
    match = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(x) for x in match.groups()) if match else (0, 0, 0)


@contextlib.contextmanager
def nginx_with(binary: str, config: NginxConfig) -> Iterator[int]:
    """Start nginx with ``config`` included; yield the port of the CORS-enforcing server."""
    with tempfile.TemporaryDirectory(prefix="corsware-nginx-") as d:
        port, upstream = free_port(), free_port()
        Path(d, "corsware-maps.conf").write_text(config.maps)
        Path(d, "corsware-cors.conf").write_text(config.location)
        Path(d, "nginx.conf").write_text(_CONF.format(d=d, port=port, upstream=upstream))
        cmd = [binary, "-p", d, "-c", f"{d}/nginx.conf", "-e", f"{d}/error.log"]
        with running(cmd, port):
            yield port


def send(port: int, req: Request) -> Response:
    """Send one request as-is (repeated headers stay repeated) and normalise the response."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest(req.method, req.path, skip_accept_encoding=True)
        for name, value in req.headers:
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read()
        headers = [(k.lower(), v) for k, v in resp.getheaders()]
    finally:
        conn.close()
    called = any(k == "x-app-called" for k, _ in headers)
    headers = [(k, v) for k, v in headers if k != "x-app-called"]
    return Response(resp.status, headers, body, called)
