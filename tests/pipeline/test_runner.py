"""pipeline.runner: the in-process path of the write commands.

Same rows as the Prefect flows, a nightly run with nothing new adds no ledger row and keeps the
snapshot, and the no-op commands load neither Prefect nor the detectors (checked in a fresh
interpreter, since this test process may have imported them already). No timings here: speed
is measured by benchmarks/commands.py.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline import ingest, runner, store
from pipeline.cli import main as cli
from pipeline.config import snapshot_path
from tests.conftest import REPO, SAMPLE_DATA

#: columns holding the wall clock of a write, which differ between any two runs
WALL_CLOCK = {
    "started_utc",
    "finished_utc",
    "created_utc",
    "computed_utc",
    "fitted_utc",
    "updated_utc",
    "merged_utc",
}


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    """p01 of the sample inbox (Apple export, weather, bedroom sensor), the journal and the
    participants file, plus a file no importer recognises. Copies keep their old mtimes."""
    src = SAMPLE_DATA / "inbox"
    dst = tmp_path_factory.mktemp("runner") / "inbox"
    shutil.copytree(src / "p01", dst / "p01")
    for name in ("journal.csv", "participants.csv"):
        shutil.copy2(src / name, dst / name)
    notes = dst / "NOTES.md"
    notes.write_text("# not an export\n")
    os.utime(notes, ns=(1_700_000_000_000_000_000,) * 2)
    return dst


@pytest.fixture(scope="module")
def in_process(inbox, tmp_path_factory) -> tuple[dict, Path]:
    db = tmp_path_factory.mktemp("inproc") / "cw.duckdb"
    return runner.nightly(str(inbox), str(db), progress=False), db


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PREFECT_API_URL", None)  # in-process unless asked
    env.pop("CRAMPWATCH_DB", None)
    env["PYTHONPATH"] = str(REPO)
    return env


def _rows(db: Path) -> dict[str, list[tuple]]:
    """Every table's rows without wall-clock columns, sorted (not the run tables)."""
    out: dict[str, list[tuple]] = {}
    with store.connect(db, read_only=True) as con:
        cols: dict[str, list[str]] = {}
        for t, c in con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = "
            "'main' AND table_name IN (SELECT table_name FROM duckdb_tables()) "
            "ORDER BY table_name, column_index"
        ).fetchall():
            cols.setdefault(t, []).append(c)
        for t, names in cols.items():
            if t in ("detection_runs", "exposure_runs", "schema_migrations"):
                continue
            keep = ", ".join(f'"{c}"' for c in names if c not in WALL_CLOCK)
            out[t] = sorted(
                con.execute(f'SELECT {keep} FROM "{t}"').fetchall(),
                key=lambda r: tuple((x is None, str(x)) for x in r if not isinstance(x, float)),
            )
    return out


def _outcomes(db: Path) -> list[tuple]:
    """Each file's last ledger row that is not a failed or running attempt."""
    with store.connect(db, read_only=True) as con:
        return con.execute(
            "SELECT path, sha256, size_bytes, format, participant_id, rows_accepted, "
            "rows_duplicate, rows_rejected, status, error, abs_path, mtime_ns FROM imports "
            "WHERE status NOT IN ('failed', 'running') "
            "QUALIFY row_number() OVER (PARTITION BY path ORDER BY import_id DESC) = 1 "
            "ORDER BY path"
        ).fetchall()


def _same(a: list[tuple], b: list[tuple]) -> bool:
    """Equal rows, floats to 1e-9 relative (polars' parallel sums differ in the last digit
    from one run to the next, in-process or not)."""
    return len(a) == len(b) and all(
        len(r) == len(q)
        and all(
            x == y
            or (isinstance(x, float) and isinstance(y, float) and math.isclose(x, y, rel_tol=1e-9))
            for x, y in zip(r, q, strict=True)
        )
        for r, q in zip(a, b, strict=True)
    )


@pytest.mark.slow
def test_same_rows_as_the_prefect_flow(inbox, in_process, tmp_path):
    """`python -m pipeline.flows INBOX DB` (the Prefect nightly flow, temporary API) and the
    in-process runner write the same rows."""
    out, db = in_process
    flow_db = tmp_path / "flow.duckdb"
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.flows", str(inbox), str(flow_db)],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    mine, theirs = _rows(db), _rows(flow_db)
    assert mine.keys() == theirs.keys()
    # the ledger: each file's outcome (a Prefect task retried on a loaded machine adds a
    # failed row before it; the outcomes' ids are checked through the data tables' import_id)
    mine["imports"], theirs["imports"] = _outcomes(db), _outcomes(flow_db)
    for t in mine:
        diff = [(r, q) for r, q in zip(mine[t], theirs[t], strict=False) if not _same([r], [q])]
        assert _same(mine[t], theirs[t]), (t, len(mine[t]), len(theirs[t]), diff[:2])
    assert out["counts"]["episodes"] > 0 and out["counts"]["daily_exposures"] > 0
    assert snapshot_path(flow_db).exists()


def test_nothing_new_adds_no_ledger_row_and_keeps_the_snapshot(inbox, in_process):
    first, db = in_process
    assert {r["status"] for r in first["imports"]} == {"ok", "skipped"}
    with store.connect(db, read_only=True) as con:
        before = store.table_counts(con)
    snap_mtime = snapshot_path(db).stat().st_mtime_ns

    again = runner.nightly(str(inbox), str(db), progress=False)
    assert sorted(r["status"] for r in again["imports"]) == sorted(
        "already_imported" if r["status"] == "ok" else r["status"] for r in first["imports"]
    )
    after = again["counts"]
    assert after["imports"] == before["imports"], "a known file was ledgered again"
    assert after["detection_runs"] == before["detection_runs"] + 1  # the run's own history
    assert after["exposure_runs"] == before["exposure_runs"] + 1
    assert {k: v for k, v in after.items() if k not in store.RUN_TABLES} == {
        k: v for k, v in before.items() if k not in store.RUN_TABLES
    }
    assert again["detection"]["participants"] == 0
    assert snapshot_path(db).stat().st_mtime_ns == snap_mtime, "snapshot copied for nothing"
    with store.connect(db) as con:
        assert store.snapshot_is_current(con, db)


def test_a_file_that_adds_no_rows_is_ledgered_without_copying_the_snapshot(in_process, tmp_path):
    _, built = in_process
    db = tmp_path / "cw.duckdb"
    shutil.copy2(built, db)
    shutil.copy2(snapshot_path(built), snapshot_path(db))
    snap = snapshot_path(db).stat().st_mtime_ns
    empty = tmp_path / "header_only.csv"
    empty.write_text((SAMPLE_DATA / "inbox" / "journal.csv").read_text().splitlines()[0] + "\n")
    (res,) = runner.ingest([str(empty)], str(db), progress=False)
    assert (res["status"], res["format"], res["rows_accepted"]) == ("ok", "journal_csv", 0)
    assert snapshot_path(db).stat().st_mtime_ns == snap
    # new rows: published
    (res,) = runner.ingest(
        [str(SAMPLE_DATA / "inbox" / "p02" / "export.zip")],
        str(db),
        participant_id="p02",
        progress=False,
    )
    assert res["rows_accepted"] > 0 and snapshot_path(db).stat().st_mtime_ns != snap
    with store.connect(db) as con:
        assert store.snapshot_is_current(con, db)


def test_quick_check_skips_the_hash_but_keeps_the_content_the_authority(tmp_path, monkeypatch):
    journal = tmp_path / "inbox" / "journal.csv"
    journal.parent.mkdir()
    shutil.copy2(SAMPLE_DATA / "inbox" / "journal.csv", journal)
    db = tmp_path / "cw.duckdb"
    with store.connect(db) as con:
        first = ingest.import_file(con, journal)
        assert first.status == "ok"
        n = store.table_counts(con)

        def no_hash(path):
            raise AssertionError(f"hashed {path}")

        monkeypatch.setattr(ingest, "sha256_file", no_hash)
        # explicitly offered again: ledgered (already_imported), not hashed, nothing written
        again = ingest.import_file(con, journal)
        assert again.status == "already_imported" and again.import_id != first.import_id
        # in a nightly run: not ledgered either
        quiet = ingest.import_file(con, journal, record_unchanged=False)
        assert (quiet.status, quiet.import_id) == ("already_imported", again.import_id)
        assert store.table_counts(con)["imports"] == n["imports"] + 1
        monkeypatch.undo()

        # touched (same bytes, new mtime): hashed, known by content, ledgered once
        os.utime(journal, ns=(1_600_000_000_000_000_000,) * 2)
        touched = ingest.import_file(con, journal, record_unchanged=False)
        assert touched.status == "already_imported"
        assert touched.error == f"same content as import {first.import_id}"
        assert (
            ingest.import_file(con, journal, record_unchanged=False).import_id == touched.import_id
        )
        # edited: a new file by content, its new rows imported once
        with journal.open("a", encoding="utf-8") as fh:
            fh.write("p01,2025-07-30T03:15:00+02:00,cramp,6,left,calf,3,\n")
        os.utime(journal, ns=(1_600_000_100_000_000_000,) * 2)
        edited = ingest.import_file(con, journal, record_unchanged=False)
        assert (edited.status, edited.rows_accepted) == ("ok", 1)
        assert edited.rows_duplicate == n["journal"]
        counts = store.table_counts(con)
        assert counts["imports"] == n["imports"] + 3
        assert counts["journal"] == n["journal"] + 1


def test_a_just_written_file_is_never_vouched_for_by_its_mtime(tmp_path):
    """mtime within RACY_S of the import: no mtime stored, the next run hashes it again."""
    f = tmp_path / "journal.csv"
    shutil.copyfile(SAMPLE_DATA / "inbox" / "journal.csv", f)  # mtime: now
    with store.connect(tmp_path / "cw.duckdb") as con:
        ingest.import_file(con, f)
        assert con.execute("SELECT mtime_ns FROM imports").fetchall() == [(None,)]


def _python(code: str) -> subprocess.CompletedProcess:
    """``python -c code`` in a fresh interpreter from the repository root."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_exposures_version_read_without_the_detectors_matches_them():
    from detectors.exposures import EXPOSURES_VERSION
    from pipeline import exposures

    code = (
        "import sys; from pipeline.exposures import exposures_version as v; "
        "print(v()); assert 'detectors.exposures' not in sys.modules"
    )
    proc = _python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == EXPOSURES_VERSION == exposures.exposures_version()


_NOOP_SCRIPT = """
import sys
from click.testing import CliRunner
from pipeline.cli import main

args = sys.argv[1:]
res = CliRunner().invoke(main, args)
assert res.exit_code == 0, (args, res.output, res.exception)
# the detectors package itself is cheap (lazy names; its schema modules are plain data);
# what must not load is any detector proper and the libraries they pull in
cheap = {"detectors", "detectors.tables", "detectors.schema"}
loaded = sorted(m for m in sys.modules
                if m in ("prefect", "streamlit", "sklearn", "scipy")
                or (m.startswith("detectors") and m not in cheap))
assert not loaded, f"{args[0]} loaded {loaded}"
print(res.output)
"""


@pytest.mark.parametrize("command", ["ingest-empty", "ingest-known", "detect", "run", "sql"])
def test_no_op_commands_load_neither_prefect_nor_the_detectors(
    command, inbox, in_process, tmp_path
):
    _, built = in_process
    db = tmp_path / "cw.duckdb"
    shutil.copy2(built, db)
    empty = tmp_path / "header_only.csv"
    empty.write_text((SAMPLE_DATA / "inbox" / "journal.csv").read_text().splitlines()[0] + "\n")
    args = {
        "ingest-empty": ["ingest", str(empty)],
        "ingest-known": ["ingest", str(inbox / "participants.csv")],
        "detect": ["detect"],
        "run": ["run", str(inbox)],
        "sql": ["sql", "select count(*) AS n from imports"],
    }[command] + ["--db", str(db)]
    proc = subprocess.run(
        [sys.executable, "-c", _NOOP_SCRIPT, *args],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    if command == "run":
        assert "already_imported" in proc.stdout and "| INFO" not in proc.stdout


@pytest.mark.parametrize("command", ["ingest", "detect", "run", "demo"])
def test_verbose_switch(command):
    res = CliRunner().invoke(cli, [command, "--help"])
    assert res.exit_code == 0 and "--verbose" in res.output
    if command != "demo":
        assert "--prefect / --no-prefect" in res.output


def test_verbose_logs_to_stderr_only_when_asked(inbox, in_process, tmp_path):
    _, built = in_process
    db = tmp_path / "cw.duckdb"
    shutil.copy2(built, db)
    base = [sys.executable, "-m", "pipeline.cli", "run", str(inbox), "--db", str(db)]
    quiet = subprocess.run(base, cwd=REPO, env=_env(), capture_output=True, text=True, timeout=300)
    loud = subprocess.run(
        base + ["--verbose"], cwd=REPO, env=_env(), capture_output=True, text=True, timeout=300
    )
    assert quiet.returncode == loud.returncode == 0, quiet.stderr + loud.stderr
    assert quiet.stdout.startswith("crampwatch nightly run") and quiet.stderr == ""
    assert loud.stdout.splitlines()[:4] == quiet.stdout.splitlines()[:4]  # all but the counts
    assert "| INFO    | already_imported" in loud.stderr


def test_prefect_only_when_asked_or_configured(monkeypatch, inbox, tmp_path):
    """PREFECT_API_URL (a configured server) or --prefect select the flow; --no-prefect wins."""
    import pipeline.flows as flows

    calls = []

    def fake_nightly(*args):
        calls.append(args)
        return {"imports": [], "summary": "crampwatch nightly run (fake flow)"}

    monkeypatch.setattr(flows, "nightly", fake_nightly)
    monkeypatch.setattr(runner, "nightly", lambda *a, **k: {"imports": [], "summary": "in-process"})
    db = str(tmp_path / "cw.duckdb")
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")  # restored after
    assert CliRunner().invoke(cli, ["run", str(inbox), "--db", db]).output == "in-process\n"
    res = CliRunner().invoke(cli, ["run", str(inbox), "--db", db, "--prefect"])
    assert "fake flow" in res.output and len(calls) == 1
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert "fake flow" in CliRunner().invoke(cli, ["run", str(inbox), "--db", db]).output
    assert (
        CliRunner().invoke(cli, ["run", str(inbox), "--db", db, "--no-prefect"]).output
        == "in-process\n"
    )
    assert len(calls) == 2


def test_detector_versions_read_without_the_detectors_match_them():
    """A run with nothing new checks the stored outputs' versions without importing the
    detectors (scipy): the versions read from source equal the imported constants."""
    from detectors.actigraphy import DETECTOR_VERSION as actigraphy
    from detectors.cramp_params import DETECTOR_VERSION as cramp
    from detectors.cramps_raw import DETECTOR_VERSION as raw
    from detectors.dehydration import DETECTOR_VERSION as dehydration
    from detectors.sleep import DETECTOR_VERSION as sleep

    code = (
        "import sys; from pipeline.detect import current_versions as v; "
        "print(*v('episodes'), *v('sleep_periods')); "
        "assert not [m for m in sys.modules if m.startswith('detectors.')"
        " and m != 'detectors.tables'], sorted(sys.modules)"
    )
    proc = _python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [cramp, raw, dehydration, sleep, actigraphy]
