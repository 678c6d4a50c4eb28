"""Indoor (bedroom) temperature and humidity sensor CSV (FORMAT ``indoor_csv``).

File format
-----------
UTF-8 CSV (BOM optional, LF or CRLF), one reading per line, readings at any interval (a
sensor logging every 10 s, 1 min or 15 min). The first line names the columns, in any order::

    timestamp,temperature_c,humidity_pct,sensor
    2025-07-01T22:00:00+02:00,24.1,55,bedroom
    2025-07-01T22:05:00+02:00,24.0,56,bedroom

=================  =========================================================================
column             meaning
=================  =========================================================================
``timestamp``      when, ISO 8601 with an offset (``2025-07-01T22:00:00+02:00``, ``Z``,
                   ``+02``, ``+0200``; seconds and fractions optional; ``T`` or a space), or
                   without one (``2025-07-01 22:00:00``: local time in the participant's
                   zone, ``--timezone`` or the stored ``tz``; in the hour repeated at the
                   autumn change a reading is the second pass when the clock has gone back,
                   else the first), or Unix epoch seconds (``1751400000.5``, UTC).
``temperature_c``  air temperature, °C; or ``temperature_f`` in °F (one of the two).
``humidity_pct``   relative humidity, %.
``sensor``         optional sensor name (stored trimmed and lower-case); empty or no column
                   means ``bedroom``. One file may hold several sensors.
=================  =========================================================================

At least one of temperature and humidity is required; empty fields are missing values. The
file carries no participant id: import it with ``--participant`` or from
``<inbox>/<participant>/``.

Rows
----
Readings are averaged per sensor and UTC clock hour into ``environment`` rows:
``setting='indoor'``, ``source='indoor-csv'``, ``location_id`` ``indoor:<participant>:<sensor>``
(``indoor:p01:bedroom``), ``time_utc`` the start of the hour, ``temp_c`` / ``rh_pct`` the
means of the hour's valid readings, ``dew_point_c`` from the two means (Magnus form inverted,
as in the research brief section 1.1), ``utc_offset_s`` that of the hour's first reading. Each
sensor is attached to the participant (``participant_locations``).

A reading with an implausible value (:data:`pipeline.normalize.PLAUSIBLE_RANGES`: an 80 °C
or a 150 % reading), a non-number, a bad timestamp, the wrong number of fields, no value, a
sensor name longer than 100 characters, or the same sensor and instant as an earlier line is
rejected with its 1-based line number and a reason naming the column; the hour means use the
remaining readings. Importing the same file again is recorded as already imported; an
overlapping export adds only the hours not stored yet (an hour stored from a partial first
export keeps that mean).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from pipeline.importers import Batch, ImportContext, ImportFormatError
from pipeline.importers._common import (
    OFFSET_RANGE_S,
    US,
    YEAR_RANGE,
    blank_line,
    first_line_fields,
    local_to_utc_us,
    parse_iso_local_us,
    read_lines,
    reasons,
    rejected_batch,
    require_participant,
    require_zone,
    split_csv,
    utc_offsets_s,
    year_of_us,
)
from pipeline.importers.meteostat import MAGNUS_B, MAGNUS_C_C
from pipeline.importers.open_meteo import ENVIRONMENT_SCHEMA
from pipeline.normalize import PLAUSIBLE_RANGES

FORMAT = "indoor_csv"
SOURCE = "indoor-csv"
SETTING = "indoor"
DEFAULT_SENSOR = "bedroom"
COLUMNS = ("timestamp", "temperature_c", "temperature_f", "humidity_pct", "sensor")
#: longest sensor name accepted (``bedroom``, ``hall``, a device name)
MAX_SENSOR_CHARS = 100
BATCH_ROWS = 50_000
_EPOCH_RE = r"^-?\d{1,12}(?:\.\d{1,9})?$"
_ISO_FAST_RE = (
    r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,9})?"
    r"(?:Z|z|[+-]\d\d(?::?\d\d)?)?$"
)
_OFFSET_SUFFIX_RE = r"(Z|z|[+-]\d\d(?::?\d\d)?)$"


def sniff(head: bytes, name: str) -> bool:
    """True when the header is an indoor sensor header (see the module docstring)."""
    fields = first_line_fields(head)
    if not fields:
        return False
    names = [f.lower() for f in fields]
    return (
        "timestamp" in names
        and set(names) <= set(COLUMNS)
        and len(set(names)) == len(names)
        and not {"temperature_c", "temperature_f"} <= set(names)
        and bool({"temperature_c", "temperature_f", "humidity_pct"} & set(names))
    )


# --------------------------------------------------------------------------------------------
# timestamps (shared with the accelerometry importer)
# --------------------------------------------------------------------------------------------


def parse_timestamps(text: pl.Series) -> pl.DataFrame:
    """Timestamp text -> frame of ``_utc_us`` (where the text fixes the instant), ``_local_us``
    (wall-clock µs where it has no offset), ``_off_s`` (offset written in the text) and
    ``_time_reason`` (null when fine), row for row.

    Accepts ISO 8601 with or without an offset (as
    :func:`pipeline.importers.journal_csv.parse_iso_local_us` reads it) and Unix epoch
    seconds with up to 9 decimals (exact to the microsecond). Times without an offset come
    back as wall-clock µs; :func:`resolve_local` turns them into instants with a zone. The
    common full forms (epoch seconds; ``YYYY-MM-DDTHH:MM:SS[.f][offset]``) take a fast path
    without capture groups, which matters at 50 samples a second; anything else goes through
    the general ISO parser.
    """
    t = pl.col("_t")
    f = pl.DataFrame({"_i": pl.int_range(text.len(), eager=True), "_t": text}).with_columns(
        _epoch=t.str.contains(_EPOCH_RE).fill_null(False),
        _iso=t.str.contains(_ISO_FAST_RE).fill_null(False),
    )
    fast_epoch = f.filter(pl.col("_epoch"))
    fast_iso = f.filter(~pl.col("_epoch") & pl.col("_iso"))
    slow = f.filter(~pl.col("_epoch") & ~pl.col("_iso"))

    parts = pl.col("_t").str.split_exact(".", 1)
    whole, frac = parts.struct.field("field_0"), parts.struct.field("field_1")
    frac_us = frac.fill_null("").str.pad_end(6, "0").str.slice(0, 6).cast(pl.Int64, strict=False)
    sign = pl.when(whole.str.starts_with("-")).then(-1).otherwise(1)
    fast_epoch = fast_epoch.with_columns(
        _epoch_us=whole.cast(pl.Int64, strict=False) * US + sign * frac_us,
        _wall=pl.lit(None, pl.Int64),
        _off=pl.lit(None, pl.Int64),
        _has_off=pl.lit(False),
    )

    suffix = t.str.extract(_OFFSET_SUFFIX_RE, 1)
    wall = (
        t.str.replace(_OFFSET_SUFFIX_RE, "")
        .str.replace(" ", "T", literal=True)
        .str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us")
        .dt.epoch("us")
    )
    digits = suffix.str.replace(":", "", literal=True)
    off = (
        pl.when(suffix.str.to_uppercase() == "Z")
        .then(pl.lit(0, pl.Int64))
        .when(suffix.is_not_null())
        .then(
            pl.when(digits.str.starts_with("-")).then(-1).otherwise(1)
            * (
                digits.str.slice(1, 2).cast(pl.Int64, strict=False) * 3600
                + digits.str.slice(3, 2).replace("", None).cast(pl.Int64, strict=False).fill_null(0)
                * 60
            )
        )
    )
    fast_iso = fast_iso.with_columns(
        _epoch_us=pl.lit(None, pl.Int64), _wall=wall, _off=off, _has_off=suffix.is_not_null()
    )

    s_wall, s_off, s_has = parse_iso_local_us(t)
    e = t.str.extract_groups(r"^(-?\d{1,12})(?:\.(\d{1,9}))?$")
    e_whole, e_frac = e.struct.field("1"), e.struct.field("2")
    e_frac_us = (
        e_frac.fill_null("").str.pad_end(6, "0").str.slice(0, 6).cast(pl.Int64, strict=False)
    )
    e_sign = pl.when(e_whole.str.starts_with("-")).then(-1).otherwise(1)
    slow = slow.with_columns(
        _epoch_us=e_whole.cast(pl.Int64, strict=False) * US + e_sign * e_frac_us,
        _wall=s_wall,
        _off=s_off,
        _has_off=s_has.fill_null(False),
    )

    g = pl.concat([fast_epoch, fast_iso, slow]).sort("_i")
    is_epoch = pl.col("_epoch_us").is_not_null()
    has_off = pl.col("_has_off")
    ok_off = pl.col("_off").is_between(*OFFSET_RANGE_S)
    utc = (
        pl.when(is_epoch)
        .then(pl.col("_epoch_us"))
        .when(has_off & ok_off)
        .then(pl.col("_wall") - pl.col("_off") * US)
    )
    local = pl.when(~is_epoch & ~has_off).then(pl.col("_wall"))
    g = g.with_columns(
        _utc_us=utc, _local_us=local, _off_s=pl.when(~is_epoch & has_off).then(pl.col("_off"))
    )
    year = year_of_us(pl.coalesce("_utc_us", "_local_us"))
    raw = pl.col("_t")
    reason = (
        pl.when(raw.is_null())
        .then(pl.lit("timestamp: empty"))
        .when(~is_epoch & pl.col("_wall").is_null())
        .then(
            pl.format(
                "timestamp: {} is not an ISO 8601 time (2025-07-01T22:00:00+02:00) or Unix "
                "epoch seconds",
                raw,
            )
        )
        .when(~is_epoch & has_off & ~ok_off)
        .then(pl.format("timestamp: UTC offset in {} outside -12:00..+14:00", raw))
        .when(~year.is_between(*YEAR_RANGE))
        .then(pl.format(f"timestamp: {{}} outside the years {YEAR_RANGE[0]}-{YEAR_RANGE[1]}", raw))
    )
    return g.select("_utc_us", "_local_us", "_off_s", _time_reason=reason)


def resolve_local(
    f: pl.DataFrame, zi: ZoneInfo | None, display: str, later: pl.Series | None = None
) -> pl.DataFrame:
    """Fill ``_utc_us`` / ``_off_s`` for rows with only local time (``_local_us``).

    ``f`` has ``line_no``, ``raw``, ``_utc_us``, ``_local_us``, ``_off_s`` and ``_reason``.
    Epoch times get the zone's offset (0 without a zone). Local times without a zone are an
    error naming the first such line.
    """
    local = f["_local_us"]
    needs = f["_reason"].is_null() & local.is_not_null()
    if needs.any() and zi is None:
        first = f.filter(needs).row(0, named=True)
        raise ImportFormatError(
            f"{display}:{first['line_no']}: timestamp in {first['raw'][:80]!r} has no UTC "
            "offset and no time zone is known for this file; import it with --timezone <IANA "
            "zone> (e.g. --timezone Europe/Berlin), or write timestamps with their offset"
        )
    if zi is not None and local.drop_nulls().len():
        utc_local, off_local = local_to_utc_us(local, zi, later)
    else:
        utc_local = off_local = pl.Series([None] * f.height, dtype=pl.Int64)
    f = f.with_columns(
        _utc_us=pl.coalesce(pl.col("_utc_us"), utc_local),
        _off_s=pl.coalesce(pl.col("_off_s"), off_local),
    )
    if f["_off_s"].null_count() and f["_utc_us"].drop_nulls().len():
        zone_off = (
            utc_offsets_s(f["_utc_us"], zi)
            if zi is not None
            else pl.Series([0] * f.height, dtype=pl.Int64)
        )
        f = f.with_columns(_off_s=pl.coalesce(pl.col("_off_s"), zone_off))
    return f


def dew_point_c(temp_c: pl.Expr, rh_pct: pl.Expr) -> pl.Expr:
    """Dew point (°C) from temperature and relative humidity: the Magnus form inverted,
    ``γ = ln(RH/100) + b T / (c + T)``, ``Td = c γ / (b − γ)`` (research brief section 1.1)."""
    gamma = (rh_pct / 100.0).log(math.e) + MAGNUS_B * temp_c / (MAGNUS_C_C + temp_c)
    return pl.when(rh_pct > 0).then(MAGNUS_C_C * gamma / (MAGNUS_B - gamma))


# --------------------------------------------------------------------------------------------
# the indoor format
# --------------------------------------------------------------------------------------------


def read(path: Path, ctx: ImportContext) -> Iterator[Batch]:
    """Yield hourly ``environment`` rows (+ ``participant_locations``, ``rejected_rows``)."""
    display = ctx.display_path or str(path)
    require_participant(ctx, display, "indoor sensor files")
    zi = require_zone(ctx.tz, display)
    lines = read_lines(Path(path), display).filter(~blank_line())
    first = lines.row(0, named=True)
    header = tuple(f.strip().strip('"').strip().lower() for f in first["text"].split(","))
    if not sniff(first["text"].encode(), ""):
        raise ImportFormatError(
            f"{display}:{first['line_no']}: not an indoor sensor file: the header must be "
            "timestamp,temperature_c,humidity_pct[,sensor] (or temperature_f), found "
            f"{first['text'][:200]!r}"
        )
    records, bad_lines = split_csv(lines.slice(1), header)
    temp_col = "temperature_f" if "temperature_f" in header else "temperature_c"
    scale, offset = (5.0 / 9.0, -32.0 * 5.0 / 9.0) if temp_col == "temperature_f" else (1.0, 0.0)
    measures = {"temp_c": (temp_col, scale, offset), "rh_pct": ("humidity_pct", 1.0, 0.0)}
    for col in ("temperature_c", "humidity_pct", "sensor"):
        if col not in records.columns and (col != "temperature_c" or temp_col == col):
            records = records.with_columns(pl.lit(None, pl.String).alias(col))

    times = parse_timestamps(records["timestamp"])
    checks, values = [], []
    for metric, (col, a, b) in measures.items():
        raw = pl.col(col)
        num = raw.cast(pl.Float64, strict=False)
        value = num * a + b
        lo, hi = PLAUSIBLE_RANGES[metric]
        checks.append(
            pl.when(raw.is_not_null() & (num.is_null() | num.is_nan()))
            .then(pl.format(f"{col}: {{}} is not a number", raw))
            .when(~value.is_between(lo, hi))
            .then(
                pl.format(
                    f"{col} = {{}}: {metric} {{}} outside plausible range [{lo:g}, {hi:g}]",
                    raw,
                    value.round(2),
                )
            )
        )
        values.append(value.alias(metric))
    f = (
        pl.concat([records, times], how="horizontal")
        .with_columns(
            *values,
            _sensor=pl.col("sensor").str.to_lowercase().fill_null(DEFAULT_SENSOR),
        )
        .with_columns(
            _reason=reasons(
                pl.col("_time_reason"),
                *checks,
                pl.when(pl.col("temp_c").is_null() & pl.col("rh_pct").is_null()).then(
                    pl.lit(f"no values: {temp_col} and humidity_pct are both empty")
                ),
                # the name becomes part of a location id (a 50 MB field once failed the import)
                pl.when(pl.col("_sensor").str.len_chars() > MAX_SENSOR_CHARS).then(
                    pl.format(
                        f"sensor: a name of {{}} characters (at most {MAX_SENSOR_CHARS})",
                        pl.col("_sensor").str.len_chars(),
                    )
                ),
            )
        )
    )
    # through the autumn change the local clock goes back: readings after that, while the
    # clock is not past its earlier maximum, are the repeated hour's second pass
    local = f["_local_us"]
    later = (local <= local.cum_max().forward_fill().shift(1)).fill_null(False)
    f = resolve_local(f, zi, display, later)
    ok = f.filter(pl.col("_reason").is_null()).with_columns(
        _first_line=pl.col("line_no").first().over("_sensor", "_utc_us")
    )
    dup = ok.filter(pl.col("line_no") != pl.col("_first_line")).select(
        "line_no",
        "raw",
        reason=pl.format("duplicate of line {} (same sensor and timestamp)", pl.col("_first_line")),
    )
    ok = ok.filter(pl.col("line_no") == pl.col("_first_line"))

    hour_us = 3600 * US
    hourly = (
        ok.with_columns(_hour_us=(pl.col("_utc_us") // hour_us) * hour_us)
        .sort("_utc_us", "line_no")
        .group_by("_sensor", "_hour_us", maintain_order=True)
        .agg(
            temp_c=pl.col("temp_c").mean(),
            rh_pct=pl.col("rh_pct").mean(),
            utc_offset_s=pl.col("_off_s").first(),
        )
    )
    pid = ctx.participant_id
    env = (
        hourly.with_columns(
            location_id=pl.format(f"indoor:{pid}:{{}}", pl.col("_sensor")),
            latitude_deg=pl.lit(None, pl.Float64),
            longitude_deg=pl.lit(None, pl.Float64),
            time_utc=pl.from_epoch("_hour_us", time_unit="us").dt.replace_time_zone("UTC"),
            setting=pl.lit(SETTING),
            dew_point_c=dew_point_c(pl.col("temp_c"), pl.col("rh_pct")),
            apparent_temp_c=pl.lit(None, pl.Float64),
            precipitation_mm=pl.lit(None, pl.Float64),
            wind_speed_m_s=pl.lit(None, pl.Float64),
            shortwave_radiation_w_m2=pl.lit(None, pl.Float64),
            source=pl.lit(SOURCE),
        )
        .select(list(ENVIRONMENT_SCHEMA))
        .cast(ENVIRONMENT_SCHEMA)
        .sort("location_id", "time_utc")
    )
    for i in range(0, max(env.height, 1), BATCH_ROWS):
        yield Batch("environment", env.slice(i, BATCH_ROWS))
    locations = env["location_id"].unique(maintain_order=True)
    if locations.len():
        yield Batch(
            "participant_locations",
            pl.DataFrame(
                {"participant_id": [pid] * locations.len(), "location_id": locations},
                schema={"participant_id": pl.String, "location_id": pl.String},
            ),
        )
    bad = rejected_batch(
        [
            bad_lines,
            f.filter(pl.col("_reason").is_not_null()).select("line_no", "raw", reason="_reason"),
            dup,
        ]
    )
    if bad is not None:
        yield bad
