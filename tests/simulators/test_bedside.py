"""simulators.bedside: determinism, clean import into a store, UTC truth, DST nights whole,
documented ranges, and events inside their OWN documented ranges.

No test here compares the simulator with any detector threshold (the scenario must stay an
honest, independent evaluation set).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import pytest

from simulators.bedside import generate
from simulators.bedside.people import TRAVEL_TZ, make_people
from simulators.bedside.ranges import FEATURE_RANGES, RANGES, markdown
from simulators.bedside.writers import apple_times
from tests.helpers import tree_digest

NIGHTS = 8
START = date(2024, 10, 26)  # person 1 (Berlin, Fitabase): DST ends in the night of Oct 26
NIGHT_KINDS = {
    "nocturnal_cramp",
    "bathroom_trip",
    "phone_use",
    "plm_series",
    "rls",
    "rollover",
    "awakening",
}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("bedside") / "a"
    return out, generate(out, seed=5, people=2, nights=NIGHTS, start=START)


@pytest.fixture(scope="module")
def truth(run) -> pl.DataFrame:
    from pipeline.evaluate import read_truth

    return read_truth(run[0] / "truth.csv")


def test_deterministic(run, tmp_path):
    out, _ = run
    generate(tmp_path / "b", seed=5, people=2, nights=NIGHTS, start=START)
    assert tree_digest(out) == tree_digest(tmp_path / "b")
    generate(tmp_path / "c", seed=6, people=2, nights=NIGHTS, start=START)
    assert tree_digest(out) != tree_digest(tmp_path / "c")


def test_imports_cleanly(run, tmp_path):
    from pipeline import store
    from simulators.bedside.ingest import ingest

    out, summary = run
    con = store.connect(tmp_path / "cw.duckdb")
    try:
        results = ingest(out, None, con=con)
        assert all(r.status == "ok" for r in results), [(r.path, r.error) for r in results]
        assert sum(r.rows_rejected for r in results) == 0
        assert {"apple_health", "fitabase_csv", "participants_csv"} <= {r.format for r in results}
        people = pl.read_csv(out / "inbox" / "participants.csv")
        stored = dict(con.execute("SELECT participant_id, tz FROM participants").fetchall())
        assert stored == dict(zip(people["participant_id"], people["tz"], strict=True))
        assert {summary[p]["device"] for p in stored} == {"apple", "fitabase"}
        for pid in stored:
            n_hr, n_steps = con.execute(
                "SELECT count(*) FILTER (metric = 'heart_rate_bpm'), "
                "count(*) FILTER (metric = 'steps') FROM samples WHERE participant_id = ?",
                [pid],
            ).fetchone()
            n_sleep = con.execute(
                "SELECT count(*) FROM sleep_segments WHERE participant_id = ?", [pid]
            ).fetchone()[0]
            assert n_hr > 50 * NIGHTS and n_steps > 0 and n_sleep > NIGHTS, pid
    finally:
        con.close()


def test_truth_utc_and_inside_nights(run, truth):
    out, _ = run
    raw = pl.read_csv(out / "truth.csv")
    assert raw["start_utc"].str.ends_with("Z").all() and raw["end_utc"].str.ends_with("Z").all()
    assert str(truth["start_utc"].dtype.time_zone) == "UTC"
    assert (truth["end_utc"] >= truth["start_utc"]).all()
    kinds = set(truth["kind"])
    assert {"sleep", "nocturnal_cramp", "bathroom_trip", "rollover", "watch_off"} <= kinds
    sleep = truth.filter(pl.col("kind") == "sleep")
    assert sleep.height == 2 * NIGHTS
    beds = {}
    for row in sleep.iter_rows(named=True):
        d = json.loads(row["detail"])
        beds[(row["participant_id"], row["local_date"])] = (
            datetime.fromisoformat(d["bed_utc"]),
            datetime.fromisoformat(d["out_of_bed_utc"]),
        )
        assert beds[(row["participant_id"], row["local_date"])][0] <= row["start_utc"]
    for row in truth.filter(pl.col("kind").is_in(NIGHT_KINDS)).iter_rows(named=True):
        bed, up = beds[(row["participant_id"], row["local_date"])]
        assert bed <= row["start_utc"] and row["end_utc"] <= up, row
    feats = pl.read_csv(out / "hidden_features.csv")
    n_events = truth.filter(pl.col("kind") != "sleep").height
    charging = truth.filter(pl.col("detail").str.contains("daytime_charging")).height
    assert feats.height == n_events - charging and "kind" in feats.columns


def test_dst_night_not_split(truth):
    night = truth.filter(
        (pl.col("kind") == "sleep")
        & pl.col("participant_id").str.starts_with("fitabase-")
        & (pl.col("local_date") == START)
    )
    assert night.height == 1
    row = night.row(0, named=True)
    d = json.loads(row["detail"])
    assert d["tz"] == "Europe/Berlin"
    bed, up = datetime.fromisoformat(d["bed_utc"]), datetime.fromisoformat(d["out_of_bed_utc"])
    zi = ZoneInfo("Europe/Berlin")
    assert bed.astimezone(zi).utcoffset() != up.astimezone(zi).utcoffset()  # DST inside
    assert (row["end_utc"] - row["start_utc"]).total_seconds() == d["sleep_period_s"]


def test_ranges_documented():
    table = markdown()
    assert (Path(__file__).parents[2] / "simulators" / "bedside" / "ranges.md").read_text() == table
    for name, r in RANGES.items():
        assert r.low <= r.high and r.source.strip() and r.unit.strip(), name
        assert f"`{name}`" in table
        if r.mode is not None:
            assert r.low <= r.mode <= r.high, name
    assert set(FEATURE_RANGES.values()) <= set(RANGES)


def test_events_inside_own_ranges(truth):
    seen = set()
    for row in truth.filter(pl.col("kind").is_in(NIGHT_KINDS | {"watch_off"})).iter_rows(
        named=True
    ):
        d = json.loads(row["detail"])
        if d.get("part") == "daytime_charging":
            continue
        for (kind, feat), name in FEATURE_RANGES.items():
            if kind == row["kind"] and d.get(feat) is not None:
                r = RANGES[name]
                assert r.low - 1e-3 <= d[feat] <= r.high + 1e-3, (kind, feat, d[feat], name)
                seen.add((kind, feat))
        if row["kind"] == "nocturnal_cramp":
            dur = (row["end_utc"] - row["start_utc"]).total_seconds()
            assert dur == d["contraction_s"]
            if d["stood"]:  # the pain surge begins while lying, before standing
                assert d["stand_after_onset_s"] > d["surge_latency_s"]
            else:
                assert d["steps_true"] == 0
    assert ("nocturnal_cramp", "contraction_s") in seen
    assert ("bathroom_trip", "steps_true") in seen


def test_cohort_zones_and_devices():
    people = make_people(6, date(2024, 9, 1), 90, np.random.default_rng(0))
    assert len({p.tz for p in people}) == 6
    assert sorted(p.device for p in people) == ["apple"] * 3 + ["fitabase"] * 3
    travellers = [p for p in people if len(p.zones) > 1]
    assert len(travellers) == 1 and travellers[0].device == "apple"
    t = travellers[0]
    assert [z for _, z in t.zones] == [t.tz, TRAVEL_TZ, t.tz]
    away, home_again = t.zones[1][0], t.zones[2][0]
    stamps = apple_times([away - 60, away + 60, home_again + 60], t)
    assert stamps[1].endswith(("-0500", "-0600")) and not stamps[0].endswith(("-0500", "-0600"))
    assert stamps[2][-5:] in ("+0000", "+0100")
    dst = 0
    for p in people:
        zi = ZoneInfo(p.tz)
        a = datetime(2024, 9, 1, tzinfo=zi).utcoffset()
        b = datetime(2024, 11, 30, tzinfo=zi).utcoffset()
        dst += a != b
    assert dst >= 2
