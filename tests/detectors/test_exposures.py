"""daily_exposures: one row per participant-day, NULL for missing data, each rule by itself."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from detectors import heat
from detectors.exposures import (
    DAILY_EXPOSURES_SCHEMA,
    EXPOSURES_VERSION,
    ExposureParams,
    compute_daily_exposures,
    cramp_condition_classes,
    cramp_drug_classes,
)
from tests.detectors.builders import at, environment, participants, samples, workouts

D = date(2024, 7, 10)
OFF = 7200


def _ppl(**extra) -> pl.DataFrame:
    out = participants(
        [
            {
                "participant_id": "p1",
                "sex": "female",
                "birth_year": 1958,
                "height_cm": 165.0,
                "tz": "Europe/Berlin",
            }
        ]
    )
    for k, v in extra.items():
        out = out.with_columns(pl.Series(k, [v]))
    return out


def _weather(
    days: list[date], temp_c: float = 33.0, rh: float = 50.0, extra: bool = False
) -> pl.DataFrame:
    rows = []
    for d in days:
        for h in range(24):
            t = temp_c if 10 <= h <= 17 else temp_c - 10
            rows.append(
                {
                    "participant_id": "p1",
                    "time_utc": at(d, "00:00") + timedelta(hours=h),
                    "utc_offset_s": OFF,
                    "setting": "outdoor",
                    "temp_c": t,
                    "rh_pct": rh,
                }
            )
    env = environment(rows)
    if extra:
        n = env.height
        hours = env["time_utc"].dt.hour().to_numpy()
        env = env.with_columns(
            wind_speed_m_s=pl.Series([2.0] * n),
            shortwave_radiation_w_m2=pl.Series(np.where((hours > 5) & (hours < 18), 800.0, 0.0)),
            latitude_deg=pl.Series([50.1] * n),
            longitude_deg=pl.Series([8.7] * n),
        )
    return env


def _run(smp=None, wk=None, env=None, ppl=None, **kw) -> pl.DataFrame:
    return compute_daily_exposures(
        smp if smp is not None else samples([]),
        wk if wk is not None else workouts([]),
        env if env is not None else environment([]),
        ppl if ppl is not None else _ppl(),
        **kw,
    )


def _day(out: pl.DataFrame, d: date = D) -> dict:
    return out.filter(pl.col("local_date") == d).row(0, named=True)


def _run_workout(d: date = D, hhmm: str = "13:00", hours: int = 2, kind: str = "running"):
    rows = []
    for k in range(hours * 6):
        t = at(d, hhmm) + timedelta(minutes=10 * k)
        rows.append(("active_energy_kcal", t, t + timedelta(minutes=10), 100.0))
    wk = workouts(
        [
            {
                "participant_id": "p1",
                "activity_type": kind,
                "start_utc": at(d, hhmm),
                "end_utc": at(d, hhmm) + timedelta(hours=hours),
                "utc_offset_s": OFF,
                "duration_s": hours * 3600.0,
                "active_energy_kcal": 600.0 * hours,
                "distance_m": None,
            }
        ]
    )
    return samples(rows), wk


# --- shape ---------------------------------------------------------------------------------


def test_empty_inputs_give_the_schema() -> None:
    out = compute_daily_exposures(pl.DataFrame(), pl.DataFrame(), pl.DataFrame(), pl.DataFrame())
    assert out.height == 0 and out.schema == pl.Schema(DAILY_EXPOSURES_SCHEMA)


def test_one_row_per_day_with_the_schema_and_version() -> None:
    out = _run(env=_weather([D, D + timedelta(days=1)]))
    assert out.schema == pl.Schema(DAILY_EXPOSURES_SCHEMA)
    assert out["local_date"].to_list() == [D, D + timedelta(days=1)]
    assert set(out["detector_version"]) == {EXPOSURES_VERSION}


# --- heat ----------------------------------------------------------------------------------


def test_outdoor_heat_hours_and_maxima() -> None:
    # 8 hours at 33 C / 50 % (HI 97 F), 16 hours at 23 C (HI 73 F)
    day = _day(_run(env=_weather([D])))
    hi_f = float(heat.heat_index_f(heat.c_to_f(33.0), 50.0))
    assert 91 <= hi_f < 103
    assert day["outdoor_weather_h"] == 24
    assert day["outdoor_hi_ge_80f_h"] == 8 and day["outdoor_hi_ge_91f_h"] == 8
    assert day["outdoor_hi_extreme_caution_h"] == 8 and day["outdoor_hi_caution_h"] == 0
    assert day["outdoor_hi_danger_h"] == 0 and day["outdoor_hi_extreme_danger_h"] == 0
    assert day["outdoor_temp_max_c"] == 33.0
    assert day["outdoor_hi_max_c"] == pytest.approx(heat.f_to_c(hi_f))
    assert day["outdoor_at_max_c"] == pytest.approx(float(heat.apparent_temperature_c(33, 50)))
    assert day["outdoor_at_method"] == "steadman1994_shade_calm"  # no wind column
    assert day["outdoor_wbgt_max_c"] == pytest.approx(float(heat.wbgt_bernard_c(33, 50)), 1e-6)
    assert day["outdoor_wbgt_method"] == "bernard1999"
    assert day["exposed_hi_ge_80f_h"] == 0  # nobody went out


def test_cool_day_counts_zero_and_no_weather_counts_null() -> None:
    cool = _day(_run(env=_weather([D], temp_c=20.0)))
    assert cool["outdoor_hi_ge_80f_h"] == 0 and cool["outdoor_weather_h"] == 24
    smp, wk = _run_workout()
    none = _day(_run(smp=smp, wk=wk))
    assert none["outdoor_weather_h"] is None
    assert none["outdoor_hi_ge_80f_h"] is None and none["outdoor_hi_max_c"] is None
    assert none["exposed_hi_ge_80f_h"] is None
    assert none["indoor_temp_max_c"] is None and none["indoor_wbgt_method"] is None


def test_liljegren_only_for_exposed_hours_with_radiation_wind_and_location() -> None:
    smp, wk = _run_workout(hhmm="13:00", hours=2)
    day = _day(_run(smp=smp, wk=wk, env=_weather([D], extra=True)))
    assert day["outdoor_at_method"] == "steadman1994_shade"
    assert day["exposed_hi_ge_80f_h"] == 2 and day["exposed_hi_ge_91f_h"] == 2
    assert day["outdoor_wbgt_method"] == "liljegren2008"  # in the sun: above the shade value
    assert day["outdoor_wbgt_max_c"] > float(heat.wbgt_bernard_c(33, 50)) + 0.5
    # without radiation the exposed hours fall back to the shade estimate, labelled
    plain = _day(_run(smp=smp, wk=wk, env=_weather([D])))
    assert plain["outdoor_wbgt_method"] == "bernard1999"


def test_liljegren_location_falls_back_to_the_home() -> None:
    smp, wk = _run_workout()
    env = _weather([D], extra=True).drop("latitude_deg", "longitude_deg")
    day = _day(_run(smp=smp, wk=wk, env=env, ppl=_ppl(home_lat_deg=50.1, home_lon_deg=8.7)))
    assert day["outdoor_wbgt_method"] == "liljegren2008"
    day = _day(_run(smp=smp, wk=wk, env=env))
    assert day["outdoor_wbgt_method"] == "bernard1999"


def test_indoor_sensor_columns_and_methods() -> None:
    rows = [
        {
            "participant_id": "p1",
            "time_utc": at(D, "00:00") + timedelta(hours=h),
            "utc_offset_s": OFF,
            "setting": "indoor",
            "temp_c": 24.0 + (4.0 if h == 3 else 0.0),
            "rh_pct": 60.0,
        }
        for h in range(24)
    ]
    env = pl.concat([_weather([D]), environment(rows)])
    day = _day(_run(env=env))
    assert day["indoor_temp_max_c"] == 28.0
    assert day["indoor_hi_max_c"] == pytest.approx(float(heat.heat_index_c(28.0, 60.0)))
    assert day["indoor_wbgt_max_c"] == pytest.approx(float(heat.wbgt_bernard_c(28.0, 60.0)))
    assert day["indoor_wbgt_method"] == "bernard1999"
    stull = _day(_run(env=env, params=ExposureParams(indoor_wbgt_method="stull2011")))
    assert stull["indoor_wbgt_method"] == "stull2011"
    assert stull["indoor_wbgt_max_c"] == pytest.approx(float(heat.wbgt_stull_c(28.0, 60.0)))
    with pytest.raises(ValueError, match="indoor_wbgt_method"):
        _run(env=env, params=ExposureParams(indoor_wbgt_method="guess"))


def test_screened_bernard_maximum_equals_the_full_maximum() -> None:
    rng = np.random.default_rng(3)
    rows = []
    for h in range(24 * 5):
        rows.append(
            {
                "participant_id": "p1",
                "time_utc": at(D, "00:00") + timedelta(hours=h),
                "utc_offset_s": OFF,
                "setting": "outdoor",
                "temp_c": float(rng.uniform(15, 40)),
                "rh_pct": float(rng.uniform(10, 95)),
            }
        )
    env = environment(rows)
    out = _run(env=env)
    full = (
        env.with_columns(
            local_date=(pl.col("time_utc") + pl.duration(seconds=OFF)).dt.date(),
            w=pl.Series(heat.wbgt_bernard_c(env["temp_c"].to_numpy(), env["rh_pct"].to_numpy())),
        )
        .group_by("local_date")
        .agg(pl.col("w").max())
    )
    j = out.join(full, on="local_date")
    np.testing.assert_allclose(j["outdoor_wbgt_max_c"], j["w"], atol=1e-9)


# --- sweat and fluids ------------------------------------------------------------------------


def test_fluids_not_logged_are_null_with_a_false_flag() -> None:
    smp, wk = _run_workout()
    day = _day(_run(smp=smp, wk=wk, env=_weather([D])))
    assert day["fluid_logged"] is False and day["fluid_log_status"] == "not_logged"
    assert day["fluid_logged_ml"] is None and day["fluid_balance_ml"] is None
    assert day["fluid_deficit_pct_bm"] is None
    assert day["sweat_loss_ml"] > 500 and day["fluid_need_ml"] == pytest.approx(
        2000 + day["sweat_loss_ml"]
    )


def test_logged_fluids_give_a_balance() -> None:
    smp, wk = _run_workout()
    water = samples(
        [("water_ml", at(D, hh), at(D, hh), 500.0) for hh in ("08:00", "11:00", "15:00", "19:00")]
    )
    day = _day(_run(smp=pl.concat([smp, water]), wk=wk, env=_weather([D])))
    assert day["fluid_logged"] is True and day["fluid_logged_ml"] == 2000.0
    assert day["fluid_balance_ml"] == pytest.approx(2000 * 1.25 - day["fluid_need_ml"])
    # no weighing: the default mass of a woman (ICRP 89, 60 kg)
    assert day["fluid_deficit_pct_bm"] == pytest.approx(-day["fluid_balance_ml"] / 1000 / 60 * 100)


# --- activity ------------------------------------------------------------------------------


def test_workouts_and_steps() -> None:
    smp, wk = _run_workout(kind="cycling")
    steps = samples(
        [
            ("steps", at(D, "09:00"), at(D, "09:10"), 800.0),
            ("steps", at(D, "09:05"), at(D, "09:15"), 700.0),  # the phone, same walk
            ("steps", at(D, "18:00"), at(D, "18:10"), 500.0),
        ]
    ).with_columns(source=pl.Series(["watch", "phone", "watch"]))
    smp = pl.concat([smp.with_columns(source=pl.lit("watch")), steps])
    day = _day(_run(smp=smp, wk=wk))
    assert day["workouts_count"] == 1 and day["workout_min"] == 120.0
    assert day["outdoor_workout_min"] == 120.0
    assert day["active_energy_kcal"] == pytest.approx(1200.0)
    assert day["steps"] == 800.0 + 500.0  # per hour the larger source


def test_no_activity_data_is_null_not_zero() -> None:
    day = _day(_run(env=_weather([D])))
    assert day["workouts_count"] is None and day["steps"] is None
    assert day["active_energy_kcal"] is None and day["sweat_loss_ml"] is None
    steps = samples([("steps", at(D, "09:00"), at(D, "09:10"), 800.0)])
    day = _day(_run(smp=steps))
    assert day["workouts_count"] == 0 and day["workout_min"] == 0.0


# --- other triggers ------------------------------------------------------------------------


def test_glucose_daylight_and_nutrients() -> None:
    smp = samples(
        [
            ("blood_glucose_mg_dl", at(D, "08:00"), at(D, "08:00"), 100.0),
            ("blood_glucose_mg_dl", at(D, "13:00"), at(D, "13:00"), 160.0),
            ("time_in_daylight_min", at(D, "10:00"), at(D, "10:30"), 30.0),
            ("time_in_daylight_min", at(D, "16:00"), at(D, "16:20"), 20.0),
            ("magnesium_mg", at(D, "08:00"), at(D, "08:00"), 120.0),
            ("magnesium_mg", at(D, "19:00"), at(D, "19:00"), 150.0),
        ]
    )
    day = _day(_run(smp=smp))
    assert day["blood_glucose_mean_mg_dl"] == 130.0 and day["blood_glucose_max_mg_dl"] == 160.0
    assert day["time_in_daylight_min"] == 50.0
    assert day["magnesium_intake_mg"] == 270.0
    assert day["magnesium_adequacy"] == "insufficient_data"
    assert day["calcium_intake_mg"] is None


def test_drug_and_condition_classes() -> None:
    assert cramp_drug_classes(["hydrochlorothiazide", "levothyroxine"]) == ["thiazide_diuretic"]
    assert cramp_drug_classes(["Fluticasone/Salmeterol"]) == ["long_acting_beta2_agonist"]
    assert cramp_drug_classes(["triamterene/hydrochlorothiazide"]) == [
        "potassium_sparing_diuretic",
        "thiazide_diuretic",
    ]
    assert cramp_drug_classes(["atorvastatin calcium 20 mg", "ethacrynic acid"]) == [
        "loop_diuretic",
        "statin",
    ]
    assert cramp_drug_classes(["metformin"]) == [] and cramp_drug_classes(None) == []
    assert cramp_condition_classes(["type2_diabetes", "Hypothyroidism", "gout"]) == [
        "thyroid_parathyroid",
        "type2_diabetes",
    ]
    ppl = _ppl(conditions=["hypothyroidism"], medications=["hydrochlorothiazide", "pregabalin"])
    day = _day(_run(env=_weather([D]), ppl=ppl))
    assert day["medications"] == ["hydrochlorothiazide", "pregabalin"]
    assert day["cramp_drug_classes"] == ["pregabalin", "thiazide_diuretic"]
    assert day["cramp_condition_classes"] == ["thyroid_parathyroid"]
    unknown = _day(_run(env=_weather([D])))
    assert unknown["medications"] is None and unknown["cramp_drug_classes"] is None


def test_body_mass_and_heart_rate_baselines() -> None:
    rows = []
    for i in range(16):
        d = D - timedelta(days=15 - i)
        rows.append(("body_mass_kg", at(d, "07:00"), at(d, "07:00"), 70.0))
        rows.append(("resting_heart_rate_bpm", at(d, "12:00"), at(d, "12:00"), 55.0 + (i % 3)))
        for k in range(6):
            t = at(d, f"0{k}:30")
            rows.append(("heart_rate_bpm", t, t, 50.0 + (i % 2)))
    rows.append(("body_mass_kg", at(D + timedelta(days=1), "07:00"),
                 at(D + timedelta(days=1), "07:00"), 68.6))  # fmt: skip
    for k in range(6):  # the night after D: 60 bpm
        t = at(D + timedelta(days=1), f"0{k}:30")
        rows.append(("heart_rate_bpm", t, t, 60.0))
    out = _run(smp=samples(rows))
    day = _day(out)
    assert day["body_mass_kg"] == 70.0 and day["body_mass_baseline_kg"] == 70.0
    assert day["body_mass_delta_pct"] == 0.0
    assert day["next_morning_mass_change_pct"] == pytest.approx(-2.0)
    assert day["resting_hr_baseline_bpm"] == 56.0  # median of the previous 14 days
    assert day["resting_hr_delta_bpm"] == day["resting_hr_bpm"] - 56.0
    assert day["sleeping_hr_bpm"] == 60.0  # the night of D
    assert day["sleeping_hr_baseline_bpm"] == pytest.approx(50.5)
    assert day["sleeping_hr_delta_bpm"] == pytest.approx(9.5)
    assert day["hrv_sdnn_ms"] is None and day["hrv_sdnn_z"] is None


def test_dehydration_columns_match_the_detector() -> None:
    smp, wk = _run_workout()
    day = _day(_run(smp=smp, wk=wk, env=_weather([D])))
    assert day["dehydration_level"] == "heat_sweat_exposure"
    assert day["dehydration_corroboration"] == "not_available"
    assert day["dehydration_confidence"] == pytest.approx(0.20)


def test_inputs_not_mutated() -> None:
    smp, wk = _run_workout()
    env, ppl = _weather([D], extra=True), _ppl(medications=["salmeterol"])
    frames = (smp, wk, env, ppl)
    copies = [f.clone() for f in frames]
    compute_daily_exposures(*frames)
    assert all(a.equals(b) for a, b in zip(frames, copies, strict=True))


def test_indoor_apparent_temperature_and_nws_band_hours() -> None:
    """Bedroom heat like the outdoor side: Steadman AT in still air (ws = 0) and the hours
    in the NWS Caution (>= 80 F) and Extreme caution (>= 90 F) bands; an hour without
    humidity counts as no sensor hour; no indoor sensor: NULL, not 0."""
    # at 60 %: 28.0 C -> HI ~86 F; 32.0 C -> ~100 F; 29.6 C -> 89.8 F and 29.7 C -> 90.1 F
    # (either side of the Extreme caution edge; the OSHA 91 F edge would count neither)
    temps = {3: 28.0, 4: 32.0, 5: 32.0, 6: 29.6, 7: 29.7}

    def row(h: int) -> dict:
        return {
            "participant_id": "p1",
            "time_utc": at(D, "00:00") + timedelta(hours=h),
            "utc_offset_s": OFF,
            "setting": "indoor",
            "temp_c": temps.get(h, 22.0),
            "rh_pct": None if h == 10 else 60.0,
        }

    def hi_f(t: float) -> float:
        return float(heat.heat_index_f(heat.c_to_f(t), 60.0))

    assert 80 <= hi_f(28.0) < 90 and hi_f(32.0) >= 90
    assert 89.5 < hi_f(29.6) < 90.0 <= hi_f(29.7) < 90.5
    day = _day(_run(env=pl.concat([_weather([D]), environment([row(h) for h in range(24)])])))
    assert day["indoor_sensor_h"] == 23
    assert day["indoor_hi_ge_80f_h"] == 5 and day["indoor_hi_ge_90f_h"] == 3
    assert day["indoor_at_max_c"] == pytest.approx(float(heat.apparent_temperature_c(32.0, 60.0)))
    # still air: the calm-air value, above the same reading with wind
    assert day["indoor_at_max_c"] > float(heat.apparent_temperature_c(32.0, 60.0, 2.0))
    cool = _day(_run(env=pl.concat([_weather([D]), environment([
        {**row(h), "temp_c": 20.0} for h in range(24)])])))  # fmt: skip
    assert cool["indoor_hi_ge_80f_h"] == 0 and cool["indoor_hi_ge_90f_h"] == 0
    none = _day(_run(env=_weather([D])))
    assert none["indoor_sensor_h"] is None and none["indoor_hi_ge_80f_h"] is None
    assert none["indoor_at_max_c"] is None
    # a humidity-only logger: a sensor day (0 usable hours), band hours unknown, not 0
    rh_only = _day(_run(env=pl.concat([_weather([D]), environment([
        {**row(h), "temp_c": None} for h in range(24)])])))  # fmt: skip
    assert rh_only["indoor_sensor_h"] == 0
    assert rh_only["indoor_hi_ge_80f_h"] is None and rh_only["indoor_hi_ge_90f_h"] is None
    assert rh_only["indoor_temp_max_c"] is None and rh_only["indoor_at_max_c"] is None
