"""Per-participant calibration of the cramp detector from the person's own labels.

The brief (7, design rule 3; 7.1 Step D) says the logistic weights are hypotheses to be
refit once labels exist. With one person's labels the events are few (a handful of cramps
in a few months), so by default only **one** parameter is fitted: the logistic intercept
``w_intercept`` (equivalently the confidence threshold). With at least
:data:`MIN_EVENTS_SLOPE` reference cramps a slope is searched too (Platt scaling of the
linear predictor, ``slope * logit_wo + intercept``; Platt 1999), stored as every other
``w_*`` weight times the slope. Everything else keeps its cited value. The fit is scored
**held out**, leave-one-night-out (LONO): each labelled night is scored with the model
fitted on the *other* nights, never on itself; the held-out score of the fitting procedure
is compared with the default parameters on the same nights, and the fitted set is
recommended only if it does better (a tie keeps the defaults).

References (what counts as a cramp on a labelled night):

* journal: a journalled cramp (``kind == "cramp"``, ``time_utc`` = recalled onset) matches
  a detection whose onset is within ``tolerance_s`` (30 min for a morning journal, brief
  7.3). Every night from the first to the last journalled cramp is labelled (a night
  without an entry is read as "no cramp"); journals miss some cramps (the sample data's
  journal holds 70-80 % of them), so held-out precision is a lower bound.
* labels (``episode_labels``, the person's answers in the review): ``confirmed`` = a cramp
  at the episode's onset (5 min, the exact-truth tolerance of ``pipeline.evaluate``);
  ``rejected`` = that candidate is not a cramp (it can match no reference); ``missed`` = a
  cramp somewhere in the given span (30 min either side, recalled like a journal entry). A
  night with any label is a labelled night. A journal entry within 30 min of a confirmed or
  missed label of the same night is the same cramp and is counted once.

Pure functions: candidates in (from :func:`detectors.cramps.score_cramp_candidates`),
numbers out. Each parameter set has a ``params_id`` (hash of its values) that the detector
writes into every episode's evidence together with ``params`` (its name).

References
----------
.. [1] Platt J (1999). Probabilistic outputs for support vector machines and comparisons to
   regularized likelihood methods. In Advances in Large Margin Classifiers, MIT Press.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date

import numpy as np
import polars as pl

from detectors.cramp_params import CrampParams, _params_id
from detectors.schema import POSSIBLE_MIN

#: brief 7.3: 30 min onset tolerance against a retrospective (morning) journal
JOURNAL_TOLERANCE_S = 1800.0
#: grade D: intercepts searched (the brief's -4.0 is in the middle)
INTERCEPT_GRID: tuple[float, ...] = tuple(np.round(np.arange(-7.0, -0.99, 0.25), 2))
#: grade D: fewer labelled cramps than this -> no fit (defaults kept)
MIN_EVENTS = 4
#: pipeline.evaluate.EXACT_TOLERANCE_S: a confirmed or rejected episode's onset is exact
LABEL_TOLERANCE_S = 300.0
#: grade D: slopes searched (Platt scaling) once there are this many reference cramps
SLOPE_GRID: tuple[float, ...] = (0.5, 0.75, 1.0, 1.5, 2.0)
MIN_EVENTS_SLOPE = 12
#: grade D: share of review answers that are wrong (the label-learning evaluation's person
#: answers 80 % of prompts correctly, issue 10). A prompted answer is used for the fit only
#: when it is credible under that error rate and the default model's confidence p of the
#: candidate: P(cramp | "confirmed") = p (1 - e) / (p (1 - e) + (1 - p) e) >= 1/2, i.e.
#: p >= e; P(no cramp | "rejected") >= 1/2, i.e. p <= 1 - e (Bayes' rule). A "confirmed" on
#: a candidate the model gives 5 % is more often a slip than a cramp, and a fit that obeys
#: it moves the threshold for every night (it did: held-out F1 0.72 -> 0.54 on physio).
#: Reported misses (``missed``, not prompted) always count.
ANSWER_ERROR_RATE = 0.2

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
    use_fitted: bool  # held-out F1 > the default's (a tie keeps them) and enough events
    n_nights: int
    n_events: int
    fitted_heldout: HeldOut
    default_heldout: HeldOut
    intercepts_heldout: list[float] = field(default_factory=list)  # one per held-out night
    n_labels: int = 0  # current episode labels on the labelled nights
    slope: float = 1.0  # Platt slope of the fitted set (1.0: intercept only)
    slopes_heldout: list[float] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "participant_id": self.participant_id,
            "params_id": self.params_id,
            "params_name": self.params.name,
            "w_intercept": self.params.w_intercept,
            "slope": self.slope,
            "n_labels": self.n_labels,
            "use_fitted": self.use_fitted,
            "n_nights": self.n_nights,
            "n_events": self.n_events,
            "fitted_heldout_f1": self.fitted_heldout.f1,
            "default_heldout_f1": self.default_heldout.f1,
            "fitted_heldout": asdict(self.fitted_heldout),
            "default_heldout": asdict(self.default_heldout),
        }


def _logit_wo(e: dict, base: CrampParams) -> float:
    """Candidate logit without its intercept: ``logit`` minus the intercept it was scored
    with (``logit_terms["intercept"]``, else ``base.w_intercept``)."""
    terms = e.get("logit_terms") or {}
    if e.get("logit") is not None:
        icpt = terms.get("intercept")
        return float(e["logit"]) - float(base.w_intercept if icpt is None else icpt)
    return float(sum(v for k, v in terms.items() if k != "intercept" and v is not None))


def _caps(e: dict, base: CrampParams) -> float:
    """The lowest confidence cap the candidate is under (``inf`` without one)."""
    caps = {
        "hr_missing": base.hr_missing_confidence_cap,
        "movement_channel_missing": getattr(base, "movement_missing_confidence_cap", 1.0),
    }
    return min([caps.get(c, 1.0) for c in e.get("confidence_caps") or []], default=math.inf)


def _candidate_arrays(cand: pl.DataFrame, base: CrampParams = _DEFAULT) -> dict[str, np.ndarray]:
    """Per candidate: night, onset (s), logit without intercept, cap, suppressed."""
    ev = [json.loads(e) for e in cand["evidence"].to_list()]
    return {
        "night": np.array(cand["night_of"].to_list(), dtype="datetime64[D]"),
        "onset_s": cand["start_utc"].dt.epoch("us").to_numpy() / 1e6,
        "logit_wo": np.array([_logit_wo(e, base) for e in ev], float),
        "cap": np.array([_caps(e, base) for e in ev], float),
        "suppressed": cand["suppressed_by"].is_not_null().to_numpy(),
    }


def _empty_arrays() -> dict[str, np.ndarray]:
    return {
        "night": np.zeros(0, "datetime64[D]"),
        "onset_s": np.zeros(0),
        "logit_wo": np.zeros(0),
        "cap": np.zeros(0),
        "suppressed": np.zeros(0, bool),
    }


def _detected(a: dict[str, np.ndarray], slope: float, intercept: float) -> np.ndarray:
    conf = 1.0 / (1.0 + np.exp(-(slope * a["logit_wo"] + intercept)))
    conf = np.minimum(conf, a["cap"])
    return (conf >= POSSIBLE_MIN) & ~a["suppressed"]


@dataclass(frozen=True)
class _Truth:
    """Reference cramps as windows of acceptable detected onsets (epoch s)."""

    night: np.ndarray  # datetime64[D]
    lo_s: np.ndarray
    hi_s: np.ndarray
    center_s: np.ndarray


def _match(
    det_s: np.ndarray, t_lo: np.ndarray, t_hi: np.ndarray, t_c: np.ndarray
) -> tuple[int, int, int]:
    """Greedy one-to-one matching: a detection matches a reference whose window holds its
    onset, closest to the reference's centre first."""
    if det_s.size == 0 or t_c.size == 0:
        return 0, det_s.size, t_c.size
    ok = (det_s[:, None] >= t_lo[None, :]) & (det_s[:, None] <= t_hi[None, :])
    d = np.abs(det_s[:, None] - t_c[None, :])
    pairs = sorted(zip(*np.nonzero(ok), strict=True), key=lambda ij: d[ij])
    used_d, used_t = set(), set()
    for i, j in pairs:
        if i not in used_d and j not in used_t:
            used_d.add(i)
            used_t.add(j)
    tp = len(used_d)
    return tp, det_s.size - tp, t_c.size - tp


def _night_counts(
    a: dict[str, np.ndarray],
    det: np.ndarray,
    blocked: np.ndarray,
    truth: _Truth,
    nights: list[np.datetime64],
) -> np.ndarray:
    """(tp, fp, fn) per night for one detection mask; ``blocked`` candidates (rejected by
    the person) count as false positives when detected and never match a reference."""
    out = np.zeros((len(nights), 3), np.int64)
    for k, n in enumerate(nights):
        on = a["night"] == n
        tn = truth.night == n
        free = det & on & ~blocked
        tp, fp, fn = _match(a["onset_s"][free], truth.lo_s[tn], truth.hi_s[tn], truth.center_s[tn])
        out[k] = tp, fp + int((det & on & blocked).sum()), fn
    return out


def _f1(c: np.ndarray) -> np.ndarray:
    """F1 from (..., 3) counts; 0 where undefined (for maximising)."""
    d = 2 * c[..., 0] + c[..., 1] + c[..., 2]
    return np.where(d > 0, 2 * c[..., 0] / np.where(d > 0, d, 1), 0.0)


def _models(n_events: int, base: CrampParams, min_events_slope: int) -> list[tuple[float, float]]:
    """(slope, intercept) grid: intercepts only, plus slopes once there are enough events."""
    slopes = SLOPE_GRID if n_events >= min_events_slope else (1.0,)
    grid = [(1.0, float(base.w_intercept))]
    grid += [(float(s), float(w)) for s in slopes for w in INTERCEPT_GRID]
    return grid


def _truth_events(
    journal: pl.DataFrame, labels: pl.DataFrame | None, tolerance_s: float
) -> tuple[_Truth, np.ndarray, np.ndarray]:
    """Reference cramps from the journal and the labels, and the rejected onsets.

    confirmed: a cramp at the episode's onset (+-``LABEL_TOLERANCE_S``); missed: a cramp
    anywhere in the given span (+-``tolerance_s``, recalled like a journal entry); journal:
    the recalled time (+-``tolerance_s``), dropped when a confirmed or missed label of the
    same night lies within ``tolerance_s`` (the same cramp, told twice).
    Returns ``(truth, rejected_night, rejected_onset_s)``.
    """
    j_night = np.array(journal["night_of"].to_list(), dtype="datetime64[D]")
    j_s = journal["time_utc"].dt.epoch("us").to_numpy() / 1e6
    empty = np.zeros(0)
    if labels is None or labels.height == 0:
        return (
            _Truth(j_night, j_s - tolerance_s, j_s + tolerance_s, j_s),
            np.zeros(0, "datetime64[D]"),
            empty,
        )
    lab_n = np.array(labels["night_of"].to_list(), dtype="datetime64[D]")
    lab_s = labels["start_utc"].dt.epoch("us").to_numpy() / 1e6
    lab_e = labels["end_utc"].dt.epoch("us").to_numpy() / 1e6
    kind = labels["label"].to_numpy()
    conf, miss, rej = kind == "confirmed", kind == "missed", kind == "rejected"
    lo = np.concatenate([lab_s[conf] - LABEL_TOLERANCE_S, lab_s[miss] - tolerance_s])
    hi = np.concatenate([lab_s[conf] + LABEL_TOLERANCE_S, lab_e[miss] + tolerance_s])
    ctr = np.concatenate([lab_s[conf], lab_s[miss]])
    nts = np.concatenate([lab_n[conf], lab_n[miss]])
    # a journal entry told again as a label: the label (more precise) stands for both
    told = np.zeros(j_s.size, bool)
    for i in range(j_s.size):
        same = nts == j_night[i]
        told[i] = bool(np.any(same & (j_s[i] >= lo - tolerance_s) & (j_s[i] <= hi + tolerance_s)))
    keep = ~told
    truth = _Truth(
        np.concatenate([nts, j_night[keep]]),
        np.concatenate([lo, j_s[keep] - tolerance_s]),
        np.concatenate([hi, j_s[keep] + tolerance_s]),
        np.concatenate([ctr, j_s[keep]]),
    )
    return truth, lab_n[rej], lab_s[rej]


def credible_labels(
    labels: pl.DataFrame,
    a: dict[str, np.ndarray],
    base: CrampParams,
    answer_error_rate: float = ANSWER_ERROR_RATE,
) -> pl.DataFrame:
    """The labels a fit may use: every ``missed``; a ``confirmed`` / ``rejected`` answer only
    when credible under ``answer_error_rate`` (see :data:`ANSWER_ERROR_RATE`) given the
    default model's confidence of the candidate it is about (onset within
    ``LABEL_TOLERANCE_S`` on the same night; an answer about no known candidate is kept)."""
    e = float(answer_error_rate)
    if e <= 0.0 or labels.height == 0:
        return labels
    conf = np.minimum(1.0 / (1.0 + np.exp(-(a["logit_wo"] + base.w_intercept))), a["cap"])
    conf = np.where(a["suppressed"], 0.0, conf)
    lab_n = np.array(labels["night_of"].to_list(), dtype="datetime64[D]")
    lab_s = labels["start_utc"].dt.epoch("us").to_numpy() / 1e6
    kind = labels["label"].to_numpy()
    keep = np.ones(labels.height, bool)
    for i in range(labels.height):
        if kind[i] not in ("confirmed", "rejected"):
            continue
        near = (a["night"] == lab_n[i]) & (np.abs(a["onset_s"] - lab_s[i]) <= LABEL_TOLERANCE_S)
        if not near.any():
            continue
        j = np.flatnonzero(near)[np.argmin(np.abs(a["onset_s"][near] - lab_s[i]))]
        p = conf[j]
        keep[i] = p >= e if kind[i] == "confirmed" else p <= 1.0 - e
    return labels.filter(pl.Series(keep))


def calibrate_participant(
    candidates: pl.DataFrame,
    journal: pl.DataFrame,
    labelled_nights: list[date],
    *,
    participant_id: str,
    base: CrampParams = _DEFAULT,
    tolerance_s: float = JOURNAL_TOLERANCE_S,
    labels: pl.DataFrame | None = None,
    min_events_slope: int = MIN_EVENTS_SLOPE,
    answer_error_rate: float = ANSWER_ERROR_RATE,
) -> CalibrationResult:
    """Fit one participant's confidence model with leave-one-night-out scoring.

    Parameters
    ----------
    candidates : polars.DataFrame
        :func:`detectors.cramps.score_cramp_candidates` output for this participant, scored
        with ``base`` (every candidate, including discarded and suppressed ones).
    journal : polars.DataFrame
        ``participant_id``, ``time_utc`` (Datetime UTC), ``night_of`` (Date) of each
        journalled cramp.
    labelled_nights : list of date
        Nights whose labels are trusted (with or without a cramp): the journal span plus
        every night with a label.
    base : CrampParams
        The parameters the candidates were scored with; the fit changes ``w_intercept``
        (and, with :data:`MIN_EVENTS_SLOPE` events, the slope: every other ``w_*`` weight).
    labels : polars.DataFrame, optional
        The person's current episode labels (:func:`pipeline.store_labels.current_labels` rows)
        with ``night_of``: ``participant_id``, ``start_utc``, ``end_utc``, ``label``
        (confirmed / rejected / missed).
    min_events_slope : int
        Reference cramps needed before slopes are searched (a huge value: intercept only).
    answer_error_rate : float
        Share of wrong review answers assumed by :func:`credible_labels` (0: every answer
        is taken as given).

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
    lab = None
    if labels is not None:
        lab = labels.filter(
            (pl.col("participant_id") == participant_id) & pl.col("night_of").is_in(labelled_nights)
        )
    nights = [np.datetime64(d, "D") for d in sorted(set(labelled_nights))]
    a = _candidate_arrays(cand, base) if cand.height else _empty_arrays()
    n_labels = 0 if lab is None else lab.height
    if lab is not None and lab.height:
        lab = credible_labels(lab, a, base, answer_error_rate)
    truth, rej_night, rej_s = _truth_events(jr, lab, tolerance_s)
    blocked = np.zeros(a["onset_s"].size, bool)
    for n, s in zip(rej_night, rej_s, strict=True):
        blocked |= (a["night"] == n) & (np.abs(a["onset_s"] - s) <= LABEL_TOLERANCE_S)
    n_events = int(truth.center_s.size)

    models = _models(n_events, base, min_events_slope)
    cache: dict[bytes, np.ndarray] = {}
    counts = np.zeros((len(models), len(nights), 3), np.int64)
    for m, (s, w) in enumerate(models):
        det = _detected(a, s, w)
        key = np.packbits(det).tobytes()
        if key not in cache:
            cache[key] = _night_counts(a, det, blocked, truth, nights)
        counts[m] = cache[key]
    # ties go to the model closest to the default (slope 1, base intercept)
    closeness = np.array([-(abs(w - base.w_intercept) + 4.0 * abs(math.log(s))) for s, w in models])

    def best(c: np.ndarray) -> int:
        return int(np.lexsort((closeness, _f1(c)))[-1])

    # leave-one-night-out: fit on the others, score the held-out night only
    total = counts.sum(axis=1)
    fitted_c = np.zeros(3, np.int64)
    held: list[float] = []
    held_slopes: list[float] = []
    for k in range(len(nights)):
        m = best(total - counts[:, k])
        held.append(models[m][1])
        held_slopes.append(models[m][0])
        fitted_c += counts[m, k]
    default_c = total[0]  # models[0] is the base
    fitted_ho = HeldOut(*(int(x) for x in fitted_c), len(nights))
    default_ho = HeldOut(*(int(x) for x in default_c), len(nights))

    slope, w_all = models[best(total)]
    fitted = with_model(base, slope, w_all, name=f"cramp-fitted-{participant_id}-{len(nights)}n")
    enough = n_events >= MIN_EVENTS
    # used only where it scores *better* held out (issue 10): a tie keeps the defaults
    ok = enough and (
        (fitted_ho.f1 > default_ho.f1)
        if math.isfinite(default_ho.f1)
        else math.isfinite(fitted_ho.f1)
    )
    return CalibrationResult(
        participant_id=participant_id,
        params=fitted,
        params_id=params_id(fitted),
        use_fitted=bool(ok),
        n_nights=len(nights),
        n_events=n_events,
        fitted_heldout=fitted_ho,
        default_heldout=default_ho,
        intercepts_heldout=held,
        n_labels=n_labels,
        slope=slope,
        slopes_heldout=held_slopes,
    )


def _weight_fields(p: CrampParams) -> list[str]:
    return [f.name for f in fields(p) if f.name.startswith("w_") and f.name != "w_intercept"]


def with_model(base: CrampParams, slope: float, intercept: float, *, name: str) -> CrampParams:
    """``base`` with the logistic model ``slope * logit_wo + intercept``: the intercept is
    ``w_intercept``; the slope multiplies every other ``w_*`` weight (Platt scaling of the
    linear predictor, Platt 1999)."""
    scaled = {} if slope == 1.0 else {k: getattr(base, k) * slope for k in _weight_fields(base)}
    return replace(base, w_intercept=intercept, name=name, **scaled)


def model_of(params: CrampParams, base: CrampParams = _DEFAULT) -> tuple[float, float]:
    """(slope, intercept) of ``params`` relative to ``base`` (inverse of :func:`with_model`)."""
    slope = 1.0
    for k in _weight_fields(base):
        b = getattr(base, k)
        if b:
            slope = getattr(params, k) / b
            break
    return float(slope), float(params.w_intercept)


def nights_of_labels(
    labels: pl.DataFrame, periods: pl.DataFrame, max_gap_s: float = 3 * 3600
) -> pl.DataFrame:
    """Attach ``night_of`` to labels: the sleep period holding the label's start, else the
    nearest period within ``max_gap_s`` (a missed cramp recalled just before sleep onset or
    after the final awakening). Labels near no period are dropped (nothing to score)."""
    if labels.height == 0 or periods.height == 0:
        return labels.with_columns(night_of=pl.lit(None, pl.Date)).clear()
    per = periods.select("participant_id", "night_of", p_s="start_utc", p_e="end_utc")
    j = labels.with_row_index("_i").join(per, on="participant_id", how="inner")
    gap = pl.max_horizontal(
        (pl.col("p_s") - pl.col("start_utc")).dt.total_seconds(),
        (pl.col("start_utc") - pl.col("p_e")).dt.total_seconds(),
        pl.lit(0),
    )
    j = (
        j.with_columns(_gap=gap)
        .filter(pl.col("_gap") <= max_gap_s)
        .sort("_i", "_gap")
        .unique("_i", keep="first", maintain_order=True)
    )
    return j.sort("_i").drop("_i", "p_s", "p_e", "_gap")


def journal_cramps(journal: pl.DataFrame) -> pl.DataFrame:
    """Journal rows of kind ``cramp`` with ``night_of`` from each row's own offset.

    ``journal`` has ``participant_id``, ``time_utc`` (Datetime UTC), ``utc_offset_s``,
    ``kind`` (the store's ``journal`` table)."""
    from detectors.nights import night_of

    return journal.filter(pl.col("kind") == "cramp").select(
        "participant_id", "time_utc", night_of=night_of("time_utc", "utc_offset_s")
    )
