"""Fault: the disk fills up part-way through an import (issue 13). A write that fails with
ENOSPC after some batches of a file were written (an injected failure: this machine offers
no small filesystem to fill) leaves a store that opens, is consistent, keeps every earlier
import intact, and a re-run completes with exactly the rows of a clean import."""

from __future__ import annotations

import errno
import shutil

from pipeline import store
from pipeline.ingest import import_file
from tests.conftest import SAMPLE_DATA

P01 = SAMPLE_DATA / "inbox" / "p01"


def _counts(con) -> dict[str, int]:
    return {t: n for t, n in store.table_counts(con).items() if t not in store.RUN_TABLES}


def test_disk_full_mid_import_loses_nothing_and_a_rerun_completes(tmp_path, monkeypatch):
    inbox = tmp_path / "inbox" / "p01"
    shutil.copytree(P01, inbox)
    files = sorted(p for p in inbox.iterdir() if p.is_file())
    apple = next(p for p in files if p.suffix in (".zip", ".xml"))
    others = [p for p in files if p != apple]

    # the clean reference
    with store.connect(tmp_path / "clean.duckdb") as con:
        for p in [*others, apple]:
            assert import_file(con, p, participant_id="p01").status in ("ok", "partial")
        clean = _counts(con)

    db = tmp_path / "s.duckdb"
    with store.connect(db) as con:
        for p in others:
            import_file(con, p, participant_id="p01")
        before = _counts(con)
    real = store.insert_new
    calls = {"n": 0}

    def full_disk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 2:  # a few batches written, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "insert_new", full_disk)
    with store.connect(db) as con:
        res = import_file(con, apple, participant_id="p01")
    assert res.status == "failed" and "No space left on device" in res.error
    assert calls["n"] > 2
    monkeypatch.setattr(store, "insert_new", real)

    with store.connect(db) as con:  # opens, earlier imports intact, nothing of the failed one
        assert _counts(con) == before
        assert con.execute("SELECT count(*) FROM imports WHERE status = 'running'").fetchall() == [
            (0,)
        ]
        res = import_file(con, apple, participant_id="p01")  # the re-run
        assert res.status in ("ok", "partial")
        assert _counts(con) == clean
