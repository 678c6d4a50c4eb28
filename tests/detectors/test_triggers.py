"""detectors.triggers: case-crossover estimates against independent computations, honest
small samples, case sources, and a small version of the simulated-cohort evaluation."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from detectors import triggers as tr
from simulators.trigger_cohort import CohortParams, simulate_cohort

# three matched sets (strata), each a 2x2 table of nights:
#              case  non-case
#   exposed     a       c
#   unexposed   b       d
TABLES = [(2, 1, 1, 3), (1, 0, 2, 2), (3, 2, 1, 4), (1, 1, 0, 3)]  # (a, b, c, d)


def _nights_from_tables(tables) -> pl.DataFrame:
    """Analysis-frame rows: one night per cell member, each table its own stratum."""
    rows = []
    for s, (a, b, c, d) in enumerate(tables):
        for case, x, count in ((1, 1, a), (1, 0, b), (0, 1, c), (0, 0, d)):
            rows += [("p1", f"s{s}", case, x)] * count
    f = pl.DataFrame(
        rows,
        schema={"participant_id": pl.String, "stratum": pl.String, "case": pl.Int8, "x": pl.Int8},
        orient="row",
    )
    return f.with_columns(
        trigger=pl.lit("heat_index_caution"),
        lag=pl.lit("0-24h"),
        case_source=pl.lit("journal"),
        night_of=pl.date(2025, 1, 1) + pl.duration(days=pl.int_range(pl.len())),
    )


def test_mantel_haenszel_matches_the_hand_worked_estimate_and_statsmodels():
    # by hand: OR_MH = sum(a d / n) / sum(b c / n)
    num = sum(a * d / (a + b + c + d) for a, b, c, d in TABLES)
    den = sum(b * c / (a + b + c + d) for a, b, c, d in TABLES)
    # (2*3/7 + 1*2/5 + 3*4/10 + 1*3/5) / (1*1/7 + 0 + 2*1/10 + 0)
    assert num == pytest.approx(6 / 7 + 2 / 5 + 12 / 10 + 3 / 5)
    assert den == pytest.approx(1 / 7 + 2 / 10)
    frame = _nights_from_tables(TABLES)
    tabs = tr.stratum_tables(frame, [])
    orr, lo, hi, p = tr.mantel_haenszel(tabs)
    assert orr == pytest.approx(num / den)
    # Robins-Breslow-Greenland variance, by hand
    P = [(a + d) / (a + b + c + d) for a, b, c, d in TABLES]
    Q = [(b + c) / (a + b + c + d) for a, b, c, d in TABLES]
    R = [a * d / (a + b + c + d) for a, b, c, d in TABLES]
    S = [b * c / (a + b + c + d) for a, b, c, d in TABLES]
    var = (
        sum(p_ * r for p_, r in zip(P, R, strict=True)) / (2 * sum(R) ** 2)
        + sum(p_ * s + q * r for p_, q, r, s in zip(P, Q, R, S, strict=True))
        / (2 * sum(R) * sum(S))
        + sum(q * s for q, s in zip(Q, S, strict=True)) / (2 * sum(S) ** 2)
    )
    z = 1.959963984540054
    assert lo == pytest.approx(math.exp(math.log(num / den) - z * math.sqrt(var)))
    assert hi == pytest.approx(math.exp(math.log(num / den) + z * math.sqrt(var)))
    # a second implementation: statsmodels' StratifiedTable (tables as [[a, b], [c, d]] with
    # rows exposure and columns case / non-case, the same orientation as above)
    from statsmodels.stats.contingency_tables import StratifiedTable

    st = StratifiedTable([np.array([[a, c], [b, d]], float) for a, b, c, d in TABLES])
    assert orr == pytest.approx(st.oddsratio_pooled)
    assert math.log(hi / lo) / (2 * z) == pytest.approx(st.logodds_pooled_se)
    assert p == pytest.approx(st.test_null_odds(correction=False).pvalue)


def test_exact_conditional_single_table_matches_scipy():
    from scipy.stats.contingency import odds_ratio

    a, b, c, d = 7, 2, 3, 9
    frame = _nights_from_tables([(a, b, c, d)])
    est, lo, hi, p = tr.exact_conditional(tr.stratum_tables(frame, []))
    ref = odds_ratio([[a, c], [b, d]], kind="conditional")
    ci = ref.confidence_interval(0.95)
    assert est == pytest.approx(ref.statistic, rel=1e-4)
    assert lo == pytest.approx(ci.low, rel=1e-3) and hi == pytest.approx(ci.high, rel=1e-3)
    from scipy.stats import fisher_exact

    assert p == pytest.approx(fisher_exact([[a, c], [b, d]]).pvalue, rel=1e-6)


def test_separation_falls_back_to_the_exact_method():
    # every case night exposed: MH's denominator is 0, the exact CI is one-sided
    tables = [(1, 0, 1, 2), (1, 0, 0, 3), (2, 0, 1, 2)] * 4
    frame = _nights_from_tables(tables)
    s = tr.summarise_tables(tr.stratum_tables(frame, ["trigger", "lag"]), ["trigger", "lag"])
    assert s["S"][0] == 0
    out = tr.case_crossover(
        frame, pooled=False, adjusted=False, triggers=[tr.TRIGGER_BY_KEY["heat_index_caution"]]
    )
    row = out.filter(pl.col("lag") == "0-24h").row(0, named=True)
    assert row["method"] == "exact_conditional" and row["status"] == "estimated"
    assert row["ci_high"] is None and row["ci_low"] > 1


def test_mantel_haenszel_agrees_with_conditional_logit_on_a_simulated_person():
    cohort = simulate_cohort(7, CohortParams(people=3))
    frame = tr.analysis_frame(cohort.nights["true"], tr.exposure_long(cohort.daily))
    mh = tr.case_crossover(frame, adjusted=False)
    clr = tr.case_crossover(frame, adjusted=False, method="conditional_logit")
    j = mh.join(clr, on=["participant_id", "trigger", "lag"], suffix="_clr").filter(
        (pl.col("method") == "mantel_haenszel") & (pl.col("method_clr") == "conditional_logit")
    )
    assert j.height >= 10
    d = (j["odds_ratio"].log() - j["odds_ratio_clr"].log()).abs()
    se = (j["ci_high_clr"].log() - j["ci_low_clr"].log()) / (2 * 1.959963984540054)
    # MH is not the conditional MLE: in sparse per-person tables they differ by a small
    # fraction of the standard error; pooled (dense) rows agree closely
    assert (d / se).max() < 0.35 and (d / se).median() < 0.05
    pooled = j.filter(pl.col("participant_id") == "all")
    ratio = (d / se).filter(j["participant_id"] == "all")
    assert pooled.height >= 5 and ratio.max() < 0.35 and ratio.median() < 0.05


def test_too_few_cramps_give_insufficient_data_with_nights_needed_on_every_row():
    cohort = simulate_cohort(3, CohortParams(people=1, days=120, cramp_nights_per_week=0.4))
    out = tr.analyse(cohort.daily, cohort.nights["true"])
    assert out.height == len(tr.TRIGGERS) * len(tr.LAGS)
    assert (out["status"] == "insufficient_data").all()
    assert out["odds_ratio"].is_null().all()
    known = out.filter(pl.col("cases") > 0)
    assert known.height > 0 and (known["more_nights_needed"] > 0).all()
    # the always-known exposures need a stated number of nights
    heat = out.filter((pl.col("trigger") == "heat_index_caution") & (pl.col("lag") == "0-24h"))
    assert heat["more_nights_needed"][0] is not None


def test_nights_needed_follows_the_brief_formula():
    # sigma_w^2 = 0.25 (half the nights exposed), M = 3: SE = 1 / sqrt(n 3/4 0.25)
    sums = {
        "ss_within": 0.25 * 300,
        "df_within": 300,
        "share_varying": 1.0,
        "mean_n": 4.0,
        "cases": 0,
        "discordant_sets": 0,
    }
    se = math.log(2.0) / (1.959963984540054 + 0.8416212335729143)
    assert tr.nights_needed(sums) == math.ceil(1 / (se**2 * 0.75 * 0.25))
    assert tr.nights_needed({**sums, "ss_within": 0.0}) is None


def test_fdr_q_values_are_benjamini_hochberg_per_person():
    cohort = simulate_cohort(11, CohortParams(people=2))
    out = tr.analyse(cohort.daily, cohort.nights["true"], adjusted=False)
    for pid in ("s001", "all"):
        f = out.filter((pl.col("participant_id") == pid) & pl.col("p").is_not_null())
        p = np.sort(f["p"].to_numpy())
        m = p.size
        q = np.minimum.accumulate((p * m / np.arange(1, m + 1))[::-1])[::-1]
        assert np.allclose(np.sort(f["q"].to_numpy()), np.minimum(q, 1))


def test_case_sources_default_to_trusted_labels_first():
    t = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # 03:00 local at +3600: the night of 2 March
    journal = pl.DataFrame(
        {
            "participant_id": ["a", "a"],
            "time_utc": [t, t + timedelta(days=9)],
            "utc_offset_s": [3600, 3600],
            "kind": ["cramp", "no_cramp"],
        }
    )
    labels = pl.DataFrame(
        schema={
            "participant_id": pl.String,
            "episode_id": pl.String,
            "label": pl.String,
            "start_utc": pl.Datetime("us", "UTC"),
        }
    )
    episodes = pl.DataFrame(
        {
            "episode_id": ["e1", "e2"],
            "participant_id": ["a", "b"],
            "kind": ["nocturnal_cramp"] * 2,
            "local_date": [date(2025, 3, 5), date(2025, 3, 6)],
            "confidence": [0.9, 0.8],
        }
    )
    sp = pl.DataFrame(
        {
            "participant_id": ["b"] * 3,
            "night_of": [date(2025, 3, d) for d in (5, 6, 7)],
            "start_utc": [datetime(2025, 3, d, 22, tzinfo=UTC) for d in (5, 6, 7)],
            "end_utc": [datetime(2025, 3, d + 1, 6, tzinfo=UTC) for d in (5, 6, 7)],
        }
    )
    n = tr.case_nights(journal, labels, episodes, sp)
    a = n.filter(pl.col("participant_id") == "a")
    assert a["case_source"].unique().to_list() == ["journal+confirmed"]
    assert a.height == 10 and a.filter(pl.col("case") == 1)["night_of"].to_list() == [
        date(2025, 3, 2)
    ]  # the likely episode of 'a' is not used: trusted first
    b = n.filter(pl.col("participant_id") == "b")
    assert b["case_source"].unique().to_list() == ["likely"]
    assert b.filter(pl.col("case") == 1)["night_of"].to_list() == [date(2025, 3, 6)]
    both = tr.case_nights(journal, labels, episodes, sp, ["journal", "likely"])
    assert both.filter((pl.col("participant_id") == "a") & (pl.col("case") == 1)).height == 2


def test_confirmed_and_missed_labels_are_cases():
    labels = pl.DataFrame(
        {
            "participant_id": ["a"] * 3,
            "episode_id": ["e1", None, "e3"],
            "label": ["confirmed", "missed", "rejected"],
            "start_utc": [datetime(2025, 3, d, 2, tzinfo=UTC) for d in (3, 5, 8)],
        }
    )
    episodes = pl.DataFrame(
        {
            "episode_id": ["e1", "e3"],
            "participant_id": ["a", "a"],
            "kind": ["nocturnal_cramp"] * 2,
            "local_date": [date(2025, 3, 2), date(2025, 3, 7)],
            "confidence": [0.5, 0.9],
        }
    )
    empty_j = pl.DataFrame(
        schema={
            "participant_id": pl.String,
            "time_utc": pl.Datetime("us", "UTC"),
            "utc_offset_s": pl.Int32,
            "kind": pl.String,
        }
    )
    empty_sp = pl.DataFrame(
        schema={
            "participant_id": pl.String,
            "night_of": pl.Date,
            "start_utc": pl.Datetime("us", "UTC"),
            "end_utc": pl.Datetime("us", "UTC"),
        }
    )
    n = tr.case_nights(empty_j, labels, episodes, empty_sp, ["confirmed"])
    assert n.filter(pl.col("case") == 1)["night_of"].to_list() == [
        date(2025, 3, 2),
        date(2025, 3, 4),
    ]
    assert n.height == 6  # 2 to 7 March


def test_context_and_between_person_rates():
    daily = pl.DataFrame(
        {
            "participant_id": ["a", "b", "c"],
            "local_date": [date(2025, 1, 1)] * 3,
            "cramp_condition_classes": [["type2_diabetes"], [], []],
            "cramp_drug_classes": [["thiazide_diuretic"], ["thiazide_diuretic"], []],
        }
    )
    ctx = tr.context_triggers(daily)
    assert set(ctx.filter(pl.col("participant_id") == "a")["evidence_grade"]) == {"B", "C"}
    nights = pl.DataFrame(
        {
            "participant_id": ["a"] * 100 + ["b"] * 100 + ["c"] * 100,
            "case": [1] * 30 + [0] * 70 + [1] * 20 + [0] * 80 + [1] * 10 + [0] * 90,
        }
    )
    r = tr.between_person_rates(nights, daily).filter(pl.col("trigger") == "thiazide_diuretic")
    row = r.row(0, named=True)
    assert row["rate_ratio"] == pytest.approx((50 / 200) / (10 / 100))
    assert row["ci_low"] < row["rate_ratio"] < row["ci_high"] and "confounding" in row["caveat"]


def test_small_simulated_cohort_pooled_estimates_cover_the_truth():
    """A small version of evaluation/triggers.py (full run: docs/triggers.md)."""
    from evaluation.triggers import evaluate, summarise

    s = summarise(evaluate(seeds=4, people=8, agreement_seeds=0))["pooled"]
    real = s.filter(pl.col("trigger").is_in(["heat_index_caution", "dehydration_condition_day"]))
    assert real["coverage"].mean() >= 0.75
    assert real.filter(pl.col("trigger") == "dehydration_condition_day")["excludes_1"].min() >= 0.5
    mg = s.filter(pl.col("trigger") == "magnesium_low")
    assert mg["excludes_1"].mean() <= 0.25
