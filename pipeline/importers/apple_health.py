"""Apple Health ``export.zip`` / ``export.xml`` importer (HealthKit Export Versions 3-14).

Design
------
The export is streamed in byte chunks (``CHUNK_BYTES``), each cut just before a ``<``, so a
chunk always holds whole tags. polars' CSV reader, with ``<`` as its line terminator and no
quoting, turns a chunk into one string per tag without a Python object per tag (an attribute
value cannot hold a raw ``<``, so this is exact whatever the line layout). Each ``<Record``
tag is then split at ``"`` (a value cannot hold a raw ``"`` either), which alternates
attribute names and values; rows are grouped by their sequence of names (a handful of
layouts per export, any attribute order) and each attribute is taken from its field with
one vectorised select per layout. Tags that are not plain double-quoted pairs (single
quotes, entities in names, unterminated tags) go to a slower, still vectorised, tokeniser.
Only the rare structural tags (``Workout``, ``WorkoutStatistics``, ``Correlation``, ``Me``)
go through Python. Memory stays flat: one chunk plus one output batch per table.

It is not an XML parser: the prolog and internal DTD are skipped unread (no entity is ever
expanded, nothing is fetched), entity references in attribute values are decoded for the five
predefined entities and numeric character references only (anything else, e.g. ``&lol9;``,
is kept literally), and control characters such as ``\\x0b`` pass through untouched.
Comments are removed; CDATA sections do not occur in Apple exports and are not handled.

The Apple type table and how types, units and dates map to canonical values live in
:mod:`pipeline.importers.apple_health_types`.

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
* A truncated export.xml yields everything complete and one ``rejected_rows`` row whose
  reason starts with ``truncated export``.
"""

from __future__ import annotations

import io
import logging
import queue
import re
import threading
import zipfile
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import polars as pl

from pipeline import normalize
from pipeline.importers import Batch, ImportContext, ImportFormatError, rejected
from pipeline.importers._archive import ZipLimits, is_zip, open_member
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

#: the public names; the type table is re-exported from
#: :mod:`pipeline.importers.apple_health_types` for the callers and tests that import it from here
__all__ = [
    "BATCH_ROWS", "CHUNK_BYTES", "DATE_FORMAT", "FORMAT", "MAX_PROLOG_BYTES", "MAX_TAG_BYTES",
    "PARSE_THREADS", "PARTICIPANTS_SCHEMA", "QUANTITY_TYPES", "READ_AHEAD_CHUNKS",
    "SAMPLES_SCHEMA", "SEXES", "SLEEP_SCHEMA", "SLEEP_STAGES", "SLEEP_TYPE", "WORKOUTS_SCHEMA",
    "AppleHealthReader", "ImportSummary", "read", "sniff", "xml_unescape",
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

SAMPLES_SCHEMA = {
    "participant_id": pl.String, "metric": pl.String, "start_utc": _UTC, "end_utc": _UTC,
    "utc_offset_s": pl.Int32, "value": pl.Float64, "unit": pl.String, "source": pl.String,
    "device": pl.String, "original_value": pl.Float64, "original_unit": pl.String,
}
SLEEP_SCHEMA = {
    "participant_id": pl.String, "start_utc": _UTC, "end_utc": _UTC, "utc_offset_s": pl.Int32,
    "stage": pl.String, "source": pl.String, "device": pl.String,
}
WORKOUTS_SCHEMA = {
    "participant_id": pl.String, "activity_type": pl.String, "start_utc": _UTC,
    "end_utc": _UTC, "utc_offset_s": pl.Int32, "duration_s": pl.Float64,
    "active_energy_kcal": pl.Float64, "distance_m": pl.Float64, "source": pl.String,
    "device": pl.String,
}
PARTICIPANTS_SCHEMA = {"participant_id": pl.String, "sex": pl.String, "birth_year": pl.Int32}


# --------------------------------------------------------------------------- sniff


def sniff(head: bytes, name: str) -> bool:
    """True for an Apple Health export.xml (or the export.xml member of export.zip).

    The file must start as XML (``<?xml`` or ``<!DOCTYPE`` after an optional BOM) and
    carry the ``HealthData`` root, so a text file that merely mentions it is not taken.
    """
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not (start.startswith(b"<?xml") or start.startswith(b"<!DOCTYPE")
            or start.startswith(b"<HealthData")):
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
        return (self.samples + self.sleep_segments + self.records_rejected
                + self.records_in_correlations + sum(self.unmapped_types.values()))

    def check(self) -> None:
        if self.records_accounted != self.records_seen:
            raise RuntimeError(
                f"apple_health count check failed: {self.records_seen} <Record> tags seen, "
                f"{self.records_accounted} accounted for ({self})")


# --------------------------------------------------------------------------- entities

_ENTITY = re.compile(r"&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#[xX]([0-9A-Fa-f]{1,6}));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _xml_char_ok(cp: int) -> bool:
    return (cp in (0x9, 0xA, 0xD) or 0x20 <= cp <= 0xD7FF or 0xE000 <= cp <= 0xFFFD
            or 0x10000 <= cp <= 0x10FFFF)


def _entity(m: re.Match[str]) -> str:
    if m.group(1):
        return _NAMED[m.group(1)]
    cp = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
    return chr(cp) if _xml_char_ok(cp) else m.group(0)


def xml_unescape(text: str) -> str:
    """Decode the predefined XML entities and character references; nothing else."""
    return _ENTITY.sub(_entity, text) if "&" in text else text


def _decode_column(df: pl.DataFrame, col: str, extra=None) -> pl.DataFrame:
    """Decode entities in a string column by mapping its distinct escaped values
    (or, with ``extra``, map every distinct value through ``extra``)."""
    s = df.get_column(col)
    if extra is None:
        todo = s.filter(s.str.contains("&", literal=True)).unique()
        fn = xml_unescape
    else:
        todo = s.drop_nulls().unique()
        fn = extra
    if todo.len() == 0:
        return df
    old = todo.to_list()
    new = [fn(v) for v in old]
    pairs = [(o, n) for o, n in zip(old, new, strict=True) if o != n]
    if not pairs:
        return df
    return df.with_columns(pl.col(col).replace([p[0] for p in pairs], [p[1] for p in pairs]))


# --------------------------------------------------------------------------- attributes

#: attributes per <Record> in the first split pass (Apple writes at most 9)
_MAX_ATTRS = 9
_ATTR_TOKEN = r'''[A-Za-z_:][\w:.\-]*\s*=\s*(?:"[^"]*"|'[^']*')'''

_RECORD_ATTRS = {"type": "type", "sourceName": "source", "device": "device", "unit": "unit",
                 "startDate": "start", "endDate": "end", "value": "value"}
_FIRST_NAME = re.compile(r"Record\s+([A-Za-z_:][\w:.\-]*)\s*=\s*")
_NEXT_NAME = re.compile(r"\s+([A-Za-z_:][\w:.\-]*)\s*=\s*")
_TAIL = re.compile(r"\s*/?>")
#: a complete, well-formed <Record ...> or <Record .../> start tag (generic path)
_START_TAG = rf"^Record(?:\s+{_ATTR_TOKEN})*\s*/?>"
_PY_ATTR = re.compile(r'''([A-Za-z_:][\w:.\-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')''')


def _attrs(tag: str) -> dict[str, str]:
    """Attributes of one tag (Python path, for the rare structural tags); decoded."""
    return {m.group(1): xml_unescape(m.group(2) if m.group(2) is not None else m.group(3))
            for m in _PY_ATTR.finditer(tag)}


def _layout(signature: str) -> dict[str, int] | None:
    """Field index of each wanted attribute for one tag layout, or None if the layout is
    not plain ``name="value"`` pairs closed by ``>`` / ``/>`` (-> generic path).

    ``signature`` holds the even fields of the tag split at ``"`` (the attribute names with
    their ``=`` and the tail), joined by ``\x00``.
    """
    items = signature.split("\x00")
    if len(items) < 2 or not _TAIL.match(items[-1]):
        return None
    out: dict[str, int] = {}
    for i, item in enumerate(items[:-1]):
        m = (_FIRST_NAME if i == 0 else _NEXT_NAME).fullmatch(item)
        if m is None or m.group(1) in out:
            return None
        out[m.group(1)] = 2 * i + 1
    return out


def _record_attrs(recs: pl.DataFrame, max_attrs: int = _MAX_ATTRS) -> pl.DataFrame:
    """Attributes of ``<Record>`` tags, any order: columns tok, rec_no, type, source,
    device, unit, start, end, value (strings, still escaped) and ``malformed``.

    Attribute values cannot hold a raw ``"``, so splitting a tag at ``"`` alternates names
    and values exactly. Rows are grouped by their layout (the sequence of names; a handful
    per export) and each attribute is taken from its field, one select per layout. Tags
    with more than ``max_attrs`` attributes are split again, wider; tags that are not plain
    double-quoted pairs go through :func:`_generic_record_attrs`.
    """
    n_fields = 2 * max_attrs + 2
    fields = [f"f{i}" for i in range(n_fields)]
    parts = recs.select(
        "tok", "rec_no",
        pl.col("t").str.splitn('"', n_fields).struct.rename_fields(fields).alias("p"),
    ).unnest("p")
    parts = parts.with_columns(sig=pl.concat_str(
        [pl.col(f) for f in fields[0::2]], separator="\x00", ignore_nulls=True))
    layouts = {sig: _layout(sig) for sig in parts.get_column("sig").unique().to_list()}
    ids = {sig: i for i, (sig, lay) in enumerate(layouts.items())
           if lay is not None and "type" in lay}
    parts = parts.with_columns(
        lay=pl.col("sig").replace_strict(ids, default=-1, return_dtype=pl.Int32))
    out = []
    for sig, i in ids.items():
        lay = layouts[sig]
        out.append(parts.filter(pl.col("lay") == i).select(
            "tok", "rec_no",
            *[(pl.col(f"f{lay[attr]}") if attr in lay else pl.lit(None, dtype=pl.String))
              .alias(col) for attr, col in _RECORD_ATTRS.items()],
            malformed=pl.lit(False)))
    odd = parts.filter(pl.col("lay") < 0)
    if odd.height:
        wide = odd.filter(pl.col(fields[-1]).is_not_null()).select("tok")
        if wide.height and max_attrs < 4 * _MAX_ATTRS:  # more attributes than expected
            out.append(_record_attrs(recs.join(wide, on="tok"), 4 * _MAX_ATTRS))
            odd = odd.join(wide, on="tok", how="anti")
        if odd.height:
            slow = recs.join(odd.select("tok"), on="tok")
            slow = _generic_record_attrs(slow).join(slow.select(
                "tok", complete=pl.col("t").str.contains(_START_TAG)), on="tok")
            out.append(slow.with_columns(
                malformed=~pl.col("complete") | pl.col("type").is_null()).drop("complete"))
    if not out:
        return pl.DataFrame(schema={"tok": pl.UInt32, "rec_no": pl.Int64,
                                    **dict.fromkeys(_RECORD_ATTRS.values(), pl.String),
                                    "malformed": pl.Boolean})
    cols = out[0].columns
    return pl.concat([o.select(cols) for o in out]).sort("tok")


def _generic_record_attrs(toks: pl.DataFrame) -> pl.DataFrame:
    """Record attributes in any order/quoting: sequential name=value tokens, then pivot."""
    cols = list(_RECORD_ATTRS.values())
    pairs = (
        toks.select("tok", pl.col("t").str.extract_all(_ATTR_TOKEN).alias("a"))
        .explode("a")
        .drop_nulls("a")
        .with_columns(
            name=pl.col("a").str.extract(r"^([^\s=]+)"),
            val=pl.col("a").str.extract(r"""(?s)=\s*["'](.*)["']$"""),
        )
        .filter(pl.col("name").is_in(list(_RECORD_ATTRS)))
        .with_columns(pl.col("name").replace_strict(_RECORD_ATTRS))
    )
    if pairs.height == 0:
        wide = pl.DataFrame(schema={"tok": pl.UInt32})
    else:
        wide = pairs.pivot(on="name", index="tok", values="val", aggregate_function="first")
    out = toks.select("tok", "rec_no").join(wide, on="tok", how="left")
    return out.with_columns([pl.lit(None, dtype=pl.String).alias(c)
                             for c in cols if c not in out.columns]).select(
        "tok", "rec_no", *cols)


# --------------------------------------------------------------------------- reader


class AppleHealthReader(Iterator[Batch]):
    """Iterator of batches for one export; ``summary`` is complete once exhausted."""

    def __init__(self, path: Path, ctx: ImportContext, *, limits: ZipLimits,
                 chunk_bytes: int, batch_rows: int):
        if not ctx.participant_id:
            raise ValueError(
                f"{ctx.display_path or path}: Apple Health exports carry no participant id; "
                "pass ImportContext(participant_id=...)")
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
            "samples": [], "sleep_segments": [], "workouts": [], "rejected_rows": []}
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
            with open_member(self.path, _select_member, limits=self.limits,
                             display=self.display) as (stream, member):
                self.summary.member = member
                yield from self._read_stream(stream)
        else:
            with open(self.path, "rb") as stream:
                yield from self._read_stream(stream)
        self.summary.check()
        s = self.summary
        log.info("%s: %d records: %d samples, %d sleep segments, %d rejected, %d in "
                 "correlations, %d of unmapped types %s; %d workouts%s", self.display,
                 s.records_seen, s.samples, s.sleep_segments, s.records_rejected,
                 s.records_in_correlations, sum(s.unmapped_types.values()),
                 dict(s.unmapped_types.most_common()), s.workouts,
                 " (TRUNCATED)" if s.truncated else "")

    def _read_stream(self, stream: BinaryIO) -> Iterator[Batch]:
        pending = self._skip_prolog(stream)
        workers = ThreadPoolExecutor(PARSE_THREADS, thread_name_prefix="apple-health-parse") \
            if PARSE_THREADS > 1 else None
        try:
            for text, final in self._chunks(stream, pending):
                yield from self._process_chunk(text, final, workers)
                yield from self._apply_parsed(keep=PARSE_THREADS - 1)
            yield from self._apply_parsed(keep=0)
        finally:
            if workers is not None:
                workers.shutdown(wait=True, cancel_futures=True)
        yield from self._finish()
        yield from self._flush(final=True)

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

    def _skip_prolog(self, stream: BinaryIO) -> bytes:
        """Read up to the ``<HealthData`` root tag; the prolog and DTD are never parsed."""
        buf = b""
        root = re.compile(rb"<HealthData[\s/>]")
        while True:
            data = stream.read(min(self.chunk_bytes, 1024**2))
            self.summary.bytes_read += len(data)
            if not buf and data:
                start = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
                if start != b"<":
                    raise ImportFormatError(
                        f"{self.display}: not an XML file (first bytes {data[:40]!r})")
            buf += data
            m = root.search(buf)
            if m:
                return buf[m.start():]
            if not data or len(buf) > MAX_PROLOG_BYTES:
                what = "empty file" if not buf else f"first bytes {buf[:60]!r}"
                raise ImportFormatError(
                    f"{self.display}: no <HealthData> root element; not an Apple Health "
                    f"export ({what})")

    def _chunks(self, stream: BinaryIO, pending: bytes) -> Iterator[tuple[bytes, bool]]:
        """Byte chunks cut just before a ``<`` (and never inside a comment)."""
        for data in _read_ahead(stream.read, self.chunk_bytes, READ_AHEAD_CHUNKS):
            self.summary.bytes_read += len(data)
            pending = pending + data if pending else data
            cut = _cut_point(pending)
            if cut <= 0:
                if len(pending) > MAX_TAG_BYTES:
                    raise ImportFormatError(
                        f"{self.display}: a single tag spans more than {MAX_TAG_BYTES} bytes; "
                        "not an Apple Health export")
                continue
            yield pending[:cut], False
            pending = pending[cut:]
        yield pending, True

    # ------------------------------------------------------------------ one chunk

    def _process_chunk(self, data: bytes, final: bool,
                       workers: ThreadPoolExecutor | None = None) -> Iterator[Batch]:
        if b"<!--" in data:
            data = _COMMENT.sub(b"", data)
        toks = _split_tags(data)
        del data
        partial = None
        if final and toks.len():
            last = toks[-1]
            if last is not None and ">" not in last:  # cut inside a tag: never complete
                partial = last
                toks = toks.slice(0, toks.len() - 1)
        toks = toks.to_frame().with_row_index("tok")
        # --- classify
        toks = toks.with_columns(
            is_rec=pl.col("t").str.contains(r"^Record(?:[\s/>]|$)").fill_null(False),
            is_struct=pl.col("t").str.contains(
                r"^/?(?:Correlation|Workout|WorkoutActivity|WorkoutStatistics|Me|HealthData)"
                r"[\s/>]").fill_null(False),
        )
        n_rec = int(toks["is_rec"].sum())
        first_rec_no = self.summary.records_seen
        self.summary.records_seen += n_rec
        struct = toks.filter("is_struct").select("tok", "t")
        nested = self._structure(struct, toks.height)
        yield from self._participants_batch()
        recs = toks.filter("is_rec").select("tok", "t").with_columns(
            rec_no=pl.int_range(first_rec_no + 1, first_rec_no + n_rec + 1, dtype=pl.Int64))
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
        for col in ("type", "source", "device", "value", "original_unit"):
            df = _decode_column(df, col)
        df = _decode_column(df.with_columns(unit=pl.col("original_unit")), "unit",
                            extra=_unit_key)
        df = df.with_columns(pl.col("source").fill_null(""),
                             pl.col("device").fill_null("").str.replace(_DEVICE_POINTER, "HKDevice"))

        # malformed tags
        bad = df.filter("malformed")
        if bad.height:
            self._reject_records(bad, recs, pl.lit("malformed <Record> tag (no type attribute "
                                                   "or unterminated)"))
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
        end_utc, _ = _parse_dates(df, "end")
        df = df.with_columns(start_utc=start_utc, end_utc=end_utc, utc_offset_s=start_off)
        dates_ok = (pl.col("start_utc").is_not_null() & pl.col("utc_offset_s").is_not_null()
                    & pl.col("end_utc").is_not_null()
                    & (pl.col("end_utc") >= pl.col("start_utc")))
        df = df.with_columns(ok=dates_ok)
        bad = df.filter(~pl.col("ok"))
        if bad.height:
            self._reject_records(bad, recs, (
                pl.when(pl.col("start_utc").is_null() | pl.col("utc_offset_s").is_null())
                .then(pl.format("unparseable startDate '{}'", pl.col("start").fill_null("")))
                .when(pl.col("end_utc").is_null())
                .then(pl.format("unparseable endDate '{}'", pl.col("end").fill_null("")))
                .otherwise(pl.lit("endDate before startDate"))))
            df = df.filter("ok")
        is_sleep = pl.col("type") == SLEEP_TYPE
        sleep = df.filter(is_sleep)
        if sleep.height:
            self._sleep(sleep, recs)
        qty = df.filter(~is_sleep)
        if qty.height:
            self._quantities(qty, recs)

    def _quantities(self, df: pl.DataFrame, recs: pl.DataFrame) -> None:
        df = df.join(_QMAP, left_on=["type", "unit"], right_on=["type", "unit_key"],
                     how="left")
        orig = pl.col("value").cast(pl.Float64, strict=False)
        df = df.with_columns(original_value=orig,
                             value_c=orig * pl.col("scale") + pl.col("offset"))
        v = pl.col("value_c")
        ok = (pl.col("metric").is_not_null() & v.is_not_null() & v.is_not_nan()
              & (v >= pl.col("lo")) & (v <= pl.col("hi")))
        df = df.with_columns(ok=ok.fill_null(False))
        bad = df.filter(~pl.col("ok"))
        if bad.height:
            self._reject_records(bad, recs, (
                pl.when(pl.col("metric").is_null())
                .then(pl.format("{}: unsupported unit '{}'", pl.col("type"),
                                pl.col("original_unit").fill_null("(none)")))
                .otherwise(normalize.range_violation_by(
                    pl.col("metric"), v, pl.col("lo"), pl.col("hi"), pl.col("range_text")))))
        good = df.filter("ok")
        if good.height:
            out = good.select(
                participant_id=pl.lit(self.ctx.participant_id, dtype=pl.String),
                metric="metric", start_utc="start_utc", end_utc="end_utc",
                utc_offset_s="utc_offset_s", value="value_c", unit="canon_unit",
                source="source", device="device", original_value="original_value",
                original_unit="original_unit",
            ).cast(SAMPLES_SCHEMA)
            self._buffer("samples", out)
            self.summary.samples += out.height

    def _sleep(self, df: pl.DataFrame, recs: pl.DataFrame) -> None:
        stages = {_SLEEP_VALUE_PREFIX + k: v for k, v in SLEEP_STAGES.items()}
        df = df.with_columns(stage=pl.col("value").replace_strict(
            stages, default=None, return_dtype=pl.String))
        bad = df.filter(pl.col("stage").is_null())
        if bad.height:
            self._reject_records(bad, recs, pl.format(
                "sleep: unknown stage value '{}'", pl.col("value").fill_null("(none)")))
        good = df.filter(pl.col("stage").is_not_null())
        if good.height:
            out = good.select(
                participant_id=pl.lit(self.ctx.participant_id, dtype=pl.String),
                start_utc="start_utc", end_utc="end_utc", utc_offset_s="utc_offset_s",
                stage="stage", source="source", device="device",
            ).cast(SLEEP_SCHEMA)
            self._buffer("sleep_segments", out)
            self.summary.sleep_segments += out.height

    def _reject_records(self, bad: pl.DataFrame, recs: pl.DataFrame, reason: pl.Expr) -> None:
        out = bad.select("tok", "rec_no", reason=reason).join(
            recs.select("tok", "t"), on="tok", how="left"
        ).select(
            record_no=pl.col("rec_no").cast(pl.Int64),
            reason=pl.col("reason"),
            raw=("<" + pl.col("t").str.strip_chars_end()).str.head(2000),
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
        elif not a.get("workoutActivityType"):
            problem = "no workoutActivityType"
        if problem:
            self._reject_other(f"workout #{w['no']}: {problem}", w["tag"])
            self.summary.workouts_rejected += 1
            return
        duration = _float(a.get("duration"))
        dur_unit = _DURATION_S.get(a.get("durationUnit", "min"))
        duration_s = (duration * dur_unit if duration is not None and dur_unit is not None
                      else (end[0] - start[0]).total_seconds())
        energy = _sum_stats(w["stats"], lambda t: t == _Q + "ActiveEnergyBurned", "kcal")
        if energy is None:
            energy = _convert_opt(a.get("totalEnergyBurned"), a.get("totalEnergyBurnedUnit"),
                                  "kcal")
        distance = _sum_stats(w["stats"], lambda t: t.startswith(_Q + "Distance"), "m")
        if distance is None:
            distance = _convert_opt(a.get("totalDistance"), a.get("totalDistanceUnit"), "m")
        self._workout_rows.append((
            self.ctx.participant_id, _snake(a["workoutActivityType"]), start[0], end[0],
            start[1], duration_s, energy, distance, a.get("sourceName", ""),
            re.sub(_DEVICE_POINTER, "HKDevice", a.get("device", "")),
        ))
        self.summary.workouts += 1

    def _me(self, tag: str) -> None:
        a = _attrs(tag)
        dob = a.get("HKCharacteristicTypeIdentifierDateOfBirth", "")
        m = re.match(r"^(\d{4})-\d{2}-\d{2}", dob)
        sex = SEXES.get(a.get("HKCharacteristicTypeIdentifierBiologicalSex", ""))
        self._pending_me = pl.DataFrame(
            {"participant_id": [self.ctx.participant_id], "sex": [sex],
             "birth_year": [int(m.group(1)) if m else None]}, schema=PARTICIPANTS_SCHEMA)

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
            self._buffer("rejected_rows", rejected(
                [rec_no], ["truncated export: <Record> cut off at end of file"],
                ["<" + partial]).frame)
            self.summary.records_rejected += 1

    def _finish(self) -> Iterator[Batch]:
        if not self._end_seen:
            self.summary.truncated = True
            if self._workout is not None:
                w, self._workout = self._workout, None
                self._reject_other(f"truncated export: workout #{w['no']} cut off at end of "
                                   "file", w["tag"])
                self.summary.workouts_rejected += 1
            self._reject_other(
                f"truncated export: file ends without </HealthData> after "
                f"{self.summary.records_seen} <Record> tags ({self.summary.bytes_read} bytes)",
                "")
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


def _read_ahead(read: Callable[[int], bytes], size: int, depth: int) -> Iterator[bytes]:
    """``read(size)`` repeated in a background thread, at most ``depth`` chunks ahead, until
    it returns ``b""`` (not yielded).

    Inflating export.zip (zlib releases the GIL) so overlaps with parsing. An exception from
    ``read`` (corrupt zip, size limits) is raised here, in the consumer's thread; closing
    the generator stops the thread before the stream is closed.
    """
    chunks: queue.Queue = queue.Queue(maxsize=max(depth, 1))
    stop = threading.Event()

    def put(item) -> None:
        while not stop.is_set():
            try:
                chunks.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    def run() -> None:
        try:
            while not stop.is_set():
                data = read(size)
                put(data)
                if not data:
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            put(exc)

    worker = threading.Thread(target=run, name="apple-health-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = chunks.get()
            if isinstance(item, BaseException):
                raise item
            if not item:
                return
            yield item
    finally:
        stop.set()
        worker.join()


_COMMENT = re.compile(rb"<!--.*?-->", re.S)
#: candidate field separators for the tag splitter: bytes that never occur in Apple exports
_SEPARATORS = [bytes([b]) for b in (0x1F, 0x1E, 0x1D, 0x1C, 0x01, 0x02, 0x03, 0x04)]


def _split_tags(data: bytes) -> pl.Series:
    """The chunk as one string per tag (text after each ``<``, up to the next ``<``).

    polars' CSV reader with ``<`` as the line terminator does this multi-threaded and
    without Python objects per tag; the field separator is a byte absent from the chunk.
    Invalid UTF-8 is replaced (U+FFFD), never fatal.
    """
    sep = next((c for c in _SEPARATORS if c not in data), None)
    if sep is None:  # pathological: fall back to a Python split
        text = data.decode("utf-8", "replace")
        return pl.Series("t", text.split("<")[1:], dtype=pl.String)
    if not data:
        return pl.Series("t", [], dtype=pl.String)
    toks = pl.read_csv(
        io.BytesIO(data), has_header=False, separator=sep.decode(), quote_char=None,
        eol_char="<", new_columns=["t"], schema={"t": pl.String}, encoding="utf8-lossy",
        comment_prefix=None, raise_if_empty=False)
    # row 0 is the text before the first '<' (empty: chunks start at a tag)
    return toks.get_column("t").slice(1)
_TAG_NAME = re.compile(r"^(/?[A-Za-z]+)")


def _cut_point(data: bytes) -> int:
    """Offset of the last ``<`` in ``data`` (searched in the last MiB first), never inside
    an unterminated comment; 0 or -1 when there is none."""
    lo = max(0, len(data) - 1024**2)
    cut = data.rfind(b"<", lo)
    if cut < 0:
        cut = data.rfind(b"<")
    c = data.rfind(b"<!--", lo)
    if c >= 0 and data.find(b"-->", c) < 0:
        cut = c
    return cut


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
    named = sorted((i for i in infos if i.filename.lower() == "export.xml"
                    or i.filename.lower().endswith("/export.xml")),
                   key=lambda i: (i.filename.count("/"), i.filename))
    if named:
        return named[0]
    for info in sorted(infos, key=lambda i: (i.filename.count("/"), i.filename)):
        low = info.filename.lower()
        if low.endswith(".xml") and not low.endswith("export_cda.xml") \
                and info.filename.count("/") <= 1:
            with zf.open(info) as fh:
                if sniff(fh.read(65536), info.filename):
                    return info
    return None


# --------------------------------------------------------------------------- entry point


def read(path: Path, ctx: ImportContext, *, limits: ZipLimits | None = None,
         chunk_bytes: int = CHUNK_BYTES, batch_rows: int = BATCH_ROWS) -> AppleHealthReader:
    """Stream an Apple Health ``export.zip`` or ``export.xml`` as canonical batches.

    Returns an iterator of :class:`~pipeline.importers.Batch`; after it is exhausted its
    ``summary`` (:class:`ImportSummary`) holds the counts, including skipped record types.
    Raises ``ImportFormatError`` (naming the file) for a file that is not an Apple Health
    export, a corrupt zip or an unsafe archive (see :mod:`pipeline.importers._archive`).
    """
    return AppleHealthReader(Path(path), ctx, limits=limits or ZipLimits(),
                             chunk_bytes=chunk_bytes, batch_rows=batch_rows)
