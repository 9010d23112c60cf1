"""Compiling validated settings into what request time reads: header names and values,
pre-encoded for WSGI (``str``) and ASGI (``bytes``), the origin matcher, the caches.

Nothing here runs per request; :mod:`corsware._decision` holds the request-time
decisions, as methods of :class:`~corsware._decision.Plan` (a :class:`CompiledPlan`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Final, NamedTuple

from ._cache import CacheBudget, PreflightCache
from ._headers import (
    BYTES_CODEC,
    MAX_REQUEST_METHOD_LENGTH,
    SAFELISTED_METHODS,
    SAFELISTED_REQUEST_HEADERS,
    STR_CODEC,
    is_token,
    merge_response_headers,
)
from ._origins import OriginMatcher
from ._settings import Settings

__all__ = [
    "ACAC",
    "ACAH",
    "ACAM",
    "ACAO",
    "ACAO_RAW",
    "ACAPN",
    "ACEH",
    "ACMA",
    "REASON_HEADER",
    "Addition",
    "CompiledPlan",
    "Pairs",
    "PreflightAnswer",
    "RawPairs",
    "addition",
    "encode",
]  # fmt: skip

Pairs = tuple[tuple[str, str], ...]
RawPairs = tuple[tuple[bytes, bytes], ...]

#: Header names in the case corsware writes them (WSGI) and lower case (ASGI, HTTP/2).
ACAO: Final = "Access-Control-Allow-Origin"
ACAC: Final = "Access-Control-Allow-Credentials"
ACAM: Final = "Access-Control-Allow-Methods"
ACAH: Final = "Access-Control-Allow-Headers"
ACMA: Final = "Access-Control-Max-Age"
ACEH: Final = "Access-Control-Expose-Headers"
ACAPN: Final = "Access-Control-Allow-Private-Network"
REASON_HEADER: Final = "Corsware-Reason"
ACAO_RAW: Final = ACAO.lower().encode("latin-1")
#: ASGI names of the headers corsware writes, encoded once (``_encode`` reuses them).
_RAW_NAMES: Final = {
    name: name.lower().encode("latin-1")
    for name in (ACAO, ACAC, ACAM, ACAH, ACMA, ACEH, ACAPN, REASON_HEADER, "Vary", "Content-Type", "Content-Length")
}


class Addition(NamedTuple):
    """Headers to merge into the app's response to one request.

    ``text_tail``/``raw_tail`` are ``Vary`` (when there is one) followed by the headers:
    exactly what is appended to an app response that has no ``Vary`` or
    ``Access-Control-*`` header of its own (nearly all), pre-built so merging is one copy.
    """

    text: Pairs
    raw: RawPairs
    vary_text: tuple[str, ...]
    vary_raw: tuple[bytes, ...]
    allowed: bool
    rule: str | None
    text_tail: Pairs
    raw_tail: RawPairs

    # The header merge rule, in one place: the adapters call these on the app's response
    # headers. Each has a fast path: when no app header can clash, the result is the app's
    # headers followed by the pre-built tail (``Vary`` then the CORS headers), which is what
    # the general merge (``merge_response_headers``) returns for them, in one copy
    # (tests/core/test_fast_paths.py ``test_merge_fast_path_matches_reference``). A header
    # might clash when its name starts with a/A/v/V (it may be ``Vary`` or
    # ``Access-Control-*``) or is empty (or, under ASGI, not bytes); testing the first
    # character is far cheaper than slicing or ``lower()``.

    def merged_text(self, app_headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """The app's WSGI response headers with these merged in (``Vary`` joined)."""
        if type(app_headers) is not list:
            app_headers = list(app_headers)
        for name, _ in app_headers:
            if name[:1] in "aAvV":  # also true for an empty name
                return merge_response_headers(app_headers, self.text, self.vary_text, STR_CODEC)
        return [*app_headers, *self.text_tail]

    def merged_raw(self, app_headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """The app's ASGI response headers with these merged in (``Vary`` joined)."""
        if type(app_headers) is not list:
            app_headers = list(app_headers)
        try:
            for name, _ in app_headers:
                if name[0] in b"aAvV":  # an int compared: no allocation
                    break
            else:
                return [*app_headers, *self.raw_tail]
        except (IndexError, TypeError):  # an empty or non-bytes name
            pass
        return merge_response_headers(app_headers, self.raw, self.vary_raw, BYTES_CODEC)


class PreflightAnswer(NamedTuple):
    """The complete response corsware sends to a preflight."""

    status: int
    text: Pairs
    raw: RawPairs
    allowed: bool
    reason: str
    detail: str
    rule: str | None


def encode(pairs: Pairs) -> RawPairs:
    # ASGI header names are lower case; values are latin-1 (RFC 9110 §5.5 obs-text).
    names = _RAW_NAMES
    return tuple(
        (names.get(k) or k.lower().encode("latin-1"), v.encode("latin-1", "backslashreplace")) for k, v in pairs
    )


def addition(pairs: Pairs, vary: tuple[str, ...], allowed: bool, rule: str | None) -> Addition:
    raw = encode(pairs)
    vary_raw = tuple(v.encode("latin-1") for v in vary)
    text_tail = ((("Vary", ", ".join(vary)),) if vary else ()) + pairs
    raw_tail = (((b"vary", b", ".join(vary_raw)),) if vary else ()) + raw
    return Addition(pairs, raw, vary, vary_raw, allowed, rule, text_tail, raw_tail)


class CompiledPlan:
    """One policy, compiled: everything a request needs, decided at construction.

    Only data: the request-time decisions are :class:`corsware._decision.Plan`'s methods.

    Its three caches (preflight answers, origin decisions, allowed preflight answers by
    origin) hold client-chosen keys; they draw from ``budget``, which a policy shares with
    the plans of its per-path rules, so ``preflight_cache_size`` bounds them all together.
    """

    __slots__ = (
        "_actual_tail",
        "_actual_vary",
        "_allowed_by",
        "_cache_entries",
        "_const_pairs",
        "_fast_answers",
        "_fast_headers",
        "_fast_methods",
        "_fast_middle",
        "_fast_middle_raw",
        "_fast_tails",
        "_has_callback",
        "_headers",
        "_headers_value",
        "_max_age",
        "_methods",
        "_methods_value",
        "_preflight_vary",
        "_refusals",
        "_refused_pairs",
        "_seen",
        "_seen_entries",
        "_static",
        "budget",
        "cache",
        "exact_raw",
        "exact_text",
        "matcher",
        "no_origin",
        "origin_callback",
        "refused",
        "settings",
    )  # fmt: skip

    def __init__(self, settings: Settings, matcher: OriginMatcher, budget: CacheBudget | int) -> None:
        self.settings = s = settings
        self.matcher = matcher
        #: The bound on the entries of this plan's caches (and of the plans sharing it).
        self.budget = budget if isinstance(budget, CacheBudget) else CacheBudget(budget)
        self.cache: PreflightCache[PreflightAnswer] = PreflightCache(self.budget)
        # Fetch §"CORS protocol and HTTP caches": a response whose ACAO depends on the
        # request's Origin must say Vary: Origin, on non-CORS responses too; a static '*'
        # is sent on every response and needs no Vary.
        varies_on_origin = matcher.allows_some and not s.any_origin
        self._actual_vary: tuple[str, ...] = ("Origin",) if varies_on_origin else ()
        tail: list[tuple[str, str]] = []
        if s.credentials:
            tail.append((ACAC, "true"))
        if s.any_expose:
            tail.append((ACEH, "*"))
        elif s.expose:
            tail.append((ACEH, ", ".join(s.expose)))
        self._actual_tail: Pairs = tuple(tail)

        #: Added to the response of a refused origin: no CORS header at all (not even
        #: ACAC or ACEH, which Starlette leaks, #2560), only Vary.
        self.refused = addition((), self._actual_vary, False, None)
        #: The static '*' headers, sent on every response when allow_origins is ['*'].
        self._static = addition(((ACAO, "*"), *tail), (), True, "'*'") if s.any_origin else None
        #: Added to responses to requests without Origin; None means "leave untouched".
        self.no_origin: Addition | None = self._static
        if varies_on_origin:
            self.no_origin = self.refused
        # Exact origins: the whole header set for each, pre-encoded (one dict lookup).
        self.exact_text: dict[str, Addition] = {
            origin: addition(((ACAO, origin), *tail), self._actual_vary, True, repr(origin)) for origin in matcher.exact
        }
        #: The same, keyed by the origin as ASGI servers give it (bytes): no decoding.
        self.exact_raw: dict[bytes, Addition] = {
            origin.encode("latin-1"): add for origin, add in self.exact_text.items()
        }
        #: Answers for origins matched by a pattern or regex, and for refused ones: decided
        #: once per origin, then one lookup. Bounded like the preflight cache (the Origin is
        #: chosen by the client); answers that needed the callback are never kept.
        self._seen: PreflightCache[Addition] = PreflightCache(self.budget)
        #: Each rule name with its "allowed by ..." sentence, one copy per configured rule
        #: (``static_rule`` builds a new string on every call), shared by every answer.
        self._allowed_by: dict[str, tuple[str, str]] = {}

        vary = [] if s.any_origin else ["Origin"]
        vary += ["Access-Control-Request-Method", "Access-Control-Request-Headers"]
        vary.append("Access-Control-Request-Private-Network")
        self._preflight_vary = ", ".join(vary)
        self._methods = frozenset(s.methods)
        self._methods_value = ", ".join(s.methods)
        self._headers = frozenset(s.headers)
        safelisted = [h for h in sorted(SAFELISTED_REQUEST_HEADERS) if h not in self._headers]
        self._headers_value = ", ".join([*safelisted, *s.headers])
        self._max_age = None if s.max_age is None else str(s.max_age)

        # The fast path for allowed preflights (see _fast_preflight): with explicit method
        # and header lists an allowed answer only varies with the origin and Private
        # Network Access, so everything else is built and encoded here, once.
        fast = not (s.any_method or s.any_header or s.header_patterns)
        self._fast_methods = frozenset(
            m for m in (*s.methods, *SAFELISTED_METHODS) if len(m) <= MAX_REQUEST_METHOD_LENGTH and is_token(m)
        ) if fast else frozenset()  # fmt: skip
        # "" stands for the empty items a header list may hold ("a,,b").
        self._fast_headers = frozenset((*self._headers, *SAFELISTED_REQUEST_HEADERS, ""))
        middle: list[tuple[str, str]] = [(ACAC, "true")] if s.credentials else []
        if self._methods_value:
            middle.append((ACAM, self._methods_value))
        if self._headers_value:
            middle.append((ACAH, self._headers_value))
        if self._max_age is not None:
            middle.append((ACMA, self._max_age))
        self._fast_middle: Pairs = tuple(middle)
        self._fast_middle_raw: RawPairs = encode(self._fast_middle)
        #: Allowed answers by (origin, private network): the same whatever the method and
        #: header list, so built once per origin. Bounded like the other caches.
        self._fast_answers: PreflightCache[PreflightAnswer] = PreflightCache(self.budget)
        # What follows the middle, without and with Private Network Access: (text, raw).
        vary_pair = ("Vary", self._preflight_vary)
        self._fast_tails: tuple[tuple[Pairs, RawPairs], tuple[Pairs, RawPairs]] = (
            ((vary_pair,), encode((vary_pair,))),
            (((ACAPN, "true"), vary_pair), encode(((ACAPN, "true"), vary_pair))),
        )
        # The header pairs an answer built by _preflight may share with every other one,
        # with their encoding: an answer then holds only its request-specific values.
        constants = [(ACAC, "true"), (ACAO, "*"), (ACAM, "*"), (ACAH, "*"), (ACAH, "*, authorization"),
                     (ACAPN, "true"), vary_pair, *middle]  # fmt: skip
        self._const_pairs: dict[tuple[str, str], tuple[tuple[str, str], tuple[bytes, bytes]]] = {
            pair: (pair, raw) for pair, raw in zip(constants, encode(tuple(constants)), strict=True)
        }
        #: The body of every refused answer (Fetch §"CORS protocol": a non-ok status and no
        #: CORS header), and the refused answers themselves, one per (reason, rule): a
        #: refusal is the same for every key apart from its detail, which ``explain``
        #: rebuilds when it is needed. Bounded by the configuration (7 reasons x rules).
        refused_pairs = (vary_pair, ("Content-Type", "text/plain"), ("Content-Length", "0"))
        self._refused_pairs: tuple[Pairs, RawPairs] = (refused_pairs, encode(refused_pairs))
        self._refusals: dict[tuple[str, str | None], PreflightAnswer] = {}

        # The dicts read on every request, one attribute away (``d.get(key)`` on a dict
        # attribute is cheaper in CPython than calling a stored bound ``get``).
        self._seen_entries = self._seen.entries
        self._cache_entries = self.cache.entries
        self._has_callback = matcher.has_callback
        #: The user's origin callback, its answer judged (a bool, or an awaitable of one):
        #: called by the adapter when a decision returns NEEDS_CALLBACK, never by the core.
        self.origin_callback: Callable[[str], bool | Awaitable[bool]] = matcher.callback_allows
