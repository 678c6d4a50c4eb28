"""Oracle bound for the physio and bedside simulators: what a classifier given the simulator's
own hidden event features reaches on the held-out seeds (issue 10, item 1).

The detector only sees what a watch records (sparse heart-rate samples, counted steps, the
device's sleep labels); the simulator knows, for every night-time event, what really
happened. A classifier fitted on those hidden features says how far apart cramps and their
confounders (bathroom trips, phone use, PLM series, awakenings, rollovers) lie in the
simulator itself, so a target that the overlap of the literature ranges makes impossible
shows up as such. The gap between this bound and the detector is what the recording loses
(and what the detector leaves on the table).

Features (``hidden_features.csv``, units in the names): the event's true heart rate rise,
counted and true steps, time awake, time moving, whether the person stood and the
orthostatic rise, the true stage at onset, hours after sleep onset and the bedroom
temperature: quantities every event kind has. Left out because they name the kind: the
cramp-only columns (``pain_surge_bpm``, ``surge_latency_s``, ``contraction_s``,
``residual_wake_s``, ``stand_after_onset_s``, ``from_wake``, ``standing_s``: bathroom trips
stand too but record no standing time), and ``duration_s``, which is a cramp's contraction
but every other kind's time awake (it equals ``wake_s`` for every kind but cramps). With
those two columns in (before 2026-12-06, sixth session) the bound read 0.99: a leak, not an
overlap.

bedside records each kind's heart-rate response under its own name (a cramp's pain surge, a
bathroom trip's orthostatic rise, an awakening's rise, phone use's change, a PLM's
acceleration, a rollover's bump) and the time on one's feet under two (a cramp's
``standing_s``, a bathroom trip's ``out_of_bed_s``). :func:`bedside_matrix` puts each in one
column (``hr_rise_bpm``: for a cramp that stood, the larger of its surge and its orthostatic
rise; ``standing_s``), so no column's presence names a kind. An awakening's or phone use's
time awake is its duration. The event's own ``duration_s`` is left out: it is a cramp's
contraction but every other kind's time awake, so it would name cramps. The features
(``BEDSIDE_FEATURES``) are the HR response, true steps, whether and how long the person stood,
time awake, wrist movement intensity, the stage at onset, hours after sleep onset, the bedroom
temperature and the hot-night flag.

Scored per event (each hidden event is one candidate, so precision and recall are
event-level without matching); ``sleep`` and ``watch_off`` rows are not events to classify.
Fitted with scikit-learn's ``HistGradientBoostingClassifier`` on the development seeds of
:data:`evaluation.candidates.SEEDS` and scored on the held-out seeds at confidence 0.4 (the
detector's ``possible`` threshold) and 0.7 (``likely``).

Usage::

    uv run --frozen python -m evaluation.oracle [--family physio|bedside|nocturne]
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
    "hr_rise_bpm",
    "steps_counted",
    "steps_true",
    "wake_s",
    "movement_s",
    "stood",
    "orthostatic_bpm",
    "stage_at_onset",
    "hours_after_onset",
    "bedroom_c",
)
#: truth rows that are not night-time events (nocturne also writes daytime workouts and a row
#: per hot night)
NOT_EVENTS = ("sleep", "watch_off", "workout", "hot_night")
#: bedside's hidden features every event kind has once its HR response is put in one column
BEDSIDE_FEATURES = (
    "hr_rise_bpm",
    "steps_true",
    "stood",
    "standing_s",
    "wake_s",
    "movement_intensity",
    "stage_at_onset",
    "hours_after_sleep_onset",
    "bedroom_c",
    "hot_night",
)
#: nocturne's hidden features: every kind is measured the same way (over the 15 min after its
#: start, the stage from the final night timeline; simulators/nocturne/generate.py), so no
#: column names the kind
NOCTURNE_FEATURES = (
    "hr_response_bpm",
    "true_steps",
    "counted_steps",
    "standing_s",
    "awake_s",
    "wrist_motion_mean",
    "stage_at_onset",
    "hours_since_sleep_onset",
    "bedroom_temp_c",
)
#: stage at onset as a number (deeper sleep lower); ``up``: already out of bed
_STAGE_CODE = {"n3": 0, "n2": 1, "rem": 2, "n1": 3, "wake": 4, "up": 5}
#: bedside's per-kind names of the event's heart-rate response
_BEDSIDE_HR = (
    "pain_surge_bpm",
    "orthostatic_bpm",
    "hr_rise_bpm",
    "hr_change_bpm",
    "hr_accel_bpm",
    "hr_bump_bpm",
)


def simulator_cache_key(*extra: Path, family: str = "physio") -> str:
    """Digest of the simulator's code and the project's code it reaches
    (:func:`evaluation.candidates._simulator_key`) and of
    ``extra`` files: a cache entry made by another version of them is not reused."""
    extra_digest = hashlib.sha1(b"".join(p.read_bytes() for p in extra)).hexdigest()[:8]
    return f"{C._simulator_key(family)}{extra_digest if extra else ''}"


def hidden_features(seed: int, family: str = "physio") -> pl.DataFrame:
    """The simulator's hidden event features for ``seed`` (generated, then cached)."""
    key = simulator_cache_key(family=family)
    cached = C.CACHE / f"oracle-{family}-{seed}-{key}.parquet"
    if cached.exists():
        return pl.read_parquet(cached)
    tmp = Path(tempfile.mkdtemp(prefix=f"cw-oracle-{family}-{seed}-"))
    try:
        C._generate(family, seed, tmp)
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


def bedside_matrix(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of bedside's hidden features: :data:`BEDSIDE_FEATURES`, the HR response of
    every kind in ``hr_rise_bpm`` (absent: none of it)."""
    ev = frame.filter(~pl.col("kind").is_in(NOT_EVENTS))
    have = [c for c in _BEDSIDE_HR if c in ev.columns]
    rise = pl.max_horizontal([pl.col(c) for c in have]) if have else pl.lit(0.0)
    # awakenings and phone use are wake throughout: their time awake is their duration
    awake = pl.col("kind").is_in(["awakening", "phone_use"])
    wake = pl.col("wake_s") if "wake_s" in ev.columns else pl.lit(None, pl.Float64)
    ev = ev.with_columns(
        rise.alias("_rise"), pl.when(awake).then(pl.col("duration_s")).otherwise(wake).alias("_w")
    )
    # time on one's feet: a cramp's standing_s, a bathroom trip's out_of_bed_s
    up = [c for c in ("standing_s", "out_of_bed_s") if c in ev.columns]
    col = {
        "hr_rise_bpm": pl.col("_rise"),
        "wake_s": pl.col("_w"),
        "standing_s": pl.coalesce([pl.col(c) for c in up]) if up else pl.lit(0.0),
    }
    X = ev.select(
        [
            (col.get(f) if f in col else pl.col(f) if f in ev.columns else pl.lit(0))
            .cast(pl.Float64)
            .fill_null(0.0)
            .alias(f)
            for f in BEDSIDE_FEATURES
        ]
    )
    return X.to_numpy(), ev["is_cramp"].to_numpy().astype(bool)


def nocturne_matrix(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of nocturne's hidden features (:data:`NOCTURNE_FEATURES`, the stage coded by
    :data:`_STAGE_CODE`)."""
    ev = frame.filter(~pl.col("kind").is_in(NOT_EVENTS))
    # -1: unknown (0 is N3)
    stage = pl.col("stage_at_onset").replace_strict(_STAGE_CODE, default=-1).fill_null(-1)
    X = ev.select(
        [
            (stage if f == "stage_at_onset" else pl.col(f)).cast(pl.Float64).fill_null(0.0)
            for f in NOCTURNE_FEATURES
        ]
    )
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
    mat = {"bedside": bedside_matrix, "nocturne": nocturne_matrix}.get(family, matrix)
    train = [mat(hidden_features(s, family)) for s in dev]
    test = [mat(hidden_features(s, family)) for s in held]
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


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--family", choices=("physio", "bedside", "nocturne"), default="physio")
    fam = ap.parse_args(argv).family
    b = bound(fam)
    feats = {"bedside": BEDSIDE_FEATURES, "nocturne": NOCTURNE_FEATURES}.get(fam, ORACLE_FEATURES)
    print(
        f"oracle bound on {fam} held-out seeds {C.SEEDS[fam][1]} "
        f"({b['events']} hidden events, {b['cramps']} cramps; features: "
        f"{', '.join(feats)})"
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
