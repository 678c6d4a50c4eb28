"""Episode labels: migration, durable queue, idempotent merge, supersede, CLI, calibration."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from click.testing import CliRunner

from pipeline import store
from pipeline import store_labels as lb
from pipeline.cli import main
from pipeline.detect import _journal_changed, calibrate_cramps
from simulators.nightgen import GenConfig, generate

T0 = datetime(2024, 3, 5, 2, tzinfo=UTC)


def _lab(db, **kw):
    fields = {
        "participant_id": "g01",
        "label": "confirmed",
        "episode_id": "e1",
        "start_utc": T0,
        "end_utc": T0 + timedelta(minutes=5),
    }
    fields.update(kw)
    return lb.add_label(db, **fields)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "cw.duckdb"
    store.connect(path).close()
    return path


def test_migration_creates_the_table_and_the_fit_columns(db):
    with store.connect(db) as con:
        cols = [r[0] for r in con.execute("DESCRIBE episode_labels").fetchall()]
        fit = [r[0] for r in con.execute("DESCRIBE cramp_param_sets").fetchall()]
    assert cols[:13] == list(lb.COLUMNS) and {"merged_seq", "merged_utc"} <= set(cols)
    assert {"n_labels", "labels_through_seq"} <= set(fit)


def test_queue_is_durable_and_merge_is_idempotent(db):
    a = _lab(db)
    b = _lab(db, label="missed", episode_id=None, note="left calf")
    assert [x.label_id for x in lb.pending_labels(db)] == [a.label_id, b.label_id]
    assert lb.pending_labels(db)[1] == b  # JSON round trip keeps every field
    with store.connect(db) as con:
        assert lb.merge_pending(con) == 2
        assert lb.merge_pending(con) == 0  # twice: nothing new
        assert lb.pending_labels(db, con) == []
        assert lb.compact_queue(con, db) == 0
        assert not lb.queue_path(db).exists()
        assert con.execute(
            "SELECT count(*), count(DISTINCT label_id) FROM episode_labels"
        ).fetchall() == [(2, 2)]
        # a crash after the insert but before compaction: the same line merged again
        lb.append_labels(db, [a])
        assert lb.merge_pending(con, compact=True) == 0
        assert con.execute("SELECT count(*) FROM episode_labels").fetchall() == [(2,)]
        by = con.execute("SELECT labelled_by, source FROM episode_labels").fetchall()
    assert set(by) == {("self", "cli")}


def test_torn_line_is_skipped_and_closed(db):
    q = lb.queue_path(db)
    q.write_text('{"label_id": "x", "particip')  # crash mid-append
    a = _lab(db)
    assert [x.label_id for x in lb.pending_labels(db)] == [a.label_id]
    assert q.read_text().count("\n") == 2


def test_invalid_labels_are_refused(db):
    with pytest.raises(ValueError, match="missed"):
        _lab(db, label="missed")  # has an episode id
    with pytest.raises(ValueError, match="offset"):
        _lab(db, start_utc=datetime(2024, 3, 5, 2))
    with pytest.raises(ValueError, match="label must be"):
        _lab(db, label="maybe")
    assert not lb.queue_path(db).exists()


def test_newer_label_supersedes_and_history_is_kept(db):
    _lab(db, label="confirmed", labelled_utc=T0 + timedelta(hours=8))
    _lab(db, label="rejected", labelled_utc=T0 + timedelta(hours=9))
    _lab(db, label="confirmed", episode_id="e2", labelled_utc=T0 + timedelta(hours=8))
    assert lb.try_merge(db) == 3
    with store.connect(db) as con:
        cur = lb.current_labels(con, "g01")
        assert dict(zip(cur["episode_id"], cur["label"], strict=True)) == {
            "e1": "rejected",
            "e2": "confirmed",
        }
        assert con.execute("SELECT count(*) FROM episode_labels").fetchall() == [(3,)]


def test_a_busy_store_queues_the_label_and_the_next_writer_merges_it(db):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
            "print('ok', flush=True); sys.stdin.read()",
            str(db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        a = _lab(db)
        t = time.perf_counter()
        assert lb.try_merge(db) is None  # does not wait for the writer
        assert time.perf_counter() - t < 1.0
        assert [x.label_id for x in lb.pending_labels(db)] == [a.label_id]
    finally:
        holder.communicate("")
    assert lb.try_merge(db) == 1
    assert lb.pending_labels(db) == []


# --- a small store with nightgen nights (5-min HR), no journal --------------------------


@pytest.fixture(scope="module")
def nightgen_db(tmp_path_factory):
    g = generate(GenConfig(participants=1, nights=8, seed=3, hr_resolution_s=300))
    path = tmp_path_factory.mktemp("lab") / "cw.duckdb"
    con = store.connect(path)
    con.execute(
        "INSERT INTO imports (import_id, path, status, started_utc) "
        "VALUES (1, 'nightgen', 'ok', now())"
    )
    units = {
        "heart_rate_bpm": "count/min",
        "steps": "count",
        "intensity_level": "level",
        "active_energy_kcal": "kcal",
    }
    smp = g.samples.with_columns(
        unit=pl.col("metric").replace_strict(units), import_id=pl.lit(1, pl.Int64)
    )
    store.insert_new(con, "samples", smp, ["participant_id", "metric", "start_utc"])
    store.insert_new(
        con,
        "sleep_segments",
        g.sleep_segments.with_columns(import_id=pl.lit(1, pl.Int64)),
        ["participant_id", "start_utc", "stage"],
    )
    from pipeline.detect import detect_changed

    detect_changed(con, full=True)
    con.close()
    return path, g


def test_labels_refit_the_person_and_are_seen_once(nightgen_db):
    path, g = nightgen_db
    truth = g.truth_of("nocturnal_cramp")
    assert truth.height >= 1
    for r in truth.iter_rows(named=True):
        _lab(path, label="missed", episode_id=None, start_utc=r["start_utc"], end_utc=r["end_utc"])
    with store.connect(path) as con:
        assert _journal_changed(con, "g01", 10**9)  # merges the queue, sees new labels
        res = calibrate_cramps(con, "g01")
        assert res is not None and res.n_labels == truth.height
        row = con.execute(
            "SELECT n_labels, labels_through_seq FROM cramp_param_sets WHERE participant_id = 'g01'"
        ).fetchall()
        assert row == [(truth.height, truth.height)]
        assert not _journal_changed(con, "g01", 10**9)


def test_cli_label_and_review(nightgen_db, tmp_path):
    path, _ = nightgen_db
    runner = CliRunner()
    out = runner.invoke(main, ["review", "--db", str(path), "-n", "3"])
    assert out.exit_code == 0, out.output
    assert "g01:" in out.output
    with store.connect(path, read_only=True) as con:
        eid, start = con.execute(
            "SELECT episode_id, start_utc FROM episodes WHERE kind = 'nocturnal_cramp' LIMIT 1"
        ).fetchall()[0]
    out = runner.invoke(
        main, ["label", eid, "rejected", "--note", "rolled over", "--db", str(path)]
    )
    assert out.exit_code == 0, out.output
    assert "stored" in out.output
    out = runner.invoke(
        main,
        [
            "label",
            "--missed",
            "--participant",
            "g01",
            "--start",
            "2024-03-06T03:00:00+01:00",
            "--end",
            "2024-03-06T03:10+01:00",
            "--db",
            str(path),
        ],
    )
    assert out.exit_code == 0, out.output
    with store.connect(path, read_only=True) as con:
        got = con.execute(
            "SELECT label, episode_id, confidence_at_label IS NOT NULL, note "
            "FROM episode_labels WHERE source = 'cli' ORDER BY merged_seq"
        ).fetchall()
    assert got[-2:] == [("rejected", eid, True, "rolled over"), ("missed", None, False, None)]
    bad = runner.invoke(main, ["label", "--missed", "--participant", "g01", "--db", str(path)])
    assert bad.exit_code != 0 and "--start" in bad.output
    unknown = runner.invoke(main, ["label", "nope", "confirmed", "--db", str(path)])
    assert unknown.exit_code != 0 and "not in the store" in unknown.output
    assert start is not None


def test_cli_label_command_is_fast(db):
    t = time.perf_counter()
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline.cli",
            "label",
            "--missed",
            "--participant",
            "p",
            "--start",
            "2024-03-06T03:00+01:00",
            "--end",
            "2024-03-06T03:10+01:00",
            "--db",
            str(db),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "stored" in r.stdout
    assert time.perf_counter() - t < 4.0  # < 2 s idle; headroom for a loaded CI machine
    assert "prefect" not in r.stderr.lower()


def test_incremental_detect_refits_a_participant_with_only_new_labels(nightgen_db, tmp_path):
    import shutil

    from pipeline.detect import detect_changed

    src, g = nightgen_db
    path = tmp_path / "copy.duckdb"
    shutil.copy(src, path)
    r = g.truth_of("nocturnal_cramp").row(0, named=True)
    _lab(path, label="missed", episode_id=None, start_utc=r["start_utc"], end_utc=r["end_utc"])
    with store.connect(path) as con:
        s = detect_changed(con)  # no new import: only the (queued) label is new
        assert s.participants == 1
        assert not lb.labels_changed(con, "g01")  # the refit saw it
        assert detect_changed(con).participants == 0  # no refit the next night
    assert lb.pending_labels(path) == []


def test_detection_stores_every_scored_candidate_and_review_ranks_them(nightgen_db):
    """`cramp_candidates` holds exactly what the detector scored (migration 0014), its
    reported rows are the cramp episodes, and `crampwatch review` ranks them as
    rank_for_review ranks candidates scored afresh."""
    from datetime import timedelta

    from polars.testing import assert_frame_equal

    import detectors
    from detectors.cramp_params import CrampParams, _params_id
    from detectors.review import rank_for_review
    from pipeline import detect as dt

    path, _ = nightgen_db
    with store.connect(path, read_only=True) as con:
        stored = con.sql("SELECT * FROM cramp_candidates ORDER BY start_utc").pl()
        episodes = con.sql(
            "SELECT start_utc, end_utc, confidence, label FROM episodes "
            "WHERE kind = 'nocturnal_cramp' ORDER BY start_utc"
        ).pl()
        lo, hi = dt.full_ranges(con)["g01"]
        samples, periods, segments = dt._sleep(dt.load_inputs(con, "g01", lo, hi))
    fresh = detectors.score_cramp_candidates(samples, segments, periods)
    assert stored.height == fresh.height > episodes.height > 0
    assert_frame_equal(stored.select(fresh.columns), fresh.sort("start_utc"))
    assert set(stored["params_id"]) == {_params_id(CrampParams())}
    assert_frame_equal(
        stored.filter(pl.col("label").is_not_null()).select(episodes.columns), episodes
    )
    # review: the stored candidates ranked as freshly scored ones of the same nights
    first = hi - timedelta(days=28)
    with store.connect(path, read_only=True) as con:  # labels of the tests before, if any
        labels = pl.concat(
            [
                lb.current_labels(con, "g01").drop("merged_seq"),
                lb.labels_frame(lb.pending_labels(path)),
            ]
        )
    want = rank_for_review(fresh.filter(pl.col("night_of") >= first), labels, n=3)
    out = CliRunner().invoke(main, ["review", "--db", str(path), "-n", "3"])
    assert out.exit_code == 0, out.output
    assert f"g01: {want.height} to ask about" in out.output
    for r in want.iter_rows(named=True):
        assert f"{r['start_utc']:%H:%M}-{r['end_utc']:%H:%M}Z" in out.output
        assert f"confidence {r['confidence_person']:.2f}" in out.output
