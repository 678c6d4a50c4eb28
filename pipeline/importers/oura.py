"""Oura ring exports: sleep periods and heart rate (FORMAT ``oura_csv``; JSON: ``oura_json``).

The field names are those of Oura's published API v2 (``cloud.ouraring.com/v2/docs``,
OpenAPI 1.27: ``SleepModel`` of ``/v2/usercollection/sleep``, ``HeartRateModel`` of
``/v2/usercollection/heartrate``), which the Oura cloud export uses too. No real Oura file
was available to check against; the test fixtures are written to that published schema.

JSON (``oura_json``): an API response ``{"data": [...], "next_token": ...}``, a list of
documents, one document, or an object whose values are such responses or lists (an export
bundling several collections: ``{"sleep": {...}, "heartrate": {...}}``). Documents are
recognised by their fields:

* **sleep period** (``bedtime_start``, ``bedtime_end``, ISO 8601 with the local offset,
  ``2022-08-10T02:20:41-04:00``):

  ======================  =====================================================================
  field                   rows
  ======================  =====================================================================
  ``sleep_phase_5_min``   ``sleep_segments``: one character per 5 minutes from
                          ``bedtime_start`` (``1`` deep, ``2`` light, ``3`` REM, ``4`` awake);
                          equal neighbours are merged, the last segment ends at
                          ``bedtime_end`` at the latest
  ``lowest_heart_rate``   samples ``resting_heart_rate_bpm`` over [bedtime_start, bedtime_end]
                          (the value behind the app's readiness "resting heart rate")
  ``average_hrv``         samples ``hrv_rmssd_ms`` over the period (Oura's HRV is RMSSD)
  ``heart_rate``          ``{interval, items, timestamp}``: samples ``heart_rate_bpm`` at
                          ``timestamp + i * interval``; ``null`` items are gaps, not rows
  ======================  =====================================================================

  ``type: "deleted"`` periods (deleted in the app) are rejected. ``utc_offset_s`` of every row
  of a period is the offset written in ``bedtime_start``. Not imported: scores, contributors,
  durations (they follow from the segments), ``hrv`` 5-minute items (the period's RMSSD is
  kept), ``average_breath`` (documented as breaths per second while the values are per
  minute), ``movement_30_sec``.
* **heart rate** (``timestamp``, ``bpm``, ``source`` = awake, rest, sleep, session, live,
  workout): samples ``heart_rate_bpm``. Oura writes these timestamps in UTC (``+00:00``), so
  ``utc_offset_s`` is the offset of the import's ``--timezone`` at each instant when one is
  given, else the offset written in the timestamp.
* **daily readiness** (``contributors``, ``score``): rejected with the reason. Its resting
  heart rate and HRV balance are 1-100 contributor *scores*; the bpm and ms values the
  readiness score is computed from are the sleep period's ``lowest_heart_rate`` and
  ``average_hrv``, imported above. Any other document is rejected naming its fields.

CSV (``oura_csv``): the same documents one per line, with the API field names as the header
(comma separated, quoting as in :mod:`.journal_csv`): a heart-rate file has at least
``timestamp,bpm,source``; a sleep file at least ``bedtime_start,bedtime_end`` and any of the
sleep fields above, nested objects (``heart_rate``) as JSON text in their cell.

``source`` is ``oura`` for every row (the heart-rate ``source`` context is not kept: a sample
from the heart-rate collection and one from a sleep period at the same instant are then the
same sample), ``device`` is ``''``. The import needs a participant. A document or line with a
bad time or an implausible value (:data:`.generic_csv.RANGES`) is rejected with its position
(JSON: 1-based across the file's documents; CSV: line number) and a reason naming the field;
the rest of it and of the file lands. Times without an offset need ``--timezone``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import polars as pl

from detectors import tables
from pipeline.importers import Batch, ImportContext, ImportFormatError
from pipeline.importers._common import (
    US,
    decode_head,
    first_line_fields,
    load_json,
    local_to_utc_us,
    parse_iso_local_us,
    read_lines,
    rejected_batch,
    require_participant,
    split_csv,
    utc_offsets_s,
    year_of_us,
    zone,
)
from pipeline.importers.generic_csv import SAMPLE_UNITS, SAMPLES_SCHEMA, split_by_range

FORMAT = "oura_csv"
JSON_FORMAT = "oura_json"
SOURCE = "oura"
EPOCH_S = 300  # sleep_phase_5_min: one character per 5 minutes
SLEEP_PHASES = {"1": "deep", "2": "light", "3": "rem", "4": "awake"}
HEART_RATE_FIELDS = ("timestamp", "bpm", "source")
SLEEP_FIELDS = ("bedtime_start", "bedtime_end")
NESTED_FIELDS = ("heart_rate", "hrv", "readiness", "contributors")
#: sleep period fields -> (metric, the sample covers the whole period)
PERIOD_VALUES = {"lowest_heart_rate": "resting_heart_rate_bpm", "average_hrv": "hrv_rmssd_ms"}
YEAR_RANGE = (1900, 2100)
OFFSET_RANGE_S = (-12 * 3600, 14 * 3600)
BATCH_ROWS = 100_000

_UTC = pl.Datetime("us", "UTC")
SLEEP_SCHEMA = tables.rows("sleep_segments")
_ROW_SCHEMA = {
    "record_no": pl.Int64,
    "raw": pl.String,
    "metric": pl.String,
    "_start_us": pl.Int64,
    "_end_us": pl.Int64,
    "utc_offset_s": pl.Int64,
    "value": pl.Float64,
}


# --------------------------------------------------------------------------------------------
# detection
# --------------------------------------------------------------------------------------------


def _kind_of_fields(fields) -> str | None:
    names = set(fields)
    if set(SLEEP_FIELDS) <= names:
        return "sleep"
    if set(HEART_RATE_FIELDS) <= names:
        return "heartrate"
    if {"contributors", "score", "day"} <= names:
        return "readiness"
    return None


def sniff(head: bytes, name: str) -> bool:
    """True when the first line names Oura heart-rate or sleep-period fields."""
    fields = first_line_fields(head)
    return fields is not None and _kind_of_fields(fields) in ("sleep", "heartrate")


def sniff_json(head: bytes, name: str) -> bool:
    """True for JSON holding Oura sleep, heart-rate or readiness documents."""
    text = decode_head(head).lstrip()
    if text[:1] not in ("{", "["):
        return False

    def has(*keys: str) -> bool:
        return all(re.search(rf'"{k}"\s*:', text) for k in keys)

    return (
        has("bedtime_start", "bedtime_end")
        or has("bpm", "source", "timestamp")
        or has("contributors", "hrv_balance", "resting_heart_rate")
    )


# --------------------------------------------------------------------------------------------
# shared core
# --------------------------------------------------------------------------------------------


def _zone(ctx: ImportContext, display: str) -> ZoneInfo | None:
    if ctx.tz is None:
        return None
    zi = zone(ctx.tz)
    if zi is None:
        raise ImportFormatError(
            f"{display}: unknown time zone {ctx.tz!r}; give an IANA name such as Europe/Berlin"
        )
    return zi


def _instant(text, zi: ZoneInfo | None) -> tuple[int, int] | None | str:
    """ISO text -> (UTC µs, offset s); None if unparseable; ``"local"`` if no offset and no zone."""
    if not isinstance(text, str):
        return None
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if not YEAR_RANGE[0] <= dt.year <= YEAR_RANGE[1]:
        return None
    if dt.tzinfo is None:
        if zi is None:
            return "local"
        dt = dt.replace(tzinfo=zi)
    off = int(dt.utcoffset().total_seconds())
    if not OFFSET_RANGE_S[0] <= off <= OFFSET_RANGE_S[1]:
        return None
    return round(dt.timestamp() * US), off


def _number(value) -> float | None | str:
    """A JSON/CSV number as float; None when absent; ``"bad"`` when not a number."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "bad"
    try:
        out = float(value)
    except (TypeError, ValueError):
        return "bad"
    return "bad" if math.isnan(out) else out


def _no_offset_error(display: str, where: str, text: str) -> ImportFormatError:
    return ImportFormatError(
        f"{display}{where}: time {text!r} has no UTC offset and no time zone is known for this "
        "file; import it with --timezone <IANA zone>"
    )


class _Out:
    """Rows collected from documents: samples, segments, rejects (``record_no``, ``raw``)."""

    def __init__(self):
        self.samples: list[tuple] = []  # record_no, raw, metric, start_us, end_us, off, value
        self.segments: list[tuple] = []  # start_us, end_us, off, stage
        self.rejects: list[tuple] = []  # record_no, reason, raw


def _sleep_document(
    no: int, doc: dict, raw: str, zi: ZoneInfo | None, out: _Out, display: str, where: str
) -> None:
    if doc.get("type") == "deleted":
        out.rejects.append((no, "sleep period: type 'deleted' (deleted in the Oura app)", raw))
        return
    start = _instant(doc.get("bedtime_start"), zi)
    end = _instant(doc.get("bedtime_end"), zi)
    for name, got in (("bedtime_start", start), ("bedtime_end", end)):
        if got == "local":
            raise _no_offset_error(display, where, doc.get(name))
        if got is None:
            out.rejects.append(
                (
                    no,
                    f"{name}: {doc.get(name)!r} is not an ISO 8601 date-time "
                    "with offset like 2022-08-10T02:20:41-04:00",
                    raw,
                )
            )
            return
    (start_us, off), (end_us, _) = start, end
    if end_us <= start_us:
        out.rejects.append(
            (
                no,
                f"bedtime_end {doc.get('bedtime_end')} is not after "
                f"bedtime_start {doc.get('bedtime_start')}",
                raw,
            )
        )
        return

    phases = doc.get("sleep_phase_5_min")
    if phases not in (None, ""):
        n = len(phases) if isinstance(phases, str) else 0
        if not isinstance(phases, str) or not re.fullmatch(r"[1-4]+", phases):
            out.rejects.append(
                (
                    no,
                    "sleep_phase_5_min: not a string of the digits 1-4 "
                    "(1 deep, 2 light, 3 REM, 4 awake)",
                    raw,
                )
            )
        elif (n - 1) * EPOCH_S * US >= end_us - start_us:
            out.rejects.append(
                (
                    no,
                    f"sleep_phase_5_min: {n} five-minute phases do not fit "
                    f"between bedtime_start and bedtime_end "
                    f"({(end_us - start_us) / US / 60:g} min)",
                    raw,
                )
            )
        else:
            for m in re.finditer(r"1+|2+|3+|4+", phases):
                seg_start = start_us + m.start() * EPOCH_S * US
                seg_end = min(start_us + m.end() * EPOCH_S * US, end_us)
                out.segments.append((seg_start, seg_end, off, SLEEP_PHASES[m.group()[0]]))

    for name, metric in PERIOD_VALUES.items():
        value = _number(doc.get(name))
        if value == "bad":
            out.rejects.append((no, f"{name}: {doc.get(name)!r} is not a number", raw))
        elif value is not None:
            out.samples.append((no, raw, metric, start_us, end_us, off, value))

    hr = doc.get("heart_rate")
    if hr not in (None, "") and not isinstance(hr, dict):  # e.g. a CSV cell of broken JSON
        out.rejects.append(
            (no, "heart_rate: not an object {interval, items, timestamp} (its JSON is broken)", raw)
        )
    elif isinstance(hr, dict) and hr.get("items"):
        t0 = _instant(hr.get("timestamp"), zi)
        step = _number(hr.get("interval"))
        if t0 == "local":
            raise _no_offset_error(display, where, hr.get("timestamp"))
        if t0 is None or step in (None, "bad") or not 0 < step < math.inf:
            out.rejects.append(
                (no, "heart_rate: needs an ISO timestamp and a positive interval", raw)
            )
        else:
            for i, item in enumerate(hr["items"]):
                value = _number(item)
                if value is None:
                    continue  # a gap in the series
                t = t0[0] + round(i * step * US)
                if value == "bad":
                    out.rejects.append(
                        (no, f"heart_rate.items[{i}]: {item!r} is not a number", raw)
                    )
                else:
                    out.samples.append((no, raw, "heart_rate_bpm", t, t, off, value))


def _heart_rate_rows(
    rows: pl.DataFrame, zi: ZoneInfo | None, display: str, where_of
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``record_no, raw, timestamp, bpm`` (String) -> (sample rows, rejects)."""
    wall, off, has_off = parse_iso_local_us(pl.col("timestamp"))
    f = rows.with_columns(
        _wall=wall, _off=off, _has=has_off, value=pl.col("bpm").cast(pl.Float64, strict=False)
    )
    f = f.with_columns(
        _ok=pl.col("_wall").is_not_null()
        & year_of_us(pl.col("_wall")).is_between(*YEAR_RANGE)
        & (~pl.col("_has") | pl.col("_off").is_between(*OFFSET_RANGE_S))
    )
    bad_time = f.filter(~pl.col("_ok")).select(
        "record_no",
        "raw",
        reason=pl.format(
            "timestamp: {} is not an ISO 8601 date-time like 2021-01-01T01:02:03+00:00",
            pl.col("timestamp").fill_null("(empty)"),
        ),
    )
    f = f.filter(pl.col("_ok"))
    local = f.filter(~pl.col("_has"))
    if local.height and zi is None:
        first = local.row(0, named=True)
        raise _no_offset_error(display, where_of(first["record_no"]), first["timestamp"])
    if zi is not None and f.height:
        utc_local, _ = local_to_utc_us(f["_wall"], zi)
    else:
        utc_local = pl.Series([None] * f.height, dtype=pl.Int64)
    f = f.with_columns(
        _start_us=pl.when(pl.col("_has"))
        .then(pl.col("_wall") - pl.col("_off") * US)
        .otherwise(utc_local)
    )
    offsets = utc_offsets_s(f["_start_us"], zi) if zi is not None and f.height else f["_off"]
    f = f.with_columns(utc_offset_s=offsets)
    samples = f.select(
        "record_no",
        "raw",
        metric=pl.lit("heart_rate_bpm"),
        _start_us="_start_us",
        _end_us="_start_us",
        utc_offset_s="utc_offset_s",
        value="value",
    )
    return samples, bad_time


def _batches(
    out: _Out, hr: pl.DataFrame | None, hr_bad: pl.DataFrame | None, ctx: ImportContext
) -> Iterator[Batch]:
    pid = ctx.participant_id
    frames = [pl.DataFrame(out.samples, orient="row", schema=_ROW_SCHEMA)]
    if hr is not None:
        frames.append(hr.cast({k: v for k, v in _ROW_SCHEMA.items() if k in hr.columns}))
    smp = pl.concat(frames, how="vertical")
    good, implausible = split_by_range(smp)
    samples = good.select(
        participant_id=pl.lit(pid, pl.String),
        metric="metric",
        start_utc=pl.from_epoch("_start_us", time_unit="us").dt.replace_time_zone("UTC"),
        end_utc=pl.from_epoch("_end_us", time_unit="us").dt.replace_time_zone("UTC"),
        utc_offset_s="utc_offset_s",
        value="value",
        unit=pl.col("metric").replace_strict(SAMPLE_UNITS, return_dtype=pl.String),
        source=pl.lit(SOURCE),
        device=pl.lit(""),
        original_value=pl.lit(None, pl.Float64),
        original_unit=pl.lit(None, pl.String),
    ).cast(SAMPLES_SCHEMA)
    for i in range(0, samples.height, BATCH_ROWS):
        yield Batch("samples", samples.slice(i, BATCH_ROWS))
    if out.segments:
        seg = pl.DataFrame(
            out.segments,
            orient="row",
            schema={
                "_start_us": pl.Int64,
                "_end_us": pl.Int64,
                "utc_offset_s": pl.Int64,
                "stage": pl.String,
            },
        )
        yield Batch(
            "sleep_segments",
            seg.select(
                participant_id=pl.lit(pid, pl.String),
                start_utc=pl.from_epoch("_start_us", time_unit="us").dt.replace_time_zone("UTC"),
                end_utc=pl.from_epoch("_end_us", time_unit="us").dt.replace_time_zone("UTC"),
                utc_offset_s="utc_offset_s",
                stage="stage",
                source=pl.lit(SOURCE),
                device=pl.lit(""),
            ).cast(SLEEP_SCHEMA),
        )
    rej = [
        pl.DataFrame(
            out.rejects,
            orient="row",
            schema={"line_no": pl.Int64, "reason": pl.String, "raw": pl.String},
        ),
        implausible.select(line_no="record_no", reason="reason", raw="raw"),
    ]
    if hr_bad is not None:
        rej.append(hr_bad.select(line_no="record_no", reason="reason", raw="raw"))
    bad = rejected_batch(rej)
    if bad is not None:
        yield bad


READINESS_REASON = (
    "daily readiness: holds 1-100 contributor scores (resting_heart_rate, hrv_balance), not "
    "bpm or ms; the resting heart rate and HRV are imported from the sleep periods "
    "(lowest_heart_rate, average_hrv)"
)


def _other_reason(doc) -> str:
    fields = ", ".join(list(doc)[:12]) if isinstance(doc, dict) else type(doc).__name__
    return f"not an Oura sleep period or heart-rate document (fields: {fields})"


# --------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------


def _documents(doc) -> list:
    """Every document of a response, list, single document or bundle of collections."""
    if isinstance(doc, list):
        return doc
    if not isinstance(doc, dict):
        return [doc]
    if isinstance(doc.get("data"), list):
        return doc["data"]
    if _kind_of_fields(doc) is not None:
        return [doc]
    out = []
    for value in doc.values():
        if isinstance(value, list) or (
            isinstance(value, dict) and isinstance(value.get("data"), list)
        ):
            out.extend(_documents(value))
    return out


def read_json(path: Path, ctx: ImportContext) -> Iterator[Batch]:
    """Yield ``samples``, ``sleep_segments`` and ``rejected_rows`` from Oura JSON."""
    display = ctx.display_path or str(path)
    require_participant(ctx, display, "Oura exports")
    zi = _zone(ctx, display)
    text = "\n".join(read_lines(Path(path), display)["text"].to_list())
    doc = load_json(text, display)
    docs = _documents(doc)
    out = _Out()
    hr_rows: list[tuple] = []
    kinds: set[str] = set()
    for no, d in enumerate(docs, start=1):
        kind = _kind_of_fields(d) if isinstance(d, dict) else None
        kinds.add(kind or "other")
        raw = json.dumps(d, default=str)
        if kind == "sleep":
            _sleep_document(no, d, raw, zi, out, display, f" (document {no})")
        elif kind == "heartrate":
            hr_rows.append(
                (
                    no,
                    raw,
                    None if d.get("timestamp") is None else str(d["timestamp"]),
                    None if d.get("bpm") is None else str(d["bpm"]),
                )
            )
        elif kind == "readiness":
            out.rejects.append((no, READINESS_REASON, raw))
        else:
            out.rejects.append((no, _other_reason(d), raw))
    if not kinds & {"sleep", "heartrate"}:
        reason = (
            READINESS_REASON
            if "readiness" in kinds
            else "no documents"
            if not docs
            else _other_reason(docs[0])
        )
        raise ImportFormatError(
            f"{display}: no Oura sleep periods or heart rate to import: {reason}"
        )
    hr = pl.DataFrame(
        hr_rows,
        orient="row",
        schema={"record_no": pl.Int64, "raw": pl.String, "timestamp": pl.String, "bpm": pl.String},
    )
    samples, bad = _heart_rate_rows(hr, zi, display, lambda no: f" (document {no})")
    yield from _batches(out, samples, bad, ctx)


#: the JSON reader as an importer "module" for the registry (``FORMAT``, ``sniff``, ``read``)
JSON = SimpleNamespace(
    FORMAT=JSON_FORMAT, sniff=sniff_json, read=read_json, __name__=f"{__name__}.JSON"
)


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------


def _cell(name: str, value):
    """CSV cell -> document value (nested objects are JSON text)."""
    if name in NESTED_FIELDS and isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except (json.JSONDecodeError, RecursionError):  # rejected by the document's checks
            return value
    return value


def read(path: Path, ctx: ImportContext) -> Iterator[Batch]:
    """Yield ``samples``, ``sleep_segments`` and ``rejected_rows`` from an Oura CSV."""
    display = ctx.display_path or str(path)
    require_participant(ctx, display, "Oura exports")
    zi = _zone(ctx, display)
    lines = read_lines(Path(path), display)
    lines = lines.filter(pl.col("text").str.strip_chars() != "")
    head = lines.row(0, named=True)
    header = tuple(f.strip().strip('"').strip() for f in head["text"].split(","))
    kind = _kind_of_fields(header)
    if kind not in ("sleep", "heartrate") or len(set(header)) != len(header):
        raise ImportFormatError(
            f"{display}:{head['line_no']}: not an Oura CSV: the header must name "
            f"{','.join(HEART_RATE_FIELDS)} (heart rate) or {','.join(SLEEP_FIELDS)} (sleep "
            f"periods), each once; found {head['text'][:200]!r}"
        )
    records, bad_lines = split_csv(lines.slice(1), header)
    out = _Out()
    out.rejects.extend(bad_lines.select("line_no", "reason", "raw").iter_rows())
    if kind == "heartrate":
        hr = records.select(record_no="line_no", raw="raw", timestamp="timestamp", bpm="bpm")
        samples, bad = _heart_rate_rows(hr, zi, display, lambda no: f":{no}")
        yield from _batches(out, samples, bad, ctx)
        return
    for rec in records.iter_rows(named=True):
        no, raw = rec["line_no"], rec["raw"]
        doc = {k: _cell(k, v) for k, v in rec.items() if k not in ("line_no", "raw")}
        _sleep_document(no, doc, raw, zi, out, display, f":{no}")
    yield from _batches(out, None, None, ctx)
