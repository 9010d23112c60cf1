"""The corsware of an earlier git revision, importable beside today's as ``corsware_before``.

``python -m benchmarks --before REV`` times the package as it was at ``REV`` in the same
process as the current one, interleaved in the same trials, so the two are compared on
the same machine load rather than in two runs minutes apart.

The ``corsware/`` tree of ``REV`` is exported with ``git archive`` into
``.cache/bench-before/<full sha>/corsware_before/`` (reused while present; ``.cache/`` is
git-ignored) and imported under that name. The package imports itself relatively, so the
rename is enough; any absolute ``import corsware...`` statement of the old tree is
rewritten to the new name all the same, so the old code can never load today's modules.
"""

from __future__ import annotations

import ast
import importlib
import io
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "bench-before"
NAME = "corsware_before"
#: ``corsware`` as a module name in an import statement (not ``x.corsware``, ``corsware_x``
#: or the name bound by ``as``).
_ABSOLUTE = re.compile(r"(?<![\w.])(?<!as )corsware\b")


def _git(*args: str, what: str) -> bytes:
    """Run git in the checkout; on failure, exit with git's message and what to do."""
    try:
        proc = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, check=False)
    except FileNotFoundError:
        raise SystemExit(
            f"--before needs git to {what}, and git is not installed: install git, or run "
            "`python -m benchmarks` without --before (and `make bench BENCH_BEFORE=`)"
        ) from None
    if proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip() or f"git {' '.join(args)} failed"
        raise SystemExit(f"--before: cannot {what}: {message} (run without --before: `make bench BENCH_BEFORE=`)")
    return proc.stdout


def resolve(rev: str) -> str:
    """The full commit sha of ``rev``, or SystemExit saying why not and what to do."""
    _git("rev-parse", "--git-dir", what="find the git repository of the checkout")
    proc = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode == 0:
        return proc.stdout.strip()
    shallow = _git("rev-parse", "--is-shallow-repository", what="inspect the checkout").strip() == b"true"
    hint = (
        "this clone is shallow: fetch the history (`git fetch --unshallow`)"
        if shallow
        else "name a commit of this repository (`git log --oneline`), or fetch it"
    )
    raise SystemExit(
        f"--before {rev}: git knows no such commit ({proc.stderr.strip() or 'unknown revision'}); "
        f"{hint}, or run without --before (`make bench BENCH_BEFORE=`)"
    )


def rewrite_absolute_imports(source: str) -> str:
    """``source`` with its absolute imports of ``corsware`` pointed at :data:`NAME`: the
    module named by ``from corsware... import``, and each ``import corsware...`` (which then
    also binds ``corsware`` to the renamed package, as the original statement did). Only
    import statements change: strings and comments keep their text."""
    data = source.encode("utf-8")  # ast's column offsets count UTF-8 bytes
    starts = [0]
    for line in data.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    edits = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            ours, count = (node.module or "").partition(".")[0] == "corsware", 1  # the module, not the names
        elif isinstance(node, ast.Import):
            ours, count = any(a.name.partition(".")[0] == "corsware" for a in node.names), 0
        else:
            continue
        if ours and node.end_lineno is not None and node.end_col_offset is not None:
            begin = starts[node.lineno - 1] + node.col_offset
            edits.append((begin, starts[node.end_lineno - 1] + node.end_col_offset, node, count))
    for begin, end, node, count in sorted(edits, key=lambda e: e[0], reverse=True):
        statement = _ABSOLUTE.sub(NAME, data[begin:end].decode("utf-8"), count=count)
        if isinstance(node, ast.Import) and any(a.asname is None and a.name.partition(".")[0] == "corsware"
                                                for a in node.names):  # fmt: skip
            statement += f"; corsware = {NAME}"
        data = data[:begin] + statement.encode("utf-8") + data[end:]
    return data.decode("utf-8")


def _rewrite_absolute_imports(package: Path) -> None:
    for path in package.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        rewritten = rewrite_absolute_imports(source)
        if rewritten != source:
            path.write_text(rewritten, encoding="utf-8")


def export(sha: str) -> Path:
    """The directory holding ``corsware_before/`` for commit ``sha`` (exported once)."""
    home = CACHE / sha
    if (home / NAME / "__init__.py").is_file():
        return home
    archive = _git("archive", "--format=tar", sha, "corsware", what=f"export corsware/ of {sha[:12]}")
    CACHE.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"{sha[:12]}-", dir=CACHE))
    try:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(scratch, filter="data")
            else:  # Python < 3.10.12 / 3.11.4: the archive is git's own, of our own repository
                tar.extractall(scratch)
        (scratch / "corsware").rename(scratch / NAME)
        _rewrite_absolute_imports(scratch / NAME)
        try:
            scratch.rename(home)
        except OSError:  # exported meanwhile by another run: keep theirs
            if not (home / NAME / "__init__.py").is_file():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return home


def load(rev: str) -> ModuleType:
    """Import corsware as it was at git revision ``rev``, as the package ``corsware_before``
    (with its ``asgi`` and ``wsgi`` modules loaded): ``.CORSPolicy``,
    ``.asgi.CORSMiddleware``, ``.wsgi.CORSMiddleware``. One revision per process."""
    home = export(resolve(rev))
    loaded = sys.modules.get(NAME)
    if loaded is not None:
        if Path(loaded.__file__ or "").resolve().parent.parent != home.resolve():
            raise SystemExit(f"--before {rev}: {NAME} is already loaded from {loaded.__file__}; one revision a process")
        return loaded
    sys.path.insert(0, str(home))
    module = importlib.import_module(NAME)
    importlib.import_module(f"{NAME}.asgi")
    importlib.import_module(f"{NAME}.wsgi")
    return module
