"""What the WSGI and ASGI middleware share: construction from a policy or its keywords,
atomic policy replacement, and the run-time debug switch."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

from ._errors import CORSConfigError
from ._log import logger
from ._policy import CORSPolicy

if TYPE_CHECKING:
    from ._report import Reporter

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


def log_build_failure(middleware: object, exc: Exception) -> None:
    """Log why a middleware could not be built, at ERROR, with the problem list.

    Starlette builds ``app.add_middleware(...)`` lazily, during the lifespan start-up, and
    uvicorn's default ``lifespan="auto"`` turns an exception there into one INFO line ("ASGI
    'lifespan' protocol appears unsupported") and keeps serving: every request then fails
    with a 500. So the problem is logged on every attempt, before the exception goes on to
    whoever built the middleware (a misspelt keyword included, see ``corsware._keywords``).
    """
    name = f"{type(middleware).__module__}.{type(middleware).__qualname__}"
    logger.error(
        "%s could not be built, so every request through it fails until this is fixed: %s\n"
        "Build the policy at import time, where an error stops the program: "
        "policy = corsware.CORSPolicy(...), then %s(app, policy=policy) "
        "or app.add_middleware(%s, policy=policy).",
        name,
        exc,
        name,
        name,
    )


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

    def __init__(self, policy: CORSPolicy | None = None, *, debug: bool = False, **options: Any) -> None:
        try:
            self._build(policy, debug, options)
        except (CORSConfigError, TypeError) as exc:
            log_build_failure(self, exc)
            raise

    def _build(self, policy: CORSPolicy | None, debug: bool, options: dict[str, Any]) -> None:
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
    #: Whether the adapter can only call (not await) an origin callback (WSGI).
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
