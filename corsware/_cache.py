"""``PreflightCache``: a bounded, thread-safe map from preflight keys to answers."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

__all__ = ["PreflightCache"]

V = TypeVar("V")


class PreflightCache(Generic[V]):
    """A bounded cache of computed preflight answers.

    Keys are chosen by the client (origin, method, header list), so the cache must stay
    bounded whatever an attacker sends: past ``maxsize`` entries the oldest inserted entry
    is evicted (FIFO; an LRU would need a write on every hit). Reads take no lock (a dict
    lookup is atomic); writes take one, so threaded WSGI servers never corrupt it.

    An ``OrderedDict`` evicts its oldest entry in O(1); a plain dict's ``next(iter(d))``
    walks over the holes its earlier deletions left, which doubled the cost of a miss.
    """

    __slots__ = ("_data", "_lock", "lookup", "maxsize")

    def __init__(self, maxsize: int = 4096) -> None:
        if maxsize < 0:
            raise ValueError("maxsize must be >= 0")
        self.maxsize = maxsize
        self._data: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        #: ``lookup(key)`` is ``get(key)`` without a Python-level call: the bound
        #: ``dict.get`` of the (never replaced) dict, for the adapters' hot path.
        self.lookup = self._data.get

    def get(self, key: Hashable) -> V | None:
        """Return the cached answer for ``key``, or None."""
        return self._data.get(key)

    def put(self, key: Hashable, value: V) -> None:
        """Store an answer, evicting the oldest entries if the cache is full."""
        if self.maxsize == 0:
            return
        with self._lock:
            data = self._data
            while len(data) >= self.maxsize:
                data.popitem(last=False)
            data[key] = value

    def clear(self) -> None:
        """Forget every answer."""
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
