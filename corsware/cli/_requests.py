"""Turn ``--origin/--method/--header/--credentials`` into a :class:`BrowserRequest`."""

from __future__ import annotations

import argparse
import ast
import re
import shlex
from typing import Final

from .._errors import Problem
from .._headers import is_token
from .._origins import parse_origin_pattern, parse_request_origin
from ._browser import BrowserRequest, forbidden_header
from ._output import CommandError

__all__ = ["add_request_arguments", "browser_request", "check_origin_argument"]

#: The fix at the end of the origin parser's messages: ``write 'https://app.example.com'``.
_WRITE: Final = re.compile(r"write (?P<value>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")$")
_EXAMPLE: Final = "https://app.example.com"
#: A domain name (not an IP address) as a URL holds it: browsers send these even when a
#: policy cannot list them (an underscore, for one).
_DOMAIN: Final = re.compile(r"(?![0-9.]+$)[^\[\]]+")


def add_request_arguments(parser: argparse.ArgumentParser) -> None:
    """The options describing the script's request, shared by explain and probe."""
    parser.add_argument("--origin", required=True, help="the page's origin, e.g. https://app.example.com")
    parser.add_argument("--method", default="GET", help="the request method (default GET; case-sensitive)")
    parser.add_argument(
        "--header",
        "-H",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="a header the script sets (repeatable); a bare NAME means a non-safelisted value",
    )
    parser.add_argument(
        "--credentials", action="store_true", help="the script sends cookies/HTTP auth (fetch credentials: 'include')"
    )
    parser.add_argument(
        "--private-network",
        action="store_true",
        help="the target is on a private network (legacy Private Network Access preflight)",
    )
    parser.add_argument(
        "--engine",
        choices=["chromium", "firefox", "both"],
        help="also print what this browser engine's console says when it blocks the request",
    )


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    name = name.strip()
    if not is_token(name):
        raise CommandError("usage", f"--header {text!r}: {name!r} is not a header name (write 'Name: value')")
    if forbidden_header(name):
        raise CommandError(
            "usage",
            f"--header {text!r}: browsers do not let scripts set {name} (a forbidden request header); "
            "use --credentials for cookies",
        )
    # A bare name stands for "some value that is not safelisted": '(' and ')' are CORS-unsafe bytes.
    return name, value.strip() if sep else "(any)"


def _option_fix(option: str, problem: Problem) -> str:
    """The origin parser's sentence about ``problem``, with its fix written as the option.

    The parser (the same one that checks ``allow_origins``) says ``'x/' ends with '/'; ...:
    write 'x'``; on the command line that becomes ``--origin 'x/' ends with '/'; ...: write
    --origin x``. Fixes that only make sense in a policy (a regex option, separate list
    items, the null-origin opt-in) are replaced by what to type instead.
    """
    text = str(problem.value)
    shown = f"{option} {text!r}"
    if problem.code == "origin_empty":
        return f"{shown} is empty: write the page's origin, e.g. {option} {_EXAMPLE}"
    if problem.code == "origin_comma_separated":
        first = next(item.strip() for item in text.split(",") if item.strip())
        return f"{shown} holds several origins; a browser sends one: write {option} {shlex.quote(first)}"
    if problem.code == "origin_looks_like_regex":
        return f"{shown} looks like a regular expression; a browser sends one origin: write e.g. {option} {_EXAMPLE}"
    if problem.code == "origin_file_scheme":
        return f"{shown}: pages opened from file: URLs (and sandboxed iframes) send 'Origin: null': write {option} null"
    why = problem.message.removeprefix(repr(text)).lstrip()
    fix = _WRITE.search(why)
    if fix is not None:
        value = ast.literal_eval(fix.group("value"))
        why = f"{why[: fix.start()]}write {option} {shlex.quote(value)}"
    return f"{shown} {why}"


def check_origin_argument(option: str, origin: str) -> str:
    """``origin`` if it is an origin as a browser sends it (or ``null``), else :class:`CommandError`.

    Checked by the parser that validates ``allow_origins``, so a value is refused with the
    same precise sentence and fix (``http://localhost:3000/`` ends with '/', ...). Hosts that
    a URL can hold but a policy cannot list (``my_app.example.com``: an underscore) are sent
    as given: browsers send them; IP addresses must be written as browsers serialise them.
    """
    if origin == "null":
        return origin
    parsed = parse_origin_pattern(origin, option)
    if isinstance(parsed, Problem):
        sent = parse_request_origin(origin)
        if parsed.code == "origin_invalid_host" and sent is not None and _DOMAIN.fullmatch(sent[1]):
            return origin
        raise CommandError("usage", _option_fix(option, parsed))
    if parsed.kind != "exact":  # 'https://*.example.com' or 'http://localhost:*': a policy's pattern
        example = (
            f"{parsed.scheme}://app.{parsed.host}{f':{parsed.port}' if parsed.port else ''}"
            if parsed.kind == "subdomains"
            else f"{parsed.scheme}://{parsed.host}:8080"
        )
        raise CommandError(
            "usage",
            f"{option} {origin!r} is a pattern; a browser sends one origin: "
            f"write one it covers, e.g. {option} {shlex.quote(example)}",
        )
    if parse_request_origin(origin) is None:  # pragma: no cover - the pattern parser is stricter
        raise CommandError(
            "usage", f"{option} {origin!r} is not an origin as browsers send it (scheme://host[:port], lower case)"
        )
    return origin


def browser_request(args: argparse.Namespace) -> BrowserRequest:
    """Validate the request options; bad ones raise :class:`CommandError` (exit 2)."""
    origin = check_origin_argument("--origin", args.origin)
    if not is_token(args.method):
        raise CommandError("usage", f"--method {args.method!r} is not a method name")
    if args.method.upper() in ("CONNECT", "TRACE", "TRACK"):
        raise CommandError("usage", f"--method {args.method!r}: browsers never send this method")
    headers = tuple(_header(h) for h in args.header)
    return BrowserRequest(origin, args.method, headers, args.credentials, args.private_network)
