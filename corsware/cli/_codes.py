"""``corsware explain-code``: what a reason code means and what to do, from the installed package.

Messages of the library end in "run `corsware explain-code CODE`" rather than pointing to
``docs/``, which a ``pip install`` does not bring. The text is ``reason_codes.md`` in this
package, a copy of ``docs/reason-codes.md`` (a test keeps them equal).
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import textwrap
from dataclasses import dataclass
from importlib import resources
from typing import Final

from ._output import EXIT_OK, CommandError, Style, print_json

__all__ = ["ReasonCode", "reason_codes", "run_explain_code"]

_ROW: Final = re.compile(r"^\|\s*`(?P<code>[a-z0-9_]+)`\s*\|")
#: ``[API reference](reference.md)``: the link target is a page of the docs site, not installed.
_LINK: Final = re.compile(r"\[([^\]]+)\]\([^)]*\)")


@dataclass(frozen=True)
class ReasonCode:
    """One row of a table of ``reason_codes.md``: the code, its section and its other columns."""

    code: str
    section: str
    columns: tuple[tuple[str, str], ...]  # (column title, text), the code column excluded

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "section": self.section, "columns": dict(self.columns)}


def _cells(line: str) -> list[str]:
    return [_LINK.sub(r"\1", cell.strip()) for cell in line.strip().strip("|").split("|")]


def reason_codes(text: str | None = None) -> list[ReasonCode]:
    """Every documented code, in page order (``text`` defaults to the installed page)."""
    if text is None:
        text = resources.files(__package__).joinpath("reason_codes.md").read_text(encoding="utf-8")
    found: list[ReasonCode] = []
    section = ""
    titles: list[str] = []
    for line in text.splitlines():
        if line.startswith("## "):
            section, titles = line[3:].strip(), []
        elif line.startswith("|") and not titles:
            titles = _cells(line)  # the header row of a table
        elif (m := _ROW.match(line)) is not None:
            cells = _cells(line)
            found.append(ReasonCode(m.group("code"), section, tuple(zip(titles[1:], cells[1:], strict=False))))
        elif not line.startswith("|"):
            titles = []
    return found


def run_explain_code(args: argparse.Namespace) -> int:
    """Print the row of ``args.code``, or every code when none is given."""
    codes = reason_codes()
    if args.code is None:
        if args.json:
            print_json({"codes": [c.as_dict() for c in codes]})
            return EXIT_OK
        section = None
        for c in codes:
            if c.section != section:
                section = c.section
                sys.stdout.write(f"{'' if c is codes[0] else chr(10)}{section}\n")
            sys.stdout.write(f"  {c.code}\n")
        return EXIT_OK
    wanted = args.code.strip().strip("[]`").lower()
    matches = [c for c in codes if c.code == wanted]
    if not matches:
        close = difflib.get_close_matches(wanted, sorted({c.code for c in codes}), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else "; run 'corsware explain-code' to list them"
        raise CommandError("usage", f"{args.code!r} is not a corsware reason code{hint}")
    if args.json:
        print_json({"codes": [c.as_dict() for c in matches]})
        return EXIT_OK
    style = Style.for_stream(sys.stdout)
    width = max(len(title) for c in matches for title, _ in c.columns) + 2
    for index, c in enumerate(matches):
        sys.stdout.write(f"{chr(10) if index else ''}{style(c.code, 'bold')}  ({c.section})\n")
        for title, text in c.columns:
            body = textwrap.fill(text, 100, initial_indent=" " * (2 + width), subsequent_indent=" " * (2 + width))
            sys.stdout.write(f"  {style(title.ljust(width), 'dim')}{body[2 + width :]}\n")
    return EXIT_OK
