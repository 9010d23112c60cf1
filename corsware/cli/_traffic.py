"""``corsware report`` and ``corsware suggest``: read report-only records from log files.

Records are the JSON objects the report-only layer writes on the ``corsware.report`` logger
(``corsware._report``), one per line, found anywhere in a line (a log formatter may put a
time stamp and level in front) by their first key. Any number of files from any number of
workers and machines are read as streams: memory is bounded by the caps below whatever the
input (a 1 GB file, binary garbage, a truncated last line), and every line that is not a
valid record is counted, never fatal.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Final

from .._errors import CORSConfigError
from .._headers import is_token
from .._origins import OriginPattern, parse_origin_pattern
from .._policy import CORSPolicy
from .._report import OUTCOMES, RECORD_KEY
from ._check import policy_warnings
from ._output import EXIT_NO, EXIT_OK, CommandError, Style, print_json, printable

__all__ = ["Traffic", "read_traffic", "run_report", "run_suggest", "suggest_toml"]

#: A line longer than this is not a record (records are capped at a few KiB): its rest is
#: skipped without being held in memory.
MAX_LINE: Final = 64 * 1024
#: Distinct origins kept; the others are counted together (hostile traffic cannot grow it).
MAX_ORIGINS: Final = 10_000
#: Distinct paths, reasons, methods and headers kept per origin.
MAX_PER_ORIGIN: Final = 20
#: Progress goes to stderr every this many bytes, for inputs at least this large.
PROGRESS_EVERY: Final = 64 * 1024 * 1024

_MARKER: Final = b'{"' + RECORD_KEY.encode() + b'"'
_OTHER: Final = "(other origins)"
_DECODER: Final = json.JSONDecoder()


@dataclass
class OriginStats:
    """What the records say about one origin."""

    origin: str
    records: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    paths: Counter[str] = field(default_factory=Counter)
    more_paths: int = 0
    methods: Counter[str] = field(default_factory=Counter)
    headers: Counter[str] = field(default_factory=Counter)
    granted_today: bool = False
    credentials_today: bool = False
    candidate_allows: bool = False
    first_seen: str = ""
    last_seen: str = ""

    @property
    def verdict(self) -> str:
        """The most important outcome: would_refuse first (that origin would break)."""
        for name in OUTCOMES:
            if self.outcomes[name]:
                return name
        return "same"

    def as_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "records": self.records,
            "verdict": self.verdict,
            "outcomes": dict(self.outcomes),
            "reasons": dict(self.reasons),
            "paths": dict(self.paths.most_common()),
            "more_paths": self.more_paths,
            "methods": sorted(self.methods),
            "headers": sorted(self.headers),
            "allowed_today": self.granted_today,
            "credentials_today": self.credentials_today,
            "candidate_allows": self.candidate_allows,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
        }


def _bounded_add(counter: Counter[str], key: str) -> bool:
    if key in counter or len(counter) < MAX_PER_ORIGIN:
        counter[key] += 1
        return True
    return False


@dataclass
class Traffic:
    """Records read from log files, aggregated per origin (bounded)."""

    files: list[str] = field(default_factory=list)
    lines: int = 0
    records: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    origins: dict[str, OriginStats] = field(default_factory=dict)

    def add(self, record: dict[str, Any]) -> bool:
        """Aggregate one decoded record; False when it is not a valid record."""
        origin, outcome, sent, cand = (record.get(k) for k in ("origin", "outcome", "sent", "candidate"))
        when, path, kind = record.get("time"), record.get("path"), record.get("kind")
        if not (
            isinstance(origin, str) and outcome in OUTCOMES and isinstance(sent, dict) and isinstance(cand, dict)
            and isinstance(when, str) and isinstance(path, str) and kind in ("actual", "preflight")
        ):  # fmt: skip
            return False
        stats = self.origins.get(origin)
        if stats is None:
            if len(self.origins) >= MAX_ORIGINS:
                origin = _OTHER
                stats = self.origins.get(origin)
            if stats is None:
                stats = self.origins[origin] = OriginStats(origin)
        self.records += 1
        stats.records += 1
        stats.outcomes[outcome] += 1
        reason = cand.get("reason")
        if isinstance(reason, str):
            _bounded_add(stats.reasons, reason)
        if not _bounded_add(stats.paths, path):
            stats.more_paths += 1
        acao = sent.get("acao")
        if acao in ("*", record["origin"]) and outcome != "would_allow":
            stats.granted_today = True
            stats.credentials_today |= sent.get("acac") is True
        stats.candidate_allows |= cand.get("allowed") is True
        method = record.get("request_method")
        if isinstance(method, str) and is_token(method):
            _bounded_add(stats.methods, method.upper())
        requested = record.get("request_headers")
        if isinstance(requested, str):
            for item in requested.split(","):
                name = item.strip(" \t").lower()
                if name and is_token(name):
                    _bounded_add(stats.headers, name)
        if not stats.first_seen or when < stats.first_seen:
            stats.first_seen = when
        stats.last_seen = max(stats.last_seen, when)
        return True

    def rows(self) -> list[OriginStats]:
        """Origins that would break first, then by number of records."""
        order = list(OUTCOMES)
        return sorted(self.origins.values(), key=lambda s: (order.index(s.verdict), -s.records, s.origin))


def _lines(stream: BinaryIO) -> Iterator[tuple[bytes, bool]]:
    """Lines of at most ``MAX_LINE`` bytes; (line, True) for a line that was longer (its
    rest is read and dropped in ``MAX_LINE`` pieces)."""
    while True:
        line = stream.readline(MAX_LINE)
        if not line:
            return
        if len(line) == MAX_LINE and not line.endswith(b"\n"):
            while True:
                rest = stream.readline(MAX_LINE)
                if not rest or rest.endswith(b"\n"):
                    break
            yield line, True
            continue
        yield line, False


def read_traffic(paths: Iterable[str], *, progress: bool = True) -> Traffic:
    """Stream every file in ``paths`` (``-`` is stdin) into a :class:`Traffic`."""
    traffic = Traffic()
    paths = list(paths)
    sizes = {p: (os.path.getsize(p) if p != "-" and os.path.isfile(p) else 0) for p in paths}
    total = sum(sizes.values())
    show = progress and total >= PROGRESS_EVERY
    done = 0
    for path in paths:
        traffic.files.append(path)
        try:
            stream = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandError("log_unreadable", f"{path}: cannot read it: {exc.strerror or exc}") from None
        next_mark = PROGRESS_EVERY
        read = 0
        try:
            for line, too_long in _lines(stream):
                traffic.lines += 1
                read += len(line)
                if show and done + read >= next_mark:
                    next_mark += PROGRESS_EVERY
                    sys.stderr.write(
                        f"corsware: {(done + read) / 2**20:.0f} MiB of {total / 2**20:.0f} MiB read, "
                        f"{traffic.records} records\n"
                    )
                if too_long:
                    traffic.skipped["line_too_long"] += 1
                    continue
                start = line.find(_MARKER)
                if start < 0:
                    continue  # another log line
                text = line[start:].decode("utf-8", "replace")
                try:
                    record, _ = _DECODER.raw_decode(text)
                except ValueError:
                    traffic.skipped["truncated_or_malformed"] += 1
                    continue
                if not isinstance(record, dict) or not traffic.add(record):
                    traffic.skipped["not_a_record"] += 1
        except OSError as exc:
            raise CommandError("log_unreadable", f"{path}: reading failed: {exc.strerror or exc}") from None
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()
        done += sizes[path] or read
    return traffic


# -- corsware report ---------------------------------------------------------------------

_VERDICTS: Final = {
    "would_refuse": ("WOULD BREAK", "red"),
    "would_allow": ("gains access", "yellow"),
    "would_drop_credentials": ("loses credentials", "red"),
    "would_add_credentials": ("gains credentials", "yellow"),
    "same": ("unchanged", "green"),
}


def _skipped_note(traffic: Traffic) -> str:
    if not traffic.skipped:
        return ""
    return "skipped: " + ", ".join(f"{n} {why.replace('_', ' ')}" for why, n in sorted(traffic.skipped.items()))


def run_report(args: argparse.Namespace) -> int:
    """Print, per origin, what the candidate would change; exit 1 when an origin would break."""
    traffic = read_traffic(args.logs)
    rows = traffic.rows()
    breaking = [s for s in rows if s.outcomes["would_refuse"] or s.outcomes["would_drop_credentials"]]
    status = EXIT_NO if breaking else EXIT_OK
    if traffic.skipped:
        sys.stderr.write(f"corsware: {_skipped_note(traffic)}\n")
    if args.json:
        print_json({"ok": True, "files": traffic.files, "lines": traffic.lines, "records": traffic.records,
                    "skipped": dict(traffic.skipped), "would_break": [s.origin for s in breaking],
                    "origins": [s.as_dict() for s in rows]})  # fmt: skip
        return status
    out = sys.stdout
    style = Style.for_stream(out)
    out.write(f"{traffic.records} report record(s) in {traffic.lines} line(s) of {len(traffic.files)} file(s)\n")
    if not rows:
        out.write("no report records found: is report_only= set, and the corsware.report logger at INFO?\n")
    else:
        table: list[tuple[str, ...]] = [
            ("ORIGIN", "RECORDS", "TODAY", "CANDIDATE", "VERDICT", "PATHS", "FIRST SEEN", "LAST SEEN")
        ]
        for s in rows:
            today = ("allowed" + (" +credentials" if s.credentials_today else "")) if s.granted_today else "refused"
            reasons = ", ".join(r for r in s.reasons if r != "allowed")
            candidate = "allows" if s.candidate_allows and not reasons else f"refuses: {reasons}"
            paths = ", ".join(p for p, _ in s.paths.most_common(3))
            if len(s.paths) > 3 or s.more_paths:
                paths += f" (+{len(s.paths) - min(3, len(s.paths)) + s.more_paths} more)"
            verdict = _VERDICTS[s.verdict][0]
            table.append((s.origin, str(s.records), today, candidate, verdict, paths, s.first_seen, s.last_seen))
        table = [tuple(printable(cell) for cell in row) for row in table]
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        for number, row in enumerate(table):
            line = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
            if number == 0:
                line = style(line, "bold")
            elif rows[number - 1].verdict in ("would_refuse", "would_drop_credentials"):
                line = style(line, "red")
            out.write(line + "\n")
    if breaking:
        names = ", ".join(printable(s.origin) for s in breaking)
        out.write(f"\n{len(breaking)} origin(s) allowed today would break under the candidate: {names}\n")
    elif rows:
        out.write("\nno origin allowed today would break under the candidate\n")
    return status


# -- corsware suggest --------------------------------------------------------------------

_DANGEROUS: Final = {
    "null_origin": ("dangerously_allow_null_origin",
                    "'null' is the origin of sandboxed iframes, data: URLs and local files: any site "
                    "can send it, so allowing it allows everyone"),
    "insecure_origin_with_credentials": ("dangerously_allow_insecure_origins",
                                         "a plain-http origin can be impersonated by anyone on the network "
                                         "path, who then reads credentialed responses"),
    "public_suffix_pattern_with_credentials": ("dangerously_allow_public_suffix_patterns",
                                               "the pattern covers a public suffix, where anyone can register "
                                               "a site"),
}  # fmt: skip


def _toml_string(text: str) -> str:
    # JSON string escapes (\" \\ \n \uXXXX) are TOML basic-string escapes too.
    return json.dumps(text, ensure_ascii=True)


def _comment(text: str) -> str:
    """Text safe inside a one-line TOML comment."""
    return printable(text).replace("\n", " ")


@dataclass
class _Entry:
    value: str
    note: str
    active: bool
    dangerous: tuple[str, str] | None = None  # (flag, why)
    problem: str = ""


def _check_entry(value: str, credentials: bool) -> tuple[str | None, str]:
    """The problem code and message that refuse ``value`` in ``allow_origins``, if any."""
    try:
        CORSPolicy(allow_origins=[value], allow_credentials=credentials)
    except CORSConfigError as exc:
        return exc.problems[0].code, exc.problems[0].message
    return None, ""


def _exact(origin: str) -> OriginPattern | None:
    parsed = parse_origin_pattern(origin, "allow_origins")
    return parsed if isinstance(parsed, OriginPattern) and parsed.kind == "exact" else None


def suggest_toml(
    traffic: Traffic,
    *,
    credentials: bool,
    fold: int | None = None,
    allow_refused: bool = False,
    exclude: Iterable[str] = (),
) -> str:
    """A policy file (TOML) allowing the origins the records show in use."""
    excluded = set(exclude)
    entries: list[_Entry] = []
    exact: list[tuple[OriginPattern, OriginStats, str]] = []
    skipped: list[str] = []
    methods: Counter[str] = Counter()
    headers: Counter[str] = Counter()
    for stats in sorted(traffic.origins.values(), key=lambda s: s.origin):
        origin = stats.origin
        note = f"{stats.records} record(s), last seen {stats.last_seen}"
        if origin in excluded:
            skipped.append(f"{_comment(origin)}: excluded on the command line ({note})")
            continue
        if not (stats.granted_today or stats.candidate_allows):
            skipped.append(f"{_comment(origin)}: refused today and by the candidate ({note})")
            continue
        if origin == _OTHER:
            skipped.append(f"{_OTHER}: beyond {MAX_ORIGINS} distinct origins, not named in the summary")
            continue
        refused = not stats.candidate_allows
        if refused:
            reasons = ", ".join(r for r in stats.reasons if r != "allowed") or "refused"
            note += f"; the candidate refuses it ({reasons}): " + (
                "kept active by --allow-refused" if allow_refused else "uncomment it if it is yours"
            )
        methods.update(stats.methods)
        headers.update(stats.headers)
        if origin == "null":
            entries.append(_Entry(origin, note, False, _DANGEROUS["null_origin"]))
            continue
        parsed = _exact(origin)
        if parsed is None:
            skipped.append(f"{_comment(origin)}: not a single origin (scheme://host[:port]) ({note})")
            continue
        code, message = _check_entry(origin, credentials)
        if code is not None:
            danger = _DANGEROUS.get(code)
            if danger is None:
                skipped.append(f"{_comment(origin)}: {_comment(message)} ({note})")
            else:
                entries.append(_Entry(origin, note, False, danger, message))
            continue
        if refused and not allow_refused:
            entries.append(_Entry(origin, note, False))
        else:
            exact.append((parsed, stats, note))
    entries += _fold(exact, fold, credentials)
    return _render(entries, skipped, methods, headers, credentials, traffic, fold)


def _fold(exact: list[tuple[OriginPattern, OriginStats, str]], fold: int | None, credentials: bool) -> list[_Entry]:
    """Origins as entries, siblings (same scheme, parent domain and port) folded into one
    ``*.`` pattern when there are at least ``fold`` of them."""
    groups: dict[tuple[str, str, str | None], list[tuple[OriginPattern, OriginStats, str]]] = {}
    for parsed, stats, note in exact:
        parent = parsed.host.partition(".")[2]
        key = (parsed.scheme, parent, parsed.port) if fold and parent.count(".") >= 1 else ("", stats.origin, None)
        groups.setdefault(key, []).append((parsed, stats, note))
    entries: list[_Entry] = []
    for (scheme, parent, port), members in groups.items():
        if scheme and fold and len(members) >= fold:
            pattern = f"{scheme}://*.{parent}" + (f":{port}" if port else "")
            records = sum(s.records for _, s, _ in members)
            last = max(s.last_seen for _, s, _ in members)
            names = ", ".join(s.origin for _, s, _ in members)
            note = (
                f"folds {len(members)} origins ({names}); {records} record(s), last seen {last}; covers every subdomain"
            )
            code, message = _check_entry(pattern, credentials)
            if code is None:
                entries.append(_Entry(pattern, note, True))
                continue
            danger = _DANGEROUS.get(code)
            if danger is not None:
                entries.append(_Entry(pattern, note + "; not folded", False, danger, message))
        entries += [_Entry(s.origin, note, True) for _, s, note in members]
    return entries


def _render(
    entries: list[_Entry],
    skipped: list[str],
    methods: Counter[str],
    headers: Counter[str],
    credentials: bool,
    traffic: Traffic,
    fold: int | None,
) -> str:
    out = [
        "# Suggested by `corsware suggest` from "
        f"{traffic.records} report record(s) in {len(traffic.files)} file(s); review it, then `corsware check` it.",
        "# Each origin's comment says how often it was seen; entries commented out need a decision.",
    ]
    if traffic.skipped:
        out.append(f"# {_skipped_note(traffic)}")
    out.append("allow_origins = [")
    dangers: dict[str, str] = {}
    for entry in entries:
        line = f"    {_toml_string(entry.value)},  # {_comment(entry.note)}"
        if not entry.active:
            line = "    # " + line.lstrip()
        out.append(line)
        if entry.dangerous is not None:
            flag, why = entry.dangerous
            dangers.setdefault(flag, why)
            out.append(f"    #   refused unless {flag} = true: {_comment(entry.problem or why)}")
    out.append("]")
    out.append(f"allow_credentials = {'true' if credentials else 'false'}")
    simple = {"GET", "HEAD", "POST"}
    wanted = sorted(simple | set(methods))
    out.append(f"allow_methods = [{', '.join(_toml_string(m) for m in wanted)}]")
    if headers:
        out.append(f"allow_headers = [{', '.join(_toml_string(h) for h in sorted(headers))}]  # seen in preflights")
    for flag, why in dangers.items():
        out.append(f"# {flag} = true  # only if you accept the risk: {why}")
    if skipped:
        out.append("# Not suggested:")
        out.extend(f"#   {line}" for line in skipped)
    if fold:
        out.append(f"# --fold-subdomains {fold}: {fold} or more sibling origins became one '*.' pattern")
    text = "\n".join(out) + "\n"
    # Warnings `corsware check` would give that are what was asked for: accepted, and said why.
    data: dict[str, Any] = {"allow_origins": [e.value for e in entries if e.active],
                            "allow_credentials": credentials, "allow_methods": wanted}  # fmt: skip
    if headers:
        data["allow_headers"] = sorted(headers)
    policy = CORSPolicy.from_mapping(data)
    accepted = [w.code for w in policy_warnings(policy) if w.code in _EXPECTED_WARNINGS]
    if accepted:
        text += f"\n[corsware]\naccept = [{', '.join(_toml_string(code) for code in accepted)}]\n"
        text += "".join(f"# {code}: {_EXPECTED_WARNINGS[code]}\n" for code in accepted)
    return text


#: Warnings of `corsware check` that follow from what the user asked `suggest` for.
_EXPECTED_WARNINGS: Final = {
    "allows_nothing": "no origin could be suggested as it is: review the commented-out entries above",
    "broad_subdomains": "--fold-subdomains asked for '*.' patterns, which trust every subdomain",
}


_FOLD_MIN: Final = 2


def run_suggest(args: argparse.Namespace) -> int:
    """Write a policy file allowing the origins seen; exit 0 (2 on unreadable input)."""
    fold: int | None = args.fold_subdomains
    if fold is not None and fold < _FOLD_MIN:
        raise CommandError(
            "bad_usage", f"--fold-subdomains must be at least {_FOLD_MIN} (siblings to fold), not {fold}"
        )
    for origin in args.exclude:
        if not re.fullmatch(r"[^\s]+", origin):
            raise CommandError("bad_usage", f"--exclude {origin!r}: expected an origin such as https://app.example.com")
    traffic = read_traffic(args.logs)
    text = suggest_toml(
        traffic, credentials=args.credentials, fold=fold, allow_refused=args.allow_refused, exclude=args.exclude
    )
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as exc:
            raise CommandError("output_unwritable", f"{args.output}: cannot write it: {exc.strerror or exc}") from None
    if args.json:
        print_json({"ok": True, "files": traffic.files, "records": traffic.records,
                    "skipped": dict(traffic.skipped), "toml": text, "output": args.output})  # fmt: skip
    elif not args.output:
        sys.stdout.write(text)
    else:
        sys.stdout.write(f"wrote {args.output}; check it with: corsware check {args.output}\n")
    if traffic.skipped:
        sys.stderr.write(f"corsware: {_skipped_note(traffic)}\n")
    return EXIT_OK
