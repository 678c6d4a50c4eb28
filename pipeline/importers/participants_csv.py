"""Participant register (FORMAT ``participants_csv``).

UTF-8 CSV (BOM optional, LF or CRLF), first line exactly::

    participant_id,sex,birth_year,tz,home_lat_deg,home_lon_deg,height_cm,conditions,medications

``participant_id`` required; ``sex`` ``female`` | ``male`` | ``other`` or empty; ``birth_year``
1900-2025; ``tz`` an IANA zone (``Europe/Berlin``; checked with :mod:`zoneinfo`, case fixed);
``home_lat_deg`` / ``home_lon_deg`` decimal degrees, both or neither; ``height_cm`` within the
plausible range of :data:`pipeline.normalize.PLAUSIBLE_RANGES`; ``conditions`` and
``medications`` lists separated by ``;`` (trimmed, lower-cased, empty items dropped). Empty
fields are null, and null never overwrites a stored value (the driver upserts).

Emits one ``participants`` batch (every column of the table except ``updated_utc``; lists as
``List(String)``) and ``rejected_rows`` for bad rows (1-based line, reason naming the column).
A participant listed twice: the later line is rejected.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from detectors import tables
from pipeline.importers import Batch, ImportContext
from pipeline.importers._common import (
    first_line_fields,
    id_too_long,
    read_header_and_records,
    reasons,
    rejected_batch,
    zone,
)
from pipeline.normalize import PLAUSIBLE_RANGES

FORMAT = "participants_csv"
HEADER = (
    "participant_id",
    "sex",
    "birth_year",
    "tz",
    "home_lat_deg",
    "home_lon_deg",
    "height_cm",
    "conditions",
    "medications",
)
SEXES = ("female", "male", "other")
BIRTH_YEAR_RANGE = (1900, 2025)
PARTICIPANTS_SCHEMA = tables.rows("participants")


def sniff(head: bytes, name: str) -> bool:
    """True when the first line is the participants header."""
    return first_line_fields(head) == HEADER


def _number(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Float64, strict=False)


def _bad_number(col: str, lo: float, hi: float, unit: str) -> pl.Expr:
    v = _number(col)
    return (
        pl.when(pl.col(col).is_not_null() & (v.is_null() | v.is_nan()))
        .then(pl.format(f"{col}: {{}} is not a number", pl.col(col)))
        .when(~v.is_between(lo, hi))
        .then(
            pl.format(f"{col}: {{}} outside plausible range [{lo:g}, {hi:g}] {unit}", pl.col(col))
        )
    )


def _list(col: str) -> pl.Expr:
    items = (
        pl.col(col)
        .str.split(";")
        .list.eval(pl.element().str.strip_chars().str.to_lowercase())
        .list.eval(pl.element().filter(pl.element() != ""))
        .list.unique(maintain_order=True)
    )
    return pl.when(items.list.len() > 0).then(items)


def read(path: Path, ctx: ImportContext) -> Iterator[Batch]:
    """Yield ``participants`` rows (and ``rejected_rows``) from a participants CSV."""
    display = ctx.display_path or str(path)
    records, bad_lines = read_header_and_records(Path(path), display, HEADER, FORMAT)

    # each distinct zone name is checked once with zoneinfo (and its case corrected)
    names = records["tz"].drop_nulls().unique().to_list()
    zones = pl.DataFrame(
        {"tz": names, "_tz_ok": [getattr(zone(n), "key", None) for n in names]},
        schema={"tz": pl.String, "_tz_ok": pl.String},
    )
    lo_y, hi_y = BIRTH_YEAR_RANGE
    f = (
        records.join(zones, on="tz", how="left", maintain_order="left")
        .with_columns(
            sex=pl.col("sex").str.to_lowercase(),
            _year=pl.col("birth_year").cast(pl.Int64, strict=False),
        )
        .with_columns(
            _reason=reasons(
                pl.when(pl.col("participant_id").is_null()).then(pl.lit("participant_id: empty")),
                id_too_long("participant_id"),
                pl.when(pl.col("sex").is_not_null() & ~pl.col("sex").is_in(SEXES)).then(
                    pl.format(f"sex: {{}} is not one of {', '.join(SEXES)} or empty", pl.col("sex"))
                ),
                pl.when(
                    pl.col("birth_year").is_not_null()
                    & ~(
                        pl.col("birth_year").str.contains(r"^\d{4}$")
                        & pl.col("_year").is_between(lo_y, hi_y)
                    )
                ).then(
                    pl.format(f"birth_year: {{}} is not a year {lo_y}-{hi_y}", pl.col("birth_year"))
                ),
                pl.when(pl.col("tz").is_not_null() & pl.col("_tz_ok").is_null()).then(
                    pl.format("tz: {} is not an IANA time zone (e.g. Europe/Berlin)", pl.col("tz"))
                ),
                _bad_number("home_lat_deg", -90.0, 90.0, "deg"),
                _bad_number("home_lon_deg", -180.0, 180.0, "deg"),
                pl.when(pl.col("home_lat_deg").is_null() != pl.col("home_lon_deg").is_null()).then(
                    pl.lit("home_lat_deg/home_lon_deg: give both or neither")
                ),
                _bad_number("height_cm", *PLAUSIBLE_RANGES["height_cm"], "cm"),
            ),
        )
    )
    ok = f.filter(pl.col("_reason").is_null()).with_columns(
        _first_line=pl.col("line_no").first().over("participant_id")
    )
    dup = ok.filter(pl.col("line_no") != pl.col("_first_line")).select(
        "line_no",
        "raw",
        reason=pl.format(
            "participant_id: {} already given on line {}",
            pl.col("participant_id"),
            pl.col("_first_line"),
        ),
    )
    participants = (
        ok.filter(pl.col("line_no") == pl.col("_first_line"))
        .select(
            "participant_id",
            "sex",
            birth_year="_year",
            tz="_tz_ok",
            home_lat_deg=_number("home_lat_deg"),
            home_lon_deg=_number("home_lon_deg"),
            height_cm=_number("height_cm"),
            conditions=_list("conditions"),
            medications=_list("medications"),
        )
        .cast(PARTICIPANTS_SCHEMA)
    )
    yield Batch("participants", participants)
    bad = rejected_batch(
        [
            bad_lines,
            f.filter(pl.col("_reason").is_not_null()).select("line_no", "raw", reason="_reason"),
            dup,
        ]
    )
    if bad is not None:
        yield bad
