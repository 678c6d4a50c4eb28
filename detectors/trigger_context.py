"""Conditions and medications: context, not case-crossover exposures.

Part of :mod:`detectors.triggers` (which re-exports every public name). They are constant
within a person and cancel out of every stratum: :func:`context_triggers` lists them with the
literature's finding and evidence grade (brief 5.3), :func:`between_person_rates` compares
cramp-night rates between people (brief 9.3), with :data:`BETWEEN_PERSON_CAVEAT`.
"""

from __future__ import annotations

import polars as pl


def context_triggers(daily: pl.DataFrame) -> pl.DataFrame:
    """The participant's cramp-associated conditions and drug classes (``daily_exposures``
    ``cramp_condition_classes`` / ``cramp_drug_classes``, latest day) with the literature's
    finding and evidence grade (brief 5.3). They are constant within a person, so the
    case-crossover cannot estimate them: shown as context, to discuss with a clinician."""
    from detectors import tables
    from detectors.drugs_conditions import CRAMP_CONDITIONS, CRAMP_DRUG_CLASSES

    drugs = {d.key: (d.evidence, d.grade) for d in CRAMP_DRUG_CLASSES}
    schema = {k: v for k, v in tables.columns("trigger_context").items() if k != "computed_utc"}
    rows = []
    if daily.height == 0:
        return pl.DataFrame(schema=schema)
    cols = [c for c in ("cramp_condition_classes", "cramp_drug_classes") if c in daily.columns]
    last = daily.sort("local_date").group_by("participant_id").last()
    for r in last.select("participant_id", *cols).sort("participant_id").iter_rows(named=True):
        for c in r.get("cramp_condition_classes") or []:
            ev, grade = CRAMP_CONDITIONS.get(c, ("reported association", "C"))
            rows.append((r["participant_id"], "condition", c, ev, grade))
        for c in r.get("cramp_drug_classes") or []:
            ev, grade = drugs.get(c, ("reported association", "C"))
            rows.append((r["participant_id"], "medication", c, ev, grade))
    return pl.DataFrame(rows, schema=schema, orient="row")


BETWEEN_PERSON_CAVEAT = (
    "between people, not within: differences in age, sex, other conditions and drugs, "
    "journalling habits and the reason a drug was prescribed (confounding by indication) are "
    "not removed; a descriptive comparison, not an effect"
)


def between_person_rates(nights: pl.DataFrame, daily: pl.DataFrame) -> pl.DataFrame:
    """Cohort comparison of cramp-night rates between people with and without each condition
    or drug class: rate ratio (cramp nights per observed night) with the exact conditional
    CI (binomial split of the case nights given the person-nights; brief 9.3) and p. Rows
    only for classes some people have and others do not. See :data:`BETWEEN_PERSON_CAVEAT`."""
    from scipy.stats import binomtest

    from detectors import tables

    # the stored table's columns (trigger_between_people) but the run's case source and stamp
    schema = {
        k: v
        for k, v in tables.columns("trigger_between_people").items()
        if k not in ("case_source", "computed_utc")
    }
    if nights.height == 0 or daily.height == 0:
        return pl.DataFrame(schema=schema)
    per = nights.group_by("participant_id").agg(
        k=pl.col("case").sum().cast(pl.Int64), t=pl.len().cast(pl.Int64)
    )
    cols = [c for c in ("cramp_condition_classes", "cramp_drug_classes") if c in daily.columns]
    last = (
        daily.sort("local_date").group_by("participant_id").last().select("participant_id", *cols)
    )
    per = per.join(last, on="participant_id", how="left")
    rows = []
    for col, kind in (
        ("cramp_condition_classes", "condition"),
        ("cramp_drug_classes", "medication"),
    ):
        if col not in per.columns:
            continue
        classes = sorted({c for v in per[col].to_list() if v for c in v})
        for cls in classes:
            has = per.with_columns(w=pl.col(col).list.contains(cls).fill_null(False))
            w, wo = has.filter(pl.col("w")), has.filter(~pl.col("w"))
            if w.height == 0 or wo.height == 0:
                continue
            k1, t1, k2, t2 = (
                int(w["k"].sum()),
                int(w["t"].sum()),
                int(wo["k"].sum()),
                int(wo["t"].sum()),
            )
            rr = lo = hi = p = None
            if k1 + k2 > 0 and t1 > 0 and t2 > 0:
                bt = binomtest(k1, k1 + k2, t1 / (t1 + t2))
                ci = bt.proportion_ci(method="exact")
                rr = (k1 / t1) / (k2 / t2) if k2 else None
                lo = ci.low / (1 - ci.low) * t2 / t1 if ci.low < 1 else None
                hi = ci.high / (1 - ci.high) * t2 / t1 if ci.high < 1 else None
                p = float(bt.pvalue)
            rows.append(
                (
                    kind,
                    cls,
                    w.height,
                    wo.height,
                    k1,
                    t1,
                    k2,
                    t2,
                    rr,
                    lo,
                    hi,
                    p,
                    BETWEEN_PERSON_CAVEAT,
                )
            )
    return pl.DataFrame(rows, schema=schema, orient="row")
