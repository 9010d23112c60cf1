"""The shared shape of ``explain`` and ``probe`` answers: request steps and a verdict."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from ._browser import ENGINES, BrowserRequest, Failure, console_messages
from ._output import EXIT_NO, EXIT_OK, Style, print_json, printable

__all__ = ["Report", "Step", "preflight_reasons"]

_SHOWN_PREFIXES = ("access-control-", "vary", "corsware-reason", "location", "www-authenticate")


@dataclass
class Step:
    """One request the browser sends (preflight or actual) and the answer it gets."""

    name: str  # "preflight" or "actual"
    method: str
    target: str
    request_headers: list[tuple[str, str]]
    status: int | None = None
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    answered_by: str = ""  # e.g. "corsware (204, allowed by 'https://a.com')" or "the app"
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "target": self.target,
            "request_headers": [list(p) for p in self.request_headers],
            "status": self.status,
            "response_headers": [list(p) for p in self.response_headers],
            "answered_by": self.answered_by,
            "failures": [f.as_dict() for f in self.failures],
            "notes": self.notes,
        }


@dataclass
class Report:
    """What happened, step by step, and whether the browser lets the script read the response."""

    request: BrowserRequest
    target: str
    preflight_why: list[str]
    steps: list[Step]
    extra: dict[str, Any] = field(default_factory=dict)  # command-specific JSON fields
    context: list[str] = field(default_factory=list)  # command-specific human lines
    preflight_only: bool = False  # the actual request was deliberately not sent
    engines: tuple[str, ...] = ()  # --engine: whose console messages to show

    def use_engine(self, choice: str | None) -> None:
        """``--engine chromium|firefox|both`` (None: show no console messages)."""
        self.engines = () if choice is None else ENGINES if choice == "both" else (choice,)

    def console(self) -> dict[str, list[str]]:
        """What each chosen engine's console prints for this request, step by step."""
        return {
            engine: [
                message
                for step in self.steps
                for message in console_messages(
                    engine, step.target, self.request, step.status, step.response_headers, step.failures
                )
            ]
            for engine in self.engines
        }

    @property
    def failures(self) -> list[Failure]:
        return [f for step in self.steps for f in step.failures]

    @property
    def allowed(self) -> bool:
        return not self.failures and (self.preflight_only or any(s.name == "actual" for s in self.steps))

    def emit(self, as_json: bool) -> int:
        """Print the report; exit 0 if the browser allows the request, 1 if it blocks it."""
        if as_json:
            req = self.request
            print_json({
                "allowed": self.allowed,
                "request": {"origin": req.origin, "method": req.method, "target": self.target,
                            "headers": [list(p) for p in req.headers], "credentials": req.credentials,
                            "private_network": req.private_network},
                "preflight_needed": req.needs_preflight,
                "preflight_why": self.preflight_why,
                **{s.name: s.as_dict() for s in self.steps},
                "failures": [f.as_dict() for f in self.failures],
                "preflight_only": self.preflight_only,
                **({"console": self.console()} if self.engines else {}),
                **self.extra,
            })  # fmt: skip
        else:
            self._render(Style.for_stream(sys.stdout))
        return EXIT_OK if self.allowed else EXIT_NO

    def _render(self, style: Style) -> None:
        # Every value shown goes through printable(): response headers come from whatever
        # server was probed and must not drive the terminal (--json keeps them exact).
        req = self.request
        p = printable
        w = sys.stdout.write
        mode = "include" if req.credentials else "same-origin (no cookies)"
        w(f"{style('request', 'bold')}  {p(req.method)} {p(self.target)}\n")
        w(f"  origin       {p(req.origin)}\n  credentials  {mode}\n")
        if req.headers:
            w(f"  headers      {p(', '.join(f'{k}: {v}' for k, v in req.headers))}\n")
        for line in self.context:
            w(f"  {p(line)}\n")
        w("\n")
        if self.preflight_why:
            w(f"{style('preflight', 'bold')}: sent, because {p('; '.join(self.preflight_why))}\n")
        else:
            w(f"{style('preflight', 'bold')}: not sent (safelisted method and headers: a 'simple' request)\n")
        for number, step in enumerate(self.steps, 1):
            self._render_step(number, step, style)
        if not any(s.name == "actual" for s in self.steps):
            why = "--preflight-only" if self.preflight_only else "the preflight failed"
            w(f"\n{style('actual request', 'bold')}: not sent ({why})\n")
        w("\n")
        if self.allowed:
            what = "sends the request" if self.preflight_only else "lets the script read the response"
            w(f"{style('verdict: ALLOWED', 'green', 'bold')}: the browser {what}\n")
            return
        w(f"{style('verdict: BLOCKED', 'red', 'bold')}\n")
        for f in self.failures:
            w(f"  {style('x', 'red')} {p(f.message)} [{p(f.code)}]\n")
            w(f"    {style('fix:', 'cyan')} {p(f.fix)}\n")
        for engine, messages in self.console().items():
            w(f"\n{style(f'{engine.capitalize()} console', 'bold')}:\n")
            for message in messages:
                w(f"  {p(message)}\n")

    def _render_step(self, number: int, step: Step, style: Style) -> None:
        p = printable
        w = sys.stdout.write
        w(f"\n{style(f'{number}. {step.name}', 'bold')}  {p(step.method)} {p(step.target)}\n")
        for k, v in step.request_headers:
            w(f"     > {p(k)}: {p(v)}\n")
        if step.status is not None:
            w(
                f"   answered by {p(step.answered_by)}: {step.status}\n"
                if step.answered_by
                else f"   status {step.status}\n"
            )
        elif step.answered_by:
            w(f"   answered by {p(step.answered_by)}\n")
        shown = [(k, v) for k, v in step.response_headers if k.lower().startswith(_SHOWN_PREFIXES)]
        for k, v in shown:
            w(f"     < {p(k)}: {p(v)}\n")
        if step.status is not None and not shown:
            w("     < (no CORS headers)\n")
        for note in step.notes:
            w(f"   {style('note:', 'yellow')} {p(note)}\n")
        if step.failures:
            w(f"   {style('browser: fails this step', 'red')}\n")
        else:
            w(f"   {style('browser: passes this step', 'green')}\n")


def preflight_reasons(req: BrowserRequest) -> list[str]:
    """Why a browser sends a preflight for ``req`` (Fetch §"HTTP fetch" step 4.1), in words."""
    why: list[str] = []
    if req.method not in ("GET", "HEAD", "POST"):
        why.append(f"{req.method} is not a CORS-safelisted method")
    if req.unsafe_names:
        why.append(f"{', '.join(req.unsafe_names)} {'is not a' if len(req.unsafe_names) == 1 else 'are not'} "
                   f"CORS-safelisted request header{'' if len(req.unsafe_names) == 1 else 's'}")  # fmt: skip
    if req.private_network:
        why.append("the target is on a private network (Private Network Access)")
    return why
