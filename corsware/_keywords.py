"""Keyword names checked before a constructor runs.

A misspelt option (``CORSMiddleware(app, allow_header=[...])``) would otherwise surface as
Python's bare ``TypeError`` ("got an unexpected keyword argument"), with a suggestion on
3.13 only, or, behind ``**options``, as an error about another class. :func:`check_keywords`
checks the names first and raises :class:`~corsware._errors.UnknownOptionError` with
corsware's own "did you mean", the same on every supported Python. The decorator is typed
with ``ParamSpec``: the signature mypy and IDEs see is the decorated function's own.
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable, Iterable
from typing import ParamSpec, TypeVar

from ._errors import Problem, UnknownOptionError

__all__ = ["check_keywords", "unknown_option"]

P = ParamSpec("P")
R = TypeVar("R")

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def unknown_option(field: str, value: object, what: str, known: Iterable[str]) -> Problem:
    """The ``unknown_option`` problem for ``field``: "is not <what> option; did you mean ...?",
    or the list of options when none is close."""
    names = sorted(set(known))
    close = difflib.get_close_matches(field, names, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"the options are: {', '.join(names)}"
    return Problem(field, value, "unknown_option", f"is not {what} option; {hint}")


def check_keywords(
    what: str, extra: Iterable[str] = (), on_error: Callable[[object, Exception], None] | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Refuse keyword arguments that are neither named parameters of the decorated function
    nor in ``extra`` (the names its ``**options`` takes), before it runs.

    ``what`` names the callee in the message: ``"a CORSPolicy"`` gives "is not a CORSPolicy
    option". Suggestions are drawn from the keyword names only (not ``self``, not the
    positional-only parameters). ``on_error(instance, error)`` is told first, for a method
    (the middlewares log a failed build at ERROR: Starlette builds them lazily).
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        params = inspect.signature(func).parameters
        named = [n for n, p in params.items() if p.kind in _NAMED and n != "self"]
        known = frozenset((*named, *extra))

        @functools.wraps(func)
        def checked(*args: P.args, **kwargs: P.kwargs) -> R:
            if not known.issuperset(kwargs):
                problems = [unknown_option(k, v, what, known) for k, v in kwargs.items() if k not in known]
                error = UnknownOptionError(problems)
                if on_error is not None and args:
                    on_error(args[0], error)
                raise error
            return func(*args, **kwargs)

        return checked

    return decorate
