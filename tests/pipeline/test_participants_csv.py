"""Participants CSV importer (hand-written fixture ``tests/fixtures/journal/participants.csv``)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipeline.importers import ImportContext, ImportFormatError, participants_csv

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "journal" / "participants.csv"


def read(path: Path) -> dict[str, pl.DataFrame]:
    return {b.table: b.frame for b in participants_csv.read(path, ImportContext())}


def test_valid_participants():
    got = read(FIXTURE)
    people = got["participants"]
    assert people.schema == pl.Schema(participants_csv.PARTICIPANTS_SCHEMA)
    assert people.rows() == [
        (
            "p01",
            "female",
            1958,
            "Europe/Berlin",
            52.52,
            13.41,
            168.0,
            ["diabetes_type2", "hypothyroidism"],
            ["hydrochlorothiazide", "atorvastatin"],
        ),
        # sex lower-cased, zone name case corrected, empty lists -> null (never overwrite)
        ("p02", "male", 1947, "America/New_York", 40.69, -74.17, 181.5, None, None),
        ("p03", None, None, None, None, None, None, None, None),
    ]


def test_bad_zone_and_other_bad_rows_rejected_with_reasons():
    rej = read(FIXTURE)["rejected_rows"]
    assert rej.select("record_no", "reason").rows() == [
        (5, "tz: Mars/Olympus_Mons is not an IANA time zone (e.g. Europe/Berlin)"),
        (
            6,
            "birth_year: 1890 is not a year 1900-2025; "
            "height_cm: 20 outside plausible range [50, 260] cm",
        ),
        (7, "participant_id: p01 already given on line 2"),
    ]
    assert rej["raw"][0] == "p04,other,1990,Mars/Olympus_Mons,,,,,"


def test_more_checks(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text(
        "\ufeff" + ",".join(participants_csv.HEADER) + "\r\n"
        '"x1",F,1970,UTC,52.5,,170,,\r\n'
        ",female,1970,UTC,,,,,\r\n"
        'x2,female,19x0,UTC,91,13,tall,"a;b",\r\n'
        "x3,female,1970,Asia/Kolkata,,,,; ;Cramp ; cramp;,\r\n",
        encoding="utf-8",
    )
    got = read(f)
    assert got["participants"].select("participant_id", "tz", "conditions").rows() == [
        ("x3", "Asia/Kolkata", ["cramp"])
    ]
    assert got["rejected_rows"]["reason"].to_list() == [
        "sex: f is not one of female, male, other or empty; "
        "home_lat_deg/home_lon_deg: give both or neither",
        "participant_id: empty",
        "birth_year: 19x0 is not a year 1900-2025; "
        "home_lat_deg: 91 outside plausible range [-90, 90] deg; "
        "height_cm: tall is not a number",
    ]


def test_wrong_header_and_empty_file(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("participant_id,sex\np1,female\n", encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"p\.csv:1: not a participants_csv file"):
        list(participants_csv.read(f, ImportContext()))
    f.write_text("  \n\n", encoding="utf-8")
    with pytest.raises(ImportFormatError, match="the file is empty"):
        list(participants_csv.read(f, ImportContext()))
