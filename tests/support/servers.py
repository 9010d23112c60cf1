"""Start real servers (uvicorn, gunicorn, uWSGI, nginx, ...) on loopback for tests.

Every server gets a free port, is waited for until it accepts connections, and is always
stopped (terminate, then kill) when the ``with`` block ends, with its output shown if it
failed to start.
"""

from __future__ import annotations

import contextlib
import os
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(server: socketserver.BaseServer) -> Iterator[None]:
    """Run an in-process server (``http.server``, ``wsgiref``) in a thread for the block;
    it is always shut down and closed when the block ends."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def wsgi_server(app: Any, port: int = 0) -> WSGIServer:
    """A threaded, quiet ``wsgiref`` server for ``app`` on 127.0.0.1 (``port`` 0: a free one);
    run it with :func:`serving`."""
    return make_server("127.0.0.1", port, app, _ThreadingWSGIServer, _QuietHandler)


def wait_for_port(port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 20.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout}s")


@contextlib.contextmanager
def running(
    cmd: Sequence[str],
    port: int,
    *,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    timeout: float = 20.0,
    output: str | os.PathLike[str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``cmd`` (which must listen on ``port``) for the duration of the block.

    ``output``: a file to send the server's stdout and stderr to (kept, so a test can read
    what the server logged); by default a temporary file.
    """
    log = tempfile.TemporaryFile() if output is None else open(output, "w+b")
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    proc = subprocess.Popen(list(cmd), stdout=log, stderr=subprocess.STDOUT, env=full_env, cwd=cwd)
    try:
        try:
            wait_for_port(port, proc, timeout)
        except (RuntimeError, TimeoutError) as exc:
            log.seek(0)
            output = log.read().decode(errors="replace")[-4000:]
            raise RuntimeError(f"{exc}\n--- {cmd[0]} output ---\n{output}") from None
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        log.close()


PYTHON = sys.executable
