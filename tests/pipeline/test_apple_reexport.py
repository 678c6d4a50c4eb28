"""Cumulative Apple exports: a later export repeats the earlier one and adds new days.

Apple writes the whole history into every export, so the second import of a participant's
export must add exactly the records that are new, count the rest as duplicates (even though
every ``HKDevice: 0x...`` memory address differs between the two exports) and recognise
a file it has already imported. The exports come from the benchmark's independent generator
(``simulators/apple_export/``); the expected counts are computed here with
ElementTree, not with crampwatch code.

Also here: the import path's memory behaviour in one long transaction (batches are released
as they are written), since that is what makes big cumulative exports importable.
"""

from __future__ import annotations

import gc
import random
import re
import threading
import weakref
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipeline import ingest, store
from pipeline.importers import NATURAL_KEYS, Batch, ImportContext, apple_health
from pipeline.importers.apple_health import QUANTITY_TYPES, SLEEP_TYPE
from simulators import apple_export as gen

START = date(2025, 3, 24)  # spans the switch to summer time on 30 March
POINTER = re.compile(r"HKDevice: 0x[0-9a-fA-F]+")
PID = "p1"


def _keys(xml_path: Path) -> dict[str, set]:
    """Natural keys of the top-level records and workouts of an export, per target table."""
    out: dict[str, set] = {"samples": set(), "sleep_segments": set(), "workouts": set()}
    root = ET.parse(xml_path).getroot()
    for el in root:
        a = el.attrib
        if el.tag == "Record":
            if a["type"] in QUANTITY_TYPES:
                out["samples"].add(
                    (
                        a["type"],
                        a["startDate"],
                        a["endDate"],
                        a["sourceName"],
                        POINTER.sub("HKDevice", a.get("device", "")),
                    )
                )
            elif a["type"] == SLEEP_TYPE:
                out["sleep_segments"].add(
                    (a["startDate"], a["endDate"], a["value"], a["sourceName"])
                )
        elif el.tag == "Workout":
            out["workouts"].add((a["workoutActivityType"], a["startDate"], a["sourceName"]))
    return out


def _pointers(xml_path: Path) -> set[str]:
    return set(POINTER.findall(xml_path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("reexport")
    switch = START + timedelta(days=3)  # device attributes and sleep stages from day 4 on
    earlier = gen.write_export(
        root / "march",
        gen.ExportSpec(start=START, days=5, seed=11, modern_from=switch, pointer_salt=0),
    )
    later = gen.write_export(
        root / "april",
        gen.ExportSpec(start=START, days=8, seed=11, modern_from=switch, pointer_salt=1),
    )
    return {
        "earlier_zip": Path(earlier.zip_path),
        "earlier_xml": Path(earlier.xml_path),
        "later_zip": Path(later.zip_path),
        "later_xml": Path(later.xml_path),
    }


def _counts(con) -> dict[str, int]:
    return {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("samples", "sleep_segments", "workouts", "rejected_rows")
    }


def test_later_export_adds_exactly_the_new_records(exports, tmp_path):
    old, new = _keys(exports["earlier_xml"]), _keys(exports["later_xml"])
    # the later export really repeats the earlier one, with other device addresses
    assert all(old[t] <= new[t] for t in old)
    assert all(len(new[t]) > len(old[t]) for t in ("samples", "sleep_segments"))
    assert _pointers(exports["earlier_xml"]) and _pointers(exports["later_xml"])
    assert not _pointers(exports["earlier_xml"]) & _pointers(exports["later_xml"])

    with store.connect(tmp_path / "s.duckdb") as con:
        first = ingest.import_file(con, exports["earlier_zip"], participant_id=PID)
        assert first.status == "ok", first.error
        assert first.rows_duplicate == 0
        after_first = _counts(con)
        assert {t: after_first[t] for t in old} == {t: len(old[t]) for t in old}

        second = ingest.import_file(con, exports["later_zip"], participant_id=PID)
        assert second.status == "ok", second.error
        after_second = _counts(con)
        added = {t: after_second[t] - after_first[t] for t in old}
        assert added == {t: len(new[t] - old[t]) for t in old}
        # the new rows carry the second import's id, the repeated ones keep the first's
        for t in old:
            n = con.execute(
                f"SELECT count(*) FROM {t} WHERE import_id = ?", [second.import_id]
            ).fetchone()[0]
            assert n == len(new[t] - old[t]), t
        overlap = sum(len(new[t] & old[t]) for t in old)
        assert second.rows_duplicate == overlap
        # accepted: the new rows plus the participant's <Me> upsert
        assert second.rows_accepted == sum(added.values()) + 1
        assert after_second["rejected_rows"] == 0

        third = ingest.import_file(con, exports["later_zip"], participant_id=PID)
        assert third.status == "already_imported"
        assert str(second.import_id) in third.error
        assert _counts(con) == after_second

        # the same content as bare export.xml is another file: read, and nothing is new
        again = ingest.import_file(con, exports["later_xml"], participant_id=PID)
        assert again.status == "ok"
        assert again.rows_duplicate == sum(len(new[t]) for t in old)
        assert again.rows_accepted == 1
        assert _counts(con) == after_second


def test_earlier_export_after_later_adds_nothing(exports, tmp_path):
    """Imports in either order end in the same store."""
    with store.connect(tmp_path / "s.duckdb") as con:
        assert ingest.import_file(con, exports["later_zip"], participant_id=PID).status == "ok"
        before = _counts(con)
        res = ingest.import_file(con, exports["earlier_zip"], participant_id=PID)
        assert res.status == "ok"
        old = _keys(exports["earlier_xml"])
        assert res.rows_duplicate == sum(len(v) for v in old.values())
        assert _counts(con) == before


# --------------------------------------------------------------------------- store.insert_new


def test_insert_new_releases_each_batch_inside_a_transaction(tmp_path, monkeypatch):
    """An import is one transaction; the Arrow copy of each batch must not live until COMMIT
    (``con.register`` would keep it: RSS growing with the size of the export)."""
    refs = []
    to_arrow = pl.DataFrame.to_arrow

    def tracked(self, *a, **kw):
        table = to_arrow(self, *a, **kw)
        refs.append(weakref.ref(table))
        return table

    monkeypatch.setattr(pl.DataFrame, "to_arrow", tracked)
    key = NATURAL_KEYS["samples"]
    with store.connect(tmp_path / "s.duckdb") as con:
        con.execute("BEGIN TRANSACTION")
        for i in range(3):
            frame = pl.DataFrame(
                {
                    "participant_id": "p",
                    "metric": "heart_rate_bpm",
                    "start_utc": pl.datetime_range(
                        pl.datetime(2025, 1, 1 + i, time_zone="UTC"),
                        pl.datetime(2025, 1, 1 + i, 0, 9, time_zone="UTC"),
                        "1m",
                        eager=True,
                    ),
                    "utc_offset_s": 3600,
                    "value": 60.0,
                    "unit": "count/min",
                    "source": "w",
                    "device": "",
                }
            ).with_columns(end_utc=pl.col("start_utc"))
            assert store.insert_new(con, "samples", frame, key) == (10, 0)
        gc.collect()
        assert len(refs) == 3
        assert all(r() is None for r in refs), "insert_new kept a batch alive in the transaction"
        con.execute("COMMIT")
        assert con.execute("SELECT count(*) FROM samples").fetchone()[0] == 30


@pytest.mark.parametrize("dups", [[], [3], [0, 0, 9]])
def test_insert_new_in_frame_duplicates_first_wins(tmp_path, dups):
    """The hash pre-check only skips the unique when no key repeats; repeats keep the first."""
    key = NATURAL_KEYS["samples"]
    minutes = list(range(10)) + dups
    times = [datetime(2025, 1, 1, 0, m, tzinfo=UTC) for m in minutes]
    frame = pl.DataFrame(
        {
            "participant_id": "p",
            "metric": "heart_rate_bpm",
            "start_utc": times,
            "end_utc": times,
            "utc_offset_s": 0,
            "value": [float(i) for i in range(len(minutes))],
            "unit": "count/min",
            "source": "w",
            "device": "",
        }
    )
    with store.connect(tmp_path / "s.duckdb") as con:
        assert store.insert_new(con, "samples", frame, key) == (10, len(dups))
        got = con.execute("SELECT sum(value) FROM samples").fetchone()[0]
        assert got == float(sum(range(10)))  # the first occurrences: values 0..9


# --------------------------------------------------------------------------- read-ahead


def _reader_threads() -> list[str]:
    return [
        t.name
        for t in threading.enumerate()
        if t.name in ("crampwatch-read-ahead", "apple-health-read-ahead")
        or t.name.startswith("apple-health-parse")
    ]


class _FakeImporter:
    """A format whose reader yields ``n`` one-row sample batches, optionally failing."""

    FORMAT = "fake_fmt"
    __name__ = "fake_importer"

    def __init__(self, n: int, *, fail_at: int | None = None, bad_table_at: int | None = None):
        self.n, self.fail_at, self.bad_table_at = n, fail_at, bad_table_at
        self.produced = 0
        self.written = 0
        self.max_lead = 0
        self.closed = False

    def read(self, path, ctx):
        try:
            for i in range(self.n):
                if i == self.fail_at:
                    raise ValueError(f"{path}: broken record {i}")
                t = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=i)
                frame = pl.DataFrame(
                    {
                        "participant_id": [PID],
                        "metric": ["heart_rate_bpm"],
                        "start_utc": [t],
                        "end_utc": [t],
                        "utc_offset_s": [0],
                        "value": [float(i)],
                        "unit": ["count/min"],
                        "source": ["w"],
                        "device": [""],
                    }
                )
                self.produced += 1
                self.max_lead = max(self.max_lead, self.produced - self.written)
                yield Batch("nonsense" if i == self.bad_table_at else "samples", frame)
        finally:
            self.closed = True

    def on_rows(self, n: int) -> None:
        self.written += 1


@pytest.fixture
def fake(monkeypatch, tmp_path):
    def use(importer: _FakeImporter):
        monkeypatch.setattr(ingest, "detect_format", lambda path: importer)
        return importer

    (tmp_path / "f.dat").write_text("x")
    return use


def test_read_ahead_keeps_order_and_stays_one_batch_ahead(fake, tmp_path):
    imp = fake(_FakeImporter(12))
    with store.connect(tmp_path / "s.duckdb") as con:
        res = ingest.import_file(con, tmp_path / "f.dat", on_rows=imp.on_rows)
        assert res.status == "ok" and res.rows_accepted == 12
        assert con.execute("SELECT list(value ORDER BY start_utc) FROM samples").fetchone()[0] == [
            float(i) for i in range(12)
        ]
    # never more than READ_AHEAD_BATCHES batches parsed beyond the one being written
    assert imp.max_lead <= ingest.READ_AHEAD_BATCHES + 1
    assert imp.closed and not _reader_threads()


def test_importer_error_in_read_ahead_thread_rolls_back(fake, tmp_path):
    imp = fake(_FakeImporter(12, fail_at=5))
    with store.connect(tmp_path / "s.duckdb") as con:
        res = ingest.import_file(con, tmp_path / "f.dat")
        assert res.status == "failed"
        assert "broken record 5" in res.error and str(tmp_path / "f.dat") in res.error
        assert con.execute("SELECT count(*) FROM samples").fetchone()[0] == 0
        assert con.execute("SELECT status FROM imports").fetchall() == [("failed",)]
    assert imp.closed and not _reader_threads()


def test_write_error_stops_the_read_ahead_thread(fake, tmp_path):
    imp = fake(_FakeImporter(1000, bad_table_at=3))
    with store.connect(tmp_path / "s.duckdb") as con:
        res = ingest.import_file(con, tmp_path / "f.dat")
        assert res.status == "failed" and "unknown table nonsense" in res.error
        assert con.execute("SELECT count(*) FROM samples").fetchone()[0] == 0
    assert imp.closed and not _reader_threads()
    assert imp.produced <= 3 + ingest.READ_AHEAD_BATCHES + 1  # stopped, not read to the end


def test_apple_reader_closed_early_stops_its_read_ahead(exports):
    reader = apple_health.read(
        exports["later_zip"],
        ImportContext(participant_id=PID),
        chunk_bytes=64 * 1024,
        batch_rows=1000,
    )
    first = next(reader)
    assert first.frame.height
    assert "apple-health-read-ahead" in [t.name for t in threading.enumerate()]
    reader.close()
    assert not _reader_threads()


@pytest.mark.parametrize("which", ["later_zip", "truncated"])
def test_parallel_record_parsing_gives_the_same_batches(exports, tmp_path, monkeypatch, which):
    """Chunks parsed two at a time are applied in file order: identical batches and summary
    to parsing in the reader's thread, also for a truncated export."""
    path = exports["later_zip"]
    if which == "truncated":
        text = exports["later_xml"].read_bytes()
        path = tmp_path / "cut.xml"
        path.write_bytes(text[: len(text) * 2 // 3])
    got = []
    for threads in (1, 2):
        monkeypatch.setattr(apple_health, "PARSE_THREADS", threads)
        reader = apple_health.read(
            path, ImportContext(participant_id=PID), chunk_bytes=64 * 1024, batch_rows=2000
        )
        got.append(([(b.table, b.frame) for b in reader], reader.summary))
    (serial, s1), (parallel, s2) = got
    assert s1 == s2 and s1.records_seen > 10_000
    assert [t for t, _ in serial] == [t for t, _ in parallel] and len(serial) > 5
    for (_, a), (_, b) in zip(serial, parallel, strict=True):
        assert a.equals(b)
    if which == "truncated":
        assert s1.truncated and s1.records_rejected >= 1


def test_same_result_with_and_without_read_ahead(exports, tmp_path, monkeypatch):
    got = []
    for depth in (0, 1):
        monkeypatch.setattr(ingest, "READ_AHEAD_BATCHES", depth)
        with store.connect(tmp_path / f"s{depth}.duckdb") as con:
            res = ingest.import_file(con, exports["later_xml"], participant_id=PID)
            got.append(
                (
                    res.status,
                    res.rows_accepted,
                    res.rows_duplicate,
                    _counts(con),
                    con.execute(
                        "SELECT list((metric, start_utc, end_utc, source, device, "
                        "value) ORDER BY ALL) FROM samples"
                    ).fetchone(),
                )
            )
    assert got[0] == got[1]


def test_insert_new_key_bounds_never_miss_a_stored_key(tmp_path):
    """The anti-join reads only stored rows within the batch's key bounds; that must give
    exactly the result of an unbounded anti-join, NULL keys and wide batches included."""
    rng = random.Random(7)
    times = [
        datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(600)) for _ in range(60)
    ]
    wide = [f"src{i}" for i in range(40)]  # more values than _MAX_IN_VALUES: not bounded
    schema = {"k1": pl.String, "ts": pl.Datetime("us", "UTC"), "k2": pl.String, "v": pl.Float64}
    key = ("k1", "ts", "k2")
    stored: set = set()
    with store.connect(tmp_path / "s.duckdb") as con:
        con.execute("CREATE TABLE t (k1 VARCHAR, ts TIMESTAMPTZ, k2 VARCHAR, v DOUBLE)")
        for b in range(40):
            k2s = wide if b % 3 == 0 else ["x", "y", None]
            rows = [
                (
                    rng.choice(["a", "b", None]),
                    rng.choice([*times, None]),
                    rng.choice(k2s),
                    float(b),
                )
                for _ in range(rng.randint(1, 60))
            ]
            new = {r[:3] for r in rows} - stored
            got = store.insert_new(con, "t", pl.DataFrame(rows, schema=schema, orient="row"), key)
            assert got == (len(new), len(rows) - len(new)), b
            stored |= new
        assert con.execute("SELECT count(*) FROM t").fetchone()[0] == len(stored)


def test_insert_new_skips_the_anti_join_only_when_no_stored_row_can_match(tmp_path):
    """``_none_stored`` probes each (participant, metric) span of the batch: a batch after
    the stored rows of its metrics (or of another device) is inserted without the anti-join;
    one whose span holds a stored row with the same few-valued keys takes the anti-join."""
    key = NATURAL_KEYS["samples"]

    def batch(metric, day, minutes, device=""):
        t = [datetime(2025, 1, day, tzinfo=UTC) + timedelta(minutes=m) for m in minutes]
        return pl.DataFrame(
            {
                "participant_id": "p",
                "metric": metric,
                "start_utc": t,
                "end_utc": t,
                "utc_offset_s": 0,
                "value": 1.0,
                "unit": "u",
                "source": "w",
                "device": device,
            }
        )

    with store.connect(tmp_path / "s.duckdb") as con:
        con.execute("BEGIN TRANSACTION")  # an import's own rows, not yet committed
        assert store.insert_new(con, "samples", batch("hr", 1, [0, 5, 10]), key) == (3, 0)
        assert store._none_stored(con, "samples", batch("hr", 2, [0]), key)
        assert store._none_stored(con, "samples", batch("steps", 1, [5]), key)
        assert store._none_stored(con, "samples", batch("hr", 1, [7]), key)  # between rows
        assert not store._none_stored(con, "samples", batch("hr", 1, [3, 7]), key)  # 5 stored
        assert store._none_stored(con, "samples", batch("hr", 1, [10], "d"), key)  # other device
        both = pl.concat([batch("steps", 1, [5]), batch("hr", 1, [3, 6])])
        assert not store._none_stored(con, "samples", both, key)
        assert store.insert_new(con, "samples", both, key) == (3, 0)
        assert store.insert_new(con, "samples", batch("hr", 1, [10, 11]), key) == (1, 1)
        con.execute("COMMIT")
        assert not store._none_stored(con, "samples", batch("hr", 1, [11]), key)
        no_time = batch("hr", 1, [11]).with_columns(start_utc=None, end_utc=None)
        assert not store._none_stored(con, "samples", no_time, key)  # cannot tell: anti-join


def test_insert_new_bounds_cover_time_and_few_valued_strings():
    frame = pl.DataFrame(
        {
            "participant_id": ["p", "p"],
            "metric": ["steps", "heart_rate_bpm"],
            "start_utc": [datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC)],
            "end_utc": [datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC)],
            "source": ["w", "w"],
            "device": [None, ""],
        }
    )
    where, params = store._key_bounds(frame, NATURAL_KEYS["samples"])
    assert "start_utc BETWEEN" in where and "end_utc" not in where  # one range is enough
    assert "metric IN" in where and "participant_id IN" in where
    assert "device" not in where  # holds a NULL
    assert sorted(v for k, v in params.items() if k.startswith("v1_")) == [
        "heart_rate_bpm",
        "steps",
    ]


# --------------------------------------------------------------------------- memory bounds


def _memory_limit(con) -> str:
    return con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]


def test_import_runs_under_a_memory_limit_and_restores_the_default(fake, tmp_path):
    imp = fake(_FakeImporter(3))
    seen = []
    with store.connect(tmp_path / "s.duckdb") as con:
        default = _memory_limit(con)
        res = ingest.import_file(
            con, tmp_path / "f.dat", on_rows=lambda n: seen.append(_memory_limit(con))
        )
        assert res.status == "ok" and imp.closed
        ref = duckdb.connect()
        ref.execute(f"SET memory_limit = '{ingest.IMPORT_MEMORY_LIMIT}'")
        assert set(seen) == {_memory_limit(ref)} != {default}  # the import's limit
        assert _memory_limit(con) == default


def test_import_runs_duckdb_on_one_thread_and_restores_the_default(fake, tmp_path):
    fake(_FakeImporter(3))
    seen = []
    threads = "SELECT current_setting('threads')"
    with store.connect(tmp_path / "s.duckdb") as con:
        default = con.execute(threads).fetchone()[0]
        res = ingest.import_file(
            con,
            tmp_path / "f.dat",
            on_rows=lambda n: seen.append(con.execute(threads).fetchone()[0]),
        )
        assert res.status == "ok"
        assert set(seen) == {min(ingest.IMPORT_THREADS, default)}
        assert con.execute(threads).fetchone()[0] == default
        con.execute("SET threads = 3")  # chosen by the caller: left alone
        seen.clear()
        (tmp_path / "g.dat").write_text("y")
        ingest.import_file(
            con,
            tmp_path / "g.dat",
            on_rows=lambda n: seen.append(con.execute(threads).fetchone()[0]),
        )
        assert set(seen) == {3} and con.execute(threads).fetchone()[0] == 3


def test_import_leaves_a_callers_memory_limit_alone(fake, tmp_path):
    fake(_FakeImporter(3))
    seen = []
    with store.connect(tmp_path / "s.duckdb") as con:
        con.execute("SET memory_limit = '2GB'")
        mine = _memory_limit(con)
        ingest.import_file(
            con, tmp_path / "f.dat", on_rows=lambda n: seen.append(_memory_limit(con))
        )
        assert set(seen) == {mine} and _memory_limit(con) == mine


def test_big_import_is_checkpointed_at_once(fake, tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "CHECKPOINT_ROWS", 5)
    fake(_FakeImporter(6))  # 6 rows (+ the participant) >= 5
    db = tmp_path / "s.duckdb"
    with store.connect(db) as con:
        con.execute("CHECKPOINT")
        assert ingest.import_file(con, tmp_path / "f.dat").status == "ok"
        wal = Path(str(db) + ".wal")
        assert not wal.exists() or wal.stat().st_size == 0  # everything is in the file


def test_rejected_rows_are_not_kept_alive_until_commit(monkeypatch, tmp_path):
    refs = []
    to_arrow = pl.DataFrame.to_arrow

    def tracked(self, *a, **kw):
        table = to_arrow(self, *a, **kw)
        if "reason" in self.columns:
            refs.append(weakref.ref(table))
        return table

    class Rejecting:
        FORMAT, __name__ = "fake_rej", "fake_rej"

        @staticmethod
        def read(path, ctx):
            for i in range(3):
                yield Batch(
                    "rejected_rows",
                    pl.DataFrame({"record_no": [i], "reason": ["bad"], "raw": ["<x/>"]}),
                )
                gc.collect()
                assert all(r() is None for r in refs[:-1]), "rejected batch kept alive"

    monkeypatch.setattr(pl.DataFrame, "to_arrow", tracked)
    monkeypatch.setattr(ingest, "detect_format", lambda path: Rejecting)
    monkeypatch.setattr(ingest, "READ_AHEAD_BATCHES", 0)  # the check runs between writes
    (tmp_path / "f.dat").write_text("x")
    with store.connect(tmp_path / "s.duckdb") as con:
        res = ingest.import_file(con, tmp_path / "f.dat")
        assert res.status == "partial" and res.rows_rejected == 3 and len(refs) == 3
