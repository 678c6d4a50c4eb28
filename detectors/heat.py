"""Heat-stress indices: NWS heat index, apparent temperature, wet-bulb and WBGT estimates.

Pure numpy functions over arrays (NaN in, NaN out), each tied to its published formula
(design brief section 1). Temperatures are in C unless a name says ``_f``; vapour pressures
in hPa; wind in m/s at 10 m; radiation in W/m2.

WBGT needs a globe thermometer that no export has, so it is estimated, and the method is
always named next to the value (brief 1.5; Lemke & Kjellstrom 2012 recommend Liljegren
outdoors and Bernard indoors):

* ``liljegren2008``: the physical model of Liljegren et al. (2008), for outdoor hours with
  air temperature, humidity, 10-m wind, global shortwave radiation and a location. The
  implementation is ECMWF *thermofeel* 2.3 (``calculate_wbgt_liljegren``): vectorised numpy,
  validated by its authors against Liljegren's reference C code, with the operational KNMI
  guards. It needs the cosine of the solar zenith angle and the direct-beam fraction, which
  the caller supplies: :func:`cos_solar_zenith` (Spencer 1971) and
  :func:`direct_beam_fraction` (Liljegren 2008 eq. 13). Its other WBGT functions are not
  used: ``calculate_wbgt`` needs a mean radiant temperature, and ``calculate_wbgt_simple`` is
  the ACSM approximation that Brimicombe et al. (2023) found not adequate.
* ``bernard1999``: indoor or shade WBGT ``0.67 Tpwb + 0.33 Ta`` with the psychrometric wet
  bulb solved from the psychrometer equation (Bernard & Pourmoghani 1999 as parameterised by
  Lemke & Kjellstrom 2012). The root is found for all hours at once with
  ``scipy.optimize.elementwise.find_root`` (a vectorised bracketing solver) on the bracket
  the brief gives for ``brentq``, ``[dew point, Ta]``; tests check it against ``brentq``.
* ``stull2011``: the closed-form shade shortcut, Stull's wet bulb in the same mix.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import thermofeel
from numpy.typing import ArrayLike
from scipy.optimize import elementwise

# ------------------------------------------------------------------------------------------
# NWS heat index

#: [nws_heat_index] [rothfusz1990] Rothfusz regression coefficients (T in F, RH in %)
ROTHFUSZ_COEFFS: tuple[float, ...] = (
    -42.379,
    2.04901523,
    10.14333127,
    -0.22475541,
    -0.00683783,
    -0.05481717,
    0.00122874,
    0.00085282,
    -0.00000199,
)
#: [anderson2013] below/at this air temperature (F) the heat index is the air temperature
HI_GUARD_F = 40.0
#: [anderson2013] the NWS calculator switches to Rothfusz when the simple HI exceeds 79 F
HI_ROTHFUSZ_ABOVE_F = 79.0
#: [nws_heat_bands] lower edges (F) of the NWS "effect on the body" bands, version pinned to
#: https://www.weather.gov/safety/heat-index as read for the brief (older office pages used
#: 105 / 130 F for Danger / Extreme danger)
NWS_HEAT_BANDS_F: tuple[tuple[float, str], ...] = (
    (80.0, "caution"),
    (90.0, "extreme_caution"),
    (103.0, "danger"),
    (125.0, "extreme_danger"),
)
#: [osha_heat] OSHA worksite risk levels (F): lower < 91, moderate 91-103, high 103-115, > 115
OSHA_LEVELS_F: tuple[tuple[float, str], ...] = (
    (91.0, "moderate"),
    (103.0, "high"),
    (115.0, "very_high"),
)


def c_to_f(temp_c: ArrayLike) -> np.ndarray:
    """Degrees C to F (exact)."""
    return np.asarray(temp_c, dtype=float) * 9.0 / 5.0 + 32.0


def f_to_c(temp_f: ArrayLike) -> np.ndarray:
    """Degrees F to C (exact)."""
    return (np.asarray(temp_f, dtype=float) - 32.0) * 5.0 / 9.0


def heat_index_f(temp_f: ArrayLike, rh_pct: ArrayLike) -> np.ndarray:
    """NWS heat index (F) from air temperature (F) and relative humidity (%).

    Parameters
    ----------
    temp_f : array_like
        Air temperature, degrees Fahrenheit.
    rh_pct : array_like
        Relative humidity, percent (0-100).

    Returns
    -------
    numpy.ndarray
        Heat index in F; NaN where an input is NaN or RH is outside 0-100.

    Notes
    -----
    The NWS Weather Prediction Center algorithm [1]_ as implemented by the NWS online
    calculator and reproduced by Anderson et al. (2013) [2]_:

    1. ``T <= 40 F``: HI = T (Anderson's guard).
    2. Simple Steadman-consistent formula ``HI = 0.5 (T + 61 + 1.2 (T - 68) + 0.094 RH)``.
       Its ``0.5 (T + ...)`` *is* "the result averaged with the temperature" of the NWS
       prose; it is applied once. (Averaging it with T a second time, as one reading of the
       prose and the brief's sanity table do, gives 75.2 instead of 75.4 F at 75 F / 68.5 %.)
    3. If that value exceeds 79 F: Rothfusz regression [3]_, minus
       ``((13 - RH)/4) sqrt((17 - |T - 95|)/17)`` when RH < 13 and 80 <= T <= 112, plus
       ``((RH - 85)/10)((87 - T)/5)`` when RH > 85 and 80 <= T <= 87.

    HI assumes shade and light wind; full sun can add up to ~15 F (OSHA). The regression is
    not valid outside Steadman's data range.

    References
    ----------
    .. [1] NWS/WPC. The Heat Index Equation.
       https://www.wpc.ncep.noaa.gov/html/heatindex_equation.shtml
    .. [2] Anderson GB, Bell ML, Peng RD (2013). Environ Health Perspect 121:1111-1119.
       doi:10.1289/ehp.1206273
    .. [3] Rothfusz LP (1990). NWS Technical Attachment SR 90-23.
    """
    t = np.asarray(temp_f, dtype=float)
    rh = np.asarray(rh_pct, dtype=float)
    t, rh = np.broadcast_arrays(t, rh)
    c = ROTHFUSZ_COEFFS
    simple = 0.5 * (t + 61.0 + (t - 68.0) * 1.2 + rh * 0.094)
    roth = (
        c[0]
        + c[1] * t
        + c[2] * rh
        + c[3] * t * rh
        + c[4] * t**2
        + c[5] * rh**2
        + c[6] * t**2 * rh
        + c[7] * t * rh**2
        + c[8] * t**2 * rh**2
    )
    with np.errstate(invalid="ignore"):
        dry = (rh < 13.0) & (t >= 80.0) & (t <= 112.0)
        roth = roth - np.where(
            dry,
            ((13.0 - rh) / 4.0) * np.sqrt(np.clip((17.0 - np.abs(t - 95.0)) / 17.0, 0, None)),
            0.0,
        )
        humid = (rh > 85.0) & (t >= 80.0) & (t <= 87.0)
        roth = roth + np.where(humid, ((rh - 85.0) / 10.0) * ((87.0 - t) / 5.0), 0.0)
        hi = np.where(simple > HI_ROTHFUSZ_ABOVE_F, roth, simple)
        hi = np.where(t <= HI_GUARD_F, t, hi)
        bad = ~np.isfinite(t) | ~np.isfinite(rh) | (rh < 0) | (rh > 100)
    return np.where(bad, np.nan, hi)


def heat_index_c(temp_c: ArrayLike, rh_pct: ArrayLike) -> np.ndarray:
    """NWS heat index in C (computed in F by :func:`heat_index_f`, then converted)."""
    return f_to_c(heat_index_f(c_to_f(temp_c), rh_pct))


def nws_heat_band(hi_f: ArrayLike) -> np.ndarray:
    """NWS band name per heat index (F): ``none`` below 80 F, null (None) where HI is NaN."""
    hi = np.asarray(hi_f, dtype=float)
    out = np.full(hi.shape, "none", dtype=object)
    for edge, name in NWS_HEAT_BANDS_F:
        out[hi >= edge] = name
    out[~np.isfinite(hi)] = None
    return out


#: [nws_heat_bands] the bands' names as the NWS page writes them (for display)
NWS_HEAT_BAND_LABELS: dict[str, str] = {
    "none": "below caution",
    "caution": "caution",
    "extreme_caution": "extreme caution",
    "danger": "danger",
    "extreme_danger": "extreme danger",
}


def nws_heat_band_expr(hi: str | pl.Expr, *, unit: str = "f") -> pl.Expr:
    """:func:`nws_heat_band` as a polars expression on a column of heat indices in F
    (``unit="f"``) or C (``unit="c"``, converted exactly): the same names, null where the
    heat index is null or not finite."""
    x = pl.col(hi) if isinstance(hi, str) else hi
    if unit == "c":
        x = x * 9.0 / 5.0 + 32.0
    elif unit != "f":
        raise ValueError(f"unit must be 'f' or 'c', not {unit!r}")
    expr = pl.when(x.is_null() | x.is_nan() | x.is_infinite()).then(pl.lit(None, dtype=pl.String))
    for edge, name in sorted(NWS_HEAT_BANDS_F, reverse=True):
        expr = expr.when(x >= edge).then(pl.lit(name))
    return expr.otherwise(pl.lit("none"))


# ------------------------------------------------------------------------------------------
# vapour pressure, dew point, apparent temperature

#: [bom_thermal] [steadman1994] Magnus constants of the BoM vapour pressure (hPa, C)
BOM_ES_A_HPA, BOM_ES_B, BOM_ES_C_C = 6.105, 17.27, 237.7
#: [lemke2012] saturation vapour pressure of the Bernard psychrometer equation (hPa, C)
ES_A_HPA, ES_B, ES_C_C = 6.106, 17.27, 237.3
#: [steadman1994] [bom_thermal] shade apparent temperature AT = Ta + 0.33 e - 0.70 ws - 4.00
AT_E_COEFF, AT_WS_COEFF, AT_CONST_C = 0.33, 0.70, 4.00


def saturation_vapour_pressure_hpa(temp_c: ArrayLike) -> np.ndarray:
    """Saturation vapour pressure (hPa), ``6.106 exp(17.27 T / (237.3 + T))`` [lemke2012]."""
    t = np.asarray(temp_c, dtype=float)
    return ES_A_HPA * np.exp(ES_B * t / (ES_C_C + t))


def vapour_pressure_hpa(temp_c: ArrayLike, rh_pct: ArrayLike) -> np.ndarray:
    """Actual vapour pressure (hPa), BoM Magnus form ``RH/100 x 6.105 exp(17.27 T/(237.7+T))``."""
    t = np.asarray(temp_c, dtype=float)
    rh = np.asarray(rh_pct, dtype=float)
    return rh / 100.0 * BOM_ES_A_HPA * np.exp(BOM_ES_B * t / (BOM_ES_C_C + t))


def dew_point_c(temp_c: ArrayLike, rh_pct: ArrayLike) -> np.ndarray:
    """Dew point (C) by inverting the BoM Magnus form (brief 1.1); NaN for RH <= 0."""
    t = np.asarray(temp_c, dtype=float)
    rh = np.asarray(rh_pct, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.log(rh / 100.0) + BOM_ES_B * t / (BOM_ES_C_C + t)
        td = BOM_ES_C_C * g / (BOM_ES_B - g)
    return np.where(rh > 0, td, np.nan)


def apparent_temperature_c(
    temp_c: ArrayLike, rh_pct: ArrayLike, wind_m_s: ArrayLike | None = None
) -> np.ndarray:
    """Steadman (1994) shade apparent temperature as used by the BoM (C).

    ``AT = Ta + 0.33 e - 0.70 ws - 4.00`` with ``e`` from :func:`vapour_pressure_hpa` and
    ``ws`` the 10-m wind (m/s). Where wind is missing (None or NaN) ``ws = 0``: the
    "calm-air AT" of the brief (1.3); callers record that in the method label. Matches
    ``thermofeel.calculate_apparent_temperature``.
    """
    t = np.asarray(temp_c, dtype=float)
    ws = np.zeros_like(t) if wind_m_s is None else np.asarray(wind_m_s, dtype=float)
    ws = np.where(np.isfinite(ws), np.maximum(ws, 0.0), 0.0)
    return t + AT_E_COEFF * vapour_pressure_hpa(t, rh_pct) - AT_WS_COEFF * ws - AT_CONST_C


# ------------------------------------------------------------------------------------------
# wet bulb and WBGT

#: [bernard1999] [lemke2012] psychrometer equation coefficients:
#: 1556 ed - 1.484 ed Tw - 1556 es(Tw) + 1.484 es(Tw) Tw + 1010 (Ta - Tw) = 0
PSY_A, PSY_B, PSY_C = 1556.0, 1.484, 1010.0
#: [bernard1999] [lemke2012] indoor / shade WBGT = 0.67 Tpwb + 0.33 Ta
BERNARD_WB_W, BERNARD_TA_W = 0.67, 0.33
#: [stull2011] regression constants of the wet bulb from T and RH
STULL = (0.151977, 8.313659, 1.676331, 0.00391838, 0.023101, 4.686035)
#: [stull2011] validity of Stull's fit: RH 5-99 %, Ta -20..50 C
STULL_RH_RANGE_PCT, STULL_TA_RANGE_C = (5.0, 99.0), (-20.0, 50.0)
#: [liljegren2008] solar constant (W/m2), cap of the normalised irradiance S*, sun-down cosine
SOLAR_CONST_W_M2, NORMSOLAR_MAX, CZA_MIN = 1367.0, 0.85, 0.00873
#: [armstrong2007] ACSM exertional-heat-illness WBGT edges (C): < 27.8 | 27.9-30.0 |
#: 30.1-32.2 | > 32.2
ACSM_WBGT_EDGES_C: tuple[tuple[float, str], ...] = (
    (27.9, "limit_intense"),
    (30.1, "cancel_unacclimatized"),
    (32.3, "cancel"),
)

WBGT_METHODS = ("liljegren2008", "bernard1999", "stull2011")


def _psychrometer(tw: np.ndarray, ed: np.ndarray, ta: np.ndarray) -> np.ndarray:
    es = saturation_vapour_pressure_hpa(tw)
    return PSY_A * ed - PSY_B * ed * tw - PSY_A * es + PSY_B * es * tw + PSY_C * (ta - tw)


def psychrometric_wet_bulb_c(temp_c: ArrayLike, rh_pct: ArrayLike) -> np.ndarray:
    """Psychrometric wet bulb (C) from the psychrometer equation of Bernard's method.

    ``ed = RH/100 es(Ta)`` with ``es`` of Lemke & Kjellstrom (2012); the root lies in
    ``[Td, Ta]`` (the function is ``1010 (Ta - Td) > 0`` at ``Td`` and
    ``(ed - es(Ta))(1556 - 1.484 Ta) <= 0`` at ``Ta``). Solved for all elements at once by
    ``scipy.optimize.elementwise.find_root`` to 1e-6 C. NaN where an input is NaN or RH is
    outside (0, 100].
    """
    ta = np.asarray(temp_c, dtype=float)
    rh = np.asarray(rh_pct, dtype=float)
    ta, rh = np.broadcast_arrays(ta, rh)
    out = np.full(ta.shape, np.nan)
    ok = np.isfinite(ta) & np.isfinite(rh) & (rh > 0) & (rh <= 100)
    if not ok.any():
        return out
    t, r = ta[ok], rh[ok]
    ed = r / 100.0 * saturation_vapour_pressure_hpa(t)
    g = np.log(ed / ES_A_HPA)
    td = np.minimum(ES_C_C * g / (ES_B - g), t)
    res = np.array(t, copy=True)  # saturated air: Tw = Ta
    open_ = td < t - 1e-9
    if open_.any():
        sol = elementwise.find_root(
            _psychrometer,
            (td[open_], t[open_]),
            args=(ed[open_], t[open_]),
            tolerances={"xatol": 1e-6, "xrtol": 0.0},
        )
        res[open_] = np.where(sol.success, sol.x, np.nan)
    out[ok] = res
    return out


def wet_bulb_stull_c(temp_c: ArrayLike, rh_pct: ArrayLike) -> np.ndarray:
    """Stull (2011) wet bulb (C); NaN outside RH 5-99 % or Ta -20..50 C (the fitted range)."""
    t = np.asarray(temp_c, dtype=float)
    rh = np.asarray(rh_pct, dtype=float)
    a, b, c, d, e, f = STULL
    with np.errstate(invalid="ignore"):
        tw = (
            t * np.arctan(a * np.sqrt(rh + b))
            + np.arctan(t + rh)
            - np.arctan(rh - c)
            + d * rh**1.5 * np.arctan(e * rh)
            - f
        )
        valid = (
            (rh >= STULL_RH_RANGE_PCT[0])
            & (rh <= STULL_RH_RANGE_PCT[1])
            & (t >= STULL_TA_RANGE_C[0])
            & (t <= STULL_TA_RANGE_C[1])
        )
    return np.where(valid, tw, np.nan)


def wbgt_bernard_c(temp_c: ArrayLike, rh_pct: ArrayLike) -> np.ndarray:
    """Indoor / shade WBGT (C), ``0.67 Tpwb + 0.33 Ta`` (Bernard; Lemke & Kjellstrom 2012)."""
    t = np.asarray(temp_c, dtype=float)
    return BERNARD_WB_W * psychrometric_wet_bulb_c(t, rh_pct) + BERNARD_TA_W * t


def wbgt_stull_c(temp_c: ArrayLike, rh_pct: ArrayLike) -> np.ndarray:
    """Shade WBGT shortcut (C), ``0.67 Tw_Stull + 0.33 Ta``; underestimates in sun."""
    t = np.asarray(temp_c, dtype=float)
    return BERNARD_WB_W * wet_bulb_stull_c(t, rh_pct) + BERNARD_TA_W * t


def acsm_wbgt_category(wbgt_c: ArrayLike) -> np.ndarray:
    """ACSM 2007 exertional-heat-illness category per WBGT (C); None where NaN."""
    w = np.asarray(wbgt_c, dtype=float)
    out = np.full(w.shape, "normal", dtype=object)
    for edge, name in ACSM_WBGT_EDGES_C:
        out[w >= edge] = name
    out[~np.isfinite(w)] = None
    return out


def solar_geometry(
    epoch_s: ArrayLike, lat_deg: ArrayLike, lon_deg: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Cosine of the solar zenith angle and the Earth-Sun distance factor ``(r0/r)^2``.

    Spencer (1971) Fourier series for declination, equation of time and distance, evaluated
    at UTC instants (seconds since 1970). Accuracy ~0.1 degree, ample for hourly radiation.
    """
    s = np.asarray(epoch_s, dtype=float)
    lat = np.deg2rad(np.asarray(lat_deg, dtype=float))
    lon = np.asarray(lon_deg, dtype=float)
    days = s / 86400.0
    # day of year (0-based, fractional) from the epoch; leap years via the calendar
    dt = s.astype("datetime64[s]")
    year_start = dt.astype("datetime64[Y]").astype("datetime64[s]")
    doy0 = (dt - year_start).astype(float) / 86400.0
    b = 2.0 * np.pi * doy0 / 365.0
    decl = (
        0.006918
        - 0.399912 * np.cos(b)
        + 0.070257 * np.sin(b)
        - 0.006758 * np.cos(2 * b)
        + 0.000907 * np.sin(2 * b)
        - 0.002697 * np.cos(3 * b)
        + 0.00148 * np.sin(3 * b)
    )
    eot_min = 229.18 * (
        0.000075
        + 0.001868 * np.cos(b)
        - 0.032077 * np.sin(b)
        - 0.014615 * np.cos(2 * b)
        - 0.040849 * np.sin(2 * b)
    )
    dist = (
        1.000110
        + 0.034221 * np.cos(b)
        + 0.001280 * np.sin(b)
        + 0.000719 * np.cos(2 * b)
        + 0.000077 * np.sin(2 * b)
    )
    utc_min = (days - np.floor(days)) * 1440.0
    true_solar_min = utc_min + 4.0 * lon + eot_min
    hour_angle = np.deg2rad(true_solar_min / 4.0 - 180.0)
    cosz = np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.cos(hour_angle)
    return np.clip(cosz, -1.0, 1.0), dist


def cos_solar_zenith(epoch_s: ArrayLike, lat_deg: ArrayLike, lon_deg: ArrayLike) -> np.ndarray:
    """Cosine of the solar zenith angle at UTC instants (Spencer 1971); see solar_geometry."""
    return solar_geometry(epoch_s, lat_deg, lon_deg)[0]


def direct_beam_fraction(
    ssrd_w_m2: ArrayLike, cossza: ArrayLike, distance_factor: ArrayLike = 1.0
) -> np.ndarray:
    """Fraction of global shortwave radiation in the direct beam, Liljegren (2008) eq. 13.

    ``S* = min(S / (1367 cos(z) (r0/r)^2), 0.85)``; ``fdir = exp(3 - 1.34 S* - 1.65 / S*)``
    clamped to [0, 0.9]; 0 with the sun down (cos z < 0.00873) or no radiation.
    """
    s = np.asarray(ssrd_w_m2, dtype=float)
    cz = np.asarray(cossza, dtype=float)
    toa = SOLAR_CONST_W_M2 * np.maximum(cz, 0.0) * np.asarray(distance_factor, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = np.minimum(s / toa, NORMSOLAR_MAX)
        f = np.exp(3.0 - 1.34 * norm - 1.65 / norm)
    up = (cz >= CZA_MIN) & (toa > 0) & (s > 0)
    return np.where(up, np.clip(f, 0.0, 0.9), 0.0)


def wbgt_liljegren_c(
    temp_c: ArrayLike,
    rh_pct: ArrayLike,
    wind_m_s: ArrayLike,
    ssrd_w_m2: ArrayLike,
    cossza: ArrayLike,
    fdir: ArrayLike,
    pressure_hpa: ArrayLike = 1013.25,
) -> np.ndarray:
    """Outdoor WBGT (C) by Liljegren et al. (2008) via ``thermofeel.calculate_wbgt_liljegren``.

    Parameters are air temperature (C), RH (%), 10-m wind (m/s), global shortwave radiation
    (W/m2, the hour's mean), cos(solar zenith) and the direct-beam fraction (see
    :func:`direct_beam_fraction`), surface pressure (hPa; sea-level default when unknown,
    the model's weakest input sensitivity). NaN where an input is NaN or thermofeel does not
    converge.
    """
    arrs = np.broadcast_arrays(
        *(
            np.asarray(x, dtype=float)
            for x in (temp_c, rh_pct, wind_m_s, ssrd_w_m2, cossza, fdir, pressure_hpa)
        )
    )
    t, rh, ws, ss, cz, fd, pr = arrs
    out = np.full(t.shape, np.nan)
    ok = np.isfinite(t) & np.isfinite(rh) & np.isfinite(ws) & np.isfinite(ss) & np.isfinite(cz)
    ok &= np.isfinite(fd) & np.isfinite(pr) & (rh > 0) & (rh <= 100) & (ws >= 0) & (ss >= 0)
    if ok.any():
        k = thermofeel.calculate_wbgt_liljegren(
            t[ok] + 273.15, rh[ok], pr[ok], ws[ok], ss[ok], fd[ok], cz[ok]
        )
        out[ok] = np.asarray(k, dtype=float) - 273.15
    return out
