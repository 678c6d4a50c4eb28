"""Main sleep period selection, night assignment and stage accounting."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from detectors.nights import local_date, local_midnight_utc, night_of, night_of_scalar
from detectors.schema import SLEEP_PERIOD_SCHEMA
from detectors.sleep import detect_sleep_periods
from tests.detectors.builders import NIGHT, local, old_style_night, segments, staged_night


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


# --- night_of / local_date -------------------------------------------------------------


@pytest.mark.parametrize(
    ("local_hhmm", "expected"),
    [("23:30", NIGHT), ("04:00", NIGHT), ("11:59", NIGHT), ("12:00", NIGHT), ("13:00", NIGHT)],
)
def test_night_of_is_noon_to_noon(local_hhmm: str, expected: date) -> None:
    # builders.local() maps hours < 12 to the next calendar day, >= 12 to NIGHT itself
    ts = local(local_hhmm)
    df = pl.DataFrame(
        {"t": [ts], "o": [7200]}, schema={"t": pl.Datetime("us", "UTC"), "o": pl.Int32}
    )
    assert df.select(night_of("t", "o")).item() == expected
    assert night_of_scalar(ts, 7200) == expected


def test_local_date_and_midnight_use_the_row_offset() -> None:
    ts = utc(2024, 6, 10, 22, 30)  # 00:30 on 11 June in UTC+2, still 10 June in UTC-5
    df = pl.DataFrame(
        {"t": [ts, ts], "o": [7200, -18000]}, schema={"t": pl.Datetime("us", "UTC"), "o": pl.Int32}
    )
    assert df.select(local_date("t", "o"))["t"].to_list() == [date(2024, 6, 11), date(2024, 6, 10)]
    mid = pl.DataFrame(
        {"d": [date(2024, 6, 11)], "o": [7200]}, schema={"d": pl.Date, "o": pl.Int32}
    )
    assert mid.select(local_midnight_utc("d", "o")).item() == utc(2024, 6, 10, 22, 0)


# --- main period --------------------------------------------------------------------------


def test_main_block_chosen_over_nap_same_night() -> None:
    night = staged_night()  # 23:00-07:00 local
    nap = segments([(local("14:00"), local("15:30"), "asleep")])  # afternoon nap, same night_of
    out = detect_sleep_periods(pl.concat([night, nap]))
    assert out.height == 1
    row = out.row(0, named=True)
    assert row["night_of"] == NIGHT
    assert row["start_utc"] == local("23:00") and row["end_utc"] == local("07:00")
    assert row["asleep_s"] == 8 * 3600


def test_in_bed_overlap_not_double_counted() -> None:
    # in_bed 22:45-07:10 overlaps every stage; a second source repeats 01:00-02:00 as asleep
    night = staged_night(awake=[("02:00", "02:20")])
    dup = segments([(local("01:00"), local("02:00"), "asleep")])
    out = detect_sleep_periods(pl.concat([night, dup])).row(0, named=True)
    assert out["asleep_s"] == 8 * 3600 - 20 * 60
    assert out["awake_s"] == 20 * 60
    # in-bed time before onset / after final wake is not part of the sleep period
    assert out["start_utc"] == local("23:00") and out["end_utc"] == local("07:00")


def test_old_style_awakenings_are_gaps_between_asleep_segments() -> None:
    out = detect_sleep_periods(old_style_night(gaps=[("03:00", "03:40")])).row(0, named=True)
    assert out["asleep_s"] == 8 * 3600 - 40 * 60
    assert out["awake_s"] == 40 * 60


def test_watch_off_gap_is_neither_sleep_nor_awake_in_staged_night() -> None:
    out = detect_sleep_periods(staged_night(gaps=[("02:00", "03:30")])).row(0, named=True)
    assert out["asleep_s"] == 8 * 3600 - 90 * 60  # no sleep invented for the gap
    assert out["awake_s"] == 0.0


def test_gap_longer_than_merge_gap_splits_blocks_and_longest_wins() -> None:
    # asleep 23:00-01:00 and 02:30-07:00 separated by 90 min with no record at all
    seg = segments(
        [
            (local("23:00"), local("01:00"), "light"),
            (local("02:30"), local("07:00"), "deep"),
        ]
    )
    out = detect_sleep_periods(seg).row(0, named=True)
    assert out["start_utc"] == local("02:30")
    assert out["asleep_s"] == 4.5 * 3600


def test_night_across_dst_change_stays_one_night() -> None:
    # Europe/Berlin, 30->31 March 2024: 02:00 CET jumps to 03:00 CEST. Bed 23:00 CET (22:00 UTC),
    # wake 07:00 CEST (05:00 UTC); the watch writes the new offset after the change.
    seg = segments(
        [
            (utc(2024, 3, 30, 22, 0), utc(2024, 3, 31, 1, 0), "light", 3600),
            (utc(2024, 3, 31, 1, 0), utc(2024, 3, 31, 1, 10), "awake", 7200),
            (utc(2024, 3, 31, 1, 10), utc(2024, 3, 31, 5, 0), "deep", 7200),
        ]
    )
    out = detect_sleep_periods(seg)
    assert out.height == 1
    row = out.row(0, named=True)
    assert row["night_of"] == date(2024, 3, 30)
    assert row["utc_offset_s"] == 3600
    assert row["asleep_s"] == 7 * 3600 - 600  # 7 h of real time, not 8 h of wall clock
    assert row["awake_s"] == 600


def test_traveller_offset_change_keeps_one_night() -> None:
    # overnight flight New York (UTC-4) -> Berlin (UTC+2): sleep 22:00 local NY = 02:00 UTC,
    # the device switches to +2 h mid-sleep; wake 08:00 UTC = 10:00 Berlin.
    seg = segments(
        [
            (utc(2024, 6, 11, 2, 0), utc(2024, 6, 11, 5, 0), "asleep", -14400),
            (utc(2024, 6, 11, 5, 20), utc(2024, 6, 11, 8, 0), "asleep", 7200),
        ]
    )
    out = detect_sleep_periods(seg)
    assert out.height == 1
    assert out.row(0, named=True)["night_of"] == date(2024, 6, 10)
    assert out.row(0, named=True)["asleep_s"] == 3 * 3600 + 160 * 60


def test_two_participants_and_consecutive_nights() -> None:
    a = pl.concat([staged_night(pid="a"), staged_night(pid="a", night=NIGHT + timedelta(days=1))])
    b = old_style_night(pid="b")
    out = detect_sleep_periods(pl.concat([b, a]))
    assert out.select("participant_id", "night_of").rows() == [
        ("a", NIGHT),
        ("a", NIGHT + timedelta(days=1)),
        ("b", NIGHT),
    ]


def test_short_block_below_minimum_is_not_a_main_period() -> None:
    out = detect_sleep_periods(segments([(local("14:00"), local("14:20"), "asleep")]))
    assert out.height == 0


def test_empty_and_in_bed_only_inputs_give_empty_schema() -> None:
    assert detect_sleep_periods(pl.DataFrame()).schema == pl.Schema(SLEEP_PERIOD_SCHEMA)
    in_bed = segments([(local("23:00"), local("07:00"), "in_bed")])
    out = detect_sleep_periods(in_bed)
    assert out.height == 0 and out.schema == pl.Schema(SLEEP_PERIOD_SCHEMA)


def test_missing_column_raises_naming_it() -> None:
    with pytest.raises(ValueError, match="stage"):
        detect_sleep_periods(staged_night().drop("stage"))


def test_naive_datetimes_rejected() -> None:
    seg = staged_night().with_columns(pl.col("start_utc").dt.replace_time_zone(None))
    with pytest.raises(ValueError, match="start_utc"):
        detect_sleep_periods(seg)


def test_input_not_mutated() -> None:
    seg = staged_night(awake=[("02:00", "02:20")])
    before = seg.clone()
    detect_sleep_periods(seg)
    assert seg.equals(before)
