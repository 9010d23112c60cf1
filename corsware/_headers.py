"""HTTP token rules, bounded parsing of request headers, and merging of response headers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

__all__ = [
    "BYTES_CODEC",
    "FORBIDDEN_METHODS",
    "FORBIDDEN_REQUEST_HEADERS",
    "FORBIDDEN_REQUEST_HEADER_PREFIXES",
    "MAX_REQUEST_HEADERS_LENGTH",
    "MAX_REQUEST_METHOD_LENGTH",
    "NON_WILDCARD_REQUEST_HEADERS",
    "SAFELISTED_METHODS",
    "SAFELISTED_REQUEST_HEADERS",
    "STR_CODEC",
    "VaryCodec",
    "is_token",
    "is_token_list",
    "merge_response_headers",
    "parse_request_headers",
]

# RFC 9110 §5.6.2: token = 1*tchar.
_TOKEN_RE: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

#: Fetch "CORS-safelisted method": these never need to appear in Allow-Methods.
SAFELISTED_METHODS: Final = frozenset({"GET", "HEAD", "POST"})
#: Fetch "forbidden method" (byte-case-insensitive), plus TRACK (IIS's TRACE).
FORBIDDEN_METHODS: Final = frozenset({"CONNECT", "TRACE", "TRACK"})
#: Methods a browser normalises to upper case (Fetch "normalize a method"); writing them
#: in another case in a policy can never match what a browser sends.
NORMALISED_METHODS: Final = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"})

#: Fetch "CORS-safelisted request-header" names. A browser still lists them in
#: Access-Control-Request-Headers when their *value* is not safelisted (for example
#: ``Content-Type: application/json``); like Starlette, corsware always allows them.
SAFELISTED_REQUEST_HEADERS: Final = frozenset({"accept", "accept-language", "content-language", "content-type"})
#: Fetch "CORS non-wildcard request-header name": a literal ``*`` in a response never
#: covers it, so corsware names it when ``allow_headers`` is ``*`` (and the browser model
#: of ``corsware explain``/``probe`` judges other servers' answers by it).
NON_WILDCARD_REQUEST_HEADERS: Final = frozenset({"authorization"})
#: Fetch "forbidden request-header": scripts can never set these, so allowing them is
#: meaningless (and usually a misunderstanding, e.g. ``Cookie`` instead of credentials).
FORBIDDEN_REQUEST_HEADERS: Final = frozenset(
    {
        "accept-charset", "accept-encoding", "access-control-request-headers",
        "access-control-request-method", "access-control-request-private-network",
        "connection", "content-length", "cookie", "cookie2", "date", "dnt", "expect",
        "host", "keep-alive", "origin", "referer", "set-cookie", "te", "trailer",
        "transfer-encoding", "upgrade", "via",
    }
)  # fmt: skip
FORBIDDEN_REQUEST_HEADER_PREFIXES: Final = ("proxy-", "sec-")
#: Cap on the Access-Control-Request-Headers value(s) of one preflight. A browser sends the
#: sorted, de-duplicated names of the headers a script set; 4 KiB is ~150 custom names.
#: Anything longer is refused before any parsing, which bounds the cost of hostile input
#: (rs/cors's CVE-class DoS with 1 MiB of commas).
MAX_REQUEST_HEADERS_LENGTH: Final = 4096
#: Cap on Access-Control-Request-Method.
MAX_REQUEST_METHOD_LENGTH: Final = 64

_TCHARS = r"!#$%&'*+\-.^_`|~0-9a-z"  # lower-case tchar (RFC 9110 §5.6.2)
_ITEM = rf"[{_TCHARS}]+"
#: The characters of a lower-cased list without blanks whose every item is a token or
#: empty: lower-case tchar and ','. Deleting them from such a list leaves nothing
#: (``bytes.translate`` in C: several times cheaper than a regex over the same list).
_TOKEN_LIST_BYTES: Final = b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz,"
# The whole (lower-cased) list is checked by one linear, unambiguous regex: white space
# runs are consumed by exactly one star, so there is no backtracking blow-up.
_ACRH_RE: Final = re.compile(rf"[ \t]*(?:{_ITEM}[ \t]*)?(?:,[ \t]*(?:{_ITEM}[ \t]*)?)*")


def is_token_list(low: str) -> bool:
    """Whether a lower-cased Access-Control-Request-Headers value *without blanks* is a
    list of tokens and empty items (what :func:`parse_request_headers` accepts then)."""
    return low.isascii() and not low.encode("ascii").translate(None, _TOKEN_LIST_BYTES)


def is_token(value: str) -> bool:
    """Whether ``value`` is an RFC 9110 token (a valid method or header name)."""
    return _TOKEN_RE.fullmatch(value) is not None


def parse_request_headers(raw: str) -> tuple[str, ...] | None:
    """Parse an Access-Control-Request-Headers value into sorted, unique, lower-case names.

    Tolerant of what browsers and proxies do (case, optional white space, duplicates, empty
    items); returns ``None`` for a value that is too long or holds a non-token, so that the
    caller refuses it. Cost is linear and bounded by :data:`MAX_REQUEST_HEADERS_LENGTH`.
    """
    # Non-ASCII is refused before lower-casing: str.lower() maps some non-ASCII letters to
    # ASCII (KELVIN SIGN -> 'k'), which would turn a non-token into an allowed name.
    if len(raw) > MAX_REQUEST_HEADERS_LENGTH or not raw.isascii():
        return None
    low = raw.lower()
    if _ACRH_RE.fullmatch(low) is None:
        return None
    if "," not in low:
        name = low.strip(" \t")
        return (name,) if name else ()
    names = {item.strip(" \t") for item in low.split(",")}
    names.discard("")
    return tuple(sorted(names))


T = TypeVar("T", str, bytes)


@dataclass(frozen=True, slots=True)
class VaryCodec(Generic[T]):
    """The few constants header merging needs, in ``str`` (WSGI) or ``bytes`` (ASGI)."""

    vary: T
    out_name: T
    prefix: T
    comma: T
    star: T
    sep: T


STR_CODEC: Final[VaryCodec[str]] = VaryCodec("vary", "Vary", "access-control-", ",", "*", ", ")
BYTES_CODEC: Final[VaryCodec[bytes]] = VaryCodec(b"vary", b"vary", b"access-control-", b",", b"*", b", ")


def merge_response_headers(
    app_headers: Iterable[tuple[T, T]],
    cors_headers: Sequence[tuple[T, T]],
    vary: Sequence[T],
    codec: VaryCodec[T],
) -> list[tuple[T, T]]:
    """Return the app's headers with corsware's CORS headers and ``Vary`` merged in.

    - ``Access-Control-*`` headers set by the app are dropped: corsware is the single
      authority for them, so a stray hand-written hook cannot reflect an origin.
    - ``vary`` tokens (lower-case) are merged into the app's ``Vary``: never duplicated,
      never clobbered; several ``Vary`` lines are folded into one; ``Vary: *`` is kept.
    """
    out: list[tuple[T, T]] = []
    app_vary: list[T] = []
    prefix = codec.prefix
    vary_name = codec.vary
    for name, value in app_headers:
        low = name.lower()
        if low == vary_name:
            app_vary.append(value)
        elif not low.startswith(prefix):
            out.append((name, value))
    if app_vary:
        present = {item.strip().lower() for value in app_vary for item in value.split(codec.comma)}
        if codec.star in present:
            merged = codec.star
        else:
            missing: list[T] = [token for token in vary if token.lower() not in present]
            merged = codec.sep.join(app_vary + missing)
        out.append((codec.out_name, merged))
    elif vary:
        out.append((codec.out_name, codec.sep.join(vary)))
    out.extend(cors_headers)
    return out
