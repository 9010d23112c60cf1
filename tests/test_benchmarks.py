"""`make test` runs `make bench-smoke`: its tiny counts prove the benchmark runs, nothing
more, so a smoke run must not print PASS/FAIL verdicts it cannot judge."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.report import Results, Target, markdown, print_targets

ROOT = Path(__file__).resolve().parent.parent
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
