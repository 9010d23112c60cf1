"""``PreflightCache``: bounded, thread-safe maps from client-chosen keys to answers.

Several caches may share one :class:`CacheBudget`: a policy's preflight cache, origin memo
and fast-answer cache, and those of all its per-path rules, draw from the policy's single
``preflight_cache_size``, so the memory a client can fill does not grow with the number of
caches or rules.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Hashable, Mapping
from typing import Any, Generic, TypeVar

__all__ = ["CacheBudget", "PreflightCache"]

V = TypeVar("V")


class CacheBudget:
    """A bound on the entries of several :class:`PreflightCache` objects together.

    Past ``limit`` entries in total, the oldest entry inserted into *any* of the caches is
    evicted (FIFO across caches: an LRU would need a write on every hit). A busy cache
    therefore takes most of the budget and an idle one gives its entries back, while the
    total, and so the memory a client can fill, stays bounded whatever it sends.

    One lock serialises the writes of every cache sharing the budget; reads take none.
    """

    __slots__ = ("limit", "lock", "order")

    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise ValueError("limit must be >= 0")
        self.limit = limit
        #: (the cache's dict, key) in insertion order: what to evict next.
        self.order: deque[tuple[dict[Hashable, Any], Hashable]] = deque()
        self.lock = threading.Lock()

    def __len__(self) -> int:
        """Entries held by all the caches drawing from this budget."""
        return len(self.order)


class PreflightCache(Generic[V]):
    """A bounded cache of computed answers (preflight answers, origin decisions).

    Keys are chosen by the client (origin, method, header list), so the cache must stay
    bounded whatever an attacker sends: its entries count against a :class:`CacheBudget`,
    its own (``PreflightCache(1024)``) or one shared with other caches. Reads take no lock
    (a dict lookup is atomic); writes take the budget's, so threaded WSGI servers never
    corrupt it.
    """

    __slots__ = ("_budget", "_data", "entries", "lookup")

    def __init__(self, budget: CacheBudget | int = 4096) -> None:
        self._budget = budget if isinstance(budget, CacheBudget) else CacheBudget(budget)
        self._data: dict[Hashable, V] = {}
        #: The entries, for reading only (``entries.get(key)``, the cheapest lookup in
        #: CPython: a method call on the dict); written through :meth:`put` alone.
        self.entries: Mapping[Hashable, V] = self._data
        #: ``lookup(key)``: the cached answer or None, without a Python-level call: the
        #: bound ``dict.get`` of the (never replaced) dict.
        self.lookup = self._data.get

    @property
    def budget(self) -> CacheBudget:
        """The budget this cache's entries count against."""
        return self._budget

    @property
    def maxsize(self) -> int:
        """The most entries this cache can hold: its budget's limit (shared with others)."""
        return self._budget.limit

    def put(self, key: Hashable, value: V) -> None:
        """Store an answer, evicting the budget's oldest entries if it is spent."""
        budget = self._budget
        if budget.limit == 0:
            return
        data = self._data
        with budget.lock:
            if key not in data:
                order = budget.order
                while len(order) >= budget.limit:
                    victim, old_key = order.popleft()
                    del victim[old_key]
                order.append((data, key))
            data[key] = value

    def clear(self) -> None:
        """Forget every answer of this cache (the others sharing the budget keep theirs)."""
        budget = self._budget
        with budget.lock:
            data = self._data
            if data:
                budget.order = deque(entry for entry in budget.order if entry[0] is not data)
                data.clear()

    def __len__(self) -> int:
        return len(self._data)
