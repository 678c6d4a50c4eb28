"""Sweat and the body's heat balance: pure numpy building blocks of the dehydration detector
(design brief section 2; beside :mod:`detectors.heat`, which holds the heat indices).

Body surface area (DuBois 1916), resting energy expenditure (Mifflin-St Jeor 1990),
metabolic rate from active energy (brief 2.1), the Gonzalez et al. (2009/2012) piecewise
(PW) sweat equation, the heat-balance lower bound of the sweat rate (ISO 7730 respiratory
losses) and the exercise sweat rate the detector uses, with its uncertainty. Units are in
the names; every constant cites ``detectors.references.REFERENCES``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from detectors.heat import saturation_vapour_pressure_hpa

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


def _skin_heat_balance_w_m2(
    metabolic_rate_w_m2: ArrayLike,
    temp_c: ArrayLike,
    rh_pct: ArrayLike,
    clo: float,
    im: float,
    skin_temp_c: float,
    external_work_w_m2: float,
) -> tuple[np.ndarray, np.ndarray]:
    """``(Ereq_skin, Emax)`` in W/m2: the evaporation the skin must achieve (metabolic heat
    minus external work and respiratory losses, plus dry heat gain) and the most the
    environment allows; shared by :func:`evaporation_floor_g_m2_h` and
    :func:`required_sweat_g_m2_h` (constants and sources at the top of this module)."""
    m = np.asarray(metabolic_rate_w_m2, dtype=float)
    ta = np.asarray(temp_c, dtype=float)
    rh = np.asarray(rh_pct, dtype=float)
    pa_hpa = (rh / 100.0) * saturation_vapour_pressure_hpa(ta)
    cres = RES_DRY_COEFF * m * (RES_DRY_REF_C - ta)
    eres = RES_LATENT_COEFF * m * (RES_LATENT_REF_KPA - pa_hpa / 10.0)
    ereq = m - external_work_w_m2 - cres - eres + (RC_COEFF_W_M2_C / clo) * (ta - skin_temp_c)
    return ereq, _emax_w_m2(pa_hpa, clo, im, skin_temp_c)


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
    ereq, emax = _skin_heat_balance_w_m2(
        metabolic_rate_w_m2, temp_c, rh_pct, clo, im, skin_temp_c, external_work_w_m2
    )
    return np.clip(np.minimum(ereq, emax), 0.0, None) * 3600.0 / latent_heat_j_g


#: [iso7933] [candas1979] sweating efficiency r = 1 - w^2 / 2 of the required skin
#: wettedness w = Ereq / Emax: sweat that drips instead of evaporating does not cool, so the
#: body secretes Ereq / r (ISO 7933:2004, predicted heat strain, after Candas et al. 1979)
EFFICIENCY_W2_COEFF = 0.5


def required_sweat_g_m2_h(
    metabolic_rate_w_m2: ArrayLike,
    temp_c: ArrayLike,
    rh_pct: ArrayLike,
    *,
    clo: float = 0.5,
    im: float = 0.45,
    skin_temp_c: float = 35.0,
    external_work_w_m2: float = 0.0,
    latent_heat_j_g: float = 2430.0,
    max_wettedness: float = 1.0,
    max_sweat_w_m2: float = 500.0,
) -> np.ndarray:
    """Required sweat rate of the skin heat balance, g m^-2 h^-1 (ISO 7933 in its steady state).

    ``w = clip(Ereq_skin / Emax, 0, w_max)``, evaporation ``E = w Emax``, efficiency
    ``r = 1 - w^2 / 2`` (Candas et al. 1979) and sweat ``SW = min(E / r, SW_max) / lambda``
    (``lambda`` = 2.43 kJ/g). ``Ereq_skin`` and ``Emax`` are those of
    :func:`evaporation_floor_g_m2_h` (which is this with ``r = 1``). ``w_max`` = 1 and
    ``SW_max`` = 500 W/m2 are ISO 7933's values for heat-acclimatised subjects
    (0.85 and 400 W/m2 for non-acclimatised ones).
    """
    ereq, emax = _skin_heat_balance_w_m2(
        metabolic_rate_w_m2, temp_c, rh_pct, clo, im, skin_temp_c, external_work_w_m2
    )
    emax = np.maximum(emax, 1e-9)
    w = np.clip(ereq / emax, 0.0, max_wettedness)
    eff = 1.0 - EFFICIENCY_W2_COEFF * w**2
    sw_w_m2 = np.minimum(w * emax / eff, max_sweat_w_m2)
    return sw_w_m2 * 3600.0 / latent_heat_j_g


def exercise_sweat_g_m2_h(
    metabolic_rate_w_m2: ArrayLike,
    temp_c: ArrayLike,
    rh_pct: ArrayLike,
    *,
    clo: float = 0.5,
    im: float = 0.45,
    skin_temp_c: float = 35.0,
    external_work_w_m2: float = 0.0,
    cool_below_c: float = 20.0,
    latent_heat_j_g: float = 2430.0,
    max_wettedness: float = 1.0,
    max_sweat_w_m2: float = 500.0,
) -> np.ndarray:
    """Sweat rate the detector uses while active, g m^-2 h^-1: the larger of the Gonzalez PW
    equation (:func:`sweat_rate_pw_g_m2_h`) and the heat balance's required sweat
    (:func:`required_sweat_g_m2_h`), never negative.

    PW was fitted on clothing with im/clo ~0.33 ([gonzalez2012]); with light clothing
    (im/clo 0.9) its -0.87 Emax term takes it below what the heat balance requires (a brisk
    walk at 30 C: PW 138 g/m2/h, required 249 g/m2/h even at efficiency 1), so the balance
    bounds it from below. For typical workouts this lands in the normative ranges
    (Baker 2016, Barnes 2019; tests/detectors/test_dehydration.py).
    """
    pw = sweat_rate_pw_g_m2_h(
        metabolic_rate_w_m2,
        temp_c,
        rh_pct,
        clo=clo,
        im=im,
        skin_temp_c=skin_temp_c,
        external_work_w_m2=external_work_w_m2,
        cool_below_c=cool_below_c,
    )
    req = required_sweat_g_m2_h(
        metabolic_rate_w_m2,
        temp_c,
        rh_pct,
        clo=clo,
        im=im,
        skin_temp_c=skin_temp_c,
        external_work_w_m2=external_work_w_m2,
        latent_heat_j_g=latent_heat_j_g,
        max_wettedness=max_wettedness,
        max_sweat_w_m2=max_sweat_w_m2,
    )
    return np.clip(np.maximum(pw, req), 0.0, None)
