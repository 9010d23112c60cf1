"""Judging what an origin callback (or a Django ``check_request_enabled`` receiver) returns.

A callback allows an origin only by returning ``True``, the bool. Truthiness is not enough:
``"false"``, ``"0"``, ``b"0"``, ``{"enabled": False}`` and ``NotImplemented`` are all truthy,
and a callback that returns one of them by mistake (a string read from a database or a
setting, a config object, an unimplemented branch) would otherwise allow every origin it
meant to refuse. Anything but ``True`` refuses; a result that is not a bool at all is a bug
in the callback, so it is logged once per callback at WARNING, naming the callback and the
type it returned.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Awaitable, Callable, Generator
from typing import Any, Final

from ._log import logger

__all__ = ["ORIGIN_CALLBACK", "call_origin_callback", "judge"]

#: How the warning names an ``allow_origin_callback``.
ORIGIN_CALLBACK: Final = "allow_origin_callback"

#: How many callbacks the "already warned" record holds; beyond it the oldest is forgotten
#: (and may be warned about once more), so the record is bounded whatever the app does.
_WARNED_LIMIT: Final = 256
_warned: dict[object, None] = {}
_warned_lock = threading.Lock()


def judge(result: object, callback: object, role: str = ORIGIN_CALLBACK) -> bool:
    """Whether ``result``, returned by ``callback``, allows: only ``True`` (the bool) does.

    A result that is not a bool refuses and is logged at WARNING on the ``corsware``
    logger, once per callback. ``role`` says what the callback is in that message
    (``"allow_origin_callback"``, ``"check_request_enabled receiver"``).
    """
    if result is True:
        return True
    if result is not False and _first_warning(callback):
        logger.warning(
            "%s %s returned %s, not a bool: only True allows an origin, so corsware refuses "
            "it (and every other non-True result); return True or False (logged once per callback)",
            role,
            _name(callback),
            type(result).__qualname__,
        )
    return False


def call_origin_callback(
    callback: Callable[[str], object], origin: str, role: str = ORIGIN_CALLBACK
) -> bool | Awaitable[bool]:
    """Call ``callback(origin)`` and :func:`judge` its result.

    An async callback's awaitable is returned wrapped, judged when awaited; closing the
    wrapper closes the callback's coroutine (no "never awaited" warning when a sync
    adapter refuses it).
    """
    result = callback(origin)
    if inspect.isawaitable(result):
        return _Judged(result, callback, role)
    return judge(result, callback, role)


class _Judged:
    """An async callback's result, judged by :func:`judge` once awaited."""

    __slots__ = ("_awaitable", "_callback", "_role")

    def __init__(self, awaitable: Awaitable[object], callback: object, role: str) -> None:
        self._awaitable = awaitable
        self._callback = callback
        self._role = role

    def __await__(self) -> Generator[Any, Any, bool]:
        result = yield from self._awaitable.__await__()
        return judge(result, self._callback, self._role)

    def close(self) -> None:
        close = getattr(self._awaitable, "close", None)
        if close is not None:
            close()


def _first_warning(callback: object) -> bool:
    """Record ``callback`` as warned about; False if it already was (thread-safe, bounded)."""
    key: object = callback
    try:
        hash(key)
    except TypeError:  # an unhashable callable object: its identity stands for it
        key = ("id", id(callback))
    with _warned_lock:
        if key in _warned:
            return False
        if len(_warned) >= _WARNED_LIMIT:
            del _warned[next(iter(_warned))]
        _warned[key] = None
        return True


def _name(callback: object) -> str:
    name = getattr(callback, "__qualname__", None)
    if not isinstance(name, str):
        name = f"{type(callback).__qualname__} object"
    module = getattr(callback, "__module__", None)
    return f"{module}.{name}" if isinstance(module, str) and module else name
