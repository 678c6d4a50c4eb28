"""Fitabase research exports of Fitbit data (FORMAT ``fitabase_csv``).

Fitabase (fitabase.com) exports a study's Fitbit data as one CSV per data type, every
participant in one file: the ``*_merged.csv`` family, best known from the "FitBit Fitness
Tracker Data" set (Furberg et al. 2016, doi:10.5281/zenodo.53894). A file is recognised by its
header line alone (the name may be anything); UTF-8, LF or CRLF, no quoting.

Layouts read
------------
================================================  ==================================  =========
header                                            becomes                             source
================================================  ==================================  =========
``Id,Time,Value`` (heartrate_seconds)             heart_rate_bpm, point samples        seconds
``Id,ActivityMinute,Steps``                       steps per minute                     minute
``Id,ActivityMinute,Intensity``                   intensity_level (0-3) per minute     minute
``Id,ActivityMinute,Calories``                    energy_kcal per minute               minute
``Id,ActivityMinute,METs``                        met per minute (file value / 10)     minute
``Id,ActivityHour,Steps00,...,Steps59``           steps per minute (wide layout)       minute
  (also ``Intensity00..59``, ``Calories00..59``,  intensity_level / energy_kcal / met  minute
  ``METs00..59``)
``Id,date,value,logId`` (minuteSleep)             sleep_segments, one per minute       minute
``Id,ActivityHour,StepTotal``                     steps per hour                       hourly
``Id,ActivityHour,Calories``                      energy_kcal per hour                 hourly
``Id,ActivityHour,TotalIntensity,AverageIntensity``  intensity_level, hourly mean      hourly
``Id,ActivityDate,TotalSteps,...,Calories``       steps, distance_m, energy_kcal,      daily
  (dailyActivity)                                 sedentary/lightly/fairly/very_active_min
``Id,ActivityDay,StepTotal`` / ``...,Calories``   steps / energy_kcal per day          daily
``Id,ActivityDay,SedentaryMinutes,...``           the four *_active_min / sedentary_min daily
  (dailyIntensities)
``Id,SleepDay,TotalSleepRecords,...``             sleep_asleep_min, time_in_bed_min    daily
``Id,Date,WeightKg,WeightPounds,Fat,BMI,...``     body_mass_kg                         log
================================================  ==================================  =========

Columns not listed (distances per intensity band, ``TrackerDistance``,
``LoggedActivitiesDistance``, ``AverageIntensity``, ``TotalSleepRecords``, ``Fat``, ``BMI``,
``IsManualReport``, ``LogId``, minuteSleep ``logId``) are not stored.

Participants, time, units
-------------------------
* ``participant_id`` is ``fitabase-<Id>`` (the Fitbit user id Fitabase writes); the file names
  its own participants, so ``--participant`` is not used. Each participant gets the import's
  time zone as ``participants.tz``.
* Times are local wall-clock ``M/D/YYYY h:mm:ss AM/PM`` (dates ``M/D/YYYY``) without an offset
  (weightLogInfo's ``LogId`` is that same wall-clock time read as UTC epoch milliseconds,
  which confirms it). They are read in the import's IANA zone (``--timezone``, else the
  stored participant's); without one the import fails with a message asking for
  ``--timezone``. A local time that occurs twice (the autumn hour) is taken as its *first*
  occurrence; a local time that does not exist (the spring gap) is rejected with a reason.
  Days (daily files, ``SleepDay``) run from local midnight to the next local midnight (23 or
  25 h on DST days; where midnight itself is skipped, from the first instant of the day).
  Conversion goes through the distinct local minutes of the file (zoneinfo rules via
  :func:`pipeline.importers.journal_csv.local_to_utc_us`), so 2.5 M rows cost one small
  lookup. ``utc_offset_s`` is the zone's offset at the start instant.
* Intervals: seconds heart rate and weight are points (start = end); minute rows
  ``[t, t + 60 s)``; hourly ``[t, t + 1 h)``; daily as above. ``sleepDay``'s day is Fitbit's
  date of sleep (the day the sleep ended), so its interval does not contain the night itself.
* Units: Fitbit calories are *total* energy (basal + active): metric ``energy_kcal``, never
  ``active_energy_kcal``. Fitabase stores METs x 10 (``10`` = 1.0 MET): ``met`` = value / 10,
  the file value kept as ``original_value`` with ``original_unit='MET_x10'``. Distances are
  kilometres (``TotalDistance`` 8.5 for 13 162 steps = 0.65 m per step) -> ``distance_m``.
  The hourly ``intensity_level`` is the mean level over the hour, ``TotalIntensity / 60``
  (``original_unit='level_min'``, the sum of the minute levels). Weight: ``WeightKg``, or
  ``WeightPounds`` converted (``original_unit='lb'``) when the kg column is empty.
* Minute sleep: ``1`` asleep -> ``asleep``; ``2`` restless -> ``awake`` with source
  ``fitabase:minute:restless``; ``3`` awake -> ``awake``. Fitbit itself does not count
  restless minutes as asleep (its ``TotalMinutesAsleep`` counts only value 1), and the cramp
  detector treats restless like wake; the source keeps the original value recoverable.
* ``source`` is ``fitabase:<resolution>``: ``seconds``, ``minute``, ``hourly``, ``daily``,
  ``log``. The same signal at several resolutions (minute and hourly steps, daily totals) is
  stored once per resolution, so a consumer must pick one (the finest available) rather than
  add or take the maximum across sources. The wide and the narrow layout of the same minutes
  give identical rows, so importing both adds nothing the second time.

Rejected rows (``rejected_rows``, 1-based line number, the raw line): a bad ``Id`` (not
digits) or time, a year outside 1900-2100, a local time in a DST gap, a non-numeric or
implausible value (ranges: :data:`RANGES`, the shared
:data:`pipeline.normalize.PLAUSIBLE_RANGES` plus the Fitbit metrics), a sleep value other
than 1-3, the wrong number of fields, and a row with the same participant, metric and time as
an earlier line but a different value. Rows of a multi-value line (daily activity, the 60
minutes of a wide row) are checked one by one: one bad cell is rejected, naming its column,
and the rest of the line lands. Empty cells in the weight log's optional columns are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from detectors import tables
from pipeline.importers import Batch, ImportContext, ImportFormatError
from pipeline.importers._common import (
    US,
    blank_line,
    first_line_fields,
    local_to_utc_us,
    reasons,
    rejected_batch,
    split_csv,
    year_of_us,
    zone,
)
from pipeline.normalize import FITBIT_RANGES, PLAUSIBLE_RANGES, UNIT_FACTORS  # noqa: F401

FORMAT = "fitabase_csv"
SOURCE = "fitabase"
TIME_FORMAT = "%m/%d/%Y %I:%M:%S %p"  # 4/12/2016 7:21:00 AM (chrono accepts unpadded fields)
DATE_FORMAT = "%m/%d/%Y"
YEAR_RANGE = (1900, 2100)
BATCH_ROWS = 500_000
MINUTE_US = 60 * US
HOUR_US = 3600 * US
DAY_US = 86_400 * US

#: plausible ranges (the Fitbit metrics' are in ``normalize.FITBIT_RANGES``)
RANGES: dict[str, tuple[float, float]] = PLAUSIBLE_RANGES

_UTC = pl.Datetime("us", "UTC")
SAMPLES_SCHEMA = tables.rows("samples")
SLEEP_SCHEMA = tables.rows("sleep_segments")
PARTICIPANTS_SCHEMA = tables.columns("participants", ["participant_id", "tz"])

#: minuteSleep value -> (stage, source suffix)
SLEEP_VALUES: dict[str, tuple[str, str]] = {
    "1": ("asleep", ""),
    "2": ("awake", ":restless"),
    "3": ("awake", ""),
}


@dataclass(frozen=True)
class Value:
    """One value column of a layout: file column -> metric (``value = file * scale``)."""

    column: str
    metric: str
    unit: str
    scale: float = 1.0
    original_unit: str | None = None  # None: the file is already in ``unit``
    optional: bool = False  # empty cells skipped instead of rejected
    alt: Value | None = None  # read this column instead when ``column`` is empty


@dataclass(frozen=True)
class Layout:
    name: str
    header: tuple[str, ...]
    time_column: str
    resolution: str  # seconds | minute | hourly | daily | log
    values: tuple[Value, ...] = ()
    wide_prefix: str = ""  # wide minute layout: value columns <prefix>00 .. <prefix>59

    @property
    def daily(self) -> bool:
        return self.resolution == "daily"

    @property
    def source(self) -> str:
        return f"{SOURCE}:{self.resolution}"


def _v(column: str, metric: str, unit: str, **kw) -> Value:
    return Value(column, metric, unit, **kw)


STEPS = ("steps", "count")
KCAL = ("energy_kcal", "kcal")
LEVEL = ("intensity_level", "level")
MET = ("met", "MET")
_ACTIVE_MIN = (
    ("SedentaryMinutes", "sedentary_min"),
    ("LightlyActiveMinutes", "lightly_active_min"),
    ("FairlyActiveMinutes", "fairly_active_min"),
    ("VeryActiveMinutes", "very_active_min"),
)
_MET_SCALE = {"scale": 0.1, "original_unit": "MET_x10"}
_WIDE = {
    "Steps": (STEPS, {}),
    "Intensity": (LEVEL, {}),
    "Calories": (KCAL, {}),
    "METs": (MET, _MET_SCALE),
}

LAYOUTS: tuple[Layout, ...] = (
    Layout(
        "heartrate_seconds",
        ("Id", "Time", "Value"),
        "Time",
        "seconds",
        (_v("Value", "heart_rate_bpm", "count/min"),),
    ),
    Layout(
        "minute_steps",
        ("Id", "ActivityMinute", "Steps"),
        "ActivityMinute",
        "minute",
        (_v("Steps", *STEPS),),
    ),
    Layout(
        "minute_intensities",
        ("Id", "ActivityMinute", "Intensity"),
        "ActivityMinute",
        "minute",
        (_v("Intensity", *LEVEL),),
    ),
    Layout(
        "minute_calories",
        ("Id", "ActivityMinute", "Calories"),
        "ActivityMinute",
        "minute",
        (_v("Calories", *KCAL),),
    ),
    Layout(
        "minute_mets",
        ("Id", "ActivityMinute", "METs"),
        "ActivityMinute",
        "minute",
        (_v("METs", *MET, **_MET_SCALE),),
    ),
    Layout("minute_sleep", ("Id", "date", "value", "logId"), "date", "minute"),
    Layout(
        "hourly_steps",
        ("Id", "ActivityHour", "StepTotal"),
        "ActivityHour",
        "hourly",
        (_v("StepTotal", *STEPS),),
    ),
    Layout(
        "hourly_calories",
        ("Id", "ActivityHour", "Calories"),
        "ActivityHour",
        "hourly",
        (_v("Calories", *KCAL),),
    ),
    Layout(
        "hourly_intensities",
        ("Id", "ActivityHour", "TotalIntensity", "AverageIntensity"),
        "ActivityHour",
        "hourly",
        (_v("TotalIntensity", *LEVEL, scale=1 / 60, original_unit="level_min"),),
    ),
    Layout(
        "daily_activity",
        (
            "Id",
            "ActivityDate",
            "TotalSteps",
            "TotalDistance",
            "TrackerDistance",
            "LoggedActivitiesDistance",
            "VeryActiveDistance",
            "ModeratelyActiveDistance",
            "LightActiveDistance",
            "SedentaryActiveDistance",
            "VeryActiveMinutes",
            "FairlyActiveMinutes",
            "LightlyActiveMinutes",
            "SedentaryMinutes",
            "Calories",
        ),
        "ActivityDate",
        "daily",
        (
            _v("TotalSteps", *STEPS),
            _v(
                "TotalDistance",
                "distance_m",
                "m",
                scale=UNIT_FACTORS[("km", "m")],
                original_unit="km",
            ),
            *(_v(col, metric, "min") for col, metric in _ACTIVE_MIN),
            _v("Calories", *KCAL),
        ),
    ),
    Layout(
        "daily_calories",
        ("Id", "ActivityDay", "Calories"),
        "ActivityDay",
        "daily",
        (_v("Calories", *KCAL),),
    ),
    Layout(
        "daily_steps",
        ("Id", "ActivityDay", "StepTotal"),
        "ActivityDay",
        "daily",
        (_v("StepTotal", *STEPS),),
    ),
    Layout(
        "daily_intensities",
        (
            "Id",
            "ActivityDay",
            "SedentaryMinutes",
            "LightlyActiveMinutes",
            "FairlyActiveMinutes",
            "VeryActiveMinutes",
            "SedentaryActiveDistance",
            "LightActiveDistance",
            "ModeratelyActiveDistance",
            "VeryActiveDistance",
        ),
        "ActivityDay",
        "daily",
        tuple(_v(col, metric, "min") for col, metric in _ACTIVE_MIN),
    ),
    Layout(
        "sleep_day",
        ("Id", "SleepDay", "TotalSleepRecords", "TotalMinutesAsleep", "TotalTimeInBed"),
        "SleepDay",
        "daily",
        (
            _v("TotalMinutesAsleep", "sleep_asleep_min", "min"),
            _v("TotalTimeInBed", "time_in_bed_min", "min"),
        ),
    ),
    Layout(
        "weight_log",
        ("Id", "Date", "WeightKg", "WeightPounds", "Fat", "BMI", "IsManualReport", "LogId"),
        "Date",
        "log",
        (
            _v(
                "WeightKg",
                "body_mass_kg",
                "kg",
                alt=_v(
                    "WeightPounds",
                    "body_mass_kg",
                    "kg",
                    scale=UNIT_FACTORS[("lb", "kg")],
                    original_unit="lb",
                ),
            ),
        ),
    ),
)


def _wide_layouts() -> dict[tuple[str, ...], Layout]:
    out = {}
    for prefix, ((metric, unit), kw) in _WIDE.items():
        cols = tuple(f"{prefix}{i:02d}" for i in range(60))
        out[("Id", "ActivityHour", *cols)] = Layout(
            f"minute_{prefix.lower()}_wide",
            ("Id", "ActivityHour", *cols),
            "ActivityHour",
            "minute",
            tuple(_v(c, metric, unit, **kw) for c in cols),
            wide_prefix=prefix,
        )
    return out


_BY_HEADER: dict[tuple[str, ...], Layout] = {
    **{layout.header: layout for layout in LAYOUTS},
    **_wide_layouts(),
}


def layout_for(header: tuple[str, ...] | None) -> Layout | None:
    """The layout whose header is exactly ``header`` (fields trimmed), or None."""
    return _BY_HEADER.get(header) if header else None


def sniff(head: bytes, name: str) -> bool:
    """True when the first line is the header of a Fitabase layout."""
    return layout_for(first_line_fields(head)) is not None


# --------------------------------------------------------------------------------------------
# shared with the Fitbit Takeout importer: zone, local -> UTC, range checks, frames
# --------------------------------------------------------------------------------------------


def require_zone(tz: str | None, display: str, what: str) -> ZoneInfo:
    """The participant's zone, or an ImportFormatError telling the user to pass --timezone."""
    if tz is None or not str(tz).strip():
        raise ImportFormatError(
            f"{display}: {what} times are local wall-clock times without a UTC offset, and no "
            "time zone is known for this import; run it with --timezone <IANA zone> (e.g. "
            "--timezone America/New_York), or store the participant's tz first"
        )
    zi = zone(tz)
    if zi is None:
        raise ImportFormatError(
            f"{display}: unknown time zone {tz!r}; give an IANA name such "
            "as America/New_York or Europe/Berlin"
        )
    return zi


def local_to_utc(local_us: pl.Series, zi: ZoneInfo) -> pl.DataFrame:
    """Local wall-clock µs (read as if UTC) -> ``_utc_us``, ``_offset_s``, ``_gap``.

    Converts only the distinct local minutes (offsets change on minute boundaries in every
    zone since 1900) and applies each minute's shift to its rows. First occurrence for
    ambiguous times (``fold=0``); ``_gap`` is True for times that do not exist, whose
    ``_utc_us`` is then read with the offset before the change (the first instant after it).
    """
    minute = (local_us // MINUTE_US) * MINUTE_US
    uniq = minute.drop_nulls().unique()
    utc_m, off_m = local_to_utc_us(uniq, zi)
    table = pl.DataFrame({"_m": uniq, "_shift": uniq - utc_m, "_offset_s": off_m}).with_columns(
        _gap=pl.col("_shift") != pl.col("_offset_s") * US
    )
    frame = pl.DataFrame({"_t": local_us, "_m": minute}).join(
        table, on="_m", how="left", maintain_order="left"
    )
    return frame.select(_utc_us=pl.col("_t") - pl.col("_shift"), _offset_s="_offset_s", _gap="_gap")


def range_reason(metric: pl.Expr | str, value: pl.Expr) -> pl.Expr:
    """``"<metric>: value <v> outside plausible range [lo, hi]"`` or null.

    ``metric`` is a metric name, or a String column for frames mixing metrics.
    """
    if isinstance(metric, str):
        lo, hi = RANGES[metric]
        return pl.when((value < lo) | (value > hi)).then(
            pl.format(f"{metric}: value {{}} outside plausible range [{lo:g}, {hi:g}]", value)
        )
    metrics = list(RANGES)
    lo = metric.replace_strict(metrics, [RANGES[m][0] for m in metrics], return_dtype=pl.Float64)
    hi = metric.replace_strict(metrics, [RANGES[m][1] for m in metrics], return_dtype=pl.Float64)
    text = metric.replace_strict(
        metrics, [f"[{RANGES[m][0]:g}, {RANGES[m][1]:g}]" for m in metrics], return_dtype=pl.String
    )
    return pl.when((value < lo) | (value > hi)).then(
        pl.format("{}: value {} outside plausible range {}", metric, value, text)
    )


def to_utc_datetime(us: pl.Expr) -> pl.Expr:
    return pl.from_epoch(us, time_unit="us").dt.replace_time_zone("UTC")


def local_text(us: pl.Expr) -> pl.Expr:
    return pl.from_epoch(us, time_unit="us").dt.strftime("%Y-%m-%d %H:%M:%S")


def gap_reason(label: pl.Expr | str, local_us: pl.Expr, zi: ZoneInfo) -> pl.Expr:
    label = pl.lit(label) if isinstance(label, str) else label
    return pl.format(
        f"{{}}: local time {{}} does not exist in {zi.key} (skipped when clocks "
        "went forward for daylight saving time)",
        label,
        local_text(local_us),
    )


def batches(table: str, frame: pl.DataFrame) -> Iterator[Batch]:
    for i in range(0, max(frame.height, 1), BATCH_ROWS):
        yield Batch(table, frame.slice(i, BATCH_ROWS))


def conflicts(
    frame: pl.DataFrame, key: list[str], value: str, what: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split rows repeating an earlier line's ``key`` with a different ``value`` off as rejects.

    Exact repeats stay (the driver counts them as duplicates). Returns ``(kept, rejected)``,
    rejects with ``line_no``, ``raw``, ``reason``.
    """
    empty = pl.DataFrame(schema={"line_no": pl.Int64, "raw": pl.String, "reason": pl.String})
    repeated = frame.select(pl.struct(key).is_duplicated()).to_series()
    if not repeated.any():  # the usual case: one hash pass, no window
        return frame, empty
    frame = frame.with_row_index("_row")  # a wide line holds 60 rows: line_no is not unique
    f = frame.filter(repeated).with_columns(
        _first_line=pl.col("line_no").first().over(key),
        _first_value=pl.col(value).first().over(key),
    )
    bad = f.filter(
        (pl.col("_row") != pl.col("_row").first().over(key))
        & (pl.col(value) != pl.col("_first_value"))
    ).select(
        "_row",
        "line_no",
        "raw",
        reason=pl.format(
            f"same {what} as line {{}} with a different value ({{}} there, {{}} here)",
            pl.col("_first_line"),
            pl.col("_first_value"),
            pl.col(value),
        ),
    )
    kept = frame.filter(~pl.col("_row").is_in(bad["_row"].implode())).drop("_row")
    return kept, bad.drop("_row")


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------


def split_fields(
    lines: pl.DataFrame, columns: tuple[str, ...]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """:func:`~pipeline.importers.journal_csv.split_csv`, vectorised for unquoted files.

    Fitabase never quotes; a file with any ``"`` goes through ``split_csv`` unchanged. Same
    outputs (records with ``line_no``, ``raw`` and trimmed String fields, empty -> null; bad
    lines with the same reason).
    """
    if lines["text"].str.contains('"', literal=True).any():
        return split_csv(lines, columns)
    n = len(columns)
    f = lines.with_columns(_n=pl.col("text").str.count_matches(",", literal=True) + 1)
    bad = f.filter(pl.col("_n") != n).select(
        "line_no",
        reason=pl.format(f"expected {n} fields, found {{}}", pl.col("_n")),
        raw=pl.col("text"),
    )
    good = f.filter(pl.col("_n") == n)
    parts = good["text"].str.split_exact(",", n - 1).struct.unnest()
    records = pl.concat([good.select("line_no", raw="text"), parts], how="horizontal").select(
        "line_no",
        "raw",
        *[
            pl.col(c).str.strip_chars().replace("", None).alias(name)
            for c, name in zip(parts.columns, columns, strict=True)
        ],
    )
    return records, bad


def _parse_time(layout: Layout) -> pl.Expr:
    raw = pl.col(layout.time_column)
    dt = raw.str.to_datetime(TIME_FORMAT, strict=False, time_unit="us")
    if layout.daily:  # dates, or date-times at midnight (sleepDay)
        dt = pl.coalesce(
            raw.str.to_datetime(DATE_FORMAT, strict=False, time_unit="us"), dt.dt.truncate("1d")
        )
    return dt.dt.epoch("us")


def _lines(records: pl.DataFrame, layout: Layout) -> pl.DataFrame:
    """Per line: ``participant_id``, ``_local_us`` and the line-level ``_reason``."""
    example = "4/12/2016" if layout.daily else "4/12/2016 7:21:00 AM"
    t = layout.time_column
    f = records.with_columns(_local_us=_parse_time(layout)).with_columns(
        _year=year_of_us(pl.col("_local_us"))
    )
    return f.with_columns(
        participant_id=pl.format(f"{SOURCE}-{{}}", pl.col("Id")),
        _reason=reasons(
            pl.when(pl.col("Id").is_null())
            .then(pl.lit("Id: empty"))
            .when(~pl.col("Id").str.contains(r"^\d+$"))
            .then(pl.format("Id: {} is not a Fitabase participant id (digits)", pl.col("Id")))
            .when(pl.col("Id").str.len_chars() > 20)  # Fitbit ids have 10 digits
            .then(pl.format("Id: an id of {} digits (at most 20)", pl.col("Id").str.len_chars())),
            pl.when(pl.col(t).is_null())
            .then(pl.lit(f"{t}: empty"))
            .when(pl.col("_local_us").is_null())
            .then(pl.format(f"{t}: {{}} is not a time like {example}", pl.col(t)))
            .when(~pl.col("_year").is_between(*YEAR_RANGE))
            .then(
                pl.format(
                    f"{t}: year {{}} outside {YEAR_RANGE[0]}-{YEAR_RANGE[1]}", pl.col("_year")
                )
            ),
        ),
    ).drop("_year")


def _cells(ok: pl.DataFrame, layout: Layout) -> pl.DataFrame:
    """One row per (line, value column): ``column``, ``metric``, ``unit``, ``_raw``, ..."""
    keep = ["line_no", "raw", "participant_id", "_local_us"]
    if layout.wide_prefix:  # the 60 columns of one metric -> 60 minute rows, one unpivot
        v = layout.values[0]
        return ok.unpivot(
            index=keep,
            on=[x.column for x in layout.values],
            variable_name="column",
            value_name="_raw",
        ).select(
            *keep,
            "column",
            metric=pl.lit(v.metric),
            unit=pl.lit(v.unit),
            _raw="_raw",
            _scale=pl.lit(v.scale, pl.Float64),
            original_unit=pl.lit(v.original_unit or v.unit),
            _optional=pl.lit(False),
            _minute=pl.col("column").str.slice(len(layout.wide_prefix)).cast(pl.Int64),
        )
    parts = []
    for v in layout.values:
        col, scale, orig = pl.col(v.column), pl.lit(v.scale), pl.lit(v.original_unit or v.unit)
        label = pl.lit(v.column)
        if v.alt is not None:  # e.g. WeightPounds when WeightKg is empty
            use_alt = col.is_null() & pl.col(v.alt.column).is_not_null()
            label = pl.when(use_alt).then(pl.lit(v.alt.column)).otherwise(label)
            scale = pl.when(use_alt).then(pl.lit(v.alt.scale)).otherwise(scale)
            orig = pl.when(use_alt).then(pl.lit(v.alt.original_unit or v.alt.unit)).otherwise(orig)
            col = pl.coalesce(col, pl.col(v.alt.column))
        parts.append(
            ok.select(
                *keep,
                column=label,
                metric=pl.lit(v.metric),
                unit=pl.lit(v.unit),
                _raw=col,
                _scale=scale.cast(pl.Float64),
                original_unit=orig,
                _optional=pl.lit(v.optional),
                _minute=pl.lit(0, pl.Int64),
            )
        )
    return pl.concat(parts)


def _samples(
    ok: pl.DataFrame, layout: Layout, zi: ZoneInfo
) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    cells = (
        _cells(ok, layout)
        .with_columns(
            _local_us=pl.col("_local_us") + pl.col("_minute") * MINUTE_US,
            _num=pl.col("_raw").cast(pl.Float64, strict=False),
        )
        .filter(~(pl.col("_raw").is_null() & pl.col("_optional")))
    )
    cells = cells.with_columns(value=pl.col("_num") * pl.col("_scale"))
    cells = cells.with_columns(
        _reason=pl.when(pl.col("_raw").is_null())
        .then(pl.format("{}: empty", pl.col("column")))
        .when(pl.col("_num").is_null() | pl.col("_num").is_nan())
        .then(pl.format("{}: {} is not a number", pl.col("column"), pl.col("_raw")))
        .otherwise(
            pl.format("{}: {}", pl.col("column"), range_reason(pl.col("metric"), pl.col("value")))
        )
    )
    bad_values = cells.filter(pl.col("_reason").is_not_null())
    cells = cells.filter(pl.col("_reason").is_null())

    start = local_to_utc(cells["_local_us"], zi)
    cells = cells.with_columns(
        _utc_us=start["_utc_us"], utc_offset_s=start["_offset_s"], _gap=start["_gap"]
    )
    if layout.daily:  # a day: local midnight to the next local midnight
        end = local_to_utc(cells["_local_us"] + DAY_US, zi)
        cells = cells.with_columns(_end_us=end["_utc_us"])
        gaps = cells.clear()
    else:
        step = {"seconds": 0, "log": 0, "minute": MINUTE_US, "hourly": HOUR_US}[layout.resolution]
        label = (
            pl.format(f"{layout.time_column} ({{}})", pl.col("column"))
            if layout.wide_prefix
            else pl.lit(layout.time_column)
        )
        gaps = cells.filter(pl.col("_gap")).with_columns(
            _reason=gap_reason(label, pl.col("_local_us"), zi)
        )
        cells = cells.filter(~pl.col("_gap")).with_columns(_end_us=pl.col("_utc_us") + step)

    cells, clashes = conflicts(
        cells, ["participant_id", "metric", "_utc_us"], "value", "participant, metric and time"
    )
    samples = cells.select(
        "participant_id",
        "metric",
        start_utc=to_utc_datetime(pl.col("_utc_us")),
        end_utc=to_utc_datetime(pl.col("_end_us")),
        utc_offset_s="utc_offset_s",
        value="value",
        unit="unit",
        source=pl.lit(layout.source),
        device=pl.lit(""),
        original_value="_num",
        original_unit="original_unit",
    ).cast(SAMPLES_SCHEMA)
    rejects = [
        bad_values.select("line_no", "raw", reason="_reason"),
        gaps.select("line_no", "raw", reason="_reason"),
        clashes,
    ]
    return samples, rejects


def _sleep(ok: pl.DataFrame, zi: ZoneInfo) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    values = list(SLEEP_VALUES)
    f = ok.with_columns(_value=pl.col("value").str.strip_chars())
    bad_value = f.filter(~pl.col("_value").is_in(values) | pl.col("_value").is_null()).select(
        "line_no",
        "raw",
        reason=pl.format(
            "value: {} is not a Fitabase sleep value (1 asleep, 2 restless, 3 awake)",
            pl.col("value").fill_null("empty"),
        ),
    )
    f = f.filter(pl.col("_value").is_in(values))
    start = local_to_utc(f["_local_us"], zi)
    f = f.with_columns(
        _utc_us=start["_utc_us"], utc_offset_s=start["_offset_s"], _gap=start["_gap"]
    )
    gaps = f.filter(pl.col("_gap")).select(
        "line_no", "raw", reason=gap_reason("date", pl.col("_local_us"), zi)
    )
    f = f.filter(~pl.col("_gap")).with_columns(
        stage=pl.col("_value").replace_strict(values, [SLEEP_VALUES[v][0] for v in values]),
        source=pl.lit(f"{SOURCE}:minute")
        + pl.col("_value").replace_strict(values, [SLEEP_VALUES[v][1] for v in values]),
    )
    f, clashes = conflicts(f, ["participant_id", "_utc_us"], "_value", "participant and minute")
    segments = f.select(
        "participant_id",
        start_utc=to_utc_datetime(pl.col("_utc_us")),
        end_utc=to_utc_datetime(pl.col("_utc_us") + MINUTE_US),
        utc_offset_s="utc_offset_s",
        stage="stage",
        source="source",
        device=pl.lit(""),
    ).cast(SLEEP_SCHEMA)
    return segments, [bad_value, gaps, clashes]


def iter_line_chunks(
    path: Path, display: str, chunk_bytes: int, *, start: int = 0, first_line_no: int = 1
) -> Iterator[pl.DataFrame]:
    """The lines of a UTF-8 file from byte ``start`` in frames of about ``chunk_bytes``.

    Frames have ``line_no`` (1-based, counting from ``first_line_no``) and ``text`` (no CR/LF),
    like :func:`~pipeline.importers.journal_csv.read_lines`, without holding the whole file.
    Lines are split in polars (no Python string per line). Raises ImportFormatError for bytes
    that are not UTF-8, naming the file offset.
    """
    line_no, offset, rest = first_line_no, start, b""
    with open(path, "rb") as fh:
        fh.seek(start)
        while True:
            block = fh.read(chunk_bytes)
            data = rest + block
            if not data:
                return
            cut = len(data) if not block else data.rfind(b"\n") + 1
            if cut == 0:  # no line end yet: read on
                rest = data
                continue
            piece, rest = data[:cut], data[cut:]
            try:
                text = piece.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ImportFormatError(
                    f"{display}: not UTF-8 text (undecodable byte at offset "
                    f"{offset + exc.start}); save the file as UTF-8 CSV"
                ) from exc
            lines = pl.Series("text", [text.removesuffix("\n")]).str.split("\n").explode()
            yield pl.DataFrame(
                {
                    "line_no": pl.int_range(line_no, line_no + lines.len(), eager=True),
                    "text": lines.str.strip_suffix("\r"),
                }
            )
            line_no += lines.len()
            offset += len(piece)
            if not block:
                return


def _read_header(path: Path, display: str) -> tuple[tuple[str, ...], str, int, int]:
    """First non-blank line: (fields, text, its line number, byte offset after it)."""
    with open(path, "rb") as fh:
        line_no = 0
        while line := fh.readline(1 << 20):
            line_no += 1
            text = line.decode("utf-8", "replace")
            if line_no == 1:
                text = text.removeprefix("\ufeff")
            if text.strip():
                fields = tuple(f.strip().strip('"').strip() for f in text.strip().split(","))
                return fields, text.rstrip("\r\n"), line_no, fh.tell()
    raise ImportFormatError(f"{display}: the file is empty")


#: bytes of lines read at a time: about 450 000 seconds-heart-rate lines; a wide minute
#: line becomes 60 rows, so wide files are read in 1/16 of that
CHUNK_BYTES = 16 << 20


def read(path: Path, ctx: ImportContext) -> Iterator[Batch]:
    """Yield ``samples`` or ``sleep_segments`` chunk by chunk, then ``participants`` and
    ``rejected_rows``.

    The file is read in chunks of lines (:data:`CHUNK_BYTES`), so memory stays bounded for the
    90 MB heart-rate file. Conflicting repeats are found within a chunk; an exact or
    conflicting repeat in another chunk is left to the natural key (first row wins, counted as
    a duplicate).
    """
    display = ctx.display_path or str(path)
    header, text, header_line, start = _read_header(Path(path), display)
    layout = layout_for(header)
    if layout is None:
        raise ImportFormatError(
            f"{display}:{header_line}: not a Fitabase export: unknown header {text[:200]!r}"
        )
    zi = require_zone(ctx.tz, display, f"Fitabase ({layout.name})")
    chunk_bytes = CHUNK_BYTES // 16 if layout.wide_prefix else CHUNK_BYTES
    pids: set[str] = set()
    bad: list[pl.DataFrame] = []
    for lines in iter_line_chunks(
        Path(path), display, chunk_bytes, start=start, first_line_no=header_line + 1
    ):
        records, bad_lines = split_fields(lines.filter(~blank_line()), header)
        parsed = _lines(records, layout)
        bad += [
            bad_lines,
            parsed.filter(pl.col("_reason").is_not_null()).select(
                "line_no", "raw", reason="_reason"
            ),
        ]
        ok = parsed.filter(pl.col("_reason").is_null())
        del lines, records, parsed
        pids.update(ok["participant_id"].unique().to_list())
        if layout.name == "minute_sleep":
            rows, rejects = _sleep(ok, zi)
            yield from batches("sleep_segments", rows)
        else:
            rows, rejects = _samples(ok, layout, zi)
            yield from batches("samples", rows)
        bad += rejects
    yield Batch(
        "participants",
        pl.DataFrame(
            {"participant_id": sorted(pids), "tz": [zi.key] * len(pids)}, schema=PARTICIPANTS_SCHEMA
        ),
    )
    rejects = rejected_batch(bad)
    if rejects is not None:
        yield rejects
