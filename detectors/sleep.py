"""Main sleep period per participant and night from device-recorded sleep stages."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import polars as pl

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


@dataclass(frozen=True)
class SleepParams:
    """Parameters of :func:`detect_sleep_periods`; each field cites ``REFERENCES[key]``."""

    #: [vanhees2018] HDCZA merges sleep blocks separated by gaps < 60 min into one
    #: sleep-period-time window; reused here for gaps between recorded segments.
    merge_gap_s: float = 3600.0
    #: [vanhees2018] HDCZA keeps only blocks > 30 min; applied to the block's asleep time.
    min_asleep_s: float = 1800.0


def detect_sleep_periods(
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
