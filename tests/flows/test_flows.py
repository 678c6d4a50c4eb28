"""The real flows against a temporary DuckDB, on the bundled sample data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline import store
from pipeline.cli import main as cli
from pipeline.config import snapshot_path
from pipeline.flows import detect, ingest, nightly
from tests.helpers import tree_digest


def _counts(db) -> dict[str, int]:
    with store.connect(db, read_only=True) as con:
        return store.table_counts(con)


@pytest.fixture(scope="module")
def built(inbox, tmp_path_factory):
    """The nightly flow run once on the sample inbox: (inbox digest before, result, db)."""
    db = tmp_path_factory.mktemp("db") / "cw.duckdb"
    before = tree_digest(inbox)
    return before, nightly(str(inbox), str(db)), db


def test_nightly_ingests_detects_and_publishes(inbox, built):
    before, out, db = built
    assert tree_digest(inbox) == before, "the inbox must never be changed"

    by_path = {Path(r["path"]).name: r for r in out["imports"]}
    assert by_path["README.md"]["status"] == "skipped"
    assert by_path["fetch.sh"]["status"] == "skipped"
    assert "not a recognised export" in by_path["README.md"]["error"]
    assert by_path["export.zip"]["format"] == "apple_health"
    assert {r["status"] for r in out["imports"] if r["format"] != "unknown"} <= {"ok", "partial"}

    counts = out["counts"]
    for table in (
        "participants",
        "samples",
        "sleep_segments",
        "workouts",
        "environment",
        "journal",
        "sleep_periods",
        "episodes",
        "daily_exposures",
    ):
        assert counts[table] > 0, table
    with store.connect(db, read_only=True) as con:
        kinds = dict(con.execute("SELECT kind, count(*) FROM episodes GROUP BY 1").fetchall())
        assert kinds.get("nocturnal_cramp", 0) > 0 and kinds.get("dehydration", 0) > 0
        ev = con.execute("SELECT evidence FROM episodes LIMIT 1").fetchone()[0]
        assert isinstance(json.loads(ev), dict)
        # participants got their metadata from participants.csv
        assert (
            con.execute("SELECT count(*) FROM participants WHERE tz IS NOT NULL").fetchone()[0] == 2
        )
    assert snapshot_path(db).exists()
    assert out["summary"].startswith("crampwatch nightly run")
    assert "skipped 2" in out["summary"]


def test_reimport_changes_nothing_and_is_ledgered(inbox, tmp_path):
    db = tmp_path / "cw.duckdb"
    export = next(inbox.glob("p01/export.zip"))
    ingest([str(export)], str(db), "p01")
    first = _counts(db)
    res = ingest([str(export)], str(db), "p01")
    assert res[0]["status"] == "already_imported"
    second = _counts(db)
    assert {k: v for k, v in second.items() if k != "imports"} == {
        k: v for k, v in first.items() if k != "imports"
    }
    assert second["imports"] == first["imports"] + 1


def test_cli_sql_prints_both_kinds_and_refuses_writes(built):
    _, _, db = built
    runner = CliRunner()
    res = runner.invoke(
        cli, ["sql", "--db", str(db), "select kind, count(*) from episodes group by 1 order by 1"]
    )
    assert res.exit_code == 0, res.output
    assert "dehydration" in res.output and "nocturnal_cramp" in res.output
    res = runner.invoke(cli, ["sql", "--db", str(db), "delete from episodes"])
    assert res.exit_code != 0
    assert _counts(db)["episodes"] > 0


def test_detect_only_recomputes_changed_nights(built):
    _, _, db = built
    again = detect(str(db))
    assert again["participants"] == 0 and again["episodes_written"] == 0
    full = detect(str(db), full=True)
    assert full["participants"] == 2 and full["episodes_written"] > 0
    with store.connect(db, read_only=True) as con:
        n = con.execute("SELECT count(*), count(DISTINCT episode_id) FROM episodes").fetchone()
    assert n[0] == n[1] > 0


@pytest.mark.parametrize("command", ["ingest", "detect", "run", "dashboard", "sql", "demo"])
def test_every_command_has_help(command):
    res = CliRunner().invoke(cli, [command, "--help"])
    assert res.exit_code == 0 and "--db" in res.output


def test_folder_names_are_not_participants_for_self_identifying_files(tmp_path):
    """A journal in <folder>/<sub>/ names its own participants; <sub> is not one of them."""
    from pipeline.ingest import import_file

    sub = tmp_path / "inbox" / "2025-exports"
    sub.mkdir(parents=True)
    (sub / "journal.csv").write_text(
        "participant_id,time,kind,severity,body_side,muscle,duration_min,note\n"
        "p9,2025-07-03T03:15:00+02:00,cramp,6,left,calf,3,\n"
    )
    with store.connect(tmp_path / "cw.duckdb") as con:
        res = import_file(con, sub / "journal.csv", inbox_root=tmp_path / "inbox")
        assert res.status == "ok" and res.participant_id is None
        assert con.execute("SELECT list(participant_id) FROM participants").fetchone()[0] == ["p9"]
        started, finished = con.execute("SELECT started_utc, finished_utc FROM imports").fetchone()
        assert finished >= started
