"""Apple Health ``export.zip`` / ``export.xml`` importer (HealthKit Export Versions 3-14).

Three modules, read in this order:

* :mod:`pipeline.importers.apple_health_scan`: the byte-level tag scanner (deliberately not
  an XML parser, for speed and safety): the file streamed in chunks cut before a ``<``, each
  chunk split into tags, ``<Record>`` attributes taken vectorised, entities decoded;
* :mod:`pipeline.importers.apple_health_types`: the Apple type table and how types, units,
  dates, sleep stages and the rest map to canonical values;
* this module: format detection (:func:`sniff`), the reader that walks the scanned tags
  (structure, Correlation nesting, workouts, ``Me``), turns ``<Record>`` attributes into
  canonical rows or rejections, batches them, and counts everything (:class:`ImportSummary`).
  It also owns the tuning knobs (chunk size, batch rows, read-ahead, parse threads, limits).

The ``<Record>`` tags of a chunk are parsed in a worker thread (``PARSE_THREADS``) and the
results applied in file order, so the batches are the same whatever the number of threads.
Memory stays flat: one chunk plus one output batch per table.

Rows emitted (``Batch`` tables): ``participants`` (from ``<Me>``), ``samples``,
``sleep_segments``, ``workouts``, ``rejected_rows``. Batches hold up to ``BATCH_ROWS`` rows.

Decisions
---------
* ``record_no`` of a rejected ``Record`` is its 1-based ordinal among all ``<Record`` start
  tags in the file, records nested in a ``Correlation`` included (line numbers are not
  tracked). Rejected workouts and file-level problems (truncation) have a NULL
  ``record_no``; the reason names the workout's ordinal.
* Records inside a ``Correlation`` are skipped (Apple repeats them at top level).
* Record types not in :data:`QUANTITY_TYPES` / sleep are skipped by design and counted per
  type in :attr:`AppleHealthReader.summary` (``unmapped_types``) and in the log; no batch is
  emitted for them. The count check ``records_seen == samples + sleep_segments +
  records_rejected + records_in_correlations + sum(unmapped_types)`` is verified at the end
  of every read (``RuntimeError`` if rows were lost).
* Workout totals: ``WorkoutStatistics`` children (iOS 16+) win over the older
  ``totalEnergyBurned`` / ``totalDistance`` attributes; distance sums every
  ``HKQuantityTypeIdentifierDistance*`` statistic. Statistics inside a ``WorkoutActivity``
  are ignored (they repeat the workout-level ones).
* Apple writes ``OxygenSaturation`` as a fraction with unit ``%``; it is multiplied by 100.
* A record or workout dated outside the years 1900-2100 (UTC), or with an offset outside
  -12:00..+14:00, is rejected with the reason, as in the other importers; a unit not in
  :data:`QUANTITY_TYPES` for its type (``count/s`` for heart rate) is rejected, not guessed.
* A truncated export.xml yields everything complete and one ``rejected_rows`` row whose
  reason starts with ``truncated export``.
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import polars as pl

from detectors import tables
from pipeline import normalize
from pipeline.importers import MAX_RAW_CHARS, MAX_REASON_CHARS, Batch, ImportContext, rejected
from pipeline.importers._archive import ZipLimits, is_zip, open_member
from pipeline.importers._common import OFFSET_RANGE_S, YEAR_RANGE
from pipeline.importers.apple_health_scan import (
    _TAG_NAME,
    _attrs,
    _chunk_tags,
    _chunks,
    _decode_column,
    _record_attrs,
    _skip_prolog,
    xml_unescape,
)
from pipeline.importers.apple_health_types import (
    _DEVICE_POINTER,
    _DURATION_S,
    _MAPPED_TYPES,
    _Q,
    _QMAP,
    _SLEEP_VALUE_PREFIX,
    DATE_FORMAT,
    QUANTITY_TYPES,
    SEXES,
    SLEEP_STAGES,
    SLEEP_TYPE,
    _convert_opt,
    _float,
    _parse_date,
    _parse_dates,
    _snake,
    _unit_key,
)

FORMAT = "apple_health"

#: the public names; the type table and ``xml_unescape`` are re-exported from the sibling
#: modules for the callers and tests that import them from here
__all__ = [
    "BATCH_ROWS",
    "CHUNK_BYTES",
    "DATE_FORMAT",
    "FORMAT",
    "MAX_PROLOG_BYTES",
    "MAX_TAG_BYTES",
    "PARSE_THREADS",
    "PARTICIPANTS_SCHEMA",
    "QUANTITY_TYPES",
    "READ_AHEAD_CHUNKS",
    "SAMPLES_SCHEMA",
    "SEXES",
    "SLEEP_SCHEMA",
    "SLEEP_STAGES",
    "SLEEP_TYPE",
    "WORKOUTS_SCHEMA",
    "AppleHealthReader",
    "ImportSummary",
    "read",
    "sniff",
    "xml_unescape",
]

log = logging.getLogger(__name__)

#: bytes read per chunk (~50k records); smaller chunks stay in cache: 8-16 MiB measured
#: fastest and leanest on the 2-core reference box (64 MiB: 2x the RSS and slower)
CHUNK_BYTES = 16 * 1024**2
#: rows per emitted batch (a batch is flushed once a table's buffer reaches this size)
BATCH_ROWS = 250_000
#: chunks read ahead by a background thread (for export.zip: inflated on the other core)
READ_AHEAD_CHUNKS = 2
#: chunks whose ``<Record>`` tags are parsed at the same time, in worker threads (polars
#: releases the GIL); results are applied in file order, so batches do not change.
#: 1: parse in the reader's own thread
PARSE_THREADS = 2
#: the prolog (XML declaration + internal DTD) must end within this many bytes
MAX_PROLOG_BYTES = 16 * 1024**2
#: a single tag longer than this means the file is not an Apple export
MAX_TAG_BYTES = 64 * 1024**2

_UTC = pl.Datetime("us", "UTC")

SAMPLES_SCHEMA = tables.rows("samples")
SLEEP_SCHEMA = tables.rows("sleep_segments")
WORKOUTS_SCHEMA = tables.rows("workouts")
PARTICIPANTS_SCHEMA = tables.columns("participants", ["participant_id", "sex", "birth_year"])


# --------------------------------------------------------------------------- sniff


def sniff(head: bytes, name: str) -> bool:
    """True for an Apple Health export.xml (or the export.xml member of export.zip).

    The file must start as XML (``<?xml`` or ``<!DOCTYPE`` after an optional BOM) and
    carry the ``HealthData`` root, so a text file that merely mentions it is not taken.
    """
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not (
        start.startswith(b"<?xml")
        or start.startswith(b"<!DOCTYPE")
        or start.startswith(b"<HealthData")
    ):
        return False
    return b"<HealthData" in head or b"<!DOCTYPE HealthData" in head


# --------------------------------------------------------------------------- summary


@dataclass
class ImportSummary:
    """What one read saw; ``check()`` verifies that no ``<Record`` was lost silently."""

    records_seen: int = 0  # <Record start tags, nested ones included
    samples: int = 0
    sleep_segments: int = 0
    records_rejected: int = 0
    records_in_correlations: int = 0  # skipped by design
    unmapped_types: Counter[str] = field(default_factory=Counter)  # skipped by design
    workouts: int = 0
    workouts_rejected: int = 0
    participants: int = 0
    truncated: bool = False
    member: str | None = None  # zip member read, None for a bare export.xml
    bytes_read: int = 0

    @property
    def records_accounted(self) -> int:
        return (
            self.samples
            + self.sleep_segments
            + self.records_rejected
            + self.records_in_correlations
            + sum(self.unmapped_types.values())
        )

    def check(self) -> None:
        if self.records_accounted != self.records_seen:
            raise RuntimeError(
                f"apple_health count check failed: {self.records_seen} <Record> tags seen, "
                f"{self.records_accounted} accounted for ({self})"
            )


# --------------------------------------------------------------------------- reader


class AppleHealthReader(Iterator[Batch]):
    """Iterator of batches for one export; ``summary`` is complete once exhausted."""

    def __init__(
        self,
        path: Path,
        ctx: ImportContext,
        *,
        limits: ZipLimits,
        chunk_bytes: int,
        batch_rows: int,
    ):
        if not ctx.participant_id:
            raise ValueError(
                f"{ctx.display_path or path}: Apple Health exports carry no participant id; "
                "pass ImportContext(participant_id=...)"
            )
        self.path = Path(path)
        self.ctx = ctx
        self.display = ctx.display_path or str(path)
        self.limits = limits
        self.chunk_bytes = max(int(chunk_bytes), 1024)
        self.batch_rows = batch_rows
        self.summary = ImportSummary()
        # state carried across chunks
        self._corr_depth = 0
        self._activity_depth = 0
        self._workout: dict | None = None  # open <Workout> awaiting </Workout>
        self._workout_no = 0
        self._end_seen = False
        self._buffers: dict[str, list[pl.DataFrame]] = {
            "samples": [],
            "sleep_segments": [],
            "workouts": [],
            "rejected_rows": [],
        }
        self._buffered: dict[str, int] = dict.fromkeys(self._buffers, 0)
        self._workout_rows: list[tuple] = []
        self._pending_me: pl.DataFrame | None = None
        # chunks whose records are being parsed, in file order (with a cut-off last tag)
        self._parsing: deque[tuple[Future, str | None]] = deque()
        self._gen = self._run()

    def __iter__(self) -> AppleHealthReader:
        return self

    def __next__(self) -> Batch:
        return next(self._gen)

    def close(self) -> None:
        self._gen.close()

    # ------------------------------------------------------------------ streaming

    def _run(self) -> Iterator[Batch]:
        if is_zip(self.path):
            with open_member(
                self.path, _select_member, limits=self.limits, display=self.display
            ) as (stream, member):
                self.summary.member = member
                yield from self._read_stream(stream)
        else:
            with open(self.path, "rb") as stream:
                yield from self._read_stream(stream)
        self.summary.check()
        s = self.summary
        log.info(
            "%s: %d records: %d samples, %d sleep segments, %d rejected, %d in "
            "correlations, %d of unmapped types %s; %d workouts%s",
            self.display,
            s.records_seen,
            s.samples,
            s.sleep_segments,
            s.records_rejected,
            s.records_in_correlations,
            sum(s.unmapped_types.values()),
            dict(s.unmapped_types.most_common()),
            s.workouts,
            " (TRUNCATED)" if s.truncated else "",
        )

    def _read_stream(self, stream: BinaryIO) -> Iterator[Batch]:
        pending = _skip_prolog(
            stream.read,
            self.chunk_bytes,
            max_prolog_bytes=MAX_PROLOG_BYTES,
            count=self._count_bytes,
            display=self.display,
        )
        workers = (
            ThreadPoolExecutor(PARSE_THREADS, thread_name_prefix="apple-health-parse")
            if PARSE_THREADS > 1
            else None
        )
        try:
            for text, final in _chunks(
                stream.read,
                pending,
                self.chunk_bytes,
                depth=READ_AHEAD_CHUNKS,
                max_tag_bytes=MAX_TAG_BYTES,
                count=self._count_bytes,
                display=self.display,
            ):
                yield from self._process_chunk(text, final, workers)
                yield from self._apply_parsed(keep=PARSE_THREADS - 1)
            yield from self._apply_parsed(keep=0)
        finally:
            if workers is not None:
                workers.shutdown(wait=True, cancel_futures=True)
        yield from self._finish()
        yield from self._flush(final=True)

    def _count_bytes(self, n: int) -> None:
        self.summary.bytes_read += n

    def _apply_parsed(self, keep: int) -> Iterator[Batch]:
        """Apply parsed chunks in file order until ``keep`` are left in progress; flush."""
        while len(self._parsing) > keep:
            job, partial = self._parsing.popleft()
            part: _ChunkRecords = job.result()
            for table, frame in part.out:
                self._buffer(table, frame)
            s, p = self.summary, part.summary
            s.samples += p.samples
            s.sleep_segments += p.sleep_segments
            s.records_rejected += p.records_rejected
            s.unmapped_types.update(p.unmapped_types)
            if partial is not None:
                self._truncated_tag(partial)
            yield from self._flush(final=False)

    # ------------------------------------------------------------------ one chunk

    def _process_chunk(
        self, data: bytes, final: bool, workers: ThreadPoolExecutor | None = None
    ) -> Iterator[Batch]:
        toks, partial = _chunk_tags(data, final)
        del data
        # --- classify
        toks = toks.with_columns(
            is_rec=pl.col("t").str.contains(r"^Record(?:[\s/>]|$)").fill_null(False),
            is_struct=pl.col("t")
            .str.contains(
                r"^/?(?:Correlation|Workout|WorkoutActivity|WorkoutStatistics|Me|HealthData)"
                r"[\s/>]"
            )
            .fill_null(False),
        )
        n_rec = int(toks["is_rec"].sum())
        first_rec_no = self.summary.records_seen
        self.summary.records_seen += n_rec
        struct = toks.filter("is_struct").select("tok", "t")
        nested = self._structure(struct, toks.height)
        yield from self._participants_batch()
        recs = (
            toks.filter("is_rec")
            .select("tok", "t")
            .with_columns(
                rec_no=pl.int_range(first_rec_no + 1, first_rec_no + n_rec + 1, dtype=pl.Int64)
            )
        )
        del toks
        if nested is not None:
            mask = pl.Series(nested[recs["tok"].to_numpy()])
            self.summary.records_in_correlations += int(mask.sum())
            recs = recs.filter(~mask)
        # the records: parsed by a worker (applied later, in order) or here
        job: Future = Future()
        if workers is not None:
            job = workers.submit(_ChunkRecords.parse, self.ctx, recs)
        else:
            job.set_result(_ChunkRecords.parse(self.ctx, recs))
        self._parsing.append((job, partial))

    def _structure(self, struct: pl.DataFrame, n_tokens: int) -> np.ndarray | None:
        """Walk structural tags: Correlation nesting, workouts, Me, end of document.

        Returns a boolean array over the chunk's tokens, True inside a Correlation, or None
        when no token of this chunk is inside one.
        """
        corr_marks: list[tuple[int, int]] = []
        start_depth = self._corr_depth
        for tok, t in struct.iter_rows():
            self_closing = t.rstrip().endswith("/>")
            name = _TAG_NAME.match(t).group(1)
            if name == "Correlation":
                if not self_closing:
                    self._corr_depth += 1
                    corr_marks.append((tok, 1))
            elif name == "/Correlation":
                self._corr_depth = max(self._corr_depth - 1, 0)
                corr_marks.append((tok, -1))
            elif name == "Workout":
                self._open_workout(t, self_closing)
            elif name == "/Workout":
                self._close_workout()
            elif name == "WorkoutActivity":
                if not self_closing:
                    self._activity_depth += 1
            elif name == "/WorkoutActivity":
                self._activity_depth = max(self._activity_depth - 1, 0)
            elif name == "WorkoutStatistics":
                if self._workout is not None and self._activity_depth == 0:
                    self._workout["stats"].append(_attrs(t))
            elif name == "Me":
                self._me(t)
            elif name == "/HealthData":
                self._end_seen = True
        if not corr_marks and start_depth == 0:
            return None
        delta = np.zeros(n_tokens + 1, dtype=np.int32)
        delta[0] = start_depth
        for tok, d in corr_marks:
            # an opening tag counts from the token after it; a closing tag from itself
            delta[tok + 1 if d > 0 else tok] += d
        depth = np.cumsum(delta)[:n_tokens]
        return depth > 0

    # ------------------------------------------------------------------ records

    def _records(self, recs: pl.DataFrame) -> None:
        if recs.height == 0:
            return
        df = _record_attrs(recs)
        df = df.with_columns(original_unit=pl.col("unit"))
        device = pl.col("device")
        if not df.get_column("device").str.contains("&#", literal=True).any():
            # the HKDevice address out before the entities are decoded: a named entity
            # cannot form, end or hide it (only a character reference could), and an export
            # whose address changes with every record is left with a few distinct values
            # to decode instead of one per record
            df = df.with_columns(device.str.replace(_DEVICE_POINTER, "HKDevice"))
        else:
            device = device.str.replace(_DEVICE_POINTER, "HKDevice")
        for col in ("type", "source", "device", "value", "original_unit"):
            df = _decode_column(df, col)
        df = _decode_column(df.with_columns(unit=pl.col("original_unit")), "unit", extra=_unit_key)
        df = df.with_columns(pl.col("source").fill_null(""), device.fill_null(""))

        # malformed tags
        bad = df.filter("malformed")
        if bad.height:
            self._reject_records(
                bad, recs, pl.lit("malformed <Record> tag (no type attribute or unterminated)")
            )
            df = df.filter(~pl.col("malformed"))

        # unmapped types: counted, skipped by design
        mapped = pl.col("type").is_in(_MAPPED_TYPES)
        unmapped = df.filter(~mapped)
        if unmapped.height:
            for typ, n in unmapped.group_by("type").len().iter_rows():
                self.summary.unmapped_types[typ] += n
            df = df.filter(mapped)
        if df.height == 0:
            return

        # dates: cheap checks on every row, reasons only for the failing ones
        start_utc, start_off = _parse_dates(df, "start")
        end_utc, end_off = _parse_dates(df, "end")
        df = df.with_columns(
            start_utc=start_utc, end_utc=end_utc, utc_offset_s=start_off, _end_off=end_off
        )
        # far past/future dates (0001-01-01, 2200) and offsets no zone has are not data
        years = {c: pl.col(c).dt.year().is_between(*YEAR_RANGE) for c in ("start_utc", "end_utc")}
        offsets = {c: pl.col(c).is_between(*OFFSET_RANGE_S) for c in ("utc_offset_s", "_end_off")}
        dates_ok = (
            pl.col("start_utc").is_not_null()
            & pl.col("utc_offset_s").is_not_null()
            & pl.col("end_utc").is_not_null()
            & (pl.col("end_utc") >= pl.col("start_utc"))
            & years["start_utc"]
            & years["end_utc"]
            & offsets["utc_offset_s"]
            & offsets["_end_off"]
        )
        df = df.with_columns(ok=dates_ok.fill_null(False))
        bad = df.filter(~pl.col("ok"))
        if bad.height:
            span = f"outside the years {YEAR_RANGE[0]}-{YEAR_RANGE[1]}"
            zones = "UTC offset outside -12:00..+14:00"
            self._reject_records(
                bad,
                recs,
                (
                    pl.when(pl.col("start_utc").is_null() | pl.col("utc_offset_s").is_null())
                    .then(pl.format("unparseable startDate '{}'", pl.col("start").fill_null("")))
                    .when(pl.col("end_utc").is_null())
                    .then(pl.format("unparseable endDate '{}'", pl.col("end").fill_null("")))
                    .when(~years["start_utc"])
                    .then(pl.format(f"startDate '{{}}' {span}", pl.col("start")))
                    .when(~years["end_utc"])
                    .then(pl.format(f"endDate '{{}}' {span}", pl.col("end")))
                    .when(~offsets["utc_offset_s"])
                    .then(pl.format(f"startDate '{{}}': {zones}", pl.col("start")))
                    .when(~offsets["_end_off"])
                    .then(pl.format(f"endDate '{{}}': {zones}", pl.col("end")))
                    .otherwise(pl.lit("endDate before startDate"))
                ),
            )
            df = df.filter("ok")
        df = df.drop("_end_off")
        is_sleep = pl.col("type") == SLEEP_TYPE
        sleep = df.filter(is_sleep)
        if sleep.height:
            self._sleep(sleep, recs)
        qty = df.filter(~is_sleep)
        if qty.height:
            self._quantities(qty, recs)

    def _quantities(self, df: pl.DataFrame, recs: pl.DataFrame) -> None:
        df = df.join(_QMAP, left_on=["type", "unit"], right_on=["type", "unit_key"], how="left")
        orig = pl.col("value").cast(pl.Float64, strict=False)
        df = df.with_columns(original_value=orig, value_c=orig * pl.col("scale") + pl.col("offset"))
        v = pl.col("value_c")
        ok = (
            pl.col("metric").is_not_null()
            & v.is_not_null()
            & v.is_not_nan()
            & (v >= pl.col("lo"))
            & (v <= pl.col("hi"))
        )
        df = df.with_columns(ok=ok.fill_null(False))
        bad = df.filter(~pl.col("ok"))
        if bad.height:
            self._reject_records(
                bad,
                recs,
                (
                    pl.when(pl.col("metric").is_null())
                    .then(
                        pl.format(
                            "{}: unsupported unit '{}'",
                            pl.col("type"),
                            pl.col("original_unit").fill_null("(none)"),
                        )
                    )
                    .otherwise(
                        normalize.range_violation_by(
                            pl.col("metric"), v, pl.col("lo"), pl.col("hi"), pl.col("range_text")
                        )
                    )
                ),
            )
        good = df.filter("ok")
        if good.height:
            out = good.select(
                participant_id=pl.lit(self.ctx.participant_id, dtype=pl.String),
                metric="metric",
                start_utc="start_utc",
                end_utc="end_utc",
                utc_offset_s="utc_offset_s",
                value="value_c",
                unit="canon_unit",
                source="source",
                device="device",
                original_value="original_value",
                original_unit="original_unit",
            ).cast(SAMPLES_SCHEMA)
            self._buffer("samples", out)
            self.summary.samples += out.height

    def _sleep(self, df: pl.DataFrame, recs: pl.DataFrame) -> None:
        stages = {_SLEEP_VALUE_PREFIX + k: v for k, v in SLEEP_STAGES.items()}
        df = df.with_columns(
            stage=pl.col("value").replace_strict(stages, default=None, return_dtype=pl.String)
        )
        bad = df.filter(pl.col("stage").is_null())
        if bad.height:
            self._reject_records(
                bad,
                recs,
                pl.format("sleep: unknown stage value '{}'", pl.col("value").fill_null("(none)")),
            )
        good = df.filter(pl.col("stage").is_not_null())
        if good.height:
            out = good.select(
                participant_id=pl.lit(self.ctx.participant_id, dtype=pl.String),
                start_utc="start_utc",
                end_utc="end_utc",
                utc_offset_s="utc_offset_s",
                stage="stage",
                source="source",
                device="device",
            ).cast(SLEEP_SCHEMA)
            self._buffer("sleep_segments", out)
            self.summary.sleep_segments += out.height

    def _reject_records(self, bad: pl.DataFrame, recs: pl.DataFrame, reason: pl.Expr) -> None:
        out = (
            bad.select("tok", "rec_no", reason=reason)
            .join(recs.select("tok", "t"), on="tok", how="left")
            .select(
                record_no=pl.col("rec_no").cast(pl.Int64),
                reason=pl.col("reason").str.head(MAX_REASON_CHARS),
                raw=("<" + pl.col("t").str.strip_chars_end()).str.head(MAX_RAW_CHARS),
            )
        )
        self._buffer("rejected_rows", out)
        self.summary.records_rejected += out.height

    # ------------------------------------------------------------------ structural elements

    def _open_workout(self, tag: str, self_closing: bool) -> None:
        if self._workout is not None:  # unterminated previous workout: close it as is
            self._close_workout()
        self._workout_no += 1
        self._workout = {"no": self._workout_no, "tag": tag, "attrs": _attrs(tag), "stats": []}
        self._activity_depth = 0
        if self_closing:
            self._close_workout()

    def _close_workout(self) -> None:
        w, self._workout = self._workout, None
        self._activity_depth = 0
        if w is None:
            return
        a = w["attrs"]
        start, end = _parse_date(a.get("startDate")), _parse_date(a.get("endDate"))
        problem = None
        if start is None:
            problem = f"unparseable startDate {a.get('startDate')!r}"
        elif end is None:
            problem = f"unparseable endDate {a.get('endDate')!r}"
        elif end[0] < start[0]:
            problem = "endDate before startDate"
        elif bad := _date_problem(start, "startDate", a) or _date_problem(end, "endDate", a):
            problem = bad
        elif not a.get("workoutActivityType"):
            problem = "no workoutActivityType"
        if problem:
            self._reject_other(f"workout #{w['no']}: {problem}", w["tag"])
            self.summary.workouts_rejected += 1
            return
        duration = _float(a.get("duration"))
        dur_unit = _DURATION_S.get(a.get("durationUnit", "min"))
        duration_s = (
            duration * dur_unit
            if duration is not None and dur_unit is not None
            else (end[0] - start[0]).total_seconds()
        )
        energy = _sum_stats(w["stats"], lambda t: t == _Q + "ActiveEnergyBurned", "kcal")
        if energy is None:
            energy = _convert_opt(
                a.get("totalEnergyBurned"), a.get("totalEnergyBurnedUnit"), "kcal"
            )
        distance = _sum_stats(w["stats"], lambda t: t.startswith(_Q + "Distance"), "m")
        if distance is None:
            distance = _convert_opt(a.get("totalDistance"), a.get("totalDistanceUnit"), "m")
        self._workout_rows.append(
            (
                self.ctx.participant_id,
                _snake(a["workoutActivityType"]),
                start[0],
                end[0],
                start[1],
                duration_s,
                energy,
                distance,
                a.get("sourceName", ""),
                re.sub(_DEVICE_POINTER, "HKDevice", a.get("device", "")),
            )
        )
        self.summary.workouts += 1

    def _me(self, tag: str) -> None:
        a = _attrs(tag)
        dob = a.get("HKCharacteristicTypeIdentifierDateOfBirth", "")
        m = re.match(r"^(\d{4})-\d{2}-\d{2}", dob)
        sex = SEXES.get(a.get("HKCharacteristicTypeIdentifierBiologicalSex", ""))
        self._pending_me = pl.DataFrame(
            {
                "participant_id": [self.ctx.participant_id],
                "sex": [sex],
                "birth_year": [int(m.group(1)) if m else None],
            },
            schema=PARTICIPANTS_SCHEMA,
        )

    def _participants_batch(self) -> Iterator[Batch]:
        me = self._pending_me
        if me is not None:
            self._pending_me = None
            self.summary.participants += 1
            yield Batch("participants", me)

    def _reject_other(self, reason: str, raw: str) -> None:
        self._buffer("rejected_rows", rejected([None], [reason], ["<" + raw.rstrip()]).frame)

    def _truncated_tag(self, partial: str) -> None:
        """Record the incomplete last tag of a truncated file."""
        if re.match(r"^Record(?:[\s/>]|$)", partial):
            self.summary.records_seen += 1
            rec_no = self.summary.records_seen
            self._buffer(
                "rejected_rows",
                rejected(
                    [rec_no], ["truncated export: <Record> cut off at end of file"], ["<" + partial]
                ).frame,
            )
            self.summary.records_rejected += 1

    def _finish(self) -> Iterator[Batch]:
        if not self._end_seen:
            self.summary.truncated = True
            if self._workout is not None:
                w, self._workout = self._workout, None
                self._reject_other(
                    f"truncated export: workout #{w['no']} cut off at end of file", w["tag"]
                )
                self.summary.workouts_rejected += 1
            self._reject_other(
                f"truncated export: file ends without </HealthData> after "
                f"{self.summary.records_seen} <Record> tags ({self.summary.bytes_read} bytes)",
                "",
            )
        yield from ()

    # ------------------------------------------------------------------ batching

    def _buffer(self, table: str, frame: pl.DataFrame) -> None:
        self._buffers[table].append(frame)
        self._buffered[table] += frame.height

    def _flush(self, *, final: bool) -> Iterator[Batch]:
        if self._workout_rows and (final or len(self._workout_rows) >= self.batch_rows):
            rows, self._workout_rows = self._workout_rows, []
            self._buffer("workouts", pl.DataFrame(rows, orient="row", schema=WORKOUTS_SCHEMA))
        # all tables are flushed together: buffered strings are views into the chunks they
        # came from, so a small table held to the end would keep every chunk alive
        full = final or any(n >= self.batch_rows for n in self._buffered.values())
        for table, frames in self._buffers.items():
            if frames and full:
                frame = pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]
                self._buffers[table] = []
                self._buffered[table] = 0
                yield Batch(table, frame)


class _ChunkRecords(AppleHealthReader):
    """The rows and counts from one chunk's ``<Record>`` tags, parsed in a worker thread.

    It borrows the reader's record methods (``_records``, ``_quantities``, ``_sleep``,
    ``_reject_records``, which use only ``ctx``, ``summary`` and ``_buffer``) but collects
    into its own ``out`` and ``summary``; the reader applies them in file order.
    """

    def __init__(self, ctx: ImportContext):  # not the reader's: nothing is read here
        self.ctx = ctx
        self.summary = ImportSummary()
        self.out: list[tuple[str, pl.DataFrame]] = []

    def _buffer(self, table: str, frame: pl.DataFrame) -> None:
        self.out.append((table, frame))

    @classmethod
    def parse(cls, ctx: ImportContext, recs: pl.DataFrame) -> _ChunkRecords:
        part = cls(ctx)
        part._records(recs)
        return part


# --------------------------------------------------------------------------- helpers


def _date_problem(parsed: tuple, name: str, attrs: dict[str, str]) -> str | None:
    """Why a parsed workout date (instant, offset s) is not data: a year outside
    :data:`YEAR_RANGE` or an offset no zone has, else None."""
    if not YEAR_RANGE[0] <= parsed[0].year <= YEAR_RANGE[1]:
        return f"{name} {attrs.get(name)!r} outside the years {YEAR_RANGE[0]}-{YEAR_RANGE[1]}"
    if not OFFSET_RANGE_S[0] <= parsed[1] <= OFFSET_RANGE_S[1]:
        return f"{name} {attrs.get(name)!r}: UTC offset outside -12:00..+14:00"
    return None


def _sum_stats(stats: list[dict[str, str]], want, to_unit: str) -> float | None:
    total, found = 0.0, False
    for st in stats:
        if want(st.get("type", "")):
            v = _convert_opt(st.get("sum"), st.get("unit"), to_unit)
            if v is not None:
                total += v
                found = True
    return total if found else None


def _select_member(infos: list[zipfile.ZipInfo], zf: zipfile.ZipFile) -> zipfile.ZipInfo | None:
    """``apple_health_export/export.xml``, else any ``*/export.xml``, else the one ``.xml``
    whose head holds ``<HealthData`` (localised exports: eksport.xml, exportar.xml, ...)."""
    by_name = {i.filename: i for i in infos}
    if "apple_health_export/export.xml" in by_name:
        return by_name["apple_health_export/export.xml"]
    named = sorted(
        (
            i
            for i in infos
            if i.filename.lower() == "export.xml" or i.filename.lower().endswith("/export.xml")
        ),
        key=lambda i: (i.filename.count("/"), i.filename),
    )
    if named:
        return named[0]
    for info in sorted(infos, key=lambda i: (i.filename.count("/"), i.filename)):
        low = info.filename.lower()
        if (
            low.endswith(".xml")
            and not low.endswith("export_cda.xml")
            and info.filename.count("/") <= 1
        ):
            with zf.open(info) as fh:
                if sniff(fh.read(65536), info.filename):
                    return info
    return None


# --------------------------------------------------------------------------- entry point


def read(
    path: Path,
    ctx: ImportContext,
    *,
    limits: ZipLimits | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    batch_rows: int = BATCH_ROWS,
) -> AppleHealthReader:
    """Stream an Apple Health ``export.zip`` or ``export.xml`` as canonical batches.

    Returns an iterator of :class:`~pipeline.importers.Batch`; after it is exhausted its
    ``summary`` (:class:`ImportSummary`) holds the counts, including skipped record types.
    Raises ``ImportFormatError`` (naming the file) for a file that is not an Apple Health
    export, a corrupt zip or an unsafe archive (see :mod:`pipeline.importers._archive`).
    """
    return AppleHealthReader(
        Path(path),
        ctx,
        limits=limits or ZipLimits(),
        chunk_bytes=chunk_bytes,
        batch_rows=batch_rows,
    )
