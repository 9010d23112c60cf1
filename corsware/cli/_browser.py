"""What a browser does with a cross-origin request, as the Fetch standard says.

Server-independent and sans-IO: given the request a script makes (origin, method,
headers, credentials mode), say whether the browser sends a CORS-preflight request first
and with which headers, and judge responses with the standard's "CORS check" and the
checks of the "CORS-preflight fetch". ``corsware explain`` feeds it corsware's own answers;
``corsware probe`` feeds it a real server's.

Every failure carries a stable ``code``, a ``message`` in the words a developer sees in the
browser console, and a ``fix``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from .._headers import (
    FORBIDDEN_REQUEST_HEADER_PREFIXES,
    FORBIDDEN_REQUEST_HEADERS,
    NON_WILDCARD_REQUEST_HEADERS,
    SAFELISTED_METHODS,
    is_token,
)

__all__ = [
    "BrowserRequest",
    "Failure",
    "check_actual",
    "check_preflight",
    "chromium_reason",
    "console_messages",
    "firefox_reason",
    "forbidden_header",
    "unsafe_header_names",
]

Pairs = Sequence[tuple[str, str]]
_ACAM: Final = "Access-Control-Allow-Methods"

#: Fetch "CORS-safelisted request-header": Content-Type values whose essence is one of these.
_SAFELISTED_CONTENT_TYPES: Final = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
#: Fetch "CORS-unsafe request-header byte".
_UNSAFE_BYTES: Final = frozenset('"():<>?@[\\]{}\x7f') | frozenset(chr(c) for c in range(0x20) if c != 0x09)
#: Characters allowed in Accept-Language / Content-Language values.
_LANGUAGE_CHARS: Final = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ *,-.;=")


@dataclass(frozen=True)
class BrowserRequest:
    """The cross-origin request a script makes (``fetch(url, {method, headers, credentials})``)."""

    origin: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    credentials: bool = False  # credentials mode "include"
    private_network: bool = False  # the target is on a private/local network (legacy PNA)

    @property
    def unsafe_names(self) -> tuple[str, ...]:
        """Fetch "CORS-unsafe request-header names" of this request."""
        return unsafe_header_names(self.headers)

    @property
    def needs_preflight(self) -> bool:
        """Fetch §"HTTP fetch" step 4.1: a preflight is sent unless the method is safelisted
        and no CORS-unsafe header is set (and, under Private Network Access, always)."""
        return self.method not in SAFELISTED_METHODS or bool(self.unsafe_names) or self.private_network

    def preflight_headers(self) -> list[tuple[str, str]]:
        """The headers of the CORS-preflight request (Fetch §"CORS-preflight fetch" steps 1-5).

        Preflights never carry credentials or the script's own headers. The requested names
        are lower-cased, sorted, de-duplicated and joined by ``,`` without spaces.
        """
        out = [("Origin", self.origin), ("Access-Control-Request-Method", self.method)]
        if self.unsafe_names:
            out.append(("Access-Control-Request-Headers", ",".join(self.unsafe_names)))
        if self.private_network:
            out.append(("Access-Control-Request-Private-Network", "true"))
        return out

    def actual_headers(self) -> list[tuple[str, str]]:
        """The headers of the request itself: the script's headers plus ``Origin``."""
        return [("Origin", self.origin), *self.headers]


@dataclass(frozen=True)
class Failure:
    """One reason a browser blocks the request."""

    code: str
    message: str
    fix: str
    step: str = "actual"  # "preflight" or "actual"

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "step": self.step, "message": self.message, "fix": self.fix}


@dataclass
class _Headers:
    """Response header lookup with Fetch "get" semantics (repeated values joined by ", ")."""

    pairs: Pairs
    _index: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, value in self.pairs:
            self._index.setdefault(name.lower(), []).append(value.strip(" \t"))

    def get(self, name: str) -> str | None:
        values = self._index.get(name.lower())
        return None if values is None else ", ".join(values)

    def list(self, name: str) -> list[str] | None:
        """Fetch "extracting header list values": comma-split items, None if absent."""
        value = self.get(name)
        if value is None:
            return None
        return [item.strip(" \t") for item in value.split(",") if item.strip(" \t")]


def forbidden_header(name: str) -> bool:
    """Fetch "forbidden request-header": scripts cannot set it, the browser owns it."""
    low = name.lower()
    return low in FORBIDDEN_REQUEST_HEADERS or low.startswith(FORBIDDEN_REQUEST_HEADER_PREFIXES)


def _safelisted(name: str, value: str) -> bool:
    """Fetch "CORS-safelisted request-header" (name and value)."""
    if len(value) > 128:
        return False
    if name == "accept":
        return not any(c in _UNSAFE_BYTES for c in value)
    if name in ("accept-language", "content-language"):
        return all(c in _LANGUAGE_CHARS for c in value)
    if name == "content-type":
        if any(c in _UNSAFE_BYTES for c in value):
            return False
        essence = value.split(";", 1)[0].strip(" \t").lower()
        return essence in _SAFELISTED_CONTENT_TYPES
    if name == "range":
        # Only "bytes=N-" or "bytes=N-M" (a simple range header value).
        if not value.startswith("bytes="):
            return False
        start, sep, end = value[6:].partition("-")
        return bool(sep) and start.isdigit() and (end == "" or end.isdigit())
    return False


def unsafe_header_names(headers: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """Fetch "CORS-unsafe request-header names": sorted, lower-cased, unique.

    A header is unsafe if it is not safelisted by name and value, or if the safelisted
    values together exceed 1024 bytes (then every safelisted one counts as unsafe).
    """
    unsafe: set[str] = set()
    safe: list[tuple[str, str]] = []
    for name, value in headers:
        low = name.lower()
        if _safelisted(low, value):
            safe.append((low, value))
        else:
            unsafe.add(low)
    if sum(len(v) for _, v in safe) > 1024:
        unsafe.update(n for n, _ in safe)
    return tuple(sorted(unsafe))


def _cors_check(headers: _Headers, req: BrowserRequest, step: str) -> list[Failure]:
    """Fetch §"CORS check": ACAO single value, ``*`` only without credentials, ACAC ``true``."""
    acao = headers.get("Access-Control-Allow-Origin")
    if acao is None:
        return [
            Failure(
                "missing_allow_origin",
                f"No 'Access-Control-Allow-Origin' header is present on the {step} response",
                f"allow the origin {req.origin} on the server (corsware: add it to allow_origins)",
                step,
            )
        ]
    if acao == "*" and not req.credentials:
        return []
    if acao == "*":
        return [
            Failure(
                "wildcard_with_credentials",
                "'Access-Control-Allow-Origin' is '*', and '*' cannot be used with credentials "
                "(the request's credentials mode is 'include')",
                "answer with the request's exact origin (and Vary: Origin) instead of '*' "
                "(corsware: list the origins in allow_origins with allow_credentials = true)",
                step,
            )
        ]
    if "," in acao:
        return [
            Failure(
                "multiple_allow_origin",
                f"'Access-Control-Allow-Origin' contains multiple values {acao!r}, but only one is allowed",
                "send exactly one origin: the request's own (two layers, e.g. nginx and the app, both add it?)",
                step,
            )
        ]
    if acao != req.origin:
        return [
            Failure(
                "origin_mismatch",
                f"'Access-Control-Allow-Origin' is {acao!r}, which is not equal to the origin {req.origin!r}",
                f"reflect the allowed request origin byte for byte (corsware: add {req.origin!r} to allow_origins)",
                step,
            )
        ]
    if req.credentials:
        acac = headers.get("Access-Control-Allow-Credentials")
        # ABNF %s"true": exactly the four lower-case bytes.
        if acac != "true":
            shown = "missing" if acac is None else repr(acac)
            return [
                Failure(
                    "credentials_not_allowed",
                    f"'Access-Control-Allow-Credentials' is {shown}; it must be 'true' when the request's "
                    "credentials mode is 'include'",
                    "send 'Access-Control-Allow-Credentials: true' (corsware: allow_credentials = true), "
                    "or make the request without credentials",
                    step,
                )
            ]
    return []


def _status_failure(status: int, req: BrowserRequest) -> Failure:
    if status in (401, 407):
        return Failure(
            "preflight_auth",
            f"the preflight answered {status}: your auth layer runs before CORS",
            "preflights never carry credentials: answer OPTIONS preflights before authentication "
            "(put the CORS middleware outside/before the auth middleware)",
            "preflight",
        )
    if status in (404, 405, 501):
        return Failure(
            "preflight_not_handled",
            f"the preflight answered {status}: nothing answers OPTIONS preflights at this URL",
            "put a CORS middleware in front of the app so it answers preflights (corsware.wsgi/asgi.CORSMiddleware)",
            "preflight",
        )
    if 300 <= status < 400:
        return Failure(
            "preflight_redirect",
            f"the preflight answered {status}: redirects are not allowed for a preflight request",
            "call the final URL directly (check the scheme, host and trailing slash)",
            "preflight",
        )
    return Failure(
        "preflight_status",
        f"the preflight answered {status}, which is not an ok status (200-299)",
        f"the server refuses this preflight: allow the origin {req.origin} (and the method and headers asked) "
        "in its CORS policy; if they are allowed, something else (auth, a firewall, a router) answers first",
        "preflight",
    )


def check_preflight(status: int, pairs: Pairs, req: BrowserRequest) -> list[Failure]:
    """Fetch §"CORS-preflight fetch" step 7: why the browser rejects this preflight response.

    An empty list means the preflight passed and the browser will send the request itself.
    """
    headers = _Headers(pairs)
    failures = _cors_check(headers, req, "preflight")
    if not 200 <= status < 300:
        # A refused corsware preflight is 403 without CORS headers: report the status
        # first, it is what went wrong; the missing header is its consequence.
        return [_status_failure(status, req), *[f for f in failures if f.code != "missing_allow_origin"]]
    if failures:
        return failures
    wildcard_ok = not req.credentials
    methods = headers.list("Access-Control-Allow-Methods") or []
    bad_methods = [m for m in methods if not is_token(m)]
    if bad_methods:
        return [
            Failure(
                "allow_methods_invalid",
                f"'Access-Control-Allow-Methods' is not a list of methods: {headers.get(_ACAM)!r}",
                "send a comma-separated list of method names",
                "preflight",
            )
        ]
    out: list[Failure] = []
    # Step 7.5: methods compare byte-exactly; '*' is a wildcard only without credentials.
    if req.method not in methods and req.method not in SAFELISTED_METHODS and not (wildcard_ok and "*" in methods):
        star = " ('*' is not a wildcard for credentialed requests)" if "*" in methods else ""
        out.append(
            Failure(
                "method_not_allowed",
                f"Method {req.method} is not allowed by Access-Control-Allow-Methods in preflight response{star}",
                f"add {req.method} to the allowed methods (corsware: allow_methods)",
                "preflight",
            )
        )
    names = [n.lower() for n in headers.list("Access-Control-Allow-Headers") or []]
    for name in req.unsafe_names:
        if name in names:
            continue
        if name in NON_WILDCARD_REQUEST_HEADERS and "*" in names:
            # Fetch "CORS non-wildcard request-header name": '*' never covers Authorization.
            out.append(
                Failure(
                    "authorization_not_covered",
                    f"Request header field {name} is not allowed by Access-Control-Allow-Headers: "
                    "'Authorization' is not covered by '*'",
                    "list Authorization explicitly next to '*' (corsware: allow_headers = ['*', 'Authorization'])",
                    "preflight",
                )
            )
        elif not (wildcard_ok and "*" in names):
            star = " ('*' is not a wildcard for credentialed requests)" if "*" in names else ""
            out.append(
                Failure(
                    "header_not_allowed",
                    f"Request header field {name} is not allowed by Access-Control-Allow-Headers "
                    f"in preflight response{star}",
                    f"add {name} to the allowed request headers (corsware: allow_headers)",
                    "preflight",
                )
            )
    if req.private_network and headers.get("Access-Control-Allow-Private-Network") != "true":
        out.append(
            Failure(
                "private_network_not_allowed",
                "the preflight lacks 'Access-Control-Allow-Private-Network: true' (Private Network Access)",
                "allow private network access for this origin (corsware: allow_private_network = true)",
                "preflight",
            )
        )
    return out


def check_actual(pairs: Pairs, req: BrowserRequest) -> list[Failure]:
    """Fetch §"CORS check" on the actual response: may the script read it?"""
    return _cors_check(_Headers(pairs), req, "actual")


# -- what each engine's console says ------------------------------------------------------------

ENGINES: Final = ("chromium", "firefox")

#: Firefox's "Cross-Origin Request Blocked" messages (its security.properties, ``CORS*``
#: strings, en-US), as ``(Reason: ...)`` templates. Firefox quotes with U+2018/U+2019.
_FF_PREFIX: Final = (
    "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at {url}. "
)
_FF_REASONS: Final = {
    "missing_allow_origin": "(Reason: CORS header \u2018Access-Control-Allow-Origin\u2019 missing). "
    "Status code: {status}.",
    "multiple_allow_origin": "(Reason: Multiple CORS header \u2018Access-Control-Allow-Origin\u2019 not allowed).",
    "wildcard_with_credentials": "(Reason: Credential is not supported if the CORS header "
    "\u2018Access-Control-Allow-Origin\u2019 is \u2018*\u2019).",
    "origin_mismatch": "(Reason: CORS header \u2018Access-Control-Allow-Origin\u2019 does not match "
    "\u2018{value}\u2019).",
    "credentials_not_allowed": "(Reason: expected \u2018true\u2019 in CORS header "
    "\u2018Access-Control-Allow-Credentials\u2019).",
    "preflight_status": "(Reason: CORS preflight response did not succeed). Status code: {status}.",
    "method_not_allowed": "(Reason: Did not find method in CORS header \u2018Access-Control-Allow-Methods\u2019).",
    "allow_methods_invalid": "(Reason: invalid token \u2018{value}\u2019 in CORS header "
    "\u2018Access-Control-Allow-Methods\u2019).",
    "header_not_allowed": "(Reason: header \u2018{value}\u2019 is not allowed according to header "
    "\u2018Access-Control-Allow-Headers\u2019 from CORS preflight response).",
    "request_failed": "(Reason: CORS request did not succeed). Status code: (null).",
}
_FF_ORIGIN_CODES: Final = frozenset(
    {
        "missing_allow_origin",
        "multiple_allow_origin",
        "wildcard_with_credentials",
        "origin_mismatch",
        "credentials_not_allowed",
    }
)
_PREFLIGHT_STATUS_CODES: Final = frozenset(
    {"preflight_auth", "preflight_not_handled", "preflight_redirect", "preflight_status"}
)


def firefox_reason(code: str, *, status: int | None = None, value: str = "") -> str:
    """The ``(Reason: ...)`` part of Firefox's console message for one failure ``code``."""
    template = _FF_REASONS["preflight_status" if code in _PREFLIGHT_STATUS_CODES else code]
    return template.format(status="(null)" if status is None else status, value=value)


#: Chromium's words for the same failures (its "has been blocked by CORS policy" messages).
_CHROMIUM_REASONS: Final = {
    "missing_allow_origin": "No 'Access-Control-Allow-Origin' header is present on the requested resource.",
    "multiple_allow_origin": "The 'Access-Control-Allow-Origin' header contains multiple values '{value}', "
    "but only one is allowed.",
    "wildcard_with_credentials": "The value of the 'Access-Control-Allow-Origin' header in the response must not be "
    "the wildcard '*' when the request's credentials mode is 'include'.",
    "origin_mismatch": "The 'Access-Control-Allow-Origin' header has a value '{value}' that is not equal to the "
    "supplied origin.",
    "credentials_not_allowed": "The value of the 'Access-Control-Allow-Credentials' header in the response is "
    "'{value}' which must be 'true' when the request's credentials mode is 'include'.",
    "preflight_status": "It does not have HTTP ok status.",
    "preflight_redirect": "Redirect is not allowed for a preflight request.",
    "method_not_allowed": "Method {value} is not allowed by Access-Control-Allow-Methods in preflight response.",
    "allow_methods_invalid": "Cannot parse Access-Control-Allow-Methods response header field in preflight response.",
    "header_not_allowed": "Request header field {value} is not allowed by Access-Control-Allow-Headers in "
    "preflight response.",
}


def chromium_reason(code: str, *, preflight: bool = False, value: str = "", fallback: str = "") -> str:
    """What follows "has been blocked by CORS policy: " in Chromium's console for ``code``.

    Chromium prefixes the preflight's CORS check, status and redirect failures with
    "Response to preflight request doesn't pass access control check: "; the method and
    header messages name the preflight themselves.
    """
    template = _CHROMIUM_REASONS.get(code)
    reason = template.format(value=value) if template else fallback.rstrip(".") + "."
    checked = code in _FF_ORIGIN_CODES or code in ("preflight_status", "preflight_redirect")
    return (
        "Response to preflight request doesn't pass access control check: " if preflight and checked else ""
    ) + reason


def _first_reason(headers: _Headers, req: BrowserRequest, failures: Sequence[Failure]) -> tuple[str, str]:
    """The failure both engines report first, as (code, the value their message quotes).

    Both run the CORS check (Fetch §"CORS check") on a preflight before its status
    (§"CORS-preflight fetch" step 7), so a refused preflight without CORS headers reads
    "missing Access-Control-Allow-Origin" in both, not "not an ok status".
    """
    origin_failures = _cors_check(headers, req, failures[0].step)
    if origin_failures:
        code = origin_failures[0].code
        value = headers.get(
            "Access-Control-Allow-Credentials" if code == "credentials_not_allowed" else "Access-Control-Allow-Origin"
        )
        return code, value or ""
    first = failures[0]
    if first.code in _PREFLIGHT_STATUS_CODES:
        return ("preflight_redirect" if first.code == "preflight_redirect" else "preflight_status"), ""
    if first.code == "method_not_allowed":
        return first.code, req.method
    if first.code in ("header_not_allowed", "authorization_not_covered"):
        names = [n.lower() for n in headers.list("Access-Control-Allow-Headers") or []]
        missing = [n for n in req.unsafe_names if n not in names]
        return "header_not_allowed", missing[0] if missing else ""
    if first.code == "allow_methods_invalid":
        bad = [m for m in headers.list(_ACAM) or [] if not is_token(m)]
        return first.code, bad[0] if bad else ""
    return first.code, ""


def console_messages(
    engine: str, url: str, req: BrowserRequest, status: int | None, pairs: Pairs, failures: Sequence[Failure]
) -> list[str]:
    """What ``engine``'s console prints when the step answered ``status``/``pairs`` fails.

    ``failures`` are this module's verdict on that step (empty: the engine prints nothing);
    ``status`` None (``corsware explain``: the app answers, with a status not known here)
    is shown as ``<status>``.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    if not failures:
        return []
    preflight = failures[0].step == "preflight"
    code, value = _first_reason(_Headers(pairs), req, failures)
    if engine == "chromium":
        reason = chromium_reason(code, preflight=preflight, value=value, fallback=failures[0].message)
        return [f"Access to fetch at '{url}' from origin '{req.origin}' has been blocked by CORS policy: {reason}"]
    shown = f"\u2018{url}\u2019" if code == "wildcard_with_credentials" else url
    if code in _FF_REASONS or code in _PREFLIGHT_STATUS_CODES:
        reason = firefox_reason(code, status=status, value=value)
        if status is None:
            reason = reason.replace("(null)", "<status>")
    else:  # e.g. Private Network Access, which Firefox does not check this way
        reason = f"(Reason: {failures[0].message})"
    messages = [_FF_PREFIX.format(url=shown) + reason]
    if preflight:
        # The request the preflight was for is never sent: Firefox reports that too.
        messages.append(_FF_PREFIX.format(url=url) + _FF_REASONS["request_failed"])
    return messages
