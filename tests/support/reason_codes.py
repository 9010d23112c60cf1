"""The reason codes docs/reason-codes.md documents, read from its tables."""

from __future__ import annotations

import re

from .docs_blocks import DOCS

PAGE = DOCS / "reason-codes.md"

_ROW = re.compile(r"^\|\s*`(?P<code>[a-z0-9_]+)`\s*\|")


def documented_codes() -> dict[str, list[str]]:
    """Codes in the first column of the tables of each ``## `` section of the page."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            sections[current] = []
        elif current is not None and (m := _ROW.match(line)):
            sections[current].append(m.group("code"))
    return sections
