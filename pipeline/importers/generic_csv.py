"""Generic measurement CSV for devices without an importer (FORMAT ``generic_csv``).

File format
-----------
UTF-8 CSV (BOM, CRLF and quoting as in the journal CSV: :mod:`.journal_csv`). The first line
names the columns, in any order: the four required ones and any of the three optional ones::

    timestamp,metric,value,unit[,end_timestamp][,source][,device]

=================  ==========================================================================
column             meaning
=================  ==========================================================================
``timestamp``      start of the measurement, ISO 8601 with an offset
                   (``2025-07-03T03:15:00+02:00``, ``Z``, ``+02``, ``+0200``; seconds and
                   fractions optional). Without an offset the time is local wall-clock time
                   in the zone given with ``--timezone`` (DST rules as in the journal CSV);
                   importing such a file without a zone is an error naming the line.
``metric``         one of the canonical sample metrics (:data:`SAMPLE_UNITS`, the samples
                   metrics of ``docs/data-model.md``), e.g. ``heart_rate_bpm``, ``steps``.
                   Anything else is rejected with a reason listing the known names.
``value``          a number in ``unit``.
``unit``           the metric's canonical unit (``count/min`` for ``heart_rate_bpm``), one of
                   its spellings in :data:`UNIT_ALIASES` (``bpm``), or a unit
                   :func:`pipeline.normalize.convert` converts to it (``lb`` for
                   ``body_mass_kg``, ``kJ`` for ``active_energy_kcal``, ``mmol/L`` for
                   glucose). The stored ``value`` is converted; ``original_value`` and
                   ``original_unit`` keep what the file says.
``end_timestamp``  end of an interval measurement (steps, energy, water), same syntax; empty
                   or absent: a point sample (``end_utc = start_utc``). Must not be before
                   ``timestamp``.
``source``         app or device that wrote the value (stored as is; empty: ``''``).
``device``         device description (empty: ``''``).
=================  ==========================================================================

Example::

    timestamp,metric,value,unit,end_timestamp,source
    2025-07-03T03:15:00+02:00,heart_rate_bpm,58,bpm,,polar-h10
    2025-07-03T07:00:00+02:00,steps,412,count,2025-07-03T08:00:00+02:00,pedometer
    2025-07-03T07:30:00+02:00,body_mass_kg,171.2,lb,,scale

Rows become ``samples`` for the import's participant (``--participant``, or the inbox folder;
a file imported without one is an error). A row with a bad time, an unknown metric, a unit
that does not match or convert, a non-number, an implausible value
(:data:`RANGES`: :data:`pipeline.normalize.PLAUSIBLE_RANGES` plus :data:`NEW_METRIC_RANGES`)
or the same natural key as an earlier line is rejected with its 1-based line number and a
reason; the other rows land. Weather variables (``temp_c``, ``rh_pct``, ...) belong to the
``environment`` table and are rejected here with a pointer to the weather importers.

This module also holds the sample-metric tables the wearable importers share
(:data:`SAMPLE_UNITS`, :data:`RANGES`, :data:`SAMPLES_SCHEMA`) and
:func:`split_by_range`, which applies the plausible ranges to a frame of samples.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from detectors import tables
from pipeline import normalize
from pipeline.importers import Batch, ImportContext, ImportFormatError
from pipeline.importers._common import (
    US,
    first_line_fields,
    local_to_utc_us,
    parse_iso_local_us,
    read_lines,
    reasons,
    rejected_batch,
    require_participant,
    require_zone,
    split_csv,
    year_of_us,
)
from pipeline.importers.open_meteo import METRICS as ENVIRONMENT_METRICS
from pipeline.normalize import PLAUSIBLE_RANGES

FORMAT = "generic_csv"
REQUIRED = ("timestamp", "metric", "value", "unit")
OPTIONAL = ("end_timestamp", "source", "device")
YEAR_RANGE = (1900, 2100)
OFFSET_RANGE_S = (-12 * 3600, 14 * 3600)
BATCH_ROWS = 100_000

#: canonical unit of every ``samples`` metric (docs/data-model.md, "Metrics"), plus the
#: metrics introduced with the Garmin and Oura importers (:data:`NEW_METRIC_RANGES`)
SAMPLE_UNITS: dict[str, str] = {
    "heart_rate_bpm": "count/min",
    "resting_heart_rate_bpm": "count/min",
    "walking_heart_rate_bpm": "count/min",
    "hrv_sdnn_ms": "ms",
    "hrv_rmssd_ms": "ms",
    "steps": "count",
    "active_energy_kcal": "kcal",
    "basal_energy_kcal": "kcal",
    "distance_m": "m",
    "body_mass_kg": "kg",
    "height_cm": "cm",
    "water_ml": "mL",
    "magnesium_mg": "mg",
    "calcium_mg": "mg",
    "potassium_mg": "mg",
    "sodium_mg": "mg",
    "vitamin_d_ug": "ug",
    "blood_glucose_mg_dl": "mg/dL",
    "respiratory_rate_per_min": "count/min",
    "oxygen_saturation_pct": "%",
    "wrist_temperature_c": "degC",
    "time_in_daylight_min": "min",
    "stress_level": "1",
    "activity_intensity": "1",
    # the Fitbit metrics (docs/data-model.md, "Metrics"; ranges in normalize.FITBIT_RANGES)
    "energy_kcal": "kcal",
    "intensity_level": "level",
    "met": "MET",
    "sleep_asleep_min": "min",
    "time_in_bed_min": "min",
    "sedentary_min": "min",
    "lightly_active_min": "min",
    "fairly_active_min": "min",
    "very_active_min": "min",
}
#: plausible ranges of the metrics that are not (yet) in ``normalize.PLAUSIBLE_RANGES``;
#: ``PLAUSIBLE_RANGES`` wins once a metric is added there
NEW_METRIC_RANGES: dict[str, tuple[float, float]] = {
    # RMSSD over the interval; the same physiological bounds as hrv_sdnn_ms
    "hrv_rmssd_ms": (1.0, 500.0),
    # Garmin (Firstbeat) stress level, dimensionless 0-100 by definition of the scale
    "stress_level": (0.0, 100.0),
    # Garmin monitoring intensity, a 3-bit field (0-7) of current_activity_type_intensity
    "activity_intensity": (0.0, 7.0),
}
RANGES: dict[str, tuple[float, float]] = {**NEW_METRIC_RANGES, **PLAUSIBLE_RANGES}
#: other spellings of a canonical unit (same unit, no conversion): original_unit keeps them
UNIT_ALIASES: dict[str, str] = {
    "bpm": "count/min",
    "beats/min": "count/min",
    "/min": "count/min",
    "breaths/min": "count/min",
    "brpm": "count/min",
    "steps": "count",
    "Cal": "kcal",
    "ml": "mL",
    "pct": "%",
    "percent": "%",
    "°C": "degC",
    "C": "degC",
    "mg/dl": "mg/dL",
    "mcg": "ug",
    "µg": "ug",
}

_UTC = pl.Datetime("us", "UTC")
SAMPLES_SCHEMA = tables.rows("samples")


def sample_metrics() -> list[str]:
    """Metrics a ``samples`` row may carry: known unit and plausible range."""
    return [m for m in SAMPLE_UNITS if m in RANGES]


def ranges_frame() -> pl.DataFrame:
    """:data:`RANGES` as ``metric, _lo, _hi, _range_text`` (for joins)."""
    metrics = list(RANGES)
    return pl.DataFrame(
        {
            "metric": metrics,
            "_lo": [RANGES[m][0] for m in metrics],
            "_hi": [RANGES[m][1] for m in metrics],
            "_range_text": [f"[{RANGES[m][0]:g}, {RANGES[m][1]:g}]" for m in metrics],
        },
        schema={
            "metric": pl.String,
            "_lo": pl.Float64,
            "_hi": pl.Float64,
            "_range_text": pl.String,
        },
    )


def split_by_range(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split rows with ``metric`` and ``value`` into (plausible, implausible).

    The implausible rows get a ``reason`` worded as :func:`normalize.range_violation` words
    it (``heart_rate_bpm: value 0 outside plausible range [25, 240]``).
    """
    if frame.height == 0:
        return frame, frame.with_columns(reason=pl.lit(None, pl.String))
    f = frame.join(ranges_frame(), on="metric", how="left", maintain_order="left")
    f = f.with_columns(
        reason=normalize.range_violation_by(
            pl.col("metric"), pl.col("value"), pl.col("_lo"), pl.col("_hi"), pl.col("_range_text")
        )
    )
    drop = ["_lo", "_hi", "_range_text"]
    return (
        f.filter(pl.col("reason").is_null()).drop([*drop, "reason"]),
        f.filter(pl.col("reason").is_not_null()).drop(drop),
    )


# --------------------------------------------------------------------------------------------
# the generic format
# --------------------------------------------------------------------------------------------


def _header_ok(fields: tuple[str, ...] | None) -> bool:
    if not fields or len(set(fields)) != len(fields):
        return False
    return set(REQUIRED) <= set(fields) <= set(REQUIRED + OPTIONAL)


def sniff(head: bytes, name: str) -> bool:
    """True when the first line names the generic columns (required four, optional three)."""
    return _header_ok(first_line_fields(head))


def _unit_table() -> pl.DataFrame:
    """(metric, unit as written) -> canonical unit, scale, offset, for every known pair."""
    rows = []
    spellings = set(UNIT_ALIASES) | {u for pair in normalize.UNIT_FACTORS for u in pair}
    spellings |= set(SAMPLE_UNITS.values()) | {"degF", "°F"}
    for metric in sample_metrics():
        canon = SAMPLE_UNITS[metric]
        for unit in sorted(spellings):
            target = UNIT_ALIASES.get(unit, unit)
            try:
                scale, offset = normalize.unit_scale_offset(target, canon)
            except KeyError:
                continue
            rows.append((metric, unit, canon, scale, offset))
    return pl.DataFrame(
        rows,
        orient="row",
        schema={
            "metric": pl.String,
            "unit": pl.String,
            "_canon": pl.String,
            "_scale": pl.Float64,
            "_offset": pl.Float64,
        },
    )


def _instant(col: str) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """(wall µs, offset s, has offset, parse ok) of an ISO column (ok is True when empty)."""
    wall, off, has_off = parse_iso_local_us(pl.col(col))
    ok = pl.col(col).is_null() | (
        wall.is_not_null()
        & year_of_us(wall).is_between(*YEAR_RANGE)
        & (~has_off | off.is_between(*OFFSET_RANGE_S))
    )
    return wall, off, has_off, ok


def read(path: Path, ctx: ImportContext) -> Iterator[Batch]:
    """Yield ``samples`` (and ``rejected_rows``) from a generic measurement CSV."""
    display = ctx.display_path or str(path)
    require_participant(ctx, display, "generic CSV files")
    zi = require_zone(ctx.tz, display)
    lines = read_lines(Path(path), display)
    lines = lines.filter(pl.col("text").str.strip_chars() != "")
    head = lines.row(0, named=True)
    header = tuple(f.strip().strip('"').strip() for f in head["text"].split(","))
    if not _header_ok(header):
        raise ImportFormatError(
            f"{display}:{head['line_no']}: not a generic CSV: the header must name "
            f"{','.join(REQUIRED)} (and optionally {','.join(OPTIONAL)}), "
            f"found {head['text'][:200]!r}"
        )
    records, bad_lines = split_csv(lines.slice(1), header)
    for col in OPTIONAL:
        if col not in records.columns:
            records = records.with_columns(pl.lit(None, pl.String).alias(col))

    known = sample_metrics()
    units = _unit_table()
    s_wall, s_off, s_has, s_ok = _instant("timestamp")
    e_wall, e_off, e_has, e_ok = _instant("end_timestamp")
    f = records.with_columns(
        _s_wall=s_wall,
        _s_off=s_off,
        _s_has=s_has,
        _s_ok=s_ok,
        _e_wall=e_wall,
        _e_off=e_off,
        _e_has=e_has,
        _e_ok=e_ok,
        _num=pl.col("value").cast(pl.Float64, strict=False),
    ).join(units, on=["metric", "unit"], how="left", maintain_order="left")
    known_text = ", ".join(known)
    f = f.with_columns(
        _reason=reasons(
            pl.when(pl.col("timestamp").is_null())
            .then(pl.lit("timestamp: empty"))
            .when(~pl.col("_s_ok"))
            .then(
                pl.format(
                    "timestamp: {} is not an ISO 8601 date-time like 2025-07-03T03:15:00+02:00 "
                    f"(years {YEAR_RANGE[0]}-{YEAR_RANGE[1]}, offsets -12:00..+14:00)",
                    pl.col("timestamp"),
                )
            ),
            pl.when(~pl.col("_e_ok")).then(
                pl.format("end_timestamp: {} is not an ISO 8601 date-time", pl.col("end_timestamp"))
            ),
            pl.when(pl.col("metric").is_null())
            .then(pl.lit(f"metric: empty (one of {known_text})"))
            .when(pl.col("metric").is_in(list(ENVIRONMENT_METRICS)))
            .then(
                pl.format(
                    "metric: {} is a weather variable (environment table), not a body measurement; "
                    "import weather with the Open-Meteo importer",
                    pl.col("metric"),
                )
            )
            .when(~pl.col("metric").is_in(known))
            .then(
                pl.format(
                    f"metric: {{}} is not a known metric (one of {known_text})", pl.col("metric")
                )
            ),
            pl.when(pl.col("metric").is_in(known) & pl.col("_canon").is_null()).then(
                pl.format(
                    "unit: {} is not {} or a unit convertible to it",
                    pl.col("unit").fill_null("(empty)"),
                    pl.col("metric").replace_strict(SAMPLE_UNITS, default=None),
                )
            ),
            pl.when(pl.col("value").is_null())
            .then(pl.lit("value: empty"))
            .when(pl.col("_num").is_null() | pl.col("_num").is_nan())
            .then(pl.format("value: {} is not a number", pl.col("value"))),
        )
    )
    ok = f.filter(pl.col("_reason").is_null())

    # times without an offset are local wall-clock times in the participant's zone
    local = ok.filter(~pl.col("_s_has") | (pl.col("_e_wall").is_not_null() & ~pl.col("_e_has")))
    if local.height and zi is None:
        first = local.row(0, named=True)
        raise ImportFormatError(
            f"{display}:{first['line_no']}: time {first['timestamp']!r} has no UTC offset and no "
            "time zone is known for this file; import it with --timezone <IANA zone> (e.g. "
            "--timezone Europe/Berlin), or write times with their offset "
            "(2025-07-03T03:15:00+02:00)"
        )
    if zi is not None and ok.height:
        s_utc, s_zoff = local_to_utc_us(ok["_s_wall"], zi)
        e_utc, _ = local_to_utc_us(ok["_e_wall"], zi)
    else:
        s_utc = s_zoff = e_utc = pl.Series([None] * ok.height, dtype=pl.Int64)
    ok = ok.with_columns(
        _start_us=pl.when(pl.col("_s_has"))
        .then(pl.col("_s_wall") - pl.col("_s_off") * US)
        .otherwise(s_utc),
        _offset_s=pl.when(pl.col("_s_has")).then(pl.col("_s_off")).otherwise(s_zoff),
        _end_us=pl.when(pl.col("_e_wall").is_null())
        .then(None)
        .when(pl.col("_e_has"))
        .then(pl.col("_e_wall") - pl.col("_e_off") * US)
        .otherwise(e_utc),
    ).with_columns(_end_us=pl.coalesce("_end_us", "_start_us"))
    backwards = ok.filter(pl.col("_end_us") < pl.col("_start_us")).select(
        "line_no",
        "raw",
        reason=pl.format(
            "end_timestamp: {} is before timestamp {}", pl.col("end_timestamp"), pl.col("timestamp")
        ),
    )
    ok = ok.filter(pl.col("_end_us") >= pl.col("_start_us"))

    samples = ok.select(
        "line_no",
        "raw",
        participant_id=pl.lit(ctx.participant_id, pl.String),
        metric="metric",
        start_utc=pl.from_epoch("_start_us", time_unit="us").dt.replace_time_zone("UTC"),
        end_utc=pl.from_epoch("_end_us", time_unit="us").dt.replace_time_zone("UTC"),
        utc_offset_s="_offset_s",
        value=pl.col("_num") * pl.col("_scale") + pl.col("_offset"),
        unit="_canon",
        source=pl.col("source").fill_null(""),
        device=pl.col("device").fill_null(""),
        original_value="_num",
        original_unit="unit",
    )
    samples, implausible = split_by_range(samples)
    key = ["participant_id", "metric", "start_utc", "end_utc", "source", "device"]
    samples = samples.with_columns(_first=pl.col("line_no").first().over(key))
    dup = samples.filter(pl.col("line_no") != pl.col("_first")).select(
        "line_no",
        "raw",
        reason=pl.format(
            "duplicate of line {} (same metric, timestamp, end_timestamp, source and device)",
            pl.col("_first"),
        ),
    )
    samples = samples.filter(pl.col("line_no") == pl.col("_first"))
    out = samples.select(list(SAMPLES_SCHEMA)).cast(SAMPLES_SCHEMA)
    for i in range(0, max(out.height, 1), BATCH_ROWS):
        yield Batch("samples", out.slice(i, BATCH_ROWS))
    bad = rejected_batch(
        [
            bad_lines,
            f.filter(pl.col("_reason").is_not_null()).select("line_no", "raw", reason="_reason"),
            backwards,
            implausible.select("line_no", "raw", "reason"),
            dup,
        ]
    )
    if bad is not None:
        yield bad
