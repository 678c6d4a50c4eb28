"""Fit and evaluate the cramp detector's confidence model across simulator families.

Protocol (issue 10):

* candidates come from :mod:`evaluation.candidates` (the detector's own segments and
  features on each family's nights; export families go through the real importers);
* the model is fitted on **development** seeds only; figures are reported on **held-out**
  seeds, and for each simulator family on a model fitted **without that family at all**
  (leave-one-simulator-out, LOSO): the README figure is the worst LOSO family;
* an upper bound is printed beside each figure: ``cand. recall`` is the share of true
  cramps that any candidate segment covers (a scorer can only choose among candidates), and
  ``bound F1`` the F1 of a perfect scorer on those candidates (precision 1 at that recall);
* for physio, bedside and nocturne, the oracle bound of :mod:`evaluation.oracle` (a classifier given the
  simulator's hidden event features) shows what the overlap of its ranges allows;
* reliability: predicted vs observed share of true candidates by confidence band.

Usage::

    uv run --frozen python -m evaluation.cramps             # table (uses the stored model)
    uv run --frozen python -m evaluation.cramps --fit       # refit on dev seeds, write model
    uv run --frozen python -m evaluation.cramps --families nightgen-hr300,sample

Scikit-learn's ``LogisticRegression`` (L2) does the fitting: a well-kept implementation,
used only here (the detector only evaluates the stored coefficients).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detectors import cramp_model  # noqa: E402
from evaluation import candidates as C  # noqa: E402
from pipeline.evaluate import score_events  # noqa: E402

#: suppressions that stay hard vetoes (data quality, not physiology): no HR and no sample in
#: the segment (watch off), a segment ending at the final awakening
HARD = ("watch_off", "final_awakening")
POSSIBLE, LIKELY = 0.4, 0.7
#: L2 strength for the fit (1/C); grade D, fixed before looking at held-out seeds
C_REG = 0.3
BANDS = (0.0, 0.2, 0.4, 0.55, 0.7, 0.85, 1.0001)


def simulator_of(family: str) -> str:
    return family.split("-")[0]


@dataclass
class Data:
    family: str
    seed: int
    X: np.ndarray
    y: np.ndarray
    hard: np.ndarray
    cap: np.ndarray  # confidence cap per candidate (1 = none)
    cand: pl.DataFrame
    truth: pl.DataFrame
    nights: dict[str, int]
    brief_detected: np.ndarray  # detected by the cramp-0.3 rules (brief scorer)


def load_data(family: str, seed: int) -> Data:
    run = C.load(family, seed)
    cand = run.candidates
    ev = [json.loads(e) for e in cand["evidence"].to_list()]
    X = cramp_model.matrix(ev)
    sup = cand["suppressed_by"].to_list()
    hard = np.array([s in HARD for s in sup], bool)
    cap = np.array(
        [
            min(
                [1.0]
                + [
                    {"hr_missing": 0.5, "movement_channel_missing": 0.35}[c]
                    for c in e.get("confidence_caps", [])
                ]
            )
            for e in ev
        ]
    )
    return Data(
        family,
        seed,
        X,
        cand["y"].to_numpy().astype(bool),
        hard,
        cap,
        cand,
        run.truth,
        run.nights,
        cand["brief_label"].is_not_null().to_numpy(),
    )


#: gradient-boosted trees (scikit-learn's HistGradientBoostingClassifier), shallow, with a
#: large minimum leaf and the physiological monotonic constraints of
#: ``detectors.cramp_model.MONOTONE``; settings fixed before looking at held-out seeds
GBT = {
    "max_iter": 200,
    "learning_rate": 0.05,
    "max_depth": 4,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
}


def fit(datas: list[Data], kind: str = "gbt", weights: dict[str, float] | None = None) -> dict:
    """Fit the confidence model on ``datas`` (hard-vetoed candidates left out). ``weights``
    gives a family's candidates a sample weight other than 1 (``--weight FAMILY=W``)."""
    X = np.vstack([d.X[~d.hard] for d in datas])
    y = np.concatenate([d.y[~d.hard] for d in datas])
    w = None
    if weights:
        w = np.concatenate(
            [np.full(int((~d.hard).sum()), weights.get(d.family, 1.0)) for d in datas]
        )
    base = {
        "features": list(cramp_model.FEATURES),
        "n_candidates": int(y.size),
        "n_positive": int(y.sum()),
    }
    if kind == "logistic":
        from sklearn.linear_model import LogisticRegression

        m = LogisticRegression(C=C_REG, max_iter=5000).fit(X, y, sample_weight=w)
        return base | {
            "kind": "logistic",
            "family_weights": dict(sorted(weights.items())) if weights else {},
            "intercept": float(m.intercept_[0]),
            "coef": {k: float(v) for k, v in zip(cramp_model.FEATURES, m.coef_[0], strict=True)},
        }
    from sklearn.ensemble import HistGradientBoostingClassifier

    cst = [cramp_model.MONOTONE.get(k, 0) for k in cramp_model.FEATURES]
    m = HistGradientBoostingClassifier(monotonic_cst=cst, random_state=0, **GBT).fit(
        X, y, sample_weight=w
    )
    trees = []
    for (pred,) in m._predictors:
        n = pred.nodes
        trees.append(
            {
                "value": [round(float(v), 6) for v in n["value"]],
                "feature": [int(v) for v in n["feature_idx"]],
                "threshold": [float(v) for v in n["num_threshold"]],
                "missing_left": [bool(v) for v in n["missing_go_to_left"]],
                "left": [int(v) for v in n["left"]],
                "right": [int(v) for v in n["right"]],
                "is_leaf": [bool(v) for v in n["is_leaf"]],
            }
        )
    return base | {
        "kind": "gradient_boosted_trees",
        "settings": GBT,
        "monotonic_constraints": dict(zip(cramp_model.FEATURES, cst, strict=True)),
        "family_weights": dict(sorted(weights.items())) if weights else {},
        "baseline": float(m._baseline_prediction.ravel()[0]),
        "trees": trees,
    }


def confidence(d: Data, model: dict) -> np.ndarray:
    conf = 1.0 / (1.0 + np.exp(-cramp_model.raw_scores(d.X, model)))
    conf = np.minimum(conf, d.cap)
    return np.where(d.hard, 0.0, conf)


def event_scores(d: Data, detected: np.ndarray) -> dict:
    eps = d.cand.filter(pl.Series(detected)).select("participant_id", "start_utc", "end_utc")
    s = score_events(eps, d.truth, tolerance_s=C.TOLERANCE_S, nights=d.nights)[-1]
    return {
        "tp": s.true_positives,
        "fp": s.false_positives,
        "fn": s.false_negatives,
        "nights": s.nights,
    }


def _sum(rows: list[dict]) -> dict:
    out = {k: sum(r[k] for r in rows) for k in ("tp", "fp", "fn", "nights")}
    tp, fp, fn = out["tp"], out["fp"], out["fn"]
    out["precision"] = tp / (tp + fp) if tp + fp else math.nan
    out["recall"] = tp / (tp + fn) if tp + fn else math.nan
    p, r = out["precision"], out["recall"]
    out["f1"] = 2 * p * r / (p + r) if p + r > 0 else math.nan
    out["fa_per_night"] = fp / out["nights"] if out["nights"] else math.nan
    return out


def candidate_recall(d: Data) -> tuple[int, int]:
    """(true cramps covered by a non-vetoed candidate, true cramps)."""
    hit = d.cand.filter(pl.Series(d.y & ~d.hard))["truth_idx"].unique().len()
    return hit, d.truth.height


def evaluate(datas: list[Data], model: dict) -> dict:
    allr, likely, rel = [], [], []
    covered = total = 0
    cur = []
    for d in datas:
        conf = confidence(d, model)
        allr.append(event_scores(d, conf >= POSSIBLE))
        likely.append(event_scores(d, conf >= LIKELY))
        cur.append(event_scores(d, d.brief_detected))
        rel.append((conf[~d.hard], d.y[~d.hard]))
        h, t = candidate_recall(d)
        covered, total = covered + h, total + t
    r = covered / total if total else math.nan
    return {
        "all": _sum(allr),
        "likely": _sum(likely),
        "current": _sum(cur),
        "cand_recall": r,
        "bound_f1": 2 * r / (1 + r) if r == r else math.nan,
        "reliability": reliability(
            np.concatenate([c for c, _ in rel]), np.concatenate([y for _, y in rel])
        ),
    }


def reliability(conf: np.ndarray, y: np.ndarray) -> list[dict]:
    out = []
    for lo, hi in zip(BANDS[:-1], BANDS[1:], strict=True):
        m = (conf >= lo) & (conf < hi)
        out.append(
            {
                "band": f"{lo:.2f}-{min(hi, 1.0):.2f}",
                "n": int(m.sum()),
                "predicted": float(conf[m].mean()) if m.any() else math.nan,
                "observed": float(y[m].mean()) if m.any() else math.nan,
            }
        )
    return out


def _fmt(x: float, nd: int = 2) -> str:
    return "  -  " if x != x else f"{x:.{nd}f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fit", action="store_true", help="refit on dev seeds and write the model")
    ap.add_argument("--families", default=",".join(C.FAMILIES))
    ap.add_argument("--reliability", action="store_true", help="print the reliability table")
    ap.add_argument(
        "--kind",
        choices=("gbt", "logistic"),
        default="gbt",
        help="model family for the LOSO columns and --fit (logistic: the "
        "alternative the docs report as not helping)",
    )
    ap.add_argument(
        "--weight",
        action="append",
        default=[],
        metavar="FAMILY=W",
        help="sample weight of a family's candidates in every fit (default 1)",
    )
    a = ap.parse_args(argv)
    weights: dict[str, float] = {}
    for item in a.weight:
        fam, eq, w = item.partition("=")
        if not eq or fam not in C.FAMILIES:
            ap.error(f"--weight {item!r}: expected FAMILY=W with FAMILY one of {list(C.FAMILIES)}")
        try:
            weights[fam] = float(w)
        except ValueError:
            ap.error(f"--weight {item!r}: W must be a number")
        if not weights[fam] >= 0:
            ap.error(f"--weight {item!r}: W must be >= 0")
    fams = [f for f in a.families.split(",") if f and C.available(f)]
    t0 = time.perf_counter()
    dev = {f: [load_data(f, s) for s in C.SEEDS[f][0]] for f in fams}
    held = {f: [load_data(f, s) for s in C.SEEDS[f][1]] for f in fams}
    t_load = time.perf_counter() - t0

    if a.fit:
        model = fit([d for f in fams for d in dev[f]], a.kind, weights)
        model["provenance"] = {
            "fitted": date.today().isoformat(),
            "families": fams,
            "dev_seeds": {f: list(C.SEEDS[f][0]) for f in fams},
            "regularisation_C": C_REG if a.kind == "logistic" else None,
            "script": "uv run --frozen python -m evaluation.cramps --fit"
            + "".join(f" --weight {k}={v:g}" for k, v in sorted(weights.items())),
            "detector_key": C._detector_key(),
        }
        cramp_model.MODEL_PATH.write_text(json.dumps(model, sort_keys=True) + "\n")
        print(f"wrote {cramp_model.MODEL_PATH.relative_to(C.ROOT)}")
    else:
        model = cramp_model.load_model()

    print(
        f"cramp evaluation ({t_load:.0f} s to load candidates); onset tolerance "
        f"{C.TOLERANCE_S:.0f} s; held-out seeds only\n"
    )
    head = (
        f"{'family':24s} {'model':10s} {'P':>5s} {'R':>5s} {'F1':>5s} {'FA/n':>5s} "
        f"{'likelyP':>7s} {'likelyR':>7s} {'cand.R':>6s} {'boundF1':>7s}  {'0.3 F1':>6s}"
    )
    print(head)
    print("-" * len(head))
    worst = None
    sims = sorted({simulator_of(f) for f in fams})
    loso_rel = []  # (confidence, truth) of each family's held-out candidates under its LOSO fit
    for f in fams:
        rows = [("stored", model)]
        others = [d for g in fams if simulator_of(g) != simulator_of(f) for d in dev[g]]
        if len(sims) > 1 and others:
            loso = fit(others, a.kind, weights)
            rows.append(("LOSO", loso))
            loso_rel += [(confidence(d, loso)[~d.hard], d.y[~d.hard]) for d in held[f]]
        for name, m in rows:
            ev = evaluate(held[f], m)
            s, lk = ev["all"], ev["likely"]
            print(
                f"{f:24s} {name:10s} {_fmt(s['precision'])} {_fmt(s['recall'])} "
                f"{_fmt(s['f1'])} {_fmt(s['fa_per_night'], 3)} {_fmt(lk['precision']):>7s} "
                f"{_fmt(lk['recall']):>7s} {_fmt(ev['cand_recall']):>6s} "
                f"{_fmt(ev['bound_f1']):>7s}  {_fmt(ev['current']['f1']):>6s}"
            )
            if name == "LOSO" and (worst is None or s["f1"] < worst[1]):
                worst = (f, s["f1"], lk["precision"])
    for fam in ("physio", "bedside", "nocturne"):
        if fam not in fams:
            continue
        from evaluation import oracle

        b = oracle.bound(fam)
        print(
            f"\noracle bound, {fam} held-out (a classifier given the simulator's hidden "
            f"event features, evaluation/oracle.py): F1 {b['possible']['f1']:.2f}, "
            f"likely precision {_fmt(b['likely']['precision'])}"
        )
    if worst:
        print(
            f"\nworst held-out simulator (LOSO): {worst[0]}: F1 {worst[1]:.2f}, "
            f"likely precision {_fmt(worst[2])}"
        )
    if a.reliability:
        ev = evaluate([d for f in fams for d in held[f]], model)
        tables = [("stored model, all held-out candidates", ev["reliability"])]
        if loso_rel:
            tables.append(
                (
                    "each simulator left out of the fit (LOSO), its held-out candidates: "
                    "what a confidence means on a simulator the model never saw",
                    reliability(
                        np.concatenate([c for c, _ in loso_rel]),
                        np.concatenate([y for _, y in loso_rel]),
                    ),
                )
            )
        for title, table in tables:
            print(f"\nreliability ({title}):")
            print(f"{'band':12s} {'n':>6s} {'predicted':>9s} {'observed':>9s}")
            for r in table:
                print(
                    f"{r['band']:12s} {r['n']:6d} {_fmt(r['predicted']):>9s} "
                    f"{_fmt(r['observed']):>9s}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
