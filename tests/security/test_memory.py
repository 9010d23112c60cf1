"""Regressions for the finding "Memory that a client can fill".

Every cache a request can fill holds keys the client chooses. Before the fix each plan had
three caches of ``preflight_cache_size`` entries and every per-path rule had its own plan,
so a policy with 100 rules let cheap requests retain ~300 MiB per worker. Now one budget
bounds every cache of a policy, its rules' included, and a cached refusal keeps no text of
its own. The figures (``hostile_fill``) are published in docs/security.md, "Memory a
client can fill": ``python -m tests.support.security_report --sections hostile``.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from corsware import CORSPolicy
from corsware._decision import REASON_HEADER

from ..support.cases import APP
from ..support.harness import HEAVIEST_KIND, REFLECTING, cached_entries, hostile_fill

#: What 1024 entries may hold at most: the worst measured (every entry of the largest
#: kind) is about 4.0 MiB on CPython 3.11; the original code held 10 MiB after 1275 such
#: keys, and 7.5 MiB after 4 rounds of every kind, with no total bound.
BOUND_KIB = 5 * 1024

FILLS: dict[str, dict[str, Any]] = {
    "memory-100-rules-every-cache-of-every-rule": {"rounds": 4},
    "memory-100-rules-largest-keys-only": {"rounds": 25, "kinds": [HEAVIEST_KIND], "reflecting_only": True},
}


@pytest.mark.parametrize("fill", FILLS.values(), ids=FILLS)
def test_100_rules_filled_by_hostile_keys_stay_under_5_mib(fill: dict[str, Any]) -> None:
    figures = hostile_fill(100, 1024, **fill)
    print(figures.as_dict())
    assert figures.requests > 1024  # more distinct keys than the budget: every cache is full
    assert figures.entries == 1024
    assert figures.filled_kib < BOUND_KIB, figures.as_dict()


@pytest.mark.parametrize("cache_size", [0, 1, 50, 200], ids=lambda n: f"memory-budget-{n}")
def test_preflight_cache_size_bounds_every_cache_of_every_rule_together(cache_size: int) -> None:
    figures = hostile_fill(10, cache_size, rounds=4)
    assert figures.entries == cache_size


def test_a_rule_shared_by_two_parents_draws_from_each_parents_budget() -> None:
    rule = CORSPolicy(**REFLECTING, preflight_cache_size=5)
    parents = {3: CORSPolicy(paths={"/a/*": rule}, preflight_cache_size=3),
               7: CORSPolicy(paths={"/a/*": rule}, preflight_cache_size=7)}  # fmt: skip
    for size, parent in parents.items():
        for i in range(20):
            headers = {"Origin": f"https://h{i}.example.com", "Access-Control-Request-Method": "PUT"}
            assert parent.evaluate("OPTIONS", "/a/x", headers).allowed
        assert cached_entries(parent) == size
        assert parent.rule_for("/a/x") == ("/a/*", rule)
    # The rule's own plan, which the caller may use on its own, is untouched and separate.
    assert len(rule.plan.cache) == len(rule.plan._fast_answers) == 0
    assert rule.plan.budget.limit == 5
    assert rule.evaluate("OPTIONS", "/", {"Origin": APP, "Access-Control-Request-Method": "PUT"}).allowed
    assert len(rule.plan.budget) == 1


REFUSALS = {
    "memory-refused-origin": ({"Origin": "https://evil-{n}.example.net", "Access-Control-Request-Method": "GET"},
                              "origin_not_allowed", '"https://evil-{n}.example.net"'),
    "memory-refused-method": ({"Origin": APP, "Access-Control-Request-Method": "X-{n}"},
                              "method_not_allowed", '"X-{n}"'),
    "memory-refused-header": ({"Origin": APP, "Access-Control-Request-Method": "GET",
                               "Access-Control-Request-Headers": "x-{n}"}, "header_not_allowed", '"x-{n}"'),
}  # fmt: skip


@pytest.mark.parametrize(("headers", "reason", "named"), REFUSALS.values(), ids=REFUSALS)
def test_cached_refusals_share_one_answer_and_rebuild_their_detail(
    headers: dict[str, str], reason: str, named: str, caplog: Any
) -> None:
    policy = CORSPolicy(allow_origins=[APP])
    plan = policy.plan
    answers = []
    for n in range(3):
        request = {k: v.format(n=n) for k, v in headers.items()}
        with caplog.at_level(logging.DEBUG, logger="corsware"):
            for _ in range(2):  # the second one is answered from the cache, or found again by set operations
                decision = policy.evaluate("OPTIONS", "/", request)
                assert (decision.status, decision.reason) == (403, reason)
                # The request's own values are still named, for the caller and the log.
                assert named.format(n=n) in decision.detail
                assert named.format(n=n) in caplog.records[-1].getMessage()
        values = (request["Origin"], request["Access-Control-Request-Method"],
                  request.get("Access-Control-Request-Headers", ""))  # fmt: skip
        answer = plan.for_preflight(*values)
        cached = plan.cache.lookup((*values, False, False))
        # Cached (found by the reference steps) or not cached at all (found by set operations).
        assert cached is None or cached is answer
        answers.append(answer)
    assert answers[0] is answers[1] is answers[2]  # one answer for every key
    assert "-0" not in answers[0].detail  # which keeps no request's text


def test_never_seen_refused_preflights_do_not_evict_other_clients_answers() -> None:
    """Finding "memory-refusals-evict": every cache of a policy shares one FIFO budget, so
    a client sending preflights with never-seen refused header lists (or from never-seen
    refused origins) pushed every allowed answer out of the cache and made other clients'
    preflights pay for a miss. Refusals found by set operations are not stored now."""
    plan = CORSPolicy(
        allow_origins=[APP], allow_methods=["PUT"], allow_headers=["x-token"], preflight_cache_size=64
    ).plan
    allowed = plan.for_preflight(APP, "PUT", "x-token")
    assert allowed.allowed
    key = (APP, "PUT", "x-token", False, False)
    assert plan.cache.lookup(key) is allowed
    for n in range(500):
        assert not plan.for_preflight(APP, "PUT", f"x-token,x-{n}").allowed
        assert not plan.for_preflight(f"https://evil-{n}.example.net", "PUT", "x-token").allowed
    assert plan.cache.lookup(key) is allowed


def test_refusals_in_debug_mode_are_answered_but_not_cached() -> None:
    plan = CORSPolicy(allow_origins=[APP]).plan
    for _ in range(2):
        answer = plan.for_preflight("https://evil.example.net", "GET", "x-" + "a" * 900, debug=True)
        assert not answer.allowed
        assert dict(answer.text)[REASON_HEADER].startswith('origin "https://evil.example.net"')
    assert len(plan.cache) == 0
    # The adapters' lookup is still the cache dict's own bound get: no Python-level call.
    assert plan.cache.lookup == plan.cache._data.get


def test_a_rule_given_as_a_mapping_is_compiled_once_against_the_parents_budget() -> None:
    parent = CORSPolicy(paths={"/a/*": REFLECTING}, preflight_cache_size=2)
    _, rule = parent.rule_for("/a/x")
    assert rule.plan is parent.plan_for("/a/x")  # one plan kept, not two
    assert rule.plan.budget is parent.plan.budget
