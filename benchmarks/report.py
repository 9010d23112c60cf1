"""The performance targets (docs/performance.md), the Markdown results and the chart."""

from __future__ import annotations

import argparse
import math
import os
import platform
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .inprocess import Memory, Timing
from .scenarios import BY_NAME, ORDINARY, SCENARIOS, Scenario
from .servers import ServerResult
from .subjects import FAMILIES, LABELS, PEERS

BEGIN = "<!-- bench:begin (written by `make bench`; do not edit by hand) -->"
END = "<!-- bench:end -->"
#: What a smoke run shows instead of a verdict: its counts are far too small to judge a target.
NOT_JUDGED = "not judged in a smoke run"
GEOMEAN_FLOOR = 0.01  # a subject at or below its bare app counts as 0.01x in a geometric mean
BEFORE = "corsware_before"
#: How much slower (µs, after - before, median of the paired trials) an actual request or a
#: cached preflight may get against ``--before`` (the families where 0.1 µs is measurable).
BEFORE_BUDGET_US = 0.10
BEFORE_FAMILIES = ("asgi", "wsgi")


@dataclass
class Results:
    timings: dict[tuple[str, str], Timing]  # (family, scenario) -> timing
    memory: dict[tuple[str, str, str], Memory]  # (family, scenario, subject)
    servers: list[ServerResult]
    cache_len: int
    cache_bound: int
    settings: str
    #: False for a smoke run: its counts are too small to say whether a target is met.
    judged: bool = True
    #: With ``--before REV``: the short sha of REV (the ``corsware_before`` subject).
    before: str = ""

    def label(self, subject: str) -> str:
        """The subject's name in tables (the old revision's sha shown beside "before")."""
        if subject == BEFORE and self.before:
            return f"{LABELS[BEFORE]} ({self.before})"
        return LABELS[subject]


@dataclass
class Target:
    name: str
    goal: str
    measured: str
    ok: bool


def _ratio(t: Timing, a: str, b: str) -> float:
    return t.overhead(a) / t.overhead(b)


def _geomean(values: Sequence[float]) -> float:
    return math.exp(statistics.fmean(math.log(max(v, GEOMEAN_FLOOR)) for v in values))


def guarded(scenario: Scenario) -> bool:
    """Whether ``--before`` holds ``scenario`` to :data:`BEFORE_BUDGET_US`: every request the
    app answers (with or without ``Origin``) and cached preflights (not the adversarial ones,
    nor the uncached preflights)."""
    return not scenario.adversarial and (scenario.kind in ("actual", "none") or scenario.name == "preflight_hit")


def before_after(r: Results) -> list[tuple[str, Scenario, Timing]]:
    """Every (family, scenario) timed with the ``corsware_before`` subject, in table order."""
    return [
        (fam, s, r.timings[(fam, s.name)])
        for fam in FAMILIES
        for s in SCENARIOS
        if (fam, s.name) in r.timings and BEFORE in r.timings[(fam, s.name)].per_request
    ]


def targets(r: Results) -> list[Target]:
    out: list[Target] = []
    asgi = [r.timings[("asgi", s.name)] for s in SCENARIOS if ("asgi", s.name) in r.timings]
    if asgi:
        ratios = {t.scenario: _ratio(t, "corsware", "starlette") for t in asgi}
        geo = _geomean(list(ratios.values()))
        worst = max(ratios, key=lambda k: ratios[k])
        out.append(Target("ASGI vs Starlette (geometric mean)", "≤ 0.15×", f"{geo:.3f}×", geo <= 0.15))
        out.append(Target("ASGI vs Starlette (worst scenario)", "≤ 0.25×", f"{ratios[worst]:.3f}× ({worst})",
                          ratios[worst] <= 0.25))  # fmt: skip
        # The 10 000-origin and 1 MiB scenarios, where Starlette scales badly, flatter the mean.
        ordinary = {k: v for k, v in ratios.items() if k in ORDINARY}
        if ordinary:
            geo = _geomean(list(ordinary.values()))
            worst = max(ordinary, key=lambda k: ordinary[k])
            out.append(Target("ASGI vs Starlette (geometric mean, ordinary scenarios)", "≤ 0.15×",
                              f"{geo:.3f}× ({len(ordinary)} scenarios)", geo <= 0.15))  # fmt: skip
            out.append(Target("ASGI vs Starlette (worst ordinary scenario)", "≤ 0.25×",
                              f"{ordinary[worst]:.3f}× ({worst})", ordinary[worst] <= 0.25))  # fmt: skip
    for fam in ("asgi", "wsgi"):
        actual = [r.timings[(fam, s.name)] for s in SCENARIOS if s.kind == "actual" and (fam, s.name) in r.timings]
        if actual:
            ratios = {t.scenario: _ratio(t, "corsware", "noop_wrap") for t in actual}
            worst = max(ratios, key=lambda k: ratios[k])
            out.append(Target(f"{fam.upper()} actual requests vs send-wrapping floor (worst)", "≤ 1.5×",
                              f"{ratios[worst]:.2f}× ({worst})", ratios[worst] <= 1.5))  # fmt: skip
    for fam in FAMILIES:
        t = r.timings.get((fam, "preflight_hit"))
        if t is not None:
            mine, bare = t.median("corsware"), t.median("bare")
            measured = f"{mine / bare:.2f}× ({mine / 1000:.2f} vs {bare / 1000:.2f} µs)"
            out.append(
                Target(f"{fam}: cached preflight vs the bare app answering it", "≤ 1.0×", measured, mine <= bare)
            )
    for fam, peer, goal in (("flask", "flask_cors", 0.05), ("django", "django_cors", 0.03)):
        ts = [r.timings[(fam, s.name)] for s in SCENARIOS if (fam, s.name) in r.timings]
        if ts:
            ratios = {t.scenario: _ratio(t, "corsware", peer) for t in ts}
            worst = max(ratios, key=lambda k: ratios[k])
            out.append(Target(f"{fam.capitalize()}: vs {LABELS[peer]} (worst scenario)", f"≤ {goal}×",
                              f"{ratios[worst]:.3f}× ({worst})", ratios[worst] <= goal))  # fmt: skip
    for fam in ("asgi", "wsgi"):
        # Separate runs, so not paired by trial: the ratio of the two medians.
        allowed, refused = r.timings.get((fam, "preflight_miss")), r.timings.get((fam, "preflight_refused_miss"))
        if allowed and refused:
            a, b = allowed.overhead("corsware"), refused.overhead("corsware")
            out.append(Target(f"{fam.upper()}: refused preflight, new header lists vs allowed, new header lists",
                              "≤ 1.00×", f"{b / a:.2f}× ({b / 1000:.2f} vs {a / 1000:.2f} µs)", b <= a))  # fmt: skip
    for fam in BEFORE_FAMILIES:
        diffs = {s.name: t.difference("corsware", BEFORE) for f, s, t in before_after(r) if f == fam and guarded(s)}
        if diffs:
            worst = max(diffs, key=lambda k: diffs[k])
            name = f"{fam.upper()}: actual requests and cached preflights: after − before (worst)"
            measured = f"{diffs[worst] / 1000:+.2f} µs ({worst}; before = {r.before})"
            ok = diffs[worst] <= BEFORE_BUDGET_US * 1000
            out.append(Target(name, f"≤ +{BEFORE_BUDGET_US:.2f} µs", measured, ok))
    for fam in ("asgi", "wsgi"):
        one, many = r.timings.get((fam, "simple")), r.timings.get((fam, "origins_10000"))
        if one and many:
            a, b = one.overhead("corsware"), many.overhead("corsware")
            out.append(Target(f"{fam.upper()}: 10 000 origins vs 1 origin (overhead)", "≤ 1.10×",
                              f"{b / a:.2f}× ({b / 1000:.2f} vs {a / 1000:.2f} µs)", b <= 1.10 * a))  # fmt: skip
    for (fam, scen, subject), mem in sorted(r.memory.items()):
        if subject != "corsware":
            continue
        t = r.timings.get((fam, scen))
        per = t.median("corsware") if t else float("nan")
        out.append(Target(f"{fam.upper()}: {BY_NAME[scen].title} refused in", "< 1 ms",
                          f"{per / 1000:.1f} µs", per < 1e6))  # fmt: skip
        out.append(Target(f"{fam.upper()}: {BY_NAME[scen].title}: memory kept after {mem.requests} requests",
                          "no growth (< 4 KiB)", f"{mem.growth} B (peak {mem.peak / 1024:.0f} KiB)",
                          mem.growth < 4096))  # fmt: skip
    out.append(Target("Preflight cache after the cache-miss runs", f"≤ {r.cache_bound} entries",
                      f"{r.cache_len} entries", r.cache_len <= r.cache_bound))  # fmt: skip
    for res in r.servers:
        if res.server == "uvicorn" and res.scenario == "simple":
            v = res.ratio("corsware", "cpu_per_request")
            out.append(Target("uvicorn: CPU per simple request, corsware vs bare", "≤ 1.05×", f"{v:.3f}×", v <= 1.05))
            if "static_headers" in res.runs:
                pairs = zip(res.runs["corsware"], res.runs["static_headers"], strict=True)
                w = statistics.median(c.cpu_per_request / s.cpu_per_request for c, s in pairs)
                out.append(Target("(context) uvicorn: corsware vs the same headers sent with no logic", "≤ 1.05×",
                                  f"{w:.3f}×", w <= 1.05))  # fmt: skip
        if res.scenario == "preflight_hit":
            v = res.ratio("corsware", "cpu_per_request")
            out.append(Target(f"{res.server}: CPU per cached preflight, corsware vs bare", "≤ 1.00×",
                              f"{v:.3f}×", v <= 1.0))  # fmt: skip
    return out


def _us(ns: float) -> str:
    us = ns / 1000
    if abs(us) >= 100:
        return f"{us:+.0f}"
    return f"{us:+.2f}" if abs(us) < 10 else f"{us:+.1f}"


def _versions() -> str:
    names = ["starlette", "asgi-cors", "flask", "flask-cors", "django", "django-cors-headers", "uvicorn",
             "gunicorn", "werkzeug"]  # fmt: skip
    found = []
    for n in names:
        try:
            found.append(f"{n} {metadata.version(n)}")
        except metadata.PackageNotFoundError:
            found.append(f"{n} (missing)")
    return ", ".join(found)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
            f"CPython {platform.python_version()}; load average at the end {load}")  # fmt: skip


def markdown(r: Results, when: str) -> str:
    lines = [
        f"Run: {when}, `{r.settings}`.",
        "",
        f"Machine: {machine()}.",
        "",
        f"Versions: corsware {metadata.version('corsware')}, {_versions()}.",
        "",
        "### Targets",
        "",
        "| target | goal | measured | |",
        "| --- | --- | --- | --- |",
    ]
    ts = targets(r)
    for t in ts:
        verdict = ("pass" if t.ok else "**FAIL**") if r.judged else NOT_JUDGED
        lines.append(f"| {t.name} | {t.goal} | {t.measured} | {verdict} |")
    passed = sum(t.ok for t in ts)
    summary = f"{passed} of {len(ts)} targets met." if r.judged else f"{len(ts)} targets measured, {NOT_JUDGED}."
    lines += ["", summary, ""]
    lines += _before_after_table(r)
    for fam in FAMILIES:
        rows = [s for s in SCENARIOS if (fam, s.name) in r.timings]
        if not rows:
            continue
        subjects = [s for s in r.timings[(fam, rows[0].name)].per_request if s != "bare"]
        peers = PEERS[fam]
        lines += [
            f"### In-process, {fam}: overhead per request above the bare app (µs, median)",
            "",
            "| scenario | bare app (µs) | "
            + " | ".join(r.label(s) for s in subjects)
            + "".join(f" | corsware ÷ {LABELS[p]}" for p in peers)
            + " |",
            "| --- | ---: | " + " | ".join("---:" for _ in subjects) + "".join(" | ---:" for _ in peers) + " |",
        ]
        for s in rows:
            t = r.timings[(fam, s.name)]
            cells = [f"{t.median('bare') / 1000:.2f}"] + [
                f"{_us(t.overhead(x))} ±{t.spread(x) / 1000:.2f}" for x in subjects
            ]
            cells += [f"{_ratio(t, 'corsware', p):.3f}×" for p in peers]
            lines.append(f"| {s.title} | " + " | ".join(cells) + " |")
        lines.append("")
    if r.memory:
        lines += ["### Adversarial Access-Control-Request-Headers: memory (tracemalloc)", "",
                  "| family | scenario | subject | peak during one request | kept after all requests |",
                  "| --- | --- | --- | ---: | ---: |"]  # fmt: skip
        for (fam, scen, subject), mem in sorted(r.memory.items()):
            lines.append(
                f"| {fam} | {BY_NAME[scen].title} | {LABELS[subject]} | {mem.peak / 1024:.0f} KiB | {mem.growth} B |"
            )
        lines.append("")
    if r.servers:
        lines += ["### Real servers on loopback (wrk, 1 worker): ratios to the bare app (median of rounds)", "",
                  "| server | scenario | subject | requests/s | ratio | CPU µs/request | ratio |",
                  "| --- | --- | --- | ---: | ---: | ---: | ---: |"]  # fmt: skip
        for res in r.servers:
            for subject in res.runs:
                lines.append(
                    f"| {res.server} | {BY_NAME[res.scenario].title} | {LABELS[subject]} | "
                    f"{res.median(subject, 'rps'):.0f} | {res.ratio(subject, 'rps'):.3f} | "
                    f"{res.median(subject, 'cpu_per_request') * 1e6:.1f} | "
                    f"{res.ratio(subject, 'cpu_per_request'):.3f} |"
                )
        lines.append("")
    return "\n".join(lines)


def _before_after_table(r: Results) -> list[str]:
    """The ``--before`` section: corsware's overhead at the old revision and now, and the
    median of their per-trial difference (both ran interleaved in every trial)."""
    rows = before_after(r)
    if not rows:
        return []
    lines = [
        f"### Before and after: corsware at {r.before} and now, overhead above the bare app (µs, median)",
        "",
        f"Both packages in one process, interleaved in every trial; after − before is the median of the "
        f"per-trial differences (± half their inter-quartile range). Verdicts: actual requests and cached "
        f"preflights in {' and '.join(BEFORE_FAMILIES)}, which may get at most {BEFORE_BUDGET_US:.2f} µs slower.",
        "",
        "| family | scenario | before (µs) | after (µs) | after − before (µs) | verdict |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for fam, s, t in rows:
        diff = t.difference("corsware", BEFORE)
        if fam not in BEFORE_FAMILIES or not guarded(s):
            verdict = "not a target"
        elif not r.judged:
            verdict = NOT_JUDGED
        else:
            verdict = "pass" if diff <= BEFORE_BUDGET_US * 1000 else "**FAIL**"
        lines.append(
            f"| {fam} | {s.title} | {_us(t.overhead(BEFORE))} | {_us(t.overhead('corsware'))} | "
            f"{_us(diff)} ±{t.difference_spread('corsware', BEFORE) / 1000:.2f} | {verdict} |"
        )
    lines.append("")
    return lines


def write_markdown(path: Path, body: str) -> None:
    """Replace the generated block of ``path`` (created with a heading if missing)."""
    text = path.read_text() if path.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip() + f"\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{head}{BEGIN}\n{body}\n{END}{tail}")


#: One chart per family that has a peer: corsware's overhead per request against the peer's.
CHART_FAMILIES = ("asgi", "flask", "django")
CORSWARE_COLOUR = "#3f51b5"  # the site's indigo
PEER_COLOURS = ("#9e9e9e", "#616161")
#: family -> [(scenario title, {subject label: overhead above the bare app in µs})]
ChartData = dict[str, list[tuple[str, dict[str, float]]]]
_TABLE = re.compile(r"^### In-process, (\w+): overhead per request")
_OVERHEAD = re.compile(r"^([+-]?[\d.]+)")


def chart_data(r: Results) -> ChartData:
    """What the charts show, from a run: corsware's and the peers' overhead per scenario."""
    out: ChartData = {}
    for fam in CHART_FAMILIES:
        rows = [s for s in SCENARIOS if (fam, s.name) in r.timings]
        if rows and PEERS[fam]:
            subjects = ("corsware", *PEERS[fam])
            out[fam] = [
                (s.title, {LABELS[x]: r.timings[(fam, s.name)].overhead(x) / 1000 for x in subjects}) for s in rows
            ]
    return out


def chart_data_from_markdown(text: str) -> ChartData:
    """The same, read back from the tables :func:`markdown` wrote (docs/performance.md): the
    stored record of the last ``make bench``, so the charts can be redrawn without a run."""
    out: ChartData = {}
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = _TABLE.match(line)
        if not m or m.group(1) not in CHART_FAMILIES:
            continue
        fam = m.group(1)
        wanted = [LABELS[x] for x in ("corsware", *PEERS[fam])]
        header = [c.strip() for c in lines[i + 2].strip().strip("|").split("|")]
        columns = {label: header.index(label) for label in wanted}
        rows = []
        for row in lines[i + 4 :]:
            if not row.startswith("|"):
                break
            cells = [c.strip() for c in row.strip().strip("|").split("|")]
            values = {}
            for label, col in columns.items():
                number = _OVERHEAD.match(cells[col])
                if number is None:
                    raise ValueError(f"{fam}/{cells[0]}: {label} has no figure: {cells[col]!r}")
                values[label] = float(number.group(1))
            rows.append((cells[0], values))
        out[fam] = rows
    return out


def _human(us: float) -> str:
    """A duration in µs, as a reader says it: 1.63 µs, 34 µs, 2.1 ms, 3.2 s."""
    a = abs(us)
    if a >= 1e6:
        return f"{us / 1e6:.1f} s"
    if a >= 1e3:
        return f"{us / 1e3:.1f} ms"
    return f"{us:.0f} µs" if a >= 10 else f"{us:.2f} µs"


def _tick(us: float) -> str:
    for unit, scale in (("s", 1e6), ("ms", 1e3), ("µs", 1.0)):
        if us >= scale:
            return f"{us / scale:g} {unit}"
    return f"{us:g} µs"


def charts(data: ChartData, folder: Path, *, trials: str = "median of the trials") -> list[Path]:
    """One horizontal bar chart per family, ``benchmarks-<family>.png``: the time corsware and
    each peer add to a request, per scenario, on a log scale, every bar labelled.

    A negative overhead (corsware answers a preflight before the framework's view runs, so
    the request costs less than the bare app) cannot sit on a log scale: it is written out
    instead of drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    written = []
    folder.mkdir(parents=True, exist_ok=True)
    for fam, rows in data.items():
        labels = list(rows[0][1])
        n = len(labels)
        height = 0.8 / n
        fig, ax = plt.subplots(figsize=(10, 0.3 * n * len(rows) + 1.5))
        # A smoke run on a loaded machine may measure no positive overhead at all: the scale
        # then falls back to 0.1-10 µs, so the chart is still drawn (and says so by its bars).
        positive = [v for _, values in rows for v in values.values() if v > 0] or [0.2, 1.0]
        low, high = min(positive) / 2, max(positive) * 12
        for i, label in enumerate(labels):
            colour = CORSWARE_COLOUR if i == 0 else PEER_COLOURS[(i - 1) % len(PEER_COLOURS)]
            for j, (_, values) in enumerate(rows):
                y = j + (i - (n - 1) / 2) * height
                v = values[label]
                if v > 0:
                    ax.barh(y, v - low, height=height * 0.92, color=colour, left=low)
                    ours = i == 0
                    ax.text(v * 1.08, y, f"+{_human(v)}", va="center", fontsize=8,
                            color=colour if ours else "#424242", fontweight="bold" if ours else "normal")  # fmt: skip
                else:
                    ax.text(low * 1.1, y, f"saves {_human(-v)}: answers before the app", va="center",
                            fontsize=8, color=colour, fontweight="bold")  # fmt: skip
        handles = [
            Patch(color=CORSWARE_COLOUR if i == 0 else PEER_COLOURS[(i - 1) % len(PEER_COLOURS)], label=label)
            for i, label in enumerate(labels)
        ]
        ax.set_xscale("log")
        ax.set_xlim(low, high)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([title for title, _ in rows], fontsize=9)
        ax.set_ylim(len(rows) - 0.5, -0.5)  # first scenario on top
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: _tick(x)))
        ax.grid(axis="x", alpha=0.3)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        name = {"asgi": "ASGI", "flask": "Flask", "django": "Django"}.get(fam, fam)
        ax.set_title(f"{name}: time each CORS middleware adds to a request (shorter is better)",
                     fontsize=12, loc="left", pad=24)  # fmt: skip
        ax.text(0, 1.01, f"Above the bare app, {trials}; log scale.",
                transform=ax.transAxes, fontsize=9, color="#616161")  # fmt: skip
        ax.legend(handles=handles, loc="upper right", fontsize=9, frameon=False)
        fig.tight_layout()
        path = folder / f"benchmarks-{fam}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def print_targets(ts: Sequence[Target], *, judged: bool = True) -> None:
    """Print each target with its verdict; with ``judged=False`` (a smoke run, whose tiny
    counts mean nothing) the figures only, and no PASS/FAIL."""
    for t in ts:
        mark = f"[{'PASS' if t.ok else 'FAIL'}]" if judged else "-"
        print(f"  {mark} {t.name}: {t.measured} (goal {t.goal})")
    if judged:
        print(f"  {sum(t.ok for t in ts)} of {len(ts)} targets met")
    else:
        print(f"  {len(ts)} targets measured, {NOT_JUDGED}: its counts are too small (`make bench` judges them)")


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.report --charts``: redraw the charts from docs/performance.md."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=main.__doc__)
    parser.add_argument("--charts", action="store_true", help="redraw docs/img/benchmarks-*.png from the results")
    parser.add_argument("--results", type=Path, default=Path(__file__).resolve().parent.parent / "docs/performance.md")
    args = parser.parse_args(argv)
    if not args.charts:
        parser.error("nothing to do: pass --charts")
    data = chart_data_from_markdown(args.results.read_text(encoding="utf-8"))
    if not data:
        raise SystemExit(f"{args.results}: no in-process results tables (run `make bench`)")
    run = re.search(r"trials=(\d+)", args.results.read_text(encoding="utf-8"))
    trials = f"median of {run.group(1)} trials" if run else "median of the trials"
    for path in charts(data, args.results.parent / "img", trials=trials):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
