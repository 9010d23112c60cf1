"""What the framework apps share: the call record and the route table of tests/support/shared_app.py."""

from __future__ import annotations

from ..shared_app import AppError, _route, append_call

__all__ = ["CALLS", "METHODS", "AppError", "record", "reset", "route"]

#: Every path a framework app was called with, in this process.
CALLS: list[str] = []

#: The methods every catch-all route accepts (OPTIONS too: a non-preflight OPTIONS reaches the app).
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]

route = _route


def record(path: str) -> None:
    """Note that the app was called with ``path``: in :data:`CALLS`, and when the process is a
    server started by the tests, in the file named by ``SERVERS_CALLS_FILE`` too."""
    CALLS.append(path)
    append_call(path)


def reset() -> None:
    CALLS.clear()
