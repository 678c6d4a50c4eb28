"""Seeded participant-years of the inputs of ``daily_exposures``, generated in vectorised numpy.

Per participant: a UTC offset among six and a place (latitude -40..55, longitude -120..150);
hourly outdoor weather (seasonal and daily temperature, humidity, wind, shortwave radiation, so
Liljegren's WBGT runs on workout hours) and, for every third participant, a bedroom sensor
(hourly means); hourly active energy and steps from 07:00 to 23:00; workouts on ~3 days a week,
30-150 min at 07:00 or 17:00 local; five water logs a day; a morning weight, resting HR, HRV,
night HR every 10 min from 00:00 to 05:50, time in daylight; a food diary of magnesium,
calcium, potassium and vitamin D at three meals; sex, birth year and height, type 2 diabetes
for every fifth participant and a thiazide and a statin for every third. Used by
``benchmarks/exposures.py`` (speed) as a long input; it is not an accuracy benchmark.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl

from detectors.frames import SAMPLES_SCHEMA

H = 3600


def synth(n_participants: int, n_days: int, seed: int) -> dict[str, pl.DataFrame]:
    """``samples``, ``workouts``, ``environment`` and ``participants`` frames (the arguments
    of ``compute_daily_exposures``) for ``n_participants`` people over ``n_days`` days from
    2024-01-01, from one ``numpy`` generator seeded with ``seed``."""
    rng = np.random.default_rng(seed)
    t0 = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
    smp_parts, env_parts, wk_parts, ppl_rows = [], [], [], []
    for i in range(n_participants):
        pid = f"b{i:03d}"
        off = int(rng.choice([-18000, 0, 3600, 7200, 19800, 36000]))
        lat, lon = float(rng.uniform(-40, 55)), float(rng.uniform(-120, 150))
        n_h = n_days * 24
        hours = t0 - off + np.arange(n_h) * H  # local midnight of day 0
        hod = np.arange(n_h) % 24
        doy = np.arange(n_h) // 24
        season = 8 * np.cos(2 * np.pi * (doy - 200) / 365) * np.sign(lat)
        daily = 18 + season + np.repeat(rng.normal(0, 3, n_days), 24)
        temp = daily + 6 * np.sin(np.pi * (hod - 9) / 12) + rng.normal(0, 0.4, n_h)
        rh = np.clip(70 - 1.5 * (temp - daily) + rng.normal(0, 6, n_h), 8, 100)
        ssr = np.clip(900 * np.sin(np.pi * (hod - 6) / 14), 0, None) * rng.uniform(0.3, 1, n_h)
        env_parts.append(
            pl.DataFrame(
                {
                    "participant_id": pid,
                    "time_utc": hours.astype("datetime64[s]").astype("datetime64[us]"),
                    "utc_offset_s": off,
                    "setting": "outdoor",
                    "temp_c": temp.round(1),
                    "rh_pct": rh.round(0),
                    "wind_speed_m_s": rng.gamma(2, 1.3, n_h).round(1),
                    "shortwave_radiation_w_m2": ssr.round(0),
                    "latitude_deg": lat,
                    "longitude_deg": lon,
                }
            )
        )
        if i % 3 == 0:  # a third of the people have a bedroom sensor (hourly means)
            indoor = 22 + 0.35 * (daily - 18) + 0.8 * np.sin(np.pi * (hod - 12) / 12)
            env_parts.append(
                pl.DataFrame(
                    {
                        "participant_id": pid,
                        "time_utc": hours.astype("datetime64[s]").astype("datetime64[us]"),
                        "utc_offset_s": off,
                        "setting": "indoor",
                        "temp_c": (indoor + rng.normal(0, 0.2, n_h)).round(1),
                        "rh_pct": np.clip(rng.normal(50, 8, n_h), 20, 80).round(0),
                        "wind_speed_m_s": None,
                        "shortwave_radiation_w_m2": None,
                        "latitude_deg": None,
                        "longitude_deg": None,
                    },
                    schema_overrides={
                        c: pl.Float64
                        for c in (
                            "wind_speed_m_s",
                            "shortwave_radiation_w_m2",
                            "latitude_deg",
                            "longitude_deg",
                        )
                    },
                )  # fmt: skip
            )
        awake = (hod >= 7) & (hod <= 22)
        ae_t = hours[awake]
        steps = rng.poisson(400, awake.sum()).astype(float)
        ae = rng.uniform(15, 50, awake.sum())
        # workouts: ~3 a week, 30-150 min, at 07:00 or 17:00 local
        wdays = np.flatnonzero(rng.random(n_days) < 3 / 7)
        w_start = t0 - off + wdays * 86400 + rng.choice([7, 17], wdays.size) * H
        w_dur = rng.uniform(1800, 9000, wdays.size)
        w_kcal = w_dur / 3600 * rng.uniform(300, 700, wdays.size)
        wk_parts.append(
            pl.DataFrame(
                {
                    "participant_id": pid,
                    "activity_type": rng.choice(["running", "cycling", "walking", "elliptical"],
                                                wdays.size),
                    "start_utc": w_start.astype("datetime64[s]").astype("datetime64[us]"),
                    "end_utc": (w_start + w_dur).astype("datetime64[s]").astype("datetime64[us]"),
                    "utc_offset_s": off,
                    "duration_s": w_dur,
                    "active_energy_kcal": w_kcal,
                    "distance_m": None,
                }
            )
        )  # fmt: skip
        days = t0 - off + np.arange(n_days) * 86400
        water_t = (days[:, None] + rng.uniform(7, 22, (n_days, 5)) * H).ravel()
        meal_t = (days[:, None] + np.array([8, 13, 19]) * H).ravel()
        night_t = (days[:, None] + np.arange(0, 6 * H, 600)).ravel()
        rows = [
            ("active_energy_kcal", ae_t, ae_t + H, ae),
            ("steps", ae_t, ae_t + H, steps),
            ("water_ml", water_t, water_t, rng.choice([200.0, 330.0, 500.0], water_t.size)),
            ("body_mass_kg", days + 7 * H, days + 7 * H, 70 + rng.normal(0, 0.4, n_days)),
            ("resting_heart_rate_bpm", days + 10 * H, days + 10 * H, rng.normal(60, 2, n_days)),
            ("hrv_sdnn_ms", days + 4 * H, days + 4 * H, rng.normal(35, 6, n_days)),
            ("heart_rate_bpm", night_t, night_t, rng.normal(55, 3, night_t.size)),
            ("time_in_daylight_min", days + 12 * H, days + 12 * H, rng.uniform(0, 120, n_days)),
        ]
        for metric, lo_, hi_ in (
            ("magnesium_mg", 60, 150),
            ("calcium_mg", 150, 400),
            ("potassium_mg", 500, 1200),
            ("vitamin_d_ug", 0.5, 5),
        ):
            rows.append((metric, meal_t, meal_t, rng.uniform(lo_, hi_, meal_t.size)))  # fmt: skip
        for metric, s, e, v in rows:
            smp_parts.append(
                pl.DataFrame(
                    {
                        "participant_id": pid,
                        "metric": metric,
                        "start_utc": np.asarray(s).astype("datetime64[s]").astype("datetime64[us]"),
                        "end_utc": np.asarray(e).astype("datetime64[s]").astype("datetime64[us]"),
                        "utc_offset_s": off,
                        "value": np.asarray(v, dtype=float),
                    }
                )
            )
        ppl_rows.append(
            {
                "participant_id": pid,
                "sex": str(rng.choice(["female", "male"])),
                "birth_year": int(rng.integers(1940, 1990)),
                "height_cm": float(rng.normal(170, 8)),
                "tz": None,
                "conditions": ["type2_diabetes"] if i % 5 == 0 else [],
                "medications": ["hydrochlorothiazide", "atorvastatin"] if i % 3 == 0 else [],
            }
        )

    def utc(df: pl.DataFrame) -> pl.DataFrame:
        return df.with_columns(
            [pl.col(c).dt.replace_time_zone("UTC").dt.cast_time_unit("us")
             for c, t in df.schema.items() if isinstance(t, pl.Datetime)]
        )  # fmt: skip

    samples = utc(pl.concat(smp_parts)).cast(SAMPLES_SCHEMA).with_columns(source=pl.lit("watch"))  # type: ignore[arg-type]
    return {
        "samples": samples,
        "workouts": utc(pl.concat(wk_parts)),
        "environment": utc(pl.concat(env_parts)),
        "participants": pl.DataFrame(ppl_rows),
    }
