from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from pipeline.evaluate import match_events, score_days, score_events

T0 = datetime(2025, 7, 1, 1, 0, tzinfo=UTC)


def _iv(pid, *pairs):
    return pl.DataFrame(
        {
            "participant_id": [pid] * len(pairs),
            "start_utc": [T0 + timedelta(minutes=a) for a, _ in pairs],
            "end_utc": [T0 + timedelta(minutes=b) for _, b in pairs],
        },
        schema={
            "participant_id": pl.String,
            "start_utc": pl.Datetime("us", "UTC"),
            "end_utc": pl.Datetime("us", "UTC"),
        },
    )


def test_one_to_one_matching_counts_each_truth_once():
    truth = _iv("a", (0, 5), (60, 66))
    det = _iv("a", (1, 6), (2, 4), (200, 210))  # two detections on the first truth, one far off
    tp, fp, fn, errs = match_events(det, truth, tolerance_s=300)
    assert (tp, fp, fn) == (1, 2, 1)
    assert errs == [60.0]


def test_onset_tolerance_without_overlap():
    truth = _iv("a", (0, 1))
    assert match_events(_iv("a", (4, 5)), truth, tolerance_s=300)[0] == 1
    assert match_events(_iv("a", (6, 7)), truth, tolerance_s=300)[0] == 0
    assert match_events(_iv("a", (25, 26)), truth, tolerance_s=1800)[0] == 1


def test_scores_per_participant_and_overall():
    truth = pl.concat([_iv("a", (0, 5)), _iv("b", (0, 5), (100, 105))])
    det = pl.concat([_iv("a", (0, 5), (50, 55)), _iv("b", (101, 104))])
    scores = {
        s.participant_id: s
        for s in score_events(det, truth, tolerance_s=300, nights={"a": 10, "b": 10})
    }
    assert scores["a"].precision == 0.5 and scores["a"].recall == 1.0
    assert scores["b"].precision == 1.0 and scores["b"].recall == 0.5
    o = scores["overall"]
    assert (o.true_positives, o.false_positives, o.false_negatives) == (2, 1, 1)
    assert o.f1 == pytest.approx(2 / 3)
    assert o.false_alarms_per_night == pytest.approx(1 / 20)


def test_day_scores():
    def d(*days):
        return pl.DataFrame(
            {"participant_id": ["a"] * len(days), "local_date": [date(2025, 7, x) for x in days]}
        )

    s = score_days(d(1, 2, 3), d(2, 3, 4), d(*range(1, 11)))
    assert (s.true_positives, s.false_positives, s.false_negatives, s.nights) == (2, 1, 1, 10)


def test_reliability_bands_count_matched_episodes_once() -> None:
    from datetime import UTC, datetime, timedelta

    import polars as pl

    from pipeline.evaluate import reliability

    t0 = datetime(2025, 7, 1, 2, 0, tzinfo=UTC)

    def at(h: float) -> datetime:
        return t0 + timedelta(hours=h)

    det = pl.DataFrame(
        {
            "participant_id": ["a"] * 5,
            "start_utc": [at(0), at(1), at(2), at(3), at(3.01)],
            "end_utc": [at(0.1), at(1.1), at(2.1), at(3.1), at(3.11)],
            "confidence": [0.45, 0.6, 0.75, 0.9, 0.95],
        }
    )
    truth = pl.DataFrame(
        {
            "participant_id": ["a"] * 3,
            "start_utc": [at(1), at(2), at(3)],
            "end_utc": [at(1.1), at(2.1), at(3.1)],
        }
    )
    rows = {r["band"]: r for r in reliability(det, truth, tolerance_s=300)}
    assert rows["0.40-0.55"]["episodes"] == 1 and rows["0.40-0.55"]["observed"] == 0.0
    assert rows["0.55-0.70"]["observed"] == 1.0
    assert rows["0.70-0.85"]["observed"] == 1.0
    # two episodes on one true cramp: only one of them can match it
    assert rows["0.85-1.00"]["episodes"] == 2 and rows["0.85-1.00"]["observed"] == 0.5
    assert rows["0.85-1.00"]["predicted"] == pytest.approx(0.925)


def test_assignment_without_conflicts_skips_the_solver_and_equals_it() -> None:
    """``_assign`` takes the allowed pairs directly when they are already one-to-one; on
    random allowed-pair patterns (sparse and crowded) it must give the Hungarian method's
    pairs."""
    from scipy.optimize import linear_sum_assignment

    from pipeline.evaluate import _assign

    rng = np.random.default_rng(7)
    direct = 0
    for trial in range(300):
        n, m = int(rng.integers(1, 9)), int(rng.integers(1, 9))
        ok = rng.random((n, m)) < (0.5 if trial % 2 else 0.12)  # crowded / sparse
        cost = np.where(ok, -rng.random((n, m)) - 1.0, 1e6)
        r, c = _assign(cost, ok)
        rr, cc = linear_sum_assignment(cost)
        keep = ok[rr, cc]
        assert sorted(zip(r.tolist(), c.tolist(), strict=True)) == sorted(
            zip(rr[keep].tolist(), cc[keep].tolist(), strict=True)
        ), trial
        direct += int((ok.sum(axis=1) <= 1).all() and (ok.sum(axis=0) <= 1).all())
    assert 20 < direct < 300  # both paths were exercised
