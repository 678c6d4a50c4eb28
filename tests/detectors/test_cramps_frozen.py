"""The cramp detector's output is unchanged by speed work: frozen candidates of cramp-0.1.

``tests/fixtures/cramps/frozen_cramp-0.1.parquet`` holds every scored candidate (times,
confidence, label, suppressing confounder, evidence) that the ``cramp-0.1`` code of
2026-11-26 (before the participant-level vectorisation) gave on

* the second generator's nights (``nightgen``, seed 202; 5-min HR with stages, seconds HR
  with stages, seconds HR without stages through the actigraphy fallback), and
* one participant-year of ``simulators/minute_year.py`` data (seconds HR in bed, minute steps).

The current code, with the confounder rules added after that date switched off (their
``CrampParams`` fields set so they never fire), must give the same rows: same segments,
same confidence and label, same suppressing confounder and the same evidence values
(evidence keys added later, ``params_id`` and the confounder name lists are not compared).

Regenerate only on purpose, from the code being frozen:
``uv run --frozen python -m tests.detectors.test_cramps_frozen --write``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from detectors.cramps import CrampParams, score_cramp_candidates
from detectors.sleep import detect_sleep
from simulators.nightgen import GenConfig, generate

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "cramps" / "frozen_cramp-0.1.parquet"
CASES = {
    "nightgen-hr300-stages": (300, True),
    "nightgen-hr1-stages": (1, True),
    "nightgen-hr1-actigraphy": (1, False),
}
#: evidence keys not compared: the parameter hash and the confounder name lists change
#: whenever a confounder is added; the rest must be identical
NOT_COMPARED = {"params_id", "params", "confounders_ruled_out", "confounders_present"}


def frozen_params() -> CrampParams:
    """Today's defaults with every rule added after cramp-0.1 switched off."""
    p = replace(CrampParams(), scorer="brief")  # the frozen outputs are the brief scorer's
    return replace(p, **_RULES_OFF)


#: CrampParams fields of later rules and the value that disables each
_RULES_OFF: dict[str, object] = {
    "hr_gap_edge_s": 0,
    "post_move_hr_check": False,
    "bathroom_follow_s": 0,
    "movement_channel_window_s": 0,
}


def _inputs(case: str) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    if case == "benchmark-year":
        from simulators.minute_year import participant_year  # noqa: PLC0415

        smp = participant_year(0, 20260101)
        periods, seg = detect_sleep(pl.DataFrame(), smp)
        return smp, seg, periods
    res, stages = CASES[case]
    g = generate(GenConfig(participants=3, nights=30, seed=202, hr_resolution_s=res, stages=stages))
    periods, seg = detect_sleep(g.sleep_segments if stages else g.sleep_segments.clear(), g.samples)
    return g.samples, seg, periods


def _candidates(case: str, params: CrampParams) -> pl.DataFrame:
    smp, seg, periods = _inputs(case)
    return score_cramp_candidates(smp, seg, periods, params=params).with_columns(case=pl.lit(case))


ALL_CASES = [*CASES, "benchmark-year"]


def _comparable(ev: str) -> dict:
    d = json.loads(ev)
    return {k: v for k, v in d.items() if k not in NOT_COMPARED}


def _without_params(ev: str) -> dict:
    """Evidence without the parameter set's ``params_id`` and ``params`` name."""
    d = json.loads(ev)
    for key in ("params_id", "params"):
        d.pop(key)
    return d


def _assert_frozen(got: pl.DataFrame, want: pl.DataFrame, normalise, new_keys: set[str]) -> None:
    """Same rows and columns as the frozen output; every frozen evidence value (after
    ``normalise``) unchanged, and only ``new_keys`` added."""
    assert got.height == want.height
    for col in ("participant_id", "night_of", "start_utc", "end_utc", "confidence", "label",
                "suppressed_by"):  # fmt: skip
        assert got[col].to_list() == want[col].to_list(), col
    for g, w in zip(got["evidence"].to_list(), want["evidence"].to_list(), strict=True):
        gd, wd = normalise(g), normalise(w)
        assert {k: gd.get(k) for k in wd} == wd
        assert set(gd) - set(wd) <= new_keys


@pytest.mark.parametrize("case", ALL_CASES)
def test_candidates_equal_the_frozen_cramp_0_1_output(case: str) -> None:
    want = pl.read_parquet(FIXTURE).filter(pl.col("case") == case)
    assert want.height > 0
    got = _candidates(case, frozen_params())
    _assert_frozen(got, want, _comparable, NEW_EVIDENCE_KEYS)


#: evidence keys added by cramp-0.4 (order-of-events features, scorer, rules that fired)
CRAMP_04_KEYS = {
    "scorer",
    "hr_rise_lying_bpm",
    "hr_rise_moving_bpm",
    "hr_lead_s",
    "hr_post_bpm",
    "stepped",
    "steps_before_peak",
    "since_onset_min",
    "rules",
}
#: evidence keys added after cramp-0.1 (absent from the fixture)
NEW_EVIDENCE_KEYS = CRAMP_04_KEYS | {
    "hr_after_move_bpm",
    "hr_gap_before_onset_s",
    "steps_following",
    "movement_observed",
    "movement_channel_missing",
}


if __name__ == "__main__" and "--write" in sys.argv:
    frames = [_candidates(c, replace(CrampParams(), scorer="brief")) for c in ALL_CASES]
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    pl.concat(frames).write_parquet(FIXTURE, compression="zstd", compression_level=19)
    print(FIXTURE, FIXTURE.stat().st_size, "bytes", sum(f.height for f in frames), "rows")


# --- cramp-0.2 (frozen 2026-11-26, before the second speed round) -------------------------

FIXTURE_02 = FIXTURE.with_name("frozen_cramp-0.2.parquet")
#: other inputs than the cramp-0.1 fixture: nightgen seed 303 and benchmark years 1 and 2
CASES_02 = {
    "nightgen303-hr300-stages": (303, 300, True),
    "nightgen303-hr1-stages": (303, 1, True),
    "nightgen303-hr1-actigraphy": (303, 1, False),
    "benchmark-year-1": (None, 1, None),
    "benchmark-year-2": (None, 2, None),
}


def frozen_params_02() -> CrampParams:
    """Today's defaults with every rule added after cramp-0.2 switched off."""
    return replace(CrampParams(), scorer="brief", **_RULES_OFF_02)


#: CrampParams fields of rules added after cramp-0.2 and the value that disables each
_RULES_OFF_02: dict[str, object] = {"movement_channel_window_s": 0}


def _candidates_02(case: str, params: CrampParams) -> pl.DataFrame:
    seed, x, stages = CASES_02[case]
    if seed is None:
        from simulators.minute_year import participant_year  # noqa: PLC0415

        smp = participant_year(x, 20260101)
        periods, seg = detect_sleep(pl.DataFrame(), smp)
    else:
        g = generate(
            GenConfig(participants=3, nights=30, seed=seed, hr_resolution_s=x, stages=stages)
        )
        periods, seg = detect_sleep(
            g.sleep_segments if stages else g.sleep_segments.clear(), g.samples
        )
        smp = g.samples
    return score_cramp_candidates(smp, seg, periods, params=params).with_columns(case=pl.lit(case))


#: evidence keys added after cramp-0.2 (absent from the cramp-0.2 fixture)
NEW_EVIDENCE_KEYS_02: set[str] = {"movement_channel_missing"} | CRAMP_04_KEYS


@pytest.mark.parametrize("case", list(CASES_02))
def test_candidates_equal_the_frozen_cramp_0_2_output(case: str) -> None:
    """Every column and every evidence value (except the parameter set's ``params_id`` and
    ``params`` name) as cramp-0.2 gave them."""
    want = pl.read_parquet(FIXTURE_02).filter(pl.col("case") == case)
    assert want.height > 0
    got = _candidates_02(case, frozen_params_02())
    _assert_frozen(got, want, _without_params, NEW_EVIDENCE_KEYS_02)


if __name__ == "__main__" and "--write-0.2" in sys.argv:
    frames = [_candidates_02(c, replace(CrampParams(), scorer="brief")) for c in CASES_02]
    pl.concat(frames).write_parquet(FIXTURE_02, compression="zstd", compression_level=19)
    print(FIXTURE_02, FIXTURE_02.stat().st_size, "bytes", sum(f.height for f in frames), "rows")


def _participant_pre(data, ps, pe, p: CrampParams) -> list:
    """``cramp_prep._chunk_pre`` of several nights, cut back into per-night ``NightPre``."""
    from detectors import cramp_prep
    from tests.detectors import cramp_reference

    c = cramp_prep._chunk_pre(data, ps, pe, p)
    out = []
    for i in range(c.m):
        a, b = c.first[i], c.first[i] + c.n[i]
        out.append(
            cramp_reference.NightPre(
                asleep_cov=c.asleep_cov[a:b],
                awake_cov=c.awake_cov[a:b],
                staged=bool(c.staged[i]),
                hr_raw=c.hr_raw[a:b],
                src=c.src[a:b],
                hr_s=c.hr_s[a:b],
                spacing_s=float(c.spacing[i]),
                hr_fine=c.hr_fine[i],
            )
        )
    return out


@pytest.mark.parametrize("case", ["nightgen-hr1-stages", "nightgen-hr300-stages"])
def test_participant_pass_equals_the_per_night_reference(case: str) -> None:
    """``_participant_pre`` (all nights at once) == ``night_pre`` (each night alone)."""
    import numpy as np

    from detectors import cramp_prep
    from tests.detectors import cramp_reference

    smp, seg, periods = _inputs(case)
    for pid in periods["participant_id"].unique().to_list():
        per = periods.filter(pl.col("participant_id") == pid).sort("start_utc")
        s = smp.filter(pl.col("participant_id") == pid).select(
            "participant_id",
            "metric",
            s=pl.col("start_utc").dt.epoch("us"),
            e=pl.col("end_utc").dt.epoch("us"),
            v="value",
            src=pl.lit(""),
        )
        g = seg.filter(pl.col("participant_id") == pid).select(
            "participant_id",
            "stage",
            s=pl.col("start_utc").dt.epoch("us"),
            e=pl.col("end_utc").dt.epoch("us"),
        )
        data = cramp_prep._ParticipantData.build(cramp_prep._split_by_participant(s)[pid], g)
        ps = per["start_utc"].dt.epoch("us").to_numpy()
        pe = per["end_utc"].dt.epoch("us").to_numpy()
        fast = _participant_pre(data, ps, pe, CrampParams())
        for a, b, f in zip(ps.tolist(), pe.tolist(), fast, strict=True):
            ref = cramp_reference.night_pre(data, a, b, CrampParams())
            for name in ("asleep_cov", "awake_cov", "hr_raw", "src", "hr_s"):
                np.testing.assert_array_equal(getattr(f, name), getattr(ref, name), name)
            assert f.staged == ref.staged
            assert (f.spacing_s == ref.spacing_s) or (
                f.spacing_s != f.spacing_s and ref.spacing_s != ref.spacing_s
            )
            if ref.hr_fine is None:
                assert f.hr_fine is None
            else:
                np.testing.assert_array_equal(f.hr_fine, ref.hr_fine)
