"""The ``corsware`` command: check, explain, probe, export nginx, explain-code, report, suggest, demo.

Runs as ``corsware ...`` (installed script) or ``python -m corsware ...``. Standard library
only, so the ``cli`` extra adds nothing to install. Exit statuses (every subcommand):
0 yes/valid, 1 no (warnings, or the browser blocks the request), 2 error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from .. import __version__
from .. import demo as demo_module
from ._check import run_check
from ._codes import run_explain_code
from ._explain import run_explain
from ._export import run_export_nginx
from ._output import EXIT_ERROR, CommandError, report_error
from ._probe import run_probe
from ._requests import add_request_arguments
from ._traffic import run_report, run_suggest

__all__ = ["main", "main_script"]

_EXIT_CODES = """exit status:
  0  valid (every warning accepted) / allowed / written
  1  the answer is no: warnings not accepted, a browser blocks the request,
     or (report) an origin allowed today would break under the candidate
  2  error: bad usage, unreadable or invalid policy, network failure, not exportable"""

_CHECK_EXAMPLES = """examples:
  corsware check cors.toml
  corsware check cors.toml --accept max_age_capped --accept any_origin
  corsware check cors.json --json | jq .warnings

warnings you mean can also be accepted in the policy file itself:
  [corsware]
  accept = ["max_age_capped"]
"""
_EXPLAIN_EXAMPLES = """examples:
  corsware explain cors.toml --origin https://app.example.com
  corsware explain cors.toml --origin https://app.example.com --method PUT \\
      -H 'Content-Type: application/json' -H Authorization --credentials
  corsware explain cors.toml --origin https://evil.example.net --path /api/users --json
"""
_PROBE_EXAMPLES = """examples:
  corsware probe http://localhost:5001/api/hello --origin http://localhost:5000
  corsware probe https://api.example.com/items --origin https://app.example.com \\
      --method DELETE -H Authorization --credentials --preflight-only
  corsware probe http://127.0.0.1:8000/ --origin https://app.example.com --timeout 3 --json

probe sends real requests (the actual request too, like a browser, unless --preflight-only).
"""
_EXPORT_EXAMPLES = """examples:
  corsware export nginx cors.toml                       # both parts on stdout
  corsware export nginx cors.toml -o /etc/nginx/corsware  # writes corsware-maps.conf, corsware-cors.conf

then in nginx.conf:
  http {
      include /etc/nginx/corsware/corsware-maps.conf;
      server {
          location / {
              include /etc/nginx/corsware/corsware-cors.conf;
              proxy_pass http://127.0.0.1:5001;
          }
      }
  }
"""
_EXPLAIN_CODE_HELP = "say what a reason code means and what to do (the codes of errors and decisions)"
_EXPLAIN_CODE_EXAMPLES = """examples:
  corsware explain-code wildcard_origin_with_credentials
  corsware explain-code origin_not_allowed --json
  corsware explain-code            # every code
"""
_REPORT_HELP = "summarise report-only records: which origins the candidate policy would break"
_REPORT_EXAMPLES = """examples:
  corsware report /var/log/app/*.log
  corsware report web1.log web2.log --json | jq .would_break
  journalctl -u app -o cat | corsware report -

records are the corsware.report lines of CORSMiddleware(app, report_only=...) (docs/tighten.md),
found anywhere in a line; other lines are ignored. exit status 1 when an origin allowed today
would break under the candidate.
"""
_SUGGEST_HELP = "write a policy file (TOML) allowing the origins seen in report-only records"
_SUGGEST_EXAMPLES = """examples:
  corsware suggest app.log --credentials -o cors.toml && corsware check cors.toml
  corsware suggest app.log --fold-subdomains 3     # 3+ sibling origins become https://*.parent
  corsware suggest app.log --exclude https://old.example.com --allow-refused

origins the candidate refused, 'null', plain-http origins with --credentials and public-suffix
patterns are written commented out, with the reason and the dangerously_* line they would need.
"""
_DEMO_HELP = "run the two-origin demo (client :5000, API :5001, refused origin :5002)"
_DEMO_EXAMPLES = """examples:
  corsware demo            # starts the servers and keeps running (Ctrl-C stops)
  corsware demo --once     # prints what a browser would conclude and exits
  corsware demo --once --json
"""


def _parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="corsware",
        description="Check, explain, probe and export CORS policies (the Fetch standard's rules).",
        epilog="run 'corsware COMMAND --help' for each command's examples.\n\n" + _EXIT_CODES,
        formatter_class=fmt,
    )
    parser.add_argument("--version", action="version", version=f"corsware {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, help_: str, examples: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_, epilog=examples + "\n" + _EXIT_CODES,
                           formatter_class=fmt)  # fmt: skip
        p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
        return p

    check = add("check", "validate a policy file and list settings worth a second look", _CHECK_EXAMPLES)
    check.add_argument("policy", metavar="POLICY", help="policy file (.toml or .json)")
    check.add_argument(
        "--accept",
        action="append",
        default=[],
        metavar="CODE",
        help="a warning code you mean (repeatable): still listed, marked accepted, but exit status 0",
    )
    check.set_defaults(run=run_check)

    explain = add("explain", "show what corsware answers a browser's request and whether the browser allows it",
                  _EXPLAIN_EXAMPLES)  # fmt: skip
    explain.add_argument("policy", metavar="POLICY", help="policy file (.toml or .json)")
    add_request_arguments(explain)
    explain.add_argument("--path", default="/", help="request path, selects per-path rules (default /)")
    explain.set_defaults(run=run_explain)

    probe = add("probe", "send a browser's CORS requests to any server and judge its answers", _PROBE_EXAMPLES)
    probe.add_argument("url", metavar="URL", help="http:// or https:// URL to request")
    add_request_arguments(probe)
    probe.add_argument(
        "--timeout", type=float, default=10.0, help="deadline in seconds for the whole probe (at most 120; default 10)"
    )
    probe.add_argument("--preflight-only", action="store_true", help="send only the preflight, not the request")
    probe.set_defaults(run=run_probe)

    export = add("export", "write server configuration enforcing a policy", _EXPORT_EXAMPLES)
    export.add_argument("target", choices=["nginx"], help="what to export to (nginx)")
    export.add_argument("policy", metavar="POLICY", help="policy file (.toml or .json)")
    export.add_argument("--output-dir", "-o", metavar="DIR", help="write PREFIX-maps.conf and PREFIX-cors.conf here")
    export.add_argument("--prefix", default="corsware", help="nginx variable/file name prefix (default corsware)")
    export.set_defaults(run=run_export_nginx)

    explain_code = add("explain-code", _EXPLAIN_CODE_HELP, _EXPLAIN_CODE_EXAMPLES)
    explain_code.add_argument(
        "code", metavar="CODE", nargs="?", help="a reason code, e.g. null_origin (none: list all)"
    )
    explain_code.set_defaults(run=run_explain_code)

    report = add("report", _REPORT_HELP, _REPORT_EXAMPLES)
    report.add_argument("logs", metavar="LOG", nargs="+", help="log files holding report records ('-': stdin)")
    report.set_defaults(run=run_report)

    suggest = add("suggest", _SUGGEST_HELP, _SUGGEST_EXAMPLES)
    suggest.add_argument("logs", metavar="LOG", nargs="+", help="log files holding report records ('-': stdin)")
    suggest.add_argument("--credentials", action="store_true", help="allow_credentials = true (cookies, HTTP auth)")
    suggest.add_argument(
        "--fold-subdomains",
        type=int,
        metavar="N",
        default=None,
        help="fold N or more sibling origins (same scheme, parent domain, port) into one *. pattern",
    )
    suggest.add_argument(
        "--exclude", action="append", default=[], metavar="ORIGIN", help="an origin seen that is not yours (repeatable)"
    )
    suggest.add_argument(
        "--allow-refused",
        action="store_true",
        help="keep active the origins the candidate refused (default: commented out)",
    )
    suggest.add_argument("--output", "-o", metavar="FILE", help="write the policy here instead of stdout")
    suggest.set_defaults(run=run_suggest)

    demo = sub.add_parser("demo", help=_DEMO_HELP, description=_DEMO_HELP, epilog=_DEMO_EXAMPLES, formatter_class=fmt)
    demo_module.add_arguments(demo)  # the demo's own options, --json included
    demo.set_defaults(run=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    if args.command == "demo":
        # The demo parses its own options (already validated above): python -m corsware.demo.
        return demo_module.main(argv[argv.index("demo") + 1 :])
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except CommandError as exc:
        return report_error(exc, as_json=getattr(args, "json", False))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `corsware export nginx x.toml | head`
        return EXIT_ERROR


def main_script() -> None:
    """Entry point of the installed ``corsware`` script."""
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
