"""Actigraphy: Cole-Kripke and Sadeh against hand-computed values, Webster rescoring,
non-wear (minute and raw), z-angle, sustained inactivity, HDCZA, and the sleep fallback."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest

from detectors.actigraphy import (
    ActigraphyParams,
    activity_counts_proxy,
    classify_minutes,
    cole_kripke_1992,
    epoch_z_angle,
    hdcza,
    keep_finest_resolution,
    nonwear_flat_daytime,
    nonwear_minutes,
    nonwear_raw,
    sadeh_1994,
    sustained_inactivity,
    webster_rescore,
    z_angle_deg,
)
from detectors.schema import SLEEP_PERIOD_SCHEMA
from detectors.sleep import detect_sleep, detect_sleep_periods
from tests.detectors.builders import NIGHT, OFFSET, local, samples, staged_night

NO_RESCORE = ActigraphyParams(webster_rescore=False)


# --- Cole-Kripke 1992 ---------------------------------------------------------------------


def test_cole_kripke_single_epoch_by_hand() -> None:
    # one minute of 1000 counts at t=10: A = 1000/100 = 10; D[t] = 0.001 * w_k * 10
    c = np.zeros(20)
    c[10] = 1000
    _, d = cole_kripke_1992(c, params=NO_RESCORE)
    # weights of A-4..A+2: the epoch at t=10 is A-4 for t=14, ..., A+2 for t=8
    assert d[14] == pytest.approx(1.06)
    assert d[13] == pytest.approx(0.54)
    assert d[12] == pytest.approx(0.58)
    assert d[11] == pytest.approx(0.76)
    assert d[10] == pytest.approx(2.30)
    assert d[9] == pytest.approx(0.74)
    assert d[8] == pytest.approx(0.67)
    assert d[7] == 0 and d[15] == 0
    sleep, _ = cole_kripke_1992(c, params=NO_RESCORE)
    # D >= 1 only at t=10 and t=14
    assert np.flatnonzero(~sleep).tolist() == [10, 14]


def test_cole_kripke_cap_at_300_after_scaling() -> None:
    c = np.zeros(9)
    c[4] = 1_000_000  # /100 = 10000 -> capped at 300
    _, d = cole_kripke_1992(c, params=NO_RESCORE)
    assert d[4] == pytest.approx(0.001 * 230 * 300)


def test_cole_kripke_mixed_window_by_hand() -> None:
    c = np.array([0, 200, 400, 0, 100, 0, 0, 0], float)  # A = 0, 2, 4, 0, 1, 0, 0, 0
    _, d = cole_kripke_1992(c, params=NO_RESCORE)
    # t=4: 106*A0 + 54*A1 + 58*A2 + 76*A3 + 230*A4 + 74*A5 + 67*A6
    assert d[4] == pytest.approx(0.001 * (54 * 2 + 58 * 4 + 230 * 1))
    # t=2: A-2=A0=0, A-1=A1=2, A0=A2=4, A+1=A3=0, A+2=A4=1
    assert d[2] == pytest.approx(0.001 * (76 * 2 + 230 * 4 + 67 * 1))


# --- Webster rescoring ----------------------------------------------------------------------


def test_webster_rule_a_after_4_min_wake_next_minute_rescored() -> None:
    s = np.array([1] * 5 + [0] * 4 + [1] * 20, bool)
    out = webster_rescore(s)
    assert not out[9] and out[10]


def test_webster_rules_b_and_c() -> None:
    s = np.array([1] * 5 + [0] * 10 + [1] * 20, bool)
    out = webster_rescore(s)
    assert not out[15:18].any() and out[18]
    s = np.array([1] * 5 + [0] * 15 + [1] * 20, bool)
    out = webster_rescore(s)
    assert not out[20:24].any() and out[24]


def test_webster_rule_d_short_sleep_between_wakes() -> None:
    # 6 min of sleep between 10-min wakes -> wake (rule a first takes 3 min of it)
    s = np.array([1] * 30 + [0] * 12 + [1] * 6 + [0] * 12 + [1] * 30, bool)
    out = webster_rescore(s)
    assert not out[42:48].any()
    assert out[:30].all() and out[-25:].all()


# --- Sadeh 1994 ------------------------------------------------------------------------------


def test_sadeh_by_hand() -> None:
    c = np.zeros(20)
    c[10] = 1000  # capped at 300
    _, ps = sadeh_1994(c)
    # t=10: mean(W5) = 300/11; NATS = 0; SD of [0,0,0,0,0,300] (ddof=1) = sqrt(15000)
    expected = 7.601 - 0.065 * 300 / 11 - 0.056 * math.sqrt(15000) - 0.703 * math.log(301)
    assert ps[10] == pytest.approx(expected)
    # t=0: window 0..5 (6 epochs, all 0), single epoch SD = 0 -> intercept only
    assert ps[0] == pytest.approx(7.601)
    # t=12: mean over 7..17 = 300/11; SD of [0,0,0,300,0,0]; ln(1) = 0
    sd = float(np.std([0, 0, 0, 300, 0, 0], ddof=1))
    assert ps[12] == pytest.approx(7.601 - 0.065 * 300 / 11 - 0.056 * sd)


def test_sadeh_nats_counts_50_to_99() -> None:
    c = np.full(11, 60.0)
    _, ps = sadeh_1994(c)
    # centre epoch: mean 60, NATS 11, SD 0, ln(61)
    assert ps[5] == pytest.approx(7.601 - 0.065 * 60 - 1.08 * 11 - 0.703 * math.log(61))
    sleep, _ = sadeh_1994(c)
    assert not sleep[5]


# --- proxies ----------------------------------------------------------------------------------


def test_counts_proxy_anchors() -> None:
    out = activity_counts_proxy(
        steps=np.array([0, 100, np.nan]), intensity=np.array([0, 1, 3]), met=None
    )
    # 100 steps/min ~ 1952 counts/min (Freedson moderate cut-point); level 3 -> 5725
    assert out.tolist() == pytest.approx([0.0, 1952.0, 5725.0])
    met = activity_counts_proxy(met=np.array([1.0, 3.0]))
    assert met[0] == 0.0
    assert met[1] == pytest.approx((3.0 - 1.439008) / 0.000795)


# --- non-wear ------------------------------------------------------------------------------------


def test_minute_nonwear_needs_no_hr_and_flat_motion_for_60_min() -> None:
    counts = np.zeros(200)
    hr = np.ones(200, bool)
    hr[50:115] = False  # 65 min without HR, still
    hr[150:190] = False  # 40 min: too short
    nw = nonwear_minutes(counts, hr)
    assert nw[50:115].all() and not nw[49] and not nw[115]
    assert not nw[150:190].any()
    # a 2-min spike inside is tolerated (Choi 2011), a 5-min bout is not
    counts2 = counts.copy()
    counts2[80:82] = 500
    assert nonwear_minutes(counts2, hr)[50:115].all()
    counts3 = counts.copy()
    counts3[80:85] = 500
    assert not nonwear_minutes(counts3, hr)[50:115].any()  # 30 + 30 min: both too short


def test_minute_nonwear_without_hr_channel_is_undecidable() -> None:
    assert not nonwear_minutes(np.zeros(500), None).any()


def test_raw_nonwear_flat_table_vs_still_sleeper() -> None:
    fs = 1.0
    rng = np.random.default_rng(0)
    n = 3 * 3600
    acc = np.tile([0.0, 0.0, 1.0], (n, 1)) + rng.normal(0, 0.002, (n, 3))
    acc[: 3600 // 2] += rng.normal(0, 0.2, (1800, 3))  # worn and moving for 30 min
    nw = nonwear_raw(acc, fs)
    assert nw[-3600:].all() and not nw[:1800].any()
    # the same stillness with a heartbeat is a sleeper, not a table
    assert not nonwear_raw(acc, fs, hr_present=np.ones(n, bool)).any()


# --- raw: z-angle, SIB, HDCZA -------------------------------------------------------------------


def test_z_angle() -> None:
    assert z_angle_deg(0, 0, 1) == pytest.approx(90)
    assert z_angle_deg(1, 0, 0) == pytest.approx(0)
    assert z_angle_deg(0, 1, -1) == pytest.approx(-45)
    acc = np.tile([0.0, 0.0, 1.0], (100, 1))
    assert epoch_z_angle(acc, 10, epoch_s=5).tolist() == pytest.approx([90, 90])


def test_sustained_inactivity_needs_5_min_without_5_deg_changes() -> None:
    ang = np.zeros(200)
    ang[100:] = 40  # a posture change at epoch 100
    ang[150:152] = [10, 40]  # brief change at 150 -> breaks the second stretch
    sib = sustained_inactivity(ang, epoch_s=5)
    assert sib[:100].all()  # 100 epochs = 8.3 min of stillness
    assert not sib[100:150].any() or (150 - 100) * 5 >= 300
    assert not sib[150:152].any()


def _synthetic_day_angles(rng: np.random.Generator) -> tuple[np.ndarray, int, int]:
    """24 h of 5-s z-angles: awake (large random changes) except a still 23:00-07:00."""
    n = 24 * 720
    ang = np.cumsum(rng.normal(0, 8, n))
    s, e = 11 * 720, 19 * 720  # noon-to-noon: 23:00 is 11 h after noon
    ang[s:e] = 30 + rng.normal(0, 0.05, e - s)
    ang[s + 3 * 720 : s + 3 * 720 + 24] += 50  # one rollover at 02:00
    return ang, s, e


def test_hdcza_finds_the_night() -> None:
    ang, s, e = _synthetic_day_angles(np.random.default_rng(3))
    block, thr = hdcza(ang, epoch_s=5)
    assert block is not None
    assert 0.13 <= thr <= 0.50
    assert abs(block[0] - s) <= 60 and abs(block[1] - e) <= 60  # within 5 min


def test_hdcza_never_reads_nonwear_as_sleep() -> None:
    ang, s, e = _synthetic_day_angles(np.random.default_rng(3))
    valid = np.ones(ang.size, bool)
    valid[s : s + 5 * 720] = False  # watch on the table 23:00-04:00
    block, _ = hdcza(ang, epoch_s=5, valid=valid)
    assert block is not None and block[0] >= s + 5 * 720


# --- minute fallback through the polars API --------------------------------------------------


def _fitbit_like_day(*, hr_night: float = 54.0, hr_day: float = 72.0, off_watch: bool = False):
    """Minute steps and seconds-ish HR from noon to noon: asleep 23:00-07:00."""
    rows = []
    t = local("12:00")
    end = t + timedelta(days=1)
    i = 0
    while t < end:
        asleep = local("23:00") <= t < local("07:00")
        walking = (not asleep) and (i % 90 < 10)
        steps = 100 if walking else 0
        rows.append(("steps", t, t + timedelta(minutes=1), steps))
        rows.append(("intensity_level", t, t + timedelta(minutes=1), 2 if walking else 0))
        hidden = off_watch and local("01:00") <= t < local("03:00")
        if not hidden:
            hr = (hr_night if asleep else hr_day) + (i % 3) * 0.5
            for k in (0, 20, 40):
                rows.append(
                    ("heart_rate_bpm", t + timedelta(seconds=k), t + timedelta(seconds=k), hr)
                )
        t += timedelta(minutes=1)
        i += 1
    return samples(rows)


def test_minute_fallback_finds_the_night_from_steps_and_hr() -> None:
    smp = _fitbit_like_day()
    out = detect_sleep_periods(pl.DataFrame(), smp)
    assert out.height == 1
    row = out.row(0, named=True)
    assert row["night_of"] == NIGHT
    assert row["method"] == "cole1992+hr"
    assert abs((row["start_utc"] - local("23:00")).total_seconds()) <= 5 * 60
    assert abs((row["end_utc"] - local("07:00")).total_seconds()) <= 5 * 60
    assert out.schema == pl.Schema(SLEEP_PERIOD_SCHEMA)
    sadeh = detect_sleep_periods(pl.DataFrame(), smp, method="sadeh1994")
    assert sadeh["method"].to_list() == ["sadeh1994+hr"]


def test_sedentary_evening_is_not_sleep_when_hr_says_awake() -> None:
    # 21:00-23:00 no steps at all (sofa), but waking HR: the period still starts at 23:00
    smp = _fitbit_like_day().filter(
        ~(
            (pl.col("metric") == "steps")
            & (pl.col("start_utc") >= local("21:00"))
            & (pl.col("start_utc") < local("23:00"))
        )
    )
    row = detect_sleep_periods(pl.DataFrame(), smp).row(0, named=True)
    assert abs((row["start_utc"] - local("23:00")).total_seconds()) <= 5 * 60


def test_watch_off_in_the_night_is_never_sleep() -> None:
    smp = _fitbit_like_day(off_watch=True)
    mins = classify_minutes(smp)
    off = mins.filter(
        (pl.col("minute_utc") >= local("01:00")) & (pl.col("minute_utc") < local("03:00"))
    )
    assert off["nonwear"].all() and not off["sleep"].any()
    periods, seg = detect_sleep(pl.DataFrame(), smp)
    row = periods.row(0, named=True)
    assert row["asleep_s"] <= (8 - 2) * 3600  # the 2 h off the wrist are not asleep
    acti = seg.filter(pl.col("source") == "actigraphy:cole1992")
    inside = acti.filter(
        (pl.col("start_utc") < local("03:00")) & (pl.col("end_utc") > local("01:00"))
    )
    assert inside.height == 0  # no segment at all: neither asleep nor awake


def test_device_stages_win_over_actigraphy_on_the_same_night() -> None:
    seg = staged_night()
    out = detect_sleep_periods(seg, _fitbit_like_day())
    assert out["method"].to_list() == ["device_stages"]


def test_keep_finest_resolution_drops_hourly_and_daily_copies() -> None:
    t = local("12:00")
    rows = [
        ("steps", t, t + timedelta(minutes=1), 10),
        ("steps", t + timedelta(minutes=1), t + timedelta(minutes=2), 20),
        ("steps", t, t + timedelta(hours=1), 600),
        ("steps", t, t + timedelta(days=1), 9000),
    ]
    smp = samples(rows).with_columns(
        source=pl.Series(["f:minute", "f:minute", "f:hourly", "f:daily"])
    )
    out = keep_finest_resolution(smp)
    assert out["source"].to_list() == ["f:minute", "f:minute"]
    assert keep_finest_resolution(smp.drop("source")).height == 4
    assert OFFSET  # builders' offset used by local()


# --- issue 4: non-wear without HR, the noon-to-noon clip, the main-period ceiling ------------

_RULES_OFF = ActigraphyParams(
    night_window_clip=False, nonwear_flat_daytime=False, max_main_sleep_s=0
)


def _fitabase_days(days: int, flat: list[tuple[datetime, datetime]] = (), hr: bool = False):
    """Minute steps and intensity (Fitabase: a row for every minute, zeros when unworn) from
    noon of NIGHT for ``days`` days: asleep 23:00-07:00 (all zero), awake otherwise with a
    5-min walk every 30 min; minutes inside any ``flat`` interval are zero (tracker off).
    With ``hr``, 20-s HR everywhere (54 bpm asleep, 72 awake): a worn, still tracker."""
    rows = []
    t = local("12:00")
    end = t + timedelta(days=days)
    i = 0
    while t < end:
        loc_h = (t + timedelta(seconds=OFFSET)).hour
        asleep = loc_h >= 23 or loc_h < 7
        off = any(a <= t < b for a, b in flat)
        walking = not asleep and not off and i % 30 < 5
        rows.append(("steps", t, t + timedelta(minutes=1), 100 if walking else 0))
        rows.append(("intensity_level", t, t + timedelta(minutes=1), 2 if walking else 0))
        if hr:
            for k in (0, 20, 40):
                v = 54.0 if asleep else 72.0
                rows.append(("heart_rate_bpm", t + timedelta(seconds=k), t, v + (i % 3) * 0.5))
        t += timedelta(minutes=1)
        i += 1
    return samples(rows)


def _hours(row: dict) -> float:
    return (row["end_utc"] - row["start_utc"]).total_seconds() / 3600


def test_flat_daytime_nonwear_by_hand() -> None:
    # local minutes of one day from 00:00; flat (0) except where set
    local_s = 60 * np.arange(2 * 1440, dtype=np.int64)
    counts = np.full(local_s.size, 50.0)
    counts[8 * 60 : 20 * 60] = 0  # 08:00-20:00: does not reach 21:00 -> not non-wear
    assert not nonwear_flat_daytime(counts, local_s).any()
    counts[8 * 60 : 21 * 60 + 30] = 0  # 08:00-21:30 covers 09:00-21:00
    counts[15 * 60 : 15 * 60 + 2] = 40  # a 2-min spike inside is tolerated (Choi 2011)
    got = nonwear_flat_daytime(counts, local_s)
    assert got[8 * 60 : 21 * 60 + 30].all() and got.sum() == 13 * 60 + 30
    counts[15 * 60 : 15 * 60 + 3] = 40  # 3 min of motion splits the run: neither half covers
    assert not nonwear_flat_daytime(counts, local_s).any()
    assert not nonwear_flat_daytime(
        np.zeros(3000), 60 * np.arange(3000), params=ActigraphyParams(nonwear_flat_daytime=False)
    ).any()


def test_flat_daytime_nonwear_missing_minutes_are_not_flat() -> None:
    # day 1 has no record at all (NaN) until 22:00, then a still night (0) to 07:00 on day 2:
    # missing is unknown, so the night is not swallowed into a "non-wear" run
    local_s = 60 * np.arange(2 * 1440, dtype=np.int64)
    counts = np.full(local_s.size, 50.0)
    counts[: 22 * 60] = np.nan
    counts[22 * 60 : 1440 + 7 * 60] = 0.0
    assert not nonwear_flat_daytime(counts, local_s).any()
    # the same night after a day of zeros (a worn-but-unused tracker writes 0) is non-wear
    counts[: 22 * 60] = 0.0
    assert nonwear_flat_daytime(counts, local_s)[: 1440 + 7 * 60].all()


def test_three_day_flat_run_without_hr_gives_no_multi_day_period() -> None:
    # worn 2 nights, tracker off from 23:00 on the third night for 59 h (midpoint 04:30)
    off0, off1 = (
        local("23:00", NIGHT + timedelta(days=2)),
        local("10:00", NIGHT + timedelta(days=4)),
    )
    smp = _fitabase_days(7, flat=[(off0, off1)])
    before = detect_sleep_periods(pl.DataFrame(), smp, actigraphy_params=_RULES_OFF)
    assert max(_hours(r) for r in before.iter_rows(named=True)) > 48  # the old fault
    out = detect_sleep_periods(pl.DataFrame(), smp)
    assert all(_hours(r) < 9 for r in out.iter_rows(named=True))
    nights = out["night_of"].to_list()
    for k in (0, 1, 5):  # the worn nights keep their 23:00-07:00 period
        assert NIGHT + timedelta(days=k) in nights
    for k in (2, 3, 4):  # inside the unworn run: no period (cannot be told from non-wear)
        assert NIGHT + timedelta(days=k) not in nights
    mins = classify_minutes(smp)
    inside = mins.filter(pl.col("minute_utc").is_between(off0, off1, closed="left"))
    assert inside["nonwear"].all() and not inside["sleep"].any()


def test_flat_days_with_hr_keep_their_periods() -> None:
    # a worn tracker that counts no steps for three days: HR shows it is worn, the nights stay
    smp = _fitabase_days(
        3, flat=[(local("12:00"), local("12:00", NIGHT + timedelta(days=3)))], hr=True
    )
    out = detect_sleep_periods(pl.DataFrame(), smp)
    assert out.height == 3 and set(out["method"]) == {"cole1992+hr"}
    for k, row in enumerate(out.iter_rows(named=True)):
        night = NIGHT + timedelta(days=k)
        assert abs((row["start_utc"] - local("23:00", night)).total_seconds()) <= 10 * 60
        assert abs((row["end_utc"] - local("07:00", night)).total_seconds()) <= 10 * 60
    assert not classify_minutes(smp)["nonwear"].any()


def test_period_is_cut_at_local_noon() -> None:
    # flat 22:00 until 04:00 three nights on (54 h, midpoint 01:00); non-wear rule, ceiling off
    flat = [(local("22:00"), local("04:00", NIGHT + timedelta(days=2)))]
    smp = _fitabase_days(4, flat=flat)
    clip_only = ActigraphyParams(nonwear_flat_daytime=False, max_main_sleep_s=0)
    assert (
        max(
            _hours(r)
            for r in detect_sleep_periods(
                pl.DataFrame(), smp, actigraphy_params=_RULES_OFF
            ).iter_rows(named=True)
        )
        >= 30
    )
    out = detect_sleep_periods(pl.DataFrame(), smp, actigraphy_params=clip_only)
    first = out.row(0, named=True)
    assert first["night_of"] == NIGHT
    assert local("21:30") <= first["start_utc"] <= local("22:00")  # last walk ends 21:35
    assert first["end_utc"] == local(
        "12:00", NIGHT + timedelta(days=1)
    )  # cut at the end of the noon-to-noon night
    assert all(_hours(r) <= 24 for r in out.iter_rows(named=True))


def test_main_period_longer_than_16_h_is_dropped() -> None:
    # flat 19:00-11:30 (16.5 h, does not cover a daytime, inside one noon-to-noon window)
    smp = _fitabase_days(1, flat=[(local("19:00"), local("11:30"))])
    ceiling_only = ActigraphyParams(nonwear_flat_daytime=False, night_window_clip=False)
    kept = detect_sleep_periods(
        pl.DataFrame(), smp, actigraphy_params=ActigraphyParams(max_main_sleep_s=0)
    )
    assert kept.height == 1 and _hours(kept.row(0, named=True)) > 16
    assert detect_sleep_periods(pl.DataFrame(), smp, actigraphy_params=ceiling_only).height == 0
    assert detect_sleep_periods(pl.DataFrame(), smp).height == 0
    # a 9 h flat night is kept
    ok = detect_sleep_periods(
        pl.DataFrame(), _fitabase_days(1, flat=[(local("22:00"), local("07:00"))])
    )
    assert ok.height == 1 and 9 <= _hours(ok.row(0, named=True)) <= 9.5  # from 21:42
