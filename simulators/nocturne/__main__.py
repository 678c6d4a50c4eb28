"""``python -m simulators.nocturne --out OUT --seed S [--people 6] [--nights 90]
[--start 2024-09-01]``: write a scenario (see :mod:`simulators.nocturne`)."""

from __future__ import annotations

import argparse
import time
from datetime import date

from simulators.nocturne.generate import generate


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m simulators.nocturne")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--people", type=int, default=6, help="1-6")
    ap.add_argument("--nights", type=int, default=90)
    ap.add_argument("--start", type=date.fromisoformat, default=date(2024, 9, 1))
    args = ap.parse_args(argv)
    t = time.perf_counter()
    generate(args.out, args.seed, args.people, args.nights, args.start)
    print(
        f"wrote {args.out} ({args.people} people x {args.nights} nights) in "
        f"{time.perf_counter() - t:.1f} s"
    )


if __name__ == "__main__":
    main()
