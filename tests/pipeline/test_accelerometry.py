"""Raw accelerometry importer (``pipeline.importers.accelerometry``).

No real raw accelerometry exists in the shared data (the Walch et al. 2019 PhysioNet files
were not found; the RestEaze ankle night is per-minute algorithm output, not samples), so the
fixtures in ``tests/fixtures/accelerometry/`` are BUILT (``make_accelerometry_fixtures.py``):
a 20 s, 50 Hz research-device CSV with heart rate, and the Walch Apple Watch layout with its
start-instant file. Expected values are read here from the text with :mod:`csv` and
:mod:`decimal`, independently of the importer; the Parquet files are read back with
:mod:`pyarrow` and through DuckDB's ``accelerometry`` view.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
import statistics
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline import ingest, store
from pipeline.importers import (
    ImportContext,
    ImportFormatError,
    accelerometry,
    read_head,
)
from tests.helpers import sniffing_formats

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "accelerometry"
RESEARCH = FIX / "research_p01.csv"
WALCH_ACC = FIX / "9000001_acceleration.txt"
WALCH_HR = FIX / "9000001_heartrate.txt"
WALCH_START = datetime(2017, 6, 13, 2, 41, tzinfo=UTC)  # 2017-06-12T22:41:00-04:00


@pytest.fixture
def db(tmp_path):
    """A store in tmp_path with its data folder; yields (connection, data_dir, db_path)."""
    path = tmp_path / "crampwatch.duckdb"
    con = store.connect(path)
    yield con, tmp_path / "crampwatch.data", path
    con.close()


def research_rows(path: Path = RESEARCH) -> list[dict]:
    """The CSV's samples: UTC µs (exact, from the ISO text), axes, heart rate or None."""
    with path.open(encoding="utf-8") as fh:
        lines = [ln for ln in fh if not ln.startswith("#")]
    out = []
    for row in csv.DictReader(lines):
        t = datetime.fromisoformat(row["timestamp"])
        out.append(
            {
                "time_utc": t.astimezone(UTC),
                "offset_s": int(t.utcoffset().total_seconds()),
                "x": float(row["x"]),
                "y": float(row["y"]),
                "z": float(row["z"]),
                "hr": float(row["heart_rate_bpm"]) if row["heart_rate_bpm"] else None,
            }
        )
    return out


def read(path: Path, ctx: ImportContext, reader=accelerometry.read) -> dict:
    out: dict[str, list[pl.DataFrame]] = {}
    for batch in reader(path, ctx):
        out.setdefault(batch.table, []).append(batch.frame)
    return {table: pl.concat(frames) for table, frames in out.items()}


# ------------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        (RESEARCH, "accelerometry_csv"),
        (WALCH_ACC, "walch_acceleration"),
        (WALCH_HR, "walch_heartrate"),
    ],
    ids=lambda v: v.name if isinstance(v, Path) else v,
)
def test_each_sniff_recognises_only_its_own_fixture(path, fmt):
    head, name = read_head(path)
    assert sniffing_formats(head, name) == {fmt}


def test_walch_needs_its_file_names_and_start_file_is_not_a_format():
    head = WALCH_ACC.read_bytes()[:65536]
    assert not accelerometry.sniff_walch(head, "motion.txt")
    start, name = read_head(FIX / "9000001_start.txt")
    assert sniffing_formats(start, name) == set()


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        ("timestamp,x,y,z", True),
        ("timestamp,x_g,y_g,z_g,heart_rate_bpm", True),
        ("# device: GENEActiv\ntimestamp,x,y,z", True),
        ("timestamp,x,y", False),
        ("timestamp,x,y,z,hr", False),
        ("time,x,y,z", False),
    ],
)
def test_csv_headers(header, ok):
    assert accelerometry.sniff(f"{header}\n".encode(), "a.csv") is ok


# ----------------------------------------------------------------------- research CSV, store


def test_research_csv_to_parquet_files_row_view_and_heart_rate(db):
    con, data_dir, _ = db
    res = ingest.import_file(con, RESEARCH, participant_id="p 01/x", data_dir=data_dir)
    rows = research_rows()
    assert (res.format, res.status, res.rows_rejected) == ("accelerometry_csv", "ok", 0)

    # the Parquet file: where, what schema, what compression, what values
    sha = hashlib.sha256(RESEARCH.read_bytes()).hexdigest()
    rel = f"accelerometry/participant_id=p%2001%2Fx/{sha}.parquet"
    meta = pq.ParquetFile(data_dir / rel)
    assert meta.schema_arrow == pa.schema(
        [
            ("time_utc", pa.timestamp("us", tz="UTC")),
            ("x_g", pa.float32()),
            ("y_g", pa.float32()),
            ("z_g", pa.float32()),
        ]
    )
    assert meta.metadata.row_group(0).column(0).compression == "ZSTD"
    table = meta.read()
    assert table.num_rows == len(rows) == 1000
    assert table.column("time_utc").to_pylist() == [r["time_utc"] for r in rows]
    for axis in "xyz":
        assert np.array_equal(
            table.column(f"{axis}_g").to_numpy(),
            np.array([r[axis] for r in rows], dtype=np.float32),
        )

    # the index row
    files = con.execute(
        "SELECT participant_id, path, start_utc, end_utc, utc_offset_s, "
        "n_samples, fs_hz, source, import_id FROM accelerometry_files"
    ).fetchall()
    assert files == [
        (
            "p 01/x",
            rel,
            rows[0]["time_utc"],
            rows[-1]["time_utc"],
            7200,
            1000,
            50.0,
            "accelerometry:axivity_ax3",
            res.import_id,
        )
    ]

    # the view, after the driver's call
    status = accelerometry.ensure_accelerometry_view(con, data_dir)
    assert (status.files, status.orphans_removed, status.missing) == (1, [], [])
    view = con.execute(
        "SELECT participant_id, time_utc, x_g, y_g, z_g FROM accelerometry ORDER BY time_utc"
    ).fetchall()
    assert len(view) == 1000 and {v[0] for v in view} == {"p 01/x"}
    assert [v[1] for v in view] == [r["time_utc"] for r in rows]
    assert [v[2] for v in view] == [float(np.float32(r["x"])) for r in rows]

    # heart rate: one sample per second with a reading
    hr = con.execute(
        "SELECT start_utc, end_utc, value, unit, source, device, utc_offset_s "
        "FROM samples WHERE metric = 'heart_rate_bpm' ORDER BY start_utc"
    ).fetchall()
    want = [
        (
            r["time_utc"],
            r["time_utc"],
            r["hr"],
            "count/min",
            "accelerometry:axivity_ax3",
            "axivity_ax3",
            7200,
        )
        for r in rows
        if r["hr"] is not None
    ]
    assert hr == want and len(hr) == 20
    assert res.rows_accepted == 1 + 20  # the file row and the heart-rate samples


def test_reimport_adds_nothing_and_duplicate_recording_leaves_no_orphan(db, tmp_path):
    con, data_dir, _ = db
    ingest.import_file(con, RESEARCH, participant_id="p01", data_dir=data_dir)
    accelerometry.ensure_accelerometry_view(con, data_dir)
    counts = store.table_counts(con)
    again = ingest.import_file(con, RESEARCH, participant_id="p01", data_dir=data_dir)
    assert again.status == "already_imported"
    # the same recording, other bytes (CRLF): a new hash, the same start and source
    crlf = tmp_path / "copy.csv"
    crlf.write_bytes(RESEARCH.read_bytes().replace(b"\n", b"\r\n"))
    dup = ingest.import_file(con, crlf, participant_id="p01", data_dir=data_dir)
    assert (dup.status, dup.rows_accepted, dup.rows_duplicate) == ("ok", 0, 21)
    status = accelerometry.ensure_accelerometry_view(con, data_dir)
    sha = hashlib.sha256(crlf.read_bytes()).hexdigest()
    assert status.orphans_removed == [f"accelerometry/participant_id=p01/{sha}.parquet"]
    assert status.files == 1
    after = store.table_counts(con)
    assert {t: after[t] for t in after if t != "imports"} == {
        t: counts[t] for t in counts if t != "imports"
    }
    assert con.execute("SELECT count(*) FROM accelerometry").fetchone() == (1000,)


def test_view_unchanged_is_not_rewritten(db):
    """An unchanged view is not replaced: the write-ahead log stays empty, so the checkpoint
    before publishing has nothing to do; a new file (a new definition) replaces it."""
    con, data_dir, path = db
    wal = Path(str(path) + ".wal")
    accelerometry.ensure_accelerometry_view(con, data_dir)
    store.checkpoint(con)
    assert not wal.exists() or wal.stat().st_size == 0
    accelerometry.ensure_accelerometry_view(con, data_dir)
    assert not wal.exists() or wal.stat().st_size == 0
    ingest.import_file(con, RESEARCH, participant_id="p01", data_dir=data_dir)
    store.checkpoint(con)
    status = accelerometry.ensure_accelerometry_view(con, data_dir)
    assert status.files == 1 and wal.stat().st_size > 0
    assert con.execute("SELECT count(*) FROM accelerometry").fetchone() == (1000,)
    store.checkpoint(con)
    accelerometry.ensure_accelerometry_view(con, data_dir)
    assert not wal.exists() or wal.stat().st_size == 0
    views = con.execute("SELECT count(*) FROM duckdb_views() WHERE NOT internal").fetchone()
    assert views == (1,)  # the probe is gone


def test_failed_import_leaves_nothing_visible(db, monkeypatch):
    con, data_dir, _ = db
    real = store.insert_new

    def failing(con_, table, frame, key):
        if table == "accelerometry_files":
            raise OSError("disk full")
        return real(con_, table, frame, key)

    monkeypatch.setattr(store, "insert_new", failing)
    res = ingest.import_file(con, RESEARCH, participant_id="p01", data_dir=data_dir)
    assert res.status == "failed" and "disk full" in res.error
    assert len(list(data_dir.rglob("*.parquet"))) == 1  # written, but rolled back in the store
    status = accelerometry.ensure_accelerometry_view(con, data_dir)
    assert len(status.orphans_removed) == 1 and status.files == 0
    assert list(data_dir.rglob("*.parquet")) == []
    assert con.execute("SELECT count(*) FROM accelerometry").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM samples").fetchone() == (0,)


def test_snapshot_copy_reads_the_samples(db):
    con, data_dir, path = db
    ingest.import_file(con, RESEARCH, participant_id="p01", data_dir=data_dir)
    accelerometry.ensure_accelerometry_view(con, data_dir)
    snap = store.publish_snapshot(con, path)
    reader = duckdb.connect(str(snap), read_only=True)
    try:
        assert reader.execute(
            "SELECT count(*), min(time_utc), max(z_g) FROM accelerometry "
            "WHERE participant_id = 'p01'"
        ).fetchone() == (
            1000,
            research_rows()[0]["time_utc"],
            max(np.float32(r["z"]) for r in research_rows()),
        )
    finally:
        reader.close()


def test_fresh_store_has_the_empty_view(db):
    con, data_dir, _ = db
    assert con.execute("SELECT count(*) FROM accelerometry").fetchone() == (0,)
    cols = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE "
        "table_name = 'accelerometry' ORDER BY ordinal_position"
    ).fetchall()
    assert cols == [
        ("participant_id", "VARCHAR"),
        ("time_utc", "TIMESTAMP WITH TIME ZONE"),
        ("x_g", "FLOAT"),
        ("y_g", "FLOAT"),
        ("z_g", "FLOAT"),
    ]
    assert accelerometry.ensure_accelerometry_view(con, data_dir).files == 0


# ------------------------------------------------------------------------------ rejections


def _edit(tmp_path: Path, edits: dict[int, str], extra: list[str] = ()) -> Path:
    """The fixture with lines replaced (1-based line numbers) and lines appended."""
    lines = RESEARCH.read_text(encoding="utf-8").splitlines()
    for no, text in edits.items():
        lines[no - 1] = text
    path = tmp_path / "edited.csv"
    path.write_text("\n".join([*lines, *extra]) + "\n", encoding="utf-8")
    return path


def test_rejected_lines_with_reasons(tmp_path):
    lines = RESEARCH.read_text(encoding="utf-8").splitlines()
    t = lines[9].split(",")[0]  # line 10's timestamp
    path = _edit(
        tmp_path,
        {
            5: lines[4].replace(",0.015625,", ",40,"),  # 40 g
            6: lines[5].rsplit(",", 1)[0] + ",300",  # heart rate 300: acceleration kept
            7: "2025-07-01T23:00:00.060+02:00,0.1,0.2",  # 3 fields
            8: "not a time,0,0,1,",
            11: f"{t},0,0,1,",  # line 10's instant again
            12: lines[3].removesuffix(",58") + ",",  # back in time (the first sample's instant)
            13: "2025-07-01T23:00:00.200+02:00,x,0,1,",
        },
    )
    out = read(
        path,
        ImportContext(participant_id="p01", display_path=str(path), data_dir=tmp_path / "data"),
    )
    reasons = dict(
        zip(out["rejected_rows"]["record_no"], out["rejected_rows"]["reason"], strict=True)
    )
    order = (
        "timestamp: not after the previous sample (samples must be in time order, each "
        "timestamp once)"
    )
    assert reasons == {
        5: "x: value 40 g outside plausible range [-20, 20] g",
        6: "heart_rate_bpm: value 300 outside plausible range [25, 240]; the line's "
        "acceleration was kept",
        7: "expected 5 fields (timestamp,x,y,z,heart_rate_bpm), found 3",
        8: "timestamp: not a time is not an ISO 8601 time (2025-07-01T22:00:00+02:00) or Unix "
        "epoch seconds",
        11: order,
        12: order,
        13: "x: x is not a number",
    }
    files = out["accelerometry_files"]
    assert files["n_samples"].to_list() == [1000 - 6]


def test_epoch_and_local_timestamps_and_the_repeated_autumn_hour(tmp_path):
    """10 Hz across Berlin's 2025-10-26 change: 02:59:58-02:59:59.9 CEST, then 02:00 CET."""
    local = [datetime(2025, 10, 26, 2, 59, 58) + timedelta(milliseconds=100 * i) for i in range(20)]
    local += [datetime(2025, 10, 26, 2, 0, 0) + timedelta(milliseconds=100 * i) for i in range(20)]
    path = tmp_path / "dst.csv"
    path.write_text(
        "timestamp,x,y,z\n"
        + "".join(f"{t.isoformat(sep=' ', timespec='milliseconds')},0,0,1\n" for t in local),
        encoding="utf-8",
    )
    ctx = ImportContext(participant_id="p01", tz="Europe/Berlin", data_dir=tmp_path / "d")
    out = read(path, ctx)
    assert "rejected_rows" not in out
    f = out["accelerometry_files"].row(0, named=True)
    assert f["start_utc"] == datetime(2025, 10, 26, 0, 59, 58, tzinfo=UTC)
    assert f["end_utc"] == datetime(2025, 10, 26, 1, 0, 1, 900000, tzinfo=UTC)
    assert (f["n_samples"], f["fs_hz"], f["utc_offset_s"]) == (40, 10.0, 7200)
    # the same instants as epoch seconds, no zone needed: the same Parquet content
    epoch = tmp_path / "epoch.csv"
    start = Decimal(int(datetime(2025, 10, 26, 0, 59, 58, tzinfo=UTC).timestamp()))
    epoch.write_text(
        "timestamp,x,y,z\n" + "".join(f"{start + Decimal(i) / 10},0,0,1\n" for i in range(40)),
        encoding="utf-8",
    )
    out2 = read(epoch, ImportContext(participant_id="p01", data_dir=tmp_path / "d"))
    assert (
        out2["accelerometry_files"]
        .drop("path", "utc_offset_s")
        .equals(out["accelerometry_files"].drop("path", "utc_offset_s"))
    )
    assert out2["accelerometry_files"]["utc_offset_s"].to_list() == [0]
    a = pq.read_table(tmp_path / "d" / f["path"])
    b = pq.read_table(tmp_path / "d" / out2["accelerometry_files"]["path"][0])
    assert a.equals(b)


def test_chunk_boundaries_do_not_change_the_result(tmp_path, monkeypatch):
    ctx = ImportContext(participant_id="p01", data_dir=tmp_path / "big")
    whole = read(RESEARCH, ctx)
    monkeypatch.setattr(accelerometry, "CHUNK_BYTES", 997)  # ~16 lines a chunk
    ctx_small = ImportContext(participant_id="p01", data_dir=tmp_path / "small")
    small = read(RESEARCH, ctx_small)
    assert small["samples"].equals(whole["samples"])
    assert small["accelerometry_files"].equals(whole["accelerometry_files"])
    path = whole["accelerometry_files"]["path"][0]
    assert pq.read_table(tmp_path / "small" / path).equals(pq.read_table(tmp_path / "big" / path))
    assert pq.ParquetFile(tmp_path / "small" / path).metadata.num_row_groups > 10


def test_heart_rate_is_one_median_per_second(tmp_path):
    lines = ["timestamp,x,y,z,heart_rate_bpm"]
    for i in range(100):  # 2 s at 50 Hz, heart rate repeated on every line, changing at i=30
        lines.append(f"{1751403600 + i / 50:.2f},0,0,1,{60 if i < 30 else 64}")
    path = tmp_path / "hr.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = read(path, ImportContext(participant_id="p01", data_dir=tmp_path / "d"))
    hr = out["samples"]
    assert hr["value"].to_list() == [statistics.median([60] * 30 + [64] * 20), 64.0]
    assert hr["start_utc"].to_list() == [datetime(2025, 7, 1, 21, 0, s, tzinfo=UTC) for s in (0, 1)]


def test_refusals_name_the_file(tmp_path):
    with pytest.raises(ImportFormatError, match="carry no participant id"):
        read(RESEARCH, ImportContext(data_dir=tmp_path))
    with pytest.raises(ImportFormatError, match="data folder"):
        read(RESEARCH, ImportContext(participant_id="p01"))
    slow = tmp_path / "minute.csv"  # one sample a minute: epoch summaries, not raw
    slow.write_text(
        "timestamp,x,y,z\n" + "".join(f"{1751403600 + 60 * i},0,0,1\n" for i in range(5)),
        encoding="utf-8",
    )
    with pytest.raises(ImportFormatError, match=r"minute\.csv: .*not raw accelerometry"):
        read(
            slow,
            ImportContext(participant_id="p01", display_path=str(slow), data_dir=tmp_path / "d"),
        )
    assert list((tmp_path / "d").rglob("*.parquet*")) == []  # no half-written file left


# ------------------------------------------------------------------------------------ Walch


def walch_rows() -> list[tuple[datetime, float, float, float]]:
    out = []
    for line in WALCH_ACC.read_text(encoding="utf-8").splitlines():
        t, x, y, z = line.split()
        us = int(Decimal(t) * 1_000_000)
        out.append((WALCH_START + timedelta(microseconds=us), float(x), float(y), float(z)))
    return out


def test_walch_pair_through_the_driver(db, tmp_path):
    con, data_dir, _ = db
    folder = tmp_path / "sleep-accel"
    (folder / "motion").mkdir(parents=True)
    (folder / "heart_rate").mkdir()
    shutil.copy(WALCH_ACC, folder / "motion")
    shutil.copy(WALCH_HR, folder / "heart_rate")
    shutil.copy(FIX / "9000001_start.txt", folder)  # one folder up from both files
    acc = ingest.import_file(
        con, folder / "motion" / WALCH_ACC.name, participant_id="w1", data_dir=data_dir
    )
    hr = ingest.import_file(
        con, folder / "heart_rate" / WALCH_HR.name, participant_id="w1", data_dir=data_dir
    )
    assert (acc.format, acc.status, hr.format, hr.status, hr.rows_accepted) == (
        "walch_acceleration",
        "ok",
        "walch_heartrate",
        "ok",
        5,
    )
    accelerometry.ensure_accelerometry_view(con, data_dir)
    rows = walch_rows()
    got = con.execute(
        "SELECT time_utc, x_g, y_g, z_g FROM accelerometry ORDER BY time_utc"
    ).fetchall()
    assert [g[0] for g in got] == [r[0] for r in rows] and len(got) == 1000
    assert [g[1] for g in got] == [float(np.float32(r[1])) for r in rows]
    f = con.execute(
        "SELECT start_utc, n_samples, fs_hz, utc_offset_s, source FROM accelerometry_files"
    ).fetchone()
    steps = [
        (b[0] - a[0]) // timedelta(microseconds=1) for a, b in zip(rows, rows[1:], strict=False)
    ]
    fs_hz = round(1e6 / statistics.median_low(steps), 3)  # jittered watch clock: not 50.0
    assert f == (rows[0][0], 1000, fs_hz, -14400, "accelerometry:apple_watch")
    assert 49.9 < fs_hz < 50.1
    beats = con.execute(
        "SELECT start_utc, value, utc_offset_s FROM samples ORDER BY start_utc"
    ).fetchall()
    # heart rate at whole seconds: -9.63934 s from 22:41 is 22:40:50.36 -> 22:40:50
    assert beats[0] == (datetime(2017, 6, 13, 2, 40, 50, tzinfo=UTC), 60.0, -14400)
    assert [b[1] for b in beats] == [60.0, 61.0, 62.0, 63.0, 64.0]


def test_walch_without_start_file_fails_naming_it(db, tmp_path):
    con, data_dir, _ = db
    lone = tmp_path / WALCH_ACC.name
    shutil.copy(WALCH_ACC, lone)
    res = ingest.import_file(con, lone, participant_id="w1", data_dir=data_dir)
    assert res.status == "failed"
    assert "9000001_start.txt" in res.error and str(lone) in res.error


# --------------------------------------------------------------------------- storage size


@pytest.mark.slow
def test_parquet_stays_small_for_an_hour_of_50_hz(tmp_path):
    """Change-aversion guard on the Parquet settings: 1 h of 50 Hz, 1/256 g quantised axes,
    still with noise plus movement, must stay under 4 bytes per sample (measured 2.5)."""
    rng = np.random.default_rng(3)
    n = 3600 * 50
    still = np.repeat(rng.random(n // 3000 + 1) < 0.7, 3000)[:n]
    a = (
        np.round(
            (
                np.array([0.1, -0.2, 0.97])
                + rng.normal(size=(n, 3)) * np.where(still, 0.01, 0.25)[:, None]
            )
            * 256
        )
        / 256
    )
    t_us = 1751403600 * 1_000_000 + np.arange(n, dtype=np.int64) * 20_000
    frame = pl.DataFrame(
        {
            "timestamp": (pl.Series(t_us) // 1_000_000).cast(pl.String)
            + "."
            + ((pl.Series(t_us) % 1_000_000) // 10_000).cast(pl.String).str.pad_start(2, "0"),
            "x": a[:, 0],
            "y": a[:, 1],
            "z": a[:, 2],
        }
    )
    path = tmp_path / "hour.csv"
    frame.write_csv(path)
    out = read(path, ImportContext(participant_id="p01", data_dir=tmp_path / "d"))
    size = (tmp_path / "d" / out["accelerometry_files"]["path"][0]).stat().st_size
    assert out["accelerometry_files"]["n_samples"][0] == n
    assert size / n < 4.0
