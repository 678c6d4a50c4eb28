"""simulators.physio: determinism, clean import into a store, internally consistent truth.

No test here compares the simulator with any detector threshold (the scenario must stay an
honest, independent evaluation set).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from simulators.physio import generate
from simulators.physio.ranges import RANGES
from tests.helpers import tree_digest

NIGHTS = 5


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("physio") / "a"
    return out, generate(out, seed=11, people=2, nights=NIGHTS)


def test_deterministic(run, tmp_path):
    out, _ = run
    generate(tmp_path / "b", seed=11, people=2, nights=NIGHTS)
    assert tree_digest(out) == tree_digest(tmp_path / "b")


def test_imports_cleanly(run, tmp_path):
    from pipeline import store
    from simulators.physio.ingest import ingest

    out, summary = run
    con = store.connect(tmp_path / "cw.duckdb")
    try:
        results = ingest(out, None, con=con)
        assert all(r.status == "ok" for r in results), [(r.path, r.error) for r in results]
        assert sum(r.rows_rejected for r in results) == 0
        formats = {r.format for r in results}
        assert {"apple_health", "fitabase_csv", "open_meteo_csv", "participants_csv"} <= formats
        people = pl.read_csv(out / "inbox" / "participants.csv")
        stored = dict(con.execute("SELECT participant_id, tz FROM participants").fetchall())
        assert stored == dict(zip(people["participant_id"], people["tz"], strict=True))
        truth_ids = set(pl.read_csv(out / "truth.csv")["participant_id"])
        assert truth_ids == set(stored)
        for pid in stored:  # every participant has heart rate, sleep and weather
            n_hr = con.execute(
                "SELECT count(*) FROM samples WHERE participant_id = ? AND "
                "metric = 'heart_rate_bpm'",
                [pid],
            ).fetchone()[0]
            n_sleep = con.execute(
                "SELECT count(*) FROM sleep_segments WHERE participant_id = ?", [pid]
            ).fetchone()[0]
            n_loc = con.execute(
                "SELECT count(*) FROM participant_locations WHERE participant_id = ?", [pid]
            ).fetchone()[0]
            assert n_hr > 100 and n_sleep > 0 and n_loc == 1, pid
        assert summary[pid]["device"] in ("apple", "fitabase")
    finally:
        con.close()


def test_truth_consistent(run):
    out, _ = run
    truth = pl.read_csv(out / "truth.csv").with_columns(
        pl.col("start_utc").str.to_datetime(time_zone="UTC"),
        pl.col("end_utc").str.to_datetime(time_zone="UTC"),
    )
    assert (truth["end_utc"] >= truth["start_utc"]).all()
    sleep = truth.filter(pl.col("kind") == "sleep")
    assert sleep.height == 2 * NIGHTS
    beds = {}
    for row in sleep.iter_rows(named=True):
        d = json.loads(row["detail"])
        beds[(row["participant_id"], row["local_date"])] = (d["bed_utc"], d["out_of_bed_utc"])
    lo, hi = RANGES["cramp_contraction_s"].low, RANGES["cramp_contraction_s"].high
    night_kinds = {
        "nocturnal_cramp",
        "bathroom_trip",
        "phone_use",
        "plm_series",
        "rollover",
        "awakening",
    }
    for row in truth.filter(pl.col("kind").is_in(night_kinds)).iter_rows(named=True):
        bed, out_of_bed = beds[(row["participant_id"], row["local_date"])]
        assert bed <= row["start_utc"].strftime("%Y-%m-%dT%H:%M:%SZ") <= out_of_bed, row
        assert row["end_utc"].strftime("%Y-%m-%dT%H:%M:%SZ") <= out_of_bed, row
        if row["kind"] == "nocturnal_cramp":
            d = json.loads(row["detail"])
            dur = (row["end_utc"] - row["start_utc"]).total_seconds()
            assert lo - 1 <= dur <= hi and d["contraction_s"] == dur
            assert 0 <= d["steps_counted"] <= 40
            if d["stood"]:  # the pain surge began while lying, before standing
                assert d["stand_after_onset_s"] > d["surge_latency_s"]


def test_dehydration_days_match_latent_deficit(run):
    out, _ = run
    days = pl.read_csv(out / "days.csv", infer_schema_length=None)
    truth = pl.read_csv(out / "truth.csv").filter(pl.col("kind") == "dehydration")
    latent = set(
        days.filter(pl.col("deficit_end_pct_bm") >= 2.0)
        .select("participant_id", "local_date")
        .iter_rows()
    )
    assert set(truth.select("participant_id", "local_date").iter_rows()) == latent
    assert days.height == 2 * (NIGHTS + 1)


def test_ranges_documented(run):
    out, _ = run
    table = (out / "ranges.md").read_text()
    for name, r in RANGES.items():
        assert r.low <= r.high and r.source.strip(), name
        assert f"`{name}`" in table
