"""Parameters of the dehydration detector (:class:`DehydrationParams`), its levels and
corroboration labels. Every field cites ``detectors.references.REFERENCES``."""

from __future__ import annotations

from dataclasses import dataclass, field

LEVELS: tuple[str, ...] = (
    "none",
    "heat_sweat_exposure",
    "likely_fluid_deficit",
    "likely_dehydration_condition",
)
CORROBORATION: tuple[str, ...] = ("not_available", "contradicted", "unconfirmed", "supported")


@dataclass(frozen=True)
class BodyWaterParams:
    """The body-water state model (``detectors.body_water``); each field cites REFERENCES keys.

    dehydration-0.3.3 runs it, over a window of ``window_back_days`` before and
    ``window_ahead_days`` after, on the days that have neither a next-morning weighing nor a
    full water log (:func:`detectors.body_water.windowed_state`); the whole-history smoother
    (:func:`detectors.body_water.body_water_daily`) is evaluated beside it, not shipped.
    """

    dehydration_pct: float = 2.0  # [sawka2007] > 2 % body-mass water deficit
    mass_day_cv_pct: float = 0.66  # [cheuvront2004] day-to-day SD of first-morning mass
    #: [efsa2010] [iom2005] grade D: SD of a day's balance without the person's own spread,
    #: % BM: the two reference needs differ by 1.0-1.6 % of 70-75 kg (as
    #: ``DehydrationParams.deficit_spread_default_pct``)
    deficit_spread_default_pct: float = 1.5
    #: [baker2016] between-athlete CV of sweat rate: the SD of the day's computed sweat
    sweat_relative_sd: float = 0.56
    #: [crampwatch_brief] grade D: fraction of the previous day's deficit made up by the
    #: kidneys (less urine) on any day
    renal_recovery_frac: float = 0.2
    #: [sawka2007] (8-12 h with meals and drinks restore euhydration) [cheuvront2004] (stable
    #: morning mass) grade D: made up by thirst-driven drinking on days without a full log
    thirst_recovery_frac: float = 0.4
    #: [sawka2007] grade D: share of the day's sweat drunk back on a day without a full log.
    #: Drinking to thirst often leaves part of a sweat loss unreplaced during exercise, and
    #: meals make it up within 8-12 h; how much is left at the end of the day differs widely
    #: between people, and the two independent simulators disagree completely (none left /
    #: most left; docs/detectors/dehydration.md). So without a log the expected deficit does
    #: not move with the day's sweat (1.0: all of it, in expectation); the uncertainty does,
    #: by ``adlib_replace_sd_frac``. 0.5 was evaluated with the whole-history smoother and
    #: raised a lone hot run without a log to a 40 % chance of a 2 % deficit
    adlib_replace_frac: float = 1.0
    adlib_replace_sd_frac: float = 0.3  # [crampwatch_brief] grade D: its SD, x sweat
    #: [baker2016] grade D: unknown sweat (no activity data) has SD 1 L (~1 h at 1.21 L/h)
    unknown_sweat_sd_ml: float = 1000.0
    mass_drift_sd_kg: float = 0.1  # [cheuvront2004] grade D: tissue-mass random walk per day
    deficit_prior_sd_kg: float = 0.5  # [crampwatch_brief] grade D: first day's deficit SD
    mass_prior_sd_kg: float = 5.0  # [crampwatch_brief] grade D: tissue mass before weighing
    #: [crampwatch_brief] grade D: truncate the deficit at 0 every day (a surplus is
    #: excreted); off: with an unidentified tissue mass the truncation ratchets the deficit up
    deficit_floor_at_zero: bool = False
    #: [cheuvront2004] grade D: subtract the person's signed habitual balance (trailing median)
    balance_habit_signed: bool = True
    #: [crampwatch_brief] grade D: days read before a day: after a week of unlogged days
    #: 0.4^7 < 0.2 % of a deficit is left. Across logged days (0.8 kept a day) a fifth would
    #: be, but those days' own balances are inside the window; a longer window would make
    #: every re-detection reach further (``pipeline.detect.DAILY_REACH_DAYS``)
    window_back_days: int = 7
    #: [cheuvront2004] grade D: days read after: a deficit still there the next day shows on
    #: the morning after that (0.4 of it); later mornings add little
    window_ahead_days: int = 1


@dataclass(frozen=True)
class DehydrationParams:
    """Thresholds, defaults and the confidence mapping of :func:`detect_dehydration`.

    Each field cites ``detectors.references.REFERENCES[key]``; values the design brief grades
    **D** (engineering assumption) say "grade D".
    """

    #: identifier written to ``evidence["params"]``; change it whenever a value changes
    name: str = "dehydration-brief-8-v6"

    # --- exposure context (brief 1.6) ---
    indoor_temp_c: float = 23.0  # [crampwatch_brief] 1.6 grade D: indoor default when no sensor
    indoor_rh_pct: float = 50.0  # [crampwatch_brief] 1.6 grade D
    #: [crampwatch_brief] 1.6 grade D: workout types taken as outdoors (the export does not say;
    #: the largest single error source of this detector)
    outdoor_activity_types: tuple[str, ...] = (
        "running",
        "walking",
        "hiking",
        "cycling",
        "soccer",
        "american_football",
        "tennis",
        "golf",
        "baseball",
        "softball",
        "rugby",
        "cricket",
        "cross_country_skiing",
        "downhill_skiing",
        "rowing",
        "paddle_sports",
        "surfing_sports",
        "open_water_swimming",
    )

    # --- heat-balance defaults (brief 2.1) ---
    clo: float = 0.5  # [shapiro1982] [gonzalez2009] light summer clothing (brief 2.1 default)
    im: float = 0.45  # [shapiro1982] [gonzalez2009] moisture permeability index (brief 2.1)
    skin_temp_c: float = 35.0  # [shapiro1982] [gonzalez2009] Tsk default (brief 2.1)
    external_work_w_m2: float = 0.0  # [gonzalez2009] W_ext = 0 (brief 2.1)
    pw_cool_below_c: float = 20.0  # [gonzalez2012] cool-condition PW for Ta < 20 C
    met_w_m2: float = 58.2  # [iso8996] 1 met = 58.2 W/m2
    #: [crampwatch_brief] 2.1 grade D: PW only when M >= 2 MET ([gonzalez2009] was fitted on
    #: exercise; at rest PW goes negative and insensible loss is inside the AI baseline)
    sweat_min_met: float = 2.0
    sweat_max_ml_h: float = 2500.0  # [crampwatch_brief] 2.2 clamp; [baker2016] [barnes2019]
    #: [crampwatch_brief] 2.1 latent-heat fallback; [iso7730]: the sweat an hour needs is at
    #: least the water whose evaporation removes the heat the skin must lose,
    #: min(Ereq_skin, Emax) / latent heat (Ereq_skin = M - W - Cres - Eres + (R + C)). PW
    #: was fitted on clothing with im/clo ~0.33 ([gonzalez2012]); with the light-clothing
    #: im/clo 0.9 its -0.87 Emax term drives it below this heat-balance bound (0.14 L/h
    #: for a brisk walk at 30 C, half the evaporation the walk requires), so the larger of
    #: the two is used (dehydration-0.3). Efficiency 1 (no dripping): still a lower bound
    sweat_heat_balance_floor: bool = True
    #: [crampwatch_brief] 2.1 grade D: a workout's minutes are run at the workout's own
    #: metabolic rate, the rest of the clock hour at the rest (fluid_tables._hourly_sweat)
    sweat_split_workout: bool = True
    #: [iso8996] grade D: cap of a workout's metabolic rate (16 MET, elite running) against
    #: exports whose workout energy and duration disagree
    workout_max_met: float = 16.0
    #: [ainsworth2011] [haskell2007] grade D: MET of Fitbit's minute intensity levels 0-3
    #: (sedentary < 1.5, light 1.5-3, moderate 3-6, vigorous >= 6 MET; the middle of each
    #: band, 8 for vigorous) for exports with levels but no active energy or METs (Fitabase)
    intensity_level_met: tuple[float, float, float, float] = (1.0, 2.25, 4.5, 8.0)
    latent_heat_j_g: float = 2430.0  # [crampwatch_brief] 2.1: ~2.43 kJ/g evaporated

    # --- fluid need and intake (brief 2.4, 8.1) ---
    ai_female_ml: float = 2000.0  # [efsa2010] adequate total water intake, women
    ai_male_ml: float = 2500.0  # [efsa2010] adequate total water intake, men
    ai_other_ml: float = 2250.0  # [efsa2010] grade D: mean of the two for other/unknown sex
    #: [efsa2010] [iom2005] food supplies ~20 % of total water -> food = 0.25 x beverages
    food_water_frac: float = 0.25
    #: [efsa2010] [iom2005] beverages ~80 % of total water: the reference logged intake for the
    #: partial-log rule while the person has < typical_min_days logged days (grade D use)
    beverage_frac_of_ai: float = 0.8
    partial_log_frac: float = 0.5  # [crampwatch_brief] 8.1.5 grade D: < 50 % of typical
    partial_log_gap_h: float = 6.0  # [crampwatch_brief] 8.1.5 grade D: "long stretch" >= 6 h
    #: [crampwatch_brief] 8.1.5 grade D: a log whose last entry is >= 6 h before the end of
    #: the waking window stopped (a forgotten log); whatever its volume, the end-of-day
    #: balance depends on the unlogged evening, so the day is partial (dehydration-0.3)
    partial_log_stopped: bool = True
    waking_start_h: int = 7  # [crampwatch_brief] grade D: waking window for the gap rule
    waking_end_h: int = 22  # [crampwatch_brief] grade D
    typical_window_days: int = 28  # [crampwatch_brief] grade D: "typical" = trailing 28 days
    typical_min_days: int = 3  # [crampwatch_brief] grade D
    fluid_deficit_pct: float = 1.0  # [crampwatch_brief] 8.1; [cheuvront2004] 1 % ~ 1.5 CV
    #: [cheuvront2004] [crampwatch_brief] grade D: body mass is stable day to day, so a
    #: person cannot be in deficit on most days; the median computed deficit of their own
    #: previous 28 logged days (>= 3), when positive, is the bias of the need/intake model for
    #: them (AI vs their losses, food water, unlogged drinks) and is subtracted. A typical
    #: surplus is not corrected (a surplus is excreted, a deficit would accumulate).
    #: dehydration-0.3.2: 3 days (the brief's minimum for a "typical" intake, as
    #: ``typical_min_days``) instead of 7, the median's own error carried into the SD below:
    #: before, the first six logged days of someone who logs only some drinks read as deficits
    bias_window_days: int = 28
    bias_min_days: int = 3  # [crampwatch_brief] grade D
    dehydration_pct: float = 2.0  # [sawka2007] > 2 % body-mass water deficit

    # --- heat / sweat exposure level (brief 8.1) ---
    hi_caution_f: float = 80.0  # [nws_heat_bands] Caution
    caution_min_h: float = 2.0  # [crampwatch_brief] 8.1: >= 2 outdoor hours at HI >= 80 F
    hi_moderate_f: float = 91.0  # [osha_heat] moderate risk
    moderate_min_h: float = 1.0  # [crampwatch_brief] 8.1: >= 1 h at HI >= 91 F
    sweat_exposure_pct_bm: float = 1.0  # [crampwatch_brief] 8.1 grade D: sum S_h >= 1 % BM
    session_window_s: float = 7200.0  # [crampwatch_brief] grade D: pre/post weighing within 2 h
    session_loss_pct: float = 2.0  # [sawka2007] measured session loss >= 2 % BM

    # --- corroboration (brief 8.2) ---
    morning_start_h: int = 4  # [crampwatch_brief] grade D: first-morning weighing window
    morning_end_h: int = 12  # [crampwatch_brief] grade D ([cheuvront2004] first-morning mass)
    mass_baseline_days: int = 7  # [cheuvront2004] via brief 8.2: previous 7 mornings
    mass_baseline_min: int = 3  # [cheuvront2004] three mornings give a usable baseline
    mass_drop_weak_pct: float = 1.0  # [cheuvront2004] ~1.5 CV of day-to-day mass
    mass_drop_strong_pct: float = 2.0  # [sawka2007] hypohydration > 2 % BM
    #: [cheuvront2004] first-morning body mass varies 0.51 +- 0.20 kg day to day, CV 0.66 %:
    #: the SD of one morning's deviation; the baseline median of n mornings adds
    #: (pi/2) CV^2 / n (variance of a median), so SD = CV sqrt(1 + pi / (2 n))
    mass_day_cv_pct: float = 0.66
    #: [crampwatch_brief] grade D: SD of the computed fluid deficit, per person, as the
    #: normal-scaled MAD of their own previous 28 logged days' computed deficits (>= 3; the
    #: same window as the bias): most days carry no real deficit, so that spread is the
    #: model's error (AI vs own losses, food water, unlogged drinks, sweat equation); the bias
    #: is a median of n days, so the SD is spread x sqrt(1 + pi / (2 n)) (variance of a
    #: median, as ``mass_day_cv_pct``)
    deficit_spread_floor_pct: float = 0.5  # [crampwatch_brief] grade D: SD floor
    #: without >= 3 logged days of their own the person's need is not known better than the
    #: two reference values disagree: EFSA 2010 (2.0 / 2.5 L) and IOM 2005 (2.7 / 3.7 L total
    #: water) differ by 0.7 L (women) and 1.2 L (men), 1.0-1.6 % of 70-75 kg ([efsa2010],
    #: [iom2005]; grade D use). dehydration-0.3.2: 1.5 (was 1.0, grade D)
    deficit_spread_default_pct: float = 1.5
    #: [baker2016] whole-body sweat rate 1.21 +- 0.68 L/h across athletes (CV 0.56): a
    #: population equation does not know the person's own rate, so the day's computed sweat
    #: adds an error of 0.56 x sweat (% BM) to the SD above (the trailing spread is made
    #: mostly of days without exercise); grade D use
    sweat_relative_sd: float = 0.56
    #: [crampwatch_brief] issue 5 asks for a 14-day robust baseline (median/MAD) of resting
    #: and sleeping HR and HRV; brief 8.2 proposes 28 days. The issue wins: a shorter window
    #: follows acclimatisation and season faster, at the cost of a noisier MAD (grade D)
    hr_baseline_days: int = 14
    hr_baseline_min: int = 7  # [crampwatch_brief] grade D: half the window
    rhr_z_min: float = 2.0  # [crampwatch_brief] 8.2; robust z per [leys2013]
    rhr_rise_min_bpm: float = 5.0  # [crampwatch_brief] 8.2; [adams2014] ~3 bpm per 1 % (exercise)
    hrv_z_max: float = -1.5  # [crampwatch_brief] 8.2 (RMSSD; SDNN used, grade D); [carter2005]
    rhr_spread_floor_bpm: float = 1.0  # [crampwatch_brief] grade D: MAD floor
    hrv_spread_floor_ms: float = 1.0  # [crampwatch_brief] grade D: MAD floor
    #: [crampwatch_brief] 8.2 "resting or nocturnal HR"; grade D: without sleep stages the
    #: sleeping HR is the median HR from 00:00 to 06:00 local of the morning after the day
    night_hr_start_h: int = 0
    night_hr_end_h: int = 6  # [crampwatch_brief] grade D
    night_hr_min_samples: int = 6  # [crampwatch_brief] grade D: >= 6 samples in the window

    #: [kalman1960] [rauch1965] dehydration-0.3.3: the body-water state over the days around a
    #: day that has neither a next-morning weighing nor a full water log (its own estimate)
    body_water: BodyWaterParams = field(default_factory=BodyWaterParams)

    # --- anthropometric defaults when unknown ---
    default_mass_male_kg: float = 73.0  # [icrp2002] reference adult male
    default_mass_female_kg: float = 60.0  # [icrp2002] reference adult female
    default_height_male_cm: float = 176.0  # [icrp2002]
    default_height_female_cm: float = 163.0  # [icrp2002]
    default_age_y: float = 40.0  # [crampwatch_brief] grade D

    # --- confidence mapping (no calibration data yet) ---
    #: dehydration-0.3: a day with a deficit estimate (computed fluid balance and/or
    #: next-morning mass) has confidence = P(deficit >= 2 % | estimates) ([sawka2007]),
    #: from their inverse-variance weighted mean and its SD (normal errors, flat prior);
    #: the constants below apply to days without any estimate (exposure only), to the HR
    #: support when no mass was measured, and to a measured session loss.
    #: [crampwatch_brief] grade D: exposure alone stays below "possible" (0.4)
    conf_heat_sweat_exposure: float = 0.20
    #: [crampwatch_brief] grade D; [sawka2007]: the least confidence of a measured session
    #: loss >= 2 % (weighed before and after a workout)
    conf_likely_dehydration_condition: float = 0.55
    #: [crampwatch_brief] grade D: resting or sleeping HR and HRV together, no mass measured
    conf_support_weak: float = 0.15
    #: [crampwatch_brief] 8.2 grade D: resting-HR criterion alone, "low weight" ([adams2014])
    conf_support_hr_only: float = 0.05


#: the default parameters (a module-level singleton: frozen, so safe as an argument default)
DEFAULT_PARAMS = DehydrationParams()
