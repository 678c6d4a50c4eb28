"""The store layer for detector inputs: which participants and local dates changed since a
run, everything the detectors need for one participant and date range, the raw
accelerometry files of a range, the participant's zone, the journal, the per-person cramp
parameter sets (issue 11: all SQL of the detection pipeline lives in the store modules).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import polars as pl

#: sample metrics the detectors read
SAMPLE_METRICS = (
    "heart_rate_bpm",
    "resting_heart_rate_bpm",
    "hrv_sdnn_ms",
    "steps",
    "active_energy_kcal",
    "basal_energy_kcal",
    "body_mass_kg",
    "water_ml",
    "magnesium_mg",
    "calcium_mg",
    "potassium_mg",
    "vitamin_d_ug",
    "blood_glucose_mg_dl",
    "time_in_daylight_min",
    # minute activity for the actigraphy sleep fallback (Fitbit intensity level 0-3, METs)
    "intensity_level",
    "met",
)


# local date of a row, from its UTC instant and its own offset
_LOCAL_DATE = "CAST(({ts} + to_seconds(utc_offset_s)) AT TIME ZONE 'UTC' AS DATE)"


def changed_ranges(
    con: duckdb.DuckDBPyConnection, since_import_id: int, participant_ids: list[str] | None = None
) -> dict[str, tuple[date, date]]:
    """participant -> (first, last) local date touched by imports after ``since_import_id``."""
    who = "" if participant_ids is None else " AND list_contains($2, {col})"
    parts = []
    for table, ts in (
        ("samples", "start_utc"),
        ("sleep_segments", "start_utc"),
        ("workouts", "start_utc"),
        ("journal", "time_utc"),
    ):
        parts.append(
            f"SELECT participant_id, {_LOCAL_DATE.format(ts=ts)} AS d FROM {table} "
            "WHERE import_id > $1" + who.format(col="participant_id")
        )
    parts.append(
        f"SELECT pl.participant_id, {_LOCAL_DATE.format(ts='e.time_utc')} AS d "
        "FROM environment e JOIN participant_locations pl USING (location_id) "
        "WHERE e.import_id > $1" + who.format(col="pl.participant_id")
    )
    for ts in ("start_utc", "end_utc"):  # a raw recording touches the dates it spans
        parts.append(
            f"SELECT participant_id, {_LOCAL_DATE.format(ts=ts)} AS d "
            "FROM accelerometry_files WHERE import_id > $1" + who.format(col="participant_id")
        )
    sql = (
        "SELECT participant_id, min(d), max(d) FROM ("
        + " UNION ALL ".join(parts)
        + ") GROUP BY 1 ORDER BY 1"
    )
    args = [since_import_id] + ([] if participant_ids is None else [list(participant_ids)])
    rows = con.execute(sql, args).fetchall()
    return {pid: (lo, hi) for pid, lo, hi in rows}


def body_mass_reach(
    con: duckdb.DuckDBPyConnection, participant_id: str, lo: date, hi: date
) -> tuple[date | None, date | None] | None:
    """The local dates whose body mass may change when the participant's weighings of
    ``lo``..``hi`` are new: each day takes the nearest weighing however far
    (``detectors.fluid_tables._anthropometrics``), so the days from midway between the last
    weighing before ``lo`` and the first of the range, to midway between the last of the
    range and the first after ``hi``. ``None`` for an end without a weighing beyond it (every
    day that way may change); ``None`` overall when the range holds no weighing."""
    d = _LOCAL_DATE.format(ts="start_utc")
    rows = con.execute(
        f"SELECT max({d}) FILTER (WHERE {d} < $2), min({d}) FILTER (WHERE {d} BETWEEN $2 AND $3), "
        f"max({d}) FILTER (WHERE {d} BETWEEN $2 AND $3), min({d}) FILTER (WHERE {d} > $3) "
        "FROM samples WHERE participant_id = $1 AND metric = 'body_mass_kg' AND value > 0",
        [participant_id, lo, hi],
    ).fetchall()[0]
    before, first, last, after = rows
    if first is None:
        return None
    # a day midway may take either weighing: included on both sides
    start = None if before is None else before + timedelta(days=(first - before).days // 2)
    end = None if after is None else last + timedelta(days=-(-(after - last).days // 2))
    return start, end


def full_ranges(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[date, date]]:
    return changed_ranges(con, -1)


def _load(con, sql: str, params: list) -> pl.DataFrame:
    return con.sql(sql, params=params).pl()


#: indoor rows: only the sensor named ``bedroom`` when the participant has one (the
#: indoor_csv importer's default name, location ``indoor:<participant>:bedroom``), else every
#: indoor sensor (their hourly mean); a cool living room must not dilute a hot bedroom
_BEDROOM_FIRST = (
    "(e.setting IS DISTINCT FROM 'indoor' OR e.location_id LIKE 'indoor:%:bedroom' "
    "OR NOT EXISTS (SELECT 1 FROM participant_locations b WHERE b.participant_id = $1 "
    "AND b.location_id LIKE 'indoor:%:bedroom'))"
)


#: the frames :func:`load_inputs` returns
INPUT_TABLES = ("samples", "sleep_segments", "workouts", "environment", "participants")


def load_inputs(
    con: duckdb.DuckDBPyConnection,
    participant_id: str,
    lo: date,
    hi: date,
    *,
    tables: tuple[str, ...] = INPUT_TABLES,
    whole_metrics: tuple[str, ...] = (),
    whole: tuple[date, date] | None = None,
) -> dict[str, pl.DataFrame]:
    """Everything the detectors need for one participant between two local dates.

    Rows come in a total order (the tables' natural keys), so a subset of a range holds its
    rows in the order the whole range has them. ``tables`` picks the frames to load. With
    ``whole = (lo2, hi2)``, the samples of ``whole_metrics`` are those of that wider range
    (a chunk of a long history that needs them beyond its own days).
    """
    t_lo = f"{lo - timedelta(days=1)} 00:00:00+00"
    t_hi = f"{hi + timedelta(days=2)} 00:00:00+00"
    p = [participant_id, t_lo, t_hi]
    out: dict[str, pl.DataFrame] = {}
    if "samples" in tables:
        cols = "participant_id, metric, start_utc, end_utc, utc_offset_s, value, source, device"
        part = (
            f"SELECT {cols} FROM samples WHERE participant_id = $1 AND start_utc >= $2::TIMESTAMPTZ "
            "AND start_utc < $3::TIMESTAMPTZ AND list_contains($4, metric)"
        )
        if whole is not None and whole_metrics:
            w_lo = f"{whole[0] - timedelta(days=1)} 00:00:00+00"
            w_hi = f"{whole[1] + timedelta(days=2)} 00:00:00+00"
            rest = [m for m in SAMPLE_METRICS if m not in whole_metrics]
            sql = (
                part
                + " UNION ALL "
                + part.replace("$2", "$5").replace("$3", "$6").replace("$4", "$7")
            )
            params = p + [rest, w_lo, w_hi, list(whole_metrics)]
        else:
            sql, params = part, p + [list(SAMPLE_METRICS)]
        out["samples"] = _load(
            con,
            f"SELECT * EXCLUDE (device) FROM ({sql}) "
            "ORDER BY metric, start_utc, end_utc, source, device",
            params,
        )
    if "sleep_segments" in tables:
        out["sleep_segments"] = _load(
            con,
            "SELECT participant_id, start_utc, end_utc, utc_offset_s, stage FROM sleep_segments "
            "WHERE participant_id = $1 AND start_utc >= $2::TIMESTAMPTZ AND start_utc < $3::TIMESTAMPTZ "
            "ORDER BY start_utc, end_utc, stage, source",
            p,
        )
    if "workouts" in tables:
        out["workouts"] = _load(
            con,
            "SELECT participant_id, activity_type, start_utc, end_utc, utc_offset_s, duration_s, "
            "active_energy_kcal, distance_m FROM workouts WHERE participant_id = $1 "
            "AND start_utc >= $2::TIMESTAMPTZ AND start_utc < $3::TIMESTAMPTZ "
            "ORDER BY start_utc, activity_type, source",
            p,
        )
    if "environment" in tables:
        out["environment"] = _load(
            con,
            "SELECT pl.participant_id, e.time_utc, e.utc_offset_s, e.setting, e.temp_c, e.rh_pct, "
            "e.wind_speed_m_s, e.shortwave_radiation_w_m2, e.latitude_deg, e.longitude_deg "
            "FROM environment e JOIN participant_locations pl USING (location_id) "
            "WHERE pl.participant_id = $1 AND e.time_utc >= $2::TIMESTAMPTZ "
            "AND e.time_utc < $3::TIMESTAMPTZ AND "
            + _BEDROOM_FIRST
            + " ORDER BY e.time_utc, e.location_id, e.setting, e.source",
            p,
        )
    if "participants" in tables:
        out["participants"] = _load(
            con,
            "SELECT participant_id, sex, birth_year, height_cm, tz, conditions, medications, "
            "home_lat_deg, home_lon_deg FROM participants "
            "WHERE participant_id = $1",
            [participant_id],
        )
    return out


def history_facts(
    con: duckdb.DuckDBPyConnection, participant_id: str, lo: date, hi: date
) -> tuple[pl.DataFrame, int]:
    """The whole-range decisions of the minute-level detectors for the samples
    :func:`load_inputs` gives for ``lo``..``hi``, without loading them
    (:class:`detectors.actigraphy.HistoryFacts`): the sources kept per metric (a source is
    a coarser copy when its median interval is >= 20 x the metric's finest source's, as
    :func:`detectors.actigraphy.keep_finest_resolution` decides) and the minutes with a
    heart-rate sample from a kept source (value > 0)."""
    t_lo = f"{lo - timedelta(days=1)} 00:00:00+00"
    t_hi = f"{hi + timedelta(days=2)} 00:00:00+00"
    rng = (
        "s.participant_id = $1 AND s.start_utc >= $2::TIMESTAMPTZ "
        "AND s.start_utc < $3::TIMESTAMPTZ AND list_contains($4, s.metric)"
    )
    params = [participant_id, t_lo, t_hi, list(SAMPLE_METRICS)]
    kept = (
        "WITH g AS (SELECT s.participant_id, s.metric, s.source AS _src, "
        "median(epoch_us(s.end_utc) - epoch_us(s.start_utc)) AS med "
        f"FROM samples s WHERE {rng} GROUP BY ALL), "
        "f AS (SELECT *, min(med) OVER (PARTITION BY participant_id, metric) AS fin FROM g), "
        "k AS (SELECT participant_id, metric, _src FROM f WHERE med <= 0 "
        "OR med < CAST(20 AS DOUBLE) * greatest(fin, CAST(1 AS DOUBLE))) "
    )
    finest = con.sql(kept + "SELECT * FROM k ORDER BY ALL", params=params).pl()
    hr = con.execute(
        kept + "SELECT count(DISTINCT epoch_us(s.start_utc) // 60000000) FROM samples s "
        "SEMI JOIN k ON s.participant_id = k.participant_id AND s.metric = k.metric "
        f"AND s.source = k._src WHERE {rng} "
        "AND s.metric = 'heart_rate_bpm' AND s.value > 0 AND isfinite(s.value)",
        params,
    ).fetchall()[0][0]
    return finest, int(hr)


def grid_sample_edge(
    con: duckdb.DuckDBPyConnection,
    participant_id: str,
    metrics: tuple[str, ...],
    keys: list[str],
    *,
    before: datetime | None = None,
    after: datetime | None = None,
) -> datetime | None:
    """Start of the participant's last sample before ``before`` (or first at or after
    ``after``) of ``metrics`` with a finite value, from a source in ``keys``
    (``metric || chr(0) || source``); None when there is none."""
    if (before is None) == (after is None):
        raise ValueError("give one of before / after")
    agg, cmp, t = ("max", "<", before) if before is not None else ("min", ">=", after)
    return con.execute(
        f"SELECT {agg}(start_utc) FROM samples WHERE participant_id = ? AND start_utc {cmp} ? "
        "AND list_contains(?, metric) AND isfinite(value) "
        "AND list_contains(?, metric || chr(0) || source)",
        [participant_id, t, list(metrics), keys],
    ).fetchall()[0][0]


def store_data_dir(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The data folder beside the open store (``crampwatch.data/``), None in memory."""
    from pipeline.config import data_dir

    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return data_dir(row[0]) if row and row[0] else None


def participant_zone(con: duckdb.DuckDBPyConnection, participant_id: str) -> ZoneInfo | None:
    """The participant's IANA zone from ``participants.tz`` (None when unknown or invalid)."""
    row = con.execute(
        "SELECT tz FROM participants WHERE participant_id = ?", [participant_id]
    ).fetchone()
    try:
        return ZoneInfo(row[0]) if row and row[0] else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def accelerometry_files(
    con: duckdb.DuckDBPyConnection, participant_id: str, t_lo: datetime, t_hi: datetime
) -> list[tuple[str, int, int, int]]:
    """``(path, start_us, end_us, utc_offset_s)`` of the participant's raw recordings that
    overlap [t_lo, t_hi), oldest first (paths relative to the store's data folder)."""
    return con.execute(
        "SELECT path, epoch_us(start_utc), epoch_us(end_utc), utc_offset_s "
        "FROM accelerometry_files WHERE participant_id = ? AND end_utc >= ? AND start_utc < ? "
        "ORDER BY start_utc",
        [participant_id, t_lo, t_hi],
    ).fetchall()


def journal(con: duckdb.DuckDBPyConnection, participant_id: str) -> pl.DataFrame:
    """The participant's journal rows: ``participant_id, time_utc, utc_offset_s, kind``."""
    return con.sql(
        "SELECT participant_id, time_utc, utc_offset_s, kind FROM journal "
        "WHERE participant_id = $1",
        params=[participant_id],
    ).pl()


def journal_changed(
    con: duckdb.DuckDBPyConnection, participant_id: str, since_import_id: int
) -> bool:
    """Whether journal rows of the participant came in after ``since_import_id``."""
    return (
        con.execute(
            "SELECT count(*) FROM journal WHERE participant_id = ? AND import_id > ?",
            [participant_id, since_import_id],
        ).fetchall()[0][0]
        > 0
    )


def save_cramp_param_set(
    con: duckdb.DuckDBPyConnection,
    *,
    params_id: str,
    participant_id: str,
    name: str,
    params_json: str,
    detector_version: str,
    n_nights: int,
    n_events: int,
    heldout_f1: float | None,
    default_heldout_f1: float | None,
    active: bool,
    n_labels: int,
    labels_through_seq: int,
) -> None:
    """Store a fitted parameter set as the participant's only current one (older sets of the
    participant are kept, inactive; the same ``params_id`` is replaced)."""
    con.execute(
        "UPDATE cramp_param_sets SET active = false WHERE participant_id = ?", [participant_id]
    )
    con.execute(
        "DELETE FROM cramp_param_sets WHERE participant_id = ? AND params_id = ?",
        [participant_id, params_id],
    )
    con.execute(
        "INSERT INTO cramp_param_sets (params_id, participant_id, name, params_json, "
        "detector_version, fitted_utc, n_nights, n_events, heldout_f1, default_heldout_f1, "
        "active, n_labels, labels_through_seq) VALUES (?, ?, ?, ?, ?, now(), ?, ?, ?, ?, ?, ?, ?)",
        [
            params_id,
            participant_id,
            name,
            params_json,
            detector_version,
            n_nights,
            n_events,
            heldout_f1,
            default_heldout_f1,
            active,
            n_labels,
            labels_through_seq,
        ],
    )


def participants_with_other_version_active_sets(
    con: duckdb.DuckDBPyConnection, detector_version: str
) -> list[str]:
    """Participants whose active cramp parameter set was fitted by another cramp detector
    version (an upgrade: the set no longer counts and is refitted)."""
    return [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT participant_id FROM cramp_param_sets WHERE active "
            "AND detector_version <> ? ORDER BY 1",
            [detector_version],
        ).fetchall()
    ]


def deactivate_other_version_sets(
    con: duckdb.DuckDBPyConnection, participant_id: str, detector_version: str
) -> None:
    """Mark the participant's sets of other cramp detector versions inactive (kept)."""
    con.execute(
        "UPDATE cramp_param_sets SET active = false WHERE participant_id = ? "
        "AND detector_version <> ?",
        [participant_id, detector_version],
    )


def active_cramp_params_json(
    con: duckdb.DuckDBPyConnection, participant_id: str, detector_version: str
) -> str | None:
    """The participant's active parameter set for ``detector_version`` (JSON), if any."""
    row = con.execute(
        "SELECT params_json FROM cramp_param_sets WHERE participant_id = ? AND active "
        "AND detector_version = ?",
        [participant_id, detector_version],
    ).fetchall()
    return row[0][0] if row else None


def cramp_params_json(con: duckdb.DuckDBPyConnection, params_id: str) -> str | None:
    """A stored parameter set by id (JSON), if any (the default set is not stored)."""
    row = con.execute(
        "SELECT params_json FROM cramp_param_sets WHERE params_id = ? LIMIT 1", [params_id]
    ).fetchall()
    return row[0][0] if row else None


# ------------------------------------------------------------------------------------------
# the accelerometry view over the raw Parquet files beside the store

#: folder under the store's data folder, and the view's name
DATA_SUBDIR = "accelerometry"
VIEW = "accelerometry"

EMPTY_VIEW_SQL = (
    f"CREATE OR REPLACE VIEW {VIEW} AS SELECT CAST(NULL AS VARCHAR) AS participant_id, "
    "CAST(NULL AS TIMESTAMPTZ) AS time_utc, CAST(NULL AS FLOAT) AS x_g, "
    "CAST(NULL AS FLOAT) AS y_g, CAST(NULL AS FLOAT) AS z_g WHERE false"
)


def view_sql(data_dir: str | os.PathLike) -> str:
    """``CREATE OR REPLACE VIEW accelerometry`` over every Parquet file under ``data_dir``."""
    root = Path(data_dir).resolve()
    glob = (root / DATA_SUBDIR).as_posix() + "/*/*.parquet"
    literal = "'" + glob.replace("'", "''") + "'"
    return (
        f"CREATE OR REPLACE VIEW {VIEW} AS SELECT participant_id, time_utc, x_g, y_g, z_g "
        f"FROM read_parquet({literal}, hive_partitioning = true, "
        "hive_types = {'participant_id': VARCHAR})"
    )


@dataclass
class ViewStatus:
    files: int  # Parquet files listed in accelerometry_files and present
    orphans_removed: list[str]  # Parquet files no row lists (failed or duplicate imports)
    missing: list[str]  # listed files not found under the data folder


def ensure_accelerometry_view(
    con: duckdb.DuckDBPyConnection, data_dir: str | os.PathLike
) -> ViewStatus:
    """(Re)create the ``accelerometry`` view for the store ``con`` with data folder ``data_dir``.

    Call it with the writer's connection after imports and before publishing the snapshot
    (the snapshot copies the view, whose absolute glob still points at the same folder).
    Parquet files under ``data_dir/accelerometry/`` that no ``accelerometry_files`` row lists
    (left by an import that failed and was rolled back, or by a duplicate recording) and
    stale ``*.tmp`` files are deleted first, so the view shows exactly the committed files.
    Without any file the view is the empty placeholder of migration 0003 (same columns).
    """
    root = Path(data_dir).resolve()
    listed = {r[0] for r in con.execute("SELECT path FROM accelerometry_files").fetchall()}
    folder = root / DATA_SUBDIR
    removed: list[str] = []
    if folder.is_dir():
        for p in sorted(folder.glob("*/*")):
            rel = p.relative_to(root).as_posix()
            if p.is_file() and p.name.endswith((".parquet", ".parquet.tmp")) and rel not in listed:
                p.unlink()
                removed.append(rel)
    present = sorted(p for p in listed if (root / p).is_file())
    missing = sorted(listed - set(present))
    _replace_view(con, view_sql(root) if present else EMPTY_VIEW_SQL)
    return ViewStatus(files=len(present), orphans_removed=removed, missing=missing)


#: the temporary view the wanted definition is bound as, to compare it with the stored one
_PROBE_VIEW = "crampwatch_view_probe"


def _replace_view(con: duckdb.DuckDBPyConnection, create_sql: str) -> None:
    """Run ``create_sql`` (``CREATE OR REPLACE VIEW accelerometry ...``) unless the stored
    view already has that definition.

    Replacing an unchanged view still writes it to the write-ahead log, and a non-empty log
    makes the ``CHECKPOINT`` before publishing a full checkpoint (which also merges row
    groups: 0.5-1.3 CPU-s after a 1 GB Apple import that was checkpointed already); with an
    empty log that ``CHECKPOINT`` does nothing. The wanted definition is bound as a
    temporary view (never logged) and compared as DuckDB prints both.
    """
    prefix = f"CREATE OR REPLACE VIEW {VIEW} AS "
    if not create_sql.startswith(prefix):
        raise ValueError(f"not a definition of the {VIEW} view: {create_sql[:60]!r}")
    body = create_sql.removeprefix(prefix)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {_PROBE_VIEW} AS {body}")
    try:
        rows = con.execute(
            "SELECT view_name, sql FROM duckdb_views() WHERE view_name IN (?, ?) "
            "AND schema_name = 'main' AND database_name IN (current_database(), 'temp')",
            [VIEW, _PROBE_VIEW],
        ).fetchall()
    finally:
        con.execute(f"DROP VIEW IF EXISTS temp.main.{_PROBE_VIEW}")
    defs = {name: sql.split(" AS ", 1)[-1] for name, sql in rows}
    if defs.get(VIEW) is None or defs.get(VIEW) != defs.get(_PROBE_VIEW):
        con.execute(create_sql)


def participant_zones(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """participant_id -> stored IANA zone (None when unknown)."""
    return dict(con.execute("SELECT participant_id, tz FROM participants").fetchall())
