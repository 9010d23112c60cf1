"""Real servers on loopback: uvicorn (ASGI) and gunicorn (WSGI, Flask), one worker each,
driven by ``wrk``. Every subject gets its own server, all started up front; rounds run the
subjects in a shuffled order. For each run we read the server's CPU time (utime + stime of
the server process and its children, from ``/proc``) before and after, and divide by the
number of requests ``wrk`` completed.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .scenarios import BY_NAME, Scenario

SERVERS = {
    "uvicorn": ("bare", "static_headers", "corsware", "starlette"),
    "gunicorn": ("bare", "static_headers", "corsware", "flask_cors"),
}
SCENARIOS = ("simple", "preflight_hit")
_TICKS = os.sysconf("SC_CLK_TCK")
_ROOT = Path(__file__).resolve().parent.parent


# The benchmarks import nothing from tests/ (the sdist's tests/ may be absent from a copy of
# benchmarks/, and a test refactoring must not change a measurement): these two loopback
# helpers are the benchmark's own, a deliberate twin of tests/support/servers.py's.
def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:``port`` (or ``proc`` exits)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout}s")


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is not installed: `apt-get install wrk` (make bench installs it when run as root)")
    return path


def _command(server: str, port: int) -> list[str]:
    if server == "uvicorn":
        return [sys.executable, "-m", "uvicorn", "benchmarks.server_apps:asgi_app", "--host", "127.0.0.1",
                "--port", str(port), "--no-access-log", "--log-level", "warning", "--lifespan", "off"]  # fmt: skip
    return [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
            "--log-level", "warning", "benchmarks.server_apps:wsgi_app"]  # fmt: skip


def _cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and its children (gunicorn's worker), in seconds."""
    total = 0
    pids = [pid]
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            pids += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    for p in pids:
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{p}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)
    return total / _TICKS


def _lua(scenario: Scenario) -> str:
    lines = [f'wrk.method = "{scenario.method}"']
    for name, value in scenario.headers():
        if name.lower() != "host":
            lines.append(f'wrk.headers["{name}"] = "{value}"')
    return "\n".join(lines) + "\n"


@dataclass
class ServerRun:
    requests: int
    seconds: float
    cpu: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_per_request(self) -> float:
        return self.cpu / max(1, self.requests)


def _wrk(port: int, script: str, duration: int, connections: int, pid: int) -> ServerRun:
    before = _cpu_seconds(pid)
    out = subprocess.run(
        [wrk_path(), "-t1", f"-c{connections}", f"-d{duration}s", "-s", script, f"http://127.0.0.1:{port}/"],
        capture_output=True, text=True, check=True, timeout=duration + 30,
    ).stdout  # fmt: skip
    cpu = _cpu_seconds(pid) - before
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    if m is None:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    seconds = float(m.group(2)) * {"s": 1.0, "ms": 1e-3, "m": 60.0}.get(m.group(3), 1.0)
    errors = 0
    for m2 in re.finditer(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*?timeout (\d+)", out):
        errors += int(m2.group(1) or m2.group(2) or 0)
    return ServerRun(int(m.group(1)), seconds, cpu, errors)


@dataclass
class ServerResult:
    server: str
    scenario: str
    runs: dict[str, list[ServerRun]] = field(default_factory=dict)

    def ratio(self, subject: str, what: str) -> float:
        """Median over rounds of subject/bare (``rps`` or ``cpu_per_request``)."""
        pairs = zip(self.runs[subject], self.runs["bare"], strict=True)
        # A round in which the bare server completed nothing (a smoke run's few requests on a
        # loaded machine) has no ratio; with no round left, the ratio is unknown (nan).
        ratios = [getattr(s, what) / getattr(b, what) for s, b in pairs if getattr(b, what)]
        return statistics.median(ratios) if ratios else math.nan

    def median(self, subject: str, what: str) -> float:
        return statistics.median(getattr(r, what) for r in self.runs[subject])


@contextlib.contextmanager
def _servers(server: str) -> Iterator[dict[str, tuple[int, int]]]:
    """Start one server per subject, all at once (then wait for each), and always stop them."""
    procs: dict[str, tuple[int, subprocess.Popen[bytes], Any]] = {}
    try:
        for subject in SERVERS[server]:
            port = free_port()
            env = {**os.environ, "CORSWARE_BENCH_SUBJECT": subject, "CORSWARE_BENCH_SERVER": server,
                   "PYTHONPATH": str(_ROOT), "PYTHONUNBUFFERED": "1"}  # fmt: skip
            log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
            proc = subprocess.Popen(_command(server, port), stdout=log, stderr=subprocess.STDOUT, env=env, cwd=_ROOT)
            procs[subject] = (port, proc, log)
        for subject, (port, proc, log) in procs.items():
            try:
                wait_for_port(port, proc)
            except (RuntimeError, TimeoutError) as exc:
                log.seek(0)
                raise RuntimeError(
                    f"{server} ({subject}): {exc}\n{log.read().decode(errors='replace')[-3000:]}"
                ) from None
        yield {subject: (port, proc.pid) for subject, (port, proc, _) in procs.items()}
    finally:
        for _, proc, _ in procs.values():
            if proc.poll() is None:
                proc.terminate()
        for _, proc, log in procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            log.close()


def run_servers(*, rounds: int, duration: int, connections: int = 8, scenarios: tuple[str, ...] = SCENARIOS,
                seed: int = 0, log: bool = True, warm_up: bool = True) -> list[ServerResult]:  # fmt: skip
    """Run every server subject ``rounds`` times on each scenario, interleaved."""
    rng = random.Random(seed)
    results: list[ServerResult] = []
    with tempfile.TemporaryDirectory() as tmp:
        for server in SERVERS:
            with _servers(server) as ports:
                for name in scenarios:
                    scenario = BY_NAME[name]
                    script = os.path.join(tmp, f"{name}.lua")
                    Path(script).write_text(_lua(scenario))
                    result = ServerResult(server, name, {s: [] for s in ports})
                    for port, pid in ports.values() if warm_up else ():  # warm up every server
                        _wrk(port, script, 1, connections, pid)
                    for _ in range(rounds):
                        order = list(ports)
                        rng.shuffle(order)
                        for subject in order:
                            port, pid = ports[subject]
                            result.runs[subject].append(_wrk(port, script, duration, connections, pid))
                    if log:
                        cells = [
                            f"{s}: {result.median(s, 'rps'):8.0f} req/s, "
                            f"{result.median(s, 'cpu_per_request') * 1e6:6.1f} µs CPU"
                            for s in ports
                        ]
                        print(f"  {server:8s} {name:14s} " + "  ".join(cells))
                    results.append(result)
    return results
