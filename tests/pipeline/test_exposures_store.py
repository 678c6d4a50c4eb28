"""pipeline.exposures: daily_exposures written for changed participant/date ranges."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from detectors.exposures import EXPOSURES_VERSION
from pipeline import store
from pipeline.detect import output_window
from pipeline.exposures import LOOKAHEAD_DAYS, compute_changed_exposures, update_exposures
from simulators.daygen import generate

UNITS = {
    "active_energy_kcal": "kcal", "water_ml": "mL", "body_mass_kg": "kg",
    "resting_heart_rate_bpm": "count/min", "heart_rate_bpm": "count/min", "hrv_sdnn_ms": "ms",
}  # fmt: skip


def _import(con, path: str) -> int:
    return con.execute(
        "INSERT INTO imports (path, status, started_utc) VALUES (?, 'ok', now()) "
        "RETURNING import_id",
        [path],
    ).fetchall()[0][0]


def _load(con, gen, lo: date, hi: date, path: str) -> int:
    """Insert the generated rows whose local date is in [lo, hi] as one import."""
    iid = _import(con, path)

    def local(col: str) -> pl.Expr:
        return (pl.col(col) + pl.duration(seconds=pl.col("utc_offset_s"))).dt.date()

    smp = gen.samples.filter(local("start_utc").is_between(lo, hi)).with_columns(
        unit=pl.col("metric").replace_strict(UNITS), device=pl.lit(""), import_id=pl.lit(iid)
    )
    store.insert_new(con, "samples", smp, ["participant_id", "metric", "start_utc", "end_utc",
                                           "source", "device"])  # fmt: skip
    wk = gen.workouts.filter(local("start_utc").is_between(lo, hi)).with_columns(
        import_id=pl.lit(iid)
    )
    store.insert_new(con, "workouts", wk, ["participant_id", "activity_type", "start_utc"])
    env = (
        gen.environment.filter(local("time_utc").is_between(lo, hi))
        .with_columns(location_id=pl.col("participant_id") + "-home", import_id=pl.lit(iid))
        .drop("participant_id")
    )
    store.insert_new(con, "environment", env, ["location_id", "time_utc", "setting"])
    for pid in gen.participants["participant_id"]:
        con.execute(
            "INSERT OR IGNORE INTO participant_locations (participant_id, location_id) "
            "VALUES (?, ?)",
            [pid, pid + "-home"],
        )
    return iid


@pytest.fixture(scope="module")
def gen():
    return generate(seed=5, n_participants=2, n_days=20, start=date(2024, 7, 1))


@pytest.fixture()
def con(tmp_path, gen):
    with store.connect(tmp_path / "s.duckdb") as c:
        ppl = gen.participants.with_columns(
            medications=pl.Series([["hydrochlorothiazide"], None], dtype=pl.List(pl.String))
        )
        store.insert_new(c, "participants", ppl, ["participant_id"])
        yield c


def test_update_writes_every_day_once_and_is_idempotent(con, gen) -> None:
    _load(con, gen, date(2024, 6, 1), date(2024, 7, 10), "a")
    s = update_exposures(con)
    assert s.participants == 2 and s.days_written > 0
    n, dup = con.execute(
        "SELECT count(*), count(*) - count(DISTINCT (participant_id, local_date)) "
        "FROM daily_exposures"
    ).fetchall()[0]
    assert n == s.days_written and dup == 0
    assert con.execute("SELECT max(local_date) FROM daily_exposures").fetchall()[0][0] <= date(
        2024, 7, 11
    )
    again = update_exposures(con)  # nothing imported since
    assert again.participants == 0 and again.days_written == 0
    assert con.execute("SELECT count(*) FROM daily_exposures").fetchall()[0][0] == n
    runs = con.execute("SELECT count(*), max(max_import_id) FROM exposure_runs").fetchall()[0]
    assert runs == (2, 1)


def test_columns_round_trip_with_lists_and_nulls(con, gen) -> None:
    _load(con, gen, date(2024, 6, 1), date(2024, 7, 10), "a")
    update_exposures(con)
    row = con.execute(
        "SELECT medications, cramp_drug_classes, outdoor_wbgt_method, fluid_logged, "
        "computed_utc IS NOT NULL, detector_version FROM daily_exposures "
        "WHERE participant_id = 'g00' AND local_date = DATE '2024-07-05'"
    ).fetchall()[0]
    assert row[0] == ["hydrochlorothiazide"] and row[1] == ["thiazide_diuretic"]
    assert row[2] in ("bernard1999", "liljegren2008") and row[4] and row[5] == EXPOSURES_VERSION
    other = con.execute(
        "SELECT medications, cramp_drug_classes FROM daily_exposures "
        "WHERE participant_id = 'g01' LIMIT 1"
    ).fetchall()[0]
    assert other == (None, None)  # unknown, not an empty list


def test_a_new_import_recomputes_only_its_range(con, gen) -> None:
    _load(con, gen, date(2024, 6, 1), date(2024, 7, 10), "a")
    update_exposures(con)
    before = dict(
        con.execute(
            "SELECT local_date, computed_utc FROM daily_exposures WHERE participant_id = 'g00'"
        ).fetchall()
    )
    _load(con, gen, date(2024, 7, 11), date(2024, 7, 20), "b")
    s = update_exposures(con)
    assert s.participants == 2
    after = dict(
        con.execute(
            "SELECT local_date, computed_utc FROM daily_exposures WHERE participant_id = 'g00'"
        ).fetchall()
    )
    assert max(after) == date(2024, 7, 20)  # the new days
    # 9 July too: its body-water state reads 10 July and that day's next morning
    # (pipeline.detect.DAILY_REACH_BACK_DAYS, dehydration-0.3.3)
    untouched = [d for d in before if d < date(2024, 7, 9)]
    assert untouched and all(after[d] == before[d] for d in untouched)
    assert after[date(2024, 7, 9)] > before[date(2024, 7, 9)]
    assert after[date(2024, 7, 10)] > before[date(2024, 7, 10)]  # next-morning columns
    nm = con.execute(
        "SELECT count(next_morning_mass_change_pct) FROM daily_exposures "
        "WHERE local_date = DATE '2024-07-10'"
    ).fetchall()[0][0]
    assert nm >= 0  # recomputed with the 11 July morning available


def test_compute_changed_exposures_replaces_exactly_the_window(con, gen) -> None:
    _load(con, gen, date(2024, 6, 1), date(2024, 7, 20), "a")
    update_exposures(con)
    total = con.execute("SELECT count(*) FROM daily_exposures").fetchall()[0][0]
    lo = hi = date(2024, 6, 10)
    before = dict(
        con.execute(
            "SELECT local_date, computed_utc FROM daily_exposures WHERE participant_id = 'g00'"
        ).fetchall()
    )
    out_lo, out_hi, span = output_window(con, "g00", lo, hi, LOOKAHEAD_DAYS)
    assert out_hi >= hi + timedelta(days=LOOKAHEAD_DAYS) and span == (date(2024, 6, 1), max(before))
    written = compute_changed_exposures(con, {"g00": (lo, hi)})
    window = [d for d in before if out_lo <= d <= out_hi]
    assert written == len(window) and window
    assert con.execute("SELECT count(*) FROM daily_exposures").fetchall()[0][0] == total
    after = dict(
        con.execute(
            "SELECT local_date, computed_utc FROM daily_exposures WHERE participant_id = 'g00'"
        ).fetchall()
    )
    assert all((after[d] == before[d]) == (d not in window) for d in before)


def test_full_recompute_and_rollback_on_error(con, gen, monkeypatch) -> None:
    _load(con, gen, date(2024, 6, 1), date(2024, 7, 10), "a")
    first = update_exposures(con)
    n = con.execute("SELECT count(*) FROM daily_exposures").fetchall()[0][0]
    full = update_exposures(con, full=True)
    assert full.days_written == first.days_written
    assert con.execute("SELECT count(*) FROM daily_exposures").fetchall()[0][0] == n

    import pipeline.exposures as pe

    def boom(*a, **k):
        raise RuntimeError("detector failed")

    _load(con, gen, date(2024, 7, 11), date(2024, 7, 20), "b")
    monkeypatch.setattr(pe, "compute_daily_exposures", boom)
    with pytest.raises(RuntimeError):
        update_exposures(con)
    assert con.execute("SELECT count(*) FROM daily_exposures").fetchall()[0][0] == n
    assert con.execute("SELECT max(max_import_id) FROM exposure_runs").fetchall()[0][0] == 1


def test_rows_of_an_older_table_version_are_recomputed(con, gen) -> None:
    _load(con, gen, date(2024, 6, 1), date(2024, 7, 10), "a")
    first = update_exposures(con)
    # as a store written before an upgrade: one person's rows carry the old version
    con.execute("UPDATE daily_exposures SET detector_version = 'exposures-0.1', "
                "indoor_sensor_h = NULL WHERE participant_id = 'g01'")  # fmt: skip
    s = update_exposures(con)  # nothing new imported
    assert s.participants == 1
    assert s.days_written == con.execute(
        "SELECT count(*) FROM daily_exposures WHERE participant_id = 'g01'").fetchall()[0][0]  # fmt: skip
    versions = con.execute("SELECT DISTINCT detector_version FROM daily_exposures").fetchall()
    assert versions == [(EXPOSURES_VERSION,)]
    total = con.execute("SELECT count(*) FROM daily_exposures").fetchall()[0][0]
    assert total == first.days_written
    # g01 has the bedroom sensor in the generator: its hours are back
    assert con.execute("SELECT count(indoor_sensor_h) FROM daily_exposures "
                       "WHERE participant_id = 'g01'").fetchall()[0][0] > 0  # fmt: skip
    assert update_exposures(con).participants == 0


def test_an_old_version_row_outside_the_data_range_is_removed_once(con, gen) -> None:
    _load(con, gen, date(2024, 6, 1), date(2024, 7, 10), "a")
    update_exposures(con)
    n = con.execute("SELECT count(*) FROM daily_exposures").fetchall()[0][0]
    con.execute("INSERT INTO daily_exposures (participant_id, local_date, detector_version, "
                "computed_utc) VALUES ('g00', DATE '2023-01-01', 'exposures-0.1', now())")  # fmt: skip
    assert update_exposures(con).participants == 1
    assert con.execute("SELECT count(*) FROM daily_exposures").fetchall()[0][0] == n
    assert update_exposures(con).participants == 0  # converged: no recompute every night


def _incremental_and_full(tmp_path, gen, parts, full) -> None:
    """Import ``parts`` one after the other with an incremental update after each, ``full``
    at once into another store with a full update; the two stores' daily exposures and
    episodes must agree (floats within 1e-9 relative: sums over rows inserted in another
    order differ in the last digits; every other value exactly)."""
    from polars.testing import assert_frame_equal

    from pipeline.detect import detect_changed

    span = (date(2024, 4, 1), date(2024, 10, 1))

    def rows(con) -> tuple[pl.DataFrame, pl.DataFrame]:
        daily = con.sql(
            "SELECT * EXCLUDE (computed_utc) FROM daily_exposures ORDER BY participant_id, "
            "local_date"
        ).pl()
        episodes = con.sql(
            "SELECT participant_id, kind, local_date, start_utc, end_utc, confidence, label "
            "FROM episodes ORDER BY ALL"
        ).pl()
        return daily, episodes

    with store.connect(tmp_path / "incremental.duckdb") as a:
        store.insert_new(a, "participants", gen.participants, ["participant_id"])
        for k, (part, lo, hi) in enumerate(parts):
            _load(a, part, lo or span[0], hi or span[1], f"part {k}")
            assert update_exposures(a).participants > 0
            assert detect_changed(a).participants > 0
        inc_daily, inc_eps = rows(a)
    with store.connect(tmp_path / "full.duckdb") as b:
        store.insert_new(b, "participants", gen.participants, ["participant_id"])
        _load(b, full, *span, "all")
        update_exposures(b, full=True)
        detect_changed(b, full=True)
        full_daily, full_eps = rows(b)
    assert inc_eps.filter(pl.col("kind") == "dehydration").height > 0
    assert_frame_equal(inc_daily, full_daily, rel_tol=1e-9)
    assert_frame_equal(inc_eps, full_eps, rel_tol=1e-9)


def _sparse_logger(seed: int, every: int):
    """daygen people who log water only every ``every``-th day of the month."""
    import dataclasses

    gen = generate(seed=seed, n_participants=4, n_days=150, start=date(2024, 5, 1))
    local = (pl.col("start_utc") + pl.duration(seconds=pl.col("utc_offset_s"))).dt.date()
    sparse = (pl.col("metric") == "water_ml") & (local.dt.day() % every != 0)
    return dataclasses.replace(gen, samples=gen.samples.filter(~sparse)), local


def test_incremental_runs_equal_a_full_run_after_a_late_water_log(tmp_path) -> None:
    """A water log synced days late (its days go from `not_logged` to logged, which moves the
    typical-intake, partial-log and model-bias windows of the weeks after): the incremental
    exposures and detection equal a full run over all the data (issue 12 item 3)."""
    import dataclasses

    gen, local = _sparse_logger(11, 5)
    late = (pl.col("metric") == "water_ml") & local.is_between(date(2024, 6, 10), date(2024, 6, 14))
    first = dataclasses.replace(gen, samples=gen.samples.filter(~late))
    synced = dataclasses.replace(
        gen,
        samples=gen.samples.filter(late),
        workouts=gen.workouts.clear(),
        environment=gen.environment.clear(),
    )
    assert synced.samples.height >= 10
    _incremental_and_full(tmp_path, gen, [(first, None, None), (synced, None, None)], gen)


def test_incremental_runs_equal_a_full_run_when_new_weighings_arrive(tmp_path) -> None:
    """Each day takes its body mass from the nearest weighing however far (sweat, need and
    deficit in % of it): the next nights' data with a new weighing changes days before them,
    back to midway to the previous weighing (a person who weighs rarely)."""
    import dataclasses

    gen, local = _sparse_logger(14, 3)
    mass = pl.col("metric") == "body_mass_kg"
    rare = gen.samples.filter(~mass | (local.dt.day() == 5))  # weighs on the 5th of a month
    g = dataclasses.replace(gen, samples=rare)
    cut = date(2024, 8, 4)
    assert g.samples.filter(mass & (local == cut + timedelta(days=1))).height
    _incremental_and_full(tmp_path, g, [(g, None, cut), (g, cut + timedelta(days=1), None)], g)


def test_episodes_of_an_older_detector_version_are_redetected(con, gen) -> None:
    """After an upgrade that changes a detector's version, the next run (nothing new
    imported) re-detects the participants whose episodes or sleep periods carry another
    version, whole, and then converges (as daily_exposures do)."""
    from detectors.dehydration import DETECTOR_VERSION
    from pipeline.detect import current_versions, detect_changed

    assert DETECTOR_VERSION in current_versions("episodes")
    _load(con, gen, date(2024, 6, 1), date(2024, 7, 10), "a")
    detect_changed(con)
    cols = "participant_id, kind, start_utc, confidence, label, detector_version"
    before = con.sql(f"SELECT {cols} FROM episodes ORDER BY ALL").fetchall()
    assert before and {r[-1] for r in before} == {DETECTOR_VERSION}
    pid = before[0][0]
    # as a store written by the previous release: another version and another confidence
    con.execute("UPDATE episodes SET detector_version = 'dehydration-0.3.1', confidence = 0.99, "
                "label = 'likely' WHERE participant_id = ?", [pid])  # fmt: skip
    assert detect_changed(con).participants == 1
    assert con.sql(f"SELECT {cols} FROM episodes ORDER BY ALL").fetchall() == before
    assert detect_changed(con).participants == 0  # converged: no re-detection every night
    # an old-version row outside the participant's data range goes too, once
    con.execute(
        "INSERT INTO episodes (episode_id, participant_id, kind, start_utc, end_utc, local_date, "
        "confidence, label, evidence, detector_version, created_utc) VALUES ('old', ?, "
        "'nocturnal_cramp', TIMESTAMPTZ '2023-01-01 03:00:00+00', "
        "TIMESTAMPTZ '2023-01-01 03:05:00+00', DATE '2022-12-31', 0.9, 'likely', '{}', "
        "'cramp-0.3', now())",
        [pid],
    )
    assert detect_changed(con).participants == 1
    assert con.sql(f"SELECT {cols} FROM episodes ORDER BY ALL").fetchall() == before
    assert detect_changed(con).participants == 0
