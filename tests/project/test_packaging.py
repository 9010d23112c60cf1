"""What the package claims matches what is tested and what the docs tell readers to run.

- The README's supported-versions table is the one the matrix runs (tests/support/matrix.py), and
  ``pyproject.toml`` claims the same: Python classifiers, ``requires-python``, the extras'
  minimums (and the test group's for the servers).
- Only user-facing extras are published; development sets are dependency groups.
- No page tells readers to ``pip install corsware`` before the name is ours on PyPI (whoever
  registers it would be installed); the documented wheel install is what ``make dist`` runs.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests.support import dist, matrix

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _minimum(lines: list[str], name: str) -> str:
    """The ``>=`` bound of ``name`` among requirement ``lines`` (exactly one such line)."""
    found = [m.group(1) for line in lines if (m := re.fullmatch(rf"{re.escape(name)}>=([\w.]+)", line.strip()))]
    assert len(found) == 1, f"want exactly one '{name}>=X' in {lines}"
    return found[0]


def test_readme_table_is_the_matrix() -> None:
    match = re.search(r"<!-- matrix:[^\n]*-->\n(.*?)<!-- /matrix -->", README, re.DOTALL)
    assert match, "README.md: the supported-versions table between <!-- matrix: ... --> and <!-- /matrix -->"
    assert match.group(1) == matrix.render_table(), (
        "README.md: paste the output of `python -m tests.support.matrix --table`"
    )


def test_every_python_has_a_cell_and_every_package_its_lowest_and_newest() -> None:
    assert {c.python for c in matrix.CELLS} == set(matrix.PYTHONS)
    for name, lowest in matrix.LOWEST.items():
        versions = {c.versions[name] for c in matrix.CELLS}
        assert {lowest, matrix.NEWEST} <= versions, name


def test_python_classifiers_and_requires_python_are_the_matrix() -> None:
    project = PYPROJECT["project"]
    prefix = "Programming Language :: Python :: "
    claimed = [c[len(prefix) :] for c in project["classifiers"] if re.fullmatch(re.escape(prefix) + r"3\.\d+", c)]
    assert claimed == list(matrix.PYTHONS)
    assert project["requires-python"] == f">={matrix.PYTHONS[0]}"
    assert f"Python {', '.join(matrix.PYTHONS[:-1])} and {matrix.PYTHONS[-1]}" in README


@pytest.mark.parametrize("name", ["flask", "django", "starlette", "fastapi"])
def test_extras_minimums_are_the_lowest_tested(name: str) -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert _minimum(extras[name], name) == matrix.LOWEST[name]
    assert f"{matrix.DISPLAY[name]} ≥ {matrix.LOWEST[name]}" in README


@pytest.mark.parametrize("name", ["werkzeug", "uvicorn", "gunicorn"])
def test_test_group_minimums_are_the_lowest_tested(name: str) -> None:
    assert _minimum(PYPROJECT["dependency-groups"]["test"], name) == matrix.LOWEST[name]


def test_only_user_facing_extras_are_published() -> None:
    assert set(PYPROJECT["project"]["optional-dependencies"]) == dist.PUBLISHED_EXTRAS
    assert {"dev", "test", "docs", "bench"} <= set(PYPROJECT["dependency-groups"])


def test_license_file_is_mit() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert PYPROJECT["project"]["license"] == "MIT"
    assert text.startswith("MIT License\n\nCopyright (c) 2026 corsware developers\n")


def _pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), ROOT / "corsware" / "cli" / "reason_codes.md"]


# `pip install corsware`, `pip install corsware[flask]`, `pip install -U "corsware"`, ... but
# not a path (`./corsware`) or a wheel file.
_INSTALL_BY_NAME = re.compile(r"""pip3?\s+install(?:\s+-\S+)*\s+["']?corsware(?![\w./-])""")


def test_no_page_installs_corsware_by_name() -> None:
    found = [
        f"{page.relative_to(ROOT)}:{n}: {line.strip()}"
        for page in _pages()
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1)
        if _INSTALL_BY_NAME.search(line)
    ]
    assert not found, "corsware is not on PyPI yet: say `pip install ./corsware` (a clone) instead\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("line", "by_name"),
    [
        ("$ pip install corsware", True),
        ("pip install corsware flask", True),
        ('pip install "corsware[flask]"', True),
        ("pip install corsware[flask]", True),
        ("pip install -U corsware", True),
        ("$ pip install ./corsware flask", False),
        ('pip install "./corsware[flask]"', False),
        ("pip install dist/corsware-0.1.0-py3-none-any.whl", False),
        ("pip install corsware-0.1.0-py3-none-any.whl", False),
    ],
)
def test_install_by_name_pattern(line: str, by_name: bool) -> None:
    assert bool(_INSTALL_BY_NAME.search(line)) is by_name


def test_documented_wheel_install_is_what_make_dist_runs() -> None:
    version = dist._version()
    wheel = f"pip install dist/corsware-{version}-py3-none-any.whl"
    for page in (ROOT / "README.md", ROOT / "docs" / "index.md", ROOT / "docs" / "zh" / "index.md"):
        assert wheel in page.read_text(encoding="utf-8"), f"{page.relative_to(ROOT)}: say `{wheel}`"
    # tests/support/dist.py installs dist/corsware-<version>-py3-none-any.whl with pip in a fresh venv.
    assert "corsware-{version}-py3-none-any.whl" in Path(dist.__file__).read_text(encoding="utf-8")


@pytest.mark.parametrize(("in_ci", "exit_code", "said"), [(True, 1, "FAILED"), (False, 0, "SKIPPED")])
def test_matrix_missing_interpreter_fails_in_ci_and_is_skipped_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    in_ci: bool,
    exit_code: int,
    said: str,
) -> None:
    assert matrix.find_python("3.99") is None
    monkeypatch.setattr(matrix, "CELLS", (matrix.Cell("py3.99-lowest", "3.99", matrix.LOWEST),))
    monkeypatch.setattr(matrix, "IN_CI", in_ci)
    monkeypatch.setattr(matrix, "_uv", lambda: "uv")
    assert matrix.main(["--venvs", str(tmp_path)]) == exit_code
    out = capsys.readouterr().out
    assert f"matrix: py3.99-lowest: {said}: no Python 3.99 interpreter" in out
