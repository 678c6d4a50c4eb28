"""Hourly exposure and sweat table of the dehydration detector, and the day bounds and
anthropometrics it rests on (design brief sections 1.6, 2.1 and 8.1).

:func:`build_hourly_table` (public, re-exported by :mod:`detectors.dehydration`) gives one
row per participant and UTC hour: outdoor heat index and band, exposure setting, active
energy, workout time, metabolic rate and sweat loss.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from detectors.dehydration_params import DEFAULT_PARAMS, DehydrationParams
from detectors.frames import (
    ENVIRONMENT_SCHEMA,
    PARTICIPANTS_SCHEMA,
    SAMPLES_SCHEMA,
    WORKOUTS_SCHEMA,
    prepare,
)
from detectors.heat import heat_index_c, nws_heat_band_expr
from detectors.nights import local_date, local_midnight_utc
from detectors.schema import UTC_DT
from detectors.sweat import (
    bmr_mifflin_kcal_d,
    body_surface_area_m2,
    evaporation_floor_g_m2_h,
    metabolic_rate_w_m2,
    sweat_rate_pw_g_m2_h,
)

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
    params: DehydrationParams = DEFAULT_PARAMS,
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

    # MET-minutes above rest per hour, from minute METs or else Fitbit intensity levels: the
    # active energy of exports that give total energy and activity levels but no active
    # energy (Fitabase)
    met_h = _met_excess_hourly(smp, p)

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
        .join(met_h, on=keys, how="left")
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
        # [ainsworth2011] 1 MET = 1 kcal/kg/h: MET-minutes above rest x mass / 60, only for
        # hours without active-energy samples or workout energy
        active_energy_kcal=pl.coalesce(
            pl.max_horizontal("ae_kcal", "wk_kcal"),
            pl.col("met_excess_min") * pl.col("body_mass_kg") / 60.0,
        ),
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
    sweat, m = _hourly_sweat(h, p)
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


def _longest_gap_expr(p: DehydrationParams) -> pl.Expr:
    """Longest stretch (h) without a water entry inside the local waking window (agg context)."""
    pts = pl.col("hour_local").clip(p.waking_start_h, p.waking_end_h).sort()
    return pl.max_horizontal(
        pts.first() - float(p.waking_start_h),
        pts.diff().max(),
        float(p.waking_end_h) - pts.last(),
    )


def _sweat_rate_ml_h(
    m: np.ndarray, ta: np.ndarray, rh: np.ndarray, bsa: np.ndarray, p: DehydrationParams
) -> np.ndarray:
    """Sweat rate (mL/h) at metabolic rate ``m`` (W/m2): PW ([gonzalez2009]), at least the
    efficiency-1 heat-balance bound when ``sweat_heat_balance_floor``, clamped to
    [0, ``sweat_max_ml_h``]."""
    kw = {
        "clo": p.clo,
        "im": p.im,
        "skin_temp_c": p.skin_temp_c,
        "external_work_w_m2": p.external_work_w_m2,
    }
    g = sweat_rate_pw_g_m2_h(m, ta, rh, cool_below_c=p.pw_cool_below_c, **kw)
    if p.sweat_heat_balance_floor:
        g = np.maximum(
            g, evaporation_floor_g_m2_h(m, ta, rh, latent_heat_j_g=p.latent_heat_j_g, **kw)
        )
    return np.clip(g * bsa, 0.0, p.sweat_max_ml_h)


def _hourly_sweat(h: pl.DataFrame, p: DehydrationParams) -> tuple[np.ndarray, np.ndarray]:
    """Sweat (mL) and the hour-mean metabolic rate (W/m2) of each hour.

    The sweat equations are rates per hour of exposure, affine in M, so an hour is split into
    its workout part and the rest ([crampwatch_brief] 2.1, grade D): the workout's minutes
    run at ``M_w = BMR/24 + kcal_w / t_w`` (the workout's own active energy in the hour, else
    all of the hour's, over the workout time ``t_w`` in h, at most ``workout_max_met``), the
    rest of the hour at the remaining active energy over the remaining time. Each part
    sweats only at >= ``sweat_min_met`` (brief 2.1). Averaging a workout over the clock hours
    it touches instead (dehydration-0.3) ran the equations at a lower M and lost the sweat of
    every hour that fell under 2 MET (a 40-min 450 kcal run at 30 C across two hours: 0.58 L
    averaged, 0.62 L split; light sessions lose all of it). Hours with unknown M stay null.
    """
    bmr = h["bmr_kcal_d"].to_numpy()
    bsa = h["bsa_m2"].to_numpy()
    ae = h["active_energy_kcal"].fill_null(np.nan).to_numpy()
    ta = h["ta_used_c"].to_numpy()
    rh = h["rh_used_pct"].to_numpy()
    m = metabolic_rate_w_m2(bmr, ae, bsa)
    sweat = np.where(np.isfinite(m), 0.0, np.nan)
    gate = p.sweat_min_met * p.met_w_m2
    if p.sweat_split_workout:
        t_w = np.clip(h["workout_s"].to_numpy() / 3600.0, 0.0, 1.0)
        wk = h["wk_kcal"].fill_null(np.nan).to_numpy()
        kcal_w = np.where(t_w > 0, np.where(np.isfinite(wk), wk, ae), 0.0)
        kcal_w = np.where(np.isfinite(kcal_w), np.minimum(kcal_w, np.nan_to_num(ae)), np.nan)
    else:
        t_w = np.zeros(h.height)
        kcal_w = np.zeros(h.height)
    has_w = (t_w > 0) & np.isfinite(kcal_w)
    if has_w.any():
        i = np.flatnonzero(has_w)
        m_w = np.minimum(
            metabolic_rate_w_m2(bmr[i], kcal_w[i] / t_w[i], bsa[i]), p.workout_max_met * p.met_w_m2
        )
        ok = m_w >= gate
        i = i[ok]
        sweat[i] += _sweat_rate_ml_h(m_w[ok], ta[i], rh[i], bsa[i], p) * t_w[i]
    t_r = 1.0 - np.where(has_w, t_w, 0.0)
    kcal_r = np.clip(ae - np.where(has_w, kcal_w, 0.0), 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        m_r = metabolic_rate_w_m2(bmr, kcal_r / t_r, bsa)
    rest = (t_r > 0) & (m_r >= gate)
    if rest.any():
        i = np.flatnonzero(rest)
        sweat[i] += _sweat_rate_ml_h(m_r[i], ta[i], rh[i], bsa[i], p) * t_r[i]
    return sweat, m


def _met_excess_hourly(smp: pl.DataFrame, p: DehydrationParams) -> pl.LazyFrame:
    """MET-minutes above rest (``sum(MET - 1)`` over the minutes) per participant and UTC
    hour, from ``met`` samples, or from ``intensity_level`` samples where a participant has
    no ``met`` in that hour (levels 0-3 at :attr:`DehydrationParams.intensity_level_met`).

    Only participants without any ``active_energy_kcal`` sample get a value, so an export
    that has active energy is never double counted.
    """
    keys = ["participant_id", "hour_utc"]
    has_ae = smp.filter(pl.col("metric") == "active_energy_kcal")["participant_id"].unique()
    src = smp.filter(
        pl.col("metric").is_in(["met", "intensity_level"])
        & ~pl.col("participant_id").is_in(has_ae.implode())
    )
    levels = p.intensity_level_met
    met = (
        pl.when(pl.col("metric") == "met")
        .then(pl.col("value"))
        .otherwise(
            pl.col("value")
            .round()
            .cast(pl.Int64, strict=False)
            .replace_strict(dict(enumerate(levels)), default=None, return_dtype=pl.Float64)
        )
    )
    minutes = (pl.col("end_utc") - pl.col("start_utc")).dt.total_seconds() / 60.0
    return (
        src.lazy()
        .with_columns(
            hour_utc=pl.col("start_utc").dt.truncate(_HOUR),
            excess=(met - 1.0).clip(lower_bound=0.0) * minutes.clip(lower_bound=1.0),
            is_met=pl.col("metric") == "met",
        )
        .group_by(*keys, "is_met")
        .agg(pl.col("excess").sum())
        # minute METs beat levels for the same hour
        .sort("is_met", descending=True)
        .group_by(keys)
        .agg(met_excess_min=pl.col("excess").first())
    )
