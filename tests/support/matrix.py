"""The version matrix: every supported Python, each framework at its lowest and newest version.

``python -m tests.support.matrix`` (``make matrix``, part of ``make test``) runs the core, both
adapters, the shared HTTP case table with every framework runner, the integration tests of
Flask, Django and Starlette/FastAPI, and the behaviour tests over real gunicorn and uvicorn
servers, once per cell of :data:`CELLS`, each in its own virtual environment.

Tool: uv with pinned release series per cell (``django==4.2.*``) rather than nox/tox or
``--resolution lowest-direct``: the pins are a table that the README and ``pyproject.toml``
are tested against (tests/project/test_packaging.py), uv installs a cell in seconds, and venvs keyed
on a hash of their requirements are reused across runs (nox/tox reinstall or go stale).

The lowest cells use the newest patch release of each minimum series (Django 4.2.x, the
LTS series with its security fixes); "newest" is whatever the index serves for that Python
when the cell's venv is created (Django 6.x needs Python >= 3.12). The venv of a cell is
rebuilt when its requirements or interpreter change; delete ``.venv/matrix`` to pick up
newer releases.

Interpreters are looked up, never downloaded: ``$PYENV_ROOT/versions/3.X.*`` (pyenv), then
``python3.X`` on ``PATH``. A missing one fails the run under ``CI=true`` and is skipped with
a message elsewhere.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the matrix runner itself runs on the default interpreter
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

#: Every Python version corsware supports (the classifiers and ``requires-python``).
PYTHONS = ("3.10", "3.11", "3.12", "3.13")

NEWEST = "newest"

#: Package name -> the release series of its lowest supported version. Flask, Django,
#: Starlette and FastAPI are the extras' minimums (``pyproject.toml``); Werkzeug 2.3 is the
#: lowest that Flask 2.3 accepts; uvicorn and gunicorn are the lowest servers tested.
LOWEST = {
    "django": "4.2",
    "flask": "2.3",
    "werkzeug": "2.3",
    "starlette": "0.37",
    "fastapi": "0.110",
    "uvicorn": "0.29",
    "gunicorn": "22",
}
NEWEST_ALL = dict.fromkeys(LOWEST, NEWEST)

#: How the README names each package.
DISPLAY = {
    "django": "Django",
    "flask": "Flask",
    "werkzeug": "Werkzeug",
    "starlette": "Starlette",
    "fastapi": "FastAPI",
    "uvicorn": "uvicorn",
    "gunicorn": "gunicorn",
}


@dataclass(frozen=True)
class Cell:
    """One Python version with one version (series or newest) of each framework and server."""

    name: str
    python: str
    versions: dict[str, str]

    def requirements(self, test_tools: list[str]) -> list[str]:
        """The requirement lines of this cell's venv (pip/uv syntax)."""
        pins = [name if series == NEWEST else f"{name}=={series}.*" for name, series in sorted(self.versions.items())]
        return [*test_tools, *pins]


CELLS = (
    Cell("py3.10-lowest", "3.10", LOWEST),
    Cell("py3.11-django5.2", "3.11", {**NEWEST_ALL, "django": "5.2"}),
    Cell("py3.12-lowest", "3.12", LOWEST),
    Cell("py3.12-newest", "3.12", NEWEST_ALL),
    Cell("py3.13-newest", "3.13", NEWEST_ALL),
)

#: What every cell runs: the core, both adapters, the shared case table (every runner:
#: core, WSGI, ASGI, Flask, Django, Starlette, FastAPI), the framework integrations, and
#: the server behaviour tests on gunicorn and uvicorn (uWSGI and nginx are not versioned
#: by this matrix: the full suite runs them).
TESTS = (
    "tests/adapters/test_http_cases.py",
    "tests/core/test_policy_api.py",
    "tests/core/test_config_errors.py",
    "tests/core/test_config_syntax.py",
    "tests/security/test_regressions.py",
    "tests/adapters/test_adapters.py",
    "tests/adapters/test_mount.py",
    "tests/integrations/test_flask.py",
    "tests/integrations/test_django.py",
    "tests/integrations/test_starlette_fastapi.py",
    "tests/servers/test_behaviour.py",
)
#: The matrix installs the frameworks and gunicorn/uvicorn of each cell only: the other
#: servers (uWSGI, nginx, granian, hypercorn, daphne) run in the main suite.
DESELECT = "not uwsgi and not nginx and not granian and not hypercorn and not daphne"

#: The test tools a cell needs, taken from the ``test`` dependency group (their minimums),
#: and the peers the selected tests compare against, from the ``bench`` group
#: (tests/integrations/test_django.py reads django-cors-headers' settings the way it does).
TEST_TOOLS = ("pytest", "hypothesis", "httpx")
PEERS = ("django-cors-headers",)


def _pyproject() -> dict[str, object]:
    with (REPO / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def _requirement_name(line: str) -> str:
    match = re.match(r"[A-Za-z0-9_.\-]+", line)
    assert match, line
    return match.group(0).lower().replace("_", "-")


def test_tools() -> list[str]:
    """:data:`TEST_TOOLS` and :data:`PEERS` as their groups require them, plus the ``cli`` extra (tomli on 3.10)."""
    project = _pyproject()
    groups = project["dependency-groups"]
    assert isinstance(groups, dict)
    lines = [line for line in groups["test"] if isinstance(line, str) and _requirement_name(line) in TEST_TOOLS]
    lines += [line for line in groups["bench"] if isinstance(line, str) and _requirement_name(line) in PEERS]
    extras = project["project"]["optional-dependencies"]  # type: ignore[index]
    return [*lines, *extras["cli"]]


def render_table() -> str:
    """The README's table of what the matrix runs (tests/project/test_packaging.py keeps them equal)."""
    header = ["Python", *(DISPLAY[name] for name in LOWEST)]
    rows = [header, ["---"] * len(header)]
    for cell in CELLS:
        rows.append([cell.python, *(cell.versions[name] for name in LOWEST)])
    return "\n".join("| " + " | ".join(row) + " |" for row in rows) + "\n"


def find_python(version: str) -> str | None:
    """The path of a Python ``version`` interpreter on this machine, or None (never downloads)."""
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")

    def patch(path: Path) -> int:
        match = re.search(rf"/{re.escape(version)}\.(\d+)/", str(path))
        return int(match.group(1)) if match else -1

    candidates = sorted(root.glob(f"versions/{version}.*/bin/python{version}"), key=patch, reverse=True)
    candidates = [c for c in candidates if patch(c) >= 0]  # not 3.13.0t and the like
    on_path = shutil.which(f"python{version}")
    for candidate in [*map(str, candidates), *([on_path] if on_path else [])]:
        try:
            out = subprocess.run(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except OSError:
            continue
        if out.returncode == 0 and out.stdout.strip() == version:
            return candidate
    return None


def _uv() -> str:
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.exists() else shutil.which("uv")
    if found is None:
        raise SystemExit("matrix: uv is not installed: run `make test` (it installs the dev group) or `pip install uv`")
    return found


@dataclass
class Result:
    cell: Cell
    status: str  # "passed", "failed", "skipped"
    summary: str
    seconds: float
    versions: str = ""
    log: Path | None = None


def _full_version(python: str) -> str:
    out = subprocess.run([python, "-c", "import sys; print(sys.version)"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _venv(cell: Cell, python: str, root: Path, uv: str, log: Path) -> Path:
    """The cell's venv, created (or reused when its key matches) under ``root``."""
    requirements = cell.requirements(test_tools())
    key_text = "\n".join([_full_version(python), *requirements]) + "\n"
    key = hashlib.sha256(key_text.encode()).hexdigest()[:12]
    venv = root / f"{cell.name}-{key}"
    stamp = venv / ".matrix-installed"
    if stamp.exists():
        return venv
    for stale in root.glob(f"{cell.name}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "VIRTUAL_ENV": ""}
    with log.open("a") as out:
        for cmd in (
            [uv, "venv", "--quiet", "--python", python, str(venv)],
            [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), *requirements],
        ):
            out.write("$ " + " ".join(cmd) + "\n")
            out.flush()
            done = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"`{' '.join(cmd)}` failed (exit {done.returncode})")
    (venv / "requirements.txt").write_text(key_text)
    stamp.touch()
    return venv


def _installed(venv: Path) -> str:
    code = (
        "import importlib.metadata as m\n"
        f"names = {list(LOWEST)!r}\n"
        "print(' '.join(f'{n}=={m.version(n)}' for n in names))"
    )
    out = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, check=False)
    return out.stdout.strip() or out.stderr.strip()


def run_cell(cell: Cell, root: Path, uv: str, pytest_args: list[str]) -> Result:
    """Create or reuse the cell's venv, then run :data:`TESTS` in it against this checkout."""
    start = time.monotonic()
    python = find_python(cell.python)
    if python is None:
        message = f"no Python {cell.python} interpreter (looked in $PYENV_ROOT/versions and for python{cell.python})"
        return Result(cell, "missing", message, 0.0)
    log = root / f"{cell.name}.log"
    log.write_text("")
    try:
        venv = _venv(cell, python, root, uv, log)
    except RuntimeError as error:
        return Result(cell, "failed", f"install: {error}", time.monotonic() - start, log=log)
    versions = _installed(venv)
    env = {**os.environ, "PYTHONPATH": str(REPO), "VIRTUAL_ENV": str(venv)}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    cmd = [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", DESELECT, *TESTS]
    with log.open("a") as out:
        out.write(f"{versions}\n$ {' '.join(cmd + pytest_args)}\n")
        out.flush()
        done = subprocess.run(cmd + pytest_args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    tail = [line for line in log.read_text().splitlines() if line.strip()]
    summary = tail[-1].strip("= ") if tail else "(no output)"
    status = "passed" if done.returncode == 0 else "failed"
    return Result(cell, status, summary, time.monotonic() - start, versions, log)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.matrix", description=__doc__.split("\n\n")[0])
    parser.add_argument("--venvs", type=Path, default=REPO / ".venv" / "matrix", help="where the cells' venvs live")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="cells run at once (default: cores)")
    parser.add_argument("--cell", action="append", default=[], help="run only this cell (repeatable)")
    parser.add_argument("--table", action="store_true", help="print the README table and exit")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    if args.table:
        sys.stdout.write(render_table())
        return 0
    cells = [c for c in CELLS if not args.cell or c.name in args.cell]
    unknown = set(args.cell) - {c.name for c in CELLS}
    if unknown:
        parser.error(f"unknown cell(s) {sorted(unknown)}; the cells are {[c.name for c in CELLS]}")
    args.venvs.mkdir(parents=True, exist_ok=True)
    uv = _uv()
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda c: run_cell(c, args.venvs, uv, args.pytest_args), cells))
    failed = False
    for r in results:
        if r.status == "missing":
            if IN_CI:
                print(f"matrix: {r.cell.name}: FAILED: {r.summary} -- CI must run every Python version")
                failed = True
            else:
                print(f"matrix: {r.cell.name}: SKIPPED: {r.summary} (CI=true fails instead)")
            continue
        print(f"matrix: {r.cell.name}: {r.status} in {r.seconds:.0f}s: {r.summary} [{r.versions}]")
        if r.status == "failed":
            failed = True
            print(f"--- last lines of {r.log} ---")
            assert r.log is not None
            print("\n".join(r.log.read_text().splitlines()[-40:]))
    print(f"matrix: {len(results)} cells in {time.monotonic() - start:.0f}s: {'FAILED' if failed else 'ok'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
