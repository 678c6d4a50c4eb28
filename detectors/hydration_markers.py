"""Personal baselines and next-morning markers of the dehydration detector (brief 8.2):
trailing medians on a shared day grid, measured session loss, resting / sleeping HR and
HRV robust z, first-morning body mass."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
from numpy.lib.stride_tricks import sliding_window_view

from detectors.dehydration_params import DehydrationParams
from detectors.nights import local_date, local_datetime


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
