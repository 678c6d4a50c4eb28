"""The heart-rate wake criterion of the minute classification (grade D; [burgess1997] and
[crampwatch_brief] as cited on :class:`detectors.actigraphy_params.ActigraphyParams`) and
the rolling-median and percentile helpers it is computed with.

Part of :mod:`detectors.actigraphy` (which re-exports these helpers for the equivalence
tests and benchmarks); called by :mod:`detectors.actigraphy_minutes`.
"""

from __future__ import annotations

import warnings

import numpy as np

from detectors.actigraphy_params import _US, ActigraphyParams
from detectors.nights import NIGHT_START_HOUR


def _hr_wake(
    hr_min: np.ndarray,
    hr_present: np.ndarray,
    minute_t: np.ndarray,
    off: np.ndarray,
    p: ActigraphyParams,
) -> np.ndarray:
    """HR wake criterion per minute: the ``hr_roll_s`` rolling median HR above the
    noon-to-noon window's ``hr_low_pct`` percentile + ``hr_wake_margin_bpm`` (windows with
    fewer than ``hr_min_minutes`` HR minutes: never). Grade D, [burgess1997] and
    [crampwatch_brief] as cited on :class:`ActigraphyParams`.

    All windows at once: each window's HR minutes become one row of a matrix (padded with
    +inf), the rows are sorted in one ``np.sort``, and the percentile is read off each row
    as ``np.percentile`` (linear) reads it; the rolling median is compared by
    :func:`_rolling_median_above`.
    """
    night_key = (minute_t // _US + off - NIGHT_START_HOUR * 3600) // 86400
    # minutes grouped by night key (stable sort: each night's minutes keep their order;
    # none needed when the keys never decrease, the usual case)
    step = np.diff(night_key)
    order = None if (step >= 0).all() else np.argsort(night_key, kind="stable")
    key = night_key if order is None else night_key[order]
    first = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    size = np.diff(np.concatenate([first, [key.size]]))
    night = np.repeat(np.arange(first.size), size)  # night index of the sorted minutes
    pos = np.arange(key.size) - np.repeat(first, size)  # position inside its night
    vals = hr_min if order is None else hr_min[order]
    present = hr_present if order is None else hr_present[order]
    width = int(size.max())
    matrix = np.full((first.size, width), np.inf)
    matrix[night[present], pos[present]] = vals[present]
    matrix.sort(axis=1)
    cnt = np.bincount(night[present], minlength=first.size)
    ok = (cnt >= p.hr_min_minutes) & (cnt > 0)
    thr = np.full(first.size, np.nan)
    if ok.any():
        rows = np.flatnonzero(ok)
        thr[ok] = (
            _percentile_sorted(matrix.ravel(), rows * width, cnt[ok], p.hr_low_pct)
            + p.hr_wake_margin_bpm
        )
    thr_min = thr[night]
    if order is not None:
        thr_min = thr_min[np.argsort(order)]
    return _rolling_median_above(hr_min, max(1, p.hr_roll_s // 60), thr_min)


def _percentile_sorted(
    srt: np.ndarray, start: np.ndarray, count: np.ndarray, pct: float
) -> np.ndarray:
    """``np.percentile(srt[start[i] : start[i] + count[i]], pct)`` for every i (each slice
    sorted, count >= 1), with numpy's default linear method and the same arithmetic."""
    q = np.true_divide(pct, 100)
    virtual = (count - 1) * q
    prev = np.floor(virtual)
    above = virtual >= count - 1  # numpy takes the last value there
    lo = np.where(above, count - 1, prev).astype(np.intp)
    hi = np.where(above, count - 1, prev + 1).astype(np.intp)
    gamma = virtual - np.where(above, -1, prev)
    a, b = srt[start + lo], srt[start + hi]
    diff = b - a
    return np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)


def _nan_rolling_median(x: np.ndarray, k: int, at: np.ndarray | None = None) -> np.ndarray:
    """Centred rolling median ignoring NaN (NaN where the window has no value):
    ``np.nanmedian`` over the windows ``[i - k // 2, i + k - 1 - k // 2]`` (NaN-padded
    ends). With ``at`` (indices), only the windows centred there are computed. A library
    call: ``benchmarks/fast_helpers.py`` found a sort-based copy no faster here."""
    if k <= 1 or x.size == 0:
        return x.copy() if at is None else np.asarray(x, float)[at]
    from numpy.lib.stride_tricks import sliding_window_view

    pad = k // 2
    xp = np.pad(np.asarray(x, float), (pad, k - 1 - pad), constant_values=np.nan)
    win = sliding_window_view(xp, k)
    if at is not None:
        win = win[np.asarray(at)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows give NaN
        return np.nanmedian(win, axis=1)


def _rolling_median_above(x: np.ndarray, k: int, thr: np.ndarray) -> np.ndarray:
    """``np.isfinite(m) & (m > thr)`` with ``m = _nan_rolling_median(x, k)``, ``x`` finite
    or NaN, without computing most medians.

    In a window whose values all share the centre's threshold ``T``, the median of its ``c``
    finite values (the mean of sorted positions ``(c - 1) // 2`` and ``c // 2``) is above
    ``T`` when at most ``(c - 1) // 2`` values are <= T (both positions above ``T``), and
    not above it when at least ``c // 2 + 1`` are (both at or below); counting needs only
    cumulative sums. The median is computed for the other windows: an even count split at
    ``T``, or a threshold changing inside the window (a night boundary).
    """
    n = x.size
    if k <= 1 or n == 0:
        return np.isfinite(x) & (x > thr)
    pad = k // 2

    def window_sum(v: np.ndarray) -> np.ndarray:
        cs = np.concatenate([[0], np.cumsum(np.pad(v, (pad, k - 1 - pad)), dtype=np.int64)])
        return cs[k:] - cs[:-k]

    c = window_sum(np.isfinite(x))
    low = window_sum(x <= thr)  # NaN on either side compares False
    # thresholds change between i - 1 and i (NaN to NaN is no change)
    change = np.zeros(n, bool)
    change[1:] = (thr[1:] != thr[:-1]) & ~(np.isnan(thr[1:]) & np.isnan(thr[:-1]))
    cc = np.concatenate([[0], np.cumsum(change)])
    lo_i = np.maximum(np.arange(n) - pad, 0)
    hi_i = np.minimum(np.arange(n) + k - pad, n)
    uniform = cc[hi_i] - cc[lo_i + 1] == 0  # no change after the window's first minute
    both_above = low <= (c - 1) // 2
    both_below = low >= c // 2 + 1
    out = uniform & (c > 0) & both_above & np.isfinite(thr)
    todo = np.flatnonzero((c > 0) & np.isfinite(thr) & ~(uniform & (both_above | both_below)))
    if todo.size:
        out[todo] = _nan_rolling_median(x, k, at=todo) > thr[todo]
    return out
