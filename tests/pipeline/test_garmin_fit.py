"""Garmin FIT importer: real fenix/vívofit/Edge files against Garmin's SDK decoded directly in
the test, the device's own day totals, corrupt and truncated files, and synthetic files (built
with the SDK's Encoder) whose answers are known by construction: 16-bit rollovers, midnight
resets, timestamp_16 resolution.

Expected figures never come from the importer: the fixtures are decoded here with
``garmin_fit_sdk`` (messages by type, not in file order), and the monitoring step deltas are
checked against the day-total records (``duration_min``) the watch writes itself.
"""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from garmin_fit_sdk import Decoder, Encoder, Profile, Stream

from pipeline import store
from pipeline.importers import ImportContext, ImportFormatError, detect_format, garmin_fit
from pipeline.ingest import import_file

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "garmin_fit"
SLEEP = FIX / "rgmf_fenix6s_sleep1.fit"
HRV = FIX / "rgmf_fenix6s_hrv1.fit"
MON_HALF_DAY = FIX / "rgmf_fenix6s_monitor1_with_all.fit"
MON_FULL_DAY = FIX / "rgmf_fenix6s_monitor_with_intensities.fit"
WALK = FIX / "rgmf_fenix6s_walking.fit"
VIVOFIT = FIX / "fitparse_MonitoringFile.fit"
FENIX2_RUN = FIX / "fitparse_activity-small-fenix2-run.fit"
FENIX5_WALK = FIX / "fitparse_garmin-fenix-5-walk.fit"
EOF_FILE = FIX / "fitparse_activity-unexpected-eof.fit"
CRC_FILE = FIX / "fitparse_activity-filecrc.fit"
CORRUPT_HEADER = FIX / "fitparse_activity-settings-corruptheader.fit"
WEIGHT = FIX / "fitparse_WeightScaleSingleUser.fit"
CTX = ImportContext(participant_id="p01")
FIT_EPOCH = datetime(1989, 12, 31, tzinfo=UTC)
HR_RANGE = (25, 240)  # heart_rate_bpm plausible range, written out
MN = Profile["mesg_num"]


def sdk(path: Path, dates: bool = True) -> dict:
    """Messages by type, decoded with Garmin's SDK directly (independent of the importer)."""
    stream = Stream.from_file(str(path))
    try:
        messages, _ = Decoder(stream).read(convert_datetimes_to_dates=dates)
    finally:
        stream.close()
    return messages


def read_all(path: Path, ctx: ImportContext = CTX) -> dict[str, pl.DataFrame]:
    frames: dict[str, list[pl.DataFrame]] = {}
    for batch in garmin_fit.read(path, ctx):
        frames.setdefault(batch.table, []).append(batch.frame)
    return {t: pl.concat(f) for t, f in frames.items()}


def fit_dt(seconds: float) -> datetime:
    return FIT_EPOCH + timedelta(seconds=seconds)


def metric(out: dict, name: str) -> pl.DataFrame:
    return out["samples"].filter(pl.col("metric") == name).sort("start_utc")


def rejects(out: dict) -> list[str]:
    return out["rejected_rows"]["reason"].to_list() if "rejected_rows" in out else []


# ------------------------------------------------------------------------------ detection


def test_every_fit_fixture_is_detected_as_garmin_fit():
    for path in sorted(FIX.glob("*.fit")):
        assert detect_format(path) is garmin_fit, path.name
    assert not garmin_fit.sniff(b"timestamp,metric,value,unit\n", "x.csv")
    assert not garmin_fit.sniff(b"\x0e\x10", "short.fit")


# ------------------------------------------------------------------------------ activities


@pytest.mark.parametrize("path", [WALK, FENIX2_RUN, FENIX5_WALK], ids=lambda p: p.name)
def test_activity_session_and_heart_rate_match_the_sdk(path):
    msgs, raw = sdk(path), sdk(path, dates=False)
    out = read_all(path)
    (session,) = msgs["session_mesgs"]
    (activity,) = raw["activity_mesgs"]
    offset = activity["local_timestamp"] - activity["timestamp"]
    kcal = session["total_calories"] - (session.get("metabolic_calories") or 0)
    w = out["workouts"].row(0, named=True)
    assert out["workouts"].height == 1
    assert w["activity_type"] == session["sport"]
    assert w["start_utc"] == session["start_time"]
    assert w["end_utc"] == session["start_time"] + timedelta(seconds=session["total_elapsed_time"])
    assert w["duration_s"] == pytest.approx(session["total_timer_time"])
    assert w["distance_m"] == pytest.approx(session["total_distance"])
    assert w["active_energy_kcal"] == kcal
    assert w["utc_offset_s"] == offset
    assert (w["source"], w["participant_id"]) == ("garmin:activity", "p01")
    assert w["device"].startswith("garmin ")

    records = [r for r in msgs["record_mesgs"] if r.get("heart_rate") is not None]
    plausible = [r for r in records if HR_RANGE[0] <= r["heart_rate"] <= HR_RANGE[1]]
    hr = metric(out, "heart_rate_bpm")
    assert hr.height == len(plausible) and hr.height > 0
    assert hr["start_utc"].to_list() == sorted(r["timestamp"] for r in plausible)
    assert hr["value"].to_list() == [
        float(r["heart_rate"]) for r in sorted(plausible, key=lambda r: r["timestamp"])
    ]
    assert (hr["end_utc"] == hr["start_utc"]).all()
    assert set(hr["utc_offset_s"]) == {offset}
    assert set(hr["unit"]) == {"count/min"} and set(hr["source"]) == {"garmin:activity"}
    assert "rejected_rows" not in out


def test_walking_active_energy_excludes_resting_calories():
    # fenix 6S writes metabolic_calories: 161 total - 67 resting = 94 active kcal
    assert read_all(WALK)["workouts"]["active_energy_kcal"].to_list() == [94.0]


# ------------------------------------------------------------------------------ monitoring


def day_totals(path: Path) -> dict[tuple[str, str], list[dict]]:
    """The watch's own day-total monitoring records, by (activity type, quantity)."""
    out: dict[tuple[str, str], list[dict]] = {}
    for m in sdk(path, dates=False)["monitoring_mesgs"]:
        if "duration_min" in m:
            out.setdefault(m["activity_type"], []).append(m)
    return out


@pytest.mark.parametrize("path", [MON_HALF_DAY, MON_FULL_DAY], ids=lambda p: p.name)
def test_monitoring_deltas_add_up_to_the_watchs_day_totals(path):
    totals = day_totals(path)
    file_start = sdk(path, dates=False)["monitoring_info_mesgs"][0]["timestamp"]
    expected = Counter()
    for act, recs in totals.items():
        first, last = recs[0], recs[-1]
        # a file that starts with a day total (the day so far) counts from it; one that starts
        # at midnight without one counts from 0
        starts_with_total = first["timestamp"] == file_start
        base = first if starts_with_total and len(recs) > 1 else None
        if act in ("walking", "running"):
            expected["steps"] += last["steps"] - (base["steps"] if base else 0)
        expected["active_energy_kcal"] += last["active_calories"] - (
            base["active_calories"] if base else 0
        )
        expected["distance_m"] += last["distance"] - (base["distance"] if base else 0)
    out = read_all(path)
    got = out["samples"].group_by("metric").agg(pl.col("value").sum())
    got = dict(got.iter_rows())
    for name in ("steps", "active_energy_kcal", "distance_m"):
        assert got[name] == pytest.approx(expected[name], abs=0.01), name
    steps = metric(out, "steps")
    assert (steps["value"] > 0).all() and (steps["end_utc"] >= steps["start_utc"]).all()
    info = sdk(path)["monitoring_info_mesgs"][0]
    assert steps["start_utc"].min() >= info["timestamp"]


def test_half_day_file_expected_numbers():
    # written out from the day totals: walking 15331 - 7675, running 592 - 444
    got = metric(read_all(MON_HALF_DAY), "steps")["value"].sum()
    assert got == (15331 - 7675) + (592 - 444) == 7804


def test_monitoring_heart_rate_matches_sdk_and_zero_is_rejected():
    msgs = sdk(MON_FULL_DAY)
    values = [m["heart_rate"] for m in msgs["monitoring_mesgs"] if "heart_rate" in m]
    plausible = sorted(v for v in values if HR_RANGE[0] <= v <= HR_RANGE[1])
    out = read_all(MON_FULL_DAY)
    hr = metric(out, "heart_rate_bpm")
    assert sorted(hr["value"].cast(pl.Int64).to_list()) == plausible
    assert set(hr["source"]) == {"garmin:monitoring"}
    assert set(hr["utc_offset_s"]) == {7200}  # monitoring_info local_timestamp - timestamp
    # the file spans one day: every resolved timestamp_16 lies inside it
    start = msgs["monitoring_info_mesgs"][0]["timestamp"]
    assert hr["start_utc"].min() >= start and hr["start_utc"].max() <= start + timedelta(days=1)
    zero = [r for r in rejects(out) if r.startswith("heart_rate_bpm")]
    assert zero == ["heart_rate_bpm: value 0.0 outside plausible range [25, 240]"] * (
        len(values) - len(plausible)
    )


def test_stress_and_respiration_no_measurement_codes_are_summarised():
    msgs = sdk(MON_HALF_DAY)
    stress = [m["stress_level_value"] for m in msgs["stress_level_mesgs"]]
    resp = [m["respiration_rate"] for m in msgs["respiration_rate_mesgs"]]
    out = read_all(MON_HALF_DAY)
    assert metric(out, "stress_level").height == sum(v >= 0 for v in stress)
    assert metric(out, "respiratory_rate_per_min").height == sum(v >= 0 for v in resp)
    assert set(metric(out, "stress_level")["unit"]) == {"1"}
    summary = [r for r in rejects(out) if "no-measurement" in r]
    for code, n in Counter(v for v in stress if v < 0).items():
        assert (
            f"stress_level {code}: {n} message(s) with Garmin's no-measurement value, "
            "not imported (first shown)" in summary
        )
    for code, n in Counter(v for v in resp if v < 0).items():
        assert any(r.startswith(f"respiration_rate {code:g}: {n} message(s)") for r in summary)
    assert len(summary) == len(set(stress) - {v for v in stress if v >= 0}) + len(
        {v for v in resp if v < 0}
    )


def test_activity_intensity_covers_each_state_until_the_next():
    msgs = sdk(MON_FULL_DAY)
    states = [m for m in msgs["monitoring_mesgs"] if "current_activity_type_intensity" in m]
    out = metric(read_all(MON_FULL_DAY), "activity_intensity")
    assert out.height == len(states)
    assert sorted(out["value"].cast(pl.Int64).to_list()) == sorted(m["intensity"] for m in states)
    rows = out.sort("start_utc")
    assert rows["end_utc"][:-1].to_list() == rows["start_utc"][1:].to_list()


def test_resting_heart_rate_covers_the_local_day():
    (rhr,) = sdk(MON_HALF_DAY)["monitoring_hr_data_mesgs"][-1:]
    row = metric(read_all(MON_HALF_DAY), "resting_heart_rate_bpm").row(0, named=True)
    assert row["value"] == rhr["current_day_resting_heart_rate"]
    # local day 2023-09-26 at UTC+2
    assert row["start_utc"] == datetime(2023, 9, 25, 22, tzinfo=UTC)
    assert row["end_utc"] == datetime(2023, 9, 26, 22, tzinfo=UTC)


def test_vivofit_file_with_only_timestamp_16():
    raw = sdk(VIVOFIT, dates=False)
    info = raw["monitoring_info_mesgs"][0]
    # every record is timestamp_16 except the two day totals closing the day at midnight
    full = [m for m in raw["monitoring_mesgs"] if "timestamp" in m]
    assert [m["duration_min"] for m in full] == [1440, 1440]
    out = read_all(VIVOFIT)
    steps = metric(out, "steps")
    # the file starts at local midnight without day totals: the day's steps are the totals
    assert steps["value"].sum() == sum(m["steps"] for m in full) == 3142 + 31
    assert set(out["samples"]["utc_offset_s"]) == {info["local_timestamp"] - info["timestamp"]}
    start = fit_dt(info["timestamp"])
    times = out["samples"]["end_utc"]
    assert times.min() >= start and times.max() <= start + timedelta(days=1)
    assert metric(out, "activity_intensity").height == sum(
        "current_activity_type_intensity" in m for m in raw["monitoring_mesgs"]
    )


# ------------------------------------------------------------------------------ sleep, HRV


def test_sleep_levels_become_segments():
    levels = sdk(SLEEP)["sleep_level_mesgs"]
    out = read_all(SLEEP, ImportContext(participant_id="p01", tz="Europe/Madrid"))
    seg = out["sleep_segments"].sort("start_utc")
    assert seg.height == len(levels) - 1  # the last level marks the end of the recording
    assert seg["start_utc"].to_list() == [m["timestamp"] for m in levels[:-1]]
    assert seg["end_utc"].to_list() == [m["timestamp"] for m in levels[1:]]
    assert seg["stage"].to_list() == [m["sleep_level"] for m in levels[:-1]]
    assert set(seg["utc_offset_s"]) == {7200}  # Madrid in September (no offset in the file)
    assert set(seg["source"]) == {"garmin:sleep"}
    assert "rejected_rows" not in out


def test_sleep_file_without_zone_gets_offset_0_and_a_note():
    out = read_all(SLEEP)
    assert set(out["sleep_segments"]["utc_offset_s"]) == {0}
    (note,) = rejects(out)
    assert note.startswith("note: the file has no local time") and "utc_offset_s is 0" in note


def test_hrv_values_are_5_minute_rmssd():
    values = sdk(HRV)["hrv_value_mesgs"]
    raw = sdk(HRV, dates=False)
    corr = raw["timestamp_correlation_mesgs"][0]
    out = read_all(HRV)
    hrv = metric(out, "hrv_rmssd_ms")
    with_value = [m for m in values if m.get("value") is not None]
    assert hrv.height == len(with_value)
    assert hrv["value"].to_list() == [m["value"] for m in with_value]
    assert hrv["start_utc"].to_list() == [m["timestamp"] for m in with_value]
    assert ((hrv["end_utc"] - hrv["start_utc"]) == timedelta(minutes=5)).all()
    assert set(hrv["utc_offset_s"]) == {corr["local_timestamp"] - corr["timestamp"]}
    assert rejects(out) == [
        f"hrv_value without a value: {len(values) - len(with_value)} "
        "message(s) with Garmin's no-measurement value, not imported "
        "(first shown)"
    ]


# ------------------------------------------------------------------------------ broken files


@pytest.mark.parametrize(
    ("path", "error"),
    [
        (EOF_FILE, "number of bytes provided is longer than the number of bytes remaining"),
        (CRC_FILE, "CRC Error"),
        (CORRUPT_HEADER, "The file is not a fit file."),
    ],
    ids=["truncated", "file-crc", "corrupt-chained-header"],
)
def test_broken_files_import_what_decodes_and_report_the_error(path, error):
    out = read_all(path)
    assert out["workouts"].height == 1  # the session decodes in all three
    (decoder,) = [r for r in rejects(out) if r.startswith("FIT decoder error")]
    assert error in decoder and "(those are imported)" in decoder


def test_nothing_decodes_is_a_clean_error(tmp_path):
    junk = tmp_path / "junk.fit"
    junk.write_bytes(WALK.read_bytes()[:14] + b"\xff" * 200)
    assert garmin_fit.sniff(junk.read_bytes(), junk.name)
    with pytest.raises(ImportFormatError, match=f"{junk}: not a readable FIT file"):
        read_all(junk)
    with pytest.raises(ImportFormatError, match=r"type weight\) has no monitoring.*weight_scale"):
        read_all(WEIGHT)


def test_truncated_anywhere_never_crashes(tmp_path):
    data = FENIX5_WALK.read_bytes()
    for cut in range(20, len(data), 211):
        part = tmp_path / f"cut{cut}.fit"
        part.write_bytes(data[:cut])
        try:
            out = read_all(part)
        except ImportFormatError:
            continue
        assert any(r.startswith("FIT decoder error") for r in rejects(out)), cut


def test_participant_is_required():
    with pytest.raises(
        ImportFormatError, match=f"{WALK}: Garmin FIT files carry no participant id"
    ):
        read_all(WALK, ImportContext())


# ------------------------------------------------------------------------------ synthetic files


def encode(path: Path, messages: list[tuple[str, dict]]) -> Path:
    enc = Encoder()
    enc.write_mesg(
        {
            "mesg_num": MN["FILE_ID"],
            "type": "monitoring_b",
            "manufacturer": "garmin",
            "product": 3287,
            "time_created": messages[0][1].get("timestamp", 0),
        }
    )
    for name, fields in messages:
        enc.write_mesg({"mesg_num": MN[name], **fields})
    path.write_bytes(enc.close())
    return path


def t0_with_low16(low16: int, local_hour_range: tuple[int, int], offset_s: int) -> int:
    """A FIT time whose low 16 bits are ``low16`` and whose local hour is in the range."""
    t = 1_000_000_000 - (1_000_000_000 & 0xFFFF) + low16
    while not local_hour_range[0] <= fit_dt(t + offset_s).hour < local_hour_range[1]:
        t += 0x10000
    return t


WALKING = 6 | (2 << 5)  # current_activity_type_intensity: walking (6), intensity 2
RUNNING = 1 | (3 << 5)  # running (1), intensity 3


def test_cycles_16_and_timestamp_16_roll_over(tmp_path):
    t0 = t0_with_low16(65_500, (9, 15), 3600)
    path = encode(
        tmp_path / "rollover.fit",
        [
            ("MONITORING_INFO", {"timestamp": t0, "local_timestamp": t0 + 3600}),
            # day total at the file start: the baseline (65000 steps so far)
            (
                "MONITORING",
                {
                    "timestamp": t0,
                    "cycles": 32_500.0,
                    "activity_type": "walking",
                    "duration_min": 600,
                },
            ),
            # timestamp_16 of t0 + 60 is 24: it rolled over; cycles_16 65400: +400 steps
            (
                "MONITORING",
                {
                    "timestamp_16": (t0 + 60) & 0xFFFF,
                    "cycles_16": 65_400,
                    "current_activity_type_intensity": WALKING,
                },
            ),
            # cycles_16 rolls over: 300 is 65536 + 300 - 65400 = 436 steps later, not a reset
            (
                "MONITORING",
                {
                    "timestamp_16": (t0 + 120) & 0xFFFF,
                    "cycles_16": 300,
                    "current_activity_type_intensity": WALKING,
                },
            ),
            ("MONITORING", {"timestamp_16": (t0 + 180) & 0xFFFF, "heart_rate": 61}),
        ],
    )
    out = read_all(path)
    steps = metric(out, "steps")
    assert steps.select("start_utc", "end_utc", "value").rows() == [
        (fit_dt(t0), fit_dt(t0 + 60), 400.0),
        (fit_dt(t0 + 60), fit_dt(t0 + 120), 436.0),
    ]
    assert metric(out, "heart_rate_bpm")["start_utc"].to_list() == [fit_dt(t0 + 180)]
    assert set(out["samples"]["utc_offset_s"]) == {3600}


def test_totals_restart_at_local_midnight(tmp_path):
    offset = 3600
    t0 = t0_with_low16(0, (0, 24), offset)
    midnight = t0 + 86_400 - (t0 + offset + garmin_fit.FIT_EPOCH_S) % 86_400  # next local 0:00
    t0 = midnight - 600  # 23:50 local
    path = encode(
        tmp_path / "midnight.fit",
        [
            ("MONITORING_INFO", {"timestamp": t0, "local_timestamp": t0 + offset}),
            (
                "MONITORING",
                {
                    "timestamp": t0,
                    "cycles": 5000.0,
                    "activity_type": "walking",
                    "duration_min": 1430,
                },
            ),
            (
                "MONITORING",
                {
                    "timestamp": t0 + 300,
                    "cycles": 5010.0,
                    "activity_type": "walking",
                    "current_activity_type_intensity": WALKING,
                },
            ),
            # running has no day total: counted from 0 at the file start (16-bit field)
            (
                "MONITORING",
                {
                    "timestamp": t0 + 300,
                    "cycles_16": 1000,
                    "activity_type": "running",
                    "current_activity_type_intensity": RUNNING,
                },
            ),
            # the day total written at midnight closes the day (no change: no row, no reset)
            (
                "MONITORING",
                {
                    "timestamp": midnight,
                    "cycles": 5010.0,
                    "activity_type": "walking",
                    "duration_min": 1440,
                },
            ),
            # new local day: 32-bit total went down, 16-bit total changed day: both restart
            (
                "MONITORING",
                {
                    "timestamp": midnight + 300,
                    "cycles": 15.0,
                    "activity_type": "walking",
                    "current_activity_type_intensity": WALKING,
                },
            ),
            (
                "MONITORING",
                {
                    "timestamp": midnight + 300,
                    "cycles_16": 40,
                    "activity_type": "running",
                    "current_activity_type_intensity": RUNNING,
                },
            ),
        ],
    )
    # walking and running over the same interval add up to one row (one natural key)
    steps = metric(read_all(path), "steps")
    assert steps.select("start_utc", "end_utc", "value").rows() == [
        # walking 5010 - 5000 cycles = 20 steps; running 1000 counted from 0 at the file start
        (fit_dt(t0), fit_dt(t0 + 300), 20.0 + 1000.0),
        # walking restarted at midnight (15 cycles = 30 steps); running too: 40, not 64576
        (fit_dt(midnight), fit_dt(midnight + 300), 30.0 + 40.0),
    ]


def test_timestamp_16_slightly_behind_its_reference(tmp_path):
    t0 = t0_with_low16(30_000, (9, 15), 0)
    path = encode(
        tmp_path / "behind.fit",
        [
            ("MONITORING_INFO", {"timestamp": t0, "local_timestamp": t0}),
            ("MONITORING", {"timestamp": t0 + 60, "heart_rate": 60}),
            # an event stamped after the monitoring record that follows it (real fenix files)
            ("EVENT", {"timestamp": t0 + 180, "event": "timer", "event_type": "marker"}),
            ("MONITORING", {"timestamp_16": (t0 + 120) & 0xFFFF, "heart_rate": 62}),
        ],
    )
    hr = metric(read_all(path), "heart_rate_bpm")
    assert hr["start_utc"].to_list() == [fit_dt(t0 + 60), fit_dt(t0 + 120)]
    assert garmin_fit.resolve_timestamp_16((t0 + 65_000) & 0xFFFF, t0) == t0 + 65_000 - 65_536
    assert garmin_fit.resolve_timestamp_16((t0 + 60_000) & 0xFFFF, t0) == t0 + 60_000


def test_implausible_record_heart_rate_is_rejected_with_reason(tmp_path):
    t0 = t0_with_low16(100, (9, 15), 0)
    enc = Encoder()
    enc.write_mesg(
        {
            "mesg_num": MN["FILE_ID"],
            "type": "activity",
            "manufacturer": "garmin",
            "product": 3287,
            "time_created": t0,
        }
    )
    for i, hr in enumerate((70, 0, 250, 72)):
        enc.write_mesg({"mesg_num": MN["RECORD"], "timestamp": t0 + i, "heart_rate": hr})
    path = tmp_path / "hr.fit"
    path.write_bytes(enc.close())
    out = read_all(path, ImportContext(participant_id="p01", tz="America/Chicago"))
    assert metric(out, "heart_rate_bpm")["value"].to_list() == [70.0, 72.0]
    bad = out["rejected_rows"].sort("record_no")
    assert bad["reason"].to_list() == [
        "heart_rate_bpm: value 0.0 outside plausible range [25, 240]",
        "heart_rate_bpm: value 250.0 outside plausible range [25, 240]",
    ]
    assert bad["record_no"].to_list() == [3, 4]  # file_id is message 1
    assert '"heart_rate": 250' in bad["raw"][1]


# ------------------------------------------------------------------------------ into the store


def test_import_into_store_is_idempotent(tmp_path):
    files = [WALK, MON_HALF_DAY, SLEEP, HRV, EOF_FILE]
    expected = Counter()
    for path in files:
        ctx = ImportContext(participant_id="p01", tz="Europe/Madrid")
        for table, frame in read_all(path, ctx).items():
            expected[table] += frame.height
    con = store.connect(tmp_path / "s.duckdb")
    try:
        results = [import_file(con, p, participant_id="p01", tz="Europe/Madrid") for p in files]
        assert [r.format for r in results] == ["garmin_fit"] * len(files)
        assert [r.status for r in results] == ["ok", "partial", "ok", "partial", "partial"]
        counts = store.table_counts(con)
        for table in ("samples", "sleep_segments", "workouts", "rejected_rows"):
            assert counts[table] == expected[table], table
        assert sum(r.rows_accepted for r in results) == (
            expected["samples"] + expected["sleep_segments"] + expected["workouts"]
        )
        # the same bytes again (also under another name) add nothing
        copy = tmp_path / "copy.fit"
        shutil.copy(WALK, copy)
        again = [import_file(con, p, participant_id="p01") for p in [*files, copy]]
        assert {r.status for r in again} == {"already_imported"}
        assert store.table_counts(con)["samples"] == counts["samples"]
        # new bytes with rows already stored (trailing junk: a new hash): duplicates only
        walk = read_all(WALK)
        junk = tmp_path / "walk_again.fit"
        junk.write_bytes(WALK.read_bytes() + b"\x00")
        res = import_file(con, junk, participant_id="p01", tz="Europe/Madrid")
        assert (res.status, res.rows_accepted) == ("partial", 0)  # partial: the junk byte
        assert res.rows_duplicate == walk["samples"].height + walk["workouts"].height
        assert store.table_counts(con)["samples"] == counts["samples"]
        (sources,) = con.execute(
            "SELECT list(DISTINCT source ORDER BY source) FROM samples"
        ).fetchone()
        assert sources == ["garmin:activity", "garmin:hrv", "garmin:monitoring"]
    finally:
        con.close()


def test_missing_participant_fails_the_import_naming_the_file(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    try:
        res = import_file(con, WALK)
        assert res.status == "failed" and str(WALK) in res.error
        assert "carry no participant id" in res.error
        weight = import_file(con, WEIGHT, participant_id="p01")
        assert weight.status == "failed" and "weight_scale" in weight.error
    finally:
        con.close()
