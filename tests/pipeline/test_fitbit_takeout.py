"""Fitbit account-export / Google Takeout JSON importer (``pipeline.importers.fitbit_takeout``).

Real files (``tests/fixtures/fitbit_takeout/``, byte-for-byte copies, see ATTRIBUTION.md):
resting heart rate (two users), sleep logs (one ``stages``, one ``classic``; their
``levels.data`` arrays were removed by the repository's author), sedentary and very-active
minutes, and distance / exercise / heart-rate-zone files that are not read. No real
``heart_rate-*``, ``steps-*``, ``weight-*`` file or sleep log with ``levels.data`` exists in the
shared data: those are HAND-WRITTEN here in the published layout (records as the Fitbit
export writes them: ``"dateTime" : "MM/DD/YY HH:MM:SS"``, ``value`` objects, sleep ``levels``
with ``data`` and ``shortData``), in a temporary directory.
"""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from pipeline import store
from pipeline.importers import HEAD_BYTES, ImportContext, ImportFormatError, fitbit_takeout
from pipeline.ingest import import_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fitbit_takeout"
MRPHIL = FIXTURES / "mrphil007_fitbit-to-sqlite"
KEVM = FIXTURES / "kev-m_FitOut"
TZ = "America/New_York"
NY = ZoneInfo(TZ)
CTX = ImportContext(participant_id="p01", tz=TZ)
S, MIN, DAY = timedelta(seconds=1), timedelta(minutes=1), timedelta(days=1)


def read(path: Path, ctx: ImportContext = CTX) -> dict[str, pl.DataFrame]:
    out: dict[str, list[pl.DataFrame]] = {}
    for batch in fitbit_takeout.read(path, ctx):
        out.setdefault(batch.table, []).append(batch.frame)
    return {table: pl.concat(frames) for table, frames in out.items()}


def sniffed(path: Path) -> bool:
    return fitbit_takeout.sniff(path.read_bytes()[:HEAD_BYTES], path.name)


def dump(path: Path, records: list) -> Path:
    """Write records the way the Fitbit export does (2-space indent, ``" : "``)."""
    path.write_text(json.dumps(records, indent=2).replace('": ', '" : '), encoding="utf-8")
    return path


def local_utc(*args) -> datetime:
    return datetime(*args, tzinfo=NY).astimezone(UTC)


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    "path, expected",
    [
        (KEVM / "resting_heart_rate-2023-03-02.json", True),
        (KEVM / "resting_heart_rate-2024-03-01.json", True),
        (MRPHIL / "resting_heart_rate.json", True),
        (MRPHIL / "sleep.json", True),
        (MRPHIL / "sedentary_minutes.json", True),
        (MRPHIL / "very_active_minutes.json", True),
        (MRPHIL / "distance.json", False),  # unit undocumented: not read
        (MRPHIL / "exercise.json", False),
        (MRPHIL / "heart_rate_zones.json", False),
        (MRPHIL / "sleep_score.csv", False),
    ],
    ids=lambda x: x.name if isinstance(x, Path) else str(x),
)
def test_sniff_real_files(path, expected):
    assert sniffed(path) is expected


def test_plain_series_need_their_name(tmp_path):
    records = [{"dateTime": "12/31/17 16:42:00", "value": "41"}]
    assert sniffed(dump(tmp_path / "steps-2017-12-31.json", records))
    assert sniffed(dump(tmp_path / "steps.json", records))
    assert sniffed(dump(tmp_path / "calories-2017-12-31.json", records))
    assert not sniffed(dump(tmp_path / "distance-2017-12-31.json", records))
    assert not sniffed(dump(tmp_path / "export.json", records))
    # content-detected kinds do not depend on the name
    hr = [{"dateTime": "12/31/17 16:42:00", "value": {"bpm": 70, "confidence": 2}}]
    assert sniffed(dump(tmp_path / "anything.json", hr))
    assert not fitbit_takeout.sniff(b"Id,Time,Value\r\n", "heart_rate-2017-12-31.json")


# --------------------------------------------------------------------------- real files


def test_real_resting_heart_rate_local_days():
    got = read(KEVM / "resting_heart_rate-2023-03-02.json")
    s = got["samples"]
    assert s.schema == pl.Schema(fitbit_takeout.SAMPLES_SCHEMA)
    assert s.select(
        "participant_id",
        "metric",
        "start_utc",
        "end_utc",
        "utc_offset_s",
        "value",
        "unit",
        "source",
    ).rows() == [
        (
            "p01",
            "resting_heart_rate_bpm",
            local_utc(2024, 2, 28),
            local_utc(2024, 2, 29),
            -18000,
            52.26781177520752,
            "count/min",
            "fitbit-takeout:daily",
        ),
        (
            "p01",
            "resting_heart_rate_bpm",
            local_utc(2024, 2, 29),
            local_utc(2024, 3, 1),
            -18000,
            53.2727746963501,
            "count/min",
            "fitbit-takeout:daily",
        ),
    ]
    assert "rejected_rows" not in got


def test_real_sleep_logs():
    got = read(MRPHIL / "sleep.json", ImportContext(participant_id="p01", tz="Europe/London"))
    seg = got["sleep_segments"]
    assert seg.schema == pl.Schema(fitbit_takeout.SLEEP_SCHEMA)
    london = ZoneInfo("Europe/London")
    t = lambda *a: datetime(*a, tzinfo=london).astimezone(UTC)  # noqa: E731
    assert seg.select("start_utc", "end_utc", "utc_offset_s", "stage", "source").rows() == [
        (t(2018, 2, 1, 22, 36), t(2018, 2, 2, 6, 42), 0, "in_bed", "fitbit-takeout"),
        (t(2018, 2, 2, 22, 27, 30), t(2018, 2, 3, 6, 57, 30), 0, "in_bed", "fitbit-takeout"),
    ]
    totals = got["samples"].sort("metric", "start_utc")
    assert totals.select("metric", "value", "source").rows() == [
        ("sleep_asleep_min", 452.0, "fitbit-takeout:log"),
        ("sleep_asleep_min", 312.0, "fitbit-takeout:log"),
        ("time_in_bed_min", 486.0, "fitbit-takeout:log"),
        ("time_in_bed_min", 510.0, "fitbit-takeout:log"),
    ]
    # each log's time in bed is its span (8 h 06 min and 8 h 30 min)
    assert [(r[1] - r[0]) / MIN for r in seg.select("start_utc", "end_utc").rows()] == [486, 510]


def test_real_daily_minutes():
    sed = read(MRPHIL / "sedentary_minutes.json")["samples"]
    assert sed.select("metric", "start_utc", "value", "unit").rows() == [
        ("sedentary_min", local_utc(2018, 1, 1), 600.0, "min"),
        ("sedentary_min", local_utc(2018, 1, 2), 728.0, "min"),
        ("sedentary_min", local_utc(2018, 1, 3), 753.0, "min"),
    ]
    very = read(MRPHIL / "very_active_minutes.json")["samples"]
    assert very["metric"].unique().to_list() == ["very_active_min"]
    assert very["value"].to_list() == [33.0, 59.0, 42.0]


# --------------------------------------------------------------------------- hand-written


def test_heart_rate_utc_stamps_across_dst(tmp_path):
    """UTC stamps need no DST handling; the offset follows the zone (EST -> EDT 07:00Z)."""
    recs = [
        {"dateTime": "03/13/16 06:59:50", "value": {"bpm": 61, "confidence": 2}},
        {"dateTime": "03/13/16 07:00:00", "value": {"bpm": 62, "confidence": 3}},
        {"dateTime": "03/13/16 07:00:10", "value": {"bpm": 0, "confidence": 0}},
        {"dateTime": "03/13/16 07:00:20", "value": {"bpm": 300, "confidence": 1}},
        {"dateTime": "13/13/16 07:00:30", "value": {"bpm": 64, "confidence": 1}},
        {"dateTime": "03/13/16 07:00:40", "value": {"confidence": 1}},
    ]
    f = dump(tmp_path / "heart_rate-2016-03-13.json", recs)
    got = read(f)
    t = datetime(2016, 3, 13, 6, 59, 50, tzinfo=UTC)
    assert got["samples"].select(
        "start_utc", "end_utc", "utc_offset_s", "value", "source"
    ).rows() == [
        (t, t, -18000, 61.0, "fitbit-takeout:seconds"),
        (t + 10 * S, t + 10 * S, -14400, 62.0, "fitbit-takeout:seconds"),
    ]
    rej = got["rejected_rows"]
    assert rej.select("record_no", "reason").rows() == [
        (3, "value.bpm: heart_rate_bpm: value 0.0 outside plausible range [25, 240]"),
        (4, "value.bpm: heart_rate_bpm: value 300.0 outside plausible range [25, 240]"),
        (5, "dateTime: 13/13/16 07:00:30 is not a time like 12/31/17 16:42:00"),
        (6, "value.bpm: missing"),
    ]
    assert json.loads(rej["raw"][0]) == recs[2]


def test_steps_and_calories_minutes(tmp_path):
    steps = dump(
        tmp_path / "steps-2016-04-21.json",
        [
            {"dateTime": "04/21/16 04:00:00", "value": "0"},
            {"dateTime": "04/21/16 04:01:00", "value": "37"},
            {"dateTime": "04/21/16 04:02:00", "value": "-4"},
        ],
    )
    got = read(steps)
    t = datetime(2016, 4, 21, 4, tzinfo=UTC)
    assert got["samples"].select(
        "metric", "start_utc", "end_utc", "utc_offset_s", "value", "source"
    ).rows() == [
        ("steps", t, t + MIN, -14400, 0.0, "fitbit-takeout:minute"),
        ("steps", t + MIN, t + 2 * MIN, -14400, 37.0, "fitbit-takeout:minute"),
    ]
    assert got["rejected_rows"]["reason"].to_list() == [
        "value: steps: value -4.0 outside plausible range [0, 100000]"
    ]
    cal = dump(
        tmp_path / "calories-2016-04-21.json", [{"dateTime": "04/21/16 04:00:00", "value": "1.09"}]
    )
    assert read(cal)["samples"].select("metric", "value", "unit").rows() == [
        ("energy_kcal", 1.09, "kcal")
    ]


STAGES_LOG = {
    "logId": 1,
    "dateOfSleep": "2016-04-21",
    "startTime": "2016-04-20T23:00:00.000",
    "endTime": "2016-04-21T00:00:00.000",
    "duration": 3_600_000,
    "minutesAsleep": 55,
    "minutesAwake": 5,
    "timeInBed": 60,
    "type": "stages",
    "mainSleep": True,
    "levels": {
        "summary": {
            "light": {"count": 1, "minutes": 30},
            "deep": {"count": 1, "minutes": 20},
            "rem": {"count": 1, "minutes": 5},
            "wake": {"count": 1, "minutes": 5},
        },
        "data": [
            {"dateTime": "2016-04-20T23:00:00.000", "level": "wake", "seconds": 300},
            {"dateTime": "2016-04-20T23:05:00.000", "level": "light", "seconds": 1800},
            {"dateTime": "2016-04-20T23:35:00.000", "level": "deep", "seconds": 1200},
            {"dateTime": "2016-04-20T23:55:00.000", "level": "rem", "seconds": 300},
        ],
        "shortData": [{"dateTime": "2016-04-20T23:20:30.000", "level": "wake", "seconds": 60}],
    },
}
CLASSIC_LOG = {
    "logId": 2,
    "dateOfSleep": "2016-04-22",
    "startTime": "2016-04-21T23:00:00.000",
    "endTime": "2016-04-21T23:05:00.000",
    "duration": 300_000,
    "minutesAsleep": 3,
    "minutesAwake": 2,
    "timeInBed": 5,
    "type": "classic",
    "mainSleep": True,
    "levels": {
        "data": [
            {"dateTime": "2016-04-21T23:00:00.000", "level": "asleep", "seconds": 180},
            {"dateTime": "2016-04-21T23:03:00.000", "level": "restless", "seconds": 60},
            {"dateTime": "2016-04-21T23:04:00.000", "level": "awake", "seconds": 60},
            {"dateTime": "2016-04-21T23:05:00.000", "level": "dozing", "seconds": 60},
        ]
    },
}


def test_sleep_stages_classic_and_short_wakes(tmp_path):
    f = dump(tmp_path / "sleep-2016-04-21.json", [STAGES_LOG, CLASSIC_LOG])
    got = read(f)
    t = local_utc(2016, 4, 20, 23)
    u = local_utc(2016, 4, 21, 23)
    seg = got["sleep_segments"].sort("start_utc", "stage")
    assert seg.select("start_utc", "end_utc", "stage", "source").rows() == [
        (t, t + 5 * MIN, "awake", "fitbit-takeout"),
        (t, t + 60 * MIN, "in_bed", "fitbit-takeout"),
        (t + 5 * MIN, t + 35 * MIN, "light", "fitbit-takeout"),
        (t + 20.5 * MIN, t + 21.5 * MIN, "awake", "fitbit-takeout:short_wake"),
        (t + 35 * MIN, t + 55 * MIN, "deep", "fitbit-takeout"),
        (t + 55 * MIN, t + 60 * MIN, "rem", "fitbit-takeout"),
        (u, u + 3 * MIN, "asleep", "fitbit-takeout"),
        (u, u + 5 * MIN, "in_bed", "fitbit-takeout"),
        (u + 3 * MIN, u + 4 * MIN, "awake", "fitbit-takeout:restless"),
        (u + 4 * MIN, u + 5 * MIN, "awake", "fitbit-takeout"),
    ]
    # stage minutes per type agree with the log's own summary
    staged = seg.filter(
        pl.col("source") == "fitbit-takeout", pl.col("stage") != "in_bed", pl.col("start_utc") < u
    )
    minutes = dict(
        staged.group_by("stage")
        .agg((pl.col("end_utc") - pl.col("start_utc")).dt.total_seconds().sum() / 60)
        .rows()
    )
    assert minutes == {"light": 30, "deep": 20, "rem": 5, "awake": 5}
    assert got["rejected_rows"].select("record_no", "reason").rows() == [
        (
            2,
            "levels.data[3]: level dozing is not one of deep, light, rem, wake, asleep, awake, "
            "restless",
        )
    ]
    assert seg["utc_offset_s"].unique().to_list() == [-14400]


def test_weight_unit_from_bmi(tmp_path):
    kg = dump(
        tmp_path / "weight-2016-04-21.json",
        [
            {
                "logId": 1,
                "weight": 70.0,
                "bmi": 22.86,
                "date": "04/21/16",
                "time": "07:30:00",
                "source": "Aria",
            },
            {"logId": 2, "weight": 70.5, "date": "04/22/16", "time": "07:30:00", "source": "Web"},
        ],
    )
    got = read(kg)["samples"]
    assert got.select("start_utc", "value", "original_value", "original_unit", "device").rows() == [
        (local_utc(2016, 4, 21, 7, 30), 70.0, 70.0, "kg", "Aria"),
        (local_utc(2016, 4, 22, 7, 30), 70.5, 70.5, "kg", "Web"),
    ]
    lb = dump(
        tmp_path / "weight-2016-05-01.json",
        [
            {
                "logId": 3,
                "weight": 154.3,
                "bmi": 22.86,
                "date": "05/01/16",
                "time": "23:59:59",
                "source": "API",
            },
            {"logId": 4, "weight": 191.8, "bmi": 27.77, "date": "05/18/15", "time": "23:59:59"},
        ],
    )
    got = read(lb)["samples"]
    assert got["original_unit"].to_list() == ["lb", "lb"]
    assert got["value"].to_list() == pytest.approx([154.3 * 0.45359237, 191.8 * 0.45359237])
    assert got["device"].to_list() == ["API", ""]
    unknown = dump(
        tmp_path / "weight-2016-06-01.json",
        [{"logId": 5, "weight": 160.0, "date": "06/01/16", "time": "08:00:00"}],
    )
    got = read(unknown)
    assert "samples" not in got or got["samples"].height == 0
    assert got["rejected_rows"]["reason"].to_list() == [
        "weight: unit unknown (kg or lb): no log in this file has a bmi to tell"
    ]


def test_local_times_in_the_spring_gap_rejected(tmp_path):
    f = dump(
        tmp_path / "weight-2016-03-13.json",
        [{"logId": 1, "weight": 70.0, "bmi": 22.86, "date": "03/13/16", "time": "02:30:00"}],
    )
    assert read(f)["rejected_rows"]["reason"].to_list() == [
        "time: local time 2016-03-13 02:30:00 does not exist in America/New_York (skipped "
        "when clocks went forward for daylight saving time)"
    ]


# --------------------------------------------------------------------------- errors, driver


def test_participant_and_zone_required(tmp_path):
    path = KEVM / "resting_heart_rate-2024-03-01.json"
    with pytest.raises(ImportFormatError, match="--participant"):
        read(path, ImportContext(tz=TZ))
    with pytest.raises(ImportFormatError, match="--timezone"):
        read(path, ImportContext(participant_id="p01"))
    con = store.connect(tmp_path / "s.duckdb")
    res = import_file(con, path, tz=TZ)
    assert res.status == "failed" and str(path) in res.error and "--participant" in res.error
    zipped = tmp_path / "takeout.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.write(path, "Takeout/Fitbit/Global Export Data/" + path.name)
    with pytest.raises(ImportFormatError, match="unzip"):
        read(zipped)


def test_import_and_reimport_adds_nothing(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    folder = tmp_path / "export"
    folder.mkdir()
    for p in [*KEVM.glob("*.json"), *MRPHIL.glob("*.json")]:
        (folder / p.name).write_bytes(p.read_bytes())
    dump(folder / "sleep-2016-04-21.json", [STAGES_LOG])
    files = sorted(folder.iterdir())
    first = {p.name: import_file(con, p, participant_id="p01", tz=TZ) for p in files}
    assert {n: r.status for n, r in first.items()} == {
        "distance.json": "skipped",
        "exercise.json": "skipped",
        "heart_rate_zones.json": "skipped",
        "resting_heart_rate-2023-03-02.json": "ok",
        "resting_heart_rate-2024-03-01.json": "ok",
        "resting_heart_rate.json": "ok",
        "sedentary_minutes.json": "ok",
        "sleep.json": "ok",
        "sleep-2016-04-21.json": "ok",
        "very_active_minutes.json": "ok",
    }
    before = store.table_counts(con)
    assert before["sleep_segments"] == 2 + 6 and before["samples"] == 6 + 3 + 3 + 4 + 2
    # the same records re-serialised (other bytes, same content): nothing new
    for p in files:
        if p.suffix == ".json":
            p.write_text(json.dumps(json.loads(p.read_text())), encoding="utf-8")
    again = [
        import_file(con, p, participant_id="p01", tz=TZ)
        for p in files
        if first[p.name].status == "ok"
    ]
    assert {r.status for r in again} == {"ok"}
    assert sum(r.rows_accepted for r in again) == 0
    assert store.table_counts(con)["samples"] == before["samples"]
    assert store.table_counts(con)["sleep_segments"] == before["sleep_segments"]


def test_non_uniform_records_fall_back_to_record_by_record(tmp_path):
    f = dump(
        tmp_path / "heart_rate-2016-04-21.json",
        [
            {"dateTime": "04/21/16 04:00:00", "value": {"bpm": 61, "confidence": 2}},
            {"dateTime": "04/21/16 04:00:05", "value": {"bpm": "62", "confidence": 2}},
            {"dateTime": "04/21/16 04:00:10", "value": {"bpm": "n/a", "confidence": 2}},
            7,
        ],
    )
    got = read(f)
    assert got["samples"]["value"].to_list() == [61.0, 62.0]
    assert got["rejected_rows"].select("record_no", "reason", "raw").rows() == [
        (
            3,
            "value.bpm: n/a is not a number",
            '{"dateTime":"04/21/16 04:00:10","value":{"bpm":"n/a","confidence":2}}',
        ),
        (4, "dateTime: missing", "7"),
    ]
