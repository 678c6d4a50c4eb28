"""Dehydration-condition detector: formula sanity values and day-level rules."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from scipy.special import ndtr

from detectors.dehydration import (
    DAILY_SCHEMA,
    HOURLY_SCHEMA,
    DehydrationParams,
    bmr_mifflin_kcal_d,
    body_surface_area_m2,
    build_daily_table,
    build_hourly_table,
    detect_dehydration,
    evaporation_floor_g_m2_h,
    heat_index_c,
    heat_index_f,
    metabolic_rate_w_m2,
    nws_heat_band,
    saturation_vapour_pressure_hpa,
    sweat_rate_pw_g_m2_h,
)
from detectors.schema import EPISODE_SCHEMA
from tests.detectors.builders import at, environment, participants, samples, workouts

# --- heat index ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("t_f", "rh", "expected"),
    [
        (90, 60, 99.7),  # Rothfusz
        (96, 65, 121.0),  # Rothfusz
        (100, 10, 94.1),  # Rothfusz with the RH < 13 % adjustment
        (84, 90, 98.3),  # Rothfusz with the RH > 85 % adjustment
        # simple-formula branch. The brief lists 75.2 F, which is what averaging the simple
        # formula with T a *second* time gives; the NWS calculator and Anderson et al. (2013)
        # apply 0.5 (T + 61 + ...) once -> 75.42. See heat_index_f Notes.
        (75, 68.5, 75.4),
    ],
)
def test_heat_index_nws_sanity_values(t_f: float, rh: float, expected: float) -> None:
    assert float(heat_index_f(t_f, rh)) == pytest.approx(expected, abs=0.2)


def test_heat_index_simple_branch_is_averaged_once() -> None:
    # 0.5 * (75 + 61 + 1.2 * 7 + 0.094 * 68.5) = 75.42; a double average would be 75.21
    assert float(heat_index_f(75, 68.5)) == pytest.approx(75.42, abs=0.01)


def test_heat_index_guard_vectorised_and_celsius() -> None:
    hi = heat_index_f(np.array([30.0, 40.0, 90.0, np.nan]), np.array([90.0, 90.0, 60.0, 50.0]))
    assert hi[0] == 30.0 and hi[1] == 40.0  # Anderson 2013: HI = T at or below 40 F
    assert hi[2] == pytest.approx(99.7, abs=0.1)
    assert np.isnan(hi[3])
    assert float(heat_index_c((90 - 32) * 5 / 9, 60)) == pytest.approx((99.7 - 32) * 5 / 9, abs=0.1)
    assert np.isnan(heat_index_f(90, 120))  # impossible RH


def test_nws_bands() -> None:
    bands = nws_heat_band([79.9, 80.0, 95.0, 103.0, 130.0, np.nan])
    assert list(bands) == ["none", "caution", "extreme_caution", "danger", "extreme_danger", None]


# --- sweat, BSA, BMR -----------------------------------------------------------------------


@pytest.mark.parametrize(("m_w_m2", "expected"), [(250.0, 138.0), (600.0, 673.0)])
def test_pw_sweat_sanity_values(m_w_m2: float, expected: float) -> None:
    # brief 2.1: A_D 1.9 m2, 30 C / 50 %, clo 0.5, im 0.45, Tsk 35 C
    rate = float(sweat_rate_pw_g_m2_h(m_w_m2, 30.0, 50.0))
    assert rate == pytest.approx(expected, abs=2.0)
    assert rate * 1.9 / 1000 == pytest.approx(expected * 1.9 / 1000, abs=0.01)  # L/h


def test_pw_negative_at_rest_and_cool_intercept() -> None:
    assert float(sweat_rate_pw_g_m2_h(58.2, 23.0, 50.0)) < 0  # callers clamp
    # Ta < 20 C uses the Gonzalez 2012 intercept 350 instead of 147: +203 g/m2/h exactly
    warm = float(sweat_rate_pw_g_m2_h(400.0, 20.0, 50.0))
    cool = float(sweat_rate_pw_g_m2_h(400.0, 19.999, 50.0))
    assert cool - warm == pytest.approx(203.0, abs=0.5)


def test_vapour_pressure_and_skin_pressure() -> None:
    assert float(saturation_vapour_pressure_hpa(35.0)) * 0.750062 == pytest.approx(42.2, abs=0.1)


def test_bsa_bmr_metabolic_rate() -> None:
    assert float(body_surface_area_m2(70.0, 175.0)) == pytest.approx(1.85, abs=0.01)
    assert float(bmr_mifflin_kcal_d(70.0, 175.0, 44.0, "male")) == pytest.approx(1578.75)
    assert float(bmr_mifflin_kcal_d(60.0, 163.0, 44.0, "female")) == pytest.approx(
        600 + 1018.75 - 220 - 161
    )
    assert float(bmr_mifflin_kcal_d(70.0, 175.0, 44.0, None)) == pytest.approx(1578.75 - 83)
    # 1 MET at rest: BMR 1400 kcal/d, no activity, 1.163 W per kcal/h, A_D 1.163 m2 -> 58.33
    assert float(metabolic_rate_w_m2(1400.0, 0.0, 1.163)) == pytest.approx(1400 / 24)


def test_heat_balance_floor_of_the_sweat_rate() -> None:
    # brisk walk, 30 C / 50 %, clo 0.5, im 0.45: Pa 2.12 kPa; Cres = 0.0014 * 250 * 4 = 1.4,
    # Eres = 0.0173 * 250 * (5.87 - 2.12) = 16.2, R + C = 12.9 * (30 - 35) = -64.5 W/m2 ->
    # Ereq_skin 167.9 W/m2 < Emax 336 -> 167.9 * 3600 / 2430 = 248.7 g/m2/h, where PW gives 138
    floor = float(evaporation_floor_g_m2_h(250.0, 30.0, 50.0))
    assert floor == pytest.approx(248.7, abs=0.5)
    assert float(sweat_rate_pw_g_m2_h(250.0, 30.0, 50.0)) < floor
    # running: Ereq_skin 493 W/m2 exceeds Emax (336 W/m2): the floor is Emax's 497 g/m2/h, and
    # PW's 673 g/m2/h stands
    assert float(evaporation_floor_g_m2_h(600.0, 30.0, 50.0)) == pytest.approx(497.4, abs=0.5)
    # at rest no evaporation is required: zero, never negative
    assert float(evaporation_floor_g_m2_h(58.2, 30.0, 50.0)) == 0.0
    # the daily sweat uses the larger of the two (hourly table: a 2-h run at 33 C)
    smp, wk, env, ppl = _scenario(water_ml=None, next_morning_kg=None)
    on = build_hourly_table(smp, wk, env, ppl).filter(pl.col("workout_s") > 0)
    off = build_hourly_table(
        smp, wk, env, ppl, DehydrationParams(sweat_heat_balance_floor=False)
    ).filter(pl.col("workout_s") > 0)
    assert (on["sweat_ml"] >= off["sweat_ml"]).all()


# --- day-level scenarios ---------------------------------------------------------------------

D0 = date(2024, 7, 1)
HOT = date(2024, 7, 8)


def _scenario(
    water_ml: list[float] | None,
    next_morning_kg: float | None,
    with_baseline_mass: bool = True,
    rhr_next: float | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Male 70 kg, 175 cm; a 2-h outdoor run at 33 C / 50 % (HI 97 F) on HOT, 600 kcal/h."""
    ppl = participants(
        [
            {
                "participant_id": "p1",
                "sex": "male",
                "birth_year": 1980,
                "height_cm": 175.0,
                "tz": "Europe/Berlin",
            }
        ]
    )
    rows: list[tuple] = []
    if with_baseline_mass:
        for i in range(8):  # mornings of 1..8 July: 69.9, 70.0, 70.1, ...
            d = D0 + timedelta(days=i)
            rows.append(
                ("body_mass_kg", at(d, "07:00"), at(d, "07:00"), 70.0 + 0.1 * ((i % 3) - 1))
            )
    if next_morning_kg is not None:
        d = HOT + timedelta(days=1)
        rows.append(("body_mass_kg", at(d, "07:05"), at(d, "07:05"), next_morning_kg))
    for k in range(12):
        t = at(HOT, "17:00") + timedelta(minutes=10 * k)
        rows.append(("active_energy_kcal", t, t + timedelta(minutes=10), 100.0))
    for hhmm, ml in zip(
        ("08:00", "11:00", "14:00", "17:00", "20:00"), water_ml or [], strict=False
    ):
        rows.append(("water_ml", at(HOT, hhmm), at(HOT, hhmm), ml))
    for i in range(30):  # resting HR baseline 52-54 bpm, then the next-day value
        d = HOT - timedelta(days=29 - i)
        rows.append(("resting_heart_rate_bpm", at(d, "12:00"), at(d, "12:00"), 53.0 + (i % 3) - 1))
    if rhr_next is not None:
        d = HOT + timedelta(days=1)
        rows.append(("resting_heart_rate_bpm", at(d, "12:00"), at(d, "12:00"), rhr_next))
    wk = workouts(
        [
            {
                "participant_id": "p1",
                "activity_type": "running",
                "start_utc": at(HOT, "17:00"),
                "end_utc": at(HOT, "19:00"),
                "utc_offset_s": 7200,
                "duration_s": 7200.0,
                "active_energy_kcal": 1200.0,
                "distance_m": 20000.0,
            }
        ]
    )
    env = environment(
        [
            {
                "participant_id": "p1",
                "time_utc": at(D0, "00:00") + timedelta(hours=h),
                "utc_offset_s": 7200,
                "setting": "outdoor",
                "temp_c": 33.0,
                "rh_pct": 50.0,
            }
            for h in range(24 * 10)
        ]
    )
    return samples(rows), wk, env, ppl


def _day(daily: pl.DataFrame, d: date = HOT) -> dict:
    return daily.filter(pl.col("local_date") == d).row(0, named=True)


def test_hot_workout_low_water_and_2_5_pct_mass_drop_is_one_likely_episode() -> None:
    smp, wk, env, ppl = _scenario(water_ml=[200, 200, 200, 200, 200], next_morning_kg=70.0 * 0.975)
    eps = detect_dehydration(smp, wk, env, ppl)
    assert eps.height == 1
    row = eps.row(0, named=True)
    assert row["local_date"] == HOT and row["kind"] == "dehydration"
    assert row["label"] == "likely" and row["confidence"] >= 0.7
    # the local day's bounds in UTC (UTC+2): 7 July 22:00 -> 8 July 22:00
    assert row["start_utc"] == datetime(2024, 7, 7, 22, tzinfo=UTC)
    assert row["end_utc"] == datetime(2024, 7, 8, 22, tzinfo=UTC)
    assert row["detector_version"] == "dehydration-0.3.3"
    ev = json.loads(row["evidence"])
    assert ev["level"] == "likely_dehydration_condition"
    assert ev["corroboration"] == "supported" and ev["support_strength"] == "strong"
    assert ev["mass_change_pct"] == pytest.approx(-2.5, abs=0.05)
    assert (
        ev["water_status"] == "logged" and ev["water_ml"] == 1000 and ev["water_entries_count"] == 5
    )
    assert ev["exposed_hi_ge_91f_h"] == 2
    assert 1000 < ev["sweat_ml"] < 2500  # ~0.9 L/h for 2 h
    assert ev["deficit_pct_bm"] >= 2.0
    assert ev["params"] == DehydrationParams().name


def test_same_day_with_adequate_water_and_stable_mass_is_not_flagged() -> None:
    smp, wk, env, ppl = _scenario(water_ml=[1200, 1200, 1200, 1200], next_morning_kg=70.0)
    assert detect_dehydration(smp, wk, env, ppl).height == 0
    day = _day(build_daily_table(smp, wk, env, ppl))
    assert day["deficit_pct_bm"] < 0
    assert day["level"] == "heat_sweat_exposure"  # exposure alone is recorded, not flagged
    assert day["corroboration"] == "contradicted"
    assert day["confidence"] < 0.4


def test_no_water_logged_is_not_flagged_on_fluid_grounds() -> None:
    smp, wk, env, ppl = _scenario(water_ml=None, next_morning_kg=None)
    assert detect_dehydration(smp, wk, env, ppl).height == 0
    day = _day(build_daily_table(smp, wk, env, ppl))
    assert day["water_status"] == "not_logged"
    assert day["water_ml"] is None and day["intake_ml"] is None and day["deficit_pct_bm"] is None
    assert day["level"] == "heat_sweat_exposure"


def test_no_water_logged_but_mass_drop_says_water_not_logged_in_evidence() -> None:
    smp, wk, env, ppl = _scenario(water_ml=None, next_morning_kg=70.0 * 0.975)
    eps = detect_dehydration(smp, wk, env, ppl)
    assert eps.height == 1
    ev = json.loads(eps["evidence"][0])
    assert ev["water_status"] == "not_logged"
    assert ev["water_ml"] is None and ev["deficit_pct_bm"] is None  # no balance without logs
    # the deficit estimate is the measured 2.5 % drop (7 baseline mornings)
    assert ev["deficit_estimate_source"] == "next_morning_mass"
    assert ev["deficit_estimate_pct_bm"] == pytest.approx(2.5, abs=0.01)
    sd = _mass_sd(7)
    assert ev["deficit_estimate_sd_pct_bm"] == pytest.approx(sd, abs=0.01)
    assert eps["confidence"][0] == pytest.approx(float(ndtr((2.5 - 2.0) / sd)), abs=1e-3)
    assert ev["level"] == "likely_dehydration_condition"
    assert eps["label"][0] == "likely"  # P(>= 2 %) ~0.75


def test_a_large_measured_deficit_is_carried_into_the_next_unmeasured_day() -> None:
    # HOT ends 4.5 % short (weighed next morning); the day after has no weighing and no log:
    # its estimate is the body-water state over the days around it (dehydration-0.3.3). The
    # smoother shares the drop between the deficit and the tissue mass (its prior), then 0.4
    # of the deficit is left a day later: about 1.3 %
    smp, wk, env, ppl = _scenario(water_ml=None, next_morning_kg=70.0 * 0.955)
    daily = build_daily_table(smp, wk, env, ppl)
    today = _day(daily)
    assert today["deficit_estimate_source"] == "next_morning_mass"  # its own drop, as before
    after = daily.filter(pl.col("local_date") == HOT + timedelta(days=1)).row(0, named=True)
    assert after["deficit_estimate_source"] == "body_water_state"
    assert after["mass_change_pct"] is None and after["water_status"] == "not_logged"
    assert after["deficit_estimate_pct_bm"] == pytest.approx(1.32, abs=0.05)
    assert after["deficit_estimate_sd_pct_bm"] == pytest.approx(1.63, abs=0.05)
    m, sd = after["deficit_estimate_pct_bm"], after["deficit_estimate_sd_pct_bm"]
    assert after["p_deficit_ge_2pct"] == pytest.approx(float(ndtr((m - 2.0) / sd)), abs=1e-9)
    assert after["level"] == "likely_fluid_deficit"
    assert after["confidence"] == pytest.approx(after["p_deficit_ge_2pct"], abs=1e-4)
    # a normal next morning leaves nothing to carry: the estimate is ~0 and P is the state's
    # no-information value, Phi(-2 / SD)
    calm = build_daily_table(*_scenario(water_ml=None, next_morning_kg=70.0))
    after = calm.filter(pl.col("local_date") == HOT + timedelta(days=1)).row(0, named=True)
    assert after["deficit_estimate_source"] == "body_water_state"
    assert abs(after["deficit_estimate_pct_bm"]) < 0.05
    sd = after["deficit_estimate_sd_pct_bm"]
    assert after["p_deficit_ge_2pct"] == pytest.approx(float(ndtr(-2.0 / sd)), abs=0.01)


def test_an_unmeasured_exposure_day_keeps_the_exposure_confidence() -> None:
    """The hot run with no log and no weighing the morning after: the body-water state
    (weighings the week before) does not move with the day's sweat, so the day keeps the
    exposure's 0.20, plus 0.05 with the resting-HR criterion alone."""
    day = _day(build_daily_table(*_scenario(water_ml=None, next_morning_kg=None)))
    assert day["deficit_estimate_source"] == "body_water_state"
    assert abs(day["deficit_estimate_pct_bm"]) < 0.05 and day["p_deficit_ge_2pct"] < 0.2
    assert day["level"] == "heat_sweat_exposure"
    assert day["confidence"] == pytest.approx(0.20)
    hr = _day(build_daily_table(*_scenario(water_ml=None, next_morning_kg=None, rhr_next=62.0)))
    assert hr["support_strength"] == "hr_only"
    assert hr["confidence"] == pytest.approx(0.25)


def test_a_day_needs_daily_reach_days_of_history() -> None:
    """Day a (no log, no weighing) reads the body-water state of the week before, whose
    first day reads a fluid-model habit over the 28 logged days before it, whose
    logged/partial status reads 28 days before that: a chunk loaded from
    a - CHUNK_LOOKBACK_DAYS gives the whole history's value, one loaded from a - 60 (the
    reach before dehydration-0.3.3) does not."""
    from detectors.dehydration_params import BodyWaterParams
    from pipeline.detect import (
        CHUNK_LOOKBACK_DAYS,
        DAILY_REACH_BACK_DAYS,
        DAILY_REACH_DAYS,
        LOOKBACK_DAYS,
    )

    # the pipeline's constants follow the detector's windows (the pipeline does not import
    # the detectors to stay fast)
    p, bw = DehydrationParams(), BodyWaterParams()
    assert DAILY_REACH_DAYS == p.bias_window_days + p.typical_window_days + 1 + bw.window_back_days
    assert DAILY_REACH_BACK_DAYS == 1 + bw.window_ahead_days
    assert CHUNK_LOOKBACK_DAYS >= DAILY_REACH_DAYS and LOOKBACK_DAYS >= DAILY_REACH_DAYS
    d0 = date(2024, 1, 1)
    a = d0 + timedelta(days=80)
    rows = []
    for i in range(90):
        d = d0 + timedelta(days=i)
        rows.append(("resting_heart_rate_bpm", at(d, "12:00"), at(d, "12:00"), 55.0))
        k = (d - a).days
        if k == 0:
            continue  # day a: nothing logged, no weighing
        if -63 <= k <= -61:
            ml = 500.0
        elif k <= -36:
            ml = 1000.0 if i % 2 else 3000.0
        elif k == -35:
            ml = 1200.0
        else:
            ml = 1500.0 if i % 2 else 2600.0
        rows.append(("water_ml", at(d, "07:00"), at(d, "07:00"), ml / 2))
        rows.append(("water_ml", at(d, "21:30"), at(d, "21:30"), ml / 2))
    smp = samples(rows)
    ppl = participants([{"participant_id": "p1", "sex": "male", "birth_year": 1980,
                         "height_cm": 175.0, "tz": "Europe/Berlin"}])  # fmt: skip
    wk, env = workouts([]), environment([])

    def day_a(lookback: int | None) -> dict:
        s = smp if lookback is None else smp.filter(
            pl.col("start_utc") >= at(a - timedelta(days=lookback), "00:00")
        )  # fmt: skip
        t = build_daily_table(s, wk, env, ppl)
        return t.filter(pl.col("local_date") == a).row(0, named=True)

    full, chunk, short = day_a(None), day_a(CHUNK_LOOKBACK_DAYS), day_a(60)
    assert full["deficit_estimate_source"] == "body_water_state"
    for k in ("deficit_estimate_pct_bm", "deficit_estimate_sd_pct_bm", "confidence"):
        assert chunk[k] == pytest.approx(full[k], abs=1e-12), k
    assert short["deficit_estimate_pct_bm"] != pytest.approx(full["deficit_estimate_pct_bm"])


def test_partial_logging_is_treated_as_not_logged() -> None:
    smp, wk, env, ppl = _scenario(water_ml=[200], next_morning_kg=None)
    extra = []
    for i in range(1, 6):  # five earlier days with a typical ~2 L logged
        d = HOT - timedelta(days=i)
        extra += [
            ("water_ml", at(d, hh), at(d, hh), 500.0) for hh in ("08:00", "12:00", "16:00", "20:00")
        ]
    smp = pl.concat([smp, samples(extra)])
    day = _day(build_daily_table(smp, wk, env, ppl))
    assert day["water_typical_ml"] == 2000
    assert day["water_status"] == "partial"
    assert day["deficit_pct_bm"] is None
    assert day["level"] == "heat_sweat_exposure"


def test_resting_hr_rise_alone_is_low_weight_support() -> None:
    smp, wk, env, ppl = _scenario(
        water_ml=[200, 200, 200, 200, 200],
        next_morning_kg=None,
        with_baseline_mass=False,
        rhr_next=62.0,
    )
    day = _day(build_daily_table(smp, wk, env, ppl))
    assert day["resting_hr_z"] >= 2 and day["resting_hr_rise_bpm"] >= 5
    assert day["support_strength"] == "hr_only"
    assert day["corroboration"] == "unconfirmed"  # HR without HRV is not "supported"
    # no mass: the estimate is the fluid balance, SD = default spread (< 3 logged days) and
    # 0.56 x the day's sweat; HR alone adds its low weight to P(deficit >= 2 %)
    sd = math.hypot(1.5, 0.56 * day["sweat_pct_bm"])
    assert day["deficit_estimate_sd_pct_bm"] == pytest.approx(sd)
    p2 = float(ndtr((day["deficit_pct_bm"] - 2.0) / sd))
    assert day["p_deficit_ge_2pct"] == pytest.approx(p2)
    assert day["confidence"] == pytest.approx(p2 + 0.05, abs=1e-4)


def test_measured_session_loss_sets_dehydration_level() -> None:
    smp, wk, env, ppl = _scenario(water_ml=None, next_morning_kg=None, with_baseline_mass=False)
    weigh = samples(
        [
            ("body_mass_kg", at(HOT, "16:30"), at(HOT, "16:30"), 70.0),
            (
                "body_mass_kg",
                at(HOT, "19:20"),
                at(HOT, "19:20"),
                68.4,
            ),  # -1.6 kg + 0 L drunk = -2.3 %
        ]
    )
    day = _day(build_daily_table(pl.concat([smp, weigh]), wk, env, ppl))
    assert day["session_loss_pct_bm"] == pytest.approx(1.6 / 70 * 100)
    assert day["level"] == "likely_dehydration_condition"


def test_single_small_entry_of_a_new_logger_is_partial_not_a_deficit() -> None:
    # no logging history: the reference is 80 % of the EFSA AI (2.0 L for a man); 100 mL at
    # 08:00 and nothing for 14 h is a partial log, not "drank 100 mL"
    smp, _, env, ppl = _scenario(water_ml=[100], next_morning_kg=None)
    smp = smp.filter(pl.col("metric") != "active_energy_kcal")
    day = _day(build_daily_table(smp, workouts([]), env, ppl))
    assert day["water_typical_ml"] is None and day["water_reference_ml"] == 2000
    assert day["water_status"] == "partial" and day["deficit_pct_bm"] is None
    assert day["sweat_ml"] is None  # no activity data: unknown, not zero
    assert day["level"] == "none"


def test_complete_low_log_without_exposure_is_a_fluid_deficit() -> None:
    # five entries spread over the day, 1.0 L in total, no exercise: need 2.5 L, intake 1.25 L
    smp, _, env, ppl = _scenario(water_ml=[200, 200, 200, 200, 200], next_morning_kg=None)
    smp = smp.filter(pl.col("metric") != "active_energy_kcal")
    day = _day(build_daily_table(smp, workouts([]), env, ppl))
    assert day["water_status"] == "logged"
    assert day["deficit_pct_bm"] == pytest.approx((2500 - 1250) / 1000 / 70 * 100)
    assert day["level"] == "likely_fluid_deficit"


def test_hourly_table_exposure_and_sweat() -> None:
    smp, wk, env, ppl = _scenario(water_ml=None, next_morning_kg=None)
    hourly = build_hourly_table(smp, wk, env, ppl)
    assert hourly.schema == pl.Schema(HOURLY_SCHEMA)
    run = hourly.filter(pl.col("workout_s") > 0)
    assert run.height == 2
    assert run["exposure"].to_list() == ["outdoor", "outdoor"]
    assert run["active_energy_kcal"].to_list() == pytest.approx([600.0, 600.0])
    assert (run["sweat_ml"] > 500).all() and (run["sweat_ml"] <= 2500).all()
    quiet = hourly.filter((pl.col("workout_s") == 0) & pl.col("active_energy_kcal").is_null())
    assert quiet["sweat_ml"].null_count() == quiet.height  # missing is null
    assert set(quiet["exposure"].to_list()) == {"assumed_indoor"}


def test_dst_day_bounds_are_23_hours() -> None:
    d = date(2024, 3, 31)  # Berlin spring forward
    smp = samples(
        [
            (
                "water_ml",
                datetime(2024, 3, 30, 23, 30, tzinfo=UTC),
                datetime(2024, 3, 30, 23, 30, tzinfo=UTC),
                200.0,
                3600,
            ),
            (
                "water_ml",
                datetime(2024, 3, 31, 18, 0, tzinfo=UTC),
                datetime(2024, 3, 31, 18, 0, tzinfo=UTC),
                200.0,
                7200,
            ),
        ]
    )
    day = _day(build_daily_table(smp, workouts([]), environment([]), participants([])), d)
    assert day["day_start_utc"] == datetime(2024, 3, 30, 23, tzinfo=UTC)
    assert day["day_end_utc"] == datetime(2024, 3, 31, 22, tzinfo=UTC)


def test_empty_inputs_give_empty_frames_with_schema() -> None:
    empty = pl.DataFrame()
    eps = detect_dehydration(empty, empty, empty, empty)
    assert eps.height == 0 and eps.schema == pl.Schema(EPISODE_SCHEMA)
    assert build_daily_table(empty, empty, empty, empty).schema == pl.Schema(DAILY_SCHEMA)
    assert build_hourly_table(empty, empty, empty, empty).schema == pl.Schema(HOURLY_SCHEMA)


def test_participant_without_any_data_of_a_kind_does_not_raise() -> None:
    smp, wk, env, ppl = _scenario(water_ml=[250], next_morning_kg=None)
    other = participants(
        [{"participant_id": "p2", "sex": None, "birth_year": None, "height_cm": None, "tz": None}]
    )
    out = build_daily_table(
        smp, wk, env.filter(pl.col("time_utc") < at(D0, "05:00")), pl.concat([ppl, other])
    )
    assert set(out["participant_id"].to_list()) == {"p1"}


def test_default_anthropometrics_are_flagged() -> None:
    smp, wk, env, _ = _scenario(water_ml=[250], next_morning_kg=None, with_baseline_mass=False)
    day = _day(build_daily_table(smp, wk, env, participants([])))
    assert day["body_mass_source"] == "default"
    assert day["body_mass_kg"] == pytest.approx((73 + 60) / 2)


def test_inputs_not_mutated() -> None:
    frames = _scenario(water_ml=[250, 250], next_morning_kg=69.0)
    copies = [f.clone() for f in frames]
    detect_dehydration(*frames)
    assert all(a.equals(b) for a, b in zip(frames, copies, strict=True))


# --- v0.2: personal fluid-model bias, episode threshold, sleeping HR, 14-day baseline --------


def _logged_days(smp: pl.DataFrame, ml_per_day: float, days: range) -> pl.DataFrame:
    extra = []
    for i in days:
        d = HOT - timedelta(days=i)
        for hh in ("08:00", "11:00", "14:00", "17:00", "20:00"):
            extra.append(("water_ml", at(d, hh), at(d, hh), ml_per_day / 5))
    return pl.concat([smp, samples(extra)])


def test_a_chronic_computed_deficit_is_model_bias_and_is_subtracted() -> None:
    # a man logging 1.6 L on every ordinary day: computed deficit (2500 - 2000) / 70 kg =
    # 0.71 % each day; body mass is stable, so that is bias, not 28 days of deficit
    smp, wk, env, ppl = _scenario(water_ml=[200, 200, 200, 200, 200], next_morning_kg=None)
    smp = _logged_days(smp, 1600.0, range(1, 15))
    day = _day(build_daily_table(smp, wk, env, ppl))
    assert day["deficit_bias_pct_bm"] == pytest.approx(500 / 1000 / 70 * 100, abs=0.01)
    assert day["deficit_pct_bm"] == pytest.approx(
        day["deficit_model_pct_bm"] - day["deficit_bias_pct_bm"]
    )


def test_a_habitual_surplus_is_not_credited() -> None:
    smp, wk, env, ppl = _scenario(water_ml=[200, 200, 200, 200, 200], next_morning_kg=None)
    smp = _logged_days(smp, 3000.0, range(1, 15))  # drinks more than the AI every day
    day = _day(build_daily_table(smp, wk, env, ppl))
    assert day["deficit_bias_pct_bm"] == 0.0
    assert day["deficit_pct_bm"] == pytest.approx(day["deficit_model_pct_bm"])


def test_bias_needs_three_logged_days() -> None:
    smp, wk, env, ppl = _scenario(water_ml=[200, 200, 200, 200, 200], next_morning_kg=None)
    two = _day(build_daily_table(_logged_days(smp, 1600.0, range(1, 3)), wk, env, ppl))
    assert two["deficit_bias_pct_bm"] is None
    assert two["deficit_pct_bm"] == pytest.approx(two["deficit_model_pct_bm"])
    assert two["deficit_sd_pct_bm"] == pytest.approx(math.hypot(1.5, 0.56 * two["sweat_pct_bm"]))
    three = _day(build_daily_table(_logged_days(smp, 1600.0, range(1, 4)), wk, env, ppl))
    assert three["deficit_bias_pct_bm"] == pytest.approx(500 / 1000 / 70 * 100, abs=0.01)
    # the bias is a median of 3 days: its own error widens the SD (floor 0.5 % x
    # sqrt(1 + pi / 6)), so three days of history narrow the balance less than ten
    spread = 0.5 * math.sqrt(1.0 + math.pi / 6.0)
    assert three["deficit_sd_pct_bm"] == pytest.approx(
        math.hypot(spread, 0.56 * three["sweat_pct_bm"])
    )


def _mass_sd(n: int) -> float:
    # Cheuvront 2004 CV 0.66 %, plus the baseline median of n mornings
    return 0.66 * math.sqrt(1.0 + math.pi / (2.0 * n))


def test_fluid_deficit_confidence_is_the_probability_of_a_2_pct_deficit() -> None:
    # no exercise, 1.0 L logged: deficit (2500 - 1250) / 70 kg = 1.79 % -> likely_fluid_deficit
    smp, _, env, ppl = _scenario(water_ml=[200, 200, 200, 200, 200], next_morning_kg=None)
    smp = smp.filter(pl.col("metric") != "active_energy_kcal")
    day = _day(build_daily_table(smp, workouts([]), env, ppl))
    deficit = (2500 - 1250) / 1000 / 70 * 100
    assert day["level"] == "likely_fluid_deficit"
    # a new logger: the default 1.5 % SD (EFSA vs IOM need), so P(>= 2 %) =
    # Phi((1.79 - 2) / 1.5) = 0.44
    assert day["deficit_sd_pct_bm"] == pytest.approx(1.5)
    assert day["confidence"] == pytest.approx(float(ndtr((deficit - 2.0) / 1.5)), abs=1e-4)
    assert detect_dehydration(smp, workouts([]), env, ppl)["label"].to_list() == ["possible"]

    def with_next_morning(kg: float) -> pl.DataFrame:
        t = at(HOT + timedelta(days=1), "07:05")
        return detect_dehydration(
            pl.concat([smp, samples([("body_mass_kg", t, t, kg)])]), workouts([]), env, ppl
        )

    # a measured next-morning mass decides: -1.5 % says the deficit was below 2 %
    assert with_next_morning(70.0 * 0.985).height == 0
    eps = with_next_morning(70.0 * 0.975)  # -2.5 %
    assert eps.height == 1
    assert eps["confidence"][0] == pytest.approx(float(ndtr(0.5 / _mass_sd(7))), abs=1e-3)
    ev = json.loads(eps["evidence"][0])
    assert ev["deficit_estimate_source"] == "next_morning_mass"


def test_a_personal_spread_narrows_the_fluid_balance() -> None:
    # ten earlier logged days of 1.9 L (computed deficit 0.18 % each, subtracted as bias):
    # their spread is nil, floored at 0.5 % and widened by the median's error over 10 days,
    # so the day's 1.61 % gives P(>= 2 %) = 0.23 where a new logger's 1.5 % SD gave 0.44:
    # no episode
    smp, _, env, ppl = _scenario(water_ml=[200, 200, 200, 200, 200], next_morning_kg=None)
    smp = smp.filter(pl.col("metric") != "active_energy_kcal")
    smp = _logged_days(smp, 1900.0, range(1, 11))
    day = _day(build_daily_table(smp, workouts([]), env, ppl))
    sd = 0.5 * math.sqrt(1.0 + math.pi / 20.0)
    assert day["deficit_sd_pct_bm"] == pytest.approx(sd)
    assert day["confidence"] == pytest.approx(
        float(ndtr((day["deficit_pct_bm"] - 2.0) / sd)), abs=1e-4
    )
    assert detect_dehydration(smp, workouts([]), env, ppl).height == 0


def test_a_log_that_stops_early_is_partial() -> None:
    # 2 L logged, but nothing after 13:00: the evening is unknown (>= 6 h before 22:00)
    smp, _, env, ppl = _scenario(water_ml=None, next_morning_kg=None)
    smp = pl.concat(
        [smp, samples([("water_ml", at(HOT, hh), at(HOT, hh), 500.0)
                       for hh in ("07:30", "09:00", "11:00", "13:00")])]
    )  # fmt: skip
    day = _day(build_daily_table(smp, workouts([]), env, ppl))
    assert day["water_status"] == "partial" and day["deficit_pct_bm"] is None
    late = pl.concat([smp, samples([("water_ml", at(HOT, "19:00"), at(HOT, "19:00"), 100.0)])])
    assert _day(build_daily_table(late, workouts([]), env, ppl))["water_status"] == "logged"


def test_exposure_with_weak_mass_drop_is_not_an_episode() -> None:
    smp, wk, env, ppl = _scenario(water_ml=None, next_morning_kg=70.0 * 0.985)
    day = _day(build_daily_table(smp, wk, env, ppl))
    # a measured 1.5 % drop: a deficit, most likely below 2 % (P = Phi(-0.5 / 0.73) = 0.25)
    assert day["level"] == "likely_fluid_deficit" and day["support_strength"] == "weak"
    assert day["confidence"] == pytest.approx(float(ndtr(-0.5 / _mass_sd(7))), abs=1e-3)
    assert detect_dehydration(smp, wk, env, ppl).height == 0


def test_sleeping_hr_rise_is_an_hr_criterion() -> None:
    smp, wk, env, ppl = _scenario(
        water_ml=[200, 200, 200, 200, 200], next_morning_kg=None, with_baseline_mass=False
    )
    rows = []
    for i in range(16):  # 15 quiet nights at ~50 bpm, then 58 bpm the night after HOT
        d = HOT - timedelta(days=14 - i)
        bpm = 58.0 if d == HOT + timedelta(days=1) else 50.0 + (i % 3) - 1
        for k in range(8):
            t = at(d, f"0{k % 6}:{10 * (k // 6) + 5:02d}")
            rows.append(("heart_rate_bpm", t, t, bpm))
    day = _day(build_daily_table(pl.concat([smp, samples(rows)]), wk, env, ppl))
    assert day["sleeping_hr_next_bpm"] == 58.0
    assert day["sleeping_hr_rise_bpm"] == pytest.approx(8.0)
    assert day["support_strength"] == "hr_only"


def test_sleeping_hr_baseline_reaches_back_14_nights_only() -> None:
    """The baseline is the 14 nights before (issue 5; brief 8.2 says 28): high nights 15-40
    days back do not raise it (a 28-night median would be theirs), high nights inside the
    window do."""
    smp, wk, env, ppl = _scenario(
        water_ml=[200, 200, 200, 200, 200], next_morning_kg=None, with_baseline_mass=False
    )

    def rise(high_days_back: range) -> float:
        rows = []
        for back in range(-1, 41):  # back = -1: the night after HOT (58 bpm)
            d = HOT - timedelta(days=back)
            bpm = 58.0 if back == -1 else (70.0 if back in high_days_back else 50.0)
            for k in range(8):
                t = at(d, f"0{k % 6}:{10 * (k // 6) + 5:02d}")
                rows.append(("heart_rate_bpm", t, t, bpm))
        day = _day(build_daily_table(pl.concat([smp, samples(rows)]), wk, env, ppl))
        return day["sleeping_hr_rise_bpm"]

    assert rise(range(15, 41)) == pytest.approx(8.0)  # outside the window: baseline 50
    assert rise(range(0, 10)) < 0.0  # inside: the baseline is theirs (70 bpm)


# --- independent day-level generator ----------------------------------------------------------


def test_scores_on_the_independent_day_generator() -> None:
    """Regression guard on simulators/daygen.py (a second, naturalistic simulator).

    Measured for detector 0.3 on seeds 11-13 pooled (6 people x 120 days each, the
    development seeds): precision 0.80, recall 0.66, F1 0.72 (0.2: 0.80 / 0.57 / 0.67).
    Held-out seeds 14-20: 0.77 / 0.59 / 0.67 (0.2: 0.79 / 0.54 / 0.65). Below the issue's
    0.8 target; docs/detectors/dehydration.md shows why (scale noise of 0.7 % BM against a
    2 % threshold that half the truth days exceed by < 0.5 %; a logistic model trained on
    the truth of 12 other seeds reaches 0.75 on the held-out seeds, an in-sample fit 0.79:
    evaluation/dehydration.py). This test keeps it from falling.
    """
    from simulators.daygen import generate, score_days

    tot = {"tp": 0, "fp": 0, "fn": 0}
    for seed in (11, 12, 13):
        g = generate(seed=seed)
        s = score_days(detect_dehydration(g.samples, g.workouts, g.environment, g.participants), g)
        for k in tot:
            tot[k] += s[k]
    precision = tot["tp"] / (tot["tp"] + tot["fp"])
    recall = tot["tp"] / (tot["tp"] + tot["fn"])
    assert precision >= 0.75
    assert recall >= 0.6
    assert 2 * precision * recall / (precision + recall) >= 0.68


def test_episodes_from_daily_is_what_detect_dehydration_returns() -> None:
    from detectors.dehydration import episodes_from_daily
    from simulators.daygen import generate

    g = generate(seed=13, n_participants=3, n_days=40)
    args = (g.samples, g.workouts, g.environment, g.participants)
    direct = detect_dehydration(*args)
    assert direct.height > 0
    assert episodes_from_daily(build_daily_table(*args)).equals(direct)


# --- exercise sweat inside the published normative ranges -------------------------------------


@pytest.mark.parametrize("met, ta, lo, hi", [(9.5, 25.0, 0.71, 1.85), (9.5, 30.0, 0.71, 1.85),
                                              (7.5, 30.0, 0.58, 1.64)])  # fmt: skip
def test_exercise_sweat_of_typical_workouts_is_in_the_normative_range(met, ta, lo, hi) -> None:
    # 75 kg, 177 cm man, 50 % RH. Running: Barnes 2019 endurance 1.28 +- 0.57 L/h, cycling
    # (as endurance, at a lower intensity) Baker 2016 1.21 +- 0.68 L/h minus its lower MET;
    # bounds = mean +- 1 SD of the published rates
    from detectors.sweat import exercise_sweat_g_m2_h

    bsa = float(body_surface_area_m2(75.0, 177.0))
    bmr = float(bmr_mifflin_kcal_d(75.0, 177.0, 40.0, "male"))
    m = float(metabolic_rate_w_m2(bmr, (met - 1.0) * 75.0, bsa))
    l_h = float(exercise_sweat_g_m2_h(m, ta, 50.0)) * bsa / 1000.0
    assert lo <= l_h <= hi


def test_required_sweat_is_the_floor_at_full_efficiency_and_more_below_it() -> None:
    from detectors.sweat import evaporation_floor_g_m2_h, required_sweat_g_m2_h

    # brisk walk at 30 C / 50 %: w = 167.9 / 336 = 0.5, r = 1 - 0.125: 248.7 / 0.875 g/m2/h
    req = float(required_sweat_g_m2_h(250.0, 30.0, 50.0))
    floor = float(evaporation_floor_g_m2_h(250.0, 30.0, 50.0))
    w = 248.7 * 2430 / 3600 / float(evaporation_floor_g_m2_h(600.0, 30.0, 50.0) * 2430 / 3600)
    assert req == pytest.approx(floor / (1 - w**2 / 2), rel=1e-3)
    # at rest nothing is required
    assert float(required_sweat_g_m2_h(58.2, 25.0, 50.0)) == 0.0
