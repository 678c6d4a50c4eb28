"""Open-Meteo hourly weather downloads (FORMAT ``open_meteo_csv``; JSON: ``open_meteo_json``).

CSV (``&format=csv``, or the download button on open-meteo.com), as Open-Meteo writes it::

    latitude,longitude,elevation,utc_offset_seconds,timezone,timezone_abbreviation
    52.52,13.419998,38.0,3600,Europe/Berlin,GMT+1

    time,temperature_2m (°C),relative_humidity_2m (%),dew_point_2m (°C),precipitation (mm),...
    2025-07-01T00:00,18.3,77,14.2,0.00,...

More sections may follow, each after a blank line with its own header (``minutely_15`` comes
before ``hourly``, ``daily`` after it); the hourly one is read, the others are ignored. A
multi-location download has a ``location_id`` first column in the metadata and data lines.
Missing values are written ``NaN``. The JSON API response (an object, or a list of objects for
several locations, with ``hourly_units`` and ``hourly``) is read the same way.

Columns read (old names without the inner underscore accepted too), everything else ignored,
absent ones null:

=========================  =========================  =====================================
Open-Meteo column          environment column         units accepted
=========================  =========================  =====================================
temperature_2m             temp_c                     °C, °F, °K
relative_humidity_2m       rh_pct                     %
dew_point_2m               dew_point_c                °C, °F, °K
apparent_temperature       apparent_temp_c            °C, °F, °K
precipitation              precipitation_mm           mm, inch   (sum over the preceding hour)
wind_speed_10m             wind_speed_m_s             km/h, m/s, mp/h, kn
shortwave_radiation        shortwave_radiation_w_m2   W/m²       (mean over the preceding hour)
=========================  =========================  =====================================

Time
----
Times are local wall-clock ``2025-07-01T14:00`` in ``timezone``. Open-Meteo applies ONE offset
to a whole response, ``utc_offset_seconds`` of the metadata line: the offset valid *when the
request was made*, not at each timestamp, so a download spanning a DST change has no repeated
or missing hour (open-meteo/open-meteo issues #261, #488, #1255: "no DST adjustments applied
throughout the time series"). Hence ``time_utc = time - utc_offset_seconds``, and
``utc_offset_s`` is the zone's real offset at that instant (from :mod:`zoneinfo`), so local
days are right on both sides of a DST change. A file whose local times follow the zone's DST
rules instead (an hour listed twice in autumn, one skipped in spring: other tools write that)
is recognised because only the zone reading gives it a regular time grid; it is then read with
:mod:`zoneinfo`, the first of two equal local times being the earlier instant.
``timeformat=unixtime`` (UTC epoch seconds) is read as UTC.

Rows become ``environment`` rows (``setting='outdoor'``, ``source='open-meteo'``,
``location_id = f"{lat:.2f},{lon:.2f}"``) plus one ``participant_locations`` row per location
when the import names a participant. A line with an implausible value
(:data:`pipeline.normalize.PLAUSIBLE_RANGES`), a non-number, a bad time, the wrong number of
fields, no value at all (every variable NaN) or the same instant as an earlier line is
rejected whole, with its 1-based line number (JSON: position in ``hourly.time``, counted across
locations) and a reason naming the column; the other rows land.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import polars as pl

from detectors import tables
from pipeline.importers import Batch, ImportContext, ImportFormatError
from pipeline.importers._common import (
    US,
    blank_line,
    decode_head,
    first_line_fields,
    load_json,
    local_to_utc_us,
    read_lines,
    reasons,
    rejected_batch,
    split_csv,
    utc_offsets_s,
    with_extra_rejects,
    year_of_us,
    zone,
)
from pipeline.normalize import PLAUSIBLE_RANGES

FORMAT = "open_meteo_csv"
JSON_FORMAT = "open_meteo_json"
SOURCE = "open-meteo"
META_HEADER = (
    "latitude",
    "longitude",
    "elevation",
    "utc_offset_seconds",
    "timezone",
    "timezone_abbreviation",
)
YEAR_RANGE = (1900, 2100)
BATCH_ROWS = 50_000

#: Open-Meteo variable -> (environment column, unit family)
VARIABLES: dict[str, tuple[str, str]] = {
    "temperature_2m": ("temp_c", "temperature"),
    "relative_humidity_2m": ("rh_pct", "percent"),
    "relativehumidity_2m": ("rh_pct", "percent"),
    "dew_point_2m": ("dew_point_c", "temperature"),
    "dewpoint_2m": ("dew_point_c", "temperature"),
    "apparent_temperature": ("apparent_temp_c", "temperature"),
    "precipitation": ("precipitation_mm", "precipitation"),
    "wind_speed_10m": ("wind_speed_m_s", "wind"),
    "windspeed_10m": ("wind_speed_m_s", "wind"),
    "shortwave_radiation": ("shortwave_radiation_w_m2", "radiation"),
}
METRICS = (
    "temp_c",
    "rh_pct",
    "dew_point_c",
    "apparent_temp_c",
    "precipitation_mm",
    "wind_speed_m_s",
    "shortwave_radiation_w_m2",
)

#: unit family -> unit label as Open-Meteo writes it -> (a, b): canonical = a * value + b
UNITS: dict[str, dict[str, tuple[float, float]]] = {
    "temperature": {
        "°C": (1.0, 0.0),
        "°F": (5.0 / 9.0, -32.0 * 5.0 / 9.0),
        "°K": (1.0, -273.15),
        "K": (1.0, -273.15),
    },
    "percent": {"%": (1.0, 0.0)},
    "precipitation": {"mm": (1.0, 0.0), "inch": (25.4, 0.0)},  # 1 in = 25.4 mm exactly
    "wind": {
        "km/h": (1.0 / 3.6, 0.0),
        "m/s": (1.0, 0.0),
        "mp/h": (0.44704, 0.0),
        "mph": (0.44704, 0.0),  # 1 mi/h = 0.44704 m/s exactly
        "kn": (1852.0 / 3600.0, 0.0),
    },  # 1 kn = 1852 m/h exactly
    "radiation": {"W/m²": (1.0, 0.0), "W/m2": (1.0, 0.0)},
}
#: plausible ranges: the shared ones, plus global horizontal irradiance, which cannot exceed
#: the solar constant (1361 W/m², Kopp & Lean 2011, doi:10.1029/2010GL045777) by much
RANGES = {**PLAUSIBLE_RANGES, "shortwave_radiation_w_m2": (0.0, 1500.0)}

ENVIRONMENT_SCHEMA = tables.rows("environment")
_UNIT_RE = re.compile(r"^(.+?) \((.*)\)$")


# --------------------------------------------------------------------------------------------
# detection
# --------------------------------------------------------------------------------------------


def sniff(head: bytes, name: str) -> bool:
    """True when the first line is Open-Meteo's CSV metadata header."""
    fields = first_line_fields(head)
    return fields in (META_HEADER, ("location_id", *META_HEADER))


def sniff_json(head: bytes, name: str) -> bool:
    """True for an Open-Meteo JSON API response (object or list of objects)."""
    text = decode_head(head).lstrip()
    return text[:1] in ("{", "[") and all(
        re.search(rf'"{key}"\s*:', text)
        for key in ("latitude", "longitude", "generationtime_ms", "utc_offset_seconds")
    )


# --------------------------------------------------------------------------------------------
# shared core: raw strings -> environment rows
# --------------------------------------------------------------------------------------------


def location_id(lat: float, lon: float) -> str:
    """``'lat,lon'`` rounded to 0.01 degree (``-0.00`` written ``0.00``)."""
    a, b = f"{lat:.2f}", f"{lon:.2f}"
    return f"{'0.00' if a == '-0.00' else a},{'0.00' if b == '-0.00' else b}"


def _meta_frame(rows: list[dict], display: str) -> pl.DataFrame:
    """Validated metadata: ``loc`` (1-based), coordinates, offset, zone, ``location_id``."""
    out = []
    for r in rows:
        where = f"{display}:{r['line_no']}" if r.get("line_no") else display
        try:
            lat, lon = float(r["latitude"]), float(r["longitude"])
            off = int(float(r["utc_offset_seconds"]))
        except (TypeError, ValueError) as exc:
            raise ImportFormatError(
                f"{where}: unreadable Open-Meteo metadata (latitude, "
                f"longitude, utc_offset_seconds): {exc}"
            ) from exc
        if not (-90 <= lat <= 90 and -180 <= lon <= 180 and abs(off) <= 18 * 3600):
            raise ImportFormatError(
                f"{where}: Open-Meteo metadata out of range: latitude "
                f"{lat}, longitude {lon}, utc_offset_seconds {off}"
            )
        out.append(
            {
                "loc": int(r["loc"]),
                "latitude_deg": lat,
                "longitude_deg": lon,
                "offset_s": off,
                "timezone": r.get("timezone"),
                "location_id": location_id(lat, lon),
            }
        )
    return pl.DataFrame(
        out,
        schema={
            "loc": pl.Int64,
            "latitude_deg": pl.Float64,
            "longitude_deg": pl.Float64,
            "offset_s": pl.Int64,
            "timezone": pl.String,
            "location_id": pl.String,
        },
    )


def _columns(variables: list[tuple[str, str | None]], where: str) -> dict[str, dict]:
    """Recognised ``(variable, unit)`` pairs -> ``{metric: {label, pos, a, b}}``.

    ``pos`` is the index in ``variables``; a metric listed twice is read from its first column.
    Raises ImportFormatError for a recognised variable in a unit we cannot convert.
    """
    found: dict[str, dict] = {}
    for pos, (var, unit) in enumerate(variables):
        if var not in VARIABLES:
            continue
        metric, family = VARIABLES[var]
        label = f"{var} ({unit})" if unit is not None else var
        if unit not in UNITS[family]:
            raise ImportFormatError(
                f"{where}: column {label!r}: unit {unit!r} not supported "
                f"(expected one of {', '.join(UNITS[family])})"
            )
        if metric not in found:
            a, b = UNITS[family][unit]
            found[metric] = {"label": label, "var": var, "pos": pos, "a": a, "b": b}
    return found


def _irregular(us: pl.Series) -> int:
    """Number of steps of a time series that differ from its most common step."""
    d = us.diff().drop_nulls()
    if d.len() == 0:
        return 0
    return int((d != d.mode().sort()[0]).sum())


def _to_utc(timed: pl.DataFrame, meta: pl.DataFrame) -> pl.DataFrame:
    """Add ``_utc_us`` and ``utc_offset_s`` to rows with a wall-clock ``_wall_us``, per location.

    See the module docstring: one fixed offset (Open-Meteo), unless the zone's DST rules give
    the regular grid the fixed offset does not.
    """
    parts = []
    for m in meta.iter_rows(named=True):
        sub = timed.filter(pl.col("loc") == m["loc"])
        if sub.height == 0:
            continue
        fixed = (sub["_wall_us"] - m["offset_s"] * US).alias("_utc_us")
        zi = zone(m["timezone"])
        if zi is None:  # not an IANA name: keep Open-Meteo's own offset
            utc, off = fixed, pl.Series([m["offset_s"]] * sub.height, dtype=pl.Int64)
        else:
            utc = fixed
            if _irregular(fixed):
                later = sub.select(pl.int_range(pl.len()).over("_wall_us") > 0).to_series()
                zoned, _ = local_to_utc_us(sub["_wall_us"], zi, later)
                if _irregular(zoned) < _irregular(fixed):
                    utc = zoned
            off = utc_offsets_s(utc, zi)
        parts.append(sub.with_columns(_utc_us=utc, utc_offset_s=off))
    return (
        pl.concat(parts)
        if parts
        else timed.with_columns(_utc_us=pl.lit(None, pl.Int64), utc_offset_s=pl.lit(None, pl.Int64))
    )


def _environment(
    rows: pl.DataFrame,
    cols: dict[str, dict],
    meta: pl.DataFrame,
    unixtime: bool,
    ctx: ImportContext,
) -> Iterator[Batch]:
    """``rows``: ``line_no``, ``raw``, ``loc``, ``time`` and one String column per metric."""
    checks, values = [], []
    for metric, c in cols.items():
        label, a, b = c["label"], c["a"], c["b"]
        raw = pl.col(f"_raw_{metric}")
        missing = raw.is_null() | raw.str.to_lowercase().is_in(["nan", "null"])
        num = raw.cast(pl.Float64, strict=False)
        value = pl.when(missing).then(None).otherwise(num * a + b)
        lo, hi = RANGES[metric]
        checks.append(
            pl.when(~missing & (num.is_null() | num.is_nan()))
            .then(pl.format(f"{label}: {{}} is not a number", raw))
            .when(~value.is_between(lo, hi))
            .then(
                pl.format(
                    f"{label} = {{}}: {metric} {{}} outside plausible range [{lo:g}, {hi:g}]",
                    raw,
                    value.round(2),
                )
            )
        )
        values.append(value.alias(metric))
    absent = [pl.lit(None, pl.Float64).alias(m) for m in METRICS if m not in cols]
    rows = rows.rename({m: f"_raw_{m}" for m in cols})

    if unixtime:
        epoch = pl.col("time").cast(pl.Int64, strict=False)
        # bounded before scaling: nanoseconds (1.4e18) times 1e6 wrap around Int64 and rows
        # then went neither in nor out; 1e11 s is the year 5138
        f = rows.with_columns(
            _utc_direct=pl.when(epoch.abs() < 10**11).then(epoch * US),
            _wall_us=pl.lit(None, pl.Int64),
        )
        t_us = pl.col("_utc_direct")
    else:
        wall = pl.coalesce(
            pl.col("time").str.to_datetime("%Y-%m-%dT%H:%M", strict=False, time_unit="us"),
            pl.col("time").str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False, time_unit="us"),
        )
        f = rows.with_columns(_wall_us=wall.dt.epoch("us"), _utc_direct=pl.lit(None, pl.Int64))
        t_us = pl.col("_wall_us")
    f = f.with_columns(*values, *absent).with_columns(
        _time_ok=(t_us.is_not_null() & year_of_us(t_us).is_between(*YEAR_RANGE)).fill_null(False)
    )
    all_null = pl.all_horizontal([pl.col(m).is_null() for m in cols]) if cols else pl.lit(True)
    f = f.with_columns(
        _reason=reasons(
            pl.when(pl.col("time").is_null())
            .then(pl.lit("time: empty"))
            .when(~pl.col("_time_ok"))
            .then(
                pl.format(
                    "time: {} is not a time like 2025-07-01T14:00 (years "
                    f"{YEAR_RANGE[0]}-{YEAR_RANGE[1]})",
                    pl.col("time"),
                )
            ),
            pl.when(pl.col("loc").is_null() | ~pl.col("loc").is_in(meta["loc"].to_list())).then(
                pl.format("location_id: {} not in the metadata lines", pl.col("loc"))
            ),
            *checks,
        )
    ).with_columns(
        _reason=pl.coalesce(
            "_reason",
            pl.when(all_null).then(
                pl.lit(
                    "no values: every variable is NaN or empty (Open-Meteo has no data for this hour)"
                )
            ),
        )
    )

    timed = f.filter(pl.col("_time_ok"))
    if unixtime:
        timed = timed.with_columns(_utc_us=pl.col("_utc_direct"))
        parts = []
        for m in meta.iter_rows(named=True):
            sub = timed.filter(pl.col("loc") == m["loc"])
            zi = zone(m["timezone"])
            off = (
                utc_offsets_s(sub["_utc_us"], zi)
                if zi is not None
                else pl.Series([m["offset_s"]] * sub.height, dtype=pl.Int64)
            )
            parts.append(sub.with_columns(utc_offset_s=off))
        timed = (
            pl.concat(parts) if parts else timed.with_columns(utc_offset_s=pl.lit(None, pl.Int64))
        )
    else:
        timed = _to_utc(timed, meta)

    ok = timed.filter(pl.col("_reason").is_null()).with_columns(
        _first_line=pl.col("line_no").first().over("loc", "_utc_us")
    )
    dup = ok.filter(pl.col("line_no") != pl.col("_first_line")).select(
        "line_no",
        "raw",
        reason=pl.format(
            "time: {} is the same instant as line {}", pl.col("time"), pl.col("_first_line")
        ),
    )
    ok = ok.filter(pl.col("line_no") == pl.col("_first_line")).join(
        meta.select("loc", "location_id", "latitude_deg", "longitude_deg"),
        on="loc",
        how="left",
        maintain_order="left",
    )
    env = (
        ok.with_columns(
            time_utc=pl.from_epoch("_utc_us", time_unit="us").dt.replace_time_zone("UTC"),
            setting=pl.lit("outdoor"),
            source=pl.lit(SOURCE),
        )
        .select(list(ENVIRONMENT_SCHEMA))
        .cast(ENVIRONMENT_SCHEMA)
    )
    for i in range(0, max(env.height, 1), BATCH_ROWS):
        yield Batch("environment", env.slice(i, BATCH_ROWS))
    if ctx.participant_id:
        yield Batch(
            "participant_locations",
            pl.DataFrame(
                {
                    "participant_id": ctx.participant_id,
                    "location_id": meta["location_id"].unique(maintain_order=True),
                },
                schema={"participant_id": pl.String, "location_id": pl.String},
            ),
        )
    bad = rejected_batch(
        [f.filter(pl.col("_reason").is_not_null()).select("line_no", "raw", reason="_reason"), dup]
    )
    if bad is not None:
        yield bad


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------


def _header_fields(text: str) -> list[str]:
    return [f.strip().strip('"').strip() for f in text.split(",")]


def _variables(fields: list[str]) -> list[tuple[str, str | None]]:
    out = []
    for field in fields:
        m = _UNIT_RE.match(field)
        out.append((m.group(1).strip(), m.group(2).strip()) if m else (field, None))
    return out


def read(path: Path, ctx: ImportContext) -> Iterator[Batch]:
    """Yield ``environment`` (+ ``participant_locations``, ``rejected_rows``) from a CSV."""
    display = ctx.display_path or str(path)
    lines = read_lines(Path(path), display)
    is_header = pl.col("text").str.contains(r'^"?(location_id"?,"?)?(time|current_weather_time)"?,')
    lines = lines.with_columns(_block=(blank_line() | is_header).cum_sum()).filter(~blank_line())
    blocks = lines.partition_by("_block", maintain_order=True)

    meta_block = blocks[0]
    meta_head = meta_block.row(0, named=True)
    meta_fields = tuple(_header_fields(meta_head["text"]))
    multi = meta_fields == ("location_id", *META_HEADER)
    if meta_fields != META_HEADER and not multi:
        raise ImportFormatError(
            f"{display}:{meta_head['line_no']}: not an Open-Meteo CSV: the first line must be "
            f"{','.join(META_HEADER)!r}, found {meta_head['text'][:200]!r}"
        )
    names = ("loc", *META_HEADER) if multi else META_HEADER
    meta_rows, meta_bad = split_csv(meta_block.slice(1), names)
    if meta_bad.height or meta_rows.height == 0:
        line = meta_bad["line_no"][0] if meta_bad.height else meta_head["line_no"] + 1
        raise ImportFormatError(
            f"{display}:{line}: the Open-Meteo metadata line is missing or broken"
        )
    if not multi:
        meta_rows = meta_rows.with_columns(loc=pl.lit("1"))
    meta = _meta_frame(meta_rows.to_dicts(), display)

    # candidate sections: a "time" column and at least one variable we read
    candidates = []
    for block in blocks[1:]:
        head = block.row(0, named=True)
        fields = _header_fields(head["text"])
        has_loc = fields[:1] == ["location_id"]
        rest = fields[1:] if has_loc else fields
        if rest[:1] != ["time"]:
            continue
        where = f"{display}:{head['line_no']}"
        cols = _columns(_variables(rest[1:]), where)
        if cols:
            candidates.append((block, has_loc, rest, cols))
    if not candidates:
        raise ImportFormatError(
            f"{display}: no hourly section with a supported variable "
            f"({', '.join(dict.fromkeys(VARIABLES))}); download hourly data"
        )

    def step_s(block: pl.DataFrame, has_loc: bool) -> float | None:
        times = block.slice(1, 2)["text"].str.split(",").list.get(1 if has_loc else 0)
        parsed = times.str.to_datetime("%Y-%m-%dT%H:%M", strict=False)
        if parsed.null_count() == 0 and parsed.len() == 2:
            return (parsed[1] - parsed[0]).total_seconds()
        ints = times.cast(pl.Int64, strict=False)
        return float(ints[1] - ints[0]) if ints.null_count() == 0 and ints.len() == 2 else None

    block, has_loc, fields, cols = next(
        (c for c in candidates if step_s(c[0], c[1]) == 3600.0), candidates[0]
    )

    # internal column names: loc, time, the metric for each column read, _skip<i> otherwise
    metric_at = {c["pos"]: metric for metric, c in cols.items()}
    names = (
        (["loc"] if has_loc else [])
        + ["time"]
        + [metric_at.get(i, f"_skip{i}") for i in range(len(fields) - 1)]
    )
    rows, bad_lines = split_csv(block.slice(1), tuple(names))
    rows = rows.with_columns(
        loc=pl.col("loc").cast(pl.Int64, strict=False) if has_loc else pl.lit(1, pl.Int64)
    )
    non_null = rows["time"].drop_nulls()
    unixtime = non_null.len() > 0 and bool(non_null.str.contains(r"^-?\d+$").all())
    # lines of other sections are not data: only the chosen section's broken lines count
    yield from with_extra_rejects(
        _environment(
            rows.select("line_no", "raw", "loc", "time", *cols), cols, meta, unixtime, ctx
        ),
        bad_lines,
    )


# --------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------


def read_json(path: Path, ctx: ImportContext) -> Iterator[Batch]:
    """Yield ``environment`` (+ ...) from an Open-Meteo JSON API response."""
    display = ctx.display_path or str(path)
    text = "\n".join(read_lines(Path(path), display)["text"].to_list())
    doc = load_json(text, display)
    objs = doc if isinstance(doc, list) else [doc]
    if not objs or not all(isinstance(o, dict) for o in objs):
        raise ImportFormatError(f"{display}: not an Open-Meteo JSON response")
    if any(o.get("error") for o in objs):
        reason = next(o.get("reason") for o in objs if o.get("error"))
        raise ImportFormatError(f"{display}: Open-Meteo returned an error: {reason}")

    meta = _meta_frame([{**o, "loc": i} for i, o in enumerate(objs, start=1)], display)
    frames, cols_all, unix_flags, first = [], None, set(), 1
    for i, o in enumerate(objs, start=1):
        hourly, units = o.get("hourly"), o.get("hourly_units") or {}
        if not isinstance(hourly, dict) or "time" not in hourly:
            raise ImportFormatError(
                f'{display}: location {i}: no "hourly" data with a '
                '"time" array; download hourly data'
            )
        cols = _columns(
            [(k, units.get(k)) for k in hourly if k != "time"], f"{display}: location {i}"
        )
        if not cols:
            raise ImportFormatError(
                f"{display}: location {i}: no supported hourly variable "
                f"({', '.join(dict.fromkeys(VARIABLES))})"
            )
        if cols_all is not None and {m: c["label"] for m, c in cols.items()} != {
            m: c["label"] for m, c in cols_all.items()
        }:
            raise ImportFormatError(f"{display}: locations have different hourly variables")
        cols_all = cols
        unix_flags.add(units.get("time") == "unixtime")
        var_of = {metric: c["var"] for metric, c in cols.items()}
        lengths = {len(v) for v in hourly.values() if isinstance(v, list)}
        if len(lengths) != 1:
            raise ImportFormatError(f"{display}: location {i}: hourly arrays differ in length")
        n = lengths.pop()
        typed = pl.DataFrame(
            {"time": hourly["time"], **{var: hourly[var] for var in var_of.values()}}, strict=False
        )
        frames.append(
            typed.select(
                line_no=pl.int_range(first, first + n, dtype=pl.Int64),
                raw=pl.struct(pl.all()).struct.json_encode(),
                loc=pl.lit(i, pl.Int64),
                time=pl.col("time").cast(pl.String),
                **{metric: pl.col(var).cast(pl.String) for metric, var in var_of.items()},
            )
        )
        first += n
    if len(unix_flags) != 1:
        raise ImportFormatError(f"{display}: locations mix iso8601 and unixtime times")
    yield from _environment(pl.concat(frames), cols_all, meta, unix_flags.pop(), ctx)


#: the JSON reader as an importer "module" for the registry (``FORMAT``, ``sniff``, ``read``)
JSON = SimpleNamespace(
    FORMAT=JSON_FORMAT, sniff=sniff_json, read=read_json, __name__=f"{__name__}.JSON"
)
