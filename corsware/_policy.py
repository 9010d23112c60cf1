"""``CORSPolicy``: the public, immutable configuration, compiled once into plans."""

from __future__ import annotations

import difflib
import inspect
import json
import logging
import re
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal

from . import _reasons as R
from ._cache import CacheBudget
from ._compile import Addition, PreflightAnswer
from ._decision import (
    NEEDS_CALLBACK,
    CORSDecision,
    NeedsCallback,
    Plan,
    RequestKind,
    async_verdict,
    classify,
    sync_verdict,
)
from ._errors import CORSConfigError, Fix, Problem
from ._keywords import check_keywords
from ._log import escape, logger
from ._options import OPTION_NAMES, VALIDATED_OPTIONS
from ._origins import OriginMatcher
from ._paths import PathPattern, route_path_candidates
from ._settings import Settings
from ._syntax import in_syntax, syntax_of_file
from ._validate import validate

__all__ = ["AMBIGUOUS_PATH_RULE", "OPTION_NAMES", "CORSPolicy"]

#: The start of ``CORSDecision.path_rule`` for a path routers read differently.
AMBIGUOUS_PATH_RULE: Final = "(ambiguous path)"
_TOP_LEVEL: Final = -1  # rule index: no rule matches, the policy's own settings apply
_AMBIGUOUS: Final = -2  # rule index: a path routers read differently (not in normal form)

_SAFELISTED_DEFAULT: Final = ("GET", "HEAD", "POST")

HeaderInput = Mapping[str, str] | Iterable[tuple[str, str]]


class CORSPolicy:
    """A validated, immutable CORS policy. Nothing is allowed until configured.

    All arguments are keyword-only; the first seven have exactly the names (and, where safe,
    the meaning) of Starlette's ``CORSMiddleware``.

    ``allow_origins`` (list of str, default ``[]``)
    :   Exact origins (``"https://app.example.com"``), subdomain patterns
        (``"https://*.example.com"``: one or more whole labels, never the apex, never
        ``evil-example.com``), port patterns (``"http://localhost:*"``), or ``"*"`` alone
        (any origin; not with credentials). ``"null"`` needs
        ``dangerously_allow_null_origin=True``. Origins are written exactly as browsers
        send them: lower case, no path, no trailing slash, no default port, punycode.

    ``allow_methods`` (list of str or ``"*"``, default ``["GET", "HEAD", "POST"]``)
    :   Methods a preflight may ask for; compared byte-exactly. ``"*"`` allows any method
        (reflected for credentialed requests). CONNECT, TRACE and TRACK are refused.

    ``allow_headers`` (list of str or ``"*"``, default ``[]``)
    :   Request headers scripts may send, case-insensitive. The CORS-safelisted names
        (Accept, Accept-Language, Content-Language, Content-Type) are always allowed.
        ``"*"`` allows any header, ``Authorization`` included. Entries with regex syntax
        (``r"X-Company-.*"``, as flask-cors documents) are header-name patterns, matched
        whole and in any case. Names no script can set (forbidden request headers such as
        ``Cookie``, ``DNT``) are ignored with a warning ([`warnings`][corsware.CORSPolicy.warnings]).

    ``allow_credentials`` (bool, default False)
    :   Send ``Access-Control-Allow-Credentials: true``: cookies and HTTP auth may be sent
        and responses read. Refused with ``"*"`` origins, ``"*"`` expose headers, plain-http
        origins and public-suffix patterns unless the matching ``dangerously_`` flag is set.

    ``allow_origin_regex`` (str, ``re.Pattern`` or a list of them, default None)
    :   Matched with ``fullmatch`` against the whole origin. Regexes that admit a lookalike
        host (an unescaped dot, an unanchored domain) are refused at construction.

    ``expose_headers`` (list of str or ``"*"``, default ``[]``)
    :   Response headers scripts may read (``"*"`` only without credentials).

    ``max_age`` (int seconds 0..86400 or None, default 600)
    :   How long browsers may cache a preflight; None omits the header (browsers use 5 s).

    ``allow_private_network`` (bool, default False)
    :   Answer ``Access-Control-Request-Private-Network: true`` (Private Network Access)
        with ``Access-Control-Allow-Private-Network: true``, for allowed origins only.

    ``allow_origin_callback`` (callable, default None)
    :   ``callback(origin) -> bool`` consulted for origins no static rule allows; under
        ASGI it may be ``async``. Its answers are never cached. Only ``True`` allows: any
        other result refuses (``"false"`` and ``{"enabled": False}`` are truthy, not
        true), and a non-bool one is logged once per callback at WARNING. It is asked about
        ``null`` only with ``dangerously_allow_null_origin=True``.

    ``paths`` (mapping of path pattern to ``CORSPolicy`` or mapping of options)
    :   Per-path policies, first match in declaration order wins; unmatched paths use this
        policy's own settings. Patterns are literal paths, globs (``"/api/*"``) or
        compiled regexes (``fullmatch``), matched case-sensitively on the router's path.

    ``dangerously_allow_null_origin``, ``dangerously_allow_insecure_origins``,
    ``dangerously_allow_public_suffix_patterns`` (bool, default False)
    :   Loud opt-ins for configurations that are refused by default.

    ``preflight_cache_size`` (int, default 1024)
    :   Bound on the answers this policy caches, all together: preflight answers, origin
        decisions and allowed preflights by origin, for its own settings *and* every
        per-path rule (the oldest entry is evicted first, whichever cache holds it). Keys
        are chosen by clients, so this total bounds the memory they can fill (at most a
        few KiB an entry; see docs/security.md); 0 disables caching. A per-path rule's own
        ``preflight_cache_size`` applies only where that policy is used on its own.

    Raises ``CORSConfigError`` listing every problem found.
    """

    __slots__ = ("__weakref__", "_rule_plans", "_warnings", "has_paths", "options", "plan", "rules", "settings")

    # A misspelt keyword gets corsware's "did you mean" on every Python (UnknownOptionError,
    # also a TypeError), not Python's bare TypeError.
    @check_keywords("a CORSPolicy")
    def __init__(
        self,
        *,
        allow_origins: Sequence[str] | str = (),
        allow_methods: Sequence[str] | str = _SAFELISTED_DEFAULT,
        allow_headers: Sequence[str] | str = (),
        allow_credentials: bool = False,
        allow_origin_regex: str | re.Pattern[str] | Sequence[str | re.Pattern[str]] | None = None,
        expose_headers: Sequence[str] | str = (),
        max_age: int | None = 600,
        allow_private_network: bool = False,
        allow_origin_callback: Callable[[str], Any] | None = None,
        paths: Mapping[str | re.Pattern[str], CORSPolicy | Mapping[str, Any]] | None = None,
        dangerously_allow_null_origin: bool = False,
        dangerously_allow_insecure_origins: bool = False,
        dangerously_allow_public_suffix_patterns: bool = False,
        preflight_cache_size: int = 1024,
    ) -> None:
        # Every keyword as given, by name (``replace()`` starts from these, read-only).
        options: dict[str, Any] = {
            "allow_origins": allow_origins,
            "allow_methods": allow_methods,
            "allow_headers": allow_headers,
            "allow_credentials": allow_credentials,
            "allow_origin_regex": allow_origin_regex,
            "expose_headers": expose_headers,
            "max_age": max_age,
            "allow_private_network": allow_private_network,
            "allow_origin_callback": allow_origin_callback,
            "paths": paths,
            "dangerously_allow_null_origin": dangerously_allow_null_origin,
            "dangerously_allow_insecure_origins": dangerously_allow_insecure_origins,
            "dangerously_allow_public_suffix_patterns": dangerously_allow_public_suffix_patterns,
            "preflight_cache_size": preflight_cache_size,
        }
        # The settings are the validator's; paths and the cache size are this class's own.
        settings, problems = validate(**{name: options[name] for name in VALIDATED_OPTIONS})
        if (
            isinstance(preflight_cache_size, bool)
            or not isinstance(preflight_cache_size, int)
            or preflight_cache_size < 0
        ):
            problems.append(
                Problem("preflight_cache_size", preflight_cache_size, "invalid_type", "must be a whole number >= 0")
            )
        rules, owned = _compile_paths(paths, problems)
        if problems:
            raise CORSConfigError(problems)
        for warning in settings.warnings:
            # Harmless no-ops (dropped from the compiled policy): said once, never fatal.
            logger.warning("CORS policy: %s: %s [%s]", warning.field, warning.message, warning.code)
        self._warnings: tuple[Problem, ...] = (
            *settings.warnings,
            *(
                Problem(f"paths[{pattern.text!r}].{w.field}", w.value, w.code, w.message)
                for pattern, policy in rules
                for w in policy.warnings
            ),
        )
        #: Every keyword as given (``replace()`` starts from these), read-only.
        self.options: Mapping[str, Any] = MappingProxyType(options)
        #: The validated, normalised settings (frozen).
        self.settings: Settings = settings
        matcher = OriginMatcher(
            settings.origins,
            settings.regexes,
            any_origin=settings.any_origin,
            allow_null=settings.allow_null,
            callback=settings.callback,
            callback_null=settings.null_opt_in,
        )
        # One budget for every cache of this policy, its rules' included: the memory
        # clients can fill must not grow with the number of rules.
        budget = CacheBudget(preflight_cache_size)
        #: The compiled plan of this policy's own settings (its request-time API: see
        #: ``corsware._decision``); ``plan_for(path)`` picks a per-path rule's.
        self.plan: Plan = Plan(settings, matcher, budget)
        #: The per-path rules, in declaration order: (pattern, policy).
        self.rules: tuple[tuple[PathPattern, CORSPolicy], ...] = rules
        #: Whether there are per-path rules (else ``plan`` serves every path).
        self.has_paths: bool = bool(rules)
        #: Each rule compiled again for this policy, drawing from its budget: a rule given
        #: as a CORSPolicy (which the caller may use elsewhere, or under another parent)
        #: keeps its own plan and caches untouched.
        self._rule_plans: tuple[tuple[PathPattern, Plan], ...] = tuple(
            (pattern, Plan(policy.settings, policy.plan.matcher, budget)) for pattern, policy in rules
        )
        for (_, policy), (_, plan), mine in zip(rules, self._rule_plans, owned, strict=True):
            if mine:
                # Built from a mapping just now, seen by no one else: its plan need not be
                # kept twice (rule_for() hands out this policy, whose plan is the parent's).
                policy.plan = plan

    # -- construction from data ------------------------------------------------------

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> CORSPolicy:
        """Build a policy from plain data (a parsed TOML/JSON policy file, env, ...).

        Keys are exactly the keyword names of ``CORSPolicy``; unknown keys are reported
        with a "did you mean" suggestion, together with every other problem.
        """
        if not isinstance(data, Mapping):
            raise CORSConfigError(
                [
                    Problem(
                        "(policy)", data, "invalid_type", f"a policy must be a table/object, not {type(data).__name__}"
                    )
                ]
            )
        problems: list[Problem] = []
        known = set(OPTION_NAMES) - {"allow_origin_callback"}
        for key in data:
            if key not in known:
                close = difflib.get_close_matches(str(key), sorted(known), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; known options: {', '.join(sorted(known))}"
                problems.append(
                    Problem(
                        str(key),
                        data[key],
                        "unknown_option",
                        f"is not a CORSPolicy option{hint}",
                        fix=(Fix(close[0], data[key], "name"),) if close else (),
                    )
                )
        kwargs = {k: v for k, v in data.items() if k in known}
        if isinstance(kwargs.get("paths"), Mapping):
            kwargs["paths"] = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in kwargs["paths"].items()}
        try:
            policy = cls(**kwargs)
        except CORSConfigError as exc:
            problems.extend(exc.problems)
        if problems:
            raise CORSConfigError(problems)
        return policy

    @classmethod
    def from_file(cls, path: str | Path) -> CORSPolicy:
        """Load a policy file: TOML (``.toml``) or JSON (``.json``), keys as in ``from_mapping``.

        A top-level ``corsware`` table holds settings of the ``corsware`` command (the
        warnings ``corsware check`` accepts, docs/cli.md), which checks it; it is not part
        of the policy, so the same file serves the command and the middleware. Problems are
        worded in the file's syntax (``allow_credentials = true`` in TOML,
        ``"allow_credentials": true`` in JSON), so a suggestion can be pasted into it.
        """
        try:
            data = load_policy_file(path)
            data.pop("corsware", None)
            return cls.from_mapping(data)
        except CORSConfigError as exc:
            raise in_syntax(exc, syntax_of_file(path)) from None

    def replace(self, **changes: Any) -> CORSPolicy:
        """Return a new policy with some options changed (this one is immutable)."""
        return type(self)(**{**self.options, **changes})

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """Entries of the configuration that do nothing and were left out of the compiled
        policy (a forbidden header name in ``allow_headers``, ...), each with a reason code
        and what to do. Logged at WARNING when the policy is built; ``corsware check`` and
        Django's system checks report them too. Never a start-up failure."""
        return self._warnings

    # -- request time ------------------------------------------------------------------

    def rule_for(self, path: str) -> tuple[str | None, CORSPolicy]:
        """The per-path rule (its pattern text, or None) and the policy that applies to ``path``.

        ``path`` is the route path (see ``corsware._paths``). A path routers read
        differently (dot segments, repeated slashes) cannot be matched to its route for
        sure: the request gets a policy that allows no origin, the strictest answer, and the
        rule text says which rules its readings select.
        """
        text, index = self._select(path)
        if index == _TOP_LEVEL:
            return None, self
        if index == _AMBIGUOUS:
            return text, _refuse_all()
        return text, self.rules[index][1]

    def plan_for(self, path: str) -> Plan:
        """The compiled plan for ``path`` (low-level API used by the adapters)."""
        if not self.rules:
            return self.plan
        return self.route(path)[1]

    def route(self, path: str) -> tuple[str | None, Plan]:
        """Like `rule_for` (the same selection), with this policy's plan for the rule:
        rules draw from this policy's cache budget."""
        text, index = self._select(path)
        if index == _TOP_LEVEL:
            return None, self.plan
        if index == _AMBIGUOUS:
            return text, _refuse_all().plan
        return text, self._rule_plans[index][1]

    def _select(self, path: str) -> tuple[str | None, int]:
        """The rule for ``path``: (its text, its index in ``_rules``), ``_TOP_LEVEL`` when no
        rule matches, ``_AMBIGUOUS`` for a path routers read differently.

        A path with dot segments or repeated slashes has several readings (see
        ``corsware._paths``), and even readings that select the same rule do not settle it:
        a ``/account/<path>`` route does not serve ``/account//x`` (its converter refuses the
        empty segment) while the glob ``/account/*`` matches it, so a catch-all route with
        another rule serves it. corsware cannot see the routes, so under per-path rules such
        a path gets no CORS at all: the strictest answer. Browsers never send dot segments
        (the URL parser removes them, ``%2e`` included); repeated slashes come from URLs
        built by concatenation and are worth fixing anyway.
        """
        if not self.rules:
            return None, _TOP_LEVEL
        candidates = route_path_candidates(path)
        text, index = self._first_rule(candidates[0])
        if len(candidates) == 1:
            return text, index
        return self._ambiguous(path, [self._first_rule(reading)[0] for reading in candidates]), _AMBIGUOUS

    def _first_rule(self, path: str) -> tuple[str | None, int]:
        for index, (pattern, _) in enumerate(self.rules):
            if pattern.matches(path):
                return pattern.text, index
        return None, _TOP_LEVEL

    @staticmethod
    def _ambiguous(path: str, rules: list[str | None]) -> str:
        names = " | ".join(dict.fromkeys(rule or "(top level)" for rule in rules))
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "path %s is not in normal form (dot segments or repeated slashes): routers read it "
                "differently (its readings select %s); refusing CORS for it",
                escape(path), names,
            )  # fmt: skip
        return f"{AMBIGUOUS_PATH_RULE} ({names})"

    @property
    def has_async_callback(self) -> bool:
        """Whether an ``allow_origin_callback`` (here or in a per-path rule) is async, which
        only the ASGI middleware (or [`aevaluate`][corsware.CORSPolicy.aevaluate]) can await."""
        policies = [self, *(policy for _, policy in self.rules)]
        return any(_is_async_callable(p.settings.callback) for p in policies)

    def evaluate(self, method: str, path: str = "/", headers: HeaderInput = ()) -> CORSDecision:
        """Decide a request given as plain strings, without any app or server.

        ``headers`` is a mapping or a list of (name, value) pairs; names are
        case-insensitive and repeated ``Origin`` headers make the origin invalid, as on the
        wire. An async ``allow_origin_callback`` needs ``aevaluate()``.
        """
        request = _Evaluation(self, method, path, headers)
        decision = request.decide()
        if decision is NEEDS_CALLBACK:
            decision = request.decided(sync_verdict(request.ask_callback()))
        return _explain_ambiguity(decision)

    async def aevaluate(self, method: str, path: str = "/", headers: HeaderInput = ()) -> CORSDecision:
        """Like ``evaluate()``, awaiting an async ``allow_origin_callback``."""
        request = _Evaluation(self, method, path, headers)
        decision = request.decide()
        if decision is NEEDS_CALLBACK:
            decision = request.decided(await async_verdict(request.ask_callback()))
        return _explain_ambiguity(decision)

    # -- self-description --------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """The normalised settings, as plain data.

        ``from_mapping`` accepts it back, giving an equal policy, unless an
        ``allow_origin_callback`` is set (here or in a per-path rule): a callback is shown
        by its name, which cannot be turned back into the function, so ``from_mapping``
        refuses that key (``unknown_option``); pass the callback as a keyword instead.
        """
        s = self.settings
        origins = ["*"] if s.any_origin else [p.text for p in s.origins]
        if s.allow_null:
            origins.append("null")
        out: dict[str, Any] = {
            "allow_origins": origins,
            "allow_methods": ["*"] if s.any_method else list(s.methods),
            "allow_headers": (["*"] if s.any_header else []) + list(s.headers) + [p.pattern for p in s.header_patterns],
            "allow_credentials": s.credentials,
            "allow_origin_regex": [r.pattern for r in s.regexes],
            "expose_headers": ["*"] if s.any_expose else list(s.expose),
            "max_age": s.max_age,
            "allow_private_network": s.private_network,
        }
        if s.callback is not None:
            out["allow_origin_callback"] = getattr(s.callback, "__qualname__", repr(s.callback))
        for flag in ("dangerously_allow_null_origin", "dangerously_allow_insecure_origins",
                     "dangerously_allow_public_suffix_patterns"):  # fmt: skip
            if self.options[flag]:
                out[flag] = True
        if self.rules:
            out["paths"] = {pattern.text: policy.describe() for pattern, policy in self.rules}
        return out

    def __repr__(self) -> str:
        return f"CORSPolicy({', '.join(f'{k}={v!r}' for k, v in self.describe().items())})"

    def comparison_key(self) -> tuple[Any, ...]:
        """What equality compares: the described settings, plus what ``describe()`` shows
        only by name: the callback (by identity: two callbacks of the same name may answer
        differently) and the flags of every regex (``re.I`` changes what it matches)."""
        s = self.settings
        return (
            json.dumps(self.describe(), sort_keys=True, default=str),
            id(s.callback) if s.callback is not None else None,
            tuple((r.pattern, r.flags) for r in s.regexes),
            tuple((p.pattern, p.flags) for p in s.header_patterns),
            tuple((pattern.text, policy.comparison_key()) for pattern, policy in self.rules),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CORSPolicy):
            return NotImplemented
        return self.comparison_key() == other.comparison_key()

    def __hash__(self) -> int:
        return hash(self.comparison_key())


_REFUSE_ALL: list[CORSPolicy] = []


def _refuses(origin: str) -> bool:
    """The origin rule of an ambiguous path: no origin."""
    return False


def _refuse_all() -> CORSPolicy:
    """The policy of an ambiguous path: no origin is allowed, nothing is cached.

    Its rule is a callback that refuses, so that its responses still say ``Vary: Origin``
    like those of the rules it stands for: a cache that normalises the URL (``/a/../b`` as
    ``/b``) must not serve this refusal to an allowed origin of the other reading.
    """
    if not _REFUSE_ALL:
        _REFUSE_ALL.append(CORSPolicy(allow_origin_callback=_refuses, preflight_cache_size=0))
    return _REFUSE_ALL[0]


def _is_async_callable(callback: object) -> bool:
    if callback is None:
        return False
    return inspect.iscoroutinefunction(callback) or inspect.iscoroutinefunction(
        getattr(callback, "__call__", None)  # noqa: B004 - an object with an async __call__
    )


def _compile_paths(
    paths: object, problems: list[Problem]
) -> tuple[tuple[tuple[PathPattern, CORSPolicy], ...], tuple[bool, ...]]:
    """The per-path rules, and for each whether it was built here from a mapping."""
    if paths is None:
        return (), ()
    if not isinstance(paths, Mapping):
        problems.append(
            Problem(
                "paths", paths, "invalid_type", "must be a mapping of path pattern to policy (dicts keep their order)"
            )
        )
        return (), ()
    rules: list[tuple[PathPattern, CORSPolicy]] = []
    owned: list[bool] = []
    for key, value in paths.items():
        field = f"paths[{key if isinstance(key, str) else getattr(key, 'pattern', key)!r}]"
        if not isinstance(key, (str, re.Pattern)) or (isinstance(key, str) and not key.startswith(("/", "*"))):
            problems.append(
                Problem(
                    field,
                    key,
                    "invalid_path_pattern",
                    "must be a path starting with '/' (globs allowed) or an re.Pattern",
                )
            )
            continue
        policy: CORSPolicy | None = None
        if isinstance(value, CORSPolicy):
            policy = value
        elif isinstance(value, Mapping):
            try:
                policy = CORSPolicy.from_mapping(value)
            except CORSConfigError as exc:
                problems.extend(
                    Problem(f"{field}.{p.field}", p.value, p.code, p.message, fix=p.fix) for p in exc.problems
                )
                continue
        else:
            problems.append(Problem(field, value, "invalid_type", "must be a CORSPolicy or a mapping of its options"))
            continue
        if policy.rules:
            problems.append(Problem(field, value, "nested_paths", "a per-path policy cannot have paths of its own"))
            continue
        rules.append((PathPattern(key), policy))
        owned.append(not isinstance(value, CORSPolicy))
    return tuple(rules), tuple(owned)


def load_policy_file(path: str | Path) -> dict[str, Any]:
    """Read a TOML or JSON policy file into a mapping; problems raise ``CORSConfigError``."""
    p = Path(path)
    field = str(p)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise CORSConfigError(
            [Problem(field, str(p), "file_unreadable", f"cannot read the policy file: {exc.strerror or exc}")]
        ) from None
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise CORSConfigError([Problem(field, str(p), "file_malformed", f"is not valid JSON: {exc}")]) from None
    elif p.suffix.lower() == ".toml":
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            try:
                import tomli as tomllib  # type: ignore[import-not-found, no-redef, unused-ignore]
            except ImportError:
                raise CORSConfigError(
                    [
                        Problem(
                            field,
                            str(p),
                            "toml_unavailable",
                            "reading TOML on Python 3.10 needs 'pip install tomli' (or use JSON)",
                        )
                    ]
                ) from None
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise CORSConfigError([Problem(field, str(p), "file_malformed", f"is not valid TOML: {exc}")]) from None
    else:
        raise CORSConfigError([Problem(field, str(p), "file_type", "a policy file must end in .toml or .json")])
    if not isinstance(data, dict):
        raise CORSConfigError(
            [Problem(field, str(p), "file_malformed", "must hold a table/object of options at top level")]
        )
    return data


def _actual_decision(add: Addition, path_rule: str | None) -> CORSDecision:
    headers = add.text + ((("Vary", ", ".join(add.vary_text)),) if add.vary_text else ())
    if add.allowed:
        return CORSDecision(
            RequestKind.ACTUAL, True, True, None, headers, R.ALLOWED, f"allowed by {add.rule}", add.rule, path_rule
        )
    return CORSDecision(
        RequestKind.ACTUAL, False, True, None, headers, R.ORIGIN_NOT_ALLOWED,
        "the origin is not allowed by any rule; the request reaches the app without CORS headers",
        None, path_rule,
    )  # fmt: skip


def _preflight_decision(answer: PreflightAnswer, detail: str, path_rule: str | None) -> CORSDecision:
    return CORSDecision(
        RequestKind.PREFLIGHT, answer.allowed, False, answer.status, answer.text,
        answer.reason, detail, answer.rule, path_rule,
    )  # fmt: skip


class _Evaluation:
    """One request of ``evaluate``/``aevaluate`` in the core's terms; ``decide`` asks the
    core, and when it needs the origin callback the caller (sync or async) calls it and
    passes its verdict to ``decided``."""

    __slots__ = ("acrh", "acrm", "kind", "origin", "path", "path_rule", "plan", "pna")

    def __init__(self, policy: CORSPolicy, method: str, path: str, headers: HeaderInput) -> None:
        items = headers.items() if isinstance(headers, Mapping) else headers
        origins: list[str] = []
        acrm: str | None = None
        acrh: list[str] = []
        pna = False
        for name, value in items:
            low = name.lower()
            if low == "origin":
                origins.append(value)
            elif low == "access-control-request-method":
                # Repeated, it is joined as servers join it, which makes it invalid.
                acrm = value if acrm is None else f"{acrm},{value}"
            elif low == "access-control-request-headers":
                acrh.append(value)
            elif low == "access-control-request-private-network":
                pna = value == "true"
        self.path = path
        self.path_rule, self.plan = policy.route(path)
        self.origin = ", ".join(origins)
        self.kind = classify(method, self.origin if origins else None, acrm)
        self.acrm = acrm or ""
        self.acrh = ",".join(acrh)
        self.pna = pna

    def decide(self) -> CORSDecision | Literal[NeedsCallback.NEEDS_CALLBACK]:
        plan, origin = self.plan, self.origin
        if self.kind is RequestKind.PREFLIGHT:
            answer = plan.for_preflight(origin, self.acrm, self.acrh, self.pna, path=self.path)
            return answer if answer is NEEDS_CALLBACK else self._preflight(answer)
        if self.kind is RequestKind.ACTUAL:
            add = plan.for_origin(origin, self.path)
            return add if add is NEEDS_CALLBACK else _actual_decision(add, self.path_rule)
        return _not_cors_decision(plan, self.path_rule)

    def ask_callback(self) -> bool | Awaitable[bool]:
        return self.plan.origin_callback(self.origin)

    def decided(self, allowed: bool) -> CORSDecision:
        if self.kind is RequestKind.PREFLIGHT:
            answer = self.plan.for_preflight_decided(
                self.origin, allowed, self.acrm, self.acrh, self.pna, path=self.path
            )
            return self._preflight(answer)
        return _actual_decision(self.plan.for_origin_decided(self.origin, allowed, self.path), self.path_rule)

    def _preflight(self, answer: PreflightAnswer) -> CORSDecision:
        detail = self.plan.explain(answer, self.origin, self.acrm, self.acrh, self.pna)
        return _preflight_decision(answer, detail, self.path_rule)


def _not_cors_decision(plan: Plan, path_rule: str | None) -> CORSDecision:
    add = plan.no_origin
    headers: tuple[tuple[str, str], ...] = ()
    if add is not None:
        headers = add.text + ((("Vary", ", ".join(add.vary_text)),) if add.vary_text else ())
    return CORSDecision(
        RequestKind.NOT_CORS, False, True, None, headers, R.NO_ORIGIN,
        "no Origin header: not a CORS request", None, path_rule,
    )  # fmt: skip


def _explain_ambiguity(decision: CORSDecision) -> CORSDecision:
    """Name the real reason of a refusal caused by an ambiguous path (``path_ambiguous``)."""
    rule = decision.path_rule
    if rule is None or not rule.startswith(AMBIGUOUS_PATH_RULE) or decision.kind is RequestKind.NOT_CORS:
        return decision
    detail = (
        "the path is not in normal form (dot segments or repeated slashes), which routers read "
        f"differently (its readings select {rule[len(AMBIGUOUS_PATH_RULE) + 2 : -1]}); under per-path "
        "rules CORS is refused for it (the strictest answer)"
    )
    return CORSDecision(
        decision.kind, False, decision.reaches_app, decision.status, decision.headers,
        R.PATH_AMBIGUOUS, detail, None, rule,
    )  # fmt: skip
