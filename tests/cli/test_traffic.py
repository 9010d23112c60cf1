"""``corsware report`` and ``corsware suggest`` over report-only records."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from corsware import CORSPolicy
from corsware._policy import load_policy_file
from corsware.cli import _traffic
from corsware.cli import main as cli_main

NOW = "2025-03-01T10:00:00.000Z"


def record(origin: str, outcome: str = "would_refuse", *, kind: str = "actual", acac: bool = True,
           allowed: bool | None = None, path: str = "/api/me", when: str = NOW, **extra: Any) -> str:  # fmt: skip
    allowed = outcome in ("same", "would_allow") if allowed is None else allowed
    data = {
        "corsware_report": 1, "time": when, "method": "GET", "path": path, "origin": origin, "kind": kind,
        "outcome": outcome, "sent": {"status": 200, "acao": origin if outcome != "would_allow" else None, "acac": acac},
        "candidate": {"allowed": allowed, "status": 200, "acao": origin if allowed else None, "acac": allowed,
                      "reason": "allowed" if allowed else "origin_not_allowed", "rule": None, "path_rule": None},
        **extra,
    }  # fmt: skip
    return json.dumps(data)


def log_file(tmp_path: Path, lines: list[str], name: str = "app.log") -> str:
    path = tmp_path / name
    path.write_text("".join(f"2025-03-01 10:00:00,000 WARNING corsware.report {line}\n" for line in lines))
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli_main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_report_names_the_origin_that_would_break(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = log_file(tmp_path, [record("https://app.example.com", "same")] + [record("https://evil.example")] * 2)
    second = log_file(tmp_path, [record("https://app.example.com", "same", when="2025-03-02T00:00:00.000Z")], "b.log")
    status, out, _ = run(capsys, "report", first, second)
    assert status == 1
    lines = out.splitlines()
    assert lines[1].split()[:2] == ["ORIGIN", "RECORDS"]
    assert lines[2].split()[:2] == ["https://evil.example", "2"]
    assert "WOULD BREAK" in lines[2]
    assert "origin_not_allowed" in lines[2]
    assert "unchanged" in lines[3]
    assert lines[3].endswith("2025-03-02T00:00:00.000Z")
    assert "would break under the candidate: https://evil.example" in out
    status, out, _ = run(capsys, "report", first, "--json")
    data = json.loads(out)
    assert data["would_break"] == ["https://evil.example"]
    assert data["origins"][0]["records"] == 2


def test_report_exit_status_is_0_when_nothing_would_break(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "report", log_file(tmp_path, [record("https://app.example.com", "same")]))
    assert status == 0
    assert "no origin allowed today would break" in out


@pytest.mark.parametrize(
    ("junk", "skipped"),
    [
        pytest.param('{"corsware_report":1,"time":"2025', {"truncated_or_malformed": 1}, id="truncated"),
        pytest.param('{"corsware_report":1,"foo":2}', {"not_a_record": 1}, id="foreign-json"),
        pytest.param('{"corsware_report":1,"origin":"x","outcome":"nope","sent":{},"candidate":{},"time":"t",'
                     '"path":"/","kind":"actual"}', {"not_a_record": 1}, id="unknown-outcome"),
        pytest.param("\x00\xff\xfe\x1b[2J binary", {}, id="binary-garbage"),
        pytest.param('{"level": "info", "msg": "json log line of the app"}', {}, id="other-json-lines"),
        pytest.param("x" * (3 * _traffic.MAX_LINE), {"line_too_long": 1}, id="huge-line"),
    ],
)  # fmt: skip
def test_bad_input_is_counted_and_skipped(
    junk: str, skipped: dict[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mixed.log"
    path.write_bytes((record("https://evil.example") + "\n" + junk + "\n").encode("utf-8", "surrogateescape"))
    status, out, err = run(capsys, "report", str(path), "--json")
    data = json.loads(out)
    assert (status, data["records"], data["skipped"]) == (1, 1, skipped)
    if skipped:
        assert "skipped:" in err


def test_unreadable_log_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "report", str(tmp_path / "missing.log"))
    assert status == 2
    assert "missing.log: cannot read it" in err


def test_reading_is_streamed_in_bounded_memory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 40 MB log (long junk lines, a 16 MB line, 40 000 records from 20 000 origins) is
    read in a few MB: lines are capped, and origins beyond the cap are counted together."""
    path = tmp_path / "big.log"
    with path.open("w") as f:
        f.write("y" * (16 * 1024 * 1024) + "\n")
        for i in range(40_000):
            f.write("noise " * 300 + "\n")
            f.write(record(f"https://o{i % 20_000}.example.com", path=f"/p/{i}") + "\n")
    tracemalloc.start()
    try:
        traffic = _traffic.read_traffic([str(path)], progress=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert traffic.records == 40_000
    assert len(traffic.origins) == _traffic.MAX_ORIGINS + 1  # + "(other origins)"
    assert traffic.skipped["line_too_long"] == 1
    # 10 000 origin summaries dominate; a whole-file read would take > 40 MB.
    assert peak < 30 * 1024 * 1024, peak


def test_progress_goes_to_stderr_on_large_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_traffic, "PROGRESS_EVERY", 1000)
    path = log_file(tmp_path, [record("https://evil.example")] * 20)
    status, out, err = run(capsys, "report", path)
    assert status == 1
    assert "MiB read" in err
    assert "MiB read" not in out


def suggest(capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: str) -> tuple[str, dict[str, Any]]:
    output = tmp_path / "suggested.toml"
    status, _, _ = run(capsys, "suggest", *argv, "-o", str(output))
    assert status == 0
    text = output.read_text()
    # What `corsware suggest` writes passes `corsware check` with no warning...
    status, out, _ = run(capsys, "check", str(output))
    assert status == 0, out
    return text, load_policy_file(output)


def test_suggest_allows_what_works_today_and_the_candidate_confirms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = log_file(tmp_path, [
        record("https://app.example.com", "same"),
        record("https://admin.example.com", "same", kind="preflight", request_method="PUT",
               request_headers="Content-Type, X-Token"),
        record("https://evil.example"),
    ])  # fmt: skip
    text, data = suggest(capsys, tmp_path, log, "--credentials")
    assert data["allow_origins"] == ["https://admin.example.com", "https://app.example.com"]
    assert data["allow_credentials"] is True
    assert data["allow_methods"] == ["GET", "HEAD", "POST", "PUT"]
    assert data["allow_headers"] == ["content-type", "x-token"]
    assert '# "https://evil.example",  # 1 record(s), last seen 2025-03-01T10:00:00.000Z; the candidate refuses' in text
    assert "https://app.example.com" in text
    _, data = suggest(capsys, tmp_path, log, "--credentials", "--allow-refused", "--exclude", "https://app.example.com")
    assert data["allow_origins"] == ["https://admin.example.com", "https://evil.example"]


@pytest.mark.parametrize(
    ("origins", "argv", "active", "flag"),
    [
        pytest.param(["null"], ["--credentials"], [], "dangerously_allow_null_origin", id="null"),
        pytest.param(["http://shop.example.com"], ["--credentials"], [], "dangerously_allow_insecure_origins",
                     id="plain-http-with-credentials"),
        pytest.param(["http://shop.example.com"], [], ["http://shop.example.com"], None, id="plain-http-no-credentials"),
        pytest.param(["http://localhost:5000"], ["--credentials"], ["http://localhost:5000"], None, id="loopback"),
        pytest.param(["https://a.github.io", "https://b.github.io"], ["--credentials", "--fold-subdomains", "2"],
                     ["https://a.github.io", "https://b.github.io"], "dangerously_allow_public_suffix_patterns",
                     id="public-suffix-not-folded"),
        pytest.param(["https://a.example.com", "https://b.example.com"], ["--credentials", "--fold-subdomains", "2"],
                     ["https://*.example.com"], None, id="folded"),
        pytest.param(["https://a.example.com", "https://b.example.com"], ["--fold-subdomains", "3"],
                     ["https://a.example.com", "https://b.example.com"], None, id="below-threshold"),
        pytest.param(["*"], ["--credentials"], [], None, id="wildcard-never"),
        pytest.param(["https://*.evil.example"], ["--credentials"], [], None, id="pattern-in-origin-header"),
        pytest.param(['https://x.example"]\nallow_origins = ["*'], ["--credentials"], [], None, id="toml-injection"),
    ],
)  # fmt: skip
def test_suggest_never_allows_dangerous_origins_silently(
    origins: list[str], argv: list[str], active: list[str], flag: str | None,
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    log = log_file(tmp_path, [record(o, "same") for o in origins])
    text, data = suggest(capsys, tmp_path, log, *argv)
    assert data["allow_origins"] == active
    assert "*" not in data["allow_origins"]
    if flag is not None:
        assert f"# {flag} = true  # only if you accept the risk" in text
        assert f"refused unless {flag} = true" in text
    assert not any(key.startswith("dangerously") for key in data)
    assert set(data.get("corsware", {}).get("accept", [])) <= {"allows_nothing", "broad_subdomains"}
    CORSPolicy.from_file(tmp_path / "suggested.toml")


def test_suggest_rejects_a_useless_fold_threshold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "suggest", log_file(tmp_path, []), "--fold-subdomains", "1")
    assert status == 2
    assert "--fold-subdomains must be at least 2" in err
