"""The DuckDB store: open with migrations, insert idempotently, publish read-only snapshots.

DuckDB lets one process hold a read-write lock and then refuses every other connection, so
the writer (flows, ``crampwatch ingest``) owns the store file and, after each run, publishes
an atomically replaced copy (``*.snapshot.duckdb``) that the dashboard and ad hoc readers open
read-only. Readers never block the writer and never see a half-written run.
"""

from __future__ import annotations

import hashlib
import os
import random
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import duckdb
import polars as pl

from pipeline.config import snapshot_path

LOCK_ERROR = "Could not set lock"


def _migrations() -> list[tuple[int, str, str]]:
    files = resources.files("pipeline") / "migrations"
    out = []
    for f in files.iterdir():
        name = f.name
        if name.endswith(".sql") and name[:4].isdigit():
            out.append((int(name[:4]), name, f.read_text(encoding="utf-8")))
    return sorted(out)


SCHEMA_VERSION = max(v for v, _, _ in _migrations())


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply every migration newer than the database's version, each in one transaction."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_utc TIMESTAMPTZ NOT NULL)"
    )
    done = {r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, name, sql in _migrations():
        if version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name]
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


def _connect_retry(path: str, read_only: bool, timeout_s: float) -> duckdb.DuckDBPyConnection:
    deadline, delay_s = time.monotonic() + timeout_s, 0.05
    while True:
        try:
            return duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as exc:
            if LOCK_ERROR not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay_s * (0.5 + random.random()))
            delay_s = min(1.0, delay_s * 2)


def connect(db_path: str | os.PathLike, *, read_only: bool = False,
            lock_timeout_s: float = 30.0) -> duckdb.DuckDBPyConnection:
    """Open the store. Read-write opens create the file and apply pending migrations."""
    path = Path(db_path)
    if read_only and not path.exists():
        raise FileNotFoundError(f"no crampwatch database at {path}; run `crampwatch ingest` first")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = _connect_retry(str(path), read_only, lock_timeout_s)
    con.execute("SET TimeZone = 'UTC'")
    if not read_only:
        migrate(con)
    return con


def connect_reader(db_path: str | os.PathLike, *, lock_timeout_s: float = 10.0
                   ) -> duckdb.DuckDBPyConnection:
    """Open for reading: the published snapshot if there is one, else the store read-only."""
    snap = snapshot_path(db_path)
    target = snap if snap.exists() else Path(db_path)
    return connect(target, read_only=True, lock_timeout_s=lock_timeout_s)


def publish_snapshot(con: duckdb.DuckDBPyConnection, db_path: str | os.PathLike) -> Path:
    """Copy the whole store to ``*.snapshot.duckdb`` and swap it in atomically.

    Readers holding the old snapshot keep a consistent view until they reconnect.
    """
    live = snapshot_path(db_path)
    tmp = live.with_name(live.name + ".tmp")
    for p in (tmp, Path(str(tmp) + ".wal")):
        p.unlink(missing_ok=True)
    con.execute("CHECKPOINT")
    db_name = con.execute("SELECT current_database()").fetchone()[0]
    con.execute(f"ATTACH '{tmp}' AS crampwatch_snapshot")
    try:
        con.execute(f'COPY FROM DATABASE "{db_name}" TO crampwatch_snapshot')
    finally:
        con.execute("DETACH crampwatch_snapshot")
    os.replace(tmp, live)
    return live


#: the run history: the import ledger and the detection bookkeeping. Readers of the snapshot
#: (the dashboard) do not use them, so a run that changed only these (nothing new, a file
#: whose rows were all stored already, a header-only CSV) does not republish the snapshot
RUN_TABLES = ("imports", "detection_runs", "exposure_runs")


def content_fingerprint(con: duckdb.DuckDBPyConnection, database: str | None = None) -> str:
    """A digest of everything a reader of ``database`` (default: the current one) sees except
    :data:`RUN_TABLES`: each table's columns, row count and an order-independent hash of its
    rows (``bit_xor(hash(row))``), and each view's SQL. Reads every row once; ~0.1 s per
    3 M rows."""
    db = database or con.execute("SELECT current_database()").fetchall()[0][0]
    parts = []
    tables = con.execute(
        "SELECT table_name, string_agg(column_name || ' ' || data_type, ', ' "
        "ORDER BY column_index) FROM duckdb_columns() WHERE database_name = ? "
        "AND schema_name = 'main' AND table_name IN (SELECT table_name FROM duckdb_tables() "
        "WHERE database_name = ? AND schema_name = 'main') GROUP BY 1 ORDER BY 1",
        [db, db]).fetchall()
    for name, columns in tables:
        if name in RUN_TABLES:
            continue
        n, digest = con.execute(
            f'SELECT count(*), bit_xor(hash(t)) FROM "{db}".main."{name}" t').fetchall()[0]
        parts.append(f"table {name} ({columns}) {n} {digest}")
    parts += [f"view {name} {sql}" for name, sql in con.execute(
        "SELECT view_name, sql FROM duckdb_views() WHERE database_name = ? "
        "AND schema_name = 'main' AND NOT internal ORDER BY 1", [db]).fetchall()]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def snapshot_is_current(con: duckdb.DuckDBPyConnection, db_path: str | os.PathLike) -> bool:
    """True when the published snapshot shows what the store ``con`` holds (bar
    :data:`RUN_TABLES`), so publishing again would copy the same content."""
    snap = snapshot_path(db_path)
    if not snap.is_file():
        return False
    alias = "crampwatch_published"
    try:
        con.execute(f"ATTACH '{snap}' AS {alias} (READ_ONLY)")
    except duckdb.Error:  # unreadable or locked: publish again
        return False
    try:
        return content_fingerprint(con, alias) == content_fingerprint(con)
    finally:
        con.execute(f"DETACH {alias}")


def insert_new(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame,
               key: Sequence[str]) -> tuple[int, int]:
    """Insert the rows of ``frame`` whose natural ``key`` is not yet in ``table``.

    Duplicates inside ``frame`` are collapsed first (first row wins). Columns missing from
    ``frame`` take the table's defaults. Returns ``(inserted, duplicates)``.
    """
    if frame.height == 0:
        return 0, 0
    cols = frame.columns
    unique = frame
    # distinct key hashes prove there is no in-frame duplicate (the usual case) and cost a
    # third of the order-keeping unique, which runs only when some hashes repeat
    if frame.select(pl.struct(list(key)).hash()).to_series().n_unique() < frame.height:
        unique = frame.unique(subset=list(key), keep="first", maintain_order=True)
    # Read by DuckDB's replacement scan, not con.register(): inside a transaction DuckDB
    # keeps a registered object alive until COMMIT, so an import holding one transaction
    # would keep every batch it wrote in memory (RSS growing with the file size).
    _crampwatch_new = unique.to_arrow()  # noqa: F841 - referenced by name in the SQL
    on = " AND ".join(f"t.{k} IS NOT DISTINCT FROM n.{k}" for k in key)
    col_list = ", ".join(cols)
    sel = ", ".join(f"n.{c}" for c in cols)
    where, params = _key_bounds(unique, key)
    stored = f"(SELECT {', '.join(key)} FROM {table} WHERE {where})" if where else table
    inserted = con.execute(
        f"INSERT INTO {table} ({col_list}) SELECT {sel} FROM _crampwatch_new n "
        f"ANTI JOIN {stored} t ON {on}", params
    ).fetchone()[0]
    return inserted, frame.height - inserted


#: string key columns with at most this many distinct values in a batch are bounded by them
_MAX_IN_VALUES = 16


def _key_bounds(frame: pl.DataFrame, key: Sequence[str]) -> tuple[str, dict]:
    """A filter that every stored row sharing a key with a row of ``frame`` satisfies.

    The first timestamp key column is bounded by the batch's min and max, string key columns
    with few values by those values (a column holding NULLs is not bounded: NULL keys match
    stored NULLs). DuckDB skips row groups by their min/max statistics, so the anti-join reads
    and hashes the slice of the table the batch could repeat, not the whole table: a 3 GB
    export no longer gets slower and bigger with every batch it has already written.
    """
    conds: list[str] = []
    params: dict = {}
    ranged = False
    for i, k in enumerate(key):
        col = frame.get_column(k)
        if col.null_count():
            continue
        dtype = col.dtype
        if not ranged and (dtype == pl.Date or (isinstance(dtype, pl.Datetime)
                                               and dtype.time_unit in ("us", "ms"))):
            conds.append(f"{k} BETWEEN $lo{i} AND $hi{i}")
            params[f"lo{i}"], params[f"hi{i}"] = col.min(), col.max()
            ranged = True
        elif dtype == pl.String:
            values = col.unique()
            if values.len() <= _MAX_IN_VALUES:
                names = [f"v{i}_{j}" for j in range(values.len())]
                conds.append(f"{k} IN ({', '.join('$' + n for n in names)})")
                params.update(zip(names, values.to_list(), strict=True))
    return " AND ".join(conds), params


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row count of every table in the main schema (for summaries and idempotency checks)."""
    names = [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
    return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
