"""Daily exposures: one row per participant and local day with every trigger the data can
speak to (heat, sweat and fluids, activity, nutrients, daylight, glucose, drugs and
conditions, body mass and heart-rate baselines, the dehydration condition).

This is the ``daily_exposures`` table (migration ``0002_daily_exposures.sql``; every column
is documented in ``docs/data-model.md``). It is the exposure side of the trigger analysis
(brief section 9): a night's cramp is compared with the exposures of the day it follows.

Rules shared by all columns:

* missing data is null, never zero: a count is null when the day has no data of that kind
  (``outdoor_hi_ge_80f_h`` is null without outdoor weather, 0 with weather and no hot hour);
* units are in the names; every formula and threshold names its source (``REFERENCES``);
* heat columns come from :mod:`detectors.heat`; sweat, fluids, body mass and physiology
  from :mod:`detectors.dehydration` (the same numbers the dehydration detector uses);
  nutrients from :mod:`detectors.nutrients`.

Pure: polars frames in, a polars frame out; no I/O, no clock; inputs are not mutated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from detectors import heat, tables
from detectors.dehydration import DehydrationParams, _build
from detectors.drugs_conditions import (  # noqa: F401  (re-exported)
    CONDITION_SYNONYMS,
    CRAMP_CONDITIONS,
    CRAMP_DRUG_CLASSES,
    DrugClass,
    cramp_condition_classes,
    cramp_drug_classes,
)
from detectors.frames import (
    ENVIRONMENT_SCHEMA,
    PARTICIPANTS_SCHEMA,
    SAMPLES_SCHEMA,
    SLEEP_SEGMENTS_SCHEMA,
    WORKOUTS_SCHEMA,
    prepare,
)
from detectors.nights import epoch_us, local_date
from detectors.nutrients import NUTRIENT_SCHEMA, NutrientParams, compute_nutrient_adequacy

EXPOSURES_VERSION = "exposures-0.2"

# ------------------------------------------------------------------------------------------
# parameters and schema


@dataclass(frozen=True)
class ExposureParams:
    """Choices of the exposure table; each field cites ``REFERENCES``."""

    #: [bernard1999] [lemke2012] indoor WBGT method: "bernard1999" (solver) or "stull2011"
    #: ([stull2011] closed-form shortcut, grade C as a WBGT estimate)
    indoor_wbgt_method: str = "bernard1999"
    #: [liljegren2008] [crampwatch_brief] 1.6: Liljegren only for hours the person is outdoors
    #: (an outdoor-type workout) and radiation, wind and a location exist; every other hour
    #: is shade (Bernard). Grade D: the export does not say when the person was outside
    liljegren_exposed_only: bool = True
    pressure_hpa: float = 1013.25  # [liljegren2008] sea-level default; pressure not stored
    #: [crampwatch_brief] 1.6 grade D: radiation stands for the hour starting at time_utc,
    #: so the sun position is taken at its middle
    sun_offset_s: float = 1800.0
    hi_caution_f: float = 80.0  # [nws_heat_bands] Caution
    hi_moderate_f: float = 91.0  # [osha_heat] moderate risk
    dehydration: DehydrationParams = field(default_factory=DehydrationParams)
    nutrients: NutrientParams = field(default_factory=NutrientParams)


_HEAD: tuple[str, ...] = (
    "participant_id",
    "local_date",
    # outdoor weather (ambient)
    "outdoor_weather_h",
    "outdoor_temp_max_c",
    "outdoor_hi_max_c",
    "outdoor_hi_ge_80f_h",
    "outdoor_hi_ge_91f_h",
    "outdoor_hi_caution_h",
    "outdoor_hi_extreme_caution_h",
    "outdoor_hi_danger_h",
    "outdoor_hi_extreme_danger_h",
    "outdoor_at_max_c",
    "outdoor_at_method",
    "outdoor_wbgt_max_c",
    "outdoor_wbgt_method",
    "exposed_hi_ge_80f_h",
    "exposed_hi_ge_91f_h",
    # indoor sensor
    "indoor_temp_max_c",
    "indoor_hi_max_c",
    "indoor_wbgt_max_c",
    "indoor_wbgt_method",
    "indoor_sensor_h",
    "indoor_at_max_c",
    "indoor_hi_ge_80f_h",
    "indoor_hi_ge_90f_h",
    # sweat and fluids
    "sweat_loss_ml",
    "sweat_loss_pct_bm",
    "fluid_need_ml",
    "fluid_logged",
    "fluid_log_status",
    "fluid_logged_ml",
    "fluid_balance_ml",
    "fluid_deficit_pct_bm",
    # activity
    "workouts_count",
    "workout_min",
    "outdoor_workout_min",
    "active_energy_kcal",
    "steps",
)
_TAIL: tuple[str, ...] = (
    "time_in_daylight_min",
    "blood_glucose_mean_mg_dl",
    "blood_glucose_max_mg_dl",
    "conditions",
    "medications",
    "cramp_drug_classes",
    "cramp_condition_classes",
    "body_mass_kg",
    "body_mass_baseline_kg",
    "body_mass_delta_pct",
    "next_morning_mass_change_pct",
    "resting_hr_bpm",
    "resting_hr_baseline_bpm",
    "resting_hr_delta_bpm",
    "resting_hr_z",
    "sleeping_hr_bpm",
    "sleeping_hr_baseline_bpm",
    "sleeping_hr_delta_bpm",
    "sleeping_hr_z",
    "hrv_sdnn_ms",
    "hrv_sdnn_baseline_ms",
    "hrv_sdnn_z",
    "dehydration_level",
    "dehydration_corroboration",
    "dehydration_confidence",
    "detector_version",
)
#: the output columns in the detector's order; their types are the ``daily_exposures`` table's
#: (:mod:`detectors.tables`, tested against the migrations)
DAILY_EXPOSURES_SCHEMA: dict[str, pl.DataType] = tables.columns(
    "daily_exposures",
    [
        *_HEAD,
        *(k for k in NUTRIENT_SCHEMA if k not in ("participant_id", "local_date")),
        *_TAIL,
    ],
)

_KEYS = ["participant_id", "local_date"]


# ------------------------------------------------------------------------------------------
# heat


def _max_with_method(
    frame: pl.DataFrame, value: str, method: str, out_value: str, out_method: str
) -> pl.DataFrame:
    """Per day: max of ``value`` and the ``method`` of the hour that gave it."""
    return (
        frame.filter(pl.col(value).is_not_null())
        .group_by(_KEYS)
        .agg(
            pl.col(value).max().alias(out_value),
            pl.col(method).get(pl.col(value).arg_max()).alias(out_method),
        )
    )


def _heat_daily(hourly: pl.DataFrame, ppl: pl.DataFrame, p: ExposureParams) -> pl.DataFrame:
    """Outdoor and indoor heat columns per participant-day from the internal hourly table.

    Its hours carry the local date the dehydration detector gives them (own records'
    offsets first, so a fixed-offset weather file does not shift the day), the hour's mean
    outdoor and indoor readings, wind, radiation and the weather's location.
    """
    agg = hourly.select(
        "participant_id",
        "hour_utc",
        "local_date",
        "outdoor_workout_s",
        "outdoor_temp_c",
        "outdoor_rh_pct",
        "indoor_temp_c",
        "indoor_rh_pct",
        wind_speed_m_s="outdoor_wind_m_s",
        shortwave_radiation_w_m2="outdoor_ssr_w_m2",
        latitude_deg="env_lat_deg",
        longitude_deg="env_lon_deg",
    )
    # location: the weather row's, else the participant's home
    if "home_lat_deg" in ppl.columns and "home_lon_deg" in ppl.columns:
        agg = agg.join(
            ppl.select("participant_id", "home_lat_deg", "home_lon_deg"),
            on="participant_id",
            how="left",
        ).with_columns(
            latitude_deg=pl.coalesce("latitude_deg", "home_lat_deg"),
            longitude_deg=pl.coalesce("longitude_deg", "home_lon_deg"),
        )
    out = agg.filter(
        pl.col("outdoor_temp_c").is_not_null() | pl.col("outdoor_rh_pct").is_not_null()
    )
    out = out.rename({"outdoor_temp_c": "temp_c", "outdoor_rh_pct": "rh_pct"})
    ind = agg.filter(
        pl.col("indoor_temp_c").is_not_null() | pl.col("indoor_rh_pct").is_not_null()
    ).rename({"indoor_temp_c": "temp_c", "indoor_rh_pct": "rh_pct"})

    # ---- outdoor
    t = out["temp_c"].fill_null(np.nan).to_numpy()
    rh = out["rh_pct"].fill_null(np.nan).to_numpy()
    ws = out["wind_speed_m_s"].fill_null(np.nan).to_numpy()
    hi_f = heat.heat_index_f(heat.c_to_f(t), rh)
    at = heat.apparent_temperature_c(t, rh, ws)
    at = np.where(np.isfinite(t) & np.isfinite(rh), at, np.nan)
    wbgt = np.full(t.shape, np.nan)
    method = np.full(t.shape, None, dtype=object)
    ss = out["shortwave_radiation_w_m2"].fill_null(np.nan).to_numpy()
    lat = out["latitude_deg"].fill_null(np.nan).to_numpy()
    lon = out["longitude_deg"].fill_null(np.nan).to_numpy()
    exposed = out["outdoor_workout_s"].fill_null(0.0).to_numpy() > 0
    lil = (
        np.isfinite(t) & np.isfinite(rh) & np.isfinite(ws) & np.isfinite(ss)
        & np.isfinite(lat) & np.isfinite(lon)
    )  # fmt: skip
    if p.liljegren_exposed_only:
        lil &= exposed
    if lil.any():
        secs = (
            out.filter(pl.Series(lil)).select(epoch_us("hour_utc"))[:, 0].to_numpy() / 1e6
            + p.sun_offset_s
        )
        cz, dist = heat.solar_geometry(secs, lat[lil], lon[lil])
        fdir = heat.direct_beam_fraction(ss[lil], cz, dist)
        w = heat.wbgt_liljegren_c(t[lil], rh[lil], ws[lil], ss[lil], cz, fdir, p.pressure_hpa)
        wbgt[lil] = w
        method[lil] = np.where(np.isfinite(w), "liljegren2008", None)
    rest = ~np.isfinite(wbgt) & np.isfinite(t) & np.isfinite(rh)
    if rest.any():
        wbgt[rest] = _shade_wbgt_for_daily_max(out.filter(pl.Series(rest)), t[rest], rh[rest])
        method[rest] = np.where(np.isfinite(wbgt[rest]), "bernard1999", None)
    out = out.with_columns(
        hi_f=pl.Series(hi_f).fill_nan(None),
        at_c=pl.Series(at).fill_nan(None),
        at_method=pl.when(pl.col("wind_speed_m_s").is_not_null())
        .then(pl.lit("steadman1994_shade"))
        .otherwise(pl.lit("steadman1994_shade_calm")),
        wbgt_c=pl.Series(wbgt).fill_nan(None),
        wbgt_method=pl.Series(method.tolist(), dtype=pl.String),
        exposed=pl.Series(exposed),
    )
    p80, p91 = p.hi_caution_f, p.hi_moderate_f
    edges = [edge for edge, _ in heat.NWS_HEAT_BANDS_F]

    def band_h(lo: float, hi_: float | None) -> pl.Expr:
        cond = pl.col("hi_f") >= lo
        if hi_ is not None:
            cond = cond & (pl.col("hi_f") < hi_)
        return cond.sum().cast(pl.Int32)

    od = out.group_by(_KEYS).agg(
        outdoor_weather_h=pl.col("hi_f").is_not_null().sum().cast(pl.Int32),
        outdoor_temp_max_c=pl.col("temp_c").max(),
        outdoor_hi_max_c=(pl.col("hi_f").max() - 32.0) * 5.0 / 9.0,
        outdoor_hi_ge_80f_h=(pl.col("hi_f") >= p80).sum().cast(pl.Int32),
        outdoor_hi_ge_91f_h=(pl.col("hi_f") >= p91).sum().cast(pl.Int32),
        outdoor_hi_caution_h=band_h(edges[0], edges[1]),
        outdoor_hi_extreme_caution_h=band_h(edges[1], edges[2]),
        outdoor_hi_danger_h=band_h(edges[2], edges[3]),
        outdoor_hi_extreme_danger_h=band_h(edges[3], None),
        exposed_hi_ge_80f_h=(pl.col("exposed") & (pl.col("hi_f") >= p80)).sum().cast(pl.Int32),
        exposed_hi_ge_91f_h=(pl.col("exposed") & (pl.col("hi_f") >= p91)).sum().cast(pl.Int32),
    )
    # days with weather rows but no usable T/RH: counts are unknown, not zero
    unknown = pl.col("outdoor_weather_h") == 0
    od = od.with_columns(
        [
            pl.when(unknown).then(None).otherwise(pl.col(c)).alias(c)
            for c in od.columns
            if c.endswith("_h") and c != "outdoor_weather_h"
        ]
    )
    od = od.join(
        _max_with_method(out, "at_c", "at_method", "outdoor_at_max_c", "outdoor_at_method"),
        on=_KEYS,
        how="left",
    ).join(
        _max_with_method(out, "wbgt_c", "wbgt_method", "outdoor_wbgt_max_c", "outdoor_wbgt_method"),
        on=_KEYS,
        how="left",
    )

    # ---- indoor
    ti = ind["temp_c"].fill_null(np.nan).to_numpy()
    rhi = ind["rh_pct"].fill_null(np.nan).to_numpy()
    if p.indoor_wbgt_method == "stull2011":
        wi = heat.wbgt_stull_c(ti, rhi)
    elif p.indoor_wbgt_method == "bernard1999":
        ok = np.isfinite(ti) & np.isfinite(rhi)
        wi = np.full(ti.shape, np.nan)
        if ok.any():
            wi[ok] = _shade_wbgt_for_daily_max(ind.filter(pl.Series(ok)), ti[ok], rhi[ok])
    else:
        raise ValueError(f"indoor_wbgt_method must be bernard1999 or stull2011, got "
                         f"{p.indoor_wbgt_method!r}")  # fmt: skip
    hi_f_in = heat.heat_index_f(heat.c_to_f(ti), rhi)
    # indoors the air is still: Steadman's shade AT with ws = 0 ([steadman1994] calm air)
    at_in = np.where(
        np.isfinite(ti) & np.isfinite(rhi), heat.apparent_temperature_c(ti, rhi), np.nan
    )
    ind = ind.with_columns(
        hi_c=pl.Series(heat.heat_index_c(ti, rhi)).fill_nan(None),
        hi_f=pl.Series(hi_f_in).fill_nan(None),
        at_c=pl.Series(at_in).fill_nan(None),
        wbgt_c=pl.Series(wi).fill_nan(None),
        wbgt_method=pl.lit(p.indoor_wbgt_method),
    )
    # [nws_heat_bands] Caution from 80 F (the same edge as the outdoor count), Extreme
    # caution from 90 F
    in80, in90 = p80, edges[1]
    idd = (
        ind.group_by(_KEYS)
        .agg(
            indoor_temp_max_c=pl.col("temp_c").max(),
            indoor_hi_max_c=pl.col("hi_c").max(),
            indoor_sensor_h=pl.col("hi_f").is_not_null().sum().cast(pl.Int32),
            indoor_at_max_c=pl.col("at_c").max(),
            indoor_hi_ge_80f_h=(pl.col("hi_f") >= in80).sum().cast(pl.Int32),
            indoor_hi_ge_90f_h=(pl.col("hi_f") >= in90).sum().cast(pl.Int32),
        )
        # a sensor day without usable T/RH: the hour counts are unknown, not zero
        .with_columns(
            [
                pl.when(pl.col("indoor_sensor_h") == 0).then(None).otherwise(pl.col(c)).alias(c)
                for c in ("indoor_hi_ge_80f_h", "indoor_hi_ge_90f_h")
            ]
        )
        .join(
            _max_with_method(
                ind, "wbgt_c", "wbgt_method", "indoor_wbgt_max_c", "indoor_wbgt_method"
            ),
            on=_KEYS,
            how="left",
        )
    )
    return od.join(idd, on=_KEYS, how="full", coalesce=True)


#: [stull2011] the Stull wet bulb is within about 1 C of the psychrometric wet bulb inside its
#: fitted range, so its WBGT is within 0.67 C of Bernard's; hours more than this below the
#: day's Stull maximum cannot hold the day's Bernard maximum and are not solved
_STULL_SCREEN_MARGIN_C = 1.5


def _shade_wbgt_for_daily_max(frame: pl.DataFrame, t: np.ndarray, rh: np.ndarray) -> np.ndarray:
    """Bernard WBGT for the hours that can hold their day's maximum; NaN elsewhere.

    Only the daily maximum is stored, and the root solve is the expensive step: hours whose
    Stull shade WBGT is more than 1.5 C below their day's Stull maximum are skipped (outside
    Stull's fitted range every hour is solved).
    """
    stull = heat.wbgt_stull_c(t, rh)
    dmax = (
        frame.select(*_KEYS, s=pl.Series(stull).fill_nan(None))
        .select(pl.col("s").max().over(_KEYS))[:, 0]
        .fill_null(np.nan)
        .to_numpy()
    )
    need = ~np.isfinite(stull) | ~np.isfinite(dmax) | (stull >= dmax - _STULL_SCREEN_MARGIN_C)
    out = np.full(t.shape, np.nan)
    if need.any():
        out[need] = heat.wbgt_bernard_c(t[need], rh[need])
    return out


# ------------------------------------------------------------------------------------------
# other daily columns


def _max_source_daily(smp: pl.DataFrame, metric: str, name: str) -> pl.DataFrame:
    """Daily total of an interval metric; per local hour of the record's start the largest
    source total is kept, so a phone and a watch counting the same walk are not added."""
    src = pl.col("source").cast(pl.String).fill_null("") if "source" in smp.columns else pl.lit("")
    f = smp.filter((pl.col("metric") == metric) & (pl.col("value") >= 0))
    if f.select(src.n_unique()).item() <= 1:  # one source: nothing to de-duplicate
        return (
            f.with_columns(local_date=local_date("start_utc", "utc_offset_s"))
            .group_by(_KEYS)
            .agg(pl.col("value").sum().alias(name))
        )
    return (
        f.with_columns(
            local_date=local_date("start_utc", "utc_offset_s"),
            hour_utc=pl.col("start_utc").dt.truncate("1h"),
            src=src,
        )
        .group_by(*_KEYS, "hour_utc", "src")
        .agg(v=pl.col("value").sum())
        .group_by(*_KEYS, "hour_utc")
        .agg(v=pl.col("v").max())
        .group_by(_KEYS)
        .agg(pl.col("v").sum().alias(name))
    )


def _workouts_daily(wk: pl.DataFrame, p: DehydrationParams) -> pl.DataFrame:
    dur = pl.coalesce(
        pl.col("duration_s"), (pl.col("end_utc") - pl.col("start_utc")).dt.total_seconds()
    ).cast(pl.Float64)
    return (
        wk.with_columns(
            local_date=local_date("start_utc", "utc_offset_s"),
            dur_s=dur,
            outdoor=pl.col("activity_type").is_in(list(p.outdoor_activity_types)),
        )
        .group_by(_KEYS)
        .agg(
            workouts_count=pl.len().cast(pl.Int32),
            workout_min=pl.col("dur_s").sum() / 60.0,
            outdoor_workout_min=pl.col("dur_s").filter("outdoor").sum() / 60.0,
        )
    )


def _participant_lists(ppl: pl.DataFrame) -> pl.DataFrame:
    rows = []
    for r in ppl.iter_rows(named=True):
        conds = r.get("conditions")
        meds = r.get("medications")
        rows.append(
            {
                "participant_id": r["participant_id"],
                "conditions": conds,
                "medications": meds,
                "cramp_drug_classes": None if meds is None else cramp_drug_classes(meds),
                "cramp_condition_classes": None
                if conds is None
                else cramp_condition_classes(conds),
            }
        )
    schema = {
        "participant_id": pl.String,
        "conditions": pl.List(pl.String),
        "medications": pl.List(pl.String),
        "cramp_drug_classes": pl.List(pl.String),
        "cramp_condition_classes": pl.List(pl.String),
    }
    return pl.DataFrame(rows, schema=schema).unique("participant_id")


# ------------------------------------------------------------------------------------------
# the table


def compute_daily_exposures(
    samples: pl.DataFrame,
    workouts: pl.DataFrame,
    environment: pl.DataFrame,
    participants: pl.DataFrame,
    sleep_segments: pl.DataFrame | None = None,
    *,
    params: ExposureParams = ExposureParams(),
) -> pl.DataFrame:
    """One row per participant and local day with the day's exposures (``daily_exposures``).

    Parameters
    ----------
    samples : polars.DataFrame
        Long samples (``SAMPLES_SCHEMA``, optional ``source``). Metrics used:
        ``active_energy_kcal``, ``steps``, ``water_ml``, ``body_mass_kg``,
        ``resting_heart_rate_bpm``, ``heart_rate_bpm`` (sleeping HR), ``hrv_sdnn_ms``,
        ``magnesium_mg``, ``calcium_mg``, ``potassium_mg``, ``vitamin_d_ug``,
        ``time_in_daylight_min``, ``blood_glucose_mg_dl``.
    workouts : polars.DataFrame
        ``WORKOUTS_SCHEMA``.
    environment : polars.DataFrame
        Hourly rows joined to participants (``ENVIRONMENT_SCHEMA``; ``setting`` outdoor or
        indoor); optional ``wind_speed_m_s``, ``shortwave_radiation_w_m2``,
        ``latitude_deg``, ``longitude_deg`` enable wind-aware AT and Liljegren WBGT.
    participants : polars.DataFrame
        ``PARTICIPANTS_SCHEMA``; optional ``conditions``, ``medications`` (lists of
        lower-case terms / generic names) and ``home_lat_deg``, ``home_lon_deg``.
    sleep_segments : polars.DataFrame, optional
        Accepted for interface symmetry with the cramp detector; the sleeping HR uses the
        00:00-06:00 window (see ``DehydrationParams.night_hr_*``) with or without it.
    params : ExposureParams
        Method choices and the parameters of the dehydration and nutrient modules.

    Returns
    -------
    polars.DataFrame
        ``DAILY_EXPOSURES_SCHEMA``, one row per (participant, local day) present in any input,
        sorted. Include ``pipeline.detect.DAILY_REACH_DAYS`` (64) days of history before the
        first day you want right and two days after the last (next-morning columns; the
        dehydration columns' body-water state reads the day after).

    Notes
    -----
    See ``docs/data-model.md`` (``daily_exposures``) for each column's unit and source and
    ``docs/detectors/dehydration.md`` for the methods.
    """
    p = params
    dp = p.dehydration
    smp = prepare(samples, "samples", SAMPLES_SCHEMA)
    wk = prepare(workouts, "workouts", WORKOUTS_SCHEMA)
    env = prepare(environment, "environment", ENVIRONMENT_SCHEMA)
    ppl = prepare(participants, "participants", PARTICIPANTS_SCHEMA)
    if sleep_segments is not None:
        prepare(sleep_segments, "sleep_segments", SLEEP_SEGMENTS_SCHEMA)  # validate only

    built = _build(smp, wk, env, ppl, dp)
    hourly, daily = built.hourly, built.daily
    if daily.height == 0:
        return pl.DataFrame(schema=DAILY_EXPOSURES_SCHEMA)
    days = daily.select(_KEYS)

    d = daily.select(
        *_KEYS,
        sweat_loss_ml="sweat_ml",
        sweat_loss_pct_bm="sweat_pct_bm",
        fluid_need_ml="need_ml",
        fluid_logged=pl.col("water_status") == "logged",
        fluid_log_status="water_status",
        fluid_logged_ml="water_ml",
        fluid_balance_ml=pl.col("intake_ml") - pl.col("need_ml"),
        fluid_deficit_pct_bm="deficit_pct_bm",
        active_energy_kcal="active_energy_kcal",
        next_morning_mass_change_pct="mass_change_pct",
        dehydration_level="level",
        dehydration_corroboration="corroboration",
        dehydration_confidence="confidence",
    )
    d = d.join(_heat_daily(hourly, ppl, p), on=_KEYS, how="left")

    # activity: a day with no activity data at all has unknown workouts, not zero
    wkd = _workouts_daily(wk, dp)
    steps = _max_source_daily(smp, "steps", "steps")
    d = d.join(wkd, on=_KEYS, how="left").join(steps, on=_KEYS, how="left")
    has_activity = (
        pl.col("active_energy_kcal").is_not_null()
        | pl.col("steps").is_not_null()
        | pl.col("workouts_count").is_not_null()
    )
    d = d.with_columns(
        [
            pl.when(has_activity).then(pl.col(c).fill_null(0)).alias(c)
            for c in ("workouts_count", "workout_min", "outdoor_workout_min")
        ]
    )

    # nutrients, daylight, glucose
    d = d.join(compute_nutrient_adequacy(smp, ppl, days, p.nutrients), on=_KEYS, how="left")
    d = d.join(
        _max_source_daily(smp, "time_in_daylight_min", "time_in_daylight_min"), on=_KEYS, how="left"
    )
    glu = (
        smp.filter((pl.col("metric") == "blood_glucose_mg_dl") & (pl.col("value") > 0))
        .with_columns(local_date=local_date("start_utc", "utc_offset_s"))
        .group_by(_KEYS)
        .agg(
            blood_glucose_mean_mg_dl=pl.col("value").mean(),
            blood_glucose_max_mg_dl=pl.col("value").max(),
        )
    )
    d = d.join(glu, on=_KEYS, how="left")

    # participant lists
    d = d.join(_participant_lists(ppl), on="participant_id", how="left")

    # body mass and physiology baselines
    mm = built.morning_mass.select(
        *_KEYS,
        body_mass_kg="morning_mass_kg",
        body_mass_baseline_kg="mass_baseline_kg",
        body_mass_delta_pct=(pl.col("morning_mass_kg") - pl.col("mass_baseline_kg"))
        / pl.col("mass_baseline_kg")
        * 100.0,
    )
    d = d.join(mm, on=_KEYS, how="left")
    phys = built.physiology
    day_phys = phys.select(
        *_KEYS,
        "resting_hr_bpm",
        "resting_hr_baseline_bpm",
        resting_hr_delta_bpm=pl.col("resting_hr_bpm") - pl.col("resting_hr_baseline_bpm"),
        resting_hr_z="resting_hr_z",
        hrv_sdnn_ms="hrv_sdnn_ms",
        hrv_sdnn_baseline_ms="hrv_sdnn_baseline_ms",
        hrv_sdnn_z="hrv_sdnn_z",
    )
    night_phys = phys.select(
        "participant_id",
        local_date=(pl.col("local_date") - pl.duration(days=1)).cast(pl.Date),
        sleeping_hr_bpm="sleeping_hr_bpm",
        sleeping_hr_baseline_bpm="sleeping_hr_baseline_bpm",
        sleeping_hr_delta_bpm=pl.col("sleeping_hr_bpm") - pl.col("sleeping_hr_baseline_bpm"),
        sleeping_hr_z="sleeping_hr_z",
    )
    d = d.join(day_phys, on=_KEYS, how="left").join(night_phys, on=_KEYS, how="left")
    d = d.with_columns(detector_version=pl.lit(EXPOSURES_VERSION))
    for c, t in DAILY_EXPOSURES_SCHEMA.items():
        if c not in d.columns:
            d = d.with_columns(pl.lit(None, dtype=t).alias(c))
    return d.select(list(DAILY_EXPOSURES_SCHEMA)).cast(DAILY_EXPOSURES_SCHEMA).sort(_KEYS)  # type: ignore[arg-type]
