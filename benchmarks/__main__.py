"""``python -m benchmarks``: run everything, print pass/fail, write the docs table and chart.

``--smoke`` runs every part with tiny counts (seconds), to prove the benchmark still runs;
its figures mean nothing and it writes to ``--out`` (a temporary directory by default).

``--before REV`` also times corsware as it was at git revision ``REV`` (imported beside
today's as ``corsware_before``, :mod:`benchmarks.before`), interleaved in the same trials,
and reports the two side by side.
"""

from __future__ import annotations

import argparse
import datetime
import signal
import sys
import tempfile
import time
from pathlib import Path

from . import before as before_rev
from .inprocess import measure, memory, respond
from .report import Results, chart_data, charts, markdown, print_targets, targets, write_markdown
from .scenarios import SCENARIOS
from .servers import run_servers
from .subjects import FAMILIES, LABELS, corsware_policy, family

ROOT = Path(__file__).resolve().parent.parent


def _check(fam: str, subjects: list, scenario) -> None:  # type: ignore[type-arg]
    """Refuse to time a corsware subject that does not answer as the scenario expects."""
    for subject in subjects:
        if subject.name not in ("corsware", "corsware_report_only", "corsware_before"):
            continue
        status, headers = respond(subject, scenario)
        acao = [v for k, v in headers if k == "access-control-allow-origin"]
        allowed = scenario.kind != "none" and scenario.origin is not None and not scenario.adversarial
        allowed = allowed and scenario.name != "refused" and not scenario.refused_header
        refused_preflight = scenario.kind == "preflight" and not allowed
        if allowed != bool(acao) or (refused_preflight and status != 403):
            raise SystemExit(f"{fam}/{scenario.name}: {LABELS[subject.name]} answered {status} {headers}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny counts, only proves the benchmark runs")
    parser.add_argument("--trials", type=int, default=None, help="in-process trials per scenario (default 31)")
    parser.add_argument("--chunk-ms", type=float, default=None, help="time per subject per trial (default 10 ms)")
    parser.add_argument("--rounds", type=int, default=None, help="real-server rounds (default 7)")
    parser.add_argument("--duration", type=int, default=None, help="seconds per wrk run (default 2)")
    parser.add_argument("--families", default=",".join(FAMILIES), help="in-process families to run")
    parser.add_argument("--scenarios", default="", help="comma-separated scenario names (default all)")
    parser.add_argument("--no-servers", action="store_true", help="skip the real-server part")
    parser.add_argument("--out", type=Path, default=None, help="directory for performance.md and img/ (default docs/)")
    parser.add_argument("--before", metavar="REV", default=None,
                        help="also time corsware as of git revision REV, side by side")  # fmt: skip
    args = parser.parse_args(argv)
    # Stopped with SIGTERM: unwind normally, so the servers started are stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    smoke = args.smoke
    trials = args.trials or (1 if smoke else 31)
    chunk_s = (args.chunk_ms or (0.3 if smoke else 10.0)) / 1000
    rounds = args.rounds or (1 if smoke else 7)
    duration = args.duration or (1 if smoke else 2)
    scratch = tempfile.TemporaryDirectory(prefix="corsware-bench-") if smoke and args.out is None else None
    out = args.out or (Path(scratch.name) if scratch else ROOT / "docs")
    wanted = [s for s in SCENARIOS if not args.scenarios or s.name in args.scenarios.split(",")]
    families = [f for f in args.families.split(",") if f]
    before, before_label = None, ""
    if args.before:
        sha = before_rev.resolve(args.before)
        before, before_label = before_rev.load(sha), sha[:7]
        print(f"before: corsware at {args.before} ({sha[:12]}), imported as {before.__name__}")

    started = time.monotonic()
    timings, mems = {}, {}
    for fam in families:
        print(f"{fam}:")
        for scenario in wanted:
            if smoke and fam in ("flask", "django") and scenario.name not in ("simple", "preflight_miss"):
                continue  # the frameworks' peers take up to seconds per request: two scenarios prove they run
            subjects = family(fam, scenario, before)
            _check(fam, subjects, scenario)
            # Peers take up to seconds per adversarial request: fewer trials there.
            t = measure(subjects, scenario, trials=min(trials, 5) if scenario.adversarial else trials, chunk_s=chunk_s)
            timings[(fam, scenario.name)] = t
            print(f"  {scenario.name:15s} bare {t.median('bare') / 1000:7.2f} µs | " + "  ".join(
                f"{LABELS[s.name]} {t.overhead(s.name) / 1000:+.2f}" for s in subjects[1:]))  # fmt: skip
            if before is not None:
                print(f"  {'':15s} after - before {t.difference('corsware', 'corsware_before') / 1000:+.2f} µs")
            if scenario.adversarial and fam in ("asgi", "wsgi"):
                for subject in subjects:
                    if subject.name != "bare":
                        mems[(fam, scenario.name, subject.name)] = memory(subject, scenario, 3 if smoke else 20)
    miss = next((s for s in wanted if s.varying), None)
    plan = corsware_policy(miss).plan if miss else None
    servers = []
    if not args.no_servers:
        print("servers:")
        servers = run_servers(
            rounds=rounds,
            duration=duration,
            scenarios=("simple",) if smoke else ("simple", "preflight_hit"),
            warm_up=not smoke,
        )
    command = "python -m benchmarks --smoke" if smoke else "make bench"
    if args.before:
        command += f" --before {args.before}" if smoke else f" BENCH_BEFORE={args.before}"
    settings = command + (f" (trials={trials}, chunk={chunk_s * 1000:g} ms, server rounds={rounds} × {duration} s)")
    results = Results(timings, mems, servers, len(plan.cache) if plan else 0,
                      plan.cache.maxsize if plan else 0, settings, judged=not smoke, before=before_label)  # fmt: skip
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print("targets:")
    print_targets(targets(results), judged=not smoke)
    write_markdown(out / "performance.md", markdown(results, when))
    pictures = charts(chart_data(results), out / "img", trials=f"median of {trials} trials")
    print(f"wrote {out / 'performance.md'} and {', '.join(p.name for p in pictures)} in "
          f"{time.monotonic() - started:.0f} s")  # fmt: skip
    if scratch is not None:
        scratch.cleanup()  # a smoke run's figures mean nothing: only that it ran
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
