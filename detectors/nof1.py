"""N-of-1 prevention experiments: does a change (a magnesium supplement, a bedtime calf
stretch, a fluid target) reduce *this person's* cramp nights? (issue 14; docs/triggers.md)

Design, after the quinine N-of-1 trials of Woodfield, Goodyear-Smith & Arroll (Br J Gen Pract
2005; 4-week periods in pairs): the calendar is cut into **pairs of blocks** (default 3 pairs
of 4 weeks); within each pair one block has the intervention and the other not, in a random
order (a seeded coin per pair, so the schedule is reproducible and the person cannot choose
the order). The first nights of each block are a **washout** (default 7) and are not
analysed: a supplement's effect needs time to start and to wear off.

Analysis of the cramp nights (journal, confirmed labels or detections) per block:

* **rate ratio** on/off, stratified by pair: the Mantel-Haenszel rate ratio over pairs with
  the Greenland-Robins (1985) variance (person-time = analysed nights), or, when a sum is zero,
  the exact conditional binomial (cramp nights on intervention given the total, brief 9.3:
  Clopper-Pearson CI transformed to a rate ratio); p from the exact binomial test;
* **rate difference** in cramp nights per week, the mean of the pairs' differences with a t
  interval over pairs (the paired analysis of an N-of-1 series);
* **verdict**: ``effect`` when the rate-ratio CI excludes 1; ``no_effect`` when it lies inside
  the equivalence range (:data:`EQUIVALENCE` = 0.7 to 1/0.7: no worthwhile benefit, no
  harm); otherwise ``inconclusive`` with the further pairs an 80 % power test of a halving
  (:data:`TARGET_RR`) would need at the observed cramp rate.

Pure: frames in, frames and dicts out; no I/O, no clock.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

INTERVENTIONS: dict[str, str] = {
    "magnesium": "magnesium supplement as agreed with your clinician (e.g. 300 mg elemental "
    "magnesium a day, within the 350 mg/day supplement UL) during intervention "
    "blocks; none in control blocks",
    "stretch": "calf stretch at bedtime during intervention blocks (3 x 30 s per leg, "
    "standing, heel down, knee straight); no stretching routine in control blocks",
    "fluid": "fluid target during intervention blocks (drink to the daily fluid need shown "
    "on the dashboard, logged); usual drinking in control blocks",
}
TARGET_RR = 0.5  # the stated effect of the pairs-needed estimate: a halving of cramp nights
EQUIVALENCE = (0.7, 1 / 0.7)  # a rate ratio inside this range is no worthwhile effect
ALPHA = 0.05
POWER = 0.80

BLOCK_SCHEMA = {
    "experiment_id": pl.String,
    "pair": pl.Int32,
    "block": pl.Int32,
    "arm": pl.String,
    "start_date": pl.Date,
    "end_date": pl.Date,
}


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    participant_id: str
    intervention: str
    instructions: str
    pairs: int
    block_days: int
    washout_days: int
    start_date: date
    end_date: date
    seed: int

    def as_dict(self) -> dict:
        return asdict(self)


def plan(
    participant_id: str,
    intervention: str,
    start: date,
    *,
    pairs: int = 3,
    block_weeks: int = 4,
    washout_days: int = 7,
    seed: int = 0,
) -> tuple[Experiment, pl.DataFrame]:
    """A randomised block schedule: ``pairs`` pairs of ``block_weeks``-week blocks from
    ``start`` (the first night), the order within each pair drawn from
    ``numpy.random.default_rng(seed)``. Returns the experiment and its blocks."""
    if intervention not in INTERVENTIONS:
        raise ValueError(f"intervention {intervention!r}: choose from {', '.join(INTERVENTIONS)}")
    if pairs < 1 or block_weeks < 1:
        raise ValueError("pairs and block_weeks must be >= 1")
    block_days = 7 * block_weeks
    if not 0 <= washout_days < block_days:
        raise ValueError("washout_days must be shorter than a block")
    rng = np.random.default_rng(seed)
    eid = f"{participant_id}-{intervention}-{start.isoformat()}"
    rows, b = [], 0
    for pair in range(1, pairs + 1):
        first = "intervention" if rng.random() < 0.5 else "control"
        for arm in (first, "control" if first == "intervention" else "intervention"):
            lo = start + timedelta(days=b * block_days)
            rows.append((eid, pair, b + 1, arm, lo, lo + timedelta(days=block_days - 1)))
            b += 1
    blocks = pl.DataFrame(rows, schema=BLOCK_SCHEMA, orient="row")
    exp = Experiment(
        eid,
        participant_id,
        intervention,
        INTERVENTIONS[intervention],
        pairs,
        block_days,
        washout_days,
        start,
        blocks["end_date"].max(),
        seed,
    )
    return exp, blocks


def block_counts(blocks: pl.DataFrame, nights: pl.DataFrame, washout_days: int) -> pl.DataFrame:
    """Analysed nights and cramp nights per block: observed nights (``nights``: ``night_of``,
    ``case`` 0/1) inside the block after its washout."""
    rows = []
    n = nights.select("night_of", "case")
    for r in blocks.sort("block").iter_rows(named=True):
        lo = r["start_date"] + timedelta(days=washout_days)
        inside = n.filter(pl.col("night_of").is_between(lo, r["end_date"]))
        rows.append(
            {
                **r,
                "nights": inside.height,
                "cramp_nights": int(inside["case"].sum()) if inside.height else 0,
            }
        )
    return pl.DataFrame(
        rows, schema={**BLOCK_SCHEMA, "nights": pl.Int64, "cramp_nights": pl.Int64}, orient="row"
    )


def analyse(
    blocks: pl.DataFrame, nights: pl.DataFrame, washout_days: int = 7, target_rr: float = TARGET_RR
) -> dict:
    """The experiment's effect: rate ratio (pair-stratified), rate difference per week over
    pairs, verdict and further pairs needed (see the module docstring)."""
    from scipy.stats import binomtest, norm
    from scipy.stats import t as student_t

    counts = block_counts(blocks, nights, washout_days)
    wide = (
        counts.group_by("pair")
        .agg(
            t_on=pl.col("nights").filter(pl.col("arm") == "intervention").sum(),
            t_off=pl.col("nights").filter(pl.col("arm") == "control").sum(),
            k_on=pl.col("cramp_nights").filter(pl.col("arm") == "intervention").sum(),
            k_off=pl.col("cramp_nights").filter(pl.col("arm") == "control").sum(),
        )
        .filter((pl.col("t_on") > 0) & (pl.col("t_off") > 0))
        .sort("pair")
    )
    out = {
        "pairs_complete": wide.height,
        "nights_on": int(wide["t_on"].sum()),
        "nights_off": int(wide["t_off"].sum()),
        "cramp_nights_on": int(wide["k_on"].sum()),
        "cramp_nights_off": int(wide["k_off"].sum()),
        "rate_ratio": None,
        "rr_ci_low": None,
        "rr_ci_high": None,
        "p": None,
        "rate_difference_per_week": None,
        "rd_ci_low": None,
        "rd_ci_high": None,
        "verdict": "not_started",
        "more_pairs_needed": None,
        "method": "none",
    }
    if wide.height == 0:
        return out
    t_on, t_off, k_on, k_off = (
        wide[c].to_numpy().astype(float) for c in ("t_on", "t_off", "k_on", "k_off")
    )
    T = t_on + t_off
    R, S = float((k_on * t_off / T).sum()), float((k_off * t_on / T).sum())
    K, k1 = int(k_on.sum() + k_off.sum()), int(k_on.sum())
    r = t_on.sum() / t_off.sum()
    z = norm.ppf(1 - ALPHA / 2)
    if K > 0:
        bt = binomtest(k1, K, r / (1 + r))
        out["p"] = float(bt.pvalue)
    if R > 0 and S > 0:
        var = float(((k_on + k_off) * t_on * t_off / T**2).sum()) / (R * S)
        lrr = math.log(R / S)
        out.update(
            rate_ratio=R / S,
            rr_ci_low=math.exp(lrr - z * math.sqrt(var)),
            rr_ci_high=math.exp(lrr + z * math.sqrt(var)),
            method="mantel_haenszel_rate",
        )
        se_now = math.sqrt(var)
    elif K > 0:
        ci = bt.proportion_ci(method="exact")
        out.update(
            rate_ratio=(k1 / t_on.sum()) / (max(K - k1, 0) / t_off.sum()) if K > k1 else None,
            rr_ci_low=ci.low / (1 - ci.low) / r if ci.low < 1 else None,
            rr_ci_high=ci.high / (1 - ci.high) / r if ci.high < 1 else None,
            method="exact_conditional_binomial",
        )
        se_now = None
    else:
        out["method"] = "exact_conditional_binomial"
        se_now = None
    # paired rate difference per week
    d = 7 * (k_on / t_on - k_off / t_off)
    out["rate_difference_per_week"] = float(d.mean())
    if d.size >= 2:
        h = student_t.ppf(1 - ALPHA / 2, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size)
        out["rd_ci_low"], out["rd_ci_high"] = float(d.mean() - h), float(d.mean() + h)
    lo = out["rr_ci_low"] if out["rr_ci_low"] is not None else 0.0
    hi = out["rr_ci_high"] if out["rr_ci_high"] is not None else math.inf
    if K > 0 and (hi < 1 or lo > 1):
        out["verdict"] = "effect"
    elif K > 0 and EQUIVALENCE[0] <= lo and hi <= EQUIVALENCE[1]:
        out["verdict"] = "no_effect"
    else:
        out["verdict"] = "inconclusive"
        out["more_pairs_needed"] = _more_pairs(
            se_now, wide.height, k_off.sum() / t_off.sum(), t_on.mean(), t_off.mean(), target_rr
        )
    return out


def _more_pairs(se_now, pairs, rate_off, t_on, t_off, target_rr) -> int | None:
    """Further pairs for ``SE(log RR) <= log(1/target) / (z_{1-a/2} + z_power)``."""
    from scipy.stats import norm

    se_target = abs(math.log(target_rr)) / (norm.ppf(1 - ALPHA / 2) + norm.ppf(POWER))
    if rate_off <= 0:
        return None
    # per pair, at the target effect: 1/mu_on + 1/mu_off is the variance of log RR
    v_pair = 1 / (rate_off * target_rr * t_on) + 1 / (rate_off * t_off)
    need = v_pair / se_target**2
    if se_now is not None:  # the observed precision, scaled by pairs, if it is the better guide
        need = max(need, pairs * (se_now / se_target) ** 2) if se_now > se_target else need
    return max(0, math.ceil(need) - pairs)


def verdict_text(res: dict, intervention: str) -> str:
    """One line a person can read."""
    v = res["verdict"]
    if v == "not_started":
        return "no analysed nights yet (the blocks have not started, or nothing was recorded)"
    rr = res["rate_ratio"]
    ci = (
        f"{res['rr_ci_low']:.2f}" if res["rr_ci_low"] is not None else "0",
        f"{res['rr_ci_high']:.2f}" if res["rr_ci_high"] is not None else "inf",
    )
    est = (
        f"rate ratio {rr:.2f} [{ci[0]}, {ci[1]}]"
        if rr is not None
        else f"rate ratio [{ci[0]}, {ci[1]}]"
    )
    if v == "effect":
        way = "fewer" if (res["rr_ci_high"] or math.inf) < 1 else "more"
        return f"effect: {way} cramp nights with {intervention} ({est})"
    if v == "no_effect":
        return f"no worthwhile effect of {intervention} ({est}, inside 0.70-1.43)"
    more = res["more_pairs_needed"]
    tail = f"; about {more} more block pairs needed to detect a halving" if more else ""
    return f"inconclusive ({est}){tail}"
