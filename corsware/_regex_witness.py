"""Sample strings a configured origin regex matches, to learn what it really admits.

``regex_problems`` (in ``_origins``) probes a regex with hostile origins; that only finds
what the probe list thought of. This module walks the regex's parse tree and writes out
strings it matches ("witnesses"): one per path through its alternations and optional parts
(``(app|admin)``, ``https?``, ``(:\\d+)?``), so the validator learns which schemes, hosts
and ports the regex is written for.

Each path is written twice, with different representative characters wherever the regex
leaves a choice (``a`` then ``z`` for ``[a-z]``, ``0`` then ``9`` for ``\\d``, ``a`` then
``z`` for ``.``). What both copies share was written literally: if both hosts have the same
registrable domain, the regex *names* that domain; if they differ, a character class chose
it, and anyone can register a name the class admits.

Only the standard library's own regex parser is used (``re._parser``, ``sre_parse`` before
Python 3.11). Witnesses are checked with ``fullmatch`` by the caller, so an approximation
here (a look-around, a back-reference) can only lose a witness, never invent one; a regex
construct this walker does not know yields no witnesses, and probing alone decides.
"""

from __future__ import annotations

import itertools
import re
import sys
from typing import Any, Final

if sys.version_info >= (3, 11):
    from re import _parser as _sre_parse
else:  # pragma: no cover - exercised on Python 3.10
    import sre_parse as _sre_parse

__all__ = ["witness_pairs"]

#: Paths through a regex written out at most; alternations multiply quickly.
MAX_PATHS: Final = 32
#: A repetition is written at most this many times (``a{10000}``): origins are short.
_MAX_REPEAT_COUNT: Final = 600

#: Representative characters, in order of preference; the second copy picks from the end of
#: each run, so any class of two or more members yields two different characters.
_FIRST: Final = "abcdefghijklmnopqrstuvwxyz0123456789-."
_SECOND: Final = "zyxwvutsrqponmlkjihgfedcba9876543210.-"
_PRINTABLE: Final = "".join(chr(c) for c in range(33, 127))


class _Unsupported(Exception):
    """A construct the walker cannot write out; the regex gets no witnesses."""


def witness_pairs(regex: re.Pattern[str]) -> list[tuple[str, str]]:
    """Up to ``MAX_PATHS`` pairs of candidate strings, one pair per path through ``regex``.

    The two strings of a pair take the same branches and repeat counts and differ only
    where the regex leaves a character free. They are candidates: the caller keeps those
    the regex ``fullmatch``es.
    """
    try:
        tree = _sre_parse.parse(regex.pattern, regex.flags)
        first = _sequence(tree, 0)
        second = _sequence(tree, 1)
    except (_Unsupported, re.error, RecursionError, TypeError, ValueError):
        return []
    if len(first) != len(second):  # pragma: no cover - both walks take the same shape
        return []
    return list(zip(first, second, strict=True))


def _name(op: object) -> str:
    return str(getattr(op, "name", ""))


def _sequence(items: Any, mode: int) -> list[str]:
    """Every item of a sequence written out, joined: the product of their choices, capped."""
    choices = [_item(op, av, mode) for op, av in items]
    out: list[str] = []
    for combo in itertools.islice(itertools.product(*choices), MAX_PATHS):
        out.append("".join(combo))
    return out


def _item(op: object, av: Any, mode: int) -> list[str]:
    name = _name(op)
    if name == "LITERAL":
        return [chr(av).lower()]
    if name == "NOT_LITERAL":
        return [_pick(lambda c: ord(c) != av, mode)]
    if name == "ANY":
        return [_pick(lambda c: c != "\n", mode)]
    if name == "IN":
        return [_pick(lambda c: _in_class(av, c), mode)]
    if name == "BRANCH":
        out: list[str] = []
        for alternative in av[1]:
            out += _sequence(alternative, mode)
        return out[:MAX_PATHS]
    if name == "SUBPATTERN":
        return _sequence(av[-1], mode)
    if name == "ATOMIC_GROUP":
        return _sequence(av, mode)
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, high, body = av
        inner = _sequence(body, mode)
        counts = [low] if high <= low else [low, low + 1]
        out = []
        for count in counts:
            if count == 0:
                out.append("")  # once, not once per way of writing the body
            else:
                out += [piece * min(count, _MAX_REPEAT_COUNT) for piece in inner]
        return out[:MAX_PATHS]
    if name == "GROUPREF_EXISTS":
        _group, yes, no = av
        return (_sequence(yes, mode) + (_sequence(no, mode) if no is not None else [""]))[:MAX_PATHS]
    if name in ("AT", "ASSERT", "ASSERT_NOT"):
        return [""]  # anchors and look-arounds consume nothing; fullmatch judges the result
    raise _Unsupported(name)


def _pick(accepts: Any, mode: int) -> str:
    """The preferred character a class accepts (the other end of the list in mode 1)."""
    for pool in (_FIRST if mode == 0 else _SECOND, _PRINTABLE if mode == 0 else _PRINTABLE[::-1]):
        for char in pool:
            if accepts(char) or accepts(char.upper()):
                return char
    raise _Unsupported("a class that admits no printable ASCII character")


def _in_class(items: Any, char: str) -> bool:
    """Whether ``char`` is in a parsed character class (``[...]``, ``\\d``, ``\\w``...)."""
    code = ord(char)
    negate = False
    found = False
    for op, av in items:
        name = _name(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            found = found or code == av
        elif name == "RANGE":
            found = found or av[0] <= code <= av[1]
        elif name == "CATEGORY":
            found = found or _in_category(_name(av), char)
        else:
            raise _Unsupported(name)
    return found != negate


def _in_category(category: str, char: str) -> bool:
    tests = {
        "CATEGORY_DIGIT": char.isdigit(),
        "CATEGORY_WORD": char.isalnum() or char == "_",
        "CATEGORY_SPACE": char.isspace(),
    }
    for positive, result in tests.items():
        if category == positive:
            return result
        if category == positive.replace("CATEGORY_", "CATEGORY_NOT_"):
            return not result
    raise _Unsupported(category)
