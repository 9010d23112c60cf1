"""The CORS protocol, sans-IO: classify a request and compute corsware's answer.

A :class:`Plan` is compiled once from validated settings. It holds every header value a
response can carry, pre-encoded for both WSGI (``str``) and ASGI (``bytes``), so request
time does lookups, not string building. Adapters translate their protocol to the few plain
values the plan needs and its answer back; they implement no rule of their own.
"""

from __future__ import annotations

import inspect
import logging
import operator
from collections.abc import Awaitable
from dataclasses import dataclass
from enum import Enum
from typing import Final, NamedTuple

from ._cache import CacheBudget, PreflightCache
from ._headers import (
    MAX_REQUEST_HEADERS_LENGTH,
    MAX_REQUEST_METHOD_LENGTH,
    SAFELISTED_METHODS,
    SAFELISTED_REQUEST_HEADERS,
    is_token,
    parse_request_headers,
)
from ._log import escape, logger
from ._origins import MAX_ORIGIN_LENGTH, OriginMatcher, is_own_origin
from ._validate import Settings

__all__ = ["Addition", "CORSDecision", "Plan", "PreflightAnswer", "RequestKind"]

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
_ACAO_RAW: Final = ACAO.lower().encode("latin-1")
_DEBUG: Final = logging.DEBUG
#: Strips the optional white space around an Access-Control-Request-Headers item
#: (RFC 9110 OWS: spaces and tabs only, not every Unicode blank as ``str.strip()``).
_strip_blanks: Final = operator.methodcaller("strip", " \t")

#: Keys whose total length exceeds this are answered but not cached, which bounds what one
#: entry holds to a few KiB whatever clients send (the measured worst case of a whole
#: policy is in docs/security.md, "Memory a client can fill").
_MAX_CACHED_KEY_LENGTH: Final = 1024

#: What a refused answer shared by many cache keys says (see ``Plan.explain``): the
#: request's own values are left out, so an entry keeps no per-request text.
_SUMMARIES: Final = {
    "origin_not_allowed": "the origin is not allowed by any rule",
    "request_method_invalid": "the requested method is not a method token",
    "method_not_allowed": "the method is not in allow_methods",
    "request_headers_invalid": "Access-Control-Request-Headers is too long or not a list of header names",
    "header_not_allowed": "a request header is not in allow_headers",
    "private_network_not_allowed": "private network access requested, allow_private_network is off",
}
#: ASGI names of the headers corsware writes, encoded once (``_encode`` reuses them).
_RAW_NAMES: Final = {
    name: name.lower().encode("latin-1")
    for name in (ACAO, ACAC, ACAM, ACAH, ACMA, ACEH, ACAPN, REASON_HEADER, "Vary", "Content-Type", "Content-Length")
}


class RequestKind(str, Enum):
    """How the Fetch standard classifies a request (§ "CORS protocol")."""

    NOT_CORS = "not-cors"  #: no ``Origin`` header
    ACTUAL = "actual"  #: ``Origin`` present, not a preflight
    PREFLIGHT = "preflight"  #: ``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``


@dataclass(frozen=True, slots=True)
class CORSDecision:
    """What corsware does with one request, and why.

    - ``allowed``: whether cross-origin access is granted (False for non-CORS requests).
    - ``reaches_app``: False only for preflights, which corsware answers itself.
    - ``status``: the status corsware answers a preflight with; None when the app answers.
    - ``headers``: the headers corsware sends (preflight) or adds to the app's response,
      ``Vary`` included.
    - ``reason``: a stable code (``allowed``, ``origin_not_allowed``, ...); ``detail`` says
      it in a sentence; ``rule`` names the configured rule that allowed the origin;
      ``path_rule`` the per-path rule that applied, if any.
    """

    kind: RequestKind
    allowed: bool
    reaches_app: bool
    status: int | None
    headers: Pairs
    reason: str
    detail: str
    rule: str | None = None
    path_rule: str | None = None

    def header(self, name: str) -> str | None:
        """The value of one of ``headers`` (case-insensitive name), or None."""
        low = name.lower()
        for key, value in self.headers:
            if key.lower() == low:
                return value
        return None


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


class PreflightAnswer(NamedTuple):
    """The complete response corsware sends to a preflight."""

    status: int
    text: Pairs
    raw: RawPairs
    allowed: bool
    reason: str
    detail: str
    rule: str | None


def _encode(pairs: Pairs) -> RawPairs:
    # ASGI header names are lower case; values are latin-1 (RFC 9110 §5.5 obs-text).
    names = _RAW_NAMES
    return tuple(
        (names.get(k) or k.lower().encode("latin-1"), v.encode("latin-1", "backslashreplace")) for k, v in pairs
    )


def _addition(pairs: Pairs, vary: tuple[str, ...], allowed: bool, rule: str | None) -> Addition:
    raw = _encode(pairs)
    vary_raw = tuple(v.encode("latin-1") for v in vary)
    text_tail = ((("Vary", ", ".join(vary)),) if vary else ()) + pairs
    raw_tail = (((b"vary", b", ".join(vary_raw)),) if vary else ()) + raw
    return Addition(pairs, raw, vary, vary_raw, allowed, rule, text_tail, raw_tail)


class Plan:
    """One policy, compiled: everything a request needs, decided at construction.

    Its three caches (preflight answers, origin decisions, allowed preflight answers by
    origin) hold client-chosen keys; they draw from ``budget``, which a policy shares with
    the plans of its per-path rules, so ``preflight_cache_size`` bounds them all together.
    """

    __slots__ = (
        "_actual_tail",
        "_actual_vary",
        "_allowed_by",
        "_const_pairs",
        "_fast_answers",
        "_fast_headers",
        "_fast_methods",
        "_fast_middle",
        "_fast_middle_raw",
        "_fast_tails",
        "_headers",
        "_headers_value",
        "_max_age",
        "_methods",
        "_methods_value",
        "_preflight_vary",
        "_refusals",
        "_refused_pairs",
        "_seen",
        "_static",
        "budget",
        "cache",
        "exact_raw",
        "exact_text",
        "matcher",
        "no_origin",
        "refused",
        "settings",
        "varies_on_origin",
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
        self.varies_on_origin = matcher.allows_some and not s.any_origin
        self._actual_vary: tuple[str, ...] = ("Origin",) if self.varies_on_origin else ()
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
        self.refused = _addition((), self._actual_vary, False, None)
        #: The static '*' headers, sent on every response when allow_origins is ['*'].
        self._static = _addition(((ACAO, "*"), *tail), (), True, "'*'") if s.any_origin else None
        #: Added to responses to requests without Origin; None means "leave untouched".
        self.no_origin: Addition | None = self._static
        if self.varies_on_origin:
            self.no_origin = self.refused
        # Exact origins: the whole header set for each, pre-encoded (one dict lookup).
        self.exact_text: dict[str, Addition] = {
            origin: _addition(((ACAO, origin), *tail), self._actual_vary, True, repr(origin))
            for origin in matcher.exact
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
        self._fast_middle_raw: RawPairs = _encode(self._fast_middle)
        #: Allowed answers by (origin, private network): the same whatever the method and
        #: header list, so built once per origin. Bounded like the other caches.
        self._fast_answers: PreflightCache[PreflightAnswer] = PreflightCache(self.budget)
        # What follows the middle, without and with Private Network Access: (text, raw).
        vary_pair = ("Vary", self._preflight_vary)
        self._fast_tails: tuple[tuple[Pairs, RawPairs], tuple[Pairs, RawPairs]] = (
            ((vary_pair,), _encode((vary_pair,))),
            (((ACAPN, "true"), vary_pair), _encode(((ACAPN, "true"), vary_pair))),
        )
        # The header pairs an answer built by _preflight may share with every other one,
        # with their encoding: an answer then holds only its request-specific values.
        constants = [(ACAC, "true"), (ACAO, "*"), (ACAM, "*"), (ACAH, "*"), (ACAH, "*, authorization"),
                     (ACAPN, "true"), vary_pair, *middle]  # fmt: skip
        self._const_pairs: dict[tuple[str, str], tuple[tuple[str, str], tuple[bytes, bytes]]] = {
            pair: (pair, raw) for pair, raw in zip(constants, _encode(tuple(constants)), strict=True)
        }
        #: The body of every refused answer (Fetch §"CORS protocol": a non-ok status and no
        #: CORS header), and the refused answers themselves, one per (reason, rule): a
        #: refusal is the same for every key apart from its detail, which ``explain``
        #: rebuilds when it is needed. Bounded by the configuration (7 reasons x rules).
        refused_pairs = (vary_pair, ("Content-Type", "text/plain"), ("Content-Length", "0"))
        self._refused_pairs: tuple[Pairs, RawPairs] = (refused_pairs, _encode(refused_pairs))
        self._refusals: dict[tuple[str, str | None], PreflightAnswer] = {}

    # -- actual requests ---------------------------------------------------------------

    def actual(self, origin: str, path: str = "") -> Addition:
        """Headers for an actual CORS request from ``origin``; may call a sync callback."""
        found = self.exact_text.get(origin) or self._seen.lookup(origin)
        if found is not None:
            if not found.allowed and logger.isEnabledFor(_DEBUG):
                _log_refused_origin(origin, path)
            return found
        rule = self.matcher.static_rule(origin)
        if rule is None and self.matcher.has_callback:
            result = self.matcher.callback_allows(origin)
            if inspect.isawaitable(result):
                _close(result)
                raise TypeError(
                    "allow_origin_callback returned an awaitable; async callbacks work under "
                    "the ASGI middleware only (use policy.aevaluate() outside it)"
                )
            return self._actual_answer(origin, "allow_origin_callback" if result else None, path, remember=False)
        return self._actual_answer(origin, rule, path, remember=True)

    async def aactual(self, origin: str, path: str = "") -> Addition:
        """Like :meth:`actual`, awaiting the origin callback if it is async."""
        found = self.exact_text.get(origin) or self._seen.lookup(origin)
        if found is not None:
            if not found.allowed and logger.isEnabledFor(_DEBUG):
                _log_refused_origin(origin, path)
            return found
        rule = self.matcher.static_rule(origin)
        if rule is None and self.matcher.has_callback:
            rule = "allow_origin_callback" if await _resolve(self.matcher.callback_allows(origin)) else None
            return self._actual_answer(origin, rule, path, remember=False)
        return self._actual_answer(origin, rule, path, remember=True)

    def _actual_answer(self, origin: str, rule: str | None, path: str, *, remember: bool) -> Addition:
        if rule is None:
            _log_refused_origin(origin, path)
            answer = self.refused
        elif self._static is not None:
            return self._static
        else:
            answer = _addition(((ACAO, origin), *self._actual_tail), self._actual_vary, True, self._allowed(rule)[0])
        if remember and len(origin) <= MAX_ORIGIN_LENGTH:
            self._seen.put(origin, answer)
        return answer

    # -- preflight requests ------------------------------------------------------------

    def preflight(
        self,
        origin: str,
        method: str,
        request_headers: str = "",
        private_network: bool = False,
        debug: bool = False,
        path: str = "",
    ) -> PreflightAnswer:
        """Answer a preflight (Fetch §"CORS-preflight fetch"); may call a sync callback."""
        key = (origin, method, request_headers, private_network, debug)
        cacheable = len(origin) + len(method) + len(request_headers) <= _MAX_CACHED_KEY_LENGTH  # see _cacheable
        answer = self.cache.lookup(key) if cacheable else None
        if answer is None:
            answer = self._fast_preflight(origin, method, request_headers, private_network)
            if answer is not None:
                if cacheable:
                    self.cache.put(key, answer)
                return answer
            rule = self.matcher.static_rule(origin)
            if rule is None and self.matcher.has_callback:
                result = self.matcher.callback_allows(origin)
                if inspect.isawaitable(result):
                    _close(result)
                    raise TypeError("allow_origin_callback returned an awaitable outside ASGI")
                answer = self._preflight(origin, "allow_origin_callback" if result else None,
                                         method, request_headers, private_network, debug, shared=False)  # fmt: skip
            else:
                answer = self._preflight(origin, rule, method, request_headers, private_network, debug, shared=True)
                self._remember(key, answer)
        if not answer.allowed and logger.isEnabledFor(logging.DEBUG):
            _log_refused(self.explain(answer, origin, method, request_headers, private_network),
                         answer, origin, method, request_headers, path)  # fmt: skip
        return answer

    async def apreflight(
        self,
        origin: str,
        method: str,
        request_headers: str = "",
        private_network: bool = False,
        debug: bool = False,
        path: str = "",
    ) -> PreflightAnswer:
        """Like :meth:`preflight`, awaiting the origin callback if it is async."""
        key = (origin, method, request_headers, private_network, debug)
        cacheable = len(origin) + len(method) + len(request_headers) <= _MAX_CACHED_KEY_LENGTH  # see _cacheable
        answer = self.cache.lookup(key) if cacheable else None
        if answer is None:
            answer = self._fast_preflight(origin, method, request_headers, private_network)
            if answer is not None:
                if cacheable:
                    self.cache.put(key, answer)
                return answer
            rule = self.matcher.static_rule(origin)
            if rule is None and self.matcher.has_callback:
                allowed = await _resolve(self.matcher.callback_allows(origin))
                answer = self._preflight(origin, "allow_origin_callback" if allowed else None,
                                         method, request_headers, private_network, debug, shared=False)  # fmt: skip
            else:
                answer = self._preflight(origin, rule, method, request_headers, private_network, debug, shared=True)
                self._remember(key, answer)
        if not answer.allowed and logger.isEnabledFor(logging.DEBUG):
            _log_refused(self.explain(answer, origin, method, request_headers, private_network),
                         answer, origin, method, request_headers, path)  # fmt: skip
        return answer

    def _remember(self, key: tuple[str, str, str, bool, bool], answer: PreflightAnswer) -> None:
        # Callback-decided answers are never cached (the callback is the dynamic part);
        # oversized keys neither, which bounds the cache's memory; nor refusals in debug
        # mode, whose headers echo the request and its detail (several KiB each): debug
        # mode is for development, where computing them again costs microseconds.
        if _cacheable(key) and (answer.allowed or not key[4]):
            self.cache.put(key, answer)

    def explain(
        self,
        answer: PreflightAnswer,
        origin: str,
        method: str,
        request_headers: str = "",
        private_network: bool = False,
    ) -> str:
        """The sentence saying why ``answer`` was given to this preflight.

        A refused answer shared by many cache keys carries only a summary of its reason,
        which keeps the request's values out of the cache; the full sentence, naming the
        origin, method or headers at fault, is rebuilt here from the request (for the
        DEBUG log and ``CORSPolicy.evaluate``). Other answers carry theirs already.
        """
        if answer.allowed or self._refusals.get((answer.reason, answer.rule)) is not answer:
            return answer.detail
        problems = self._problems(origin, answer.rule, method, request_headers, private_network)[0]
        return "; ".join(text for _, text in problems) or answer.detail

    def _allowed(self, rule: str) -> tuple[str, str]:
        """``rule`` and its "allowed by" sentence, one shared copy per configured rule."""
        found = self._allowed_by.get(rule)
        if found is None:
            # Bounded: rule names come from the configuration, not from the request.
            found = self._allowed_by.setdefault(rule, (rule, f"allowed by {rule}"))
        return found

    def _fast_preflight(
        self, origin: str, method: str, request_headers: str, private_network: bool
    ) -> PreflightAnswer | None:
        """The answer to a preflight that static rules allow outright, or None.

        None means "not sure": the caller runs :meth:`_preflight`, the reference, which
        finds every problem. When this returns an answer it is exactly the one
        :meth:`_preflight` would (tests compare the two on generated requests). A listed
        method is a valid token by construction; a header item that strips to an allowed
        name (or to nothing) is what the list grammar accepts, so no regex is needed.
        """
        if method not in self._fast_methods:
            return None
        if private_network and not self.settings.private_network:
            return None
        if request_headers:
            if len(request_headers) > MAX_REQUEST_HEADERS_LENGTH or not request_headers.isascii():
                return None  # the reference refuses it (non-ASCII could lower-case into a name)
            # Every item, stripped of blanks, is an allowed name or empty (C-level loops;
            # browsers send no blanks, so the stripping pass rarely runs).
            items = request_headers.lower().split(",")
            allowed = self._fast_headers
            if not allowed.issuperset(items) and not allowed.issuperset(map(_strip_blanks, items)):
                return None
        answer = self._fast_answers.lookup((origin, private_network))
        if answer is not None:
            return answer
        rule = self.matcher.static_rule(origin)
        if rule is None:
            return None
        acao = "*" if self.settings.any_origin else origin
        tail, tail_raw = self._fast_tails[private_network]
        pairs = ((ACAO, acao), *self._fast_middle, *tail)
        raw = ((_ACAO_RAW, acao.encode("latin-1", "backslashreplace")), *self._fast_middle_raw, *tail_raw)
        rule, detail = self._allowed(rule)
        answer = PreflightAnswer(204, pairs, raw, True, "allowed", detail, rule)
        if len(origin) <= MAX_ORIGIN_LENGTH:
            self._fast_answers.put((origin, private_network), answer)
        return answer

    def _problems(
        self, origin: str, rule: str | None, method: str, request_headers: str, private_network: bool
    ) -> tuple[list[tuple[str, str]], bool, tuple[str, ...], list[str]]:
        """Every (reason, sentence) that refuses this preflight, whether the method is
        allowed, the requested header names and those granted."""
        s = self.settings
        problems: list[tuple[str, str]] = []
        if rule is None:
            why = "is too long" if len(origin) > MAX_ORIGIN_LENGTH else "is not allowed by any rule"
            problems.append(("origin_not_allowed", f"origin {escape(origin)} {why}"))

        # Methods compare byte-exactly (Fetch §"CORS-preflight fetch" step 7): 'patch' is
        # not 'PATCH', 'ET' is not 'GET'. Safelisted methods always pass.
        method_ok = False
        if len(method) > MAX_REQUEST_METHOD_LENGTH or not is_token(method):
            problems.append(("request_method_invalid", f"requested method {escape(method)} is not a method token"))
        elif s.any_method or method in self._methods or method in SAFELISTED_METHODS:
            method_ok = True
        else:
            allowed = ", ".join(sorted({*s.methods, *SAFELISTED_METHODS}))
            problems.append(("method_not_allowed", f"method {escape(method)} is not in allow_methods ({allowed})"))

        names = parse_request_headers(request_headers) if request_headers else ()
        granted: list[str] = []
        if names is None:
            problems.append(("request_headers_invalid", _SUMMARIES["request_headers_invalid"]))
            names = ()
        else:
            denied: list[str] = []
            patterns = s.header_patterns
            for name in names:
                # '*' covers every name, Authorization included: the allowed origin's own
                # script sets that header; ambient credentials are allow_credentials' concern.
                if (
                    s.any_header
                    or name in self._headers
                    or name in SAFELISTED_REQUEST_HEADERS
                    or (patterns and any(p.fullmatch(name) for p in patterns))
                ):
                    granted.append(name)
                else:
                    denied.append(name)
            if denied:
                problems.append(
                    ("header_not_allowed",
                     f"request header(s) {escape(', '.join(denied))} not in allow_headers")
                )  # fmt: skip

        if private_network and not s.private_network:
            problems.append(("private_network_not_allowed", _SUMMARIES["private_network_not_allowed"]))
        return problems, method_ok, names, granted

    def _preflight(
        self,
        origin: str,
        rule: str | None,
        method: str,
        request_headers: str,
        private_network: bool,
        debug: bool,
        *,
        shared: bool = False,
    ) -> PreflightAnswer:
        """The reference answer to a preflight. ``shared``: a (non-debug) refusal is the
        plan's one answer for its reason and rule, whose detail ``explain`` rebuilds; the
        caller may cache it (a static rule decided it)."""
        s = self.settings
        problems, method_ok, names, granted = self._problems(origin, rule, method, request_headers, private_network)

        if not problems and rule is not None:  # no problem means a rule allowed the origin
            rule, detail = self._allowed(rule)
            out: list[tuple[str, str]] = [(ACAO, "*" if s.any_origin else origin)]
            if s.credentials:
                out.append((ACAC, "true"))
            if s.any_method:
                # '*' is a wildcard only without credentials (Fetch §http-new-header-syntax).
                out.append((ACAM, method if s.credentials else "*"))
            elif self._methods_value:
                out.append((ACAM, self._methods_value))
            if s.any_header:
                # With credentials '*' is a literal name (Fetch §"CORS-preflight fetch",
                # https://fetch.spec.whatwg.org/#cors-preflight-fetch): echo the names. Without,
                # '*' is a wildcard that browsers do not let cover Authorization ("CORS
                # non-wildcard request-header name"), so it is named too.
                if s.credentials:
                    if names:
                        out.append((ACAH, ",".join(names)))
                else:
                    out.append((ACAH, "*, authorization"))
            elif patterns_granted := [
                n for n in granted if n not in self._headers and n not in SAFELISTED_REQUEST_HEADERS
            ]:
                # Names granted by a header-name pattern cannot be written as a pattern: they
                # are echoed after the listed ones.
                out.append((ACAH, ", ".join(filter(None, (self._headers_value, *patterns_granted)))))
            elif self._headers_value:
                out.append((ACAH, self._headers_value))
            if self._max_age is not None:
                out.append((ACMA, self._max_age))
            if private_network:
                out.append((ACAPN, "true"))
            out.append(("Vary", self._preflight_vary))
            pairs, raw = self._shared_pairs(out)
            return PreflightAnswer(204, pairs, raw, True, "allowed", detail, rule)

        reason = problems[0][0]
        if not debug:
            # Fetch §"CORS protocol": denote failure with a non-ok status and omit the
            # CORS headers; 403 is the standard's suggestion.
            text, raw = self._refused_pairs
            if shared:
                answer = self._refusals.get((reason, rule))
                if answer is None:
                    refusal = PreflightAnswer(403, text, raw, False, reason, _SUMMARIES[reason], rule)
                    answer = self._refusals.setdefault((reason, rule), refusal)
                return answer
            detail = "; ".join(sentence for _, sentence in problems)
            return PreflightAnswer(403, text, raw, False, reason, detail, rule)
        # Debug: an ok status with only what *is* allowed, so the browser's console names
        # exactly what is missing; the browser still blocks the request.
        detail = "; ".join(text for _, text in problems)
        out = []
        if rule is not None:
            out.append((ACAO, "*" if s.any_origin else origin))
            if s.credentials:
                out.append((ACAC, "true"))
        if method_ok:
            out.append((ACAM, method))
        if granted:
            out.append((ACAH, ",".join(granted)))
        if private_network and s.private_network and rule is not None:
            out.append((ACAPN, "true"))
        out += [("Vary", self._preflight_vary),
                (REASON_HEADER, detail[:1000].encode("ascii", "backslashreplace").decode("ascii"))]  # fmt: skip
        pairs, raw = self._shared_pairs(out)
        return PreflightAnswer(204, pairs, raw, False, reason, detail, rule)

    def _shared_pairs(self, pairs: list[tuple[str, str]]) -> tuple[Pairs, RawPairs]:
        """``pairs`` and their ASGI encoding, reusing the plan's copies of constant pairs
        (credentials, configured lists, Max-Age, Vary): a cached answer holds only what
        depends on its request."""
        const = self._const_pairs
        text: list[tuple[str, str]] = []
        raw: list[tuple[bytes, bytes]] = []
        for pair in pairs:
            found = const.get(pair)
            if found is None:
                found = (pair, _encode((pair,))[0])
            text.append(found[0])
            raw.append(found[1])
        return tuple(text), tuple(raw)

    # -- websockets ----------------------------------------------------------------------

    def websocket_allows(self, origin: str | None, host: str | None, path: str = "") -> bool:
        """Whether a WebSocket handshake from ``origin`` to ``host`` may proceed (sync callback only).

        CORS does not cover WebSockets (RFC 6455 §10.2 leaves Origin checks to servers,
        https://www.rfc-editor.org/rfc/rfc6455#section-10.2), and browsers send the user's
        cookies with every handshake whatever the policy says about credentials. So a
        cross-origin handshake passes only for an origin this policy allows *with
        credentials*: listed, or matched by a ``*.`` pattern, a regex or the callback, in a
        policy with ``allow_credentials=True``. ``'*'`` never suffices, and a policy without
        credentials refuses every cross-origin handshake: "readable without credentials" is
        not "may act as the user" (Cross-Site WebSocket Hijacking).

        No ``websocket_origins`` option: the origins trusted with the user's cookies are
        exactly the credentialed policy's, and a per-path policy (``paths={"/ws": {...}}``)
        gives the socket's path its own list when the rest of the API is public.

        Handshakes without Origin (non-browser clients, which carry no ambient cookies of a
        victim) pass, and so do same-origin ones (:func:`~corsware._origins.is_own_origin`:
        ``https://<host>``, or ``http://<host>`` for a loopback host only).
        """
        early = self._websocket_precheck(origin, host, path)
        if early is not None:
            return early
        assert origin is not None  # noqa: S101 - the precheck passes Origin-less handshakes
        return self._websocket_verdict(self.actual(origin, path).allowed, origin, path)

    async def awebsocket_allows(self, origin: str | None, host: str | None, path: str = "") -> bool:
        """Like :meth:`websocket_allows`, awaiting an async origin callback."""
        early = self._websocket_precheck(origin, host, path)
        if early is not None:
            return early
        assert origin is not None  # noqa: S101 - the precheck passes Origin-less handshakes
        return self._websocket_verdict((await self.aactual(origin, path)).allowed, origin, path)

    def _websocket_precheck(self, origin: str | None, host: str | None, path: str) -> bool | None:
        """The verdict that needs no origin rule (True/False), or None: ask the rules."""
        if origin is None or is_own_origin(origin, host):
            return True
        # '*' never reaches the rules: with credentials it is refused at construction.
        if not self.settings.credentials:
            if logger.isEnabledFor(_DEBUG):
                logger.debug(
                    "refused websocket handshake for %s from origin %s: the policy has "
                    "allow_credentials=False, and a handshake carries the user's cookies whatever "
                    "CORS allows, so no cross-origin handshake passes; list the origins that may "
                    "open sockets as the user and set allow_credentials=True (a per-path policy "
                    "for the socket's path keeps the rest of the API as it is)",
                    escape(path),
                    escape(origin),
                )
            return False
        return None

    @staticmethod
    def _websocket_verdict(allowed: bool, origin: str, path: str) -> bool:
        if not allowed and logger.isEnabledFor(_DEBUG):
            logger.debug(
                "refused websocket handshake for %s from origin %s: no rule of the credentialed "
                "policy allows it; add it to allow_origins",
                escape(path),
                escape(origin),
            )
        return allowed


def _cacheable(key: tuple[str, str, str, bool, bool]) -> bool:
    # Checked before any lookup too: hashing a 1 MiB header list would cost more than
    # refusing it (such a list is refused by its length alone).
    return len(key[0]) + len(key[1]) + len(key[2]) <= _MAX_CACHED_KEY_LENGTH


def _log_refused_origin(origin: str, path: str) -> None:
    if logger.isEnabledFor(_DEBUG):
        logger.debug("refused origin %s for %s: origin_not_allowed (no rule allows it)", escape(origin), escape(path))


def _log_refused(
    detail: str, answer: PreflightAnswer, origin: str, method: str, request_headers: str, path: str
) -> None:
    logger.debug(
        "refused preflight for %s from origin %s (method %s, headers %s): %s: %s",
        escape(path),
        escape(origin),
        escape(method),
        escape(request_headers),
        answer.reason,
        detail,
    )


async def _resolve(result: object) -> bool:
    # callback_allows has already judged the callback's answer (only True allows): a bool.
    if inspect.isawaitable(result):
        result = await result
    return bool(result)


def _close(result: Awaitable[object]) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()  # avoid "coroutine was never awaited"
