"""The cramp detector's confidence: a model fitted over physiological features.

The design brief (7.1 Step D) gives starting weights as grade-D hypotheses "to be refit by
logistic regression ... once labels exist". This module holds the refit: the features each
candidate segment gets (from :func:`detectors.cramps.score_cramp_candidates`' evidence),
their transforms, and the evaluation of a model fitted by ``python -m evaluation.cramps
--fit`` on the **development** seeds of several independently written simulator families
(never on their held-out seeds, never on real nights): gradient-boosted trees with the
monotonic constraints of :data:`MONOTONE`, stored as plain arrays in ``cramp_model.json``
beside this file with their provenance (families, seeds, settings, date). A ``logistic``
model (``intercept`` + ``coef``) in that file is read too.

Each feature names the physiology it stands for:

=====================  ===================================================================
feature                 meaning and source
=====================  ===================================================================
``hr_rise``             dHR over the segment + 3 min, bpm / 10 (brief 7.1 Step C; Lavigne
                        2001: pain in sleep raises HR)
``hr_rise_z``           dHR in robust SDs of the night's sleeping HR (brief 7.1 Step A)
``hr_rise_lying``       highest HR measured before the first step, bpm / 10: a pain surge
                        starts while still lying (brief 6.3 order of events)
``hr_rise_moving``      highest HR from the first step on, bpm / 10 (orthostatic rise of
                        about 10-20 bpm in the first minute of standing, brief 6.3)
``hr_lead``             first step minus onset of the HR rise, s / 300: positive when HR rose
                        before anyone stood up (brief 6.3)
``hr_post``             median HR in the 10 min after, bpm / 10 above baseline: a cramp's
                        elevation is sustained, a PLM's lasts ~10 beats (brief 6.1;
                        Winkelman 1999; Chouchou 2011)
``hr_sustain``          minutes >= baseline + 5 bpm in the 10 min after, / 3 (brief 7.1 C)
``fine_sustained``      seconds-HR only: longest run above the surge threshold, min (brief
                        7.2: sustained >= 60 s)
``fine_rise_30s``       seconds-HR only: rise within 30 s, bpm / 10 (brief 7.2)
``log_steps``           ln(1 + steps in the segment): walking is a soft negative, cramp
                        relief also takes a few steps (brief 6.3, 7.1 Step D)
``walk``                >= 2 min at >= 40 steps/min or >= 60 steps (brief 6.3)
``log_steps_after``     ln(1 + steps in the 10 min after): the walk of a bathroom trip
``log_wake``            ln(1 + segment minutes): cramps last seconds to 10 min with residual
                        pain (Hallegraeff 2017; Allen & Kirby 2012)
``log_wake_after``      ln(1 + minutes awake after the arousal): delayed return to sleep
                        (brief 7.1 C)
``restless``            share of candidate minutes within +-30 min (PLM / RLS background,
                        brief 7.1 C)
``short_bouts``         short wake bouts within +-30 min / 4 (PLM series: >= 4 movements,
                        AASM / WASM, brief 6.1)
``act_peak``            activity robust z / 5, capped at 3 (brief 7.1 C)
``hr_missing``          share of the window without HR (brief 7.1 C)
``no_lying_hr``         no HR measured before the first step (sparse HR: the order of events
                        cannot be read)
``rule_*``              the cramp-0.3 confounder rules as 0/1 features (see :data:`RULES`)
=====================  ===================================================================

Transforms clip each feature to a physiological range so that one extreme value cannot
dominate (grade D). Missing values enter as 0 with an indicator (``no_lying_hr``,
``hr_missing``), never as a guess.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_PATH = Path(__file__).with_name("cramp_model.json")


#: the cramp-0.3 confounder rules (``detectors.cramps``), each a 0/1 feature here instead of
#: a veto: bathroom trip (>= 100 steps in or just after the segment), PLM-like short wake
#: bouts, movement-only HR (seconds HR back at baseline right after the steps), no surge
RULES: tuple[str, ...] = (
    "bathroom_trip",
    "restless_plm_like",
    "movement_only_hr",
    "rollover_or_phone",
)


def _f(e: dict, k: str) -> float:
    v = e.get(k)
    return float(v) if v is not None and v == v else math.nan


#: the model's features, the columns of :func:`matrix` (the per-candidate reference it is
#: checked against, bit for bit, is ``features`` in ``tests/detectors/test_equivalence_fast.py``)
FEATURES: tuple[str, ...] = (
    "hr_rise",
    "hr_rise_z",
    "hr_rise_lying",
    "hr_rise_moving",
    "hr_lead",
    "hr_post",
    "hr_sustain",
    "fine_sustained",
    "fine_rise_30s",
    "log_steps",
    "walk",
    "log_steps_after",
    "log_wake",
    "log_wake_after",
    "restless",
    "short_bouts",
    "act_peak",
    "hr_missing",
    "no_lying_hr",
    *(f"rule_{k}" for k in RULES),
)


def matrix(evidence: list[dict]) -> np.ndarray:
    """Feature matrix (rows = candidates, columns = :data:`FEATURES`) of the candidates'
    evidence dicts, column by column: each value clipped to its physiological range and
    scaled (:func:`_clip_col`), 0 where missing, ``math.log1p`` on each value where logged."""
    n = len(evidence)
    if n == 0:
        return np.zeros((0, len(FEATURES)))

    def raw(k: str) -> np.ndarray:
        return np.array([_f(e, k) for e in evidence], float)

    def log1p_pos(x: np.ndarray) -> list[float]:  # log1p(max(x, 0)), 0 where not finite
        return [math.log1p(max(v, 0.0)) if math.isfinite(v) else 0.0 for v in x.tolist()]

    fine = np.array([e.get("method") == "brief7.2_fine_hr" for e in evidence])
    lying = raw("hr_rise_lying_bpm")
    cols = {
        "hr_rise": _clip_col(raw("hr_rise_bpm"), -10, 40, 10),
        "hr_rise_z": _clip_col(raw("hr_rise_z"), -3, 12, 3),
        "hr_rise_lying": _clip_col(lying, -10, 40, 10),
        "hr_rise_moving": _clip_col(raw("hr_rise_moving_bpm"), -10, 40, 10),
        "hr_lead": _clip_col(raw("hr_lead_s"), -600, 600, 300),
        "hr_post": _clip_col(raw("hr_post_bpm"), -10, 30, 10),
        "hr_sustain": _clip_col(raw("hr_sustain_min"), 0, 10, 3),
        "fine_sustained": np.where(fine, _clip_col(raw("hr_sustained_s"), 0, 600, 60), 0.0),
        "fine_rise_30s": np.where(fine, _clip_col(raw("hr_rise_30s_bpm"), -10, 40, 10), 0.0),
        "log_steps": log1p_pos(raw("steps")),
        "walk": [1.0 if e.get("walk") else 0.0 for e in evidence],
        "log_steps_after": log1p_pos(raw("steps_following")),
        "log_wake": [math.log1p(v) for v in _clip_col(raw("wake_s"), 0, 3600, 60).tolist()],
        "log_wake_after": [
            math.log1p(v) for v in _clip_col(raw("wake_after_s"), 0, 3600, 60).tolist()
        ],
        "restless": _clip_col(raw("restless_frac"), 0, 1, 1),
        "short_bouts": _clip_col(
            np.array([float(e.get("short_wake_bouts_count") or 0) for e in evidence]), 0, 12, 4
        ),
        "act_peak": _clip_col(raw("act_peak_z"), 0, 15, 5),
        "hr_missing": _clip_col(raw("hr_missing_frac"), 0, 1, 1),
        "no_lying_hr": np.where(np.isfinite(lying), 0.0, 1.0),
        **{
            f"rule_{k}": [1.0 if k in (e.get("rules") or ()) else 0.0 for e in evidence]
            for k in RULES
        },
    }
    return np.column_stack([np.asarray(cols[k], float) for k in FEATURES])


def _clip_col(x: np.ndarray, lo: float, hi: float, scale: float) -> np.ndarray:
    """:func:`_clip` of each value: ``lo`` where ``x < lo`` and ``hi`` where the result
    ``> hi`` (where Python's ``max`` / ``min`` pick them, so -0.0 stays -0.0), divided by
    ``scale``; 0 where ``x`` is not finite."""
    y = np.where(x < lo, lo, x)
    y = np.where(y > hi, hi, y)
    return np.where(np.isfinite(x), y / scale, 0.0)


#: physiological direction of each feature (+1: more of it -> more likely a cramp; -1: less
#: likely; 0: free), imposed on the fitted trees as monotonic constraints so that no
#: simulator quirk can reverse what the sources say (brief 6.1, 6.3, 7.1 C/D)
MONOTONE: dict[str, int] = {
    "hr_rise": 1,
    "hr_rise_z": 1,
    "hr_rise_lying": 1,
    "hr_lead": 1,
    "hr_post": 1,
    "hr_sustain": 1,
    "fine_sustained": 1,
    "fine_rise_30s": 1,
    "walk": -1,
    "log_steps_after": -1,
    "log_wake_after": 1,
    "short_bouts": -1,
    "rule_bathroom_trip": -1,
    "rule_restless_plm_like": -1,
    "rule_movement_only_hr": -1,
    "rule_rollover_or_phone": -1,
}


@lru_cache(maxsize=1)
def load_model(path: str | None = None) -> dict:
    """The fitted model and its provenance (``cramp_model.json``)."""
    m = json.loads(Path(path or MODEL_PATH).read_text())
    if m.get("kind") == "gradient_boosted_trees":
        m["_trees"] = [{k: np.asarray(v) for k, v in t.items()} for t in m["trees"]]
    return m


def _tree_value(t: dict, x: np.ndarray) -> float:
    """One tree's value for one feature vector (reference for :func:`raw_scores`)."""
    i = 0
    while not t["is_leaf"][i]:
        v = x[t["feature"][i]]
        go_left = t["missing_left"][i] if v != v else v <= t["threshold"][i]
        i = t["left"][i] if go_left else t["right"][i]
    return float(t["value"][i])


def raw_scores(X: np.ndarray, model: dict | None = None) -> np.ndarray:
    """The model's log-odds for each row of ``X`` (columns :data:`FEATURES`), before
    per-person calibration. Trees are walked level by level for all rows at once."""
    m = model or load_model()
    X = np.asarray(X, float).reshape(-1, len(FEATURES))
    if m.get("kind") != "gradient_boosted_trees":
        w = np.array([m["coef"].get(k, 0.0) for k in FEATURES])
        return X @ w + m["intercept"]
    if "_trees" not in m:
        m["_trees"] = [{k: np.asarray(v) for k, v in t.items()} for t in m["trees"]]
    cols = [FEATURES.index(k) for k in m["features"]]
    X = X[:, cols]
    rows = np.arange(X.shape[0])
    out = np.full(X.shape[0], float(m["baseline"]))
    for t in m["_trees"]:
        i = np.zeros(X.shape[0], np.int64)
        while True:
            leaf = t["is_leaf"][i]
            if leaf.all():
                break
            v = X[rows, t["feature"][i]]
            left = np.where(np.isnan(v), t["missing_left"][i], v <= t["threshold"][i])
            i = np.where(leaf, i, np.where(left, t["left"][i], t["right"][i]))
        out += t["value"][i]
    return out
