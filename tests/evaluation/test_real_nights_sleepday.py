"""Episodes per Fitbit sleepDay night (evaluation/real_nights.py, issue-10 target) on hand-made
sleepDay rows and episodes with known answers; no real import."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from evaluation.real_nights import read_sleepday, sleepday_nights, sleepday_rate

# Fitabase text as read (infer_schema=False); user 1 has seconds HR, user 2 does not
ROWS = pl.DataFrame(
    {
        "Id": ["1", "1", "1", "1", "2", "2", "2"],
        "SleepDay": [
            "4/12/2016 12:00:00 AM",
            "4/13/2016 12:00:00 AM",
            "4/13/2016 12:00:00 AM",  # exact duplicate of the row above
            "4/15/2016 12:00:00 AM",
            "4/12/2016 12:00:00 AM",
            "4/12/2016 12:00:00 AM",  # same night, other totals (an overlapping folder)
            "5/1/2016 12:00:00 AM",
        ],
        "TotalSleepRecords": ["1", "2", "2", "1", "1", "1", "1"],
        "TotalMinutesAsleep": ["327", "384", "384", "412", "400", "401", "300"],
        "TotalTimeInBed": ["346", "407", "407", "442", "420", "421", "320"],
    }
)

# local_date is night_of, the evening the night begins: night_of D-1 is sleepDay D
EPISODES = pl.DataFrame(
    {
        "participant_id": ["fitabase-1", "fitabase-1", "fitabase-1", "fitabase-2"],
        "local_date": [date(2016, 4, 11), date(2016, 4, 14), date(2016, 4, 15), date(2016, 4, 30)],
        "label": ["likely", "possible", "likely", "possible"],
    }
)  # 4-12 on a night; 4-15 on a night; 4-16 on none (user 1 has no sleepDay 4/16); 5-1 on one


def test_nights_drop_exact_duplicates_and_count_each_id_and_date_once():
    nights, dropped, merged = sleepday_nights(ROWS)
    assert dropped == 1
    assert merged == 1
    assert nights.height == 5
    assert nights.row(0) == ("fitabase-1", date(2016, 4, 12))
    assert nights.filter(pl.col("participant_id") == "fitabase-2")["sleep_day"].to_list() == [
        date(2016, 4, 12),
        date(2016, 5, 1),
    ]


def test_rate_over_all_sleepday_nights():
    nights, _, _ = sleepday_nights(ROWS)
    r = sleepday_rate(nights, EPISODES)
    assert (r.nights, r.episodes, r.likely) == (5, 3, 1)
    assert (r.off_night, r.off_night_likely) == (1, 1)
    assert r.rate == pytest.approx(3 / 5)
    assert r.likely_rate == pytest.approx(1 / 5)
    assert r.rate_with_off_night == pytest.approx(4 / 5)


def test_rate_over_the_seconds_hr_users_nights():
    nights, _, _ = sleepday_nights(ROWS)
    r = sleepday_rate(nights, EPISODES, ["fitabase-1"])
    assert (r.nights, r.episodes, r.likely, r.off_night, r.off_night_likely) == (3, 2, 1, 1, 1)
    assert r.rate == pytest.approx(2 / 3)
    none = sleepday_rate(nights, EPISODES, ["fitabase-9"])
    assert (none.nights, none.episodes, none.off_night) == (0, 0, 0)


def test_episode_on_its_start_date_is_not_the_same_sleepday():
    """An episode of night_of 4-12 (ending 4-13) is sleepDay 4-13, not sleepDay 4-12."""
    nights, _, _ = sleepday_nights(ROWS.filter(pl.col("SleepDay").str.starts_with("4/12")))
    eps = EPISODES.head(1).with_columns(local_date=pl.lit(date(2016, 4, 12)))
    r = sleepday_rate(nights.filter(pl.col("participant_id") == "fitabase-1"), eps)
    assert (r.episodes, r.off_night) == (0, 1)


def test_two_overlapping_folders_count_each_night_once(tmp_path):
    head = "Id,SleepDay,TotalSleepRecords,TotalMinutesAsleep,TotalTimeInBed\r\n"
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_bytes((head + "1,4/12/2016 12:00:00 AM,1,327,346\r\n").encode())
    b.write_bytes(
        (
            head + "1,4/12/2016 12:00:00 AM,1,327,346\r\n1,4/13/2016 12:00:00 AM,1,300,310\r\n"
        ).encode()
    )
    nights, dropped, merged = sleepday_nights(read_sleepday([a, b]))
    assert (nights.height, dropped, merged) == (2, 1, 0)
    assert sleepday_nights(read_sleepday([]))[0].height == 0
