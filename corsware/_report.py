"""Report-only mode and decision events: what a candidate policy would change, and a hook
for metrics and tracing.

Like ``Content-Security-Policy-Report-Only`` for CSP
(https://www.w3.org/TR/CSP3/#cspro-header), a *candidate* ``CORSPolicy`` is evaluated beside
whatever answers a request today (an enforcing corsware policy, or the app's own CORS code)
and never changes the response: a :class:`Reporter` compares the CORS headers the response
actually carried with those the candidate would send, and writes each difference as one
JSON line on the logger ``corsware.report`` and into a bounded in-memory :class:`Tally`.

The candidate decides through the core's request-time API (``Plan.for_origin`` /
``for_preflight``, the cached answers the adapters use), and a request on which it agrees
with today costs one comparison and one count: a record, and its strings, are built only
for a difference (or the first agreement of an origin). The adapters compose these layers
when they are built (``corsware._report_layers``), so a middleware built without
``report_only=`` or ``on_decision=`` runs exactly as before.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from . import _reasons as R
from ._compile import ACAC, ACAO, Addition, PreflightAnswer
from ._decision import RequestKind
from ._log import _MAX_LOGGED, logger
from ._policy import AMBIGUOUS_PATH_RULE, CORSPolicy

__all__ = [
    "OTHER_ORIGINS",
    "OUTCOMES",
    "RECORD_KEY",
    "Answer",
    "DecisionEvent",
    "DecisionHook",
    "Reporter",
    "Sent",
    "Tally",
    "candidate_policy",
    "report_logger",
]

#: The logger report records are written to (WARNING for differences, INFO for the first
#: request of an origin where the candidate agrees with today).
report_logger: Final = logging.getLogger("corsware.report")

#: The key that starts every record's JSON object, which is how ``corsware report`` finds
#: records among other lines of a log file.
RECORD_KEY: Final = "corsware_report"
#: The version of the record format (the value of :data:`RECORD_KEY`).
RECORD_VERSION: Final = 1

#: Outcomes of a comparison: what a browser would see change if the candidate were enforced.
OUTCOMES: Final = {
    "would_refuse": "allowed today; the candidate refuses it (this origin would break)",
    "would_allow": "refused today; the candidate allows it",
    "would_drop_credentials": "allowed with credentials today; the candidate allows it without",
    "would_add_credentials": "allowed without credentials today; the candidate adds them",
    "same": "the candidate answers as today (recorded once per origin and path rule)",
}

#: The tally's bucket for origins beyond its cap: hostile traffic cannot grow it.
OTHER_ORIGINS: Final = "(other)"

_PREFLIGHT: Final = RequestKind.PREFLIGHT
_INFO: Final = logging.INFO
_WARNING: Final = logging.WARNING
_CREDENTIALS: Final = (ACAC, "true")
_ALLOWED: Final = R.ALLOWED
_REFUSED: Final = R.ORIGIN_NOT_ALLOWED

#: A policy's answer to one CORS request, as the core's request-time API gives it: the
#: headers added to an actual request's response, or the whole answer to a preflight.
Answer = Addition | PreflightAnswer


def answer_reason(kind: RequestKind, answer: Answer, path_rule: str | None) -> str:
    """The reason code of ``answer`` (docs/reason-codes.md), as ``CORSPolicy.evaluate`` gives it."""
    if path_rule is not None and path_rule.startswith(AMBIGUOUS_PATH_RULE):
        return R.PATH_AMBIGUOUS
    if kind is _PREFLIGHT:
        return answer.reason  # type: ignore[union-attr]
    return R.ALLOWED if answer.allowed else R.ORIGIN_NOT_ALLOWED


def answer_rule(answer: Answer, path_rule: str | None) -> str | None:
    """The configured rule that allowed the origin (None for an ambiguous path, as ``evaluate``)."""
    if path_rule is not None and path_rule.startswith(AMBIGUOUS_PATH_RULE):
        return None
    return answer.rule


def _header(pairs: Iterable[tuple[str, str]], name: str) -> str | None:
    for key, value in pairs:
        if key == name:
            return value
    return None


def candidate_policy(value: object, what: str = "report_only") -> CORSPolicy:
    """A ``CORSPolicy`` from ``report_only=``: a policy, or a mapping of its keywords."""
    if isinstance(value, CORSPolicy):
        return value
    if isinstance(value, Mapping):
        data = dict(value)
        callback = data.pop("allow_origin_callback", None)
        built = CORSPolicy.from_mapping(data)
        return built if callback is None else built.replace(allow_origin_callback=callback)
    raise TypeError(
        f"{what} must be a corsware.CORSPolicy or a mapping of its keywords "
        f"(e.g. {{'allow_origins': ['https://app.example.com']}}), not {type(value).__name__}"
    )


@dataclass(frozen=True, slots=True)
class Sent:
    """The CORS headers a response carried: its status, ``Access-Control-Allow-Origin``
    (None when absent) and whether ``Access-Control-Allow-Credentials: true`` was there."""

    status: int
    acao: str | None
    acac: bool


def _grants(kind: RequestKind, origin: str, status: int | None, acao: str | None) -> bool:
    """Whether a browser's CORS check passes on these values (Fetch §"CORS check",
    https://fetch.spec.whatwg.org/#cors-check): ``Access-Control-Allow-Origin`` is ``*`` or
    the request's origin, and a preflight's status is ok (2xx). The credentials half of the
    check is compared separately (``would_drop_credentials``)."""
    if acao is None or acao not in ("*", origin):
        return False
    return kind is not RequestKind.PREFLIGHT or status is None or 200 <= status <= 299


def _outcome(kind: RequestKind, origin: str, status: int | None, acao: str | None, acac: bool, answer: Answer) -> str:
    candidate = answer.allowed
    if acao is None and not candidate:  # the common refusal: nothing sent, nothing would be
        return "same"
    today = _grants(kind, origin, status, acao)
    if today and not candidate:
        return "would_refuse"
    if candidate and not today:
        return "would_allow"
    if today and candidate:
        cand_acac = _CREDENTIALS in answer.text
        if acac and not cand_acac:
            return "would_drop_credentials"
        if cand_acac and not acac:
            return "would_add_credentials"
    return "same"


def _cap(value: str | None) -> str | None:
    """Cap an attacker-controlled value at the length ``corsware._log.escape`` keeps; the JSON
    encoding (``ensure_ascii``) escapes every control character, so a record is one line."""
    if value is None or len(value) <= _MAX_LOGGED:
        return value
    return value[:_MAX_LOGGED] + f"...(+{len(value) - _MAX_LOGGED} chars)"


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds % 1 * 1000):03d}Z"


def encode_record(record: Mapping[str, Any]) -> str:
    """One line of JSON: ``ensure_ascii`` escapes CR, LF, U+2028/9 and every other control
    character but DEL, which is escaped here too (CVE-2024-1681: one request, one line)."""
    return json.dumps(record, ensure_ascii=True, separators=(",", ":")).replace("\x7f", "\\u007f")


class Tally:
    """Counts per (origin, path rule, outcome): count, first and last seen, the candidate's
    last reason. Bounded: at most ``max_origins`` distinct origins are named, the rest are
    counted under :data:`OTHER_ORIGINS`; path rules and outcomes come from the
    configuration, so the whole tally is bounded whatever clients send. Thread-safe."""

    def __init__(self, max_origins: int = 1000) -> None:
        if not isinstance(max_origins, int) or isinstance(max_origins, bool) or max_origins < 0:
            raise TypeError(f"max_origins must be a whole number >= 0, not {max_origins!r}")
        self.max_origins = max_origins
        self._lock = threading.Lock()
        self._acquire = self._lock.acquire
        self._release = self._lock.release
        self._origins: set[str] = set()
        self._entries: dict[tuple[str, str, str], list[Any]] = {}

    def add(self, origin: str, path_rule: str | None, result: str, reason: str, now: float) -> bool:
        """Count one request; True when its (origin, path rule, outcome) is new."""
        key = (origin, path_rule or "", result)
        # The common case, a key already counted, takes the lock for four list operations
        # (acquire/release rather than ``with``, which costs a quarter of a microsecond more:
        # this runs on every CORS request). A key exists only for an origin already named.
        self._acquire()
        try:
            entry = self._entries.get(key)
            if entry is None and origin not in self._origins:
                if len(self._origins) < self.max_origins:
                    self._origins.add(origin)
                else:  # beyond the cap: counted under OTHER_ORIGINS
                    key = (OTHER_ORIGINS, key[1], result)
                    entry = self._entries.get(key)
            if entry is not None:
                entry[0] += 1
                entry[2] = now
                entry[3] = reason
                return False
            self._entries[key] = [1, now, now, reason]
            return True
        finally:
            self._release()

    def snapshot(self) -> list[dict[str, Any]]:
        """The counts as plain data, most frequent first."""
        with self._lock:
            items = [(key, list(entry)) for key, entry in self._entries.items()]
        rows = [
            {
                "origin": origin,
                "path_rule": path_rule or None,
                "outcome": result,
                "count": count,
                "first_seen": _iso(first),
                "last_seen": _iso(last),
                "reason": reason,
            }
            for (origin, path_rule, result), (count, first, last, reason) in items
        ]
        rows.sort(key=lambda row: (-row["count"], row["origin"], row["path_rule"] or "", row["outcome"]))
        return rows

    def clear(self) -> None:
        """Forget every count (e.g. after shipping them elsewhere)."""
        with self._lock:
            self._origins.clear()
            self._entries.clear()


class Reporter:
    """Compares responses with a candidate policy; readable as ``middleware.report``.

    ``candidate`` is the policy being tried; `tally()` returns the in-memory counts.
    Differences are logged at WARNING on ``corsware.report``; the first request of each
    (origin, path rule) on which the candidate agrees with today is logged at INFO, so that
    ``corsware suggest`` also sees the origins that already work under the candidate.
    """

    def __init__(self, candidate: CORSPolicy | Mapping[str, Any], *, max_origins: int = 1000) -> None:
        self.candidate = candidate_policy(candidate)
        self._tally = Tally(max_origins)

    def tally(self) -> list[dict[str, Any]]:
        """Counts per origin x path rule x outcome (see `Tally`), most frequent first."""
        return self._tally.snapshot()

    def clear(self) -> None:
        """Forget the in-memory counts."""
        self._tally.clear()

    def compare(
        self,
        kind: RequestKind,
        origin: str,
        answer: Answer,
        path_rule: str | None,
        status: int | None,
        acao: str | None,
        acac: bool,
    ) -> int:
        """Count one CORS request: what was sent (``status``, ``acao``: the response's
        ``Access-Control-Allow-Origin`` or None, ``acac``: whether it allowed credentials)
        versus the candidate's ``answer``. Returns the level to `record` it at, or 0
        when nothing is to be logged (the common case: an agreement already seen).

        ``status`` may be None for an actual request: only a preflight's status decides
        whether the browser's check passes."""
        allowed = answer.allowed
        # The common cases are decided here, without a call: refused by both (nothing sent,
        # nothing would be), and allowed by both with the same credentials.
        if (acao is None and not allowed) or (
            allowed
            and acao in (origin, "*")
            and (status is None or 200 <= status <= 299 or kind is not _PREFLIGHT)
            and (_CREDENTIALS in answer.text) is acac
        ):
            result = "same"
        else:
            result = _outcome(kind, origin, status, acao, acac, answer)
        if path_rule is None:
            reason = answer.reason if kind is _PREFLIGHT else _ALLOWED if allowed else _REFUSED  # type: ignore[union-attr]
        else:
            reason = answer_reason(kind, answer, path_rule)
        new = self._tally.add(origin, path_rule, result, reason, time.time())
        if result == "same":
            return _INFO if new and report_logger.isEnabledFor(_INFO) else 0
        return _WARNING if report_logger.isEnabledFor(_WARNING) else 0

    def record(
        self,
        level: int,
        kind: RequestKind,
        method: str,
        path: str,
        origin: str,
        answer: Answer,
        path_rule: str | None,
        sent: Sent,
        request_method: str | None = None,
        request_headers: str | None = None,
    ) -> None:
        """Log one record at ``level`` (as `compare` returned it). A preflight's
        requested method and headers go into the record (``corsware suggest`` allows what
        was asked for)."""
        preflight = kind is _PREFLIGHT
        record: dict[str, Any] = {
            RECORD_KEY: RECORD_VERSION,
            "time": _iso(time.time()),
            "method": _cap(method),
            "path": _cap(path),
            "origin": _cap(origin),
            "kind": kind.value,
            "outcome": _outcome(kind, origin, sent.status, sent.acao, sent.acac, answer),
            "sent": {"status": sent.status, "acao": _cap(sent.acao), "acac": sent.acac},
            "candidate": {
                "allowed": answer.allowed,
                "status": answer.status if preflight else sent.status,  # type: ignore[union-attr]
                "acao": _cap(_header(answer.text, ACAO)),
                "acac": _CREDENTIALS in answer.text,
                "reason": answer_reason(kind, answer, path_rule),
                "rule": _cap(answer_rule(answer, path_rule)),
                "path_rule": _cap(path_rule),
            },
        }
        if preflight:
            if request_method is not None:
                record["request_method"] = _cap(request_method)
            if request_headers is not None:
                record["request_headers"] = _cap(request_headers)
        report_logger.log(level, "%s", encode_record(record), extra={RECORD_KEY: record})


@dataclass(frozen=True, slots=True)
class DecisionEvent:
    """One CORS decision of the enforced policy, handed to ``on_decision``.

    ``origin`` and ``path`` come from the request (attacker-controlled, and unbounded in
    number): use ``reason``, ``path_rule`` and ``kind`` as metric labels, never them.
    """

    time: float  #: seconds since the epoch
    kind: str  #: ``"actual"`` or ``"preflight"``
    method: str
    path: str
    origin: str
    allowed: bool
    reason: str  #: a reason code (docs/reason-codes.md), ``"allowed"`` when allowed
    rule: str | None  #: the configured rule that allowed the origin
    path_rule: str | None  #: the per-path rule that applied, if any
    status: int | None  #: corsware's preflight status; None when the app answers


class DecisionHook:
    """Calls ``hook(event)`` for refusals (every CORS decision when ``every`` is True).

    The hook runs in the request's thread (or on the event loop under ASGI), so it must be
    quick and thread-safe (``prometheus_client`` counters and OpenTelemetry instruments
    are). An exception from it never reaches the response: it is logged once, at ERROR, on
    the ``corsware`` logger, and later ones are dropped silently.
    """

    def __init__(self, hook: Callable[[DecisionEvent], object], *, every: bool = False) -> None:
        if not callable(hook):
            raise TypeError(f"on_decision must be a callable taking one DecisionEvent, not {type(hook).__name__}")
        if not isinstance(every, bool):
            raise TypeError(f"on_decision_all must be True or False, not {every!r}")
        self.hook = hook
        self.every = every
        self._failed = False
        self._lock = threading.Lock()

    def wants(self, answer: Answer) -> bool:
        """Whether the decision ``answer`` (of a CORS request) is reported: refused, or ``every``."""
        return self.every or not answer.allowed

    def emit(
        self, kind: RequestKind, method: str, path: str, origin: str, answer: Answer, path_rule: str | None
    ) -> None:
        """Build the event and call the hook; never raises."""
        event = DecisionEvent(
            time.time(), kind.value, method, path, origin, answer.allowed,
            answer_reason(kind, answer, path_rule), answer_rule(answer, path_rule), path_rule,
            answer.status if kind is _PREFLIGHT else None,  # type: ignore[union-attr]
        )  # fmt: skip
        try:
            result = self.hook(event)
        except Exception:
            self._failure("raised")
            return
        close = getattr(result, "close", None)
        if close is not None and hasattr(result, "__await__"):
            close()  # an async function: its coroutine would never run
            self._failure("is async (returned a coroutine); pass a plain function")

    def _failure(self, what: str) -> None:
        with self._lock:
            first, self._failed = not self._failed, True
        if first:
            logger.error(
                "the on_decision hook %r %s; the response is unaffected, and further failures are not logged",
                self.hook,
                what,
                exc_info=what == "raised",
            )
