"""The case-crossover likelihood corrected for false case nights (detectors/trigger_misclass.py):
closed-form answers on matched pairs, agreement with statsmodels' ConditionalLogit when every
case is certain, and the correction's direction on a simulated person."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from detectors import trigger_misclass as tm
from detectors import triggers as tr


def _pairs(exposed_cases: int, unexposed_cases: int, ppv: float) -> pl.DataFrame:
    """Matched pairs (one exposed, one unexposed night each); the case is the exposed night
    in ``exposed_cases`` pairs and the unexposed one in the rest."""
    rows = []
    for s in range(exposed_cases + unexposed_cases):
        case_x = 1 if s < exposed_cases else 0
        for x in (1, 0):
            case = int(x == case_x)
            rows.append((f"p|{s}", case, x, ppv if case else None))
    return pl.DataFrame(
        rows, schema=["stratum", "case", "x", "case_ppv"], orient="row"
    ).with_columns(participant_id=pl.lit("p"), night_of=pl.lit(date(2025, 1, 1)))


@pytest.mark.parametrize(("a", "b", "w"), [(60, 40, 1.0), (60, 40, 0.8), (30, 10, 0.9)])
def test_matched_pairs_have_the_closed_form_answer(a, b, w):
    # P(the exposed night is the case) = w psi/(1+psi) + (1-w)/2 = a/(a+b) at the MLE
    f = a / (a + b)
    share = (f - (1 - w) / 2) / w
    psi = share / (1 - share)
    (orr, lo, hi, p) = tm.corrected_logit(_pairs(a, b, w), ["x"])[0]
    assert orr == pytest.approx(psi, rel=1e-6)
    assert lo < orr < hi and 0 < p < 1
    if w == 1.0:  # the uncorrected pair estimate: a/b, SE sqrt(1/a + 1/b)
        se = math.sqrt(1 / a + 1 / b)
        assert orr == pytest.approx(a / b, rel=1e-6)
        assert lo == pytest.approx(a / b * math.exp(-1.959964 * se), rel=1e-4)


def test_a_lower_ppv_moves_the_estimate_away_from_one_and_widens_the_interval():
    sure = tm.corrected_logit(_pairs(60, 40, 1.0), ["x"])[0]
    unsure = tm.corrected_logit(_pairs(60, 40, 0.7), ["x"])[0]
    assert unsure[0] > sure[0] > 1
    assert math.log(unsure[2] / unsure[1]) > math.log(sure[2] / sure[1])
    # when the cases are no more exposed than chance, no PPV makes an effect
    null = tm.corrected_logit(_pairs(50, 50, 0.6), ["x"])[0]
    assert null[0] == pytest.approx(1.0, abs=1e-6)


def test_certain_cases_agree_with_statsmodels_conditional_logit():
    rng = np.random.default_rng(3)
    rows = []
    for s in range(400):  # sets of 4-5 nights, one case, two exposures
        n = int(rng.integers(4, 6))
        x1 = rng.random(n) < 0.3
        x2 = rng.random(n) < 0.5
        lp = 0.9 * x1 + 0.4 * x2
        case = rng.choice(n, p=np.exp(lp) / np.exp(lp).sum())
        for j in range(n):
            rows.append((f"p|{s}", int(j == case), int(x1[j]), int(x2[j]), 1.0))
    f = pl.DataFrame(rows, schema=["stratum", "case", "x1", "x2", "case_ppv"], orient="row")
    ours = tm.corrected_logit(f, ["x1", "x2"])
    theirs = tr.conditional_logit(f, ["x1", "x2"])
    for (o, lo, hi, _), (o2, lo2, hi2, _) in zip(ours, theirs, strict=True):
        assert o == pytest.approx(o2, rel=1e-3)  # statsmodels stops at its own tolerance
        assert lo == pytest.approx(lo2, rel=1e-3) and hi == pytest.approx(hi2, rel=1e-3)


def test_false_case_nights_are_corrected_on_a_simulated_person_year():
    """Five years of one person: real cramps follow an exposure with OR 3; a fifth of the
    case nights are false reports on random nights. The uncorrected estimate is pulled
    towards 1; the corrected one, told the PPV, is not."""
    rng = np.random.default_rng(11)
    days = 5 * 365
    start = date(2020, 1, 1)
    nights = [start + timedelta(days=i) for i in range(days)]
    x = rng.random(days) < 0.3
    p = 1 / (1 + np.exp(-(-2.4 + math.log(3.0) * x)))
    real = rng.random(days) < p
    false = ~real & (rng.random(days) < 0.035)
    case = real | false
    ppv = real.sum() / case.sum()
    frame = pl.DataFrame(
        {
            "participant_id": "p",
            "night_of": nights,
            "case": case.astype(np.int8),
            "case_source": "journal",
            "case_ppv": np.where(case, ppv, np.nan),
        }
    ).with_columns(pl.col("case_ppv").fill_nan(None))
    exposures = pl.DataFrame(
        {"participant_id": "p", "night_of": nights, "lag": "0-24h", "trigger": "t", "x": x}
    ).with_columns(pl.col("x").cast(pl.Int8))
    f = tr.analysis_frame(frame, exposures)
    naive = tm.corrected_logit(f.with_columns(case_ppv=pl.lit(1.0)), ["x"])[0]
    fixed = tm.corrected_logit(f, ["x"])[0]
    assert 0.7 < ppv < 0.9
    assert naive[0] < fixed[0]
    assert abs(math.log(fixed[0] / 3.0)) < abs(math.log(naive[0] / 3.0))
    assert fixed[1] <= 3.0 <= fixed[2]


def test_case_nights_carry_the_ppv_of_their_sources():
    utc = pl.Datetime("us", "UTC")
    journal = pl.DataFrame(
        {
            "participant_id": ["a", "a"],
            "time_utc": [datetime(2025, 3, 2, 3, tzinfo=UTC), datetime(2025, 3, 5, 3, tzinfo=UTC)],
            "utc_offset_s": [0, 0],
            "kind": ["cramp", "cramp"],
        }
    )
    episodes = pl.DataFrame(
        {
            "episode_id": ["e1", "e2"],
            "participant_id": ["a", "a"],
            "kind": ["nocturnal_cramp"] * 2,
            "local_date": [date(2025, 3, 1), date(2025, 3, 3)],
            "confidence": [0.8, 0.75],
        }
    )
    sleep = pl.DataFrame(
        {
            "participant_id": ["a"] * 4,
            "night_of": [date(2025, 3, d) for d in range(1, 5)],
            "start_utc": [datetime(2025, 3, d, 23, tzinfo=UTC) for d in range(1, 5)],
            "end_utc": [datetime(2025, 3, d + 1, 7, tzinfo=UTC) for d in range(1, 5)],
        }
    )
    labels = pl.DataFrame(
        schema={
            "participant_id": pl.String,
            "episode_id": pl.String,
            "label": pl.String,
            "start_utc": utc,
        }
    )
    n = tr.case_nights(journal, labels, episodes, sleep, ["journal", "likely"])
    got = dict(n.filter(pl.col("case") == 1).select("night_of", "case_ppv").iter_rows())
    assert got[date(2025, 3, 1)] == pytest.approx(1 - (1 - tm.JOURNAL_PPV) * (1 - 0.8))
    assert got[date(2025, 3, 3)] == pytest.approx(0.75)
    assert got[date(2025, 3, 4)] == pytest.approx(tm.JOURNAL_PPV)
    assert n.filter(pl.col("case") == 0)["case_ppv"].is_null().all()


def test_case_crossover_corrects_only_when_a_case_night_may_be_false():
    from simulators.trigger_cohort import CohortParams, simulate_cohort

    cohort = simulate_cohort(7, CohortParams(people=3, days=365))
    ex = tr.exposure_long(cohort.daily)
    nights = cohort.nights["journal"]
    sure = tr.case_crossover(
        tr.analysis_frame(nights.with_columns(case_ppv=pl.lit(1.0)), ex), adjusted=False
    )
    unsure = tr.case_crossover(
        tr.analysis_frame(nights.with_columns(case_ppv=pl.when(pl.col("case") > 0).then(0.9)), ex),
        adjusted=False,
    )
    est = pl.col("status") == "estimated"
    assert set(sure.filter(est)["method"]) <= {"mantel_haenszel", "exact_conditional"}
    assert set(unsure.filter(est)["method"]) == {tr.METHOD_CORRECTED}
    assert unsure["case_ppv"].drop_nulls().to_list() == pytest.approx([0.9] * unsure.height)
