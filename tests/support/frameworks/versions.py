"""The table of docs/frameworks.md (and its Chinese twin): which version of each framework
the case table was verified at, and how the tests run it.

``python -m tests.support.frameworks.versions`` rewrites the table, between the markers
``<!-- versions:start -->`` and ``<!-- versions:end -->``, from the installed versions;
tests/integrations/test_frameworks.py fails while a page disagrees with them.
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
from pathlib import Path

from .runners import RUNNERS

DOCS = Path(__file__).resolve().parents[3] / "docs"
PAGES = [DOCS / "frameworks.md", DOCS / "zh" / "frameworks.md"]

_HEADERS = {
    "en": ("Framework", "Interface", "Verified at", "Served in the tests by"),
    "zh": ("框架", "接口", "验证版本", "测试中的运行方式"),
}
_BLOCK = re.compile(r"<!-- versions:start -->\n(.*?)<!-- versions:end -->", re.DOTALL)


def rows() -> list[tuple[str, str, str, str]]:
    """One row per runner: framework, interface, installed version, what serves it."""
    return [(r.framework, r.interface, importlib.metadata.version(r.dist), f"`{r.served_by}`") for r in RUNNERS]


def _language(page: Path) -> str:
    return "zh" if page.parent.name == "zh" else "en"


def table(language: str = "en") -> str:
    """The Markdown table for ``language`` ("en" or "zh")."""
    lines = ["| " + " | ".join(_HEADERS[language]) + " |", "|" + "---|" * len(_HEADERS[language])]
    lines += ["| " + " | ".join(row) + " |" for row in rows()]
    return "\n".join(lines) + "\n"


def table_in(page: Path) -> tuple[str, str]:
    """(the table the page shows, the table it should show)."""
    found = _BLOCK.search(page.read_text(encoding="utf-8"))
    if found is None:
        raise AssertionError(f"{page} has no <!-- versions:start --> ... <!-- versions:end --> block")
    return found.group(1), table(_language(page))


def write() -> None:
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        new = _BLOCK.sub(lambda _: f"<!-- versions:start -->\n{table(_language(page))}<!-- versions:end -->", text)
        page.write_text(new, encoding="utf-8")
        print(f"wrote {page}", file=sys.stderr)


if __name__ == "__main__":
    write()
