"""Main sleep period per participant and night from device-recorded sleep stages."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import polars as pl

from detectors.actigraphy import (
    METHOD_COLE_KRIPKE,
    ActigraphyParams,
    classify_minute_grid,
    segments_from_grid,
    sleep_periods_from_grid,
)
from detectors.frames import SLEEP_SEGMENTS_SCHEMA, prepare
from detectors.nights import night_of
from detectors.schema import SLEEP_PERIOD_SCHEMA, UTC_DT

DETECTOR_VERSION = "sleep-0.1"
METHOD = "device_stages"

#: stages that mean "asleep" (Apple AsleepCore is imported as ``light``; AsleepUnspecified as
#: ``asleep``)
ASLEEP_STAGES: tuple[str, ...] = ("asleep", "light", "deep", "rem")
#: stages only a staging device (watch, watchOS >= 9) writes; their presence marks a staged night
STAGED_STAGES: tuple[str, ...] = ("awake", "light", "deep", "rem")
KNOWN_STAGES: tuple[str, ...] = ("in_bed", "asleep", "awake", "light", "deep", "rem")

_US = 1_000_000
_ACTI_DEFAULT = ActigraphyParams()


@dataclass(frozen=True)
class SleepParams:
    """Parameters of :func:`detect_sleep_periods`; each field cites ``REFERENCES[key]``."""

    #: [vanhees2018] HDCZA merges sleep blocks separated by gaps < 60 min into one
    #: sleep-period-time window; reused here for gaps between recorded segments.
    merge_gap_s: float = 3600.0
    #: [vanhees2018] HDCZA keeps only blocks > 30 min; applied to the block's asleep time.
    min_asleep_s: float = 1800.0


def detect_sleep_periods(
    sleep_segments: pl.DataFrame,
    samples: pl.DataFrame | None = None,
    *,
    params: SleepParams = SleepParams(),
    method: str = METHOD_COLE_KRIPKE,
    actigraphy_params: ActigraphyParams = _ACTI_DEFAULT,
) -> pl.DataFrame:
    """Main sleep period per participant and night: device stages, else actigraphy.

    Without ``samples`` only device stages are used (see :func:`detect_stage_periods`).
    With ``samples``, every participant-night that has no device-stage period gets one from
    minute activity and heart rate (:func:`detectors.actigraphy.detect_sleep_periods_actigraphy`,
    ``method`` ``"cole1992"`` or ``"sadeh1994"``); the ``method`` column says which.
    Non-wear (no HR and flat activity for >= 60 min) is never sleep.
    """
    return detect_sleep(
        sleep_segments,
        samples,
        params=params,
        method=method,
        actigraphy_params=actigraphy_params,
    )[0]


def detect_sleep(
    sleep_segments: pl.DataFrame,
    samples: pl.DataFrame | None = None,
    *,
    params: SleepParams = SleepParams(),
    method: str = METHOD_COLE_KRIPKE,
    actigraphy_params: ActigraphyParams = _ACTI_DEFAULT,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Sleep periods (device stages, else actigraphy) and the segments a cramp detector needs.

    Returns ``(periods, segments)``: ``periods`` as :func:`detect_sleep_periods`;
    ``segments`` = the input ``sleep_segments`` plus, for each actigraphy night, ``asleep``
    and ``awake`` segments from the minute classification inside the period, with ``source``
    ``"actigraphy:<method>"``. Non-wear minutes get no segment (neither sleep nor wake), and
    neither do minutes that only the heart-rate criterion calls wake: a slow HR elevation
    is not movement, and reading it as a wake bout would make the cramp detector's HR
    evidence circular. Pass both to :func:`detectors.cramps.detect_nocturnal_cramps`.
    """
    seg = prepare(sleep_segments, "sleep_segments", SLEEP_SEGMENTS_SCHEMA)
    staged = detect_stage_periods(seg, params=params)
    if samples is None or samples.height == 0:
        return staged, seg
    # minute grids as numpy arrays: the periods and their segments need no minute frame
    grids = classify_minute_grid(samples, method=method, params=actigraphy_params)
    acti = sleep_periods_from_grid(grids, method=method, params=actigraphy_params)
    if acti.height == 0:
        return staged, seg
    acti = acti.join(
        staged.select("participant_id", "night_of"), on=["participant_id", "night_of"], how="anti"
    )
    # an actigraphy period must not overlap a device-stage period of a neighbouring night
    if staged.height and acti.height:
        ov = (
            acti.join(
                staged.select("participant_id", s2="start_utc", e2="end_utc"),
                on="participant_id",
                how="inner",
            )
            .filter((pl.col("start_utc") < pl.col("e2")) & (pl.col("end_utc") > pl.col("s2")))
            .select("participant_id", "night_of")
            .unique()
        )
        acti = acti.join(ov, on=["participant_id", "night_of"], how="anti")
    periods = pl.concat([staged, acti.select(staged.columns)]).sort("participant_id", "night_of")
    # the same segments as actigraphy_segments(classify_minutes(samples), acti)
    extra = segments_from_grid(grids, acti, source=f"actigraphy:{method}")
    if extra.height:
        if "source" not in seg.columns:
            seg = seg.with_columns(source=pl.lit("", pl.String))
        keep = [c for c in seg.columns if c in extra.columns]
        seg = pl.concat([seg, extra.select(keep)], how="diagonal_relaxed")
    return periods, seg


def actigraphy_segments(
    minutes: pl.DataFrame, periods: pl.DataFrame, *, method: str = METHOD_COLE_KRIPKE
) -> pl.DataFrame:
    """``asleep`` / ``awake`` sleep segments from a minute classification inside ``periods``.

    ``minutes`` is :func:`detectors.actigraphy.classify_minutes` output; runs of asleep
    minutes become ``asleep`` segments, runs of worn non-sleep minutes with data become
    ``awake`` when the activity proxy (not only the HR criterion) says wake; non-wear,
    HR-only wake and no-data minutes get none. ``source`` = ``"actigraphy:<method>"``.
    """
    schema = {**SLEEP_SEGMENTS_SCHEMA, "source": pl.String}
    if minutes.height == 0 or periods.height == 0:
        return pl.DataFrame(schema=schema)
    m = minutes.join_asof(
        periods.select("participant_id", "start_utc", p_end="end_utc").sort(
            "participant_id", "start_utc"
        ),
        left_on="minute_utc",
        right_on="start_utc",
        by="participant_id",
        strategy="backward",
        check_sortedness=False,  # sorted by start_utc within each participant
    ).filter(pl.col("start_utc").is_not_null() & (pl.col("minute_utc") < pl.col("p_end")))
    if m.height == 0:
        return pl.DataFrame(schema=schema)
    has_data = pl.col("counts_proxy").is_not_nan().fill_null(False) | pl.col("hr_bpm").is_not_null()
    m = m.with_columns(
        stage=pl.when(pl.col("sleep"))
        .then(pl.lit("asleep"))
        .when(~pl.col("nonwear") & ~pl.col("hr_wake") & has_data)
        .then(pl.lit("awake"))
        .otherwise(pl.lit(None, pl.String)),
    ).sort("participant_id", "minute_utc")
    m = m.with_columns(
        run=(
            (pl.col("stage") != pl.col("stage").shift(1)).fill_null(True)
            | (pl.col("minute_utc").diff() != pl.duration(minutes=1)).fill_null(True)
            | (pl.col("start_utc") != pl.col("start_utc").shift(1)).fill_null(True)
        )
        .cum_sum()
        .over("participant_id")
    ).filter(pl.col("stage").is_not_null())
    return (
        m.group_by("participant_id", "run")
        .agg(
            start_utc=pl.col("minute_utc").first(),
            end_utc=pl.col("minute_utc").last() + pl.duration(minutes=1),
            utc_offset_s=pl.col("utc_offset_s").first(),
            stage=pl.col("stage").first(),
        )
        .select(*SLEEP_SEGMENTS_SCHEMA, source=pl.lit(f"actigraphy:{method}"))
        .sort("participant_id", "start_utc")
        .cast(schema)  # type: ignore[arg-type]
    )


def detect_stage_periods(
    sleep_segments: pl.DataFrame, *, params: SleepParams = SleepParams()
) -> pl.DataFrame:
    """Main sleep period per participant and night from recorded sleep stages.

    Parameters
    ----------
    sleep_segments : polars.DataFrame
        ``participant_id`` (str), ``start_utc`` / ``end_utc`` (``Datetime("us", "UTC")``),
        ``utc_offset_s`` (Int32), ``stage`` in {in_bed, asleep, awake, light, deep, rem}.
        Any order; overlapping rows (phone ``in_bed`` under watch stages, two sources) are fine.
    params : SleepParams
        Merge gap and minimum asleep time.

    Returns
    -------
    polars.DataFrame
        ``SLEEP_PERIOD_SCHEMA``: one row per (participant_id, night_of), sorted by them;
        ``method="device_stages"``. Empty (same schema) when there is no sleep.

    Notes
    -----
    1. All segments of a participant (in_bed, asleep stages, awake), sorted by start, are
       chained into blocks; a new block starts when a segment begins more than
       ``merge_gap_s`` after the latest end seen so far. The 60 min gap and the 30 min
       minimum come from the HDCZA sleep-period-time algorithm [1]_ (which merges sleep
       blocks separated by < 60 min and keeps blocks > 30 min); applying them to device
       segments rather than accelerometer blocks is our adaptation.
    2. A block's sleep period runs from its first asleep-stage onset to its last asleep-stage
       end (the sleep-period-time window: in-bed time before sleep onset and after the final
       awakening is excluded). Blocks without any asleep stage are not sleep.
    3. ``asleep_s`` is the length of the *union* of asleep-stage intervals, so overlapping
       records (two devices, phone and watch) are never double counted.
    4. ``awake_s``: in a staged block (any awake/light/deep/rem row) it is the explicitly
       recorded ``awake`` time inside the period not also covered by an asleep stage; time
       with no record at all (watch off) is neither asleep nor awake. In an old-style block
       (only in_bed/asleep), the export marks awakenings as gaps between asleep segments,
       so ``awake_s`` = period length - ``asleep_s``.
    5. Each block is assigned to ``night_of`` its sleep onset, computed with the onset's own
       ``utc_offset_s`` (noon-to-noon local window). Block merging runs on UTC instants, so a
       DST change or a travel offset change in the middle of a night never splits it. Per
       participant and night the block with the most asleep time is the main period (a nap
       on the same noon-to-noon day loses); ties go to the earlier block. ``utc_offset_s``
       is the onset's offset.

    References
    ----------
    .. [1] van Hees VT et al. (2018). Estimating sleep parameters using an accelerometer
       without sleep diary. Sci Rep 8:12975. doi:10.1038/s41598-018-31266-z
    """
    seg = prepare(sleep_segments, "sleep_segments", SLEEP_SEGMENTS_SCHEMA)
    if "source" in seg.columns:  # synthesized actigraphy segments are not device stages
        seg = seg.filter(
            ~pl.col("source").cast(pl.String).fill_null("").str.starts_with("actigraphy:")
        )
    if seg.height == 0:
        return pl.DataFrame(schema=SLEEP_PERIOD_SCHEMA)
    unknown = seg.filter(~pl.col("stage").is_in(KNOWN_STAGES))["stage"].unique().to_list()
    if unknown:
        warnings.warn(
            f"sleep_segments: ignoring unknown stages {sorted(map(str, unknown))}", stacklevel=2
        )
    seg = (
        seg.filter(pl.col("stage").is_in(KNOWN_STAGES) & (pl.col("end_utc") >= pl.col("start_utc")))
        .select(
            "participant_id",
            "stage",
            "utc_offset_s",
            s=pl.col("start_utc").dt.epoch("us"),
            e=pl.col("end_utc").dt.epoch("us"),
        )
        .sort("participant_id", "s", "e")
    )
    if seg.height == 0:
        return pl.DataFrame(schema=SLEEP_PERIOD_SCHEMA)

    gap_us = int(params.merge_gap_s * _US)
    prev_end = pl.col("e").cum_max().shift(1).over("participant_id")
    seg = seg.with_columns(
        block=((prev_end.is_null()) | (pl.col("s") - prev_end > gap_us))
        .cast(pl.Int64)
        .cum_sum()
        .over("participant_id"),
        is_asleep=pl.col("stage").is_in(ASLEEP_STAGES),
    )
    keys = ["participant_id", "block"]

    asleep = seg.filter("is_asleep").sort(*keys, "s", "e")
    if asleep.height == 0:
        return pl.DataFrame(schema=SLEEP_PERIOD_SCHEMA)
    blocks = (
        asleep.with_columns(_union_contrib("s", "e", keys).alias("contrib"))
        .group_by(keys)
        .agg(
            onset=pl.col("s").first(),
            offset_end=pl.col("e").max(),
            utc_offset_s=pl.col("utc_offset_s").first(),
            asleep_us=pl.col("contrib").sum(),
        )
    )
    staged = seg.group_by(keys).agg(staged=pl.col("stage").is_in(STAGED_STAGES).any())
    blocks = blocks.join(staged, on=keys, how="left")

    # union of (awake or asleep) clipped to the period, for the staged awake_s
    wake_or_sleep = (
        seg.filter(pl.col("is_asleep") | (pl.col("stage") == "awake"))
        .join(blocks.select(*keys, "onset", "offset_end"), on=keys, how="inner")
        .with_columns(
            s=pl.max_horizontal("s", "onset"),
            e=pl.min_horizontal("e", "offset_end"),
        )
        .filter(pl.col("e") > pl.col("s"))
        .sort(*keys, "s", "e")
    )
    ws = (
        wake_or_sleep.with_columns(_union_contrib("s", "e", keys).alias("contrib"))
        .group_by(keys)
        .agg(ws_us=pl.col("contrib").sum())
    )
    blocks = blocks.join(ws, on=keys, how="left").with_columns(
        period_us=pl.col("offset_end") - pl.col("onset"),
    )
    blocks = blocks.with_columns(
        awake_us=pl.when(pl.col("staged"))
        .then((pl.col("ws_us").fill_null(0) - pl.col("asleep_us")).clip(lower_bound=0))
        .otherwise((pl.col("period_us") - pl.col("asleep_us")).clip(lower_bound=0)),
        start_utc=pl.from_epoch("onset", time_unit="us").dt.replace_time_zone("UTC"),
        end_utc=pl.from_epoch("offset_end", time_unit="us").dt.replace_time_zone("UTC"),
    ).with_columns(night_of=night_of("start_utc", "utc_offset_s"))

    min_us = int(params.min_asleep_s * _US)
    main = (
        blocks.filter(pl.col("asleep_us") >= min_us)
        .sort(
            "participant_id",
            "night_of",
            pl.col("asleep_us"),
            "onset",
            descending=[False, False, True, False],
        )
        .group_by("participant_id", "night_of", maintain_order=True)
        .first()
    )
    return (
        main.select(
            "participant_id",
            "night_of",
            pl.col("start_utc").cast(UTC_DT),
            pl.col("end_utc").cast(UTC_DT),
            pl.col("utc_offset_s").cast(pl.Int32),
            asleep_s=pl.col("asleep_us").cast(pl.Float64) / _US,
            awake_s=pl.col("awake_us").cast(pl.Float64) / _US,
            method=pl.lit(METHOD),
            detector_version=pl.lit(DETECTOR_VERSION),
        )
        .sort("participant_id", "night_of")
        .cast(SLEEP_PERIOD_SCHEMA)  # type: ignore[arg-type]
    )


def _union_contrib(s: str, e: str, keys: list[str]) -> pl.Expr:
    """Per-row length each interval adds to the union of its group's intervals.

    Rows must be sorted by ``keys`` then ``s``: an interval contributes the part of it that
    lies after the latest end of the earlier intervals of its group.
    """
    prev = pl.col(e).cum_max().shift(1).over(keys)
    start = pl.max_horizontal(pl.col(s), prev.fill_null(pl.col(s)))
    return (pl.col(e) - start).clip(lower_bound=0)
