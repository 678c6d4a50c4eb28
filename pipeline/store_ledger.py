"""The store layer for the import ledger and the participants registry (issue 11: the store
layer owns all SQL; issue 13: every import can be undone).

``imports`` has one row per file offered (:mod:`pipeline.ingest`); rows written by an import
carry its ``import_id`` (``participant_locations`` and ``participants`` too, since migration
0010: the import that linked the location, the import that created the participant). An
import that is forgotten (``crampwatch forget --import``, ``reassign``) keeps its ledger row,
with status ``forgotten`` and the columns saying when, by what and how many rows went.
What an import did to participant rows is kept in ``participant_updates`` (migration 0011:
the row before it and the values it wrote), so that forgetting it puts the rows back.

Table names reach SQL only from :data:`IMPORT_TABLES` / :data:`PARTICIPANT_TABLES`, checked
against :data:`detectors.tables.TABLES` when this module is imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import duckdb
import polars as pl

from detectors.tables import TABLES

#: tables whose rows carry the ``import_id`` of the import that wrote them (data written by
#: importers; ``participants`` is handled on its own: its rows are upserted by many imports)
IMPORT_TABLES: tuple[str, ...] = (
    "samples",
    "sleep_segments",
    "workouts",
    "environment",
    "journal",
    "accelerometry_files",
    "participant_locations",
    "rejected_rows",
)
#: tables with a ``participant_id`` column, in the order a participant's rows are deleted
#: (``participants`` last)
PARTICIPANT_TABLES: tuple[str, ...] = tuple(
    sorted(
        t
        for t, cols in TABLES.items()
        if "participant_id" in cols and t not in ("imports", "participants")
    )
) + ("participants",)
#: outputs computed from a participant's data (recomputed after a forget)
OUTPUT_TABLES: tuple[str, ...] = (
    "sleep_periods",
    "episodes",
    "cramp_candidates",
    "daily_exposures",
)
#: ledger statuses whose rows are in the store
LIVE_STATUSES: tuple[str, ...] = ("ok", "partial")
#: environment: not per participant; its rows reach a participant through participant_locations
_LOCAL_DATE = "CAST(({ts} + to_seconds(utc_offset_s)) AT TIME ZONE 'UTC' AS DATE)"

for _t in IMPORT_TABLES + PARTICIPANT_TABLES:
    assert _t in TABLES, _t
for _t in IMPORT_TABLES:
    assert "import_id" in TABLES[_t], _t

# ------------------------------------------------------------------------------ the ledger


def quick_check(
    con: duckdb.DuckDBPyConnection, abs_path: str, size: int, mtime_ns: int, statuses: Sequence[str]
) -> tuple | None:
    """The latest ledger row for this path, size and mtime with one of ``statuses``:
    (import_id, sha256, format, status, error), or None."""
    rows = con.execute(
        "SELECT import_id, sha256, format, status, error FROM imports WHERE abs_path = ? "
        "AND size_bytes = ? AND mtime_ns = ? AND sha256 IS NOT NULL AND status IN "
        f"({', '.join('?' * len(statuses))}) ORDER BY import_id DESC LIMIT 1",
        [abs_path, size, mtime_ns, *statuses],
    ).fetchall()
    return rows[0] if rows else None


def prior_import(con: duckdb.DuckDBPyConnection, sha256: str) -> tuple[int, str] | None:
    """(import_id, format) of the first live import of this content, or None (a forgotten
    import does not count: the same file imports again)."""
    rows = con.execute(
        "SELECT import_id, format FROM imports WHERE sha256 = ? AND status IN ('ok', 'partial')"
        " ORDER BY import_id LIMIT 1",
        [sha256],
    ).fetchall()
    return rows[0] if rows else None


def ledger_start(
    con: duckdb.DuckDBPyConnection,
    *,
    path: str,
    sha256: str | None,
    size: int | None,
    fmt: str | None,
    participant_id: str | None,
    status: str,
    error: str | None = None,
    abs_path: str | None = None,
    mtime_ns: int | None = None,
    tz: str | None = None,
    replaces_import_id: int | None = None,
) -> int:
    """Insert a ledger row; returns its import_id. ``finished_utc`` is set unless the status
    is ``running``."""
    return con.execute(
        "INSERT INTO imports (path, sha256, size_bytes, format, participant_id, status, error,"
        " started_utc, finished_utc, abs_path, mtime_ns, tz, replaces_import_id) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, now(), CASE WHEN ? = 'running' THEN NULL ELSE now() END, ?, ?,"
        " ?, ?) RETURNING import_id",
        [
            path,
            sha256,
            size,
            fmt,
            participant_id,
            status,
            error,
            status,
            abs_path,
            mtime_ns,
            tz,
            replaces_import_id,
        ],
    ).fetchone()[0]


def ledger_finish(
    con: duckdb.DuckDBPyConnection,
    import_id: int,
    *,
    status: str,
    error: str | None,
    rows_accepted: int,
    rows_duplicate: int,
    rows_rejected: int,
    warning: str | None = None,
) -> None:
    # the wall clock, not now(): inside a transaction now() is the transaction's start
    con.execute(
        "UPDATE imports SET status = ?, error = ?, rows_accepted = ?, rows_duplicate = ?,"
        " rows_rejected = ?, warning = ?, finished_utc = ? WHERE import_id = ?",
        [
            status,
            error,
            rows_accepted,
            rows_duplicate,
            rows_rejected,
            warning,
            datetime.now(UTC),
            import_id,
        ],
    )


def import_row(con: duckdb.DuckDBPyConnection, import_id: int) -> dict | None:
    """One ledger row as a dict, or None."""
    cur = con.execute("SELECT * FROM imports WHERE import_id = ?", [import_id])
    rows = cur.fetchall()
    if not rows:
        return None
    return dict(zip([d[0] for d in cur.description], rows[0], strict=True))


def live_imports_after(
    con: duckdb.DuckDBPyConnection, row: dict, also: Sequence[int] = ()
) -> list[dict]:
    """Live imports after ledger row ``row`` that found rows already stored
    (``rows_duplicate``) and may share rows with it: same participant, a file naming its own
    participants, the same format (weather of one place), or one of ``also``."""
    also_ids = list(also) or [-1]
    cur = con.execute(
        "SELECT * FROM imports WHERE import_id > $1 AND status IN ('ok', 'partial') "
        "AND rows_duplicate > 0 AND (participant_id IS NULL OR $2 IS NULL "
        "OR participant_id = $2 OR format = $3 OR list_contains($4, import_id)) "
        "ORDER BY import_id",
        [row["import_id"], row["participant_id"], row["format"], also_ids],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def add_counts(con: duckdb.DuckDBPyConnection, import_id: int, accepted: int) -> None:
    """Rows of a live import written again (after a forget): accepted, no longer duplicates."""
    con.execute(
        "UPDATE imports SET rows_accepted = rows_accepted + ?, "
        "rows_duplicate = greatest(rows_duplicate - ?, 0) WHERE import_id = ?",
        [accepted, accepted, import_id],
    )


def mark_forgotten(
    con: duckdb.DuckDBPyConnection,
    import_ids: Sequence[int],
    by: str,
    rows_removed: dict[int, int] | None = None,
) -> None:
    """Status ``forgotten``: the rows are gone, the ledger row stays with what happened."""
    for iid in import_ids:
        con.execute(
            "UPDATE imports SET status = 'forgotten', forgotten_utc = ?, forgotten_by = ?, "
            "rows_removed = ? WHERE import_id = ?",
            [datetime.now(UTC), by, (rows_removed or {}).get(iid, 0), iid],
        )


def note_reassigned(con: duckdb.DuckDBPyConnection, import_id: int, by: str) -> None:
    con.execute("UPDATE imports SET forgotten_by = ? WHERE import_id = ?", [by, import_id])


def newest_import_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT coalesce(max(import_id), 0) FROM imports").fetchall()[0][0]


# ---------------------------------------------------------------------- participants rows

PARTICIPANT_COLS = (
    "sex",
    "birth_year",
    "tz",
    "home_lat_deg",
    "home_lon_deg",
    "height_cm",
    "conditions",
    "medications",
)


def upsert_participants(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, import_id: int | None = None
) -> int:
    """Insert participants; for existing ids, non-null incoming fields replace stored ones.
    A new row records ``import_id`` (the import that created it).

    Inside a running import (``import_id``'s ledger row is ``running``) what it does to each
    row it creates or writes a value to is recorded in ``participant_updates``: the row
    before its first write (or that it did not exist) and every value it wrote, so that
    forgetting the import can undo it (:func:`participant_history`). An import that only
    names an existing participant, and writing a live import's rows again (after a forget),
    add no record."""
    if frame.height == 0:
        return 0
    cols = ["participant_id"] + [c for c in PARTICIPANT_COLS if c in frame.columns]
    # a replacement scan: con.register() would keep it until COMMIT
    _crampwatch_participants = frame.select(cols).to_arrow()  # noqa: F841 - read in SQL
    if import_id is not None:
        merge = ", ".join(f"{c} = COALESCE(n.{c}, u.{c})" for c in cols[1:])
        if merge:  # a second write of the same import: its values, merged
            con.execute(
                f"UPDATE participant_updates AS u SET {merge} FROM _crampwatch_participants n "
                "WHERE u.import_id = $1 AND u.participant_id = n.participant_id",
                [import_id],
            )
        before = ", ".join(f"p.{c}" for c in PARTICIPANT_COLS)
        con.execute(
            "INSERT INTO participant_updates (import_id, participant_id, existed, "
            + ", ".join(f"before_{c}" for c in PARTICIPANT_COLS)
            + ", before_import_id"
            + "".join(f", {c}" for c in cols[1:])
            + f") SELECT $1, n.participant_id, p.participant_id IS NOT NULL, {before}, "
            "p.import_id" + "".join(f", n.{c}" for c in cols[1:]) + " "
            "FROM _crampwatch_participants n LEFT JOIN participants p USING (participant_id) "
            "WHERE (SELECT status FROM imports WHERE import_id = $1) = 'running' "
            "AND n.participant_id NOT IN (SELECT participant_id FROM participant_updates "
            "WHERE import_id = $1) AND (p.participant_id IS NULL"
            + "".join(f" OR n.{c} IS NOT NULL" for c in cols[1:])
            + ")",
            [import_id],
        )
    sets = ", ".join(f"{c} = COALESCE(EXCLUDED.{c}, participants.{c})" for c in cols[1:])
    sets = (sets + ", " if sets else "") + "updated_utc = now()"
    return con.execute(
        f"INSERT INTO participants ({', '.join(cols)}, updated_utc, import_id) "
        f"SELECT {', '.join(cols)}, now(), ? FROM _crampwatch_participants "
        f"ON CONFLICT (participant_id) DO UPDATE SET {sets}",
        [import_id],
    ).fetchone()[0]


def participant(con: duckdb.DuckDBPyConnection, participant_id: str) -> dict | None:
    cur = con.execute("SELECT * FROM participants WHERE participant_id = ?", [participant_id])
    rows = cur.fetchall()
    return dict(zip([d[0] for d in cur.description], rows[0], strict=True)) if rows else None


def participant_tz(con: duckdb.DuckDBPyConnection, participant_id: str) -> str | None:
    row = con.execute(
        "SELECT tz FROM participants WHERE participant_id = ?", [participant_id]
    ).fetchall()
    return row[0][0] if row else None


def participant_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0] for r in con.execute("SELECT participant_id FROM participants ORDER BY 1").fetchall()
    ]


def devices(
    con: duckdb.DuckDBPyConnection,
    participant_id: str,
    *,
    import_id: int,
    this_import: bool,
    fmt: str = "apple_health",
) -> set[str]:
    """Distinct non-empty devices of the participant's samples, sleep and workouts written by
    ``import_id`` (``this_import``) or by the other live imports of format ``fmt``."""
    if this_import:
        cond = "import_id = $2"
    else:
        cond = (
            "import_id IN (SELECT import_id FROM imports WHERE format = $3 AND status IN "
            "('ok', 'partial') AND import_id <> $2)"
        )
    parts = [
        f"SELECT DISTINCT device FROM {t} WHERE participant_id = $1 AND device <> '' AND {cond}"
        for t in ("samples", "sleep_segments", "workouts")
    ]
    params = [participant_id, import_id] + ([] if this_import else [fmt])
    return {r[0] for r in con.execute(" UNION ".join(parts), params).fetchall()}


def overview(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """One dict per participant: id, tz, sex, birth_year, rows per data table, first and
    last local date of their data, live and forgotten imports."""
    per_table = {}
    dated = []
    for t, ts in (
        ("samples", "start_utc"),
        ("sleep_segments", "start_utc"),
        ("workouts", "start_utc"),
        ("journal", "time_utc"),
        ("accelerometry_files", "start_utc"),
    ):
        per_table[t] = dict(
            con.execute(f"SELECT participant_id, count(*) FROM {t} GROUP BY 1").fetchall()
        )
        dated.append(f"SELECT participant_id, {_LOCAL_DATE.format(ts=ts)} AS d FROM {t}")
    for t in ("participant_locations", "episodes", "sleep_periods", "daily_exposures"):
        per_table[t] = dict(
            con.execute(f"SELECT participant_id, count(*) FROM {t} GROUP BY 1").fetchall()
        )
    per_table["environment"] = dict(
        con.execute(
            "SELECT pl.participant_id, count(*) FROM environment e "
            "JOIN participant_locations pl USING (location_id) GROUP BY 1"
        ).fetchall()
    )
    spans = {
        p: (lo, hi)
        for p, lo, hi in con.execute(
            "SELECT participant_id, min(d), max(d) FROM ("
            + " UNION ALL ".join(dated)
            + ") GROUP BY 1"
        ).fetchall()
    }
    imports = {
        p: (live, gone)
        for p, live, gone in con.execute(
            "SELECT participant_id, count(*) FILTER (WHERE status IN ('ok', 'partial')), "
            "count(*) FILTER (WHERE status = 'forgotten') FROM imports "
            "WHERE participant_id IS NOT NULL GROUP BY 1"
        ).fetchall()
    }
    out = []
    for pid, tz, sex, birth_year in con.execute(
        "SELECT participant_id, tz, sex, birth_year FROM participants ORDER BY 1"
    ).fetchall():
        lo, hi = spans.get(pid, (None, None))
        live, gone = imports.get(pid, (0, 0))
        out.append(
            {
                "participant_id": pid,
                "tz": tz,
                "sex": sex,
                "birth_year": birth_year,
                "rows": {t: c.get(pid, 0) for t, c in per_table.items()},
                "first_local_date": lo,
                "last_local_date": hi,
                "imports": live,
                "imports_forgotten": gone,
            }
        )
    return out


# ------------------------------------------------------------------------ what an import did


def import_participants(con: duckdb.DuckDBPyConnection, import_id: int) -> set[str]:
    """Participants whose data an import wrote: its rows' participants and those linked to
    the locations of its environment rows."""
    parts = [
        f"SELECT participant_id FROM {t} WHERE import_id = $1"
        for t in IMPORT_TABLES
        if "participant_id" in TABLES[t]
    ]
    parts.append(
        "SELECT pl.participant_id FROM participant_locations pl WHERE location_id IN "
        "(SELECT DISTINCT location_id FROM environment WHERE import_id = $1)"
    )
    return {r[0] for r in con.execute(" UNION ".join(parts), [import_id]).fetchall()}


def delete_import_rows(con: duckdb.DuckDBPyConnection, import_id: int) -> dict[str, int]:
    """Delete every row the import wrote; returns rows deleted per table (non-zero only)."""
    out = {}
    for t in IMPORT_TABLES:
        n = con.execute(f"DELETE FROM {t} WHERE import_id = ?", [import_id]).fetchone()[0]
        if n:
            out[t] = n
    return out


def orphan_participants(con: duckdb.DuckDBPyConnection, candidates: Sequence[str]) -> list[str]:
    """Of ``candidates``, those created by an import that is no longer live and left with
    no rows in any table and no live import naming them."""
    out = []
    for pid in candidates:
        row = con.execute(
            "SELECT p.import_id FROM participants p LEFT JOIN imports i USING (import_id) "
            "WHERE p.participant_id = ? AND p.import_id IS NOT NULL "
            "AND i.status IS DISTINCT FROM 'ok' AND i.status IS DISTINCT FROM 'partial'",
            [pid],
        ).fetchall()
        if not row:
            continue
        named = con.execute(
            "SELECT count(*) FROM imports WHERE participant_id = ? AND status IN ('ok', 'partial')",
            [pid],
        ).fetchall()[0][0]
        if named or any(
            participant_row_count(con, pid, t)
            for t in PARTICIPANT_TABLES
            if t not in ("participants", "participant_updates")
        ):
            continue
        out.append(pid)
    return out


def participant_row_count(con: duckdb.DuckDBPyConnection, participant_id: str, table: str) -> int:
    if table not in PARTICIPANT_TABLES:
        raise ValueError(f"not a participant table: {table!r}")
    return con.execute(
        f"SELECT count(*) FROM {table} WHERE participant_id = ?", [participant_id]
    ).fetchall()[0][0]


def delete_outputs(con: duckdb.DuckDBPyConnection, participant_id: str) -> None:
    """A participant's detection outputs, fitted parameters and trigger rows (recomputed
    after a forget)."""
    tables = ("cramp_param_sets", "trigger_associations", "trigger_runs", "trigger_context")
    for t in OUTPUT_TABLES + tables:
        con.execute(f"DELETE FROM {t} WHERE participant_id = ?", [participant_id])
    # rows over everyone: the next run recomputes them without this participant
    con.execute("DELETE FROM trigger_associations WHERE participant_id = 'all'")
    con.execute("DELETE FROM trigger_runs WHERE participant_id = 'all'")
    con.execute("DELETE FROM trigger_between_people")


def participant_imports(con: duckdb.DuckDBPyConnection, participant_id: str) -> list[int]:
    """Live imports naming the participant in the ledger."""
    return [
        r[0]
        for r in con.execute(
            "SELECT import_id FROM imports WHERE participant_id = ? AND status IN ('ok', 'partial')"
            " ORDER BY 1",
            [participant_id],
        ).fetchall()
    ]


def delete_participant(con: duckdb.DuckDBPyConnection, participant_id: str) -> dict[str, int]:
    """Every row of the participant in every table but the ledger (whose rows of their
    imports the caller marks forgotten), the rejected rows of those imports, the environment
    rows only they were linked to, and their experiments. Returns rows deleted per table."""
    out: dict[str, int] = {}
    own = participant_imports(con, participant_id)

    def count(t: str, n: int) -> None:
        if n:
            out[t] = out.get(t, 0) + n

    if own:
        marks = ", ".join("?" * len(own))
        count(
            "rejected_rows",
            con.execute(f"DELETE FROM rejected_rows WHERE import_id IN ({marks})", own).fetchone()[
                0
            ],
        )
    # environment series linked to nobody else
    count(
        "environment",
        con.execute(
            "DELETE FROM environment WHERE location_id IN (SELECT location_id FROM "
            "participant_locations WHERE participant_id = $1) AND location_id NOT IN (SELECT "
            "location_id FROM participant_locations WHERE participant_id <> $1)",
            [participant_id],
        ).fetchone()[0],
    )
    for t in ("experiment_blocks",):
        count(
            t,
            con.execute(
                f"DELETE FROM {t} WHERE experiment_id IN (SELECT experiment_id FROM experiments "
                "WHERE participant_id = ?)",
                [participant_id],
            ).fetchone()[0],
        )
    for t in PARTICIPANT_TABLES:
        count(
            t,
            con.execute(f"DELETE FROM {t} WHERE participant_id = ?", [participant_id]).fetchone()[
                0
            ],
        )
    return out


def participants_updated_by(con: duckdb.DuckDBPyConnection, import_id: int) -> list[str]:
    """Participants whose row import ``import_id`` created or changed (``participant_updates``)."""
    return [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT participant_id FROM participant_updates WHERE import_id = ? ORDER BY 1",
            [import_id],
        ).fetchall()
    ]


def participant_history(con: duckdb.DuckDBPyConnection, participant_id: str) -> list[dict]:
    """The recorded changes of a participant row, oldest import first: each a dict of the
    ``participant_updates`` columns and ``live`` (the import's rows are in the store)."""
    cur = con.execute(
        "SELECT u.*, coalesce(i.status IN ('ok', 'partial'), false) AS live "
        "FROM participant_updates u LEFT JOIN imports i USING (import_id) "
        "WHERE u.participant_id = ? ORDER BY u.import_id",
        [participant_id],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def write_participant(
    con: duckdb.DuckDBPyConnection, participant_id: str, values: dict, import_id: int | None
) -> None:
    """Set a participant row to ``values`` (every column of :data:`PARTICIPANT_COLS`) and
    ``import_id`` (the import that created it), inserting it when it is missing."""
    cols = list(PARTICIPANT_COLS)
    params = [participant_id, *(values.get(c) for c in cols), import_id]
    con.execute(
        f"INSERT INTO participants (participant_id, {', '.join(cols)}, import_id, updated_utc) "
        f"VALUES (?, {', '.join('?' * len(cols))}, ?, now()) ON CONFLICT (participant_id) DO "
        "UPDATE SET "
        + ", ".join(f"{c} = EXCLUDED.{c}" for c in [*cols, "import_id", "updated_utc"]),
        params,
    )


def delete_participant_rows(con: duckdb.DuckDBPyConnection, participant_ids: Sequence[str]) -> None:
    for pid in participant_ids:
        con.execute("DELETE FROM participants WHERE participant_id = ?", [pid])


def import_tables_with_participant() -> list[str]:
    return [t for t in IMPORT_TABLES if "participant_id" in TABLES[t]]


def insert_rejected(con: duckdb.DuckDBPyConnection, import_id: int, frame: pl.DataFrame) -> None:
    """Keep an importer's rejected rows (record_no, reason, raw) aside with their import."""
    # a replacement scan: con.register() would keep it until COMMIT
    _crampwatch_rej = frame.with_columns(  # noqa: F841 - read by name in SQL
        pl.lit(import_id, pl.Int64).alias("import_id")
    ).to_arrow()
    con.execute(
        "INSERT INTO rejected_rows (import_id, record_no, reason, raw) "
        "SELECT import_id, record_no, reason, raw FROM _crampwatch_rej"
    )


def accelerometry_paths_of_import(con: duckdb.DuckDBPyConnection, import_id: int) -> list[str]:
    """Parquet paths (relative to the data folder) that an import indexed."""
    return [
        r[0]
        for r in con.execute(
            "SELECT path FROM accelerometry_files WHERE import_id = ?", [import_id]
        ).fetchall()
    ]


def accelerometry_path_indexed(con: duckdb.DuckDBPyConnection, path: str) -> bool:
    """Whether any import still indexes the Parquet file ``path``."""
    return (
        con.execute("SELECT count(*) FROM accelerometry_files WHERE path = ?", [path]).fetchall()[
            0
        ][0]
        > 0
    )
