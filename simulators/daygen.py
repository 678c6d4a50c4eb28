"""Independent day-level generator for the dehydration detector (tests and benchmarks).

A second simulator, written without reading ``sample_data/generate.py`` (only its README), so
that detector scores are not an artefact of one generator's assumptions. It differs from the
sample data on purpose:

* **weather**: a 2-state (normal / hot spell) Markov chain for the daily maximum instead of
  designed heat waves; dew point from its own AR(1) series; RH by the Alduchov-Eskridge
  Magnus constants (6.1094, 17.625, 243.04); wind and shortwave radiation are emitted;
* **sweat**: an evaporative-requirement law, not the latent-heat fallback and not the
  Gonzalez equations: heat = 0.8 x metabolic rate + dry heat gain above 35 C; the share that must evaporate rises with
  air temperature (0.4 at 20 C -> 1.0 at 35 C), humid air lowers evaporative efficiency;
  a per-person sweat factor (log-normal, SD 0.2); plus *unlabelled* outdoor hours
  (gardening, commuting) that sweat in the heat without any workout record;
* **drinking**: no designed dehydration days. On each day a person either drinks to their
  sweat (replacing 75-105 %) or does not (10-50 %), with personal odds (10-50 %), on top of
  a habitual intake, with a thirst catch-up
  of 80 % of the deficit carried into the day and renal conservation (less urine, at most
  0.7 L) while a deficit persists; food water, baseline losses and logging completeness are
  personal. A day is a dehydration day when the end-of-day deficit is >= 2 % of body mass
  (the ACSM threshold, Sawka 2007), however it arose;
* **logging**: whole days without water entries, days that stop logging at noon, and a
  personal logged share (0.8-1.0) of what was drunk;
* **body**: the morning scale shows the deficit plus slow drift, gut-content noise (SD 0.35
  kg) and is used on a personal share of mornings (one person has no scale); resting HR,
  sleeping HR and HRV move with the deficit and with warm nights.

Everything is seeded (``numpy.random.default_rng(seed)``); no clock, no files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

from detectors.frames import (
    ENVIRONMENT_SCHEMA,
    PARTICIPANTS_SCHEMA,
    SAMPLES_SCHEMA,
    WORKOUTS_SCHEMA,
)

#: SD of the morning scale's noise (gut contents, clothing), kg
SCALE_NOISE_SD_KG = 0.35
OUTDOOR_TYPES = ("running", "cycling", "walking", "hiking", "tennis")
INDOOR_TYPES = ("traditional_strength_training", "elliptical", "indoor_cycling")
#: MET of each workout type (Ainsworth compendium ballpark values)
WORKOUT_MET = {
    "running": 9.5,
    "cycling": 7.5,
    "walking": 4.0,
    "hiking": 6.0,
    "tennis": 7.0,
    "traditional_strength_training": 5.0,
    "elliptical": 6.5,
    "indoor_cycling": 7.0,
}


@dataclass
class DayGen:
    """Generated inputs, the truth and the latent daily state."""

    samples: pl.DataFrame
    workouts: pl.DataFrame
    environment: pl.DataFrame
    participants: pl.DataFrame
    truth_days: pl.DataFrame  # participant_id, local_date (dehydration days)
    latent: pl.DataFrame  # one row per participant-day


_CLIMATES = {
    # (offset_s, lat, lon, mean summer max C, amplitude of season, dew-point depression C)
    "humid_subtropical": (-18000, 29.8, -95.4, 31.0, 4.0, 6.0),
    "hot_dry": (-25200, 33.4, -112.1, 33.5, 5.0, 18.0),
    "temperate": (3600, 52.5, 13.4, 23.0, 4.0, 9.0),
    "monsoon": (19800, 28.6, 77.2, 33.0, 3.0, 7.0),
    "mediterranean": (7200, 37.98, 23.7, 30.0, 4.0, 12.0),
    "oceanic_south": (36000, -27.5, 153.0, 28.0, 3.0, 7.0),
}


def _rh_from_dew(t: np.ndarray, td: np.ndarray) -> np.ndarray:
    a, b = 17.625, 243.04  # Alduchov & Eskridge (1996)
    return np.clip(100 * np.exp(a * td / (b + td) - a * t / (b + t)), 3.0, 100.0)


def _sweat_l_h(
    met: float, mass_kg: float, height_cm: float, ta: float, rh: float, ssr_w_m2: float
) -> float:
    """Latent sweat rate (L/h) from a skin heat balance in the style of ISO 7933 (PHS).

    Required evaporation = 70 % of the metabolic rate (external work, breath) + dry heat
    exchange with the air (convection, h_c = 8.3 v^0.6 with the body's speed through the air)
    + absorbed sun; the maximum evaporation follows the Lewis relation (16.5 K/kPa) through
    light clothing; sweating efficiency 1 - w^2/2 (Candas et al. 1979) with w the required
    skin wettedness. Deliberately not the Gonzalez PW equation the detector uses.
    """
    area = 0.202 * mass_kg**0.425 * (height_cm / 100) ** 0.725
    m_w_m2 = met * 58.2
    v = 1.0 + 0.3 * (met - 1.0)  # m/s of air over the skin (walking ~2, running ~3)
    hc = 8.3 * v**0.6
    clo_f = 0.6  # light clothing: share of bare-skin exchange
    dry = hc * clo_f * (ta - 35.0)
    solar = 0.03 * ssr_w_m2  # absorbed by a clothed, moving body (a few % of global)
    # 20 % of M is external work or leaves with the breath
    e_req = max(0.0, 0.7 * m_w_m2 + dry + solar)
    es_kpa = 0.61078 * np.exp(17.27 * ta / (ta + 237.3))
    e_max = 16.5 * hc * clo_f * max(5.6 - rh / 100 * es_kpa, 0.1)
    w = min(e_req / e_max, 1.0)
    eff = 1.0 - w**2 / 2.0
    return float(min(e_req / eff * area / 2426.0 * 3.6, 2.5))


def _utc(d: date, hour: float, offset_s: int) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(hours=hour, seconds=-offset_s)


def generate(
    seed: int = 11, n_participants: int = 6, n_days: int = 120, start: date = date(2024, 5, 20)
) -> DayGen:
    """Simulate ``n_participants`` people for ``n_days`` days from ``start`` (local dates)."""
    rng = np.random.default_rng(seed)
    climates = list(_CLIMATES)
    smp_rows: list[tuple] = []
    wk_rows: list[dict] = []
    env_rows: list[tuple] = []
    ppl_rows: list[dict] = []
    latent_rows: list[dict] = []
    for pi in range(n_participants):
        pid = f"g{pi:02d}"
        clim = climates[pi % len(climates)]
        off, lat, lon, tmax_mean, season_amp, dpd = _CLIMATES[clim]
        sex = "female" if pi % 2 == 0 else "male"
        age = int(rng.integers(35, 80))
        height = float(rng.normal(164 if sex == "female" else 177, 6))
        mass0 = float(rng.normal(66 if sex == "female" else 82, 9))
        sweat_factor = float(np.exp(rng.normal(0, 0.2)))
        p_no_bottle = float(rng.uniform(0.1, 0.5))  # odds of not drinking to sweat
        food_l = float(rng.uniform(0.5, 0.9))
        base_loss_l = float(rng.normal(2.1 if sex == "female" else 2.6, 0.15))
        # people drink to their habitual losses, with a small personal offset
        habitual_l = base_loss_l - food_l + float(rng.normal(0.05, 0.1))
        log_share = float(rng.uniform(0.8, 1.0))
        p_log_day = float(rng.choice([0.95, 0.85, 0.7]))
        p_weigh = 0.0 if pi == n_participants - 1 else float(rng.uniform(0.5, 0.95))
        outdoor_habit_h = float(rng.choice([0.0, 1.0, 2.0, 3.0]))
        workouts_per_week = float(rng.uniform(2.0, 6.0))
        rhr0 = float(rng.normal(62, 6))
        hrv0 = float(rng.normal(35, 8))
        has_indoor = pi % 3 == 1
        ppl_rows.append(
            {
                "participant_id": pid,
                "sex": sex,
                "birth_year": start.year - age,
                "height_cm": height,
                "tz": None,
            }
        )
        hot = False
        anom = 0.0
        dew_anom = 0.0
        deficit = 0.0  # L at the start of the day
        drift = 0.0
        for di in range(-30, n_days + 1):  # 30 days of history for the baselines
            d = start + timedelta(days=di)
            doy = d.timetuple().tm_yday
            season = season_amp * np.cos(2 * np.pi * (doy - 200) / 365.25) * np.sign(lat)
            hot = rng.random() < (0.75 if hot else 0.07)  # spells of ~4 days
            anom = 0.6 * anom + rng.normal(0, 1.8)
            tmax = tmax_mean + season + anom + (rng.uniform(3.5, 7.0) if hot else 0.0)
            tmin = tmax - rng.uniform(8, 14 if dpd > 12 else 10)
            dew_anom = 0.7 * dew_anom + rng.normal(0, 1.2)
            td_mean = tmax - dpd - 3.0 + dew_anom - (2.0 if hot and dpd > 12 else 0.0)
            hours = np.arange(24)
            # diurnal: minimum at 05:00, maximum at 15:00 (two half-cosines)
            frac = np.where(
                (hours >= 5) & (hours <= 15),
                (1 - np.cos(np.pi * (hours - 5) / 10)) / 2,
                (1 + np.cos(np.pi * ((hours - 15) % 24) / 14)) / 2,
            )
            t_h = tmin + (tmax - tmin) * frac + rng.normal(0, 0.3, 24)
            td_h = np.minimum(td_mean + rng.normal(0, 0.6, 24), t_h - 0.3)
            rh_h = _rh_from_dew(t_h, td_h)
            cloud = rng.uniform(0, 0.7)
            elev = np.sin(np.pi * (hours - 6) / 14)
            ssr_h = np.where((hours > 6) & (hours < 20), 950 * np.clip(elev, 0, 1) * (1 - cloud), 0)
            ws_h = rng.gamma(2.0, 1.3, 24)
            indoor_t = 24.0 + 0.25 * max(0.0, tmax - 28.0) + rng.normal(0, 0.5)
            indoor_rh = float(np.clip(rng.normal(50, 8), 25, 75))
            for h in range(24):
                t0 = _utc(d, h, off)
                env_rows.append(
                    (pid, t0, off, "outdoor", round(float(t_h[h]), 1), round(float(rh_h[h])),
                     round(float(ws_h[h]), 1), round(float(ssr_h[h])), lat, lon)
                )  # fmt: skip
                if has_indoor:
                    env_rows.append(
                        (pid, t0, off, "indoor", round(indoor_t + 0.5 * np.sin(h / 24 * 6.28), 1),
                         round(indoor_rh), None, None, None, None)
                    )  # fmt: skip

            # ---- activity and sweat (latent)
            sweat_l = 0.0
            wk_today: list[tuple[str, float, float]] = []  # type, start hour, hours
            if rng.random() < workouts_per_week / 7:
                outdoor = rng.random() < 0.75
                typ = str(rng.choice(OUTDOOR_TYPES if outdoor else INDOOR_TYPES))
                dur_h = float(np.clip(rng.gamma(3.0, 0.35), 0.4, 3.5))
                if hot and outdoor and rng.random() < 0.5:
                    dur_h = float(np.clip(dur_h * 1.6, 0.5, 4.0))
                st = float(rng.choice([7.0, 8.0, 10.0, 14.0, 17.0, 18.0]) + rng.uniform(0, 0.9))
                wk_today.append((typ, st, dur_h))
            active_kcal = np.zeros(24)
            awake = (hours >= 7) & (hours <= 22)
            active_kcal[awake] = rng.uniform(15, 45, awake.sum()) * mass0 / 70
            for typ, st, dur_h in wk_today:
                met = WORKOUT_MET[typ] * rng.uniform(0.85, 1.15)
                outdoor = typ in OUTDOOR_TYPES
                kcal_total = 0.0
                for h in range(int(st), int(np.ceil(st + dur_h))):
                    if h > 23:
                        break
                    share = min(st + dur_h, h + 1) - max(st, h)
                    if share <= 0:
                        continue
                    kcal = (met - 1.0) * mass0 * share
                    active_kcal[h] += kcal
                    kcal_total += kcal
                    ta = t_h[h] if outdoor else indoor_t
                    rh = rh_h[h] if outdoor else indoor_rh
                    ssr = ssr_h[h] if outdoor else 0.0
                    rate_l_h = _sweat_l_h(met, mass0, height, ta, rh, ssr)
                    sweat_l += rate_l_h * share * sweat_factor
                t_start = _utc(d, st, off)
                wk_rows.append(
                    {
                        "participant_id": pid,
                        "activity_type": typ,
                        "start_utc": t_start,
                        "end_utc": t_start + timedelta(hours=dur_h),
                        "utc_offset_s": off,
                        "duration_s": dur_h * 3600,
                        "active_energy_kcal": kcal_total,
                        "distance_m": None,
                    }
                )
            # unlabelled outdoor hours (gardening, errands) around midday
            for h in range(11, 11 + int(outdoor_habit_h)):
                active_kcal[h] += 1.5 * mass0 * rng.uniform(0.6, 1.0)
                if t_h[h] > 27.0:
                    sweat_l += 0.025 * (t_h[h] - 27.0) * sweat_factor
            for h in range(24):
                if active_kcal[h] > 0:
                    t0 = _utc(d, h, off)
                    smp_rows.append(
                        (pid, "active_energy_kcal", t0, t0 + timedelta(hours=1), off,
                         round(float(active_kcal[h]), 2))
                    )  # fmt: skip

            # ---- fluid balance (latent)
            warm_loss = 0.04 * max(0.0, tmax - 30.0)  # extra insensible loss on hot days
            # renal water conservation while a deficit persists (less urine, at most 0.7 L)
            conserve = min(0.7, 0.5 * deficit)
            losses = base_loss_l - conserve + sweat_l + warm_loss
            # on a sweaty day a person either carries a drink (replaces most of the sweat) or
            # does not (replaces little): personal odds, not a designed day
            if rng.random() < p_no_bottle:
                r = float(rng.uniform(0.1, 0.5))
            else:
                r = float(rng.uniform(0.75, 1.05))
            # thirst: most of a deficit carried into the day is drunk back
            beverages = max(0.3, habitual_l + rng.normal(0, 0.25) + r * sweat_l + 0.8 * deficit)
            intake = beverages + food_l * rng.uniform(0.85, 1.15)
            deficit_end = max(0.0, deficit + losses - intake)
            # the kidneys excrete a surplus: nothing carries over above zero
            dehydrated = deficit_end >= 0.02 * mass0

            # ---- water log
            r_log = rng.random()
            status = "logged" if r_log < p_log_day else "not_logged"
            if status == "logged" and rng.random() < 0.05:
                status = "stopped_at_noon"
            if status != "not_logged":
                left = beverages * log_share
                while left > 0.05:
                    cup = float(min(left, rng.choice([0.2, 0.25, 0.33, 0.4, 0.5, 0.6])))
                    hh = float(rng.uniform(7, 22))
                    left -= cup
                    if status == "stopped_at_noon" and hh >= 12:
                        continue
                    t0 = _utc(d, hh, off)
                    smp_rows.append((pid, "water_ml", t0, t0, off, round(cup * 1000)))

            # ---- next morning: scale, resting HR, sleeping HR, HRV
            dn = d + timedelta(days=1)
            pct = 100 * deficit_end / mass0
            drift += rng.normal(0, 0.05)
            if rng.random() < p_weigh:
                noise = rng.normal(0, SCALE_NOISE_SD_KG)
                t0 = _utc(dn, float(rng.uniform(6.0, 8.5)), off)
                smp_rows.append(
                    (pid, "body_mass_kg", t0, t0, off, round(mass0 + drift - deficit_end + noise, 2))
                )  # fmt: skip
            warm_night = 0.3 * max(0.0, tmin - 18.0)
            rhr = rhr0 + 0.9 * pct + 0.5 * warm_night + rng.normal(0, 1.6)
            t0 = _utc(dn, 10.0, off)
            smp_rows.append((pid, "resting_heart_rate_bpm", t0, t0, off, round(rhr)))
            for _k in range(3):
                t0 = _utc(dn, float(rng.uniform(1, 22)), off)
                hrv = hrv0 - 2.5 * pct + rng.normal(0, 6)
                smp_rows.append((pid, "hrv_sdnn_ms", t0, t0, off, round(max(hrv, 5.0), 1)))
            night_mean = rhr - 4 + 0.4 * pct + warm_night
            for k in range(0, 360, 6):
                t0 = _utc(dn, k / 60, off)
                smp_rows.append(
                    (pid, "heart_rate_bpm", t0, t0, off, round(night_mean + rng.normal(0, 2.0)))
                )
            latent_rows.append(
                {
                    "participant_id": pid,
                    "local_date": d,
                    "climate": clim,
                    "hot_spell": bool(hot),
                    "tmax_c": float(tmax),
                    "sweat_l": sweat_l,
                    "beverages_l": beverages,
                    "losses_l": losses,
                    "deficit_end_l": deficit_end,
                    "deficit_end_pct_bm": pct,
                    "dehydrated": bool(dehydrated),
                    "water_log": status,
                    "in_window": bool(0 <= di < n_days),
                }
            )
            deficit = deficit_end

    smp = pl.DataFrame(
        smp_rows,
        schema=["participant_id", "metric", "start_utc", "end_utc", "utc_offset_s", "value"],
        orient="row",
    ).cast(SAMPLES_SCHEMA)  # type: ignore[arg-type]
    smp = smp.with_columns(source=pl.lit("daygen"))
    env = pl.DataFrame(
        env_rows,
        schema=[
            "participant_id", "time_utc", "utc_offset_s", "setting", "temp_c", "rh_pct",
            "wind_speed_m_s", "shortwave_radiation_w_m2", "latitude_deg", "longitude_deg",
        ],
        orient="row",
    ).cast({**ENVIRONMENT_SCHEMA, "wind_speed_m_s": pl.Float64,
            "shortwave_radiation_w_m2": pl.Float64, "latitude_deg": pl.Float64,
            "longitude_deg": pl.Float64})  # type: ignore[arg-type]  # fmt: skip
    wk = pl.DataFrame(wk_rows, schema=WORKOUTS_SCHEMA)
    latent = pl.DataFrame(latent_rows)
    truth = latent.filter(pl.col("dehydrated") & pl.col("in_window")).select(
        "participant_id", "local_date"
    )
    return DayGen(
        samples=smp,
        workouts=wk,
        environment=env,
        participants=pl.DataFrame(ppl_rows, schema=PARTICIPANTS_SCHEMA),
        truth_days=truth,
        latent=latent,
    )


def score_days(detected: pl.DataFrame, gen: DayGen) -> dict[str, float]:
    """Day-level precision, recall and F1 of detected ``local_date`` rows inside the window."""
    window = gen.latent.filter(pl.col("in_window")).select("participant_id", "local_date")
    det = (
        detected.select("participant_id", "local_date")
        .unique()
        .join(window, on=["participant_id", "local_date"], how="semi")
    )
    tru = gen.truth_days
    tp = det.join(tru, on=["participant_id", "local_date"], how="semi").height
    fp, fn = det.height - tp, tru.height - tp
    prec = tp / (tp + fp) if tp + fp else float("nan")
    rec = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * prec * rec / (prec + rec) if tp else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "days": window.height, "precision": prec,
            "recall": rec, "f1": f1}  # fmt: skip
