"""Meteostat importer (``pipeline.importers.meteostat``): bulk CSV and JSON API response.

The JSON fixture is REAL: Meteostat's hourly response for station 16230 (Italy), cut to
2016-03-22..24 UTC byte-for-byte (``tests/fixtures/weather2/make_station_fixtures.py``), with
Meteostat's own two all-null hours. No real bulk CSV exists in the shared data, so
``16230.csv`` is BUILT from the same 72 records in Meteostat's header-less bulk layout
(``date,hour,temp,dwpt,rhum,prcp,snow,wdir,wspd,wpgt,pres,tsun,coco``, Meteostat developer
docs, *Bulk data: hourly*). Expected values are computed here from the JSON with the
:mod:`json` module, independently of the importer.
"""

from __future__ import annotations

import gzip
import json
import math
import shutil
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from pipeline import ingest, store
from pipeline.importers import (
    ImportContext,
    ImportFormatError,
    meteostat,
    read_head,
)
from tests.helpers import sniffing_formats

FIX = Path(__file__).resolve().parents[1] / "fixtures"
W2 = FIX / "weather2"
JSON_FILE = W2 / "meteostat_wmo16230_2016" / "20160322_hourly.json"
CSV_FILE = W2 / "16230.csv"
OPEN_METEO_JSON = FIX / "weather" / "open_meteo_ewr_2013-11-02_2013-11-04_imperial.json"
READ_FIELDS = ("temp", "dwpt", "rhum", "prcp", "wspd")


def records() -> list[dict]:
    return json.loads(JSON_FILE.read_text(encoding="utf-8"))["data"]


def read(path: Path, ctx: ImportContext | None = None, reader=meteostat.read) -> dict:
    out: dict[str, list[pl.DataFrame]] = {}
    ctx = ctx or ImportContext(display_path=str(path))
    for batch in reader(path, ctx):
        out.setdefault(batch.table, []).append(batch.frame)
    return {table: pl.concat(frames) for table, frames in out.items()}


def expected_rows() -> list[dict]:
    """Records with at least one value read, as environment values (km/h -> m/s)."""
    out = []
    for rec in records():
        if all(rec[k] is None for k in READ_FIELDS):
            continue
        out.append(
            {
                "time_utc": datetime.strptime(rec["time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC),
                "temp_c": rec["temp"],
                "dew_point_c": rec["dwpt"],
                "rh_pct": rec["rhum"],
                "precipitation_mm": rec["prcp"],
                "wind_speed_m_s": None if rec["wspd"] is None else rec["wspd"] / 3.6,
            }
        )
    return out


# ------------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        (CSV_FILE, "meteostat_csv"),
        (JSON_FILE, "meteostat_json"),
        (OPEN_METEO_JSON, "open_meteo_json"),
    ],
    ids=lambda v: getattr(v, "name", v),
)
def test_each_sniff_recognises_only_its_own_fixture(path, fmt):
    head, name = read_head(path)
    assert sniffing_formats(head, name) == {fmt}


def test_gzip_bulk_file_is_sniffed_and_read(tmp_path):
    gz = tmp_path / "16230.csv.gz"
    gz.write_bytes(gzip.compress(CSV_FILE.read_bytes()))
    head, name = read_head(gz)
    assert meteostat.sniff(head, name)
    plain, packed = read(CSV_FILE), read(gz)
    assert packed["environment"].equals(plain["environment"])


@pytest.mark.parametrize(
    "line",
    [
        "date,hour,temp,dwpt,rhum,prcp,snow,wdir,wspd,wpgt,pres,tsun,coco",  # a header
        "2016-03-22,24,8.0,8.0,100.0,,,220.0,9.4,,,,",  # hour 24
        "2016-03-22,0,8.0,8.0,100.0,,,220.0,9.4,,,",  # 12 fields
        "2016-03-22,0,8.0,8.0,100.0,,,220.0,9.4,,,,,",  # 14 fields
        "22.03.2016,0,8.0,8.0,100.0,,,220.0,9.4,,,,",  # not an ISO date
        "2016-03-22,0,warm,8.0,100.0,,,220.0,9.4,,,,",  # not a number
    ],
)
def test_headerless_sniff_needs_the_exact_line_shape(line):
    assert not meteostat.sniff((line + "\n").encode(), "16230.csv")


# ------------------------------------------------------------------------------ real JSON


def test_real_json_rows_and_values_match_the_records():
    out = read(JSON_FILE, reader=meteostat.read_json)
    env = out["environment"].sort("time_utc")
    exp = expected_rows()
    assert env.height == len(exp) == 70
    assert env["time_utc"].to_list() == [r["time_utc"] for r in exp]
    for col in ("temp_c", "dew_point_c", "rh_pct", "precipitation_mm", "wind_speed_m_s"):
        got, want = env[col].to_list(), [r[col] for r in exp]
        assert all(
            (g is None and w is None) or math.isclose(g, w, abs_tol=1e-9)
            for g, w in zip(got, want, strict=True)
        ), col
    assert set(env["location_id"]) == {"meteostat:16230"}
    assert set(env["setting"]) == {"outdoor"} and set(env["source"]) == {"meteostat"}
    assert env["latitude_deg"].null_count() == env.height
    assert set(env["utc_offset_s"]) == {0}  # no zone known: UTC


def test_real_json_all_null_hours_rejected_with_their_positions():
    out = read(JSON_FILE, reader=meteostat.read_json)
    null_positions = [
        i for i, r in enumerate(records(), start=1) if all(r[k] is None for k in READ_FIELDS)
    ]
    rej = out["rejected_rows"]
    assert rej["record_no"].to_list() == null_positions == [27, 49]
    assert all(r.startswith("no values") for r in rej["reason"])
    assert json.loads(rej["raw"][0])["time"] == "2016-03-23 02:00:00"


def test_bulk_csv_reads_like_the_json():
    csv_out, json_out = read(CSV_FILE), read(JSON_FILE, reader=meteostat.read_json)
    assert csv_out["environment"].equals(json_out["environment"])
    # CSV line numbers are the JSON positions (one line per record, no header)
    assert csv_out["rejected_rows"]["record_no"].to_list() == [27, 49]


def test_zone_offsets_and_participant_attachment():
    ctx = ImportContext(participant_id="p01", tz="Europe/Rome", display_path=str(CSV_FILE))
    out = read(CSV_FILE, ctx)
    assert set(out["environment"]["utc_offset_s"]) == {3600}  # CET until 27 March 2016
    assert out["participant_locations"].rows() == [("p01", "meteostat:16230")]


# ----------------------------------------------------------------------- station from name


@pytest.mark.parametrize(
    ("rel", "station"),
    [
        ("16230.csv", "16230"),
        ("KJFK0.csv.gz", "KJFK0"),
        ("10637.json", "10637"),
        ("meteostat_wmo16230_2016/20160322_hourly.json", "16230"),
        ("weather/meteostat-10637/march.csv", "10637"),
        ("inbox/p01/wmo16230_march.csv", "16230"),
    ],
)
def test_station_id_from_file_or_folder_name(rel, station):
    assert meteostat.station_location(Path(rel), rel) == station


def test_file_without_station_is_refused_naming_it(tmp_path):
    path = tmp_path / "weather.csv"
    shutil.copy(CSV_FILE, path)
    with pytest.raises(
        ImportFormatError,
        match=r"weather\.csv.*name the file after the "
        r"Meteostat station id",
    ):
        read(path)


# ----------------------------------------------------------------------------- rejections


def test_implausible_and_malformed_lines_rejected_rest_lands(tmp_path):
    lines = CSV_FILE.read_text(encoding="utf-8").splitlines()[:6]
    lines[1] = "2016-03-22,1,80.0,9.2,98.0,,,260.0,5.4,,1009.3,,5"  # 80 °C
    lines[2] = "2016-03-22,2,9.0,7.9,150.0,,,210.0,9.4,,1007.0,,5"  # 150 %
    lines[3] = "2016-03-22,3,8.0,8.0"  # 4 fields
    lines.append("2016-03-22,25,8.0,8.0,100.0,,,210.0,9.4,,,,")  # hour 25
    lines.append("2016-03-22,5,eight,8.0,100.0,,,210.0,9.4,,,,")  # not a number
    lines.append(lines[0])  # the first hour again
    path = tmp_path / "16230.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = read(path)
    assert out["environment"]["time_utc"].dt.hour().to_list() == [0, 4, 5]
    reasons = dict(
        zip(out["rejected_rows"]["record_no"], out["rejected_rows"]["reason"], strict=True)
    )
    assert reasons == {
        2: "temp = 80.0: temp_c 80.0 outside plausible range [-90, 60]",
        3: "rhum = 150.0: rh_pct 150.0 outside plausible range [0, 100]",
        4: "expected 13 fields, found 4",
        7: "hour: 25 is not an hour 0-23",
        8: "temp: eight is not a number",
        9: "same hour as line 1",
    }


def test_missing_humidity_computed_from_dew_point_with_magnus(tmp_path):
    path = tmp_path / "16230.csv"
    path.write_text(
        "2016-03-22,0,20.0,10.0,,,,220.0,9.4,,,,\n"
        "2016-03-22,1,20.0,20.4,,,,220.0,9.4,,,,\n"  # dew point rounding: 100 %
        "2016-03-22,2,20.0,22.0,,,,220.0,9.4,,,,\n",
        encoding="utf-8",
    )
    out = read(path)

    def es(t: float) -> float:  # BoM Magnus form, research brief section 1.1
        return 6.105 * math.exp(17.27 * t / (237.7 + t))

    assert out["environment"]["rh_pct"].to_list() == pytest.approx(
        [100 * es(10.0) / es(20.0), 100.0]
    )
    assert out["rejected_rows"]["reason"].to_list() == [
        "dwpt 22.0 is more than 0.6 °C above temp 20.0: no relative humidity can be derived"
    ]


# ------------------------------------------------------------------------ store round trip


def test_store_round_trip_reimport_adds_nothing(tmp_path):
    con = store.connect(tmp_path / "t.duckdb")
    first = ingest.import_file(con, JSON_FILE, participant_id="p01")
    assert (first.format, first.status, first.rows_accepted, first.rows_rejected) == (
        "meteostat_json",
        "partial",
        70,
        2,
    )
    counts = store.table_counts(con)
    again = ingest.import_file(con, JSON_FILE, participant_id="p01")
    assert again.status == "already_imported"
    bulk = ingest.import_file(con, CSV_FILE, participant_id="p01")  # same hours, other bytes
    assert (bulk.format, bulk.rows_accepted, bulk.rows_duplicate) == ("meteostat_csv", 0, 70)
    after = store.table_counts(con)
    assert {
        t: after[t] - counts[t] for t in counts if t not in ("imports", "rejected_rows")
    } == dict.fromkeys((t for t in counts if t not in ("imports", "rejected_rows")), 0)
    assert con.execute("SELECT count(*), count(DISTINCT time_utc) FROM environment").fetchone() == (
        70,
        70,
    )
    assert con.execute(
        "SELECT participant_id, location_id FROM participant_locations"
    ).fetchall() == [("p01", "meteostat:16230")]
