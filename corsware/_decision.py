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

from ._cache import PreflightCache
from ._headers import (
    MAX_REQUEST_HEADERS_LENGTH,
    MAX_REQUEST_METHOD_LENGTH,
    NON_WILDCARD_REQUEST_HEADERS,
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

#: Keys whose total length exceeds this are answered but not cached, which bounds the
#: memory of a full cache to about ``maxsize`` KiB whatever clients send.
_MAX_CACHED_KEY_LENGTH: Final = 1024


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
    return tuple((k.lower().encode("latin-1"), v.encode("latin-1", "backslashreplace")) for k, v in pairs)


def _addition(pairs: Pairs, vary: tuple[str, ...], allowed: bool, rule: str | None) -> Addition:
    raw = _encode(pairs)
    vary_raw = tuple(v.encode("latin-1") for v in vary)
    text_tail = ((("Vary", ", ".join(vary)),) if vary else ()) + pairs
    raw_tail = (((b"vary", b", ".join(vary_raw)),) if vary else ()) + raw
    return Addition(pairs, raw, vary, vary_raw, allowed, rule, text_tail, raw_tail)


class Plan:
    """One policy, compiled: everything a request needs, decided at construction."""

    __slots__ = (
        "_actual_tail",
        "_actual_vary",
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
        "_seen",
        "_static",
        "cache",
        "exact_raw",
        "exact_text",
        "matcher",
        "no_origin",
        "refused",
        "settings",
        "varies_on_origin",
    )  # fmt: skip

    def __init__(self, settings: Settings, matcher: OriginMatcher, cache_size: int) -> None:
        self.settings = s = settings
        self.matcher = matcher
        self.cache: PreflightCache[PreflightAnswer] = PreflightCache(cache_size)
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
        self._seen: PreflightCache[Addition] = PreflightCache(cache_size)

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
        fast = not (s.any_method or s.any_header)
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
        self._fast_answers: PreflightCache[PreflightAnswer] = PreflightCache(cache_size)
        # What follows the middle, without and with Private Network Access: (text, raw).
        vary_pair = ("Vary", self._preflight_vary)
        self._fast_tails: tuple[tuple[Pairs, RawPairs], tuple[Pairs, RawPairs]] = (
            ((vary_pair,), _encode((vary_pair,))),
            (((ACAPN, "true"), vary_pair), _encode(((ACAPN, "true"), vary_pair))),
        )

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
            answer = _addition(((ACAO, origin), *self._actual_tail), self._actual_vary, True, rule)
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
                                         method, request_headers, private_network, debug)  # fmt: skip
            else:
                answer = self._preflight(origin, rule, method, request_headers, private_network, debug)
                self._remember(key, answer)
        if not answer.allowed and logger.isEnabledFor(logging.DEBUG):
            _log_refused(answer, origin, method, request_headers, path)
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
                                         method, request_headers, private_network, debug)  # fmt: skip
            else:
                answer = self._preflight(origin, rule, method, request_headers, private_network, debug)
                self._remember(key, answer)
        if not answer.allowed and logger.isEnabledFor(logging.DEBUG):
            _log_refused(answer, origin, method, request_headers, path)
        return answer

    def _remember(self, key: tuple[str, str, str, bool, bool], answer: PreflightAnswer) -> None:
        # Callback-decided answers are never cached (the callback is the dynamic part);
        # oversized keys neither, which bounds the cache's memory.
        if _cacheable(key):
            self.cache.put(key, answer)

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
        answer = PreflightAnswer(204, pairs, raw, True, "allowed", f"allowed by {rule}", rule)
        if len(origin) <= MAX_ORIGIN_LENGTH:
            self._fast_answers.put((origin, private_network), answer)
        return answer

    def _preflight(
        self,
        origin: str,
        rule: str | None,
        method: str,
        request_headers: str,
        private_network: bool,
        debug: bool,
    ) -> PreflightAnswer:
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
            problems.append(
                ("request_headers_invalid", "Access-Control-Request-Headers is too long or not a list of header names")
            )
            names = ()
        else:
            denied: list[str] = []
            for name in names:
                if (
                    name in self._headers
                    or name in SAFELISTED_REQUEST_HEADERS
                    or (s.any_header and name not in NON_WILDCARD_REQUEST_HEADERS)
                ):
                    granted.append(name)
                else:
                    denied.append(name)
            if denied:
                if s.any_header:
                    # Fetch "CORS non-wildcard request-header name": '*' never covers it.
                    problems.append(
                        ("authorization_not_covered",
                         "'*' in allow_headers does not cover 'authorization'; add 'Authorization' to allow_headers")
                    )  # fmt: skip
                else:
                    problems.append(
                        ("header_not_allowed",
                         f"request header(s) {escape(', '.join(denied))} not in allow_headers")
                    )  # fmt: skip

        if private_network and not s.private_network:
            problems.append(
                ("private_network_not_allowed", "private network access requested, allow_private_network is off")
            )

        vary = ("Vary", self._preflight_vary)
        if not problems:
            out: list[tuple[str, str]] = [(ACAO, "*" if s.any_origin else origin)]
            if s.credentials:
                out.append((ACAC, "true"))
            if s.any_method:
                # '*' is a wildcard only without credentials (Fetch §http-new-header-syntax).
                out.append((ACAM, method if s.credentials else "*"))
            elif self._methods_value:
                out.append((ACAM, self._methods_value))
            if s.any_header:
                if s.credentials:
                    if names:
                        out.append((ACAH, ",".join(names)))
                else:
                    value = "*, authorization" if "authorization" in self._headers else "*"
                    out.append((ACAH, value))
            elif self._headers_value:
                out.append((ACAH, self._headers_value))
            if self._max_age is not None:
                out.append((ACMA, self._max_age))
            if private_network:
                out.append((ACAPN, "true"))
            out.append(vary)
            pairs = tuple(out)
            return PreflightAnswer(204, pairs, _encode(pairs), True, "allowed", f"allowed by {rule}", rule)

        reason = problems[0][0]
        detail = "; ".join(text for _, text in problems)
        if not debug:
            # Fetch §"CORS protocol": denote failure with a non-ok status and omit the
            # CORS headers; 403 is the standard's suggestion.
            pairs = (vary, ("Content-Type", "text/plain"), ("Content-Length", "0"))
            return PreflightAnswer(403, pairs, _encode(pairs), False, reason, detail, rule)
        # Debug: an ok status with only what *is* allowed, so the browser's console names
        # exactly what is missing; the browser still blocks the request.
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
        out += [vary, (REASON_HEADER, detail[:1000].encode("ascii", "backslashreplace").decode("ascii"))]
        pairs = tuple(out)
        return PreflightAnswer(204, pairs, _encode(pairs), False, reason, detail, rule)

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


def _log_refused(answer: PreflightAnswer, origin: str, method: str, request_headers: str, path: str) -> None:
    logger.debug(
        "refused preflight for %s from origin %s (method %s, headers %s): %s: %s",
        escape(path),
        escape(origin),
        escape(method),
        escape(request_headers),
        answer.reason,
        answer.detail,
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
