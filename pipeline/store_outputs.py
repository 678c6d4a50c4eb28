"""The store layer for detector outputs: replace a participant's date range of an output
table, and the run history of the detection and exposure runs (issue 11: written once here
instead of in each caller).

Table and column names are checked against :data:`detectors.tables.TABLES` before they reach
SQL, so no caller's string is ever interpolated unchecked.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date

import duckdb
import polars as pl

from detectors.tables import TABLES

#: run-history tables and the counts each records after (run_id, started, finished,
#: max_import_id)
RUN_TABLES: dict[str, tuple[str, ...]] = {
    "detection_runs": ("participants", "nights", "episodes_written"),
    "exposure_runs": ("participants", "days_written"),
}


def _table(name: str, *columns: str) -> str:
    if name not in TABLES:
        raise ValueError(f"not a store table: {name!r}")
    unknown = [c for c in columns if c not in TABLES[name]]
    if unknown:
        raise ValueError(f"{name} has no column(s) {unknown}")
    return name


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction: committed when the block ends, rolled back on any error."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def replace_range(
    con: duckdb.DuckDBPyConnection,
    table: str,
    date_col: str,
    frame: pl.DataFrame,
    participant_id: str,
    lo: date,
    hi: date,
    *,
    stamp_col: str | None = None,
) -> int:
    """Delete ``participant_id``'s rows of ``table`` with ``date_col`` in [lo, hi] and insert
    ``frame``'s rows of that participant and range (its columns by name; ``stamp_col``, if
    given, set to now()). Returns the rows inserted. Run it inside :func:`transaction`."""
    extra = (stamp_col,) if stamp_col else ()
    _table(table, date_col, *frame.columns, *extra)
    con.execute(
        f"DELETE FROM {table} WHERE participant_id = ? AND {date_col} BETWEEN ? AND ?",
        [participant_id, lo, hi],
    )
    keep = frame.filter(pl.col(date_col).is_between(lo, hi))
    if "participant_id" in keep.columns:
        keep = keep.filter(pl.col("participant_id") == participant_id)
    if keep.height == 0:
        return 0
    view = f"_crampwatch_{table}"
    con.register(view, keep.to_arrow())
    try:
        cols = ", ".join(keep.columns)
        stamp_c = f", {stamp_col}" if stamp_col else ""
        stamp_v = ", now()" if stamp_col else ""
        con.execute(f"INSERT INTO {table} ({cols}{stamp_c}) SELECT {cols}{stamp_v} FROM {view}")
    finally:
        con.unregister(view)
    return keep.height


def newest_import_id(con: duckdb.DuckDBPyConnection) -> int:
    """The highest import id in the ledger (0 for an empty store)."""
    return con.execute("SELECT coalesce(max(import_id), 0) FROM imports").fetchall()[0][0]


def last_run(con: duckdb.DuckDBPyConnection, runs: str) -> tuple[int, int]:
    """``(max_import_id reflected by the last run, next run_id)`` of a run-history table."""
    if runs not in RUN_TABLES:
        raise ValueError(f"not a run-history table: {runs!r}")
    # fetchall, not fetchone: DuckDB 2 refuses new relations while a result is unfinished
    return tuple(
        con.execute(
            f"SELECT coalesce(max(max_import_id), 0), coalesce(max(run_id), 0) + 1 FROM {runs}"
        ).fetchall()[0]
    )


def record_run(
    con: duckdb.DuckDBPyConnection,
    runs: str,
    run_id: int,
    seconds: float,
    max_import_id: int,
    *counts: int,
) -> None:
    """Append one run to a run-history table: started = now - ``seconds``, finished = now,
    the import id it reflects and its counts (:data:`RUN_TABLES`)."""
    if runs not in RUN_TABLES or len(counts) != len(RUN_TABLES[runs]):
        raise ValueError(f"{runs!r} records {RUN_TABLES.get(runs)}; got {len(counts)} counts")
    marks = ", ".join("?" * len(counts))
    con.execute(
        f"INSERT INTO {runs} VALUES "
        f"(?, now() - to_microseconds(CAST(? AS BIGINT)), now(), ?, {marks})",
        [run_id, int(seconds * 1e6), max_import_id, *counts],
    )


def _versions(version: str | Sequence[str]) -> tuple[list[str], str]:
    """The versions as a list and their ``?`` placeholders for ``NOT IN (...)``."""
    versions = [version] if isinstance(version, str) else list(version)
    return versions, ", ".join("?" for _ in versions)


def participants_of_other_versions(
    con: duckdb.DuckDBPyConnection, table: str, version: str | Sequence[str]
) -> list[str]:
    """Participants with rows of ``table`` written by a ``detector_version`` other than
    ``version`` (or than all of several; an upgrade: their outputs are recomputed whole)."""
    _table(table, "detector_version")
    versions, marks = _versions(version)
    return [
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT participant_id FROM {table} "
            f"WHERE detector_version NOT IN ({marks}) ORDER BY 1",
            versions,
        ).fetchall()
    ]


def delete_other_versions(
    con: duckdb.DuckDBPyConnection, table: str, participant_id: str, version: str | Sequence[str]
) -> None:
    """Remove the participant's rows of ``table`` written by another detector version (by
    none of several)."""
    _table(table, "detector_version")
    versions, marks = _versions(version)
    con.execute(
        f"DELETE FROM {table} WHERE participant_id = ? AND detector_version NOT IN ({marks})",
        [participant_id, *versions],
    )


def evaluation_inputs(
    con: duckdb.DuckDBPyConnection,
) -> tuple[pl.DataFrame, dict[str, int], pl.DataFrame]:
    """What ``crampwatch evaluate`` scores: every episode (participant_id, kind, start_utc,
    end_utc, local_date, label, confidence), sleep periods per participant, and the local
    days with any sample (the days a dehydration verdict was possible)."""
    episodes = con.sql(
        "SELECT participant_id, kind, start_utc, end_utc, local_date, label, "
        "confidence FROM episodes"
    ).pl()
    nights = dict(
        con.execute("SELECT participant_id, count(*) FROM sleep_periods GROUP BY 1").fetchall()
    )
    days = con.sql(
        "SELECT DISTINCT participant_id, local_date FROM ("
        "SELECT participant_id, CAST((start_utc + to_seconds(utc_offset_s)) AT TIME "
        "ZONE 'UTC' AS DATE) AS local_date FROM samples)"
    ).pl()
    return episodes, nights, days


def cramp_episode_ids_since(
    con: duckdb.DuckDBPyConnection, participant_id: str, since_utc
) -> set[str]:
    """Ids of the participant's stored cramp episodes starting at or after ``since_utc``."""
    return {
        r[0]
        for r in con.execute(
            "SELECT episode_id FROM episodes WHERE participant_id = ? "
            "AND kind = 'nocturnal_cramp' AND start_utc >= ?",
            [participant_id, since_utc],
        ).fetchall()
    }


def stored_cramp_candidates(
    con: duckdb.DuckDBPyConnection, participant_id: str, first_night
) -> pl.DataFrame:
    """The participant's stored cramp candidates of the nights from ``first_night`` on
    (``CANDIDATE_SCHEMA`` columns plus ``params_id``), by start."""
    return con.sql(
        "SELECT participant_id, night_of, start_utc, end_utc, confidence, label, suppressed_by, "
        "evidence, params_id FROM cramp_candidates WHERE participant_id = $1 AND night_of >= $2 "
        "ORDER BY start_utc",
        params=[participant_id, first_night],
    ).pl()


def trigger_rows(con: duckdb.DuckDBPyConnection, participant_ids: list[str]) -> pl.DataFrame:
    """``trigger_associations`` rows of the given participants (``'all'``: pooled)."""
    return con.sql(
        "SELECT * FROM trigger_associations WHERE list_contains($1, participant_id)",
        params=[participant_ids],
    ).pl()
