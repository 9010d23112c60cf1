"""What a response of the shared case table (``cases.py``) must look like: the one check every
runner's answer goes through, and its twin for the policy core alone."""

from __future__ import annotations

from corsware import CORSPolicy, RequestKind

from .cases import Case
from .drivers import Response


def _tokens(value: str) -> list[str]:
    return sorted(t.strip().lower() for t in value.split(",") if t.strip())


def check(case: Case, resp: Response, *, check_body: bool = True) -> None:
    assert resp.status == case.status
    assert resp.app_called == case.reaches_app
    for name, value in resp.headers:
        if name.startswith("access-control-"):
            assert name in case.expect, f"unexpected {name}: {value}"
    for name, expected in case.expect.items():
        values = resp.values(name)
        if expected is None:
            assert values == [], f"{name} should be absent"
        elif name == "vary":
            assert len(values) == 1, f"one Vary header expected, got {values}"
            assert _tokens(values[0]) == _tokens(expected)
            assert len(set(_tokens(values[0]))) == len(_tokens(values[0])), "duplicate Vary token"
        else:
            assert values == [expected], f"{name}"
    if "vary" not in case.expect:
        assert resp.values("vary") == []
    if check_body and case.body is not None:
        assert resp.body == case.body


def check_core(case: Case) -> None:
    """The policy core alone agrees with a case (headers corsware adds, status, kind)."""
    decision = CORSPolicy(**case.policy).evaluate(case.method, case.path, case.headers)
    assert decision.reaches_app == case.reaches_app
    if decision.kind is RequestKind.PREFLIGHT:
        assert decision.status == case.status
    got = {k.lower(): v for k, v in decision.headers if k.lower() not in ("content-length", "content-type")}
    expected = {k: v for k, v in case.expect.items() if v is not None}
    if "vary" in got or "vary" in expected:
        assert _tokens(got.pop("vary", "")) == _tokens(expected.pop("vary", ""))
    assert got == expected
