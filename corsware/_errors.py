"""Configuration errors: every problem of a policy, reported together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["CORSConfigError", "Fix", "Problem", "UnknownOptionError"]


@dataclass(frozen=True, slots=True)
class Fix:
    """A setting that a problem's message names, as data: the option and its value.

    Messages are worded in Python (``write ['https://a.com']``, ``pass
    dangerously_allow_null_origin=True``); a configuration read from a TOML or JSON file or
    from ``CORSWARE_*`` variables is re-worded in that syntax (:mod:`corsware._syntax`)
    by finding the Python text of each fix in the message and writing the same setting in
    the user's syntax. ``form`` says how the Python message writes it:

    - ``"value"``: the option's whole value, ``['https://a.com']``;
    - ``"keyword"``: ``option=value``, ``dangerously_allow_null_origin=True``;
    - ``"item"``: one item of the option's list, ``'https://a.com'``;
    - ``"name"``: the option's name only, ``'allow_origins'`` (a "did you mean").

    ``python`` overrides the Python text when it is not the ``repr`` (``r'...'`` regexes).
    """

    option: str
    value: object
    form: Literal["value", "keyword", "item", "name"] = "value"
    python: str | None = None

    def python_text(self) -> str:
        """The text that writes this setting in the Python message."""
        if self.python is not None:
            return self.python
        if self.form == "keyword":
            return f"{self.option}={self.value!r}"
        if self.form == "name":
            return repr(self.option)
        return repr(self.value)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a configuration.

    ``code`` is a stable reason code (documented in ``docs/reason-codes.md``) that tools
    and tests can rely on; ``message`` names the value and says how to fix it. ``fix``
    holds the settings the message suggests or names, as data, so the message can be
    worded in the syntax the configuration was written in (each ``Fix`` is an option and
    its value).
    """

    field: str
    value: object
    code: str
    message: str
    fix: tuple[Fix, ...] = ()

    def __str__(self) -> str:
        return f"{self.field}: {self.message} [{self.code}]"


class CORSConfigError(ValueError):
    """Raised by ``CORSPolicy`` when its settings are invalid or insecure.

    It carries *every* problem found (``.problems``), not just the first one, so a
    configuration can be fixed in one pass.
    """

    problems: tuple[Problem, ...]

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(problems)
        if len(self.problems) == 1:
            text = f"invalid CORS policy: {self.problems[0]}"
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            text = f"invalid CORS policy ({len(self.problems)} problems):\n{lines}"
        super().__init__(text)

    @property
    def codes(self) -> tuple[str, ...]:
        """The reason codes of the problems, in the order they were found."""
        return tuple(p.code for p in self.problems)


class UnknownOptionError(CORSConfigError, TypeError):
    """A keyword argument that the constructor does not take (a misspelt option).

    Raised before the constructor runs, with corsware's own "did you mean" (the same on
    every Python: 3.13 adds a suggestion of its own to ``TypeError``, earlier versions none),
    and the problem code ``unknown_option``. It is also a ``TypeError``, which Python raises
    for an unexpected keyword argument: code written against that (``except TypeError``,
    Starlette's own ``CORSMiddleware`` raises it too) keeps working.
    """
