"""Fitbit account data as JSON (FORMAT ``fitbit_takeout_json``).

Google Takeout (``Takeout/Fitbit/Global Export Data/``) and the older Fitbit "Export your
account archive" (``MyFitbitData/<name>/user-site-export/``) write the same JSON files, one
per data type and period (``heart_rate-2024-03-01.json``, ``sleep-2024-03-01.json``, ...).
Unzip the archive and import the folder: each file is one import. A Takeout zip itself is not
read (it holds thousands of files).

The files carry no participant id: import with ``--participant ID`` (or from
``<inbox>/<ID>/``); without one the import fails naming the file. They also carry no zone or
offset, so ``--timezone`` (or the participant's stored ``tz``) is required too.

What is read, recognised from the JSON content
----------------------------------------------
================================  ===========================================  ===============
file (content)                    becomes                                      time stamps
================================  ===========================================  ===============
heart_rate (``value.bpm``)        heart_rate_bpm point samples; ``confidence``  UTC
                                  is not stored
resting_heart_rate                resting_heart_rate_bpm for the local day      local date
(``value.value``/``error``)
sleep (logs with                  sleep_segments: ``in_bed`` over the log,     local
``dateOfSleep``)                  ``levels.data`` stages, ``levels.shortData``
                                  wakes; samples sleep_asleep_min and
                                  time_in_bed_min over the log
weight (logs with ``weight``)     body_mass_kg point samples                   local
================================  ===========================================  ===============

Plain ``[{"dateTime": ..., "value": "12"}]`` series look the same for every data type, so for
these the file name says which one it is (``steps-*.json`` or ``steps.json``):

=====================================  ==========================================  ==========
name                                   becomes                                     time stamps
=====================================  ==========================================  ==========
steps                                  steps per minute                            UTC
calories                               energy_kcal per minute (total energy)       UTC
sedentary_minutes, lightly_active_      sedentary_min, lightly_active_min,          local date
minutes, moderately_active_minutes,    fairly_active_min, very_active_min
very_active_minutes
=====================================  ==========================================  ==========

Other files (distance, altitude, exercise, heart-rate zones, ...) are not recognised and are
recorded as ``skipped``. Distance is left out on purpose: its unit is not documented and the
only real sample (minute values 850-4340) fits centimetres but proves nothing.

Time stamps
-----------
``dateTime`` is ``MM/DD/YY HH:MM:SS``. Intraday series (heart rate, steps, calories) are read as
UTC: the brief states it for heart rate, and users' scripts convert these files with a fixed
shift of their own offset (one subtracts 8 h), which a local-time file would not need. No real
intraday file exists in the shared data to check it; the Fitbit Web API, by contrast, answers
in the user's local time. Sleep logs are local wall-clock time
(``2018-02-01T22:36:00.000``; documented by users comparing bedtimes across travel), as are
weight logs (``date`` ``MM/DD/YY`` + ``time``, like the Web API's weight log) and the daily
files (dates). Local times are read in the import's zone like every crampwatch importer: the
first of two equal local times, and a time in the spring gap rejected. ``utc_offset_s`` is the
zone's offset at each instant (for UTC stamps too).

Units and stages
----------------
* ``weight`` is in the account's display unit, kg or lb, and the file does not say which.
  ``bmi`` (kg/m², unit-free) does: ``weight / bmi`` is the height squared when the weight is
  in kg, 2.2 times more when it is in lb. A log is read as kg when that implied height is below
  :data:`KG_LB_SPLIT_HEIGHT_M` (2.07 m), else as lb; so kg logs of people taller than 2.07 m
  and lb logs of people shorter than 1.39 m would be misread. Logs without ``bmi`` take the
  unit of the file's other logs; if none has a ``bmi`` they are rejected with the reason.
  ``original_value`` / ``original_unit`` keep the logged number and the unit chosen;
  ``device`` is the log's ``source`` (``Aria``, ``API``, ``Web``).
* Stages: ``deep``, ``light``, ``rem`` as they are; ``wake`` and ``awake`` -> ``awake``;
  classic ``asleep`` -> ``asleep``; classic ``restless`` -> ``awake`` with source
  ``fitbit-takeout:restless`` (Fitbit does not count restless minutes as asleep:
  ``minutesAsleep`` + restless + awake = ``timeInBed``). ``levels.shortData`` (wakes of up to
  3 min that Fitbit lays over the stages) -> ``awake`` with source
  ``fitbit-takeout:short_wake``; they overlap the stage segments.
* ``source`` names the resolution like the Fitabase importer: ``fitbit-takeout:seconds``
  (heart rate), ``:minute``, ``:daily``, ``:log`` (weight, sleep-log totals); sleep segments
  ``fitbit-takeout`` (plus the two detail sources above).

``record_no`` of a rejected row is the 1-based position of the record in the file's top-level
array (a sleep log's stage entries are reported with their log's position, the reason naming
``levels.data[i]``); ``raw`` is the record as JSON.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from pipeline.importers import Batch, ImportContext, ImportFormatError, rejected
from pipeline.importers._common import US, decode_head, load_json, utc_offsets_s, year_of_us
from pipeline.importers.fitabase import (
    DAY_US,
    MINUTE_US,
    SAMPLES_SCHEMA,
    SLEEP_SCHEMA,
    YEAR_RANGE,
    batches,
    conflicts,
    gap_reason,
    local_to_utc,
    range_reason,
    require_zone,
    to_utc_datetime,
)
from pipeline.normalize import UNIT_FACTORS

FORMAT = "fitbit_takeout_json"
SOURCE = "fitbit-takeout"
DATETIME_FORMAT = "%m/%d/%y %H:%M:%S"  # "12/31/17 16:42:00"
SLEEP_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%.f"  # "2018-02-01T22:36:00.000"
#: implied height (sqrt(weight / bmi), as if weight were kg) above which a weight is in lb
KG_LB_SPLIT_HEIGHT_M = 2.07
LB_KG = UNIT_FACTORS[("lb", "kg")]

#: name stem -> (metric, unit, resolution); for series whose content does not tell them apart
SERIES: dict[str, tuple[str, str, str]] = {
    "steps": ("steps", "count", "minute"),
    "calories": ("energy_kcal", "kcal", "minute"),
    "sedentary_minutes": ("sedentary_min", "min", "daily"),
    "lightly_active_minutes": ("lightly_active_min", "min", "daily"),
    "moderately_active_minutes": ("fairly_active_min", "min", "daily"),
    "very_active_minutes": ("very_active_min", "min", "daily"),
}
#: Fitbit sleep level -> (stage, source suffix)
LEVELS: dict[str, tuple[str, str]] = {
    "deep": ("deep", ""),
    "light": ("light", ""),
    "rem": ("rem", ""),
    "wake": ("awake", ""),
    "asleep": ("asleep", ""),
    "awake": ("awake", ""),
    "restless": ("awake", ":restless"),
}

_DT = r'"dateTime"\s*:\s*"\d{2}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}"'
_STEM_RE = re.compile(r"^(?P<stem>[a-z_]+?)(?:-\d{4}-\d{2}-\d{2})?\.json$")


def _stem(name: str) -> str | None:
    m = _STEM_RE.match(Path(name).name.lower())
    return m.group("stem") if m else None


def _kind(text: str, name: str) -> str | None:
    """heart_rate | resting_heart_rate | sleep | weight | a SERIES stem | None."""
    if not text.lstrip().startswith("["):
        return None
    has = lambda pattern: re.search(pattern, text) is not None  # noqa: E731
    if has(_DT) and has(r'"bpm"\s*:'):
        return "heart_rate"
    if has(_DT) and has(r'"error"\s*:') and has(r'"date"\s*:'):
        return "resting_heart_rate"
    if has(r'"logId"\s*:') and has(r'"dateOfSleep"\s*:') and has(r'"startTime"\s*:'):
        return "sleep"
    if (
        has(r'"logId"\s*:')
        and has(r'"weight"\s*:\s*-?[\d.]')
        and has(r'"date"\s*:\s*"\d{2}/\d{2}/\d{2}"')
    ):
        return "weight"
    stem = _stem(name)
    if stem in SERIES and has(_DT) and has(r'"value"\s*:\s*"-?[\d.]+"'):
        return stem
    return None


def sniff(head: bytes, name: str) -> bool:
    """True for a Fitbit export JSON file of a type listed in the module docstring."""
    return _kind(decode_head(head), name) is not None


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _frame(records: list, fields: dict[str, object]) -> pl.DataFrame:
    """``line_no`` (1-based position) and one column per field; a field is a key or a path."""
    cols: dict[str, list] = {name: [] for name in fields}
    for rec in records:
        for name, path in fields.items():
            v = rec
            for key in path if isinstance(path, tuple) else (path,):
                v = v.get(key) if isinstance(v, dict) else None
            cols[name].append(v)
    data = {
        "line_no": list(range(1, len(records) + 1)),
        **{k: [None if v is None else str(v) for v in vs] for k, vs in cols.items()},
    }
    return pl.DataFrame(data, schema={"line_no": pl.Int64, **dict.fromkeys(fields, pl.String)})


def _raw(records: list, frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``raw`` (the record as compact JSON) to a frame of rejects with ``line_no``."""
    return frame.with_columns(
        raw=pl.Series(
            [json.dumps(records[i - 1], separators=(",", ":")) for i in frame["line_no"]],
            dtype=pl.String,
        )
    )


def _series_frame(data: bytes, records: list | None, value_path) -> pl.DataFrame | None:
    """``line_no``, ``dateTime``, ``_raw`` (String) of a ``[{"dateTime", "value"}]`` array.

    From ``records`` when given; otherwise polars reads the JSON text directly (no Python
    object per record: a year of daily heart-rate files is ~6 M records), returning None
    when the records do not fit the expected shape (the caller then parses with ``json``).
    """
    if records is not None:
        return _frame(records, {"dateTime": "dateTime", "_raw": value_path})
    nested = isinstance(value_path, tuple)
    value = pl.Struct({value_path[1]: pl.Float64}) if nested else pl.String
    try:
        f = pl.read_json(io.BytesIO(data), schema={"dateTime": pl.String, "value": value})
    except (pl.exceptions.PolarsError, ValueError):
        return None
    raw = pl.col("value").struct.field(value_path[1]) if nested else pl.col("value")
    return f.select(
        line_no=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
        dateTime="dateTime",
        _raw=raw.cast(pl.String),
    )


def _time_reason(col: str, us: str, example: str) -> pl.Expr:
    return (
        pl.when(pl.col(col).is_null())
        .then(pl.lit(f"{col}: missing"))
        .when(pl.col(us).is_null())
        .then(pl.format(f"{col}: {{}} is not a time like {example}", pl.col(col)))
        .when(~year_of_us(pl.col(us)).is_between(*YEAR_RANGE))
        .then(
            pl.format(f"{col}: {{}} outside the years {YEAR_RANGE[0]}-{YEAR_RANGE[1]}", pl.col(col))
        )
    )


def _value_reason(label: str, raw: str, value: str, metric: str) -> pl.Expr:
    num = pl.col(raw).cast(pl.Float64, strict=False)
    return (
        pl.when(pl.col(raw).is_null())
        .then(pl.lit(f"{label}: missing"))
        .when(num.is_null() | num.is_nan())
        .then(pl.format(f"{label}: {{}} is not a number", pl.col(raw)))
        .otherwise(pl.lit(f"{label}: ") + range_reason(metric, pl.col(value)))
    )


def _localise(
    f: pl.DataFrame,
    zi: ZoneInfo,
    *,
    gap_ok: bool = False,
    label: str = "time",
    col: str = "_local_us",
    out: str = "_utc_us",
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Local µs ``col`` -> ``out`` UTC µs (+ ``utc_offset_s`` when ``out`` is ``_utc_us``).

    Returns ``(ok, gaps)``; gap rows carry a ``reason`` (unless ``gap_ok``).
    """
    conv = local_to_utc(f[col], zi)
    f = f.with_columns(**{out: conv["_utc_us"]}, _gap=conv["_gap"])
    if out == "_utc_us":
        f = f.with_columns(utc_offset_s=conv["_offset_s"])
    if gap_ok:
        return f.drop("_gap"), f.clear().select("line_no", reason=pl.lit("", pl.String))
    gaps = f.filter(pl.col("_gap")).select("line_no", reason=gap_reason(label, pl.col(col), zi))
    return f.filter(~pl.col("_gap")).drop("_gap"), gaps


def _samples(
    f: pl.DataFrame, metric: str, unit: str, source: str, device: pl.Expr | None = None
) -> pl.DataFrame:
    """Rows with ``_utc_us``, ``_end_us``, ``utc_offset_s``, ``value``, ``_orig``,
    ``_orig_unit`` -> SAMPLES_SCHEMA."""
    return f.select(
        participant_id=pl.lit(None, pl.String),
        metric=pl.lit(metric),
        start_utc=to_utc_datetime(pl.col("_utc_us")),
        end_utc=to_utc_datetime(pl.col("_end_us")),
        utc_offset_s="utc_offset_s",
        value="value",
        unit=pl.lit(unit),
        source=pl.lit(source),
        device=device if device is not None else pl.lit(""),
        original_value="_orig",
        original_unit="_orig_unit",
    ).cast(SAMPLES_SCHEMA)


# --------------------------------------------------------------------------------------------
# the kinds
# --------------------------------------------------------------------------------------------


def _utc_series(f: pl.DataFrame, zi: ZoneInfo, metric: str, unit: str, resolution: str, label: str):
    """Intraday series stamped in UTC: heart rate (points), steps / calories (minutes).

    ``f``: :func:`_series_frame` (``line_no``, ``dateTime``, ``_raw``).
    """
    f = f.with_columns(
        _utc_us=pl.col("dateTime")
        .str.to_datetime(DATETIME_FORMAT, strict=False, time_unit="us")
        .dt.epoch("us")
    )
    f = f.with_columns(value=pl.col("_raw").cast(pl.Float64, strict=False))
    f = f.with_columns(
        reason=pl.coalesce(
            _time_reason("dateTime", "_utc_us", "12/31/17 16:42:00"),
            _value_reason(label, "_raw", "value", metric),
        )
    )
    bad = f.filter(pl.col("reason").is_not_null()).select("line_no", "reason")
    f = f.filter(pl.col("reason").is_null())
    step = MINUTE_US if resolution == "minute" else 0
    f = f.with_columns(
        utc_offset_s=utc_offsets_s(f["_utc_us"], zi),
        _orig=pl.col("value"),
        _orig_unit=pl.lit(unit),
        _end_us=pl.col("_utc_us") + step,
        raw=pl.lit(""),
    )
    f, clashes = conflicts(f, ["_utc_us"], "value", "time")
    return (
        _samples(f, metric, unit, f"{SOURCE}:{resolution}"),
        [bad, clashes.select("line_no", "reason")],
    )


def _daily_series(f: pl.DataFrame, zi: ZoneInfo, metric: str, unit: str, label: str):
    """Daily values stamped with a local date: the day from local midnight to the next."""
    f = f.with_columns(
        _local_us=pl.col("dateTime")
        .str.to_datetime(DATETIME_FORMAT, strict=False, time_unit="us")
        .dt.truncate("1d")
        .dt.epoch("us")
    )
    f = f.with_columns(value=pl.col("_raw").cast(pl.Float64, strict=False))
    f = f.with_columns(
        reason=pl.coalesce(
            _time_reason("dateTime", "_local_us", "12/31/17 00:00:00"),
            _value_reason(label, "_raw", "value", metric),
        )
    )
    bad = f.filter(pl.col("reason").is_not_null()).select("line_no", "reason")
    f = f.filter(pl.col("reason").is_null()).drop("reason")
    f, _ = _localise(f, zi, gap_ok=True)
    f = f.with_columns(_end_local=pl.col("_local_us") + DAY_US)
    f, _ = _localise(f, zi, gap_ok=True, col="_end_local", out="_end_us")
    f = f.with_columns(_orig=pl.col("value"), _orig_unit=pl.lit(unit), raw=pl.lit(""))
    f, clashes = conflicts(f, ["_utc_us"], "value", "day")
    return (
        _samples(f, metric, unit, f"{SOURCE}:daily"),
        [bad, clashes.select("line_no", "reason")],
    )


def _weight(records: list, zi: ZoneInfo):
    f = _frame(
        records,
        {"date": "date", "time": "time", "weight": "weight", "bmi": "bmi", "source": "source"},
    )
    f = f.with_columns(
        _local_us=pl.concat_str("date", pl.lit(" "), pl.col("time").fill_null("00:00:00"))
        .str.to_datetime(DATETIME_FORMAT, strict=False, time_unit="us")
        .dt.epoch("us"),
        _w=pl.col("weight").cast(pl.Float64, strict=False),
        _bmi=pl.col("bmi").cast(pl.Float64, strict=False),
    )
    implied_h = (pl.col("_w") / pl.col("_bmi")).sqrt()
    f = f.with_columns(
        _unit=pl.when(pl.col("_w").is_null() | pl.col("_bmi").is_null() | (pl.col("_bmi") <= 0))
        .then(pl.lit(None, pl.String))
        .when(implied_h < KG_LB_SPLIT_HEIGHT_M)
        .then(pl.lit("kg"))
        .when(implied_h >= KG_LB_SPLIT_HEIGHT_M)
        .then(pl.lit("lb"))
    )
    known = f["_unit"].drop_nulls()
    file_unit = known.mode().sort()[0] if known.len() else None  # for logs without a bmi
    f = f.with_columns(_unit=pl.col("_unit").fill_null(pl.lit(file_unit, pl.String)))
    f = f.with_columns(
        value=pl.col("_w") * pl.when(pl.col("_unit") == "lb").then(LB_KG).otherwise(1.0)
    )
    f = f.with_columns(
        reason=pl.coalesce(
            _time_reason("date", "_local_us", "05/18/15 with time 23:59:59"),
            pl.when(
                pl.col("weight").is_not_null()
                & pl.col("_w").is_not_null()
                & pl.col("_unit").is_null()
            ).then(
                pl.lit("weight: unit unknown (kg or lb): no log in this file has a bmi to tell")
            ),
            _value_reason("weight", "weight", "value", "body_mass_kg"),
        )
    )
    bad = f.filter(pl.col("reason").is_not_null()).select("line_no", "reason")
    f, gaps = _localise(f.filter(pl.col("reason").is_null()).drop("reason"), zi, label="time")
    f = f.with_columns(
        _end_us=pl.col("_utc_us"),
        _orig=pl.col("_w"),
        _orig_unit=pl.col("_unit"),
        _device=pl.col("source").fill_null(""),
        raw=pl.lit(""),
    )
    f, clashes = conflicts(f, ["_utc_us", "_device"], "value", "time and source")
    return (
        _samples(f, "body_mass_kg", "kg", f"{SOURCE}:log", pl.col("_device")),
        [bad, gaps, clashes.select("line_no", "reason")],
    )


def _sleep(records: list, zi: ZoneInfo):
    """Sleep logs -> in_bed + stage segments, and per-log asleep / in-bed minutes."""
    logs = _frame(
        records,
        {
            "startTime": "startTime",
            "endTime": "endTime",
            "minutesAsleep": "minutesAsleep",
            "timeInBed": "timeInBed",
        },
    )
    parse = {
        c: pl.col(c).str.to_datetime(SLEEP_TIME_FORMAT, strict=False, time_unit="us").dt.epoch("us")
        for c in ("startTime", "endTime")
    }
    logs = logs.with_columns(_local_us=parse["startTime"], _end_local=parse["endTime"])
    logs = logs.with_columns(
        reason=pl.coalesce(
            _time_reason("startTime", "_local_us", "2018-02-01T22:36:00.000"),
            _time_reason("endTime", "_end_local", "2018-02-02T06:42:00.000"),
            pl.when(pl.col("_end_local") <= pl.col("_local_us")).then(
                pl.lit("endTime: not after startTime")
            ),
        )
    )
    bad = [logs.filter(pl.col("reason").is_not_null()).select("line_no", "reason")]
    logs = logs.filter(pl.col("reason").is_null()).drop("reason")
    logs, gaps = _localise(logs, zi, label="startTime")
    logs, gaps_end = _localise(logs, zi, label="endTime", col="_end_local", out="_end_us")
    bad += [gaps, gaps_end]
    good_logs = set(logs["line_no"].to_list())

    # stage entries of the good logs: levels.data and levels.shortData
    rows: dict[str, list] = {
        "line_no": [],
        "entry": [],
        "dateTime": [],
        "level": [],
        "seconds": [],
        "short": [],
    }
    for i, rec in enumerate(records, start=1):
        levels = rec.get("levels") if i in good_logs and isinstance(rec, dict) else None
        if not isinstance(levels, dict):
            continue
        for part, short in (("data", False), ("shortData", True)):
            entries = levels.get(part)
            for j, e in enumerate(entries if isinstance(entries, list) else []):
                e = e if isinstance(e, dict) else {}
                rows["line_no"].append(i)
                rows["entry"].append(f"levels.{part}[{j}]")
                rows["dateTime"].append(None if e.get("dateTime") is None else str(e["dateTime"]))
                rows["level"].append(None if e.get("level") is None else str(e["level"]))
                rows["seconds"].append(None if e.get("seconds") is None else str(e["seconds"]))
                rows["short"].append(short)
    st = pl.DataFrame(
        rows,
        schema={
            "line_no": pl.Int64,
            "entry": pl.String,
            "dateTime": pl.String,
            "level": pl.String,
            "seconds": pl.String,
            "short": pl.Boolean,
        },
    )
    st = st.with_columns(
        _local_us=pl.col("dateTime")
        .str.to_datetime(SLEEP_TIME_FORMAT, strict=False, time_unit="us")
        .dt.epoch("us"),
        _s=pl.col("seconds").cast(pl.Float64, strict=False),
    )
    st = st.with_columns(
        reason=pl.coalesce(
            pl.when(pl.col("_local_us").is_null()).then(
                pl.format(
                    "{}: dateTime {} is not a time like 2018-02-01T22:36:00.000",
                    pl.col("entry"),
                    pl.col("dateTime"),
                )
            ),
            pl.when(~pl.col("level").is_in(list(LEVELS)) | pl.col("level").is_null()).then(
                pl.format(
                    f"{{}}: level {{}} is not one of {', '.join(LEVELS)}",
                    pl.col("entry"),
                    pl.col("level").fill_null("missing"),
                )
            ),
            pl.when(~(pl.col("_s") > 0) | pl.col("_s").is_null() | (pl.col("_s") > 86_400)).then(
                pl.format(
                    "{}: seconds {} is not a duration of 1 s to 1 day",
                    pl.col("entry"),
                    pl.col("seconds").fill_null("missing"),
                )
            ),
        )
    )
    bad.append(st.filter(pl.col("reason").is_not_null()).select("line_no", "reason"))
    st = st.filter(pl.col("reason").is_null()).drop("reason")
    st, st_gaps = _localise(st, zi, label="levels dateTime")
    bad.append(st_gaps)
    levels = list(LEVELS)
    st = st.with_columns(
        stage=pl.col("level").replace_strict(levels, [LEVELS[v][0] for v in levels]),
        source=pl.when(pl.col("short"))
        .then(pl.lit(f"{SOURCE}:short_wake"))
        .otherwise(
            pl.lit(SOURCE) + pl.col("level").replace_strict(levels, [LEVELS[v][1] for v in levels])
        ),
        _end_us=pl.col("_utc_us") + (pl.col("_s") * US).round().cast(pl.Int64),
    )

    seg_cols = ["_utc_us", "_end_us", "utc_offset_s", "stage", "source"]
    in_bed = logs.with_columns(stage=pl.lit("in_bed"), source=pl.lit(SOURCE)).select(seg_cols)
    segments = (
        pl.concat([in_bed, st.select(seg_cols)])
        .select(
            participant_id=pl.lit(None, pl.String),
            start_utc=to_utc_datetime(pl.col("_utc_us")),
            end_utc=to_utc_datetime(pl.col("_end_us")),
            utc_offset_s="utc_offset_s",
            stage="stage",
            source="source",
            device=pl.lit(""),
        )
        .cast(SLEEP_SCHEMA)
    )

    totals = []
    for col, metric in (("minutesAsleep", "sleep_asleep_min"), ("timeInBed", "time_in_bed_min")):
        t = logs.filter(pl.col(col).is_not_null()).with_columns(
            value=pl.col(col).cast(pl.Float64, strict=False)
        )
        t = t.with_columns(reason=_value_reason(col, col, "value", metric))
        bad.append(t.filter(pl.col("reason").is_not_null()).select("line_no", "reason"))
        t = t.filter(pl.col("reason").is_null()).with_columns(
            _orig=pl.col("value"), _orig_unit=pl.lit("min")
        )
        totals.append(_samples(t, metric, "min", f"{SOURCE}:log"))
    return segments, pl.concat(totals), bad


# --------------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------------


def read(path: Path, ctx: ImportContext) -> Iterator[Batch]:
    """Yield ``samples`` / ``sleep_segments`` for ``ctx.participant_id``, and rejects."""
    path = Path(path)
    display = ctx.display_path or str(path)
    if zipfile.is_zipfile(path):
        raise ImportFormatError(
            f"{display}: a zip archive; unzip the Fitbit/Takeout export "
            "and import the folder (each JSON file is one import)"
        )
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFormatError(
            f"{display}: not UTF-8 text (undecodable byte at offset {exc.start})"
        ) from exc
    kind = _kind(text[:65536], path.name)
    if kind is None:
        raise ImportFormatError(
            f"{display}: not a Fitbit export JSON file this importer reads "
            "(heart_rate, resting_heart_rate, sleep, weight, "
            f"{', '.join(SERIES)})"
        )
    if not ctx.participant_id:
        raise ImportFormatError(
            f"{display}: Fitbit export files carry no participant id; import with "
            "--participant ID or put the file in <inbox>/<participant_id>/"
        )
    zi = require_zone(ctx.tz, display, "Fitbit export")

    originals: list = []

    def parse() -> list[dict]:
        parsed = load_json(text, display)
        if not isinstance(parsed, list):
            raise ImportFormatError(f"{display}: expected a JSON array of records")
        originals[:] = parsed  # kept for the rejected rows' raw text
        return [r if isinstance(r, dict) else {} for r in parsed]

    records = None if kind in ("heart_rate", "resting_heart_rate", *SERIES) else parse()

    def series(value_path) -> pl.DataFrame:
        nonlocal records
        frame = _series_frame(data.removeprefix(b"\xef\xbb\xbf"), records, value_path)
        if frame is None:  # not uniform: read record by record, with reasons
            records = parse()
            frame = _series_frame(b"", records, value_path)
        return frame

    segments = None
    if kind == "heart_rate":
        samples, bad = _utc_series(
            series(("value", "bpm")), zi, "heart_rate_bpm", "count/min", "seconds", "value.bpm"
        )
    elif kind == "resting_heart_rate":
        samples, bad = _daily_series(
            series(("value", "value")), zi, "resting_heart_rate_bpm", "count/min", "value.value"
        )
    elif kind == "weight":
        samples, bad = _weight(records, zi)
    elif kind == "sleep":
        segments, samples, bad = _sleep(records, zi)
    else:
        metric, unit, resolution = SERIES[kind]
        if resolution == "minute":
            samples, bad = _utc_series(series("value"), zi, metric, unit, "minute", "value")
        else:
            samples, bad = _daily_series(series("value"), zi, metric, unit, "value")

    pid = pl.lit(ctx.participant_id, pl.String)
    yield from batches("samples", samples.with_columns(participant_id=pid))
    if segments is not None:
        yield from batches("sleep_segments", segments.with_columns(participant_id=pid))
    bad = [b.select("line_no", "reason") for b in bad if b.height]
    if bad:
        if not originals:
            parse()
        bad_all = _raw(originals, pl.concat(bad).sort("line_no", maintain_order=True))
        yield rejected(
            bad_all["line_no"].to_list(), bad_all["reason"].to_list(), bad_all["raw"].to_list()
        )
