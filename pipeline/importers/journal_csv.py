"""Self-reported episode journal (FORMAT ``journal_csv``).

File format
-----------
UTF-8 CSV (with or without BOM, LF or CRLF line endings), one record per line, fields that
contain commas quoted with ``"`` (a ``"`` inside a quoted field is written ``""``; a field
may not span lines). The first line is exactly::

    participant_id,time,kind,severity,body_side,muscle,duration_min,note

========================  ========================================================================
column                    meaning
========================  ========================================================================
``participant_id``        who; may be empty when the import is given ``--participant ID`` (or the
                          file sits in ``<inbox>/<ID>/``); a row with neither is rejected.
``time``                  when, ISO 8601: ``2025-07-03T03:15:00+02:00`` (offset ``Z``, ``+02``,
                          ``+0200`` or ``+02:00``; seconds and fractions optional; ``T`` or a
                          space between date and time). Without an offset
                          (``2025-07-03T03:15``) the time is local wall-clock time in the
                          participant's zone given with ``--timezone`` (IANA name); importing such
                          a file without a zone is an error naming the line. A local time that
                          occurs twice (the autumn DST hour) is taken as the *first* occurrence; a
                          local time that does not exist (the spring DST gap) is read with the
                          offset in force before the change (02:30 becomes 03:30 summer time), as
                          Python's ``zoneinfo`` does (PEP 495, ``fold=0``).
``kind``                  ``cramp`` | ``no_cramp`` | ``bathroom`` | ``note`` | ``other``
                          (case-insensitive; stored lower-case).
``severity``              integer 0-10 (numeric rating scale), or empty.
``body_side``             ``left`` | ``right`` | ``both``, or empty.
``muscle``                free text, stored trimmed and lower-cased (``calf``, ``foot``,
                          ``thigh``, ``hamstring``, ...), or empty.
``duration_min``          minutes, decimal allowed, 0-1440; stored as ``duration_s``.
``note``                  free text (quote it if it contains commas).
========================  ========================================================================

Example::

    participant_id,time,kind,severity,body_side,muscle,duration_min,note
    p01,2025-07-03T03:15:00+02:00,cramp,7,left,calf,2.5,"woke me up, stretched it out"
    p01,2025-07-04T07:00:00+02:00,no_cramp,,,,,

Rows become ``journal`` rows (``source='journal'``, ``utc_offset_s`` = the offset written in
the file, or the zone's offset at that instant for local times). A row with a bad value is
rejected with its 1-based line number and a reason naming the column; the other rows land. Two
rows with the same participant, instant and kind: the later one is rejected as a duplicate.

This module also holds the small CSV and time-zone helpers the other CSV importers share
(:func:`read_lines`, :func:`split_csv`, :func:`zone`, :func:`local_to_utc_us`,
:func:`utc_offsets_s`): vectorised with polars, zone rules from :mod:`zoneinfo`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from detectors import tables
from pipeline.importers import Batch, ImportContext, ImportFormatError
from pipeline.importers._common import (  # noqa: F401 (shared helpers, re-exported)
    OFFSET_RANGE_S,
    US,
    YEAR_RANGE,
    blank_line,
    decode_head,
    first_line_fields,
    id_too_long,
    local_to_utc_us,
    parse_iso_local_us,
    read_header_and_records,
    read_lines,
    reasons,
    rejected_batch,
    require_zone,
    split_csv,
    utc_offsets_s,
    year_of_us,
    zone,
)

FORMAT = "journal_csv"
HEADER = (
    "participant_id",
    "time",
    "kind",
    "severity",
    "body_side",
    "muscle",
    "duration_min",
    "note",
)
KINDS = ("cramp", "no_cramp", "bathroom", "note", "other")
BODY_SIDES = ("left", "right", "both")
SEVERITY_RANGE = (0, 10)  # 0-10 numeric rating scale (the journal's own definition)
DURATION_MIN_RANGE = (0.0, 1440.0)  # at most one day: longer is a typing error, not an episode

JOURNAL_SCHEMA = tables.rows("journal")


#: a header sharing at least this many column names with :data:`HEADER` (and no more than
#: two columns off) is taken for a journal with a misnamed column: read as a journal, it
#: fails with a message naming the column instead of "not a recognised export"
NEAR_MISS_MIN_SHARED = len(HEADER) - 2


def header_problem(fields: tuple[str, ...] | list[str] | None) -> str | None:
    """What is wrong with a journal header (``None`` when it is exactly :data:`HEADER`):
    the columns that are not journal columns, the ones missing, or the order."""
    got = tuple(fields or ())
    if got == HEADER:
        return None
    expected = f"expected {','.join(HEADER)}"
    if not got or got == ("",):
        return f"no header line; {expected}"
    unknown = [c for c in got if c not in HEADER]
    missing = [c for c in HEADER if c not in got]
    parts = []
    if unknown:
        parts.append(
            ", ".join(f"column {c!r}" for c in unknown)
            + (" is not a journal column" if len(unknown) == 1 else " are not journal columns")
        )
    if missing:
        parts.append("missing " + ", ".join(repr(c) for c in missing))
    if not parts:
        dupes = sorted({c for c in got if got.count(c) > 1})
        parts.append(
            f"column {dupes[0]!r} appears twice" if dupes else "the columns are in another order"
        )
    return "; ".join(parts) + f"; {expected}"


def near_miss(fields: tuple[str, ...] | None) -> bool:
    """A header that is a journal's with a column or two misnamed, missing or extra."""
    if not fields or fields == HEADER:
        return False
    shared = len(set(fields) & set(HEADER))
    return (
        shared >= NEAR_MISS_MIN_SHARED
        and "participant_id" in fields
        and abs(len(fields) - len(HEADER)) <= 2
    )


def sniff(head: bytes, name: str) -> bool:
    """True when the first line is the journal header, or one with a column or two wrong
    (:func:`near_miss`; :func:`read` then fails naming them)."""
    fields = first_line_fields(head)
    return fields == HEADER or near_miss(fields)


def check_header(path: Path, display: str) -> None:
    """Raise ImportFormatError naming the misnamed or missing columns of a journal file."""
    lines = read_lines(Path(path), display).filter(~blank_line())
    first = lines.row(0, named=True)
    got = tuple(f.strip().strip('"').strip() for f in first["text"].split(","))
    problem = header_problem(got)
    if problem is not None:
        raise ImportFormatError(f"{display}:{first['line_no']}: journal header: {problem}")


def read(path: Path, ctx: ImportContext) -> Iterator[Batch]:
    """Yield ``journal`` rows (and ``rejected_rows``) from a journal CSV."""
    display = ctx.display_path or str(path)
    zi = require_zone(ctx.tz, display)
    check_header(Path(path), display)
    records, bad_lines = read_header_and_records(Path(path), display, HEADER, FORMAT)

    wall_us, off_s, has_off = parse_iso_local_us(pl.col("time"))
    lo_sev, hi_sev = SEVERITY_RANGE
    lo_dur, hi_dur = DURATION_MIN_RANGE
    f = records.with_columns(
        participant_id=pl.col("participant_id").fill_null(pl.lit(ctx.participant_id, pl.String)),
        _wall_us=wall_us,
        _file_off_s=off_s,
        _has_off=has_off,
        kind=pl.col("kind").str.to_lowercase(),
        body_side=pl.col("body_side").str.to_lowercase(),
        muscle=pl.col("muscle").str.to_lowercase(),
        _sev=pl.col("severity").str.strip_prefix("+").cast(pl.Int64, strict=False),
        _dur=pl.col("duration_min").cast(pl.Float64, strict=False),
    )
    f = f.with_columns(_year=year_of_us(pl.col("_wall_us")))
    time_ok = (
        pl.col("_wall_us").is_not_null()
        & pl.col("_year").is_between(*YEAR_RANGE)
        & (~pl.col("_has_off") | pl.col("_file_off_s").is_between(*OFFSET_RANGE_S))
    )
    f = f.with_columns(
        _reason=reasons(
            pl.when(pl.col("participant_id").is_null()).then(
                pl.lit(
                    "participant_id: empty and no participant given for the file (fill the column "
                    "or import with --participant ID)"
                )
            ),
            id_too_long("participant_id"),
            pl.when(pl.col("time").is_null())
            .then(pl.lit("time: empty"))
            .when(pl.col("_wall_us").is_null())
            .then(
                pl.format(
                    "time: {} is not an ISO 8601 date-time like 2025-07-03T03:15:00+02:00",
                    pl.col("time"),
                )
            )
            .when(~pl.col("_year").is_between(*YEAR_RANGE))
            .then(
                pl.format(
                    f"time: year {{}} outside {YEAR_RANGE[0]}-{YEAR_RANGE[1]}", pl.col("_year")
                )
            )
            .when(~time_ok)
            .then(pl.format("time: UTC offset in {} outside -12:00..+14:00", pl.col("time"))),
            pl.when(pl.col("kind").is_null())
            .then(pl.lit(f"kind: empty (one of {', '.join(KINDS)})"))
            .when(~pl.col("kind").is_in(KINDS))
            .then(pl.format(f"kind: {{}} is not one of {', '.join(KINDS)}", pl.col("kind"))),
            pl.when(
                pl.col("severity").is_not_null()
                & (
                    ~pl.col("severity").str.contains(r"^\+?\d+$")
                    | ~pl.col("_sev").is_between(lo_sev, hi_sev)
                )
            ).then(
                pl.format(f"severity: {{}} is not an integer {lo_sev}-{hi_sev}", pl.col("severity"))
            ),
            pl.when(
                pl.col("body_side").is_not_null() & ~pl.col("body_side").is_in(BODY_SIDES)
            ).then(
                pl.format(
                    f"body_side: {{}} is not one of {', '.join(BODY_SIDES)} or empty",
                    pl.col("body_side"),
                )
            ),
            pl.when(
                pl.col("duration_min").is_not_null()
                & (pl.col("_dur").is_null() | pl.col("_dur").is_nan())
            )
            .then(pl.format("duration_min: {} is not a number", pl.col("duration_min")))
            .when(~pl.col("_dur").is_between(lo_dur, hi_dur))
            .then(
                pl.format(
                    f"duration_min: {{}} outside {lo_dur:g}-{hi_dur:g} minutes",
                    pl.col("duration_min"),
                )
            ),
        ),
    )

    # local times (no offset) need the participant's zone
    local = f.filter(pl.col("_reason").is_null() & ~pl.col("_has_off"))
    if local.height and zi is None:
        first = local.row(0, named=True)
        raise ImportFormatError(
            f"{display}:{first['line_no']}: time {first['time']!r} has no UTC offset and no "
            "time zone is known for this file; import it with --timezone <IANA zone> (e.g. "
            "--timezone Europe/Berlin), or write times with their offset "
            "(2025-07-03T03:15:00+02:00)"
        )
    ok = f.filter(pl.col("_reason").is_null())
    if zi is not None and ok.height:
        utc_local, off_local = local_to_utc_us(ok["_wall_us"], zi)
    else:
        utc_local = off_local = pl.Series([None] * ok.height, dtype=pl.Int64)
    ok = ok.with_columns(
        _utc_us=pl.when(pl.col("_has_off"))
        .then(pl.col("_wall_us") - pl.col("_file_off_s") * US)
        .otherwise(utc_local),
        utc_offset_s=pl.when(pl.col("_has_off")).then(pl.col("_file_off_s")).otherwise(off_local),
    )
    key = ["participant_id", "_utc_us", "kind"]
    ok = ok.with_columns(_first_line=pl.col("line_no").first().over(key))
    dup = ok.filter(pl.col("line_no") != pl.col("_first_line")).select(
        "line_no",
        raw="raw",
        reason=pl.format(
            "duplicate of line {} (same participant_id, time and kind)", pl.col("_first_line")
        ),
    )
    ok = ok.filter(pl.col("line_no") == pl.col("_first_line"))

    journal = ok.select(
        "participant_id",
        time_utc=pl.from_epoch("_utc_us", time_unit="us").dt.replace_time_zone("UTC"),
        utc_offset_s="utc_offset_s",
        kind="kind",
        severity="_sev",
        body_side="body_side",
        muscle="muscle",
        duration_s=pl.col("_dur") * 60.0,
        note="note",
        source=pl.lit("journal"),
    ).cast(JOURNAL_SCHEMA)
    yield Batch("journal", journal)
    bad = rejected_batch(
        [
            bad_lines,
            f.filter(pl.col("_reason").is_not_null()).select("line_no", "raw", reason="_reason"),
            dup,
        ]
    )
    if bad is not None:
        yield bad
