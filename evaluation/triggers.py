"""Trigger statistics on simulated cohorts with known odds ratios (issue 14).

For each seed, ``simulators.trigger_cohort`` draws a cohort (default 20 people x 1 year,
about one cramp night a week; injected ORs: dehydration-condition day 3, heat-index caution
day 2, magnesium below the RDA 1, exercise load 1 given the others), and
``detectors.triggers.analyse`` runs on three case sources: the true cramp nights, a noisy
journal (70 % reported, false reports on 1 % of other nights) and imperfect detections (75 %
recall, false alarms on 2 % of nights). Reported per source, over the seeds:

* pooled (``participant_id = 'all'``) 95 % CI coverage of the injected OR, lag 0-24 h:
  heat, dehydration and exercise from the mutually adjusted model (heat and dehydration
  are correlated in the simulator, as in life, so a one-exposure OR of heat is not the
  injected one), magnesium from its one-exposure row (independent of the rest);
* power: the share of seeds whose pooled CI excludes 1 for heat and dehydration;
* per person: the share of people with an estimate (not ``insufficient_data``) and the
  coverage of those estimates;
* the agreement of the closed-form Mantel-Haenszel with statsmodels' ConditionalLogit on
  the one-exposure pooled rows (first seeds, true nights).

Run: ``uv run --frozen python -m evaluation.triggers [--seeds 50 --people 20]``. The full
run's figures are in docs/triggers.md.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import replace

import polars as pl

from detectors import trigger_misclass as tm
from detectors import triggers as tr
from simulators.trigger_cohort import TRUE_OR, CohortParams, simulate_cohort

SOURCES = ("true", "journal", "likely")
#: (trigger, model) evaluated against the injected OR at lag 0-24 h
TARGETS = (
    ("heat_index_caution", "adjusted"),
    ("dehydration_condition_day", "adjusted"),
    ("exercise_load", "adjusted"),
    ("magnesium_low", "single"),
)
REAL_EFFECTS = ("heat_index_caution", "dehydration_condition_day")


def _covers(row: dict, truth: float) -> bool:
    hi = row["ci_high"] if row["ci_high"] is not None else math.inf
    return row["ci_low"] is not None and row["ci_low"] <= truth <= hi


def with_case_ppv(nights: pl.DataFrame, source: str) -> pl.DataFrame:
    """The probability that a case night is real, as ``detectors.triggers.case_nights`` gives
    it for the store: the journal's assumed PPV, a detection's stated confidence; 1 for the
    true nights."""
    if source == "journal":
        ppv = pl.lit(tm.JOURNAL_PPV)
    elif source == "likely":
        ppv = pl.col("confidence")
    else:
        ppv = pl.lit(1.0)
    return nights.with_columns(case_ppv=pl.when(pl.col("case") > 0).then(ppv))


def evaluate(
    seeds: int = 50,
    people: int = 20,
    days: int = 365,
    agreement_seeds: int = 3,
    first_seed: int = 1000,
    journal_false_per_night: float | None = None,
) -> dict:
    """Run the seeds; return ``{"pooled": frame, "per_person": frame, "agreement": frame,
    "seconds": float}`` (one row per seed, source and target). ``journal_false_per_night``:
    the simulated journal's false-report rate (default the simulator's; for the coverage
    when the journal's assumed PPV is off)."""
    t0 = time.perf_counter()
    params = CohortParams(people=people, days=days)
    if journal_false_per_night is not None:
        params = replace(params, journal_false_per_night=journal_false_per_night)
    pooled, person, agree = [], [], []
    for s in range(first_seed, first_seed + seeds):
        cohort = simulate_cohort(s, params)
        exposures = tr.exposure_long(cohort.daily)
        for src in SOURCES:
            frame = tr.analysis_frame(with_case_ppv(cohort.nights[src], src), exposures)
            out = tr.case_crossover(frame)
            lag0 = out.filter(pl.col("lag") == "0-24h")
            for trig, model in TARGETS:
                truth = TRUE_OR[trig]
                rows = lag0.filter((pl.col("trigger") == trig) & (pl.col("model") == model))
                for r in rows.iter_rows(named=True):
                    est = r["status"] == "estimated"
                    rec = {
                        "seed": s,
                        "source": src,
                        "trigger": trig,
                        "model": model,
                        "participant_id": r["participant_id"],
                        "estimated": est,
                        "odds_ratio": r["odds_ratio"],
                        "covers": est and _covers(r, truth),
                        "excludes_1": est and (r["ci_low"] > 1 or (r["ci_high"] or 9e9) < 1),
                    }
                    (pooled if r["participant_id"] == "all" else person).append(rec)
            if src == "true" and s < first_seed + agreement_seeds:
                clr = tr.case_crossover(frame, method="conditional_logit", adjusted=False)
                mh = out.filter(pl.col("model") == "single")
                j = mh.join(clr, on=["participant_id", "trigger", "lag"], suffix="_clr").filter(
                    (pl.col("participant_id") == "all")
                    & (pl.col("method") == "mantel_haenszel")
                    & (pl.col("method_clr") == "conditional_logit")
                )
                agree.append(
                    j.select(
                        "trigger",
                        "lag",
                        "odds_ratio",
                        "odds_ratio_clr",
                        "ci_low",
                        "ci_low_clr",
                        "ci_high",
                        "ci_high_clr",
                    )
                )
    return {
        "pooled": pl.DataFrame(pooled),
        "per_person": pl.DataFrame(person),
        "person_seeds": people * seeds,
        "agreement": pl.concat(agree) if agree else pl.DataFrame(),
        "seconds": time.perf_counter() - t0,
    }


def summarise(res: dict) -> dict[str, pl.DataFrame]:
    pooled = (
        res["pooled"]
        .group_by("source", "trigger", "model")
        .agg(
            seeds=pl.len(),
            estimated=pl.col("estimated").mean(),
            median_or=pl.col("odds_ratio").median(),
            coverage=pl.col("covers").mean(),
            excludes_1=pl.col("excludes_1").mean(),
        )
    )
    # people without a row (no adjusted model could be fitted) count as not estimated
    person = (
        res["per_person"]
        .group_by("source", "trigger", "model")
        .agg(
            estimated=pl.col("estimated").sum() / res["person_seeds"],
            coverage_of_estimated=pl.col("covers").filter(pl.col("estimated")).mean(),
            excludes_1=pl.col("excludes_1").sum() / res["person_seeds"],
        )
    )
    order = {t: i for i, (t, _) in enumerate(TARGETS)}
    srt = [
        pl.col("source").replace_strict({s: i for i, s in enumerate(SOURCES)}),
        pl.col("trigger").replace_strict(order),
    ]
    out = {"pooled": pooled.sort(srt), "per_person": person.sort(srt)}
    a = res["agreement"]
    if a.height:
        out["agreement"] = a.select(
            rows=pl.len(),
            max_abs_log_or_diff=(pl.col("odds_ratio").log() - pl.col("odds_ratio_clr").log())
            .abs()
            .max(),
            median_abs_log_or_diff=(pl.col("odds_ratio").log() - pl.col("odds_ratio_clr").log())
            .abs()
            .median(),
            max_abs_log_ci_diff=pl.max_horizontal(
                (pl.col("ci_low").log() - pl.col("ci_low_clr").log()).abs(),
                (pl.col("ci_high").log() - pl.col("ci_high_clr").log()).abs(),
            ).max(),
        )
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=50)
    ap.add_argument("--people", type=int, default=20)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument(
        "--journal-false",
        type=float,
        default=None,
        help="false journal reports per cramp-free night (default the simulator's, 0.01)",
    )
    a = ap.parse_args(argv)
    res = evaluate(a.seeds, a.people, a.days, journal_false_per_night=a.journal_false)
    s = summarise(res)
    with pl.Config(
        tbl_rows=100,
        tbl_cols=20,
        tbl_width_chars=200,
        float_precision=3,
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
    ):
        print(
            f"trigger statistics: {a.seeds} seeds x {a.people} people x {a.days} nights, "
            f"truth {TRUE_OR}"
        )
        print("pooled (participant_id = 'all'), lag 0-24 h:")
        print(s["pooled"])
        print("per person, lag 0-24 h:")
        print(s["per_person"])
        if "agreement" in s:
            print("Mantel-Haenszel vs ConditionalLogit, one-exposure pooled rows:")
            print(s["agreement"])
    print(f"{res['seconds']:.0f} s")


if __name__ == "__main__":
    main()
