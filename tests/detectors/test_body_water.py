"""The body-water state model (detectors/body_water.py) on tiny arrays with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr

from detectors.body_water import p_deficit_at_least, smooth_body_water

KW = dict(tissue_mass0_kg=70.0, tissue_mass0_sd_kg=1e-6, deficit0_sd_kg=0.0, drift_sd_kg=0.0,
          floor_at_zero=False)  # fmt: skip


def _run(u, s, a, y, r=0.5, **kw):
    n = len(u)
    return smooth_body_water(
        np.asarray(u, float), np.full(n, s) if np.isscalar(s) else np.asarray(s, float),
        np.full(n, a) if np.isscalar(a) else np.asarray(a, float),
        np.asarray(y, float), np.full(n, r), **{**KW, **kw},
    )  # fmt: skip


def test_constant_input_without_weighing_matches_the_closed_form() -> None:
    # D_t = a D_{t-1} + u, D_{-1} = 0: mean u (1 - a^(t+1)) / (1 - a),
    # variance s^2 (1 - a^(2(t+1))) / (1 - a^2)
    a, u, s, n = 0.6, 0.5, 0.3, 8
    bw = _run(np.full(n, u), s, a, np.full(n, np.nan))
    t = np.arange(n) + 1
    assert bw.deficit_kg == pytest.approx(u * (1 - a**t) / (1 - a))
    assert bw.deficit_sd_kg == pytest.approx(s * np.sqrt((1 - a ** (2 * t)) / (1 - a**2)))


def test_one_weighing_against_a_known_baseline_is_the_scalar_kalman_update() -> None:
    # prior D ~ N(1.0, 0.6^2); scale 68.5 kg against a known 70 kg: D observed 1.5, SD 0.5
    bw = _run([1.0], 0.6, 0.0, [68.5])
    k = 0.36 / (0.36 + 0.25)
    assert bw.deficit_kg[0] == pytest.approx(1.0 + k * 0.5)
    assert bw.deficit_sd_kg[0] == pytest.approx(np.sqrt((1 - k) * 0.36))


def test_a_missing_weighing_widens_the_posterior() -> None:
    y = np.full(5, 70.0)
    full = _run(np.zeros(5), 0.5, 0.5, y)
    y[2] = np.nan
    gap = _run(np.zeros(5), 0.5, 0.5, y)
    assert gap.deficit_sd_kg[2] > full.deficit_sd_kg[2]
    assert gap.deficit_sd_kg[0] == pytest.approx(full.deficit_sd_kg[0], rel=0.05)


def test_a_three_day_deficit_without_weighing_carries_over() -> None:
    # 0.8 kg short on each of three days, retained 70 %, weighed only before and after
    u = [0.0, 0.8, 0.8, 0.8, 0.0]
    y = [70.0, np.nan, np.nan, np.nan, np.nan]
    bw = _run(u, 0.4, 0.7, y)
    assert bw.deficit_kg[3] == pytest.approx(0.8 * (1 + 0.7 + 0.49), abs=1e-6)
    assert bw.deficit_kg[1] < bw.deficit_kg[2] < bw.deficit_kg[3]
    # a weighing after the spell confirms it and informs the earlier, unweighed days (RTS)
    y2 = [70.0, np.nan, np.nan, 70.0 - 1.75, np.nan]
    conf = _run(u, 0.4, 0.7, y2)
    assert conf.deficit_sd_kg[2] < bw.deficit_sd_kg[2]


def test_tissue_drift_is_not_read_as_a_deficit() -> None:
    # the scale falls 0.05 kg a day for 60 days (tissue), no water input
    y = 70.0 - 0.05 * np.arange(60)
    bw = _run(np.zeros(60), 0.5, 0.5, y, drift_sd_kg=0.1)
    # the tracker lags a steady ramp by a bounded amount: far below 2 % of 70 kg (1.4 kg)
    assert np.abs(bw.deficit_kg).max() < 0.5
    assert p_deficit_at_least(bw.deficit_kg, bw.deficit_sd_kg, np.full(60, 70.0), 2.0).max() < 0.05


def test_probability_of_a_2_pct_deficit_is_monotone_and_exact() -> None:
    m = np.linspace(0.0, 3.0, 31)
    p = p_deficit_at_least(m, np.full(31, 0.5), np.full(31, 70.0), 2.0)
    assert np.all(np.diff(p) > 0)
    assert p[14] == pytest.approx(float(ndtr((1.4 - 1.4) / 0.5)))
    assert p_deficit_at_least(np.array([1.5]), np.array([0.0]), np.array([70.0]), 2.0)[0] == 1.0


def test_vectorised_participants_equal_one_at_a_time() -> None:
    rng = np.random.default_rng(3)
    u = rng.normal(0, 0.5, (3, 20))
    y = np.where(rng.random((3, 20)) < 0.6, 70 - rng.normal(0, 1, (3, 20)), np.nan)
    kw = dict(tissue_mass0_kg=70.0, tissue_mass0_sd_kg=5.0, deficit0_sd_kg=0.5,
              drift_sd_kg=0.1)  # fmt: skip
    both = smooth_body_water(u, np.full((3, 20), 0.6), np.full((3, 20), 0.5), y,
                             np.full((3, 20), 0.46), **kw)  # fmt: skip
    for i in range(3):
        one = smooth_body_water(u[i], np.full(20, 0.6), np.full(20, 0.5), y[i], np.full(20, 0.46),
                                **kw)  # fmt: skip
        assert one.deficit_kg == pytest.approx(both.deficit_kg[i])
        assert one.deficit_sd_kg == pytest.approx(both.deficit_sd_kg[i])


# --- windowed_state: the state model over the days around a day (dehydration-0.3.3) -------


def _days(n: int, *, mass_next: dict[int, float] | None = None, sweat_ml: float = 0.0):
    """A plain day table of ``n`` days for one 70 kg person: no water log, the given
    next-morning weighings (day index -> kg)."""
    from datetime import date, timedelta

    import polars as pl

    mass_next = mass_next or {}
    return pl.DataFrame(
        {
            "participant_id": ["p"] * n,
            "local_date": [date(2024, 7, 1) + timedelta(days=i) for i in range(n)],
            "body_mass_kg": [70.0] * n,
            "sweat_ml": [sweat_ml] * n,
            "water_status": ["not_logged"] * n,
            "deficit_model_pct_bm": [None] * n,
            "balance_habit_pct_bm": [None] * n,
            "deficit_bias_pct_bm": [None] * n,
            "deficit_spread_pct_bm": [None] * n,
            "morning_mass_next_kg": [mass_next.get(i) for i in range(n)],
        },
        schema_overrides={
            "deficit_model_pct_bm": pl.Float64,
            "balance_habit_pct_bm": pl.Float64,
            "deficit_bias_pct_bm": pl.Float64,
            "deficit_spread_pct_bm": pl.Float64,
            "morning_mass_next_kg": pl.Float64,
        },
    )


def test_without_log_or_weighing_sweat_widens_the_state_but_does_not_move_it() -> None:
    from detectors.body_water import windowed_state
    from detectors.dehydration_params import BodyWaterParams

    p = BodyWaterParams()
    dry = windowed_state(_days(12), p)
    wet = windowed_state(_days(12, sweat_ml=2000.0), p)
    assert dry["deficit_state_pct_bm"].abs().max() < 1e-9
    assert wet["deficit_state_pct_bm"].abs().max() < 1e-9  # all of it drunk back, in expectation
    assert (wet["deficit_state_sd_pct_bm"] > dry["deficit_state_sd_pct_bm"] + 0.1).all()
    # stationary state of the unlogged days (a window of 9 from a prior of 0.5 kg):
    # v = a^2 v + s^2 with a = 0.4 and s = 1.5 % of 70 kg, so SD = s / sqrt(1 - a^2)
    s_kg = 0.015 * 70.0
    assert dry["deficit_state_sd_pct_bm"][6] == pytest.approx(
        100 * s_kg / np.sqrt(1 - 0.16) / 70.0, rel=1e-3
    )


def test_a_weighing_that_shows_a_drop_raises_the_days_around_it() -> None:
    from detectors.body_water import windowed_state
    from detectors.dehydration_params import BodyWaterParams

    # steady 70 kg mornings, 66.9 kg (4.4 % down) on the morning after day 10, nobody on
    # the scale the next two mornings, then 70 kg again
    w = {i: 70.0 for i in range(10)} | {10: 66.9} | {i: 70.0 for i in range(13, 20)}
    st = windowed_state(_days(20, mass_next=w), BodyWaterParams())
    p_ = st["p_deficit_state_ge_2pct"].to_list()
    assert p_[10] > 0.85  # the weighed day itself (the detector uses its own drop there)
    assert p_[10] > p_[11] > p_[12] > 0.1  # carried, then made up
    assert max(p_[:9]) < 0.1 and max(p_[13:]) < 0.1


def test_a_day_reads_only_its_window() -> None:
    """Rows more than window_back_days before or window_ahead_days after a day do not move
    it: detection in chunks gives the values of a run over the whole history."""
    from detectors.body_water import windowed_state
    from detectors.dehydration_params import BodyWaterParams

    p = BodyWaterParams()
    rng = np.random.default_rng(3)
    w = {i: float(70 + rng.normal(0, 0.5)) for i in range(40) if rng.random() < 0.6}
    full = windowed_state(_days(40, mass_next=w), p)
    t = 20
    lo, hi = t - p.window_back_days, t + p.window_ahead_days
    part = _days(40, mass_next=w).slice(lo, hi - lo + 1)
    cut = windowed_state(part, p)
    got = cut.filter(cut["local_date"] == full["local_date"][t]).row(0, named=True)
    want = full.row(t, named=True)
    for k in ("deficit_state_pct_bm", "deficit_state_sd_pct_bm", "p_deficit_state_ge_2pct"):
        assert got[k] == pytest.approx(want[k], rel=1e-12, abs=1e-12)


def test_the_whole_history_smoother_runs_on_the_detectors_day_table() -> None:
    """The whole-history smoother (not shipped, evaluated in docs/detectors/dehydration.md)
    reads its inputs from the day table the detector builds: a 2.5 % next-morning drop after
    a hot unlogged run is a deficit, the mornings before are not."""
    from datetime import timedelta

    import polars as pl

    from detectors.body_water import body_water_daily
    from detectors.dehydration import build_daily_table
    from detectors.dehydration_params import BodyWaterParams
    from tests.detectors.test_dehydration import HOT, _scenario

    daily = build_daily_table(*_scenario(water_ml=None, next_morning_kg=70.0 * 0.975))
    bw = body_water_daily(daily, BodyWaterParams(adlib_replace_frac=0.5))
    hot = bw.filter(pl.col("local_date") == HOT).row(0, named=True)
    before = bw.filter(pl.col("local_date") == HOT - timedelta(days=3)).row(0, named=True)
    assert hot["deficit_kg"] > 1.0 and hot["p_deficit_ge_2pct"] > 0.5
    assert before["p_deficit_ge_2pct"] < 0.1
