"""Garmin FIT files: monitoring (wellness), sleep, HRV and activity files (FORMAT ``garmin_fit``).

Decoding
--------
Files are decoded with Garmin's own Python SDK, ``garmin-fit-sdk`` (``garmin_fit_sdk``:
``Stream``, ``Decoder.read``). It is maintained by Garmin with every FIT profile release (so
new messages and fields are named as Garmin names them), it checks the header and file CRCs,
and it returns what it decoded together with the errors it met instead of raising, which is
what a truncated or corrupt file needs. Messages are taken in file order through its
``mesg_listener`` (needed for ``timestamp_16``, below) with ``convert_datetimes_to_dates=False``
(FIT seconds stay integers). The decoder holds the decoded messages in memory: FIT files are
small (a day of monitoring is ~50 kB, a 3 h ride with 1 s records 0.6 MB).

Detected by the FIT file header: byte 0 is the header size (12 or 14) and bytes 8-11 are
``.FIT``. The file's messages decide what is read, not its declared file type:

=========================  ==================================================================
FIT message                rows
=========================  ==================================================================
``monitoring``             ``heart_rate`` -> samples ``heart_rate_bpm`` (point);
                           cumulative ``cycles`` / ``cycles_16`` of walking and running ->
                           ``steps``, ``active_calories`` -> ``active_energy_kcal``,
                           ``distance`` / ``distance_16`` -> ``distance_m`` (interval
                           deltas, see below); ``intensity`` of
                           ``current_activity_type_intensity`` -> ``activity_intensity``
                           (0-7, from that record to the next activity record)
``monitoring_hr_data``     ``current_day_resting_heart_rate`` -> ``resting_heart_rate_bpm``
                           over the local day (the last value the file gives for the day)
``stress_level``           ``stress_level_value`` -> ``stress_level`` (0-100, point)
``respiration_rate``       -> ``respiratory_rate_per_min`` (point)
``sleep_level``            -> ``sleep_segments``: each level from its timestamp to the next
                           one (awake, light, deep, rem); the last level marks the end of
                           the recording and has no duration
``hrv_value``              ``value`` (overnight 5-min RMSSD) -> ``hrv_rmssd_ms`` over
                           [timestamp, timestamp + 5 min)
``session``                -> ``workouts``: ``sport`` (``generic`` -> ``other``), start,
                           ``start + total_elapsed_time``, ``duration_s`` =
                           ``total_timer_time``, ``distance_m`` = ``total_distance``,
                           ``active_energy_kcal`` = ``total_calories - metabolic_calories``
                           (``total_calories`` includes resting energy; devices that do not
                           write ``metabolic_calories`` give ``total_calories``, an upper
                           bound)
``record``                 ``heart_rate`` -> samples ``heart_rate_bpm`` (1 s in most files)
=========================  ==================================================================

``source`` is ``garmin:monitoring``, ``garmin:sleep``, ``garmin:hrv`` or
``garmin:activity``; ``device`` is ``file_id`` manufacturer and product
(``garmin fenix6S_sport``). Not imported: GPS, power, cadence, ascent, intensity minutes,
``hrv`` beat intervals, ``sleep_assessment`` scores, ``hrv_status_summary``, weight scale,
settings and course files (a file with none of the messages above is an error naming the
messages it has).

Time
----
FIT ``date_time`` values are UTC seconds since 1989-12-31T00:00:00Z. A message with only
``timestamp_16`` (the low 16 bits) takes the rest from a reference time: the last time of a
message of the same type in the file, else the last full timestamp of any message. It rolls
forward from the reference (``t = ref + ((ts16 - ref) mod 65536)``), except that a result
within an hour *before* the reference is taken as such (:func:`resolve_timestamp_16`): fenix
files stamp some events after the monitoring record that follows them.

``utc_offset_s`` is, in this order: ``local_timestamp - timestamp`` of the file's
``activity``, ``monitoring_info`` or ``timestamp_correlation`` message (one offset for the
whole file, rounded to 15 min); else the offset of the import's ``--timezone`` at each
instant; else 0, and a note row in ``rejected_rows`` says so (the import is then
``partial``). Sleep files have no documented local time: import them with ``--timezone``.

Cumulative monitoring counts
----------------------------
``monitoring`` records carry running totals per activity type that restart at local
midnight (a day-total record, with ``duration_min``, marks each day's start and end). Each
(quantity, activity type) series is turned into deltas between consecutive records of that
series, stored over ``[previous record, this record]``:

* the first record of a series is the baseline when it is a day-total record (the day so
  far, already covered by the previous file); otherwise the count started at 0 at the start
  of the file (``monitoring_info.timestamp``);
* a 32-bit total that goes down, or a local-day change between two records, is a midnight
  reset: the delta is the new total, counted from local midnight;
* ``*_16`` fields hold the low 16 bits of the total: the delta is taken modulo 65536, so a
  rollover (65530 -> 4) is a delta of 10, not a reset.

Only walking and running cycles are steps (FIT: ``steps = 2 x cycles``); cycling and
swimming cycles are strokes and are not imported. Deltas of different activity types over
the same interval are added up into one row (the natural key has no activity type); a
record whose total did not change adds no row.

Errors
------
The import needs a participant (``--participant`` or the inbox folder); without one it fails
with an error naming the file. What decodes is imported; each decoder error (CRC mismatch,
truncation, a broken chained file) becomes one ``rejected_rows`` row with the number of
messages decoded before it; a file of which nothing decodes raises
:class:`~pipeline.importers.ImportFormatError`. Implausible values
(:data:`pipeline.importers.generic_csv.RANGES`), sleep levels Garmin marks ``unmeasurable``,
records without a usable time and implausible sessions are rejected one by one, with
``record_no`` = the message's position in the file (1-based, all messages counted) and the
decoded message as ``raw``. Garmin's negative "no measurement" codes for stress and
respiration and ``hrv_value`` messages without a value are not measurements: each kind is
summarised in one row with its count.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
from garmin_fit_sdk import Decoder, Profile, Stream

from detectors import tables
from pipeline.importers import Batch, ImportContext, ImportFormatError, rejected
from pipeline.importers._common import US, require_participant, require_zone, utc_offsets_s
from pipeline.importers.generic_csv import RANGES, SAMPLE_UNITS, SAMPLES_SCHEMA, split_by_range

FORMAT = "garmin_fit"
FIT_EPOCH_S = 631_065_600  # 1989-12-31T00:00:00Z as Unix seconds (FIT protocol)
MIN_DATE_TIME = 0x10000000  # FIT: smaller date_time values are device-relative seconds
OFFSET_RANGE_S = (-12 * 3600, 14 * 3600)
#: a timestamp_16 may lie this far behind its reference (messages written slightly out of
#: order, e.g. an event stamped after the monitoring record that follows it)
TS16_BEHIND_S = 3600
HRV_WINDOW_S = 300  # hrv_value: 5-minute RMSSD windows
MAX_WORKOUT_S = 7 * 86_400  # longer sessions are corrupt, not workouts
BATCH_ROWS = 100_000

SOURCE_MONITORING = "garmin:monitoring"
SOURCE_SLEEP = "garmin:sleep"
SOURCE_HRV = "garmin:hrv"
SOURCE_ACTIVITY = "garmin:activity"

SLEEP_STAGES = {"awake": "awake", "light": "light", "deep": "deep", "rem": "rem"}
STEP_ACTIVITIES = ("walking", "running")  # FIT: cycles are steps/2 only for these

_MN = Profile["mesg_num"]
_UTC = pl.Datetime("us", "UTC")
SLEEP_SCHEMA = tables.rows("sleep_segments")
WORKOUTS_SCHEMA = tables.rows("workouts")


def sniff(head: bytes, name: str) -> bool:
    """True for a FIT file header: size byte 12 or 14, ``.FIT`` at bytes 8-11."""
    return len(head) >= 12 and head[0] in (12, 14) and head[8:12] == b".FIT"


# --------------------------------------------------------------------------------------------
# decoding
# --------------------------------------------------------------------------------------------


def decode(path: Path) -> tuple[list[tuple[int, dict]], list[str]]:
    """All messages in file order as ``(global mesg_num, message)``, and the decoder errors."""
    order: list[tuple[int, dict]] = []

    def listener(mesg_num: int, message: dict) -> None:
        order.append((mesg_num, message))

    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        stream = Stream.from_buffered_reader(fh, size)
        try:
            _, errors = Decoder(stream).read(
                convert_datetimes_to_dates=False, mesg_listener=listener
            )
        except Exception as exc:  # noqa: BLE001 - the SDK returns errors; this is a backstop
            errors = [exc]
    return order, [f"{type(e).__name__}: {e}" if not str(e) else str(e) for e in errors]


def resolve_timestamp_16(ts16: int, ref: int) -> int:
    """Full FIT time of a ``timestamp_16`` given the reference time ``ref``.

    Rolls forward from ``ref`` (``ref + ((ts16 - ref) mod 65536)``); a result more than
    ``65536 - TS16_BEHIND_S`` seconds ahead is read as up to ``TS16_BEHIND_S`` behind instead.
    """
    delta = (ts16 - ref) & 0xFFFF
    if delta > 0x10000 - TS16_BEHIND_S:
        delta -= 0x10000
    return ref + delta


def _raw(message: dict) -> str:
    return json.dumps(message, default=str)


def _fit_s(value) -> int | None:
    """A FIT date_time as int seconds, or None when absent or device-relative."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= MIN_DATE_TIME:
        return value
    return None


@dataclass
class _Rows:
    """Rows collected while walking the messages (times in FIT seconds)."""

    samples: list[tuple] = field(default_factory=list)  # rec, metric, t0, t1, value, source
    sleep: list[tuple] = field(default_factory=list)  # rec, t, sleep_level
    workouts: list[tuple] = field(default_factory=list)  # rec, type, t0, t1, dur, kcal, m
    rejects: list[tuple] = field(default_factory=list)  # rec, reason


@dataclass
class _File:
    """What the walk learned about the file."""

    device: str = ""
    file_type: object = None
    file_start: int | None = None
    offsets: list[int] = field(default_factory=list)  # local - utc, in file order
    monitoring: list[tuple[int, int, dict]] = field(default_factory=list)  # rec, t, msg
    counts: Counter = field(default_factory=Counter)


# --------------------------------------------------------------------------------------------
# the walk over the messages
# --------------------------------------------------------------------------------------------


def _device(msg: dict) -> str:
    maker = msg.get("manufacturer")
    product = msg.get("garmin_product") or msg.get("product")
    parts = [str(p) for p in (maker, product) if p is not None]
    return " ".join(parts)


def _walk(order: list[tuple[int, dict]], rows: _Rows, info: _File) -> None:
    last_any: int | None = None  # last full timestamp of any message
    last_of: dict[int, int] = {}  # last (full or resolved) timestamp per message type
    no_value: dict[str, list[int]] = {}
    for rec, (num, msg) in enumerate(order, start=1):
        info.counts[num] += 1
        full = _fit_s(msg.get("timestamp", msg.get(253)))
        t = full
        ref = last_of.get(num, last_any)
        if full is None and isinstance(msg.get("timestamp_16"), int) and ref is not None:
            t = resolve_timestamp_16(msg["timestamp_16"], ref)
        if full is not None:
            last_any = full
        if t is not None:
            last_of[num] = t

        if num == _MN["FILE_ID"] and not info.device:
            info.device = _device(msg)
            info.file_type = msg.get("type")
        elif num in (_MN["ACTIVITY"], _MN["MONITORING_INFO"], _MN["TIMESTAMP_CORRELATION"]):
            local = msg.get("local_timestamp")
            if full is not None and isinstance(local, int):
                info.offsets.append(local - full)
            if num == _MN["MONITORING_INFO"] and full is not None and info.file_start is None:
                info.file_start = full
        elif num == _MN["MONITORING"]:
            if t is None:
                rows.rejects.append(
                    (
                        rec,
                        "monitoring: no timestamp (no full timestamp before "
                        "its timestamp_16 in the file)",
                    )
                )
            else:
                info.monitoring.append((rec, t, msg))
        elif num == _MN["MONITORING_HR_DATA"]:
            value = msg.get("current_day_resting_heart_rate")
            if t is not None and value is not None:
                info.monitoring.append((rec, t, {"_resting_hr": value}))
        elif num == _MN["STRESS_LEVEL"]:
            ts, value = _fit_s(msg.get("stress_level_time")), msg.get("stress_level_value")
            if ts is None or value is None:
                rows.rejects.append((rec, "stress_level: no stress_level_time or value"))
            elif value < 0:
                no_value.setdefault(f"stress_level {value}", []).append(rec)
            else:
                rows.samples.append((rec, "stress_level", ts, ts, float(value), SOURCE_MONITORING))
        elif num == _MN["RESPIRATION_RATE"]:
            value = msg.get("respiration_rate")
            if t is None or value is None:
                rows.rejects.append((rec, "respiration_rate: no timestamp or value"))
            elif value < 0:
                no_value.setdefault(f"respiration_rate {value:g}", []).append(rec)
            else:
                rows.samples.append(
                    (rec, "respiratory_rate_per_min", t, t, float(value), SOURCE_MONITORING)
                )
        elif num == _MN["SLEEP_LEVEL"]:
            if t is None:
                rows.rejects.append((rec, "sleep_level: no timestamp"))
            else:
                rows.sleep.append((rec, t, msg.get("sleep_level")))
        elif num == _MN["HRV_VALUE"]:
            value = msg.get("value")
            if t is None:
                rows.rejects.append((rec, "hrv_value: no timestamp"))
            elif value is None:
                no_value.setdefault("hrv_value without a value", []).append(rec)
            else:
                rows.samples.append(
                    (rec, "hrv_rmssd_ms", t, t + HRV_WINDOW_S, float(value), SOURCE_HRV)
                )
        elif num == _MN["SESSION"]:
            _session(rec, msg, rows)
        elif num == _MN["RECORD"]:
            hr = msg.get("heart_rate")
            if hr is not None:
                if t is None:
                    rows.rejects.append((rec, "record: heart_rate without a timestamp"))
                else:
                    rows.samples.append((rec, "heart_rate_bpm", t, t, float(hr), SOURCE_ACTIVITY))
    for what, recs in no_value.items():
        rows.rejects.append(
            (
                recs[0],
                f"{what}: {len(recs)} message(s) with Garmin's "
                "no-measurement value, not imported (first shown)",
            )
        )


def _session(rec: int, msg: dict, rows: _Rows) -> None:
    start = _fit_s(msg.get("start_time"))
    elapsed = msg.get("total_elapsed_time")
    timer = msg.get("total_timer_time")
    end = (
        start + elapsed
        if start is not None and elapsed is not None
        else _fit_s(msg.get("timestamp"))
    )
    duration = timer if timer is not None else elapsed
    total, metabolic = msg.get("total_calories"), msg.get("metabolic_calories")
    kcal = (
        total - metabolic
        if total is not None and metabolic is not None and metabolic <= total
        else total
    )
    distance = msg.get("total_distance")
    sport = msg.get("sport")
    sport = "other" if sport in (None, "generic") else str(sport)
    sport = f"sport_{sport}" if sport.isdigit() else sport
    problem = None
    if start is None or end is None or end < start:
        problem = "session: no valid start_time / total_elapsed_time"
    elif duration is not None and not 0 <= duration <= MAX_WORKOUT_S:
        problem = f"session: total_timer_time {duration:g} s outside 0-{MAX_WORKOUT_S} s"
    elif end - start > MAX_WORKOUT_S:
        problem = f"session: total_elapsed_time {end - start:g} s over {MAX_WORKOUT_S} s"
    else:
        for metric, value in (("active_energy_kcal", kcal), ("distance_m", distance)):
            lo, hi = RANGES[metric]
            if value is not None and not lo <= value <= hi:
                problem = f"session: {metric} {value:g} outside plausible range [{lo:g}, {hi:g}]"
    if problem:
        rows.rejects.append((rec, problem))
    else:
        rows.workouts.append(
            (
                rec,
                sport,
                start,
                end,
                duration,
                None if kcal is None else float(kcal),
                None if distance is None else float(distance),
            )
        )


# --------------------------------------------------------------------------------------------
# monitoring: cumulative totals -> interval deltas
# --------------------------------------------------------------------------------------------


class _LocalClock:
    """Local day numbers and midnights for FIT instants (fixed offset, zone, or unknown)."""

    def __init__(self, fixed_s: int | None, zi: ZoneInfo | None):
        self.fixed_s, self.zi = fixed_s, zi

    @property
    def known(self) -> bool:
        return self.fixed_s is not None or self.zi is not None

    def offset(self, t: int) -> int:
        if self.fixed_s is not None:
            return self.fixed_s
        if self.zi is not None:
            return int(
                datetime.fromtimestamp(t + FIT_EPOCH_S, UTC)
                .astimezone(self.zi)
                .utcoffset()
                .total_seconds()
            )
        return 0

    def day(self, t: int) -> int:
        """Local day number of the instant just before ``t`` (a record at midnight ends a day)."""
        return (t - 1 + self.offset(t)) // 86_400

    def midnight(self, t: int) -> int:
        """FIT instant of the local midnight starting the day :meth:`day` of ``t``."""
        day = self.day(t)
        return day * 86_400 - self.offset(t)


def _series(mon: list[tuple[int, int, dict]]) -> dict[tuple[str, str], list[tuple]]:
    """(metric, activity type) -> [(rec, t, value, bits, is_day_total)] in file order."""
    out: dict[tuple[str, str], list[tuple]] = {}
    for rec, t, msg in mon:
        act = msg.get("activity_type")
        if act is None:
            continue
        act = str(act)
        day_total = "duration_min" in msg
        found: list[tuple[str, float, int]] = []
        if act in STEP_ACTIVITIES:
            if msg.get("cycles") is not None:
                found.append(("steps", round(msg["cycles"] * 2), 32))
            elif msg.get("cycles_16") is not None:
                found.append(("steps", msg["cycles_16"], 16))
        if msg.get("active_calories") is not None:
            found.append(("active_energy_kcal", msg["active_calories"], 32))
        if msg.get("distance") is not None:
            found.append(("distance_m", msg["distance"], 32))
        elif msg.get("distance_16") is not None:  # unit "100 * m": hectometres, low 16 bits
            found.append(("distance_m", msg["distance_16"] * 100.0, 16))
        for metric, value, bits in found:
            out.setdefault((metric, act), []).append((rec, t, value, bits, day_total))
    return out


def _deltas(
    metric: str,
    obs: list[tuple],
    file_start: int,
    clock: _LocalClock,
    out: dict[tuple[str, int, int], list],
) -> None:
    """Add the interval deltas of one cumulative series to ``out`` (see the module docstring).

    ``out`` maps (metric, start, end) to [first record_no, sum]: series of different activity
    types over the same interval (walking and running steps) make one row.
    """
    prev_t: int | None = None
    prev_total = 0.0
    for rec, t, value, bits, day_total in obs:
        if prev_t is None:
            if day_total:  # the day so far: the baseline, already in the previous file
                prev_t, prev_total = t, float(value)
                continue
            prev_t, prev_total = min(file_start, t), 0.0
        reset = clock.known and clock.day(prev_t) != clock.day(t)
        if bits == 32:
            reset = reset or value < prev_total
            delta = float(value) - prev_total
        else:  # low 16 bits of the running total (distance_16 in units of 100 m)
            unit = 100.0 if metric == "distance_m" else 1.0
            low = round(prev_total / unit) % 65536
            delta = ((round(value / unit) - low) % 65536) * unit
        start = prev_t
        if reset:  # the total restarted at local midnight
            delta = float(value)
            if clock.known:
                start = max(prev_t, clock.midnight(t))
        if delta > 0:
            slot = out.setdefault((metric, start, t), [rec, 0.0])
            slot[0], slot[1] = min(slot[0], rec), slot[1] + delta
        prev_t = t
        prev_total = float(value) if bits == 32 or reset else prev_total + delta


def _monitoring(info: _File, clock: _LocalClock, rows: _Rows) -> None:
    """Heart rate, activity intensity, resting heart rate and cumulative deltas."""
    mon = sorted(info.monitoring, key=lambda r: (r[1], r[0]))
    if not mon:
        return
    file_start = info.file_start if info.file_start is not None else mon[0][1]
    last_t = mon[-1][1]
    states = [
        (rec, t, msg)
        for rec, t, msg in mon
        if "current_activity_type_intensity" in msg and msg.get("intensity") is not None
    ]
    for i, (rec, t, msg) in enumerate(states):
        end = states[i + 1][1] if i + 1 < len(states) else last_t
        rows.samples.append(
            (rec, "activity_intensity", t, max(end, t), float(msg["intensity"]), SOURCE_MONITORING)
        )
    resting: dict[int, tuple[int, int, float]] = {}
    for rec, t, msg in mon:
        if msg.get("heart_rate") is not None:
            rows.samples.append(
                (rec, "heart_rate_bpm", t, t, float(msg["heart_rate"]), SOURCE_MONITORING)
            )
        if "_resting_hr" in msg:
            resting[clock.day(t)] = (rec, t, float(msg["_resting_hr"]))
    for rec, t, value in resting.values():
        start = clock.midnight(t)
        rows.samples.append(
            (rec, "resting_heart_rate_bpm", start, start + 86_400, value, SOURCE_MONITORING)
        )
    deltas: dict[tuple[str, int, int], list] = {}
    for (metric, _act), obs in _series(mon).items():
        _deltas(metric, obs, file_start, clock, deltas)
    for (metric, start, end), (rec, value) in deltas.items():
        rows.samples.append((rec, metric, start, end, value, SOURCE_MONITORING))


def _sleep(rows: _Rows) -> list[tuple]:
    """``sleep_level`` messages -> segments ``(rec, t0, t1, stage)``; bad levels rejected."""
    levels = sorted(rows.sleep, key=lambda r: (r[1], r[0]))
    out = []
    for (rec, t, level), (_, t_next, _) in zip(levels, levels[1:], strict=False):
        if t_next <= t:
            continue  # superseded by a level at the same instant
        stage = SLEEP_STAGES.get(str(level))
        if stage is None:
            rows.rejects.append(
                (
                    rec,
                    f"sleep_level {level}: not a sleep stage (Garmin could "
                    "not classify this interval)"
                    if str(level) == "unmeasurable"
                    else f"sleep_level {level!r}: unknown sleep level",
                )
            )
        else:
            out.append((rec, t, t_next, stage))
    return out


# --------------------------------------------------------------------------------------------
# frames
# --------------------------------------------------------------------------------------------


def _file_offset(offsets: list[int]) -> int | None:
    """The first local - UTC difference that is a real zone offset (rounded to 15 min)."""
    for diff in offsets:
        off = round(diff / 900) * 900
        if abs(diff - off) <= 60 and OFFSET_RANGE_S[0] <= off <= OFFSET_RANGE_S[1]:
            return off
    return None


def _offsets(start_us: pl.Series, fixed: int | None, zi: ZoneInfo | None) -> pl.Series:
    if fixed is not None:
        return pl.Series([fixed] * start_us.len(), dtype=pl.Int64)
    if zi is not None:
        return utc_offsets_s(start_us, zi)
    return pl.Series([0] * start_us.len(), dtype=pl.Int64)


def _instants(col: str) -> pl.Expr:
    return pl.from_epoch(col, time_unit="us").dt.replace_time_zone("UTC")


def _reject_frame(
    recs: list[int | None], reasons: list[str], order: list[tuple[int, dict]]
) -> Batch:
    raws = [_raw(order[r - 1][1]) if r is not None and 0 < r <= len(order) else "" for r in recs]
    return rejected(recs, reasons, raws)


def read(path: Path, ctx: ImportContext) -> Iterator[Batch]:
    """Yield ``samples``, ``sleep_segments``, ``workouts`` and ``rejected_rows``."""
    display = ctx.display_path or str(path)
    require_participant(ctx, display, "Garmin FIT files")
    zi = require_zone(ctx.tz, display)
    order, errors = decode(Path(path))
    rows, info = _Rows(), _File()
    _walk(order, rows, info)
    fixed = _file_offset(info.offsets)
    clock = _LocalClock(fixed, zi)
    _monitoring(info, clock, rows)
    segments = _sleep(rows)

    usable = len(rows.samples) + len(segments) + len(rows.workouts)
    if usable == 0 and not rows.rejects:
        if errors:
            raise ImportFormatError(f"{display}: not a readable FIT file: {errors[0]}")
        names = {v: k.lower() for k, v in _MN.items()}
        kinds = ", ".join(sorted({names.get(n, str(n)) for n in info.counts}))
        raise ImportFormatError(
            f"{display}: FIT file (type {info.file_type}) has no monitoring, sleep, HRV or "
            f"activity data crampwatch imports; its messages: {kinds or 'none'}"
        )

    pid = ctx.participant_id
    if rows.samples:
        smp = pl.DataFrame(
            rows.samples,
            orient="row",
            schema={
                "record_no": pl.Int64,
                "metric": pl.String,
                "_t0": pl.Float64,
                "_t1": pl.Float64,
                "value": pl.Float64,
                "source": pl.String,
            },
        )
        smp = smp.with_columns(
            _start_us=((pl.col("_t0") + FIT_EPOCH_S) * US).round().cast(pl.Int64),
            _end_us=((pl.col("_t1") + FIT_EPOCH_S) * US).round().cast(pl.Int64),
        )
        smp = smp.with_columns(utc_offset_s=_offsets(smp["_start_us"], fixed, zi))
        good, bad = split_by_range(smp)
        out = good.select(
            participant_id=pl.lit(pid, pl.String),
            metric="metric",
            start_utc=_instants("_start_us"),
            end_utc=_instants("_end_us"),
            utc_offset_s="utc_offset_s",
            value="value",
            unit=pl.col("metric").replace_strict(SAMPLE_UNITS, return_dtype=pl.String),
            source="source",
            device=pl.lit(info.device, pl.String),
            original_value=pl.lit(None, pl.Float64),
            original_unit=pl.lit(None, pl.String),
        ).cast(SAMPLES_SCHEMA)
        for i in range(0, out.height, BATCH_ROWS):
            yield Batch("samples", out.slice(i, BATCH_ROWS))
        rows.rejects.extend(zip(bad["record_no"].to_list(), bad["reason"].to_list(), strict=True))
    if segments:
        seg = pl.DataFrame(
            segments,
            orient="row",
            schema={"record_no": pl.Int64, "_t0": pl.Int64, "_t1": pl.Int64, "stage": pl.String},
        )
        seg = seg.with_columns(
            _start_us=(pl.col("_t0") + FIT_EPOCH_S) * US, _end_us=(pl.col("_t1") + FIT_EPOCH_S) * US
        )
        yield Batch(
            "sleep_segments",
            seg.select(
                participant_id=pl.lit(pid, pl.String),
                start_utc=_instants("_start_us"),
                end_utc=_instants("_end_us"),
                utc_offset_s=_offsets(seg["_start_us"], fixed, zi),
                stage="stage",
                source=pl.lit(SOURCE_SLEEP),
                device=pl.lit(info.device, pl.String),
            ).cast(SLEEP_SCHEMA),
        )
    if rows.workouts:
        wk = pl.DataFrame(
            rows.workouts,
            orient="row",
            schema={
                "record_no": pl.Int64,
                "activity_type": pl.String,
                "_t0": pl.Float64,
                "_t1": pl.Float64,
                "duration_s": pl.Float64,
                "active_energy_kcal": pl.Float64,
                "distance_m": pl.Float64,
            },
        )
        wk = wk.with_columns(
            _start_us=((pl.col("_t0") + FIT_EPOCH_S) * US).round().cast(pl.Int64),
            _end_us=((pl.col("_t1") + FIT_EPOCH_S) * US).round().cast(pl.Int64),
        )
        yield Batch(
            "workouts",
            wk.select(
                participant_id=pl.lit(pid, pl.String),
                activity_type="activity_type",
                start_utc=_instants("_start_us"),
                end_utc=_instants("_end_us"),
                utc_offset_s=_offsets(wk["_start_us"], fixed, zi),
                duration_s="duration_s",
                active_energy_kcal="active_energy_kcal",
                distance_m="distance_m",
                source=pl.lit(SOURCE_ACTIVITY),
                device=pl.lit(info.device, pl.String),
            ).cast(WORKOUTS_SCHEMA),
        )

    n_decoded = len(order)
    for err in errors:
        rows.rejects.append(
            (
                None,
                f"FIT decoder error after {n_decoded} decoded messages (those are imported): {err}",
            )
        )
    if fixed is None and zi is None and usable:
        rows.rejects.append(
            (
                None,
                "note: the file has no local time (activity, "
                "monitoring_info or timestamp_correlation local_timestamp) "
                "and no --timezone was given: utc_offset_s is 0 (UTC) for "
                "every row of this file",
            )
        )
    if rows.rejects:
        rows.rejects.sort(key=lambda r: (r[0] is None, r[0] or 0))
        yield _reject_frame([r[0] for r in rows.rejects], [r[1] for r in rows.rejects], order)
