"""Every ``corsware`` session shown in the docs prints what the page says it prints.

The sessions are replayed by tests/support/cli_docs.py against servers started here (the demo, an
API whose authentication runs before CORS), on free ports mapped to the ones the page
shows. ``python -m tests.support.cli_docs`` rewrites the page's outputs from real runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli_docs import DOC_PORTS, DocServers, doc_servers, run_session, same_output
from tests.support.docs_blocks import (
    DOCS,
    Block,
    blocks,
    console_commands,
    corsware_sessions,
    page_files,
    runs_corsware,
)

SESSIONS = corsware_sessions()


@pytest.fixture(scope="module")
def servers() -> Iterator[DocServers]:
    with doc_servers() as running:
        yield running


@pytest.mark.parametrize("block", SESSIONS, ids=[b.id for b in SESSIONS])
def test_session_shows_what_the_command_prints(block: Block, servers: DocServers, tmp_path: Path) -> None:
    differences = [
        f"{block.path.name}:{ran.command.line}: $ {ran.command.command}\n--- the page shows ---\n"
        f"{ran.command.output}--- the command printed ---\n{ran.printed}"
        for ran in run_session(block, servers, tmp_path)
        if not same_output(ran.command.output, ran.printed)
    ]
    assert not differences, "\n".join(differences) + "\n(python -m tests.support.cli_docs rewrites them from real runs)"


def test_every_console_block_of_the_cli_page_is_replayed() -> None:
    """Guards the extraction: no session of docs/cli.md may be skipped, each command is covered."""
    page = DOCS / "cli.md"
    console = [b for b in blocks(page) if b.language == "console"]
    assert console
    assert all(runs_corsware(b) for b in console), [b.id for b in console if not runs_corsware(b)]
    assert [b for b in SESSIONS if b.path == page] == console
    ran = [c for b in console for c in console_commands(b)]
    shown = {
        kind: [c for c in ran if c.command.startswith(f"corsware {kind}")]
        for kind in ("check", "explain", "probe", "export nginx", "demo")
    }
    assert all(shown.values()), {kind: len(commands) for kind, commands in shown.items()}
    probes = "".join(c.output for c in shown["probe"])
    assert "verdict: ALLOWED" in probes
    assert "verdict: BLOCKED" in probes
    assert "connection refused" in probes  # the one example about a server that is not running
    assert {"cors.toml", "api.toml"} <= set(page_files(page))


# -- the replay itself ---------------------------------------------------------------------

_PAGE = """\
```toml title="p.toml"
allow_origins = ["https://app.example.com"]
```

```console
$ corsware check p.toml --json
{"wrong": "output"}
$ echo $?
1
$ cat p.toml
allow_origins = ["https://app.example.com"]
```
"""


def test_a_wrong_output_or_status_is_caught(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(_PAGE, encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    (block,) = [b for b in blocks(page) if runs_corsware(b)]
    ran = run_session(block, DocServers(), work)
    assert [r.command.line for r in ran] == [6, 8, 10]
    assert [same_output(r.command.output, r.printed) for r in ran] == [False, False, True]
    assert ran[1].printed == "0\n"
    assert (work / "p.toml").read_text() == 'allow_origins = ["https://app.example.com"]\n'


def test_ports_are_mapped_both_ways() -> None:
    servers = DocServers({5001: 40123, 5003: 40124})
    command = "corsware probe http://localhost:5001/x --origin http://localhost:3000 -H 'X: 127.0.0.1:5003'"
    assert servers.command(command) == (
        "corsware probe http://localhost:40123/x --origin http://localhost:3000 -H 'X: 127.0.0.1:40124'"
    )
    assert servers.command("corsware demo --once --api-port 5001") == "corsware demo --once --api-port 40123"
    assert servers.output("request GET http://localhost:40123/x from localhost:40999") == (
        "request GET http://localhost:5001/x from localhost:40999"
    )
    with pytest.raises(KeyError, match="which no test server answers"):
        servers.command("corsware probe http://localhost:8000/ --origin https://app.example.com")
    assert set(DOC_PORTS) >= {5000, 5001, 5002, 5003, 5999}


def test_only_known_commands_run(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```console\n$ corsware --version\n$ rm -rf /tmp/x\n```\n", encoding="utf-8")
    (block,) = blocks(page)
    with pytest.raises(ValueError, match="can run only corsware, 'echo \\$\\?' and 'cat FILE'"):
        run_session(block, DocServers(), tmp_path)


def test_console_extraction(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("intro\n\n```console\n$ corsware a\nout 1\n\nout 2\n$ echo $?\n0\n$ corsware b\n```\n")
    (block,) = blocks(page)
    assert [(c.line, c.command, c.output) for c in console_commands(block)] == [
        (4, "corsware a", "out 1\n\nout 2\n"),
        (8, "echo $?", "0\n"),
        (10, "corsware b", ""),
    ]
    page.write_text("```console\noutput first\n$ corsware a\n```\n")
    with pytest.raises(ValueError, match="starts with a '\\$ ' command line"):
        console_commands(blocks(page)[0])


def test_regenerating_rewrites_the_english_page_and_its_chinese_twin(monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m tests.support.cli_docs`` covers docs/zh/cli.md too, so the twin cannot be left behind."""
    import contextlib

    from tests.support import cli_docs

    seen: list[Path] = []

    def regenerate(path: Path, servers: DocServers) -> tuple[str, str]:
        seen.append(path)
        return "same", "same"

    monkeypatch.setattr(cli_docs, "doc_servers", lambda: contextlib.nullcontext(DocServers()))
    monkeypatch.setattr(cli_docs, "regenerate", regenerate)
    assert cli_docs.main(["--check"]) == 0
    assert seen == [DOCS / "cli.md", DOCS / "zh" / "cli.md"]
