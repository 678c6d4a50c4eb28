"""A cohort of people-years of daily exposures with cramp nights drawn from a logistic model
with known odds ratios: the ground truth for the trigger statistics (issue 14,
``evaluation/triggers.py``, ``benchmarks/triggers.py``).

Written from the exposure side, not from the estimator: the day-level columns are those of
``daily_exposures`` (docs/data-model.md) with realistic structure,

* **weather**: a seasonal cycle of the daily maximum (northern mid-latitudes, a personal
  climate offset), an AR(1) anomaly (phi 0.8, SD 3 C) and summer **heat waves** (a Markov
  chain entering a 3-8 day spell of +4-8 C); heat-index hours follow the maximum;
* **exercise**: a **weekly pattern** (2-4 personal workout weekdays, 70 % kept, 8 % workouts on
  other days), active energy, sweat loss growing with workouts and heat;
* **dehydration days** more likely on hot and workout days (logistic; so heat, exercise and
  dehydration are correlated, as they are in life);
* **logging**: half the people log food (7-day nutrient means, smooth personal series, below
  the RDA about a third of weeks), half log water, half weigh themselves, a third have a
  bedroom sensor; everything else is NULL, as in the store;
* **outcome**: a night's cramp from ``logit P = a_person + seasonal + weekday +
  log(OR_heat) heat_caution(day) + log(OR_dehydration) dehydration_day(day) +
  log(OR_magnesium) magnesium_low(day)``; ``a_person`` gives about one cramp night a week.
  The lag-0 exposure day is the day whose evening the night begins.

Three case sources per person: the true nights; a **noisy journal** (70 % of cramp nights
reported, false reports on 1 % of other nights, journalling over the whole year); and
**imperfect detections** (75 % of cramp nights found, false alarms on 2 % of other nights,
5 % of nights without a detected sleep period; errors independent of the exposures). Each
detected night has the detector's stated ``confidence`` in [0.7, 1] (a ``likely`` episode):
``0.7 + 0.3 Beta(3, 1.2)`` on real cramp nights and ``0.7 + 0.3 Beta(1.2, 3)`` on false alarms,
drawn from a second generator so the rest of the cohort does not change. With these rates
the stated confidence is slightly optimistic (mean 0.90 against about 0.86 of detected
nights being real), like the cramp detector's reliability table (docs/detectors/cramps.md:
0.78 stated against 0.71 observed in the lower likely band).

Seeded (``numpy.random.default_rng``); no clock, no files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

TRUE_OR = {
    "heat_index_caution": 2.0,
    "dehydration_condition_day": 3.0,
    "magnesium_low": 1.0,
    "exercise_load": 1.0,
}


_NULLABLE = (
    "fluid_deficit_pct_bm",
    "next_morning_mass_change_pct",
    "indoor_hi_ge_80f_h",
    "magnesium_7d_pct_rda",
    "calcium_7d_pct_rda",
    "potassium_7d_pct_ai",
    "vitamin_d_7d_pct_rda",
)


@dataclass(frozen=True)
class CohortParams:
    people: int = 20
    days: int = 365
    start: date = date(2025, 1, 1)
    or_heat: float = TRUE_OR["heat_index_caution"]
    or_dehydration: float = TRUE_OR["dehydration_condition_day"]
    or_magnesium: float = TRUE_OR["magnesium_low"]
    cramp_nights_per_week: float = 1.0
    journal_report: float = 0.70
    journal_false_per_night: float = 0.01
    detect_recall: float = 0.75
    detect_false_per_night: float = 0.02
    detect_missing_night: float = 0.05


@dataclass
class Cohort:
    daily: pl.DataFrame  # daily_exposures-like rows
    nights: dict[str, pl.DataFrame]  # source -> participant_id, night_of, case, case_source
    truth: pl.DataFrame  # participant_id, night_of, cramp (true)


def _ar1(rng, n, phi, sd):
    x = np.empty(n)
    x[0] = rng.normal(0, sd)
    e = rng.normal(0, sd * np.sqrt(1 - phi * phi), n)
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return x


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _person(rng, pid: str, p: CohortParams) -> tuple[dict, np.ndarray]:
    n = p.days + 1  # one day before the first night, for the 24-48 h lag
    days = np.arange(n)
    doy = np.array([(p.start + timedelta(days=int(d))).timetuple().tm_yday for d in days])
    wd = np.array([(p.start + timedelta(days=int(d))).weekday() for d in days])
    # weather: seasonal max (peak late July), personal climate, AR(1) anomaly, heat waves
    climate = rng.normal(0, 3)
    tmax = 16 + climate + 11 * np.sin(2 * np.pi * (doy - 110) / 365) + _ar1(rng, n, 0.8, 3.0)
    wave = np.zeros(n)
    i = 0
    while i < n:
        summer = np.sin(2 * np.pi * (doy[i] - 110) / 365) > 0.3
        if summer and rng.random() < 0.05:
            length, boost = rng.integers(3, 9), rng.uniform(4, 8)
            wave[i : i + length] = boost
            i += length
        else:
            i += 1
    tmax = tmax + wave
    humid = rng.uniform(0.5, 1.5)
    hi80 = np.clip(np.round((tmax - 26.5) * 1.2 * humid + rng.normal(0, 1, n)), 0, 12)
    hi91 = np.clip(np.round((tmax - 32.5) * 1.0 * humid + rng.normal(0, 1, n)), 0, 10)
    heat = hi80 >= 2
    # exercise: personal workout weekdays
    wdays = rng.choice(7, size=rng.integers(2, 5), replace=False)
    workout = np.where(np.isin(wd, wdays), rng.random(n) < 0.7, rng.random(n) < 0.08)
    energy = np.maximum(50, rng.normal(350, 80, n) + workout * rng.normal(500, 150, n))
    sweat = np.maximum(
        0, 0.25 + workout * (0.6 + 0.06 * np.maximum(tmax - 18, 0)) + rng.normal(0, 0.2, n)
    )
    # dehydration days: more likely hot and on workout days
    dehyd = rng.random(n) < _sigmoid(
        -3.6 + rng.normal(0, 0.3) + 1.1 * heat + 1.0 * workout + 0.3 * (sweat > 1)
    )
    level = np.where(
        dehyd,
        "likely_dehydration_condition",
        np.where(heat | (sweat >= 1), "heat_sweat_exposure", "none"),
    )

    # nutrients: smooth personal 7-day means (% of RDA)
    def nutrient(mean):
        return mean + _ar1(rng, n, 0.93, 22.0)

    logs_food = np.bool_(rng.random() < 0.5)
    mg = nutrient(rng.normal(112, 15))
    ca = nutrient(rng.normal(110, 20))
    k = nutrient(rng.normal(100, 20))
    vd = nutrient(rng.normal(95, 30))
    food_days = rng.random(n) < 0.9
    food_null = ~logs_food | ~food_days
    logs_water = np.bool_(rng.random() < 0.5)
    deficit = sweat - 0.4 + 1.6 * dehyd + rng.normal(0, 0.5, n)
    water_null = ~logs_water | (rng.random(n) > 0.85)
    has_scale = np.bool_(rng.random() < 0.5)
    mass = np.r_[rng.normal(-0.2, 0.6, n - 1) - 1.4 * dehyd[:-1], np.nan]
    mass_null = ~has_scale | (rng.random(n) > 0.7) | np.isnan(mass)
    has_sensor = np.bool_(rng.random() < 0.33)
    indoor80 = np.clip(np.round((tmax - 29) * 0.8 + rng.normal(0, 1, n)), 0, 10)

    def nul(x, mask):
        return [None if m else float(v) for v, m in zip(x, mask, strict=True)]

    local_dates = [p.start - timedelta(days=1) + timedelta(days=int(d)) for d in days]
    never = np.zeros(n, bool)
    daily = {
        "participant_id": [pid] * n,
        "local_date": local_dates,
        "outdoor_temp_max_c": tmax.tolist(),
        "outdoor_hi_ge_80f_h": hi80.astype(int).tolist(),
        "outdoor_hi_ge_91f_h": hi91.astype(int).tolist(),
        "sweat_loss_pct_bm": sweat.tolist(),
        "fluid_deficit_pct_bm": nul(deficit, water_null),
        "dehydration_level": level.tolist(),
        "next_morning_mass_change_pct": nul(mass, mass_null),
        "active_energy_kcal": energy.tolist(),
        "workouts_count": workout.astype(int).tolist(),
        "indoor_hi_ge_80f_h": nul(indoor80, ~has_sensor | never),
        "magnesium_7d_pct_rda": nul(mg, food_null),
        "calcium_7d_pct_rda": nul(ca, food_null),
        "potassium_7d_pct_ai": nul(k, food_null),
        "vitamin_d_7d_pct_rda": nul(vd, food_null),
    }
    # outcome for nights 1..n-1 (night d's lag-0 day is day d; day 0 is the lag-1 day only)
    mg_low_true = mg < 100  # unlogged intake still acts: the truth, not what was logged
    base = np.log(p.cramp_nights_per_week / 7 / (1 - p.cramp_nights_per_week / 7))
    a = base - 0.25 + rng.normal(0, 0.35)  # exposures add about 0.25 on the log-odds scale
    season = 0.2 * np.cos(2 * np.pi * (doy - 15) / 365)
    weekday = np.array([0.0, 0, 0, 0, 0.15, 0.2, 0.05])[wd]
    lp = (
        a
        + season
        + weekday
        + np.log(p.or_heat) * heat
        + np.log(p.or_dehydration) * dehyd
        + np.log(p.or_magnesium) * mg_low_true
    )
    cramp = rng.random(n) < _sigmoid(lp)
    cramp[0] = False  # day 0 is before the first observed night
    return daily, cramp


def simulate_cohort(seed: int, params: CohortParams | None = None) -> Cohort:
    """``params.people`` people x ``params.days`` nights (plus the day before the first)."""
    p = params or CohortParams()
    rng = np.random.default_rng(seed)
    rng_conf = np.random.default_rng([seed, 1])
    dailies, truth_rows, srcs = [], [], {"true": [], "journal": [], "likely": []}
    for i in range(p.people):
        pid = f"s{i + 1:03d}"
        daily, cramp = _person(rng, pid, p)
        dailies.append(pl.DataFrame(daily, schema_overrides={k: pl.Float64 for k in _NULLABLE}))
        nights = (np.datetime64(p.start) + np.arange(len(cramp)) - np.timedelta64(1, "D"))[
            1:
        ].astype("datetime64[D]")
        c = cramp[1:]
        truth_rows.append(pl.DataFrame({"participant_id": pid, "night_of": nights, "cramp": c}))
        m = len(c)
        journal = np.where(
            c, rng.random(m) < p.journal_report, rng.random(m) < p.journal_false_per_night
        )
        detected = np.where(
            c, rng.random(m) < p.detect_recall, rng.random(m) < p.detect_false_per_night
        )
        seen = rng.random(m) >= p.detect_missing_night
        conf = np.where(
            c, 0.7 + 0.3 * rng_conf.beta(3.0, 1.2, m), 0.7 + 0.3 * rng_conf.beta(1.2, 3.0, m)
        )
        for name, case, keep in (
            ("true", c, np.ones(m, bool)),
            ("journal", journal, np.ones(m, bool)),
            ("likely", detected, seen),
        ):
            frame = pl.DataFrame(
                {
                    "participant_id": pid,
                    "night_of": nights[keep],
                    "case": case[keep].astype(np.int8),
                    "case_source": name,
                }
            )
            if name == "likely":
                frame = frame.with_columns(
                    confidence=pl.when(pl.col("case") > 0).then(pl.Series(conf[keep]))
                )
            srcs[name].append(frame)
    daily = pl.concat(dailies, how="vertical_relaxed").with_columns(
        pl.col("local_date").cast(pl.Date)
    )
    nights = {
        k: pl.concat(v).with_columns(pl.col("night_of").cast(pl.Date)) for k, v in srcs.items()
    }
    truth = pl.concat(truth_rows).with_columns(pl.col("night_of").cast(pl.Date))
    return Cohort(daily=daily, nights=nights, truth=truth)
