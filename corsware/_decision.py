"""The CORS protocol at request time, sans-IO: classify a request, decide its answer.

Adapters (``corsware.wsgi``, ``corsware.asgi``, the Django middleware, the Flask
integration, ``CORSPolicy.evaluate``) read a few raw values from their protocol, ask one
method of the request-time API of a :class:`Plan`, and translate the answer back. They
hold no CORS rule of their own.

Request-time API (every adapter uses these and nothing else of a plan):

- ``plan.for_request(method, origin, request_method, request_headers, private_network,
  debug, path)`` / ``plan.for_raw_request(...)`` (the same values as ASGI gives them,
  bytes): the WSGI and ASGI adapters' one call per request. It classifies the request
  and answers it: None (not CORS, leave it untouched), an
  :class:`~corsware._compile.Addition` to merge into the app's response, a
  :class:`~corsware._compile.PreflightAnswer` to send instead of calling the app, or
  :data:`NEEDS_CALLBACK`;
- for callers that classified the request already (:func:`classify`: the Django
  middleware, the Flask integration, ``evaluate``, the report-only layers):
  ``plan.no_origin`` (what a request without ``Origin`` gets; None: nothing),
  ``plan.for_origin(origin, path)`` / ``plan.for_raw_origin(origin_bytes, path)`` (an
  actual request's Addition) and ``plan.for_preflight(origin, method, headers,
  private_network, debug, path)``; they delegate to ``for_request``, so each rule is
  written once;
- ``plan.for_websocket(origin, host, path)``: whether a handshake may proceed, or
  :data:`NEEDS_CALLBACK`;
- ``plan.origin_callback(origin)``: the user's origin callback, judged (a bool, or an
  awaitable of one); the adapter calls it (sync adapters through :func:`sync_verdict`,
  async ones awaiting :func:`async_verdict`), then asks ``for_request_decided``,
  ``for_origin_decided``, ``for_preflight_decided`` or ``for_websocket_decided`` with
  its answer. The core never calls user code itself, so no decision is written twice for
  sync and async callbacks.
- ``Addition.merged_text(app_headers)`` / ``merged_raw(app_headers)``: the app's response
  headers with the CORS headers merged in (the header merge rule).

Theory of operation
-------------------
Caches (all :class:`~corsware._cache.PreflightCache`, all drawing from the one
:class:`~corsware._cache.CacheBudget` of a policy, shared with its per-path rules, so
``preflight_cache_size`` bounds their entries together; FIFO eviction across them):

- ``cache``: preflight answers by ``(origin, method, request headers, private network,
  debug)``; keys longer than :data:`_MAX_CACHED_KEY_LENGTH` in total are not cached, nor
  are debug refusals (their headers echo the request), nor refusals that ``_fast`` found
  (finding one again costs less than storing it, and never-seen refused preflights must not
  evict other clients' answers from the shared budget);
- ``_seen``: actual-request answers by origin, for origins that a pattern or regex allows
  or that nothing allows (exact origins are a compiled dict, not a cache); origins longer
  than ``MAX_ORIGIN_LENGTH`` are not kept;
- ``_fast_answers``: allowed preflight answers by ``(origin, private network)`` for policies
  with explicit method and header lists (the answer is then the same whatever the method
  and header list).

Refused preflights share one answer per ``(reason, rule)`` (``_refusals``, bounded by the
configuration): the cache holds references, and the sentence naming the request's values
is built only when a DEBUG log or ``evaluate`` asks for it (:meth:`Plan.explain`).

Answers that needed the origin callback are never cached: the callback is the dynamic
part of a policy (a database of tenants, a feature flag), and caching it would keep
granting an origin after the callback stopped allowing it.

Fast paths, each proven equal to its reference by a property test:

- ``Plan.for_request`` / ``for_raw_request`` (the classification written into the one call
  per request) vs :func:`classify` followed by ``no_origin``, ``for_origin`` or
  ``for_preflight``: tests/core/test_fast_paths.py ``test_for_request_matches_reference``;
- ``Plan._fast_preflight`` (set operations on the header list) vs ``Plan._preflight`` (the
  Fetch steps below): tests/core/test_fast_paths.py ``test_fast_preflight_matches_reference``;
- the per-origin memo ``_seen`` vs ``OriginMatcher.static_rule``: tests/core/test_fast_paths.py
  and tests/security/test_props_origins.py;
- the header-merge fast paths (``Addition.merged_raw``/``merged_text``) vs ``merge_response_headers``:
  tests/core/test_fast_paths.py and tests/security/test_props_headers.py.
"""

from __future__ import annotations

import inspect
import logging
import operator
from collections.abc import Awaitable
from dataclasses import dataclass
from enum import Enum
from typing import Final, Literal, cast

from . import _reasons as R
from ._compile import (
    ACAC,
    ACAH,
    ACAM,
    ACAO,
    ACAO_RAW,
    ACAPN,
    ACMA,
    REASON_HEADER,
    Addition,
    CompiledPlan,
    Pairs,
    PreflightAnswer,
    RawPairs,
    addition,
    encode,
)
from ._headers import (
    MAX_REQUEST_HEADERS_LENGTH,
    MAX_REQUEST_METHOD_LENGTH,
    SAFELISTED_METHODS,
    SAFELISTED_REQUEST_HEADERS,
    is_token,
    is_token_list,
    parse_request_headers,
)
from ._log import escape, logger
from ._origins import MAX_ORIGIN_LENGTH, is_own_origin

__all__ = [
    "NEEDS_CALLBACK", "CORSDecision", "NeedsCallback", "Plan", "RequestKind", "async_verdict", "classify",
    "sync_verdict",
]  # fmt: skip

_DEBUG: Final = logging.DEBUG
#: Strips the optional white space around an Access-Control-Request-Headers item
#: (RFC 9110 OWS: spaces and tabs only, not every Unicode blank as ``str.strip()``).
_strip_blanks: Final = operator.methodcaller("strip", " \t")

#: Keys whose total length exceeds this are answered but not cached, which bounds what one
#: entry holds to a few KiB whatever clients send (the measured worst case of a whole
#: policy is in docs/security.md, "Memory a client can fill").
_MAX_CACHED_KEY_LENGTH: Final = 1024

#: The one method a CORS-preflight request uses (Fetch §"CORS-preflight request").
PREFLIGHT_METHOD: Final = "OPTIONS"


class RequestKind(str, Enum):
    """How the Fetch standard classifies a request (§ "CORS protocol")."""

    NOT_CORS = "not-cors"  #: no ``Origin`` header
    ACTUAL = "actual"  #: ``Origin`` present, not a preflight
    PREFLIGHT = "preflight"  #: ``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``


_NOT_CORS: Final = RequestKind.NOT_CORS
_ACTUAL: Final = RequestKind.ACTUAL
_PREFLIGHT: Final = RequestKind.PREFLIGHT


def classify(method: object, origin: object, request_method: object) -> RequestKind:
    """The kind of a request, from its method and whether it has ``Origin`` and
    ``Access-Control-Request-Method`` (None when absent, any value when present).

    Fetch §"CORS protocol" (https://fetch.spec.whatwg.org/#http-cors-protocol): a CORS
    request has an ``Origin`` header; a CORS-preflight request
    (https://fetch.spec.whatwg.org/#cors-preflight-request) is an ``OPTIONS`` CORS request
    with ``Access-Control-Request-Method``. ``OPTIONS`` without it is an ordinary request
    and goes to the app. This is the one place corsware decides it.
    """
    if origin is None:
        return _NOT_CORS
    if request_method is not None and method == PREFLIGHT_METHOD:
        return _PREFLIGHT
    return _ACTUAL


class NeedsCallback(Enum):
    """The core's answer when only the user's origin callback can tell."""

    NEEDS_CALLBACK = "needs-callback"


#: Returned by ``for_request``/``for_origin``/``for_preflight``/``for_websocket``: call
#: ``plan.origin_callback(origin)``, then the matching ``*_decided`` method.
NEEDS_CALLBACK: Final = NeedsCallback.NEEDS_CALLBACK


def sync_verdict(result: bool | Awaitable[bool]) -> bool:
    """The origin callback's verdict under a sync adapter: an awaitable is an error."""
    if result is True or result is False:
        return result
    close = getattr(result, "close", None)
    if close is not None:
        close()  # avoid "coroutine was never awaited"
    raise TypeError(
        "allow_origin_callback returned an awaitable; async callbacks work under "
        "the ASGI middleware only (use policy.aevaluate() outside it)"
    )


async def async_verdict(result: bool | Awaitable[bool]) -> bool:
    """The origin callback's verdict under an async adapter (awaited if need be)."""
    if inspect.isawaitable(result):
        return bool(await result)
    return bool(result)


@dataclass(frozen=True, slots=True)
class CORSDecision:
    """What corsware does with one request, and why.

    - ``allowed``: whether cross-origin access is granted (False for non-CORS requests).
    - ``reaches_app``: False only for preflights, which corsware answers itself.
    - ``status``: the status corsware answers a preflight with; None when the app answers.
    - ``headers``: the headers corsware sends (preflight) or adds to the app's response,
      ``Vary`` included.
    - ``reason``: a stable code (``allowed``, ``origin_not_allowed``, ...; see
      `corsware._reasons`); ``detail`` says it in a sentence; ``rule`` names the
      configured rule that allowed the origin; ``path_rule`` the per-path rule that
      applied, if any.
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


#: What a preflight check appends when asked for sentences: (reason code, sentence).
_Problems = list[tuple[str, str]]


class Plan(CompiledPlan):
    """A compiled policy (:class:`~corsware._compile.CompiledPlan`) and its request-time
    decisions (the API listed in the module docstring)."""

    __slots__ = ()

    # -- every request: the adapters' entry point (Fetch §"CORS protocol",
    # https://fetch.spec.whatwg.org/#http-cors-protocol) --------------------------------

    def for_request(
        self,
        method: str | None,
        origin: str | None,
        request_method: str | None,
        request_headers: str = "",
        private_network: bool = False,
        debug: bool = False,
        path: str = "",
    ) -> Addition | PreflightAnswer | Literal[NeedsCallback.NEEDS_CALLBACK] | None:
        """The answer to any request, in one call: the adapters' entry point.

        - None: not a CORS request, and the policy adds nothing: pass it on untouched;
        - an :class:`~corsware._compile.Addition`: headers to merge into the app's response
          (an actual CORS request, or one without ``Origin`` when the answers vary by it);
        - a :class:`~corsware._compile.PreflightAnswer`: the whole response to a
          CORS-preflight request, which never reaches the app;
        - :data:`NEEDS_CALLBACK`: call ``origin_callback(origin)``, then
          :meth:`for_request_decided`.

        ``request_headers`` and ``private_network`` matter only to a preflight. The request
        is classified as :func:`classify` does; its three tests are written here again on
        purpose (one call per request instead of two is a measurable share of the cost),
        and tests/core/test_fast_paths.py ``test_for_request_matches_reference`` proves
        that this answers exactly as ``classify`` followed by ``for_origin`` or
        ``for_preflight`` (the reference entry points, for callers that know the kind).
        """
        if origin is None:
            return self.no_origin
        if request_method is None or method != PREFLIGHT_METHOD:
            found = self.exact_text.get(origin)
            if found is not None:
                return found
            return self._for_unlisted(origin, path)
        # A CORS-preflight request (Fetch §"CORS-preflight fetch",
        # https://fetch.spec.whatwg.org/#cors-preflight-fetch).
        key = (origin, request_method, request_headers, private_network, debug)
        # A header list longer than any cached key is not looked up: hashing a 1 MiB list
        # would cost more than refusing it (it is refused by its length alone). The origin
        # and method are hashed whatever happens (the origin and method tables).
        answer = self._cache_entries.get(key) if len(request_headers) <= _MAX_CACHED_KEY_LENGTH else None
        if answer is None:
            cacheable = len(origin) + len(request_method) + len(request_headers) <= _MAX_CACHED_KEY_LENGTH
            answer = self._fast(origin, request_method, request_headers, private_network)
            if answer is None or (debug and not answer.allowed):  # debug refusals name what is missing
                rule = self.matcher.static_rule(origin)
                if rule is None and self._has_callback:
                    return NEEDS_CALLBACK
                answer = self._preflight(
                    origin, rule, request_method, request_headers, private_network, debug, shared=True
                )
                # Oversized keys are not cached, which bounds the cache's memory; nor refusals
                # in debug mode, whose headers echo the request and its detail (several KiB
                # each): debug mode is for development, where computing them again is cheap.
                if cacheable and (answer.allowed or not debug):
                    self.cache.put(key, answer)
            elif answer.allowed:
                if cacheable:
                    self.cache.put(key, answer)
                return answer
            # A refusal that _fast found is not cached: finding it again costs no more than
            # storing it, and a client sending never-seen refused lists cannot evict the
            # answers other clients need (every cache of a policy shares one budget).
        elif answer.allowed:
            return answer
        if not answer.allowed and logger.isEnabledFor(_DEBUG):
            _log_refused(self.explain(answer, origin, request_method, request_headers, private_network),
                         answer, origin, request_method, request_headers, path)  # fmt: skip
        return answer

    def for_raw_request(
        self,
        method: str | None,
        origin: bytes | None,
        request_method: bytes | None,
        request_headers: bytes = b"",
        private_network: bool = False,
        debug: bool = False,
        path: str = "",
    ) -> Addition | PreflightAnswer | Literal[NeedsCallback.NEEDS_CALLBACK] | None:
        """:meth:`for_request` for values as ASGI servers give them (latin-1 bytes): an
        exact origin of an actual request is found without decoding it.

        Its first tests are :meth:`for_request`'s, on purpose (bytes here, text there, and a
        call less per request); tests/core/test_fast_paths.py
        ``test_for_request_matches_reference`` holds both to :func:`classify`."""
        if origin is None:
            return self.no_origin
        if request_method is None or method != PREFLIGHT_METHOD:
            found = self.exact_raw.get(origin)
            if found is not None:
                return found
            return self._for_unlisted(origin.decode("latin-1"), path)
        return self.for_request(
            method,
            origin.decode("latin-1"),
            request_method.decode("latin-1"),
            request_headers.decode("latin-1"),
            private_network,
            debug,
            path,
        )

    def for_request_decided(
        self,
        allowed: bool,
        method: str | None,
        origin: str,
        request_method: str | None,
        request_headers: str = "",
        private_network: bool = False,
        debug: bool = False,
        path: str = "",
    ) -> Addition | PreflightAnswer:
        """:meth:`for_request` once the origin callback said ``allowed`` (never cached)."""
        if classify(method, origin, request_method) is _PREFLIGHT:
            assert request_method is not None  # noqa: S101 - what classify() tested
            return self.for_preflight_decided(origin, allowed, request_method, request_headers, private_network,
                                              debug, path)  # fmt: skip
        return self.for_origin_decided(origin, allowed, path)

    # -- actual requests (Fetch §"CORS check", https://fetch.spec.whatwg.org/#cors-check) --

    def for_origin(self, origin: str, path: str = "") -> Addition | Literal[NeedsCallback.NEEDS_CALLBACK]:
        """Headers for an actual CORS request from ``origin``, or :data:`NEEDS_CALLBACK`:
        :meth:`for_request` for a caller that knows the request is not a preflight."""
        return cast("Addition | Literal[NeedsCallback.NEEDS_CALLBACK]", self.for_request(None, origin, None, path=path))

    def for_raw_origin(self, origin: bytes, path: str = "") -> Addition | Literal[NeedsCallback.NEEDS_CALLBACK]:
        """:meth:`for_origin` for an ``Origin`` as ASGI servers give it (latin-1 bytes)."""
        answer = self.for_raw_request(None, origin, None, path=path)
        return cast("Addition | Literal[NeedsCallback.NEEDS_CALLBACK]", answer)

    def _for_unlisted(self, origin: str, path: str) -> Addition | Literal[NeedsCallback.NEEDS_CALLBACK]:
        """An actual request's answer for an origin that is not listed exactly: the memo
        of earlier answers, else the patterns and regexes (then remembered)."""
        found = self._seen_entries.get(origin)
        if found is not None:
            if not found.allowed and logger.isEnabledFor(_DEBUG):
                _log_refused_origin(origin, path)
            return found
        rule = self.matcher.static_rule(origin)
        if rule is None and self._has_callback:
            return NEEDS_CALLBACK
        return self._actual_answer(origin, rule, path, remember=True)

    def for_origin_decided(self, origin: str, allowed: bool, path: str = "") -> Addition:
        """Headers for an actual request once the origin callback said ``allowed``."""
        return self._actual_answer(origin, "allow_origin_callback" if allowed else None, path, remember=False)

    def _actual_answer(self, origin: str, rule: str | None, path: str, *, remember: bool) -> Addition:
        if rule is None:
            _log_refused_origin(origin, path)
            answer = self.refused
        elif self._static is not None:
            return self._static
        else:
            answer = addition(((ACAO, origin), *self._actual_tail), self._actual_vary, True, self._allowed(rule)[0])
        if remember and len(origin) <= MAX_ORIGIN_LENGTH:
            self._seen.put(origin, answer)
        return answer

    # -- preflight requests (Fetch §"CORS-preflight fetch") ----------------------------
    # ``for_preflight`` and ``for_preflight_decided`` list the same request values on purpose
    # (positional, no object built per preflight; the adapters call both alike):
    # tests/core/test_architecture.py::test_for_preflight_decided_takes_the_values_of_for_preflight

    def for_preflight(
        self,
        origin: str,
        method: str,
        request_headers: str = "",
        private_network: bool = False,
        debug: bool = False,
        path: str = "",
    ) -> PreflightAnswer | Literal[NeedsCallback.NEEDS_CALLBACK]:
        """The answer to a CORS-preflight request (``OPTIONS`` with ``method`` as its
        ``Access-Control-Request-Method``), or :data:`NEEDS_CALLBACK`: :meth:`for_request`
        for a caller that already knows the kind (https://fetch.spec.whatwg.org/#cors-preflight-fetch)."""
        answer = self.for_request(PREFLIGHT_METHOD, origin, method, request_headers, private_network, debug, path)
        return cast("PreflightAnswer | Literal[NeedsCallback.NEEDS_CALLBACK]", answer)

    def for_preflight_decided(
        self,
        origin: str,
        allowed: bool,
        method: str,
        request_headers: str = "",
        private_network: bool = False,
        debug: bool = False,
        path: str = "",
    ) -> PreflightAnswer:
        """The answer to a preflight once the origin callback said ``allowed`` (never cached).

        Takes :meth:`for_preflight`'s values, ``allowed`` after the origin, on purpose (see
        the note above :meth:`for_preflight` and the test named there)."""
        rule = "allow_origin_callback" if allowed else None
        answer = self._preflight(origin, rule, method, request_headers, private_network, debug, shared=False)
        if not answer.allowed and logger.isEnabledFor(_DEBUG):
            _log_refused(answer.detail, answer, origin, method, request_headers, path)
        return answer

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
        problems: _Problems = []
        self._check(origin, answer.rule, method, request_headers, private_network, problems)
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
        """The answer to a preflight that static rules allow outright, or None (the allowed
        answers of :meth:`_fast`; tests/core/test_fast_paths.py compares them with the reference)."""
        answer = self._fast(origin, method, request_headers, private_network)
        return answer if answer is not None and answer.allowed else None

    def _fast(self, origin: str, method: str, request_headers: str, private_network: bool) -> PreflightAnswer | None:
        """The answer to a (non-debug) preflight found with set operations, or None ("not
        sure": the caller runs :meth:`_preflight`, the reference, which finds every problem).

        Taken with explicit method and header lists only. When this returns an answer it is
        exactly the one :meth:`_preflight` would (tests/core/test_fast_paths.py and
        tests/core/test_fast_refusals.py compare them on generated requests): an allowed answer,
        or the plan's shared refusal, so that a refused preflight with a never-seen header
        list (the path a hostile client chooses) costs no more than an allowed one. A listed
        method is a valid token by construction; a header item that strips to an allowed name
        (or to nothing) is what the list grammar accepts, so no regex is needed; the list is
        invalid exactly when an item outside the allowed set is not a token. Reasons are
        found in the reference's order: origin, method, headers, Private Network Access.
        """
        if method not in self._fast_methods:
            return None  # '*' lists, header patterns, or a method the reference must judge
        unknown = invalid = False  # an item outside the allowed set; the list is not a token list
        if request_headers:
            if len(request_headers) > MAX_REQUEST_HEADERS_LENGTH or not request_headers.isascii():
                invalid = True  # the reference refuses it (non-ASCII could lower-case into a name)
            else:
                # Every item an allowed name or empty (C-level loops; browsers send no blanks,
                # so the stripping pass runs only for a list that has some).
                low = request_headers.lower()
                items = low.split(",")
                allowed = self._fast_headers
                if not allowed.issuperset(items):
                    if " " not in request_headers and "\t" not in request_headers:
                        unknown = True
                        invalid = not is_token_list(low)
                    else:
                        items = list(map(_strip_blanks, items))
                        if not allowed.issuperset(items):
                            unknown = True
                            invalid = any(not is_token(name) for name in items if name not in allowed)
        pna_refused = private_network and not self.settings.private_network
        if not (invalid or unknown or pna_refused):
            answer = self._fast_answers.lookup((origin, private_network))
            if answer is not None:
                return answer
        exact = self.exact_text.get(origin)  # a listed origin's rule, written once at compile time
        rule = exact.rule if exact is not None else self.matcher.static_rule(origin)
        if rule is None:
            if self._has_callback:
                return None  # only the callback can tell
            return self._shared_refusal(R.ORIGIN_NOT_ALLOWED, rule)
        if invalid:
            return self._shared_refusal(R.REQUEST_HEADERS_INVALID, rule)
        if unknown:
            return self._shared_refusal(R.HEADER_NOT_ALLOWED, rule)
        if pna_refused:
            return self._shared_refusal(R.PRIVATE_NETWORK_NOT_ALLOWED, rule)
        acao = "*" if self.settings.any_origin else origin
        tail, tail_raw = self._fast_tails[private_network]
        pairs = ((ACAO, acao), *self._fast_middle, *tail)
        raw = ((ACAO_RAW, acao.encode("latin-1", "backslashreplace")), *self._fast_middle_raw, *tail_raw)
        rule, detail = self._allowed(rule)
        answer = PreflightAnswer(204, pairs, raw, True, R.ALLOWED, detail, rule)
        if len(origin) <= MAX_ORIGIN_LENGTH:
            self._fast_answers.put((origin, private_network), answer)
        return answer

    def _shared_refusal(self, reason: str, rule: str | None) -> PreflightAnswer:
        """The plan's one refused answer for ``reason`` and ``rule`` (its detail is the
        reason's summary; ``explain`` rebuilds the sentence naming the request's values)."""
        answer = self._refusals.get((reason, rule))
        if answer is None:
            text, raw = self._refused_pairs
            refusal = PreflightAnswer(403, text, raw, False, reason, R.DECISION_REASONS[reason], rule)
            answer = self._refusals.setdefault((reason, rule), refusal)
        return answer

    # The preflight's checks, one per step of Fetch §"CORS-preflight fetch". Each returns
    # the reason code refusing it (or None) and, when given a list, appends its sentence:
    # sentences are built only for the DEBUG log, debug mode and ``evaluate``. (``_check``
    # and ``_preflight`` take the same request values, positionally, on purpose: no object
    # is built per preflight to carry them; mypy checks the call that passes them on.)

    def _check(
        self,
        origin: str,
        rule: str | None,
        method: str,
        request_headers: str,
        private_network: bool,
        problems: _Problems | None,
    ) -> tuple[str | None, bool, tuple[str, ...], list[str]]:
        """The first reason refusing this preflight (None: allowed), whether its method is
        allowed, the requested header names and those granted."""
        reason = self._check_origin(origin, rule, problems)
        method_reason = self._check_method(method, problems)
        reason = reason or method_reason
        names, granted, headers_reason = self._check_headers(request_headers, problems)
        reason = reason or headers_reason
        if private_network and not self.settings.private_network:
            # Private Network Access (https://wicg.github.io/private-network-access/#cors-preflight):
            # allowed only when the policy opts in.
            reason = reason or R.PRIVATE_NETWORK_NOT_ALLOWED
            if problems is not None:
                problems.append((R.PRIVATE_NETWORK_NOT_ALLOWED, R.DECISION_REASONS[R.PRIVATE_NETWORK_NOT_ALLOWED]))
        return reason, method_reason is None, names, granted

    @staticmethod
    def _check_origin(origin: str, rule: str | None, problems: _Problems | None) -> str | None:
        # Fetch §"CORS check" (https://fetch.spec.whatwg.org/#cors-check), run on the
        # preflight's response by the browser: the origin must be allowed by a rule.
        if rule is not None:
            return None
        if problems is not None:
            why = "is too long" if len(origin) > MAX_ORIGIN_LENGTH else "is not allowed by any rule"
            problems.append((R.ORIGIN_NOT_ALLOWED, f"origin {escape(origin)} {why}"))
        return R.ORIGIN_NOT_ALLOWED

    def _check_method(self, method: str, problems: _Problems | None) -> str | None:
        # Methods compare byte-exactly (Fetch §"CORS-preflight fetch" step 7,
        # https://fetch.spec.whatwg.org/#cors-preflight-fetch): 'patch' is not 'PATCH',
        # 'ET' is not 'GET'. Safelisted methods always pass.
        s = self.settings
        if len(method) > MAX_REQUEST_METHOD_LENGTH or not is_token(method):
            if problems is not None:
                problems.append((R.REQUEST_METHOD_INVALID, f"requested method {escape(method)} is not a method token"))
            return R.REQUEST_METHOD_INVALID
        if s.any_method or method in self._methods or method in SAFELISTED_METHODS:
            return None
        if problems is not None:
            allowed = ", ".join(sorted({*s.methods, *SAFELISTED_METHODS}))
            problems.append((R.METHOD_NOT_ALLOWED, f"method {escape(method)} is not in allow_methods ({allowed})"))
        return R.METHOD_NOT_ALLOWED

    def _check_headers(
        self, request_headers: str, problems: _Problems | None
    ) -> tuple[tuple[str, ...], list[str], str | None]:
        # Fetch §"CORS-preflight fetch" step 8 (https://fetch.spec.whatwg.org/#cors-preflight-fetch):
        # every name of Access-Control-Request-Headers that is not CORS-safelisted must be
        # allowed. '*' covers every name, Authorization included: the allowed origin's own
        # script sets that header; ambient credentials are allow_credentials' concern.
        names = parse_request_headers(request_headers) if request_headers else ()
        if names is None:
            if problems is not None:
                problems.append((R.REQUEST_HEADERS_INVALID, R.DECISION_REASONS[R.REQUEST_HEADERS_INVALID]))
            return (), [], R.REQUEST_HEADERS_INVALID
        s = self.settings
        if s.any_header:
            return names, list(names), None
        listed = self._headers
        patterns = s.header_patterns
        granted: list[str] = []
        denied: list[str] = []
        for name in names:
            if (
                name in listed
                or name in SAFELISTED_REQUEST_HEADERS
                or (patterns and any(p.fullmatch(name) for p in patterns))
            ):
                granted.append(name)
            else:
                denied.append(name)
        if not denied:
            return names, granted, None
        if problems is not None:
            problems.append(
                (R.HEADER_NOT_ALLOWED, f"request header(s) {escape(', '.join(denied))} not in allow_headers")
            )
        return names, granted, R.HEADER_NOT_ALLOWED

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
        caller may cache it (a static rule decided it).

        Takes :meth:`_check`'s request values, positionally, on purpose (see the note above
        ``_check``; mypy checks the call that passes them on)."""
        s = self.settings
        # Sentences only where the answer carries them: debug mode, or an unshared refusal.
        problems: _Problems | None = [] if debug or not shared else None
        reason, method_ok, names, granted = self._check(
            origin, rule, method, request_headers, private_network, problems
        )

        if reason is None and rule is not None:
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
            return PreflightAnswer(204, pairs, raw, True, R.ALLOWED, detail, rule)

        assert reason is not None  # noqa: S101 - no reason means a rule allowed the origin
        if not debug:
            # Fetch §"CORS protocol": denote failure with a non-ok status and omit the
            # CORS headers; 403 is the standard's suggestion.
            text, raw = self._refused_pairs
            if problems is None:
                return self._shared_refusal(reason, rule)
            detail = "; ".join(sentence for _, sentence in problems)
            return PreflightAnswer(403, text, raw, False, reason, detail, rule)
        # Debug: an ok status with only what *is* allowed, so the browser's console names
        # exactly what is missing; the browser still blocks the request.
        assert problems is not None  # noqa: S101 - debug always collects sentences
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
                found = (pair, encode((pair,))[0])
            text.append(found[0])
            raw.append(found[1])
        return tuple(text), tuple(raw)

    # -- websockets ----------------------------------------------------------------------

    def for_websocket(
        self, origin: str | None, host: str | None, path: str = ""
    ) -> bool | Literal[NeedsCallback.NEEDS_CALLBACK]:
        """Whether a WebSocket handshake from ``origin`` to ``host`` may proceed, or
        :data:`NEEDS_CALLBACK`.

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
        add = self.for_origin(origin, path)
        if add is NEEDS_CALLBACK:
            return NEEDS_CALLBACK
        return _websocket_verdict(add.allowed, origin, path)

    def for_websocket_decided(self, origin: str, allowed: bool, path: str = "") -> bool:
        """Whether a handshake may proceed once the origin callback said ``allowed``."""
        return _websocket_verdict(self.for_origin_decided(origin, allowed, path).allowed, origin, path)


def _websocket_verdict(allowed: bool, origin: str, path: str) -> bool:
    if not allowed and logger.isEnabledFor(_DEBUG):
        logger.debug(
            "refused websocket handshake for %s from origin %s: no rule of the credentialed "
            "policy allows it; add it to allow_origins",
            escape(path),
            escape(origin),
        )
    return allowed


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
