"""What the WSGI and ASGI middleware share: construction from a policy or its keywords,
atomic policy replacement, and the run-time debug switch."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict

from ._errors import CORSConfigError
from ._frameworks import warn_framework_cors
from ._log import log_build_failure
from ._policy import CORSPolicy

if TYPE_CHECKING:
    from typing_extensions import Self

    from ._report import DecisionEvent, Reporter

__all__ = ["MiddlewareBase", "PolicyOptions", "log_build_failure"]


class PolicyOptions(TypedDict, total=False):
    """The keywords of :class:`~corsware.CORSPolicy`, for typing ``**options``."""

    allow_origins: Sequence[str] | str
    allow_methods: Sequence[str] | str
    allow_headers: Sequence[str] | str
    allow_credentials: bool
    allow_origin_regex: str | re.Pattern[str] | Sequence[str | re.Pattern[str]] | None
    expose_headers: Sequence[str] | str
    max_age: int | None
    allow_private_network: bool
    allow_origin_callback: Callable[[str], Any] | None
    paths: Mapping[str | re.Pattern[str], CORSPolicy | Mapping[str, Any]] | None
    dangerously_allow_null_origin: bool
    dangerously_allow_insecure_origins: bool
    dangerously_allow_public_suffix_patterns: bool
    preflight_cache_size: int


def _wants_layers(report_only: object, on_decision: object, on_decision_all: object) -> bool:
    return report_only is not None or bool(on_decision) or bool(on_decision_all)


class MiddlewareBase:
    """Holds the policy of a middleware; see ``corsware.wsgi`` and ``corsware.asgi``."""

    _policy: CORSPolicy
    #: When True, refused preflights are answered with an ok status and only the headers
    #: that *are* allowed, plus a ``Corsware-Reason`` header, so the browser console names
    #: what is missing. The browser still blocks the request. Settable at run time.
    debug: bool
    #: The report-only :class:`~corsware._report.Reporter` (``report.tally()``,
    #: ``report.candidate``) when the middleware was built with ``report_only=``, else None.
    report: Reporter | None = None
    #: False when built with ``report_only=`` and neither ``policy=`` nor policy keywords:
    #: then the middleware changes nothing and only reports.
    enforcing: bool = True

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        """A middleware built with ``report_only=`` or ``on_decision=`` is an instance of a
        subclass whose ``__call__`` runs that layer (``corsware._report_layers``); without
        them it is its own class, unchanged."""
        if _wants_layers(kwargs.get("report_only"), kwargs.get("on_decision"), kwargs.get("on_decision_all")):
            from ._report_layers import layered

            return super().__new__(layered(cls))
        return super().__new__(cls)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Introspection (help(), IDEs, inspect.signature, Starlette's add_middleware) shows
        # the adapter's __init__ keywords, not the catch-all of __new__ above.
        super().__init_subclass__(**kwargs)
        parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
        cls.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]

    def compose_layers(
        self,
        *,
        enforcing: bool,
        report_only: CORSPolicy | Mapping[str, Any] | None,
        on_decision: Callable[[DecisionEvent], object] | None,
        on_decision_all: bool,
    ) -> None:
        """Attach the report-only / decision-event layer (``corsware._report``), once, when
        the adapter was built with one; a middleware without them runs exactly as before."""
        if _wants_layers(report_only, on_decision, on_decision_all):
            from ._report_layers import attach

            attach(self, enforcing=enforcing, report_only=report_only, on_decision=on_decision,
                   on_decision_all=on_decision_all)  # fmt: skip

    #: The adapter's name in messages (``"corsware.wsgi.CORSMiddleware"``).
    display_name: ClassVar[str]

    def __init__(
        self,
        app: Any,
        policy: CORSPolicy | None,
        debug: bool,
        report_only: CORSPolicy | Mapping[str, Any] | None,
        on_decision: Callable[[DecisionEvent], object] | None,
        on_decision_all: bool,
        options: Mapping[str, Any],
    ) -> None:
        """What both adapters' ``__init__`` do with the keywords they share (each adapter
        keeps its own typed signature, which ``inspect.signature``, the docs and the keyword
        check read): the policy from ``policy`` or ``options``, then the report-only /
        decision-event layer."""
        try:
            self._build(policy, debug, options)
        except (CORSConfigError, TypeError) as exc:
            log_build_failure(self, exc)
            raise
        self.app = app
        warn_framework_cors(app, self.display_name)
        self.compose_layers(
            enforcing=policy is not None or bool(options) or report_only is None,
            report_only=report_only,
            on_decision=on_decision,
            on_decision_all=on_decision_all,
        )

    def _build(self, policy: CORSPolicy | None, debug: bool, options: Mapping[str, Any]) -> None:
        if policy is not None:
            if options:
                raise TypeError(
                    f"pass either policy= or policy options, not both (got policy= and {', '.join(options)})"
                )
            self.policy = policy
        else:
            self.policy = CORSPolicy(**options)
        if not isinstance(debug, bool):
            raise TypeError(f"debug must be True or False, not {debug!r}")
        self.debug = debug

    #: True for adapters that cannot await an async origin callback (WSGI).
    sync_only = False

    @property
    def policy(self) -> CORSPolicy:
        """The policy in force. Assigning a new one is atomic: each request reads it once,
        so every request sees the old or the new policy, never a mix."""
        return self._policy

    @policy.setter
    def policy(self, policy: CORSPolicy) -> None:
        if not isinstance(policy, CORSPolicy):
            raise TypeError(f"policy must be a corsware.CORSPolicy, not {type(policy).__name__}")
        if self.sync_only and policy.has_async_callback:
            # Refused here rather than failing every request later with a CORS-less 500.
            raise TypeError(
                "allow_origin_callback is async, which a WSGI server cannot await; "
                "pass a plain function, or use corsware.asgi.CORSMiddleware"
            )
        self._policy = policy
