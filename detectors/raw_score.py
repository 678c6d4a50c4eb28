"""Features, confounder vetoes and the logistic confidence of one activity episode.

Part of :mod:`detectors.cramps_raw`: step 6 of the method described there (HR rise, abrupt
and sustained, against the preceding 30 min asleep; movement peak; walking; wake after; PLM
density; the confounders of :data:`CONFOUNDERS`; the brief's logistic form, 7.1 Step D
restated for 7.2, weights grade D). Every threshold and weight is a field of
:class:`detectors.raw_params.RawCrampParams` with its source; the evidence JSON written with
each candidate names the parameter set (``params``, ``params_id``).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict

import numpy as np
from scipy import ndimage

from detectors.raw_params import _US, METHOD, RawCrampParams
from detectors.raw_signal import walking_steps
from detectors.schema import label_for

#: confounders every candidate is checked against (names used in ``evidence``)
CONFOUNDERS: tuple[str, ...] = (
    "watch_off",
    "final_awakening",
    "plm_series",
    "bathroom_trip",
    "rollover",
    "phone_use",
)


def _score_episode(
    p: RawCrampParams,
    *,
    t0,
    fs,
    acc,
    valid,
    hr,
    hr_present,
    has_hr_channel,
    q_hr,
    night_med,
    s_hr,
    sib,
    sib_idx,
    ep_s,
    spt,
    on_s,
    off_s,
    ev,
    a,
    b,
    r,
    r_off_s,
    env_hz,
    r_med,
    r_spread,
    theta,
) -> dict:
    ev_s, ev_e, ev_plm, ev_roll, ev_peak, ev_dz = ev
    n_s = hr.size
    n = acc.shape[0]
    t_ep = off_s - on_s
    i_on, i_off = int(on_s), int(math.ceil(off_s))

    # --- baseline: preceding 30 min of quiet asleep seconds ---
    w0 = max(0, i_on - int(p.baseline_window_s))
    pre = hr[w0:i_on][q_hr[w0:i_on]]
    b_hr = float(np.median(pre)) if pre.size >= p.baseline_min_s else night_med

    # --- HR coverage over [on - 5 min, off + 10 min] ---
    m0 = max(0, i_on - int(p.hr_missing_before_s))
    m1 = min(n_s, i_off + int(p.hr_missing_after_s))
    hr_missing_frac = float(np.mean(~np.isfinite(hr[m0:m1]))) if m1 > m0 else 1.0
    hr_in_episode = bool(hr_present[i_on : max(i_on + 1, i_off)].any())
    hr_usable = has_hr_channel and math.isfinite(b_hr) and hr_missing_frac <= p.hr_missing_max_frac

    # --- rise, abrupt (within 30 s) and sustained (>= 60 s) ---
    thr = (
        max(min(p.hr_rise_min_bpm, p.hr_rise_min_frac * b_hr), p.hr_rise_min_spread * s_hr)
        if math.isfinite(b_hr)
        else math.nan
    )
    pk1 = min(n_s, i_off + int(p.hr_peak_after_s))
    win = hr[i_on:pk1]
    dhr = (
        float(np.nanmax(win) - b_hr) if np.isfinite(win).any() and math.isfinite(b_hr) else math.nan
    )
    hr_sustained_s = 0.0
    hr_rise_30s = math.nan
    onset_delay_s = math.nan
    if hr_usable:
        c0 = max(0, i_on - p.hr_onset_before_s)
        c1 = min(n_s, i_on + p.hr_abrupt_window_s + 1)
        above = np.isfinite(hr) & (hr >= b_hr + thr)
        k = p.hr_abrupt_window_s
        lo = max(0, c0 - k)
        seg = hr[lo:c1]
        filled = np.where(np.isfinite(seg), seg, np.inf)
        prior = ndimage.minimum_filter1d(filled, size=k, origin=(k - 1) // 2)
        prior = np.concatenate([[np.inf], prior[:-1]])  # min over the k seconds before
        rise = np.where(np.isfinite(seg) & np.isfinite(prior), seg - prior, -np.inf)[c0 - lo :]
        hr_rise_30s = float(rise.max()) if np.isfinite(rise).any() else math.nan
        starts = np.flatnonzero((rise >= thr) & above[c0:c1]) + c0
        for st in starts:
            # the run above b + thr starting at the crossing (or continuing through it)
            end = st
            stop = min(n_s, st + 3600)
            run = above[st:stop]
            end = st + (int(np.argmin(run)) if not run.all() else run.size)
            if end - st > hr_sustained_s:
                hr_sustained_s = float(end - st)
                onset_delay_s = float(st - on_s)
            if hr_sustained_s >= p.hr_sustained_min_s:
                break
    surge = hr_usable and hr_sustained_s >= p.hr_sustained_min_s

    # --- movement features ---
    idx = np.arange(a, b)
    act_peak_g = float(ev_peak[idx].max())
    act_peak_z = (act_peak_g - r_med) / r_spread if math.isfinite(r_med) else math.nan
    dz_max = float(np.nanmax(np.abs(ev_dz[idx]))) if np.isfinite(ev_dz[idx]).any() else math.nan
    plm_all = bool(ev_plm[idx].all())
    rollover = bool(ev_roll[idx].any())
    pure_rollover = bool(b - a == 1 and ev_roll[a])
    c_lo, c_hi = on_s - p.plm_context_s, off_s + p.plm_context_s
    around = (ev_s >= c_lo) & (ev_s < c_hi)
    around[a:b] = False
    plm_frac = float(ev_plm[around].mean()) if around.any() else 0.0
    rc0 = int(round((on_s - r_off_s) * env_hz))
    rc1 = int(round((off_s - r_off_s) * env_hz))
    r_ep = r[max(0, rc0) : max(rc0 + 1, rc1)]
    r_p95 = float(np.percentile(r_ep, 95)) if r_ep.size else math.nan

    # --- walking around the episode ---
    w_lo = max(0, int((on_s - p.walk_context_s) * fs))
    w_hi = min(n, int((off_s + p.walk_context_s) * fs))
    walk_s, steps = walking_steps(acc[w_lo:w_hi], fs, p)
    walk = walk_s >= p.walk_min_s

    # --- non-sleep after the onset movement: from the end of the episode's first event to
    # the next still bout (the episode's later events are the wake that follows it) ---
    e_after = int(math.ceil(float(ev_e[a]) / ep_s))
    nxt = sib_idx[np.searchsorted(sib_idx, e_after) :]
    cap = p.wake_after_cap_s
    wake_after_s = min(float((nxt[0] - e_after) * ep_s), cap) if nxt.size else cap

    # --- watch off: after the episode no HR and flat (or missing) acceleration ---
    x0 = min(n, int(math.ceil(off_s * fs)))
    x1 = min(n, x0 + int(p.watch_off_window_s * fs))
    post = acc[x0:x1][valid[x0:x1]]
    flat = (
        post.shape[0] < 0.5 * (x1 - x0)
        or int((post.std(axis=0) < p.watch_off_sd_g).sum()) >= p.actigraphy.raw_nonwear_axes
    )
    hr_after = hr_present[min(n_s, i_off) : min(n_s, i_off + int(p.watch_off_window_s))].any()
    watch_off = has_hr_channel and (
        (flat and not hr_after) or (hr_missing_frac > p.hr_missing_max_frac and not hr_in_episode)
    )

    # --- confounders (vetoes) ---
    spt_lo, spt_hi = spt
    suppressed_by = None
    if watch_off:
        suppressed_by = "watch_off"
    elif spt_hi - off_s < p.final_wake_guard_s:
        suppressed_by = "final_awakening"
    elif plm_all:
        suppressed_by = "plm_series"
    elif walk and steps >= p.walk_veto_steps:
        suppressed_by = "bathroom_trip"
    elif hr_usable and not surge:
        if t_ep >= p.phone_min_s and r_p95 < p.phone_max_r_g:
            suppressed_by = "phone_use"
        elif rollover:
            suppressed_by = "rollover"
        else:
            suppressed_by = "no_sustained_hr_rise"
    elif wake_after_s < p.wake_after_min_s:
        suppressed_by = "back_to_sleep"
    present = []
    if walk and suppressed_by != "bathroom_trip":
        present.append("bathroom_trip")
    if rollover and suppressed_by != "rollover":
        present.append("rollover")

    # --- logistic confidence ---
    terms: dict[str, float] = {"intercept": p.w_intercept}
    if hr_usable and math.isfinite(dhr):
        terms["hr_rise"] = p.w_hr_rise * min(max(dhr, 0.0) / p.hr_rise_scale_bpm, p.term_cap)
        terms["hr_sustain"] = p.w_hr_sustain * min(
            hr_sustained_s / 60.0 / p.hr_sustain_scale_min, p.term_cap
        )
    if math.isfinite(act_peak_z) and not walk:  # walking explains the movement
        terms["act_peak"] = p.w_act_peak * min(max(act_peak_z, 0.0) / p.act_peak_scale, p.term_cap)
    terms["duration"] = p.w_duration * math.log1p(t_ep / 60.0)
    if 0 < steps <= p.few_steps_max:
        terms["few_steps"] = p.w_few_steps
    if walk:
        terms["walk"] = p.w_walk
    terms["plm"] = p.w_plm * plm_frac
    terms["wake_after"] = p.w_wake_after * math.log1p(wake_after_s / 60.0)
    if pure_rollover:
        terms["rollover"] = p.w_rollover
    logit = sum(terms.values())
    confidence = 1.0 / (1.0 + math.exp(-logit))
    caps = []
    if not hr_usable:
        confidence = min(confidence, p.hr_missing_confidence_cap)
        caps.append("hr_missing")
    if suppressed_by is not None:
        confidence = 0.0

    evidence = {
        "method": "brief7.2_raw_accelerometry",
        "params": p.name,
        "params_id": _params_id(p),
        "sleep_period_method": METHOD,
        "fs_hz": _r(fs, 2),
        "movement_threshold_g": _r(theta, 4),
        "episode_s": _r(t_ep, 1),
        "events_count": int(b - a),
        "act_peak_g": _r(act_peak_g, 4),
        "act_peak_z": _r(act_peak_z),
        "act_p95_g": _r(r_p95, 4),
        "dz_angle_max_deg": _r(dz_max, 1),
        "rollover": rollover,
        "plm": plm_all,
        "plm_frac": _r(plm_frac, 3),
        "walk": bool(walk),
        "walk_s": _r(walk_s, 1),
        "steps": int(steps),
        "wake_after_s": _r(wake_after_s, 0),
        "hr_baseline_bpm": _r(b_hr),
        "hr_spread_bpm": _r(s_hr),
        "hr_rise_bpm": _r(dhr),
        "hr_rise_frac": _r(dhr / b_hr if math.isfinite(dhr) and b_hr else math.nan, 3),
        "hr_rise_30s_bpm": _r(hr_rise_30s),
        "hr_threshold_bpm": _r(thr),
        "hr_sustained_s": _r(hr_sustained_s, 0),
        "hr_onset_delay_s": _r(onset_delay_s, 0),
        "hr_missing_frac": _r(hr_missing_frac, 3),
        "logit": _r(logit, 3),
        "logit_terms": {k: _r(v, 3) for k, v in terms.items()},
        "confidence_caps": caps,
        "confounders_ruled_out": [
            x for x in CONFOUNDERS if x != suppressed_by and x not in present
        ],
        "confounders_present": present,
        "suppressed_by": suppressed_by,
    }
    return {
        "start_us": int(t0 + round(on_s * _US)),
        "end_us": int(t0 + round(off_s * _US)),
        "confidence": round(confidence, 4),
        "label": label_for(confidence),
        "suppressed_by": suppressed_by,
        "evidence": json.dumps(evidence),
    }


def _params_id(p: RawCrampParams) -> str:
    d = asdict(p)
    d.pop("name", None)
    return hashlib.sha1(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _r(x: float, nd: int = 2) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), nd)
