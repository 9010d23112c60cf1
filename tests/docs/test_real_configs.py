"""docs/security.md, "What real configurations look like": the figures agree with each other."""

from __future__ import annotations

import re
from pathlib import Path

SECURITY = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def _section() -> str:
    text = SECURITY.read_text(encoding="utf-8")
    start = text.index("## What real configurations look like")
    return text[start : text.index("\n## ", start + 1)]


def test_framework_counts_sum_to_the_total_and_percentages_round() -> None:
    section = _section()
    total, *parts = (
        int(n)
        for n in re.search(
            r"(\d+) public Python projects \((\d+) FastAPI/Starlette, (\d+) flask-cors, (\d+)\s+django-cors-headers\)",
            section,
        ).groups()
    )
    assert sum(parts) == total
    rows = re.findall(r"^\| [^|]+ \| (\d+)(?: \((\d+)%\))? \|", section, re.MULTILINE)
    assert len(rows) == 5
    for count, percent in rows:
        assert int(count) <= total
        if percent:
            assert round(100 * int(count) / total) == int(percent)
