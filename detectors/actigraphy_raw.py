"""Sleep and non-wear from raw tri-axial acceleration: the arm z-angle, van Hees 2015
sustained inactivity bouts, the van Hees 2018 HDCZA sleep-period-time window and van Hees
2013 non-wear.

Pure numpy functions (part of :mod:`detectors.actigraphy`, which re-exports them); each
docstring names its source, the thresholds are fields of
:class:`detectors.actigraphy_params.ActigraphyParams`. ``detectors.cramps_raw`` builds its
nights on them.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from detectors.actigraphy_counts import sleep_blocks
from detectors.actigraphy_params import ActigraphyParams


def z_angle_deg(x_g: np.ndarray, y_g: np.ndarray, z_g: np.ndarray) -> np.ndarray:
    """Arm z-angle ``atan(a_z / sqrt(a_x^2 + a_y^2)) * 180 / pi`` (van Hees 2015), degrees."""
    x, y, z = (np.asarray(v, float) for v in (x_g, y_g, z_g))
    return np.degrees(np.arctan2(z, np.sqrt(x * x + y * y)))


def epoch_z_angle(acc_g: np.ndarray, fs_hz: float, *, epoch_s: int = 5) -> np.ndarray:
    """z-angle per ``epoch_s`` epoch from raw ``acc_g`` (n, 3): the angle of the epoch's
    mean acceleration vector (the gravity estimate over 5 s; GGIR averages per 5-s epoch).
    A trailing partial epoch is dropped."""
    acc = np.asarray(acc_g, float)
    k = int(round(fs_hz * epoch_s))
    m = acc.shape[0] // k
    if m == 0:
        return np.zeros(0)
    mean = acc[: m * k].reshape(m, k, 3).mean(axis=1)
    return z_angle_deg(mean[:, 0], mean[:, 1], mean[:, 2])


def sustained_inactivity(
    angle_deg: np.ndarray, *, epoch_s: int = 5, params: ActigraphyParams = ActigraphyParams()
) -> np.ndarray:
    """van Hees 2015 sustained inactivity bouts, per epoch.

    Change points are epochs whose z-angle differs from the previous epoch's by more than
    5 deg; the stretches between consecutive change points lasting >= 5 min are sustained
    inactivity (GGIR's implementation of the method). Returns a boolean per epoch.
    """
    ang = np.asarray(angle_deg, float)
    n = ang.size
    out = np.zeros(n, bool)
    if n < 2:
        return out
    change = np.flatnonzero(np.abs(np.diff(ang)) > params.sib_angle_deg) + 1
    bounds = np.concatenate([[0], change, [n]])
    k = params.sib_min_s / epoch_s
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        if b - a >= k:
            out[a:b] = True
    return out


def hdcza(
    angle_deg: np.ndarray,
    *,
    epoch_s: int = 5,
    params: ActigraphyParams = ActigraphyParams(),
    valid: np.ndarray | None = None,
) -> tuple[tuple[int, int] | None, float]:
    """van Hees 2018 HDCZA sleep-period-time window on one (noon-to-noon) z-angle series.

    1. ``x = |diff(z-angle)|`` between successive 5-s epochs; 2. 5-min rolling median;
    3. threshold = 10th percentile x 15, clipped to [0.13, 0.50] deg (GGIR); 4. epochs below
    it are candidate sleep; blocks > 30 min kept; 5. gaps < 60 min merged; 6. the longest
    block is the SPT window. Epochs with ``valid`` False (non-wear) are never candidates and
    are left out of the percentile.

    Returns ``((start, stop) epoch indices or None, threshold_deg)``.
    """
    p = params
    ang = np.asarray(angle_deg, float)
    if ang.size < 3:
        return None, math.nan
    dx = np.abs(np.diff(ang))
    dx = np.concatenate([dx[:1], dx])  # epoch i: change into epoch i
    k = max(1, int(p.hdcza_roll_s // epoch_s))
    med = ndimage.median_filter(dx, size=k, mode="nearest")
    ok = np.ones(ang.size, bool) if valid is None else np.asarray(valid, bool)
    if not ok.any():
        return None, math.nan
    thr = float(np.percentile(med[ok], p.hdcza_pct)) * p.hdcza_mult
    thr = min(max(thr, p.hdcza_min_deg), p.hdcza_max_deg)
    cand = (med < thr) & ok
    blocks = sleep_blocks(cand, epoch_s, min_block_s=p.block_min_s, merge_gap_s=p.block_merge_gap_s)
    if not blocks:
        return None, thr
    best = max(blocks, key=lambda ab: (ab[1] - ab[0], -ab[0]))
    return best, thr


def nonwear_raw(
    acc_g: np.ndarray,
    fs_hz: float,
    *,
    hr_present: np.ndarray | None = None,
    params: ActigraphyParams = ActigraphyParams(),
) -> np.ndarray:
    """van Hees 2013 non-wear on raw acceleration, per sample.

    60-min windows moved in 15-min steps; a window is non-wear when on >= 2 of 3 axes the SD
    is < 13 mg *and* the range is < 50 mg. With ``hr_present`` (per sample, True where an
    HR reading exists within the sample's minute) a window also needs no HR at all:
    a motionless sleeper with a beating heart is worn. Returns the union of non-wear windows.
    """
    acc = np.asarray(acc_g, float)
    n = acc.shape[0]
    out = np.zeros(n, bool)
    w = int(round(params.raw_nonwear_window_s * fs_hz))
    st = int(round(params.raw_nonwear_step_s * fs_hz))
    if n < w or w <= 0:
        return out
    for a in range(0, n - w + 1, st):
        seg = acc[a : a + w]
        sd = seg.std(axis=0)
        rng = seg.max(axis=0) - seg.min(axis=0)
        flat = (sd < params.raw_nonwear_sd_g) & (rng < params.raw_nonwear_range_g)
        if int(flat.sum()) >= params.raw_nonwear_axes and (
            hr_present is None or not np.asarray(hr_present[a : a + w]).any()
        ):
            out[a : a + w] = True
    return out
