"""The sample-data generator: deterministic, Apple-shaped, and its ground truth is honest.

The slow part (one full default generation, about 5-8 s, and parsing its two exports) is
done once per module; every property test reads that fresh output, and one test checks that
the committed ``sample_data/`` equals it byte for byte, so the committed files and
``generate.py`` cannot drift apart.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
import json
import statistics
import sys
import zipfile
from bisect import bisect_left, bisect_right
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from defusedxml.ElementTree import iterparse

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"
PIDS = ("p01", "p02")
GENERATED_NOT_WRITTEN = {"generate.py"}  # files in sample_data/ the generator does not write
HK = "HKQuantityTypeIdentifier"
SLEEP = "HKCategoryTypeIdentifierSleepAnalysis"
LB_KG = 0.45359237


def _load_generator():
    name = "crampwatch_sample_generate"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SAMPLE / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up while the class is built
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def gen():
    return _load_generator()


@pytest.fixture(scope="module")
def default_out(gen, tmp_path_factory):
    out = tmp_path_factory.mktemp("sample_default")
    gen.generate(out, gen.DEFAULT_SEED, gen.DEFAULT_NIGHTS)
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


def test_same_seed_gives_byte_identical_files(gen, tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    gen.generate(a, seed=11, nights=10)
    gen.generate(b, seed=11, nights=10)
    gen.generate(c, seed=12, nights=10)
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
    """The committed sample_data/ is exactly what generate.py writes with the defaults."""
    fresh = _files(default_out)
    committed = {k: v for k, v in _files(SAMPLE).items() if k not in GENERATED_NOT_WRITTEN}
    assert set(committed) == set(fresh), "run: uv run python sample_data/generate.py"
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
        pytest.fail(f"{name} differs from the generator's output; regenerate sample_data/")
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


def test_weather_csv_is_open_meteo_download(default_out, gen):
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
        assert len(rows) == (gen.DEFAULT_NIGHTS + 1) * 24
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


def test_cramps_lie_in_main_sleep_and_overlap_wake(exports, truth):
    for pid in PIDS:
        e = exports[pid]
        nights = _watch_sleep_nights(e)
        cramps = _gt(truth, pid, "nocturnal_cramp")
        assert 10 <= len({c["local_date"] for c in cramps}) <= 16
        assert len(cramps) > len({c["local_date"] for c in cramps})  # a few nights with two
        for c in cramps:
            s, t = _utc(c["start_utc"]), _utc(c["end_utc"])
            assert timedelta(minutes=1) <= t - s <= timedelta(minutes=10)
            night = [n for n in nights if n[0][0] <= s and t <= max(x[1] for x in n)]
            assert len(night) == 1, c
            recs = night[0]
            if any(v.endswith("AsleepUnspecified") for _, _, v, _, _ in recs):
                asleep = sorted((a, b) for a, b, v, _, _ in recs if v.endswith("AsleepUnspecified"))
                gaps = [
                    (b1, a2)
                    for (_, b1), (a2, _) in zip(asleep, asleep[1:], strict=False)
                    if a2 > b1
                ]
                assert any(g0 < t and s < g1 for g0, g1 in gaps), c
            else:
                awake = [(a, b) for a, b, v, _, _ in recs if v.endswith("Awake")]
                hit = [(a, b) for a, b in awake if a < t and s < b]
                assert hit, c
                a, b = hit[0]
                assert timedelta(minutes=2) <= b - a <= timedelta(minutes=10)


def test_steps_inside_events(exports, truth):
    for pid in PIDS:
        e = exports[pid]

        starts = [a for a, *_ in e.steps]

        def steps_in(row, e=e, starts=starts):
            s, t = _utc(row["start_utc"]), _utc(row["end_utc"])
            i = bisect_left(starts, s - timedelta(hours=1))
            j = bisect_right(starts, t)
            return sum(n for a, b, n, src in e.steps[i:j] if "Watch" in src and a < t and s < b)

        bath = _gt(truth, pid, "bathroom_trip")
        assert len(bath) >= 20
        for row in bath:
            assert steps_in(row) >= 60, row
        for row in _gt(truth, pid, "nocturnal_cramp"):
            assert 5 <= steps_in(row) <= 30, row
        for kind in ("rollover", "restless_night"):
            for row in _gt(truth, pid, kind):
                assert steps_in(row) == 0, row


def test_heart_rate_response_tells_cramps_from_confounders(exports, truth):
    def rise(e, row, minutes):
        s = _utc(row["start_utc"])
        base = e.hr_between(s - timedelta(minutes=45), s - timedelta(minutes=5))
        peak = e.hr_between(s, s + timedelta(minutes=minutes))
        return max(peak) - statistics.median(base) if base and peak else None

    for pid in PIDS:
        e = exports[pid]
        for row in _gt(truth, pid, "nocturnal_cramp"):
            s = _utc(row["start_utc"])
            assert rise(e, row, 1.5) >= 10, row  # jumps within about a minute
            later = e.hr_between(s + timedelta(minutes=4), s + timedelta(minutes=5.5))
            base = e.hr_between(s - timedelta(minutes=45), s - timedelta(minutes=5))
            assert later and min(later) - statistics.median(base) >= 8, row  # still up at 5 min
        bath = [rise(e, r, 10) for r in _gt(truth, pid, "bathroom_trip")]
        assert statistics.median(x for x in bath if x is not None) < 14
        roll = [rise(e, r, 5) for r in _gt(truth, pid, "rollover")]
        assert statistics.median(x for x in roll if x is not None) < 7


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


def test_dehydration_days_show_next_morning(exports, truth):
    for pid in PIDS:
        e = exports[pid]
        dehyd = _gt(truth, pid, "dehydration")
        assert 2 <= len(dehyd) <= 4
        days = {r["local_date"] for r in dehyd}
        kg = [(t, v * LB_KG if u == "lb" else v) for t, v, u in sorted(e.body_mass)]
        drops = {}
        for k, (t, v) in enumerate(kg):
            base = [x for s, x in kg[:k] if t - s <= timedelta(days=7)]
            if len(base) >= 3:
                med = statistics.median(base)
                drops[(t.date() - timedelta(days=1)).isoformat()] = 100 * (med - v) / med
        for d in days:
            assert drops.get(d, 0) >= 2.0, (pid, d)  # next-morning body mass at least 2 % down
        assert all(dd < 2.0 for d, dd in drops.items() if d not in days)
        rhr = {t.date().isoformat(): v for t, v in e.rhr}
        for d in days:
            nxt = (datetime.fromisoformat(d) + timedelta(days=1)).date()
            prev = [
                rhr[(nxt - timedelta(days=k)).isoformat()]
                for k in range(1, 8)
                if (nxt - timedelta(days=k)).isoformat() in rhr
            ]
            assert rhr[nxt.isoformat()] >= statistics.median(prev) + 2, (pid, d)


def test_journal_cramps_are_close_to_true_cramps(default_out, truth):
    journal = _read_csv(default_out / "inbox" / "journal.csv")
    for pid in PIDS:
        true = [_utc(r["start_utc"]) for r in _gt(truth, pid, "nocturnal_cramp")]
        logged = [r for r in journal if r["participant_id"] == pid and r["kind"] == "cramp"]
        assert 0.65 <= len(logged) / len(true) <= 0.85
        for r in logged:
            t = datetime.fromisoformat(r["time"]).astimezone(UTC)
            assert t.minute % 15 == 0 and t.second == 0
            assert min(abs(t - x) for x in true) <= timedelta(minutes=45), r
