"""The sample-data generator: deterministic, Apple-shaped, and its ground truth is honest.

The slow part (one full default generation, about 5-8 s, and parsing its two exports) is
done once per module; every property test reads that fresh output, and one test checks that
the committed ``sample_data/`` equals it byte for byte, so the committed files and
``simulators/sample/`` cannot drift apart.

No test here forces the generator to obey a detector's threshold (see ``simulators``): the
events are checked against the generator's own ground truth and latent tables (the files say
what the truth says), never against the step, heart-rate or body-mass limits the detectors
use to tell events apart.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from bisect import bisect_left, bisect_right
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from defusedxml.ElementTree import iterparse

from simulators.sample import DEFAULT_NIGHTS, DEFAULT_SEED, generate

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"
PIDS = ("p01", "p02")
HK = "HKQuantityTypeIdentifier"
SLEEP = "HKCategoryTypeIdentifierSleepAnalysis"
LB_KG = 0.45359237


@pytest.fixture(scope="module")
def default_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample_default")
    generate(out, DEFAULT_SEED, DEFAULT_NIGHTS)
    return out


def _apple_dt(s: str) -> datetime:
    """``2025-06-15 23:12:45 +0200`` (Apple's format) to an aware datetime."""
    assert s[19] == " " and s[20] in "+-", s
    return datetime.fromisoformat(s[:19] + s[20:])


def _utc(s: str) -> datetime:
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _files(root: Path) -> dict[str, Path]:
    return {
        p.relative_to(root).as_posix(): p
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


class Export:
    """The parts of one export.xml the tests need, parsed with defusedxml."""

    def __init__(self, zip_path: Path):
        with zipfile.ZipFile(zip_path) as z:
            assert z.namelist() == ["apple_health_export/export.xml"]
            data = z.read("apple_health_export/export.xml")
        self.raw = data
        self.types: dict[str, int] = defaultdict(int)
        self.sources: set[str] = set()
        self.hr: list[tuple[datetime, float]] = []
        self.steps: list[tuple[datetime, datetime, int, str]] = []
        self.sleep: list[tuple[datetime, datetime, str, str, dict]] = []
        self.body_mass: list[tuple[datetime, float, str]] = []
        self.rhr: list[tuple[datetime, float]] = []
        self.water_attr_orders: set[tuple[str, ...]] = set()
        self.hr_without_motion = 0
        self.hrv_beats: list[int] = []
        self.metadata_values: list[str] = []
        self.devices: set[str] = set()
        self.offsets: set[str] = set()
        self.workouts = 0
        self.workout_stats: set[str] = set()
        self.summaries = 0
        self.header: dict[str, str] = {}
        for _, el in iterparse(io.BytesIO(data), events=("end",), forbid_dtd=False):
            tag = el.tag
            if tag == "Record":
                a = el.attrib
                t = a["type"]
                self.types[t] += 1
                self.sources.add(a["sourceName"])
                if "device" in a:
                    self.devices.add(a["device"])
                start = _apple_dt(a["startDate"])
                self.offsets.add(a["startDate"][-5:])
                if t == HK + "HeartRate":
                    self.hr.append((start, float(a["value"])))
                    if len(el) != 1 or el[0].get("key") != "HKMetadataKeyHeartRateMotionContext":
                        self.hr_without_motion += 1
                    el.clear()
                    continue
                end = _apple_dt(a["endDate"])
                meta = {m.get("key"): m.get("value") for m in el} if len(el) else {}
                self.metadata_values.extend(v for v in meta.values() if v is not None)
                if t == HK + "StepCount":
                    self.steps.append((start, end, int(a["value"]), a["sourceName"]))
                elif t == SLEEP:
                    self.sleep.append((start, end, a["value"], a["sourceName"], meta))
                elif t == HK + "BodyMass":
                    self.body_mass.append((start, float(a["value"]), a["unit"]))
                elif t == HK + "RestingHeartRate":
                    self.rhr.append((start, float(a["value"])))
                elif t == HK + "DietaryWater":
                    self.water_attr_orders.add(tuple(a.keys()))
                elif t == HK + "HeartRateVariabilitySDNN":
                    (beats,) = el.findall("HeartRateVariabilityMetadataList")
                    self.hrv_beats.append(len(beats))
                el.clear()
            elif tag == "Workout":
                self.workouts += 1
                self.workout_stats.update(s.get("type") for s in el.findall("WorkoutStatistics"))
                el.clear()
            elif tag == "ActivitySummary":
                self.summaries += 1
            elif tag in ("ExportDate", "Me"):
                self.header.update(el.attrib)
        self.hr.sort()
        self.hr_t = [t for t, _ in self.hr]
        self.steps.sort()

    def hr_between(self, a: datetime, b: datetime) -> list[float]:
        i, j = bisect_left(self.hr_t, a), bisect_right(self.hr_t, b)
        return [v for _, v in self.hr[i:j]]


@pytest.fixture(scope="module")
def exports(default_out) -> dict[str, Export]:
    return {pid: Export(default_out / "inbox" / pid / "export.zip") for pid in PIDS}


@pytest.fixture(scope="module")
def truth(default_out) -> list[dict]:
    return _read_csv(default_out / "ground_truth.csv")


def _gt(truth, pid, kind):
    return [r for r in truth if r["participant_id"] == pid and r["kind"] == kind]


# ------------------------------------------------------------------------------ determinism


def test_same_seed_gives_byte_identical_files(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, seed=11, nights=10)
    generate(b, seed=11, nights=10)
    generate(c, seed=12, nights=10)
    fa, fb = _files(a), _files(b)
    assert set(fa) == set(fb)
    assert {
        "inbox/participants.csv",
        "inbox/journal.csv",
        "inbox/p01/export.zip",
        "inbox/p02/export.zip",
        "ground_truth.csv",
        "README.md",
    } <= set(fa)
    for name in fa:
        assert fa[name].read_bytes() == fb[name].read_bytes(), name
    # the seed matters
    assert (a / "inbox/p01/export.zip").read_bytes() != (c / "inbox/p01/export.zip").read_bytes()
    with zipfile.ZipFile(a / "inbox/p01/export.zip") as z:
        (info,) = z.infolist()
        assert info.date_time[:3] != (1980, 1, 1)
        assert info.compress_type == zipfile.ZIP_DEFLATED


def test_committed_sample_data_matches_generator(default_out):
    """The committed sample_data/ is exactly what simulators.sample writes with the defaults."""
    fresh = _files(default_out)
    committed = _files(SAMPLE)
    assert set(committed) == set(fresh), "run: uv run python -m simulators.sample"
    for name, path in fresh.items():
        new, old = path.read_bytes(), committed[name].read_bytes()
        if _sha(new) == _sha(old):
            continue
        if name.endswith(".zip"):
            # a different zlib build may deflate differently: compare the members instead
            with zipfile.ZipFile(io.BytesIO(new)) as zn, zipfile.ZipFile(io.BytesIO(old)) as zo:
                assert [(i.filename, i.date_time) for i in zn.infolist()] == [
                    (i.filename, i.date_time) for i in zo.infolist()
                ], name
                for i in zn.infolist():
                    assert _sha(zn.read(i)) == _sha(zo.read(i.filename)), name
            continue
        pytest.fail(f"{name} differs: run uv run python -m simulators.sample and commit")
    total = sum(p.stat().st_size for p in _files(SAMPLE).values())
    assert total < 15_000_000


# ------------------------------------------------------------------------------ formats


def test_export_is_apple_shaped(exports):
    e1, e2 = exports["p01"], exports["p02"]
    expected = {
        HK + t
        for t in (
            "HeartRate",
            "RestingHeartRate",
            "HeartRateVariabilitySDNN",
            "StepCount",
            "ActiveEnergyBurned",
            "BasalEnergyBurned",
            "BodyMass",
            "DietaryWater",
            "DietaryMagnesium",
            "DietaryCalcium",
            "DietaryPotassium",
            "DietaryVitaminD",
        )
    }
    expected.add(SLEEP)
    for e in (e1, e2):
        assert e.raw.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE HealthData [')
        assert b"<!ENTITY" not in e.raw
        assert expected <= set(e.types), expected - set(e.types)
        assert e.types[HK + "HeartRate"] > 10_000
        assert e.hr_without_motion == 0
        assert e.workouts > 10 and e.summaries > 60
        assert {HK + "ActiveEnergyBurned", HK + "HeartRate"} <= e.workout_stats
        assert min(e.hrv_beats) >= 30
        assert "HKCharacteristicTypeIdentifierDateOfBirth" in e.header
        assert any("\u2019s Apple Watch" in s for s in e.sources)
        assert any(d.startswith("<<HKDevice: 0x") and "name:Apple Watch" in d for d in e.devices)
        assert any("&" in v for v in e.metadata_values)
        # third-party water: other attribute order, no creationDate
        assert e.water_attr_orders and all("creationDate" not in o for o in e.water_attr_orders)
        # one element per line, as Apple writes it
        assert e.raw.count(b"\n") > e.types[HK + "HeartRate"] * 2
    assert {u for *_, u in e1.body_mass} == {"kg"}
    assert {u for *_, u in e2.body_mass} == {"lb"}
    assert e1.offsets == {"+0200"}
    assert {"-0400", "-0500", "-0700"} <= e2.offsets  # DST change and the trip to Los Angeles
    values2 = {v for _, _, v, _, _ in e2.sleep}
    assert {
        "HKCategoryValueSleepAnalysisInBed",
        "HKCategoryValueSleepAnalysisAsleepUnspecified",
        "HKCategoryValueSleepAnalysisAsleepCore",
        "HKCategoryValueSleepAnalysisAsleepDeep",
        "HKCategoryValueSleepAnalysisAsleepREM",
        "HKCategoryValueSleepAnalysisAwake",
    } == values2
    assert all("HKTimeZone" in meta for *_, meta in e1.sleep + e2.sleep)


def test_csv_headers_and_values(default_out):
    inbox = default_out / "inbox"
    first = (inbox / "participants.csv").read_text(encoding="utf-8").splitlines()[0]
    assert first == (
        "participant_id,sex,birth_year,tz,home_lat_deg,home_lon_deg,height_cm,"
        "conditions,medications"
    )
    people = {r["participant_id"]: r for r in _read_csv(inbox / "participants.csv")}
    assert people["p01"]["sex"] == "female" and people["p02"]["sex"] == "male"
    assert "hydrochlorothiazide" in people["p01"]["medications"].split(";")
    assert "atorvastatin" in people["p02"]["medications"].split(";")
    j = (inbox / "journal.csv").read_text(encoding="utf-8").splitlines()[0]
    assert j == "participant_id,time,kind,severity,body_side,muscle,duration_min,note"
    g = (default_out / "ground_truth.csv").read_text(encoding="utf-8").splitlines()[0]
    assert g == "participant_id,kind,start_utc,end_utc,local_date,detail"
    for row in _read_csv(inbox / "journal.csv"):
        assert row["kind"] in {"cramp", "bathroom", "note"}
        datetime.fromisoformat(row["time"])  # ISO 8601 with offset
        assert row["time"][-6] in "+-"
        if row["kind"] == "cramp":
            assert 0 <= int(row["severity"]) <= 10
            assert row["body_side"] in {"left", "right", "both"}
            assert row["muscle"] in {"calf", "foot", "thigh"}
            assert float(row["duration_min"]) > 0


def test_weather_csv_is_open_meteo_download(default_out):
    for pid in PIDS:
        (path,) = sorted((default_out / "inbox" / pid).glob("open-meteo-*.csv"))
        lines = path.read_text(encoding="utf-8").split("\n")
        assert lines[0] == (
            "latitude,longitude,elevation,utc_offset_seconds,timezone,timezone_abbreviation"
        )
        lat, lon, elev, off, tz, abbr = lines[1].split(",")
        assert int(off) % 3600 == 0 and abbr == f"GMT{int(off) // 3600:+d}"
        assert lines[2] == ""
        assert lines[3] == (
            "time,temperature_2m (°C),relative_humidity_2m (%),dew_point_2m (°C),"
            "apparent_temperature (°C),precipitation (mm),wind_speed_10m (km/h)"
        )
        assert lines[-1] == ""
        rows = [r.split(",") for r in lines[4:-1]]
        assert len(rows) == (DEFAULT_NIGHTS + 1) * 24
        times = [datetime.strptime(r[0], "%Y-%m-%dT%H:%M") for r in rows]
        assert all(b - a == timedelta(hours=1) for a, b in zip(times, times[1:], strict=False))
        for r in rows:
            t, rh, td = float(r[1]), int(r[2]), float(r[3])
            assert td <= t and 1 <= rh <= 100
            es = lambda x: 6.105 * 2.718281828459045 ** (17.27 * x / (237.7 + x))  # noqa: E731
            assert abs(100 * es(td) / es(t) - rh) <= 1.5
        daily = defaultdict(list)
        for tm, r in zip(times, rows, strict=True):
            daily[tm.date()].append(float(r[1]))
        tmax = [max(v) for _, v in sorted(daily.items())]
        hot = [x >= 32 for x in tmax]
        run = best = 0
        for h in hot:
            run = run + 1 if h else 0
            best = max(best, run)
        assert best >= 5 if pid == "p01" else best >= 3
        assert max(tmax) <= 38.0
        if pid == "p01":
            assert max(tmax) >= 33.0


# ------------------------------------------------------------------------------ ground truth


def _watch_sleep_nights(e: Export):
    """Watch sleep records grouped into nights (gap > 3 h starts a new night)."""
    recs = sorted(r for r in e.sleep if "Apple Watch" in r[3])
    nights, cur = [], []
    for r in recs:
        if cur and r[0] - max(x[1] for x in cur) > timedelta(hours=3):
            nights.append(cur)
            cur = []
        cur.append(r)
    if cur:
        nights.append(cur)
    return nights


def _watch_wakes(e: Export) -> list[tuple[datetime, datetime]]:
    """Every wake inside a night as the watch wrote it: an ``Awake`` record on staged nights,
    a gap between consecutive ``AsleepUnspecified`` records on old-watch nights."""
    wakes = []
    for recs in _watch_sleep_nights(e):
        wakes += [(a, b) for a, b, v, _, _ in recs if v.endswith("Awake")]
        asleep = sorted((a, b) for a, b, v, _, _ in recs if v.endswith("AsleepUnspecified"))
        wakes += [(b1, a2) for (_, b1), (a2, _) in zip(asleep, asleep[1:], strict=False) if a2 > b1]
    return sorted(wakes)


def test_cramps_lie_in_main_sleep(exports, truth):
    for pid in PIDS:
        nights = _watch_sleep_nights(exports[pid])
        cramps = _gt(truth, pid, "nocturnal_cramp")
        assert 10 <= len({c["local_date"] for c in cramps}) <= 16
        assert len(cramps) > len({c["local_date"] for c in cramps})  # a few nights with two
        for c in cramps:
            s, t = _utc(c["start_utc"]), _utc(c["end_utc"])
            assert s < t
            night = [n for n in nights if n[0][0] <= s and t <= max(x[1] for x in n)]
            assert len(night) == 1, c


def test_wakes_in_the_export_are_the_truths_wakes(exports, truth):
    """Each night event's wake, as the ground truth states it, is a wake the watch wrote,
    exactly; and the watch wrote no wake the truth does not explain."""
    for pid in PIDS:
        wakes = _watch_wakes(exports[pid])
        explained = 0
        for row in truth:
            if row["participant_id"] != pid:
                continue
            kind, d = row["kind"], json.loads(row["detail"])
            s, t = _utc(row["start_utc"]), _utc(row["end_utc"])
            if kind == "nocturnal_cramp":
                a, b = _utc(d["awake_start_utc"]), _utc(d["awake_end_utc"])
                assert (a, b) in wakes, row
                assert a <= s < t <= b, row  # the cramp happens while awake
                explained += 1
            elif kind in ("bathroom_trip", "rollover"):
                assert (s, t) in wakes, row
                explained += 1
            elif kind == "restless_night":
                inside = [(a, b) for a, b in wakes if s <= a and b <= t]
                assert len(inside) == d["awakenings"], row
                assert inside[0][0] == s and inside[-1][1] == t, row
                explained += len(inside)
        assert explained == len(wakes)


def test_steps_in_the_export_are_the_truths_steps(exports, truth):
    """Watch steps during each night event are the ``steps`` its truth row states (none when
    the row states none)."""
    for pid in PIDS:
        e = exports[pid]
        starts = [a for a, *_ in e.steps]

        def steps_in(row, e=e, starts=starts):
            s, t = _utc(row["start_utc"]), _utc(row["end_utc"])
            i = bisect_left(starts, s - timedelta(hours=1))
            j = bisect_right(starts, t)
            return sum(n for a, b, n, src in e.steps[i:j] if "Watch" in src and a < t and s < b)

        for row in truth:
            if row["participant_id"] != pid or row["kind"] in ("watch_off", "dehydration"):
                continue
            assert steps_in(row) == json.loads(row["detail"]).get("steps", 0), row


def test_no_watch_data_while_watch_off(exports, truth):
    for pid in PIDS:
        e = exports[pid]
        rows = _gt(truth, pid, "watch_off")
        assert any(json.loads(r["detail"])["whole_night"] for r in rows)
        for row in rows:
            s, t = _utc(row["start_utc"]), _utc(row["end_utc"])
            assert e.hr_between(s + timedelta(seconds=1), t - timedelta(seconds=1)) == []
            assert not [r for r in e.sleep if "Watch" in r[3] and r[0] < t and s < r[1]]


def test_local_dates_follow_the_noon_to_noon_rule(exports, truth):
    for pid in PIDS:
        inbed = sorted((a, b) for a, b, v, _, _ in exports[pid].sleep if v.endswith("InBed"))
        for row in truth:
            if row["participant_id"] != pid or row["kind"] in ("dehydration", "watch_off"):
                continue
            s = _utc(row["start_utc"])
            ((a, _),) = [(a, b) for a, b in inbed if a <= s <= b]
            assert (a - timedelta(hours=12)).date().isoformat() == row["local_date"], row
        for row in _gt(truth, pid, "dehydration"):
            s, t = _utc(row["start_utc"]), _utc(row["end_utc"])
            assert timedelta(hours=23) <= t - s <= timedelta(hours=25)


def test_scale_and_resting_hr_are_the_latent_days(exports, truth, default_out):
    """Body mass and resting HR in the export are latent_daily.csv's values (p02's pounds
    converted), and the dehydration rows of the ground truth are its dehydration days."""
    latent = _read_csv(default_out / "latent_daily.csv")
    for pid in PIDS:
        e = exports[pid]
        days = {r["local_date"]: r for r in latent if r["participant_id"] == pid}
        kg = {t.date().isoformat(): v * LB_KG if u == "lb" else v for t, v, u in e.body_mass}
        assert len(kg) == len(e.body_mass)  # one weigh-in a morning
        measured = {d for d, r in days.items() if r["morning_bm_kg_measured"]}
        assert set(kg) == measured
        for d, v in kg.items():
            assert abs(v - float(days[d]["morning_bm_kg_measured"])) <= 0.0051, (pid, d)
        rhr = {t.date().isoformat(): v for t, v in e.rhr}
        assert len(rhr) == len(e.rhr) and len(rhr) >= len(days) - 2
        for d, v in rhr.items():
            assert v == int(days[d]["resting_hr_bpm"]), (pid, d)
        dehyd = _gt(truth, pid, "dehydration")
        assert 2 <= len(dehyd) <= 4
        assert {r["local_date"] for r in dehyd} == {
            d for d, r in days.items() if r["day_kind"] == "dehydration"
        }
        for row in dehyd:
            det, day = json.loads(row["detail"]), days[row["local_date"]]
            assert abs(det["deficit_pct_bm"] - float(day["deficit_end_pct_bm"])) <= 0.0051, row
            assert abs(det["deficit_l"] - float(day["deficit_end_l"])) <= 0.0051, row
            nxt = (datetime.fromisoformat(row["local_date"]) + timedelta(days=1)).date()
            assert det["next_morning_rhr_bpm"] == int(days[nxt.isoformat()]["resting_hr_bpm"])


def test_journal_cramps_are_recalled_true_cramps(default_out, truth):
    journal = _read_csv(default_out / "inbox" / "journal.csv")
    for pid in PIDS:
        true = [
            (_utc(r["start_utc"]), json.loads(r["detail"]))
            for r in _gt(truth, pid, "nocturnal_cramp")
        ]
        logged = [r for r in journal if r["participant_id"] == pid and r["kind"] == "cramp"]
        assert 0.65 <= len(logged) / len(true) <= 0.85
        for r in logged:
            t = datetime.fromisoformat(r["time"]).astimezone(UTC)
            assert t.minute % 15 == 0 and t.second == 0
            # recalled within 22 min, then rounded to the quarter hour; side and muscle true,
            # severity true +- 1 (see the README the generator writes)
            assert any(
                abs(t - x) <= timedelta(minutes=30)
                and r["muscle"] == d["muscle"]
                and r["body_side"] == d["body_side"]
                and abs(int(r["severity"]) - d["severity"]) <= 1
                for x, d in true
            ), r
