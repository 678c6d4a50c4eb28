"""The nocturne simulator: determinism, clean import, truth inside the nights, DST, ranges,
cohort. Small runs (2 people x 5 nights across the Berlin DST change)."""

from __future__ import annotations

import importlib
import xml.etree.ElementTree as ET
import zipfile
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import pytest

from pipeline.evaluate import read_truth
from simulators.apple_export.layout import DTD
from simulators.nocturne import generate
from simulators.nocturne.cohort import make_cohort
from simulators.nocturne.ingest import ingest
from simulators.nocturne.ranges import RANGES, draw

START = date(2024, 10, 24)
NIGHT_KINDS = {
    "nocturnal_cramp",
    "bathroom_trip",
    "phone_use",
    "plms_series",
    "awakening",
    "arousal",
    "rollover",
    "hot_night",
}


TIMELINES: list = []  # the final true timelines of run ``a``, one per person in cohort order


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    gen = importlib.import_module("simulators.nocturne.generate")  # the module, not the function
    a = tmp_path_factory.mktemp("a")
    b = tmp_path_factory.mktemp("b")

    class Recorded(gen.Timeline):
        def __post_init__(self):
            super().__post_init__()
            TIMELINES.append(self)

    TIMELINES.clear()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(gen, "Timeline", Recorded)
        generate(a, seed=3, people=2, nights=5, start=START)
    generate(b, seed=3, people=2, nights=5, start=START)
    return a, b


def _files(root):
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def test_deterministic(runs):
    a, b = runs
    assert _files(a) == _files(b)
    for rel in _files(a):
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_imports_without_rejections(runs, tmp_path):
    a, _ = runs
    res = ingest(a, tmp_path / "cw.duckdb")
    assert len(res) == 1 + 1 + 4  # participants, one export.zip, four Fitabase files
    for r in res:
        assert r.status == "ok", (r.path, r.error)
        assert r.rows_rejected == 0, r.path
        assert r.rows_accepted > 0, r.path


def test_truth_inside_nights(runs):
    a, _ = runs
    truth = read_truth(a / "truth.csv")
    sleep = truth.filter(pl.col("kind") == "sleep")
    assert sleep.group_by("participant_id").len()["len"].to_list() == [5, 5]
    night = truth.filter(pl.col("kind").is_in(NIGHT_KINDS)).join(
        sleep.select("participant_id", "local_date", s0="start_utc", s1="end_utc"),
        on=["participant_id", "local_date"],
    )
    assert night.height == truth.filter(pl.col("kind").is_in(NIGHT_KINDS)).height
    pad = timedelta(hours=1)
    bad = night.filter(
        (pl.col("start_utc") < pl.col("s0") - pad) | (pl.col("end_utc") > pl.col("s1") + pad)
    )
    assert bad.height == 0, bad
    assert (truth["end_utc"] >= truth["start_utc"]).all()
    per_night = truth.filter(pl.col("kind") == "nocturnal_cramp").group_by(
        "participant_id", "local_date"
    )
    assert (per_night.len()["len"] <= RANGES["cramp_max_per_night"].high).all()


def test_dst_night_is_one_night(runs):
    a, _ = runs
    truth = read_truth(a / "truth.csv")
    berlin = truth.filter((pl.col("participant_id") == "apple-01") & (pl.col("kind") == "sleep"))
    dst = berlin.filter(pl.col("local_date") == date(2024, 10, 26))
    assert dst.height == 1
    hours = (dst["end_utc"][0] - dst["start_utc"][0]).total_seconds() / 3600
    assert 4 < hours < 11
    # its local start and end straddle the change: +02:00 in the evening, +01:00 next morning
    z = ZoneInfo("Europe/Berlin")
    assert dst["start_utc"][0].astimezone(z).utcoffset() == timedelta(hours=2)
    assert dst["end_utc"][0].astimezone(z).utcoffset() == timedelta(hours=1)


def test_hidden_features_one_row_per_truth_row(runs):
    a, _ = runs
    truth = pl.read_csv(a / "truth.csv")
    feats = pl.read_csv(a / "hidden_features.csv")
    assert feats.height == truth.height
    assert feats["kind"].to_list() == truth["kind"].to_list()
    for col in ("hr_response_bpm", "true_steps", "counted_steps", "standing_s", "awake_s"):
        assert feats[col].null_count() == 0
    assert (feats["is_cramp"] == (feats["kind"] == "nocturnal_cramp")).all()


def test_stage_at_onset_read_from_the_final_timeline_for_every_kind(runs):
    """stage_at_onset is the true stage at start - 1 s in the final timeline, for every kind
    (not recorded by some kinds before and by others after they rewrite the stage)."""
    a, _ = runs
    from simulators.nocturne.timeline import STAGE_NAMES

    feats = pl.read_csv(a / "hidden_features.csv")
    pids = make_cohort(np.random.default_rng([3, 0]), 2, 5, START)
    assert len(TIMELINES) == len(pids)
    checked = set()
    for person, tl in zip(pids, TIMELINES, strict=True):
        rows = feats.filter(pl.col("participant_id") == person.pid)
        for kind, start, st in rows.select("kind", "start_utc", "stage_at_onset").rows():
            # the string is UTC: read it as such, whatever the machine's local zone
            utc = int(
                datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
            )
            assert st == STAGE_NAMES[int(tl.stage[utc - tl.t0 - 1])], (kind, start)
            checked.add(kind)
    assert {"nocturnal_cramp", "bathroom_trip", "awakening", "arousal", "sleep"} <= checked


MAJOR = ("nocturnal_cramp", "bathroom_trip", "phone_use", "plms_series")


def test_major_events_do_not_overlap(runs):
    """No two major events (cramp, bathroom trip, phone use, PLM series) overlap, and no
    awakening overlaps another awakening or a cramp, bathroom trip or phone use (awakenings
    may fall between the movements of a PLM series)."""
    a, _ = runs
    truth = read_truth(a / "truth.csv")
    ev = truth.filter(pl.col("kind").is_in([*MAJOR, "awakening"])).sort("start_utc")
    bad = []
    for (pid,), g in ev.group_by("participant_id"):
        rows = g.select("kind", "start_utc", "end_utc").rows()
        for i, (k1, s1, e1) in enumerate(rows):
            for k2, s2, e2 in rows[i + 1 :]:
                if {k1, k2} == {"plms_series", "awakening"}:
                    continue
                if s2 < e1 and s1 < e2:
                    bad.append((pid, k1, s1, e1, k2, s2, e2))
    assert not bad, bad[:5]


def test_background_rates_match_the_drawn_rates(runs):
    """Each person's realised awakenings and arousals per hour of true sleep are close to the
    drawn ``awakening_per_h`` / ``arousal_per_h`` (no heavy thinning by the placement)."""
    a, _ = runs
    truth = read_truth(a / "truth.csv")
    people = make_cohort(np.random.default_rng([3, 0]), 2, 5, START)
    for person, tl in zip(people, TIMELINES, strict=True):
        sleep_h = float((tl.stage >= 1).sum()) / 3600
        mine = truth.filter(pl.col("participant_id") == person.pid)
        for kind in ("awakening", "arousal"):
            drawn = person.p[f"{kind}_per_h"]
            real = mine.filter(pl.col("kind") == kind).height / sleep_h
            assert 0.6 <= real / drawn <= 1.4, (person.pid, kind, real, drawn)


def test_ranges_have_sources_and_draws_stay_inside():
    rng = np.random.default_rng(0)
    for name, r in RANGES.items():
        assert r.source.strip(), name
        assert r.low <= r.high, name
        v = np.asarray(draw(rng, name, 500))
        assert (v >= r.low).all() and (v <= r.high).all(), name


def test_event_durations_inside_ranges(runs):
    a, _ = runs
    truth = read_truth(a / "truth.csv").with_columns(
        d=(pl.col("end_utc") - pl.col("start_utc")).dt.total_seconds()
    )
    for kind, name, scale in (
        ("nocturnal_cramp", "cramp_contraction_s", 1),
        ("arousal", "arousal_s", 1),
        ("awakening", "awakening_s", 1),
        ("rollover", "rollover_s", 1),
        ("phone_use", "phone_min", 60),
    ):
        d = truth.filter(pl.col("kind") == kind)["d"]
        r = RANGES[name]
        assert ((d >= int(r.low * scale) - 1) & (d <= r.high * scale)).all(), kind


def test_cohort():
    people = make_cohort(np.random.default_rng(1), 6, 90, date(2024, 9, 1))
    assert sorted(p.device for p in people) == ["apple"] * 3 + ["fitbit"] * 3
    assert len({p.home for p in people}) == 6
    assert any(p.lat < 0 for p in people)
    for p in people:
        assert p.pid.startswith("fitabase-") == (p.device == "fitbit")

    def dst_change(z):
        a = datetime(2024, 9, 2, tzinfo=ZoneInfo(z)).utcoffset()
        return a != datetime(2024, 11, 29, tzinfo=ZoneInfo(z)).utcoffset()

    assert sum(dst_change(p.home) for p in people) >= 2
    trav = [p for p in people if p.travel]
    assert len(trav) == 1 and trav[0].device == "apple"
    t = datetime(2024, 10, 15)
    diff = (
        t.replace(tzinfo=ZoneInfo(trav[0].home)).utcoffset()
        - t.replace(tzinfo=ZoneInfo(trav[0].away)).utcoffset()
    )
    assert abs(diff) >= timedelta(hours=5)
    assert trav[0].travel[1] - trav[0].travel[0] == 7


def test_traveller_records_carry_away_offsets(tmp_path):
    generate(tmp_path, seed=2, people=1, nights=50, start=date(2024, 9, 1))
    xml = zipfile.ZipFile(tmp_path / "inbox/apple-01/export.zip").read(
        "apple_health_export/export.xml"
    )
    assert b'startDate="2024-10-13 ' in xml
    assert xml.count(b'-0400"') > 100  # New York in October
    assert xml.count(b'+0200"') > 100  # Berlin


def test_plms_is_a_person_level_mixture():
    """Each person draws a PLMS prevalence in range, has PLMS or not, and an index in the
    range of their group; over many cohorts the share with PLMS is near the prevalence."""
    has = []
    for seed in range(40):
        for p in (q.p for q in make_cohort(np.random.default_rng(seed), 6, 10, START)):
            prev = RANGES["plms_prevalence"]
            assert prev.low <= p["plms_prevalence"] <= prev.high
            r = RANGES["plms_index_per_h" if p["has_plms"] else "plms_index_low_per_h"]
            assert r.low <= p["plms_index_per_h"] <= r.high
            has.append(p["has_plms"])
    assert prev.low - 0.07 < float(np.mean(has)) < prev.high + 0.07


def test_apple_export_opens_like_a_real_one_and_holds_iphone_steps(runs):
    a, _ = runs
    xml = zipfile.ZipFile(a / "inbox/apple-01/export.zip").read("apple_health_export/export.xml")
    assert xml.startswith(DTD.encode())
    root = ET.fromstring(xml)
    assert [root[0].tag, root[1].tag] == ["ExportDate", "Me"]
    steps = [r for r in root.iter("Record") if r.get("type").endswith("StepCount")]
    phone = [r for r in steps if r.get("sourceName").endswith("iPhone")]
    assert phone and len(phone) < len(steps)
    # the phone lies on the nightstand: no iPhone steps inside any sleep period
    sleep = read_truth(a / "truth.csv").filter(
        (pl.col("participant_id") == "apple-01") & (pl.col("kind") == "sleep")
    )
    fmt = "%Y-%m-%d %H:%M:%S %z"
    for r in phone:
        s0, s1 = (datetime.strptime(r.get(k), fmt) for k in ("startDate", "endDate"))
        assert not any(s1 > x and s0 < y for x, y in sleep.select("start_utc", "end_utc").rows())


def test_fitbit_night_hr_variability_like_the_real_files(runs):
    """Measured as on the real Fitabase files (5 users): SD of HR in 5-min windows 00-05 h
    local with >= 10 readings has per-user medians 1.8-2.8 bpm, and readings 1-3 s apart
    differ by half a mean squared difference of 0.15-0.84 bpm^2 (the device error is small)."""
    a, _ = runs
    pid = make_cohort(np.random.default_rng([3, 0]), 2, 5, START)[1].pid
    f = pl.read_csv(a / f"inbox/{pid}/heartrate_seconds_merged.csv")
    f = f.with_columns(t=pl.col("Time").str.to_datetime("%m/%d/%Y %I:%M:%S %p")).sort("t")
    night = f.filter(pl.col("t").dt.hour() < 5)
    w = night.group_by(pl.col("t").dt.truncate("5m")).agg(sd=pl.col("Value").std(), n=pl.len())
    w = w.filter(pl.col("n") >= 10)
    assert w.height > 100
    assert 1.5 <= w["sd"].median() <= 3.0
    d = night.with_columns(dt=pl.col("t").diff().dt.total_seconds(), dv=pl.col("Value").diff())
    close = d.filter(pl.col("dt") <= 3)
    assert close.height > 1000
    assert float((close["dv"].cast(pl.Float64) ** 2).mean()) / 2 < 2.0


def test_awakening_hr_response_is_a_transient():
    """The awakening response peaks within seconds and is gone within about a minute, however
    long the awakening (the sustained part is the wake stage offset)."""
    from simulators.nocturne.night import wake_transient
    from simulators.nocturne.timeline import Timeline

    rng = np.random.default_rng(0)
    for _ in range(20):
        tl = Timeline(0, 2000)
        wake_transient(tl, 100, 10.0, rng)
        k = int(np.argmax(tl.ev))
        assert 100 < k <= 100 + RANGES["awakening_hr_peak_s"].high + 1
        assert tl.ev[k] > 8.0
        assert tl.ev[100 + 120] < 0.5
