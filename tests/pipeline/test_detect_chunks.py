"""Detection in chunks of nights gives exactly the outputs of one pass over the whole range.

Two participants over ~2.5 months: an Apple export from the benchmark's generator (device
stages, HR every few minutes, body mass, water, resting HR, HRV, workouts) and Fitbit-like
minute data (no stages: the actigraphy fallback). Chunks of 10 nights against one chunk.
The minute participant also has what only whole-range decisions get right:

* a coarse hourly copy of its steps (dropped everywhere), and a "phone" steps source that is
  fine (1-min records) in its first 12 days and coarse (30-min records, night included)
  after: dropped over the whole range, but kept by a decision on the first chunk alone;
* a 7-day hole in its samples that starts inside the last night of a chunk, preceded by
  40 min without HR: over the whole range those minutes are non-wear (the quiet run goes on
  into the hole), so the chunk must be widened past the hole to see it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline import detect, exposures, ingest, store
from simulators import apple_export as gen
from simulators.minute_year import participant_year

START = date(2025, 1, 6)
DAYS = 75
#: the hole: from 01:00 local in the night of 3 February (chunks of 10 from 5 January:
#: that night is the last of a chunk) for 7 days; no HR in the 40 min before it
GAP = (datetime(2025, 2, 4, 6, tzinfo=UTC), datetime(2025, 2, 11, tzinfo=UTC))
NO_HR = (datetime(2025, 2, 4, 5, 20, tzinfo=UTC), GAP[0])


def _minute_participant() -> pl.DataFrame:
    year = participant_year(0, seed=7)
    t0 = year["start_utc"].min()
    smp = year.filter(pl.col("start_utc") < t0 + timedelta(days=DAYS)).with_columns(
        participant_id=pl.lit("m1"),
        # the simulator's year starts 2024-01-01: move it under the Apple participant's dates
        start_utc=pl.col("start_utc") + timedelta(days=371),
        end_utc=pl.col("end_utc") + timedelta(days=371),
    )
    hourly = (
        smp.filter(pl.col("metric") == "steps")
        .group_by(pl.col("start_utc").dt.truncate("1h"))
        .agg(pl.col("value").sum(), pl.col("utc_offset_s").first())
        .with_columns(
            participant_id=pl.lit("m1"),
            metric=pl.lit("steps"),
            end_utc=pl.col("start_utc") + timedelta(hours=1),
            source=pl.lit("bench:hourly"),
        )
    )
    steps = smp.filter(pl.col("metric") == "steps")
    t_fine = steps["start_utc"].min() + timedelta(days=12)
    fine = steps.filter(pl.col("start_utc") < t_fine)
    t0 = smp["start_utc"].min()
    # 30-min records: at 03:00 local each of the first 12 nights, every half hour after
    starts = [t0 + timedelta(days=d, hours=8) for d in range(12)] + [
        t_fine + timedelta(minutes=30 * k) for k in range((DAYS - 12) * 48)
    ]
    coarse = pl.DataFrame(
        {"start_utc": pl.Series(starts, dtype=pl.Datetime("us", "UTC"))}
    ).with_columns(
        participant_id=pl.lit("m1"),
        metric=pl.lit("steps"),
        end_utc=pl.col("start_utc") + timedelta(minutes=30),
        utc_offset_s=pl.lit(-18000, pl.Int32),
        value=pl.lit(5.0),
    )
    phone = pl.concat([fine.drop("source"), coarse.select(fine.drop("source").columns)])
    phone = phone.with_columns(source=pl.lit("bench:phone"))
    return pl.concat([smp, hourly.select(smp.columns), phone.select(smp.columns)])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("chunks")
    spec = gen.ExportSpec(start=START, days=DAYS, seed=5, modern_from=START + timedelta(days=30))
    export = gen.write_export(root / "export", spec, make_zip=False)
    db = root / "base.duckdb"
    with store.connect(db) as con:
        res = ingest.import_file(con, export.xml_path, participant_id="a1")
        assert res.status == "ok", res
        minute = _minute_participant()  # noqa: F841 (read by the SQL below)
        con.execute(
            "INSERT INTO samples (participant_id, metric, start_utc, end_utc, utc_offset_s, "
            "value, unit, source, import_id) SELECT participant_id, metric, start_utc, end_utc, "
            "utc_offset_s, value, '', source, 1 FROM minute"
        )
        con.execute("INSERT INTO participants (participant_id) VALUES ('m1')")
        con.execute(
            "DELETE FROM samples WHERE participant_id = 'm1' AND start_utc >= ? AND start_utc < ?",
            list(GAP),
        )
        con.execute(
            "DELETE FROM samples WHERE participant_id = 'm1' AND metric = 'heart_rate_bpm' "
            "AND start_utc >= ? AND start_utc < ?",
            list(NO_HR),
        )
    return db


def _outputs(db, chunk_days: int, monkeypatch, tmp_path) -> tuple[pl.DataFrame, ...]:
    copy = tmp_path / f"chunks{chunk_days}.duckdb"
    copy.write_bytes(db.read_bytes())
    monkeypatch.setattr(detect, "CHUNK_DAYS", chunk_days)
    with store.connect(copy) as con:
        summary = detect.detect_changed(con, full=True)
        periods = con.sql("SELECT * FROM sleep_periods ORDER BY participant_id, night_of").pl()
        episodes = con.sql("SELECT * EXCLUDE (created_utc) FROM episodes ORDER BY episode_id").pl()
        assert exposures.update_exposures(con, full=True).days_written > DAYS
        days = con.sql(
            "SELECT * EXCLUDE (computed_utc) FROM daily_exposures ORDER BY participant_id, "
            "local_date"
        ).pl()
    assert summary.participants == 2
    return periods, episodes, days


def test_chunked_detection_and_exposures_equal_one_pass(built, monkeypatch, tmp_path):
    one_p, one_e, one_d = _outputs(built, 10_000, monkeypatch, tmp_path)
    calls = []
    real = detect._load_chunk
    monkeypatch.setattr(
        detect, "_load_chunk", lambda *a, **k: calls.append(a[2:4]) or real(*a, **k)
    )
    ch_p, ch_e, ch_d = _outputs(built, 10, monkeypatch, tmp_path)
    assert len(calls) >= 2 * 8  # many chunks per participant
    # both participants have periods from both sleep paths, cramps and dehydration days
    assert set(one_p["participant_id"]) == {"a1", "m1"}
    assert one_p["method"].str.starts_with("cole1992").any()
    assert (one_p["method"] == "device_stages").any()
    assert one_e.height > 0 and {"nocturnal_cramp"} <= set(one_e["kind"])
    assert ch_p.equals(one_p)
    assert ch_e.equals(one_e)
    # daily_exposures keeps unrounded sums whose last bits vary between two one-pass runs
    # already (polars sums a day's hours in no fixed order): equal to 1e-9
    assert_frame_equal(ch_d, one_d, check_exact=False, rel_tol=1e-9, abs_tol=1e-12)


def test_chunks_tile_the_range():
    chunks = detect._chunks(date(2025, 1, 1), date(2025, 1, 25), 10)
    assert chunks == [
        (date(2025, 1, 1), date(2025, 1, 10)),
        (date(2025, 1, 11), date(2025, 1, 20)),
        (date(2025, 1, 21), date(2025, 1, 25)),
    ]
    assert detect._chunks(date(2025, 1, 1), date(2025, 1, 1), 10) == [
        (date(2025, 1, 1), date(2025, 1, 1))
    ]
