"""Print corsware's message for a misspelt keyword on each constructor, one per line.

Run by tests/integrations/test_peer_configs.py under every Python the project supports (3.10-3.13),
with only ``corsware`` importable: the core and its middleware have no dependencies. The
output must be the same on each, whatever Python's own ``TypeError`` says.
"""

from __future__ import annotations

from collections.abc import Callable

import corsware
import corsware.asgi
import corsware.wsgi


def app(*args: object) -> None:
    """A stand-in application (never called)."""


CONSTRUCTORS: list[tuple[str, Callable[[], object]]] = [
    ("CORSPolicy", lambda: corsware.CORSPolicy(allow_header=["X-Token"])),  # type: ignore[call-arg]
    ("wsgi.CORSMiddleware", lambda: corsware.wsgi.CORSMiddleware(app, allow_header=["X-Token"])),  # type: ignore[call-arg]
    ("asgi.CORSMiddleware", lambda: corsware.asgi.CORSMiddleware(app, allow_header=["X-Token"])),  # type: ignore[call-arg]
]


def main() -> None:
    for name, make in CONSTRUCTORS:
        try:
            make()
        except (TypeError, ValueError) as exc:
            print(f"{name}: {type(exc).__name__} TypeError={isinstance(exc, TypeError)} {exc}")
        else:
            print(f"{name}: accepted")


if __name__ == "__main__":
    main()
