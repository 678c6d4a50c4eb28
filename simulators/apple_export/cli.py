"""Command line: ``python -m simulators.apple_export OUT_DIR [--size-mb 10] [--seed 1] [--no-zip]``."""

from __future__ import annotations

import argparse

from simulators.apple_export import __doc__ as PACKAGE_DOC
from simulators.apple_export.writer import generate


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m simulators.apple_export", description=PACKAGE_DOC.split("\n\n")[0]
    )
    ap.add_argument("out_dir")
    ap.add_argument("--size-mb", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-zip", action="store_true")
    args = ap.parse_args(argv)
    m = generate(args.out_dir, args.size_mb, args.seed, make_zip=not args.no_zip)
    print(m.to_json())
