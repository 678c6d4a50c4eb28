"""Smoke tests of the speed benchmarks: each runs at a tiny size and prints its figures.
No timing is asserted (speed is noise on CI); the figures' lines must be there and sane."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import REPO


def _run(script: str, *args: str) -> str:
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / script), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def test_detect_benchmark_one_participant_year():
    out = _run("detect.py", "--participants", "1")
    assert re.search(r"participant-years: 1\s+participant-nights with a period: 3\d\d", out)
    m = re.search(r"seconds per participant-year \(sleep \+ cramps\): ([0-9.]+)", out)
    assert m and float(m.group(1)) > 0
    assert "ratio to building the input frames" in out


def test_exposures_benchmark_small():
    out = _run("exposures.py", "--participants", "2", "--days", "30", "--repeat", "1")
    assert "exposures / build_daily_table" in out
    assert re.search(r"target < 10 s for 2 participant-years: (meets|misses)", out)


def test_commands_benchmark_one_round():
    out = _run("commands.py", "--repeat", "1")
    for name in ("python -c pass", "run, first", "run, nothing new", "ingest header-only journal",
                 "ingest already imported file", "detect, nothing new", 'sql "select 1"'):
        m = re.search(rf"  {re.escape(name)}\s+([0-9.]+)\s+[0-9.]+-[0-9.]+\s+([0-9.]+)", out)
        assert m and float(m.group(1)) > 0 and float(m.group(2)) > 0, name
    assert re.search(r"second run \(nothing new\) / first run: \d+%", out)
    assert "ledger rows added by the second run: 0" in out


def test_cramps_raw_benchmark_short_night():
    out = _run("cramps_raw.py", "--fs", "25", "--hours", "3", "--repeats", "1")
    assert re.search(r"night: [0-9,]+ samples x 3 at 25 Hz", out)
    m = re.search(r"ratio night / floor:\s+([0-9.]+)", out)
    assert m and float(m.group(1)) > 0


def test_cramps_raw_benchmark_rejects_a_too_short_night():
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "cramps_raw.py"),
                           "--hours", "1"], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert "--hours must be at least 2" in proc.stderr


@pytest.mark.parametrize("script", ["real_nights.py", "sleep_real.py"])
def test_evaluation_scripts_document_their_options(script):
    out = _run(script, "--help")
    assert "--db" in out and "--no-import" in out


def test_dehydration_evaluation_small():
    """evaluation/dehydration.py (moved from benchmarks/dehydration_daygen.py) prints real
    figures: counts that add up to the scored days and F1 values recomputed from them."""
    proc = subprocess.run(
        [sys.executable, "-m", "evaluation.dehydration", "--dev", "12", "--held-out", "13",
         "--train", "14", "--participants", "3", "--days", "40", "--physio-dev", "",
         "--physio-held-out", ""],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert re.search(r"held-out seeds 13: 120 days, \d+ truth days, \d+ clear days", out)
    for line in ("mass-drop oracle, weighed days only", "oracle, true deficit + the detector's "
                 "posterior SD", "oracle, true deficit + scale noise", "observables oracle",
                 "trained on development seeds 12", "trained on training seeds 14",
                 "likely precision"):  # fmt: skip
        assert line in out
    rows = re.findall(r"== held-out seeds 13: (\d+) days, (\d+) truth days.*?\ndetector: TP (\d+)"
                      r"  FP (\d+)  FN (\d+)  precision \S+  recall \S+  F1 ([0-9.]+)", out,
                      re.S)  # fmt: skip
    assert rows
    days, truth, tp, fp, fn, f1 = rows[0]
    days, truth, tp, fp, fn = map(int, (days, truth, tp, fp, fn))
    assert tp + fn == truth > 0 and tp + fp <= days
    assert float(f1) == pytest.approx(2 * tp / (2 * tp + fp + fn), abs=0.006)
    oracles = [float(x) for x in re.findall(r"threshold 2 %: F1 ([0-9.]+)", out)]
    assert len(oracles) >= 4 and all(0.0 < f <= 1.0 for f in oracles)
