"""The ``corsware`` logger and escaping of attacker-controlled values in log lines."""

from __future__ import annotations

import logging

__all__ = ["escape", "log_build_failure", "logger"]

logger = logging.getLogger("corsware")

#: Longest request value quoted in a log line; the rest is summarised, so a 1 MiB header
#: cannot turn into a 4 MiB log record.
_MAX_LOGGED = 200

# Every C0 control, DEL and the C1 controls are replaced by a visible escape, so a CR/LF in
# a path, Origin or header value can never start a second log line (CVE-2024-1681).
_ESCAPES = {i: f"\\x{i:02x}" for i in [*range(0x20), *range(0x7F, 0xA0)]}
_ESCAPES[ord("\\")] = "\\\\"
_ESCAPES[ord('"')] = '\\"'
# Unicode line and paragraph separators also break lines in many log viewers.
_ESCAPES[0x2028] = "\\u2028"
_ESCAPES[0x2029] = "\\u2029"


def escape(value: str | None) -> str:
    """Return ``value`` as a double-quoted, single-line, length-capped string for logs."""
    if value is None:
        return "(none)"
    extra = ""
    if len(value) > _MAX_LOGGED:
        extra = f"...(+{len(value) - _MAX_LOGGED} chars)"
        value = value[:_MAX_LOGGED]
    return '"' + value.translate(_ESCAPES) + '"' + extra


def log_build_failure(middleware: object, exc: Exception) -> None:
    """Log why a middleware could not be built, at ERROR, with the problem list.

    Starlette builds ``app.add_middleware(...)`` lazily, during the lifespan start-up, and
    uvicorn's default ``lifespan="auto"`` turns an exception there into one INFO line ("ASGI
    'lifespan' protocol appears unsupported") and keeps serving: every request then fails
    with a 500. So the problem is logged on every attempt, before the exception goes on to
    whoever built the middleware (a misspelt keyword included, see ``corsware._keywords``).
    """
    name = f"{type(middleware).__module__}.{type(middleware).__qualname__}"
    logger.error(
        "%s could not be built, so every request through it fails until this is fixed: %s\n"
        "Build the policy at import time, where an error stops the program: "
        "policy = corsware.CORSPolicy(...), then %s(app, policy=policy) "
        "or app.add_middleware(%s, policy=policy).",
        name,
        exc,
        name,
        name,
    )
