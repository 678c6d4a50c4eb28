"""Issue 13: participants from folders, identity checks of Apple exports, the Fitabase id
slip, and `crampwatch participants` / `forget` / `reassign` (CLI against temp stores built
from sample_data/inbox/p01 files and tests/fixtures)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from pipeline import store
from pipeline.cli import main as cli
from pipeline.participants import participant_from_folders, resembling
from tests.conftest import FIXTURES, SAMPLE_DATA

P01 = SAMPLE_DATA / "inbox" / "p01"
EXPORT = P01 / "export.zip"
WEATHER = P01 / "open-meteo-50.12N8.67E112m.csv"
BEDROOM = P01 / "bedroom-sensor.csv"
FITABASE = FIXTURES / "fitabase" / "dailyActivity_merged.csv"
#: columns stamped with the time a row was computed or written: not part of the content
STAMPS = {"import_id", "created_utc", "computed_utc", "fitted_utc", "updated_utc", "merged_utc"}
#: the run history and the ledger (participant_updates: what each import did to participant
#: rows, kept for the ledger's imports, forgotten ones included)
LEDGER = {
    "imports",
    "detection_runs",
    "exposure_runs",
    "schema_migrations",
    "participant_updates",
}


def cw(*args: str, db: Path, ok: bool = True, input: str | None = None):
    res = CliRunner().invoke(cli, [*args, "--db", str(db)], input=input)
    if ok:
        assert res.exit_code == 0, (res.output, res.exception)
    return res


def digests(db: Path) -> dict[str, tuple[int, int]]:
    """Per table (ledger and run history aside): rows and an order-free hash of the rows
    without their import ids and time stamps, floats to 6 decimals."""
    out = {}
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
            ).fetchall()
        ]
        for t in sorted(set(tables) - LEDGER):
            cols = [
                r
                for r in con.execute(
                    "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
                    "ORDER BY column_index",
                    [t],
                ).fetchall()
                if r[0] not in STAMPS
            ]
            # sums of floats differ in the last bits with the order they are added in
            sel = ", ".join(
                f'"{c}" := ' + (f'round("{c}", 6)' if d == "DOUBLE" else f'"{c}"') for c, d in cols
            )
            out[t] = tuple(
                con.execute(
                    f"SELECT count(*), coalesce(bit_xor(hash(struct_pack({sel}))), 0) FROM {t}"
                ).fetchall()[0]
            )
    return out


def ledger(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "SELECT import_id, status, format, participant_id, tz, forgotten_by,"
            " replaces_import_id, warning FROM imports ORDER BY 1"
        ).fetchall()


# ------------------------------------------------------------------------ folder names


def test_participant_is_the_first_named_folder_under_the_root(tmp_path):
    for root in (SAMPLE_DATA, SAMPLE_DATA / "inbox"):
        assert participant_from_folders(EXPORT, root) == "p01"
    nested = tmp_path / "inbox" / "ana" / "MyFitbitData" / "Sleep" / "sleep.json"
    nested.parent.mkdir(parents=True)
    nested.write_text("[]")
    assert participant_from_folders(nested, tmp_path) == "ana"
    unpacked = tmp_path / "inbox" / "apple_health_export" / "export.xml"
    unpacked.parent.mkdir(parents=True)
    unpacked.write_text("")
    assert participant_from_folders(unpacked, tmp_path) is None  # no person's folder


def test_run_over_the_folder_holding_the_inbox_keeps_two_people_apart(tmp_path):
    root = tmp_path / "sample_data"
    for pid in ("p01", "p02"):  # the two Apple exports only: fast
        (root / "inbox" / pid).mkdir(parents=True)
        shutil.copy(SAMPLE_DATA / "inbox" / pid / "export.zip", root / "inbox" / pid)
    db = tmp_path / "s.duckdb"
    cw("run", str(root), db=db)
    with duckdb.connect(str(db), read_only=True) as con:
        people = con.execute(
            "SELECT participant_id, sex, birth_year FROM participants ORDER BY 1"
        ).fetchall()
        assert people == [("p01", "female", 1958), ("p02", "male", 1950)]
        assert con.execute("SELECT count(DISTINCT participant_id) FROM samples").fetchall() == [
            (2,)
        ]
    out = cw("participants", db=db).output
    assert "p01" in out and "p02" in out and "inbox" not in out


# ----------------------------------------------------------------- Apple identity checks


def _apple(path: Path, *, dob: str, sex: str, device: str) -> Path:
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_US">\n'
        ' <ExportDate value="2025-06-17 12:00:00 +0200"/>\n'
        f' <Me HKCharacteristicTypeIdentifierDateOfBirth="{dob}" '
        f'HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSex{sex}"/>\n'
        ' <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Watch" '
        f'device="&lt;&lt;HKDevice: 0x6000&gt;, name:Apple Watch, hardware:{device}, '
        'software:11.5&gt;" unit="count/min" '
        f'creationDate="2025-06-16 03:00:00 +0200" startDate="2025-06-16 03:00:00 +0200" '
        f'endDate="2025-06-16 03:00:00 +0200" value="{len(path.name) + 50}"/>\n'
        "</HealthData>\n",
        encoding="utf-8",
    )
    return path


def test_an_export_of_someone_else_is_refused_unless_forced(tmp_path):
    db = tmp_path / "s.duckdb"
    cw(
        "ingest",
        str(_apple(tmp_path / "a.xml", dob="1958-04-12", sex="Female", device="Watch6,2")),
        "--participant",
        "p01",
        db=db,
    )
    other = _apple(tmp_path / "bb.xml", dob="1950-09-03", sex="Male", device="Watch7,1")
    res = cw("ingest", str(other), "--participant", "p01", db=db, ok=False)
    assert res.exit_code == 1
    assert (
        "Me record gives sex male (stored: female) and born 1950 (stored: 1958)" in res.output
        and "--force" in res.output
    )
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM samples").fetchall() == [(1,)]
    # the same person's later export on a new watch: imported, with a warning
    same = _apple(tmp_path / "ccc.xml", dob="1958-04-12", sex="Female", device="Watch9,1")
    res = cw("ingest", str(same), "--participant", "p01", db=db)
    assert "share none with those of p01's earlier Apple exports" in res.stderr
    assert ledger(db)[-1][1] == "ok" and "Watch9,1" in ledger(db)[-1][7]
    cw("ingest", str(other), "--participant", "p01", "--force", db=db)
    assert ledger(db)[-1][1] == "ok"


# -------------------------------------------------------------------- the Fitabase slip


def test_an_id_resembling_a_stored_one_is_refused_with_the_suggestion(tmp_path):
    assert resembling("1503960366", ["fitabase-1503960366", "p01"]) == ["fitabase-1503960366"]
    assert resembling("P1", ["p01", "p02"]) == ["p01"]
    assert resembling("p03", ["p01", "p02"]) == []
    assert resembling("r1", ["w1"]) == [] and resembling("x1503960366", ["1503960366"])
    db = tmp_path / "s.duckdb"
    cw("ingest", str(FITABASE), "--timezone", "America/New_York", db=db)
    with duckdb.connect(str(db), read_only=True) as con:
        fid = con.execute("SELECT min(participant_id) FROM participants").fetchall()[0][0]
    assert fid.startswith("fitabase-")
    bare = fid.removeprefix("fitabase-")
    res = cw("ingest", str(WEATHER), "--participant", bare, db=db, ok=False)
    assert res.exit_code == 1 and f"did you mean {fid}?" in res.output
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute(
            "SELECT count(*) FROM participants WHERE participant_id = ?", [bare]
        ).fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM environment").fetchall() == [(0,)]
    cw("ingest", str(WEATHER), "--participant", fid, db=db)
    res = cw("ingest", str(BEDROOM), "--participant", bare, "--new-participant", db=db)
    assert ledger(db)[-1][1] == "ok" and ledger(db)[-1][3] == bare


# ------------------------------------------------------------------------- forget, reassign


@pytest.fixture(scope="module")
def p01_store(tmp_path_factory):
    """p01's Apple export and bedroom sensor, detected: the reference store, and the same
    with p01's weather file imported too (after the export)."""
    d = tmp_path_factory.mktemp("stores")
    ref, full = d / "ref.duckdb", d / "full.duckdb"
    for db, files in ((ref, (EXPORT, BEDROOM)), (full, (EXPORT, BEDROOM, WEATHER))):
        for f in files:
            cw("ingest", str(f), "--participant", "p01", "--timezone", "Europe/Berlin", db=db)
        cw("detect", db=db)
    return ref, full


def test_forget_import_leaves_the_store_as_if_the_file_was_never_imported(p01_store, tmp_path):
    ref, full = p01_store
    db = tmp_path / "s.duckdb"
    shutil.copy(full, db)
    weather = [r[0] for r in ledger(db) if r[2] == "open_meteo_csv"][0]
    before = digests(db)
    assert before["environment"][0] > digests(ref)["environment"][0]
    res = cw("forget", "--import", str(weather), db=db, input="n\n", ok=False)
    assert res.exit_code == 1 and digests(db) == before  # said no: nothing changed
    out = cw("forget", "--import", str(weather), db=db, input="y\n").output
    assert "environment 2,184" in out and "p01" in out
    assert digests(db) == digests(ref)
    row = [r for r in ledger(db) if r[0] == weather][0]
    assert row[1] == "forgotten" and row[5] == f"forget --import {weather}"
    res = cw("forget", "--import", str(weather), "--yes", db=db, ok=False)
    assert "already forgotten" in res.output
    # the same file imports again (the ledger's forgotten row does not block it)
    cw("ingest", str(WEATHER), "--participant", "p01", db=db)
    assert ledger(db)[-1][1] == "ok"
    cw("detect", db=db)
    assert digests(db) == digests(full)


def test_forget_participant_removes_every_row_of_them(p01_store, tmp_path):
    ref, _ = p01_store
    db = tmp_path / "s.duckdb"
    shutil.copy(ref, db)
    cw("ingest", str(FITABASE), "--timezone", "America/New_York", db=db)  # someone else, who stays
    other = digests(db)["samples"][0] - digests(ref)["samples"][0]
    cw("forget", "--participant", "p01", "--yes", db=db)
    with duckdb.connect(str(db), read_only=True) as con:
        for t in [t for t in digests(db) if t not in LEDGER]:
            cols = [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE table_name = ?", [t]
                ).fetchall()
            ]
            if "participant_id" in cols:
                assert con.execute(
                    f"SELECT count(*) FROM {t} WHERE participant_id = 'p01'"
                ).fetchall() == [(0,)], t
        assert con.execute("SELECT count(*) FROM samples").fetchall() == [(other,)]
        assert con.execute("SELECT count(*) FROM environment").fetchall() == [(0,)]
        assert {
            r[0]
            for r in con.execute(
                "SELECT status FROM imports WHERE participant_id = 'p01'"
            ).fetchall()
        } == {"forgotten"}
    assert "p01" not in cw("participants", db=db).output
    res = cw("forget", "--participant", "p01", "--yes", db=db, ok=False)
    assert res.exit_code == 1 and "no participant 'p01'" in res.output


def test_reassign_moves_the_rows_and_recomputes(p01_store, tmp_path):
    _, full = p01_store
    db = tmp_path / "s.duckdb"
    shutil.copy(full, db)
    export = [r[0] for r in ledger(db) if r[2] == "apple_health"][0]
    res = cw("reassign", "--import", str(export), "--participant", "P1", db=db, ok=False)
    assert "did you mean p01?" in res.output  # refused before anything changed
    cw("reassign", "--import", str(export), "--participant", "p09", db=db)
    with duckdb.connect(str(db), read_only=True) as con:
        q = "SELECT participant_id, count(*) FROM {} GROUP BY 1 ORDER BY 1"
        assert [r[0] for r in con.execute(q.format("samples")).fetchall()] == ["p09"]
        assert [r[0] for r in con.execute(q.format("sleep_periods")).fetchall()] == ["p09"]
        assert con.execute(
            "SELECT sex, birth_year FROM participants WHERE participant_id = 'p09'"
        ).fetchall() == [("female", 1958)]
    rows = ledger(db)
    old, new = [r for r in rows if r[0] == export][0], rows[-1]
    assert old[1] == "forgotten" and f"(now import {new[0]})" in old[5]
    assert new[1] == "ok" and new[3] == "p09" and new[6] == export
    # a weather file attached to the wrong person, moved with a zone
    weather = [r[0] for r in rows if r[2] == "open_meteo_csv"][0]
    cw(
        "reassign",
        "--import",
        str(weather),
        "--participant",
        "p09",
        "--timezone",
        "Europe/Berlin",
        db=db,
    )
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute(
            "SELECT participant_id FROM participant_locations WHERE location_id NOT LIKE 'indoor:%'"
        ).fetchall() == [("p09",)]
        assert con.execute(
            "SELECT count(*) FROM environment WHERE setting = 'outdoor'"
        ).fetchall() == [(2184,)]
    assert ledger(db)[-1][4] == "Europe/Berlin"


def test_reassign_fails_clearly_when_the_file_is_gone(tmp_path):
    db = tmp_path / "s.duckdb"
    copy = tmp_path / "weather.csv"
    shutil.copy(WEATHER, copy)
    cw("ingest", str(copy), "--participant", "p01", db=db)
    before = digests(db)
    copy.unlink()
    res = cw("reassign", "--import", "1", "--participant", "p02", db=db, ok=False)
    assert res.exit_code == 1 and "is gone" in res.output and "forget --import 1" in res.output
    assert digests(db) == before and ledger(db)[0][1] == "ok"
    with store.connect(db) as con:
        assert con.execute("SELECT count(*) FROM imports").fetchall() == [(1,)]


# -------------------------------------------------- forget puts participant rows back


def _person(db: Path, pid: str) -> tuple | None:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT sex, birth_year, tz, height_cm FROM participants WHERE participant_id = ?",
            [pid],
        ).fetchall()
    return rows[0] if rows else None


def test_forget_import_puts_the_participant_row_back(tmp_path):
    db = tmp_path / "s.duckdb"
    # 1: p01's weather file: creates p01 with its zone
    cw("ingest", str(WEATHER), "--participant", "p01", "--timezone", "Europe/Berlin", db=db)
    assert _person(db, "p01") == (None, None, "Europe/Berlin", None)
    # 2: an Apple export with a Me record, under a wrong --timezone: sex, birth year, zone
    apple = _apple(tmp_path / "a.xml", dob="1958-04-12", sex="Female", device="Watch6,2")
    cw("ingest", str(apple), "--participant", "p01", "--timezone", "America/New_York", db=db)
    assert _person(db, "p01") == ("female", 1958, "America/New_York", None)
    # 3: a participants file: p01's zone and height, and a new person p02 (no data)
    people = tmp_path / "people.csv"
    people.write_text(
        "participant_id,sex,birth_year,tz,home_lat_deg,home_lon_deg,height_cm,conditions,"
        "medications\np01,,,Europe/Rome,,,168,,\np02,male,1950,Europe/Madrid,,,,,\n",
        encoding="utf-8",
    )
    cw("ingest", str(people), db=db)
    assert _person(db, "p01") == ("female", 1958, "Europe/Rome", 168.0)
    apple_id, people_id = (r[0] for r in ledger(db) if r[2] in ("apple_health", "participants_csv"))

    # forgetting the Apple import: its sex and birth year go; what import 3 wrote stays
    out = cw("forget", "--import", str(apple_id), "--yes", db=db).output
    assert "put back as before the import: p01" in out
    assert _person(db, "p01") == (None, None, "Europe/Rome", 168.0)
    # forgetting the participants file: p01 as import 1 left it; p02, which it created and
    # nothing else refers to, is removed
    out = cw("forget", "--import", str(people_id), "--yes", db=db).output
    assert "participant(s) removed: p02" in out
    assert _person(db, "p01") == (None, None, "Europe/Berlin", None)
    assert _person(db, "p02") is None
    # forgetting the import that created p01 removes it
    cw("forget", "--import", "1", "--yes", db=db)
    assert _person(db, "p01") is None
    # the history stays in the ledger; the same files import again, as new
    assert {r[1] for r in ledger(db)} == {"forgotten"}
    cw("ingest", str(apple), "--participant", "p01", db=db)
    assert _person(db, "p01") == ("female", 1958, None, None)


def test_forget_puts_back_a_zone_changed_by_a_wrong_timezone(p01_store, tmp_path):
    """A weather file imported again for p01 with the wrong --timezone (and a copy, so it is
    a new import) changed p01's stored zone; forgetting it puts the zone back and leaves
    the rest of the store as it was before."""
    _, full = p01_store
    db = tmp_path / "s.duckdb"
    shutil.copy(full, db)
    before = digests(db)
    copy = tmp_path / "weather-copy.csv"
    copy.write_bytes(WEATHER.read_bytes() + b"\n")
    cw("ingest", str(copy), "--participant", "p01", "--timezone", "Asia/Tokyo", db=db)
    assert _person(db, "p01")[2] == "Asia/Tokyo"
    wrong = ledger(db)[-1][0]
    cw("forget", "--import", str(wrong), "--yes", db=db)
    assert _person(db, "p01")[2] == "Europe/Berlin"
    assert digests(db) == before
