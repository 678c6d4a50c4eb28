"""Equivalence of the fast code paths behind ``daily_exposures`` with the straightforward ones
they replaced (benchmarks/exposures.py measures the speed; these check the values)."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from polars.testing import assert_frame_equal

from detectors.dehydration import (
    DehydrationParams,
    _env_hourly,
    _sorted_nanmedian,
    _trailing,
    build_hourly_table,
    evaporation_floor_g_m2_h,
    nws_heat_band_expr,
    sweat_rate_pw_g_m2_h,
)
from detectors.frames import ENVIRONMENT_SCHEMA
from detectors.heat import nws_heat_band


def _trailing_loop(
    df: pl.DataFrame, value: str, window_days: int, min_n: int, floor: float = 0.0
) -> pl.DataFrame:
    """The per-participant loop with ``np.nanmedian`` (dehydration-0.2, before the shared grid)."""
    df = df.sort("participant_id", "d")
    med = np.full(df.height, np.nan)
    mad = np.full(df.height, np.nan)
    cnt = np.zeros(df.height, dtype=np.int64)
    pid = df["participant_id"].to_numpy()
    dn = df["d"].cast(pl.Int32).to_numpy().astype(np.int64)
    v = df[value].to_numpy().astype(float)
    bounds = np.flatnonzero(np.concatenate([[True], pid[1:] != pid[:-1], [True]]))
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        dd, vv = dn[a:b], v[a:b]
        lo = dd[0]
        grid = np.full(int(dd[-1] - lo) + 1 + window_days, np.nan)
        grid[dd - lo + window_days] = vv
        rows = sliding_window_view(grid, window_days)[dd - lo]
        n = np.isfinite(rows).sum(axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            m = np.nanmedian(rows, axis=1)
            dev = np.nanmedian(np.abs(rows - m[:, None]), axis=1)
        ok = n >= min_n
        cnt[a:b] = n
        med[a:b] = np.where(ok, m, np.nan)
        mad[a:b] = np.where(ok, np.maximum(1.4826 * dev, floor), np.nan)
    return df.with_columns(
        base_med=pl.Series(med).fill_nan(None),
        base_mad=pl.Series(mad).fill_nan(None),
        base_n=pl.Series(cnt, dtype=pl.Int64),
    )


def test_sorted_nanmedian_equals_numpy() -> None:
    rng = np.random.default_rng(5)
    for width in (1, 2, 7, 14, 28):
        rows = np.round(rng.normal(60, 5, (400, width)), 1)
        rows[rng.random(rows.shape) < 0.4] = np.nan
        rows[0] = np.nan  # an all-NaN row
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = np.nanmedian(rows, axis=1)
        got = _sorted_nanmedian(rows)
        assert np.array_equal(got, want, equal_nan=True)


@pytest.mark.parametrize(("window", "min_n", "floor"), [(7, 3, 0.0), (14, 7, 1.0), (28, 3, 0.0)])
def test_trailing_grid_equals_loop(window: int, min_n: int, floor: float) -> None:
    rng = np.random.default_rng(window)
    rows = []
    for pid in ("a", "b", "c", "d"):
        n = int(rng.integers(1, 90))
        # gaps between days, so windows are ragged; "d" has a single day
        days = np.cumsum(rng.integers(1, 4, n)) if pid != "d" else np.array([3])
        for k in days:
            val = None if rng.random() < 0.1 else float(np.round(rng.normal(70, 2), 2))
            rows.append((pid, date(2024, 1, 1) + timedelta(days=int(k)), val))
    df = pl.DataFrame(rows, schema=["participant_id", "d", "x"], orient="row").sample(
        fraction=1.0, shuffle=True, seed=1
    )
    assert_frame_equal(
        _trailing(df, "x", window, min_n, floor=floor),
        _trailing_loop(df, "x", window, min_n, floor=floor),
        check_exact=True,
    )
    empty = df.head(0)
    assert _trailing(empty, "x", window, min_n).height == 0


def _env_hourly_filtered(env: pl.DataFrame) -> pl.DataFrame:
    """The per-group filter form (dehydration-0.2) of ``_env_hourly``."""
    is_out = pl.col("setting").fill_null("outdoor") != "indoor"
    return (
        env.with_columns(hour_utc=pl.col("time_utc").dt.truncate("1h"), is_out=is_out)
        .group_by("participant_id", "hour_utc")
        .agg(
            outdoor_temp_c=pl.col("temp_c").filter("is_out").mean(),
            outdoor_rh_pct=pl.col("rh_pct").filter("is_out").mean(),
            indoor_temp_c=pl.col("temp_c").filter(~pl.col("is_out")).mean(),
            indoor_rh_pct=pl.col("rh_pct").filter(~pl.col("is_out")).mean(),
            off_env=pl.col("utc_offset_s").first(),
            outdoor_wind_m_s=pl.col("wind_speed_m_s").filter("is_out").mean(),
            outdoor_ssr_w_m2=pl.col("shortwave_radiation_w_m2").filter("is_out").mean(),
            env_lat_deg=pl.col("latitude_deg").filter("is_out").drop_nulls().first(),
            env_lon_deg=pl.col("longitude_deg").filter("is_out").drop_nulls().first(),
        )
    )


def test_env_hourly_equals_filtered_aggregation() -> None:
    rng = np.random.default_rng(3)
    t0 = datetime(2024, 7, 1, tzinfo=UTC)
    rows = []
    for pid in ("p1", "p2"):
        for _k in range(300):
            # several readings in some hours, both settings, a null setting, missing values
            t = t0 + timedelta(minutes=int(rng.integers(0, 60 * 72)))
            setting = rng.choice(["outdoor", "indoor", None])
            rows.append(
                {
                    "participant_id": pid,
                    "time_utc": t,
                    "utc_offset_s": int(rng.choice([3600, 7200])),
                    "setting": setting,
                    "temp_c": None if rng.random() < 0.1 else float(rng.normal(25, 5)),
                    "rh_pct": None if rng.random() < 0.1 else float(rng.uniform(20, 90)),
                    "wind_speed_m_s": None if rng.random() < 0.3 else float(rng.gamma(2, 1)),
                    "shortwave_radiation_w_m2": float(rng.uniform(0, 900)),
                    "latitude_deg": None if rng.random() < 0.5 else float(rng.uniform(-40, 60)),
                    "longitude_deg": None if rng.random() < 0.5 else float(rng.uniform(0, 90)),
                }
            )
    env = pl.DataFrame(rows).cast(ENVIRONMENT_SCHEMA)  # type: ignore[arg-type]
    keys = ["participant_id", "hour_utc"]
    got = _env_hourly(env).collect().sort(keys)
    want = _env_hourly_filtered(env).sort(keys).select(got.columns)
    # means of the same values in the same order: equal up to the last bit or two
    assert_frame_equal(got, want, check_exact=False, rel_tol=1e-13, abs_tol=1e-12)
    assert got["env_lat_deg"].equals(want["env_lat_deg"])
    assert got["off_env"].equals(want["off_env"])


def test_heat_band_expression_equals_numpy_bands() -> None:
    hi = np.array([np.nan, -10.0, 79.99, 80.0, 89.9, 90.0, 102.9, 103.0, 124.9, 125.0, 150.0])
    want = nws_heat_band(hi).tolist()
    got = pl.DataFrame({"hi_f": pl.Series(hi).fill_nan(None)}).select(nws_heat_band_expr("hi_f"))[
        :, 0
    ]
    assert got.to_list() == want
    # NaN kept as NaN (not null) is also no band
    nan = pl.DataFrame({"hi_f": [float("nan")]}).select(nws_heat_band_expr("hi_f"))[:, 0]
    assert nan.to_list() == [None]


def test_hourly_sweat_on_active_hours_equals_the_full_array_formula() -> None:
    """Without the workout split (hour-mean M), sweat is computed for hours >= 2 MET only; the
    same values as the equations over every hour followed by the mask (dehydration-0.2/0.3
    before the restriction)."""
    from dataclasses import replace

    from simulators.daygen import generate

    g = generate(seed=3, n_participants=3, n_days=20)
    p = replace(DehydrationParams(), sweat_split_workout=False)
    h = build_hourly_table(g.samples, g.workouts, g.environment, g.participants, p)
    m = h["metabolic_rate_w_m2"].fill_null(np.nan).to_numpy()
    ta, rh = h["ta_used_c"].to_numpy(), h["rh_used_pct"].to_numpy()
    kw = {"clo": p.clo, "im": p.im, "skin_temp_c": p.skin_temp_c,
          "external_work_w_m2": p.external_work_w_m2}  # fmt: skip
    pw = np.maximum(
        sweat_rate_pw_g_m2_h(m, ta, rh, cool_below_c=p.pw_cool_below_c, **kw),
        evaporation_floor_g_m2_h(m, ta, rh, latent_heat_j_g=p.latent_heat_j_g, **kw),
    )
    want = np.clip(pw * h["bsa_m2"].to_numpy(), 0.0, p.sweat_max_ml_h)
    want = np.where(m >= p.sweat_min_met * p.met_w_m2, want, 0.0)
    want = np.where(np.isfinite(m), want, np.nan)
    got = h["sweat_ml"].fill_null(np.nan).to_numpy()
    assert (got > 0).sum() > 50  # workouts and active hours are in there
    assert np.array_equal(got, want, equal_nan=True)


def _run(kcal: float, minutes: float, temp_c: float, params=None, start_min: int = 40) -> dict:
    """One 70 kg person, one outdoor run starting ``start_min`` after 16:00 UTC, the same
    weather for the two hours it may touch; sums over those hours."""
    from datetime import UTC, datetime, timedelta

    h0 = datetime(2025, 7, 3, 16, tzinfo=UTC)
    t0 = h0 + timedelta(minutes=start_min)
    wk = pl.DataFrame(
        {
            "participant_id": ["a"],
            "activity_type": ["running"],
            "start_utc": [t0],
            "end_utc": [t0 + timedelta(minutes=minutes)],
            "utc_offset_s": [7200],
            "duration_s": [minutes * 60.0],
            "active_energy_kcal": [kcal],
            "distance_m": [None],
        }
    )
    smp = pl.DataFrame(
        {
            "participant_id": ["a"],
            "metric": ["body_mass_kg"],
            "start_utc": [t0 - timedelta(hours=8)],
            "end_utc": [t0 - timedelta(hours=8)],
            "utc_offset_s": [7200],
            "value": [70.0],
        }
    )
    hours = [h0, h0 + timedelta(hours=1)]
    env = pl.DataFrame(
        {
            "participant_id": ["a", "a"],
            "time_utc": hours,
            "utc_offset_s": [7200, 7200],
            "setting": ["outdoor", "outdoor"],
            "temp_c": [temp_c, temp_c],
            "rh_pct": [50.0, 50.0],
        }
    )
    ppl = pl.DataFrame(
        {
            "participant_id": ["a"],
            "sex": ["male"],
            "birth_year": [1985],
            "height_cm": [178.0],
            "tz": ["Europe/Berlin"],
        }
    )
    h = build_hourly_table(smp, wk, env, ppl, params or DehydrationParams())
    h = h.filter(pl.col("hour_utc").is_in(hours))
    return {c: h[c].sum() for c in ("workout_s", "active_energy_kcal", "sweat_ml")}


def test_a_workout_sweats_at_its_own_rate_not_the_hour_mean() -> None:
    """A 40-min run of 450 kcal at 30 C across two clock hours (16:40-17:20): the whole-body
    sweat lands inside the normative range for running (Baker 2016: 1.21 +/- 0.68 L/h, i.e.
    0.35-1.26 L in 40 min) and above the same run averaged over the two clock hours it
    touches (dehydration-0.3), which loses the sweat of the hours it pushes under 2 MET."""
    from dataclasses import replace

    mean_p = replace(DehydrationParams(), sweat_split_workout=False)
    split = _run(450.0, 40.0, 30.0)
    mean = _run(450.0, 40.0, 30.0, mean_p)
    assert split["workout_s"] == mean["workout_s"] == 2400.0
    assert abs(split["active_energy_kcal"] - 450.0) < 1e-9
    assert 350.0 <= split["sweat_ml"] <= 1260.0
    assert split["sweat_ml"] > mean["sweat_ml"]
    # inside one clock hour the split and the hour mean agree within the rest-time terms
    one = _run(450.0, 40.0, 30.0, start_min=0)
    assert 350.0 <= one["sweat_ml"] <= 1260.0


def test_minute_intensity_levels_give_active_energy_when_no_export_has_it() -> None:
    """Fitabase gives total calories and minute intensity levels, no active energy: 30
    vigorous minutes (8 MET, Haskell 2007 bands) of a 70 kg person are (8 - 1) x 70 x 0.5 h
    = 245 kcal above rest (Ainsworth 2011: 1 MET = 1 kcal/kg/h)."""
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2025, 7, 3, 6, tzinfo=UTC)
    rows = [
        {
            "participant_id": "a",
            "metric": "intensity_level",
            "start_utc": t0 + timedelta(minutes=i),
            "end_utc": t0 + timedelta(minutes=i + 1),
            "utc_offset_s": 0,
            "value": 3.0 if i < 30 else 0.0,
        }
        for i in range(60)
    ]
    rows.append(
        {
            "participant_id": "a",
            "metric": "body_mass_kg",
            "start_utc": t0,
            "end_utc": t0,
            "utc_offset_s": 0,
            "value": 70.0,
        }
    )
    smp = pl.DataFrame(rows)
    env = pl.DataFrame(
        {
            "participant_id": ["a"],
            "time_utc": [t0],
            "utc_offset_s": [0],
            "setting": ["outdoor"],
            "temp_c": [20.0],
            "rh_pct": [50.0],
        }
    )
    ppl = pl.DataFrame(
        {
            "participant_id": ["a"],
            "sex": ["male"],
            "birth_year": [1985],
            "height_cm": [178.0],
            "tz": ["UTC"],
        }
    )
    wk = pl.DataFrame(
        schema={
            "participant_id": pl.String,
            "activity_type": pl.String,
            "start_utc": pl.Datetime("us", "UTC"),
            "end_utc": pl.Datetime("us", "UTC"),
            "utc_offset_s": pl.Int32,
        }
    )
    h = build_hourly_table(smp, wk, env, ppl).filter(pl.col("hour_utc") == t0).row(0, named=True)
    assert abs(h["active_energy_kcal"] - 245.0) < 1e-6
    assert h["sweat_ml"] > 0
    # a participant with active-energy samples keeps them: no double counting
    smp2 = pl.concat(
        [
            smp,
            pl.DataFrame(
                [
                    {
                        "participant_id": "a",
                        "metric": "active_energy_kcal",
                        "start_utc": t0,
                        "end_utc": t0 + timedelta(hours=1),
                        "utc_offset_s": 0,
                        "value": 100.0,
                    }
                ]
            ),
        ]
    )
    h2 = build_hourly_table(smp2, wk, env, ppl).filter(pl.col("hour_utc") == t0).row(0, named=True)
    assert h2["active_energy_kcal"] == 100.0
