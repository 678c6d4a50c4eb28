"""NOAA ISD-Lite hourly station files (FORMAT ``noaa_isd_lite``; LCD CSV: ``noaa_lcd_csv``).

ISD-Lite
--------
``https://www.ncei.noaa.gov/pub/data/noaa/isd-lite/<year>/<USAF>-<WBAN>-<year>.gz``,
gzip-compressed or not: fixed-width text, one line per hour, no header. Layout as NOAA's
*ISD-Lite format* document gives it::

    2023 01 01 07   -33   -50 10102    10    26     0     0 -9999

=======  ==============================  =======  ===============================
columns  field                           scaling  environment column
=======  ==============================  =======  ===============================
1-4      year (UTC)
6-7      month
9-10     day
12-13    hour (rounded to the nearest)            ``time_utc``
14-19    air temperature, °C             10       ``temp_c``
20-25    dew point, °C                   10       ``dew_point_c``; ``rh_pct`` from it
26-31    sea-level pressure, hPa         10       (not stored)
32-37    wind direction, degrees         1        (not stored)
38-43    wind speed, m/s                 10       ``wind_speed_m_s``
44-49    total sky cover code                     (not stored)
50-55    precipitation over 1 h, mm      10       ``precipitation_mm`` (trace -1 -> 0)
56-61    precipitation over 6 h, mm      10       (not stored)
=======  ==============================  =======  ===============================

Every field after the hour is a right-aligned integer in 6 characters; ``-9999`` is missing.
Relative humidity is not in ISD-Lite; it is computed from temperature and dew point with the
Magnus formula (:func:`pipeline.importers.meteostat.rh_from_dew_point_pct`). The station is
named only by the file name (``725510-14939-2023``, NOAA's ``USAF-WBAN-year``):
``location_id`` is ``noaa:<USAF>-<WBAN>`` (``noaa:725510-14939``); coordinates stay null (they
are in NOAA's ``isd-history.csv``, not in the file). A file not named that way is refused.

NOAA LCD CSV
------------
Local Climatological Data, as downloaded from NCEI (``LCD_<station>_<year>.csv``, v2 layout
with ``LATITUDE``, ``LONGITUDE``, ``NAME``; or the older layout without them), recognised by a
header starting ``STATION,DATE`` with ``REPORT_TYPE`` and ``HourlyDryBulbTemperature``.
Columns read: ``STATION``, ``DATE``, ``REPORT_TYPE``, ``HourlyDryBulbTemperature``,
``HourlyDewPointTemperature``, ``HourlyRelativeHumidity`` (used as given; Magnus from
temperature and dew point where empty), ``HourlyPrecipitation``, ``HourlyWindSpeed``,
``LATITUDE`` / ``LONGITUDE`` when present, and ``REM`` (for the clock, below).

* **Units.** An LCD order is in standard units (°F, mph, inches, inHg) or metric (°C, m/s,
  mm, hPa); the file does not say which. The pressure columns do: sea-level / station
  pressure near 1000 is hPa (metric), near 30 is inHg (standard). Without any pressure value,
  temperatures with decimals mean metric, whole numbers standard (NCEI's default).
* **Clock.** ``DATE`` is local *standard* time (LST) at the station, with no offset written.
  The offset is read from the file itself: the METAR/SPECI remarks in ``REM`` carry the UTC
  day-hour-minute (``METAR KLNK 010654Z`` beside ``DATE`` 2023-01-01T00:54 gives UTC-6); the
  most common difference is used. Without such remarks the standard offset of ``--timezone``
  (or the participant's stored zone) is used; with neither the file is refused.
* **Flags.** ``T`` (trace precipitation) is read as 0 mm; a trailing ``s`` (suspect value)
  is dropped and the value used; ``M`` or empty is missing; anything else that is not a
  number rejects the line.
* **One report per hour.** LCD lists every report: routine METARs (``FM-15``, a few minutes
  before the hour), specials (``FM-16``), SYNOPs (``FM-12``) and daily / monthly summaries
  (``SOD``, ``SOM``). Summaries are not hourly observations and are skipped, as are reports
  with none of the fields read. Each remaining report is assigned to the nearest UTC hour
  (as ISD-Lite does); a report with a bad value is rejected with its line and reason; of the
  valid reports of an hour, the routine ``FM-15`` METAR is stored (it carries the hour's
  precipitation; SYNOPs do not), else the report nearest the top of the hour, and the
  others, superseded, are not (they are not errors).
* ``location_id`` is ``noaa:<STATION>``, with the old layout's 11-digit USAF+WBAN written
  ``USAF-WBAN`` so it matches ISD-Lite (``72219013874`` -> ``noaa:722190-13874``).
  ``utc_offset_s`` is the participant zone's offset when its standard offset equals the
  station's, else the station's standard offset (LCD has no daylight-saving information).

Both formats: ``environment`` rows with ``setting='outdoor'``, ``source`` ``noaa-isd-lite``
or ``noaa-lcd``; an import naming a participant attaches the station to them; without a
known zone ISD-Lite rows get ``utc_offset_s`` 0. A line with an implausible value
(:data:`pipeline.normalize.PLAUSIBLE_RANGES`), a malformed field or time, no value at all, or
the same hour as an earlier line is rejected with its 1-based line number and a reason.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import polars as pl

from pipeline.importers import Batch, ImportContext, ImportFormatError
from pipeline.importers._common import (
    US,
    blank_line,
    decode_head,
    first_line_fields,
    reasons,
    split_csv,
    zone,
)
from pipeline.importers.meteostat import (
    gunzip_head,
    read_station_lines,
    station_batches,
    station_checks,
    station_environment,
    with_extra_rejects,
)

FORMAT = "noaa_isd_lite"
LCD_FORMAT = "noaa_lcd_csv"
SOURCE = "noaa-isd-lite"
LCD_SOURCE = "noaa-lcd"
YEAR_RANGE = (1900, 2100)
MISSING = -9999
TRACE = -1
#: ISD-Lite fields after the hour, in order (NOAA's names, shortened)
FIELDS = (
    "air_temperature",
    "dew_point",
    "sea_level_pressure",
    "wind_direction",
    "wind_speed",
    "sky_cover",
    "precipitation_1h",
    "precipitation_6h",
)
#: field -> environment column (all read with scaling factor 10: one decimal)
READ = {
    "air_temperature": "temp_c",
    "dew_point": "dew_point_c",
    "wind_speed": "wind_speed_m_s",
    "precipitation_1h": "precipitation_mm",
}
_ISD_RE = (
    r"^(\d{4}) ([ \d]\d) ([ \d]\d) ([ \d]\d)"
    r"(.{6})(.{6})(.{6})(.{6})(.{6})(.{6})(.{6})(.{6})\s*$"
)
_ISD_NAME_RE = re.compile(r"(?<!\d)(\d{6})-(\d{5})(?:-(\d{4}))?(?!\d)")
_ISD_SNIFF_RE = re.compile(r"^\d{4} [ \d]\d [ \d]\d [ \d]\d(?:[ -]{0,5}-?\d{1,5}){8}\s*$")


# --------------------------------------------------------------------------------------------
# ISD-Lite
# --------------------------------------------------------------------------------------------


def _looks_isd_lite(line: str) -> bool:
    if not _ISD_SNIFF_RE.match(line) or len(line.rstrip()) != 61:
        return False
    return all(re.fullmatch(r" *-?\d+", line[i : i + 6]) for i in range(13, 61, 6))


def sniff(head: bytes, name: str) -> bool:
    """True when the first non-blank lines (up to 3) are ISD-Lite lines."""
    text = decode_head(gunzip_head(head))
    lines = [ln.rstrip("\r") for ln in text.split("\n")[:-1] if ln.strip()][:3]
    return bool(lines) and all(_looks_isd_lite(ln) for ln in lines)


def _isd_location(path: Path, display: str) -> str:
    m = _ISD_NAME_RE.search(Path(display or path).name)
    if m is None:
        raise ImportFormatError(
            f"{display}: ISD-Lite files name their station only in the file name; keep NOAA's "
            "name <USAF>-<WBAN>-<year> (for example 725510-14939-2023.gz)"
        )
    return f"noaa:{m.group(1)}-{m.group(2)}"


def read(path: Path, ctx: ImportContext) -> Iterator[Batch]:
    """Yield ``environment`` (+ ``participant_locations``, ``rejected_rows``) from ISD-Lite."""
    display = ctx.display_path or str(path)
    location = _isd_location(Path(path), display)
    lines = read_station_lines(Path(path), display).filter(~blank_line())
    parts = pl.col("text").str.extract_groups(_ISD_RE)
    names = ["year", "month", "day", "hour", *FIELDS]
    f = (
        lines.with_columns(_p=parts)
        .with_columns(
            [
                pl.col("_p").struct.field(str(i + 1)).str.strip_chars().alias(n)
                for i, n in enumerate(names)
            ]
        )
        .drop("_p")
        .rename({"text": "raw"})
    )
    shaped = pl.col("year").is_not_null()
    ints = {n: pl.col(n).cast(pl.Int64, strict=False) for n in names}
    time_parts = [ints[n] for n in ("year", "month", "day", "hour")]
    wall = pl.datetime(*time_parts, time_unit="us")
    valid_time = (
        ints["year"].is_between(*YEAR_RANGE)
        & ints["month"].is_between(1, 12)
        & ints["day"].is_between(1, 31)
        & ints["hour"].is_between(0, 23)
    )
    f = f.with_columns(_valid_time=valid_time.fill_null(False))
    # a day beyond the month's end (31 April) makes no datetime: checked by a round trip
    f = f.with_columns(_wall=pl.when(pl.col("_valid_time")).then(wall)).with_columns(
        _valid_time=pl.col("_valid_time") & (pl.col("_wall").dt.day() == ints["day"])
    )
    values, checks = [], []
    for field in FIELDS:
        v = ints[field]
        checks.append(
            pl.when(shaped & v.is_null()).then(
                pl.format(f"{field}: {{}} is not an integer", pl.col(field))
            )
        )
        if field in READ:
            metric = READ[field]
            miss = v == MISSING
            # "-33" -> "-33e-1" -> -3.3: parsing gives the double nearest the decimal, which
            # a float division (or polars' multiplication by 0.1) does not always
            scaled = pl.concat_str(v.cast(pl.String), pl.lit("e-1")).cast(pl.Float64)
            if field == "precipitation_1h":
                scaled = pl.when(v == TRACE).then(0.0).otherwise(scaled)
            values += [
                pl.when(miss).then(None).otherwise(scaled).alias(metric),
                pl.when(miss).then(None).otherwise(pl.col(field)).alias(f"_raw_{metric}"),
            ]
    f = f.with_columns(values).with_columns(
        _utc_us=pl.when(pl.col("_valid_time")).then(pl.col("_wall").dt.epoch("us")),
        _reason=reasons(
            pl.when(~shaped).then(
                pl.format(
                    "not an ISD-Lite line (year month day hour, then 8 right-aligned fields of 6 "
                    "characters: 61 characters), found {} characters",
                    pl.col("raw").str.len_chars(),
                )
            ),
            pl.when(shaped & ~pl.col("_valid_time")).then(
                pl.format(
                    "time: {}-{}-{} {}h is not a date and hour",
                    pl.col("year"),
                    pl.col("month"),
                    pl.col("day"),
                    pl.col("hour"),
                )
            ),
            *checks,
        ),
    )
    labels = {metric: field for field, metric in READ.items()}
    yield from station_environment(f, labels, location_id=location, source=SOURCE, ctx=ctx)


# --------------------------------------------------------------------------------------------
# NOAA LCD CSV
# --------------------------------------------------------------------------------------------

LCD_FIELDS = {  # LCD column -> environment column
    "HourlyDryBulbTemperature": "temp_c",
    "HourlyDewPointTemperature": "dew_point_c",
    "HourlyRelativeHumidity": "rh_pct",
    "HourlyPrecipitation": "precipitation_mm",
    "HourlyWindSpeed": "wind_speed_m_s",
}
PRESSURE_FIELDS = ("HourlySeaLevelPressure", "HourlyStationPressure", "HourlyAltimeterSetting")
SUMMARY_REPORTS = ("SOD", "SOM")
ROUTINE_REPORT = "FM-15"
#: unit system -> environment column -> (scale, offset): canonical = raw * scale + offset
LCD_UNITS: dict[str, dict[str, tuple[float, float]]] = {
    "standard": {
        "temp_c": (5.0 / 9.0, -32.0 * 5.0 / 9.0),
        "dew_point_c": (5.0 / 9.0, -32.0 * 5.0 / 9.0),
        "rh_pct": (1.0, 0.0),
        "precipitation_mm": (25.4, 0.0),  # inch, exact
        "wind_speed_m_s": (0.44704, 0.0),
    },  # mile per hour, exact
    "metric": {
        "temp_c": (1.0, 0.0),
        "dew_point_c": (1.0, 0.0),
        "rh_pct": (1.0, 0.0),
        "precipitation_mm": (1.0, 0.0),
        "wind_speed_m_s": (1.0, 0.0),
    },
}
_METAR_RE = r"(?:METAR|SPECI) [A-Z0-9]{3,4} (\d{2})(\d{2})(\d{2})Z"
_LCD_NUM_RE = r"^-?\d+(?:\.\d+)?$"


def sniff_lcd(head: bytes, name: str) -> bool:
    """True when the header is an NOAA LCD CSV header."""
    fields = first_line_fields(gunzip_head(head)) or ()
    return (
        fields[:2] == ("STATION", "DATE")
        and "REPORT_TYPE" in fields
        and "HourlyDryBulbTemperature" in fields
    )


def _lcd_units(records: pl.DataFrame, cols: dict[str, str]) -> str:
    pressures = [
        records[cols[c]].str.strip_suffix("s").cast(pl.Float64, strict=False)
        for c in PRESSURE_FIELDS
        if c in cols
    ]
    values = pl.concat(pressures).drop_nulls() if pressures else pl.Series([], dtype=pl.Float64)
    if values.len():
        return "metric" if values.median() > 100 else "standard"
    temps = records[cols["HourlyDryBulbTemperature"]].drop_nulls()
    return "metric" if temps.str.contains(r"\.\d").any() else "standard"


def _lst_offset_s(
    records: pl.DataFrame, cols: dict[str, str], ctx: ImportContext, display: str
) -> int:
    """Local-standard-time offset of the station (s), from METAR remarks or ctx.tz."""
    if "REM" in cols:
        g = (
            records.select(
                local=pl.col(cols["DATE"]).str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False),
                m=pl.col(cols["REM"]).str.extract_groups(_METAR_RE),
            )
            .unnest("m")
            .drop_nulls()
        )
        if g.height:
            local_min = (
                g["local"].dt.day().cast(pl.Int64) * 1440
                + g["local"].dt.hour().cast(pl.Int64) * 60
                + g["local"].dt.minute().cast(pl.Int64)
            )
            utc_min = (
                g["1"].cast(pl.Int64) * 1440 + g["2"].cast(pl.Int64) * 60 + g["3"].cast(pl.Int64)
            )
            diff = ((local_min - utc_min + 720) % 1440) - 720  # across a month end too
            return int(diff.mode().sort()[0]) * 60
    zi = zone(ctx.tz)
    if zi is not None:
        return _standard_offset_s(zi)
    raise ImportFormatError(
        f"{display}: NOAA LCD times are local standard time and this file has no METAR remarks "
        "to tell the offset; import it with --timezone <the station's IANA zone>"
    )


def _standard_offset_s(zi) -> int:
    """Standard-time offset (s) of a zone: its offset minus daylight saving, now."""
    now = datetime.now(zi)
    return int((now.utcoffset() - now.dst()).total_seconds())


def _lcd_location(station: str | None) -> str:
    station = (station or "").strip()
    if re.fullmatch(r"\d{11}", station):
        return f"noaa:{station[:6]}-{station[6:]}"
    return f"noaa:{station}"


def read_lcd(path: Path, ctx: ImportContext) -> Iterator[Batch]:
    """Yield ``environment`` (+ ...) from an NOAA LCD CSV (see the module docstring)."""
    display = ctx.display_path or str(path)
    lines = read_station_lines(Path(path), display).filter(~blank_line())
    header = [h.strip().strip('"').strip() for h in lines["text"][0].split(",")]
    cols: dict[str, str] = {}
    for i, h in enumerate(header):
        cols.setdefault(h, f"_f{i}")
    missing = [c for c in ("STATION", "DATE", "REPORT_TYPE", *LCD_FIELDS) if c not in cols]
    if missing:
        raise ImportFormatError(
            f"{display}:1: not an NOAA LCD file: no column {', '.join(missing)}"
        )
    records, bad_lines = split_csv(lines.slice(1), tuple(f"_f{i}" for i in range(len(header))))
    records = records.filter(
        ~pl.col(cols["REPORT_TYPE"]).str.strip_chars().is_in(SUMMARY_REPORTS).fill_null(False)
    )
    units = LCD_UNITS[_lcd_units(records, cols)]
    lst_s = _lst_offset_s(records, cols, ctx, display)
    station = records[cols["STATION"]].drop_nulls()
    location = _lcd_location(station[0] if station.len() else None)
    lat = lon = None
    if "LATITUDE" in cols and "LONGITUDE" in cols:
        coords = records.select(
            lat=pl.col(cols["LATITUDE"]).cast(pl.Float64, strict=False),
            lon=pl.col(cols["LONGITUDE"]).cast(pl.Float64, strict=False),
        ).drop_nulls()
        if coords.height:
            lat, lon = coords["lat"][0], coords["lon"][0]

    values, checks = [], []
    for field, metric in LCD_FIELDS.items():
        raw = pl.col(cols[field])
        text = raw.str.strip_suffix("s")
        scale, offset = units[metric]
        trace = (text == "T") if metric == "precipitation_mm" else pl.lit(False)
        is_num = text.str.contains(_LCD_NUM_RE)
        missing_v = raw.is_null() | (text == "M")
        checks.append(
            pl.when(~missing_v & ~trace & ~is_num.fill_null(False)).then(
                pl.format(f"{field}: {{}} is not a number", raw)
            )
        )
        values += [
            pl.when(trace)
            .then(0.0)
            .when(is_num)
            .then(text.cast(pl.Float64, strict=False) * scale + offset)
            .alias(metric),
            raw.alias(f"_raw_{metric}"),
        ]
    local = pl.col(cols["DATE"]).str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False, time_unit="us")
    hour_us = 3600 * US
    f = (
        records.with_columns(values)
        .with_columns(
            _report=pl.col(cols["REPORT_TYPE"]).str.strip_chars(),
            _obs_us=local.dt.epoch("us") - lst_s * US,
            _any=pl.any_horizontal([pl.col(m).is_not_null() for m in LCD_FIELDS.values()]),
        )
        .with_columns(
            _utc_us=((pl.col("_obs_us") + hour_us // 2) // hour_us) * hour_us,
        )
        .with_columns(
            _reason=reasons(
                pl.when(pl.col("_obs_us").is_null()).then(
                    pl.format(
                        "DATE: {} is not a time like 2023-01-01T00:54:00", pl.col(cols["DATE"])
                    )
                ),
                *checks,
            ),
        )
    )
    f = f.filter(pl.col("_any") | pl.col("_reason").is_not_null())
    labels = dict(zip(LCD_FIELDS.values(), LCD_FIELDS, strict=True))
    f = station_checks(f, labels)  # reject bad reports before choosing one per hour
    chosen = (
        f.filter(pl.col("_reason").is_null())
        .sort(
            pl.col("_utc_us"),
            pl.col("_report") != ROUTINE_REPORT,
            (pl.col("_obs_us") - pl.col("_utc_us")).abs(),
            pl.col("line_no"),
        )
        .filter(pl.col("_utc_us").is_first_distinct())
    )
    rows = pl.concat([chosen, f.filter(pl.col("_reason").is_not_null())]).sort("line_no")
    zi = zone(ctx.tz)
    if zi is not None and _standard_offset_s(zi) != lst_s:
        ctx = dataclasses.replace(ctx, tz=None)  # the participant's zone is not the station's
    yield from with_extra_rejects(
        station_batches(
            rows,
            location_id=location,
            source=LCD_SOURCE,
            ctx=ctx,
            fixed_offset_s=lst_s,
            latitude_deg=lat,
            longitude_deg=lon,
        ),
        bad_lines,
    )


#: the LCD reader as an importer "module" for the registry (``FORMAT``, ``sniff``, ``read``)
LCD = SimpleNamespace(FORMAT=LCD_FORMAT, sniff=sniff_lcd, read=read_lcd, __name__=f"{__name__}.LCD")
