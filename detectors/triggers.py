"""Which of the article's triggers precede a person's cramp nights: a time-stratified
case-crossover analysis over ``daily_exposures`` (issue 14; brief section 9; docs/triggers.md).

Design (Maclure 1991; Janes, Sheppard & Lumley 2005; Armstrong, Gasparrini & Tobias 2014):

* unit = night (``night_of``, the local date of the evening it begins); a **case night** has at
  least one cramp from the chosen case source (journal, confirmed labels, or ``likely``
  detections);
* **strata are fixed in advance**: the same person, the same calendar month and the same
  weekday (3-5 nights each). Every night of a stratum with a case is a referent of it, so
  season, long-term trend, weekday and everything constant in a person cancel out; each
  stratum is a matched set with ``k`` case nights among ``n`` (the count formulation of
  Armstrong 2014, identical to the conditional logistic case-crossover);
* **exposures** are binary day-level definitions in the article's order (nutrition,
  dehydration, exercise, bedroom heat; :data:`TRIGGERS`), each at lag 0-24 h (the day whose
  evening the night begins) and 24-48 h (the day before);
* **estimates**: for one binary exposure the closed-form Mantel-Haenszel odds ratio with the
  Robins-Breslow-Greenland variance and the MH chi-square p (it agrees with the conditional
  logistic fit, tests/detectors/test_triggers.py; thousands of times faster); the exact
  conditional (stratified non-central hypergeometric) estimate and CI when a cell sum is zero
  (separation) or the MH cannot be computed; statsmodels' ``ConditionalLogit`` for the
  mutually adjusted model (the lag-0 primary triggers together) and on request
  (``method="conditional_logit"``) for every row;
* **honest small samples**: below :data:`MIN_DISCORDANT_SETS` informative strata (a case and a
  non-case night, exposed and unexposed nights) a row has no estimate, status
  ``insufficient_data``, and the number of further cramp nights an 80 % power test of
  OR = :data:`TARGET_OR` would need (brief 9.2: ``SE(beta) ~ 1/sqrt(n M/(M+1) sigma_w^2)``);
* Benjamini-Hochberg q-values across one person's rows of one model (trigger x lag), and a
  pooled estimate over people (``participant_id = 'all'``, strata stay within a person).

Conditions and medications are constant within a person (they cancel out of every stratum):
:func:`context_triggers` lists them with the literature's evidence grade and
:func:`between_person_rates` compares cohort rates between people, with its caveats.

Pure: polars frames in, polars frames out; no I/O, no clock. statsmodels and scipy are
imported inside the functions that need them.

Layout: this module is the public API (every name below is importable from here) and holds
:func:`case_crossover` (the rows of ``trigger_associations``); the parts live beside it:
``trigger_exposures`` (:data:`TRIGGERS`, exposures by night and lag, strata),
``trigger_cases`` (case and observed nights per case source), ``trigger_stats`` (the
estimators and the nights-needed estimate), ``trigger_context`` (conditions, medications and
between-person rates) and ``trigger_misclass`` (the fit corrected for false case nights).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import polars as pl

from detectors.trigger_cases import (
    CASE_SOURCES,
    DEFAULT_SOURCES,
    LIKELY_CONFIDENCE,
    case_nights,
    detected_nights,
    journal_nights,
    label_nights,
    parse_sources,
)
from detectors.trigger_context import (
    BETWEEN_PERSON_CAVEAT,
    between_person_rates,
    context_triggers,
)
from detectors.trigger_exposures import (
    LAGS,
    TRIGGER_BY_KEY,
    TRIGGERS,
    Trigger,
    analysis_frame,
    exposure_long,
)
from detectors.trigger_stats import (
    ALPHA,
    MIN_DISCORDANT_SETS,
    POWER,
    TARGET_OR,
    _bh,
    _mh_from_sums,
    conditional_logit,
    exact_conditional,
    mantel_haenszel,
    nights_needed,
    stratum_tables,
    summarise_tables,
)

TRIGGERS_VERSION = "triggers-0.2"

#: an adjusted-model covariate must be known on at least this share of the analysed nights
ADJUST_MIN_COVERAGE = 0.8

MODEL_SINGLE = "single"
#: method of a fit corrected for false case nights (detectors/trigger_misclass.py)
METHOD_CORRECTED = "conditional_logit_ppv"
MODEL_ADJUSTED = "adjusted"

#: columns of the output (table trigger_associations without computed_utc)
ASSOCIATION_SCHEMA: dict[str, pl.DataType] = {
    "participant_id": pl.String,
    "trigger": pl.String,
    "trigger_group": pl.String,
    "lag": pl.String,
    "model": pl.String,
    "adjusted_for": pl.String,
    "exposure_definition": pl.String,
    "cases": pl.Int64,
    "referents": pl.Int64,
    "exposed_cases": pl.Int64,
    "discordant_sets": pl.Int64,
    "odds_ratio": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "p": pl.Float64,
    "q": pl.Float64,
    "method": pl.String,
    "status": pl.String,
    "target_or": pl.Float64,
    "more_nights_needed": pl.Int64,
    "evidence_grade": pl.String,
    "case_source": pl.String,
    "case_ppv": pl.Float64,
    "triggers_version": pl.String,
}

__all__ = [
    "ADJUST_MIN_COVERAGE",
    "ALPHA",
    "ASSOCIATION_SCHEMA",
    "BETWEEN_PERSON_CAVEAT",
    "CASE_SOURCES",
    "DEFAULT_SOURCES",
    "LAGS",
    "LIKELY_CONFIDENCE",
    "METHOD_CORRECTED",
    "MIN_DISCORDANT_SETS",
    "MODEL_ADJUSTED",
    "MODEL_SINGLE",
    "POWER",
    "TARGET_OR",
    "TRIGGERS",
    "TRIGGERS_VERSION",
    "TRIGGER_BY_KEY",
    "Trigger",
    "analyse",
    "analysis_frame",
    "between_person_rates",
    "case_crossover",
    "case_nights",
    "conditional_logit",
    "context_triggers",
    "detected_nights",
    "exact_conditional",
    "exposure_long",
    "journal_nights",
    "label_nights",
    "mantel_haenszel",
    "nights_needed",
    "parse_sources",
    "stratum_tables",
    "summarise_tables",
]


# ------------------------------------------------------------------------------------------
# the case-crossover rows


def _row(
    pid, trig: Trigger, lag, model, adjusted_for, sums, est, method, status, needed, source, ppv
) -> dict:
    orr, lo, hi, p = est if est is not None else (None, None, None, None)
    return {
        "participant_id": pid,
        "trigger": trig.key,
        "trigger_group": trig.group,
        "lag": lag,
        "model": model,
        "adjusted_for": adjusted_for,
        "exposure_definition": trig.definition,
        "cases": int(sums.get("cases") or 0),
        "referents": int(sums.get("referents") or 0),
        "exposed_cases": int(sums.get("exposed_cases") or 0),
        "discordant_sets": int(sums.get("discordant_sets") or 0),
        "odds_ratio": orr,
        "ci_low": lo,
        "ci_high": None if hi == math.inf else hi,
        "p": p,
        "q": None,
        "method": method,
        "status": status,
        "target_or": TARGET_OR,
        "more_nights_needed": needed,
        "evidence_grade": trig.grade,
        "case_source": source,
        "case_ppv": ppv,
        "triggers_version": TRIGGERS_VERSION,
    }


def _estimate_single(
    scope_frame: pl.DataFrame | None, tables: pl.DataFrame, sums: dict, method: str, correct: bool
) -> tuple[tuple | None, str]:
    if correct and scope_frame is not None:
        from detectors.trigger_misclass import corrected_logit

        est = corrected_logit(scope_frame, ["x"])
        if est is not None:
            return est[0], METHOD_CORRECTED
    if method == "conditional_logit" and scope_frame is not None:
        est = conditional_logit(scope_frame, ["x"])
        if est is not None:
            return est[0], "conditional_logit"
    else:
        est = _mh_from_sums(sums)
        if est is not None:
            return est, "mantel_haenszel"
    return exact_conditional(tables), "exact_conditional"


def case_crossover(
    frame: pl.DataFrame,
    *,
    method: str = "auto",
    pooled: bool = True,
    adjusted: bool = True,
    min_sets: int = MIN_DISCORDANT_SETS,
    triggers: Sequence[Trigger] = TRIGGERS,
    participants: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Trigger associations from an :func:`analysis_frame`.

    Per participant (and ``'all'`` when ``pooled`` and there are >= 2), per trigger and lag:
    ``model='single'`` rows (one exposure; MH closed form, exact conditional when MH is not
    defined; ``method='conditional_logit'`` fits statsmodels' ConditionalLogit instead), and,
    when ``adjusted``, ``model='adjusted'`` rows for the lag-0 primary triggers fitted
    together (ConditionalLogit; complete nights; covariates known on >= 80 % of nights).
    q: Benjamini-Hochberg over each participant's rows of one model. ``participants``: the
    people to report (default all); the pooled rows always use everyone in ``frame``.

    When ``frame`` has ``case_ppv`` (:func:`case_nights`) and a scope's case nights may be
    false (mean below 1), its estimated rows use the fit corrected for false case nights
    (``detectors.trigger_misclass.corrected_logit``, ``method='conditional_logit_ppv'``),
    falling back to the estimators above where it cannot be fitted.
    """
    if method not in ("auto", "conditional_logit"):
        raise ValueError(f"method {method!r}: use 'auto' or 'conditional_logit'")
    trig_keys = [t.key for t in triggers]
    frame = frame.filter(pl.col("trigger").is_in(trig_keys))
    pids = sorted(frame.get_column("participant_id").unique().to_list())
    sources = (
        frame.group_by("participant_id")
        .agg(pl.col("case_source").first())
        .rows_by_key("participant_id", unique=True)
    )
    parts = frame.partition_by("participant_id", as_dict=True)
    scopes: list[tuple[str, pl.DataFrame]] = [
        (p, parts[(p,)]) for p in pids if participants is None or p in participants
    ]
    if pooled and len(pids) >= 2:
        scopes.append(("all", frame))
    rows: list[dict] = []
    for pid, f in scopes:
        source = (
            sources[pid][0] if pid != "all" else "+".join(sorted({s[0] for s in sources.values()}))
        )
        tables = stratum_tables(f, ["trigger", "lag"])
        sums = {
            (r["trigger"], r["lag"]): r
            for r in summarise_tables(tables, ["trigger", "lag"]).iter_rows(named=True)
        }
        from detectors.trigger_misclass import mean_case_ppv

        ppv = mean_case_ppv(f)
        correct = ppv is not None and ppv < 1.0 - 1e-9
        subs = (
            f.partition_by(["trigger", "lag"], as_dict=True)
            if correct or method == "conditional_logit"
            else {}
        )
        single: list[dict] = []
        for trig in triggers:
            for lag in LAGS:
                s = sums.get((trig.key, lag), {})
                needed = nights_needed(s, min_sets=min_sets) if s else None
                if (s.get("discordant_sets") or 0) < min_sets:
                    single.append(
                        _row(
                            pid,
                            trig,
                            lag,
                            MODEL_SINGLE,
                            None,
                            s,
                            None,
                            "none",
                            "insufficient_data",
                            needed,
                            source,
                            ppv,
                        )
                    )
                    continue
                t = tables.filter((pl.col("trigger") == trig.key) & (pl.col("lag") == lag))
                sub = subs.get((trig.key, lag))
                est, how = _estimate_single(sub, t, s, method, correct)
                status = "estimated" if est is not None else "insufficient_data"
                single.append(
                    _row(
                        pid,
                        trig,
                        lag,
                        MODEL_SINGLE,
                        None,
                        s,
                        est,
                        how if est else "none",
                        status,
                        needed,
                        source,
                        ppv,
                    )
                )
        for r, q in zip(single, _bh([r["p"] for r in single]), strict=True):
            r["q"] = q
        rows += single
        if adjusted:
            rows += _adjusted(pid, f, triggers, sums, min_sets, source, ppv, correct)
    out = (
        pl.DataFrame(rows, schema=ASSOCIATION_SCHEMA, orient="row")
        if rows
        else pl.DataFrame(schema=ASSOCIATION_SCHEMA)
    )
    order = {k: i for i, k in enumerate(trig_keys)}
    return out.sort(
        pl.col("participant_id") == "all",
        "participant_id",
        pl.col("model") == MODEL_ADJUSTED,
        pl.col("trigger").replace_strict(order, return_dtype=pl.Int32),
        "lag",
    )


def _adjusted(
    pid: str,
    f: pl.DataFrame,
    triggers: Sequence[Trigger],
    sums: dict,
    min_sets: int,
    source: str,
    ppv: float | None,
    correct: bool,
) -> list[dict]:
    lag = "0-24h"
    prim = [t for t in triggers if t.primary]
    lag0 = f.filter(pl.col("lag") == lag)
    n_nights = lag0.select(pl.struct("participant_id", "night_of").n_unique()).item()
    keep = [
        t
        for t in prim
        if (sums.get((t.key, lag), {}).get("discordant_sets") or 0) >= min_sets
        and lag0.filter(pl.col("trigger") == t.key).height >= ADJUST_MIN_COVERAGE * n_nights
    ]
    if len(keep) < 2:
        return []
    index = ["participant_id", "night_of", "stratum", "case"]
    if "case_ppv" in lag0.columns:
        index.append("case_ppv")
    wide = (
        lag0.filter(pl.col("trigger").is_in([t.key for t in keep]))
        .pivot(on="trigger", index=index, values="x")
        .drop_nulls([t.key for t in keep])
    )
    how = "conditional_logit"
    est = None
    if correct:
        from detectors.trigger_misclass import corrected_logit

        est = corrected_logit(wide, [t.key for t in keep])
        how = METHOD_CORRECTED
    if est is None:
        est, how = conditional_logit(wide, [t.key for t in keep]), "conditional_logit"
    # design counts of the complete nights, per covariate
    rows = []
    for j, t in enumerate(keep):
        tab = stratum_tables(wide.rename({t.key: "x"}), [])
        s = summarise_tables(tab.with_columns(_g=pl.lit(0)), ["_g"]).row(0, named=True)
        others = ",".join(o.key for o in keep if o is not t)
        rows.append(
            _row(
                pid,
                t,
                lag,
                MODEL_ADJUSTED,
                others,
                s,
                est[j] if est else None,
                how if est else "none",
                "estimated" if est else "insufficient_data",
                nights_needed(s, min_sets=min_sets),
                source,
                ppv,
            )
        )
    for r, q in zip(rows, _bh([r["p"] for r in rows]), strict=True):
        r["q"] = q
    return rows


def analyse(daily: pl.DataFrame, nights: pl.DataFrame, **kw) -> pl.DataFrame:
    """:func:`case_crossover` of ``daily_exposures`` rows and :func:`case_nights`."""
    return case_crossover(analysis_frame(nights, exposure_long(daily)), **kw)
