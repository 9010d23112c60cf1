"""Turn ``--origin/--method/--header/--credentials`` into a :class:`BrowserRequest`."""

from __future__ import annotations

import argparse

from .._browser import BrowserRequest, forbidden_header
from .._headers import is_token
from .._origins import parse_request_origin
from ._output import CommandError

__all__ = ["add_request_arguments", "browser_request"]


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


def browser_request(args: argparse.Namespace) -> BrowserRequest:
    """Validate the request options; bad ones raise :class:`CommandError` (exit 2)."""
    origin: str = args.origin
    if origin != "null" and parse_request_origin(origin) is None:
        raise CommandError(
            "usage", f"--origin {origin!r} is not an origin as browsers send it (scheme://host[:port], lower case)"
        )
    if not is_token(args.method):
        raise CommandError("usage", f"--method {args.method!r} is not a method name")
    if args.method.upper() in ("CONNECT", "TRACE", "TRACK"):
        raise CommandError("usage", f"--method {args.method!r}: browsers never send this method")
    headers = tuple(_header(h) for h in args.header)
    return BrowserRequest(origin, args.method, headers, args.credentials, args.private_network)
