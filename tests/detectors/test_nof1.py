"""detectors.nof1: randomised block schedules and their analysis."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from detectors import nof1


def _simulate(rr: float, rate: float, pairs: int, seed: int) -> dict:
    exp, blocks = nof1.plan("p1", "magnesium", date(2025, 3, 1), pairs=pairs, seed=seed)
    rng = np.random.default_rng(seed + 1000)
    rows = []
    for b in blocks.iter_rows(named=True):
        lam = rate * (rr if b["arm"] == "intervention" else 1.0)
        d = b["start_date"]
        while d <= b["end_date"]:
            rows.append((d, int(rng.random() < lam)))
            d += timedelta(days=1)
    nights = pl.DataFrame(rows, schema={"night_of": pl.Date, "case": pl.Int8}, orient="row")
    return nof1.analyse(blocks, nights, exp.washout_days)


def test_plan_is_seeded_paired_and_contiguous():
    exp, blocks = nof1.plan("p1", "stretch", date(2025, 5, 1), pairs=3, block_weeks=4, seed=7)
    again = nof1.plan("p1", "stretch", date(2025, 5, 1), pairs=3, block_weeks=4, seed=7)[1]
    assert blocks.equals(again)
    assert blocks.height == 6 and exp.end_date == date(2025, 5, 1) + timedelta(days=6 * 28 - 1)
    for _, g in blocks.group_by("pair"):
        assert sorted(g["arm"]) == ["control", "intervention"]
    starts = blocks.sort("block")["start_date"].to_list()
    assert all(b - a == timedelta(days=28) for a, b in zip(starts, starts[1:], strict=False))
    orders = {
        tuple(nof1.plan("p1", "fluid", date(2025, 1, 1), pairs=3, seed=s)[1]["arm"])
        for s in range(20)
    }
    assert len(orders) > 2  # the order within pairs is random
    with pytest.raises(ValueError):
        nof1.plan("p1", "quinine", date(2025, 1, 1))


def test_recovers_a_simulated_prevention_effect():
    verdicts = Counter()
    for s in range(40):
        r = _simulate(rr=0.3, rate=0.4, pairs=4, seed=s)
        verdicts[r["verdict"]] += 1
        if r["verdict"] == "effect":
            assert r["rate_ratio"] < 1 and r["rr_ci_high"] < 1
    assert verdicts["effect"] >= 36


def test_says_inconclusive_without_an_effect():
    verdicts = Counter(_simulate(rr=1.0, rate=1 / 7, pairs=3, seed=s)["verdict"] for s in range(40))
    assert verdicts["inconclusive"] >= 36 and verdicts["no_effect"] == 0
    r = _simulate(rr=1.0, rate=1 / 7, pairs=3, seed=1)
    assert r["verdict"] == "inconclusive" and r["more_pairs_needed"] > 0
    assert "more block pairs" in nof1.verdict_text(r, "magnesium")


def test_washout_nights_are_not_analysed_and_nothing_yet_is_not_started():
    exp, blocks = nof1.plan(
        "p1", "fluid", date(2025, 3, 1), pairs=1, block_weeks=2, washout_days=7, seed=1
    )
    nights = pl.DataFrame(
        {"night_of": [date(2025, 3, 1) + timedelta(days=i) for i in range(28)], "case": [1] * 28}
    )
    counts = nof1.block_counts(blocks, nights, 7)
    assert counts["nights"].to_list() == [7, 7]
    empty = nights.filter(pl.col("night_of") < date(2025, 1, 1))
    assert nof1.analyse(blocks, empty, 7)["verdict"] == "not_started"
