"""Command line: ``uv run python -m simulators.sample [--out DIR] [--seed N] [--nights N]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import __doc__ as PACKAGE_DOC
from .config import DEFAULT_NIGHTS, DEFAULT_SEED
from .write import generate

#: the bundled sample data, at the repository root
SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m simulators.sample", description=PACKAGE_DOC.split("\n\n")[0]
    )
    ap.add_argument(
        "--out", type=Path, default=SAMPLE_DATA, help="output folder (default: sample_data/)"
    )
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--nights", type=int, default=DEFAULT_NIGHTS)
    a = ap.parse_args(argv)
    generate(a.out, a.seed, a.nights)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
