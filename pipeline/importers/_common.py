"""Plumbing every importer shares: reading lines and CSV fields, rejected rows and their
reasons, time zones and UTC offsets, the participant-id and zone checks.

The interesting part of an importer module is its format; what is the same for all of them
lives here (issue 11). Every error names the file (``display``) and, where there is one, the
line or record.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import polars as pl

from pipeline.importers import Batch, ImportContext, ImportFormatError, rejected

YEAR_RANGE = (1900, 2100)  # sanity bound for typed dates (also bounds the zone-rule scan)
OFFSET_RANGE_S = (-12 * 3600, 14 * 3600)  # UTC-12 .. UTC+14, the offsets in use worldwide
US = 1_000_000  # microseconds per second: instants are handled as Int64 epoch microseconds
#: longest participant id a file may give: an id is a key of the store (a 50 MB field once
#: failed the whole import, out of memory, instead of being rejected)
MAX_ID_CHARS = 100

_ISO_RE = (
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2}(?:\.\d{1,9})?)?\s*"
    r"(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


# --------------------------------------------------------------------------------------------
# shared helpers: text, CSV
# --------------------------------------------------------------------------------------------


def decode_head(head: bytes) -> str:
    """The start of a file as text (BOM removed, undecodable bytes replaced) for ``sniff``."""
    return head.decode("utf-8", "replace").removeprefix("\ufeff")


def first_line_fields(head: bytes) -> tuple[str, ...] | None:
    """Fields of the first non-blank line of ``head`` (trimmed, quotes removed), or None."""
    for line in decode_head(head).split("\n"):
        if line.strip():
            return tuple(f.strip().strip('"').strip() for f in line.rstrip("\r").split(","))
    return None


def read_lines(path: Path, display: str) -> pl.DataFrame:
    """All lines of a UTF-8 text file as ``line_no`` (1-based), ``text`` (no CR/LF, no BOM).

    Raises ImportFormatError for an empty (or whitespace-only) file and for non-UTF-8 bytes.
    """
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFormatError(
            f"{display}: not UTF-8 text (undecodable byte at offset {exc.start}); "
            "save the file as UTF-8 CSV"
        ) from exc
    if not text.strip():
        raise ImportFormatError(f"{display}: the file is empty")
    lines = pl.Series("text", text.split("\n"), dtype=pl.String).str.strip_suffix("\r")
    return pl.DataFrame({"line_no": pl.int_range(1, lines.len() + 1, eager=True), "text": lines})


def load_json(text: str, display: str):
    """``json.loads`` with errors as one line naming the file and line: invalid JSON, and
    JSON nested deeper than Python's parser goes (~1000 levels; ``[[[[...`` 100,000 deep
    raises RecursionError, which is not a JSONDecodeError). No export nests that deep."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFormatError(f"{display}:{exc.lineno}: not valid JSON ({exc.msg})") from exc
    except RecursionError as exc:
        # where: the first long run of opening brackets (the parser does not say)
        m = re.search(r"(?:[\[{]\s*){500}", text)
        where = f":{text.count(chr(10), 0, m.start()) + 1}" if m else ""
        raise ImportFormatError(
            f"{display}{where}: JSON nested too deeply to read (more than about 1000 levels "
            "of arrays or objects); not an export this importer reads"
        ) from exc


def blank_line() -> pl.Expr:
    """True for a line with no content: whitespace, or only separators / empty quotes."""
    return pl.col("text").str.contains(r'^[\s,"]*$')


def split_csv(lines: pl.DataFrame, columns: tuple[str, ...]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parse data lines (``line_no``, ``text``) as CSV records with ``columns`` (all String).

    Returns ``(records, bad)``: records carry ``line_no``, ``raw`` and one String column per
    name (trimmed; empty -> null); ``bad`` (``line_no``, ``reason``, ``raw``) holds the lines
    with the wrong number of fields or an unbalanced quote.
    """
    n = len(columns)
    checked = lines.with_columns(
        _unquoted=pl.col("text").str.replace_all(r'"(?:[^"]|"")*"', ""),
    ).with_columns(
        _stray=pl.col("_unquoted").str.contains('"'),
        _nfields=pl.col("_unquoted").str.count_matches(",") + 1,
    )
    bad = checked.filter(pl.col("_stray") | (pl.col("_nfields") != n)).select(
        "line_no",
        reason=pl.when(pl.col("_stray"))
        .then(pl.lit("unbalanced quote (a field may not span lines)"))
        .otherwise(pl.format(f"expected {n} fields, found {{}}", pl.col("_nfields"))),
        raw=pl.col("text"),
    )
    good = checked.filter(~pl.col("_stray") & (pl.col("_nfields") == n)).select("line_no", "text")
    names = [f"_c{i}" for i in range(n)]
    if good.height:
        body = ",".join(names) + "\n" + "\n".join(good["text"].to_list()) + "\n"
        fields = pl.read_csv(io.StringIO(body), has_header=True, infer_schema=False, quote_char='"')
        if fields.height != good.height or fields.width != n:  # odd quoting: use the csv module
            rows = list(csv.reader(good["text"].to_list()))
            fields = pl.DataFrame(
                [list(col) for col in zip(*rows, strict=True)] if rows else [[] for _ in names],
                schema=dict.fromkeys(names, pl.String),
                orient="col",
            )
    else:
        fields = pl.DataFrame(schema=dict.fromkeys(names, pl.String))
    records = pl.concat([good.rename({"text": "raw"}), fields], how="horizontal").select(
        "line_no",
        "raw",
        *[
            pl.col(c).str.strip_chars().replace("", None).alias(name)
            for c, name in zip(names, columns, strict=True)
        ],
    )
    return records, bad


def read_header_and_records(
    path: Path, display: str, header: tuple[str, ...], fmt: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Check the header line of a one-table CSV and split the remaining non-blank lines."""
    lines = read_lines(path, display).filter(~blank_line())
    first = lines.row(0, named=True)
    got = tuple(f.strip().strip('"').strip() for f in first["text"].split(","))
    if got != header:
        raise ImportFormatError(
            f"{display}:{first['line_no']}: not a {fmt} file: the header must be exactly "
            f"{','.join(header)!r}, found {first['text'][:200]!r}"
        )
    return split_csv(lines.slice(1), header)


def id_too_long(col: str) -> pl.Expr:
    """A reason for an id in ``col`` longer than :data:`MAX_ID_CHARS`, else null."""
    n = pl.col(col).str.len_chars()
    return pl.when(n > MAX_ID_CHARS).then(
        pl.format(f"{col}: an id of {{}} characters (at most {MAX_ID_CHARS})", n)
    )


def reasons(*exprs: pl.Expr) -> pl.Expr:
    """Join the non-null reason expressions with '; ' (null when every check passed)."""
    joined = pl.concat_str(list(exprs), separator="; ", ignore_nulls=True)
    return pl.when(joined == "").then(None).otherwise(joined)


def rejected_batch(frames: list[pl.DataFrame]) -> Batch | None:
    """One ``rejected_rows`` batch from frames of (``line_no``, ``reason``, ``raw``), sorted."""
    frames = [f.select("line_no", "reason", "raw") for f in frames if f.height]
    if not frames:
        return None
    bad = pl.concat(frames).sort("line_no")
    return rejected(bad["line_no"].to_list(), bad["reason"].to_list(), bad["raw"].to_list())


# --------------------------------------------------------------------------------------------
# shared helpers: time zones (zoneinfo rules, applied to whole columns)
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _zone_names_lower() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def zone(name: str | None) -> ZoneInfo | None:
    """The ZoneInfo for an IANA name (case-insensitive), or None if unknown/empty."""
    if not name or not name.strip():
        return None
    name = name.strip()
    if ".." in name or name.startswith("/"):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        canonical = _zone_names_lower().get(name.lower())
        return ZoneInfo(canonical) if canonical else None


def _offset_s(zi: ZoneInfo, epoch_s: int) -> int:
    return int(datetime.fromtimestamp(epoch_s, UTC).astimezone(zi).utcoffset().total_seconds())


def _offset_table(zi: ZoneInfo, lo_us: int, hi_us: int) -> pl.DataFrame:
    """Zone offset changes over [lo - 2 d, hi + 2 d]: (``from_us``, ``offset_s``), sorted.

    Steps day by day through the span and bisects each change to the second, so a zone that
    changes offset twice within one day (none does today) would be seen as one change.
    """
    day = 86_400
    start = (lo_us // US // day - 2) * day
    end = (hi_us // US // day + 3) * day
    froms, offs = [start], [_offset_s(zi, start)]
    for t in range(start, end, day):
        nxt = _offset_s(zi, t + day)
        if nxt != offs[-1]:
            lo, hi = t, t + day
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset_s(zi, mid) == offs[-1]:
                    lo = mid
                else:
                    hi = mid
            froms.append(hi)
            offs.append(nxt)
    return pl.DataFrame(
        {"from_us": [f * US for f in froms], "offset_s": offs},
        schema={"from_us": pl.Int64, "offset_s": pl.Int64},
    )


def _lookup(us: pl.Series, table: pl.DataFrame) -> pl.Series:
    """Offset (s) in force at each instant ``us`` (Int64 epoch µs; nulls stay null)."""
    q = pl.DataFrame({"_i": pl.int_range(us.len(), eager=True), "_t": us.cast(pl.Int64)})
    hit = (
        q.drop_nulls("_t")
        .sort("_t")
        .join_asof(table, left_on="_t", right_on="from_us", strategy="backward")
    )
    return q.join(hit.select("_i", "offset_s"), on="_i", how="left").sort("_i")["offset_s"]


def _span(*series: pl.Series) -> tuple[int, int] | None:
    vals = [v for s in series for v in (s.min(), s.max()) if v is not None]
    return (min(vals), max(vals)) if vals else None


def utc_offsets_s(utc_us: pl.Series, zi: ZoneInfo) -> pl.Series:
    """The zone's UTC offset (s, east positive) at each UTC instant (Int64 epoch µs)."""
    span = _span(utc_us)
    if span is None:
        return pl.Series("offset_s", [None] * utc_us.len(), dtype=pl.Int64)
    return _lookup(utc_us, _offset_table(zi, *span))


def local_to_utc_us(
    local_us: pl.Series, zi: ZoneInfo, later: pl.Series | None = None
) -> tuple[pl.Series, pl.Series]:
    """Local wall-clock times (Int64 µs, read as if UTC) in zone ``zi`` -> (UTC µs, offset s).

    Same answers as ``datetime(..., fold=f, tzinfo=zi)``: where a local time occurs twice the
    earlier instant is taken, or the later one where ``later`` is True (``fold=1``); a local
    time in a DST gap is read with the offset before the change (``fold=0``) or after it
    (``fold=1``). The returned offset is the zone's offset at the resulting instant.
    """
    span = _span(local_us)
    if span is None:
        empty = pl.Series([None] * local_us.len(), dtype=pl.Int64)
        return empty, empty
    table = _offset_table(zi, span[0] - 86_400 * US, span[1] + 86_400 * US)
    day_us = 86_400 * US
    f = pl.DataFrame(
        {
            "t": local_us.cast(pl.Int64),
            "later": later if later is not None else pl.Series([False] * local_us.len()),
            "ob": _lookup(local_us - day_us, table),  # offset in force before any change near t
            "oa": _lookup(local_us + day_us, table),  # ... and after it
        }
    ).with_columns(ub=pl.col("t") - pl.col("ob") * US, ua=pl.col("t") - pl.col("oa") * US)
    f = f.with_columns(vb=_lookup(f["ub"], table) == f["ob"], va=_lookup(f["ua"], table) == f["oa"])
    off = f.select(
        pl.when(pl.col("ob") == pl.col("oa"))
        .then(pl.col("ob"))
        .when(pl.col("vb") & pl.col("va"))
        .then(pl.when(pl.col("later")).then(pl.col("oa")).otherwise(pl.col("ob")))
        .when(pl.col("vb"))
        .then(pl.col("ob"))
        .when(pl.col("va"))
        .then(pl.col("oa"))
        .otherwise(pl.when(pl.col("later")).then(pl.col("oa")).otherwise(pl.col("ob")))
    ).to_series()
    utc = (f["t"] - off * US).alias("utc_us")
    return utc, _lookup(utc, table).alias("offset_s")


def parse_iso_local_us(raw: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """ISO 8601 text -> (wall-clock µs or null, offset seconds or null, offset given: bool).

    Accepts ``YYYY-MM-DD[T ]HH:MM[:SS[.f]]`` and an optional ``Z`` / ``±HH`` / ``±HHMM`` /
    ``±HH:MM``. The first value is null when the text is not such a time (or not a real date).
    """
    parts = raw.str.extract_groups(_ISO_RE)
    date, hm, sec, off = (parts.struct.field(str(i)) for i in (1, 2, 3, 4))
    wall = pl.concat_str([date, pl.lit("T"), hm, sec.fill_null(":00")]).str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us"
    )
    digits = off.str.replace_all(":", "")
    off_s = (
        pl.when(off.str.to_uppercase() == "Z")
        .then(pl.lit(0, pl.Int64))
        .when(off.is_not_null())
        .then(
            (pl.when(digits.str.starts_with("-")).then(-1).otherwise(1))
            * (
                digits.str.slice(1, 2).cast(pl.Int64, strict=False) * 3600
                + digits.str.slice(3, 2).replace("", None).cast(pl.Int64, strict=False).fill_null(0)
                * 60
            )
        )
    )
    return wall.dt.epoch("us"), off_s, off.is_not_null()


def year_of_us(us: pl.Expr) -> pl.Expr:
    return pl.from_epoch(us, time_unit="us").dt.year()


# --------------------------------------------------------------------------------------------
# the journal format
# --------------------------------------------------------------------------------------------


def require_zone(tz: str | None, display: str) -> ZoneInfo | None:
    """The participant's zone, or None; an unknown zone name is an error naming the file."""
    if tz is None:
        return None
    zi = zone(tz)
    if zi is None:
        raise ImportFormatError(
            f"{display}: unknown time zone {tz!r}; give an IANA name such "
            "as Europe/Berlin or America/New_York"
        )
    return zi


def require_participant(ctx: ImportContext, display: str, what: str) -> str:
    """The participant id for a format that carries none (``what``: how to name the files in
    the message, e.g. "Garmin FIT files"), or an error saying how to give one."""
    if not ctx.participant_id:
        raise ImportFormatError(
            f"{display}: {what} carry no participant id; pass --participant ID or put the "
            "file in <inbox>/<participant_id>/"
        )
    return ctx.participant_id


def with_extra_rejects(batches: Iterator[Batch], extra: pl.DataFrame) -> Iterator[Batch]:
    """Pass batches through, merging ``extra`` (line_no, reason, raw) into the rejects."""
    merged = False
    for b in batches:
        if b.table == "rejected_rows" and extra.height:
            b = rejected_batch([extra, b.frame.rename({"record_no": "line_no"})])
            merged = True
        yield b
    if extra.height and not merged:
        yield rejected_batch([extra])
