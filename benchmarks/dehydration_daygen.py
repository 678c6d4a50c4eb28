"""Evaluation: the dehydration detector on the independent day generator.

    uv run python benchmarks/dehydration_daygen.py [--dev 11,12,13] [--held-out 14-20]
                                                    [--train 21-32] [--participants 6] [--days 120]

Generates each seed with ``simulators/daygen.py`` (a second simulator written without
reading ``sample_data/generate.py``; see its docstring), runs the detector's daily table
(``detectors.dehydration.build_daily_table``) and turns it into episodes exactly as
``detect_dehydration`` does (``episodes_from_daily``), then prints for each seed set:

* day-level TP / FP / FN, precision, recall and F1 against the truth days (end-of-day
  deficit >= 2 % of body mass, Sawka 2007), as ``tests/detectors/daygen.score_days`` counts;
* the same split by what was measured: next-morning weighing (yes / no) x water log status;
* how close the truth days lie to the threshold, and the error of the next-morning mass drop
  against the true deficit (mean and SD, % of body mass);
* four ceilings **fitted on the truth itself** (optimistic by construction; no detector can
  know the truth it is scored on):

  - *mass-drop oracle*: the best single threshold on the next-morning drop, weighed days
    only (unweighed truth days count as misses);
  - *mass-drop oracle, weighed days only*: the same threshold fitted on the days with a
    next-morning weighing alone (what the scale can do where it is used);
  - *scale-noise oracle*: every day weighed against a perfect baseline with only the
    published day-to-day first-morning variation (Cheuvront et al. 2004, CV 0.66 %; it
    includes real hydration swings, so it overstates pure scale noise), and again with
    daygen's own scale noise (0.35 kg), the best threshold, mean over 20 draws;
  - *observables oracle*: a logistic regression on the detector's observable daily columns
    (balance and its SD, mass change, resting / sleeping HR and HRV, sweat, heat exposure,
    water, need; a missing-value indicator each), fitted and thresholded in sample;

* a **supervised** reference: the same logistic model trained (coefficients and threshold)
  on the truth of separate training seeds (``--train``, default 21-32: 12 seeds, ~240
  truth days), scored on the held-out seeds. It shows what the observable columns support
  out of sample when labels exist; the detector has none (nobody records "was I 2 %
  dehydrated yesterday"). The detector's own scores on the training seeds are printed too,
  as a third seed set, for its seed-to-seed spread.

The issue-5 target is F1 >= 0.8; the ceilings show how much of the gap the signals allow.
Evaluation, not speed: it takes ~3 s per seed (~70 s with the defaults).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
from scipy.optimize import minimize
from scipy.special import expit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detectors.dehydration import (  # noqa: E402
    DehydrationParams,
    build_daily_table,
    episodes_from_daily,
)
from simulators.daygen import SCALE_NOISE_SD_KG, generate, score_days  # noqa: E402

KEYS = ["participant_id", "local_date"]
#: published day-to-day SD of first-morning body mass, % ([cheuvront2004], the detector's value)
MASS_DAY_CV_PCT = DehydrationParams().mass_day_cv_pct
OBSERVABLE = [
    "deficit_pct_bm", "deficit_sd_pct_bm", "mass_change_pct", "resting_hr_z",
    "resting_hr_rise_bpm", "sleeping_hr_z", "sleeping_hr_rise_bpm", "hrv_sdnn_z",
    "sweat_pct_bm", "exposed_hi_ge_80f_h", "exposed_hi_ge_91f_h", "hi_max_f", "water_ml",
    "need_ml", "session_loss_pct_bm",
]  # fmt: skip


def _seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-")
            out.extend(range(int(a), int(b) + 1))
        elif part:
            out.append(int(part))
    return out


def f1_counts(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    tp = int((pred & truth).sum())
    fp = int((pred & ~truth).sum())
    fn = int((~pred & truth).sum())
    prec = tp / (tp + fp) if tp + fp else float("nan")
    rec = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": prec, "recall": rec, "f1": f1}


def best_threshold(score: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(best F1, its threshold): every distinct finite score as a threshold, or, with more
    than 400 of them, 400 quantiles of the upper half of the scores."""
    ok = np.isfinite(score)
    cand = np.unique(score[ok])
    if cand.size > 400:
        cand = np.quantile(score[ok], np.linspace(0.5, 1.0, 400))
    best = (0.0, float("nan"))
    for t in cand:
        f = f1_counts(np.nan_to_num(score, nan=-np.inf) >= t, truth)["f1"]
        if f > best[0]:
            best = (f, float(t))
    return best


def _design(days: pl.DataFrame, ref: pl.DataFrame) -> np.ndarray:
    """OBSERVABLE columns standardised on ``ref`` (NaN -> 0) plus a missing indicator each."""
    cols = [np.ones(days.height)]
    for c in OBSERVABLE:
        x = days[c].cast(pl.Float64).fill_nan(None).to_numpy().astype(float)
        r = ref[c].cast(pl.Float64).fill_nan(None).to_numpy().astype(float)
        miss, rmiss = np.isnan(x), np.isnan(r)
        if (~rmiss).sum() > 1 and np.nanstd(r) > 0:
            cols.append(np.where(miss, 0.0, (x - np.nanmean(r)) / np.nanstd(r)))
        if rmiss.any() and not rmiss.all():
            cols.append(miss.astype(float))
    return np.column_stack(cols)


def logistic_fit(x: np.ndarray, truth: np.ndarray, lam: float = 1e-3) -> np.ndarray:
    """Coefficients of a logistic regression with a small ridge (L-BFGS, exact gradient)."""
    y = truth.astype(float)

    def nll(b: np.ndarray) -> tuple[float, np.ndarray]:
        eta = x @ b
        ll = np.sum(np.logaddexp(0.0, eta) - y * eta) + lam * np.sum(b[1:] ** 2)
        g = x.T @ (expit(eta) - y) + 2 * lam * np.r_[0.0, b[1:]]
        return float(ll), g

    return minimize(nll, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B").x


def logistic_in_sample(days: pl.DataFrame, truth: np.ndarray) -> tuple[float, float]:
    """(best F1 over thresholds, threshold) of a logistic regression fitted in sample."""
    x = _design(days, days)
    return best_threshold(expit(x @ logistic_fit(x, truth)), truth)


def logistic_out_of_sample(train: pl.DataFrame, test: pl.DataFrame) -> dict[str, float]:
    """Fit the logistic model and its F1-best threshold on ``train`` (labelled seeds), score
    ``test`` (held-out seeds) with both fixed: what a model trained on this simulator's own
    truth reaches out of sample (a reference for label-free rules, not a ceiling: more
    training data or a richer model can do better)."""
    y_tr = train["dehydrated"].to_numpy()
    x_tr = _design(train, train)
    b = logistic_fit(x_tr, y_tr)
    _, thr = best_threshold(expit(x_tr @ b), y_tr)
    p = expit(_design(test, train) @ b)
    return f1_counts(p >= thr, test["dehydrated"].to_numpy())


def run_seed(seed: int, participants: int, days: int) -> pl.DataFrame:
    g = generate(seed=seed, n_participants=participants, n_days=days)
    daily = build_daily_table(g.samples, g.workouts, g.environment, g.participants)
    episodes = episodes_from_daily(daily)
    s = score_days(episodes, g)
    flagged = episodes.select(KEYS).unique().with_columns(detected=pl.lit(True))
    out = (
        g.latent.filter(pl.col("in_window"))
        .join(daily, on=KEYS, how="left")
        .join(flagged, on=KEYS, how="left")
        .with_columns(pl.col("detected").fill_null(False), seed=pl.lit(seed))
    )
    # the table and score_days must agree on what was counted
    got = f1_counts(out["detected"].to_numpy(), out["dehydrated"].to_numpy())
    assert (got["tp"], got["fp"], got["fn"]) == (s["tp"], s["fp"], s["fn"]), (got, s)
    return out


def report(name: str, d: pl.DataFrame, draws: int = 20) -> dict[str, float]:
    truth = d["dehydrated"].to_numpy()
    det = d["detected"].to_numpy()
    s = f1_counts(det, truth)
    print(f"\n== {name}: {d.height} participant-days, {int(truth.sum())} truth days")
    print(f"detector: TP {s['tp']}  FP {s['fp']}  FN {s['fn']}  precision {s['precision']:.2f}"
          f"  recall {s['recall']:.2f}  F1 {s['f1']:.2f}   (target F1 >= 0.8)")  # fmt: skip

    weighed = d["mass_change_pct"].is_not_null()
    by = (
        d.with_columns(weighed=weighed)
        .group_by("weighed", "water_status")
        .agg(
            days=pl.len(),
            truth=pl.col("dehydrated").sum(),
            tp=(pl.col("detected") & pl.col("dehydrated")).sum(),
            fp=(pl.col("detected") & ~pl.col("dehydrated")).sum(),
        )
        .with_columns(fn=pl.col("truth") - pl.col("tp"))
        .sort("weighed", "water_status", descending=[True, False])
    )
    print("by what was measured (weighed next morning x water log):")
    print(
        f"  {'weighed':>7} {'water log':>10} {'days':>6} {'truth':>6} {'TP':>5} {'FP':>5} {'FN':>5}"
    )
    for r in by.iter_rows(named=True):
        print(f"  {'yes' if r['weighed'] else 'no':>7} {r['water_status'] or '-':>10} "
              f"{r['days']:>6} {r['truth']:>6} {r['tp']:>5} {r['fp']:>5} {r['fn']:>5}")  # fmt: skip

    deficit_pct = d["deficit_end_pct_bm"].to_numpy()
    near = ((deficit_pct >= 2.0) & (deficit_pct < 2.5)).sum()
    band = ((deficit_pct >= 1.5) & (deficit_pct < 2.5)).sum()
    print(f"truth days within 2.0-2.5 % BM: {near} of {int(truth.sum())} "
          f"({100 * near / max(truth.sum(), 1):.0f} %); days within 1.5-2.5 %: {band}")  # fmt: skip
    blind = d.filter(
        pl.col("dehydrated") & pl.col("mass_change_pct").is_null()
        & (pl.col("water_status") != "logged")
    ).height  # fmt: skip
    print(f"truth days neither weighed next morning nor fully logged: {blind}")

    drop_pct = -d["mass_change_pct"].fill_null(np.nan).to_numpy()
    w = np.isfinite(drop_pct)
    err_pct = drop_pct[w] - deficit_pct[w]
    print(f"next-morning mass drop - true deficit (weighed days, n={int(w.sum())}): "
          f"mean {err_pct.mean():+.2f}, SD {err_pct.std():.2f} % BM (published day-to-day CV "
          f"{MASS_DAY_CV_PCT} %)")  # fmt: skip

    f_mass, t_mass = best_threshold(drop_pct, truth)
    f_mass_w, t_mass_w = best_threshold(drop_pct[w], truth[w])
    rng = np.random.default_rng(0)
    noise = [
        best_threshold(deficit_pct + rng.normal(0, MASS_DAY_CV_PCT, deficit_pct.size), truth)[0]
        for _ in range(draws)
    ]
    # the generator's own scale noise: 0.35 kg (gut contents, clothing) on the person's mass
    person_mass_kg = (
        d.select(pl.col("body_mass_kg").median().over("seed", "participant_id").fill_null(70.0))
        .to_series()
        .to_numpy()
    )
    own_sd_pct = 100 * SCALE_NOISE_SD_KG / person_mass_kg
    noise_own = [
        best_threshold(deficit_pct + rng.normal(0, 1.0, deficit_pct.size) * own_sd_pct, truth)[0]
        for _ in range(draws)
    ]
    f_log, _ = logistic_in_sample(d, truth)
    print("ceilings fitted on the truth (optimistic):")
    print(f"  mass-drop oracle, all days (best threshold {t_mass:.2f} %):      F1 {f_mass:.2f}")
    print(f"  mass-drop oracle, weighed days only (threshold {t_mass_w:.2f} %): F1 {f_mass_w:.2f}")
    print(
        f"  scale-noise oracle, all days weighed, SD {MASS_DAY_CV_PCT} % (published): F1 "
        f"{np.mean(noise):.2f} (range {min(noise):.2f}-{max(noise):.2f}, {draws} draws)"
    )
    print(f"  scale-noise oracle, all days weighed, daygen's {SCALE_NOISE_SD_KG} kg: F1 "
          f"{np.mean(noise_own):.2f} (range {min(noise_own):.2f}-{max(noise_own):.2f})")  # fmt: skip
    print(f"  observables oracle (in-sample logistic, {len(OBSERVABLE)} columns): F1 {f_log:.2f}")
    return {"f1": s["f1"], "mass_oracle": f_mass, "mass_oracle_weighed": f_mass_w,
            "noise_oracle": float(np.mean(noise)), "noise_oracle_own": float(np.mean(noise_own)),
            "logistic_oracle": f_log}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dev", default="11,12,13", help="development seeds (default 11,12,13)")
    ap.add_argument("--held-out", default="14-20", help="held-out seeds (default 14-20)")
    ap.add_argument("--train", default="21-32",
                    help="seeds whose truth trains the supervised reference model "
                         "(default 21-32; empty: train on the development seeds only)")  # fmt: skip
    ap.add_argument("--participants", type=int, default=6, help="people per seed (default 6)")
    ap.add_argument("--days", type=int, default=120, help="scored days per person (default 120)")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()

    def days_of(seeds: list[int]) -> pl.DataFrame:
        return pl.concat([run_seed(s, a.participants, a.days) for s in seeds],
                         how="diagonal_relaxed")  # fmt: skip

    dev = days_of(_seeds(a.dev))
    held = days_of(_seeds(a.held_out)) if a.held_out else None
    train = days_of(_seeds(a.train)) if a.train and held is not None else None
    print(f"daygen: {a.participants} participants x {a.days} days per seed; detector and "
          f"tables in {time.perf_counter() - t0:.1f} s")  # fmt: skip
    report("development seeds " + a.dev, dev)
    if held is None:
        return 0
    report("held-out seeds " + a.held_out, held)
    report("all seeds (development + held-out)", pl.concat([dev, held], how="diagonal_relaxed"))
    if train is not None:
        s = f1_counts(train["detected"].to_numpy(), train["dehydrated"].to_numpy())
        print(f"\n== training seeds {a.train}: {train.height} participant-days, "
              f"{int(train['dehydrated'].sum())} truth days\ndetector: TP {s['tp']}  FP "
              f"{s['fp']}  FN {s['fn']}  precision {s['precision']:.2f}  recall "
              f"{s['recall']:.2f}  F1 {s['f1']:.2f}")  # fmt: skip
    print("\nsupervised reference (logistic model on the observable columns, coefficients and "
          "threshold fitted on labelled seeds, scored on the held-out seeds):")  # fmt: skip
    for name, frame in (("development seeds " + a.dev, dev), ("training seeds " + a.train, train)):
        if frame is None:
            continue
        o = logistic_out_of_sample(frame, held)
        print(f"  trained on {name} ({int(frame['dehydrated'].sum())} truth days): TP {o['tp']}"
              f"  FP {o['fp']}  FN {o['fn']}  precision {o['precision']:.2f}  recall "
              f"{o['recall']:.2f}  F1 {o['f1']:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
