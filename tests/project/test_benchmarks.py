"""`make test` runs `make bench-smoke`: its tiny counts prove the benchmark runs, nothing
more, so a smoke run must not print PASS/FAIL verdicts it cannot judge."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

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
