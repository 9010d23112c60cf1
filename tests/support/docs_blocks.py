"""Read the fenced code blocks of the documentation, so tests can run what the docs show.

The convention (used by every docs page, whoever writes it): a fenced ```python block is
executed as a standalone script, unless the line right before its opening fence is
``<!-- not-run: reason -->`` with a non-empty reason. Fences may be indented (inside an
admonition or a content tab); the block is dedented by the fence's indentation.

A fenced ```console block is a terminal session: each ``$ `` line is a command, the lines
up to the next ``$ `` line are what it prints. A session that runs the ``corsware`` command
is replayed by tests/docs/test_cli_page.py (see tests/support/cli_docs.py), in a directory holding the
page's files: the fenced blocks with a ``title="name.toml"`` (or ``.json``) attribute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*)$")
_NOT_RUN = re.compile(r"^\s*<!--\s*not-run:(?P<reason>.*?)-->\s*$")
PYTHON_LANGUAGES = frozenset({"python", "py", "python3"})


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown file."""

    path: Path
    line: int  # 1-based line of the opening fence
    language: str  # first word of the info string, lower case, without braces/dots
    info: str  # the whole info string, e.g. 'python title="app.py"'
    code: str
    not_run: str | None  # the reason given by a not-run marker, or None when there is none

    @property
    def title(self) -> str | None:
        """The ``title="..."`` attribute of the fence (Material's file-name caption)."""
        m = re.search(r'title="([^"]*)"', self.info)
        return m.group(1) if m else None

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT).as_posix()}:{self.line}"


def _language(info: str) -> str:
    word = info.strip().split(None, 1)[0] if info.strip() else ""
    return word.strip("{}").lstrip(".").lower()


def blocks(path: Path) -> list[Block]:
    """Every fenced code block of ``path``, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = _OPEN.match(lines[i])
        if m is None:
            i += 1
            continue
        indent, fence, info = m.group("indent"), m.group("fence"), m.group("info").strip()
        marker = _NOT_RUN.match(lines[i - 1]) if i > 0 else None
        body: list[str] = []
        j = i + 1
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        while j < len(lines) and closing.match(lines[j]) is None:
            line = lines[j]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            j += 1
        found.append(
            Block(
                path=path,
                line=i + 1,
                language=_language(info),
                info=info,
                code="\n".join(body) + "\n",
                not_run=marker.group("reason").strip() if marker else None,
            )
        )
        i = j + 1
    return found


def markdown_files() -> list[Path]:
    """Every Markdown page of the docs, plus README.md when it exists."""
    files = sorted(DOCS.rglob("*.md")) if DOCS.is_dir() else []
    readme = ROOT / "README.md"
    if readme.is_file():
        files.append(readme)
    return files


def python_blocks() -> list[Block]:
    """Every ```python block of the docs and README (run or not-run)."""
    return [b for path in markdown_files() for b in blocks(path) if b.language in PYTHON_LANGUAGES]


_ANY_NOT_RUN = re.compile(r"<!--\s*not-run\b(?P<rest>.*?)(?:-->|$)")


def not_run_markers(path: Path) -> list[tuple[int, str, bool]]:
    """(line, reason, well_formed) of every not-run marker in ``path``, whatever follows it.

    A marker is well formed when it is alone on its line as ``<!-- not-run: reason -->``;
    the reason is empty when it is missing.
    """
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        m = _ANY_NOT_RUN.search(line)
        if m is None:
            continue
        strict = _NOT_RUN.match(line)
        reason = strict.group("reason").strip() if strict else m.group("rest").lstrip(":").strip()
        out.append((number, reason, strict is not None))
    return out


CONSOLE_LANGUAGES = frozenset({"console"})
_PROMPT = "$ "
_FILE_SUFFIXES = (".toml", ".json", ".log")


@dataclass(frozen=True)
class ConsoleCommand:
    """One ``$ command`` of a console block and the output the page shows for it."""

    line: int  # 1-based line of the ``$`` line in the page
    command: str  # without the prompt
    output: str  # the lines shown after it, each ending with a newline ("" when none)


def console_commands(block: Block) -> list[ConsoleCommand]:
    """The commands of a console block; text before its first ``$`` line is an error."""
    commands: list[ConsoleCommand] = []
    output: list[str] = []
    for offset, text in enumerate(block.code.splitlines()):
        if text.startswith(_PROMPT):
            if commands:
                commands[-1] = ConsoleCommand(commands[-1].line, commands[-1].command, "".join(output))
            commands.append(ConsoleCommand(block.line + 1 + offset, text[len(_PROMPT) :], ""))
            output = []
        elif not commands:
            raise ValueError(
                f"{block.path.name}:{block.line}: a console block starts with a '$ ' command line, not {text!r}"
            )
        else:
            output.append(text + "\n")
    if commands:
        commands[-1] = ConsoleCommand(commands[-1].line, commands[-1].command, "".join(output))
    return commands


def runs_corsware(block: Block) -> bool:
    """Whether ``block`` is a console session that runs the ``corsware`` command."""
    return block.language in CONSOLE_LANGUAGES and any(
        c.command.startswith(("corsware ", "python -m corsware ")) for c in console_commands(block)
    )


def corsware_sessions() -> list[Block]:
    """Every console block of the docs and README that runs ``corsware``."""
    return [b for path in markdown_files() for b in blocks(path) if runs_corsware(b)]


def page_files(path: Path) -> dict[str, str]:
    """The files a page defines: its fenced blocks titled ``name.toml``, ``name.json`` or ``name.log``."""
    files: dict[str, str] = {}
    for block in blocks(path):
        title = block.title
        if title is None or not title.endswith(_FILE_SUFFIXES):
            continue
        if title in files:
            raise ValueError(f"{block.id}: {title!r} is defined twice in {path.name}")
        files[title] = block.code
    return files
