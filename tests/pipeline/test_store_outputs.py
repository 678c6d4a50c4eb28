"""The store layer for outputs: replace a range, run history, names checked before SQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from pipeline import store, store_outputs


def _periods(pid: str, days: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "participant_id": [pid] * len(days),
            "night_of": [date(2025, 7, d) for d in days],
            "start_utc": [datetime(2025, 7, d, 22, tzinfo=UTC) for d in days],
            "end_utc": [datetime(2025, 7, d, 23, tzinfo=UTC) for d in days],
            "utc_offset_s": [0] * len(days),
            "asleep_s": [3600.0] * len(days),
            "awake_s": [0.0] * len(days),
            "method": ["stages"] * len(days),
            "detector_version": ["t"] * len(days),
        }
    )


def test_replace_range_touches_only_that_person_and_range(tmp_path) -> None:
    with store.connect(tmp_path / "s.duckdb") as con:
        with store_outputs.transaction(con):
            store_outputs.replace_range(
                con,
                "sleep_periods",
                "night_of",
                _periods("a", [1, 2, 3]),
                "a",
                date(2025, 7, 1),
                date(2025, 7, 3),
            )
            store_outputs.replace_range(
                con,
                "sleep_periods",
                "night_of",
                _periods("b", [2]),
                "b",
                date(2025, 7, 1),
                date(2025, 7, 3),
            )
        # a's nights 2-3 again, with one night only: night 3 goes, night 1 and b stay
        n = store_outputs.replace_range(
            con,
            "sleep_periods",
            "night_of",
            _periods("a", [2, 9]),
            "a",
            date(2025, 7, 2),
            date(2025, 7, 3),
        )
        assert n == 1  # night 9 lies outside the range
        rows = con.execute(
            "SELECT participant_id, day(night_of) FROM sleep_periods ORDER BY 1, 2"
        ).fetchall()
        assert rows == [("a", 1), ("a", 2), ("b", 2)]


def test_a_failed_transaction_leaves_nothing(tmp_path) -> None:
    with store.connect(tmp_path / "s.duckdb") as con:
        with pytest.raises(RuntimeError), store_outputs.transaction(con):
            store_outputs.replace_range(
                con,
                "sleep_periods",
                "night_of",
                _periods("a", [1]),
                "a",
                date(2025, 7, 1),
                date(2025, 7, 1),
            )
            raise RuntimeError("detector failed")
        assert con.execute("SELECT count(*) FROM sleep_periods").fetchall() == [(0,)]


def test_run_history(tmp_path) -> None:
    with store.connect(tmp_path / "s.duckdb") as con:
        assert store_outputs.last_run(con, "exposure_runs") == (0, 1)
        store_outputs.record_run(con, "exposure_runs", 1, 0.5, 7, 2, 30)
        assert store_outputs.last_run(con, "exposure_runs") == (7, 2)
        assert con.execute(
            "SELECT participants, days_written, finished_utc >= started_utc FROM exposure_runs"
        ).fetchall() == [(2, 30, True)]
        with pytest.raises(ValueError, match="records"):
            store_outputs.record_run(con, "exposure_runs", 2, 0.1, 7, 1)


def test_names_are_checked_before_they_reach_sql(tmp_path) -> None:
    with store.connect(tmp_path / "s.duckdb") as con:
        with pytest.raises(ValueError, match="not a store table"):
            store_outputs.replace_range(
                con,
                "samples; DROP TABLE imports",
                "night_of",
                _periods("a", [1]),
                "a",
                date(2025, 7, 1),
                date(2025, 7, 1),
            )
        with pytest.raises(ValueError, match="no column"):
            store_outputs.replace_range(
                con,
                "sleep_periods",
                "local_date",
                _periods("a", [1]),
                "a",
                date(2025, 7, 1),
                date(2025, 7, 1),
            )
        with pytest.raises(ValueError, match="run-history"):
            store_outputs.last_run(con, "imports")
