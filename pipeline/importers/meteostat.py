"""Meteostat hourly station data (FORMAT ``meteostat_csv``; JSON: ``meteostat_json``).

Bulk CSV
--------
``https://bulk.meteostat.net/v2/hourly/<station>.csv.gz`` (also ``.../hourly/full/`` and
``.../hourly/obs/``), gzip-compressed or not. **No header line**; 13 comma-separated fields per
line, empty where Meteostat has no value (Meteostat developer docs, *Bulk data: hourly*)::

    2016-02-18,0,12.0,9.0,82.0,,,300.0,5.4,,1016.0,,

===  =======  ==========================================  ==========================
#    field    meaning (Meteostat)                          environment column
===  =======  ==========================================  ==========================
1    date     YYYY-MM-DD (UTC)
2    hour     0-23 (UTC)                                   ``time_utc`` = date + hour
3    temp     air temperature, °C                          ``temp_c``
4    dwpt     dew point, °C                                ``dew_point_c``
5    rhum     relative humidity, %                         ``rh_pct`` (Magnus from temp
                                                           and dwpt when empty)
6    prcp     precipitation total of the hour, mm          ``precipitation_mm``
7    snow     snow depth, mm                               (not stored)
8    wdir     wind direction, degrees                      (not stored)
9    wspd     mean wind speed, km/h                        ``wind_speed_m_s`` (/ 3.6)
10   wpgt     peak gust, km/h                              (not stored)
11   pres     sea-level pressure, hPa                      (not stored)
12   tsun     sunshine of the hour, minutes                (not stored)
13   coco     weather condition code 1-27                  (not stored)
===  =======  ==========================================  ==========================

Having no header, the file is recognised by its first line: exactly 13 fields, the first an ISO
date, the second an hour 0-23, the rest empty or numbers.

JSON API
--------
The response of ``/stations/hourly`` (RapidAPI, or the older ``api.meteostat.net/v2``)::

    {"meta": {"generated": "2025-02-13 07:53:17"},
     "data": [{"time": "2016-02-18 00:00:00", "temp": 12.0, "dwpt": 9.0, "rhum": 82.0, ...}]}

with the same parameters as named keys (``time_local``, present when the request set ``tz``,
is ignored). ``time`` is read as UTC and values as metric: these are the API defaults, and the
response does not say whether ``tz`` or ``units`` were set, so do not set them.

Station and location
--------------------
Neither layout names its station. The Meteostat station id (five letters or digits, the WMO
id where there is one: ``16230``, ``10637``, ``KJFK0``) is taken from, in this order,

1. the file name, as Meteostat names bulk files: ``16230.csv.gz``, ``16230.json``;
2. a ``meteostat_<id>`` / ``meteostat-wmo<id>`` / ``wmo<id>`` part of the file name or of
   the name of a folder above it (nearest first): ``meteostat_wmo16230_2016/20160218.json``.

``location_id`` is ``meteostat:<id>`` (``meteostat:16230``); latitude and longitude stay null
(the files carry none). An import that names a participant attaches the station to them
(``participant_locations``). ``utc_offset_s`` is the offset of the participant's zone
(``--timezone`` or the stored ``tz``) at each hour, and 0 (UTC) when no zone is known.

Rows
----
One ``environment`` row per hour (``setting='outdoor'``, ``source='meteostat'``). A line or
record with an implausible value (:data:`pipeline.normalize.PLAUSIBLE_RANGES`), a non-number,
a bad date or hour, the wrong number of fields, no value at all (Meteostat writes such hours
with every field empty), or the same hour as an earlier line is rejected whole with its
1-based line number (JSON: position in ``data``) and a reason naming the field; the rest lands.

This module also holds the helpers the other station importers
(:mod:`pipeline.importers.noaa_isd_lite`) share: gzip-aware line reading, relative humidity
from dew point (:func:`rh_from_dew_point_pct`), and :func:`station_checks` (plausibility,
derived humidity) and :func:`station_batches` (repeated hours, batches), which
:func:`station_environment` runs one after the other.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import polars as pl

from pipeline.importers import Batch, ImportContext, ImportFormatError
from pipeline.importers._common import (
    US,
    blank_line,
    decode_head,
    load_json,
    read_lines,
    reasons,
    rejected_batch,
    split_csv,
    utc_offsets_s,
    with_extra_rejects,
    zone,
)
from pipeline.importers.open_meteo import ENVIRONMENT_SCHEMA
from pipeline.normalize import PLAUSIBLE_RANGES

FORMAT = "meteostat_csv"
JSON_FORMAT = "meteostat_json"
SOURCE = "meteostat"
COLUMNS = (
    "date",
    "hour",
    "temp",
    "dwpt",
    "rhum",
    "prcp",
    "snow",
    "wdir",
    "wspd",
    "wpgt",
    "pres",
    "tsun",
    "coco",
)
#: Meteostat parameter -> (environment column, factor to the canonical unit)
READ: dict[str, tuple[str, float]] = {
    "temp": ("temp_c", 1.0),
    "dwpt": ("dew_point_c", 1.0),
    "rhum": ("rh_pct", 1.0),
    "prcp": ("precipitation_mm", 1.0),
    "wspd": ("wind_speed_m_s", 1.0 / 3.6),  # km/h -> m/s, exact
}
STATION_METRICS = ("temp_c", "rh_pct", "dew_point_c", "precipitation_mm", "wind_speed_m_s")
YEAR_RANGE = (1900, 2100)
BATCH_ROWS = 50_000
GZIP_MAGIC = b"\x1f\x8b"
#: cap on the inflated size of a gzip-compressed weather file (a whole station history is
#: tens of MB; the cap only stops a decompression bomb)
MAX_INFLATED_BYTES = 1024**3

#: Magnus form of the saturation vapour pressure over water, es(T) = 6.105 exp(17.27 T /
#: (237.7 + T)) hPa, with the Australian Bureau of Meteorology constants used throughout
#: crampwatch (research brief detectors-science.md section 1.1; Alduchov & Eskridge 1996,
#: J Appl Meteorol 35:601-609, doi:10.1175/1520-0450(1996)035<0601:IMFAOS>2.0.CO;2, for the
#: accuracy of the Magnus form). RH = 100 es(Td) / es(T): the 6.105 cancels.
MAGNUS_B, MAGNUS_C_C = 17.27, 237.7
#: a dew point up to this much above the air temperature is rounding in the source (one whole
#: degree Fahrenheit is 0.56 °C); RH is then 100 %. A larger excess is rejected.
DEW_POINT_ROUNDING_C = 0.6

_STATION_RE = re.compile(r"^[0-9A-Z]{5}$")
_STATION_IN_NAME_RE = re.compile(
    r"(?:meteostat[_-]?(?:wmo)?|(?<![a-z0-9])wmo)[_-]?"
    r"([0-9A-Za-z]{5})(?![0-9A-Za-z])",
    re.IGNORECASE,
)
_NUM = r"-?\d+(?:\.\d+)?"
_LINE_RE = re.compile(rf"^\d{{4}}-\d{{2}}-\d{{2}},(?:[01]?\d|2[0-3])(?:,(?:{_NUM})?){{11}}$")


# --------------------------------------------------------------------------------------------
# shared helpers for station weather files
# --------------------------------------------------------------------------------------------


def gunzip_head(head: bytes) -> bytes:
    """The decompressed start of gzip data (``head`` unchanged when it is not gzip)."""
    if not head.startswith(GZIP_MAGIC):
        return head
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 1 << 16)
    except zlib.error:
        return b""


def read_station_lines(path: Path, display: str) -> pl.DataFrame:
    """:func:`pipeline.importers.journal_csv.read_lines`, also for a gzip-compressed file.

    The inflated text is capped at :data:`MAX_INFLATED_BYTES`; nothing is written to disk.
    """
    with open(path, "rb") as fh:
        if fh.read(2) != GZIP_MAGIC:
            return read_lines(path, display)
        fh.seek(0)
        inflater, parts, size = zlib.decompressobj(16 + zlib.MAX_WBITS), [], 0
        try:
            while chunk := fh.read(1 << 20):
                while chunk:
                    out = inflater.decompress(chunk, 1 << 24)
                    size += len(out)
                    if size > MAX_INFLATED_BYTES:
                        raise ImportFormatError(
                            f"{display}: inflates to more than {MAX_INFLATED_BYTES} bytes; "
                            "not a weather file"
                        )
                    parts.append(out)
                    chunk = inflater.unconsumed_tail
                if inflater.eof:
                    break
        except zlib.error as exc:
            raise ImportFormatError(f"{display}: corrupt gzip data ({exc})") from exc
        if not inflater.eof:
            raise ImportFormatError(f"{display}: truncated gzip file")
    data = b"".join(parts)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFormatError(
            f"{display}: not UTF-8 text (undecodable byte at offset "
            f"{exc.start} after decompression)"
        ) from exc
    if not text.strip():
        raise ImportFormatError(f"{display}: the file is empty")
    lines = pl.Series("text", text.split("\n"), dtype=pl.String).str.strip_suffix("\r")
    return pl.DataFrame({"line_no": pl.int_range(1, lines.len() + 1, eager=True), "text": lines})


def rh_from_dew_point_pct(temp_c: pl.Expr, dew_point_c: pl.Expr) -> pl.Expr:
    """Relative humidity (%) from air temperature and dew point, Magnus form (see above).

    Null where either is null. Not capped: a dew point above the air temperature gives more
    than 100 % (:func:`station_checks` decides what to do with that).
    """

    def es(t: pl.Expr) -> pl.Expr:
        return (MAGNUS_B * t / (MAGNUS_C_C + t)).exp()

    return 100.0 * es(dew_point_c) / es(temp_c)


def station_location(
    path: Path,
    display: str,
    pattern: re.Pattern[str] = _STATION_RE,
    in_name: re.Pattern[str] = _STATION_IN_NAME_RE,
) -> str | None:
    """The Meteostat station id named by the file (see the module docstring), or None."""
    p = Path(display) if display else Path(path)
    stem = p.name.split(".")[0]
    if pattern.match(stem) and any(c.isdigit() for c in stem):
        return stem
    for part in (p.name, *(q.name for q in p.parents)):
        m = in_name.search(part)
        if m and any(c.isdigit() for c in m.group(1)):
            return m.group(1).upper()
    return None


def station_environment(
    rows: pl.DataFrame,
    labels: dict[str, str],
    *,
    location_id: str,
    source: str,
    ctx: ImportContext,
    fixed_offset_s: int = 0,
    latitude_deg: float | None = None,
    longitude_deg: float | None = None,
) -> Iterator[Batch]:
    """Check, de-duplicate and emit station rows as ``environment`` batches.

    ``rows`` has ``line_no``, ``raw``, ``_utc_us`` (Int64 epoch µs, null when the time is
    bad), ``_reason`` (String: what the reader already found wrong, else null), one Float64
    column per entry of ``labels`` (canonical units, null = missing) and, for each, the
    source text ``_raw_<metric>``; ``labels`` maps each metric read to the source field name
    used in reasons. :func:`station_checks`, then :func:`station_batches`.
    """
    yield from station_batches(
        station_checks(rows, labels),
        location_id=location_id,
        source=source,
        ctx=ctx,
        fixed_offset_s=fixed_offset_s,
        latitude_deg=latitude_deg,
        longitude_deg=longitude_deg,
    )


def station_checks(rows: pl.DataFrame, labels: dict[str, str]) -> pl.DataFrame:
    """Add the canonical metric columns missing from ``rows``, relative humidity from the dew
    point where it is missing (:func:`rh_from_dew_point_pct`), and the plausibility and
    no-value reasons to ``_reason`` (see :func:`station_environment` for the columns)."""
    cols = [m for m in STATION_METRICS if m in labels]
    f = rows
    for m in STATION_METRICS:
        if m not in f.columns:
            f = f.with_columns(pl.lit(None, pl.Float64).alias(m))
    derived = (
        pl.col("rh_pct").is_null()
        & pl.col("temp_c").is_not_null()
        & pl.col("dew_point_c").is_not_null()
    )
    excess = pl.col("dew_point_c") - pl.col("temp_c")
    f = f.with_columns(_rh_derived=derived).with_columns(
        rh_pct=pl.when(derived)
        .then(
            pl.when(excess > 0)
            .then(pl.lit(100.0))
            .otherwise(rh_from_dew_point_pct(pl.col("temp_c"), pl.col("dew_point_c")))
        )
        .otherwise(pl.col("rh_pct"))
    )
    checks = []
    for m in cols:
        lo, hi = PLAUSIBLE_RANGES[m]
        checks.append(
            pl.when(~pl.col(m).is_between(lo, hi)).then(
                pl.format(
                    f"{labels[m]} = {{}}: {m} {{}} outside plausible range [{lo:g}, {hi:g}]",
                    pl.col(f"_raw_{m}"),
                    pl.col(m).round(2),
                )
            )
        )
    if "temp_c" in cols and "dew_point_c" in cols:
        checks.append(
            pl.when(pl.col("_rh_derived") & (excess > DEW_POINT_ROUNDING_C)).then(
                pl.format(
                    f"{labels['dew_point_c']} {{}} is more than {DEW_POINT_ROUNDING_C:g} °C "
                    f"above {labels['temp_c']} {{}}: no relative humidity can be derived",
                    pl.col("_raw_dew_point_c"),
                    pl.col("_raw_temp_c"),
                )
            )
        )
    no_value = pl.all_horizontal([pl.col(m).is_null() for m in cols]) if cols else pl.lit(True)
    return f.with_columns(_reason=reasons(pl.col("_reason"), *checks)).with_columns(
        _reason=pl.coalesce(
            "_reason",
            pl.when(no_value).then(pl.lit("no values: every field read is empty or missing")),
        )
    )


def station_batches(
    f: pl.DataFrame,
    *,
    location_id: str,
    source: str,
    ctx: ImportContext,
    fixed_offset_s: int = 0,
    latitude_deg: float | None = None,
    longitude_deg: float | None = None,
) -> Iterator[Batch]:
    """Checked rows (:func:`station_checks`) -> ``environment`` batches (the first line of an
    hour wins; later ones are rejected), ``participant_locations`` for ``ctx.participant_id``
    and ``rejected_rows``. ``utc_offset_s`` is the offset of ``ctx.tz`` at each hour, else
    ``fixed_offset_s``."""
    ok = f.filter(pl.col("_reason").is_null()).with_columns(
        _first_line=pl.col("line_no").first().over("_utc_us")
    )
    dup = ok.filter(pl.col("line_no") != pl.col("_first_line")).select(
        "line_no", "raw", reason=pl.format("same hour as line {}", pl.col("_first_line"))
    )
    ok = ok.filter(pl.col("line_no") == pl.col("_first_line"))
    zi = zone(ctx.tz)
    offsets = (
        utc_offsets_s(ok["_utc_us"], zi)
        if zi is not None and ok.height
        else pl.Series([fixed_offset_s] * ok.height, dtype=pl.Int64)
    )
    env = (
        ok.with_columns(
            location_id=pl.lit(location_id),
            latitude_deg=pl.lit(latitude_deg, pl.Float64),
            longitude_deg=pl.lit(longitude_deg, pl.Float64),
            time_utc=pl.from_epoch("_utc_us", time_unit="us").dt.replace_time_zone("UTC"),
            utc_offset_s=offsets,
            setting=pl.lit("outdoor"),
            apparent_temp_c=pl.lit(None, pl.Float64),
            shortwave_radiation_w_m2=pl.lit(None, pl.Float64),
            source=pl.lit(source),
        )
        .select(list(ENVIRONMENT_SCHEMA))
        .cast(ENVIRONMENT_SCHEMA)
        .sort("time_utc")
    )
    for i in range(0, max(env.height, 1), BATCH_ROWS):
        yield Batch("environment", env.slice(i, BATCH_ROWS))
    if ctx.participant_id:
        yield Batch(
            "participant_locations",
            pl.DataFrame(
                {"participant_id": [ctx.participant_id], "location_id": [location_id]},
                schema={"participant_id": pl.String, "location_id": pl.String},
            ),
        )
    bad = rejected_batch(
        [f.filter(pl.col("_reason").is_not_null()).select("line_no", "raw", reason="_reason"), dup]
    )
    if bad is not None:
        yield bad


def numbers(
    rows: pl.DataFrame, fields: dict[str, tuple[str, float]]
) -> tuple[pl.DataFrame, list[pl.Expr]]:
    """Parse String fields as numbers: ``{field: (metric, factor)}`` -> Float64 ``metric``
    columns (times ``factor``) beside ``_raw_<metric>``, plus "not a number" reasons.
    """
    checks, values = [], []
    for field, (metric, factor) in fields.items():
        raw = pl.col(field)
        num = raw.cast(pl.Float64, strict=False)
        checks.append(
            pl.when(raw.is_not_null() & (num.is_null() | num.is_nan())).then(
                pl.format(f"{field}: {{}} is not a number", raw)
            )
        )
        values.append((num * factor).alias(metric))
        values.append(raw.alias(f"_raw_{metric}"))
    return rows.with_columns(values), checks


def _location(path: Path, ctx: ImportContext) -> str:
    display = ctx.display_path or str(path)
    station = station_location(path, display)
    if station is None:
        raise ImportFormatError(
            f"{display}: Meteostat files do not name their station; name the file after the "
            "Meteostat station id as Meteostat does (16230.csv.gz, 16230.json), or put it in a "
            "folder named meteostat_<station id>"
        )
    return f"meteostat:{station}"


# --------------------------------------------------------------------------------------------
# bulk CSV
# --------------------------------------------------------------------------------------------


def sniff(head: bytes, name: str) -> bool:
    """True when the first non-blank lines (up to 3) are Meteostat bulk hourly lines."""
    text = decode_head(gunzip_head(head))
    lines = [ln.rstrip("\r") for ln in text.split("\n")[:-1] if ln.strip()][:3]
    return bool(lines) and all(_LINE_RE.match(ln.strip()) for ln in lines)


def read(path: Path, ctx: ImportContext) -> Iterator[Batch]:
    """Yield ``environment`` (+ ``participant_locations``, ``rejected_rows``) from bulk CSV."""
    display = ctx.display_path or str(path)
    location = _location(Path(path), ctx)
    lines = read_station_lines(Path(path), display).filter(~blank_line())
    records, bad_lines = split_csv(lines, COLUMNS)
    hour = pl.col("hour").cast(pl.Int64, strict=False)
    day = pl.col("date").str.to_date("%Y-%m-%d", strict=False)
    t_us = day.cast(pl.Datetime("us")).dt.epoch("us") + hour * 3600 * US
    rows, checks = numbers(records, READ)
    rows = rows.with_columns(
        _utc_us=pl.when(hour.is_between(0, 23) & day.dt.year().is_between(*YEAR_RANGE)).then(t_us),
    ).with_columns(
        _reason=reasons(
            pl.when(day.is_null() | ~day.dt.year().is_between(*YEAR_RANGE)).then(
                pl.format(
                    f"date: {{}} is not a date YYYY-MM-DD (years {YEAR_RANGE[0]}-{YEAR_RANGE[1]})",
                    pl.col("date"),
                )
            ),
            pl.when(~hour.is_between(0, 23) | hour.is_null()).then(
                pl.format("hour: {} is not an hour 0-23", pl.col("hour"))
            ),
            *checks,
        )
    )
    labels = {metric: field for field, (metric, _) in READ.items()}
    batches = station_environment(rows, labels, location_id=location, source=SOURCE, ctx=ctx)
    yield from with_extra_rejects(batches, bad_lines)


# --------------------------------------------------------------------------------------------
# JSON API response
# --------------------------------------------------------------------------------------------


def sniff_json(head: bytes, name: str) -> bool:
    """True for a Meteostat hourly JSON response (``meta.generated`` and ``data[].time``)."""
    text = decode_head(gunzip_head(head)).lstrip()
    return (
        text.startswith("{")
        and re.search(r'"meta"\s*:\s*\{[^{}]*"generated"\s*:', text) is not None
        and re.search(r'"data"\s*:\s*\[\s*(?:\]|\{\s*"time"\s*:)', text) is not None
        and "generationtime_ms" not in text
    )


def read_json(path: Path, ctx: ImportContext) -> Iterator[Batch]:
    """Yield ``environment`` (+ ...) from a Meteostat ``/stations/hourly`` JSON response."""
    display = ctx.display_path or str(path)
    location = _location(Path(path), ctx)
    text = "\n".join(read_station_lines(Path(path), display)["text"].to_list())
    doc = load_json(text, display)
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, list):
        raise ImportFormatError(f'{display}: not a Meteostat response: no "data" array')
    fields = ("time", *READ)

    def text_of(v: object) -> str | None:
        if v is None:
            return None
        return json.dumps(v) if isinstance(v, (dict, list, bool)) else str(v)

    cols: dict[str, list] = {"line_no": [], "raw": [], **{k: [] for k in fields}}
    for i, rec in enumerate(data, start=1):
        cols["line_no"].append(i)
        cols["raw"].append(json.dumps(rec, separators=(",", ":")))
        for k in fields:
            cols[k].append(text_of(rec.get(k)) if isinstance(rec, dict) else None)
    records = pl.DataFrame(
        cols, schema={"line_no": pl.Int64, "raw": pl.String, **dict.fromkeys(fields, pl.String)}
    )
    wall = pl.col("time").str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="us")
    rows, checks = numbers(records, READ)
    ok_time = wall.is_not_null() & wall.dt.year().is_between(*YEAR_RANGE)
    rows = rows.with_columns(
        _utc_us=pl.when(ok_time).then(wall.dt.epoch("us")),
        _reason=reasons(
            pl.when(~ok_time | wall.is_null()).then(
                pl.format("time: {} is not a time like 2016-02-18 00:00:00", pl.col("time"))
            ),
            *checks,
        ),
    )
    labels = {metric: field for field, (metric, _) in READ.items()}
    yield from station_environment(rows, labels, location_id=location, source=SOURCE, ctx=ctx)


#: the JSON reader as an importer "module" for the registry (``FORMAT``, ``sniff``, ``read``)
JSON = SimpleNamespace(
    FORMAT=JSON_FORMAT, sniff=sniff_json, read=read_json, __name__=f"{__name__}.JSON"
)
