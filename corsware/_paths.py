"""Per-path rules: path patterns compiled once, matched in declaration order, on the path
the framework's router dispatches.

What a rule is matched on
-------------------------
A rule is relative to where the application is mounted, like the routes of the app itself:

- WSGI: ``PATH_INFO`` (already relative to ``SCRIPT_NAME``), decoded as the routers decode
  it: PEP 3333 hands the path as latin-1 text of the request's UTF-8 bytes, and Werkzeug,
  Django and every other WSGI router decode those bytes as UTF-8 (:func:`wsgi_route_path`).
- ASGI: the route path as Starlette computes it, ``scope["path"]`` minus ``root_path`` when
  the root path is a prefix of it (uvicorn ``--root-path``, a Starlette ``Mount``), see
  :func:`asgi_route_path`.
- Django: ``request.path_info``, which its URL resolver uses.

The path is taken as decoded once by the server: no extra unquoting, so ``+`` stays ``+``
(flask-cors CVE-2024-6844) and case matters: ``/PUBLIC`` is not ``/public`` (CVE-2024-6866).

When routers disagree
---------------------
Routers do not agree on every path. Starlette, Flask and Django route ``/a/../b`` as the
literal segments (a ``/a/<path>`` route serves it), a normalising proxy in front sends it
on as ``/b`` (CVE-2020-25032); Werkzeug strips leading slashes and merges repeated ones
(``//api/admin`` is served by ``/api/admin``), Starlette and Django do not. corsware cannot
know which of these the router behind it does, nor whether the route's converters accept
an empty segment, so under per-path rules a path with more than one reading
(:func:`route_path_candidates`) is refused CORS (no ``Access-Control-*`` header, preflight
403): the strictest answer, never the loosest. Paths without dot segments or repeated
slashes (all that browsers send, bar URLs glued with ``//``) have one reading.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

__all__ = [
    "PathPattern",
    "asgi_route_path",
    "normalise_path",
    "route_path_candidates",
    "wsgi_route_path",
]


class PathPattern:
    """A path pattern: a literal path, a glob where ``*`` matches any run of characters
    (``/`` included), or a compiled ``re.Pattern`` matched with ``fullmatch``.

    Matching is case-sensitive and on the route path (see the module docstring): no extra
    unquoting, so ``+`` stays ``+`` (CVE-2024-6844) and ``/PUBLIC`` is not ``/public``
    (CVE-2024-6866).
    """

    __slots__ = ("literal", "regex", "text")

    def __init__(self, pattern: str | re.Pattern[str]) -> None:
        if isinstance(pattern, re.Pattern):
            self.text = f"re:{pattern.pattern}"
            self.literal: str | None = None
            self.regex: re.Pattern[str] | None = pattern
        elif "*" in pattern:
            self.text = pattern
            self.literal = None
            self.regex = re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.S)
        else:
            self.text = pattern
            self.literal = pattern
            self.regex = None

    def matches(self, path: str) -> bool:
        """Whether ``path`` (one reading of a route path) matches this pattern."""
        if self.literal is not None:
            return path == self.literal
        assert self.regex is not None  # noqa: S101 - one of the two is always set
        return self.regex.fullmatch(path) is not None

    def __repr__(self) -> str:
        return f"PathPattern({self.text!r})"


_DOT_SEGMENT: Final = re.compile(r"(?:^|/)\.\.?(?:/|$)")
_REPEATED_SLASHES: Final = re.compile(r"//+")


def normalise_path(path: str) -> str:
    """Remove ``.`` and ``..`` segments (RFC 3986 §5.2.4,
    https://www.rfc-editor.org/rfc/rfc3986#section-5.2.4): ``/public/../private`` becomes
    ``/private``, the path a normalising proxy or router dispatches (CVE-2020-25032).

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


def route_path_candidates(path: str) -> tuple[str, ...]:
    """Every plausible reading of ``path`` by the router behind the middleware.

    - the path as given (Starlette, Django, Werkzeug without merging: ``/a/../b`` is
      served by a ``/a/<path>`` route);
    - dot segments removed (a normalising proxy or router, CVE-2020-25032);
    - repeated slashes merged, leading ones included (Werkzeug strips leading slashes and
      merges repeated ones: ``//api/admin`` is served by ``/api/admin``);
    - both, in either order (``/a/..//b`` differs by order).

    The first item is always the path itself; most paths have no other reading.
    """
    dots = "/." in path or path.startswith(".")
    slashes = "//" in path
    if not dots and not slashes:
        return (path,)
    readings = [path]
    if dots:
        readings.append(normalise_path(path))
    if slashes:
        merged = _REPEATED_SLASHES.sub("/", path)
        readings += [merged, normalise_path(merged), _REPEATED_SLASHES.sub("/", normalise_path(path))]
    return tuple(dict.fromkeys(readings))


def wsgi_route_path(path_info: str) -> str:
    """The route path of a WSGI ``PATH_INFO``.

    PEP 3333 (https://peps.python.org/pep-3333/#unicode-issues) hands the path as
    latin-1 text of the bytes the server decoded from the URL; those bytes are UTF-8
    (RFC 3986 §2.5), and routers decode them so (Werkzeug with ``errors="replace"``,
    which is what is done here for bytes that are not UTF-8). ASCII paths are returned
    as they are.
    """
    if path_info.isascii():
        return path_info
    try:
        raw = path_info.encode("latin-1")
    except UnicodeEncodeError:  # not PEP 3333 text: a server that already decoded it
        return path_info
    return raw.decode("utf-8", "replace")


def asgi_route_path(scope: Mapping[str, Any]) -> str:
    """The route path of an ASGI scope, as Starlette's router computes it.

    Since the ASGI spec's 2.x clarification (and uvicorn ``--root-path``, Starlette
    ``Mount``), ``scope["path"]`` includes ``root_path``; the app's routes, and so the
    rules, are relative to the mount point: ``root_path`` is removed when it is a whole
    prefix of the path (``/v1/admin`` under ``/v1`` is ``/admin``; ``/v1x`` is not under
    ``/v1``).
    """
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if not root_path or not path.startswith(root_path):
        return path
    if len(path) == len(root_path):
        return ""
    if path[len(root_path)] == "/":
        return path[len(root_path) :]
    return path
