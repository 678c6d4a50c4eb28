"""Indoor sensor CSV importer (``pipeline.importers.indoor_csv``).

No real indoor sensor export exists in the shared data: ``indoor_p01_2025-07-01.csv`` is
hand-written (a bedroom sensor every 10 min and a hall sensor every 30 min, one summer evening
at +02:00), and the other cases are built in the tests. Hourly means are computed here with
:mod:`csv` and :mod:`datetime`, independently of the importer.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import fmean

import polars as pl
import pytest

from pipeline import ingest, store
from pipeline.importers import (
    ImportContext,
    ImportFormatError,
    detect_format,
    indoor_csv,
    read_head,
)
from tests.helpers import sniffing_formats

FIXTURE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "weather2" / "indoor_p01_2025-07-01.csv"
)
CTX = ImportContext(participant_id="p01", display_path="indoor.csv")


def read(path: Path, ctx: ImportContext = CTX) -> dict:
    out: dict[str, list[pl.DataFrame]] = {}
    for batch in indoor_csv.read(path, ctx):
        out.setdefault(batch.table, []).append(batch.frame)
    return {table: pl.concat(frames) for table, frames in out.items()}


def write(tmp_path: Path, text: str, name: str = "sensor.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def dew_point(t: float, rh: float) -> float:
    """Magnus form inverted, BoM constants (research brief section 1.1)."""
    g = math.log(rh / 100) + 17.27 * t / (237.7 + t)
    return 237.7 * g / (17.27 - g)


# ------------------------------------------------------------------------------- detection


def test_fixture_is_recognised_only_as_indoor():
    head, name = read_head(FIXTURE)
    assert sniffing_formats(head, name) == {"indoor_csv"}
    assert detect_format(FIXTURE) is indoor_csv


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        ("timestamp,temperature_c,humidity_pct,sensor", True),
        ("timestamp,temperature_c,humidity_pct", True),
        ("Timestamp,Temperature_F,Humidity_pct", True),
        ("sensor,humidity_pct,timestamp", True),
        ("timestamp,temperature_c", True),
        ("timestamp,temperature_c,temperature_f,humidity_pct", False),  # two temperatures
        ("timestamp,sensor", False),  # no measurement
        ("timestamp,x,y,z", False),  # accelerometry
        ("time,temperature_c,humidity_pct", False),
        ("timestamp,temperature_c,humidity_pct,battery", False),  # unknown column
    ],
)
def test_sniff_headers(header, ok):
    assert indoor_csv.sniff(f"{header}\n2025-07-01T22:00:00Z,20,50\n".encode(), "x.csv") is ok


# ------------------------------------------------------------------------------ hourly means


def expected_hours(path: Path) -> dict[tuple[str, datetime], dict]:
    acc: dict[tuple[str, datetime], dict] = defaultdict(lambda: {"t": [], "h": [], "off": None})
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            ts = datetime.fromisoformat(row["timestamp"])
            hour = ts.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
            cell = acc[(row["sensor"], hour)]
            cell["t"].append(float(row["temperature_c"]))
            cell["h"].append(float(row["humidity_pct"]))
            if cell["off"] is None:
                cell["off"] = int(ts.utcoffset().total_seconds())
    return {
        k: {
            "temp_c": fmean(v["t"]),
            "rh_pct": fmean(v["h"]),
            "utc_offset_s": v["off"],
            "dew_point_c": dew_point(fmean(v["t"]), fmean(v["h"])),
        }
        for k, v in acc.items()
    }


def test_hourly_means_per_sensor():
    out = read(FIXTURE)
    env = out["environment"]
    exp = expected_hours(FIXTURE)
    assert env.height == len(exp) == 6  # 3 hours x 2 sensors
    got = {(r["location_id"].split(":")[2], r["time_utc"]): r for r in env.iter_rows(named=True)}
    assert set(got) == set(exp)
    for key, want in exp.items():
        row = got[key]
        for col, value in want.items():
            assert row[col] == pytest.approx(value, abs=1e-9), (key, col)
    assert set(env["setting"]) == {"indoor"} and set(env["source"]) == {"indoor-csv"}
    assert set(env["location_id"]) == {"indoor:p01:bedroom", "indoor:p01:hall"}
    assert sorted(out["participant_locations"].rows()) == [
        ("p01", "indoor:p01:bedroom"),
        ("p01", "indoor:p01:hall"),
    ]
    assert "rejected_rows" not in out


def test_fahrenheit_default_sensor_epoch_and_local_times(tmp_path):
    path = write(
        tmp_path,
        "timestamp,temperature_f,humidity_pct\n"
        "2025-07-01 22:15:00,77,50\n"  # local Berlin time
        "1751401800,79,52\n"  # 2025-07-01T20:30Z
        "2025-07-01T22:45:00.5+02:00,81,54\n",
    )
    out = read(path, ImportContext(participant_id="p01", tz="Europe/Berlin"))
    env = out["environment"]
    row = env.row(0, named=True)
    assert env.height == 1 and row["location_id"] == "indoor:p01:bedroom"
    assert row["time_utc"] == datetime(2025, 7, 1, 20, tzinfo=UTC)
    assert row["temp_c"] == pytest.approx(fmean([(f - 32) * 5 / 9 for f in (77, 79, 81)]))
    assert row["rh_pct"] == pytest.approx(52.0) and row["utc_offset_s"] == 7200


def test_local_times_need_a_zone_naming_the_line(tmp_path):
    path = write(
        tmp_path, "timestamp,temperature_c\n2025-07-01T22:00:00Z,20\n2025-07-01 22:15:00,21\n"
    )
    with pytest.raises(ImportFormatError, match=r"sensor\.csv:3: .*--timezone"):
        read(path, ImportContext(participant_id="p01", display_path=str(path)))


def test_autumn_repeated_hour_read_in_file_order(tmp_path):
    """Berlin 2025-10-26: 02:00-02:59 local happens twice (CEST, then CET)."""
    times = ["01:40", "02:00", "02:20", "02:40", "02:00", "02:20", "02:40", "03:00"]
    path = write(
        tmp_path,
        "timestamp,temperature_c\n"
        + "".join(f"2025-10-26 {t}:00,{20 + i}\n" for i, t in enumerate(times)),
    )
    env = read(path, ImportContext(participant_id="p01", tz="Europe/Berlin"))["environment"]
    # UTC: 23:40 | 00:00 00:20 00:40 | 01:00 01:20 01:40 | 02:00
    assert env["time_utc"].dt.hour().to_list() == [23, 0, 1, 2]
    assert env["temp_c"].to_list() == [20.0, 22.0, 25.0, 27.0]
    assert env["utc_offset_s"].to_list() == [7200, 7200, 3600, 3600]


def test_rejected_readings_with_reasons_rest_averaged(tmp_path):
    path = write(
        tmp_path,
        "timestamp,temperature_c,humidity_pct,sensor\n"
        "2025-07-01T22:00:00+02:00,24,50,bedroom\n"
        "2025-07-01T22:10:00+02:00,80,50,bedroom\n"
        "2025-07-01T22:20:00+02:00,24,150,bedroom\n"
        "2025-07-01T22:30:00+02:00,warm,50,bedroom\n"
        "yesterday,24,50,bedroom\n"
        "2025-07-01T22:40:00+02:00,25,51\n"
        "2025-07-01T22:00:00+02:00,26,52,bedroom\n"
        "2025-07-01T22:50:00+02:00,,,bedroom\n"
        "2025-07-01T22:55:00+02:00,26,52,bedroom\n",
    )
    out = read(path)
    reasons = dict(
        zip(out["rejected_rows"]["record_no"], out["rejected_rows"]["reason"], strict=True)
    )
    assert reasons == {
        3: "temperature_c = 80: temp_c 80.0 outside plausible range [-90, 60]",
        4: "humidity_pct = 150: rh_pct 150.0 outside plausible range [0, 100]",
        5: "temperature_c: warm is not a number",
        6: "timestamp: yesterday is not an ISO 8601 time (2025-07-01T22:00:00+02:00) or Unix "
        "epoch seconds",
        7: "expected 4 fields, found 3",
        8: "duplicate of line 2 (same sensor and timestamp)",
        9: "no values: temperature_c and humidity_pct are both empty",
    }
    env = out["environment"]
    assert env.height == 1
    assert (env["temp_c"][0], env["rh_pct"][0]) == (25.0, 51.0)  # lines 2 and 10


def test_participant_required():
    with pytest.raises(ImportFormatError, match="carry no participant id"):
        read(FIXTURE, ImportContext(display_path=str(FIXTURE)))


# ------------------------------------------------------------------------ store round trip


def test_store_round_trip_and_overlapping_export(tmp_path):
    con = store.connect(tmp_path / "t.duckdb")
    first = ingest.import_file(con, FIXTURE, participant_id="p01")
    assert (first.format, first.status, first.rows_accepted) == ("indoor_csv", "ok", 6)
    counts = store.table_counts(con)
    assert ingest.import_file(con, FIXTURE, participant_id="p01").status == "already_imported"
    assert store.table_counts(con) | {"imports": 0} == counts | {"imports": 0}
    # the next export repeats the last hour and adds one more
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    last = datetime.fromisoformat(lines[-1].split(",")[0])
    more = (
        [lines[0]]
        + [
            ln
            for ln in lines[1:]
            if datetime.fromisoformat(ln.split(",")[0]) >= last.replace(minute=0)
        ]
        + [f"{(last + timedelta(minutes=30)).isoformat()},24.0,56,bedroom"]
    )
    nxt = ingest.import_file(
        con, write(tmp_path, "\n".join(more) + "\n", "next.csv"), participant_id="p01"
    )
    assert (nxt.rows_accepted, nxt.rows_duplicate) == (1, 2)
    assert con.execute("SELECT count(*) FROM environment WHERE setting = 'indoor'").fetchone() == (
        7,
    )


def test_detector_inputs_use_the_bedroom_sensor_when_there_is_one(tmp_path):
    """A hall or living-room sensor must not dilute a hot bedroom: with a sensor named
    bedroom, the detectors' environment holds only its indoor rows; without one, all."""
    from datetime import date

    from pipeline.detect import load_inputs

    with store.connect(tmp_path / "s.duckdb") as con:
        ingest.import_file(con, FIXTURE, participant_id="p01")
        env = load_inputs(con, "p01", date(2025, 7, 1), date(2025, 7, 2))["environment"]
        indoor = env.filter(pl.col("setting") == "indoor")
        stored = con.execute("SELECT count(*) FROM environment WHERE setting = 'indoor'"
                             ).fetchall()[0][0]  # fmt: skip
        assert indoor.height > 0 and stored > indoor.height  # the hall's hours are left out
        bedroom = con.execute("SELECT avg(temp_c) FROM environment "
                              "WHERE location_id = 'indoor:p01:bedroom'").fetchall()[0][0]  # fmt: skip
        assert indoor["temp_c"].mean() == pytest.approx(bedroom)
    hall_only = "\n".join(line.replace(",bedroom", ",living")
                          for line in FIXTURE.read_text(encoding="utf-8").splitlines())  # fmt: skip
    with store.connect(tmp_path / "t.duckdb") as con:
        ingest.import_file(con, write(tmp_path, hall_only + "\n", "rooms.csv"),
                           participant_id="p01")  # fmt: skip
        env = load_inputs(con, "p01", date(2025, 7, 1), date(2025, 7, 2))["environment"]
        stored = con.execute("SELECT count(*) FROM environment WHERE setting = 'indoor'"
                             ).fetchall()[0][0]  # fmt: skip
        assert env.filter(pl.col("setting") == "indoor").height == stored  # no bedroom: all
