"""Oracle bound for the physio simulator: what a classifier given the simulator's own hidden
event features reaches on the held-out seeds (issue 10, item 1).

The detector only sees what a watch records (sparse heart-rate samples, counted steps, the
device's sleep labels); the simulator knows, for every night-time event, what really
happened. A classifier fitted on those hidden features says how far apart cramps and their
confounders (bathroom trips, phone use, PLM series, awakenings, rollovers) lie in the
simulator itself, so a target that the overlap of the literature ranges makes impossible
shows up as such. The gap between this bound and the detector is what the recording loses
(and what the detector leaves on the table).

Features (``hidden_features.csv``, units in the names): the event's duration, its true heart
rate rise, counted and true steps, time awake, time moving, whether and how long the person
stood and the orthostatic rise, the true stage at onset, hours after sleep onset and the
bedroom temperature: every quantity that any event kind has. The cramp-only columns
(``pain_surge_bpm``, ``surge_latency_s``, ``contraction_s``, ``residual_wake_s``,
``stand_after_onset_s``, ``from_wake``) are left out: their mere presence names the kind.

Scored per event (each hidden event is one candidate, so precision and recall are
event-level without matching); ``sleep`` and ``watch_off`` rows are not events to classify.
Fitted with scikit-learn's ``HistGradientBoostingClassifier`` on the development seeds of
:data:`evaluation.candidates.SEEDS` and scored on the held-out seeds at confidence 0.4 (the
detector's ``possible`` threshold) and 0.7 (``likely``).

Usage::

    uv run --frozen python -m evaluation.oracle
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation import candidates as C  # noqa: E402

#: hidden event features every event kind has (see the module docstring)
ORACLE_FEATURES = (
    "duration_s",
    "hr_rise_bpm",
    "steps_counted",
    "steps_true",
    "wake_s",
    "movement_s",
    "stood",
    "standing_s",
    "orthostatic_bpm",
    "stage_at_onset",
    "hours_after_onset",
    "bedroom_c",
)
NOT_EVENTS = ("sleep", "watch_off")


def physio_cache_key(*extra: Path) -> str:
    """Digest of the physio simulator's code (and of ``extra`` files): a cache entry made by
    another version of them is not reused."""
    files = sorted((C.ROOT / "simulators" / "physio").glob("*.py")) + list(extra)
    return hashlib.sha1(b"".join(p.read_bytes() for p in files)).hexdigest()[:10]


def hidden_features(seed: int) -> pl.DataFrame:
    """The physio simulator's hidden event features for ``seed`` (generated, then cached)."""
    cached = C.CACHE / f"oracle-physio-{seed}-{physio_cache_key()}.parquet"
    if cached.exists():
        return pl.read_parquet(cached)
    tmp = Path(tempfile.mkdtemp(prefix=f"cw-oracle-{seed}-"))
    try:
        C._generate("physio", seed, tmp)
        frame = pl.read_csv(tmp / "hidden_features.csv", infer_schema_length=None)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    C.CACHE.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(cached)
    return frame


def matrix(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(X, y): a missing feature means the event had none of it (no standing, no steps)."""
    ev = frame.filter(~pl.col("kind").is_in(NOT_EVENTS))
    X = ev.select([pl.col(f).cast(pl.Float64).fill_null(0.0) for f in ORACLE_FEATURES])
    return X.to_numpy(), ev["is_cramp"].to_numpy().astype(bool)


def scores(y: np.ndarray, detected: np.ndarray) -> dict:
    tp = int((detected & y).sum())
    fp = int((detected & ~y).sum())
    fn = int((~detected & y).sum())
    p = tp / (tp + fp) if tp + fp else float("nan")
    r = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * p * r / (p + r) if p + r > 0 else float("nan")
    return {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": f1}


def bound(family: str = "physio") -> dict:
    """Held-out oracle scores (``possible`` and ``likely`` thresholds) for ``family``."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    dev, held = C.SEEDS[family]
    train = [matrix(hidden_features(s)) for s in dev]
    test = [matrix(hidden_features(s)) for s in held]
    X = np.vstack([x for x, _ in train])
    y = np.concatenate([t for _, t in train])
    m = HistGradientBoostingClassifier(random_state=0).fit(X, y)
    Xt = np.vstack([x for x, _ in test])
    yt = np.concatenate([t for _, t in test])
    p = m.predict_proba(Xt)[:, 1]
    return {
        "family": family,
        "events": int(yt.size),
        "cramps": int(yt.sum()),
        "possible": scores(yt, p >= 0.4),
        "likely": scores(yt, p >= 0.7),
    }


def main() -> int:
    b = bound()
    print(
        f"oracle bound on physio held-out seeds {C.SEEDS['physio'][1]} "
        f"({b['events']} hidden events, {b['cramps']} cramps; features: "
        f"{', '.join(ORACLE_FEATURES)})"
    )
    for name in ("possible", "likely"):
        s = b[name]
        print(
            f"  {name:8s} P {s['precision']:.2f}  R {s['recall']:.2f}  F1 {s['f1']:.2f}  "
            f"(TP {s['tp']}, FP {s['fp']}, FN {s['fn']})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
