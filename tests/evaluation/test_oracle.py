"""The physio and bedside oracle bounds: the right features, event-level scores that add up."""

from __future__ import annotations

import numpy as np
import polars as pl

from evaluation import oracle


def _frame() -> pl.DataFrame:
    rows = []
    for kind, cramp, rise, steps, stood in (
        ("nocturnal_cramp", True, 18.0, 0.0, None),
        ("bathroom_trip", False, 14.0, 30.0, 1.0),
        ("sleep", False, None, None, None),
        ("watch_off", False, None, None, None),
        ("phone_use", False, 4.0, 0.0, None),
    ):
        r = {f: None for f in oracle.ORACLE_FEATURES}
        r.update(
            kind=kind,
            is_cramp=cramp,
            hr_rise_bpm=rise,
            steps_counted=steps,
            stood=stood,
            pain_surge_bpm=12.0 if cramp else None,
        )
        rows.append(r)
    return pl.DataFrame(rows)


def test_matrix_drops_non_events_and_cramp_only_columns() -> None:
    X, y = oracle.matrix(_frame())
    assert X.shape == (3, len(oracle.ORACLE_FEATURES))
    assert y.tolist() == [True, False, False]
    # a column whose presence alone names a cramp must not reach the oracle
    assert "pain_surge_bpm" not in oracle.ORACLE_FEATURES
    assert not np.isnan(X).any()  # absent = none of it (no standing, no steps)
    # duration_s is a cramp's contraction but every other kind's time awake, and only cramps
    # record a standing time: either would name the kind (the 0.99 of the fifth session)
    assert "duration_s" not in oracle.ORACLE_FEATURES
    assert "standing_s" not in oracle.ORACLE_FEATURES
    i = oracle.ORACLE_FEATURES.index("stood")
    assert X[:, i].tolist() == [0.0, 1.0, 0.0]


def test_scores_are_event_level_counts() -> None:
    y = np.array([True, True, False, False, True])
    det = np.array([True, False, True, False, True])
    s = oracle.scores(y, det)
    assert (s["tp"], s["fp"], s["fn"]) == (2, 1, 1)
    assert abs(s["precision"] - 2 / 3) < 1e-12 and abs(s["recall"] - 2 / 3) < 1e-12


def test_bedside_matrix_puts_every_kind_s_hr_response_in_one_column() -> None:
    f = pl.DataFrame(
        {
            "kind": ["nocturnal_cramp", "bathroom_trip", "awakening", "phone_use", "sleep"],
            "is_cramp": [1.0, 0.0, 0.0, 0.0, 0.0],
            "duration_s": [120.0, 300.0, 90.0, 600.0, None],
            "standing_s": [40.0, None, None, None, None],
            "out_of_bed_s": [None, 200.0, None, None, None],
            "pain_surge_bpm": [20.0, None, None, None, None],
            "orthostatic_bpm": [25.0, 15.0, None, None, None],
            "hr_rise_bpm": [None, None, 9.0, None, None],
            "hr_change_bpm": [None, None, None, 3.0, None],
            "stood": [1.0, 1.0, None, None, None],
            "steps_true": [6.0, 30.0, None, None, None],
        }
    )
    X, y = oracle.bedside_matrix(f)
    assert X.shape == (4, len(oracle.BEDSIDE_FEATURES)) and not np.isnan(X).any()
    assert y.tolist() == [True, False, False, False]
    rise = X[:, oracle.BEDSIDE_FEATURES.index("hr_rise_bpm")]
    assert rise.tolist() == [25.0, 15.0, 9.0, 3.0]  # the larger of surge and orthostatic
    assert "pain_surge_bpm" not in oracle.BEDSIDE_FEATURES
    up = X[:, oracle.BEDSIDE_FEATURES.index("standing_s")]
    assert up.tolist() == [40.0, 200.0, 0.0, 0.0]  # a bathroom trip's time out of bed
    assert "duration_s" not in oracle.BEDSIDE_FEATURES  # a cramp's is its contraction only
    wake = X[:, oracle.BEDSIDE_FEATURES.index("wake_s")]
    assert wake.tolist() == [0.0, 0.0, 90.0, 600.0]  # awake throughout: its duration


def test_nocturne_matrix_codes_the_stage_and_keeps_only_night_events() -> None:
    f = pl.DataFrame(
        {
            "kind": [
                "nocturnal_cramp",
                "bathroom_trip",
                "arousal",
                "rollover",
                "workout",
                "hot_night",
            ],
            "is_cramp": [True, False, False, False, False, False],
            "hr_response_bpm": [12.0, 20.0, 6.0, 3.0, 40.0, None],
            "true_steps": [4, 30, 0, 0, 2000, 0],
            "counted_steps": [0, 24, 0, 0, 1900, 0],
            "standing_s": [30, 150, 0, 0, 900, 0],
            "awake_s": [400, 600, 0, 0, 900, 0],
            "wrist_motion_mean": [0.5, 0.6, 0.1, 0.2, 0.9, 0.0],
            "stage_at_onset": ["n2", "rem", "n3", None, "up", None],
            "hours_since_sleep_onset": [2.0, 4.5, 1.0, 3.0, -8.0, 0.0],
            "bedroom_temp_c": [21.0, 21.0, 21.0, 21.0, 20.0, 26.0],
        }
    )
    X, y = oracle.nocturne_matrix(f)
    # a daytime workout and the hot-night marker are not night events
    assert X.shape == (4, len(oracle.NOCTURNE_FEATURES)) and not np.isnan(X).any()
    assert y.tolist() == [True, False, False, False]
    stage = X[:, oracle.NOCTURNE_FEATURES.index("stage_at_onset")]
    assert stage.tolist() == [1.0, 2.0, 0.0, -1.0]  # n3 deepest; unknown is not n3
    # every kind's HR response is measured alike, so no kind-only column reaches the oracle
    hr = X[:, oracle.NOCTURNE_FEATURES.index("hr_response_bpm")]
    assert hr.tolist() == [12.0, 20.0, 6.0, 3.0]
