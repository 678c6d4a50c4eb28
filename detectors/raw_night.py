"""One noon-to-noon night of raw accelerometry with heart rate: :func:`analyse_night`.

Part of :mod:`detectors.cramps_raw` (which re-exports every public name). Steps 1-5 of the
method described there: the regular grid, the sleep period (van Hees 2013 non-wear with the
heart-rate veto, van Hees 2018 HDCZA, van Hees 2015 sustained inactivity), the movement
envelope and events inside it, the night's sleeping-HR reference and the activity episodes;
each candidate episode is scored by :func:`detectors.raw_score._score_episode` (step 6).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from detectors.actigraphy import (
    ActigraphyParams,
    epoch_z_angle,
    hdcza,
    nonwear_raw,
    sustained_inactivity,
)
from detectors.raw_params import _MAD_NORMAL, _US, RawCrampParams
from detectors.raw_score import _score_episode
from detectors.raw_signal import (
    EVENT_SCHEMA,
    activity_episodes,
    heart_rate_grid,
    movement_envelope,
    movement_events,
    movement_threshold,
    regular_grid,
    second_z_angle,
    still_bouts,
)


@dataclass
class RawNight:
    """What :func:`analyse_night` found in one noon-to-noon window."""

    t0_us: int = 0
    fs_hz: float = math.nan
    #: sleep period (HDCZA) as UTC us, or None
    period_us: tuple[int, int] | None = None
    asleep_s: float = 0.0
    awake_s: float = 0.0
    hdcza_threshold_deg: float = math.nan
    theta_g: float = math.nan
    #: movement events inside the period (seconds from ``t0_us``)
    events: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=EVENT_SCHEMA))
    #: scored candidates: dicts with start_us, end_us, confidence, label, suppressed_by, evidence
    candidates: list[dict] = field(default_factory=list)


def analyse_night(
    t_us: np.ndarray,
    acc_g: np.ndarray,
    hr_t_us: np.ndarray,
    hr_bpm: np.ndarray,
    *,
    params: RawCrampParams = RawCrampParams(),
) -> RawNight:
    """Sleep period, movement events and scored cramp candidates of one night.

    Parameters
    ----------
    t_us : int64 array
        Sample instants (UTC microseconds), increasing; one noon-to-noon window.
    acc_g : (n, 3) array
        x, y, z in g.
    hr_t_us, hr_bpm : arrays
        Heart-rate samples (any spacing; ~1 Hz or every 5 s), instants in UTC microseconds.
    params : RawCrampParams

    Returns
    -------
    RawNight
        ``period_us`` None when the window has less than ``min_night_data_h`` of data or no
        HDCZA block; then there are no candidates.
    """
    p = params
    out = RawNight()
    t = np.asarray(t_us, np.int64)
    if t.size < 2 or (t[-1] - t[0]) < p.min_night_data_h * 3600 * _US:
        return out
    t0, fs, acc, valid = regular_grid(t, acc_g, max_gap_s=p.max_gap_s)
    out.t0_us, out.fs_hz = t0, fs
    n = acc.shape[0]
    if not math.isfinite(fs) or fs <= 2 * p.walk_band_high_hz:
        return out

    hr_t = np.asarray(hr_t_us, np.int64)
    hr_v = np.asarray(hr_bpm, float)
    n_s = int(math.ceil(n / fs)) + 1
    hr, hr_present = heart_rate_grid(hr_t, hr_v, t0, n_s, p)

    # --- sleep period: 5-s z-angle, non-wear (van Hees 2013, HR vetoes), HDCZA, SIB ---
    ap = p.actigraphy
    ep_s = ap.epoch_s
    ang = epoch_z_angle(acc, fs, epoch_s=ep_s)
    m_ep = ang.size
    if m_ep < 3:
        return out
    k_ep = int(round(fs * ep_s))
    # HR presence per sample (a reading within the sample's minute), for the non-wear rule
    has_hr_channel = bool(hr_present.any())
    hr_min = None
    if has_hr_channel:
        n_min = n_s // 60 + 1
        hr_min = np.zeros(n_min, bool)
        np.logical_or.at(hr_min, np.flatnonzero(hr_present) // 60, True)
        sample_min = (np.arange(n) / fs).astype(np.int64) // 60
        hr_sample = hr_min[sample_min]
        nonwear = (
            nonwear_raw(acc, fs, hr_present=hr_sample, params=ap)
            if _nonwear_possible(acc, fs, ap, hr_sample)
            else np.zeros(n, bool)
        )
    else:
        nonwear = (
            nonwear_raw(acc, fs, params=ap) if _nonwear_possible(acc, fs, ap) else np.zeros(n, bool)
        )
    bad = nonwear | ~valid
    ep_bad = bad[: m_ep * k_ep].reshape(m_ep, k_ep).mean(axis=1) > 0.5
    spt, thr_deg = hdcza(ang, epoch_s=ep_s, params=ap, valid=~ep_bad)
    out.hdcza_threshold_deg = thr_deg
    if spt is None:
        return out
    e0, e1 = spt
    sib = sustained_inactivity(ang, epoch_s=ep_s, params=ap) & ~ep_bad
    out.period_us = (int(t0 + e0 * ep_s * _US), int(t0 + e1 * ep_s * _US))
    out.asleep_s = float(sib[e0:e1].sum() * ep_s)
    out.awake_s = float((~sib[e0:e1] & ~ep_bad[e0:e1]).sum() * ep_s)

    # --- movement inside the period (plus a margin for the filters and angle context) ---
    margin = int(60 * fs)
    s0 = max(0, e0 * k_ep - margin)
    s1 = min(n, e1 * k_ep + margin)
    seg = acc[s0:s1]
    r, hz = movement_envelope(seg, fs, p)
    env_off_s = s0 / fs  # seconds of the envelope's first cell from t0
    r_valid = valid[s0:s1][:: max(1, int(round(fs / hz)))][: r.size]
    in_spt = np.zeros(r.size, bool)
    a_cell = int(round((e0 * ep_s - env_off_s) * hz))
    b_cell = int(round((e1 * ep_s - env_off_s) * hz))
    in_spt[max(0, a_cell) : max(0, b_cell)] = True
    theta = movement_threshold(r[in_spt & r_valid], p)
    out.theta_g = theta
    r_med = float(np.median(r[in_spt & r_valid])) if (in_spt & r_valid).any() else math.nan
    r_spread = max(
        _MAD_NORMAL * float(np.median(np.abs(r[in_spt & r_valid] - r_med)))
        if math.isfinite(r_med)
        else 0.0,
        p.act_spread_floor_g,
    )
    r = np.where(r_valid, r, 0.0)
    z1 = second_z_angle(seg, fs)
    ev = movement_events(r, theta, z1, p, env_hz=hz)
    if ev.height == 0:
        out.events = ev
        return out
    ev = ev.with_columns(pl.col("start_s", "end_s") + env_off_s)
    spt_lo, spt_hi = e0 * ep_s, e1 * ep_s
    ev = ev.filter((pl.col("end_s") > spt_lo) & (pl.col("start_s") < spt_hi))
    out.events = ev
    if ev.height == 0:
        return out

    # --- per-night HR reference: asleep seconds (SIB, not in any event) ---
    sec_sib = np.repeat(sib, ep_s)[:n_s]
    sec_sib = np.concatenate([sec_sib, np.zeros(max(0, n_s - sec_sib.size), bool)])
    moving = np.zeros(n_s + 1, np.int64)
    es = np.clip(np.floor(ev["start_s"].to_numpy()).astype(np.int64), 0, n_s)
    ee = np.clip(np.ceil(ev["end_s"].to_numpy()).astype(np.int64), 0, n_s)
    np.add.at(moving, es, 1)
    np.add.at(moving, ee, -1)
    quiet = sec_sib & (np.cumsum(moving[:-1]) == 0)
    in_night = np.zeros(n_s, bool)
    in_night[int(spt_lo) : int(spt_hi)] = True
    sleep_hr = hr[quiet & in_night & np.isfinite(hr)]
    night_med = float(np.median(sleep_hr)) if sleep_hr.size else math.nan
    s_hr = (
        max(_MAD_NORMAL * float(np.median(np.abs(sleep_hr - night_med))), p.hr_spread_floor_bpm)
        if sleep_hr.size >= 2
        else p.hr_spread_floor_bpm
    )
    q_hr = quiet & np.isfinite(hr)
    # still epochs for the wake-after criterion: van Hees 2015 (no z-angle change > 5 deg for
    # >= 5 min) with movement events also breaking the stillness (grade D: zero-mean arm
    # movements of an awake person need not change the 5-s mean angle)
    ep_moved = np.zeros(m_ep, bool)
    for lo_e, hi_e in zip((es // ep_s).tolist(), (-(-ee // ep_s)).tolist(), strict=True):
        ep_moved[lo_e : min(m_ep, hi_e)] = True
    sib_idx = np.flatnonzero(still_bouts(ang, ep_moved, epoch_s=ep_s, params=ap))

    ev_s = ev["start_s"].to_numpy()
    ev_e = ev["end_s"].to_numpy()
    ev_plm = ev["plm"].to_numpy()
    ev_roll = ev["rollover"].to_numpy()
    ev_peak = ev["peak_g"].to_numpy()
    ev_dz = ev["dz_angle_deg"].to_numpy()
    for a, b in activity_episodes(ev_s, ev_e, p):
        on_s, off_s = float(ev_s[a]), float(ev_e[a:b].max())
        t_ep = off_s - on_s
        if t_ep < p.candidate_min_s or on_s < spt_lo or on_s >= spt_hi:
            continue
        out.candidates.append(
            _score_episode(
                p,
                t0=t0,
                fs=fs,
                acc=acc,
                valid=valid,
                hr=hr,
                hr_present=hr_present,
                has_hr_channel=has_hr_channel,
                q_hr=q_hr,
                night_med=night_med,
                s_hr=s_hr,
                sib=sib,
                sib_idx=sib_idx,
                ep_s=ep_s,
                spt=(spt_lo, spt_hi),
                on_s=on_s,
                off_s=off_s,
                ev=(ev_s, ev_e, ev_plm, ev_roll, ev_peak, ev_dz),
                a=a,
                b=b,
                r=r,
                r_off_s=env_off_s,
                env_hz=hz,
                r_med=r_med,
                r_spread=r_spread,
                theta=theta,
            )
        )
    return out


def _nonwear_possible(
    acc: np.ndarray, fs: float, ap: ActigraphyParams, hr_present: np.ndarray | None = None
) -> bool:
    """False when no van Hees 2013 window of :func:`nonwear_raw` can be non-wear: its range
    condition (< 50 mg on >= 2 axes) fails, or it holds a heart-rate reading, for every
    60-min window. Windows start every
    15 min, so each is 4 consecutive 15-min blocks and its range comes from the blocks'
    maxima and minima (exact, one pass over the data instead of one per window). When the
    window is not a whole number of steps, True (the caller runs the full rule)."""
    n = acc.shape[0]
    w = int(round(ap.raw_nonwear_window_s * fs))
    st = int(round(ap.raw_nonwear_step_s * fs))
    if n < w or st <= 0:
        return False  # nonwear_raw returns all False too
    if w % st:
        return True
    per = w // st
    nb = n // st
    blocks = acc[: nb * st].reshape(nb, st, 3)
    hi = np.lib.stride_tricks.sliding_window_view(blocks.max(axis=1), per, axis=0).max(axis=-1)
    lo = np.lib.stride_tricks.sliding_window_view(blocks.min(axis=1), per, axis=0).min(axis=-1)
    narrow = ((hi - lo) < ap.raw_nonwear_range_g).sum(axis=1) >= ap.raw_nonwear_axes
    if hr_present is not None:
        hr_block = np.asarray(hr_present[: nb * st], bool).reshape(nb, st).any(axis=1)
        narrow &= ~np.lib.stride_tricks.sliding_window_view(hr_block, per).any(axis=-1)
    return bool(narrow.any())
