"""Per-path rules: path patterns compiled once, matched in declaration order."""

from __future__ import annotations

import re
from typing import Final

__all__ = ["PathPattern", "normalise_path"]


class PathPattern:
    """A path pattern: a literal path, a glob where ``*`` matches any run of characters
    (``/`` included), or a compiled ``re.Pattern`` matched with ``fullmatch``.

    Matching is case-sensitive and on the path exactly as the router sees it (WSGI
    ``PATH_INFO``, ASGI ``scope["path"]``): no extra unquoting, so ``+`` stays ``+``
    (CVE-2024-6844) and ``/PUBLIC`` is not ``/public`` (CVE-2024-6866).
    """

    __slots__ = ("_literal", "_regex", "text")

    def __init__(self, pattern: str | re.Pattern[str]) -> None:
        if isinstance(pattern, re.Pattern):
            self.text = f"re:{pattern.pattern}"
            self._literal: str | None = None
            self._regex: re.Pattern[str] | None = pattern
        elif "*" in pattern:
            self.text = pattern
            self._literal = None
            self._regex = re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.S)
        else:
            self.text = pattern
            self._literal = pattern
            self._regex = None

    def matches(self, path: str) -> bool:
        """Whether ``path`` (already dot-segment normalised) matches this pattern."""
        if self._literal is not None:
            return path == self._literal
        assert self._regex is not None  # noqa: S101 - one of the two is always set
        return self._regex.fullmatch(path) is not None

    def __repr__(self) -> str:
        return f"PathPattern({self.text!r})"


_DOT_SEGMENT: Final = re.compile(r"(?:^|/)\.\.?(?:/|$)")


def normalise_path(path: str) -> str:
    """Remove ``.`` and ``..`` segments (RFC 3986 §5.2.4) so that ``/public/../private``
    is matched as ``/private``, the path a normalising router dispatches (CVE-2020-25032).

    Paths without dot segments (nearly all) are returned unchanged after a substring test.
    """
    if ("/." not in path and not path.startswith(".")) or _DOT_SEGMENT.search(path) is None:
        return path
    out: list[str] = []
    segments = path.split("/")
    for segment in segments[1:] if path.startswith("/") else segments:
        if segment == "..":
            if out:
                out.pop()
        elif segment != ".":
            out.append(segment)
    trailing = "/" if segments[-1] in (".", "..") else ""
    return "/" + "/".join(out) + (trailing if out else "")
