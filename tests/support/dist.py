"""Build and check the distributions: ``python -m tests.support.dist`` (``make dist``, part of ``make test``).

1. ``uv build`` writes the sdist, then the wheel built *from the sdist* (so an incomplete
   sdist fails here), into ``dist/``.
2. ``twine check --strict`` (the metadata and README render on an index), and both archives'
   contents listed; the LICENSE is in both, the wheel holds only the package, its published
   extras are exactly the ones users install, and the sdist holds every tracked file of the
   directories it includes (in a git checkout).
3. The README's install instruction, ``pip install dist/corsware-<version>-py3-none-any.whl``,
   run in a fresh venv; there ``import corsware`` and ``corsware --version`` must work.
4. Tests that read ``docs/``, the README and ``pyproject.toml``, run from the extracted sdist
   (with its own ``corsware``): the sdist is complete enough to test itself.
"""

from __future__ import annotations

import email
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "dist"

#: The extras a user installs; development sets are dependency groups, never extras.
PUBLISHED_EXTRAS = {"cli", "flask", "django", "starlette", "fastapi"}

#: What the sdist carries besides the package: its tests and everything they read.
SDIST_DIRS = ("corsware", "tests", "docs", "benchmarks", ".ci")
SDIST_FILES = ("LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml", "mkdocs.yml", "Makefile")

#: Tests that read docs/, the README and pyproject.toml, run from the extracted sdist. They
#: are the quick ones (seconds): that the sdist holds every file its whole suite needs is
#: checked against ``git ls-files`` above, and the whole suite passes from it (``-m "not
#: server and not browser"``, run by hand for the release: ``tar xzf dist/*.tar.gz``).
SDIST_TESTS = ("tests/core/test_reason_codes.py", "tests/project/test_packaging.py")


def _run(cmd: list[str], **kwargs: object) -> str:
    print("$ " + " ".join(cmd), flush=True)
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        sys.stdout.write(done.stdout + done.stderr)
        raise SystemExit(f"dist: `{' '.join(cmd)}` failed (exit {done.returncode})")
    return str(done.stdout)


def _tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(
            f"dist: {name} is not installed: `make dist` installs it (the dev group), or `pip install {name}`"
        )
    return found


def _version() -> str:
    namespace: dict[str, object] = {}
    text = (REPO / "corsware" / "__init__.py").read_text()
    line = next(line for line in text.splitlines() if line.startswith("__version__"))
    exec(line, namespace)
    return str(namespace["__version__"])


def tracked_files() -> list[str] | None:
    """The git-tracked files of :data:`SDIST_DIRS` and :data:`SDIST_FILES` (None outside a git checkout)."""
    if not (REPO / ".git").exists():
        return None
    out = subprocess.run(
        ["git", "ls-files", "--", *SDIST_DIRS, *SDIST_FILES], cwd=REPO, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        return None
    return [line for line in out.stdout.splitlines() if (REPO / line).is_file()]


def check_archives(sdist: Path, wheel: Path, version: str) -> None:
    """The contents: listed, LICENSE in both, the extras, the sdist complete."""
    with tarfile.open(sdist) as tar:
        sdist_names = sorted(name.split("/", 1)[1] for name in tar.getnames() if "/" in name)
    with zipfile.ZipFile(wheel) as whl:
        wheel_names = sorted(whl.namelist())
        metadata = email.message_from_bytes(whl.read(f"corsware-{version}.dist-info/METADATA"))
    print(f"{sdist.name}: {len(sdist_names)} files")
    for name in sdist_names:
        print(f"  {name}")
    print(f"{wheel.name}: {len(wheel_names)} files")
    for name in wheel_names:
        print(f"  {name}")
    problems = []
    if "LICENSE" not in sdist_names:
        problems.append("the sdist has no LICENSE")
    if f"corsware-{version}.dist-info/licenses/LICENSE" not in wheel_names:
        problems.append("the wheel has no LICENSE (.dist-info/licenses/LICENSE)")
    strays = [n for n in wheel_names if not n.startswith(("corsware/", f"corsware-{version}.dist-info/"))]
    if strays:
        problems.append(f"the wheel holds files outside the package: {strays}")
    extras = set(metadata.get_all("Provides-Extra") or [])
    if extras != PUBLISHED_EXTRAS:
        problems.append(f"published extras are {sorted(extras)}, want {sorted(PUBLISHED_EXTRAS)} (dev sets are groups)")
    tracked = tracked_files()
    if tracked is None:
        print("dist: not a git checkout: the sdist's completeness is checked by its tests only")
    else:
        missing = sorted(set(tracked) - set(sdist_names))
        if missing:
            problems.append(f"the sdist lacks tracked files: {missing}")
    if problems:
        raise SystemExit("dist: " + "; ".join(problems))


def check_install(wheel: Path, version: str, tmp: Path) -> None:
    """The README's instruction, in a fresh venv, outside the checkout."""
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python, script = venv / "bin" / "python", venv / "bin" / "corsware"
    _run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], cwd=tmp)
    where = _run([str(python), "-c", "import corsware; print(corsware.__file__)"], cwd=tmp).strip()
    if not where.startswith(str(venv)):
        raise SystemExit(f"dist: `import corsware` found {where}, not the installed wheel")
    said = _run([str(script), "--version"], cwd=tmp).strip()
    if said != f"corsware {version}":
        raise SystemExit(f"dist: `corsware --version` said {said!r}, want 'corsware {version}'")
    print(f"dist: the wheel installs; import corsware -> {where}; {said}")


def check_sdist_tests(sdist: Path, tmp: Path) -> None:
    """The tests that read the sdist's non-package files, run from the extracted sdist."""
    with tarfile.open(sdist) as tar:
        if sys.version_info >= (3, 12):
            tar.extractall(tmp, filter="data")
        else:
            tar.extractall(tmp)  # the archive just built here
    root = next(tmp.glob("corsware-*"))
    env = {**os.environ, "PYTHONPATH": str(root)}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SDIST_TESTS]
    where = _run([sys.executable, "-c", "import corsware; print(corsware.__file__)"], cwd=root, env=env).strip()
    if not where.startswith(str(root)):
        raise SystemExit(f"dist: from the sdist, `import corsware` found {where}")
    print(_run(cmd, cwd=root, env=env).strip().splitlines()[-1])


def main() -> int:
    version = _version()
    shutil.rmtree(DIST, ignore_errors=True)
    _run([_tool("uv"), "build", "--quiet", "--out-dir", str(DIST)], cwd=REPO)
    sdist, wheel = DIST / f"corsware-{version}.tar.gz", DIST / f"corsware-{version}-py3-none-any.whl"
    _run([_tool("twine"), "check", "--strict", str(sdist), str(wheel)])
    check_archives(sdist, wheel, version)
    with tempfile.TemporaryDirectory(prefix="corsware-dist-") as tmp:
        check_install(wheel, version, Path(tmp))
    with tempfile.TemporaryDirectory(prefix="corsware-sdist-") as tmp:
        check_sdist_tests(sdist, Path(tmp))
    print(f"dist: {sdist.name} and {wheel.name} in dist/ are checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
