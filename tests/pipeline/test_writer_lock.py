"""One writer at a time (issue 12, "one writer, safely"): a second writer waits, saying so on
stderr, for ``$CRAMPWATCH_LOCK_TIMEOUT`` seconds, then fails with one line and exit status 1;
readers (``crampwatch sql``, the dashboard's ``connect_reader``) are not blocked meanwhile.

The first writer is another process holding the store open read-write, as a long
``crampwatch run`` does (DuckDB's lock is per process).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline import runner, store
from pipeline.config import snapshot_path
from tests.conftest import REPO, SAMPLE_DATA

HOLD = (
    "import sys, time\n"
    "from pipeline import store\n"
    "con = store.connect(sys.argv[1])\n"
    "print('holding', flush=True)\n"
    "time.sleep(float(sys.argv[2]))\n"
    "con.close()\n"
)


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PREFECT_API_URL", None)
    env.pop("CRAMPWATCH_DB", None)
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def _crampwatch(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        cwd=REPO,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    """A store with a published snapshot: the participants file imported."""
    path = tmp_path_factory.mktemp("lock") / "cw.duckdb"
    runner.ingest([str(SAMPLE_DATA / "inbox" / "participants.csv")], str(path), progress=False)
    assert snapshot_path(path).exists()
    return path


class _Holder:
    """Another process that holds the store read-write for ``seconds``."""

    def __init__(self, db: Path, seconds: float):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(db), str(seconds)],
            cwd=REPO,
            env=_env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout.readline().strip() == "holding"

    def __enter__(self) -> subprocess.Popen:
        return self.proc

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()


def test_second_writer_waits_then_fails_with_one_line(db):
    journal = str(SAMPLE_DATA / "inbox" / "journal.csv")
    with _Holder(db, 60) as holder:
        t0 = time.monotonic()
        res = _crampwatch("ingest", journal, "--db", str(db), CRAMPWATCH_LOCK_TIMEOUT="2")
        waited = time.monotonic() - t0
    assert res.returncode == 1, res
    assert "Traceback" not in res.stderr, res.stderr
    lines = res.stderr.strip().splitlines()
    assert lines[0] == (
        f"cw.duckdb is in use by another crampwatch process (pid {holder.pid});"
        " waiting up to 2 s (CRAMPWATCH_LOCK_TIMEOUT) ..."
    ), lines
    assert len(lines) == 2 and lines[1].startswith(
        "Error: cw.duckdb is in use by another "
        f"crampwatch process (pid {holder.pid}); "
        "gave up after waiting 2 s"
    ), lines
    assert waited >= 2
    with store.connect(db, read_only=True) as con:  # nothing was imported
        assert con.execute("SELECT count(*) FROM journal").fetchall()[0][0] == 0


def test_second_writer_goes_on_when_the_first_finishes(db, tmp_path):
    with _Holder(db, 1.5):
        with store.connect(db, lock_timeout_s=30) as con:  # waits ~1.5 s, then writes
            con.execute("CREATE TABLE IF NOT EXISTS lock_test (x INTEGER)")
            con.execute("DROP TABLE lock_test")


def test_writer_timeout_from_the_environment(monkeypatch):
    monkeypatch.delenv(store.ENV_LOCK_TIMEOUT, raising=False)
    assert store.writer_lock_timeout() == store.DEFAULT_LOCK_TIMEOUT_S == 60
    monkeypatch.setenv(store.ENV_LOCK_TIMEOUT, "7.5")
    assert store.writer_lock_timeout() == 7.5
    monkeypatch.setenv(store.ENV_LOCK_TIMEOUT, "soon")
    assert store.writer_lock_timeout() == 60


def test_readers_are_not_blocked_by_a_writer(db):
    with _Holder(db, 60):
        t0 = time.monotonic()
        res = _crampwatch("sql", "SELECT count(*) AS n FROM participants", "--db", str(db))
        assert res.returncode == 0, res.stderr
        assert "1 row(s)" in res.stdout and "2" in res.stdout
        with store.connect_reader(db, lock_timeout_s=0) as con:  # the dashboard's way in
            assert con.execute("SELECT count(*) FROM participants").fetchall()[0][0] == 2
        assert time.monotonic() - t0 < 30  # no waiting on the writer's lock


def test_sql_without_a_snapshot_says_so_in_one_line(tmp_path):
    db = tmp_path / "fresh.duckdb"
    store.connect(db).close()  # a store, no snapshot yet (its first run is still going)
    with _Holder(db, 60) as holder:
        res = _crampwatch("sql", "SELECT 1", "--db", str(db))
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    assert res.stderr.strip().splitlines() == [
        f"Error: fresh.duckdb is being written by another crampwatch process (pid {holder.pid})"
        " and has no snapshot yet; try again when its first run has finished"
    ]
