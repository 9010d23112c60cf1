"""Every ```python example in docs/ and README.md runs, so the documentation cannot rot.

Each block is written to a file and run as a standalone script (``python block.py``) in a
fresh directory, with a timeout. A block is skipped only when the line right before its
fence is ``<!-- not-run: reason -->``, and the reason must say something.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.docs_blocks import (
    DOCS,
    PYTHON_LANGUAGES,
    ROOT,
    Block,
    blocks,
    markdown_files,
    not_run_markers,
    python_blocks,
)

TIMEOUT = 60

RUNNABLE = [b for b in python_blocks() if b.not_run is None]


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.id for b in RUNNABLE])
def test_example_runs(block: Block, tmp_path: Path) -> None:
    script = tmp_path / (block.title or "example.py")
    script.write_text(block.code, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        proc = subprocess.run(
            [sys.executable, script.name],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{block.id}: the example did not finish within {TIMEOUT}s (does it start a server?)")
    assert proc.returncode == 0, f"{block.id} failed:\n--- code ---\n{block.code}\n--- stderr ---\n{proc.stderr}"


def test_the_docs_have_runnable_examples() -> None:
    """Guards the extraction itself: if it stopped finding blocks, every test above would vanish."""
    assert len(RUNNABLE) >= 20, [b.id for b in RUNNABLE]
    assert {b.path.name for b in RUNNABLE} >= {"quickstart-wsgi.md", "quickstart-asgi.md", "cors-explained.md"}


def marker_problems(path: Path) -> list[str]:
    """What is wrong with the not-run markers of ``path`` (empty when nothing is)."""
    problems = []
    lines = path.read_text(encoding="utf-8").splitlines()
    fences = {b.line: b for b in blocks(path)}
    for line, reason, well_formed in not_run_markers(path):
        where = f"{path.name}:{line}"
        if not well_formed:
            problems.append(f"{where}: write the marker alone on its line as <!-- not-run: reason -->")
        elif not reason:
            problems.append(f"{where}: a not-run marker must say why the example is not run")
        following = fences.get(line + 1)
        if following is None or following.language not in PYTHON_LANGUAGES:
            problems.append(
                f"{where}: a not-run marker must be immediately followed by a ```python fence "
                f"(next line: {lines[line] if line < len(lines) else '<end of file>'!r})"
            )
    return problems


def test_not_run_markers_are_well_formed_and_give_a_reason() -> None:
    problems = [problem for path in markdown_files() for problem in marker_problems(path)]
    assert not problems, "\n".join(problems)


def test_bad_not_run_markers_are_caught(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- not-run -->\n```python\nx = 1\n```\n\n"
        "<!-- not-run:   -->\n```python\nx = 1\n```\n\n"
        "<!-- not-run: a reason -->\n\n```python\nx = 1\n```\n\n"
        "<!-- not-run: a reason -->\n```console\n$ true\n```\n\n"
        "<!-- not-run: a good one -->\n```python\nx = 1\n```\n",
        encoding="utf-8",
    )
    problems = marker_problems(page)
    assert [p.split(":")[1] for p in problems] == ["1", "6", "11", "17"], problems


# Chinese pages translated from an English page must show exactly the same code, so a fix
# to one cannot be forgotten in the other. (zh/flask.md is written for Chinese Flask users
# first; its English counterpart, docs/flask.md, is a separate guide.)
TRANSLATED = [
    "index.md",
    "quickstart-wsgi.md",
    "quickstart-asgi.md",
    "cors-explained.md",
    "troubleshooting.md",
    "frameworks.md",
    "security.md",
    "reason-codes.md",
    "cli.md",
    "browser-tests.md",
]
_SAME_CODE_LANGUAGES = PYTHON_LANGUAGES | {"console", "bash", "sh", "shell", "js", "javascript", "toml", "json", "http"}


@pytest.mark.parametrize("name", TRANSLATED)
def test_chinese_pages_show_the_same_code_as_the_english_ones(name: str) -> None:
    def code(path: Path) -> list[tuple[str, str]]:
        return [(b.language, b.code) for b in blocks(path) if b.language in _SAME_CODE_LANGUAGES]

    english, chinese = code(DOCS / name), code(DOCS / "zh" / name)
    assert english, f"docs/{name} has no code blocks"
    assert chinese == english, f"docs/zh/{name} and docs/{name} must show identical code blocks"


_FIGURES = ("<!-- figures:start -->", "<!-- figures:end -->")


def _figures(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    start, end = (text.index(marker) for marker in _FIGURES)
    return text[start:end]


def test_chinese_security_page_shows_the_published_figures() -> None:
    """docs/zh/security.md shows the figures table `make security-report` writes into docs/security.md."""
    assert _figures(DOCS / "zh" / "security.md") == _figures(DOCS / "security.md"), (
        "the figures table of docs/zh/security.md differs from docs/security.md: "
        "run python -m tests.support.security_report --render-only (it rewrites both)"
    )


def test_security_report_rewrites_the_figures_of_every_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support import security_report

    pages = []
    for name in ("en.md", "zh.md"):
        page = tmp_path / name
        page.write_text(f"# {name}\n\n{_FIGURES[0]}\n| old |\n{_FIGURES[1]}\n\ntail\n", encoding="utf-8")
        pages.append(page)
    monkeypatch.setattr(security_report, "DOCS", tuple(pages))
    security_report._write_doc("| new |")
    for page in pages:
        assert page.read_text(encoding="utf-8") == f"# {page.name}\n\n{_FIGURES[0]}\n| new |\n{_FIGURES[1]}\n\ntail\n"


# -- the extraction itself ---------------------------------------------------------------

_SAMPLE = """\
# Title

```python
print("top level")
```

!!! note
    <!-- not-run: needs a real database -->
    ```python
    import db
    ```

````markdown
```python
this is an example of Markdown, not Python
```
````

~~~py title="app.py"
x = 1
~~~
"""


def test_extraction_reads_fences_markers_and_indentation(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(_SAMPLE, encoding="utf-8")
    found = blocks(page)
    assert [(b.language, b.line) for b in found] == [("python", 3), ("python", 9), ("markdown", 13), ("py", 19)]
    assert found[0].code == 'print("top level")\n'
    assert found[0].not_run is None
    assert found[1].code == "import db\n"
    assert found[1].not_run == "needs a real database"
    assert found[3].title == "app.py"
    assert found[3].code == "x = 1\n"
