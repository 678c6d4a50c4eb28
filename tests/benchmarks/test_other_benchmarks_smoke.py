"""Smoke tests of the speed benchmarks: each runs at a tiny size and prints its figures.
No timing is asserted (speed is noise on CI); the figures' lines must be there and sane."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import REPO
from tests.helpers import run_benchmark


def test_detect_benchmark_one_participant_year():
    out = run_benchmark("detect.py", "--participants", "1")
    assert re.search(r"participant-years: 1\s+participant-nights with a period: 3\d\d", out)
    # plausible, not merely present: the planted events are found at about their rate
    # (~3 % of nights), a participant-year takes between a few hundredths of a second and a
    # minute on any machine, and the detector costs more than building its inputs
    m = re.search(r"episodes: (\d+) \(([0-9.]+) per night; ~0.03 planted\)", out)
    assert m and 0.01 <= float(m.group(2)) <= 0.06
    m = re.search(r"seconds per participant-year \(sleep \+ cramps\): ([0-9.]+)", out)
    assert m and 0.02 < float(m.group(1)) < 60
    m = re.search(r"ratio to building the input frames: ([0-9.]+)x", out)
    assert m and 0.3 < float(m.group(1)) < 100


def test_exposures_benchmark_small():
    out = run_benchmark("exposures.py", "--participants", "2", "--days", "30", "--repeat", "1")
    assert "exposures / build_daily_table" in out
    assert re.search(r"target < 10 s for 2 participant-years: (meets|misses)", out)


def test_commands_benchmark_one_round():
    out = run_benchmark("commands.py", "--repeat", "1")
    for name in (
        "python -c pass",
        "run, first",
        "run, nothing new",
        "ingest header-only journal",
        "ingest already imported file",
        "detect, nothing new",
        'sql "select 1"',
    ):
        m = re.search(rf"  {re.escape(name)}\s+([0-9.]+)\s+[0-9.]+-[0-9.]+\s+([0-9.]+)", out)
        assert m and float(m.group(1)) > 0 and float(m.group(2)) > 0, name
    assert re.search(r"second run \(nothing new\) / first run: \d+%", out)
    assert "ledger rows added by the second run: 0" in out


def test_cramps_raw_benchmark_short_night():
    out = run_benchmark("cramps_raw.py", "--fs", "25", "--hours", "3", "--repeats", "1")
    assert re.search(r"night: [0-9,]+ samples x 3 at 25 Hz", out)
    m = re.search(r"ratio night / floor:\s+([0-9.]+)", out)
    assert m and 0.2 < float(m.group(1)) < 200  # the night does more than one filter pass


def test_cramps_raw_benchmark_rejects_a_too_short_night():
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "cramps_raw.py"), "--hours", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "--hours must be at least 2" in proc.stderr


def test_fast_helpers_benchmark_two_weeks():
    out = run_benchmark(
        "fast_helpers.py", "--participants", "1", "--days", "14", "--repeat", "1", timeout=60
    )
    assert "all library forms equal the fast forms on every recorded call" in out
    for name in ("_median", "_medfilt_runs_split", "cell_medians", "_rolling_median_above"):
        m = re.search(rf"^{name}\s+.+?\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)x$", out, re.M)
        assert m and float(m.group(1)) > 0 and float(m.group(3)) > 0, name
        assert re.search(rf"^  {name}: (needed|not needed: could be replaced by )", out, re.M)
