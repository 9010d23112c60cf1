"""Bounded load, concurrency and memory runs (the full-size ones: ``make soak``).

Real servers on 127.0.0.1 free ports: gunicorn with gthread workers (WSGI) and uvicorn
(ASGI), driven by a raw HTTP/1.1 client with one connection per request. Every response
is compared with what the policy core decides for that request, and its body with the
request that produced it.
"""

from __future__ import annotations

import pytest

from ..support.harness import preflight_soak, server_load, swap_load


def test_one_million_preflights_bounded_version() -> None:
    """Random origins and header lists: the cache fills to its bound, never past it, and
    memory stays flat (``make soak`` runs 1 000 000)."""
    figures = preflight_soak(60_000, cache_size=1024, traced=6000)
    print(figures.as_dict())
    assert figures.cache_max_seen == figures.cache_bound == 1024
    assert figures.allowed > 10_000
    assert figures.refused > 10_000
    assert figures.traced_growth_kib < 256, figures.traced_kib
    assert figures.rss_kib[-1] - figures.rss_kib[0] < 4096, figures.rss_kib


def test_small_cache_bound_holds() -> None:
    figures = preflight_soak(8000, cache_size=10, traced=0)
    assert figures.cache_max_seen == 10


@pytest.mark.server
def test_threaded_wsgi_server_never_mixes_requests() -> None:
    figures = server_load("wsgi", requests=2000, concurrency=64, seed=1)
    print(figures.as_dict())
    assert figures.mismatches == []
    assert figures.allowed > 300
    assert figures.refused > 300
    assert figures.preflights > 300


@pytest.mark.server
def test_uvicorn_thousands_of_concurrent_requests() -> None:
    figures = server_load("asgi", requests=3000, concurrency=1000, seed=2)
    print(figures.as_dict())
    assert figures.mismatches == []
    assert figures.allowed > 500
    assert figures.refused > 500


@pytest.mark.server
@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
def test_policy_swap_under_load_is_atomic(kind: str) -> None:
    """Every response is entirely the old policy's or entirely the new one's."""
    figures = swap_load(kind, requests=1500, concurrency=64 if kind == "wsgi" else 500, seed=3)
    print(figures.as_dict())
    assert figures.mismatches == []
    assert figures.swaps > 100  # the policy really changed while requests flowed
    assert figures.only_a > 50
    assert figures.only_b > 50
