"""The CLI's contract for the mistakes of issue 13 (evaluate, output off a terminal, stopping):
each mistake ends with its exit status and one line saying what is wrong, never a
traceback or ``nan``.

Store: one participant of the sample data (``run`` over p01 and the journal).
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from pipeline import runner, store
from pipeline.cli import main
from tests.conftest import REPO, SAMPLE_DATA

JOURNAL = SAMPLE_DATA / "inbox" / "journal.csv"
APPLE_ZIP = SAMPLE_DATA / "inbox" / "p01" / "export.zip"
TRUTH = SAMPLE_DATA / "ground_truth.csv"
CHILD = REPO / "tests" / "pipeline" / "kill_child.py"


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    inbox = tmp_path_factory.mktemp("contract") / "inbox"
    shutil.copytree(SAMPLE_DATA / "inbox" / "p01", inbox / "p01")
    shutil.copy2(JOURNAL, inbox / "journal.csv")
    path = inbox.parent / "cw.duckdb"
    runner.nightly(str(inbox), str(path), progress=False)
    return path


def _run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def _one_error_line(res, exit_code: int = 1) -> str:
    """The single line a failed command prints on stderr (no traceback)."""
    assert res.exit_code == exit_code, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.output and "nan" not in res.output.split()
    return lines[0]


# ---------------------------------------------------------------------------------------------
# evaluate --truth FILE


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "case, text, expect",
    [
        ("empty", "", "the file is empty"),
        ("blank", "\n\n", "the file is empty"),
        ("wrong", "a,b\n1,2\n", "missing columns participant_id, kind, start_utc, end_utc"),
        (
            "half",
            "participant_id,kind,start\np01,nocturnal_cramp,x\n",
            "missing columns start_utc, end_utc",
        ),
        (
            "misnamed",
            "participant_id,tme,kind,severity,body_side,muscle,duration_min,note\n",
            "column 'tme' is not a journal column; missing 'time'; expected participant_id,time,",
        ),
        (
            "bad_time",
            "participant_id,kind,start_utc,end_utc\np01,nocturnal_cramp,soon,later\n",
            ":2: start_utc 'soon' is not an ISO 8601 time",
        ),
        ("binary", "\x00\x01\x02", "expected a ground-truth CSV"),
    ],
)
def test_evaluate_unusable_truth_is_one_line(db, tmp_path, case, text, expect) -> None:
    f = _write(tmp_path / f"{case}.csv", text)
    line = _one_error_line(_run("evaluate", "--truth", f, "--db", db))
    assert line.startswith("Error: ") and str(f) in line and expect in line


def test_evaluate_nothing_to_score_is_one_line(db, tmp_path) -> None:
    header_only = _write(tmp_path / "j.csv", JOURNAL.read_text().splitlines()[0] + "\n")
    line = _one_error_line(_run("evaluate", "--truth", header_only, "--db", db))
    assert "nothing to score" in line and "no cramp rows" in line
    no_kinds = _write(
        tmp_path / "t.csv",
        "participant_id,kind,start_utc,end_utc\n"
        "p01,bathroom_trip,2025-06-16T01:50:26Z,2025-06-16T02:03:26Z\n",
    )
    line = _one_error_line(_run("evaluate", "--truth", no_kinds, "--db", db))
    assert "nothing to score" in line and "bathroom_trip" in line


def test_evaluate_store_without_episodes_says_so(tmp_path) -> None:
    """A store with a journal and no detection: formerly `nan` and exit 0."""
    empty = tmp_path / "journal_only.duckdb"
    runner.ingest([str(JOURNAL)], str(empty), progress=False)
    line = _one_error_line(_run("evaluate", "--truth", JOURNAL, "--db", empty))
    assert "nothing to score" in line and "holds no episodes" in line


def test_evaluate_reads_the_journal_file_not_the_stored_journal(db, tmp_path) -> None:
    """The truth is the file given: one cramp in it, one true event, whatever the stored
    journal holds; its time is read with its offset, as the importer reads it."""
    with store.connect(db, read_only=True) as con:
        (t,) = con.execute(
            "SELECT min(start_utc) FROM episodes WHERE participant_id = 'p01' "
            "AND kind = 'nocturnal_cramp'"
        ).fetchone()
    local = t.astimezone().astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    one = _write(
        tmp_path / "one.csv",
        JOURNAL.read_text().splitlines()[0] + "\n"
        f"p01,{local.isoformat(timespec='seconds')},cramp,5,left,calf,2,\n",
    )
    res = _run("evaluate", "--truth", one, "--db", db)
    assert res.exit_code == 0, res.output
    assert f"truth: the cramp journal {one}" in res.stdout
    overall = next(x for x in res.stdout.splitlines() if x.strip().startswith("overall"))
    tp, fp, fn = (int(v) for v in overall.split()[1:4])
    assert (tp, fn) == (1, 0) and fp > 0  # the other detected cramps are false alarms now
    # the stored journal (38 rows, 24 cramps) would have given many more true events
    stored = _run("evaluate", "--truth", JOURNAL, "--db", db)
    s_overall = next(x for x in stored.stdout.splitlines() if x.strip().startswith("overall"))
    assert sum(int(v) for v in s_overall.split()[1:4:2]) > 1


def test_evaluate_journal_local_times_need_a_zone(db, tmp_path) -> None:
    """Times without an offset: --timezone, else the stored zone of the file's participants
    (read as the importer reads them); with neither: one line saying so."""
    from pipeline import evaluate as ev

    header = JOURNAL.read_text().splitlines()[0]
    local = _write(tmp_path / "local.csv", f"{header}\np01,2025-06-17T03:15:00,cramp,5,,,,\n")
    line = _one_error_line(_run("evaluate", "--truth", local, "--db", db))  # p01: no zone
    assert str(local) in line and "has no UTC offset" in line and "--timezone" in line
    assert (
        _run("evaluate", "--truth", local, "--db", db, "--timezone", "Europe/Berlin").exit_code == 0
    )
    given = ev.read_truth_file(local, tz="Europe/Berlin").frame
    stored = ev.read_truth_file(local, stored_zones={"p01": "Europe/Berlin"}).frame
    assert given.equals(stored)
    assert str(given["start_utc"][0]) == "2025-06-17 01:15:00+00:00"  # CEST, UTC+2


def test_evaluate_ground_truth_has_no_nan(db) -> None:
    res = _run("evaluate", "--truth", TRUTH, "--db", db, "--calibration")
    assert res.exit_code == 0, res.output
    assert "nan" not in res.output.lower().split()
    assert "overall" in res.output and "dehydration days" in res.output


# ---------------------------------------------------------------------------------------------
# ingest: broken files, misnamed columns, output off a terminal


def _cli(*args: str, **kw) -> subprocess.CompletedProcess:
    """``crampwatch ARGS`` in a subprocess with pipes: output that is not a terminal."""
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "CRAMPWATCH_DB")}
    env.update(COLUMNS="80", PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *map(str, args)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        **kw,
    )


def test_ingest_off_a_terminal_cuts_nothing_and_fails_a_truncated_zip(tmp_path) -> None:
    deep = tmp_path / ("a-folder-with-a-long-name-" * 3) / "p01"
    deep.mkdir(parents=True)
    broken = deep / "export.zip"
    broken.write_bytes(APPLE_ZIP.read_bytes()[:20_000])  # central directory cut off
    misnamed = deep / "journal-misnamed.csv"
    lines = JOURNAL.read_text().splitlines()
    misnamed.write_text("\n".join([lines[0].replace(",time,", ",tme,"), *lines[1:]]) + "\n")
    journal = deep / "journal.csv"
    shutil.copy2(JOURNAL, journal)
    res = _cli("ingest", journal, broken, misnamed, "--db", tmp_path / "cw.duckdb")
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr
    out = res.stdout.splitlines()
    assert "" not in [x.strip() for x in res.stderr.splitlines()]  # no blank progress lines
    assert all("…" not in x for x in out), res.stdout  # nothing cut
    rows = {x.split()[-1]: x.split() for x in out if x.strip().startswith(("ok", "failed"))}
    assert rows[str(journal)][:2] == ["ok", "journal_csv"] and "38" in rows[str(journal)]
    assert rows[str(broken)][:2] == ["failed", "unknown"]
    assert rows[str(misnamed)][:2] == ["failed", "journal_csv"]
    errors = [x for x in out if x.startswith("failed: ")]
    assert len(errors) == 2
    assert any(str(broken) in x and "corrupt or truncated zip" in x for x in errors)
    assert any(
        str(misnamed) in x
        and "column 'tme' is not a journal column" in x
        and "expected participant_id,time,kind" in x
        for x in errors
    )


def test_progress_off_a_terminal_is_plain_lines_with_n_of_N_and_eta(tmp_path, monkeypatch):
    files = []
    for i in range(3):
        f = tmp_path / f"f{i}.csv"
        f.write_bytes(b"x" * 1000)
        files.append(f)
    monkeypatch.setattr(runner, "PLAIN_AFTER_S", 0.0)
    stream = io.StringIO()
    prog = runner._ImportProgress(files, stream=stream)
    for i, f in enumerate(files):
        prog.start_file(i, f)
        prog.rows(10)
        prog.end_file()
    prog.close()
    lines = stream.getvalue().splitlines()
    assert lines[0] == f"file 1 of 3 (0 %): {files[0]}"
    assert lines[1].startswith("file 2 of 3 (33 %, about ") and lines[1].endswith(
        f" left): {files[1]}"
    )
    assert len(lines) == 3 and all(x.strip() for x in lines)
    # a short import prints nothing off a terminal
    monkeypatch.setattr(runner, "PLAIN_AFTER_S", 60.0)
    quiet = io.StringIO()
    prog = runner._ImportProgress(files, stream=quiet)
    prog.start_file(0, files[0])
    prog.end_file()
    prog.close()
    assert quiet.getvalue() == ""


def test_progress_on_a_terminal_shows_file_n_of_N(tmp_path) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    f = tmp_path / "a.csv"
    f.write_bytes(b"x" * 10)
    stream = Tty()
    prog = runner._ImportProgress([f, f], stream=stream)
    prog.start_file(0, f)
    prog.rows(5)
    assert prog._progress is not None
    assert prog._progress.tasks[0].description == "file 1 of 2: a.csv"
    prog.end_file()
    prog.close()
    assert prog._progress is None


# ---------------------------------------------------------------------------------------------
# Ctrl-C


def test_ctrl_c_stops_the_whole_ingest_and_rolls_the_file_back(tmp_path) -> None:
    """SIGINT while the Apple export's rows are being written: exit 130, one line, the
    export rolled back (no ledger row, no rows), the journal after it never started."""
    db = tmp_path / "cw.duckdb"
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "CRAMPWATCH_DB")}
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.Popen(
        [
            sys.executable,
            str(CHILD),
            "--small-batches",
            "--pause-at",
            "insert_new:2",
            "--",
            "ingest",
            str(APPLE_ZIP),
            str(JOURNAL),
            "--participant",
            "p01",
            "--db",
            str(db),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in proc.stdout:
            if line.startswith("PAUSED"):
                proc.send_signal(signal.SIGINT)
                break
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted: "), err
    with duckdb.connect(str(db), read_only=True) as con:
        for table in ("imports", "samples", "sleep_segments", "journal", "rejected_rows"):
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table


def test_duckdb_interrupt_stops_the_import_too(tmp_path, monkeypatch) -> None:
    """DuckDB reports Ctrl-C during a query as InterruptException (an Exception): that stops
    the command as Ctrl-C does, not as one failed file."""
    from pipeline import ingest

    calls = []

    def interrupted(*args, **kw):
        calls.append(1)
        raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")

    monkeypatch.setattr(store, "insert_new", interrupted)
    db = tmp_path / "cw.duckdb"
    with store.connect(db) as con:
        with pytest.raises(KeyboardInterrupt):
            ingest.import_file(con, JOURNAL)
        assert calls and con.execute("SELECT count(*) FROM imports").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM journal").fetchone()[0] == 0
    res = _run("ingest", JOURNAL, "--db", db)
    line = _one_error_line(res, exit_code=130)
    assert line.startswith("interrupted: ")
