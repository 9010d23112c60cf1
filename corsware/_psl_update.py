"""Refresh the shipped Public Suffix List: ``python -m corsware._psl_update SOURCE``.

SOURCE is a ``public_suffix_list.dat`` (as published at
https://publicsuffix.org/list/public_suffix_list.dat) or a wheel that bundles one, such as
the ``publicsuffixlist`` package's (``make update-psl`` downloads that wheel with
``pip download --no-deps publicsuffixlist`` and runs this module on it). The list is
checked (its licence header, ``// VERSION:`` line, both sections and a plausible number of
rules) and written to ``corsware/public_suffix_list.dat`` compacted: the licence header,
the VERSION and COMMIT lines, the section markers and the rules, without the per-entry
comments (a third of the size). An older list than the shipped one is refused unless
``--allow-older`` is given.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path
from typing import Final

from ._psl import DATA_FILE, parse

__all__ = ["compact", "main", "read_source"]

#: Fewer rules than this means a truncated or wrong file (the list has about 10 000).
MIN_RULES: Final = 5000
_LICENCE: Final = "This Source Code Form is subject to the terms of the Mozilla Public"
_SECTIONS: Final = (
    "// ===BEGIN ICANN DOMAINS===",
    "// ===END ICANN DOMAINS===",
    "// ===BEGIN PRIVATE DOMAINS===",
    "// ===END PRIVATE DOMAINS===",
)


def read_source(path: Path) -> str:
    """The list's text from a ``.dat`` file or from the one ``.dat`` inside a wheel/zip."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith("/public_suffix_list.dat")]
            if len(names) != 1:
                raise SystemExit(f"{path}: expected one public_suffix_list.dat inside, found {names or 'none'}")
            return archive.read(names[0]).decode("utf-8")
    return path.read_text(encoding="utf-8")


def compact(text: str, source: str) -> str:
    """The list without its per-entry comments; refuses a text that is not a whole PSL."""
    lines = [line.strip() for line in text.splitlines()]
    if not lines or _LICENCE not in lines[0]:
        raise SystemExit(f"{source}: does not start with the PSL's MPL-2.0 licence header")
    missing = [marker for marker in _SECTIONS if marker not in lines]
    if missing:
        raise SystemExit(f"{source}: not a whole Public Suffix List, missing {', '.join(missing)}")
    psl = parse(text)
    if not psl.version:
        raise SystemExit(f"{source}: has no '// VERSION:' line, so its date cannot be checked")
    count = len(psl.rules) + len(psl.wildcards) + len(psl.exceptions)
    if count < MIN_RULES:
        raise SystemExit(f"{source}: only {count} rules, expected at least {MIN_RULES}")
    header = lines[: lines.index("")] if "" in lines else lines[:3]
    out = [*header, ""]
    out += [line for line in lines if line.startswith(("// VERSION:", "// COMMIT:"))]
    out += [f"// Compacted by corsware._psl_update from {source}: per-entry comments removed.", ""]
    for line in lines:
        if line in _SECTIONS:
            out.append(line)
        elif line and not line.startswith("//"):
            out.append(line.split()[0])
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Check SOURCE and write it, compacted, over the shipped list."""
    parser = argparse.ArgumentParser(prog="python -m corsware._psl_update", description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="a public_suffix_list.dat, or a wheel that bundles one")
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(__file__).with_name(DATA_FILE),
        help="where to write (default: the shipped list)",
    )
    parser.add_argument("--allow-older", action="store_true", help="replace the list with an older one")
    args = parser.parse_args(argv)
    text = compact(read_source(args.source), args.source.name)
    new = parse(text)
    if args.output.exists():
        old = parse(args.output.read_text(encoding="utf-8"))
        if old.version and new.version < old.version and not args.allow_older:
            raise SystemExit(
                f"{args.source}: version {new.version} is older than the shipped {old.version}; "
                "pass --allow-older to replace it anyway"
            )
    args.output.write_text(text, encoding="utf-8")
    rules = len(new.rules) + len(new.wildcards) + len(new.exceptions)
    print(f"wrote {args.output}: Public Suffix List {new.version} ({rules} rules, {len(text.encode())} bytes)")
    return 0


if __name__ == "__main__":  # pragma: no cover - exercised through main() by the tests
    sys.exit(main())
