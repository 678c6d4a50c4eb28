"""pipeline.store_triggers and the CLI: trigger_associations and experiments in a temp store."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import polars as pl
import pytest
from click.testing import CliRunner

from pipeline import store
from pipeline import store_triggers as pt
from simulators.trigger_cohort import CohortParams, simulate_cohort

COLUMNS = (
    "participant_id",
    "trigger",
    "lag",
    "exposure_definition",
    "cases",
    "referents",
    "discordant_sets",
    "odds_ratio",
    "ci_low",
    "ci_high",
    "p",
    "q",
    "method",
    "status",
    "case_source",
    "computed_utc",
)


def _fill(con, people: int = 3, days: int = 200, seed: int = 5) -> None:
    """Simulated daily exposures and a journal (cramps at 03:00 local, +3600 s)."""
    c = simulate_cohort(seed, CohortParams(people=people, days=days))
    daily = c.daily.with_columns(detector_version=pl.lit("exposures-test"))
    _d = daily.to_arrow()  # noqa: F841
    cols = ", ".join(daily.columns)
    con.execute(f"INSERT INTO daily_exposures ({cols}, computed_utc) SELECT {cols}, now() FROM _d")
    iid = con.execute(
        "INSERT INTO imports (path, status, started_utc) VALUES ('j', 'ok', "
        "now()) RETURNING import_id"
    ).fetchall()[0][0]
    j = c.nights["journal"]
    tz = timezone(timedelta(hours=1))
    rows = [
        (
            r["participant_id"],
            datetime.combine(r["night_of"] + timedelta(days=1), time(3), tz),
            3600,
            "cramp" if r["case"] else "no_cramp",
            iid,
        )
        for r in j.iter_rows(named=True)
        if r["case"] or r["night_of"].day == 1
    ]
    con.executemany(
        "INSERT INTO journal (participant_id, time_utc, utc_offset_s, kind, "
        "import_id) VALUES (?, ?, ?, ?, ?)",
        rows,
    )


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "cw.duckdb"
    with store.connect(path) as con:
        _fill(con)
    return path


def test_round_trip_and_no_op(db):
    with store.connect(db) as con:
        s = pt.update_triggers(con)
        assert s.participants == 3 and s.rows_written > 0
        got = con.sql("SELECT * FROM trigger_associations").pl()
        assert set(COLUMNS) <= set(got.columns)
        assert set(got["participant_id"]) == {"s001", "s002", "s003", "all"}
        assert set(got["status"]) <= {"estimated", "insufficient_data"}
        assert (got["case_source"] == "journal+confirmed").all()
        est = got.filter(pl.col("status") == "estimated")
        assert est.height and est["odds_ratio"].is_not_null().all()
        assert est.filter(pl.col("model") == "single")["q"].is_not_null().all()
        ins = got.filter(pl.col("status") == "insufficient_data")
        assert ins["odds_ratio"].is_null().all()
        # the same frames through the pure function give the same rows
        pure, _ = pt.compute(pt.load_frames(con))
        cmp = got.drop("computed_utc").sort("participant_id", "trigger", "lag", "model")
        from polars.testing import assert_frame_equal

        assert_frame_equal(
            cmp.select(pure.columns),
            pure.sort("participant_id", "trigger", "lag", "model"),
            check_dtypes=False,
        )
        # nothing changed: nothing recomputed
        again = pt.update_triggers(con)
        assert again.participants == 0 and again.skipped == 3

        # a new journal entry for one person: that person (and the pooled rows) only
        con.execute(
            "INSERT INTO journal (participant_id, time_utc, utc_offset_s, kind, "
            "import_id) VALUES ('s002', '2025-03-04 02:00+00', 3600, 'cramp', 99)"
        )
        before = con.execute(
            "SELECT participant_id, max(computed_utc) FROM trigger_associations GROUP BY 1"
        ).fetchall()
        s3 = pt.update_triggers(con)
        assert s3.participants == 1
        after = dict(
            con.execute(
                "SELECT participant_id, max(computed_utc) FROM trigger_associations GROUP BY 1"
            ).fetchall()
        )
        changed = {p for p, t in before if after[p] != t}
        assert changed == {"s002", "all"}


def test_journal_ppv_is_a_setting_that_recomputes_and_is_stored(db):
    from detectors.trigger_misclass import JOURNAL_PPV

    with store.connect(db) as con:
        pt.update_triggers(con)
        est = pl.col("status") == "estimated"
        default = con.sql("SELECT * FROM trigger_associations").pl()
        assert (default["case_ppv"].drop_nulls() - JOURNAL_PPV).abs().max() < 1e-9
        assert set(default.filter(est)["method"]) == {"conditional_logit_ppv"}
        # a journal trusted fully: the uncorrected estimators, everyone recomputed
        s = pt.update_triggers(con, journal_ppv=1.0)
        assert s.participants == 3
        sure = con.sql("SELECT * FROM trigger_associations").pl()
        assert (sure["case_ppv"].drop_nulls() - 1.0).abs().max() < 1e-9
        assert "conditional_logit_ppv" not in set(sure.filter(est)["method"])
        assert con.sql("SELECT DISTINCT case_sources FROM trigger_runs").fetchall() == [
            ("default;journal_ppv=1",)
        ]
        assert pt.update_triggers(con, journal_ppv=1.0).participants == 0
        with pytest.raises(ValueError, match="probability"):
            pt.update_triggers(con, journal_ppv=1.5)
    out = CliRunner().invoke(_cli(), ["triggers", "--journal-ppv", "0", "--db", str(db)])
    assert out.exit_code == 2 and "journal-ppv" in out.output
    out = CliRunner().invoke(_cli(), ["triggers", "--journal-ppv", "0.8", "--db", str(db)])
    assert out.exit_code == 0, out.output
    assert "real cramp night with probability 0.80" in out.output


def test_experiment_round_trip(db):
    from detectors import nof1

    with store.connect(db) as con:
        exp, blocks = nof1.plan("s001", "magnesium", date(2025, 2, 1), pairs=2, seed=3)
        pt.save_experiment(con, exp, blocks)
        found = pt.analyse_experiment(con, "s001")
        assert found is not None
        _, counts, res = found
        assert counts.height == 4 and res["pairs_complete"] == 2
        row = con.sql("SELECT * FROM experiment_results").pl().row(0, named=True)
        assert row["verdict"] in ("effect", "no_effect", "inconclusive")
        assert row["nights_on"] == 2 * 21 and row["case_source"] == "journal+confirmed"
        assert con.execute("SELECT count(*) FROM experiment_blocks").fetchall()[0][0] == 4
        assert pt.analyse_experiment(con, "nobody") is None


def _cli():
    """The main group with the issue-14 commands (registered on it by pipeline/cli.py)."""
    import click

    from pipeline.cli import main
    from pipeline.cli_triggers import experiment, triggers

    group = click.Group(commands={**main.commands, "triggers": triggers, "experiment": experiment})
    return group


def test_cli_triggers_and_experiments(db):
    main = _cli()

    r = CliRunner().invoke(main, ["triggers", "--db", str(db)])
    assert r.exit_code == 0, r.output
    assert "journal + confirmed labels (default: trusted labels first)" in r.output
    assert "heat_index_caution" in r.output and "OR [95% CI]" in r.output
    assert "more cramp nights needed" in r.output
    assert "all participants (pooled" in r.output
    r = CliRunner().invoke(
        main, ["triggers", "--participant", "s001", "--cases", "journal", "--db", str(db)]
    )
    assert r.exit_code == 0, r.output
    assert "cases from journal;" in r.output and "s002" not in r.output
    assert "corrected for false case nights" in r.output
    r = CliRunner().invoke(main, ["triggers", "--cases", "diary", "--db", str(db)])
    assert r.exit_code != 0 and "unknown case source" in r.output
    r = CliRunner().invoke(
        main,
        [
            "experiment",
            "plan",
            "--participant",
            "s001",
            "--intervention",
            "stretch",
            "--pairs",
            "2",
            "--start",
            "2025-02-01",
            "--seed",
            "4",
            "--db",
            str(db),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "seed 4" in r.output and r.output.count("pair ") == 4
    r = CliRunner().invoke(
        main, ["experiment", "analyse", "--participant", "s001", "--db", str(db)]
    )
    assert r.exit_code == 0, r.output
    assert "rate ratio" in r.output or "no analysed nights" in r.output
    r = CliRunner().invoke(main, ["experiment", "analyse", "--participant", "zz", "--db", str(db)])
    assert r.exit_code != 0 and "no experiment" in r.output


def test_context_rows_are_stored_with_the_statistics_and_read_back(db):
    """Conditions and medications and the between-person comparison are written by the run
    (migration 0013), equal the pure functions' rows, and are rebuilt after a forget."""
    from detectors import triggers as tr
    from pipeline import store_ledger

    with store.connect(db) as con:
        con.execute(
            "UPDATE daily_exposures SET cramp_drug_classes = ['thiazide_diuretic'], "
            "cramp_condition_classes = ['type2_diabetes'] WHERE participant_id = 's001'"
        )
        pt.update_triggers(con)
        ctx, rates = pt.context(con)
        frames = pt.load_frames(con)
        nights = tr.case_nights(
            frames["journal"], frames["labels"], frames["episodes"], frames["sleep_periods"]
        )
        pure_ctx = tr.context_triggers(frames["daily"])
        pure_rates = tr.between_person_rates(nights, frames["daily"])
        assert ctx.rows() == pure_ctx.rows()
        assert ctx.rows() == [
            ("s001", "condition", "type2_diabetes", pure_ctx["finding"][0], "C"),
            ("s001", "medication", "thiazide_diuretic", pure_ctx["finding"][1], "B"),
        ]
        assert rates.drop("case_source").rows() == pure_rates.rows()
        assert rates.height == 2 and set(rates["people_with"]) == {1}
        assert set(rates["case_source"]) == {"journal+confirmed"}
        only, none = pt.context(con, "s001")
        assert none is None and only.rows() == ctx.rows()
        assert pt.context(con, "s002")[0].height == 0

        # forgetting s001's outputs removes the rows over everyone; the next run rebuilds
        # them (nobody's inputs changed, but the pooled rows are missing)
        store_ledger.delete_outputs(con, "s001")
        assert con.sql("SELECT count(*) FROM trigger_between_people").fetchall() == [(0,)]
        assert con.sql(
            "SELECT count(*) FROM trigger_context WHERE participant_id = 's001'"
        ).fetchall() == [(0,)]
        con.execute("DELETE FROM daily_exposures WHERE participant_id = 's001'")
        s = pt.update_triggers(con)
        assert s.participants == 0 and s.rows_written > 0
        assert con.sql(
            "SELECT count(*) FROM trigger_associations WHERE participant_id = 'all'"
        ).fetchall()[0][0]
        assert pt.context(con)[0].height == 0  # nobody left with a class
        assert pt.context(con)[1].height == 0
