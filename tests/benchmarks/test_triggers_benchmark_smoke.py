"""Smoke test of benchmarks/triggers.py at a tiny size: figures present and plausible."""

from __future__ import annotations

import re

from tests.helpers import run_benchmark


def test_triggers_benchmark_small():
    out = run_benchmark("triggers.py", "--participants", "3", "--days", "120", timeout=300)
    m = re.search(r"case nights: (\d+)", out)
    assert m and 20 <= int(m.group(1)) <= 120  # about one a week, 3 x 120 nights, journal 70 %
    m = re.search(r"seconds per participant-year: ([0-9.]+)", out)
    assert m and 0.0005 < float(m.group(1)) < 60
    assert re.search(r"ratio to building the input frames: [0-9.]+x", out)
