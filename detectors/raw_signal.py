"""Array building blocks of the raw-accelerometry cramp detector: the regular grid, the
movement envelope and its threshold, movement events with their PLM / rollover / large tags,
walking, activity episodes, the 1-s heart-rate grid and still bouts.

Part of :mod:`detectors.cramps_raw` (which re-exports every public name). Pure numpy / scipy
functions over one night's arrays; each docstring names its rule (brief 7.2, AASM / WASM,
van Hees 2015) and every threshold is a field of
:class:`detectors.raw_params.RawCrampParams` with its source.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from scipy import ndimage, signal

from detectors.actigraphy import ActigraphyParams
from detectors.raw_params import _MAD_NORMAL, _US, RawCrampParams

EVENT_SCHEMA: dict[str, pl.DataType] = {
    "start_s": pl.Float64,  # seconds from the night grid's first sample
    "end_s": pl.Float64,
    "duration_s": pl.Float64,
    "peak_g": pl.Float64,  # peak of the 1-s RMS band-passed envelope
    "dz_angle_deg": pl.Float64,  # z-angle after - before (5-s medians)
    "ioi_s": pl.Float64,  # onset-to-onset interval to the previous event
    "plm": pl.Boolean,
    "rollover": pl.Boolean,
    "large": pl.Boolean,
}


def regular_grid(
    t_us: np.ndarray, acc_g: np.ndarray, *, max_gap_s: float = 1.0
) -> tuple[int, float, np.ndarray, np.ndarray]:
    """Samples on a regular grid at their median rate.

    Returns ``(t0_us, fs_hz, acc (n, 3) float64, valid (n,) bool)``: linear interpolation
    between samples; grid points inside a gap longer than ``max_gap_s`` are invalid (their
    values hold the interpolation, not data). Already-regular input is returned as is.
    """
    t = np.asarray(t_us, np.int64)
    acc = np.asarray(acc_g, np.float64)
    if t.size < 2:
        return (int(t[0]) if t.size else 0), math.nan, acc.reshape(-1, 3), np.ones(t.size, bool)
    dt = np.diff(t)
    step = float(np.median(dt))
    fs = _US / step
    t0 = int(t[0])
    n = int((t[-1] - t0) // step) + 1
    if n == t.size and np.all(np.abs(dt - step) <= 0.01 * step):
        return t0, fs, acc, np.ones(t.size, bool)
    grid = t0 + step * np.arange(n)
    out = np.empty((n, 3))
    for k in range(3):
        out[:, k] = np.interp(grid, t, acc[:, k])
    valid = np.ones(n, bool)
    gaps = np.flatnonzero(dt > max_gap_s * _US)
    if gaps.size:
        lo = np.searchsorted(grid, t[gaps], side="right")
        hi = np.searchsorted(grid, t[gaps + 1], side="left")
        d = np.zeros(n + 1, np.int64)
        np.add.at(d, lo, 1)
        np.add.at(d, hi, -1)
        valid = np.cumsum(d[:-1]) == 0
    return t0, fs, out, valid


def movement_envelope(
    acc_g: np.ndarray, fs_hz: float, params: RawCrampParams = RawCrampParams()
) -> tuple[np.ndarray, float]:
    """1-s RMS of the band-passed acceleration norm (g) and its rate (Hz).

    ``sos = butter(4, [0.5, 15] Hz)``; ``m = |sosfiltfilt(sos, a)|``; ``r = sqrt(mean of m^2
    over 1 s)``, one value per ``k = round(fs / envelope_hz)`` samples (block means of ``m^2``
    then a 1-s moving average), so the envelope rate is ``fs / k`` (10 Hz at 50 Hz, 12.5 Hz
    at 25 Hz). The upper edge is lowered to 0.45 ``fs_hz`` when the rate cannot carry 15 Hz.
    """
    p = params
    hi = min(p.bandpass_high_hz, 0.45 * fs_hz)
    sos = signal.butter(p.filter_order, [p.bandpass_low_hz, hi], "bandpass", fs=fs_hz, output="sos")
    a = np.asarray(acc_g, np.float64)
    k = max(1, int(round(fs_hz / p.envelope_hz)))
    env_hz = fs_hz / k
    if a.shape[0] <= 3 * (2 * sos.shape[0] + 1):
        return np.zeros(0), env_hz
    bp = signal.sosfiltfilt(sos, a, axis=0)
    m2 = np.einsum("ij,ij->i", bp, bp)
    nb = m2.size // k
    blocks = m2[: nb * k].reshape(nb, k).mean(axis=1)
    w = max(1, int(round(p.rms_window_s * env_hz)))
    r = np.sqrt(np.maximum(ndimage.uniform_filter1d(blocks, w, mode="nearest"), 0.0))
    return r, env_hz


def movement_threshold(r_g: np.ndarray, params: RawCrampParams = RawCrampParams()) -> float:
    """``theta = median(r) + max(5 MAD_normal(r), 0.010 g)`` (brief 7.2), NaN if empty."""
    r = np.asarray(r_g, float)
    r = r[np.isfinite(r)]
    if r.size == 0:
        return math.nan
    med = float(np.median(r))
    mad = _MAD_NORMAL * float(np.median(np.abs(r - med)))
    return med + max(params.theta_mad_mult * mad, params.theta_floor_g)


def second_z_angle(acc_g: np.ndarray, fs_hz: float) -> np.ndarray:
    """z-angle of each second's mean acceleration (gravity estimate), degrees."""
    k = max(1, int(round(fs_hz)))
    m = acc_g.shape[0] // k
    if m == 0:
        return np.zeros(0)
    mean = np.asarray(acc_g[: m * k], np.float64).reshape(m, k, 3).mean(axis=1)
    return np.degrees(np.arctan2(mean[:, 2], np.hypot(mean[:, 0], mean[:, 1])))


def movement_events(
    r_g: np.ndarray,
    theta_g: float,
    z1_deg: np.ndarray,
    params: RawCrampParams = RawCrampParams(),
    *,
    env_hz: float | None = None,
) -> pl.DataFrame:
    """Movement events from the envelope ``r_g`` (rate ``env_hz``, default
    ``params.envelope_hz``) and the 1-s
    z-angle ``z1_deg`` on the same time origin. Returns ``EVENT_SCHEMA`` rows.

    ``r > theta``; ``binary_closing`` over 1 s (on a padded mask, so edge events are not
    eroded); ``label``; events < 0.5 s dropped. Tags: ``plm`` (:func:`plm_series`),
    ``rollover`` (<= 15 s and |dz| >= 30 deg), ``large`` (3-45 s).
    """
    p = params
    hz = env_hz or p.envelope_hz
    if r_g.size == 0 or not math.isfinite(theta_g):
        return pl.DataFrame(schema=EVENT_SCHEMA)
    mask = r_g > theta_g
    c = max(1, int(round(p.closing_s * hz)))
    padded = np.pad(mask, c, constant_values=False)
    closed = ndimage.binary_closing(padded, structure=np.ones(c, bool))[c:-c]
    labels, n = ndimage.label(closed)
    if n == 0:
        return pl.DataFrame(schema=EVENT_SCHEMA)
    sl = ndimage.find_objects(labels)
    on = np.array([s[0].start for s in sl], np.int64)
    off = np.array([s[0].stop for s in sl], np.int64)
    keep = (off - on) >= p.min_event_s * hz
    on, off = on[keep], off[keep]
    if on.size == 0:
        return pl.DataFrame(schema=EVENT_SCHEMA)
    peak = ndimage.maximum(r_g, labels, index=np.flatnonzero(keep) + 1)
    start_s, end_s = on / hz, off / hz
    dur = end_s - start_s
    k = p.angle_context_s
    dz = np.full(on.size, np.nan)
    if z1_deg.size:
        b1 = np.clip(np.floor(start_s).astype(np.int64), 0, z1_deg.size)
        a0 = np.clip(np.ceil(end_s).astype(np.int64), 0, z1_deg.size)
        for i in range(on.size):
            before = z1_deg[max(0, b1[i] - k) : b1[i]]
            after = z1_deg[a0[i] : a0[i] + k]
            if before.size and after.size:
                dz[i] = float(np.median(after) - np.median(before))
    ioi = np.concatenate([[np.nan], np.diff(start_s)])
    return pl.DataFrame(
        {
            "start_s": start_s,
            "end_s": end_s,
            "duration_s": dur,
            "peak_g": np.asarray(peak, float),
            "dz_angle_deg": dz,
            "ioi_s": ioi,
            "plm": plm_series(start_s, dur, p),
            "rollover": (dur <= p.rollover_max_s)
            & (np.abs(np.nan_to_num(dz)) >= p.rollover_min_dz_deg),
            "large": (dur >= p.large_min_s) & (dur <= p.large_max_s),
        },
        schema=EVENT_SCHEMA,
    )


def plm_series(
    start_s: np.ndarray, duration_s: np.ndarray, params: RawCrampParams = RawCrampParams()
) -> np.ndarray:
    """True for events in a periodic limb movement series (AASM): >= 4 consecutive events of
    0.5-10 s whose onset-to-onset intervals are 5-90 s. An event that is too long, or an
    interval outside 5-90 s, ends the series."""
    p = params
    s = np.asarray(start_s, float)
    d = np.asarray(duration_s, float)
    n = s.size
    out = np.zeros(n, bool)
    if n == 0:
        return out
    ok = (d >= p.plm_min_s) & (d <= p.plm_max_s)
    ioi = np.diff(s)
    link = ok[:-1] & ok[1:] & (ioi >= p.plm_min_ioi_s) & (ioi <= p.plm_max_ioi_s)
    # chains of events joined by links: run of links of length L covers L + 1 events
    d_l = np.diff(np.concatenate([[0], link.astype(np.int8), [0]]))
    for a, b in zip(np.flatnonzero(d_l == 1), np.flatnonzero(d_l == -1), strict=True):
        if b - a + 1 >= p.plm_min_count:
            out[a : b + 1] = True
    return out


def walking_steps(
    acc_g: np.ndarray, fs_hz: float, params: RawCrampParams = RawCrampParams()
) -> tuple[float, int]:
    """(longest walking bout s, steps in walking bouts) in a stretch of raw acceleration.

    Magnitude band-passed 0.5-3 Hz (``butter(4)``, ``sosfiltfilt``); ``find_peaks`` with a
    minimum spacing of 0.3 s and a prominence of 0.05 g; consecutive peaks 1/2.5-1/1.2 s apart
    form a bout, and bouts lasting >= 10 s are walking (brief 7.2); each peak is one step.
    """
    p = params
    a = np.asarray(acc_g, np.float64)
    sos = signal.butter(
        p.filter_order,
        [p.walk_band_low_hz, p.walk_band_high_hz],
        "bandpass",
        fs=fs_hz,
        output="sos",
    )
    if a.shape[0] <= 3 * (2 * sos.shape[0] + 1) + 1:
        return 0.0, 0
    mag = np.sqrt(np.einsum("ij,ij->i", a, a))
    x = signal.sosfiltfilt(sos, mag)
    peaks, _ = signal.find_peaks(
        x, distance=max(1, int(p.walk_peak_distance_s * fs_hz)), prominence=p.walk_peak_prominence_g
    )
    if peaks.size < 2:
        return 0.0, 0
    gap = np.diff(peaks) / fs_hz
    link = (gap >= 1.0 / p.walk_max_cadence_hz) & (gap <= 1.0 / p.walk_min_cadence_hz)
    d = np.diff(np.concatenate([[0], link.astype(np.int8), [0]]))
    longest, steps = 0.0, 0
    for a0, b0 in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True):
        span = (peaks[b0] - peaks[a0]) / fs_hz
        if span >= p.walk_min_s:
            longest = max(longest, span)
            steps += int(b0 - a0 + 1)
    return longest, steps


def activity_episodes(
    start_s: np.ndarray, end_s: np.ndarray, params: RawCrampParams = RawCrampParams()
) -> list[tuple[int, int]]:
    """Events merged across gaps <= 30 s: ``[(first event, last event + 1), ...]``."""
    s = np.asarray(start_s, float)
    e = np.asarray(end_s, float)
    if s.size == 0:
        return []
    reach = np.maximum.accumulate(e)
    brk = np.flatnonzero(s[1:] - reach[:-1] > params.episode_merge_gap_s) + 1
    bounds = np.concatenate([[0], brk, [s.size]])
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def heart_rate_grid(
    hr_t_us: np.ndarray,
    hr_bpm: np.ndarray,
    t0_us: int,
    n_s: int,
    params: RawCrampParams = RawCrampParams(),
) -> tuple[np.ndarray, np.ndarray]:
    """HR on a 1-s grid from ``t0_us``: (filtered, raw-present).

    Median of the samples in each second; forward fill over gaps <= ``hr_ffill_s``; a 5-s
    median filter (NaN-aware: the median of the finite values in the window) against single
    PPG artefacts. Returns the filtered HR (NaN = no data) and a bool of seconds with a sample.
    """
    p = params
    out = np.full(n_s, np.nan)
    t = np.asarray(hr_t_us, np.int64)
    v = np.asarray(hr_bpm, float)
    cell = (t - t0_us) // (p.hr_grid_s * _US)
    ok = (cell >= 0) & (cell < n_s) & np.isfinite(v) & (v > 0)
    cell, v = cell[ok], v[ok]
    present = np.zeros(n_s, bool)
    if cell.size == 0:
        return out, present
    order = np.lexsort((v, cell))
    cell, v = cell[order], v[order]
    uniq, first, cnt = np.unique(cell, return_index=True, return_counts=True)
    out[uniq] = 0.5 * (v[first + (cnt - 1) // 2] + v[first + cnt // 2])
    present[uniq] = True
    idx = np.arange(n_s)
    last = np.maximum.accumulate(np.where(present, idx, -1))
    fill = (last >= 0) & (idx - last <= p.hr_ffill_s // p.hr_grid_s)
    out = np.where(fill, out[np.maximum(last, 0)], np.nan)
    k = max(1, p.hr_medfilt_s // p.hr_grid_s)
    if k > 1 and n_s:
        pad = k // 2
        xp = np.pad(out, (pad, k - 1 - pad), constant_values=np.nan)
        win = np.sort(np.lib.stride_tricks.sliding_window_view(xp, k), axis=1)
        c = np.isfinite(win).sum(axis=1)
        rows = np.arange(n_s)
        med = 0.5 * (
            win[rows, np.maximum(c - 1, 0) // 2] + win[rows, np.maximum(c // 2, 0) - (c == 0)]
        )
        out = np.where(np.isfinite(out) & (c > 0), med, np.nan)
    return out, present


def still_bouts(
    angle_deg: np.ndarray,
    moved: np.ndarray,
    *,
    epoch_s: int = 5,
    params: ActigraphyParams | None = None,
) -> np.ndarray:
    """van Hees 2015 sustained inactivity with extra change points: epochs whose z-angle
    changes by > 5 deg *or* that hold a movement event (``moved``) break stillness; the
    stretches between breaks lasting >= 5 min are still. Boolean per epoch."""
    params = params or ActigraphyParams()
    ang = np.asarray(angle_deg, float)
    n = ang.size
    brk = np.asarray(moved, bool).copy()
    if n > 1:
        brk[1:] |= np.abs(np.diff(ang)) > params.sib_angle_deg
    quiet = ~brk
    d = np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]]))
    out = np.zeros(n, bool)
    k = params.sib_min_s / epoch_s
    for a, b in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True):
        if b - a >= k:
            out[a:b] = True
    return out
