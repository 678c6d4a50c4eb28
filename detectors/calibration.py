"""Per-participant calibration of the cramp detector from journal-labelled nights.

The brief (7, design rule 3; 7.1 Step D) says the logistic weights are hypotheses to be
refit once labels exist. With one person's morning journal the labels are few (a handful
of cramps in a few months), so only **one** parameter is fitted: the logistic intercept
``w_intercept`` (equivalently the confidence threshold). Everything else keeps its cited
value. The fit is scored **held out**, leave-one-night-out: each labelled night is scored
with the intercept fitted on the *other* nights, never on itself; the held-out score of the
fitted procedure is compared with the default parameters on the same nights, and the fitted
set is recommended only if it does at least as well.

Labels: a journalled cramp (``kind == "cramp"``, ``time_utc`` = recalled onset) matches a
detection whose onset is within ``tolerance_s`` (30 min for a morning journal, brief 7.3).
Every night from the first to the last journal entry of the participant is a labelled night
(a night without an entry is read as "no cramp"); journals miss some cramps (the sample
data's journal holds 70-80 % of them), so held-out precision is a lower bound.

Pure functions: candidates in (from :func:`detectors.cramps.score_cramp_candidates`),
numbers out. Each parameter set has a ``params_id`` (hash of its values) that the detector
writes into every episode's evidence together with ``params`` (its name).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date

import numpy as np
import polars as pl

from detectors.cramps import CrampParams, _params_id
from detectors.schema import POSSIBLE_MIN

#: brief 7.3: 30 min onset tolerance against a retrospective (morning) journal
JOURNAL_TOLERANCE_S = 1800.0
#: grade D: intercepts searched (the brief's -4.0 is in the middle)
INTERCEPT_GRID: tuple[float, ...] = tuple(np.round(np.arange(-7.0, -0.99, 0.25), 2))
#: grade D: fewer labelled cramps than this -> no fit (defaults kept)
MIN_EVENTS = 4

_DEFAULT = CrampParams()


def params_id(params: CrampParams) -> str:
    """Stable id of a parameter set: sha1 of its values (``name`` excluded), 12 hex chars;
    the detector writes the same id into ``evidence["params_id"]``."""
    return _params_id(params)


def params_to_json(params: CrampParams) -> str:
    """JSON of every field (what the flow stores)."""
    return json.dumps(asdict(params), sort_keys=True)


def params_from_json(text: str) -> CrampParams:
    """Inverse of :func:`params_to_json`; unknown keys raise, missing keys keep defaults."""
    d = json.loads(text)
    names = {f.name for f in fields(CrampParams)}
    unknown = set(d) - names
    if unknown:
        raise ValueError(f"unknown CrampParams fields: {sorted(unknown)}")
    return replace(CrampParams(), **d)


@dataclass(frozen=True)
class HeldOut:
    """Leave-one-night-out counts."""

    true_positives: int
    false_positives: int
    false_negatives: int
    nights: int

    @property
    def f1(self) -> float:
        d = 2 * self.true_positives + self.false_positives + self.false_negatives
        return 2 * self.true_positives / d if d else math.nan


@dataclass(frozen=True)
class CalibrationResult:
    participant_id: str
    params: CrampParams  # the fitted set (on all labelled nights), name says its origin
    params_id: str
    use_fitted: bool  # held-out F1 >= the default's and enough events
    n_nights: int
    n_events: int
    fitted_heldout: HeldOut
    default_heldout: HeldOut
    intercepts_heldout: list[float] = field(default_factory=list)  # one per held-out night

    def as_dict(self) -> dict:
        return {
            "participant_id": self.participant_id,
            "params_id": self.params_id,
            "params_name": self.params.name,
            "w_intercept": self.params.w_intercept,
            "use_fitted": self.use_fitted,
            "n_nights": self.n_nights,
            "n_events": self.n_events,
            "fitted_heldout_f1": self.fitted_heldout.f1,
            "default_heldout_f1": self.default_heldout.f1,
            "fitted_heldout": asdict(self.fitted_heldout),
            "default_heldout": asdict(self.default_heldout),
        }


def _candidate_arrays(cand: pl.DataFrame) -> dict[str, np.ndarray]:
    """Per candidate: night, onset (s), logit without intercept, cap, suppressed."""
    ev = [json.loads(e) for e in cand["evidence"].to_list()]
    logit_wo = np.array(
        [
            sum(v for k, v in e["logit_terms"].items() if k != "intercept" and v is not None)
            for e in ev
        ],
        float,
    )
    capped = np.array(["hr_missing" in e["confidence_caps"] for e in ev], bool)
    return {
        "night": np.array(cand["night_of"].to_list(), dtype="datetime64[D]"),
        "onset_s": cand["start_utc"].dt.epoch("us").to_numpy() / 1e6,
        "logit_wo": logit_wo,
        "capped": capped,
        "suppressed": cand["suppressed_by"].is_not_null().to_numpy(),
    }


def _detected(a: dict[str, np.ndarray], intercept: float, cap: float) -> np.ndarray:
    conf = 1.0 / (1.0 + np.exp(-(a["logit_wo"] + intercept)))
    conf = np.where(a["capped"], np.minimum(conf, cap), conf)
    return (conf >= POSSIBLE_MIN) & ~a["suppressed"]


def _match(det_s: np.ndarray, truth_s: np.ndarray, tol_s: float) -> tuple[int, int, int]:
    """Greedy one-to-one matching by onset distance (closest pairs first)."""
    if det_s.size == 0 or truth_s.size == 0:
        return 0, det_s.size, truth_s.size
    d = np.abs(det_s[:, None] - truth_s[None, :])
    pairs = sorted(zip(*np.nonzero(d <= tol_s), strict=True), key=lambda ij: d[ij])
    used_d, used_t = set(), set()
    for i, j in pairs:
        if i not in used_d and j not in used_t:
            used_d.add(i)
            used_t.add(j)
    tp = len(used_d)
    return tp, det_s.size - tp, truth_s.size - tp


def _counts(
    a: dict[str, np.ndarray],
    truth_night: np.ndarray,
    truth_s: np.ndarray,
    nights: list[np.datetime64],
    intercept: float,
    cap: float,
    tol_s: float,
) -> tuple[int, int, int]:
    det = _detected(a, intercept, cap)
    tp = fp = fn = 0
    for n in nights:
        x, y, z = _match(a["onset_s"][det & (a["night"] == n)], truth_s[truth_night == n], tol_s)
        tp, fp, fn = tp + x, fp + y, fn + z
    return tp, fp, fn


def _fit_intercept(
    a: dict[str, np.ndarray],
    truth_night: np.ndarray,
    truth_s: np.ndarray,
    nights: list[np.datetime64],
    default: float,
    cap: float,
    tol_s: float,
) -> float:
    """Intercept maximising F1 on ``nights``; ties go to the value closest to the default."""
    best, best_key = default, (-1.0, 0.0)
    for w in INTERCEPT_GRID:
        tp, fp, fn = _counts(a, truth_night, truth_s, nights, w, cap, tol_s)
        d = 2 * tp + fp + fn
        f1 = 2 * tp / d if d else 0.0
        key = (f1, -abs(w - default))
        if key > best_key:
            best, best_key = float(w), key
    return best


def calibrate_participant(
    candidates: pl.DataFrame,
    journal: pl.DataFrame,
    labelled_nights: list[date],
    *,
    participant_id: str,
    base: CrampParams = _DEFAULT,
    tolerance_s: float = JOURNAL_TOLERANCE_S,
) -> CalibrationResult:
    """Fit one participant's logistic intercept with leave-one-night-out scoring.

    Parameters
    ----------
    candidates : polars.DataFrame
        :func:`detectors.cramps.score_cramp_candidates` output for this participant, scored
        with ``base`` (every candidate, including discarded and suppressed ones).
    journal : polars.DataFrame
        ``participant_id``, ``time_utc`` (Datetime UTC), ``night_of`` (Date) of each
        journalled cramp.
    labelled_nights : list of date
        Nights whose labels are trusted (with or without a cramp).
    base : CrampParams
        The parameters the candidates were scored with; the fit changes ``w_intercept``.

    Returns
    -------
    CalibrationResult
        ``params`` fitted on all labelled nights (name ``cramp-fitted-<pid>-<n>n``),
        its ``params_id``, and held-out counts of the fitting procedure and of ``base``.
    """
    cand = candidates.filter(pl.col("participant_id") == participant_id)
    cand = cand.filter(pl.col("night_of").is_in(labelled_nights))
    jr = journal.filter(
        (pl.col("participant_id") == participant_id) & pl.col("night_of").is_in(labelled_nights)
    )
    nights = [np.datetime64(d, "D") for d in sorted(set(labelled_nights))]
    a = (
        _candidate_arrays(cand)
        if cand.height
        else {
            "night": np.zeros(0, "datetime64[D]"),
            "onset_s": np.zeros(0),
            "logit_wo": np.zeros(0),
            "capped": np.zeros(0, bool),
            "suppressed": np.zeros(0, bool),
        }
    )
    t_night = np.array(jr["night_of"].to_list(), dtype="datetime64[D]")
    t_s = jr["time_utc"].dt.epoch("us").to_numpy() / 1e6
    cap = base.hr_missing_confidence_cap

    # leave-one-night-out: fit on the others, score the held-out night only
    f_tp = f_fp = f_fn = d_tp = d_fp = d_fn = 0
    held: list[float] = []
    for n in nights:
        rest = [m for m in nights if m != n]
        w = _fit_intercept(a, t_night, t_s, rest, base.w_intercept, cap, tolerance_s)
        held.append(w)
        x = _counts(a, t_night, t_s, [n], w, cap, tolerance_s)
        y = _counts(a, t_night, t_s, [n], base.w_intercept, cap, tolerance_s)
        f_tp, f_fp, f_fn = f_tp + x[0], f_fp + x[1], f_fn + x[2]
        d_tp, d_fp, d_fn = d_tp + y[0], d_fp + y[1], d_fn + y[2]
    fitted_ho = HeldOut(f_tp, f_fp, f_fn, len(nights))
    default_ho = HeldOut(d_tp, d_fp, d_fn, len(nights))

    w_all = _fit_intercept(a, t_night, t_s, nights, base.w_intercept, cap, tolerance_s)
    fitted = replace(
        base,
        w_intercept=w_all,
        name=f"cramp-fitted-{participant_id}-{len(nights)}n",
    )
    enough = t_s.size >= MIN_EVENTS
    ok = enough and (
        (fitted_ho.f1 >= default_ho.f1)
        if math.isfinite(default_ho.f1)
        else math.isfinite(fitted_ho.f1)
    )
    return CalibrationResult(
        participant_id=participant_id,
        params=fitted,
        params_id=params_id(fitted),
        use_fitted=bool(ok),
        n_nights=len(nights),
        n_events=int(t_s.size),
        fitted_heldout=fitted_ho,
        default_heldout=default_ho,
        intercepts_heldout=held,
    )


def journal_cramps(journal: pl.DataFrame) -> pl.DataFrame:
    """Journal rows of kind ``cramp`` with ``night_of`` from each row's own offset.

    ``journal`` has ``participant_id``, ``time_utc`` (Datetime UTC), ``utc_offset_s``,
    ``kind`` (the store's ``journal`` table)."""
    from detectors.nights import night_of

    return journal.filter(pl.col("kind") == "cramp").select(
        "participant_id", "time_utc", night_of=night_of("time_utc", "utc_offset_s")
    )
