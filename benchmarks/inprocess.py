"""In-process timing: every subject of a family runs the same requests, interleaved in a
shuffled order within each trial; results are per-request medians over trials.

ASGI apps are driven without an event loop (``coro.send(None)``): none of the subjects
suspends on a request without a body, so what is timed is the middleware and the app,
not a loop's scheduling. WSGI apps get a fresh copy of the environ, their body is
iterated and ``close()`` called, as a server does.
"""

from __future__ import annotations

import contextlib
import gc
import io
import itertools
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .scenarios import Headers, Scenario
from .subjects import BARE, Subject

# -- requests -----------------------------------------------------------------------------


def asgi_scope(method: str, headers: Headers) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


_EMPTY_INPUT = io.BytesIO(b"")


def wsgi_environ(method: str, headers: Headers) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": _EMPTY_INPUT,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in headers:
        key = "HTTP_" + name.upper().replace("-", "_")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def requests_for(subject: Subject, scenario: Scenario, count: int) -> list[dict[str, Any]]:
    """``count`` fresh requests: new objects for every header value, as a server makes, so
    no hash computed by a previous request is reused."""
    build = asgi_scope if subject.interface == "asgi" else wsgi_environ
    source = scenario.requests()
    return [build(scenario.method, _fresh(headers)) for headers in itertools.islice(source, count)]


def _fresh(headers: Headers) -> Headers:
    return tuple((k, v.encode("latin-1").decode("latin-1")) for k, v in headers)


# -- drivers ------------------------------------------------------------------------------


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _discard(message: dict[str, Any]) -> None:
    return None


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
    return _write


def _write(data: bytes) -> None:
    return None


def run_asgi(app: Any, scopes: Sequence[dict[str, Any]], n: int) -> int:
    """Run ``n`` requests through an ASGI app; return the elapsed nanoseconds."""
    receive, send = _receive, _discard
    k = len(scopes)  # == n: every request is a fresh scope
    clock = time.perf_counter_ns
    start = clock()
    for i in range(n):
        coro = app(scopes[i % k], receive, send)
        try:
            coro.send(None)
        except StopIteration:
            pass
        else:
            coro.close()
            raise RuntimeError(f"{app!r} suspended; the in-process driver needs apps that do not wait")
    return clock() - start


def run_wsgi(app: Any, environs: Sequence[dict[str, Any]], n: int) -> int:
    """Run ``n`` requests through a WSGI app; return the elapsed nanoseconds."""
    start_response = _start_response
    k = len(environs)  # == n: every request is a fresh environ
    clock = time.perf_counter_ns
    start = clock()
    for i in range(n):
        result = app(environs[i % k], start_response)
        for _chunk in result:
            pass
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return clock() - start


def run(subject: Subject, requests: Sequence[dict[str, Any]], n: int) -> int:
    return (run_asgi if subject.interface == "asgi" else run_wsgi)(subject.app, requests, n)


# -- capture one response (for the report: what each subject actually answered) ------------


def respond(subject: Subject, scenario: Scenario) -> tuple[int, list[tuple[str, str]]]:
    """Send one request of ``scenario`` and return the status and headers."""
    request = requests_for(subject, scenario, 1)[0]
    if subject.interface == "asgi":
        sent: list[dict[str, Any]] = []

        async def capture(message: dict[str, Any]) -> None:
            sent.append(message)

        coro = subject.app(request, _receive, capture)
        with contextlib.suppress(StopIteration):
            coro.send(None)
        start = sent[0]
        return start["status"], [(bytes(k).decode("latin-1"), bytes(v).decode("latin-1")) for k, v in start["headers"]]
    got: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        got["status"], got["headers"] = int(status.split(maxsplit=1)[0]), [(k.lower(), v) for k, v in headers]
        return _write

    result = subject.app(request, start_response)
    for _ in result:
        pass
    if hasattr(result, "close"):
        result.close()
    return got["status"], got["headers"]


# -- measurement --------------------------------------------------------------------------


@dataclass
class Timing:
    """Per-request nanoseconds of every subject in every trial (same trial index = same round)."""

    family: str
    scenario: str
    per_request: dict[str, list[float]] = field(default_factory=dict)
    iterations: dict[str, int] = field(default_factory=dict)

    def median(self, subject: str) -> float:
        return statistics.median(self.per_request[subject])

    def _differences(self, subject: str, other: str) -> list[float]:
        return [s - o for s, o in zip(self.per_request[subject], self.per_request[other], strict=True)]

    def difference(self, subject: str, other: str) -> float:
        """Median over trials of (subject - other) in the same trial, in nanoseconds: the two
        ran interleaved in each trial, so load that hit the trial cancels out of the pair."""
        return statistics.median(self._differences(subject, other))

    def difference_spread(self, subject: str, other: str) -> float:
        """Half the inter-quartile range of the per-trial differences (a noise figure)."""
        values = sorted(self._differences(subject, other))
        if len(values) < 4:
            return 0.0
        q = statistics.quantiles(values, n=4)
        return (q[2] - q[0]) / 2

    def overhead(self, subject: str) -> float:
        """Median over trials of (subject - bare) in the same trial, in nanoseconds."""
        return self.difference(subject, BARE)

    def spread(self, subject: str) -> float:
        """Half the inter-quartile range of the per-trial overheads (a noise figure)."""
        return self.difference_spread(subject, BARE)


def max_iterations(scenario: Scenario) -> int:
    """Bound on requests per chunk: every request is prepared fresh beforehand, so 1 MiB
    adversarial requests are limited to a few dozen."""
    return 32 if scenario.adversarial else 5_000


#: Requests are prepared in batches this small, right before they are run, so that like
#: a server's freshly parsed request they are in the CPU cache (a cold scope would charge
#: every middleware that reads headers for cache misses a server never has).
BATCH = 32
#: Turns per trial (see measure).
SLICES = 4


def run_fresh(subject: Subject, scenario: Scenario, n: int) -> int:
    """Run ``n`` fresh requests in hot batches; return the nanoseconds spent in the app."""
    total = done = 0
    while done < n:
        size = min(BATCH, n - done)
        requests = requests_for(subject, scenario, size)
        total += run(subject, requests, size)
        done += size
    return total


def _calibrate(subject: Subject, scenario: Scenario, chunk_s: float, max_n: int) -> int:
    """Iterations per trial so that one subject's chunk lasts about ``chunk_s``."""
    run(subject, requests_for(subject, scenario, 2), 2)  # warm up (first-request work, caches)
    n = 1
    while True:
        elapsed = run_fresh(subject, scenario, n) / 1e9
        if elapsed >= chunk_s / 4 or n >= max_n:
            break
        n *= 4
    return max(1, min(max_n, int(n * chunk_s / max(elapsed, 1e-9))))


def measure(subjects: Sequence[Subject], scenario: Scenario, *, trials: int, chunk_s: float, seed: int = 0) -> Timing:
    """Time every subject on ``scenario``: ``trials`` rounds, subjects shuffled in each."""
    timing = Timing(subjects[0].family, scenario.name)
    max_n = max_iterations(scenario)
    for subject in subjects:
        timing.iterations[subject.name] = _calibrate(subject, scenario, chunk_s, max_n)
        timing.per_request[subject.name] = []
    rng = random.Random(seed)
    order = list(subjects)
    gc_was_enabled = gc.isenabled()
    try:
        for _ in range(trials):
            # Each subject's share of a trial is cut into SLICES turns, rotating through
            # the subjects, so a burst of load from other processes hits them all alike.
            elapsed = dict.fromkeys(timing.iterations, 0)
            for _turn in range(SLICES):
                rng.shuffle(order)
                for subject in order:
                    n = max(1, timing.iterations[subject.name] // SLICES)
                    gc.collect()
                    gc.disable()
                    try:
                        elapsed[subject.name] += run_fresh(subject, scenario, n)
                    finally:
                        if gc_was_enabled:
                            gc.enable()
            for subject in order:
                n = max(1, timing.iterations[subject.name] // SLICES)
                timing.per_request[subject.name].append(elapsed[subject.name] / (n * SLICES))
    finally:
        if gc_was_enabled:
            gc.enable()
    return timing


@dataclass
class Memory:
    """tracemalloc figures for one subject on one scenario, in bytes."""

    peak: int  # highest traced memory above the start, during any one request
    growth: int  # traced memory left after all the requests (and a collection), above the start
    requests: int


def memory(subject: Subject, scenario: Scenario, requests: int) -> Memory:
    """Peak and retained memory of ``requests`` requests (the request itself is allocated
    before tracing starts, as a server would have)."""
    prepared = requests_for(subject, scenario, requests)
    run(subject, requests_for(subject, scenario, 1), 1)  # first-request work (imports, caches) is not growth
    gc.collect()
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        peak = 0
        for request in prepared:
            tracemalloc.reset_peak()
            run(subject, [request], 1)
            peak = max(peak, tracemalloc.get_traced_memory()[1] - base)
        gc.collect()
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return Memory(peak, current - base, requests)
