"""Nocturnal cramp detector: one rule per test on hand-built nights (5-min HR like Apple)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from detectors.cramps import (
    DETECTOR_VERSION,
    CrampParams,
    detect_nocturnal_cramps,
    score_cramp_candidates,
)
from detectors.schema import EPISODE_SCHEMA
from detectors.sleep import detect_sleep_periods
from tests.detectors.builders import (
    NIGHT,
    concat,
    heart_rate,
    local,
    old_style_night,
    samples,
    staged_night,
    steps,
)

# A cramp as the brief describes it (7.1 Step D "expected behaviour"): an 8-min wake, HR up
# 25 bpm and still >= 5 bpm above baseline for 10 min after, a few steps (standing to stretch).
CRAMP_HR = {"03:02": 80, "03:07": 75, "03:12": 68, "03:17": 62}
CRAMP_STEPS = [("03:03", "03:04", 12)]


#: these tests specify the physiological rules, so they run the brief scorer, where every rule
#: is a veto; the fitted model (default scorer) is checked in test_cramp_model.py
BRIEF = replace(CrampParams(), scorer="brief")


def run(
    seg: pl.DataFrame, smp: pl.DataFrame, params: CrampParams | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    params = params or BRIEF
    periods = detect_sleep_periods(seg)
    return (
        detect_nocturnal_cramps(smp, seg, periods, params),
        score_cramp_candidates(smp, seg, periods, params=params),
    )


def evidence(frame: pl.DataFrame, i: int = 0) -> dict:
    return json.loads(frame["evidence"][i])


def test_cramp_night_gives_exactly_one_episode_with_onset_within_5_min() -> None:
    seg = staged_night(awake=[("03:00", "03:08")])
    eps, _ = run(seg, concat([heart_rate(CRAMP_HR), steps(CRAMP_STEPS)]))
    assert eps.height == 1
    row = eps.row(0, named=True)
    assert abs((row["start_utc"] - local("03:00")).total_seconds()) <= 300
    assert row["kind"] == "nocturnal_cramp"
    assert row["local_date"] == NIGHT
    assert row["label"] == "likely" and row["confidence"] >= 0.7
    assert row["detector_version"] == DETECTOR_VERSION
    ev = evidence(eps)
    # samples ..., 55 (02:57), 80 (03:02), 75 (03:07): the 3-sample median keeps 75 -> +20
    assert ev["hr_rise_bpm"] == pytest.approx(20.0, abs=1.5)
    assert ev["hr_sustain_min"] >= 5
    assert ev["steps"] == pytest.approx(12.0)
    assert ev["wake_s"] == 480
    assert ev["walk"] is False
    assert set(ev["confounders_ruled_out"]) == {
        "watch_off",
        "final_awakening",
        "rollover_or_phone",
        "restless_plm_like",
        "bathroom_trip",
        "movement_only_hr",
    }
    assert ev["params"] == CrampParams().name


def test_episode_ids_are_deterministic_and_schema_exact() -> None:
    seg = staged_night(awake=[("03:00", "03:08")])
    smp = concat([heart_rate(CRAMP_HR), steps(CRAMP_STEPS)])
    a, _ = run(seg, smp)
    b, _ = run(
        seg.reverse(), smp.sample(fraction=1.0, shuffle=True, seed=1)
    )  # input order irrelevant
    assert a.schema == pl.Schema(EPISODE_SCHEMA)
    assert a["episode_id"].to_list() == b["episode_id"].to_list()
    assert a.equals(b)


def test_bathroom_trip_gives_no_episode() -> None:
    # same 8-min wake, but 160 steps over 4 min (walking); HR high only while walking
    seg = staged_night(awake=[("03:00", "03:08")])
    hr = heart_rate({"03:02": 85, "03:07": 70, "03:12": 58})
    eps, cand = run(seg, concat([hr, steps([("03:02", "03:06", 160)])]))
    assert eps.height == 0
    assert cand.height == 1
    ev = evidence(cand)
    # >= 100 steps of walking is a bathroom trip (vetoed); shorter walks are a soft negative
    assert ev["walk"] is True and ev["suppressed_by"] == "bathroom_trip"
    assert cand["confidence"][0] < 0.4


def test_walking_does_not_veto_an_otherwise_strong_cramp() -> None:
    # walking is a soft negative (brief 6.3): a big sustained rise after walking still scores
    seg = staged_night(awake=[("03:00", "03:10")])
    hr = heart_rate({"03:01": 90, "03:07": 88, "03:12": 80, "03:17": 75})
    _, cand = run(seg, concat([hr, steps([("03:03", "03:05", 90)])]))
    assert cand["suppressed_by"][0] is None
    assert "bathroom_trip" in evidence(cand)["confounders_present"]
    assert cand["confidence"][0] > 0.4


def test_rollover_or_phone_wake_without_hr_surge_gives_no_episode() -> None:
    seg = staged_night(awake=[("03:00", "03:06")])
    eps, cand = run(seg, heart_rate())  # HR stays at baseline
    assert eps.height == 0
    assert cand["suppressed_by"].to_list() == ["rollover_or_phone"]


def test_single_sample_ppg_artefact_during_a_wake_is_not_a_surge() -> None:
    # a phone-reading wake with one 92-bpm sample between two normal ones (5-min sampling)
    seg = staged_night(awake=[("03:00", "03:06")])
    eps, cand = run(seg, heart_rate({"03:02": 92}))
    assert eps.height == 0
    assert cand["suppressed_by"].to_list() == ["rollover_or_phone"]
    # two consecutive elevated samples are physiology, not an artefact
    _, cand2 = run(seg, heart_rate({"03:02": 92, "03:07": 90, "03:12": 80}))
    assert cand2["suppressed_by"][0] is None


def test_restless_night_of_repeated_one_minute_wakes_gives_no_episode() -> None:
    wakes = [(f"02:{m:02d}", f"02:{m + 1:02d}") for m in range(0, 57, 4)]  # 15 wakes, every 4 min
    seg = staged_night(awake=wakes)
    hr = heart_rate({"02:12": 63, "02:32": 64, "02:47": 62})  # PLM-like brief bumps
    eps, cand = run(seg, hr)
    assert eps.height == 0
    assert cand.height == 15
    assert "restless_plm_like" in cand["suppressed_by"].to_list()
    assert cand["confidence"].max() < 0.4


def test_restless_wakes_merged_into_a_long_segment_are_not_scored() -> None:
    wakes = [(f"02:{m:02d}", f"02:{m + 1:02d}") for m in range(0, 58, 3)]  # gaps of 2 min -> merged
    eps, cand = run(staged_night(awake=wakes), heart_rate({"02:12": 66}))
    assert eps.height == 0 and cand.height == 0  # one ~58 min block: long_wake, not a cramp


def test_watch_off_gap_gives_no_episode_and_no_invented_sleep() -> None:
    seg = staged_night(gaps=[("02:00", "03:30")])
    hr = heart_rate(skip=[("02:00", "03:30")])
    eps, cand = run(seg, hr)
    assert eps.height == 0 and cand.height == 0
    period = detect_sleep_periods(seg).row(0, named=True)
    assert period["asleep_s"] == 8 * 3600 - 90 * 60


def test_watch_off_gap_in_old_style_export_is_suppressed() -> None:
    # old exports: a gap between asleep segments looks like wake; no HR inside -> watch off
    seg = old_style_night(gaps=[("02:00", "02:20")])
    eps, cand = run(seg, heart_rate(skip=[("02:00", "02:20")]))
    assert eps.height == 0
    assert cand["suppressed_by"].to_list() == ["watch_off"]


def test_old_style_asleep_gap_cramp_is_detected() -> None:
    seg = old_style_night(gaps=[("03:00", "03:08")])
    eps, _ = run(seg, concat([heart_rate(CRAMP_HR), steps(CRAMP_STEPS)]))
    assert eps.height == 1
    assert abs((eps["start_utc"][0] - local("03:00")).total_seconds()) <= 300
    assert evidence(eps)["night_staged"] is False


def test_missing_hr_caps_confidence_at_half() -> None:
    # HR samples thin out around the wake: more than half of the window missing
    seg = staged_night(awake=[("03:00", "03:12")])
    hr = heart_rate({"03:02": 85}, skip=[("02:55", "03:02"), ("03:03", "03:40")])
    act = samples([("active_energy_kcal", local("03:00"), local("03:10"), 20.0)])
    _, cand = run(seg, concat([hr, act]))
    assert cand.height == 1
    ev = evidence(cand)
    assert ev["hr_missing_frac"] > 0.5
    assert "hr_missing" in ev["confidence_caps"]
    assert "hr_rise" not in ev["logit_terms"]
    assert cand["confidence"][0] <= 0.5


def test_short_blip_with_small_rise_is_low() -> None:
    seg = staged_night(awake=[("03:00", "03:01")])
    _, cand = run(seg, heart_rate({"03:02": 66}))
    assert cand["confidence"][0] < 0.4


def test_cramp_on_dst_night_is_found_at_the_right_instant() -> None:
    # 30->31 March 2024 Berlin: the cramp at 03:30 CEST = 01:30 UTC, after the change
    night = datetime(2024, 3, 30).date()
    seg = pl.concat(
        [
            staged_night(night=night, offset_s=3600, onset="23:00", wake="01:59", awake=[]),
            staged_night(
                night=night, offset_s=7200, onset="03:00", wake="07:00", awake=[("03:30", "03:38")]
            ),
        ]
    ).filter(pl.col("stage") != "in_bed")
    hr = concat(
        [
            heart_rate(night=night, offset_s=3600, start="22:32", end="01:57"),
            heart_rate(
                {"03:32": 82, "03:37": 76, "03:42": 68, "03:47": 63},
                night=night,
                offset_s=7200,
                start="03:02",
                end="07:30",
            ),
            # the evening's and the morning's steps: the movement channel exists around the
            # night (cramp-0.3 caps nights without)
            steps([("21:00", "21:10", 600)], night=night, offset_s=3600),
            steps([("08:00", "08:10", 600)], night=night, offset_s=7200),
        ]
    )
    eps, _ = run(seg, hr)
    assert eps.height == 1
    assert eps["local_date"][0] == night
    assert eps["start_utc"][0] == datetime(2024, 3, 31, 1, 30, tzinfo=UTC)


def test_two_participants_are_independent() -> None:
    seg = pl.concat(
        [
            staged_night(awake=[("03:00", "03:08")], pid="a"),
            staged_night(awake=[("03:00", "03:08")], pid="b"),
        ]
    )
    smp = concat([heart_rate(CRAMP_HR, pid="a"), steps(CRAMP_STEPS, pid="a"), heart_rate(pid="b")])
    eps, _ = run(seg, smp)
    assert eps["participant_id"].to_list() == ["a"]


def test_duplicate_step_sources_are_not_double_counted() -> None:
    seg = staged_night(awake=[("03:00", "03:08")])
    both = concat([steps(CRAMP_STEPS), steps(CRAMP_STEPS)]).with_columns(
        source=pl.Series(["watch", "phone"])
    )
    smp = pl.concat([heart_rate(CRAMP_HR).with_columns(source=pl.lit("watch")), both])
    eps, _ = run(seg, smp)
    assert evidence(eps)["steps"] == pytest.approx(12.0)


def test_params_change_the_outcome() -> None:
    seg = staged_night(awake=[("03:00", "03:08")])
    smp = concat([heart_rate(CRAMP_HR), steps(CRAMP_STEPS)])
    strict = replace(BRIEF, hr_rise_min_bpm=30.0, hr_rise_min_frac=0.6, name="strict")
    eps, cand = run(seg, smp, strict)
    assert eps.height == 0 and cand["suppressed_by"][0] == "rollover_or_phone"


@pytest.mark.parametrize("which", ["samples", "sleep_segments", "sleep_periods", "all"])
def test_empty_inputs_give_empty_episode_schema(which: str) -> None:
    seg = staged_night(awake=[("03:00", "03:08")])
    smp = concat([heart_rate(CRAMP_HR), steps(CRAMP_STEPS)])
    periods = detect_sleep_periods(seg)
    empty = pl.DataFrame()
    args = {
        "samples": empty if which in ("samples", "all") else smp,
        "sleep_segments": empty if which in ("sleep_segments", "all") else seg,
        "sleep_periods": empty if which in ("sleep_periods", "all") else periods,
    }
    out = detect_nocturnal_cramps(**args)
    assert out.height == 0
    assert out.schema == pl.Schema(EPISODE_SCHEMA)


def test_inputs_not_mutated() -> None:
    seg = staged_night(awake=[("03:00", "03:08")])
    smp = concat([heart_rate(CRAMP_HR), steps(CRAMP_STEPS)])
    periods = detect_sleep_periods(seg)
    copies = [seg.clone(), smp.clone(), periods.clone()]
    detect_nocturnal_cramps(smp, seg, periods)
    assert all(a.equals(b) for a, b in zip([seg, smp, periods], copies, strict=True))


def _synthetic_cohort(n_participants: int, n_nights: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Vectorised generator: watch-staged nights, 5-min HR, a wake and some steps each night."""
    rng = np.random.default_rng(7)
    seg_rows, smp_parts = [], []
    for k in range(n_participants):
        pid = f"p{k}"
        for n in range(n_nights):
            onset = datetime(2024, 1, 1, 21) + timedelta(days=n)  # naive UTC, tagged below
            wake_at = onset + timedelta(hours=3, minutes=int(rng.integers(0, 120)))
            ends = [wake_at, wake_at + timedelta(minutes=8), onset + timedelta(hours=8)]
            seg_rows += [
                (pid, onset, ends[0], 3600, "light"),
                (pid, ends[0], ends[1], 3600, "awake"),
                (pid, ends[1], ends[2], 3600, "deep"),
                (
                    pid,
                    onset - timedelta(minutes=10),
                    ends[2] + timedelta(minutes=5),
                    3600,
                    "in_bed",
                ),
            ]
            t = np.array(
                [onset + timedelta(minutes=5 * i + 2) for i in range(100)], dtype="datetime64[us]"
            )
            hr = 55 + rng.normal(0, 1.5, t.size)
            smp_parts.append(
                pl.DataFrame(
                    {
                        "participant_id": pid,
                        "metric": "heart_rate_bpm",
                        "start_utc": t,
                        "end_utc": t,
                        "utc_offset_s": 3600,
                        "value": hr,
                    }
                )
            )
            smp_parts.append(
                pl.DataFrame(
                    {
                        "participant_id": [pid],
                        "metric": ["steps"],
                        "start_utc": [wake_at + timedelta(minutes=2)],
                        "end_utc": [wake_at + timedelta(minutes=4)],
                        "utc_offset_s": [3600],
                        "value": [float(rng.integers(0, 150))],
                    }
                )
            )
    seg = pl.DataFrame(
        seg_rows,
        schema=["participant_id", "start_utc", "end_utc", "utc_offset_s", "stage"],
        orient="row",
    )
    seg = seg.with_columns(
        pl.col("start_utc", "end_utc").dt.replace_time_zone("UTC"),
        pl.col("utc_offset_s").cast(pl.Int32),
    )
    smp = pl.concat(smp_parts, how="vertical_relaxed").with_columns(
        pl.col("start_utc", "end_utc").dt.replace_time_zone("UTC"),
        pl.col("utc_offset_s").cast(pl.Int32),
    )
    return seg, smp


def test_two_participants_ninety_nights_of_clean_sleep() -> None:
    """A 2 x 90-night cohort gives one period per night (speed: benchmarks/detect.py)."""
    seg, smp = _synthetic_cohort(2, 90)
    periods = detect_sleep_periods(seg)
    eps = detect_nocturnal_cramps(smp, seg, periods)
    assert periods.height == 180
    assert eps.schema == pl.Schema(EPISODE_SCHEMA)


# --- seconds heart rate (Fitbit-style export): brief 7.2 abrupt rise sustained >= 60 s -------


def fine_hr(
    events: list[tuple[str, int, float]] = (),
    start: str = "22:40",
    end: str = "07:20",
    every_s: int = 5,
    base_bpm: float = 55.0,
) -> pl.DataFrame:
    """HR every ``every_s`` s: ``events`` = (local hh:mm onset, duration s, rise bpm); the rise
    is reached within 10 s and ends within 10 s."""
    t0, t1 = local(start), local(end)
    n = int((t1 - t0).total_seconds() // every_s)
    t = np.arange(n) * every_s
    hr = base_bpm + 0.8 * np.sin(t / 97.0) + 0.5 * np.cos(t / 13.0)
    for hhmm, dur, rise in events:
        s0 = (local(hhmm) - t0).total_seconds()
        hr += rise * np.clip((t - s0) / 10.0, 0, 1) * np.clip((s0 + dur + 10 - t) / 10.0, 0, 1)
    rows = [
        ("heart_rate_bpm", t0 + timedelta(seconds=int(x)), t0 + timedelta(seconds=int(x)), v)
        for x, v in zip(t, np.round(hr), strict=True)
    ]
    return samples(rows)


def test_seconds_hr_cramp_is_found_and_uses_the_fine_rule() -> None:
    seg = staged_night(awake=[("03:00", "03:06")])
    eps, cand = run(seg, concat([fine_hr([("03:00", 420, 22.0)]), steps(CRAMP_STEPS)]))
    assert eps.height == 1
    ev = evidence(eps)
    assert ev["method"] == "brief7.2_fine_hr"
    assert ev["hr_sample_spacing_s"] == 5
    assert ev["hr_sustained_s"] >= 60
    assert ev["hr_rise_30s_bpm"] >= 10
    assert abs((eps["start_utc"][0] - local("03:00")).total_seconds()) <= 120


def test_seconds_hr_brief_plm_like_bump_is_not_a_surge() -> None:
    # a 20-s rise of 18 bpm (PLM/arousal: ~10 beats) during a 3-min wake: not sustained
    seg = staged_night(awake=[("03:00", "03:03")])
    eps, cand = run(seg, fine_hr([("03:00", 20, 18.0)]))
    assert eps.height == 0
    ev = evidence(cand)
    assert ev["hr_sustained_s"] < 60
    assert cand["suppressed_by"][0] == "rollover_or_phone"


def test_seconds_hr_slow_drift_is_not_abrupt() -> None:
    # HR creeps up 15 bpm over 10 min during a phone-reading wake: sustained but not abrupt
    seg = staged_night(awake=[("03:00", "03:12")])
    base = fine_hr()
    t = base["start_utc"]
    ramp = (
        ((t - local("03:00")).dt.total_seconds() / 600).clip(0, 1)
        * 15
        * (t < local("03:20")).cast(pl.Float64)
    )
    eps, cand = run(seg, base.with_columns(value=pl.col("value") + ramp))
    assert eps.height == 0
    ev = evidence(cand)
    assert ev["hr_rise_30s_bpm"] < 10


def test_seconds_hr_surge_without_wake_stage_becomes_a_candidate() -> None:
    # the device missed the wake (no awake stage), but HR surged abruptly for 4 min; the
    # steps come early in it (HR still up after them, else it is movement_only_hr)
    seg = staged_night()
    _, cand = run(seg, concat([fine_hr([("03:00", 240, 24.0)]), steps([("03:01", "03:02", 12)])]))
    assert cand.height >= 1
    first = cand.filter(pl.col("suppressed_by").is_null())
    assert first.height == 1
    assert abs((first["start_utc"][0] - local("03:00")).total_seconds()) <= 120


def test_seconds_hr_walking_then_recovery_is_not_a_surge() -> None:
    # bathroom trip: 150 steps over 3 min, HR up only while walking -> vetoed as bathroom trip
    seg = staged_night(awake=[("03:00", "03:08")])
    smp = concat([fine_hr([("03:01", 180, 20.0)]), steps([("03:01", "03:04", 150)])])
    eps, cand = run(seg, smp)
    assert eps.height == 0
    assert cand["suppressed_by"][0] == "bathroom_trip"


def test_final_awakening_is_not_a_cramp() -> None:
    # an abrupt HR rise in the last minutes of the sleep period (getting up)
    seg = staged_night(awake=[("06:55", "06:58")])
    _, cand = run(seg, fine_hr([("06:55", 600, 25.0)]))
    assert "final_awakening" in cand["suppressed_by"].to_list()


def test_evidence_names_the_parameter_set() -> None:
    from detectors.calibration import params_id

    seg = staged_night(awake=[("03:00", "03:08")])
    eps, _ = run(seg, concat([heart_rate(CRAMP_HR), steps(CRAMP_STEPS)]))
    ev = evidence(eps)
    assert ev["params"] == BRIEF.name
    assert ev["params_id"] == params_id(BRIEF)
    other = replace(BRIEF, w_intercept=-3.0, name="fitted")
    eps2, _ = run(seg, concat([heart_rate(CRAMP_HR), steps(CRAMP_STEPS)]), other)
    assert evidence(eps2)["params_id"] == params_id(other) != ev["params_id"]


def test_night_features_frame_has_gaps_explicit_and_the_cramp_minutes() -> None:
    from detectors.cramps import NIGHT_FEATURES_SCHEMA, compute_night_features

    seg = staged_night(awake=[("03:00", "03:08")], gaps=[("05:00", "05:40")])
    smp = concat([heart_rate(CRAMP_HR, skip=[("05:00", "05:40")]), steps(CRAMP_STEPS)])
    feats = compute_night_features(smp, seg, detect_sleep_periods(seg))
    assert feats.schema == pl.Schema(NIGHT_FEATURES_SCHEMA)
    at3 = feats.filter(pl.col("minute_utc") == local("03:02")).row(0, named=True)
    assert at3["stage"] == "awake" and at3["candidate"]
    assert at3["hr_rel_bpm"] > 10
    off = feats.filter(
        (pl.col("minute_utc") >= local("05:10")) & (pl.col("minute_utc") < local("05:30"))
    )
    assert off["stage"].is_null().all() and off["hr_bpm"].is_null().all()
    asleep = feats.filter(pl.col("stage") == "asleep")
    assert abs(asleep["hr_rel_bpm"].median()) <= 1.0
    assert feats.filter(pl.col("minute_utc") == local("03:03"))["steps"][0] == pytest.approx(12)


# --- confounders added in cramp-0.2 (issue 4, real Fitabase nights): one hand-built night each


def test_seconds_hr_rise_only_while_moving_is_movement_only_hr() -> None:
    # 3 min of steps with HR +30 that is back at baseline in the minute after the steps
    seg = staged_night(awake=[("03:00", "03:03")])
    smp = concat([fine_hr([("03:00", 180, 30.0)]), steps([("03:00", "03:03", 45)])])
    eps, cand = run(seg, smp)
    assert eps.height == 0
    row = cand.filter(pl.col("start_utc") <= local("03:00")).tail(1)
    assert row["suppressed_by"][0] == "movement_only_hr"
    assert evidence(row)["hr_after_move_bpm"] < 60


def test_hr_resuming_high_after_a_long_gap_is_a_watch_off_edge() -> None:
    # no HR 02:45-03:00 (watch loose), then HR resumes at +35 for 2 min: sensor re-acquiring
    seg = staged_night(awake=[("03:00", "03:03")])
    hr = fine_hr([("03:00", 120, 35.0)]).filter(
        ~pl.col("start_utc").is_between(local("02:45"), local("03:00"), closed="left")
    )
    eps, cand = run(seg, concat([hr, steps([("03:01", "03:02", 8)])]))
    assert eps.height == 0
    row = cand.filter(pl.col("start_utc") <= local("03:00")).tail(1)
    assert row["suppressed_by"][0] == "watch_off"
    assert evidence(row)["hr_gap_before_onset_s"] > 300


def test_apple_cadence_gap_before_a_surge_is_not_a_watch_off_edge() -> None:
    # Apple Watch at rest samples HR every few minutes (here every 8 min, within the real
    # export's 3 s-10 min): the surge sample at 03:04 follows an ordinary 8-min gap, so it is
    # scored as a cramp (cramp-0.4 called every such peak a watch put back on)
    seg = staged_night(awake=[("03:00", "03:08")])
    hr = heart_rate({"03:04": 82, "03:12": 72, "03:20": 64}, every_min=8)
    eps, cand = run(seg, concat([hr, steps(CRAMP_STEPS)]))
    row = cand.filter(pl.col("start_utc") <= local("03:00")).tail(1)
    assert evidence(row)["hr_gap_before_onset_s"] > 300
    assert row["suppressed_by"][0] is None
    assert eps.height == 1 and eps["start_utc"][0] == local("03:00")
    # at the same cadence a 40-min hole (5 cadences) before the peak is still a watch-off edge
    hr = heart_rate({"03:04": 82, "03:12": 72, "03:20": 64}, every_min=8, skip=[("02:24", "03:04")])
    eps, cand = run(seg, concat([hr, steps(CRAMP_STEPS)]))
    row = cand.filter(pl.col("start_utc") <= local("03:00")).tail(1)
    assert row["suppressed_by"][0] == "watch_off" and eps.height == 0


def test_surge_followed_by_a_walk_within_ten_minutes_is_a_bathroom_trip() -> None:
    # getting up (surge, few steps), then the walk 5 min later after an unstaged gap
    seg = staged_night(awake=[("03:00", "03:02")])
    smp = concat(
        [
            fine_hr([("03:00", 600, 25.0)]),
            steps([("03:01", "03:02", 10), ("03:07", "03:10", 150)]),
        ]
    )
    eps, cand = run(seg, smp)
    first = cand.filter(pl.col("start_utc") <= local("03:01")).tail(1)
    assert first["suppressed_by"][0] == "bathroom_trip"
    assert evidence(first)["steps_following"] >= 100
    assert eps.filter(pl.col("start_utc") <= local("03:01")).height == 0


# --- cramp-0.3: the movement channel missing (issue 4, real Fitabase night) ----------------


def _at(hhmm: str, days: int = 0) -> datetime:
    return local(hhmm) + timedelta(days=days)


def test_no_movement_channel_around_the_segment_caps_confidence_below_possible() -> None:
    # the strong cramp of the first test, but the export's minute step and intensity files
    # begin 2 h after it (the real night: 1 h 44 min): nothing before it within 12 h
    seg = staged_night(awake=[("03:00", "03:08")])
    hr = heart_rate(CRAMP_HR)
    later = samples(
        [
            ("steps", _at("05:00"), _at("05:01"), 0),  # zero steps: present, not absent
            ("intensity_level", _at("05:00"), _at("05:01"), 0),
        ]
    )
    eps, cand = run(seg, concat([hr, later]))
    assert eps.height == 0
    assert cand.height == 1 and cand["suppressed_by"][0] is None
    ev = evidence(cand)
    assert ev["movement_channel_missing"] is True
    assert "movement_channel_missing" in ev["confidence_caps"]
    assert cand["confidence"][0] == pytest.approx(CrampParams().movement_missing_confidence_cap)
    # switched off, the HR evidence alone scores the night as likely (the cap did it)
    off = replace(CrampParams(), movement_channel_window_s=0)
    eps_off, cand_off = run(seg, concat([hr, later]), off)
    assert eps_off.height == 1 and cand_off["confidence"][0] >= 0.7
    assert evidence(cand_off)["movement_channel_missing"] is None
    # an HR-only export (no movement metric at all) is capped the same way
    _, cand_hr = run(seg, hr)
    assert evidence(cand_hr)["movement_channel_missing"] is True
    # movement only more than 12 h before and after does not count either
    far = samples(
        [
            ("steps", _at("14:00"), _at("14:01"), 40),  # 13 h before 03:00
            ("steps", _at("16:00", days=1), _at("16:01", days=1), 40),  # 13 h after 03:08
        ]
    )
    _, cand_far = run(seg, concat([hr, far]))
    assert evidence(cand_far)["movement_channel_missing"] is True


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # sparse Apple steps: the evening walk and the morning walk, none during the night
        (("steps", "20:00", "20:01", 25.0), ("steps", "08:30", "08:31", 40.0)),
        # a sedentary intensity row counts (zero, not absent), as does active energy
        (("intensity_level", "16:00", "16:01", 0.0), ("active_energy_kcal", "11:30", "11:31", 0.2)),
        # a Garmin intensity sample spanning the night counts for both sides
        (("activity_intensity", "22:00", "07:00", 0.0), None),
    ],
)
def test_movement_within_12_h_before_and_after_is_a_channel_without_night_steps(
    before: tuple[str, str, str, float], after: tuple[str, str, str, float] | None
) -> None:
    seg = staged_night(awake=[("03:00", "03:08")])
    given = [before] if after is None else [before, after]
    rows = [(m, local(a), local(b), v) for m, a, b, v in given]
    smp = concat([heart_rate(CRAMP_HR), samples(rows)])
    eps, cand = run(seg, smp)
    assert evidence(cand)["movement_channel_missing"] is False
    assert eps.height == 1 and eps["label"][0] == "likely"


def test_movement_channel_is_read_at_its_finest_resolution() -> None:
    # hourly intensity rows (a coarse copy) before the cramp, minute rows only after it:
    # the detector reads the minute channel, which has not started yet -> missing
    seg = staged_night(awake=[("03:00", "03:08")])
    hourly = samples(
        [("intensity_level", _at(f"{h:02d}:00"), _at(f"{h + 1:02d}:00"), 0.3) for h in range(0, 3)]
    ).with_columns(source=pl.lit("fitabase:hourly"))
    minute = samples(
        [
            (
                "intensity_level",
                _at("05:00") + timedelta(minutes=i),
                _at("05:00") + timedelta(minutes=i + 1),
                0,
            )
            for i in range(30)
        ]
    ).with_columns(source=pl.lit("fitabase:minute"))
    hr = heart_rate(CRAMP_HR).with_columns(source=pl.lit("fitabase:seconds"))
    _, cand = run(seg, pl.concat([hr, hourly, minute]))
    assert evidence(cand)["movement_channel_missing"] is True


def test_a_gap_beyond_any_device_cadence_is_a_watch_off_edge_on_a_sparse_night() -> None:
    # a night sampled every 12 min: three cadences (36 min) would pass a 23-min hole before
    # the peak as ordinary cadence; no device's resting cadence is that long (the real Apple
    # export: at most 10.3 min), so a gap over hr_gap_edge_max_s (20 min) is the watch coming
    # back whatever the night's median spacing (cramp-0.4.2)
    seg = staged_night(awake=[("03:00", "03:08")])
    over = {"03:04": 82, "03:16": 70, "03:28": 62}
    hr = heart_rate(over, start="22:28", every_min=12, skip=[("02:41", "03:04")])
    _, cand = run(seg, concat([hr, steps(CRAMP_STEPS)]))
    row = cand.filter(pl.col("start_utc") <= local("03:00")).tail(1)
    gap_s = evidence(row)["hr_gap_before_onset_s"]
    assert CrampParams().hr_gap_edge_max_s < gap_s < 3 * 12 * 60
    assert row["suppressed_by"][0] == "watch_off"
    # the same night without the hole: a 12-min gap is the cadence, the peak is scored
    hr = heart_rate(over, start="22:28", every_min=12)
    _, cand = run(seg, concat([hr, steps(CRAMP_STEPS)]))
    row = cand.filter(pl.col("start_utc") <= local("03:00")).tail(1)
    assert row["suppressed_by"][0] is None
