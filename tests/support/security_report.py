"""Measure corsware's security figures and (with ``--write``) publish them in docs/security.md.

    python -m tests.support.security_report                 # everything, print only
    python -m tests.support.security_report --write         # ... and refresh docs/security.md
    python -m tests.support.security_report --sections memory,load,swap   # = make soak
    python -m tests.support.security_report --sections hostile --write    # one row, a few seconds

It lives beside the suite because it runs the suite's own files, fuzz targets and load
harness (``benchmarks/`` imports nothing from ``tests/``).

Sections (sizes in the ``SIZES`` table below; ``--scale 0.1`` for a quick run):
- ``regressions``: the named regression, log-injection and hostile-input tests (pytest);
- ``props``: the hypothesis properties at a deep example budget (pytest, statistics);
- ``fuzz``: every atheris target for a fixed time (libFuzzer ``Done N runs``);
- ``memory``: one million preflights with random origins and header lists;
- ``hostile``: the memory a client can fill: a policy with 100 per-path rules whose every
  cache is filled with distinct hostile keys of the largest cacheable size (tracemalloc);
- ``load``: gunicorn gthread and uvicorn under concurrent requests with distinct origins;
- ``swap``: the same while the middleware's policy is swapped every ~0.5 ms.

Results go to ``docs/security-figures.json``; the table between the ``figures`` markers of
``docs/security.md`` (and of its Chinese twin ``docs/zh/security.md``, which shows the same
table) is regenerated from it. A run of only some sections keeps the others'
figures and the date of the last full run; the rows it measured say when.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import harness
from .fuzz.targets import TARGETS

ROOT = Path(__file__).resolve().parents[2]

DOC = ROOT / "docs" / "security.md"
# Pages that publish the figures table between the markers: the English page and its Chinese
# twin (tests/docs/test_examples.py checks that both show the same table).
DOCS = (DOC, ROOT / "docs" / "zh" / "security.md")
DATA = ROOT / "docs" / "security-figures.json"
START, END = "<!-- figures:start -->", "<!-- figures:end -->"
SIZES = {
    "props_examples": 5000,
    "fuzz_seconds": 60,
    "preflights": 1_000_000,
    "hostile_rounds": 8,
    "load_requests": 20_000,
    "swap_requests": 10_000,
}


def _pytest(args: list[str], env: dict[str, str] | None = None) -> str:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    return proc.stdout


def regressions() -> dict[str, Any]:
    out = _pytest(["tests/security/test_regressions.py", "tests/security/test_log_injection.py"])
    return {"checks": int(re.search(r"(\d+) passed", out).group(1))}  # type: ignore[union-attr]


def props(examples: int) -> dict[str, Any]:
    files = ["tests/security/test_props_origins.py", "tests/security/test_props_headers.py"]
    out = _pytest(
        [*files, "--hypothesis-show-statistics"],
        env={"CORSWARE_PROP_EXAMPLES": str(examples), "CORSWARE_PROP_RANDOM": "1"},
    )
    passing = sum(int(n) for n in re.findall(r"(\d+) passing", out))
    properties = len(re.findall(r"^tests/\S+::test_\w+:$", out, re.MULTILINE))
    return {"examples_per_property": examples, "examples": passing, "properties": properties}


def fuzz(seconds: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name in TARGETS:
        corpus = ROOT / ".fuzz" / "corpus" / name
        cmd = [sys.executable, "-m", "tests.support.fuzz.run", name, f"-max_total_time={seconds}",
               f"-artifact_prefix={ROOT / '.fuzz'}/", str(corpus)]  # fmt: skip
        (ROOT / ".fuzz").mkdir(exist_ok=True)
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
        output = proc.stdout + proc.stderr
        done = re.search(r"Done (\d+) runs", output)
        if proc.returncode != 0 or done is None:
            raise SystemExit(f"fuzz target {name} failed:\n{output[-4000:]}")
        cov = re.findall(r"cov: (\d+)", output)
        results[name] = {"runs": int(done.group(1)), "seconds": seconds, "coverage": int(cov[-1]) if cov else None}
    return {"targets": results, "runs": sum(r["runs"] for r in results.values())}


def memory(n: int) -> dict[str, Any]:
    return harness.preflight_soak(n, traced=20_000).as_dict()


def hostile(rounds: int) -> dict[str, Any]:
    every = harness.hostile_fill(100, 1024, rounds=rounds)
    # Enough of the largest keys to fill the budget twice over, at the reflecting plans.
    largest = harness.hostile_fill(100, 1024, rounds=max(1, 5 * rounds), kinds=[harness.HEAVIEST_KIND],
                                   reflecting_only=True)  # fmt: skip
    return {"every_cache": every.as_dict(), "largest_keys": largest.as_dict()}


def load(n: int) -> dict[str, Any]:
    return {
        "wsgi": harness.server_load("wsgi", n, 64, seed=11).as_dict(),
        "asgi": harness.server_load("asgi", n, 1000, seed=12).as_dict(),
    }


def swap(n: int) -> dict[str, Any]:
    return {
        "wsgi": harness.swap_load("wsgi", n, 64, seed=13).as_dict(),
        "asgi": harness.swap_load("asgi", n, 500, seed=14).as_dict(),
    }


def render(data: dict[str, Any]) -> str:
    rows = ["| Figure | Value | Reproduce with |", "|---|---|---|"]
    py = "python -m tests.support.security_report --sections"
    if "regressions" in data:
        rows.append(f"| Named regression checks passed (CVE/issue cases x core + adapters, log injection) "
                    f"| {data['regressions']['checks']:,} | `pytest tests/security/test_regressions.py "
                    f"tests/security/test_log_injection.py` |")  # fmt: skip
    if "props" in data:
        p = data["props"]
        rows.append(f"| Hypothesis examples (bad and good inputs), {p['properties']} properties "
                    f"| {p['examples']:,} | `CORSWARE_PROP_EXAMPLES={p['examples_per_property']} "
                    f"pytest tests/security/test_props_*.py` |")  # fmt: skip
    if "fuzz" in data:
        f = data["fuzz"]
        per = ", ".join(f"{k} {v['runs']:,}" for k, v in f["targets"].items())
        secs = next(iter(f["targets"].values()))["seconds"]
        rows.append(f"| Fuzz executions, {len(f['targets'])} atheris targets x {secs} s ({per}); crashes: 0 "
                    f"| {f['runs']:,} | `make fuzz FUZZ_TIME={secs}` |")  # fmt: skip
    if "memory" in data:
        m = data["memory"]
        rss = m["rss_kib"]
        rows.append(f"| Preflights with random origins and header lists | {m['preflights']:,} "
                    f"({m['seconds']:.0f} s) | `make soak` |")  # fmt: skip
        rows.append(f"| Preflight cache entries: bound / largest seen | {m['cache_bound']:,} / "
                    f"{m['cache_max_seen']:,} | `make soak` |")  # fmt: skip
        rows.append(f"| Process RSS after warm-up -> after the last preflight | {rss[0] / 1024:.1f} MiB -> "
                    f"{rss[-1] / 1024:.1f} MiB | `make soak` |")  # fmt: skip
        rows.append(f"| tracemalloc, last {m['traced_window']:,} preflights: middle -> end | "
                    f"{m['traced_kib'][0]:,.0f} KiB -> {m['traced_kib'][-1]:,.0f} KiB "
                    f"({m['traced_growth_kib']:+.0f} KiB) | `make soak` |")  # fmt: skip
    if "hostile" in data:
        h = data["hostile"]
        when = _when(h, data)
        every, largest = h["every_cache"], h["largest_keys"]
        cmd = f"`{py} hostile`"
        rows.append(f"| Memory clients can fill: {every['rules']} per-path rules, every cache of every rule fed "
                    f"distinct hostile keys ({len(every['kinds'])} kinds, {every['requests']:,} requests): entries "
                    f"kept / traced memory they hold (the policy itself: {every['construction_kib'] / 1024:.1f} MiB)"
                    f" | {every['entries']:,} / {every['filled_kib'] / 1024:.1f} MiB{when} | {cmd} |")  # fmt: skip
        rows.append(f"| ... only the largest cacheable entries (1 KiB keys, origin and header list reflected; "
                    f"{largest['requests']:,} requests) | {largest['entries']:,} / "
                    f"{largest['filled_kib'] / 1024:.1f} MiB{when} | {cmd} |")  # fmt: skip
    for key, label in (("load", "Concurrent requests checked"), ("swap", "Requests checked during policy swaps")):
        if key not in data:
            continue
        for kind, fig in data[key].items():
            what = f"{label}, {fig['server']}, {fig['concurrency']} at a time"
            value = f"{fig['requests']:,} in {fig['seconds']:.1f} s, {fig['mismatches']} mismatched"
            if key == "swap":
                value += (f"; {fig['swaps']:,} swaps ({fig['only_a']:,} answered by policy A only, "
                          f"{fig['only_b']:,} by B only)")  # fmt: skip
            else:
                value += f" ({fig['allowed']:,} allowed, {fig['refused']:,} refused, {fig['preflights']:,} preflights)"
            rows.append(f"| {what} | {value} | `{py} {key}` |")
    meta = data["meta"]
    rows.append("")
    rows.append(f"Measured {meta['date']} on {meta['machine']} (Python {meta['python']}, {meta['cpus']} CPUs), "
                f"by `make security-report`.")  # fmt: skip
    return "\n".join(rows)


def _when(section: dict[str, Any], data: dict[str, Any]) -> str:
    """`` (measured DATE)`` for a section measured after the last full run, else nothing."""
    date = section.get("measured")
    return f" (measured {date})" if date and date != data["meta"]["date"] else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", default="regressions,props,fuzz,memory,hostile,load,swap")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every size (e.g. 0.1 for a quick run)")
    parser.add_argument("--write", action="store_true", help="update docs/security-figures.json and docs/security.md")
    parser.add_argument("--render-only", action="store_true", help="only re-render docs/security.md from the JSON")
    args = parser.parse_args()
    if args.render_only:
        _write_doc(render(json.loads(DATA.read_text())))
        return
    size = {k: max(1, int(v * args.scale)) for k, v in SIZES.items()}
    data: dict[str, Any] = json.loads(DATA.read_text()) if args.write and DATA.exists() else {}
    sections = {
        "regressions": regressions,
        "props": lambda: props(size["props_examples"]),
        "fuzz": lambda: fuzz(size["fuzz_seconds"]),
        "memory": lambda: memory(size["preflights"]),
        "hostile": lambda: hostile(size["hostile_rounds"]),
        "load": lambda: load(size["load_requests"]),
        "swap": lambda: swap(size["swap_requests"]),
    }
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    names = args.sections.split(",")
    for name in names:
        start = time.perf_counter()
        data[name] = {**sections[name](), "measured": date}
        print(f"{name} ({time.perf_counter() - start:.0f} s): {json.dumps(data[name])}", flush=True)
    if "meta" not in data or set(sections) <= set(names):
        data["meta"] = {
            "date": date,
            "machine": f"{platform.system()} {platform.machine()}",
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        }
    table = render(data)
    print(table)
    if args.write:
        DATA.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        _write_doc(table)


def _write_doc(table: str) -> None:
    for doc in DOCS:
        if not doc.exists():
            continue
        text = doc.read_text(encoding="utf-8")
        if START not in text or END not in text:
            raise SystemExit(f"{doc}: the {START} ... {END} markers are missing; put them back around the table")
        head, _, rest = text.partition(START)
        _, _, tail = rest.partition(END)
        doc.write_text(f"{head}{START}\n{table}\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()
