"""``corsware explain``: what corsware answers a browser's request, and what the browser does then."""

from __future__ import annotations

import argparse

from .._decision import CORSDecision
from ._browser import BrowserRequest, Failure, check_actual, check_preflight
from ._check import load_policy
from ._report import Report, Step, preflight_reasons
from ._requests import browser_request

__all__ = ["run_explain"]


#: What to change in the policy for each refusal reason of the core.
_FIXES = {
    "origin_not_allowed": "add the origin to allow_origins (or a 'https://*.domain' pattern, or allow_origin_regex)",
    "method_not_allowed": "add the method to allow_methods (methods are case-sensitive)",
    "header_not_allowed": "add the header(s) to allow_headers",
    "authorization_not_covered": "add 'Authorization' to allow_headers next to '*'",
    "private_network_not_allowed": "set allow_private_network = true (legacy Private Network Access)",
    "request_method_invalid": "the requested method is not a valid method name",
    "request_headers_invalid": "the requested header names are not valid header names",
}


def _policy_failure(decision: CORSDecision, step: str) -> Failure:
    """The core's own reason for a refusal, with the policy change that fixes it."""
    return Failure(decision.reason, f"corsware refused the {step}: {decision.detail}",
                   _FIXES.get(decision.reason, "see the detail"), step)  # fmt: skip


def _with_cause(step: Step, decision: CORSDecision, what: str) -> list[Failure]:
    """Report the policy's reason as the failure; what the browser then says becomes a note."""
    step.notes += [f"the browser reports: {f.message}" for f in step.failures]
    return [_policy_failure(decision, what)]


def _corsware_says(decision: CORSDecision) -> str:
    if decision.allowed:
        return f"allowed by {decision.rule}" if decision.rule else "allowed"
    return f"refused: {decision.reason}"


def run_explain(args: argparse.Namespace) -> int:
    """Evaluate the request a browser would send against the policy file, step by step."""
    policy = load_policy(args.policy)
    req: BrowserRequest = browser_request(args)
    path = args.path
    path_rule, _ = policy.rule_for(path)
    context = [f"path rule    {path_rule!r}" if path_rule else "path rule    none (the top-level policy applies)"]
    steps: list[Step] = []
    extra: dict[str, object] = {"path_rule": path_rule}
    if req.needs_preflight:
        pf_headers = req.preflight_headers()
        decision = policy.evaluate("OPTIONS", path, pf_headers)
        step = Step("preflight", "OPTIONS", path, pf_headers, decision.status, list(decision.headers),
                    f"corsware ({_corsware_says(decision)})")  # fmt: skip
        step.failures = check_preflight(decision.status or 0, decision.headers, req)
        if step.failures and not decision.allowed:
            step.failures = _with_cause(step, decision, "preflight")
        steps.append(step)
        extra["corsware_preflight"] = {"reason": decision.reason, "detail": decision.detail, "rule": decision.rule}
    if not steps or not steps[0].failures:
        decision = policy.evaluate(req.method, path, req.actual_headers())
        step = Step("actual", req.method, path, req.actual_headers(), None, list(decision.headers),
                    f"the app; corsware adds these headers ({_corsware_says(decision)})")  # fmt: skip
        step.failures = check_actual(decision.headers, req)
        if step.failures and not decision.allowed:
            step.failures = _with_cause(step, decision, "request")
        steps.append(step)
        extra["corsware_actual"] = {"reason": decision.reason, "detail": decision.detail, "rule": decision.rule}
    report = Report(req, path, preflight_reasons(req), steps, extra, context)
    report.use_engine(args.engine)
    return report.emit(args.json)
