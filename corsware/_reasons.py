"""Every reason code a decision can carry (``CORSDecision.reason``, ``PreflightAnswer.reason``),
declared once, each with its one-line meaning.

docs/reason-codes.md documents each (tests/core/test_reason_codes.py checks the page against
:data:`DECISION_REASONS`); the configuration codes of ``CORSConfigError`` are the ``code``
of each ``Problem`` and are checked by the same test.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ALLOWED", "DECISION_REASONS", "HEADER_NOT_ALLOWED", "METHOD_NOT_ALLOWED", "NO_ORIGIN",
    "ORIGIN_NOT_ALLOWED", "PATH_AMBIGUOUS", "PRIVATE_NETWORK_NOT_ALLOWED", "REQUEST_HEADERS_INVALID",
    "REQUEST_METHOD_INVALID",
]  # fmt: skip

ALLOWED: Final = "allowed"
NO_ORIGIN: Final = "no_origin"
ORIGIN_NOT_ALLOWED: Final = "origin_not_allowed"
PATH_AMBIGUOUS: Final = "path_ambiguous"
REQUEST_METHOD_INVALID: Final = "request_method_invalid"
METHOD_NOT_ALLOWED: Final = "method_not_allowed"
REQUEST_HEADERS_INVALID: Final = "request_headers_invalid"
HEADER_NOT_ALLOWED: Final = "header_not_allowed"
PRIVATE_NETWORK_NOT_ALLOWED: Final = "private_network_not_allowed"

#: Each code and its meaning in one line. For the refusals of a preflight the line is also
#: the ``detail`` of the answer shared by every request refused for that reason (see
#: ``Plan.explain``): it names none of the request's values.
DECISION_REASONS: Final[dict[str, str]] = {
    ALLOWED: "a rule allows the origin (and, for a preflight, the method and headers)",
    NO_ORIGIN: "no Origin header: not a CORS request",
    PATH_AMBIGUOUS: "a path routers read differently, under per-path rules: CORS is refused for it",
    ORIGIN_NOT_ALLOWED: "the origin is not allowed by any rule",
    REQUEST_METHOD_INVALID: "the requested method is not a method token",
    METHOD_NOT_ALLOWED: "the method is not in allow_methods",
    REQUEST_HEADERS_INVALID: "Access-Control-Request-Headers is too long or not a list of header names",
    HEADER_NOT_ALLOWED: "a request header is not in allow_headers",
    PRIVATE_NETWORK_NOT_ALLOWED: "private network access requested, allow_private_network is off",
}
