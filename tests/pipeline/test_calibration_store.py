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
