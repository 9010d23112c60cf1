"""How the tests start each real server around the shared test app, with a given policy.

Every start goes through the mounting corsware documents (``docs/servers.md``):

- gunicorn: ``corsware.wsgi:wrap("tests.support.server_app:wsgi_app")`` with the policy in a
  JSON policy file named by ``CORSWARE_POLICY_FILE``;
- uvicorn: ``--factory corsware.asgi:from_env`` with ``CORSWARE_APP`` and one
  ``CORSWARE_<KEYWORD>`` variable per policy option;
- uWSGI: ``--module 'corsware.wsgi:from_env()'`` with ``CORSWARE_APP`` and variables;
- nginx: ``proxy_pass`` to a gunicorn, or ``uwsgi_pass`` to a uWSGI, started as above;
- granian: ``--factory corsware.asgi:from_env`` (``--interface asgi``) or
  ``--factory corsware.wsgi:from_env`` (``--interface wsgi``), over HTTP/1.1 and, with
  ``--http 2``, HTTP/2 without TLS (h2c with prior knowledge);
- hypercorn: ``'corsware.asgi:from_env()'`` (hypercorn evaluates the part after the colon,
  so a call is allowed), over HTTP/1.1 and h2c (prior knowledge, on the same port);
- daphne: ``tests.support.daphne_app:application``, a module doing
  ``application = corsware.asgi.wrap("tests.support.server_app:asgi_app")`` (daphne calls no factory).

Policies that no file or variable can hold (compiled regexes, callbacks) are built by
``tests.support.server_app.case_wsgi()`` / ``case_asgi`` from the case's index instead.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .ci import need_executable
from .servers import PYTHON, free_port, running

REPO = Path(__file__).resolve().parents[2]
_GUNICORN_HAS_CONTROL_SOCKET = hasattr(importlib.import_module("gunicorn.config"), "ControlSocketDisable")


@dataclass
class Server:
    """A running server (or nginx + its upstream) serving the recording test app."""

    kind: str
    port: int
    logs: list[Path]  # what the server(s) wrote on stdout/stderr
    calls: Path  # one line per request that reached the app

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def calls_count(self) -> int:
        return len(self.calls.read_bytes().splitlines()) if self.calls.exists() else 0

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.logs if p.exists())

    def wait_logged(self, text: str, more_than: int = 0, timeout: float = 5.0) -> int:
        """Wait until the server has logged ``text`` more than ``more_than`` times; returns the count."""
        deadline = time.monotonic() + timeout
        while True:
            count = self.log_text().count(text)
            if count > more_than or time.monotonic() > deadline:
                return count
            time.sleep(0.05)


def is_jsonable(policy: dict[str, Any]) -> bool:
    try:
        json.dumps(policy)
    except TypeError:
        return False
    return True


def policy_env(policy: dict[str, Any]) -> dict[str, str]:
    """The ``CORSWARE_<KEYWORD>`` variables that describe ``policy`` (as docs/servers.md says)."""
    env: dict[str, str] = {}
    for name, value in policy.items():
        var = "CORSWARE_" + name.upper()
        if isinstance(value, bool):
            env[var] = "true" if value else "false"
        elif value is None:
            env[var] = "none"
        elif isinstance(value, int):
            env[var] = str(value)
        elif isinstance(value, str):
            env[var] = value  # "*" or a single regex, as written
        elif isinstance(value, list) and name != "allow_origin_regex" and not any("," in v for v in value):
            env[var] = ", ".join(value)  # the comma-separated form
        else:
            env[var] = json.dumps(value)  # lists of regexes, paths: JSON
    return env


@dataclass
class Setup:
    """What a server needs to serve one policy: its environment, and whether the policy can
    travel as a file or variables (else the server imports it from tests/support/server_app.py)."""

    env: dict[str, str]
    jsonable: bool


def _setup(tmp: Path, policy: dict[str, Any], case_index: int, *, use_file: bool) -> Setup:
    calls = tmp / "calls"
    env = {"SERVERS_CALLS_FILE": str(calls)}
    jsonable = is_jsonable(policy)
    if not jsonable:
        env["SERVERS_CASE"] = str(case_index)
    elif use_file:
        policy_file = tmp / "policy.json"
        policy_file.write_text(json.dumps(policy))
        env["CORSWARE_POLICY_FILE"] = str(policy_file)
    elif policy:
        env.update(policy_env(policy))
    else:
        # An empty policy cannot be said with variables (corsware refuses "no policy" there).
        policy_file = tmp / "policy.json"
        policy_file.write_text("{}")
        env["CORSWARE_POLICY_FILE"] = str(policy_file)
    return Setup(env, jsonable)


def gunicorn_cmd(port: int, app: str, worker: str = "sync") -> list[str]:
    cmd = [PYTHON, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--worker-class", worker]
    if worker == "gthread":
        cmd += ["--threads", "4"]
    if _GUNICORN_HAS_CONTROL_SOCKET:
        # gunicorn >= 25 opens a control socket at a fixed path under $HOME: parallel
        # servers (and developers' own gunicorns) would fight over it.
        cmd += ["--no-control-socket"]
    return [*cmd, "--graceful-timeout", "2", app]


def uvicorn_cmd(port: int, factory: str, *, lifespan: str | None = "off") -> list[str]:
    """uvicorn serving ``factory()``; ``lifespan=None`` keeps uvicorn's default ("auto")."""
    return [
        PYTHON, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port), "--factory", factory,
        *(["--lifespan", lifespan] if lifespan is not None else []),
        "--no-access-log", "--timeout-graceful-shutdown", "2",
    ]  # fmt: skip


def uwsgi_cmd(port: int, module: str, *, protocol: str = "http") -> list[str]:
    binary = str(Path(PYTHON).parent / "uwsgi")
    if not os.path.exists(binary):
        binary = need_executable("uwsgi", "pip install uwsgi (the test extra)")
    socket_opt = "--http-socket" if protocol == "http" else "--socket"
    return [
        binary, socket_opt, f"127.0.0.1:{port}", "--module", module, "--need-app", "--master",
        "--processes", "1", "--die-on-term", "--virtualenv", sys.prefix, "--disable-logging",
        "--chdir", str(REPO),
    ]  # fmt: skip


def wait_uwsgi_app(proc: subprocess.Popen[bytes], log: Path, timeout: float = 20.0) -> None:
    """uWSGI listens before it loads the app: wait until the app is loaded (or uWSGI,
    with ``--need-app``, gave up), so a broken start fails here and not on a request."""
    deadline = time.monotonic() + timeout
    while "(default app)" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"uWSGI did not load the app:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.05)


def _wsgi_gunicorn_app(setup: Setup) -> str:
    return (
        'corsware.wsgi:wrap("tests.support.server_app:wsgi_app")'
        if setup.jsonable
        else "tests.support.server_app:case_wsgi()"
    )


def _uwsgi_module(setup: Setup) -> str:
    if setup.jsonable:
        setup.env["CORSWARE_APP"] = "tests.support.server_app:wsgi_app"
        return "corsware.wsgi:from_env()"
    return "tests.support.server_app:case_wsgi()"


@contextlib.contextmanager
def _gunicorn(tmp: Path, policy: dict[str, Any], case_index: int, worker: str) -> Iterator[Server]:
    setup = _setup(tmp, policy, case_index, use_file=True)
    port = free_port()
    log = tmp / "gunicorn.log"
    with running(gunicorn_cmd(port, _wsgi_gunicorn_app(setup), worker), port, env=setup.env, cwd=str(REPO), output=log):
        yield Server(f"gunicorn-{worker}", port, [log], tmp / "calls")


@contextlib.contextmanager
def uvicorn(tmp: Path, policy: dict[str, Any], case_index: int) -> Iterator[Server]:
    setup = _setup(tmp, policy, case_index, use_file=False)
    if setup.jsonable:
        setup.env["CORSWARE_APP"] = "tests.support.server_app:asgi_app"
        factory = "corsware.asgi:from_env"
    else:
        factory = "tests.support.server_app:case_asgi"
    port = free_port()
    log = tmp / "uvicorn.log"
    with running(uvicorn_cmd(port, factory), port, env=setup.env, cwd=str(REPO), output=log):
        yield Server("uvicorn", port, [log], tmp / "calls")


@contextlib.contextmanager
def uwsgi(tmp: Path, policy: dict[str, Any], case_index: int) -> Iterator[Server]:
    setup = _setup(tmp, policy, case_index, use_file=False)
    module = _uwsgi_module(setup)
    port = free_port()
    log = tmp / "uwsgi.log"
    with running(uwsgi_cmd(port, module), port, env=setup.env, cwd=str(REPO), output=log) as proc:
        wait_uwsgi_app(proc, log)
        yield Server("uwsgi", port, [log], tmp / "calls")


def granian_cmd(port: int, factory: str, *, interface: str, http: str = "1") -> list[str]:
    """granian serving ``factory()`` (``interface``: "asgi" or "wsgi"; ``http``: "1" or "2")."""
    cmd = [
        PYTHON, "-m", "granian", "--interface", interface, "--http", http, "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--no-access-log",
    ]  # fmt: skip
    if interface == "wsgi":
        cmd += ["--blocking-threads", "4"]  # the default (512) draws a warning on small machines
    return [*cmd, factory]


def hypercorn_cmd(port: int, app: str) -> list[str]:
    """hypercorn serving ``app`` (it ``eval``s what follows the colon: ``module:factory()``).

    HTTP/1.1 and h2c (prior knowledge, or an ``Upgrade: h2c``) are served on the same port.
    """
    return [PYTHON, "-m", "hypercorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--graceful-timeout", "2", app]


def daphne_cmd(port: int, app: str) -> list[str]:
    return [PYTHON, "-m", "daphne", "--bind", "127.0.0.1", "--port", str(port), "--application-close-timeout", "2", app]


def _asgi_factory(setup: Setup) -> str:
    if setup.jsonable:
        setup.env["CORSWARE_APP"] = "tests.support.server_app:asgi_app"
        return "corsware.asgi:from_env"
    return "tests.support.server_app:case_asgi"


@contextlib.contextmanager
def _granian_server(tmp: Path, policy: dict[str, Any], case_index: int, interface: str, http: str) -> Iterator[Server]:
    setup = _setup(tmp, policy, case_index, use_file=False)
    if interface == "asgi":
        factory = _asgi_factory(setup)
    elif setup.jsonable:
        setup.env["CORSWARE_APP"] = "tests.support.server_app:wsgi_app"
        factory = "corsware.wsgi:from_env"
    else:
        factory = "tests.support.server_app:case_wsgi"
    port = free_port()
    log = tmp / "granian.log"
    cmd = granian_cmd(port, factory, interface=interface, http=http)
    with running(cmd, port, env=setup.env, cwd=str(REPO), output=log):
        yield Server(f"granian-{interface}" + ("-h2c" if http == "2" else ""), port, [log], tmp / "calls")


@contextlib.contextmanager
def _hypercorn_server(tmp: Path, policy: dict[str, Any], case_index: int, kind: str) -> Iterator[Server]:
    setup = _setup(tmp, policy, case_index, use_file=True)
    app = "tests.support.server_app:case_asgi()" if not setup.jsonable else "corsware.asgi:from_env()"
    if setup.jsonable:
        setup.env["CORSWARE_APP"] = "tests.support.server_app:asgi_app"
    port = free_port()
    log = tmp / "hypercorn.log"
    with running(hypercorn_cmd(port, app), port, env=setup.env, cwd=str(REPO), output=log):
        yield Server(kind, port, [log], tmp / "calls")


@contextlib.contextmanager
def daphne(tmp: Path, policy: dict[str, Any], case_index: int) -> Iterator[Server]:
    setup = _setup(tmp, policy, case_index, use_file=False)
    port = free_port()
    log = tmp / "daphne.log"
    with running(
        daphne_cmd(port, "tests.support.daphne_app:application"), port, env=setup.env, cwd=str(REPO), output=log
    ):
        yield Server("daphne", port, [log], tmp / "calls")


#: The kinds spoken to over HTTP/2 (h2c with prior knowledge): the tests' httpx clients
#: there use ``http1=False, http2=True``.
HTTP2_KINDS = frozenset({"granian-asgi-h2c", "granian-wsgi-h2c", "hypercorn-h2c"})


# -- nginx -----------------------------------------------------------------------------

#: The variables of Debian's /etc/nginx/uwsgi_params, written out so the config stands alone.
UWSGI_PARAMS = """
        uwsgi_param QUERY_STRING $query_string;
        uwsgi_param REQUEST_METHOD $request_method;
        uwsgi_param CONTENT_TYPE $content_type;
        uwsgi_param CONTENT_LENGTH $content_length;
        uwsgi_param REQUEST_URI $request_uri;
        uwsgi_param PATH_INFO $document_uri;
        uwsgi_param DOCUMENT_ROOT $document_root;
        uwsgi_param SERVER_PROTOCOL $server_protocol;
        uwsgi_param REQUEST_SCHEME $scheme;
        uwsgi_param HTTPS $https if_not_empty;
        uwsgi_param REMOTE_ADDR $remote_addr;
        uwsgi_param REMOTE_PORT $remote_port;
        uwsgi_param SERVER_PORT $server_port;
        uwsgi_param SERVER_NAME $server_name;"""


def nginx_config(tmp: Path, port: int, upstream: int, *, via: str) -> str:
    """A complete nginx.conf: everything under ``tmp``, one server on ``port``.

    ``via="proxy"`` forwards HTTP (``proxy_pass``), ``via="uwsgi"`` speaks the uwsgi
    protocol (``uwsgi_pass``). ``/proxy/`` is mounted with the prefix stripped, as in the
    blog post the tests follow (``proxy_pass http://127.0.0.1:5001/;``).
    """
    if via == "proxy":
        # The request headers (Origin, Access-Control-Request-*) pass through by default;
        # the response's Access-Control-* and Vary headers too. Nothing CORS is added here.
        target = f"""
            proxy_pass http://127.0.0.1:{upstream};
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;"""
        prefix = f"""
        location /proxy/ {{
            proxy_pass http://127.0.0.1:{upstream}/;
            proxy_http_version 1.1;
        }}"""
    else:
        target = f"""
            uwsgi_pass 127.0.0.1:{upstream};{UWSGI_PARAMS}"""
        prefix = ""
    temp = "\n".join(
        f"    {kind}_temp_path {tmp}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""daemon off;
master_process off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log info;
events {{ worker_connections 64; }}
http {{
    access_log off;
{temp}
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        location / {{{target}
        }}{prefix}
    }}
}}
"""


@contextlib.contextmanager
def nginx_in_front(tmp: Path, upstream: Server, *, via: str, kind: str) -> Iterator[Server]:
    binary = need_executable("nginx", "Debian package nginx (.ci/apt-packages.txt)")
    port = free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(nginx_config(tmp, port, upstream.port, via=via))
    log = tmp / "nginx.log"
    cmd = [binary, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "nginx-error.log")]
    with running(cmd, port, cwd=str(tmp), output=log):
        yield Server(kind, port, [*upstream.logs, tmp / "nginx-error.log", log], upstream.calls)


@contextlib.contextmanager
def nginx_gunicorn(tmp: Path, policy: dict[str, Any], case_index: int) -> Iterator[Server]:
    with (
        _gunicorn(tmp, policy, case_index, "sync") as app_server,
        nginx_in_front(tmp, app_server, via="proxy", kind="nginx-gunicorn") as server,
    ):
        yield server


@contextlib.contextmanager
def nginx_uwsgi(tmp: Path, policy: dict[str, Any], case_index: int) -> Iterator[Server]:
    setup = _setup(tmp, policy, case_index, use_file=False)
    module = _uwsgi_module(setup)
    upstream_port = free_port()
    log = tmp / "uwsgi.log"
    cmd = uwsgi_cmd(upstream_port, module, protocol="uwsgi")
    with running(cmd, upstream_port, env=setup.env, cwd=str(REPO), output=log) as proc:
        wait_uwsgi_app(proc, log)
        app_server = Server("uwsgi", upstream_port, [log], tmp / "calls")
        with nginx_in_front(tmp, app_server, via="uwsgi", kind="nginx-uwsgi") as server:
            yield server


Starter = Callable[[Path, dict[str, Any], int], contextlib.AbstractContextManager[Server]]

KINDS: dict[str, Starter] = {
    "gunicorn-sync": functools.partial(_gunicorn, worker="sync"),
    "uvicorn": uvicorn,
    "gunicorn-gthread": functools.partial(_gunicorn, worker="gthread"),
    "uwsgi": uwsgi,
    "nginx-gunicorn": nginx_gunicorn,
    "nginx-uwsgi": nginx_uwsgi,
    "granian-asgi": functools.partial(_granian_server, interface="asgi", http="1"),
    "granian-asgi-h2c": functools.partial(_granian_server, interface="asgi", http="2"),
    "granian-wsgi": functools.partial(_granian_server, interface="wsgi", http="1"),
    "granian-wsgi-h2c": functools.partial(_granian_server, interface="wsgi", http="2"),
    "hypercorn": functools.partial(_hypercorn_server, kind="hypercorn"),
    "hypercorn-h2c": functools.partial(_hypercorn_server, kind="hypercorn-h2c"),
    "daphne": daphne,
}


class ServerPool:
    """Keeps the one server the current tests need; asking for another retires it.

    Tests are ordered by (server kind, policy), so each server starts once. A retired
    server is stopped in a background thread (graceful shutdowns take up to a second)
    while the next one starts; :meth:`close` stops everything and waits for it.
    """

    def __init__(self, tmp_root: Path) -> None:
        self._root = tmp_root
        self._key: tuple[str, str] | None = None
        self._stack = contextlib.ExitStack()
        self._server: Server | None = None
        self._count = 0
        self._stopping: list[threading.Thread] = []
        self._failed: dict[tuple[str, str], Exception] = {}

    def get(self, kind: str, group: str, policy: dict[str, Any], case_index: int) -> Server:
        key = (kind, group)
        if key in self._failed:  # one start attempt per server; its tests all report why
            raise RuntimeError(f"{kind} did not start for this policy") from self._failed[key]
        if self._key != key or self._server is None:
            self._retire()
            self._count += 1
            tmp = self._root / f"{self._count:03d}-{kind}"
            tmp.mkdir()
            try:
                self._server = self._stack.enter_context(KINDS[kind](tmp, policy, case_index))
            except Exception as exc:
                self._failed[key] = exc
                raise
            self._key = key
        return self._server

    def _retire(self) -> None:
        stack, self._stack = self._stack, contextlib.ExitStack()
        self._server = None
        self._key = None
        thread = threading.Thread(target=stack.close, name="stop-server", daemon=False)
        thread.start()
        self._stopping.append(thread)

    def close(self) -> None:
        """Stop every server this pool started, and wait until they are all gone."""
        self._retire()
        for thread in self._stopping:
            thread.join()
        self._stopping.clear()
