"""Tools that may be missing locally but never in CI: skip locally, fail under ``CI=true``."""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need_executable(name: str, why: str = "") -> str:
    """Return the path of ``name``; skip the test if it is missing (fail under CI=true)."""
    path = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
    if path is None:
        message = f"{name} is not installed{': ' + why if why else ''} (make test installs it as root)"
        if IN_CI:
            pytest.fail(message + " -- CI must run this test, not skip it")
        pytest.skip(message)
    return path
