"""Every parameter of the physio simulator as a documented range (low, high, unit, source).

The ranges were fixed from the literature (or marked grade D with the reason) *before* any
evaluation, and written without reading any detector. Each person draws their own value inside
the range (``dist``: ``uniform`` or ``log`` = log-uniform); per-event draws use the same ranges.
``python -m simulators.physio --ranges`` prints the table; every run writes it to ``ranges.md``.

Grades: A/B published measurements in healthy adults; C indirect or clinical descriptions;
D assumption (reason given), where no measurement exists.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    unit: str
    source: str
    dist: str = "uniform"  # uniform | log

    def draw(self, rng: np.random.Generator, size=None):
        if self.dist == "log":
            return np.exp(rng.uniform(np.log(self.low), np.log(self.high), size))
        return rng.uniform(self.low, self.high, size)


R = Range
RANGES: dict[str, Range] = {
    # ---------------------------------------------------------------- person
    "age_y": R(
        30,
        82,
        "y",
        "NLC prevalence 37 % >= 50 y, 54 % > 80 y (Naylor & Young 1994); adults 30-82 "
        "so that both cramp-prone and younger people occur (grade D span)",
    ),
    "body_mass_kg": R(52, 105, "kg", "adult NHANES 5th-95th percentile span (Fryar 2021, grade B)"),
    "height_cm": R(152, 192, "cm", "adult NHANES 5th-95th percentile span (Fryar 2021, grade B)"),
    "sleep_hr_bpm": R(
        46,
        68,
        "bpm",
        "NREM sleeping HR ~8-10 bpm below awake resting HR 60-80 "
        "(Ostchega 2011 NHANES resting pulse; Trinder 2001 sleep HR), grade B/C",
    ),
    "awake_rest_hr_delta_pct": R(
        5,
        15,
        "% of sleep HR",
        "wake vs stable sleep HR difference (Burgess 1999 sleep-onset HR fall 5-10 bpm), grade C",
    ),
    "hr_noise_sd_bpm": R(
        1.0,
        3.0,
        "bpm",
        "beat-to-beat/short-term HR variability at 1 s resolution "
        "(Task Force 1996 HRV magnitudes), grade C",
    ),
    "hr_noise_tau_s": R(
        10, 60, "s", "grade D: correlation time of slow HR fluctuations, assumption"
    ),
    "rem_hr_pct": R(2, 8, "% vs N2", "REM HR above NREM (Somers 1993; Trinder 2001), grade B"),
    "n3_hr_pct": R(-5, -1, "% vs N2", "slow-wave sleep HR below N2 (Trinder 2001), grade B"),
    "overnight_hr_decline_bpm": R(
        2, 8, "bpm", "HR falls across the night toward the circadian nadir (Burgess 1997), grade C"
    ),
    # ---------------------------------------------------------------- sleep timing
    "bedtime_local_h": R(
        21.5,
        24.75,
        "h local",
        "habitual bedtimes of adults (Roenneberg 2007 chronotype distribution), grade B/C",
    ),
    "bedtime_sd_min": R(
        15, 60, "min", "night-to-night bedtime SD (Bei 2016 sleep variability review), grade B/C"
    ),
    "sleep_latency_min": R(
        5, 30, "min", "normal sleep-onset latency (Ohayon 2004 meta-analysis)", "log"
    ),
    "sleep_span_h": R(6.0, 8.5, "h", "total sleep time of adults 30-80 y (Ohayon 2004), grade B"),
    "snooze_min": R(0, 20, "min", "grade D: lying awake after final awakening, assumption"),
    "cycle_min": R(80, 110, "min", "NREM-REM cycle length (Carskadon & Dement 2011), grade A"),
    "n3_first_cycle_min": R(
        10,
        40,
        "min",
        "N3 concentrated in early cycles, declines with age (Ohayon 2004: SWS 13-23 %), grade B",
    ),
    "rem_first_min": R(
        5,
        12,
        "min",
        "first REM period short, later ones 20-40 min (Carskadon & Dement 2011), grade A",
    ),
    "rem_last_min": R(20, 40, "min", "Carskadon & Dement 2011, grade A"),
    # ---------------------------------------------------------------- cramps
    "cramp_rate_per_week": R(
        0.0,
        3.0,
        "/week",
        "brief: 0-3 per week in sufferers; NHANES monthly "
        "prevalence 25-31 % (Grandner & Winkelman 2017), grade C",
    ),
    "cramp_cluster_shape": R(
        0.5,
        3.0,
        "gamma k",
        "grade D: clustering of cramp weeks "
        "(weekly rate ~ Gamma(k)), assumption; reported as bouts in "
        "Allen & Kirby 2012",
    ),
    "cramp_contraction_s": R(
        5,
        600,
        "s",
        "seconds to at most 10 min (Hallegraeff 2017 Delphi), "
        "log-uniform so that short ones are common",
        "log",
    ),
    "cramp_residual_wake_min": R(
        1,
        15,
        "min",
        "mean episode ~9 min incl. residual pain (Allen & "
        "Kirby 2012); residual soreness delays sleep, grade C",
    ),
    "cramp_hr_surge_bpm": R(
        4,
        30,
        "bpm",
        "Lavigne 2001: brief pain in sleep +4-7 %; a cramp is "
        "longer and more painful: wide range, log-uniform (many small), "
        "grade C/D",
        "log",
    ),
    "cramp_surge_latency_s": R(
        1, 5, "s", "RR shortens by beat 3 after a nociceptive stimulus (Chouchou 2011), grade B"
    ),
    "cramp_surge_rise_s": R(5, 25, "s", "grade D: time to plateau of a sustained pain surge"),
    "cramp_surge_decay_s": R(
        60,
        300,
        "s",
        "HR elevated longer than after a brief arousal "
        "(detectors-science 5.2 'after the cramp'), grade C/D",
    ),
    "cramp_p_stand": R(
        0.2,
        0.8,
        "prob/person",
        "relief by forceful stretching, often standing "
        "(AASM ICSD-3; clinical descriptions), grade C",
    ),
    "cramp_stand_delay_s": R(
        20,
        120,
        "s",
        "grade D: stretching in bed first, standing after the "
        "surge has begun (brief: surge starts while lying)",
    ),
    "cramp_stand_s": R(20, 180, "s", "grade D: standing stretch duration"),
    "cramp_steps": R(0, 40, "counted steps", "brief: people stand, stretch, walk a few steps"),
    "cramp_from_wake_p": R(
        0.0, 0.2, "prob", "ICSD-3: arises from wakefulness or sleep; grade D share"
    ),
    # ---------------------------------------------------------------- bathroom trips
    "nocturia_per_night": R(
        0.05,
        1.6,
        "/night",
        "nocturia >= 1 rises with age (Bosch & Weiss 2010 "
        "review); 0-2 per night, more with age, grade B",
    ),
    "bath_lie_awake_s": R(15, 180, "s", "grade D: awake before getting up"),
    "bath_away_s": R(60, 300, "s", "grade D: walk + bathroom + walk"),
    "bath_steps_flat": R(15, 40, "counted steps", "round trip 10-20 m in a flat (brief 6.3)"),
    "bath_steps_house": R(40, 120, "counted steps", "larger homes (brief 6.3)"),
    "orthostatic_rise_bpm": R(
        10,
        20,
        "bpm",
        "HR rise within the first minute of standing "
        "(Wieling 2007; Freeman 2011 consensus), grade A/B",
    ),
    "orthostatic_peak_s": R(
        8, 30, "s", "initial orthostatic HR peak ~ 3-12 s and within 30 s (Wieling 2007), grade B"
    ),
    "walking_hr_extra_bpm": R(3, 12, "bpm", "grade C: slow indoor walking ~2 MET"),
    "back_to_sleep_min": R(
        2, 20, "min", "sleep latency after nocturnal awakening, grade C (Ohayon 2004 WASO)", "log"
    ),
    "step_drop_first": R(
        0,
        10,
        "steps",
        "step counters drop the first steps of short walks "
        "(brief 6.3; Fitbit/Apple minimum-bout logic), grade D count",
    ),
    # ---------------------------------------------------------------- other night events
    "phone_p_night": R(
        0.0,
        0.35,
        "prob/night",
        "grade D: smartphone use in bed share of nights "
        "(Exelmans & Van den Bulck 2016: common), person-specific",
    ),
    "phone_min": R(2, 20, "min", "brief: phone use in bed 2-20 min awake, no steps"),
    "phone_hr_bpm": R(0, 8, "bpm", "brief: awake lying HR +0-8"),
    "plm_person_p": R(
        0.2,
        0.5,
        "share of people",
        "PLMS index > 15/h in 28.6 % (HypnoLaus, Haba-Rubio 2016), grade B",
    ),
    "plm_series_per_night": R(0.5, 3.0, "/night", "grade C: PLMS cluster in NREM series"),
    "plm_series_min": R(15, 60, "min", "brief: 15-60 min series"),
    "plm_imi_s": R(10, 90, "s", "inter-movement interval (WASM 2016: 10-90 s)"),
    "plm_hr_bpm": R(
        3,
        10,
        "bpm",
        "HR acceleration over ~10 beats after each LM (Winkelman 1999; Sforza 1999), grade B",
    ),
    "plm_arousal_p": R(0.05, 0.3, "prob/LM", "grade C: share of PLMs with arousal"),
    "rollover_per_h": R(
        1.0,
        3.0,
        "/h",
        "posture shifts ~1.6/h in adults, fewer in elderly (De Koninck 1992), grade B",
    ),
    "rollover_hr_bpm": R(2, 8, "bpm", "brief 6.3: bump < 10 s, grade D"),
    "rollover_s": R(2, 15, "s", "brief 6.3: isolated movement <= 15 s"),
    "awakenings_per_h": R(
        0.3,
        1.5,
        "/h",
        "spontaneous awakenings, more with age (Ohayon 2004; WASO 20-60 min), grade B/C",
    ),
    "awakening_s": R(15, 600, "s", "grade C: brief awakenings 15 s to 10 min", "log"),
    "awakening_hr_bpm": R(3, 10, "bpm", "arousal HR rise (Lavigne 2001 magnitude), grade C"),
    "watch_off_p_night": R(
        0.0,
        0.12,
        "prob/night",
        "grade D: person-specific non-wear nights "
        "(Fitabase 2016 sleep coverage varies 0-28 of 31 nights)",
    ),
    "bedroom_gain": R(
        0.2,
        0.5,
        "degC/degC",
        "grade D: indoor night temperature follows outdoor "
        "with damping (Nguyen 2014 indoor-outdoor slopes)",
    ),
    "hot_hr_per_c": R(
        0.3,
        1.0,
        "bpm/degC above 24",
        "grade C/D: heat during sleep raises HR and wake (Okamoto-Mizuno & Mizuno 2012)",
    ),
    "late_ex_hr_bpm": R(
        2,
        8,
        "bpm",
        "vigorous exercise < 1-2 h before bed raises early-night HR "
        "(Stutz 2019 meta-analysis), grade B/C",
    ),
    "late_ex_tau_min": R(60, 180, "min", "grade C: decay of post-exercise HR elevation"),
    # ---------------------------------------------------------------- devices
    "apple_hr_gap_s": R(60, 300, "s", "brief: Apple Watch sleep HR every ~60-300 s"),
    "apple_dense_p_h": R(
        0.0, 0.15, "prob/hour", "grade D: denser background HR stretches, independent of events"
    ),
    "hr_device_sd_bpm": R(1, 3, "bpm", "optical HR error at rest (Bent 2020; Shcherbina 2017)"),
    "wake_detect_short": R(
        0.25,
        0.6,
        "prob",
        "consumer wake specificity ~60 % (Walch 2019); short wake (< 2 min) mostly missed",
    ),
    "false_wake_frac": R(0.02, 0.08, "share of sleep", "sleep sensitivity 93 % (Walch 2019)"),
    "stage_confusion": R(0.15, 0.35, "share", "wake/NREM/REM accuracy ~72 % (Walch 2019)"),
    # ---------------------------------------------------------------- day: activity, weather
    "steps_per_day": R(3000, 12000, "steps", "Tudor-Locke 2011 adult steps/day, grade B"),
    "walk_cadence": R(80, 120, "steps/min", "Tudor-Locke 2018 walking cadence, grade B"),
    "workouts_per_week": R(0, 6, "/week", "grade C: 0-6 sessions (exercise guidelines 150 min/wk)"),
    "workout_min": R(20, 120, "min", "grade C: typical session length"),
    "workout_met": R(4, 11, "MET", "Compendium of Physical Activities 2011 (Ainsworth), grade A"),
    "late_workout_p": R(0.0, 0.4, "share", "grade D: share of workouts in the evening"),
    "sweat_rate_ref_l_h": R(
        0.26,
        2.5,
        "L/h",
        "Baker 2016 1.21 +/- 0.68 (0.26-5.73) L/h, Barnes "
        "2019 by sport; clamp 2.5 L/h (brief 2.2); drawn lognormal",
    ),
    "sweat_temp_slope": R(
        0.02,
        0.05,
        "/degC",
        "grade C: sweat rises with air temperature at "
        "fixed work (Cheuvront 2023; PW equation Ereq slope)",
    ),
    "hr_per_met": R(
        8,
        12,
        "bpm/MET",
        "%HRR tracks %VO2R (Swain & Leutholtz 1997); HRmax 208 - 0.7 age (Tanaka 2001), grade B",
    ),
    "outdoor_h": R(0.5, 4.0, "h/day", "grade D: daytime hours outdoors"),
    "outdoor_met": R(1.5, 3.0, "MET", "light outdoor activity (Ainsworth 2011)"),
    "climate_anom_sd_c": R(1.5, 3.5, "degC", "grade C: synoptic day-to-day temperature anomaly SD"),
    "diurnal_range_c": R(6, 12, "degC", "grade C: typical diurnal temperature range"),
    # ---------------------------------------------------------------- fluid balance
    "insensible_l_d": R(0.6, 0.9, "L/day", "respiratory + transepidermal loss (IOM 2005), grade B"),
    "metabolic_water_l_d": R(0.25, 0.35, "L/day", "IOM 2005, grade B"),
    "food_water_l_d": R(0.5, 1.0, "L/day", "food ~20 % of total water (EFSA 2010, IOM 2005)"),
    "urine_base_l_d": R(1.0, 2.0, "L/day", "typical 24 h urine volume (IOM 2005), grade B"),
    "urine_min_l_d": R(0.4, 0.6, "L/day", "obligatory urine at maximal concentration (IOM 2005)"),
    "renal_conserve_frac": R(0.1, 0.3, "/day of deficit", "grade C: ADH-driven urine reduction"),
    "surplus_excrete_frac": R(
        0.7, 1.0, "/day", "water diuresis clears excess within hours, grade C"
    ),
    "drink_replace_same_day": R(
        0.3,
        0.8,
        "share of sweat",
        "voluntary dehydration: 30-70 % "
        "replaced during exercise (Greenleaf 1992; Passe 2007), grade B",
    ),
    "thirst_catchup_per_day": R(
        0.3,
        0.7,
        "share of deficit/day",
        "thirst catches up over 1-3 days (brief; Greenleaf 1992), grade C",
    ),
    "beverage_noise_sd_l": R(0.15, 0.45, "L/day", "grade D: day-to-day beverage variation"),
    "dehydration_threshold_pct": R(2.0, 2.0, "% BM", "ACSM (Sawka 2007) > 2 % body-water deficit"),
    "morning_mass_sd_kg": R(
        0.2,
        0.45,
        "kg",
        "non-water day-to-day mass noise; total SD ~0.5 kg, CV 0.66 % (Cheuvront 2004)",
    ),
    "scale_sd_kg": R(0.03, 0.1, "kg", "consumer scale repeatability, grade C"),
    "mass_drift_kg_d": R(0.0, 0.03, "kg/day SD", "grade D: slow fat-mass random walk"),
    "scale_use_share": R(0.0, 0.9, "share of mornings", "grade D: one person may have none"),
    "water_log_share": R(0.0, 0.8, "share of days", "grade D: logging incomplete, person-specific"),
    "water_log_completeness": R(0.3, 1.0, "share of drinks", "grade D"),
}


def markdown() -> str:
    lines = [
        "# physio simulator: parameter ranges",
        "",
        "Every parameter with its range and source (generated from `simulators/physio/ranges.py`).",
        "",
        "| parameter | low | high | unit | draw | source |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in RANGES.items():
        lines.append(f"| `{name}` | {r.low:g} | {r.high:g} | {r.unit} | {r.dist} | {r.source} |")
    return "\n".join(lines) + "\n"


def draw(name: str, rng: np.random.Generator, size=None):
    return RANGES[name].draw(rng, size)
