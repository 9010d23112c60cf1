"""``corsware export nginx``: write the nginx configuration enforcing a policy file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._check import load_policy
from ._nginx import NotExportable, export_nginx
from ._output import EXIT_OK, CommandError, Style, print_json

__all__ = ["run_export_nginx"]


def run_export_nginx(args: argparse.Namespace) -> int:
    """Compile the policy; print both parts, or write them into ``--output-dir``."""
    policy = load_policy(args.policy)
    try:
        config = export_nginx(policy, args.prefix)
    except NotExportable as exc:
        raise CommandError(
            "not_exportable",
            f"{args.policy}: this policy cannot be enforced by nginx:\n" + "\n".join(f"  - {p}" for p in exc.problems),
            [{"field": p.field, "code": p.code, "message": p.message} for p in exc.problems],
        ) from None
    files: list[str] = []
    if args.output_dir:
        out = Path(args.output_dir)
        try:
            out.mkdir(parents=True, exist_ok=True)
            maps_file, location_file = out / f"{args.prefix}-maps.conf", out / f"{args.prefix}-cors.conf"
            maps_file.write_text(config.maps, encoding="utf-8")
            location_file.write_text(config.location, encoding="utf-8")
        except OSError as exc:
            raise CommandError("output", f"cannot write to {out}: {exc.strerror or exc}") from None
        files = [str(maps_file), str(location_file)]
    if args.json:
        print_json({"ok": True, "http": config.maps, "location": config.location, "files": files})
        return EXIT_OK
    if files:
        style = Style.for_stream(sys.stdout)
        sys.stdout.write(
            f"{style('wrote', 'green')} {files[0]}  (include inside http {{ }})\n"
            f"{style('wrote', 'green')} {files[1]}  (include inside each location that proxies the app)\n"
        )
        return EXIT_OK
    sys.stdout.write("# ===== part 1: inside http { } =====\n" + config.maps)
    sys.stdout.write("\n# ===== part 2: inside each location { } that proxies the app =====\n" + config.location)
    return EXIT_OK
