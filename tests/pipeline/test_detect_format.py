"""Format detection from content: each importer's ``sniff`` and ``detect_format``."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.importers import (
    HEAD_BYTES,
    IMPORTERS,
    ImportFormatError,
    detect_format,
    open_meteo,
)
from pipeline.importers import _load as importers_load
from tests.helpers import sniffing_formats

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
WEATHER = FIXTURES / "weather"
CASES = {
    WEATHER / "open_meteo_ewr_2013-10-25_2013-11-10_imperial.csv": "open_meteo_csv",
    WEATHER / "open_meteo_ewr_2013-02-10_2013-03-16_metric.csv": "open_meteo_csv",
    FIXTURES / "journal" / "journal_p01.csv": "journal_csv",
    FIXTURES / "journal" / "participants.csv": "participants_csv",
}

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
    assert sniffing_formats(head, path.name) == {CASES[path]}


def test_json_sniff():
    path = WEATHER / "open_meteo_ewr_2013-11-02_2013-11-04_imperial.json"
    head = _head(path)
    assert sniffing_formats(head, path.name) == {"open_meteo_json"}
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


@pytest.mark.parametrize(
    "name, content",
    [
        ("README.md", README.encode()),
        ("make_journal.py", SCRIPT.encode()),
        ("empty.csv", b""),
        ("blank.csv", b"\xef\xbb\xbf\r\n\r\n"),
        ("random.csv", b"id,value\n1,2\n3,4\n"),
        ("weather.csv", (WEATHER / "nycflights13_weather_ewr_slices.csv").read_bytes()),
        ("journal_prefix.csv", b"participant_id,time,kind\np1,2025-01-01T00:00Z,cramp\n"),
    ],
)
def test_unrelated_files_are_not_recognised(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    head = _head(path)
    assert sniffing_formats(head, name, exclude=()) == set()
    with pytest.raises(ImportFormatError) as err:
        detect_format(path)
    msg = str(err.value)
    assert str(path) in msg
    # the message lists every format of the registry, and never raw bytes
    for _, desc in IMPORTERS:
        assert desc in msg


def test_binary_file_message_names_bytes_not_garbage(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4)
    with pytest.raises(ImportFormatError) as err:
        detect_format(path)
    msg = str(err.value)
    assert "binary data" in msg and "ff d8 ff e0" in msg and "\ufffd" not in msg
    assert len(msg.splitlines()) == 1


def test_registry_fails_loudly_on_a_misspelt_entry(monkeypatch):
    from pipeline import importers

    monkeypatch.setattr(importers, "IMPORTERS", (("open_meteo", "x"), ("opn_meteo", "typo")))
    with pytest.raises(ModuleNotFoundError):
        list(importers._iter_registry())
    monkeypatch.setattr(importers, "IMPORTERS", (("open_meteo:JSNO", "typo"),))
    with pytest.raises(ImportError, match="JSNO"):
        list(importers._iter_registry())


def test_every_registry_entry_loads_with_a_distinct_format():
    formats = [importers_load(e).FORMAT for e, _ in IMPORTERS]
    assert len(formats) == len(set(formats))


def test_text_mentioning_healthdata_is_not_an_apple_export(tmp_path):
    from pipeline.importers import apple_health

    notes = tmp_path / "notes.md"
    notes.write_text("Apple exports start with <HealthData locale=...>\n")
    with pytest.raises(ImportFormatError, match="notes.md"):
        detect_format(notes)
    assert apple_health.sniff(b'<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n', "export.xml")
