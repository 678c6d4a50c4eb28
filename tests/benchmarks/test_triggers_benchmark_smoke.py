"""Smoke test of benchmarks/triggers.py at a tiny size: figures present and plausible."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import REPO


def test_triggers_benchmark_small():
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "triggers.py"),
            "--participants",
            "3",
            "--days",
            "120",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    m = re.search(r"case nights: (\d+)", out)
    assert m and 20 <= int(m.group(1)) <= 120  # about one a week, 3 x 120 nights, journal 70 %
    m = re.search(r"seconds per participant-year: ([0-9.]+)", out)
    assert m and 0.0005 < float(m.group(1)) < 60
    assert re.search(r"ratio to building the input frames: [0-9.]+x", out)
