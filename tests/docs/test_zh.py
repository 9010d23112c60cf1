"""Every Chinese page shows exactly the code of its English twin, in the same order.

docs/zh/X.md is the Chinese version of docs/X.md: the prose is written for Chinese readers,
but every fenced block (info string and content: python, console, diff, toml, text, ...) is
the English page's, byte for byte and in the same order, so a fix to one page cannot be
forgotten in the other. Two exceptions, both visible in the Chinese page:

- a block whose opening fence follows a ``<!-- zh-only -->`` line exists only in Chinese
  (e.g. the message a localised browser prints) and is left out of the comparison;
- a ``mermaid`` diagram is a picture whose labels are prose: its labels may be translated,
  but its structure (participants, arrows, notes: each line up to its first label) must
  be the English diagram's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.docs_blocks import DOCS, Block, blocks

ZH = DOCS / "zh"
ZH_ONLY = "<!-- zh-only -->"
TWINS = sorted(p.name for p in ZH.glob("*.md") if (DOCS / p.name).is_file())

# In a mermaid sequence diagram a label follows ``as`` (participant names) or ``:`` (messages,
# notes); ``alt``/``else``/``opt``/``loop``/``rect`` lines are labels after their keyword.
_MERMAID_LABEL = re.compile(r"(\s+as\s+|:|^(\s*(?:alt|else|opt|loop|par|and|critical|break|rect)\b)).*$")


def _mermaid_skeleton(code: str) -> str:
    return "\n".join(
        _MERMAID_LABEL.sub(lambda m: m.group(2) or m.group(1).rstrip(), line) for line in code.splitlines()
    )


def _comparable(block: Block) -> tuple[str, str]:
    if block.language == "mermaid":
        return (block.info, _mermaid_skeleton(block.code))
    return (block.info, block.code)


def _marked_zh_only(lines: list[str], fence_line: int) -> bool:
    """Whether the HTML comment lines right above the fence (1-based) include ``<!-- zh-only -->``.

    The marker may sit above a ``<!-- not-run: ... -->`` marker, which must stay right
    before the fence."""
    i = fence_line - 2
    while i >= 0 and lines[i].strip().startswith("<!--") and lines[i].strip().endswith("-->"):
        if lines[i].strip() == ZH_ONLY:
            return True
        i -= 1
    return False


def shown_code(path: Path, *, skip_zh_only: bool) -> list[tuple[str, str]]:
    """(info string, content) of each fenced block of ``path``, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [_comparable(b) for b in blocks(path) if not (skip_zh_only and _marked_zh_only(lines, b.line))]


def code_differences(english: Path, chinese: Path) -> list[str]:
    """What differs between the code the two pages show (empty when nothing does)."""
    en = shown_code(english, skip_zh_only=False)
    zh = shown_code(chinese, skip_zh_only=True)
    problems = []
    for i, (a, b) in enumerate(zip(en, zh, strict=False)):
        if a != b:
            problems.append(
                f"block {i + 1}: docs/{english.name} has ```{a[0]} {a[1][:80]!r}, docs/zh has ```{b[0]} {b[1][:80]!r}"
            )
            break
    if len(en) != len(zh):
        problems.append(
            f"docs/{english.name} has {len(en)} code blocks, docs/zh/{chinese.name} {len(zh)} "
            f"(a block only the Chinese page needs goes after a {ZH_ONLY} line)"
        )
    return problems


def test_the_chinese_pages_have_english_twins() -> None:
    """Guards the discovery: without it, the test below could silently compare nothing."""
    assert {"index.md", "quickstart-wsgi.md", "flask.md", "django.md"} <= set(TWINS), TWINS


@pytest.mark.parametrize("name", TWINS)
def test_chinese_page_shows_the_english_code_blocks(name: str) -> None:
    problems = code_differences(DOCS / name, ZH / name)
    assert not problems, f"docs/zh/{name} must show docs/{name}'s code blocks:\n" + "\n".join(problems)


def test_differences_are_caught_and_zh_only_blocks_are_skipped(tmp_path: Path) -> None:
    english, chinese = tmp_path / "en.md", tmp_path / "zh.md"
    english.write_text(
        "# T\n\n```python\nx = 1\n```\n\n```mermaid\nsequenceDiagram\n    participant P as Page\n"
        "    P->>P: hello\n```\n",
        encoding="utf-8",
    )

    def problems(text: str) -> list[str]:
        chinese.write_text(text, encoding="utf-8")
        return code_differences(english, chinese)

    same = "# 标题\n\n```python\nx = 1\n```\n\n```mermaid\nsequenceDiagram\n    participant P as 页面\n    P->>P: 你好\n```\n"
    assert problems(same) == []
    assert problems(same.replace("# 标题\n", "# 标题\n\n<!-- zh-only -->\n```text\n中文报错\n```\n")) == []
    not_run = "<!-- zh-only -->\n<!-- not-run: 只在中文页面 -->\n```python\nraise SystemExit(1)\n```\n"
    assert problems(same.replace("# 标题\n", "# 标题\n\n" + not_run)) == []
    assert problems(
        same.replace("# 标题\n", "# 标题\n\n<!-- zh-only -->\n\n```text\n中文报错\n```\n")
    )  # not right above
    assert problems(same.replace("x = 1", "x = 2"))  # content
    assert problems(same.replace("```python", "```py"))  # info string
    assert problems(same.replace("```mermaid", "```text\n中文报错\n```\n\n```mermaid"))  # an unmarked extra block
    assert problems(same.replace("P->>P", "P-->>P"))  # the diagram's structure
    assert problems(same.replace("```python\nx = 1\n```\n", ""))  # a missing block
