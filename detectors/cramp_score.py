"""Confidence of a candidate segment (Step D): the confounder rules, the brief's logistic
score or the fitted model, caps and the evidence written with every candidate.

``scorer="brief"`` (cramp-0.3): the brief's grade-D weights, every physiological rule a
veto. ``scorer="model"`` (default): the rules become features of the logistic model fitted
by ``evaluation/cramps.py --fit`` (:mod:`detectors.cramp_model`), scored for all candidates
in one pass by :func:`_finish_model_scores`; only ``watch_off`` and ``final_awakening``
(data quality) still veto.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

from detectors import cramp_model
from detectors.cramp_features import _segment_features
from detectors.cramp_segments import _Night, _surge_threshold
from detectors.schema import label_for

if TYPE_CHECKING:
    from detectors.cramps import CrampParams

#: the brief's Step D intercept (7.1, grade D): origin of ``CrampParams.w_intercept``
_BRIEF_INTERCEPT = -4.0

#: confounders every candidate is checked against (names used in ``evidence``)
CONFOUNDERS: tuple[str, ...] = (
    "watch_off",
    "final_awakening",
    "rollover_or_phone",
    "restless_plm_like",
    "bathroom_trip",
    "movement_only_hr",
)


def _watch_off_gap_s(hr_spacing_s: float, p: CrampParams) -> float:
    """Longest HR gap before a peak that is still the device's ordinary cadence: the
    brief's 5-min forward fill, or ``hr_gap_edge_cadence_factor`` times the night's median
    sample spacing where the device samples more sparsely (Apple Watch at rest), never more
    than ``hr_gap_edge_max_s``."""
    if not math.isfinite(hr_spacing_s):
        return float(p.hr_ffill_max_s)
    cadence = max(float(p.hr_ffill_max_s), p.hr_gap_edge_cadence_factor * hr_spacing_s)
    return min(cadence, float(max(p.hr_gap_edge_max_s, p.hr_ffill_max_s)))


def _score_segment(
    c: _Night,
    t_on: int,
    t_off: int,
    s_hr: float,
    p: CrampParams,
    params_id: str,
    movement_missing: bool | None = None,
) -> dict:
    """One candidate row: times, confidence, label, suppressing confounder and evidence
    (a dict under the model scorer, finished by :func:`_finish_model_scores`; JSON else).
    ``params_id`` is :func:`detectors.cramps._params_id` of ``p``."""
    f = _segment_features(c, t_on, t_off, s_hr, p)

    # --- explicit confounders
    surge = f.hr_usable and (
        (f.dhr >= p.hr_rise_min_bpm or f.dhr / f.b_hr >= p.hr_rise_min_frac)
        and f.dhr >= p.hr_rise_min_spread * s_hr
    )
    if c.fine and surge:  # seconds HR: the rise must also be abrupt and sustained >= 60 s
        thr = _surge_threshold(f.b_hr, s_hr, p)
        surge = (f.hr_sustained_s >= p.hr_sustained_min_s) and (f.hr_rise_30s >= thr)
    suppressed_by = None
    period_end = c.period_end
    if not f.raw_in_segment and f.hr_missing_frac > p.hr_missing_max_frac:
        suppressed_by = "watch_off"
    elif (period_end - t_off) * p.grid_s < p.final_wake_guard_s:
        suppressed_by = "final_awakening"
    elif (f.walk and f.steps_tot >= p.walk_veto_steps) or f.steps_following >= p.walk_veto_steps:
        suppressed_by = "bathroom_trip"
    elif f.gap_before_s > _watch_off_gap_s(c.hr_spacing_s, p):
        suppressed_by = "watch_off"
    elif f.n_short >= p.plm_min_bouts and f.seg_longest_s <= p.plm_short_bout_max_s:
        suppressed_by = "restless_plm_like"
    elif p.post_move_hr_check and f.hr_after_move < f.b_hr + p.sustain_delta_bpm:
        suppressed_by = "movement_only_hr"
    elif f.hr_usable and not surge:
        suppressed_by = "rollover_or_phone"
    present = ["bathroom_trip"] if f.walk and suppressed_by != "bathroom_trip" else []
    # each physiological rule on its own (the chain above reports only the first that fires)
    rules = {
        "bathroom_trip": bool(
            (f.walk and f.steps_tot >= p.walk_veto_steps) or f.steps_following >= p.walk_veto_steps
        ),
        "restless_plm_like": bool(
            f.n_short >= p.plm_min_bouts and f.seg_longest_s <= p.plm_short_bout_max_s
        ),
        "movement_only_hr": bool(
            p.post_move_hr_check and f.hr_after_move < f.b_hr + p.sustain_delta_bpm
        ),
        "rollover_or_phone": bool(f.hr_usable and not surge),
    }
    model_mode = p.scorer == "model"
    if model_mode and suppressed_by not in (None, "watch_off", "final_awakening"):
        present.append(suppressed_by)
        suppressed_by = None

    # --- Step D logistic confidence
    terms: dict[str, float] = {"intercept": p.w_intercept}
    if model_mode:
        pass  # terms from the fitted model, below (they need the evidence dict)
    elif f.hr_usable:
        terms["hr_rise"] = p.w_hr_rise * min(max(f.dhr, 0.0) / p.hr_rise_scale_bpm, p.term_cap)
        terms["hr_sustain"] = p.w_hr_sustain * min(
            f.hr_sustain_min / p.hr_sustain_scale_min, p.term_cap
        )
    if not model_mode:
        if c.has_act and math.isfinite(f.act_peak) and not f.walk:  # walking explains activity
            terms["act_peak"] = p.w_act_peak * min(
                max(f.act_peak, 0.0) / p.act_peak_scale, p.term_cap
            )
        terms["duration"] = p.w_duration * math.log1p(f.dur_min)
        if c.has_steps and 0 < f.steps_tot <= p.few_steps_max:
            terms["few_steps"] = p.w_few_steps
        if f.walk:
            terms["walk"] = p.w_walk
        terms["restless"] = p.w_restless * f.restless_frac
        terms["wake_after"] = p.w_wake_after * math.log1p(f.wake_after_min)
    caps: list[str] = []
    evidence = {
        "method": "brief7.2_fine_hr" if c.fine else "brief7.1_minute_export",
        "scorer": p.scorer,
        "hr_sample_spacing_s": _r(c.hr_spacing_s, 1),
        "hr_sustained_s": _r(f.hr_sustained_s, 0),
        "hr_rise_30s_bpm": _r(f.hr_rise_30s),
        "params": p.name,
        "params_id": params_id,
        "night_staged": c.staged,
        "hr_rise_bpm": _r(f.dhr),
        "hr_rise_frac": _r(f.dhr / f.b_hr if math.isfinite(f.dhr) and f.b_hr else math.nan, 3),
        "hr_rise_z": _r(f.dhr / s_hr if math.isfinite(f.dhr) else math.nan),
        "hr_baseline_bpm": _r(f.b_hr),
        "hr_spread_bpm": _r(s_hr),
        "hr_sustain_min": _r(f.hr_sustain_min),
        "hr_onset_slope_bpm_min": _r(f.slope),
        "hr_peak_prominence_bpm": _r(f.prominence),
        "hr_missing_frac": _r(f.hr_missing_frac, 3),
        "act_peak_z": _r(f.act_peak),
        "act_explained_by_walk": bool(f.walk and c.has_act),
        "steps": _r(f.steps_tot, 1),
        "walk": f.walk,
        "wake_s": _r(f.dur_min * 60.0, 0),
        "wake_after_s": _r(f.wake_after_min * 60.0, 0),
        "restless_frac": _r(f.restless_frac, 3),
        "short_wake_bouts_count": f.n_short,
        "hr_gap_before_onset_s": _r(f.gap_before_s, 0),
        "hr_after_move_bpm": _r(f.hr_after_move),
        "steps_following": _r(f.steps_following, 1),
        "hr_rise_lying_bpm": _r(f.lying["rise_lying_bpm"]),
        "hr_rise_moving_bpm": _r(f.lying["rise_moving_bpm"]),
        "hr_lead_s": _r(f.lying["lead_s"], 0),
        "hr_post_bpm": _r(f.lying["post_bpm"]),
        "stepped": f.stepped,
        "steps_before_peak": _r(f.steps_before_peak, 1),
        "since_onset_min": _r(f.since_onset_min, 1),
        "rules": [k for k, v in rules.items() if v],
    }
    if model_mode:
        # filled in by _finish_model_scores (one vectorised pass over all candidates)
        terms["model"] = 0.0
    logit = sum(terms.values())
    confidence = 1.0 / (1.0 + math.exp(-logit))
    if not f.hr_usable:  # HR missing, no baseline, or HR only while walking: HR terms dropped
        confidence = min(confidence, p.hr_missing_confidence_cap)
        caps.append("hr_missing")
    if movement_missing:  # no movement channel around the segment: terms not evaluable
        confidence = min(confidence, p.movement_missing_confidence_cap)
        caps.append("movement_channel_missing")
    if suppressed_by is not None:
        confidence = 0.0

    evidence.update(
        {
            "logit": _r(logit, 3),
            "logit_terms": {k: _r(v, 3) for k, v in terms.items()},
            "confidence_caps": caps,
            "movement_channel_missing": movement_missing,
            "confounders_ruled_out": [
                x for x in CONFOUNDERS if x != suppressed_by and x not in present
            ],
            "confounders_present": present,
            "suppressed_by": suppressed_by,
        }
    )
    return {
        "start_us": int(c.g0 + t_on * c.step),
        "end_us": int(c.g0 + t_off * c.step),
        "confidence": round(confidence, 4),
        "label": label_for(confidence),
        "suppressed_by": suppressed_by,
        "evidence": evidence if model_mode else json.dumps(evidence),
    }


def _finish_model_scores(rows: list[dict], p: CrampParams) -> None:
    """Model scorer: the fitted model's log-odds for all candidates in one vectorised pass
    (:func:`detectors.cramp_model.raw_scores`), then the same caps and vetoes as the brief
    scorer. The model's log-odds enter as the term ``model`` = log-odds - (-4.0), so
    ``w_intercept`` keeps the brief's origin and per-participant calibration shifts it."""
    if not rows:
        return
    ev = [r["evidence"] for r in rows]
    raw = cramp_model.raw_scores(cramp_model.matrix(ev))
    for r, e, z in zip(rows, ev, raw, strict=True):
        terms = e["logit_terms"]
        terms["model"] = _r(float(z) - _BRIEF_INTERCEPT, 3)
        logit = p.w_intercept + float(z) - _BRIEF_INTERCEPT
        conf = 1.0 / (1.0 + math.exp(-logit))
        if "hr_missing" in e["confidence_caps"]:
            conf = min(conf, p.hr_missing_confidence_cap)
        if "movement_channel_missing" in e["confidence_caps"]:
            conf = min(conf, p.movement_missing_confidence_cap)
        if r["suppressed_by"] is not None:
            conf = 0.0
        e["logit"] = _r(logit, 3)
        r["confidence"] = round(conf, 4)
        r["label"] = label_for(conf)
        r["evidence"] = json.dumps(e)


def _r(x: float, nd: int = 2) -> float | None:
    """Round for evidence; NaN/inf become JSON null (missing is null, never zero)."""
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), nd)
