"""The short, bounded form of ``make fuzz``: every atheris target for a few thousand runs,
plus the hypothesis fallback loop (so it cannot rot)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ..support.ci import IN_CI
from ..support.fuzz.run import run_fallback
from ..support.fuzz.targets import TARGETS

ROOT = Path(__file__).resolve().parents[2]
RUNS = 3000


def _need_atheris() -> None:
    if importlib.util.find_spec("atheris") is None:
        message = "atheris is not installed (the test extra installs it on Linux x86-64, CPython 3.11-3.13)"
        if IN_CI:
            pytest.fail(message + " -- CI must run the fuzz targets, not skip them")
        pytest.skip(message)


@pytest.mark.parametrize("target", list(TARGETS))
def test_fuzz_target_short_run(target: str, tmp_path: Path) -> None:
    _need_atheris()
    corpus = tmp_path / "corpus"
    cmd = [sys.executable, "-m", "tests.support.fuzz.run", target, f"-runs={RUNS}", "-seed=1",
           f"-artifact_prefix={tmp_path}/", str(corpus)]  # fmt: skip
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    done = re.search(r"Done (\d+) runs", output)
    assert done is not None, output[-3000:]
    assert int(done.group(1)) == RUNS
    assert not list(tmp_path.glob("crash-*"))


@pytest.mark.parametrize("target", list(TARGETS))
def test_fuzz_target_fallback_loop(target: str) -> None:
    assert run_fallback(target, 100) >= 100
