"""The recorded-data bound's features on a hand-made night with known answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from evaluation import oracle_observed as oo

T0 = datetime(2025, 6, 1, 2, 0, tzinfo=UTC)


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_event_features_read_only_the_recording_around_the_onset():
    events = pl.DataFrame(
        {"participant_id": ["p"], "kind": ["nocturnal_cramp"], "is_cramp": [True],
         "start_utc": [T0]}
    )  # fmt: skip
    hr = [(-30, 99.0), (-10, 58.0), (-5, 62.0), (2, 80.0), (6, 70.0), (15, 66.0)]
    steps = [(-60, 5.0), (1, 12.0), (4, 8.0), (20, 30.0)]
    samples = pl.DataFrame(
        {
            "participant_id": ["p"] * (len(hr) + len(steps)),
            "metric": ["heart_rate_bpm"] * len(hr) + ["steps"] * len(steps),
            "start_utc": [_at(m) for m, _ in hr] + [_at(m) for m, _ in steps],
            "value": [v for _, v in hr] + [v for _, v in steps],
        }
    )
    segments = pl.DataFrame(
        {
            "participant_id": ["p"] * 3,
            "start_utc": [_at(-180), _at(0), _at(8)],
            "end_utc": [_at(0), _at(8), _at(300)],
            "stage": ["light", "awake", "deep"],
        }
    )
    f = oo.event_features(events, samples, segments).row(0, named=True)
    assert f["hr_base_bpm"] == 60.0  # median of the 20 min before (58, 62); -30 min is out
    assert f["hr_n_base"] == 2
    assert f["hr_post_max_rise_bpm"] == 20.0 and f["hr_post_mean_rise_bpm"] == 15.0
    assert f["hr_n_post"] == 2 and f["hr_late_rise_bpm"] == 6.0
    assert f["hr_first_after_s"] == 120.0
    assert f["steps_around"] == 12.0 and f["steps_post10"] == 20.0 and f["steps_post30"] == 30.0
    assert f["first_step_min"] == 1.0
    assert f["stage_awake"] == 1.0 and f["stage_deep"] == 0.0
    assert f["awake_min_30"] == 8.0
    assert f["hours_since_sleep"] == pytest.approx(3.0)
    assert set(oo.FEATURES) <= set(f)
