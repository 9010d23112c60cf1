"""The shared HTTP case table, run through every adapter and integration."""

from __future__ import annotations

import pytest

from ..support.cases import PARAMS, Case
from ..support.checks import check, check_core
from ..support.drivers import RUNNERS, Request, Runner


@pytest.mark.parametrize("runner", RUNNERS, ids=lambda r: r.name)
@pytest.mark.parametrize("case", PARAMS)
def test_case(case: Case, runner: Runner) -> None:
    if case.repeated_headers and not runner.joins_repeated_headers:
        pytest.skip("httpx's WSGITransport keeps only the last repeated header; servers join them (see 'wsgi')")
    resp = runner.run(case.policy, Request(case.method, case.path, case.headers))
    check(case, resp)
    if runner.observes_errors:
        assert (resp.error is not None) == case.app_raises, resp.error


@pytest.mark.parametrize("case", PARAMS)
def test_case_core(case: Case) -> None:
    if case.path in ("/raise", "/vary", "/app-cors"):
        pytest.skip("depends on the app's response")
    check_core(case)
