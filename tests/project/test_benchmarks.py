# ruff: noqa: RUF001  (the report writes the multiplication and minus signs in its tables, as here)
"""`make test` runs `make bench-smoke`: its tiny counts prove the benchmark runs, nothing
more, so a smoke run must not print PASS/FAIL verdicts it cannot judge."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from benchmarks.inprocess import Timing
from benchmarks.report import (
    CHART_FAMILIES,
    Results,
    Target,
    chart_data,
    chart_data_from_markdown,
    markdown,
    print_targets,
)

ROOT = Path(__file__).resolve().parents[2]
NOT_JUDGED = "not judged in a smoke run"
VERDICT = re.compile(r"\[(PASS|FAIL)\]|\| (pass|\*\*FAIL\*\*) \||targets met")
TARGETS = [Target("met", "≤ 1x", "0.5x", True), Target("missed", "≤ 1x", "3x", False)]


@pytest.mark.parametrize(("judged", "verdicts"), [(True, True), (False, False)], ids=["full-run", "smoke-run"])
def test_targets_are_judged_only_in_a_full_run(
    judged: bool, verdicts: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    print_targets(TARGETS, judged=judged)
    printed = capsys.readouterr().out
    page = markdown(Results({}, {}, [], 0, 0, "settings", judged=judged), "now")
    for text in (printed, page):
        assert bool(VERDICT.search(text)) is verdicts, text
        assert (NOT_JUDGED in text) is not verdicts, text
    assert "met: 0.5x (goal ≤ 1x)" in printed  # the figures are shown either way


def test_smoke_run_prints_no_verdicts(tmp_path: Path) -> None:
    for module in ("matplotlib", "starlette", "asgi_cors"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is missing: `make bench-smoke` installs the bench extra")
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--no-servers", "--families", "asgi",
         "--scenarios", "simple,refused", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "targets:" in proc.stdout
    assert NOT_JUDGED in proc.stdout
    assert not VERDICT.search(proc.stdout), proc.stdout
    assert not VERDICT.search((tmp_path / "performance.md").read_text(encoding="utf-8"))


def _timing(family: str, scenario: str, overheads_us: dict[str, float]) -> Timing:
    per_request = {"bare": [10_000.0]} | {name: [10_000.0 + us * 1000] for name, us in overheads_us.items()}
    return Timing(family, scenario, per_request)


def test_the_charts_read_back_the_results_the_page_stores() -> None:
    """The charts are redrawn from docs/performance.md (`python -m benchmarks.report --charts`):
    reading its tables back gives what the run measured, negative overheads included."""
    timings = {
        ("flask", "simple"): _timing("flask", "simple", {"corsware": 1.5, "flask_cors": 33.0}),
        ("flask", "preflight_hit"): _timing("flask", "preflight_hit", {"corsware": -66.0, "flask_cors": 3247.0}),
        ("asgi", "simple"): _timing(
            "asgi", "simple", {"noop": 0.25, "noop_wrap": 0.5, "corsware": 1.25, "starlette": 6.75, "asgi_cors": 4.0}
        ),
    }
    results = Results(timings, {}, [], 0, 0, "settings")
    assert chart_data_from_markdown(markdown(results, "now")) == chart_data(results)
    assert chart_data(results)["flask"][1][1] == {"corsware": -66.0, "flask-cors": 3247.0}


def test_the_committed_results_have_a_chart_each() -> None:
    data = chart_data_from_markdown((ROOT / "docs" / "performance.md").read_text(encoding="utf-8"))
    assert set(data) == set(CHART_FAMILIES)
    page = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    for family, rows in data.items():
        assert len(rows) >= 10, family
        assert (ROOT / "docs" / "img" / f"benchmarks-{family}.png").is_file()
        assert f"(img/benchmarks-{family}.png)" in page


# -- `make bench` compares with an earlier revision (`--before`, benchmarks/before.py) ---------


def _git_history() -> bool:
    try:
        proc = subprocess.run(["git", "rev-parse", "--verify", "--quiet", "HEAD^{commit}"], cwd=ROOT,
                              capture_output=True, check=False, timeout=30)  # fmt: skip
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0 and (ROOT / "corsware").is_dir()


@pytest.fixture
def before_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """benchmarks.before with its export cache in ``tmp_path``; the imported package is
    forgotten afterwards (sys.modules, sys.path), so the test leaves no trace."""
    from benchmarks import before

    monkeypatch.setattr(before, "CACHE", tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield before
    for name in [n for n in sys.modules if n == before.NAME or n.startswith(before.NAME + ".")]:
        del sys.modules[name]


@pytest.mark.skipif(not _git_history(), reason="not a git checkout with history (e.g. the extracted sdist)")
def test_before_loads_the_old_package_beside_todays(before_module: ModuleType, tmp_path: Path) -> None:
    """`benchmarks.before.load(REV)` imports REV's corsware/ as its own package, whose
    middleware answers a request exactly as the benchmark drives it."""
    import corsware
    from benchmarks.inprocess import respond
    from benchmarks.scenarios import BY_NAME, ORIGIN
    from benchmarks.subjects import Subject, bare_asgi, before_policy, family

    before = before_module
    old = before.load("HEAD")
    assert old.__name__ == before.NAME
    assert old is not corsware
    assert old.CORSPolicy is not corsware.CORSPolicy
    home = Path(old.__file__).resolve().parent
    assert home.parent == (tmp_path / before.resolve("HEAD")).resolve()
    for name, module in list(sys.modules.items()):
        if name == before.NAME or name.startswith(before.NAME + "."):
            assert Path(module.__file__).resolve().is_relative_to(home), name  # none of today's modules
    assert before.load("HEAD") is old  # the export is reused, the import too
    scenario = BY_NAME["simple"]
    subjects = {s.name: s for s in family("wsgi", scenario, old)}
    asgi = Subject("asgi", "corsware_before", old.asgi.CORSMiddleware(bare_asgi, policy=before_policy(old, scenario)),
                   "asgi")  # fmt: skip
    for subject in (subjects["corsware_before"], asgi):
        assert type(subject.app).__module__.startswith(before.NAME + ".")
        status, headers = respond(subject, scenario)
        assert status == 200
        assert ("access-control-allow-origin", ORIGIN) in headers, headers


@pytest.mark.parametrize(
    ("source", "rewritten"),
    [
        ("from corsware.asgi import CORSMiddleware\n", "from corsware_before.asgi import CORSMiddleware\n"),
        ("from corsware import (\n    corsware_x,\n)\n", "from corsware_before import (\n    corsware_x,\n)\n"),
        ("import corsware.wsgi\n", "import corsware_before.wsgi; corsware = corsware_before\n"),
        ("import os, corsware as cw\n", "import os, corsware_before as cw\n"),
        ('x = "corsware.E001"; from corsware import y\n', 'x = "corsware.E001"; from corsware_before import y\n'),
        ("from . import corsware\nimport corsware_x\nlog('corsware')\n", None),
    ],
    ids=["from-submodule", "from-package", "import-binds-name", "import-as", "strings-kept", "not-absolute"],
)
def test_before_renames_absolute_imports_only(source: str, rewritten: str | None) -> None:
    from benchmarks.before import rewrite_absolute_imports

    assert rewrite_absolute_imports(source) == (source if rewritten is None else rewritten)


def test_before_names_an_unknown_revision() -> None:
    from benchmarks.before import resolve

    if not _git_history():
        pytest.skip("not a git checkout with history")
    with pytest.raises(SystemExit, match=r"--before no-such-rev-0: git knows no such commit.*without --before"):
        resolve("no-such-rev-0")


def _paired(scenario: str, after: float, before: float, starlette: float) -> Timing:
    """Three trials of every ASGI subject: overheads in ns above a bare app of 1 µs; trial 2
    is slowed by 4 µs for every subject alike (load), which a paired difference ignores."""
    load = [0.0, 0.0, 4000.0]
    overheads = {"bare": 0.0, "noop": 200.0, "noop_wrap": 500.0, "corsware": after, "corsware_before": before,
                 "corsware_report_only": after + 1000, "starlette": starlette, "asgi_cors": 5000.0}  # fmt: skip
    return Timing("asgi", scenario, {name: [1000.0 + v + x for x in load] for name, v in overheads.items()})


def test_report_shows_before_and_after_and_the_new_targets() -> None:
    """With a `corsware_before` subject the page has the before/after table, judged on the
    paired per-trial differences; the ordinary-scenario and refused-preflight targets are
    always there."""
    timings = {
        ("asgi", s): _paired(s, after, before, starlette)
        for s, after, before, starlette in [
            ("simple", 1060.0, 1000.0, 7000.0),
            ("preflight_hit", 1300.0, 1000.0, 8000.0),
            ("preflight_miss", 3000.0, 5000.0, 9000.0),
            ("preflight_refused_miss", 2500.0, 19000.0, 9000.0),
            ("origins_10000", 1000.0, 1000.0, 99000.0),
        ]
    }
    timings[("asgi", "simple")].per_request["corsware"][2] += 3000  # one noisy trial: the median ignores it
    page = markdown(Results(timings, {}, [], 0, 0, "settings", before="cc4a887"), "now")
    rows = {line.split(" | ")[0].strip("| "): line for line in page.splitlines() if line.startswith("| ")}
    assert "### Before and after: corsware at cc4a887 and now" in page
    assert "| family | scenario | before (µs) | after (µs) | after − before (µs) | verdict |" in page
    assert "| asgi | allowed simple request | +1.00 | +1.06 | +0.06 ±0.00 | pass |" in page
    assert "| asgi | preflight (cache hit) | +1.00 | +1.30 | +0.30 ±0.00 | **FAIL** |" in page
    assert (
        "| asgi | preflight, new header list each time (cache miss) | +5.00 | +3.00 | -2.00 ±0.00 | not a target |"
        in page
    )
    assert "| asgi | 10 000 allowed origins | +1.00 | +1.00 | +0.00 ±0.00 | pass |" in page
    target = rows["ASGI: actual requests and cached preflights: after − before (worst)"]
    assert "| ≤ +0.10 µs | +0.30 µs (preflight_hit; before = cc4a887) | **FAIL** |" in target
    # Ordinary scenarios: simple 1.06/7, preflight_hit 1.3/8, preflight_miss 3/9 (origins_10000 left out).
    geo = (1.06 / 7 * 1.3 / 8 * 3 / 9) ** (1 / 3)
    assert (
        f"| ≤ 0.15× | {geo:.3f}× (3 scenarios) | **FAIL** |"
        in rows["ASGI vs Starlette (geometric mean, ordinary scenarios)"]
    )
    assert "| ≤ 0.25× | 0.333× (preflight_miss) | **FAIL** |" in rows["ASGI vs Starlette (worst ordinary scenario)"]
    refused = rows["ASGI: refused preflight, new header lists vs allowed, new header lists"]
    assert "| ≤ 1.00× | 0.83× (2.50 vs 3.00 µs) | pass |" in refused
    assert "corsware before (cc4a887)" in page  # the subject's column in the family table
    # Without the before subject: no table, no before target, the other new targets still there.
    today = {key: Timing(t.family, t.scenario, {k: v for k, v in t.per_request.items() if k != "corsware_before"})
             for key, t in timings.items()}  # fmt: skip
    page = markdown(Results(today, {}, [], 0, 0, "settings"), "now")
    assert "Before and after" not in page
    assert "after − before" not in page
    assert "ASGI vs Starlette (worst ordinary scenario)" in page
    assert "ASGI: refused preflight, new header lists vs allowed, new header lists" in page
