"""Ranges of the people, their days and their devices (merged into
:data:`simulators.bedside.ranges.RANGES`; the event ranges live there)."""

from __future__ import annotations

from simulators.bedside.range_type import Range

PEOPLE_RANGES: dict[str, Range] = {
    # --- people -------------------------------------------------------------------------
    "age_y": Range(
        45, 82, "years", "Naylor & Young 1994; Grandner & Winkelman 2017 (NLC common >= 50 y)"
    ),
    "sleep_hr_bpm": Range(
        46,
        70,
        "bpm",
        "Quer et al. 2020 PLoS One (resting HR 40-109, mean ~65); sleeping HR ~5-10 bpm below resting (Burgess et al. 1997)",
    ),
    "night_hr_sd_bpm": Range(
        1.0, 3.5, "bpm", "Quer et al. 2020 (within-person day-to-day RHR variation of a few bpm)"
    ),
    "day_hr_above_sleep_bpm": Range(
        6,
        16,
        "bpm",
        "Burgess et al. 1997 Am J Physiol (sleep lowers HR ~ 8-15 bpm vs relaxed wake)",
    ),
    "overnight_hr_decline_bpm": Range(
        2,
        7,
        "bpm",
        "Burgess 1997; circadian nadir of HR in the late night (Vandewalle et al. 2007)",
    ),
    "bedtime_local_h": Range(
        21.5, 24.5, "h", "Walch et al. 2016 Sci Adv (population bedtimes 22-24.5 h)"
    ),
    "bedtime_jitter_min": Range(
        10, 50, "min", "Walch 2016 / grade D: night-to-night SD of bedtime"
    ),
    "time_in_bed_h": Range(
        6.5, 9.0, "h", "Ohayon et al. 2004 Sleep meta-analysis (TIB of older adults)"
    ),
    "sleep_latency_min": Range(
        4, 35, "min", "Ohayon et al. 2004 (SOL ~10-30 min, longer with age)", "loguniform"
    ),
    "final_wake_before_up_min": Range(2, 25, "min", "grade D: lying awake before getting up"),
    "cycle_min": Range(
        80,
        115,
        "min",
        "Carskadon & Dement, Principles and Practice of Sleep Medicine (NREM-REM cycle 90-110 min)",
    ),
    "n3_first_cycle_min": Range(
        15,
        45,
        "min",
        "Carskadon & Dement (N3 mostly in the first two cycles; less with age, Ohayon 2004)",
    ),
    "rem_first_cycle_min": Range(
        5,
        15,
        "min",
        "Carskadon & Dement (first REM period 5-10 min, lengthening through the night)",
    ),
    "rem_last_cycle_min": Range(20, 40, "min", "Carskadon & Dement (late REM periods 20-40 min)"),
    "n1_first_min": Range(
        2, 10, "min", "Carskadon & Dement (N1 at sleep onset lasts 1-7 min; longer with age)"
    ),
    "wake_hr_add_bpm": Range(
        4, 12, "bpm", "Trinder et al. 2012 (HR higher in wake than NREM by ~ 5-10 bpm)"
    ),
    "rem_hr_add_bpm": Range(
        1, 5, "bpm", "Trinder et al. 2012 / Somers et al. 1993 NEJM (REM HR near wake, above NREM)"
    ),
    "n3_hr_add_bpm": Range(-4, -1, "bpm", "Somers et al. 1993 NEJM (lowest HR in N3)"),
    "hr_noise_sd_bpm": Range(
        0.8, 2.5, "bpm", "grade D: beat-to-beat variability averaged over seconds (HRV of sleep)"
    ),
    "hr_noise_tau_s": Range(20, 90, "s", "grade D: slow HR fluctuations during stable sleep"),
    "n1_hr_add_bpm": Range(0, 2, "bpm", "Trinder et al. 2012 (N1 HR between wake and N2)"),
    "stage_hr_tau_s": Range(
        20, 60, "s", "Trinder et al. 2012 (HR changes over tens of seconds at stage transitions)"
    ),
    "event_hr_rise_s": Range(
        5,
        30,
        "s",
        "Trinder et al. 2001 (arousal HR response peaks within ~ 5-10 beats); grade D for longer wake",
    ),
    "event_hr_decay_s": Range(
        15, 90, "s", "grade D: HR settles within a minute or two after quiet wake"
    ),
    "movement_hr_decay_s": Range(
        4, 12, "s", "Winkelman 1999 (HR back to baseline ~ 10 beats after a PLM)"
    ),
}

DEVICE_RANGES: dict[str, Range] = {
    # --- day ----------------------------------------------------------------------------
    "daily_steps": Range(
        2500,
        12000,
        "steps/day",
        "Tudor-Locke et al. 2011 (older adults 2000-9000; adults 4000-18000)",
    ),
    "walk_cadence_spm": Range(
        70, 115, "steps/min", "Tudor-Locke et al. 2018 (cadence 100 spm ~ moderate)"
    ),
    "day_walk_bout_min": Range(1, 25, "min", "grade D: bouts of daily walking", "loguniform"),
    "walk_hr_per_10spm_bpm": Range(
        1.5, 4.0, "bpm per 10 steps/min", "grade D: HR rises roughly linearly with cadence"
    ),
    "workout_day_share": Range(
        0.1,
        0.5,
        "probability",
        "Physical Activity Guidelines 2018 (150 min/week in 2-5 sessions); grade D share",
    ),
    "workout_min": Range(
        20, 60, "min", "Physical Activity Guidelines 2018 (sessions of 20-60 min)"
    ),
    "workout_cadence_spm": Range(
        110, 135, "steps/min", "Tudor-Locke et al. 2018 (brisk walking >= 100-130 spm)"
    ),
    "travel_days": Range(4, 7, "nights", "grade D: a short trip across zones", "int"),
    # --- devices ------------------------------------------------------------------------
    "apple_sleep_hr_interval_s": Range(
        120,
        600,
        "s",
        "Apple support 'Heart rate on Apple Watch' (background readings every few minutes when still); grade C",
    ),
    "apple_day_hr_interval_s": Range(
        240, 900, "s", "Apple support (background HR opportunistic); grade C"
    ),
    "apple_workout_hr_interval_s": Range(
        4, 6, "s", "Apple support (continuous HR during workouts ~ every 5 s)"
    ),
    "fitbit_hr_interval_s": Range(
        5, 15, "s", "real Fitabase heartrate_seconds (5-15 s spacing; Furberg et al. 2016)", "int"
    ),
    "fitbit_hr_gap_share": Range(
        0.0002,
        0.003,
        "share of samples",
        "real Fitabase heartrate_seconds (Furberg et al. 2016, Zenodo doi:10.5281/zenodo.53894, "
        "4.12.16-5.12.16 subsets, night "
        "hours 23-05 of the 5 users with >= 49 h: 0.00-0.26 % of samples followed by a gap "
        "> 60 s, 0.01-0.33 gaps > 5 min per hour; measured after the first runs, which drew "
        "1-5 % from memory)",
    ),
    "device_hr_sd_bpm": Range(
        1.0, 3.5, "bpm", "Bent et al. 2020 npj Digit Med (wrist PPG error at rest of a few bpm)"
    ),
    "step_drop_first": Range(
        2,
        10,
        "steps",
        "Feehan et al. 2018 JMIR (wrist trackers undercount short/slow walking); grade D for the count",
        "int",
    ),
    "step_efficiency": Range(
        0.75,
        1.0,
        "share counted",
        "Feehan et al. 2018 (Fitbit step counts -9 % .. +12 %; undercount at slow speed)",
    ),
    "wake_bout_detect_short": Range(
        0.15,
        0.5,
        "probability",
        "Walch et al. 2019 (wake specificity ~ 60 %); de Zambotti et al. 2018 (Fitbit wake 0.61); short bouts missed more",
    ),
    "wake_bout_detect_long": Range(
        0.65, 0.95, "probability", "de Zambotti et al. 2019/2022 (bouts > ~ 5 min usually scored)"
    ),
    "sleep_epoch_as_wake": Range(
        0.01,
        0.05,
        "probability",
        "Walch 2019 (sleep sensitivity 93 %); de Zambotti 2018 (sleep 0.96)",
    ),
    "deep_as_core_share": Range(
        0.2,
        0.5,
        "probability",
        "de Zambotti et al. 2019 / Chinoy et al. 2021 (deep sleep agreement ~ 0.5-0.8)",
    ),
    "rem_as_core_share": Range(
        0.1, 0.35, "probability", "Chinoy et al. 2021 Sleep (REM agreement ~ 0.6-0.9)"
    ),
    "fitbit_restless_move_share": Range(
        0.3,
        0.8,
        "probability",
        "Fitbit 'classic' sleep: minutes with movement -> restless (Montgomery-Downs 2012)",
    ),
    "hr_interval_jitter": Range(
        0.6, 1.4, "x mean interval", "grade C: Apple background readings are irregular"
    ),
    "fitbit_hr_gap_s": Range(60, 600, "s", "real Fitabase heartrate_seconds (gaps of minutes)"),
    "fitbit_restless_move_level": Range(
        0.2, 0.4, "0-1 wrist movement", "grade D: movement an accelerometer scores as restless"
    ),
    "fitbit_min_log_min": Range(
        20, 60, "min", "Fitbit help (sleep shorter than ~ 1 h may not be auto-logged); grade D"
    ),
    "day_steps_factor": Range(
        0.6, 1.4, "x person's daily steps", "Tudor-Locke 2011 (day-to-day CV of steps ~ 20-40 %)"
    ),
    "day_cadence_factor": Range(
        0.7, 1.15, "x person's cadence", "grade D: pace varies bout to bout"
    ),
    "charge_after_wake_min": Range(
        10, 90, "min", "grade D: the watch charges while showering/breakfast"
    ),
    "day_hr_noise_sd_bpm": Range(2, 4, "bpm", "grade D: daytime HR fluctuation beyond activity"),
}
