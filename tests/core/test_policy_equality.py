"""``CORSPolicy`` equality and hashing are honest: two policies are equal only when they
decide every request alike, and ``describe()``'s round trip through ``from_mapping`` is
kept where it can be (no callback) and refused clearly where it cannot."""

from __future__ import annotations

import re

import pytest

from corsware import CORSConfigError, CORSPolicy

APP = "https://app.example.com"
OTHER = "https://other.example.com"


def _callback(answer: bool):  # type: ignore[no-untyped-def]
    def check(origin: str) -> bool:  # every callback made here has the same name and qualname
        return answer

    return check


_allows = _callback(True)


def _make_refuser():  # type: ignore[no-untyped-def]
    return _callback(False)


def _regex_policy(flags: int) -> CORSPolicy:
    return CORSPolicy(allow_origin_regex=re.compile(r"https://[A-Z]+\.example\.com", flags))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(
            lambda: CORSPolicy(allow_origins=[APP], allow_origin_callback=_allows),
            lambda: CORSPolicy(allow_origins=[APP], allow_origin_callback=_make_refuser()),
            id="callbacks-one-allows-one-refuses",
        ),
        pytest.param(lambda: _regex_policy(0), lambda: _regex_policy(re.IGNORECASE), id="regex-flags-differ"),
        pytest.param(
            lambda: CORSPolicy(paths={"/a": CORSPolicy(allow_origins=[APP], allow_origin_callback=_allows)}),
            lambda: CORSPolicy(paths={"/a": CORSPolicy(allow_origins=[APP], allow_origin_callback=_make_refuser())}),
            id="per-path-callbacks-differ",
        ),
    ],
)
def test_policies_that_decide_differently_are_not_equal(first, second) -> None:  # type: ignore[no-untyped-def]
    a, b = first(), second()
    assert a != b
    assert len({a, b}) == 2


def test_the_callbacks_really_decide_differently() -> None:
    """Guards the table above: the two callbacks do answer differently."""
    request = ("GET", "/", {"Origin": OTHER})
    assert CORSPolicy(allow_origin_callback=_allows).evaluate(*request).allowed
    assert not CORSPolicy(allow_origin_callback=_make_refuser()).evaluate(*request).allowed
    assert _regex_policy(re.IGNORECASE).evaluate("GET", "/", {"Origin": APP}).allowed
    assert not _regex_policy(0).evaluate("GET", "/", {"Origin": APP}).allowed


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: CORSPolicy(allow_origins=[APP], allow_origin_callback=_allows), id="same-callback"),
        pytest.param(lambda: _regex_policy(re.IGNORECASE), id="same-regex-and-flags"),
        pytest.param(lambda: CORSPolicy(allow_origins=[APP], allow_headers=["X-Token"]), id="plain"),
    ],
)
def test_policies_built_alike_are_equal_and_hash_alike(build) -> None:  # type: ignore[no-untyped-def]
    a, b = build(), build()
    assert a == b
    assert hash(a) == hash(b)


def test_describe_round_trips_without_a_callback() -> None:
    policy = CORSPolicy(
        allow_origins=[APP, "https://*.example.org"],
        allow_headers=["X-Token"],
        allow_credentials=True,
        paths={"/public/*": {"allow_origins": ["*"]}},
    )
    assert CORSPolicy.from_mapping(policy.describe()) == policy


def test_describe_with_a_callback_is_refused_by_from_mapping() -> None:
    """A callback is described by name, which cannot be turned back into the function."""
    described = CORSPolicy(allow_origins=[APP], allow_origin_callback=_allows).describe()
    assert described["allow_origin_callback"].endswith("check")
    with pytest.raises(CORSConfigError) as raised:
        CORSPolicy.from_mapping(described)
    assert [p.code for p in raised.value.problems] == ["unknown_option"]
