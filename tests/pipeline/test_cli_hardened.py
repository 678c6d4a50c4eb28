"""The CLI's read-only SQL, exports, the DuckDB-1.x-readable snapshot and one-line errors
(issue 13), against a store built from the sample data of one participant."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner

from detectors import tables
from pipeline import runner, store
from pipeline.cli import main
from tests.conftest import REPO, SAMPLE_DATA


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    src = SAMPLE_DATA / "inbox"
    inbox = tmp_path_factory.mktemp("cli") / "inbox"
    shutil.copytree(src / "p01", inbox / "p01")
    shutil.copy2(src / "journal.csv", inbox / "journal.csv")
    path = inbox.parent / "cw.duckdb"
    runner.nightly(str(inbox), str(path), progress=False)
    return path


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_sql_accepts_reads_in_every_format(db, tmp_path) -> None:
    res = _run(
        "sql", "select metric, count(*) as n from samples group by 1 order by 1", "--db", str(db)
    )
    assert res.exit_code == 0, res.output
    header = res.output.splitlines()[1]
    assert "metric" in header and "String" not in header and "i64" not in header  # no dtypes
    csv = _run(
        "sql",
        "select participant_id, kind from episodes order by start_utc",
        "--db",
        str(db),
        "--format",
        "csv",
    )
    assert csv.exit_code == 0 and csv.output.splitlines()[0] == "participant_id,kind"
    nested = _run(
        "sql",
        "select participant_id, conditions from participants order by 1",
        "--db",
        str(db),
        "--format",
        "csv",
    )
    assert nested.exit_code == 0, nested.output
    assert nested.output.splitlines()[0] == "participant_id,conditions"
    js = _run("sql", "select participant_id from participants", "--db", str(db), "--format", "json")
    assert {"participant_id": "p01"} in [json.loads(x) for x in js.output.splitlines()]
    out = tmp_path / "s.parquet"
    pq = _run(
        "sql", "select * from samples", "--db", str(db), "--format", "parquet", "--output", str(out)
    )
    assert pq.exit_code == 0
    with store.connect(db, read_only=True) as con:
        n = con.execute("select count(*) from samples").fetchall()[0][0]
    assert pl.read_parquet(out).height == n
    # explain, describe, show and with are reads too
    for q in (
        "explain select 1",
        "describe samples",
        "show tables",
        "with a as (select 1 as x) select * from a",
    ):
        assert _run("sql", q, "--db", str(db)).exit_code == 0, q


def test_sql_says_when_it_cuts_and_never_cuts_cells(db) -> None:
    res = _run("sql", "select evidence from episodes", "--db", str(db), "--max-rows", "2")
    assert res.exit_code == 0
    assert "the first 2 shown" in res.output.splitlines()[-1]
    assert "…" not in res.output and '"suppressed_by"' in res.output


@pytest.mark.parametrize(
    "query",
    [
        "copy (select 1) to 'x.csv'",
        "attach 'other.duckdb' as n (READ_ONLY false); delete from n.samples",
        "select 1; drop table samples",
        "set enable_external_access = true",
        "pragma enable_profiling",
        "install httpfs",
        "export database 'out'",
        "delete from samples",
        "create table t as select 1",
    ],
)
def test_sql_refuses_everything_but_reads(db, tmp_path, query, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as con:
        con.execute("create table samples as select 1 as x")
    res = _run("sql", query, "--db", str(db))
    assert res.exit_code == 1
    assert res.output.startswith("Error: ") and len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "out").exists()
    with duckdb.connect(str(other), read_only=True) as con:
        assert con.execute("select count(*) from samples").fetchall() == [(1,)]
    with store.connect(db, read_only=True) as con:
        assert con.execute("select count(*) from samples").fetchall()[0][0] > 0


def test_sql_cannot_read_files_or_the_network(db) -> None:
    for q in (
        "select * from read_csv('/etc/hostname')",
        "select * from read_csv('https://example.org/x.csv')",
    ):
        res = _run("sql", q, "--db", str(db))
        assert res.exit_code == 1 and "disabled by configuration" in res.output, q


def test_export_writes_every_documented_table(db, tmp_path) -> None:
    res = _run("export", str(tmp_path / "out"), "--db", str(db))
    assert res.exit_code == 0, res.output
    written = {p.stem for p in (tmp_path / "out").glob("*.parquet")}
    assert written == set(tables.TABLES) | set(tables.VIEWS)
    with store.connect(db, read_only=True) as con:
        n = con.execute("select count(*) from episodes").fetchall()[0][0]
    ep = pl.read_parquet(tmp_path / "out" / "episodes.parquet")
    assert ep.height == n > 0 and list(ep.columns) == list(tables.TABLES["episodes"])
    csv = _run("export", str(tmp_path / "csv"), "--format", "csv", "--db", str(db))
    assert csv.exit_code == 0 and (tmp_path / "csv" / "samples.csv").exists()


def test_snapshot_is_in_a_storage_format_duckdb_1x_reads(db, tmp_path) -> None:
    """DuckDB 1.x clients (the DuckDB CLI 1.5.6 from PyPI, R, DBeaver) read storage versions
    64-68; DuckDB 2 writes 69 by default. The snapshot's header must say 64-68 (checked
    by hand with the DuckDB CLI 1.5.6 and Python duckdb 1.1.3-1.5.6: README)."""
    snap = db.with_name("cw.snapshot.duckdb")
    head = snap.read_bytes()[:64]
    i = head.find(b"DUCK")
    version = struct.unpack("<Q", head[i + 4 : i + 12])[0]
    assert 64 <= version <= 68 and store.storage_version(snap) == version
    # a store this version creates is in the snapshot's format, so publishing copies the file
    assert store.storage_version(db) == version
    # a snapshot in DuckDB 2's format (published by an older crampwatch) counts as stale,
    # so the next run republishes even with nothing new
    newer = tmp_path / "newer.duckdb"
    with duckdb.connect(str(newer)) as con:
        con.execute(f"ATTACH '{db}' AS src (READ_ONLY)")
        con.execute("COPY FROM DATABASE src TO newer")
    assert store.storage_version(newer) > 68
    with store.connect(db) as con:
        assert store.snapshot_is_current(con, db)
        shutil.copy(newer, snap)
        assert not store.snapshot_is_current(con, db)
        store.publish_snapshot(con, db)
        assert store.snapshot_is_current(con, db)


def test_a_store_in_duckdb_2s_format_still_publishes_a_1x_snapshot(db, tmp_path) -> None:
    """A store created by an older crampwatch (storage version 69) keeps its format; its
    snapshot is rewritten table by table in the 1.x format, with the same content."""
    old = tmp_path / "old.duckdb"
    with duckdb.connect(str(old)) as con:
        con.execute(f"ATTACH '{db}' AS src (READ_ONLY)")
        con.execute("COPY FROM DATABASE src TO old")
    with store.connect(old) as con:
        con.execute(
            "DELETE FROM episodes WHERE episode_id IN (SELECT min(episode_id) FROM episodes)"
        )
        snap = store.publish_snapshot(con, old)
        assert store.storage_version(old) > 68
        assert 64 <= store.storage_version(snap) <= 68
        assert store.snapshot_is_current(con, old)
        assert store.content_fingerprint(con) != _fingerprint_of(db)


def _fingerprint_of(path: Path) -> str:
    with store.connect(path, read_only=True) as con:
        return store.content_fingerprint(con)


def test_publishing_copies_the_checkpointed_store_with_every_change(tmp_path) -> None:
    """The snapshot of a store in the 1.x format is a copy of its file: each publish shows
    every committed change (inserts, deletes, a new table), none of an open transaction."""
    db = tmp_path / "cw.duckdb"
    with store.connect(db) as con:
        con.execute("INSERT INTO participants (participant_id) VALUES ('a'), ('b')")
        store.publish_snapshot(con, db)
        con.execute("DELETE FROM participants WHERE participant_id = 'a'")
        con.execute("CREATE TABLE extra AS SELECT range AS i FROM range(5)")
        snap = store.publish_snapshot(con, db)
        assert store.storage_version(snap) == store.storage_version(db)
        with duckdb.connect(str(snap), read_only=True) as reader:
            assert reader.execute("SELECT participant_id FROM participants").fetchall() == [("b",)]
            assert reader.execute("SELECT count(*) FROM extra").fetchall() == [(5,)]
        other = con.cursor()
        other.execute("BEGIN TRANSACTION")
        other.execute("INSERT INTO participants (participant_id) VALUES ('c')")
        store.publish_snapshot(con, db)
        other.execute("ROLLBACK")
        with duckdb.connect(str(snap), read_only=True) as reader:
            assert reader.execute("SELECT participant_id FROM participants").fetchall() == [("b",)]
        assert store.snapshot_is_current(con, db)
    assert not snap.with_name(snap.name + ".tmp").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["sql", "select 1"],
        ["detect"],
        ["export", "x"],
        ["evaluate", "--truth", "README.md"],
        ["review"],
        ["triggers"],
    ],
)
def test_a_wrong_db_is_one_line_and_creates_nothing(command, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    for bad in ("README.md", str(tmp_path / "typo.duckdb")):
        res = _run(*command, "--db", bad)
        assert res.exit_code != 0, (command, bad)
        lines = res.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), (command, res.output)
        assert "Traceback" not in res.output
    assert not (tmp_path / "typo.duckdb").exists()
