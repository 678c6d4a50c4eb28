"""Regression floor: the cramp detector scored on the second generator's nights.

The generator (``simulators/nightgen.py``) was written independently of
``sample_data/generate.py``. Detector development used seed 11 only; these tests score
seed 202, which no threshold was ever looked at against. The floors sit below the scores
measured when they were written (stated per case) so that a change which makes the
detector worse fails, while the seed's own noise does not.
"""

from __future__ import annotations

import pytest

from detectors.cramps import detect_nocturnal_cramps
from detectors.sleep import detect_sleep
from pipeline.evaluate import EXACT_TOLERANCE_S, score_events
from simulators.nightgen import GenConfig, generate

SEED = 202  # held out: never used while choosing thresholds (development used seed 11)

# (hr_resolution_s, device stages) -> (F1 floor, F1 measured with cramp-0.3 / actigraphy-0.2).
# The floors are issue 4's targets: >= 0.8 with 5-minute HR and stages, >= 0.9 with seconds HR.
CASES = {
    (300, True): (0.80, 0.875),
    (1, True): (0.90, 0.97),
    (1, False): (0.90, 0.98),
}


@pytest.fixture(scope="module", params=list(CASES), ids=lambda c: f"hr{c[0]}s-stages{c[1]}")
def scored(request):
    res, stages = request.param
    g = generate(
        GenConfig(participants=3, nights=30, seed=SEED, hr_resolution_s=res, stages=stages)
    )
    periods, seg = detect_sleep(g.sleep_segments if stages else g.sleep_segments.clear(), g.samples)
    eps = detect_nocturnal_cramps(g.samples, seg, periods)
    overall = score_events(
        eps, g.truth_of("nocturnal_cramp"), tolerance_s=EXACT_TOLERANCE_S, nights=g.nights
    )[-1]
    return request.param, g, periods, eps, overall


def test_f1_above_floor(scored) -> None:
    case, _, _, _, s = scored
    floor = CASES[case][0]
    assert s.f1 >= floor, (case, s.as_dict())


def test_onset_error_median_below_2_min(scored) -> None:
    _, _, _, _, s = scored
    assert s.onset_error_median_s < 120


def test_false_alarms_per_night_low(scored) -> None:
    _, _, _, _, s = scored
    assert s.false_alarms_per_night <= 0.1


def test_every_night_with_data_gets_a_sleep_period(scored) -> None:
    case, g, periods, _, _ = scored
    whole_off = (
        g.truth_of("watch_off")
        .filter(
            (
                g.truth_of("watch_off")["end_utc"] - g.truth_of("watch_off")["start_utc"]
            ).dt.total_hours()
            > 6
        )
        .height
    )
    assert periods.height >= sum(g.nights.values()) - whole_off - 2
    assert set(periods["method"].unique()) == ({"device_stages"} if case[1] else {"cole1992+hr"})
