"""``Settings``: one policy's options, validated and normalised (frozen).

Built by :func:`corsware._validate.validate`, read by the compiler
(:mod:`corsware._compile`), ``describe()`` and the CLI; it imports neither, so the core
does not depend on the validator.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ._errors import Problem
from ._origins import OriginPattern

__all__ = ["Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    """Normalised, validated settings: what the compiled plan is built from.

    ``corsware._validate._Draft`` declares these fields again on purpose (mutable while the
    validator builds them, then frozen into this class);
    tests/core/test_architecture.py::test_the_validators_draft_has_the_fields_of_settings
    keeps the two lists equal.
    """

    origins: tuple[OriginPattern, ...] = ()
    any_origin: bool = False
    allow_null: bool = False  # "null" listed (with the opt-in): allowed statically
    null_opt_in: bool = False  # dangerously_allow_null_origin: the callback may be asked about "null"
    regexes: tuple[re.Pattern[str], ...] = ()
    methods: tuple[str, ...] = ()
    any_method: bool = False
    headers: tuple[str, ...] = ()
    any_header: bool = False
    #: Header-name patterns (flask-cors's ``r"X-Company-.*"``): fullmatch, case-insensitive.
    header_patterns: tuple[re.Pattern[str], ...] = ()
    expose: tuple[str, ...] = ()
    any_expose: bool = False
    credentials: bool = False
    max_age: int | None = None
    private_network: bool = False
    callback: Callable[[str], object] | None = None
    #: Harmless no-ops in the configuration (a forbidden header name in allow_headers, ...):
    #: dropped from the compiled policy and reported, never a start-up failure.
    warnings: tuple[Problem, ...] = ()
