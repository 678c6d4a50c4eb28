"""kill -9 at any point of an import, a detection run or a migration (issue 12, "one writer,
safely"; issue 13, faults).

A ``crampwatch ingest`` / ``crampwatch detect --full`` runs in a subprocess
(``tests/pipeline/kill_child.py``) and is killed with SIGKILL part-way: at pinned points
(the child stops right after a named step and the test kills it there: a file's ledger row
inserted, the k-th batch of rows written, a file's ledger row final but not committed, a
file committed, a participant's detections replaced) and after fixed delays (wherever the
run is then, commits and checkpoints included). Each time the store must open, hold no
unfinished ledger row and no part of a file (every file in it has exactly the rows it has in
a clean import), and a rerun must end with the same table contents as a clean run into a
fresh store: row counts and a digest per table (wall-clock columns left out, each row's
import id replaced by its file's sha256, doubles to 9 significant digits).

A migration killed part-way (issue 13): a store four schema versions old, holding the rows of
an import, is opened by ``crampwatch ingest`` (which applies the pending migrations, each in
one transaction with its version row) and killed inside a migration, after its version row,
after its commit. The store must open at a whole version (the versions recorded are exactly
those whose migrations are complete, its tables and columns those of a store built to that
version), hold its rows untouched, and the next run must migrate the rest and import.

This is the one kill test; the reliability issue reuses it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipeline import runner, store
from pipeline.importers import apple_health
from tests.conftest import REPO, SAMPLE_DATA

CHILD = REPO / "tests" / "pipeline" / "kill_child.py"
#: ledger statuses an import can end in (``running`` is visible only inside its transaction)
FINAL = ("ok", "partial", "failed", "skipped", "already_imported")
#: columns holding the wall clock of a write, which differ between any two runs
WALL_CLOCK = {
    "started_utc",
    "finished_utc",
    "created_utc",
    "computed_utc",
    "fitted_utc",
    "updated_utc",
    "merged_utc",
    "applied_utc",
}

pytestmark = pytest.mark.slow  # ~1-2.5 min on a loaded 2-core machine; CI runs slow tests


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PREFECT_API_URL", None)
    env.pop("CRAMPWATCH_DB", None)
    env["PYTHONPATH"] = str(REPO)
    return env


def _child(
    args: list[str],
    pause_at: str | None = None,
    kill_after_s: float | None = None,
    small_batches: bool = True,
) -> str:
    """Run ``crampwatch ARGS`` in kill_child.py. With ``pause_at`` kill it (SIGKILL) where it
    pauses, with ``kill_after_s`` that long after it wrote its first rows; else let it end.
    Returns how it ended: ``killed at ...``, ``killed after ...``, or ``CALLS ...``."""
    cmd = [sys.executable, str(CHILD)]
    cmd += ["--small-batches"] if small_batches else []
    cmd += ["--pause-at", pause_at] if pause_at else []
    proc = subprocess.Popen(
        [*cmd, "--", *args],
        cwd=REPO,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    ended = "ran to the end"
    try:
        for line in proc.stdout:
            if pause_at and line.startswith("PAUSED"):
                proc.send_signal(signal.SIGKILL)
                ended = "killed at " + line.split(maxsplit=1)[1].strip()
                break
            if kill_after_s is not None and line.startswith("STARTED"):
                time.sleep(kill_after_s)
                proc.send_signal(signal.SIGKILL)
                ended = f"killed {kill_after_s} s after its first rows"
                break
            if line.startswith("CALLS"):
                ended = line.strip()
        proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if pause_at:
        assert ended.startswith("killed"), (pause_at, ended, proc.stderr.read()[-2000:])
    elif kill_after_s is None:
        assert proc.returncode == 0, proc.stderr.read()[-2000:]
    proc.stdout.close()
    proc.stderr.close()
    return ended


def _digests(
    con, only: dict[str, list[tuple[str, str]]] | None = None
) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent digest of every table but the run history (with
    ``only``, a :func:`_schema`: of its tables and columns)."""
    cols: dict[str, list[tuple[str, str]]] = {}
    for t, c, typ in con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE schema_name = 'main' AND table_name IN (SELECT table_name FROM "
        "duckdb_tables() WHERE schema_name = 'main') ORDER BY table_name, column_index"
    ).fetchall():
        if only is None or (c, typ) in only.get(f"table {t}", []):
            cols.setdefault(t, []).append((c, typ))
    out = {}
    for t, names in cols.items():
        if t == "imports" or t.endswith("_runs"):
            continue
        exprs = []
        for c, typ in names:
            if c in WALL_CLOCK:
                continue
            if c == "import_id" or c.endswith("_import_id"):
                exprs.append(f"(SELECT sha256 FROM imports i WHERE i.import_id = t.{c}) AS {c}")
            elif typ == "DOUBLE":  # polars' parallel sums differ in the last digits
                exprs.append(f'printf(\'%.9g\', "{c}") AS "{c}"')
            else:
                exprs.append(f'"{c}"')
        out[t] = con.execute(
            f'SELECT count(*), bit_xor(hash(r)) FROM (SELECT {", ".join(exprs)} FROM "{t}" t) r'
        ).fetchall()[0]
    return out


def _rows_per_file(con) -> dict[str, dict[str, int]]:
    """sha256 of every ok/partial import -> rows per table that carry its import id."""
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_columns() WHERE schema_name = 'main' AND column_name = "
            "'import_id' AND table_name <> 'imports' AND table_name IN (SELECT table_name FROM "
            "duckdb_tables())"
        ).fetchall()
    ]
    out: dict[str, dict[str, int]] = {}
    for sha, table, n in con.execute(
        " UNION ALL ".join(
            f"SELECT i.sha256, '{t}', count(*) FROM \"{t}\" x JOIN imports i USING (import_id) "
            "GROUP BY 1"
            for t in tables
        )
    ).fetchall():
        out.setdefault(sha, {})[table] = n
    return out


def _check_after_kill(db: Path, clean_files: dict[str, dict[str, int]], what: str) -> None:
    """The killed store opens; no unfinished ledger row; no row of a file that is not
    ``ok``/``partial``; every file it holds has all its rows (those of the clean import)."""
    with store.connect(db, lock_timeout_s=0) as con:
        bad = con.execute(
            "SELECT import_id, status, path FROM imports WHERE status NOT IN "
            f"({', '.join(repr(s) for s in FINAL)})"
        ).fetchall()
        assert not bad, (what, bad)
        done = {
            r[0]
            for r in con.execute(
                "SELECT sha256 FROM imports WHERE status IN ('ok', 'partial')"
            ).fetchall()
        }
        held = _rows_per_file(con)
        orphans = con.execute(
            "SELECT count(*) FROM samples WHERE import_id NOT IN (SELECT import_id FROM imports "
            "WHERE status IN ('ok', 'partial'))"
        ).fetchall()[0][0]
    assert orphans == 0, (what, orphans)
    for sha in held:
        assert sha in done, (what, sha)
        assert held[sha] == clean_files[sha], (what, sha, held[sha], clean_files[sha])
    for sha in done:
        assert held.get(sha, {}) == clean_files.get(sha, {}), (what, sha)


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    """p01 of the sample inbox (its Apple export, weather and bedroom sensor) and the
    participants file: four files; the export is ~40 batches with small batches. (The
    journal joins for the detection test: importing it loads the detectors, 3 s a process.)"""
    src = SAMPLE_DATA / "inbox"
    dst = tmp_path_factory.mktemp("kill") / "inbox"
    shutil.copytree(src / "p01", dst / "p01")
    shutil.copy2(src / "participants.csv", dst / "participants.csv")
    return dst


def _small_batches(monkeypatch) -> None:
    """The child's --small-batches in this process (the clean run and the reruns)."""
    from tests.pipeline import kill_child

    kw = dict(apple_health.read.__kwdefaults__)
    kw.update(batch_rows=kill_child.SMALL_BATCH_ROWS, chunk_bytes=kill_child.SMALL_CHUNK_BYTES)
    monkeypatch.setattr(apple_health.read, "__kwdefaults__", kw)


@pytest.fixture(scope="module")
def clean_import(inbox, tmp_path_factory) -> tuple[Path, dict, dict, list[str]]:
    """A clean import of the inbox into a fresh store: the store, its digests, its rows per
    file and, per batch written, the file it belonged to."""
    db = tmp_path_factory.mktemp("clean") / "cw.duckdb"
    batches: list[str] = []
    insert_new = store.insert_new

    def counting(con, table, frame, key):
        batches.append(
            con.execute("SELECT max(path) FROM imports WHERE status = 'running'").fetchall()[0][0]
        )
        return insert_new(con, table, frame, key)

    with pytest.MonkeyPatch.context() as mp:
        _small_batches(mp)
        mp.setattr(store, "insert_new", counting)
        runner.import_files([str(inbox)], str(db), progress=False)
    with store.connect(db, read_only=True) as con:
        return db, _digests(con), _rows_per_file(con), batches


def test_import_killed_anywhere_leaves_no_half_file(inbox, clean_import, tmp_path, monkeypatch):
    _small_batches(monkeypatch)
    _, clean_digest, clean_files, batches = clean_import
    export = [i for i, f in enumerate(batches, 1) if f.endswith("export.zip")]
    assert len(export) >= 20, batches  # enough batches that a kill lands inside the file
    n_files = len(list(inbox.rglob("*.*")))  # every file imports (none is skipped)
    kills = [
        ("pause", "ledger_start:1"),  # a ledger row, no rows
        ("pause", f"insert_new:{export[len(export) // 2]}"),  # inside the Apple export
        ("pause", "ledger_finish:2"),  # final, not committed
        ("pause", "file_done:3"),  # 3 files committed
        ("delay", 0.5),
    ]  # wherever the run is then
    for i, (how, where) in enumerate(kills):
        db = tmp_path / f"k{i}" / "cw.duckdb"
        args = ["ingest", str(inbox), "--db", str(db)]
        ended = _child(args, pause_at=where) if how == "pause" else _child(args, kill_after_s=where)
        _check_after_kill(db, clean_files, ended)
        runner.import_files([str(inbox)], str(db), progress=False)  # the next run
        with store.connect(db, read_only=True) as con:
            assert _digests(con) == clean_digest, ended
            # each file imported exactly once
            assert con.execute(
                "SELECT count(*), count(DISTINCT sha256) FROM imports "
                "WHERE status IN ('ok', 'partial')"
            ).fetchall()[0] == (n_files, n_files), ended


def test_detection_killed_anywhere_leaves_the_last_run(clean_import, tmp_path):
    base_db = tmp_path / "base" / "cw.duckdb"
    base_db.parent.mkdir()
    shutil.copy(clean_import[0], base_db)  # closed and checkpointed: one file
    # the journal: calibration (cramp_param_sets) is part of the run
    runner.import_files([str(SAMPLE_DATA / "inbox" / "journal.csv")], str(base_db), progress=False)
    ref_db = tmp_path / "ref" / "cw.duckdb"
    ref_db.parent.mkdir()
    shutil.copy(base_db, ref_db)
    with store.connect(ref_db, read_only=True) as con:
        before = _digests(con)
    runner.detect_and_exposures(str(ref_db), full=True)  # the clean run
    with store.connect(ref_db, read_only=True) as con:
        clean = _digests(con)
    assert clean["episodes"][0] > 0 and clean["sleep_periods"][0] > 0
    kills = [
        ("pause", "detect_replace:1"),  # sleep periods replaced, not committed
        ("pause", "exposures_replace:1"),  # detection committed, exposures half-way
        ("delay", 0.3),
    ]
    for i, (how, where) in enumerate(kills):
        db = tmp_path / f"d{i}" / "cw.duckdb"
        db.parent.mkdir()
        shutil.copy(base_db, db)
        args = ["detect", "--full", "--db", str(db)]
        ended = (
            _child(args, pause_at=where, small_batches=False)
            if how == "pause"
            else _child(args, kill_after_s=where, small_batches=False)
        )
        with store.connect(db, lock_timeout_s=0) as con:
            after = _digests(con)
            runs = con.execute(
                "SELECT (SELECT count(*) FROM detection_runs), (SELECT count(*) FROM exposure_runs)"
            ).fetchall()[0]
        # each step is all or nothing: a table holds the state before the run or after it
        for t in ("sleep_periods", "episodes", "cramp_param_sets", "daily_exposures"):
            assert after[t] in (before[t], clean[t]), (ended, t, after[t], before[t], clean[t])
        if runs[0] == 0:
            assert after["episodes"] == before["episodes"], ended
        if runs[1] == 0:
            assert after["daily_exposures"] == before["daily_exposures"], ended
        runner.detect_and_exposures(str(db), full=True)  # the next run
        with store.connect(db, read_only=True) as con:
            assert _digests(con) == clean, ended


# ------------------------------------------------------------------------------------------
# kill -9 during a migration (issue 13)


def _migrate_to(con, version: int) -> None:
    """Apply the first ``version`` migrations, as :func:`store.migrate` applies them."""
    every = store._migrations
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(store, "_migrations", lambda: [m for m in every() if m[0] <= version])
        store.migrate(con)


def _schema(con) -> dict[str, list[tuple[str, str]]]:
    """Every table's and view's columns with their types, in order (``table t``, ``view v``),
    and every table's primary and unique keys (``key t``)."""
    out: dict[str, list[tuple[str, str]]] = {}
    for kind, name, col, typ in con.execute(
        "SELECT CASE WHEN t.table_name IS NULL THEN 'view' ELSE 'table' END, c.table_name, "
        "c.column_name, c.data_type FROM duckdb_columns() c LEFT JOIN duckdb_tables() t "
        "USING (database_name, schema_name, table_name) WHERE c.schema_name = 'main' "
        "AND c.database_name = current_database() AND NOT c.internal ORDER BY 1, 2, "
        "c.column_index"
    ).fetchall():
        out.setdefault(f"{kind} {name}", []).append((col, typ))
    for name, typ, cols in con.execute(  # keys too: a migration may change only a key
        "SELECT table_name, constraint_type, constraint_column_names::VARCHAR "
        "FROM duckdb_constraints() WHERE schema_name = 'main' "
        "AND database_name = current_database() AND constraint_type IN ('PRIMARY KEY', 'UNIQUE') "
        "ORDER BY 1, 2, 3"
    ).fetchall():
        out.setdefault(f"key {name}", []).append((typ, cols))
    return out


def _digests_of(digests: dict, keys: set[str]) -> dict:
    return {t: d for t, d in digests.items() if f"table {t}" in keys}


def _versions(con) -> list[int]:
    return [
        r[0] for r in con.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()
    ]


def _old_store(clean_db: Path, dst: Path, version: int, leave_out: str) -> None:
    """A store at schema ``version`` holding the rows of the clean import but those of the
    file named ``leave_out``, as an older crampwatch would have written them: each table's
    columns of that version, the import id sequence where the clean store's is."""
    with duckdb.connect(str(dst)) as con:
        _migrate_to(con, version)
        con.execute(f"ATTACH '{clean_db}' AS clean (READ_ONLY)")
        skip = con.execute(
            "SELECT import_id FROM clean.imports WHERE path LIKE ?", [f"%{leave_out}"]
        ).fetchall()[0][0]
        clean_cols = {
            (t, c)
            for t, c in con.execute(
                "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = 'clean'"
            ).fetchall()
        }
        for key, columns in _schema(con).items():
            kind, t = key.split(" ", 1)
            if kind != "table" or t == "schema_migrations":
                continue
            names = [c for c, _ in columns if (t, c) in clean_cols]
            where = " WHERE import_id IS DISTINCT FROM ?" if "import_id" in names else ""
            sel = ", ".join(f'"{c}"' for c in names)
            con.execute(
                f'INSERT INTO "{t}" ({sel}) SELECT {sel} FROM clean."{t}"{where}',
                [skip] if where else [],
            )
        last = con.execute("SELECT max(import_id) FROM clean.imports").fetchall()[0][0]
        con.execute("SELECT count(nextval('import_id_seq')) FROM range(?)", [last])
        con.execute("DETACH clean")
        con.execute("CHECKPOINT")


def test_migration_killed_anywhere_leaves_a_whole_version(inbox, clean_import, tmp_path):
    newest = store.SCHEMA_VERSION
    old = newest - 4  # four migrations pending: ALTERs of tables with rows, new tables
    leave_out = "bedroom-sensor.csv"  # imported by the run that migrates
    old_db = tmp_path / "old" / "cw.duckdb"
    old_db.parent.mkdir()
    _old_store(clean_import[0], old_db, old, leave_out)
    schemas = {}
    for v in range(old, newest + 1):  # the schema a store built to each version has
        with duckdb.connect(str(tmp_path / f"schema{v}.duckdb")) as con:
            _migrate_to(con, v)
            schemas[v] = _schema(con)
    assert schemas[newest] != schemas[newest - 1] != schemas[old]
    with duckdb.connect(str(old_db), read_only=True) as con:
        assert _versions(con) == list(range(1, old + 1)) and _schema(con) == schemas[old]
        before = _digests(con)
        assert before["samples"][0] > 0 and before["environment"][0] > 0
    data = {f"table {t}" for t in before if t != "schema_migrations"}  # not the versions
    old_data = {k: v for k, v in schemas[old].items() if k in data}
    # the reference: the same store migrated and the inbox imported, nothing killed
    ref_db = tmp_path / "ref" / "cw.duckdb"
    ref_db.parent.mkdir()
    shutil.copy(old_db, ref_db)
    runner.import_files([str(inbox)], str(ref_db), progress=False)
    with store.connect(ref_db, read_only=True) as con:
        ref = _digests(con)
    assert ref["environment"][0] > before["environment"][0]  # the left-out file came in

    pending = newest - old
    kills = [  # where, and the version the store must then be at
        ("migration_sql:1", old),  # the first pending migration ran, not recorded
        ("migration_recorded:2", old + 1),  # the second recorded, not committed
        ("migration_commit:2", old + 2),  # the second committed, the third not begun
        (f"migration_sql:{pending}", newest - 1),  # inside the last one
    ]
    for i, (where, version) in enumerate(kills):
        db = tmp_path / f"m{i}" / "cw.duckdb"
        db.parent.mkdir()
        shutil.copy(old_db, db)
        ended = _child(["ingest", str(inbox), "--db", str(db)], pause_at=where, small_batches=False)
        with duckdb.connect(str(db)) as con:  # opens (its log replayed), migrates nothing
            assert _versions(con) == list(range(1, version + 1)), ended
            assert _schema(con) == schemas[version], ended  # no half migration
            # its rows untouched (the columns they had)
            assert _digests(con, only=old_data) == _digests_of(before, data), ended
            assert con.execute(
                "SELECT count(*) FROM imports WHERE status = 'running'"
            ).fetchall() == [(0,)]
        runner.import_files([str(inbox)], str(db), progress=False)  # the next run
        with store.connect(db, read_only=True) as con:
            assert _versions(con) == list(range(1, newest + 1)), ended
            assert _schema(con) == schemas[newest], ended
            assert _digests(con) == ref, ended
