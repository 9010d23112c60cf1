"""Terminal and JSON output shared by the subcommands.

Colour only when the stream is a terminal and ``NO_COLOR`` is unset or empty
(https://no-color.org); ``--json`` output is never coloured. Errors go to stderr.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, TextIO

from .._errors import CORSConfigError

__all__ = [
    "EXIT_ERROR", "EXIT_NO", "EXIT_OK", "CommandError", "Style", "print_json", "printable", "report_error",
]  # fmt: skip

#: Exit statuses, the same for every subcommand (documented in docs/cli.md).
EXIT_OK: Final = 0  # valid policy without warnings / request allowed / snippet written
EXIT_NO: Final = 1  # the answer is "no": warnings found, or the browser blocks the request
EXIT_ERROR: Final = 2  # could not answer: bad usage, bad policy file, network error, not exportable

_CODES: Final = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


class CommandError(Exception):
    """A failure the user can fix; printed without a traceback, exit status 2."""

    def __init__(self, code: str, message: str, problems: Iterable[dict[str, Any]] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.problems = list(problems)

    @classmethod
    def from_config(cls, exc: CORSConfigError, what: str) -> CommandError:
        problems = [
            {"field": p.field, "code": p.code, "message": p.message, "value": _plain(p.value)} for p in exc.problems
        ]
        if exc.codes[0] in ("file_unreadable", "file_malformed", "file_type", "toml_unavailable"):
            # The problem is the file itself: say so once, without the policy wording.
            first = exc.problems[0]
            return cls("policy_file", f"{what}: {first.message} [{first.code}]", problems)
        return cls("policy_invalid", f"{what}: {exc}", problems)


def _plain(value: object) -> object:
    """A JSON-safe rendering of an offending configuration value."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return repr(value)


@dataclass(frozen=True)
class Style:
    """ANSI styling, enabled only for a terminal without ``NO_COLOR``."""

    enabled: bool

    @classmethod
    def for_stream(cls, stream: TextIO) -> Style:
        isatty = getattr(stream, "isatty", None)
        tty = bool(isatty and isatty())
        return cls(tty and not os.environ.get("NO_COLOR"))

    def __call__(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"


_NAMED_ESCAPES: Final = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(char: str) -> str:
    code = ord(char)
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str) -> str:
    """``text`` made safe for a terminal: every non-printable character escaped as ``repr()`` does.

    Text output shows what servers sent (header names and values, error lines); a raw ESC,
    CR or BEL there could erase lines, print a fake verdict or set the window title, and
    U+202E RIGHT-TO-LEFT OVERRIDE could reorder what the reader sees. Escaped: C0 and C1
    controls, DEL, and every character ``str.isprintable()`` rejects (Unicode format, line
    and paragraph separators, non-ASCII spaces, unassigned and private-use code points).
    ``--json`` output keeps the exact values (JSON escapes controls itself).
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def print_json(data: object) -> None:
    """Machine output: one JSON document on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def report_error(exc: CommandError, *, as_json: bool) -> int:
    """Print a user-fixable error (JSON on stdout with ``--json``, else text on stderr)."""
    if as_json:
        print_json({"ok": False, "error": {"code": exc.code, "message": exc.message, "problems": exc.problems}})
    style = Style.for_stream(sys.stderr)
    # Messages can quote what a server or a file holds: escaped line by line (their own
    # line breaks are layout, e.g. one problem per line).
    message = "\n".join(printable(line) for line in exc.message.split("\n"))
    sys.stderr.write(f"{style('corsware: error:', 'red', 'bold')} {message}\n")
    return EXIT_ERROR
