"""Configuration errors: every problem of a policy, reported together."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CORSConfigError", "Problem", "UnknownOptionError"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a configuration.

    ``code`` is a stable reason code (documented in ``docs/reason-codes.md``) that tools
    and tests can rely on; ``message`` names the value and says how to fix it.
    """

    field: str
    value: object
    code: str
    message: str

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
