"""Smoke tests of the evaluation scripts (evaluation/, apart from the speed benchmarks):
each documents its options or runs at a tiny size with figures that add up."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.parametrize("script", ["real_nights.py", "sleep_real.py"])
def test_evaluation_scripts_document_their_options(script):
    proc = subprocess.run(
        [sys.executable, "-m", f"evaluation.{script[:-3]}", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
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
