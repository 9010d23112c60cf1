"""Replay the ``corsware`` console sessions of the docs against real servers.

Every ```console block that runs ``corsware`` (docs/cli.md) is a session: its ``$`` lines
are run in a fresh directory holding the page's titled ``.toml``/``.json`` blocks, and what
each command prints (stdout, then stderr) must be what the page shows after it. The
servers the page talks to are started here, each on a free port; the page shows fixed
ports (:class:`DocServers` lists them), mapped to the real ones in the commands and back in
the output. The only other value normalised is the version in ``corsware X.Y.Z``.

Supported commands: ``corsware ARGS`` (and ``python -m corsware ARGS``), ``echo $?`` (the
exit status of the previous command) and ``cat FILE``.

Regenerate the outputs shown in the docs from real runs (then review the diff)::

    python -m tests.support.cli_docs            # rewrites docs/cli.md and its Chinese twin docs/zh/cli.md
    python -m tests.support.cli_docs --check    # exit status 1 when a page differs
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shlex
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corsware.wsgi import CORSMiddleware
from tests.support.cli import corsware
from tests.support.docs_blocks import DOCS, Block, ConsoleCommand, blocks, console_commands, page_files, runs_corsware
from tests.support.servers import PYTHON, free_port, running, serving, wait_for_port, wsgi_server

#: The ports the sessions show, and what the test runs there (each on a free port).
DOC_PORTS: dict[int, str] = {
    5000: "corsware demo: the client page, an origin the demo API allows",
    5001: "corsware demo: the API, wrapped by corsware",
    5002: "corsware demo: the other page, an origin the demo API refuses",
    5003: "an API whose authentication runs before its CORS middleware",
    5100: "free: `corsware demo --once --client-port 5100` starts its own servers",
    5101: "free: `corsware demo --once --api-port 5101`",
    5102: "free: `corsware demo --once --other-port 5102`",
    5999: "free: nothing listens there (connection refused)",
}

#: The pages whose sessions ``python -m tests.support.cli_docs`` rewrites by default: the English page
#: and its Chinese twin, which shows the same blocks (tests/docs/test_examples.py checks it).
PAGES = (DOCS / "cli.md", DOCS / "zh" / "cli.md")

_HOST_PORT = re.compile(r"\b(localhost|127\.0\.0\.1):(\d{2,5})\b")
_PORT_OPTION = re.compile(r"(--(?:client|api|other)-port[ =])(\d{2,5})\b")
_VERSION = re.compile(r"\bcorsware \d+(?:\.\d+)+\S*")


def _me(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"user": "ada"}']


def auth_before_cors(app: Any) -> Any:
    """Authentication outside the CORS middleware: a preflight (never credentialed) gets 401."""

    def wrapped(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if "HTTP_AUTHORIZATION" not in environ:
            start_response("401 Unauthorized", [("WWW-Authenticate", "Bearer"), ("Content-Type", "text/plain")])
            return [b"log in first"]
        return app(environ, start_response)

    return wrapped


@dataclass
class DocServers:
    """The page's ports (:data:`DOC_PORTS`) and the real ones the servers listen on."""

    ports: dict[int, int] = field(default_factory=dict)

    def command(self, text: str) -> str:
        """A session's command with the page's ports replaced by the real ones.

        Other ports (an origin such as ``http://localhost:3000``) are left alone, but a URL
        that ``probe`` requests must name one of :data:`DOC_PORTS`.
        """
        words = shlex.split(text)
        if "probe" in words:
            url = next((w for w in words if w.startswith(("http://", "https://"))), "")
            where = _HOST_PORT.search(url)
            if where is None or int(where.group(2)) not in self.ports:
                raise KeyError(
                    f"{text!r} probes {url!r}, which no test server answers: use http://localhost:PORT or "
                    f"http://127.0.0.1:PORT with a PORT of {sorted(DOC_PORTS)} (DOC_PORTS in tests/support/cli_docs.py)"
                )

        def real(match: re.Match[str]) -> int:
            shown = int(match.group(2))
            return self.ports.get(shown, shown)

        text = _HOST_PORT.sub(lambda m: f"{m.group(1)}:{real(m)}", text)
        return _PORT_OPTION.sub(lambda m: f"{m.group(1)}{real(m)}", text)

    def output(self, text: str) -> str:
        """What a command printed, with the real ports replaced by the page's."""
        shown = {real: page for page, real in self.ports.items()}
        return _HOST_PORT.sub(lambda m: f"{m.group(1)}:{shown.get(int(m.group(2)), m.group(2))}", text)


@contextlib.contextmanager
def doc_servers() -> Iterator[DocServers]:
    """Start what :data:`DOC_PORTS` describes, on free ports, for the duration of the block."""
    servers = DocServers({page: free_port() for page in DOC_PORTS})
    real = servers.ports
    client = f"http://localhost:{real[5000]}"
    api = CORSMiddleware(_me, allow_origins=[client], allow_headers=["Authorization"])
    auth = wsgi_server(auth_before_cors(api), real[5003])
    demo = [PYTHON, "-m", "corsware", "demo", "--client-port", str(real[5000]), "--api-port", str(real[5001]),
            "--other-port", str(real[5002])]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp, serving(auth):
        log = Path(tmp) / "demo.log"
        with running(demo, real[5001], output=log):
            for page in (5000, 5002):
                wait_for_port(real[page])
            deadline = time.monotonic() + 10
            while "Ctrl-C stops the demo" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.05)
            said = log.read_text()
            if "busy" in said:  # the demo moved to other ports: the mapping would be wrong
                raise RuntimeError(f"corsware demo did not get the ports it was given:\n{said}")
            yield servers


@dataclass(frozen=True)
class Ran:
    """A session's command, what the page shows after it, and what it printed."""

    command: ConsoleCommand
    printed: str


def _normalised(text: str) -> list[str]:
    return [_VERSION.sub("corsware X.Y.Z", line.rstrip()) for line in text.splitlines()]


def same_output(shown: str, printed: str) -> bool:
    """Whether the page shows what was printed (trailing spaces and the version aside)."""
    return _normalised(shown) == _normalised(printed)


def run_session(block: Block, servers: DocServers, workdir: Path) -> list[Ran]:
    """Run a console block's commands in ``workdir`` (which holds the page's files)."""
    for name, text in page_files(block.path).items():
        (workdir / name).write_text(text, encoding="utf-8")
    status: int | None = None
    ran: list[Ran] = []
    for command in console_commands(block):
        words = shlex.split(command.command)
        if words[:3] == ["python", "-m", "corsware"]:
            words = ["corsware", *words[3:]]
        if words == ["echo", "$?"]:
            if status is None:
                raise ValueError(f"{block.path.name}:{command.line}: 'echo $?' before any command")
            printed = f"{status}\n"
        elif len(words) == 2 and words[0] == "cat":
            printed = (workdir / words[1]).read_text(encoding="utf-8")
        elif words[:1] == ["corsware"]:
            args = shlex.split(servers.command(command.command))
            args = args[3:] if args[:3] == ["python", "-m", "corsware"] else args[1:]
            result = corsware(*args, cwd=str(workdir))
            status = result.code
            printed = servers.output(result.out + result.err)
        else:
            raise ValueError(
                f"{block.path.name}:{command.line}: {command.command!r}: a corsware session can run only "
                "corsware, 'echo $?' and 'cat FILE'"
            )
        ran.append(Ran(command, printed))
    return ran


def _session_text(ran: list[Ran]) -> list[str]:
    lines: list[str] = []
    for item in ran:
        lines.append(f"$ {item.command.command}")
        lines.extend(line.rstrip() for line in item.printed.splitlines())
    return lines


def regenerate(path: Path, servers: DocServers) -> tuple[str, str]:
    """(the page as it is, the page with every corsware session's output from a real run)."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    # Bottom up, so the line numbers of the blocks above stay right.
    for block in reversed([b for b in blocks(path) if runs_corsware(b)]):
        with tempfile.TemporaryDirectory() as tmp:
            ran = run_session(block, servers, Path(tmp))
        body = len(block.code.splitlines())
        lines[block.line : block.line + body] = _session_text(ran)
    return text, "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.cli_docs", description=__doc__.split("\n\n")[0])
    parser.add_argument("page", nargs="*", default=[str(page) for page in PAGES if page.exists()])
    parser.add_argument("--check", action="store_true", help="only say whether the pages are up to date")
    args = parser.parse_args(argv)
    status = 0
    with doc_servers() as servers:
        for path in map(Path, args.page):
            before, after = regenerate(path, servers)
            if before == after:
                print(f"{path}: up to date")
            elif args.check:
                print(f"{path}: outputs differ from real runs (python -m tests.support.cli_docs rewrites them)")
                status = 1
            else:
                path.write_text(after, encoding="utf-8")
                print(f"{path}: rewritten")
    return status


if __name__ == "__main__":
    sys.exit(main())
