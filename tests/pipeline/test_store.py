from datetime import UTC, datetime

import duckdb
import polars as pl
import pytest

from pipeline import store
from pipeline.config import resolve_db, snapshot_path

KEY = ["participant_id", "metric", "start_utc", "end_utc", "source", "device"]


def _hr(values, minutes):
    return pl.DataFrame(
        {
            "participant_id": "p",
            "metric": "heart_rate_bpm",
            "start_utc": [datetime(2025, 1, 1, 0, m, tzinfo=UTC) for m in minutes],
            "end_utc": [datetime(2025, 1, 1, 0, m, tzinfo=UTC) for m in minutes],
            "utc_offset_s": 3600,
            "value": values,
            "unit": "count/min",
            "source": "w",
            "device": "",
        }
    )


def test_migrations_apply_once_and_record_version(tmp_path):
    db = tmp_path / "s.duckdb"
    with store.connect(db) as con:
        assert (
            con.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
            == store.SCHEMA_VERSION
        )
    with store.connect(db) as con:  # reopening applies nothing twice
        assert store.migrate(con) == []
        assert (
            con.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
            == store.SCHEMA_VERSION
        )
        assert con.execute("SELECT current_setting('TimeZone')").fetchone()[0] == "UTC"


def test_insert_new_is_idempotent_and_counts_duplicates(tmp_path):
    with store.connect(tmp_path / "s.duckdb") as con:
        first = _hr([60.0, 61.0, 62.0], [0, 5, 10])
        assert store.insert_new(con, "samples", first, KEY) == (3, 0)
        assert store.insert_new(con, "samples", first, KEY) == (0, 3)
        overlap = _hr([62.0, 63.0, 63.0], [10, 15, 15])  # one stored, one new, one in-batch dup
        assert store.insert_new(con, "samples", overlap, KEY) == (1, 2)
        assert con.execute("SELECT count(*), sum(value) FROM samples").fetchone() == (4, 246.0)


def test_snapshot_is_a_consistent_read_only_copy(tmp_path):
    db = tmp_path / "s.duckdb"
    con = store.connect(db)
    store.insert_new(con, "samples", _hr([60.0], [0]), KEY)
    snap = store.publish_snapshot(con, db)
    assert snap == snapshot_path(db) == tmp_path / "s.snapshot.duckdb"
    # the writer still holds the store; a reader gets the snapshot
    with store.connect_reader(db) as reader:
        assert reader.execute("SELECT count(*) FROM samples").fetchone()[0] == 1
        with pytest.raises(duckdb.Error):
            reader.execute("DELETE FROM samples")
    store.insert_new(con, "samples", _hr([61.0], [5]), KEY)
    store.publish_snapshot(con, db)
    with store.connect_reader(db) as reader:
        assert reader.execute("SELECT count(*) FROM samples").fetchone()[0] == 2
    con.close()


def test_db_path_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("CRAMPWATCH_DB", raising=False)
    assert str(resolve_db()) == "crampwatch.duckdb"
    monkeypatch.setenv("CRAMPWATCH_DB", str(tmp_path / "env.duckdb"))
    assert resolve_db() == tmp_path / "env.duckdb"
    assert resolve_db(tmp_path / "flag.duckdb") == tmp_path / "flag.duckdb"


def test_reader_on_missing_db_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.duckdb"):
        store.connect_reader(tmp_path / "nothing.duckdb")
