"""Journal CSV importer and the shared CSV / zoneinfo helpers it hosts.

``tests/fixtures/journal/journal_p01.csv`` is hand-written (no real cramp journal exists in
the shared data): valid rows with offsets, local rows read with the participant's zone
(including the autumn repeated hour and the spring gap of Europe/Berlin 2025), a row without
participant, and one row per kind of error.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from pipeline.importers import ImportContext, ImportFormatError, journal_csv

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "journal" / "journal_p01.csv"


def read(path: Path, ctx: ImportContext) -> dict[str, pl.DataFrame]:
    out: dict[str, pl.DataFrame] = {}
    for batch in journal_csv.read(path, ctx):
        out[batch.table] = (
            pl.concat([out[batch.table], batch.frame]) if batch.table in out else batch.frame
        )
    return out


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


BERLIN = ImportContext(tz="Europe/Berlin", display_path="journal_p01.csv")

EXPECTED_ROWS = [
    # participant, time_utc, utc_offset_s, kind, severity, side, muscle, duration_s, note
    (
        "p01",
        utc(2025, 7, 3, 1, 15),
        7200,
        "cramp",
        7,
        "left",
        "calf",
        150.0,
        "woke me up, stretched it out",
    ),
    ("p01", utc(2025, 7, 3, 1, 40), 7200, "bathroom", None, None, None, None, None),
    ("p01", utc(2025, 7, 5, 5, 0), 7200, "no_cramp", None, None, None, None, None),
    # local 04:05 CEST
    (
        "p01",
        utc(2025, 7, 6, 2, 5),
        7200,
        "cramp",
        8,
        "right",
        "hamstring",
        30.0,
        "local time: read in the participant's zone",
    ),
    # local 02:30 on 26 Oct occurs twice: the first (CEST) is taken
    (
        "p01",
        utc(2025, 10, 26, 0, 30),
        7200,
        "cramp",
        6,
        "right",
        "calf",
        180.0,
        "autumn DST hour: first occurrence",
    ),
    # local 02:30 on 30 Mar does not exist: read at +01:00 -> 01:30Z = 03:30 CEST
    (
        "p01",
        utc(2025, 3, 30, 1, 30),
        7200,
        "note",
        None,
        None,
        None,
        None,
        "spring DST gap: read with the offset before the change",
    ),
    (
        "p02",
        utc(2025, 7, 7, 3, 10),
        -14400,
        "cramp",
        5,
        "both",
        "thigh",
        240.0,
        'said "ouch", twice',
    ),
]
EXPECTED_REJECTS = [
    (
        4,
        "participant_id: empty and no participant given for the file (fill the column or "
        "import with --participant ID)",
    ),
    (10, "severity: 11 is not an integer 0-10"),
    (11, "time: yesterday night is not an ISO 8601 date-time like 2025-07-03T03:15:00+02:00"),
    (12, "kind: spasm is not one of cramp, no_cramp, bathroom, note, other"),
    (13, "body_side: top is not one of left, right, both or empty"),
    (14, "duration_min: -1 outside 0-1440 minutes"),
    (15, "duplicate of line 2 (same participant_id, time and kind)"),
    (16, "expected 8 fields, found 4"),
]


def test_valid_rows_with_utc_times_and_offsets():
    got = read(FIXTURE, BERLIN)
    journal = got["journal"]
    assert journal.schema == pl.Schema(journal_csv.JOURNAL_SCHEMA)
    assert journal.drop("source").rows() == EXPECTED_ROWS
    assert journal["source"].unique().to_list() == ["journal"]


def test_bad_rows_rejected_with_line_and_reason():
    rej = read(FIXTURE, BERLIN)["rejected_rows"]
    assert rej.select("record_no", "reason").rows() == EXPECTED_REJECTS
    lines = FIXTURE.read_text(encoding="utf-8").split("\n")
    assert rej["raw"].to_list() == [lines[n - 1] for n, _ in EXPECTED_REJECTS]


def test_participant_from_context_fills_empty_ids():
    got = read(FIXTURE, ImportContext(participant_id="p01", tz="Europe/Berlin"))
    row = got["journal"].filter(pl.col("time_utc") == utc(2025, 7, 4, 0, 50))
    assert row.select("participant_id", "utc_offset_s", "kind", "muscle").rows() == [
        ("p01", 0, "cramp", "foot")
    ]
    assert 4 not in got["rejected_rows"]["record_no"].to_list()


def test_local_time_without_zone_is_a_clear_error():
    with pytest.raises(ImportFormatError) as err:
        list(journal_csv.read(FIXTURE, ImportContext(display_path="inbox/p01/journal.csv")))
    msg = str(err.value)
    assert msg.startswith("inbox/p01/journal.csv:6: time '2025-07-06T04:05' has no UTC offset")
    assert "--timezone" in msg
    with pytest.raises(ImportFormatError, match="unknown time zone 'Berlin'"):
        list(journal_csv.read(FIXTURE, ImportContext(tz="Berlin")))


def test_offsets_only_file_needs_no_zone(tmp_path):
    f = tmp_path / "j.csv"
    f.write_text(
        ",".join(journal_csv.HEADER) + "\n"
        "p1,2025-01-02T03:04:05.5-03:30,cramp,3,,,,\n"
        "p1,2025-01-02 03:04Z,CRAMP,,,, 0 ,\n"
        "p1,2025-01-02T03:04+15:00,cramp,,,,,\n"
        "p1,2025-02-30T03:04+01:00,cramp,,,,,\n",
        encoding="utf-8",
    )
    got = read(f, ImportContext())
    assert got["journal"].select("time_utc", "utc_offset_s", "kind", "duration_s").rows() == [
        (utc(2025, 1, 2, 6, 34, 5, 500000), -12600, "cramp", None),
        (utc(2025, 1, 2, 3, 4), 0, "cramp", 0.0),
    ]
    assert got["rejected_rows"]["reason"].to_list() == [
        "time: UTC offset in 2025-01-02T03:04+15:00 outside -12:00..+14:00",
        "time: 2025-02-30T03:04+01:00 is not an ISO 8601 date-time like 2025-07-03T03:15:00+02:00",
    ]


def test_bom_crlf_blank_lines_and_header_only(tmp_path):
    text = FIXTURE.read_text(encoding="utf-8")
    messy = tmp_path / "messy.csv"
    messy.write_bytes(b"\xef\xbb\xbf" + (text.replace("\n", "\r\n") + "\r\n,,,,,,,\r\n").encode())
    assert journal_csv.sniff(messy.read_bytes(), "messy.csv")
    a, b = read(FIXTURE, BERLIN), read(messy, BERLIN)
    assert b["journal"].equals(a["journal"])
    assert (
        b["rejected_rows"]
        .select("record_no", "reason")
        .equals(a["rejected_rows"].select("record_no", "reason"))
    )
    header_only = tmp_path / "header.csv"
    header_only.write_text(",".join(journal_csv.HEADER) + "\n", encoding="utf-8")
    got = read(header_only, ImportContext())
    assert got["journal"].height == 0 and "rejected_rows" not in got
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(ImportFormatError, match=r"empty\.csv: the file is empty"):
        list(journal_csv.read(empty, ImportContext()))
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("participant_id,time,kind\np1,2025-01-01T00:00Z,cramp\n", encoding="utf-8")
    with pytest.raises(
        ImportFormatError,
        match=r"wrong\.csv:1: journal header: missing "
        r"'severity'.*; expected participant_id,time,kind,",
    ):
        list(journal_csv.read(wrong, ImportContext()))


@pytest.mark.parametrize(
    "name",
    [
        "Europe/Berlin",
        "America/New_York",
        "Australia/Lord_Howe",
        "Europe/Dublin",
        "America/St_Johns",
        "Africa/Casablanca",
        "Pacific/Apia",
        "UTC",
    ],
)
def test_zone_helpers_agree_with_zoneinfo(name):
    """Every half hour of 2011 and early 2012 (Apia skipped 30 Dec 2011), both folds."""
    zi = ZoneInfo(name)
    walls = [datetime(2011, 1, 1) + timedelta(minutes=30 * i) for i in range(375 * 48)]
    wall_us = pl.Series(
        [int((w - datetime(1970, 1, 1)).total_seconds()) * 1_000_000 for w in walls]
    )
    for fold in (0, 1):
        got_us, got_off = journal_csv.local_to_utc_us(
            wall_us, zi, pl.Series([bool(fold)] * len(walls))
        )
        want = [w.replace(tzinfo=zi, fold=fold) for w in walls]
        assert got_us.to_list() == [int(w.timestamp()) * 1_000_000 for w in want]
        assert got_off.to_list() == [
            int(w.astimezone(UTC).astimezone(zi).utcoffset().total_seconds()) for w in want
        ]
    assert journal_csv.utc_offsets_s(got_us, zi).to_list() == got_off.to_list()


def test_zone_lookup():
    assert journal_csv.zone("europe/berlin").key == "Europe/Berlin"
    assert journal_csv.zone("Mars/Olympus_Mons") is None
    assert journal_csv.zone("../../etc/passwd") is None
    assert journal_csv.zone("") is None


def test_store_round_trip(tmp_path):
    from pipeline import ingest, store

    con = store.connect(tmp_path / "t.duckdb")
    res = ingest.import_file(con, FIXTURE, tz="Europe/Berlin")
    assert (res.status, res.rows_accepted, res.rows_rejected) == ("partial", 7, 8)
    rows = con.execute(
        "SELECT participant_id, time_utc, utc_offset_s, kind, severity, "
        "body_side, muscle, duration_s, note FROM journal "
        "ORDER BY participant_id, time_utc"
    ).fetchall()
    assert [r[:3] for r in rows] == sorted((r[0], r[1], r[2]) for r in EXPECTED_ROWS)
    assert (
        con.execute("SELECT record_no, reason FROM rejected_rows ORDER BY 1").fetchall()
        == EXPECTED_REJECTS
    )
    # the file re-saved with CRLF: other bytes, same rows -> all duplicates
    crlf = tmp_path / "journal_crlf.csv"
    crlf.write_bytes(FIXTURE.read_bytes().replace(b"\n", b"\r\n"))
    again = ingest.import_file(con, crlf, tz="Europe/Berlin")
    assert (again.rows_accepted, again.rows_duplicate) == (0, 7)
