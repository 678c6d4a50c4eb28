"""Evaluation of the dehydration detector on two independent simulators (issue 10).

    uv run --frozen python -m evaluation.dehydration [--dev 11,12,13] [--held-out 14-20]
        [--train ""] [--participants 6] [--days 120]
        [--physio-dev 1,2,3] [--physio-held-out 101-103] [--physio-dir DIR]

**daygen** (``simulators/daygen.py``, a day-level generator written without reading the
detector): each seed is generated in memory, the detector's daily table
(``detectors.dehydration.build_daily_table``) is built and turned into episodes exactly as
``detect_dehydration`` does (``episodes_from_daily``); truth days end >= 2 % of body mass
short (Sawka 2007). Develop on seeds 11-13, report on 14-20.

**physio** (``simulators/physio``, an independent wearable-scenario simulator, run through
its own CLI ``python -m simulators.physio --out DIR --seed N`` and ingested with the real
importers into a DuckDB store, ``python -m simulators.physio.ingest``): the detector runs on
``pipeline.detect.load_inputs`` of each participant's whole span; scored on the days of its
``days.csv`` whose truth deficit is known. Develop on seeds 1-3, report on 101-103.
Skipped when the package or its CLI is missing.

For each seed set it prints day-level TP / FP / FN, precision, recall and F1 of the episodes
(confidence >= 0.4), the same on **clear days** (true deficit outside 1.5-2.5 % of body
mass, where the answer is not a coin toss), the precision of ``likely`` episodes
(confidence >= 0.7), and **oracle bounds** beside them:

* *posterior-SD oracle*: a classifier given each day's *true* deficit plus normal noise of
  the detector's own posterior SD for that day (``deficit_estimate_sd_pct_bm``), thresholded
  at 2 % (not fitted), mean over 20 draws: what the detector's uncertainty would allow were
  its estimate unbiased;
* *scale-noise oracle*: the same with the published day-to-day SD of first-morning mass
  (Cheuvront 2004, CV 0.66 %), i.e. every day weighed against a perfect baseline.

On daygen it also prints the split by what was measured (weighed next morning x water log),
the mass-drop error, the best-threshold mass-drop ceilings fitted on the truth and, with
``--train`` seeds, a supervised logistic reference trained on their truth (an in-sample fit
on the observable columns is always printed as a ceiling).
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
from scipy.optimize import minimize
from scipy.special import expit

from detectors.dehydration import (
    DehydrationParams,
    build_daily_table,
    episodes_from_daily,
)
from simulators.daygen import SCALE_NOISE_SD_KG, generate, score_days

KEYS = ["participant_id", "local_date"]
#: published day-to-day SD of first-morning body mass, % ([cheuvront2004], the detector's value)
MASS_DAY_CV_PCT = DehydrationParams().mass_day_cv_pct
OBSERVABLE = [
    "deficit_estimate_pct_bm", "deficit_estimate_sd_pct_bm", "deficit_pct_bm", "mass_change_pct", "resting_hr_z",
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


def headline(name: str, d: pl.DataFrame, draws: int = 20, seed: int = 0) -> dict[str, float]:
    """Print and return the headline figures of a scored day table.

    ``d``: one row per scored day with ``dehydrated`` (truth), ``deficit_end_pct_bm`` (true
    deficit), ``confidence`` (null = no row: 0) and ``deficit_estimate_sd_pct_bm``.
    """
    truth = d["dehydrated"].cast(pl.Boolean).to_numpy()
    conf = d["confidence"].fill_null(0.0).to_numpy()
    true_pct = d["deficit_end_pct_bm"].to_numpy().astype(float)
    det, likely = conf >= 0.4, conf >= 0.7
    clear = np.abs(true_pct - 2.0) > 0.5
    s = f1_counts(det, truth)
    c = f1_counts(det[clear], truth[clear])
    lp = float((likely & truth).sum() / likely.sum()) if likely.any() else float("nan")
    rng = np.random.default_rng(seed)
    sd = d["deficit_estimate_sd_pct_bm"].fill_null(np.nan).to_numpy().astype(float)
    sd = np.where(np.isfinite(sd), sd, np.nanmedian(sd) if np.isfinite(sd).any() else 1.0)

    def oracle(noise_sd: np.ndarray) -> tuple[float, float]:
        f, fc = [], []
        for _ in range(draws):
            pred = true_pct + rng.normal(0.0, 1.0, true_pct.size) * noise_sd >= 2.0
            f.append(f1_counts(pred, truth)["f1"])
            fc.append(f1_counts(pred[clear], truth[clear])["f1"])
        return float(np.mean(f)), float(np.mean(fc))

    o_post, o_post_c = oracle(sd)
    o_scale, o_scale_c = oracle(np.full(true_pct.size, MASS_DAY_CV_PCT))
    print(f"\n== {name}: {d.height} days, {int(truth.sum())} truth days, "
          f"{int(clear.sum())} clear days (true deficit outside 1.5-2.5 %)")  # fmt: skip
    print(f"detector: TP {s['tp']}  FP {s['fp']}  FN {s['fn']}  precision {s['precision']:.2f}"
          f"  recall {s['recall']:.2f}  F1 {s['f1']:.2f}")  # fmt: skip
    print(f"  clear days: TP {c['tp']}  FP {c['fp']}  FN {c['fn']}  F1 {c['f1']:.2f};  likely "
          f"precision {lp:.2f} ({int((likely & truth).sum())}/{int(likely.sum())})")  # fmt: skip
    print(
        f"  oracle, true deficit + the detector's posterior SD (median "
        f"{np.median(sd):.2f} %), threshold 2 %: F1 {o_post:.2f}, clear days {o_post_c:.2f}"
    )
    print(f"  oracle, true deficit + scale noise {MASS_DAY_CV_PCT} % (Cheuvront 2004), "
          f"threshold 2 %: F1 {o_scale:.2f}, clear days {o_scale_c:.2f}")  # fmt: skip
    return {"f1": s["f1"], "precision": s["precision"], "recall": s["recall"],
            "f1_clear": c["f1"], "likely_precision": lp, "oracle_posterior_f1": o_post,
            "oracle_posterior_f1_clear": o_post_c, "oracle_scale_f1": o_scale,
            "oracle_scale_f1_clear": o_scale_c, "days": d.height,
            "truth_days": int(truth.sum())}  # fmt: skip


def smoother_arm(d: pl.DataFrame) -> dict[str, float]:
    """Print and return the figures of the whole-history body-water smoother
    (``detectors.body_water.body_water_daily``, not shipped) used where the detector has no
    estimate of the day's own: the larger of its ``P(deficit >= 2 %)`` and the detector's
    confidence on those days, the detector's elsewhere. Run per seed over the scored days of
    ``d``."""
    from detectors.body_water import body_water_daily
    from detectors.dehydration_params import BodyWaterParams

    parts = []
    # as evaluated: half of an unlogged day's sweat left as deficit (the shipped state: none)
    bp = BodyWaterParams(adlib_replace_frac=0.5)
    for (_seed,), g in d.partition_by("seed", as_dict=True).items():
        g = g.filter(pl.col("body_mass_kg").is_not_null()).unique(KEYS)
        bw = body_water_daily(g, bp)
        parts.append(g.join(bw.select(*KEYS, p_smooth="p_deficit_ge_2pct"), on=KEYS, how="left"))
    e = pl.concat(parts, how="diagonal_relaxed")
    own = e["deficit_estimate_source"].is_in(["next_morning_mass", "fluid_balance"]).to_numpy()
    conf = e["confidence"].fill_null(0.0).to_numpy()
    ps = e["p_smooth"].fill_null(0.0).fill_nan(0.0).to_numpy()
    conf = np.where(own, conf, np.maximum(conf, ps))
    truth = e["dehydrated"].cast(pl.Boolean).to_numpy()
    clear = np.abs(e["deficit_end_pct_bm"].to_numpy().astype(float) - 2.0) > 0.5
    s, c = f1_counts(conf >= 0.4, truth), f1_counts((conf >= 0.4)[clear], truth[clear])
    likely = conf >= 0.7
    lp = float((likely & truth).sum() / likely.sum()) if likely.any() else float("nan")
    print(f"  full smoother on days without their own estimate (not shipped): F1 {s['f1']:.2f}"
          f" (TP {s['tp']} FP {s['fp']}), clear days {c['f1']:.2f}, likely precision "
          f"{lp:.2f}")  # fmt: skip
    return {"f1": s["f1"], "f1_clear": c["f1"], "likely_precision": lp}


# ------------------------------------------------------------------------------------------
# physio simulator (its CLI and ingest module only; its code is not read here)


def physio_available() -> bool:
    try:
        import simulators.physio  # noqa: F401
    except ImportError:
        return False
    return True


def run_physio_seed(seed: int, root: Path, people: int | None = None) -> pl.DataFrame:
    """Generate (once, cached under ``root``), ingest and score one physio seed."""
    from pipeline.detect import load_inputs
    from pipeline.store import connect

    out = root / (f"physio-{seed}" + ("" if people is None else f"-{people}p"))
    db = out / "crampwatch.duckdb"
    if not (out / "days.csv").exists():
        cmd = [sys.executable, "-m", "simulators.physio", "--out", str(out), "--seed", str(seed)]
        if people is not None:
            cmd += ["--people", str(people)]
        subprocess.run(cmd, check=True, capture_output=True, text=True)
    if not db.exists():
        subprocess.run([sys.executable, "-m", "simulators.physio.ingest", str(out), "--db",
                        str(db)], check=True, capture_output=True, text=True)  # fmt: skip
    with open(out / "days.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    truth = (
        pl.DataFrame(
            {
                "participant_id": [r["participant_id"] for r in rows],
                "local_date": [r["local_date"] for r in rows],
                "deficit_end_pct_bm": [float(r["deficit_end_pct_bm"] or "nan") for r in rows],
                "dehydrated": [r["dehydrated"].lower() == "true" for r in rows],
            }
        )
        .with_columns(pl.col("local_date").str.to_date())
        .filter(pl.col("deficit_end_pct_bm").is_not_nan())
    )
    con = connect(db, read_only=True)
    try:
        parts = []
        for (pid,), t in truth.partition_by("participant_id", as_dict=True).items():
            lo, hi = t["local_date"].min(), t["local_date"].max()
            inp = load_inputs(con, pid, lo, hi)
            daily = build_daily_table(
                inp["samples"], inp["workouts"], inp["environment"], inp["participants"]
            )
            parts.append(t.join(daily, on=KEYS, how="left"))
    finally:
        con.close()
    return pl.concat(parts, how="diagonal_relaxed").with_columns(seed=pl.lit(seed))


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
    head = headline(name, d)
    smoother_arm(d)

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
    return {**head, "mass_oracle": f_mass, "mass_oracle_weighed": f_mass_w,
            "noise_oracle": float(np.mean(noise)), "noise_oracle_own": float(np.mean(noise_own)),
            "logistic_oracle": f_log}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dev", default="11,12,13", help="development seeds (default 11,12,13)")
    ap.add_argument("--held-out", default="14-20", help="held-out seeds (default 14-20)")
    ap.add_argument("--train", default="",
                    help="seeds whose truth trains the supervised reference model "
                         "(e.g. 21-32; default empty: train on the development seeds only)")  # fmt: skip
    ap.add_argument("--participants", type=int, default=6, help="people per seed (default 6)")
    ap.add_argument("--days", type=int, default=120, help="scored days per person (default 120)")
    ap.add_argument("--physio-dev", default="1,2,3", help="physio development seeds")
    ap.add_argument("--physio-held-out", default="101-103", help="physio held-out seeds")
    ap.add_argument("--physio-people", type=int, default=None,
                    help="people per physio seed (default: the simulator's)")  # fmt: skip
    ap.add_argument("--physio-dir", type=Path, default=None,
                    help="cache folder for the physio scenarios and stores (default: a "
                         "temporary folder, removed at the end)")  # fmt: skip
    ap.add_argument("--no-daygen", action="store_true", help="physio only")
    a = ap.parse_args(argv)
    if a.no_daygen:
        return _physio(a)
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
    return _physio(a)


#: daily columns lagged for the recorded-data bound: what the days before a day recorded
LAGGED = ("sweat_pct_bm", "exposed_hi_ge_80f_h", "exposed_hi_ge_91f_h", "hi_max_f", "water_ml",
          "mass_change_pct", "resting_hr_z", "sleeping_hr_z")  # fmt: skip


def recorded_matrix(d: pl.DataFrame) -> tuple[pl.DataFrame, np.ndarray]:
    """(sorted days, matrix): the day's :data:`OBSERVABLE` columns and, per participant, :data:`LAGGED` columns of
    the 1, 2 and 3 days before and their 3-day sums (a deficit carried over from a heat wave
    shows only in the days before). NaN stays NaN (the trees route it)."""
    have = [c for c in OBSERVABLE if c in d.columns]
    lag = [c for c in LAGGED if c in d.columns]
    f = d.sort("participant_id", "local_date").with_columns(
        *[
            pl.col(c).cast(pl.Float64).shift(k).over("participant_id").alias(f"{c}_lag{k}")
            for c in lag
            for k in (1, 2, 3)
        ],
        *[
            pl.col(c).cast(pl.Float64).fill_null(0.0).rolling_sum(3).shift(1)
            .over("participant_id").alias(f"{c}_prev3")
            for c in lag
        ],
    )  # fmt: skip
    cols = have + [f"{c}_lag{k}" for c in lag for k in (1, 2, 3)] + [f"{c}_prev3" for c in lag]
    return f, f.select([pl.col(c).cast(pl.Float64).fill_nan(None) for c in cols]).to_numpy()


def recorded_bound(dev: pl.DataFrame, held: pl.DataFrame) -> dict[str, float]:
    """Recorded-data bound (issue 10, item 1): gradient-boosted trees (scikit-learn's
    ``HistGradientBoostingClassifier``) fitted on the development seeds' truth from
    everything the detector's daily table records about a day and the three before
    (:func:`recorded_matrix`), scored on the held-out seeds at 0.4 (the episode threshold) and
    at the threshold best on the development seeds. Beside the detector: what a model that
    knows this simulator's answers could reach from the same recordings."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    dev_f, X = recorded_matrix(dev)
    held_f, Xt = recorded_matrix(held)
    seen = ~np.all(np.isnan(X), axis=0)  # a column nothing recorded on these seeds
    X, Xt = X[:, seen], Xt[:, seen]
    y = dev_f["dehydrated"].cast(pl.Boolean).to_numpy()
    yt = held_f["dehydrated"].cast(pl.Boolean).to_numpy()
    m = HistGradientBoostingClassifier(random_state=0).fit(X, y)
    _, thr = best_threshold(m.predict_proba(X)[:, 1], y)
    p = m.predict_proba(Xt)[:, 1]
    clear = np.abs(held_f["deficit_end_pct_bm"].to_numpy().astype(float) - 2.0) > 0.5
    out = {}
    for name, t in (("at 0.4", 0.4), (f"at {thr:.2f} (best on development)", thr)):
        s, c = f1_counts(p >= t, yt), f1_counts((p >= t)[clear], yt[clear])
        print(f"  recorded-data bound {name}: precision {s['precision']:.2f}  recall "
              f"{s['recall']:.2f}  F1 {s['f1']:.2f}, clear days {c['f1']:.2f}")  # fmt: skip
        out[name] = s["f1"]
    return out


def _physio(a: argparse.Namespace) -> int:
    if not (a.physio_dev or a.physio_held_out):
        return 0
    if not physio_available():
        print("\nphysio: simulators.physio not available; skipped")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        root = a.physio_dir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        runs = {}
        for label, seeds in (("development", a.physio_dev), ("held-out", a.physio_held_out)):
            if not seeds:
                continue
            t0 = time.perf_counter()
            d = pl.concat([run_physio_seed(s, root, a.physio_people) for s in _seeds(seeds)],
                          how="diagonal_relaxed")  # fmt: skip
            print(f"\nphysio {label} seeds {seeds}: generated, ingested and detected in "
                  f"{time.perf_counter() - t0:.0f} s")  # fmt: skip
            headline(f"physio {label} seeds {seeds}", d)
            smoother_arm(d)
            runs[label] = d
        if len(runs) == 2:
            print("\nphysio held-out, a classifier fitted on the development seeds' truth:")
            recorded_bound(runs["development"], runs["held-out"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
