"""Input frame contracts of the detectors: column names, dtypes, validation and casting.

The flow loads these frames from DuckDB (``SET TimeZone='UTC'``), so instants arrive as
``Datetime("us", "UTC")``. Validation here is the only place that looks at schemas:

* a frame with no rows (or no columns at all) becomes an empty frame of the right schema;
* a frame with rows but a missing required column raises ``ValueError`` naming the column;
* a naive (time-zone-less) datetime column raises ``ValueError``: the detectors would
  otherwise silently mis-read local clock times as UTC instants;
* other dtypes are cast (``strict=False`` is never used: a bad value raises).

Extra columns are kept (for example ``source``), the input is never mutated.
"""

from __future__ import annotations

import polars as pl

from detectors import tables
from detectors.schema import UTC_DT

SAMPLES_SCHEMA: dict[str, pl.DataType] = tables.columns(
    "samples", ["participant_id", "metric", "start_utc", "end_utc", "utc_offset_s", "value"]
)

SLEEP_SEGMENTS_SCHEMA: dict[str, pl.DataType] = tables.columns(
    "sleep_segments", ["participant_id", "start_utc", "end_utc", "utc_offset_s", "stage"]
)

WORKOUTS_SCHEMA: dict[str, pl.DataType] = tables.columns(
    "workouts",
    [
        "participant_id",
        "activity_type",
        "start_utc",
        "end_utc",
        "utc_offset_s",
        "duration_s",
        "active_energy_kcal",
        "distance_m",
    ],
)

ENVIRONMENT_SCHEMA: dict[str, pl.DataType] = {
    "participant_id": pl.String,
    "time_utc": UTC_DT,
    "utc_offset_s": pl.Int32,
    "setting": pl.String,
    "temp_c": pl.Float64,
    "rh_pct": pl.Float64,
}

PARTICIPANTS_SCHEMA: dict[str, pl.DataType] = tables.columns(
    "participants", ["participant_id", "sex", "birth_year", "height_cm", "tz"]
)

#: columns that may be absent even when the frame has rows (filled with nulls)
OPTIONAL_COLUMNS: dict[str, set[str]] = {
    "workouts": {"duration_s", "active_energy_kcal", "distance_m"},
    "environment": {"setting"},
    "participants": {"sex", "birth_year", "height_cm", "tz"},
}


def prepare(frame: pl.DataFrame | None, name: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Validate ``frame`` against ``schema`` and return a cast copy.

    Parameters
    ----------
    frame : polars.DataFrame or None
        Input as loaded by the flow. ``None`` is treated as empty.
    name : str
        Frame name used in error messages (``"samples"``, ``"sleep_segments"``...).
    schema : dict
        Required columns and their target dtypes.

    Returns
    -------
    polars.DataFrame
        Columns of ``schema`` first (cast), then any extra input columns unchanged.

    Raises
    ------
    ValueError
        A required column is missing, or a datetime column has no time zone.
    """
    if frame is None or frame.height == 0:
        extra = {} if frame is None else {c: t for c, t in frame.schema.items() if c not in schema}
        return pl.DataFrame(schema={**schema, **extra})
    optional = OPTIONAL_COLUMNS.get(name, set())
    exprs: list[pl.Expr] = []
    for col, dtype in schema.items():
        if col not in frame.columns:
            if col in optional:
                exprs.append(pl.lit(None, dtype=dtype).alias(col))
                continue
            raise ValueError(f"{name}: required column {col!r} is missing")
        src = frame.schema[col]
        if isinstance(dtype, pl.Datetime):
            if not isinstance(src, pl.Datetime):
                raise ValueError(f"{name}: column {col!r} must be a tz-aware Datetime, got {src}")
            if src.time_zone is None:
                raise ValueError(
                    f"{name}: column {col!r} is a naive Datetime; pass UTC instants "
                    "(Datetime('us', 'UTC'))"
                )
            exprs.append(pl.col(col).dt.convert_time_zone("UTC").dt.cast_time_unit("us").alias(col))
        else:
            exprs.append(pl.col(col).cast(dtype).alias(col))
    extra = [pl.col(c) for c in frame.columns if c not in schema]
    return frame.select(exprs + extra)
