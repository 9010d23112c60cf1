"""The policy core used directly: evaluate(), per-path rules, files, caching, logging."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import threading

import pytest

import corsware
from corsware import CORSConfigError, CORSPolicy, RequestKind

APP = "https://app.example.com"


def test_public_names_are_pinned() -> None:
    assert sorted(corsware.__all__) == sorted(
        ["CORSConfigError", "CORSDecision", "CORSPolicy", "DecisionEvent", "Problem", "RequestKind", "__version__"]
    )
    assert all(hasattr(corsware, name) for name in corsware.__all__)


def test_evaluate_classifies_like_fetch() -> None:
    policy = CORSPolicy(allow_origins=[APP])
    assert policy.evaluate("GET", "/").kind is RequestKind.NOT_CORS
    assert policy.evaluate("GET", "/", {"origin": APP}).kind is RequestKind.ACTUAL
    assert policy.evaluate("OPTIONS", "/", {"Origin": APP}).kind is RequestKind.ACTUAL
    preflight = policy.evaluate("OPTIONS", "/", [("Origin", APP), ("Access-Control-Request-Method", "PUT")])
    assert preflight.kind is RequestKind.PREFLIGHT
    assert not preflight.reaches_app
    assert preflight.status == 403
    assert preflight.reason == "method_not_allowed"
    assert "'PUT'" in preflight.detail or '"PUT"' in preflight.detail


def test_decision_explains_the_rule() -> None:
    policy = CORSPolicy(allow_origins=["https://*.example.com"], allow_origin_regex=r"https://(a|b)\.example\.org")
    d = policy.evaluate("GET", "/", {"Origin": "https://x.example.com"})
    assert d.allowed
    assert d.rule == "'https://*.example.com'"
    assert d.header("access-control-allow-origin") == "https://x.example.com"
    d = policy.evaluate("GET", "/", {"Origin": "https://b.example.org"})
    assert d.rule is not None
    assert "allow_origin_regex" in d.rule
    d = policy.evaluate("GET", "/", {"Origin": "https://c.example.org"})
    assert not d.allowed
    assert d.reason == "origin_not_allowed"
    assert d.header("Access-Control-Allow-Origin") is None


@pytest.mark.parametrize(
    ("method", "headers", "reason"),
    [
        ("PUT", "", "allowed"),
        ("PATCH", "", "method_not_allowed"),
        ("PUT", "x-nope", "header_not_allowed"),
        ("PUT", "a b", "request_headers_invalid"),
        ("P UT", "", "request_method_invalid"),
    ],
)
def test_preflight_reasons(method: str, headers: str, reason: str) -> None:
    policy = CORSPolicy(allow_origins=[APP], allow_methods=["PUT"])
    d = policy.evaluate(
        "OPTIONS",
        "/",
        {"Origin": APP, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers},
    )
    assert d.reason == reason


def test_path_rules_follow_declaration_order_not_length() -> None:
    """CVE-2024-6839: flask-cors sorted rules by pattern length."""
    secure_first = CORSPolicy(
        paths={"/api/v1/secure": {"allow_origins": [APP]}, "/api/*": {"allow_origins": ["*"]}},
    )
    d = secure_first.evaluate("GET", "/api/v1/secure", {"Origin": "https://evil.example"})
    assert not d.allowed
    assert d.path_rule == "/api/v1/secure"
    broad_first = CORSPolicy(paths={"/api/*": {"allow_origins": ["*"]}, "/api/v1/secure": {"allow_origins": [APP]}})
    d = broad_first.evaluate("GET", "/api/v1/secure", {"Origin": "https://evil.example"})
    assert d.allowed
    assert d.path_rule == "/api/*"


def test_path_rules_see_dot_segments_resolved() -> None:
    """CVE-2020-25032: '/public/../private' never gets the '/public/*' rule: routers read a
    path with dot segments differently, so CORS is refused (tests/security/test_path_rules.py)."""
    policy = CORSPolicy(paths={"/public/*": {"allow_origins": ["*"]}})
    for path in ("/public/../private/data", "/public/./../private", "/public/%2e%2e/x/../../private"):
        d = policy.evaluate("GET", path, {"Origin": "https://evil.example"})
        assert (d.allowed, d.reason) == (False, "path_ambiguous"), path
    decision = policy.evaluate("GET", "/public/x/../y", {"Origin": "https://e.example"})
    assert (decision.allowed, decision.reason) == (False, "path_ambiguous")  # even within one rule


def test_path_rule_regex_and_glob() -> None:
    policy = CORSPolicy(
        paths={re.compile(r"/v[0-9]+/items"): {"allow_origins": [APP]}, "/files/*.png": {"allow_origins": ["*"]}}
    )
    assert policy.evaluate("GET", "/v2/items", {"Origin": APP}).allowed
    assert not policy.evaluate("GET", "/v2/items/x", {"Origin": APP}).allowed
    assert policy.evaluate("GET", "/files/a/b.png", {"Origin": APP}).allowed
    assert not policy.evaluate("GET", "/files/a.png.txt", {"Origin": APP}).allowed


def test_describe_and_from_mapping_round_trip_with_paths() -> None:
    policy = CORSPolicy(
        allow_origins=[APP],
        allow_credentials=True,
        expose_headers=["X-Id"],
        paths={"/public/*": {"allow_origins": ["*"]}},
    )
    data = json.loads(json.dumps(policy.describe()))
    assert CORSPolicy.from_mapping(data) == policy
    assert "paths" in repr(policy)


def test_from_file_toml_and_json(tmp_path: pytest.TempPathFactory) -> None:
    toml = tmp_path / "policy.toml"  # type: ignore[operator]
    toml.write_text(
        'allow_origins = ["https://app.example.com"]\nallow_credentials = true\nmax_age = 60\n\n'
        '[paths."/public/*"]\nallow_origins = ["*"]\n'
    )
    policy = CORSPolicy.from_file(toml)
    assert policy.evaluate("GET", "/public/x", {"Origin": "https://e.example"}).allowed
    assert policy.evaluate("GET", "/x", {"Origin": APP}).header("Access-Control-Allow-Credentials") == "true"
    js = tmp_path / "policy.json"  # type: ignore[operator]
    js.write_text(json.dumps(policy.describe()))
    assert CORSPolicy.from_file(js) == policy


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("missing.toml", None, "file_unreadable"),
        ("bad.toml", "allow_origins = [", "file_malformed"),
        ("bad.json", "{", "file_malformed"),
        ("list.json", "[]", "file_malformed"),
        ("policy.yaml", "allow_origins: []", "file_type"),
        ("typo.toml", 'allow_orgins = ["https://a.com"]', "unknown_option"),
        ("bad-origin.json", '{"allow_origins": ["https://a.com/"]}', "origin_trailing_slash"),
    ],
)
def test_from_file_errors(tmp_path: pytest.TempPathFactory, name: str, content: str | None, code: str) -> None:
    path = tmp_path / name  # type: ignore[operator]
    if content is not None:
        path.write_text(content)
    with pytest.raises(CORSConfigError) as info:
        CORSPolicy.from_file(path)
    assert code in info.value.codes


def test_replace_keeps_other_options_and_validates() -> None:
    policy = CORSPolicy(allow_origins=[APP], max_age=10)
    assert policy.replace(max_age=20).describe()["allow_origins"] == [APP]
    with pytest.raises(CORSConfigError):
        policy.replace(allow_origins=["*"], allow_credentials=True)
    assert policy.describe()["max_age"] == 10


def test_preflight_cache_stays_bounded_whatever_clients_send() -> None:
    policy = CORSPolicy(allow_origins=["https://*.example.com"], allow_headers="*", preflight_cache_size=16)
    plan = policy.plan_for("/")
    for i in range(2000):
        policy.evaluate(
            "OPTIONS",
            "/",
            {"Origin": f"https://h{i}.example.com", "Access-Control-Request-Method": "PUT",
             "Access-Control-Request-Headers": f"x-{i}"},
        )  # fmt: skip
        assert len(plan.cache) <= 16
    assert len(plan.cache) == 16


def test_oversized_keys_are_answered_but_not_cached() -> None:
    policy = CORSPolicy(allow_origins=[APP], allow_headers="*")
    headers = ",".join(f"x-h{i}" for i in range(300))
    d = policy.evaluate("OPTIONS", "/", {"Origin": APP, "Access-Control-Request-Method": "GET",
                                          "Access-Control-Request-Headers": headers})  # fmt: skip
    assert d.allowed
    assert len(policy.plan_for("/").cache) == 0


def test_preflight_cache_is_thread_safe() -> None:
    policy = CORSPolicy(
        allow_origins=["https://*.example.com"], allow_methods=["PUT"], allow_headers="*", preflight_cache_size=32
    )
    errors: list[BaseException] = []

    def hammer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(1500):
                n = rng.randrange(200)
                origin = f"https://h{n}.example.com"
                d = policy.evaluate("OPTIONS", "/", {"Origin": origin, "Access-Control-Request-Method": "PUT",
                                                     "Access-Control-Request-Headers": f"x-{n % 7}"})  # fmt: skip
                assert d.header("Access-Control-Allow-Origin") == origin
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(policy.plan_for("/").cache) <= 32


def test_callback_answers_are_not_cached() -> None:
    allowed: set[str] = set()
    policy = CORSPolicy(allow_origin_callback=lambda origin: origin in allowed)
    headers = {"Origin": APP, "Access-Control-Request-Method": "GET"}
    assert not policy.evaluate("OPTIONS", "/", headers).allowed
    allowed.add(APP)
    assert policy.evaluate("OPTIONS", "/", headers).allowed
    assert policy.evaluate("GET", "/", {"Origin": APP}).rule == "allow_origin_callback"


def test_callback_is_not_asked_about_malformed_origins() -> None:
    seen: list[str] = []
    policy = CORSPolicy(allow_origin_callback=lambda origin: seen.append(origin) or True)
    assert not policy.evaluate("GET", "/", {"Origin": "https://a.com/x"}).allowed
    assert not policy.evaluate("GET", "/", {"Origin": "x" * 10_000}).allowed
    assert seen == []


def test_async_callback_needs_aevaluate() -> None:
    async def check(origin: str) -> bool:
        await asyncio.sleep(0)
        return origin == APP

    policy = CORSPolicy(allow_origin_callback=check)
    with pytest.raises(TypeError, match="aevaluate"):
        policy.evaluate("GET", "/", {"Origin": APP})
    assert asyncio.run(policy.aevaluate("GET", "/", {"Origin": APP})).allowed
    pre = {"Origin": APP, "Access-Control-Request-Method": "GET"}
    assert asyncio.run(policy.aevaluate("OPTIONS", "/", pre)).allowed
    assert not asyncio.run(policy.aevaluate("OPTIONS", "/", {**pre, "Origin": "https://b.com"})).allowed


def test_refusals_are_logged_on_one_escaped_line(caplog: pytest.LogCaptureFixture) -> None:
    """CVE-2024-1681: attacker-controlled values never start a new log line."""
    policy = CORSPolicy(allow_origins=[APP])
    with caplog.at_level(logging.DEBUG, logger="corsware"):
        policy.evaluate("GET", "/x\r\nINFO forged", {"Origin": "https://e.com\r\nINFO forged"})
        policy.evaluate(
            "OPTIONS",
            "/p\n",
            {"Origin": APP, "Access-Control-Request-Method": "PUT\r\n", "Access-Control-Request-Headers": "a\nb"},
        )
    assert len(caplog.records) == 2
    for record in caplog.records:
        line = record.getMessage()
        assert "\n" not in line
        assert "\r" not in line
        assert "\\x0d\\x0a" in line or "\\x0a" in line
    assert "origin_not_allowed" in caplog.records[0].getMessage()
    assert "request_method_invalid" in caplog.records[1].getMessage()


def test_nothing_is_logged_when_debug_is_off(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="corsware"):
        CORSPolicy(allow_origins=[APP]).evaluate("GET", "/", {"Origin": "https://e.com"})
    assert caplog.records == []
