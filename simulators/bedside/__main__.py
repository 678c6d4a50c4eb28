"""CLI: ``python -m simulators.bedside --out DIR --seed N [--people 6] [--nights 90]``."""

from __future__ import annotations

import argparse
import json
from datetime import date

from simulators.bedside.generate import DEFAULT_START, generate
from simulators.bedside.ranges import markdown


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m simulators.bedside", description=__doc__)
    ap.add_argument("--out", help="output folder (inbox/, truth.csv, hidden_features.csv, ...)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--people", type=int, default=6)
    ap.add_argument("--nights", type=int, default=90)
    ap.add_argument("--start", default=DEFAULT_START.isoformat(), help="first night, YYYY-MM-DD")
    ap.add_argument("--ranges", action="store_true", help="print the parameter table and exit")
    args = ap.parse_args(argv)
    if args.ranges:
        print(markdown(), end="")
        return
    if not args.out:
        ap.error("--out is required")
    summary = generate(
        args.out, args.seed, args.people, args.nights, date.fromisoformat(args.start)
    )
    print(json.dumps(summary, indent=1, default=str))


if __name__ == "__main__":
    main()
