"""Oura importer: sleep periods and heart rate in Oura's API v2 layout, JSON and CSV.

No real Oura export exists in the shared data. The fixtures in ``tests/fixtures/oura/`` are
written by ``make_oura_fixtures.py`` exactly to Oura's published API v2 schema
(cloud.ouraring.com/v2/docs, OpenAPI 1.27: ``SleepModel``, ``HeartRateModel``,
``DailyReadinessModel``; field names, nesting, ISO times with offsets, the 5-minute
``sleep_phase_5_min`` code 1 deep / 2 light / 3 REM / 4 awake). Expected figures are taken
from the documents themselves here (the per-stage durations Oura reports next to the
hypnogram, ``lowest_heart_rate``, the ``heart_rate`` items), never from the importer.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from pipeline import store
from pipeline.importers import ImportContext, ImportFormatError, detect_format, oura
from pipeline.ingest import import_file

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "oura"
SLEEP_JSON = FIX / "sleep_v2.json"
SLEEP_CSV = FIX / "sleep_v2.csv"
HR_JSON = FIX / "heartrate_v2.json"
HR_CSV = FIX / "heartrate_v2.csv"
READINESS_JSON = FIX / "daily_readiness_v2.json"
CTX = ImportContext(participant_id="p01")
STAGE = {"1": "deep", "2": "light", "3": "rem", "4": "awake"}
DURATION_FIELD = {
    "deep": "deep_sleep_duration",
    "light": "light_sleep_duration",
    "rem": "rem_sleep_duration",
    "awake": "awake_time",
}


def read_all(reader, path: Path, ctx: ImportContext = CTX) -> dict[str, pl.DataFrame]:
    frames: dict[str, list[pl.DataFrame]] = {}
    for batch in reader(path, ctx):
        frames.setdefault(batch.table, []).append(batch.frame)
    return {t: pl.concat(f) for t, f in frames.items()}


def docs(path: Path) -> list[dict]:
    return json.loads(path.read_text())["data"]


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def offset_s(text: str) -> int:
    return int(datetime.fromisoformat(text).utcoffset().total_seconds())


# ------------------------------------------------------------------------------ detection


def test_sniffers_and_detection():
    for path in (SLEEP_CSV, HR_CSV):
        head = path.read_bytes()
        assert oura.sniff(head, path.name) and not oura.sniff_json(head, path.name)
        assert detect_format(path) is oura
    for path in (SLEEP_JSON, HR_JSON, READINESS_JSON):
        head = path.read_bytes()
        assert oura.sniff_json(head, path.name) and not oura.sniff(head, path.name)
        assert detect_format(path) is oura.JSON
    assert (oura.FORMAT, oura.JSON.FORMAT) == ("oura_csv", "oura_json")
    # a generic or journal header is not Oura; neither is a Fitbit heart-rate JSON
    assert not oura.sniff(b"timestamp,metric,value,unit\n", "g.csv")
    assert not oura.sniff_json(
        b'[{"dateTime": "01/01/20 00:00:00", "value": {"bpm": 60, "confidence": 2}}]',
        "heart_rate.json",
    )


# ------------------------------------------------------------------------------ sleep


def expected_segments(doc: dict) -> list[tuple[datetime, datetime, str]]:
    """The hypnogram decoded here: one stage per 5 minutes from bedtime_start, runs merged."""
    start, end = instant(doc["bedtime_start"]), instant(doc["bedtime_end"])
    out: list[list] = []
    for i, ch in enumerate(doc["sleep_phase_5_min"]):
        a = start + timedelta(minutes=5 * i)
        b = min(a + timedelta(minutes=5), end)
        if out and out[-1][2] == STAGE[ch]:
            out[-1][1] = b
        else:
            out.append([a, b, STAGE[ch]])
    return [tuple(x) for x in out]


@pytest.mark.parametrize(
    ("reader", "path"), [(oura.read_json, SLEEP_JSON), (oura.read, SLEEP_CSV)], ids=["json", "csv"]
)
def test_sleep_periods(reader, path):
    documents = docs(SLEEP_JSON)
    kept = [d for d in documents if d["type"] != "deleted"]
    out = read_all(reader, path)

    seg = out["sleep_segments"].sort("start_utc")
    want = sorted(s for d in kept for s in expected_segments(d))
    assert seg.select("start_utc", "end_utc", "stage").rows() == want
    # Oura's own per-stage durations agree with the segments
    for d in kept:
        mine = seg.filter(
            pl.col("start_utc").is_between(instant(d["bedtime_start"]), instant(d["bedtime_end"]))
        )
        got = mine.group_by("stage").agg((pl.col("end_utc") - pl.col("start_utc")).sum())
        for stage, dur in got.iter_rows():
            assert dur.total_seconds() == d[DURATION_FIELD[stage]], (d["type"], stage)
        # the night crosses the DST change: every row keeps bedtime_start's offset
        assert set(mine["utc_offset_s"]) == {offset_s(d["bedtime_start"])}
    assert set(seg["source"]) == {"oura"} and set(seg["device"]) == {""}

    samples = out["samples"]
    for d in kept:
        period = (instant(d["bedtime_start"]), instant(d["bedtime_end"]))
        rhr = samples.filter(
            pl.col("metric") == "resting_heart_rate_bpm", pl.col("start_utc") == period[0]
        )
        assert rhr.select("end_utc", "value", "unit").rows() == [
            (period[1], float(d["lowest_heart_rate"]), "count/min")
        ]
        hrv = samples.filter(pl.col("metric") == "hrv_rmssd_ms", pl.col("start_utc") == period[0])
        assert hrv.select("end_utc", "value", "unit").rows() == [
            (period[1], float(d["average_hrv"]), "ms")
        ]
    hr = samples.filter(pl.col("metric") == "heart_rate_bpm").sort("start_utc")
    want_hr = sorted(
        (instant(d["heart_rate"]["timestamp"]) + timedelta(seconds=300 * i), float(v))
        for d in kept
        for i, v in enumerate(d["heart_rate"]["items"])
        if v is not None
    )
    assert hr.select("start_utc", "value").rows() == want_hr
    assert (hr["end_utc"] == hr["start_utc"]).all()

    (deleted,) = out["rejected_rows"].rows(named=True)
    assert deleted["reason"] == "sleep period: type 'deleted' (deleted in the Oura app)"
    assert deleted["record_no"] == (3 if path.suffix == ".json" else 4)  # 3rd doc / line 4
    assert '"deleted"' in deleted["raw"] or ",deleted" in deleted["raw"]


def test_csv_and_json_sleep_give_the_same_rows():
    a, b = read_all(oura.read_json, SLEEP_JSON), read_all(oura.read, SLEEP_CSV)
    for table in ("samples", "sleep_segments"):
        assert a[table].sort(a[table].columns).equals(b[table].sort(b[table].columns))


# ------------------------------------------------------------------------------ heart rate


@pytest.mark.parametrize(
    ("reader", "path"), [(oura.read_json, HR_JSON), (oura.read, HR_CSV)], ids=["json", "csv"]
)
def test_heart_rate(reader, path):
    documents = docs(HR_JSON)
    out = read_all(reader, path)
    hr = out["samples"].sort("start_utc")
    assert hr.select("start_utc", "value").rows() == [
        (instant(d["timestamp"]), float(d["bpm"])) for d in documents
    ]
    assert set(hr["metric"]) == {"heart_rate_bpm"} and set(hr["source"]) == {"oura"}
    assert set(hr["utc_offset_s"]) == {0}  # Oura writes UTC; no zone given
    assert Counter(d["source"] for d in documents).keys() == {"awake", "sleep", "workout"}
    assert "rejected_rows" not in out


def test_heart_rate_offsets_follow_the_zone_when_given():
    out = read_all(oura.read_json, HR_JSON, ImportContext(participant_id="p01", tz="Europe/Berlin"))
    hr = out["samples"]
    change = datetime(2024, 10, 27, 1, 0, tzinfo=UTC)  # CEST -> CET
    assert set(hr.filter(pl.col("start_utc") < change)["utc_offset_s"]) == {7200}
    assert set(hr.filter(pl.col("start_utc") >= change)["utc_offset_s"]) == {3600}


# ------------------------------------------------------------------------------ readiness, bundles


def test_readiness_only_file_explains_why_nothing_is_imported():
    with pytest.raises(ImportFormatError, match="contributor scores .*lowest_heart_rate"):
        read_all(oura.read_json, READINESS_JSON)


def test_bundle_of_collections(tmp_path):
    bundle = tmp_path / "oura_export.json"
    bundle.write_text(
        json.dumps(
            {
                "sleep": json.loads(SLEEP_JSON.read_text()),
                "daily_readiness": json.loads(READINESS_JSON.read_text()),
                "heartrate": docs(HR_JSON),
            }
        )
    )
    assert detect_format(bundle) is oura.JSON
    out = read_all(oura.read_json, bundle)
    single = [read_all(oura.read_json, p) for p in (SLEEP_JSON, HR_JSON)]
    assert out["samples"].height == sum(s["samples"].height for s in single)
    assert out["sleep_segments"].height == single[0]["sleep_segments"].height
    reasons = out["rejected_rows"].sort("record_no")["reason"].to_list()
    assert reasons[0].startswith("sleep period: type 'deleted'")
    assert reasons[1].startswith("daily readiness: holds 1-100 contributor scores")


# ------------------------------------------------------------------------------ bad input


def test_bad_documents_are_rejected_and_the_rest_lands(tmp_path):
    main = docs(SLEEP_JSON)[0]
    bad = [
        {**main, "id": "a", "sleep_phase_5_min": "44x2"},
        {**main, "id": "b", "sleep_phase_5_min": main["sleep_phase_5_min"] + "2222"},
        {**main, "id": "c", "bedtime_end": main["bedtime_start"]},
        {
            **main,
            "id": "d",
            "lowest_heart_rate": 300,
            "average_hrv": "n/a",
            "bedtime_start": "2024-11-01T23:00:00+01:00",
            "bedtime_end": "2024-11-02T07:55:00+01:00",
            "heart_rate": None,
        },
        {"bpm": 0, "source": "awake", "timestamp": "2024-10-27T10:00:00+00:00"},
        {"bpm": 61, "source": "awake", "timestamp": "yesterday"},
        {"bpm": 62, "source": "rest", "timestamp": "2024-10-27T10:05:00+00:00"},
        {"day": "2024-10-27", "score": 80, "steps": 9000, "active_calories": 400},
    ]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"data": bad}))
    out = read_all(oura.read_json, path)
    reasons = dict(out["rejected_rows"].select("record_no", "reason").iter_rows())
    assert reasons[1] == (
        "sleep_phase_5_min: not a string of the digits 1-4 (1 deep, 2 light, 3 REM, 4 awake)"
    )
    assert reasons[2].startswith("sleep_phase_5_min: 111 five-minute phases do not fit")
    assert reasons[3].startswith("bedtime_end 2024-10-26T23:12:41+02:00 is not after")
    assert reasons[5] == "heart_rate_bpm: value 0.0 outside plausible range [25, 240]"
    assert reasons[6].startswith("timestamp: yesterday is not an ISO 8601 date-time")
    assert reasons[8].startswith("not an Oura sleep period or heart-rate document (fields: day")
    doc4 = out["rejected_rows"].filter(pl.col("record_no") == 4)["reason"].to_list()
    assert sorted(doc4) == [
        "average_hrv: 'n/a' is not a number",
        "resting_heart_rate_bpm: value 300.0 outside plausible range [25, 150]",
    ]
    # what is fine still lands: documents 1, 2 keep their values, 4 its segments, 7 its bpm
    samples = out["samples"]
    assert samples.filter(pl.col("metric") == "heart_rate_bpm", pl.col("value") == 62.0).height == 1
    assert out["sleep_segments"]["start_utc"].min() == instant("2024-11-01T23:00:00+01:00")
    assert samples.filter(pl.col("metric") == "resting_heart_rate_bpm").height == 2


def test_times_without_offset_need_a_zone(tmp_path):
    path = tmp_path / "hr.csv"
    path.write_text("timestamp,bpm,source\n2024-10-27T10:00:00,61,awake\n")
    with pytest.raises(
        ImportFormatError,
        match=rf"{path}:2: time '2024-10-27T10:00:00' has no "
        "UTC offset",
    ):
        read_all(oura.read, path)
    out = read_all(oura.read, path, ImportContext(participant_id="p01", tz="Europe/Berlin"))
    assert out["samples"].select("start_utc", "utc_offset_s").rows() == [
        (datetime(2024, 10, 27, 9, tzinfo=UTC), 3600)
    ]


def test_participant_is_required():
    with pytest.raises(
        ImportFormatError, match=f"{SLEEP_CSV}: Oura exports carry no participant id"
    ):
        read_all(oura.read, SLEEP_CSV, ImportContext())


# ------------------------------------------------------------------------------ into the store


def test_import_into_store_is_idempotent_across_formats(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    try:
        first = [import_file(con, p, participant_id="p01") for p in (SLEEP_JSON, HR_JSON)]
        assert [(r.format, r.status) for r in first] == [
            ("oura_json", "partial"),
            ("oura_json", "ok"),
        ]
        counts = store.table_counts(con)
        sleep, hr = read_all(oura.read_json, SLEEP_JSON), read_all(oura.read_json, HR_JSON)
        assert counts["samples"] == sleep["samples"].height + hr["samples"].height
        assert counts["sleep_segments"] == sleep["sleep_segments"].height
        assert counts["rejected_rows"] == 1
        # the same files again, and the same documents as CSV: nothing new
        again = [import_file(con, p, participant_id="p01") for p in (SLEEP_JSON, HR_JSON)]
        assert {r.status for r in again} == {"already_imported"}
        csvs = [import_file(con, p, participant_id="p01") for p in (SLEEP_CSV, HR_CSV)]
        assert [r.format for r in csvs] == ["oura_csv", "oura_csv"]
        assert [r.rows_accepted for r in csvs] == [0, 0]
        assert [r.rows_duplicate for r in csvs] == [
            sleep["samples"].height + sleep["sleep_segments"].height,
            hr["samples"].height,
        ]
        after = store.table_counts(con)
        assert {t: after[t] for t in ("samples", "sleep_segments")} == {
            t: counts[t] for t in ("samples", "sleep_segments")
        }
    finally:
        con.close()
