"""Days with likely dehydration *conditions*: heat and sweat exposure, fluid deficit, and
next-morning physiological corroboration (design brief sections 1, 2, 3 and 8).

Building blocks are pure numpy functions (heat index, vapour pressure, body surface area,
BMR, metabolic rate, PW sweat rate) so that the ``daily_exposures`` table can reuse them;
:func:`build_hourly_table` and :func:`build_daily_table` assemble them per participant hour
and local day; :func:`detect_dehydration` turns flagged days into ``EPISODE_SCHEMA`` rows.

Nothing here is a diagnosis: the output is a *condition* (exposure + deficit + support).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import polars as pl
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike
from scipy.special import ndtr

from detectors.frames import (
    ENVIRONMENT_SCHEMA,
    PARTICIPANTS_SCHEMA,
    SAMPLES_SCHEMA,
    WORKOUTS_SCHEMA,
    prepare,
)
from detectors.heat import (  # noqa: F401  (re-exported: the heat index used to live here)
    HI_GUARD_F,
    HI_ROTHFUSZ_ABOVE_F,
    NWS_HEAT_BANDS_F,
    OSHA_LEVELS_F,
    ROTHFUSZ_COEFFS,
    heat_index_c,
    heat_index_f,
    nws_heat_band,
    saturation_vapour_pressure_hpa,
)
from detectors.nights import local_date, local_datetime, local_midnight_utc
from detectors.schema import EPISODE_SCHEMA, UTC_DT, episode_id, label_for

DETECTOR_VERSION = "dehydration-0.3"
KIND = "dehydration"

# ------------------------------------------------------------------------------------------
# constants of published formulas (each with its source)

#: [lemke2012] saturation vapour pressure es(T) = 6.106 exp(17.27 T / (237.3 + T)) hPa lives
#: in detectors.heat (saturation_vapour_pressure_hpa)
HPA_TO_MMHG = 0.750062  # exact unit conversion (1 hPa = 0.750062 mmHg)
#: [shapiro1982] [gonzalez2009] heat-balance constants: (R+C) = 6.45/clo (Ta - Tsk) W/m2,
#: Emax = 14.21 (im/clo)(Psk - Pa) W/m2 with vapour pressures in mmHg. The brief flags these
#: for checking against the Gonzalez 2009 appendix; the sanity values 138 and 673 g/m2/h of
#: the brief are reproduced exactly with them.
RC_COEFF_W_M2_C = 6.45
EMAX_COEFF_W_M2_MMHG = 14.21
#: [gonzalez2009] piecewise (PW) equation m_sw = 147 + 1.527 Ereq - 0.87 Emax (g/m2/h);
#: [gonzalez2012] cool-condition intercept 350 for Ta < 20 C
PW_INTERCEPT_G_M2_H = 147.0
PW_COOL_INTERCEPT_G_M2_H = 350.0
PW_EREQ_COEFF = 1.527
PW_EMAX_COEFF = 0.87
#: [iso8996] metabolic-rate unit conversion: 1 kcal/h = 1.163 W
KCAL_H_TO_W = 1.163
#: [iso7730] respiratory heat loss (Fanger 1970): dry Cres = 0.0014 M (34 - Ta) and latent
#: Eres = 0.0173 M (5.87 - Pa), Pa in kPa, W/m2; it leaves through the breath, not the skin
RES_DRY_COEFF, RES_DRY_REF_C = 0.0014, 34.0
RES_LATENT_COEFF, RES_LATENT_REF_KPA = 0.0173, 5.87
#: [dubois1916] A_D = 0.007184 BM^0.425 H^0.725 (m2; kg, cm)
DUBOIS_K, DUBOIS_MASS_EXP, DUBOIS_HEIGHT_EXP = 0.007184, 0.425, 0.725
#: [mifflin1990] REE = 10 BM + 6.25 H - 5 age + s, s = +5 men, -161 women (kcal/d)
MIFFLIN_MASS, MIFFLIN_HEIGHT, MIFFLIN_AGE = 10.0, 6.25, 5.0
MIFFLIN_SEX_CONST = {"male": 5.0, "female": -161.0}

LEVELS: tuple[str, ...] = (
    "none",
    "heat_sweat_exposure",
    "likely_fluid_deficit",
    "likely_dehydration_condition",
)
CORROBORATION: tuple[str, ...] = ("not_available", "contradicted", "unconfirmed", "supported")


@dataclass(frozen=True)
class DehydrationParams:
    """Thresholds, defaults and the confidence mapping of :func:`detect_dehydration`.

    Each field cites ``detectors.references.REFERENCES[key]``; values the design brief grades
    **D** (engineering assumption) say "grade D".
    """

    #: identifier written to ``evidence["params"]``; change it whenever a value changes
    name: str = "dehydration-brief-8-v4"

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
    #: previous 28 logged days (>= 7), when positive, is the bias of the need/intake model for
    #: them (AI vs their losses, food water, unlogged drinks) and is subtracted. A typical
    #: surplus is not corrected (a surplus is excreted, a deficit would accumulate)
    bias_window_days: int = 28
    bias_min_days: int = 7  # [crampwatch_brief] grade D
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
    #: normal-scaled MAD of their own previous 28 logged days' computed deficits (>= 7; the
    #: same window as the bias): most days carry no real deficit, so that spread is the
    #: model's error (AI vs own losses, food water, unlogged drinks, sweat equation)
    deficit_spread_floor_pct: float = 0.5  # [crampwatch_brief] grade D: SD floor
    deficit_spread_default_pct: float = 1.0  # [crampwatch_brief] grade D: < 7 logged days
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


# ------------------------------------------------------------------------------------------
# pure building blocks


def body_surface_area_m2(mass_kg: ArrayLike, height_cm: ArrayLike) -> np.ndarray:
    """DuBois & DuBois (1916) body surface area: ``0.007184 BM^0.425 H^0.725`` (m2)."""
    m = np.asarray(mass_kg, dtype=float)
    h = np.asarray(height_cm, dtype=float)
    return DUBOIS_K * m**DUBOIS_MASS_EXP * h**DUBOIS_HEIGHT_EXP


def bmr_mifflin_kcal_d(
    mass_kg: ArrayLike, height_cm: ArrayLike, age_y: ArrayLike, sex: ArrayLike
) -> np.ndarray:
    """Mifflin-St Jeor (1990) resting energy expenditure (kcal/d).

    ``10 BM + 6.25 H - 5 age + 5`` for men, ``... - 161`` for women; for ``other`` or unknown
    sex the mean of the two constants (-78) is used (grade D assumption).
    """
    m = np.asarray(mass_kg, dtype=float)
    h = np.asarray(height_cm, dtype=float)
    a = np.asarray(age_y, dtype=float)
    sx = np.asarray(sex, dtype=object)
    mean_const = sum(MIFFLIN_SEX_CONST.values()) / 2.0
    const = (
        np.vectorize(lambda s: MIFFLIN_SEX_CONST.get(s, mean_const), otypes=[float])(sx)
        if sx.size
        else np.zeros(sx.shape)
    )
    return MIFFLIN_MASS * m + MIFFLIN_HEIGHT * h - MIFFLIN_AGE * a + const


def metabolic_rate_w_m2(
    bmr_kcal_d: ArrayLike, active_kcal_h: ArrayLike, bsa_m2: ArrayLike
) -> np.ndarray:
    """Metabolic rate ``M = (BMR/24 + AEE_h) 1.163 / A_D`` in W/m2 (brief 2.1)."""
    b = np.asarray(bmr_kcal_d, dtype=float)
    aee = np.asarray(active_kcal_h, dtype=float)
    a = np.asarray(bsa_m2, dtype=float)
    return (b / 24.0 + aee) * KCAL_H_TO_W / a


def _emax_w_m2(pa_hpa: np.ndarray, clo: float, im: float, skin_temp_c: float) -> np.ndarray:
    """Maximum evaporative capacity ``Emax = 14.21 (im/clo)(Psk - Pa)`` (W/m2), vapour
    pressures in mmHg ([shapiro1982] via brief 2.1); ``pa_hpa`` the air's vapour pressure."""
    psk = saturation_vapour_pressure_hpa(skin_temp_c) * HPA_TO_MMHG
    return EMAX_COEFF_W_M2_MMHG * (im / clo) * (psk - pa_hpa * HPA_TO_MMHG)


def sweat_rate_pw_g_m2_h(
    metabolic_rate_w_m2: ArrayLike,
    temp_c: ArrayLike,
    rh_pct: ArrayLike,
    *,
    clo: float = 0.5,
    im: float = 0.45,
    skin_temp_c: float = 35.0,
    external_work_w_m2: float = 0.0,
    cool_below_c: float = 20.0,
) -> np.ndarray:
    """Gonzalez et al. (2009) piecewise (PW) sweat-rate equation, g m^-2 h^-1 (not clamped).

    Parameters
    ----------
    metabolic_rate_w_m2 : array_like
        Metabolic rate M (W/m2).
    temp_c, rh_pct : array_like
        Air temperature (C) and relative humidity (%) of the exposure.
    clo, im, skin_temp_c, external_work_w_m2 : float
        Clothing insulation, moisture permeability, mean skin temperature and external work;
        defaults are the brief's light-summer-clothing values.
    cool_below_c : float
        Below this Ta the cool-condition intercept of Gonzalez et al. (2012) is used.

    Returns
    -------
    numpy.ndarray
        ``m_sw = c + 1.527 Ereq - 0.87 Emax`` with ``c = 147`` (``350`` when Ta < 20 C),
        ``Ereq = M - W_ext + (6.45/clo)(Ta - Tsk)`` and
        ``Emax = 14.21 (im/clo)(Psk - Pa)`` (vapour pressures in mmHg, es from Lemke &
        Kjellstrom 2012). Negative at rest: callers clamp (multiply by A_D for g/h = mL/h).

    References
    ----------
    .. [1] Gonzalez RR et al. (2009). J Appl Physiol 107:379-388. doi:10.1152/japplphysiol.00089.2009
    .. [2] Gonzalez RR et al. (2012). J Appl Physiol 112:1300-1310. doi:10.1152/japplphysiol.01056.2011
    .. [3] Shapiro Y, Pandolf KB, Goldman RF (1982). Eur J Appl Physiol 48:83-96.
    """
    m = np.asarray(metabolic_rate_w_m2, dtype=float)
    ta = np.asarray(temp_c, dtype=float)
    rh = np.asarray(rh_pct, dtype=float)
    rc = (RC_COEFF_W_M2_C / clo) * (ta - skin_temp_c)
    ereq = m - external_work_w_m2 + rc
    pa_hpa = (rh / 100.0) * saturation_vapour_pressure_hpa(ta)
    emax = _emax_w_m2(pa_hpa, clo, im, skin_temp_c)
    intercept = np.where(ta < cool_below_c, PW_COOL_INTERCEPT_G_M2_H, PW_INTERCEPT_G_M2_H)
    return intercept + PW_EREQ_COEFF * ereq - PW_EMAX_COEFF * emax


def evaporation_floor_g_m2_h(
    metabolic_rate_w_m2: ArrayLike,
    temp_c: ArrayLike,
    rh_pct: ArrayLike,
    *,
    clo: float = 0.5,
    im: float = 0.45,
    skin_temp_c: float = 35.0,
    external_work_w_m2: float = 0.0,
    latent_heat_j_g: float = 2430.0,
) -> np.ndarray:
    """Heat-balance lower bound of the sweat rate, g m^-2 h^-1 (0 when no evaporation is needed).

    ``min(Ereq_skin, Emax)^+ / latent heat``, with the skin's required evaporation
    ``Ereq_skin = M - W_ext - Cres - Eres + (6.45/clo)(Ta - Tsk)`` (respiratory losses
    ``Cres = 0.0014 M (34 - Ta)``, ``Eres = 0.0173 M (5.87 - Pa)``, Pa in kPa, ISO 7730 /
    Fanger 1970) and ``Emax`` as in :func:`sweat_rate_pw_g_m2_h`. In a steady state the skin
    must evaporate Ereq_skin (at most Emax), and every gram evaporated was sweat; dripping
    (efficiency < 1) and heat storage are ignored, so this bounds the sweat from below
    (the brief's latent-heat fallback, 2.43 kJ/g, with the heat balance of section 2.1).
    """
    m = np.asarray(metabolic_rate_w_m2, dtype=float)
    ta = np.asarray(temp_c, dtype=float)
    rh = np.asarray(rh_pct, dtype=float)
    pa_hpa = (rh / 100.0) * saturation_vapour_pressure_hpa(ta)
    cres = RES_DRY_COEFF * m * (RES_DRY_REF_C - ta)
    eres = RES_LATENT_COEFF * m * (RES_LATENT_REF_KPA - pa_hpa / 10.0)
    ereq = m - external_work_w_m2 - cres - eres + (RC_COEFF_W_M2_C / clo) * (ta - skin_temp_c)
    emax = _emax_w_m2(pa_hpa, clo, im, skin_temp_c)
    return np.clip(np.minimum(ereq, emax), 0.0, None) * 3600.0 / latent_heat_j_g


# ------------------------------------------------------------------------------------------
# hourly and daily tables

HOURLY_SCHEMA: dict[str, pl.DataType] = {
    "participant_id": pl.String,
    "hour_utc": UTC_DT,
    "utc_offset_s": pl.Int32,
    "local_date": pl.Date,
    "outdoor_temp_c": pl.Float64,
    "outdoor_rh_pct": pl.Float64,
    "hi_f": pl.Float64,
    "hi_band": pl.String,
    "active_energy_kcal": pl.Float64,
    "workout_s": pl.Float64,
    "outdoor_workout_s": pl.Float64,
    "exposure": pl.String,  # outdoor | indoor_sensor | assumed_indoor
    "ta_used_c": pl.Float64,
    "rh_used_pct": pl.Float64,
    "body_mass_kg": pl.Float64,
    "bsa_m2": pl.Float64,
    "bmr_kcal_d": pl.Float64,
    "metabolic_rate_w_m2": pl.Float64,
    "sweat_ml": pl.Float64,
}

DAILY_SCHEMA: dict[str, pl.DataType] = {
    "participant_id": pl.String,
    "local_date": pl.Date,
    "day_start_utc": UTC_DT,
    "day_end_utc": UTC_DT,
    "hi_max_f": pl.Float64,
    "hi_caution_h": pl.Float64,
    "hi_extreme_caution_h": pl.Float64,
    "hi_danger_h": pl.Float64,
    "hi_extreme_danger_h": pl.Float64,
    "exposed_hi_ge_80f_h": pl.Float64,
    "exposed_hi_ge_91f_h": pl.Float64,
    "active_energy_kcal": pl.Float64,
    "workout_s": pl.Float64,
    "sweat_ml": pl.Float64,
    "sweat_pct_bm": pl.Float64,
    "body_mass_kg": pl.Float64,
    "body_mass_source": pl.String,  # measured | default
    "need_ml": pl.Float64,
    "water_ml": pl.Float64,  # logged beverages; null = not logged
    "water_entries_count": pl.Int64,
    "water_typical_ml": pl.Float64,  # trailing-28-day median of logged days (>= 3), else null
    "water_reference_ml": pl.Float64,  # typical, or 80 % of the EFSA AI when no typical yet
    "water_status": pl.String,  # logged | partial | not_logged
    "intake_ml": pl.Float64,
    "deficit_model_pct_bm": pl.Float64,  # (need - intake) / BM as computed
    "deficit_bias_pct_bm": pl.Float64,  # personal typical computed deficit (>= 0), subtracted
    "deficit_pct_bm": pl.Float64,  # model - bias: the fluid-balance estimate
    "deficit_sd_pct_bm": pl.Float64,  # its personal SD (trailing MAD of computed deficits)
    "session_loss_pct_bm": pl.Float64,
    "morning_mass_next_kg": pl.Float64,
    "mass_baseline_kg": pl.Float64,
    "mass_baseline_count": pl.Int64,
    "mass_change_pct": pl.Float64,
    "mass_change_sd_pct": pl.Float64,  # SD of one morning vs the baseline median (CV 0.66 %)
    "deficit_estimate_pct_bm": pl.Float64,  # inverse-variance mean of the two estimates
    "deficit_estimate_sd_pct_bm": pl.Float64,
    "p_deficit_ge_2pct": pl.Float64,  # P(deficit >= 2 % BM | estimates), normal errors
    "resting_hr_next_bpm": pl.Float64,
    "resting_hr_z": pl.Float64,
    "resting_hr_rise_bpm": pl.Float64,
    "sleeping_hr_next_bpm": pl.Float64,
    "sleeping_hr_z": pl.Float64,
    "sleeping_hr_rise_bpm": pl.Float64,
    "hrv_sdnn_z": pl.Float64,
    "level": pl.String,
    "corroboration": pl.String,
    "support_strength": pl.String,  # strong | weak | hr_only | null
    "confidence": pl.Float64,
}

_HOUR = "1h"
#: optional environment columns carried into the internal hourly table
ENV_EXTRA = ("wind_speed_m_s", "shortwave_radiation_w_m2", "latitude_deg", "longitude_deg")
HOURLY_EXTRA = ("outdoor_wind_m_s", "outdoor_ssr_w_m2", "env_lat_deg", "env_lon_deg")


def _split_hours(df: pl.DataFrame | pl.LazyFrame, s: str, e: str) -> pl.DataFrame | pl.LazyFrame:
    """One row per (input row, UTC hour it overlaps) with ``hour_utc`` and ``frac`` of the row.

    A point row (``e == s``) goes whole to its hour.
    """
    last = (
        pl.when(pl.col(e) > pl.col(s))
        .then(pl.col(e) - pl.duration(microseconds=1))
        .otherwise(pl.col(s))
    )
    out = df.with_columns(
        hour_utc=pl.datetime_ranges(pl.col(s).dt.truncate(_HOUR), last.dt.truncate(_HOUR), _HOUR)
    ).explode("hour_utc")
    span_us = (pl.col(e) - pl.col(s)).dt.total_microseconds()
    lo = pl.max_horizontal(pl.col(s), pl.col("hour_utc"))
    hi = pl.min_horizontal(pl.col(e), pl.col("hour_utc") + pl.duration(hours=1))
    overlap_us = (hi - lo).dt.total_microseconds().clip(lower_bound=0)
    return out.with_columns(
        overlap_s=overlap_us.cast(pl.Float64) / 1e6,
        frac=pl.when(span_us > 0)
        .then(overlap_us.cast(pl.Float64) / span_us.cast(pl.Float64))
        .otherwise(1.0),
    )


def _day_bounds(smp: pl.DataFrame, wk: pl.DataFrame, env: pl.DataFrame) -> pl.DataFrame:
    """Every (participant, local_date) present in any input, with the day's bounds in UTC.

    The start uses the offset of the day's earliest row, the end that of its latest row, so a
    DST day is 23 h or 25 h long and a travel day follows the participant.
    """
    parts = [
        smp.select("participant_id", t=pl.col("start_utc"), off=pl.col("utc_offset_s")),
        wk.select("participant_id", t=pl.col("start_utc"), off=pl.col("utc_offset_s")),
        env.select("participant_id", t=pl.col("time_utc"), off=pl.col("utc_offset_s")),
    ]
    rows = pl.concat(parts).with_columns(local_date=local_date("t", "off"))
    days = (
        rows.group_by("participant_id", "local_date")
        .agg(
            first_off=pl.col("off").get(pl.col("t").arg_min()),
            last_off=pl.col("off").get(pl.col("t").arg_max()),
        )
        .sort("participant_id", "local_date")
    )
    return days.with_columns(
        day_start_utc=local_midnight_utc("local_date", "first_off"),
        day_end_utc=local_midnight_utc(pl.col("local_date") + pl.duration(days=1), "last_off"),
    )


def _anthropometrics(
    days: pl.DataFrame, smp: pl.DataFrame, ppl: pl.DataFrame, p: DehydrationParams
) -> pl.DataFrame:
    """Body mass (nearest measurement), height, age, sex, BSA and BMR per participant-day."""
    mass = (
        smp.filter((pl.col("metric") == "body_mass_kg") & (pl.col("value") > 0))
        .select(
            "participant_id", md=local_date("start_utc", "utc_offset_s"), mass_kg=pl.col("value")
        )
        .group_by("participant_id", "md")
        .agg(pl.col("mass_kg").median())
        .sort("md")
    )
    d = days.select("participant_id", "local_date").sort("local_date")
    if mass.height:
        d = d.join_asof(
            mass,
            left_on="local_date",
            right_on="md",
            by="participant_id",
            strategy="nearest",
            check_sortedness=False,
        )  # sorted by the on-key, hence within groups
    else:
        d = d.with_columns(md=pl.lit(None, dtype=pl.Date), mass_kg=pl.lit(None, dtype=pl.Float64))
    d = d.join(
        ppl.select("participant_id", "sex", "birth_year", "height_cm"),
        on="participant_id",
        how="left",
    )
    sex = pl.col("sex").fill_null("unknown")
    default_mass = (
        pl.when(sex == "male")
        .then(p.default_mass_male_kg)
        .when(sex == "female")
        .then(p.default_mass_female_kg)
        .otherwise((p.default_mass_male_kg + p.default_mass_female_kg) / 2)
    )
    default_height = (
        pl.when(sex == "male")
        .then(p.default_height_male_cm)
        .when(sex == "female")
        .then(p.default_height_female_cm)
        .otherwise((p.default_height_male_cm + p.default_height_female_cm) / 2)
    )
    d = d.with_columns(
        body_mass_source=pl.when(pl.col("mass_kg").is_not_null())
        .then(pl.lit("measured"))
        .otherwise(pl.lit("default")),
        body_mass_kg=pl.col("mass_kg").fill_null(default_mass),
        height_used_cm=pl.col("height_cm").fill_null(default_height),
        age_y=(pl.col("local_date").dt.year() - pl.col("birth_year"))
        .cast(pl.Float64)
        .fill_null(p.default_age_y),
        sex=sex,
    )
    bsa = body_surface_area_m2(d["body_mass_kg"].to_numpy(), d["height_used_cm"].to_numpy())
    bmr = bmr_mifflin_kcal_d(
        d["body_mass_kg"].to_numpy(),
        d["height_used_cm"].to_numpy(),
        d["age_y"].to_numpy(),
        d["sex"].to_numpy(),
    )
    return d.with_columns(
        bsa_m2=pl.Series(bsa, dtype=pl.Float64), bmr_kcal_d=pl.Series(bmr, dtype=pl.Float64)
    ).select(
        "participant_id",
        "local_date",
        "sex",
        "body_mass_kg",
        "body_mass_source",
        "bsa_m2",
        "bmr_kcal_d",
    )


def build_hourly_table(
    samples: pl.DataFrame,
    workouts: pl.DataFrame,
    environment: pl.DataFrame,
    participants: pl.DataFrame,
    params: DehydrationParams = DehydrationParams(),
) -> pl.DataFrame:
    """Per participant and UTC hour: heat index, exposure, metabolic rate and sweat loss.

    Parameters
    ----------
    samples, workouts, environment, participants : polars.DataFrame
        The canonical input frames (see ``detectors.frames``). Hours are UTC hours
        (``environment.time_utc`` is the start of its hour); a sample or workout spanning
        several hours is split by overlap.
    params : DehydrationParams
        Defaults and thresholds.

    Returns
    -------
    polars.DataFrame
        ``HOURLY_SCHEMA``, one row per participant-hour with any activity or weather data.

    Notes
    -----
    * ``hi_f`` / ``hi_band``: NWS heat index of the *outdoor* weather that hour (ambient).
    * ``active_energy_kcal``: active-energy samples in the hour (spread by overlap; with a
      ``source`` column, the maximum over sources), or the workout's own active energy
      spread over its duration if larger (the watch writes both for the same effort). Null
      when neither exists: missing is not zero.
    * ``exposure``: ``outdoor`` when an outdoor-type workout overlaps the hour and outdoor
      weather exists; else ``indoor_sensor`` when an indoor reading exists; else
      ``assumed_indoor`` at 23 C / 50 % (brief 1.6, grade D).
    * ``sweat_ml``: PW rate x A_D, clamped to [0, 2.5 L/h], only when M >= 2 MET, else 0;
      null when M is unknown. Linear in M, so hour-averaged M gives the hour's total exactly
      (apart from the clamp).
    """
    p = params
    smp = prepare(samples, "samples", SAMPLES_SCHEMA)
    wk = prepare(workouts, "workouts", WORKOUTS_SCHEMA)
    env = prepare(environment, "environment", ENVIRONMENT_SCHEMA)
    ppl = prepare(participants, "participants", PARTICIPANTS_SCHEMA)
    return (
        _hourly(smp, wk, env, ppl, p).select(list(HOURLY_SCHEMA)).sort("participant_id", "hour_utc")
    )


def nws_heat_band_expr(hi_f: str) -> pl.Expr:
    """:func:`detectors.heat.nws_heat_band` as a polars expression on a column of heat
    indices (F): the same names, null where the heat index is null or not finite."""
    x = pl.col(hi_f)
    expr = pl.when(x.is_null() | x.is_nan() | x.is_infinite()).then(pl.lit(None, dtype=pl.String))
    for edge, name in sorted(NWS_HEAT_BANDS_F, reverse=True):
        expr = expr.when(x >= edge).then(pl.lit(name))
    return expr.otherwise(pl.lit("none"))


def _env_hourly(env: pl.DataFrame) -> pl.LazyFrame:
    """Weather per participant and UTC hour (lazy): outdoor and indoor T/RH means, the first
    row's offset, and outdoor wind, radiation and location (they ride along for
    ``detectors.exposures``).

    Columns are masked to null outside their setting before one aggregation: the same means
    and firsts as filtering inside each group, at a fraction of the cost (test:
    ``tests/detectors/test_exposures_equivalence.py``).
    """
    keys = ["participant_id", "hour_utc"]
    env = env.with_columns(
        [pl.lit(None, dtype=pl.Float64).alias(c) for c in ENV_EXTRA if c not in env.columns]
    )
    is_out = pl.col("setting").fill_null("outdoor") != "indoor"

    def out_(c: str) -> pl.Expr:
        return pl.when(is_out).then(pl.col(c))

    def in_(c: str) -> pl.Expr:
        return pl.when(~is_out).then(pl.col(c))

    return (
        env.lazy()
        .select(
            "participant_id",
            "utc_offset_s",
            hour_utc=pl.col("time_utc").dt.truncate(_HOUR),
            outdoor_temp_c=out_("temp_c"),
            outdoor_rh_pct=out_("rh_pct"),
            indoor_temp_c=in_("temp_c"),
            indoor_rh_pct=in_("rh_pct"),
            outdoor_wind_m_s=out_("wind_speed_m_s"),
            outdoor_ssr_w_m2=out_("shortwave_radiation_w_m2"),
            env_lat_deg=out_("latitude_deg"),
            env_lon_deg=out_("longitude_deg"),
        )
        .group_by(keys)
        .agg(
            pl.col("outdoor_temp_c", "outdoor_rh_pct", "indoor_temp_c", "indoor_rh_pct").mean(),
            off_env=pl.col("utc_offset_s").first(),
            outdoor_wind_m_s=pl.col("outdoor_wind_m_s").mean(),
            outdoor_ssr_w_m2=pl.col("outdoor_ssr_w_m2").mean(),
            env_lat_deg=pl.col("env_lat_deg").drop_nulls().first(),
            env_lon_deg=pl.col("env_lon_deg").drop_nulls().first(),
        )
    )


def _hourly(
    smp: pl.DataFrame, wk: pl.DataFrame, env: pl.DataFrame, ppl: pl.DataFrame, p: DehydrationParams
) -> pl.DataFrame:
    keys = ["participant_id", "hour_utc"]
    # one lazy query: the four hourly aggregates below are independent and run in parallel
    # hour offsets from any own record
    offs = (
        pl.concat(
            [
                smp.lazy().select(
                    "participant_id",
                    hour_utc=pl.col("start_utc").dt.truncate(_HOUR),
                    off=pl.col("utc_offset_s"),
                ),
                wk.lazy().select(
                    "participant_id",
                    hour_utc=pl.col("start_utc").dt.truncate(_HOUR),
                    off=pl.col("utc_offset_s"),
                ),
            ]
        )
        # the first row's offset per hour; an order-keeping unique is the cheapest way here
        .unique(keys, keep="first", maintain_order=True)
        .rename({"off": "off_own"})
    )

    # active energy per hour
    has_source = "source" in smp.columns
    ae = smp.filter(pl.col("metric") == "active_energy_kcal").select(
        "participant_id",
        "start_utc",
        "end_utc",
        "value",
        src=(pl.col("source").cast(pl.String).fill_null("") if has_source else pl.lit("")),
    )
    ae_split = _split_hours(ae.lazy(), "start_utc", "end_utc")
    if ae.select(pl.col("src").n_unique()).item() <= 1:  # one source: a plain hourly sum
        ae_h = ae_split.group_by(keys).agg(ae_kcal=(pl.col("value") * pl.col("frac")).sum())
    else:
        ae_h = (
            ae_split.group_by(*keys, "src")
            .agg(kcal=(pl.col("value") * pl.col("frac")).sum())
            .group_by(keys)
            .agg(ae_kcal=pl.col("kcal").max())
        )

    # workouts per hour
    wk_h = (
        _split_hours(
            wk.lazy().with_columns(
                outdoor=pl.col("activity_type").is_in(list(p.outdoor_activity_types))
            ),
            "start_utc",
            "end_utc",
        )
        .group_by(keys)
        .agg(
            workout_s=pl.col("overlap_s").sum(),
            outdoor_workout_s=pl.when(pl.col("outdoor"))
            .then(pl.col("overlap_s"))
            .otherwise(0.0)
            .sum(),
            wk_kcal=(pl.col("active_energy_kcal") * pl.col("frac")).sum(),
            wk_kcal_n=pl.col("active_energy_kcal").is_not_null().sum(),
        )
        .with_columns(wk_kcal=pl.when(pl.col("wk_kcal_n") > 0).then("wk_kcal"))
        .drop("wk_kcal_n")
    )

    env_h = _env_hourly(env)

    h = (
        offs.join(ae_h, on=keys, how="full", coalesce=True)
        .join(wk_h, on=keys, how="full", coalesce=True)
        .join(env_h, on=keys, how="full", coalesce=True)
        .collect()
        .with_columns(utc_offset_s=pl.coalesce("off_own", "off_env").cast(pl.Int32))
        .filter(pl.col("utc_offset_s").is_not_null())
        .with_columns(local_date=local_date("hour_utc", "utc_offset_s"))
    )
    if h.height == 0:
        return pl.DataFrame(schema=HOURLY_SCHEMA)

    days = h.select("participant_id", "local_date").unique()
    anthro = _anthropometrics(days, smp, ppl, p)
    h = h.join(anthro, on=["participant_id", "local_date"], how="left")

    outdoor = (
        (pl.col("outdoor_workout_s").fill_null(0) > 0)
        & pl.col("outdoor_temp_c").is_not_null()
        & pl.col("outdoor_rh_pct").is_not_null()
    )
    indoor_sensor = pl.col("indoor_temp_c").is_not_null() & pl.col("indoor_rh_pct").is_not_null()
    h = h.with_columns(
        active_energy_kcal=pl.max_horizontal("ae_kcal", "wk_kcal"),
        workout_s=pl.col("workout_s").fill_null(0.0),
        outdoor_workout_s=pl.col("outdoor_workout_s").fill_null(0.0),
        exposure=pl.when(outdoor)
        .then(pl.lit("outdoor"))
        .when(indoor_sensor)
        .then(pl.lit("indoor_sensor"))
        .otherwise(pl.lit("assumed_indoor")),
        ta_used_c=pl.when(outdoor)
        .then("outdoor_temp_c")
        .when(indoor_sensor)
        .then("indoor_temp_c")
        .otherwise(pl.lit(p.indoor_temp_c)),
        rh_used_pct=pl.when(outdoor)
        .then("outdoor_rh_pct")
        .when(indoor_sensor)
        .then("indoor_rh_pct")
        .otherwise(pl.lit(p.indoor_rh_pct)),
    )
    hi = heat_index_c(
        h["outdoor_temp_c"].fill_null(np.nan).to_numpy(),
        h["outdoor_rh_pct"].fill_null(np.nan).to_numpy(),
    )
    hi_f = hi * 9.0 / 5.0 + 32.0
    m = metabolic_rate_w_m2(
        h["bmr_kcal_d"].to_numpy(),
        h["active_energy_kcal"].fill_null(np.nan).to_numpy(),
        h["bsa_m2"].to_numpy(),
    )
    # sweat only where M >= 2 MET (elsewhere 0, or null where M is unknown): the equations
    # run on those hours alone
    active = m >= p.sweat_min_met * p.met_w_m2
    sweat = np.where(np.isfinite(m), 0.0, np.nan)
    if active.any():
        ma = m[active]
        ta = h["ta_used_c"].to_numpy()[active]
        rh = h["rh_used_pct"].to_numpy()[active]
        pw = sweat_rate_pw_g_m2_h(
            ma,
            ta,
            rh,
            clo=p.clo,
            im=p.im,
            skin_temp_c=p.skin_temp_c,
            external_work_w_m2=p.external_work_w_m2,
            cool_below_c=p.pw_cool_below_c,
        )
        if p.sweat_heat_balance_floor:
            pw = np.maximum(
                pw,
                evaporation_floor_g_m2_h(
                    ma,
                    ta,
                    rh,
                    clo=p.clo,
                    im=p.im,
                    skin_temp_c=p.skin_temp_c,
                    external_work_w_m2=p.external_work_w_m2,
                    latent_heat_j_g=p.latent_heat_j_g,
                ),
            )
        sweat[active] = np.clip(pw * h["bsa_m2"].to_numpy()[active], 0.0, p.sweat_max_ml_h)
    h = h.with_columns(
        hi_f=pl.Series(hi_f, dtype=pl.Float64).fill_nan(None),
        metabolic_rate_w_m2=pl.Series(m, dtype=pl.Float64).fill_nan(None),
        sweat_ml=pl.Series(sweat, dtype=pl.Float64).fill_nan(None),
    ).with_columns(hi_band=nws_heat_band_expr("hi_f"))
    return h.select(
        *[pl.col(c).cast(t) for c, t in HOURLY_SCHEMA.items()],
        "indoor_temp_c",
        "indoor_rh_pct",
        *HOURLY_EXTRA,
    )


def _sorted_nanmedian(rows: np.ndarray) -> np.ndarray:
    """Row-wise median ignoring NaN, by one sort (NaN sorts last); NaN for all-NaN rows.

    The same value as ``np.nanmedian(rows, axis=1)`` (the two middle values averaged as
    ``(a + b) / 2``), without its masked-array path for short rows.
    """
    s = np.sort(rows, axis=1)
    n = (~np.isnan(rows)).sum(axis=1)
    lo = np.take_along_axis(s, np.maximum((n - 1) // 2, 0)[:, None], axis=1)[:, 0]
    hi = np.take_along_axis(s, np.minimum(n // 2, rows.shape[1] - 1)[:, None], axis=1)[:, 0]
    return np.where(n > 0, (lo + hi) / 2.0, np.nan)


def _trailing(
    df: pl.DataFrame, value: str, window_days: int, min_n: int, floor: float = 0.0
) -> pl.DataFrame:
    """Median, normal-scaled MAD and count of ``value`` over the previous ``window_days``
    days (the row's own day excluded), per participant. ``df`` has one row per day.

    All participants share one dense day grid, each preceded by ``window_days`` NaN cells, so
    one sliding-window view and two sorts serve everyone (no loop per participant).
    """
    df = df.sort("participant_id", "d")
    if df.height == 0:
        return df.with_columns(
            base_med=pl.lit(None, dtype=pl.Float64),
            base_mad=pl.lit(None, dtype=pl.Float64),
            base_n=pl.lit(None, dtype=pl.Int64),
        )
    pid = df["participant_id"].to_numpy()
    dn = df["d"].cast(pl.Int32).to_numpy().astype(np.int64)
    v = df[value].cast(pl.Float64).fill_null(np.nan).to_numpy()
    new_seg = np.concatenate([[True], pid[1:] != pid[:-1]])
    seg = np.cumsum(new_seg) - 1
    starts = np.flatnonzero(new_seg)
    ends = np.concatenate([starts[1:], [df.height]]) - 1
    lo = dn[starts]
    # each participant: window_days NaN cells, then its days lo .. hi
    span = dn[ends] - lo + 1 + window_days
    base = np.concatenate([[0], np.cumsum(span)[:-1]])
    pos = base[seg] + (dn - lo[seg]) + window_days
    grid = np.full(int(span.sum()), np.nan)
    grid[pos] = v
    # the window of the day at pos is grid[pos - window_days : pos]: days d - window .. d - 1
    rows = sliding_window_view(grid, window_days)[pos - window_days]
    n = np.isfinite(rows).sum(axis=1)
    m = _sorted_nanmedian(rows)
    dev = _sorted_nanmedian(np.abs(rows - m[:, None]))
    ok = n >= min_n
    med = np.where(ok, m, np.nan)
    mad = np.where(ok, np.maximum(1.4826 * dev, floor), np.nan)
    return df.with_columns(
        base_med=pl.Series(med).fill_nan(None),
        base_mad=pl.Series(mad).fill_nan(None),
        base_n=pl.Series(n.astype(np.int64), dtype=pl.Int64),
    )


def build_daily_table(
    samples: pl.DataFrame,
    workouts: pl.DataFrame,
    environment: pl.DataFrame,
    participants: pl.DataFrame,
    params: DehydrationParams = DehydrationParams(),
) -> pl.DataFrame:
    """Per participant and local day: exposure, fluid balance, corroboration, level, confidence.

    Parameters
    ----------
    samples, workouts, environment, participants : polars.DataFrame
        Canonical input frames. Include at least 28 days of history before the first day you
        want judged (typical water intake and resting-HR baselines are trailing windows) and
        the morning after the last day (next-morning corroboration).
    params : DehydrationParams
        Thresholds, defaults and the confidence mapping.

    Returns
    -------
    polars.DataFrame
        ``DAILY_SCHEMA``, sorted by participant and date; one row per day present in any
        input. Nulls mean "not known", never zero.

    Notes
    -----
    Exposure (brief 8.1): hours per NWS band of the ambient outdoor HI; hours at HI >= 80 F
    and >= 91 F *while exposed* (outdoor workout); ``sweat_ml`` = sum of hourly PW sweat.

    Fluid: ``need_ml`` = EFSA adequate intake (2.0 L women, 2.5 L men; covers moderate
    temperature and PAL 1.6) + exercise/heat sweat (only hours >= 2 MET are added, so the
    PAL-1.6 baseline is not double counted). ``water_ml`` = logged beverages (``water_ml``
    samples); with no entry that day ``water_status = "not_logged"`` and intake and deficit are
    null (not zero). A day below 50 % of the trailing-28-day typical logged intake with a
    >= 6 h stretch without entries inside 07:00-22:00 is ``partial`` and treated like not
    logged; while fewer than 3 days are logged, the reference is 80 % of the EFSA AI (the
    beverage share of total water), grade D. Otherwise ``intake_ml = water_ml x 1.25`` (food water) and
    ``deficit_pct_bm = (need - intake) / BM``.

    Levels: ``heat_sweat_exposure`` (>= 2 exposed hours at HI >= 80 F, or >= 1 h at >= 91 F,
    or sweat >= 1 % BM); ``likely_fluid_deficit`` (deficit >= 1 %, logged day);
    ``likely_dehydration_condition`` (deficit >= 2 %, or a measured session loss >= 2 %:
    weighings within 2 h before and after a workout, plus water logged in between, urine
    unknown so the loss is a lower bound).

    Corroboration (brief 8.2), for the morning *after* the day: mass change vs the median of
    the 7 previous mornings (>= 3 required; first weighing 04:00-12:00 local): <= -2 %
    supported/strong, <= -1 % supported/weak, >= 0 contradicted, else unconfirmed. Resting HR
    of the next day, or the sleeping HR of the night after (median HR 00:00-06:00 local):
    robust z vs the 14 previous days (>= 7; issue 5, where brief 8.2 says 28); z >= 2 and
    >= +5 bpm is a criterion; HRV (SDNN, as Apple exports no RMSSD) z <= -1.5 the other; both together
    give supported/weak. HR alone adds a small weight (``hr_only``). No baseline at all:
    ``not_available``.

    Confidence (grade D mapping, ``DehydrationParams.conf_*``): base by level (exposure 0.25,
    fluid deficit 0.45, dehydration condition 0.55) plus support (strong +0.30, weak +0.15,
    HR only +0.05) or minus 0.25 when contradicted, clipped to [0, 1]; level ``none`` is 0.
    So exposure alone never reaches "possible", and "likely" (>= 0.7) needs next-morning
    support.
    """
    smp = prepare(samples, "samples", SAMPLES_SCHEMA)
    wk = prepare(workouts, "workouts", WORKOUTS_SCHEMA)
    env = prepare(environment, "environment", ENVIRONMENT_SCHEMA)
    ppl = prepare(participants, "participants", PARTICIPANTS_SCHEMA)
    return _build(smp, wk, env, ppl, params).daily


@dataclass(frozen=True)
class Built:
    """Intermediate tables of one run, shared with ``detectors.exposures``."""

    hourly: pl.DataFrame  # HOURLY_SCHEMA + indoor T/RH + HOURLY_EXTRA, unsorted
    daily: pl.DataFrame  # DAILY_SCHEMA
    physiology: pl.DataFrame  # PHYSIOLOGY_SCHEMA, keyed on the day itself
    morning_mass: pl.DataFrame  # MORNING_MASS_SCHEMA, keyed on the morning's date


def _build(
    smp: pl.DataFrame, wk: pl.DataFrame, env: pl.DataFrame, ppl: pl.DataFrame, p: DehydrationParams
) -> Built:
    """Hourly and daily tables (and the baselines behind them) from prepared frames."""
    days = _day_bounds(smp, wk, env)
    if days.height == 0:
        return Built(
            pl.DataFrame(schema=HOURLY_SCHEMA),
            pl.DataFrame(schema=DAILY_SCHEMA),
            pl.DataFrame(schema=PHYSIOLOGY_SCHEMA),
            pl.DataFrame(schema=MORNING_MASS_SCHEMA),
        )
    dkeys = ["participant_id", "local_date"]
    hourly = _hourly(smp, wk, env, ppl, p)

    hot = pl.col("outdoor_workout_s") > 0
    agg = hourly.group_by(dkeys).agg(
        hi_max_f=pl.col("hi_f").max(),
        hi_caution_h=(pl.col("hi_band") == "caution").sum().cast(pl.Float64),
        hi_extreme_caution_h=(pl.col("hi_band") == "extreme_caution").sum().cast(pl.Float64),
        hi_danger_h=(pl.col("hi_band") == "danger").sum().cast(pl.Float64),
        hi_extreme_danger_h=(pl.col("hi_band") == "extreme_danger").sum().cast(pl.Float64),
        exposed_hi_ge_80f_h=(hot & (pl.col("hi_f") >= p.hi_caution_f)).sum().cast(pl.Float64),
        exposed_hi_ge_91f_h=(hot & (pl.col("hi_f") >= p.hi_moderate_f)).sum().cast(pl.Float64),
        active_energy_kcal=pl.when(pl.col("active_energy_kcal").is_not_null().any()).then(
            pl.col("active_energy_kcal").sum()
        ),
        workout_s=pl.col("workout_s").sum(),
        sweat_ml=pl.when(pl.col("sweat_ml").is_not_null().any()).then(pl.col("sweat_ml").sum()),
    )
    anthro = _anthropometrics(days.select(dkeys), smp, ppl, p)
    d = (
        days.select(*dkeys, "day_start_utc", "day_end_utc")
        .join(agg, on=dkeys, how="left")
        .join(anthro, on=dkeys, how="left")
    )

    # --- water
    water = smp.filter((pl.col("metric") == "water_ml") & (pl.col("value") >= 0)).with_columns(
        local_date=local_date("start_utc", "utc_offset_s"),
        hour_local=local_datetime("start_utc", "utc_offset_s").dt.hour().cast(pl.Float64)
        + local_datetime("start_utc", "utc_offset_s").dt.minute().cast(pl.Float64) / 60.0,
    )
    wd = water.group_by(dkeys).agg(
        water_ml=pl.col("value").sum(),
        water_entries_count=pl.len().cast(pl.Int64),
        longest_gap_h=_longest_gap_expr(p),
        last_entry_h=pl.col("hour_local").max(),
    )
    if wd.height:
        typical = _trailing(
            wd.rename({"local_date": "d"}), "water_ml", p.typical_window_days, p.typical_min_days
        )
        wd = wd.join(
            typical.select("participant_id", local_date="d", water_typical_ml="base_med"),
            on=dkeys,
            how="left",
        )
    else:
        wd = wd.with_columns(water_typical_ml=pl.lit(None, dtype=pl.Float64))
    d = d.join(wd, on=dkeys, how="left")
    d = d.with_columns(
        ai_ml=pl.when(pl.col("sex") == "male")
        .then(p.ai_male_ml)
        .when(pl.col("sex") == "female")
        .then(p.ai_female_ml)
        .otherwise(p.ai_other_ml),
    ).with_columns(
        water_reference_ml=pl.coalesce("water_typical_ml", pl.col("ai_ml") * p.beverage_frac_of_ai),
    )
    partial = (
        (pl.col("water_ml") < p.partial_log_frac * pl.col("water_reference_ml"))
        & (pl.col("longest_gap_h") >= p.partial_log_gap_h)
    ) | (
        p.partial_log_stopped
        & (float(p.waking_end_h) - pl.col("last_entry_h") >= p.partial_log_gap_h)
    )
    d = (
        d.with_columns(
            water_entries_count=pl.col("water_entries_count").fill_null(0),
            water_status=pl.when(pl.col("water_ml").is_null())
            .then(pl.lit("not_logged"))
            .when(partial)
            .then(pl.lit("partial"))
            .otherwise(pl.lit("logged")),
        )
        .with_columns(
            need_ml=pl.col("ai_ml") + pl.col("sweat_ml").fill_null(0.0),
            intake_ml=pl.when(pl.col("water_status") == "logged").then(
                pl.col("water_ml") * (1.0 + p.food_water_frac)
            ),
        )
        .with_columns(
            deficit_model_pct_bm=(pl.col("need_ml") - pl.col("intake_ml"))
            / 1000.0
            / pl.col("body_mass_kg")
            * 100.0,
            sweat_pct_bm=pl.col("sweat_ml") / 1000.0 / pl.col("body_mass_kg") * 100.0,
        )
    )
    # --- personal bias of the fluid model: median computed deficit of previous logged days
    logged_days = d.filter(pl.col("deficit_model_pct_bm").is_not_null()).select(
        "participant_id", d="local_date", x="deficit_model_pct_bm"
    )
    if logged_days.height:
        bias = _trailing(
            logged_days, "x", p.bias_window_days, p.bias_min_days, floor=p.deficit_spread_floor_pct
        ).select(
            "participant_id",
            local_date="d",
            deficit_bias_pct_bm=pl.col("base_med").clip(0.0),
            spread=pl.col("base_mad"),
        )
        d = d.join(bias, on=dkeys, how="left")
    else:
        d = d.with_columns(
            deficit_bias_pct_bm=pl.lit(None, dtype=pl.Float64),
            spread=pl.lit(None, dtype=pl.Float64),
        )
    d = d.with_columns(
        deficit_pct_bm=pl.col("deficit_model_pct_bm") - pl.col("deficit_bias_pct_bm").fill_null(0.0)
    ).with_columns(
        deficit_sd_pct_bm=pl.when(pl.col("deficit_pct_bm").is_not_null()).then(
            (
                pl.col("spread").fill_null(p.deficit_spread_default_pct) ** 2
                + (p.sweat_relative_sd * pl.col("sweat_pct_bm").fill_null(0.0)) ** 2
            ).sqrt()
        )
    )

    # --- measured session loss (pre/post weighing around a workout)
    d = d.join(_session_loss(smp, wk, p), on=dkeys, how="left")

    # --- next-morning body mass vs previous mornings
    mass = morning_mass_baseline(smp, p)
    mb = mass
    if mb.height:
        mb = mb.select(
            "participant_id",
            local_date=(pl.col("local_date") - pl.duration(days=1)).cast(pl.Date),
            morning_mass_next_kg="morning_mass_kg",
            mass_baseline_kg="mass_baseline_kg",
            mass_baseline_count="mass_baseline_count",
        )
        d = d.join(mb, on=dkeys, how="left")
    else:
        d = d.with_columns(
            morning_mass_next_kg=pl.lit(None, dtype=pl.Float64),
            mass_baseline_kg=pl.lit(None, dtype=pl.Float64),
            mass_baseline_count=pl.lit(None, dtype=pl.Int64),
        )
    d = d.with_columns(
        mass_change_pct=(pl.col("morning_mass_next_kg") - pl.col("mass_baseline_kg"))
        / pl.col("mass_baseline_kg")
        * 100.0
    )

    # --- resting HR, sleeping HR and HRV after the day vs 14-day baselines
    phys = physiology_baselines(smp, p)
    d = d.join(_next_day(phys, p), on=dkeys, how="left")

    d = _classify(d, p)
    daily = d.select(list(DAILY_SCHEMA)).cast(DAILY_SCHEMA).sort(dkeys)  # type: ignore[arg-type]
    return Built(hourly, daily, phys, mass)


def _longest_gap_expr(p: DehydrationParams) -> pl.Expr:
    """Longest stretch (h) without a water entry inside the local waking window (agg context)."""
    pts = pl.col("hour_local").clip(p.waking_start_h, p.waking_end_h).sort()
    return pl.max_horizontal(
        pts.first() - float(p.waking_start_h),
        pts.diff().max(),
        float(p.waking_end_h) - pts.last(),
    )


def _session_loss(smp: pl.DataFrame, wk: pl.DataFrame, p: DehydrationParams) -> pl.DataFrame:
    """Largest measured workout mass loss (% of pre mass) per participant-day (urine unknown)."""
    schema = {"participant_id": pl.String, "local_date": pl.Date, "session_loss_pct_bm": pl.Float64}
    mass = (
        smp.filter((pl.col("metric") == "body_mass_kg") & (pl.col("value") > 0))
        .select("participant_id", t=pl.col("start_utc"), mass=pl.col("value"))
        .sort("t")
    )
    if mass.height == 0 or wk.height == 0:
        return pl.DataFrame(schema=schema)
    tol = timedelta(seconds=p.session_window_s)
    w = wk.select(
        "participant_id",
        "start_utc",
        "end_utc",
        local_date=local_date("start_utc", "utc_offset_s"),
    )
    pre = w.sort("start_utc").join_asof(
        mass.rename({"t": "pre_t", "mass": "pre_mass"}),
        left_on="start_utc",
        right_on="pre_t",
        by="participant_id",
        strategy="backward",
        tolerance=tol,
        check_sortedness=False,
    )
    both = (
        pre.sort("end_utc")
        .join_asof(
            mass.rename({"t": "post_t", "mass": "post_mass"}),
            left_on="end_utc",
            right_on="post_t",
            by="participant_id",
            strategy="forward",
            tolerance=tol,
            check_sortedness=False,
        )
        .filter(pl.col("pre_mass").is_not_null() & pl.col("post_mass").is_not_null())
    )
    if both.height == 0:
        return pl.DataFrame(schema=schema)
    # water logged between the two weighings, from a cumulative sum (no pairwise join)
    water = (
        smp.filter(pl.col("metric") == "water_ml")
        .select("participant_id", t=pl.col("start_utc"), v=pl.col("value"))
        .sort("participant_id", "t")
        .with_columns(cum=pl.col("v").cum_sum().over("participant_id"))
        .sort("t")
    )

    def cum_at(frame: pl.DataFrame, col: str, name: str) -> pl.DataFrame:
        if water.height == 0:
            return frame.with_columns(pl.lit(0.0).alias(name))
        return (
            frame.sort(col)
            .join_asof(
                water.select("participant_id", "t", pl.col("cum").alias(name)),
                left_on=col,
                right_on="t",
                by="participant_id",
                strategy="backward",
                check_sortedness=False,
            )
            .drop("t")
            .with_columns(pl.col(name).fill_null(0.0))
        )

    both = cum_at(cum_at(both, "pre_t", "cum_pre"), "post_t", "cum_post")
    return (
        both.with_columns(
            loss=(
                pl.col("pre_mass")
                - pl.col("post_mass")
                + (pl.col("cum_post") - pl.col("cum_pre")) / 1000.0
            )
            / pl.col("pre_mass")
            * 100.0
        )
        .group_by("participant_id", "local_date")
        .agg(session_loss_pct_bm=pl.col("loss").max())
        .cast(schema)  # type: ignore[arg-type]
    )


PHYSIOLOGY_SCHEMA: dict[str, pl.DataType] = {
    "participant_id": pl.String,
    "local_date": pl.Date,
    "resting_hr_bpm": pl.Float64,
    "resting_hr_baseline_bpm": pl.Float64,
    "resting_hr_z": pl.Float64,
    "sleeping_hr_bpm": pl.Float64,  # night that *ends* on the morning of local_date
    "sleeping_hr_baseline_bpm": pl.Float64,
    "sleeping_hr_z": pl.Float64,
    "hrv_sdnn_ms": pl.Float64,
    "hrv_sdnn_baseline_ms": pl.Float64,
    "hrv_sdnn_z": pl.Float64,
}


def _robust_daily(
    daily: pl.DataFrame, p: DehydrationParams, floor: float, name: str
) -> pl.DataFrame:
    """Per (participant, local_date): value ``<name>_<unit>``, its 14-day median baseline
    (own day excluded) ``<name>_baseline_<unit>`` and robust z
    ``(x - median) / max(1.4826 MAD, floor)`` ``<name>_z`` [leys2013]."""
    stem, unit = name.rsplit("_", 1)
    base, zname = f"{stem}_baseline_{unit}", f"{stem}_z"
    schema = {
        "participant_id": pl.String,
        "local_date": pl.Date,
        name: pl.Float64,
        base: pl.Float64,
        zname: pl.Float64,
    }
    if daily.height == 0:
        return pl.DataFrame(schema=schema)
    t = _trailing(daily, "x", p.hr_baseline_days, p.hr_baseline_min, floor=floor)
    return t.select(
        "participant_id",
        local_date=pl.col("d"),
        **{
            name: pl.col("x"),
            base: pl.col("base_med"),
            zname: (pl.col("x") - pl.col("base_med")) / pl.col("base_mad"),
        },
    ).cast(schema)  # type: ignore[arg-type]


def physiology_baselines(smp: pl.DataFrame, p: DehydrationParams) -> pl.DataFrame:
    """Resting HR, sleeping HR and HRV (SDNN) per participant and local day, each with its
    14-day robust baseline and z (``PHYSIOLOGY_SCHEMA``; null where unknown).

    ``resting_hr_bpm``: median of the day's ``resting_heart_rate_bpm`` samples.
    ``sleeping_hr_bpm``: median ``heart_rate_bpm`` from 00:00 to 06:00 local on that date
    (the night before; >= 6 samples), a stage-free stand-in for the sleeping HR of brief 8.2.
    ``hrv_sdnn_ms``: median of the day's SDNN samples (Apple exports no RMSSD).
    """
    keys = ["participant_id", "local_date"]

    def per_day(metric: str, hours: tuple[int, int] | None = None, min_n: int = 1):
        f = smp.filter((pl.col("metric") == metric) & (pl.col("value") > 0))
        f = f.with_columns(d=local_date("start_utc", "utc_offset_s"))
        if hours is not None:
            hh = local_datetime("start_utc", "utc_offset_s").dt.hour()
            f = f.filter((hh >= hours[0]) & (hh < hours[1]))
        return (
            f.group_by("participant_id", "d")
            .agg(x=pl.col("value").median(), n=pl.len())
            .filter(pl.col("n") >= min_n)
            .drop("n")
        )

    parts = [
        _robust_daily(
            per_day("resting_heart_rate_bpm"),
            p,
            p.rhr_spread_floor_bpm,
            "resting_hr_bpm",
        ),
        _robust_daily(
            per_day(
                "heart_rate_bpm", (p.night_hr_start_h, p.night_hr_end_h), p.night_hr_min_samples
            ),
            p,
            p.rhr_spread_floor_bpm,
            "sleeping_hr_bpm",
        ),
        _robust_daily(per_day("hrv_sdnn_ms"), p, p.hrv_spread_floor_ms, "hrv_sdnn_ms"),
    ]
    out = pl.concat([x.select(keys) for x in parts]).unique(keys)
    for x in parts:
        out = out.join(x, on=keys, how="left")
    return out.select(list(PHYSIOLOGY_SCHEMA)).cast(PHYSIOLOGY_SCHEMA)  # type: ignore[arg-type]


def _next_day(phys: pl.DataFrame, p: DehydrationParams) -> pl.DataFrame:
    """Physiology of the morning/day *after* each day, keyed on that day (brief 8.2)."""
    return phys.select(
        "participant_id",
        local_date=(pl.col("local_date") - pl.duration(days=1)).cast(pl.Date),
        resting_hr_next_bpm=pl.col("resting_hr_bpm"),
        resting_hr_z=pl.col("resting_hr_z"),
        resting_hr_rise_bpm=pl.col("resting_hr_bpm") - pl.col("resting_hr_baseline_bpm"),
        sleeping_hr_next_bpm=pl.col("sleeping_hr_bpm"),
        sleeping_hr_z=pl.col("sleeping_hr_z"),
        sleeping_hr_rise_bpm=pl.col("sleeping_hr_bpm") - pl.col("sleeping_hr_baseline_bpm"),
        hrv_sdnn_z=pl.col("hrv_sdnn_z"),
    )


MORNING_MASS_SCHEMA: dict[str, pl.DataType] = {
    "participant_id": pl.String,
    "local_date": pl.Date,
    "morning_mass_kg": pl.Float64,
    "mass_baseline_kg": pl.Float64,  # median of the previous 7 mornings' first weighings
    "mass_baseline_count": pl.Int64,
}


def morning_mass_baseline(smp: pl.DataFrame, p: DehydrationParams) -> pl.DataFrame:
    """First weighing 04:00-12:00 local per day, with the median of the previous 7 days'
    mornings (>= 3) as baseline [cheuvront2004] (``MORNING_MASS_SCHEMA``)."""
    morning = (
        smp.filter((pl.col("metric") == "body_mass_kg") & (pl.col("value") > 0))
        .with_columns(
            d=local_date("start_utc", "utc_offset_s"),
            h=local_datetime("start_utc", "utc_offset_s").dt.hour(),
        )
        .filter((pl.col("h") >= p.morning_start_h) & (pl.col("h") < p.morning_end_h))
        .sort("start_utc")
        .group_by("participant_id", "d")
        .agg(mass=pl.col("value").first())
    )
    if morning.height == 0:
        return pl.DataFrame(schema=MORNING_MASS_SCHEMA)
    t = _trailing(morning, "mass", p.mass_baseline_days, p.mass_baseline_min)
    return t.select(
        "participant_id",
        local_date="d",
        morning_mass_kg="mass",
        mass_baseline_kg="base_med",
        mass_baseline_count="base_n",
    ).cast(MORNING_MASS_SCHEMA)  # type: ignore[arg-type]


def _classify(d: pl.DataFrame, p: DehydrationParams) -> pl.DataFrame:
    exposure = (
        (pl.col("exposed_hi_ge_80f_h").fill_null(0) >= p.caution_min_h)
        | (pl.col("exposed_hi_ge_91f_h").fill_null(0) >= p.moderate_min_h)
        | (pl.col("sweat_pct_bm").fill_null(0) >= p.sweat_exposure_pct_bm)
    )
    logged = pl.col("water_status") == "logged"
    session = pl.col("session_loss_pct_bm").fill_null(-math.inf)
    has_mass = pl.col("mass_change_pct").is_not_null() & (
        pl.col("mass_baseline_count").fill_null(0) >= p.mass_baseline_min
    )
    # two estimates of the day's deficit (% BM), each with its SD: the next-morning mass drop
    # (a direct measurement, [cheuvront2010]; brief 3: the best marker available) and,
    # when no mass was measured, the fluid balance of a logged day. They are not averaged:
    # the balance's error on a given day is systematic (the person's own sweat rate, the
    # drinks not logged), not independent noise, and it would pull a measured drop toward
    # the model ([crampwatch_brief] grade D; dehydration-0.3)
    has_f = logged & pl.col("deficit_pct_bm").is_not_null() & pl.col("deficit_sd_pct_bm").gt(0)
    mass_sd = (
        p.mass_day_cv_pct
        * (1.0 + math.pi / (2.0 * pl.col("mass_baseline_count").cast(pl.Float64))).sqrt()
    )
    d = d.with_columns(mass_change_sd_pct=pl.when(has_mass).then(mass_sd))
    wf = pl.when(has_f & ~has_mass).then(1.0 / pl.col("deficit_sd_pct_bm") ** 2).otherwise(0.0)
    wm = pl.when(has_mass).then(1.0 / pl.col("mass_change_sd_pct") ** 2).otherwise(0.0)
    est = (
        wf * pl.col("deficit_pct_bm").fill_null(0.0) - wm * pl.col("mass_change_pct").fill_null(0.0)
    ) / (wf + wm)
    d = d.with_columns(
        deficit_estimate_pct_bm=pl.when(wf + wm > 0).then(est),
        deficit_estimate_sd_pct_bm=pl.when(wf + wm > 0).then(1.0 / (wf + wm).sqrt()),
    )
    estimate = pl.col("deficit_estimate_pct_bm").fill_null(-math.inf)
    level = (
        pl.when((estimate >= p.dehydration_pct) | (session >= p.session_loss_pct))
        .then(pl.lit("likely_dehydration_condition"))
        .when(estimate >= p.fluid_deficit_pct)
        .then(pl.lit("likely_fluid_deficit"))
        .when(exposure)
        .then(pl.lit("heat_sweat_exposure"))
        .otherwise(pl.lit("none"))
    )
    dm = pl.col("mass_change_pct")
    rhr_ok = (pl.col("resting_hr_z") >= p.rhr_z_min) & (
        pl.col("resting_hr_rise_bpm") >= p.rhr_rise_min_bpm
    )
    night_ok = (pl.col("sleeping_hr_z") >= p.rhr_z_min) & (
        pl.col("sleeping_hr_rise_bpm") >= p.rhr_rise_min_bpm
    )
    hr_ok = rhr_ok.fill_null(False) | night_ok.fill_null(False)
    hr_ok = hr_ok & (pl.col("resting_hr_z").is_not_null() | pl.col("sleeping_hr_z").is_not_null())
    hrv_ok = pl.col("hrv_sdnn_z") <= p.hrv_z_max
    hr_any = (
        pl.col("resting_hr_z").is_not_null()
        | pl.col("sleeping_hr_z").is_not_null()
        | pl.col("hrv_sdnn_z").is_not_null()
    )
    both = hr_ok.fill_null(False) & hrv_ok.fill_null(False)
    strength = (
        pl.when(has_mass & (dm <= -p.mass_drop_strong_pct))
        .then(pl.lit("strong"))
        .when(has_mass & (dm <= -p.mass_drop_weak_pct))
        .then(pl.lit("weak"))
        .when(has_mass & (dm >= 0))
        .then(pl.lit(None, dtype=pl.String))
        .when(both)
        .then(pl.lit("weak"))
        .when(hr_ok.fill_null(False))
        .then(pl.lit("hr_only"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    corroboration = (
        pl.when(has_mass & (dm <= -p.mass_drop_weak_pct))
        .then(pl.lit("supported"))
        .when(has_mass & (dm >= 0))
        .then(pl.lit("contradicted"))
        .when(both)
        .then(pl.lit("supported"))
        .when(has_mass | hr_any)
        .then(pl.lit("unconfirmed"))
        .otherwise(pl.lit("not_available"))
    )
    d = d.with_columns(level=level, support_strength=strength, corroboration=corroboration)
    hr_adj = (
        pl.when(has_mass)
        .then(0.0)  # measured mass outweighs HR; it is inside the estimate
        .when(pl.col("support_strength") == "weak")
        .then(p.conf_support_weak)
        .when(pl.col("support_strength") == "hr_only")
        .then(p.conf_support_hr_only)
        .otherwise(0.0)
    )
    p2 = pl.Series(
        ndtr(
            (d["deficit_estimate_pct_bm"].fill_null(np.nan).to_numpy() - p.dehydration_pct)
            / d["deficit_estimate_sd_pct_bm"].fill_null(np.nan).to_numpy()
        ),
        dtype=pl.Float64,
    ).fill_nan(None)
    d = d.with_columns(p_deficit_ge_2pct=p2)
    conf = (
        pl.when(pl.col("p_deficit_ge_2pct").is_not_null())
        .then(pl.col("p_deficit_ge_2pct") + hr_adj)
        .when(pl.col("level") == "heat_sweat_exposure")
        .then(p.conf_heat_sweat_exposure + hr_adj)
        .otherwise(0.0)
    )
    conf = (
        pl.when(session >= p.session_loss_pct)
        .then(pl.max_horizontal(conf, pl.lit(p.conf_likely_dehydration_condition)))
        .otherwise(conf)
    )
    conf = pl.when(pl.col("level") == "none").then(0.0).otherwise(conf.clip(0.0, 1.0))
    return d.with_columns(confidence=conf.round(4))


# ------------------------------------------------------------------------------------------
# detector


def detect_dehydration(
    samples: pl.DataFrame,
    workouts: pl.DataFrame,
    environment: pl.DataFrame,
    participants: pl.DataFrame,
    params: DehydrationParams = DehydrationParams(),
) -> pl.DataFrame:
    """Local days with a likely dehydration condition, as ``EPISODE_SCHEMA`` rows.

    Parameters
    ----------
    samples : polars.DataFrame
        Long samples; used metrics ``active_energy_kcal``, ``body_mass_kg``, ``water_ml``,
        ``resting_heart_rate_bpm``, ``hrv_sdnn_ms``.
    workouts : polars.DataFrame
        ``activity_type``, bounds, ``active_energy_kcal`` (outdoor exposure, session loss).
    environment : polars.DataFrame
        Hourly weather already joined to participants (``setting`` outdoor|indoor).
    participants : polars.DataFrame
        ``sex``, ``birth_year``, ``height_cm`` (defaults documented in ``DehydrationParams``).
    params : DehydrationParams
        Thresholds, defaults and the grade-D confidence mapping.

    Returns
    -------
    polars.DataFrame
        One row per flagged local day, ``kind="dehydration"``, confidence >= 0.4 (label
        ``likely`` >= 0.7, else ``possible``), ``start_utc``/``end_utc`` = the local day's
        bounds in UTC, ``local_date`` = the day. ``evidence`` (JSON) holds the level,
        corroboration and the numbers behind them with unit-suffixed keys; ``water_status``
        says ``not_logged`` rather than assuming zero. Empty (same schema) if nothing is
        flagged.

    Notes
    -----
    See :func:`build_daily_table` for the method; briefly: heat index (NWS/Rothfusz with
    Anderson 2013's implementation), hours in NWS bands, PW sweat loss (Gonzalez 2009/2012)
    from a metabolic rate built from active energy, Mifflin-St Jeor BMR and DuBois body
    surface area; need = EFSA adequate intake + sweat; logged water; deficit as % body mass;
    next-morning body-mass change vs the 7 previous mornings (Cheuvront 2004; Sawka 2007)
    and resting HR / HRV robust z as weak support.
    """
    daily = build_daily_table(samples, workouts, environment, participants, params)
    return episodes_from_daily(daily, params)


def episodes_from_daily(
    daily: pl.DataFrame, params: DehydrationParams = DehydrationParams()
) -> pl.DataFrame:
    """``EPISODE_SCHEMA`` rows for the days of a :func:`build_daily_table` result whose
    confidence earns a label (``possible`` >= 0.4, ``likely`` >= 0.7); what
    :func:`detect_dehydration` returns, for callers that keep the daily table too."""
    flagged = daily.filter(pl.col("confidence") >= 0.4)
    if flagged.height == 0:
        return pl.DataFrame(schema=EPISODE_SCHEMA)
    rows = []
    for r in flagged.iter_rows(named=True):
        label = label_for(r["confidence"])
        if label is None:
            continue
        rows.append(
            {
                "episode_id": episode_id(
                    r["participant_id"], KIND, r["day_start_utc"], DETECTOR_VERSION
                ),
                "participant_id": r["participant_id"],
                "kind": KIND,
                "start_utc": r["day_start_utc"],
                "end_utc": r["day_end_utc"],
                "local_date": r["local_date"],
                "confidence": r["confidence"],
                "label": label,
                "evidence": json.dumps(_evidence(r, params)),
                "detector_version": DETECTOR_VERSION,
            }
        )
    if not rows:
        return pl.DataFrame(schema=EPISODE_SCHEMA)
    return pl.DataFrame(rows, schema=EPISODE_SCHEMA).sort("participant_id", "start_utc")


def _evidence(r: dict, p: DehydrationParams) -> dict:
    def rnd(x: float | None, nd: int = 2) -> float | None:
        return None if x is None or not math.isfinite(x) else round(float(x), nd)

    return {
        "method": "brief8_hi_nws_anderson2013_sweat_gonzalez2009_pw_heat_balance_floor",
        "params": p.name,
        "level": r["level"],
        "corroboration": r["corroboration"],
        "support_strength": r["support_strength"],
        "hi_max_f": rnd(r["hi_max_f"], 1),
        "hi_caution_h": r["hi_caution_h"],
        "hi_extreme_caution_h": r["hi_extreme_caution_h"],
        "hi_danger_h": r["hi_danger_h"],
        "hi_extreme_danger_h": r["hi_extreme_danger_h"],
        "exposed_hi_ge_80f_h": r["exposed_hi_ge_80f_h"],
        "exposed_hi_ge_91f_h": r["exposed_hi_ge_91f_h"],
        "workout_s": rnd(r["workout_s"], 0),
        "sweat_ml": rnd(r["sweat_ml"], 0),
        "sweat_pct_bm": rnd(r["sweat_pct_bm"]),
        "need_ml": rnd(r["need_ml"], 0),
        "water_status": r["water_status"],
        "water_ml": rnd(r["water_ml"], 0),
        "water_typical_ml": rnd(r["water_typical_ml"], 0),
        "water_reference_ml": rnd(r["water_reference_ml"], 0),
        "water_entries_count": r["water_entries_count"],
        "intake_ml": rnd(r["intake_ml"], 0),
        "deficit_pct_bm": rnd(r["deficit_pct_bm"]),
        "deficit_model_pct_bm": rnd(r["deficit_model_pct_bm"]),
        "deficit_bias_pct_bm": rnd(r["deficit_bias_pct_bm"]),
        "deficit_sd_pct_bm": rnd(r["deficit_sd_pct_bm"]),
        "deficit_estimate_source": (
            None
            if r["deficit_estimate_pct_bm"] is None
            else "next_morning_mass"
            if r["mass_change_sd_pct"] is not None
            else "fluid_balance"
        ),
        "deficit_estimate_pct_bm": rnd(r["deficit_estimate_pct_bm"]),
        "deficit_estimate_sd_pct_bm": rnd(r["deficit_estimate_sd_pct_bm"]),
        "p_deficit_ge_2pct": rnd(r["p_deficit_ge_2pct"], 3),
        "session_loss_pct_bm": rnd(r["session_loss_pct_bm"]),
        "body_mass_kg": rnd(r["body_mass_kg"], 1),
        "body_mass_source": r["body_mass_source"],
        "morning_mass_next_kg": rnd(r["morning_mass_next_kg"], 2),
        "mass_baseline_kg": rnd(r["mass_baseline_kg"], 2),
        "mass_baseline_count": r["mass_baseline_count"],
        "mass_change_pct": rnd(r["mass_change_pct"]),
        "resting_hr_next_bpm": rnd(r["resting_hr_next_bpm"], 1),
        "resting_hr_z": rnd(r["resting_hr_z"]),
        "sleeping_hr_next_bpm": rnd(r["sleeping_hr_next_bpm"], 1),
        "sleeping_hr_z": rnd(r["sleeping_hr_z"]),
        "hrv_sdnn_z": rnd(r["hrv_sdnn_z"]),
    }
