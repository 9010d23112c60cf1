"""Run the ``corsware`` command the way a user does: a subprocess, a real exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)


def corsware(*args: str, env: dict[str, str] | None = None, timeout: float = 30) -> Result:
    """``python -m corsware ARGS``; never through a TTY, so output must be colourless."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "corsware", *args],
        check=False,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)
