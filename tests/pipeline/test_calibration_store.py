"""Journal calibration in the store: fitted sets are stored and used for detection."""

from __future__ import annotations

import json

import pytest

from pipeline import store
from pipeline.detect import detect_changed
from pipeline.ingest import candidate_files, import_file
from tests.conftest import SAMPLE_DATA


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = store.connect(tmp_path_factory.mktemp("cal") / "cw.duckdb")
    for f, root in candidate_files([SAMPLE_DATA / "inbox"]):
        assert import_file(c, f, inbox_root=root).status == "ok"
    detect_changed(c, full=True)
    yield c
    c.close()


def test_each_journalling_participant_gets_one_active_or_default_set(con):
    rows = con.execute(
        "SELECT participant_id, count(*), count(*) FILTER (WHERE active), min(n_events), "
        "min(n_nights) FROM cramp_param_sets GROUP BY 1 ORDER BY 1"
    ).fetchall()
    journalled = con.execute(
        "SELECT DISTINCT participant_id FROM journal WHERE kind = 'cramp' ORDER BY 1"
    ).fetchall()
    assert [r[0] for r in rows] == [j[0] for j in journalled] == ["p01", "p02"]
    for _, n, n_active, n_events, n_nights in rows:
        assert n == 1 and n_active <= 1 and n_events >= 4 and n_nights > n_events


def test_episodes_record_the_parameter_set_that_produced_them(con):
    active = dict(
        con.execute(
            "SELECT participant_id, params_id FROM cramp_param_sets WHERE active"
        ).fetchall()
    )
    eps = con.execute(
        "SELECT participant_id, evidence FROM episodes WHERE kind = 'nocturnal_cramp'"
    ).fetchall()
    assert eps
    for pid, ev in eps:
        got = json.loads(ev)["params_id"]
        if pid in active:
            assert got == active[pid]


def test_incremental_run_without_journal_change_does_not_refit(con):
    before = con.execute(
        "SELECT list(fitted_utc ORDER BY params_id) FROM cramp_param_sets"
    ).fetchone()[0]
    detect_changed(con)  # nothing new imported
    after = con.execute(
        "SELECT list(fitted_utc ORDER BY params_id) FROM cramp_param_sets"
    ).fetchone()[0]
    assert before == after


def test_two_participants_with_the_same_fitted_values_keep_a_set_each(tmp_path):
    # params_id hashes the parameter values: two people whose fits land on the same values
    # (both on the defaults) must each keep their row (schema 15 keys by participant too)
    from pipeline import store_inputs

    c = store.connect(tmp_path / "cw.duckdb")
    try:
        for pid in ("a", "b", "a"):
            store_inputs.save_cramp_param_set(
                c,
                params_id="same",
                participant_id=pid,
                name=f"cramp-fitted-{pid}",
                params_json="{}",
                detector_version="cramp-test",
                n_nights=10,
                n_events=4,
                heldout_f1=0.5,
                default_heldout_f1=0.5,
                active=True,
                n_labels=0,
                labels_through_seq=0,
            )
        rows = c.execute(
            "SELECT participant_id, count(*), bool_and(active) FROM cramp_param_sets "
            "GROUP BY 1 ORDER BY 1"
        ).fetchall()
    finally:
        c.close()
    assert rows == [("a", 1, True), ("b", 1, True)]


def test_an_upgrade_refits_the_journalling_participants_sets(tmp_path):
    """After an upgrade the stored sets name the old detector version and stop counting; the
    run that re-detects the stale participants refits them, with no journal change."""
    from detectors.cramps import DETECTOR_VERSION

    c = store.connect(tmp_path / "cw.duckdb")
    try:
        for f, root in candidate_files([SAMPLE_DATA / "inbox"]):
            assert import_file(c, f, inbox_root=root).status == "ok"
        detect_changed(c, full=True)
        # as a store written by the previous release
        c.execute("UPDATE cramp_param_sets SET detector_version = 'cramp-0.4'")
        c.execute(
            "UPDATE episodes SET detector_version = 'cramp-0.4' WHERE kind = 'nocturnal_cramp'"
        )
        assert detect_changed(c).participants >= 2
        rows = c.execute(
            "SELECT DISTINCT participant_id FROM cramp_param_sets WHERE detector_version = ? "
            "ORDER BY 1",
            [DETECTOR_VERSION],
        ).fetchall()
    finally:
        c.close()
    assert [r[0] for r in rows] == ["p01", "p02"]


def test_an_upgrade_refits_an_active_set_of_a_participant_without_cramp_episodes(tmp_path):
    """An active fitted set of an older detector version marks its participant stale even
    when no episode does (someone whose fitted set detects no cramp): the run after the
    upgrade refits it, the old set is no longer active, and the next run re-detects nobody."""
    from detectors.cramps import DETECTOR_VERSION

    c = store.connect(tmp_path / "cw.duckdb")
    try:
        for f, root in candidate_files([SAMPLE_DATA / "inbox"]):
            assert import_file(c, f, inbox_root=root).status == "ok"
        detect_changed(c, full=True)
        # as a store written by the previous release whose p01 used a fitted set; p01's
        # episodes are current, so only the set says p01 is stale
        c.execute(
            "UPDATE cramp_param_sets SET detector_version = 'cramp-0.4', active = true "
            "WHERE participant_id = 'p01'"
        )
        c.execute("DELETE FROM episodes WHERE participant_id = 'p01' AND kind = 'nocturnal_cramp'")
        assert detect_changed(c).participants == 1
        old_active = c.execute(
            "SELECT count(*) FROM cramp_param_sets WHERE participant_id = 'p01' AND active "
            "AND detector_version <> ?",
            [DETECTOR_VERSION],
        ).fetchone()[0]
        refit = c.execute(
            "SELECT count(*) FROM cramp_param_sets WHERE participant_id = 'p01' "
            "AND detector_version = ?",
            [DETECTOR_VERSION],
        ).fetchone()[0]
        again = detect_changed(c).participants
    finally:
        c.close()
    assert old_active == 0 and refit == 1 and again == 0
