"""The benchmark scenarios: one policy and one kind of request each, the same for every
subject (corsware and its peers are configured to allow exactly the same things)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

ORIGIN = "https://app.example.com"
EVIL = "https://evil.example.net"
METHODS = ("GET", "POST", "PUT", "DELETE")
#: Sixteen extra allowed names: their 65 535 non-empty subsets give preflights whose header
#: lists do not repeat within any cache window (corsware's default cache holds 1024).
EXTRA_HEADERS = tuple(f"x-h{i:02d}" for i in range(16))
ALLOW_HEADERS = ("content-type", "x-token", *EXTRA_HEADERS)
EXPOSE_HEADERS = ("X-Request-Id",)
MAX_AGE = 600
SUBDOMAIN_SUFFIX = "example.com"
#: What the peers that have no subdomain patterns are given instead of ``https://*.example.com``.
SUBDOMAIN_REGEX = r"https://([a-z0-9-]+\.)+example\.com"
REGEX = r"https://[a-z0-9-]+\.example\.com"
ONE_MIB = 1 << 20
#: The name a refused preflight asks for instead of ``content-type`` (as long as it).
REFUSED_NAME = "x-notallowed"

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Scenario:
    """One row of the results: a policy shape and the request sent to it."""

    name: str
    title: str
    kind: str  # "none" (no Origin), "actual", "preflight"
    origins: tuple[str, ...] = (ORIGIN,)
    subdomains: bool = False
    regex: str | None = None
    origin: str | None = ORIGIN
    request_headers: str | None = None  # Access-Control-Request-Headers of a preflight
    varying: bool = False  # a new header list on every request (preflight cache miss)
    #: With ``varying``: each list names a header the policy does not allow instead of
    #: ``content-type`` (same items, same length), so every preflight is refused (the path a
    #: hostile client chooses: it must stay as cheap).
    refused_header: bool = False
    adversarial: bool = False

    @property
    def method(self) -> str:
        return "OPTIONS" if self.kind == "preflight" else "GET"

    def headers(self) -> Headers:
        """The request headers (for a varying scenario: the first request's)."""
        return next(self.requests())

    def requests(self) -> Iterator[Headers]:
        """The request headers of successive requests (endless)."""
        base: list[tuple[str, str]] = [("Host", "localhost"), ("User-Agent", "bench"), ("Accept", "*/*")]
        if self.origin is not None:
            base.append(("Origin", self.origin))
        if self.kind == "preflight":
            base.append(("Access-Control-Request-Method", "PUT"))
        if not self.varying:
            extra = [("Access-Control-Request-Headers", self.request_headers)] if self.request_headers else []
            fixed = tuple(base + extra)
            return itertools.repeat(fixed)
        lists = _varying_header_lists()
        if self.refused_header:
            # The allowed list's twin: the same items and length, one name swapped for one the
            # policy does not allow, so the two scenarios differ only in the verdict.
            lists = (value.replace("content-type", REFUSED_NAME, 1) for value in lists)
        return ((*base, ("Access-Control-Request-Headers", value)) for value in lists)


_COUNTER = itertools.count(1)


def _varying_header_lists() -> Iterator[str]:
    """Header lists that never repeat within 65 535 requests (process-wide counter)."""
    while True:
        bits = next(_COUNTER) % 0xFFFF + 1
        names = ["content-type", *(name for i, name in enumerate(EXTRA_HEADERS) if bits >> i & 1)]
        yield ",".join(names)


def _many(n: int) -> tuple[str, ...]:
    # The allowed origin is the last one: the worst place for any peer that scans a list.
    return (*(f"https://site{i}.example.org" for i in range(n - 1)), ORIGIN)


ADVERSARIAL_NAMES = ",".join(f"x-header-{i:06d}" for i in range(ONE_MIB // 16))

SCENARIOS: tuple[Scenario, ...] = (
    Scenario("no_origin", "no Origin", "none", origin=None),
    Scenario("simple", "allowed simple request", "actual"),
    Scenario("refused", "refused origin", "actual", origin=EVIL),
    Scenario("preflight_hit", "preflight (cache hit)", "preflight", request_headers="content-type,x-token"),
    Scenario("preflight_miss", "preflight, new header list each time (cache miss)", "preflight", varying=True),
    Scenario(
        "preflight_refused_miss",
        "refused preflight, new header list each time (cache miss)",
        "preflight",
        varying=True,
        refused_header=True,
    ),
    Scenario("subdomain", "subdomain pattern", "actual", origins=(), subdomains=True),
    Scenario("regex", "regex", "actual", origins=(), regex=REGEX),
    Scenario("origins_10", "10 allowed origins", "actual", origins=_many(10)),
    Scenario("origins_200", "200 allowed origins", "actual", origins=_many(200)),
    Scenario("origins_10000", "10 000 allowed origins", "actual", origins=_many(10_000)),
    Scenario(
        "acrh_commas", "adversarial ACRH: 1 MiB of commas", "preflight", request_headers="," * ONE_MIB, adversarial=True
    ),
    Scenario(
        "acrh_names",
        f"adversarial ACRH: {ONE_MIB // 16} names (1 MiB)",
        "preflight",
        request_headers=ADVERSARIAL_NAMES,
        adversarial=True,
    ),
)

BY_NAME = {s.name: s for s in SCENARIOS}

#: The ordinary scenarios: one origin, exact or matched by a pattern, and the preflights a
#: browser sends. The 10 000-origin and 1 MiB scenarios, where the peers scale badly, would
#: flatter a geometric mean of ratios to them; the targets also hold over these alone.
ORDINARY = ("no_origin", "simple", "refused", "preflight_hit", "preflight_miss", "subdomain", "regex")
