"""Every parameter of the bedside simulator: a documented range with its source.

A :class:`Range` (:mod:`simulators.bedside.range_type`) is ``low``..``high`` (inclusive) with a distribution used to draw within it
(``uniform``, ``loguniform``, ``int`` uniform integers, ``tri`` triangular with ``mode``, ``int_tri`` rounded) and a
source: a paper or guideline, or ``grade D: assumption`` with the reason. Where real life
overlaps, the ranges overlap on purpose (steps of a cramp stretch vs a bathroom trip, a pain
surge vs an orthostatic rise, a PLM series vs restless legs). :func:`markdown` renders the
table written to ``ranges.md`` with each run; :data:`FEATURE_RANGES` names the range each
hidden feature of an event was drawn from (the tests check the events against it).
"""

from __future__ import annotations

import numpy as np

from simulators.bedside.range_type import Range
from simulators.bedside.ranges_devices import DEVICE_RANGES, PEOPLE_RANGES

AASM = "AASM Scoring Manual v2.6; Ferri et al. 2016 (WASM)"
HALLEGRAEFF = "Hallegraeff et al. 2017 BMC Fam Pract (Delphi: seconds to at most 10 min)"

RANGES: dict[str, Range] = {
    **PEOPLE_RANGES,
    # --- nocturnal leg cramps -----------------------------------------------------------
    "cramp_rate_per_week": Range(
        0.5,
        5.0,
        "cramps/week",
        "Naylor & Young 1994 (40 % of sufferers > 3/week); Sebo et al. 2019 (frequent cramps in primary care)",
        "loguniform",
    ),
    "cramps_per_night_max": Range(
        1,
        3,
        "count",
        "Allen & Kirby 2012 (several cramps in one night happen); grade D for the cap",
        "int",
    ),
    "cramp_contraction_s": Range(8, 600, "s", HALLEGRAEFF, "loguniform"),
    "cramp_onset_night_fraction": Range(
        0.05,
        0.95,
        "share of sleep period",
        "grade D: no PSG series of onset times (detectors-science.md 5.1); spread over the night",
    ),
    "cramp_from_wake_share": Range(
        0.0,
        0.3,
        "probability",
        "ICSD-3 (sleep-related leg cramps arise from wakefulness or sleep); grade D for the share",
    ),
    "cramp_pain_surge_bpm": Range(
        8,
        30,
        "bpm",
        "Lavigne et al. 2001 (brief pain in sleep +4-7 %); a cramp is intense and wakes: grade D extrapolation upward, overlaps orthostatic rise",
    ),
    "cramp_surge_latency_s": Range(
        2,
        15,
        "s",
        "Chouchou et al. 2011 (RR shortens by beat 3, peak by beat 7); grade D for a sustained stimulus",
    ),
    "cramp_surge_decay_s": Range(
        60, 420, "s", "Hallegraeff 2017 (persisting pain afterwards); grade D for the time constant"
    ),
    "cramp_stand_share": Range(
        0.3,
        0.85,
        "probability",
        "Allen & Kirby 2012; Katzberg 2010 (forceful stretching, often standing, relieves)",
    ),
    "cramp_stand_after_onset_s": Range(15, 180, "s", "grade D: time to get out of bed in pain"),
    "cramp_standing_s": Range(
        20, 360, "s", "grade D: stretching/walking it off for seconds to minutes"
    ),
    "cramp_stretch_steps": Range(
        0,
        60,
        "steps",
        "grade D: mostly a few steps, up to a walk around the room; overlaps bathroom trips "
        "(detectors-science.md 6.3)",
        "int_tri",
        6,
    ),
    "cramp_residual_wake_s": Range(
        120,
        1800,
        "s",
        "Hallegraeff 2017 (sleep disruption, residual soreness delays sleep)",
        "loguniform",
    ),
    "cramp_massage_share": Range(
        0.2,
        0.7,
        "probability",
        "grade D: massaging the calf in bed (arm movement) when not standing",
    ),
    "cramp_pre_onset_wake_s": Range(
        30, 240, "s", "grade D: awake in bed before a cramp that arises from wake"
    ),
    "pain_surge_rise_s": Range(
        4,
        15,
        "s",
        "Chouchou et al. 2011 (HR response builds over a few beats); grade D for a sustained pain",
    ),
    "cramp_wrist_intensity": Range(
        0.2,
        0.5,
        "0-1 wrist movement",
        "grade D: legs and arms work against the cramp; the wrist moves less than when walking",
    ),
    "massage_wrist_intensity": Range(
        0.5, 0.8, "0-1 wrist movement", "grade D: rubbing the calf moves the wrist a lot"
    ),
    "stand_wrist_intensity": Range(
        0.4, 0.7, "0-1 wrist movement", "grade D: standing, stretching against a wall"
    ),
    "walk_wrist_intensity": Range(
        0.7, 0.95, "0-1 wrist movement", "grade D: arm swing while walking"
    ),
    "indoor_step_rate_hz": Range(
        1.2, 1.8, "steps/s", "Tudor-Locke et al. 2018 (slow walking 70-110 steps/min)"
    ),
    # --- bathroom trips (nocturia) ------------------------------------------------------
    "nocturia_per_night": Range(
        0.0,
        2.0,
        "voids/night",
        "Bosch & Weiss 2010 J Urol (>= 1 void/night in ~ 50-70 % of adults over 50, >= 2 in ~ 20-40 %)",
    ),
    "bathroom_lying_before_stand_s": Range(5, 120, "s", "grade D: awake in bed before getting up"),
    "bathroom_steps": Range(
        10,
        80,
        "steps",
        "detectors-science.md 6.3 (15-40 in a flat, more in a larger home); grade D for the home spread",
        "int_tri",
        30,
    ),
    "bathroom_out_of_bed_s": Range(
        60,
        480,
        "s",
        "Yang et al. 2014 PNAS (voiding lasts ~ 21 +/- 13 s) plus walking and washing; the whole "
        "wake bout is ~ 3-15 min (detectors-science.md 6.3); grade D for the spread",
    ),
    "bathroom_back_to_sleep_s": Range(
        60, 1200, "s", "grade D: return-to-sleep latency after a void", "loguniform"
    ),
    "orthostatic_rise_bpm": Range(
        8,
        28,
        "bpm",
        "Finucane et al. 2014 Circulation (TILDA active stand: HR peak +10-25 bpm, smaller with age)",
    ),
    "orthostatic_peak_latency_s": Range(
        8, 30, "s", "Finucane et al. 2014 (initial HR peak within 10-20 s); Wieling et al. 2007"
    ),
    "walking_hr_add_bpm": Range(
        3, 12, "bpm", "grade D: slow indoor walking adds a few bpm above standing"
    ),
    "standing_hr_plateau_share": Range(
        0.4, 0.8, "share of peak", "Finucane 2014 (HR settles to a plateau below the initial peak)"
    ),
    "orthostatic_initial_decay_s": Range(
        10, 40, "s", "Finucane et al. 2014 (the initial HR peak recedes within ~ 20-40 s)"
    ),
    "orthostatic_recovery_s": Range(
        30, 120, "s", "Wieling et al. 2007 / grade D: HR falls back after lying down"
    ),
    "hot_night_nocturia_factor": Range(
        1.0, 1.4, "x voids", "grade D: more drinking on hot evenings"
    ),
    "get_up_wrist_intensity": Range(
        0.3, 0.6, "0-1 wrist movement", "grade D: pushing up from the bed"
    ),
    # --- phone use in bed ---------------------------------------------------------------
    "phone_use_per_night": Range(
        0.0,
        1.2,
        "episodes/night",
        "Exelmans & Van den Bulck 2016 (night-time phone use in bed); grade D for the rate",
    ),
    "phone_use_s": Range(
        60, 1500, "s", "grade D: checking the time to minutes of scrolling", "loguniform"
    ),
    "phone_hr_change_bpm": Range(-2, 6, "bpm", "grade D: quiet wake in bed, small HR change"),
    "phone_wrist_intensity": Range(
        0.05, 0.2, "0-1 wrist movement", "grade D: holding a phone, small wrist motion"
    ),
    # --- periodic limb movements --------------------------------------------------------
    "plm_series_per_night": Range(
        0.0,
        3.0,
        "series/night",
        "Hornyak et al. 2006 Sleep Med Rev (PLMS common, rising with age); grade D per person",
    ),
    "plm_movements": Range(4, 60, "movements/series", AASM + " (>= 4 LMs)", "int"),
    "plm_imi_s": Range(5, 90, "s", AASM + " (IMI 5-90 s; typical 20-40 s)", "tri", 25),
    "plm_movement_s": Range(0.5, 10, "s", AASM + " (LM duration 0.5-10 s)", "tri", 2),
    "plm_hr_accel_bpm": Range(
        2,
        12,
        "bpm",
        "Winkelman 1999 Sleep (HR acceleration after each PLM, with or without arousal)",
    ),
    "plm_hr_peak_s": Range(3, 8, "s", "Winkelman 1999 (peak ~ 4-6 beats after onset)"),
    "plm_arousal_share": Range(
        0.05,
        0.35,
        "probability",
        "Ferri et al. 2016 / Montplaisir (a minority of PLMs carry an arousal)",
    ),
    "plm_imi_jitter": Range(
        0.05,
        0.2,
        "+/- share of the series' mean IMI",
        "Ferri et al. 2006 periodicity index (PLM series are regular, IMIs vary little)",
    ),
    "plm_bump_share": Range(
        0.7, 1.0, "share of series acceleration", "Winkelman 1999 (per-movement HR responses vary)"
    ),
    # --- restless legs ------------------------------------------------------------------
    "rls_person_share": Range(
        0.0,
        0.35,
        "probability",
        "Allen et al. 2005 REST study (RLS 5-10 %); raised here to have examples; grade D",
    ),
    "rls_episodes_per_night": Range(
        0.3,
        1.5,
        "episodes/night",
        "Allen et al. 2005 (symptoms in the evening/at rest, most nights when frequent)",
    ),
    "rls_duration_s": Range(
        300, 2700, "s", "grade D: an urge to move for minutes to ~ 45 min before sleep or on waking"
    ),
    "rls_movement_every_s": Range(
        5, 40, "s", "Ferri 2021 IRLSSG (voluntary/large movements, overlap with PLM spacing)"
    ),
    "rls_steps": Range(
        0,
        60,
        "steps",
        "IRLSSG diagnostic criteria (relief by walking); grade D for the count",
        "int",
    ),
    "rls_hr_rise_bpm": Range(2, 10, "bpm", "grade D: wake with leg movement"),
    "plm_wrist_intensity": Range(
        0.02,
        0.15,
        "0-1 wrist movement",
        "Athavale 2017 / Spektor 2024 (PLMs are leg movements: ankle actigraphy sees them, the wrist little)",
    ),
    "rls_walk_share": Range(
        0.3,
        0.7,
        "probability",
        "IRLSSG criteria (relief by walking); grade D share of episodes with walking",
    ),
    "rls_movement_s": Range(2, 10, "s", "Ferri 2021 IRLSSG (movements of seconds)"),
    "rls_wrist_intensity": Range(
        0.2, 0.5, "0-1 wrist movement", "grade D: shifting in bed, rubbing legs"
    ),
    "rls_start_after_bed_s": Range(
        30, 600, "s", "Allen et al. 2005 (symptoms at rest in the evening, soon after lying down)"
    ),
    "rls_to_sleep_s": Range(120, 900, "s", "grade D: sleep latency after the urge subsides"),
    # --- rollovers, awakenings, hot nights ---------------------------------------------
    "rollovers_per_hour": Range(
        0.8, 3.0, "1/h", "De Koninck et al. 1992 Sleep (posture shifts ~ 1.5-2.5/h, fewer with age)"
    ),
    "rollover_s": Range(
        2,
        15,
        "s",
        "IRLSSG 2021 large muscle group movements 3-45 s; detectors-science.md 6.3 (<= 15 s)",
    ),
    "rollover_intensity": Range(
        0.4,
        1.0,
        "0-1 wrist movement",
        "detectors-science.md 6.3 (wrist angle change >= 30 deg); grade D scale",
    ),
    "rollover_hr_bump_bpm": Range(
        2, 8, "bpm", "Ferri 2021 (HR rises with large muscle movements); grade D size"
    ),
    "awakenings_per_hour": Range(
        0.3, 1.5, "1/h", "Klerman et al. 2013 / Ohayon 2004 (wake bouts >= 30 s increase with age)"
    ),
    "awakening_s": Range(
        30, 600, "s", "Ohayon 2004 (WASO 20-80 min in older adults, in bouts)", "loguniform"
    ),
    "awakening_hr_rise_bpm": Range(
        3,
        14,
        "bpm",
        "Trinder et al. 2001 (arousal HR response ~ 5-15 bpm); transient: it peaks after "
        "event_hr_rise_s and decays with event_hr_decay_s while the person lies awake "
        "(Horner 1996 Sleep 19:S193, arousal responses exceed later quiet wakefulness; held "
        "over the whole awakening in the first version, on top of the wake offset)",
    ),
    "hot_night_share": Range(
        0.0, 0.25, "probability", "grade D: warm bedroom nights in late summer"
    ),
    "hot_night_hr_add_bpm": Range(
        1, 6, "bpm", "Okamoto-Mizuno & Mizuno 2012 J Physiol Anthropol (heat raises HR, wake)"
    ),
    "hot_night_wake_factor": Range(
        1.3,
        2.5,
        "x awakening rate",
        "Okamoto-Mizuno & Mizuno 2012 (more wake, less N3/REM in heat)",
    ),
    "awakening_wrist_s": Range(3, 12, "s", "grade D: moving on waking"),
    "awakening_wrist_intensity": Range(0.3, 0.7, "0-1 wrist movement", "grade D: moving on waking"),
    "cool_bedroom_c": Range(16, 24, "degC", "grade D: bedroom temperatures of ordinary nights"),
    "hot_bedroom_c": Range(
        26, 30, "degC", "Okamoto-Mizuno & Mizuno 2012 (sleep disturbed above ~ 26-29 degC)"
    ),
    "time_in_bed_night_factor": Range(
        0.9, 1.1, "x person's mean", "grade D: night-to-night time-in-bed spread ~ 10 %"
    ),
    "cycle_jitter": Range(
        0.9, 1.1, "x person's cycle", "Carskadon & Dement (cycles vary around 90-110 min)"
    ),
    "n3_decay_per_cycle": Range(
        0.3, 0.6, "x previous cycle", "Carskadon & Dement (N3 shrinks cycle by cycle)"
    ),
    # --- watch off ----------------------------------------------------------------------
    "watch_off_night_share": Range(
        0.01,
        0.08,
        "probability",
        "grade D: a night partly without the watch (charging, discomfort)",
    ),
    "watch_off_s": Range(900, 10800, "s", "grade D: 15 min to 3 h off", "loguniform"),
    "daily_charge_min": Range(
        30, 90, "min", "Apple/Fitbit support pages (charge time ~ 1-2 h); grade D for daily habit"
    ),
    **DEVICE_RANGES,
}

#: which range each hidden feature of an event was drawn from: (kind, feature) -> range name
FEATURE_RANGES: dict[tuple[str, str], str] = {
    ("nocturnal_cramp", "contraction_s"): "cramp_contraction_s",
    ("nocturnal_cramp", "pain_surge_bpm"): "cramp_pain_surge_bpm",
    ("nocturnal_cramp", "surge_latency_s"): "cramp_surge_latency_s",
    ("nocturnal_cramp", "surge_decay_s"): "cramp_surge_decay_s",
    ("nocturnal_cramp", "stand_after_onset_s"): "cramp_stand_after_onset_s",
    ("nocturnal_cramp", "standing_s"): "cramp_standing_s",
    ("nocturnal_cramp", "steps_true"): "cramp_stretch_steps",
    ("nocturnal_cramp", "residual_wake_s"): "cramp_residual_wake_s",
    ("nocturnal_cramp", "orthostatic_bpm"): "orthostatic_rise_bpm",
    ("nocturnal_cramp", "onset_night_fraction"): "cramp_onset_night_fraction",
    ("bathroom_trip", "lying_before_stand_s"): "bathroom_lying_before_stand_s",
    ("bathroom_trip", "steps_true"): "bathroom_steps",
    ("bathroom_trip", "out_of_bed_s"): "bathroom_out_of_bed_s",
    ("bathroom_trip", "orthostatic_bpm"): "orthostatic_rise_bpm",
    ("bathroom_trip", "orthostatic_latency_s"): "orthostatic_peak_latency_s",
    ("bathroom_trip", "back_to_sleep_s"): "bathroom_back_to_sleep_s",
    ("phone_use", "duration_s"): "phone_use_s",
    ("phone_use", "hr_change_bpm"): "phone_hr_change_bpm",
    ("plm_series", "movements"): "plm_movements",
    ("plm_series", "imi_mean_s"): "plm_imi_s",
    ("plm_series", "movement_mean_s"): "plm_movement_s",
    ("plm_series", "hr_accel_bpm"): "plm_hr_accel_bpm",
    ("rls", "duration_s"): "rls_duration_s",
    ("rls", "steps_true"): "rls_steps",
    ("rls", "hr_rise_bpm"): "rls_hr_rise_bpm",
    ("rollover", "duration_s"): "rollover_s",
    ("rollover", "hr_bump_bpm"): "rollover_hr_bump_bpm",
    ("awakening", "duration_s"): "awakening_s",
    ("awakening", "hr_rise_bpm"): "awakening_hr_rise_bpm",
    ("watch_off", "duration_s"): "watch_off_s",
    ("rollover", "movement_intensity"): "rollover_intensity",
    ("plm_series", "movement_intensity"): "plm_wrist_intensity",
}


def draw(name: str, rng: np.random.Generator, size=None):
    """A draw of parameter ``name`` inside its documented range."""
    return RANGES[name].draw(rng, size)


def markdown() -> str:
    lines = [
        "# bedside simulator: parameter ranges",
        "",
        f"{len(RANGES)} parameters. Distribution: uniform unless named; `tri` = triangular with "
        "the mode shown; `int` = uniform integers; `int_tri` = rounded triangular. Overlapping ranges between event kinds are "
        "deliberate (they overlap in real life).",
        "",
        "| parameter | low | high | unit | distribution | source |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in RANGES.items():
        dist = r.dist + (f" (mode {r.mode:g})" if r.mode is not None else "")
        lines.append(
            f"| `{name}` | {r.low:g} | {r.high:g} | {r.unit} | {dist} | {r.source.replace('|', '/')} |"
        )
    lines += ["", "## Hidden features and their ranges", "", "| event | feature | range |"]
    lines.append("|---|---|---|")
    for (kind, feat), name in FEATURE_RANGES.items():
        lines.append(f"| {kind} | `{feat}` | `{name}` |")
    return "\n".join(lines) + "\n"
