"""Load, concurrency and memory measurements, shared by the bounded tests (``make test``)
and the full runs (``make soak``, ``make security-report``).

Every function returns plain figures; the tests assert on them and the report script
publishes them. Servers run on 127.0.0.1 free ports through ``tests/support/servers.py`` and are
always stopped.
"""

from __future__ import annotations

import asyncio
import gc
import random
import time
import tracemalloc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corsware import CORSPolicy

from . import load_app
from .servers import PYTHON, free_port, running

ROOT = Path(__file__).resolve().parents[2]
Headers = list[tuple[str, str]]


# -- a tiny HTTP/1.1 client: one connection per request, so concurrency is real ------------


async def fetch(
    port: int, method: str, path: str, headers: Headers, timeout: float = 30.0
) -> tuple[int, Headers, bytes]:
    """Send one request with ``Connection: close`` and read the whole response."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    try:
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
        lines += [f"{k}: {v}" for k, v in headers]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    parsed = [(k.strip().lower(), v.strip()) for k, _, v in (h.partition(":") for h in header_lines)]
    if any(k == "transfer-encoding" and v == "chunked" for k, v in parsed):
        body = _dechunk(body)
    return status, parsed, body


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2 :]
    return out


def cors_view(pairs: Sequence[tuple[str, str]]) -> tuple[tuple[tuple[str, str], ...], frozenset[str]]:
    """The CORS part of a response: sorted Access-Control-* pairs and the Vary tokens."""
    cors = tuple(sorted((k.lower(), v) for k, v in pairs if k.lower().startswith("access-control-")))
    vary = frozenset(t.strip().lower() for k, v in pairs if k.lower() == "vary" for t in v.split(",") if t.strip())
    return cors, vary


# -- request mixes ---------------------------------------------------------------------------

_NAMES = ["x-a", "x-b", "x-c", "x-trace", "authorization", "content-type", "x-" + "y" * 20]


def load_request(i: int, rng: random.Random) -> tuple[str, str, Headers]:
    """One request of the load mix: distinct allowed/refused origins, preflights, no-Origin."""
    roll = rng.random()
    origin = (
        f"https://t{i}.example.com" if roll < 0.35
        else "https://app.example.org" if roll < 0.45
        else f"https://t{i}.example.com.evil{i % 7}.net" if roll < 0.75
        else f"https://evil{i}.net" if roll < 0.9
        else None
    )  # fmt: skip
    headers: Headers = [("X-Req", str(i))]
    if origin is None:
        return "GET", f"/r/{i}", headers
    headers.append(("Origin", origin))
    if rng.random() < 0.3:
        headers.append(("Access-Control-Request-Method", rng.choice(["GET", "PUT", "DELETE", "patch"])))
        names = rng.sample(_NAMES, rng.randint(0, 4))
        if names:
            headers.append(("Access-Control-Request-Headers", ",".join(sorted(names))))
        return "OPTIONS", f"/r/{i}", headers
    return rng.choice(["GET", "POST", "PUT"]), f"/r/{i}", headers


def swap_request(i: int, rng: random.Random) -> tuple[str, str, Headers]:
    """A request whose answer differs between ``POLICY_A`` and ``POLICY_B``."""
    origin = rng.choice([f"https://t{i}.a.example.com", f"https://t{i}.b.example.com", "https://shared.example.com",
                         f"https://t{i}.evil.net"])  # fmt: skip
    headers: Headers = [("X-Req", str(i)), ("Origin", origin)]
    if rng.random() < 0.4:
        headers.append(("Access-Control-Request-Method", rng.choice(["PUT", "DELETE"])))
        headers.append(("Access-Control-Request-Headers", rng.choice(["x-a", "x-b"])))
        return "OPTIONS", "/", headers
    return "GET", "/", headers


@dataclass
class LoadFigures:
    """What a load run checked."""

    server: str
    requests: int = 0
    concurrency: int = 0
    seconds: float = 0.0
    preflights: int = 0
    allowed: int = 0
    refused: int = 0
    mismatches: list[str] = field(default_factory=list)
    swaps: int = 0
    only_a: int = 0
    only_b: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "mismatches": len(self.mismatches)}


async def _drive(port: int, reqs: list[tuple[str, str, Headers]], concurrency: int) -> list[Any]:
    sem = asyncio.Semaphore(concurrency)

    async def one(req: tuple[str, str, Headers]) -> Any:
        async with sem:
            try:
                return await fetch(port, *req)
            except Exception as exc:  # a failed request is a finding, not a crash of the run
                return exc

    return await asyncio.gather(*(one(r) for r in reqs))


def _check(figures: LoadFigures, reqs: list[tuple[str, str, Headers]], responses: list[Any],
           policies: Sequence[CORSPolicy]) -> None:  # fmt: skip
    for (method, path, headers), resp in zip(reqs, responses, strict=True):
        req_id = headers[0][1]
        if isinstance(resp, BaseException):
            figures.mismatches.append(f"request {req_id}: {resp!r}")
            continue
        status, got, body = resp
        view = cors_view(got)
        decisions = [p.evaluate(method, path, headers) for p in policies]
        matches = [i for i, d in enumerate(decisions) if cors_view(d.headers) == view and status == (d.status or 200)]
        if not matches:
            figures.mismatches.append(f"request {req_id} {method} {headers}: got {status} {view}")
            continue
        if len(policies) == 2 and matches == [0]:
            figures.only_a += 1
        elif len(policies) == 2 and matches == [1]:
            figures.only_b += 1
        decision = decisions[matches[0]]
        origin = dict(headers).get("Origin", "")
        if decision.reaches_app and body != f"{req_id}|{origin}".encode():
            figures.mismatches.append(f"request {req_id}: body {body[:80]!r} belongs to another request")
        figures.preflights += decision.status is not None
        figures.allowed += decision.allowed
        figures.refused += bool(origin) and not decision.allowed


@contextmanager
def serve(kind: str, *, swap: bool = False) -> Iterator[int]:
    """Run ``tests.support.load_app`` under gunicorn gthread (``wsgi``) or uvicorn (``asgi``)."""
    port = free_port()
    if kind == "wsgi":
        cmd = [PYTHON, "-m", "gunicorn", "-k", "gthread", "--threads", "16", "-w", "1", "--backlog", "4096",
               "-b", f"127.0.0.1:{port}", "--log-level", "warning", "tests.support.load_app:wsgi_app"]  # fmt: skip
    else:
        cmd = [PYTHON, "-m", "uvicorn", "tests.support.load_app:asgi_app", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning", "--backlog", "4096"]  # fmt: skip
    env = {"CORSWARE_SWAP": "1" if swap else "0", "CORSWARE_SWAP_APP": kind}
    with running(cmd, port, env=env, cwd=str(ROOT)):
        yield port


def server_load(kind: str, requests: int, concurrency: int, seed: int = 0) -> LoadFigures:
    """Many concurrent requests with distinct allowed and refused origins against a real server."""
    rng = random.Random(seed)
    reqs = [load_request(i, rng) for i in range(requests)]
    figures = LoadFigures("gunicorn gthread (16 threads)" if kind == "wsgi" else "uvicorn",
                          requests=requests, concurrency=concurrency)  # fmt: skip
    with serve(kind) as port:
        start = time.perf_counter()
        responses = asyncio.run(_drive(port, reqs, concurrency))
        figures.seconds = time.perf_counter() - start
    _check(figures, reqs, responses, [load_app.LOAD_POLICY])
    return figures


def swap_load(kind: str, requests: int, concurrency: int, seed: int = 0) -> LoadFigures:
    """Requests flow while a thread swaps ``mw.policy`` between two policies every ~0.5 ms."""
    rng = random.Random(seed)
    reqs = [swap_request(i, rng) for i in range(requests)]
    figures = LoadFigures("gunicorn gthread (16 threads)" if kind == "wsgi" else "uvicorn",
                          requests=requests, concurrency=concurrency)  # fmt: skip
    with serve(kind, swap=True) as port:
        before = int(asyncio.run(fetch(port, "GET", "/swaps", []))[2])
        start = time.perf_counter()
        responses = asyncio.run(_drive(port, reqs, concurrency))
        figures.seconds = time.perf_counter() - start
        figures.swaps = int(asyncio.run(fetch(port, "GET", "/swaps", []))[2]) - before
    _check(figures, reqs, responses, [load_app.POLICY_A, load_app.POLICY_B])
    return figures


# -- bounded memory ----------------------------------------------------------------------------


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0  # pragma: no cover - Linux always has it


@dataclass
class MemoryFigures:
    preflights: int
    cache_bound: int
    cache_max_seen: int = 0
    allowed: int = 0
    refused: int = 0
    seconds: float = 0.0
    rss_kib: list[int] = field(default_factory=list)  # after warm-up, then at 25/50/75/100 %
    traced_window: int = 0  # the last preflights, run under tracemalloc
    traced_kib: list[float] = field(default_factory=list)  # traced memory, middle and end of the window
    traced_growth_kib: float = 0.0  # end - middle

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def soak_policy(cache_size: int = 1024) -> CORSPolicy:
    """A subdomain pattern and ``allow_headers="*"``: every distinct request is a new cache key."""
    return CORSPolicy(
        allow_origins=["https://*.example.com"],
        allow_methods=["GET", "PUT", "DELETE"],
        allow_headers="*",
        preflight_cache_size=cache_size,
    )


def preflight_soak(n: int, *, cache_size: int = 1024, seed: int = 0, traced: int = 10_000) -> MemoryFigures:
    """``n`` preflights with random origins and header lists against :func:`soak_policy`.

    RSS is sampled after a warm-up (5 %, at least 5000 requests, which fills the cache and
    the interpreter's free lists) and at 25/50/75/100 % of the untraced part. The last
    ``traced`` preflights run under tracemalloc (which slows allocation ~10x, hence a
    window); traced memory is sampled in the middle of the window (by then the cache has
    turned over, so all its entries are traced) and at the end: the difference is growth.
    """
    policy = soak_policy(cache_size)
    plan = policy.plan_for("/")
    rng = random.Random(seed)
    pool = [f"x-{rng.getrandbits(32):x}" for _ in range(5000)]  # header names to combine
    methods = ["GET", "PUT", "PATCH"]
    figures = MemoryFigures(n, cache_size, traced_window=min(traced, n))
    warmup = max(5000, n // 20)
    trace_from = n - figures.traced_window
    checkpoints = {warmup + (trace_from - 1 - warmup) * k // 4 for k in range(5)}
    middle = trace_from + figures.traced_window // 2
    start = time.perf_counter()
    try:
        for i in range(n):
            if i == trace_from:
                tracemalloc.start()
            if i == middle:
                gc.collect()
                figures.traced_kib.append(round(tracemalloc.get_traced_memory()[0] / 1024, 1))
            bits = rng.getrandbits(48)
            origin = f"https://{bits:x}.example.com" if bits & 7 < 5 else f"https://{bits:x}.evil.net"
            headers = [("Origin", origin), ("Access-Control-Request-Method", methods[bits % 3])]
            count = (bits >> 8) % 7
            if count:
                headers.append(("Access-Control-Request-Headers", ",".join(sorted(rng.sample(pool, count)))))
            decision = policy.evaluate("OPTIONS", "/", headers)
            if decision.allowed:
                figures.allowed += 1
            else:
                figures.refused += 1
            if i % 1000 == 0:
                figures.cache_max_seen = max(figures.cache_max_seen, len(plan.cache))
            if i in checkpoints:
                figures.rss_kib.append(_rss_kib())
        if tracemalloc.is_tracing():
            gc.collect()
            figures.traced_kib.append(round(tracemalloc.get_traced_memory()[0] / 1024, 1))
            figures.traced_growth_kib = round(figures.traced_kib[-1] - figures.traced_kib[0], 1)
    finally:
        figures.seconds = time.perf_counter() - start
        tracemalloc.stop()
    figures.cache_max_seen = max(figures.cache_max_seen, len(plan.cache))
    return figures


# -- memory a client can fill: every cache of every per-path rule, with hostile keys -------

#: The longest key the preflight cache keeps (origin + method + header list, in characters).
MAX_CACHED_KEY = 1024
#: The longest origin the origin caches keep (``corsware._origins.MAX_ORIGIN_LENGTH``).
MAX_ORIGIN = 512

#: Options under which a client chooses as much of each answer as it can: the method and
#: header list are reflected (credentials), and a regex admits 512-character origins.
REFLECTING = {
    "allow_origins": ["https://*.example.com"],
    "allow_origin_regex": r"https://[a-z0-9]+\.example\.net",
    "allow_methods": "*",
    "allow_headers": "*",
    "allow_credentials": True,
}
#: Explicit lists: allowed preflights take the fast path (and its per-origin cache).
EXPLICIT = {
    "allow_origins": ["https://*.example.com"],
    "allow_origin_regex": r"https://[a-z0-9]+\.example\.net",
    "allow_methods": ["PUT"],
    "allow_headers": ["x-a"],
    "allow_private_network": True,
}


def hostile_policy(rules: int = 100, cache_size: int = 1024) -> CORSPolicy:
    """A policy with ``rules`` per-path rules (``/r0/*``...), alternately reflecting and
    explicit, and the reflecting options itself: ``rules + 1`` plans, three caches each."""
    paths = {f"/r{i}/*": (REFLECTING if i % 2 == 0 else EXPLICIT) for i in range(rules)}
    return CORSPolicy(**REFLECTING, paths=paths, preflight_cache_size=cache_size)


def _pad(prefix: str, length: int, fill: str = "a") -> str:
    return prefix + fill * (length - len(prefix))


def _long_origin(n: int, allowed: bool) -> str:
    """A distinct origin of exactly ``MAX_ORIGIN`` characters, matched by the regex or not."""
    suffix = ".example.net" if allowed else ".evil.org"
    return _pad(f"https://{n}x", MAX_ORIGIN - len(suffix)) + suffix


def _header_list(n: int, room: int) -> str:
    """Two distinct header names filling ``room`` characters, in upper case so that the
    reflected, lower-cased list is a new string (a browser's list would be shared)."""
    first = _pad(f"X-{n}-", room // 2, "A")
    return first + "," + _pad("X-B", room - len(first) - 1, "B")


def _hostile_requests(n: int) -> dict[str, tuple[str, Headers, bool]]:
    """One request of each kind, keys made distinct by ``n``: (method, headers, debug)."""
    short = f"https://h{n}.example.com"
    long_ok, long_evil = _long_origin(n, True), _long_origin(n, False)
    long_method = _pad(f"M{n}", 64, "M")
    acrm, acrh = "Access-Control-Request-Method", "Access-Control-Request-Headers"
    denied = ",".join(_pad(f"x-{n}-{j}", 30) for j in range(40))[: MAX_CACHED_KEY - len(long_ok) - 3].rstrip(",")
    return {
        "allowed preflight, longest reflected header list": (
            "OPTIONS", [("Origin", short), (acrm, "GET"), (acrh, _header_list(n, MAX_CACHED_KEY - len(short) - 3))],
            False),
        "allowed preflight, longest origin and method": (
            "OPTIONS", [("Origin", long_ok), (acrm, long_method),
                        (acrh, _header_list(n, MAX_CACHED_KEY - MAX_ORIGIN - 64))], False),
        "refused origin": (
            "OPTIONS", [("Origin", long_evil), (acrm, "GET"), (acrh, _header_list(n, MAX_CACHED_KEY - MAX_ORIGIN - 3))],
            False),
        "refused header list": ("OPTIONS", [("Origin", long_ok), (acrm, "GET"), (acrh, denied)], False),
        "refused, debug mode": ("OPTIONS", [("Origin", long_ok), (acrm, "GET"), (acrh, denied)], True),
        "allowed preflight, fast path": (
            "OPTIONS", [("Origin", long_ok), (acrm, "PUT"), (acrh, "x-a"),
                        ("Access-Control-Request-Private-Network", "true")], False),
        "actual request, allowed origin": ("GET", [("Origin", long_ok)], False),
        "actual request, refused origin": ("GET", [("Origin", long_evil)], False),
    }  # fmt: skip


#: The kinds of hostile request, in the order one round sends them.
HOSTILE_KINDS = tuple(_hostile_requests(0))
#: The kind whose cache entry is the largest (measured: the origin, the header list and
#: their reflections, text and encoded, about 4 KiB), sent to the reflecting plans only.
HEAVIEST_KIND = "allowed preflight, longest reflected header list"


@dataclass
class HostileFigures:
    rules: int
    cache_size: int
    kinds: list[str]
    reflecting_only: bool
    requests: int = 0
    entries: int = 0  # entries held by every cache of every plan after the fill
    construction_kib: float = 0.0  # traced memory the policy holds before any request
    filled_kib: float = 0.0  # traced memory the filled caches hold on top of that
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _plans(policy: CORSPolicy) -> list[Any]:
    """Every plan a request to ``policy`` may use (each once)."""
    plans = [policy.plan, *(plan for _, plan in getattr(policy, "_rule_plans", ()))]
    plans += [rule.plan for _, rule in policy.rules]
    return list({id(plan): plan for plan in plans}.values())


def cached_entries(policy: CORSPolicy) -> int:
    """Entries in every cache a request to ``policy`` can fill (its rules' included)."""
    return sum(len(p.cache) + len(p._seen) + len(p._fast_answers) for p in _plans(policy))


def _send_hostile(policy: CORSPolicy, path: str, n: int, kinds: Sequence[str]) -> int:
    requests = _hostile_requests(n)
    for kind in kinds:
        method, headers, debug = requests[kind]
        if not debug:
            policy.evaluate(method, path, headers)
            continue
        values = dict(headers)
        policy.plan_for(path).for_preflight(
            values["Origin"], values["Access-Control-Request-Method"],
            values.get("Access-Control-Request-Headers", ""), debug=True,
        )  # fmt: skip
    return len(kinds)


def hostile_fill(
    rules: int = 100,
    cache_size: int = 1024,
    *,
    rounds: int = 8,
    kinds: Sequence[str] = HOSTILE_KINDS,
    reflecting_only: bool = False,
) -> HostileFigures:
    """Fill every cache of a :func:`hostile_policy` with distinct hostile keys of the
    largest cacheable size, under tracemalloc.

    Each round sends one request of each of ``kinds`` to the policy itself and to every
    per-path rule, with keys never sent before (debug-mode preflights go to the path's plan
    with ``debug=True``, as the middleware's ``debug`` option does). ``filled_kib`` is what
    the policy holds afterwards beyond what it held once built: keys and answers, the
    request strings the keys keep included. ``reflecting_only`` sends to the policy and
    its reflecting rules only (where every kind makes the largest entries).
    """
    figures = HostileFigures(rules, cache_size, list(kinds), reflecting_only)
    paths = ["/", *(f"/r{i}/x" for i in range(rules) if i % 2 == 0 or not reflecting_only)]
    hostile_policy(2, cache_size)  # warm-up: compiled regexes and lazy imports are not the policy's
    gc.collect()
    tracemalloc.start()
    start = time.perf_counter()
    try:
        base = tracemalloc.get_traced_memory()[0]
        policy = hostile_policy(rules, cache_size)
        gc.collect()
        built = tracemalloc.get_traced_memory()[0]
        n = 0
        for _ in range(rounds):
            for path in paths:
                n += 1
                figures.requests += _send_hostile(policy, path, n, kinds)
        gc.collect()
        filled = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
        figures.seconds = time.perf_counter() - start
    figures.entries = cached_entries(policy)
    figures.construction_kib = round((built - base) / 1024, 1)
    figures.filled_kib = round((filled - built) / 1024, 1)
    return figures
