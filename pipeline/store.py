"""The DuckDB store: open with migrations, insert idempotently, publish read-only snapshots.

DuckDB lets one process hold a read-write lock and then refuses every other connection, so
the writer (flows, ``crampwatch ingest``) owns the store file and, after each run, publishes
an atomically replaced copy (``*.snapshot.duckdb``) that the dashboard and ad hoc readers open
read-only. Readers never block the writer and never see a half-written run.

One writer at a time: a second writer (another ``crampwatch ingest``/``detect``/``run``)
waits for the store, saying so on stderr once, for ``$CRAMPWATCH_LOCK_TIMEOUT`` seconds
(default :data:`DEFAULT_LOCK_TIMEOUT_S`), then raises :class:`StoreBusyError`, which the CLI
prints as one line. Each write is one DuckDB transaction (an imported file with its ledger
row, a detection run, an exposure run), so a writer killed at any point leaves the store as
it was after its last finished file or run; DuckDB replays its write-ahead log on the next
open and drops the unfinished transaction.
"""

from __future__ import annotations

import functools
import hashlib
import os
import random
import re
import shutil
import sys
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
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


#: the environment variable that sets how long a writer waits for the store, in seconds
ENV_LOCK_TIMEOUT = "CRAMPWATCH_LOCK_TIMEOUT"
#: seconds a writer waits for another process to release the store when the variable is unset
DEFAULT_LOCK_TIMEOUT_S = 60.0
#: seconds a read-only open of the store itself (no snapshot yet) retries by default
READER_LOCK_TIMEOUT_S = 30.0


class StoreBusyError(duckdb.IOException):
    """Another process kept the store locked for the whole wait. ``str()`` is one line for
    the user; a ``duckdb.IOException``, so callers that caught DuckDB's lock error still do."""


def writer_lock_timeout() -> float:
    """Seconds a writer waits for the store: ``$CRAMPWATCH_LOCK_TIMEOUT``, else 60."""
    raw = os.environ.get(ENV_LOCK_TIMEOUT, "").strip()
    if not raw:
        return DEFAULT_LOCK_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also NaN
        print(
            f"crampwatch: ignoring {ENV_LOCK_TIMEOUT}={raw!r} (not a number of seconds >= 0);"
            f" waiting up to {DEFAULT_LOCK_TIMEOUT_S:g} s",
            file=sys.stderr,
            flush=True,
        )
        return DEFAULT_LOCK_TIMEOUT_S
    return value


def lock_holder(exc: BaseException) -> int | None:
    """The pid DuckDB names in its lock error (``Conflicting lock is held in ... (PID n)``)."""
    m = re.search(r"\(PID (\d+)\)", str(exc))
    return int(m.group(1)) if m else None


def _busy_message(path: str, pid: int | None) -> str:
    who = f"pid {pid}" if pid is not None else "pid unknown"
    return f"{Path(path).name} is in use by another crampwatch process ({who})"


def _connect_retry(
    path: str, read_only: bool, timeout_s: float, notify: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open ``path``, retrying while another process holds its lock, for ``timeout_s``.

    With ``notify`` (writers), the first refusal prints one line on stderr saying who holds
    the store and how long this process waits, and the last one raises
    :class:`StoreBusyError`; read-only opens re-raise DuckDB's own lock error.
    """
    deadline, delay_s = time.monotonic() + timeout_s, 0.05
    told = False
    while True:
        try:
            con = duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as exc:
            if LOCK_ERROR not in str(exc):
                raise
            if time.monotonic() >= deadline:
                if not notify:
                    raise
                raise StoreBusyError(
                    f"{_busy_message(path, lock_holder(exc))}; gave up after waiting "
                    f"{timeout_s:g} s (set {ENV_LOCK_TIMEOUT} to wait longer)"
                ) from exc
            if notify and not told:
                print(
                    f"{_busy_message(path, lock_holder(exc))}; waiting up to {timeout_s:g} s"
                    f" ({ENV_LOCK_TIMEOUT}) ...",
                    file=sys.stderr,
                    flush=True,
                )
                told = True
            time.sleep(
                min(delay_s * (0.5 + random.random()), max(0.0, deadline - time.monotonic()))
            )
            delay_s = min(1.0, delay_s * 2)
        else:
            if told:
                print(
                    f"{Path(path).name}: the other writer finished; continuing",
                    file=sys.stderr,
                    flush=True,
                )
            return con


class StoreError(duckdb.IOException):
    """The store cannot be opened (not a crampwatch DuckDB file): one line. A
    ``duckdb.IOException``, so readers that caught DuckDB's own error still do."""


def connect(
    db_path: str | os.PathLike,
    *,
    read_only: bool = False,
    lock_timeout_s: float | None = None,
    create: bool = True,
) -> duckdb.DuckDBPyConnection:
    """Open the store. Read-write opens create the file and apply pending migrations.

    ``lock_timeout_s``: how long to wait while another process holds the store. Default for
    a writer :func:`writer_lock_timeout` (``$CRAMPWATCH_LOCK_TIMEOUT``, else 60 s; it says
    on stderr that it waits and raises :class:`StoreBusyError` at the end), for a read-only
    open :data:`READER_LOCK_TIMEOUT_S`. Readers should use :func:`connect_reader` (the
    snapshot, which no writer locks).
    """
    path = Path(db_path)
    if (read_only or not create) and not path.exists():
        raise FileNotFoundError(
            f"no crampwatch database at {path}; `crampwatch ingest` or `crampwatch run` creates one"
        )
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a crampwatch database file")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    if lock_timeout_s is None:
        lock_timeout_s = READER_LOCK_TIMEOUT_S if read_only else writer_lock_timeout()
    if not read_only and not path.exists():
        _create(path)
    try:
        con = _connect_retry(str(path), read_only, lock_timeout_s, notify=not read_only)
    except duckdb.IOException as exc:
        if LOCK_ERROR in str(exc) or isinstance(exc, StoreBusyError):
            raise
        first = str(exc).splitlines()[0]
        raise StoreError(f"{path} is not a crampwatch database ({first})") from exc
    con.execute("SET TimeZone = 'UTC'")
    if not read_only:
        migrate(con)
    return con


def connect_reader(
    db_path: str | os.PathLike, *, lock_timeout_s: float = 10.0
) -> duckdb.DuckDBPyConnection:
    """Open for reading: the published snapshot if there is one, else the store read-only."""
    snap = snapshot_path(db_path)
    target = snap if snap.exists() else Path(db_path)
    return connect(target, read_only=True, lock_timeout_s=lock_timeout_s)


#: storage format of the published snapshot: the oldest DuckDB format, so that every 1.x
#: client from 1.1 on (the DuckDB CLI from PyPI, Python, R, DBeaver's JDBC driver) opens it.
#: Checked with Python duckdb 1.1.3, 1.2.2, 1.3.2, 1.4.3, 1.5.6 and the DuckDB CLI 1.5.6;
#: 1.0.0 refuses what DuckDB 2 writes in this format ("Failed to deserialize")
SNAPSHOT_STORAGE_VERSION = "v1.0.0"
#: storage format of a store this version creates: the snapshot's, so that publishing is a
#: copy of the checkpointed file. Stores created before (DuckDB 2's storage version 69) keep
#: their format and publish by rewriting every table (``COPY FROM DATABASE``)
STORE_STORAGE_VERSION = SNAPSHOT_STORAGE_VERSION
#: storage versions in a file header that DuckDB 1.x clients read
READABLE_BY_1X = range(64, 69)


def _create(path: Path) -> None:
    """Create an empty store file in :data:`STORE_STORAGE_VERSION` (a file created meanwhile
    by another process, or one DuckDB refuses to create, is left to the caller's open)."""
    try:
        duckdb.connect(
            str(path), config={"storage_compatibility_version": STORE_STORAGE_VERSION}
        ).close()
    except duckdb.Error:
        pass


def publish_snapshot(con: duckdb.DuckDBPyConnection, db_path: str | os.PathLike) -> Path:
    """Publish the store as ``*.snapshot.duckdb``, swapped in atomically.

    Readers holding the old snapshot keep a consistent view until they reconnect; a new
    reader opens either the old or the new file, never a half-written one (the copy is
    written beside it and renamed over it). The snapshot is in
    :data:`SNAPSHOT_STORAGE_VERSION` so older DuckDB clients open it too.

    A store in that format is checkpointed and copied as a file (the cost of a file copy:
    ~0.1 s for a store of 3 M samples), then checked: the copy must hold every table with
    the store's row count, else it is rewritten as below. A store in a newer format (made by
    an older crampwatch) is rewritten table by table into a new file (``COPY FROM
    DATABASE``: compressing every row again, seconds for millions of rows).
    """
    live = snapshot_path(db_path)
    tmp = live.with_name(live.name + ".tmp")
    for p in (tmp, Path(str(tmp) + ".wal")):
        p.unlink(missing_ok=True)
    con.execute("CHECKPOINT")
    db_name, db_file = con.execute(
        "SELECT database_name, path FROM duckdb_databases() "
        "WHERE database_name = current_database()"
    ).fetchall()[0]
    if not (db_file and _copy_checkpointed(con, Path(db_file), tmp)):
        for p in (tmp, Path(str(tmp) + ".wal")):
            p.unlink(missing_ok=True)
        con.execute(
            f"ATTACH '{tmp}' AS crampwatch_snapshot (STORAGE_VERSION '{SNAPSHOT_STORAGE_VERSION}')"
        )
        try:
            con.execute(f'COPY FROM DATABASE "{db_name}" TO crampwatch_snapshot')
        finally:
            con.execute("DETACH crampwatch_snapshot")
    os.replace(tmp, live)
    return live


def _copy_checkpointed(con: duckdb.DuckDBPyConnection, db_file: Path, tmp: Path) -> bool:
    """Copy the checkpointed store file ``db_file`` to ``tmp`` when it is in a format DuckDB
    1.x reads and its write-ahead log is empty (every committed change is in the file; this
    process is the only writer, so nothing writes to it during the copy). True when the copy
    opens and every table in it has the store's row count; False: use ``COPY FROM
    DATABASE``."""
    wal = Path(str(db_file) + ".wal")
    if storage_version(db_file) not in READABLE_BY_1X or (wal.exists() and wal.stat().st_size):
        return False
    shutil.copyfile(db_file, tmp)
    alias = "crampwatch_snapshot_check"
    try:
        con.execute(f"ATTACH '{tmp}' AS {alias} (READ_ONLY)")
    except duckdb.Error:
        return False
    try:
        return _table_counts(con, alias) == _table_counts(con, None)
    finally:
        con.execute(f"DETACH {alias}")


def _table_counts(con: duckdb.DuckDBPyConnection, database: str | None) -> dict[tuple, int]:
    """Row count of every table of ``database`` (default: the current one), by schema."""
    db = database or con.execute("SELECT current_database()").fetchall()[0][0]
    names = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? ORDER BY 1, 2",
        [db],
    ).fetchall()
    return {
        (sch, n): con.execute(f'SELECT count(*) FROM "{db}"."{sch}"."{n}"').fetchall()[0][0]
        for sch, n in names
    }


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
        [db, db],
    ).fetchall()
    for name, columns in tables:
        if name in RUN_TABLES:
            continue
        n, digest = con.execute(
            f'SELECT count(*), bit_xor(hash(t)) FROM "{db}".main."{name}" t'
        ).fetchall()[0]
        parts.append(f"table {name} ({columns}) {n} {digest}")
    parts += [
        f"view {name} {sql}"
        for name, sql in con.execute(
            "SELECT view_name, sql FROM duckdb_views() WHERE database_name = ? "
            "AND schema_name = 'main' AND NOT internal ORDER BY 1",
            [db],
        ).fetchall()
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def storage_version(path: str | os.PathLike) -> int:
    """The storage version in a DuckDB file's header (DuckDB 1.x reads 64-68), -1 if none."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError:
        return -1
    i = head.find(b"DUCK")
    return int.from_bytes(head[i + 4 : i + 12], "little") if i >= 0 else -1


def snapshot_is_current(con: duckdb.DuckDBPyConnection, db_path: str | os.PathLike) -> bool:
    """True when the published snapshot shows what the store ``con`` holds (bar
    :data:`RUN_TABLES`), so publishing again would copy the same content."""
    snap = snapshot_path(db_path)
    if not snap.is_file() or storage_version(snap) not in READABLE_BY_1X:
        return False  # missing, or written before snapshots were kept readable by DuckDB 1.x
    alias = "crampwatch_published"
    try:
        con.execute(f"ATTACH '{snap}' AS {alias} (READ_ONLY)")
    except duckdb.Error:  # unreadable or locked: publish again
        return False
    try:
        return content_fingerprint(con, alias) == content_fingerprint(con)
    finally:
        con.execute(f"DETACH {alias}")


def insert_new(
    con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, key: Sequence[str]
) -> tuple[int, int]:
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
    # Arrow string views, as polars holds its strings: no conversion to large strings
    _crampwatch_new = unique.to_arrow(compat_level=pl.CompatLevel.newest())  # noqa: F841
    col_list = ", ".join(cols)
    sel = ", ".join(f"n.{c}" for c in cols)
    if _none_stored(con, table, unique, key):
        inserted = con.execute(
            f"INSERT INTO {table} ({col_list}) SELECT {sel} FROM _crampwatch_new n"
        ).fetchone()[0]
        return inserted, frame.height - inserted
    on = " AND ".join(f"t.{k} IS NOT DISTINCT FROM n.{k}" for k in key)
    where, params = _key_bounds(unique, key)
    stored = f"(SELECT {', '.join(key)} FROM {table} WHERE {where})" if where else table
    inserted = con.execute(
        f"INSERT INTO {table} ({col_list}) SELECT {sel} FROM _crampwatch_new n "
        f"ANTI JOIN {stored} t ON {on}",
        params,
    ).fetchone()[0]
    return inserted, frame.height - inserted


#: at most this many groups of few-valued key strings are probed by :func:`_none_stored`
_MAX_PROBES = 16


def _none_stored(
    con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, key: Sequence[str]
) -> bool:
    """True when no stored row can share a key with a row of ``frame`` (its rows are then
    inserted without the anti-join); False when one may, or when that cannot be told
    cheaply.

    The rows of ``frame`` are grouped by the string key columns with few values (no NULLs),
    and each group's span of the first timestamp key column (no NULLs) is probed with one
    ``LIMIT 1`` read (DuckDB skips row groups by their min/max): a stored row sharing a key
    has those values and lies in that span. An export sorted by type and date (as Apple
    writes it) offers batch after batch that no stored row can repeat; the anti-join then
    cost 1.7 CPU-s per 2.9 M samples for nothing.
    """
    ts, groups = None, []
    for k in key:
        col = frame.get_column(k)
        if col.null_count():
            continue
        dtype = col.dtype
        if ts is None and (
            dtype == pl.Date or (isinstance(dtype, pl.Datetime) and dtype.time_unit in ("us", "ms"))
        ):
            ts = k
        elif dtype == pl.String and col.n_unique() <= _MAX_IN_VALUES:
            groups.append(k)
    if ts is None:
        return False
    agg = (pl.col(ts).min().alias("_lo"), pl.col(ts).max().alias("_hi"))
    spans = frame.group_by(groups).agg(*agg) if groups else frame.select(*agg)
    if spans.height > _MAX_PROBES:
        return False
    probes, params = [], {}
    for i, row in enumerate(spans.iter_rows(named=True)):
        conds = [f"{ts} BETWEEN $lo{i} AND $hi{i}"]
        params[f"lo{i}"], params[f"hi{i}"] = row["_lo"], row["_hi"]
        for j, g in enumerate(groups):
            conds.append(f"{g} = $g{i}_{j}")
            params[f"g{i}_{j}"] = row[g]
        probes.append(f"(SELECT 1 FROM {table} WHERE {' AND '.join(conds)} LIMIT 1)")
    union = " UNION ALL ".join(probes)
    found = con.execute(f"SELECT count(*) FROM ({union})", params).fetchone()[0]
    return found == 0


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
        if not ranged and (
            dtype == pl.Date or (isinstance(dtype, pl.Datetime) and dtype.time_unit in ("us", "ms"))
        ):
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
    names = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY 1"
        ).fetchall()
    ]
    return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


# ------------------------------------------------------------------------------------------
# read-only SQL (crampwatch sql, the dashboard's SQL page)

#: statement types a read-only query may hold (DuckDB's own parser decides, not the text)
READ_STATEMENTS = ("SELECT", "EXPLAIN")


class ReadOnlyError(ValueError):
    """The query would change something or reach outside the store: one line."""


def read_only_query(
    con: duckdb.DuckDBPyConnection, query: str, *, allowed_dirs: Sequence[str | os.PathLike] = ()
) -> duckdb.DuckDBPyRelation:
    """Run ``query`` on ``con`` (opened read-only) only if every statement in it is a read.

    Two walls (issue 13): (1) DuckDB's parser (:func:`duckdb.extract_statements`) must
    classify every statement as SELECT (which includes WITH, DESCRIBE, SHOW, SUMMARIZE,
    FROM-first) or EXPLAIN: COPY, ATTACH, SET, PRAGMA, CALL, INSTALL/LOAD, EXPORT and every
    write are refused whatever their spelling; (2) the connection is locked down first:
    ``enable_external_access`` off (no files, no network, no ATTACH) apart from
    ``allowed_dirs`` (the store's Parquet folder the ``accelerometry`` view reads), and
    ``lock_configuration`` on so the query cannot undo it. The connection stays locked: use
    one connection per query.
    """
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise ReadOnlyError(str(exc).splitlines()[0]) from exc
    if not statements:
        raise ReadOnlyError("empty query")
    for st in statements:
        kind = st.type.name
        if kind not in READ_STATEMENTS:
            raise ReadOnlyError(
                f"only read statements are allowed (SELECT, WITH, EXPLAIN, "
                f"DESCRIBE, SHOW); this query holds a statement of type {kind}"
            )
    dirs = [str(Path(d).resolve()) for d in allowed_dirs if Path(d).exists()]
    if dirs:
        con.execute(
            "SET allowed_directories = "
            + "["
            + ", ".join("'" + d.replace("'", "''") + "'" for d in dirs)
            + "]"
        )
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    *head, last = statements
    for st in head:
        con.execute(st)
    return con.sql(last.query)


# ------------------------------------------------------------------------------------------
# export

#: formats of ``crampwatch export`` and their DuckDB COPY options
EXPORT_FORMATS = {
    "parquet": "(FORMAT parquet, COMPRESSION zstd)",
    "csv": "(FORMAT csv, HEADER true)",
}


def export_tables(
    con: duckdb.DuckDBPyConnection,
    out_dir: str | os.PathLike,
    fmt: str = "parquet",
    tables: Sequence[str] | None = None,
) -> list[tuple[str, int, Path]]:
    """Write every documented table (``detectors.tables.TABLES``; views too) to
    ``out_dir/<table>.<fmt>``. Returns ``(table, rows, path)`` per table written."""
    from detectors.tables import TABLES, VIEWS

    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {sorted(EXPORT_FORMATS)}, not {fmt!r}")
    present = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    }
    names = [t for t in (tables or [*TABLES, *VIEWS]) if t in present]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for t in names:
        if t not in TABLES and t not in VIEWS:
            raise ValueError(f"not a documented table: {t!r}")
        path = out / f"{t}.{fmt}"
        target = str(path).replace("'", "''")
        con.execute(f"COPY (SELECT * FROM \"{t}\") TO '{target}' {EXPORT_FORMATS[fmt]}")
        n = con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0]
        written.append((t, n, path))
    return written


# ------------------------------------------------------------------------------------------
# transactions and settings the writers use (one place for the statements)


def begin(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("BEGIN TRANSACTION")


def commit(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("COMMIT")


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("ROLLBACK")


def checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    """Write the WAL into the file now; with other transactions open DuckDB does it later."""
    try:
        con.execute("CHECKPOINT")
    except duckdb.Error:
        pass


@functools.cache
def _default_memory_limit() -> str:
    return duckdb.connect().execute("SELECT current_setting('memory_limit')").fetchall()[0][0]


def limit_memory(con: duckdb.DuckDBPyConnection, limit: str | None):
    """Apply DuckDB memory ``limit`` (e.g. ``"128MB"``) if the store runs with DuckDB's
    default limit; returns the undo (a limit chosen by the caller is left alone)."""
    current = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    if (
        not limit
        or current != _default_memory_limit()
        or not re.fullmatch(r"\d+\s*[KMGT]?i?B", limit)
    ):
        return lambda: None
    con.execute(f"SET memory_limit = '{limit}'")
    return lambda: con.execute("RESET memory_limit")


@functools.cache
def _default_threads() -> int:
    return duckdb.connect().execute("SELECT current_setting('threads')").fetchall()[0][0]


def limit_threads(con: duckdb.DuckDBPyConnection, threads: int | None):
    """Run DuckDB with at most ``threads`` threads if the store runs with DuckDB's default
    number; returns the undo (a number chosen by the caller is left alone)."""
    current = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    if not threads or current != _default_threads() or threads >= current:
        return lambda: None
    con.execute(f"SET threads = {int(threads)}")
    return lambda: con.execute("RESET threads")


def skip_compression(con: duckdb.DuckDBPyConnection, methods: str | None):
    """Stop DuckDB from trying the compression ``methods`` (e.g. ``"fsst"``) unless the
    caller disabled some already; returns the undo. Only the physical encoding changes."""
    current = con.execute("SELECT current_setting('disabled_compression_methods')").fetchall()
    if not methods or current[0][0] or not re.fullmatch(r"[a-z_,]+", methods):
        return lambda: None
    con.execute(f"SET disabled_compression_methods = '{methods}'")
    return lambda: con.execute("RESET disabled_compression_methods")
