"""Bad input, explicit cases (issue 13): the kinds of input the hypothesis mutations
(``test_mutations.py``) do not reach, each through the real ingest driver into a fresh store.

Kinds: far past and future dates (1900, 2200, epoch 0, milliseconds or nanoseconds where
seconds are expected), mixed units within one file, DST transitions and changing UTC offsets
(a spring-forward gap time, a fall-back repeated time, offsets changing across a journey),
JSON nested 100,000 deep, and 50 MB lines.

Every import must end in one of two ways (:func:`_import` checks it): a one-line error naming
the file and the position (line or record) with status ``failed``/``skipped`` (``crampwatch
ingest`` then exits 1) and no rows left behind; or acceptance, every rejected row counted in
the ledger and kept in ``rejected_rows`` with its position and a reason. Never a traceback, a
hang (each test has a time limit) or half a file. Each test then pins what the importer
decided for the kind: convert, reject with the reason, or store at which instant.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from detectors.tables import TABLES
from pipeline import store
from pipeline.cli import main as cli
from pipeline.importers import MAX_RAW_CHARS, MAX_REASON_CHARS
from pipeline.ingest import import_file
from tests.conftest import FIXTURES

pytestmark = pytest.mark.timeout(300)  # a hang fails the test

MB50 = 50 * 1024 * 1024
DEEP = "[" * 100_000 + "]" * 100_000  # 100,000 nested arrays


@dataclass
class Outcome:
    status: str
    error: str | None
    accepted: int
    rejects: list[tuple[int | None, str]]  # (record_no, reason), in record order
    rows: dict[str, int]  # rows per table written by the import
    con: object  # the open store (closed by the test's tmp_path fixture teardown)

    def reasons(self) -> dict[int | None, str]:
        return {n: r for n, r in self.rejects}

    def query(self, sql: str, *params) -> list[tuple]:
        return self.con.execute(sql, list(params)).fetchall()


@pytest.fixture
def imp(tmp_path):
    """``imp(name, content, pid="p01", tz=None, position=True)``: write ``content`` (str or
    bytes) to ``tmp_path/name``, import it into a fresh store and check the contract."""
    cons = []

    def run(name: str, content, pid: str | None = "p01", tz=None, position=True) -> Outcome:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        con = store.connect(tmp_path / f"{path.stem}.duckdb")
        cons.append(con)
        res = import_file(
            con, path, participant_id=pid, tz=tz, new_participant=True, data_dir=tmp_path / "data"
        )
        assert res.status in ("ok", "partial", "failed", "skipped"), res
        rows = {}
        if res.import_id is not None:
            for t, cols in TABLES.items():
                if "import_id" in cols and t not in ("imports", "rejected_rows"):
                    n = con.execute(
                        f'SELECT count(*) FROM "{t}" WHERE import_id = ?', [res.import_id]
                    ).fetchall()[0][0]
                    if n:
                        rows[t] = n
        rejects = con.execute(
            "SELECT record_no, reason, raw FROM rejected_rows WHERE import_id = ? "
            "ORDER BY record_no NULLS LAST",
            [res.import_id],
        ).fetchall()
        if res.status in ("failed", "skipped"):
            # one line, naming the file and (where the input has one) the position
            assert res.error and "\n" not in res.error.strip(), res.error
            assert str(path) in res.error, res.error
            if position:
                assert re.search(re.escape(str(path)) + r":\d+: ", res.error), res.error
            assert not rows and not rejects, (rows, rejects)  # nothing of a failed file
        else:
            # every rejected row counted and kept, with a reason and its position
            assert res.rows_rejected == len(rejects), (res.rows_rejected, rejects)
            assert res.status == ("partial" if rejects else "ok"), res
            for no, reason, raw in rejects:
                assert reason and len(reason) <= MAX_REASON_CHARS, (no, reason[:200])
                assert raw is None or len(raw) <= MAX_RAW_CHARS
        return Outcome(
            res.status, res.error, res.rows_accepted, [(n, r) for n, r, _ in rejects], rows, con
        )

    yield run
    for con in cons:
        con.close()


def _csv(header: str, *lines: str) -> str:
    return "\n".join([header, *lines]) + "\n"


GENERIC = "timestamp,metric,value,unit"
JOURNAL = "participant_id,time,kind,severity,body_side,muscle,duration_min,note"
INDOOR = "timestamp,temperature_c,humidity_pct,sensor"
ACCEL = "# device: axivity_ax3\ntimestamp,x,y,z,heart_rate_bpm"


def _apple(*elements: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_US">\n'
        ' <ExportDate value="2025-06-17 12:00:00 +0200"/>\n' + "".join(elements) + "</HealthData>\n"
    )


def _record(kind: str, unit: str, start: str, value, end: str | None = None, source="Watch"):
    return (
        f' <Record type="HKQuantityTypeIdentifier{kind}" sourceName="{source}" unit="{unit}" '
        f'creationDate="{start}" startDate="{start}" endDate="{end or start}" value="{value}"/>\n'
    )


def _workout(start: str, end: str) -> str:
    return (
        ' <Workout workoutActivityType="HKWorkoutActivityTypeWalking" duration="30" '
        f'durationUnit="min" sourceName="Watch" startDate="{start}" endDate="{end}"/>\n'
    )


def _accel(times: list[str]) -> str:
    """A research-device accelerometry CSV: one line per time, heart rate once a second."""
    return _csv(
        ACCEL, *(f"{t},0.0,0.0,1.0,{58 if i % 50 == 0 else ''}" for i, t in enumerate(times))
    )


def _local_times(start: datetime, n: int, suffix: str = "") -> list[str]:
    """``n`` wall-clock times 20 ms apart (50 Hz) from ``start``, ISO with millisecond."""
    return [
        (start + timedelta(milliseconds=20 * i)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + suffix
        for i in range(n)
    ]


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ------------------------------------------------------------------------------------------
# far past and future dates; epoch numbers in the wrong unit


def test_generic_csv_far_dates_and_epoch_numbers(imp):
    out = imp(
        "far.csv",
        _csv(
            GENERIC,
            "1900-01-01T00:00:00Z,heart_rate_bpm,60,bpm",
            "2200-01-01T00:00:00Z,heart_rate_bpm,61,bpm",
            "1970-01-01T00:00:00Z,heart_rate_bpm,62,bpm",  # epoch 0, written as a date
            "1899-12-31T23:59:59Z,heart_rate_bpm,63,bpm",
            "0,heart_rate_bpm,64,bpm",  # epoch numbers are not this format's times
            "1751400000000,heart_rate_bpm,65,bpm",
            "2025-07-01T00:00:00Z,heart_rate_bpm,66,bpm",
        ),
    )
    assert out.status == "partial"
    assert sorted(out.reasons()) == [3, 5, 6, 7]
    assert "years 1900-2100" in out.reasons()[3] and "years 1900-2100" in out.reasons()[5]
    assert out.reasons()[7].startswith("timestamp: 1751400000000 is not an ISO 8601 date-time")
    assert [t.year for (t,) in out.query("SELECT start_utc FROM samples ORDER BY 1")] == [
        1900,
        1970,
        2025,
    ]


def test_journal_far_dates(imp):
    out = imp(
        "journal.csv",
        _csv(
            JOURNAL,
            "p01,1900-01-01T03:00:00Z,cramp,5,left,calf,1,",
            "p01,2200-01-01T03:00:00Z,cramp,5,left,calf,1,",
            "p01,1970-01-01T00:00:00Z,cramp,5,left,calf,1,",
            "p01,2025-07-03T03:15:00+02:00,cramp,7,left,calf,2.5,",
        ),
        pid=None,
    )
    assert out.rejects == [(3, "time: year 2200 outside 1900-2100")]
    assert out.rows["journal"] == 3


def test_indoor_epoch_seconds_and_the_wrong_units(imp):
    out = imp(
        "indoor.csv",
        _csv(
            INDOOR,
            "0,24,50,bedroom",  # epoch 0: 1970, a real instant
            "1751400000,24,50,bedroom",  # seconds
            "1751400060000,24,50,bedroom",  # milliseconds
            "1751400120000000,24,50,bedroom",  # microseconds
            "2200-01-01T00:00:00Z,24,50,bedroom",
            "1900-01-01T00:00:00Z,24,50,bedroom",
        ),
    )
    r = out.reasons()
    assert sorted(r) == [4, 5, 6]
    assert r[4] == (
        "timestamp: 1751400060000 is not an ISO 8601 time (2025-07-01T22:00:00+02:00) or Unix "
        "epoch seconds"
    )
    assert r[6] == "timestamp: 2200-01-01T00:00:00Z outside the years 1900-2100"
    hours = [t for (t,) in out.query("SELECT time_utc FROM environment ORDER BY 1")]
    assert hours == [_utc(1900, 1, 1), _utc(1970, 1, 1), _utc(2025, 7, 1, 20)]


@pytest.mark.parametrize(
    ("case", "times", "accepted"),
    [
        ("seconds", [f"{1751403600 + i * 0.02:.2f}" for i in range(500)], True),
        ("epoch_0", [f"{i * 0.02:.2f}" for i in range(500)], True),
        ("milliseconds", [f"{(1751403600 + i * 0.02) * 1000:.0f}" for i in range(500)], False),
        ("nanoseconds", [str(1751403600 * 10**9 + i * 20_000_000) for i in range(500)], False),
        ("year_2200", _local_times(datetime(2200, 1, 1), 500, "Z"), False),
    ],
)
def test_accelerometry_epoch_units_and_far_dates(imp, case, times, accepted):
    out = imp(f"accel_{case}.csv", _accel(times))
    if accepted:
        assert out.status == "ok" and out.rows["accelerometry_files"] == 1
        assert out.rows["samples"] == 10  # one heart rate a second
    else:  # every line rejected with the reason; no recording indexed
        assert out.status == "partial" and len(out.rejects) == 500
        assert "accelerometry_files" not in out.rows and "samples" not in out.rows
        assert out.rejects[0][0] == 3  # line numbers count the comment and the header
        assert out.rejects[0][1].startswith("timestamp: ")


def test_apple_far_dates_and_impossible_offsets_are_rejected(imp):
    """Fixed: the Apple importer stored records dated 0001, 2200 or 9999 and offsets no zone
    has (+25:00); other importers reject years outside 1900-2100 and such offsets."""
    out = imp(
        "export.xml",
        _apple(
            _record("HeartRate", "count/min", "1900-01-01 00:00:00 +0000", 60),
            _record("HeartRate", "count/min", "2200-01-01 00:00:00 +0000", 61),
            _record("HeartRate", "count/min", "0001-01-01 00:00:00 +0100", 62),
            _record("HeartRate", "count/min", "9999-12-31 23:59:59 -1400", 63),
            _record("HeartRate", "count/min", "2025-06-16 03:00:00 +2500", 64),
            _record(
                "StepCount",
                "count",
                "2025-06-16 03:00:00 +0200",
                10,
                end="2225-06-16 03:00:00 +0200",
            ),
            _record("HeartRate", "count/min", "1970-01-01 00:00:00 +0000", 65),
            _workout("2200-01-01 10:00:00 +0000", "2200-01-01 10:30:00 +0000"),
            _workout("0001-01-01 00:00:00 +0100", "0001-01-01 00:30:00 +0100"),
            _workout("2025-06-16 10:00:00 +0200", "2025-06-16 10:30:00 +0200"),
        ),
    )
    assert out.rejects == [
        (2, "startDate '2200-01-01 00:00:00 +0000' outside the years 1900-2100"),
        (3, "startDate '0001-01-01 00:00:00 +0100' outside the years 1900-2100"),
        (4, "startDate '9999-12-31 23:59:59 -1400' outside the years 1900-2100"),
        (5, "startDate '2025-06-16 03:00:00 +2500': UTC offset outside -12:00..+14:00"),
        (6, "endDate '2225-06-16 03:00:00 +0200' outside the years 1900-2100"),
        (None, "workout #1: startDate '2200-01-01 10:00:00 +0000' outside the years 1900-2100"),
        (None, "workout #2: unparseable startDate '0001-01-01 00:00:00 +0100'"),
    ]
    assert out.query("SELECT value FROM samples ORDER BY start_utc") == [(60.0,), (65.0,)]
    assert out.rows["workouts"] == 1


@pytest.mark.parametrize(("unit", "scale"), [("s", 1), ("ms", 10**3), ("ns", 10**9)])
def test_open_meteo_unixtime_in_the_wrong_unit(imp, unit, scale):
    """``timeformat=unixtime`` times in ms or ns where seconds are expected are rejected row
    by row. Fixed: nanoseconds overflowed when scaled to µs, and 7 of the 72 rows then went
    neither into the store nor into the rejected rows."""
    doc = json.loads(
        (FIXTURES / "weather" / "open_meteo_ewr_2013-11-02_2013-11-04_imperial.json").read_text()
    )
    doc["hourly_units"]["time"] = "unixtime"
    doc["hourly"]["time"] = [
        int(datetime.fromisoformat(t).replace(tzinfo=UTC).timestamp()) * scale
        for t in doc["hourly"]["time"]
    ]
    out = imp(f"open_meteo_{unit}.json", json.dumps(doc))
    n = len(doc["hourly"]["time"])
    stored = out.rows.get("environment", 0)
    assert stored + len(out.rejects) == n  # every hour accounted for
    if unit == "s":
        assert stored == 66  # 6 hours without values are rejected, as from the real file
    else:
        assert stored == 0
        assert all("is not a time like 2025-07-01T14:00" in r for _, r in out.rejects)


def test_fitabase_and_oura_far_dates(imp):
    fit = imp(
        "heartrate_seconds_merged.csv",
        _csv(
            "Id,Time,Value",
            "4388161847,1/1/1900 12:00:00 AM,52",
            "4388161847,1/1/2200 12:00:00 AM,53",
            "4388161847,1/1/1970 12:00:00 AM,54",
            "4388161847,4/21/2016 12:00:00 AM,55",
        ),
        pid=None,
        tz="America/New_York",
    )
    assert fit.rejects == [(3, "Time: year 2200 outside 1900-2100")]
    assert fit.rows["samples"] == 3
    oura = imp(
        "oura_heartrate.csv",
        _csv(
            "bpm,source,timestamp",
            "68,awake,1900-10-26T18:00:07+00:00",
            "69,awake,2200-10-26T18:00:07+00:00",
            "70,awake,1970-01-01T00:00:00+00:00",
            "71,awake,1729965607000",  # epoch milliseconds
            "72,awake,2024-10-26T18:10:07+00:00",
        ),
    )
    assert sorted(oura.reasons()) == [3, 5] and oura.rows["samples"] == 3
    assert all("is not an ISO 8601 date-time" in r for _, r in oura.rejects)


# ------------------------------------------------------------------------------------------
# mixed units within one file


def test_apple_mixed_units_are_converted_or_rejected(imp):
    out = imp(
        "export.xml",
        _apple(
            _record("HeartRate", "count/min", "2025-06-16 03:00:00 +0200", 60),
            _record("HeartRate", "count/s", "2025-06-16 03:01:00 +0200", 1.1),
            _record("BodyMass", "kg", "2025-06-16 07:00:00 +0200", 80),
            _record("BodyMass", "lb", "2025-06-17 07:00:00 +0200", 176),
            _record("AppleSleepingWristTemperature", "degC", "2025-06-16 07:00:00 +0200", 36.1),
            _record("AppleSleepingWristTemperature", "degF", "2025-06-17 07:00:00 +0200", 97.1),
            # body temperature is not a metric crampwatch stores (either unit): skipped, counted
            _record("BodyTemperature", "degC", "2025-06-16 07:00:00 +0200", 36.6),
            _record("BodyTemperature", "degF", "2025-06-17 07:00:00 +0200", 98.1),
        ),
    )
    # count/s is not an Apple heart-rate unit: rejected with the reason, not guessed
    assert out.rejects == [(2, "HKQuantityTypeIdentifierHeartRate: unsupported unit 'count/s'")]
    got = {
        (m, round(v, 2), u, ou)
        for m, v, u, ou in out.query(
            "SELECT metric, value, unit, original_unit FROM samples ORDER BY start_utc"
        )
    }
    assert got == {
        ("heart_rate_bpm", 60.0, "count/min", "count/min"),
        ("body_mass_kg", 80.0, "kg", "kg"),
        ("body_mass_kg", 79.83, "kg", "lb"),
        ("wrist_temperature_c", 36.1, "degC", "degC"),
        ("wrist_temperature_c", 36.17, "degC", "degF"),
    }


def test_generic_csv_mixed_units(imp):
    out = imp(
        "units.csv",
        _csv(
            GENERIC,
            "2025-07-01T00:00:00Z,body_mass_kg,80,kg",
            "2025-07-02T00:00:00Z,body_mass_kg,176,lb",
            "2025-07-01T00:00:00Z,wrist_temperature_c,36.1,degC",
            "2025-07-02T00:00:00Z,wrist_temperature_c,97.1,degF",
            "2025-07-01T00:00:00Z,heart_rate_bpm,1,count/s",
            "2025-07-01T00:01:00Z,heart_rate_bpm,60,count/min",
            "2025-07-01T00:02:00Z,heart_rate_bpm,61,bpm",
        ),
    )
    assert out.rejects == [(6, "unit: count/s is not count/min or a unit convertible to it")]
    got = {
        (m, round(v, 2), ou)
        for m, v, ou in out.query("SELECT metric, value, original_unit FROM samples")
    }
    assert got == {
        ("body_mass_kg", 80.0, "kg"),
        ("body_mass_kg", 79.83, "lb"),
        ("wrist_temperature_c", 36.1, "degC"),
        ("wrist_temperature_c", 36.17, "degF"),
        ("heart_rate_bpm", 60.0, "count/min"),
        ("heart_rate_bpm", 61.0, "bpm"),
    }


def test_weight_logs_in_kg_and_lb(imp):
    """Fitbit's weight logs are in the account's unit, kg or lb, unnamed: the BMI tells
    (both logs here are 80 kg). Fitabase writes both columns: kg wins, lb when kg is empty."""
    logs = [
        {"logId": 1, "weight": 80.0, "bmi": 26.1, "date": "05/02/16", "time": "07:00:00"},
        {"logId": 2, "weight": 176.4, "bmi": 26.1, "date": "05/03/16", "time": "07:00:00"},
    ]
    fit = imp("weight-2016-05-01.json", json.dumps(logs), tz="Europe/Berlin")
    assert fit.status == "ok"
    assert {
        (round(v, 1), ou) for v, ou in fit.query("SELECT value, original_unit FROM samples")
    } == {(80.0, "kg"), (80.0, "lb")}
    fab = imp(
        "weightLogInfo_merged.csv",
        _csv(
            "Id,Date,WeightKg,WeightPounds,Fat,BMI,IsManualReport,LogId",
            "1503960366,5/2/2016 11:59:59 PM,52.6,115.96,22,22.65,True,1462233599000",
            "1503960366,5/3/2016 11:59:59 PM,,115.96,,22.65,True,1462319999000",
        ),
        pid=None,
        tz="America/New_York",
    )
    assert {
        (round(v, 1), ou) for v, ou in fab.query("SELECT value, original_unit FROM samples")
    } == {(52.6, "kg"), (52.6, "lb")}


def test_indoor_file_naming_both_temperature_units_is_refused(imp):
    out = imp(
        "indoor_both.csv",
        _csv("timestamp,temperature_c,temperature_f,humidity_pct", "2025-07-01T22:00:00Z,24,75,50"),
        position=False,
    )
    # not an indoor file (one temperature column): not recognised, the first line quoted
    assert out.status == "skipped"
    assert "not a recognised export" in out.error and "temperature_c,temperature_f" in out.error
    f = imp(
        "indoor_f.csv",
        _csv("timestamp,temperature_f,humidity_pct", "2025-07-01T22:00:00Z,75.2,50"),
    )
    assert f.query("SELECT round(temp_c, 2) FROM environment") == [(24.0,)]


# ------------------------------------------------------------------------------------------
# DST transitions and changing offsets


def test_generic_csv_dst_and_travel(imp):
    out = imp(
        "dst.csv",
        _csv(
            GENERIC,
            "2025-03-30T02:30:00,heart_rate_bpm,60,bpm",  # spring gap: does not exist locally
            "2025-10-26T02:30:00,heart_rate_bpm,61,bpm",  # fall-back: occurs twice
            "2025-10-26T02:30:00+01:00,heart_rate_bpm,62,bpm",  # its second occurrence
            "2025-07-01T08:00:00+02:00,heart_rate_bpm,63,bpm",  # a journey: Berlin,
            "2025-07-01T08:00:00-04:00,heart_rate_bpm,64,bpm",  # New York,
            "2025-07-02T08:00:00+09:00,heart_rate_bpm,65,bpm",  # Tokyo
        ),
        tz="Europe/Berlin",
    )
    assert out.status == "ok"
    assert out.query("SELECT value, start_utc, utc_offset_s FROM samples ORDER BY value") == [
        # the gap time read with the offset before the change (PEP 495 fold=0), as documented
        (60.0, _utc(2025, 3, 30, 1, 30), 7200),
        (61.0, _utc(2025, 10, 26, 0, 30), 7200),  # the first occurrence
        (62.0, _utc(2025, 10, 26, 1, 30), 3600),
        (63.0, _utc(2025, 7, 1, 6), 7200),
        (64.0, _utc(2025, 7, 1, 12), -14400),
        (65.0, _utc(2025, 7, 1, 23), 32400),
    ]


def test_journal_dst_and_travel(imp):
    out = imp(
        "journal.csv",
        _csv(
            JOURNAL,
            "p01,2025-03-30T02:30,cramp,5,left,calf,1,",
            "p01,2025-10-26T02:30,cramp,5,left,calf,1,",
            "p01,2025-10-26T02:30+01:00,cramp,5,left,calf,1,",
            "p01,2025-07-03T03:15:00-04:00,cramp,7,left,calf,2.5,",
        ),
        pid=None,
        tz="Europe/Berlin",
    )
    assert out.status == "ok"
    assert out.query("SELECT time_utc, utc_offset_s FROM journal ORDER BY 1") == [
        (_utc(2025, 3, 30, 1, 30), 7200),
        (_utc(2025, 7, 3, 7, 15), -14400),
        (_utc(2025, 10, 26, 0, 30), 7200),
        (_utc(2025, 10, 26, 1, 30), 3600),
    ]


def test_fitabase_rejects_the_spring_gap_and_takes_the_first_autumn_hour(imp):
    out = imp(
        "heartrate_seconds_merged.csv",
        _csv(
            "Id,Time,Value",
            "4388161847,3/13/2016 2:30:00 AM,52",
            "4388161847,11/6/2016 1:30:00 AM,53",
            "4388161847,4/21/2016 12:00:00 AM,55",
        ),
        pid=None,
        tz="America/New_York",
    )
    assert out.rejects == [
        (
            2,
            "Time: local time 2016-03-13 02:30:00 does not exist in America/New_York (skipped "
            "when clocks went forward for daylight saving time)",
        )
    ]
    assert (_utc(2016, 11, 6, 5, 30), -14400) in out.query(
        "SELECT start_utc, utc_offset_s FROM samples"
    )


def test_indoor_and_accelerometry_through_the_autumn_change(imp):
    """Local times without an offset: the clock going back marks the repeated hour's second
    pass (documented for both formats), so nothing is a duplicate and the offsets change."""
    indoor = imp(
        "indoor.csv",
        _csv(
            INDOOR,
            "2025-10-26 01:50:00,20,50,bedroom",
            "2025-10-26 02:10:00,21,50,bedroom",  # first pass (CEST)
            "2025-10-26 02:50:00,22,50,bedroom",
            "2025-10-26 02:10:00,23,50,bedroom",  # the clock went back: second pass (CET)
            "2025-10-26 02:50:00,24,50,bedroom",
            "2025-10-26 03:10:00,25,50,bedroom",
        ),
        tz="Europe/Berlin",
    )
    assert indoor.status == "ok"
    assert indoor.query("SELECT time_utc, utc_offset_s, temp_c FROM environment ORDER BY 1") == [
        (_utc(2025, 10, 25, 23), 7200, 20.0),
        (_utc(2025, 10, 26, 0), 7200, 21.5),
        (_utc(2025, 10, 26, 1), 3600, 23.5),
        (_utc(2025, 10, 26, 2), 3600, 25.0),
    ]
    first = _local_times(datetime(2025, 10, 26, 2, 59, 55), 250)  # to 02:59:59.98 CEST
    second = _local_times(datetime(2025, 10, 26, 2, 0, 0), 250)  # 02:00:00 CET again
    acc = imp("accel_autumn.csv", _accel(first + second), tz="Europe/Berlin")
    assert acc.status == "ok"
    assert acc.query("SELECT start_utc, end_utc, utc_offset_s FROM accelerometry_files") == [
        (_utc(2025, 10, 26, 0, 59, 55), _utc(2025, 10, 26, 1, 0, 4, 980000), 7200)
    ]
    assert {o for (o,) in acc.query("SELECT DISTINCT utc_offset_s FROM samples")} == {3600, 7200}


def test_accelerometry_through_the_spring_gap(imp):
    before = _local_times(datetime(2025, 3, 30, 1, 59, 55), 250)
    after = _local_times(datetime(2025, 3, 30, 3, 0, 0), 250)  # 02:00 became 03:00
    out = imp("accel_spring.csv", _accel(before + after), tz="Europe/Berlin")
    assert out.status == "ok"
    assert out.query("SELECT start_utc, end_utc FROM accelerometry_files") == [
        (_utc(2025, 3, 30, 0, 59, 55), _utc(2025, 3, 30, 1, 0, 4, 980000))
    ]


def test_apple_offsets_changing_across_a_journey(imp):
    out = imp(
        "export.xml",
        _apple(
            _record("HeartRate", "count/min", "2025-03-30 01:59:00 +0100", 60),
            _record("HeartRate", "count/min", "2025-03-30 03:00:00 +0200", 61),
            _record("HeartRate", "count/min", "2025-10-26 02:30:00 +0200", 62),
            _record("HeartRate", "count/min", "2025-10-26 02:30:00 +0100", 63),
            _record("HeartRate", "count/min", "2025-07-01 08:00:00 -0400", 64),
            # a step count over a flight to Tokyo: start and end in their own offsets
            _record(
                "StepCount",
                "count",
                "2025-07-01 23:30:00 -0400",
                100,
                end="2025-07-02 13:00:00 +0900",
            ),
        ),
    )
    assert out.status == "ok"
    assert out.query("SELECT value, start_utc, end_utc, utc_offset_s FROM samples ORDER BY 2") == [
        (60.0, _utc(2025, 3, 30, 0, 59), _utc(2025, 3, 30, 0, 59), 3600),
        (61.0, _utc(2025, 3, 30, 1), _utc(2025, 3, 30, 1), 7200),
        (64.0, _utc(2025, 7, 1, 12), _utc(2025, 7, 1, 12), -14400),
        (100.0, _utc(2025, 7, 2, 3, 30), _utc(2025, 7, 2, 4), -14400),
        (62.0, _utc(2025, 10, 26, 0, 30), _utc(2025, 10, 26, 0, 30), 7200),
        (63.0, _utc(2025, 10, 26, 1, 30), _utc(2025, 10, 26, 1, 30), 3600),
    ]


# ------------------------------------------------------------------------------------------
# JSON nested 100,000 deep


HR_DOC = '{"bpm": 68, "source": "awake", "timestamp": "2024-10-26T18:00:07+00:00"}'
DEEP_JSON = {
    # Oura: a heart-rate document whose bpm is the deep array, on line 2
    "oura_heartrate.json": ('{"data": [' + HR_DOC + ',\n {"bpm": ' + DEEP + "}]}", 2),
    # Fitbit: a resting heart rate file (read by polars first, then by json)
    "resting_heart_rate-2024-03-01.json": (
        '[{"dateTime" : "02/28/24 00:00:00","value" : {"date" : "02/28/24","value" : 52.2,'
        '"error" : 6.7}},\n{"dateTime" : "02/29/24 00:00:00","value" : ' + DEEP + "}]",
        2,
    ),
    "sleep-2024-03-01.json": (
        '[{"logId": 1, "dateOfSleep": "2018-02-02", "startTime": "2018-02-01T22:36:00.000", '
        '"endTime": "2018-02-02T06:42:00.000",\n"levels": ' + DEEP + "}]",
        2,
    ),
}


@pytest.mark.parametrize("name", list(DEEP_JSON))
def test_deeply_nested_json_is_one_line_naming_the_line(imp, name):
    """Fixed: Python's JSON parser raises RecursionError (not a JSONDecodeError) past ~1000
    levels; the import failed with 'RecursionError: maximum recursion depth exceeded while
    decoding a JSON array from a unicode string' and no position."""
    text, line = DEEP_JSON[name]
    out = imp(name, text, tz="Europe/Berlin")
    assert out.status == "failed"
    assert f"{name}:{line}: JSON nested too deeply to read" in out.error


def test_deeply_nested_weather_json(imp, tmp_path):
    om = json.loads(
        (FIXTURES / "weather" / "open_meteo_ewr_2013-11-02_2013-11-04_imperial.json").read_text()
    )
    text = json.dumps(om)[:-1] + ',\n"extra": ' + DEEP + "}"
    out = imp("open_meteo.json", text)
    assert out.status == "failed" and "open_meteo.json:2: JSON nested too deeply" in out.error
    ms = (FIXTURES / "weather2" / "meteostat_wmo16230_2016" / "20160322_hourly.json").read_text()
    out = imp("meteostat/16230.json", ms.rstrip()[:-1] + ',\n"extra": ' + DEEP + "}")
    assert out.status == "failed" and "16230.json:2: JSON nested too deeply" in out.error
    # the command says it in one line and exits 1
    res = CliRunner().invoke(
        cli,
        ["ingest", str(tmp_path / "open_meteo.json"), "--db", str(tmp_path / "cli.duckdb")],
    )
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "JSON nested too deeply" in res.output


def test_oura_csv_cell_of_deep_json_rejects_that_line(imp):
    """Oura's CSV holds nested objects as JSON text in a cell: a deep one is that line's
    problem. Fixed: the RecursionError failed the whole file (and a broken heart_rate cell
    was dropped silently; now it is rejected with the reason, the rest of the line kept)."""
    lines = (FIXTURES / "oura" / "sleep_v2.csv").read_text(encoding="utf-8").splitlines()
    bad = lines[1].replace('"{""interval""', '"' + DEEP + '{""interval""', 1)
    bad = bad.replace("2024-10-2", "2024-11-2")  # another night
    assert bad != lines[1]
    out = imp("sleep.csv", "\n".join([lines[0], lines[1], bad]) + "\n", tz="Europe/Berlin")
    assert out.rejects == [
        (3, "heart_rate: not an object {interval, items, timestamp} (its JSON is broken)")
    ]
    # the bad line's sleep stages are kept, as many as the good line's
    october, november = out.query(
        "SELECT count(*) FILTER (WHERE start_utc < '2024-11-01'), "
        "count(*) FILTER (WHERE start_utc >= '2024-11-01') FROM sleep_segments"
    )[0]
    assert october == november > 0


# ------------------------------------------------------------------------------------------
# 50 MB lines


@pytest.mark.slow
def test_50mb_lines(imp):
    """A 50 MB line in the middle of a file, a 50 MB field, a 50 MB file of one line: the
    line is rejected (its raw text and reason cut to 2000 / 1000 characters) or, as free text,
    accepted; the other lines land. Fixed: a 50 MB sensor name, participant id or Fitabase
    Id failed the whole import (DuckDB out of memory, a 9-line message) and a reason quoted
    the whole 50 MB value."""
    junk = "x" * MB50
    ok_line = "2025-07-01T00:01:00Z,heart_rate_bpm,61,bpm"
    out = imp(
        "junk.csv", _csv(GENERIC, "2025-07-01T00:00:00Z,heart_rate_bpm,60,bpm", junk, ok_line)
    )
    assert out.rejects == [(3, "expected 4 fields, found 1")] and out.rows["samples"] == 2

    out = imp(
        "value.csv", _csv(GENERIC, f'2025-07-01T00:00:00Z,heart_rate_bpm,"{junk}",bpm', ok_line)
    )
    assert [n for n, _ in out.rejects] == [2] and out.rejects[0][1].startswith("value: xxx")
    assert out.rows["samples"] == 1

    out = imp("one_line.csv", GENERIC + "\n" + ok_line + "," + junk)  # no line end at all
    assert out.rejects == [(2, "expected 4 fields, found 5")]

    out = imp(
        "indoor.csv",
        _csv(INDOOR, f"2025-07-01T22:00:00+02:00,24,50,{junk}", "2025-07-01T22:10:00+02:00,25,50,"),
    )
    assert out.rejects == [(2, f"sensor: a name of {MB50} characters (at most 100)")]
    assert out.rows["environment"] == 1

    out = imp(
        "journal.csv",
        _csv(
            JOURNAL,
            f"{junk},2025-07-03T03:15:00+02:00,cramp,7,left,calf,2.5,",
            f'p01,2025-07-04T03:15:00+02:00,cramp,7,left,calf,2.5,"{junk}"',  # a long note: kept
        ),
        pid=None,
    )
    assert out.rejects == [(2, f"participant_id: an id of {MB50} characters (at most 100)")]
    assert out.query("SELECT length(note) FROM journal") == [(MB50,)]

    out = imp(
        "heartrate_seconds_merged.csv",
        _csv(
            "Id,Time,Value",
            "1" * MB50 + ",4/21/2016 12:00:00 AM,55",
            "4388161847,4/21/2016 12:00:10 AM,56",
        ),
        pid=None,
        tz="America/New_York",
    )
    assert out.rejects == [(2, f"Id: an id of {MB50} digits (at most 20)")]

    out = imp(
        "export.xml",
        _apple(
            _record("HeartRate", "count/min", "2025-06-16 03:00:00 +0200", "9" * MB50),
            _record("HeartRate", "count/min", "2025-06-16 03:01:00 +0200", 60),
        ),
    )
    assert out.rejects == [(1, "heart_rate_bpm: value inf outside plausible range [25, 240]")]

    # read in 4 MiB chunks: the line spans many
    times = [f"{1751403600 + i * 0.02:.2f}" for i in range(300)]
    text = (
        _accel(times)
        + junk
        + "\n"
        + "".join(f"{1751403700 + i * 0.02:.2f},0,0,1,\n" for i in range(300))
    )
    out = imp("accel.csv", text)
    assert out.rejects == [(303, "expected 5 fields (timestamp,x,y,z,heart_rate_bpm), found 1")]
    assert out.rows["accelerometry_files"] == 1
