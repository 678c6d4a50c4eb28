"""Array helpers of the cramp detector on a time grid (one night, or nights laid end to end).

Pure functions: interval coverage and amounts per cell, runs, the edge-padded median
filters, medians and robust spreads without numpy's / scipy's per-call overhead, and their
grouped ("_seg_") and night-boundary-aware ("_split") forms used by the vectorised pass over
all of a participant's nights. Each fast form equals the straightforward call it replaces bit
for bit (tests/detectors/test_equivalence_fast.py, test_cramps_equivalence.py), and each is
kept only where a measurement shows the library call costs more at the detectors' sizes
(``benchmarks/fast_helpers.py``; for the grouped median, detection end to end).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage, signal, stats

from detectors.actigraphy import cell_medians, spread_spans

if TYPE_CHECKING:
    from detectors.cramp_prep import _Intervals

_US = 1_000_000
_MIN_US = 60 * _US

# ----------------------------------------------------------------------------------------
# one night


def _merge(s: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union of intervals as sorted, disjoint (start, end) arrays."""
    keep = e > s
    s, e = s[keep], e[keep]
    if s.size == 0:
        return s, e
    order = np.argsort(s, kind="stable")
    s, e = s[order], e[order]
    cm = np.maximum.accumulate(e)
    new = np.ones(s.size, dtype=bool)
    new[1:] = s[1:] > cm[:-1]
    idx = np.flatnonzero(new)
    return s[idx], np.maximum.reduceat(e, idx)


def _coverage_s(iv: _Intervals, edges: np.ndarray) -> np.ndarray:
    """Seconds of each grid cell covered by the union of the intervals."""
    idx = iv.window(int(edges[0]), int(edges[-1]))
    ms, me = _merge(iv.s[idx], iv.e[idx])
    if ms.size == 0:
        return np.zeros(edges.size - 1)
    knots = np.column_stack([ms, me]).ravel().astype(float)
    lengths = (me - ms).astype(float)
    cum_end = np.cumsum(lengths)
    values = np.column_stack([cum_end - lengths, cum_end]).ravel()
    cum = np.interp(edges.astype(float), knots, values, left=0.0, right=float(cum_end[-1]))
    return np.diff(cum) / _US


def _amount_per_cell(iv: _Intervals, edges: np.ndarray) -> tuple[np.ndarray, bool]:
    """Amount (steps, kcal) per grid cell; intervals spread uniformly over their span.

    Sources are combined by the per-cell maximum (duplicate devices), a single source sums.
    Returns the per-cell amounts and whether any interval touched the window.
    """
    n = edges.size - 1
    idx = iv.window(int(edges[0]), int(edges[-1]))
    if idx.size == 0:
        return np.zeros(n), False
    out = np.zeros(n)
    for code in np.unique(iv.src[idx]):
        j = idx[iv.src[idx] == code]
        s, e, v = iv.s[j], iv.e[j], iv.v[j]
        amt = np.zeros(n)
        point = e == s
        if point.any():
            cell = (s[point] - edges[0]) // (edges[1] - edges[0])
            ok = (cell >= 0) & (cell < n)
            np.add.at(amt, cell[ok], v[point][ok])
        span = ~point
        if span.any():
            amt += spread_spans(s[span], e[span], v[span], edges)
        out = np.maximum(out, amt)
    return out, True


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, stop) indices of the True runs of a boolean array."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return (d == 1).nonzero()[0], (d == -1).nonzero()[0]  # = np.flatnonzero (1-d)


def _medfilt_runs(x: np.ndarray, kernel: int) -> np.ndarray:
    """``scipy.signal.medfilt`` on each finite stretch, edge-padded (NaN stays NaN):
    ``scipy.ndimage.median_filter(mode="nearest")`` per stretch, the same for an odd kernel.
    The per-night form (the tests' reference and ``cramp_prep._fine_hr``); detection runs
    :func:`_medfilt_runs_split`, whose copy ``benchmarks/fast_helpers.py`` shows is needed."""
    if kernel % 2 == 0:
        raise ValueError(f"medfilt needs an odd kernel, got {kernel}")  # as signal.medfilt
    out = np.full_like(x, np.nan)
    on, off = _runs(np.isfinite(x))
    for a, b in zip(on.tolist(), off.tolist(), strict=True):
        out[a:b] = ndimage.median_filter(x[a:b], size=kernel, mode="nearest")
    return out


def _medfilt_edge(v: np.ndarray, lengths: np.ndarray, kernel: int) -> np.ndarray:
    """``scipy.signal.medfilt(np.pad(run, kernel // 2, mode="edge"), kernel)`` (unpadded part)
    for consecutive runs of ``v`` with the given ``lengths``, all runs in one vectorised pass.

    Each output is the middle of the sorted ``kernel`` values around it, positions beyond its
    run clamped to the run's first/last value (= edge padding), which is exactly medfilt's
    result on an odd kernel. An even kernel goes to medfilt itself (which rejects it).
    """
    if kernel % 2 == 0 or kernel < 1:
        return signal.medfilt(v, kernel)
    pad = kernel // 2
    if pad == 0 or v.size == 0:
        return v.astype(float, copy=True)
    stops = np.cumsum(lengths)
    if kernel == 3:  # median of (left, self, right) by min/max, ends repeat themselves
        starts = stops[lengths > 0] - lengths[lengths > 0]
        left = np.concatenate([v[:1], v[:-1]])
        right = np.concatenate([v[1:], v[-1:]])
        left[starts] = v[starts]
        right[stops[lengths > 0] - 1] = v[stops[lengths > 0] - 1]
        return np.maximum(np.minimum(left, v), np.minimum(np.maximum(left, v), right))
    lo = np.repeat(stops - lengths, lengths)
    hi = np.repeat(stops - 1, lengths)
    win = np.arange(v.size)[:, None] + np.arange(-pad, pad + 1)
    win = np.clip(win, lo[:, None], hi[:, None])
    return np.sort(v[win], axis=1)[:, pad]


def _median(x: np.ndarray) -> float:
    """``float(np.median(x))`` for a 1-d array without its per-call overhead (this runs a few
    times per night and per segment): the mean of the two middle values of the sorted
    float64 array (the same element twice for an odd size); NaN if any value is NaN."""
    v = np.array(x, dtype=float)  # a copy, sorted in place (= np.sort)
    v.sort()
    n = v.size
    if n == 0 or np.isnan(v[-1]):  # NaN sorts last
        return math.nan
    return float((v[(n - 1) // 2] + v[n // 2]) / 2)


#: scipy.stats.median_abs_deviation(scale="normal") constant, 1 / Phi^-1(3/4)
_MAD_NORMAL = float(1.0 / stats.norm.ppf(0.75))


def _robust_spread(x: np.ndarray, floor: float) -> float:
    """``max(MAD_normal(x), floor)`` for one array: the closed form of
    ``scipy.stats.median_abs_deviation(x, scale="normal")`` without its per-call overhead
    (this runs once per night inside the candidate search)."""
    x = x[np.isfinite(x)]
    if x.size < 2:
        return floor
    return max(_MAD_NORMAL * _median(np.abs(x - _median(x))), floor)


def _medfilt_samples(
    hr_raw: np.ndarray, kernel: int, max_gap_cells: int, night_of_cell: np.ndarray | None = None
) -> np.ndarray:
    """``scipy.signal.medfilt`` over the sequence of sampled cells (not over minutes).

    Consecutive samples closer than ``max_gap_cells`` form a run; each run is filtered with
    edge padding, so an isolated artefactual sample between two normal ones is replaced by
    their neighbour value while two or more consecutive elevated samples survive.
    """
    idx = np.flatnonzero(np.isfinite(hr_raw))
    if idx.size < kernel:
        return hr_raw
    out = hr_raw.copy()
    gap = np.diff(idx) > max_gap_cells
    if night_of_cell is not None:  # concatenated nights: runs never cross a night boundary
        gap |= night_of_cell[idx[1:]] != night_of_cell[idx[:-1]]
    breaks = np.flatnonzero(gap) + 1
    lengths = np.diff(np.concatenate([[0], breaks, [idx.size]]))
    long_run = np.repeat(lengths >= kernel, lengths)  # shorter runs stay as they are
    if not long_run.any():
        return out
    filtered = _medfilt_edge(hr_raw[idx], lengths, kernel)
    out[idx[long_run]] = filtered[long_run]
    return out


def _minute_median(t: np.ndarray, v: np.ndarray, g0: int, step: int, n: int) -> np.ndarray:
    """Median of the samples in each grid cell of ``step`` us from ``g0`` (NaN where none):
    :func:`detectors.actigraphy.cell_medians` on the samples' cell numbers."""
    return cell_medians((np.asarray(t) - g0) // step, v, n)


# ----------------------------------------------------------------------------------------
# nights laid end to end (cut at the night boundaries ``starts``) and grouped values


def _ragged(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated ``arange(lo[i], hi[i])`` and the ``i`` of each element."""
    lengths = np.maximum(hi - lo, 0)
    owner = np.repeat(np.arange(lo.size), lengths)
    first = np.cumsum(lengths) - lengths
    return lo[owner] + (np.arange(owner.size) - first[owner]), owner


def _amount_per_cell_split(
    iv: _Intervals, lo: np.ndarray, n: np.ndarray, step: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_amount_per_cell` of several nights at once, laid end to end (night ``i``: the
    ``n[i]`` cells of ``step`` us from ``lo[i]``, edges ``lo[i] + step * k``). Returns the
    concatenated amounts and, per night, whether any interval touched its window.

    Each night gets the one-night call's values bit for bit: every (night, source) group
    holds the intervals of that night's window in the same order; its knots (starts, then
    ends) are sorted by one stable sort keyed by (group, time), which within a group is the
    one-night stable argsort; the running sums (slope, amount) are ``cumsum`` along the rows
    of a (group x knot) matrix padded after each row's last knot, the same sequential
    additions; ``np.interp`` is evaluated as numpy evaluates it (``j`` = last knot <= x:
    0 before the first knot, the last value from the last knot on, ``cum[j]`` where x is on
    knot ``j``, else ``slope * (x - t[j]) + cum[j]``, ``slope = (cum[j+1] - cum[j]) /
    (t[j+1] - t[j])``); point samples go in by ``np.add.at`` in the same order; sources are
    combined by ``np.maximum`` in code order, from zeros.
    """
    m = lo.size
    out = np.zeros(int(n.sum()))
    touched = np.zeros(m, dtype=bool)
    if iv.s.size == 0 or m == 0:
        return out, touched
    first = np.cumsum(n) - n
    hi = lo + n * step
    i0 = np.searchsorted(iv.emax, lo, side="left")  # = _Intervals.window, per night
    i1 = np.searchsorted(iv.s, hi, side="left")
    idx, night = _ragged(i0, np.maximum(i0, i1))
    s, e = iv.s[idx], iv.e[idx]
    keep = (e > lo[night]) | ((e == s) & (s >= lo[night]))
    idx, night, s, e = idx[keep], night[keep], s[keep], e[keep]
    if idx.size == 0:
        return out, touched
    touched[night] = True
    v, code = iv.v[idx], iv.src[idx]
    new = np.ones(idx.size, dtype=bool)
    if (code != code[0]).any():  # several sources: groups (night, code), window order kept
        order = np.lexsort((code, night))
        night, s, e, v, code = (a[order] for a in (night, s, e, v, code))
        new[1:] = (night[1:] != night[:-1]) | (code[1:] != code[:-1])
    else:
        new[1:] = night[1:] != night[:-1]
    group = np.cumsum(new) - 1
    g_night = night[new]
    n_g = g_night.size
    g_n = n[g_night]
    g_first = np.cumsum(g_n) - g_n  # each group's cells, laid end to end
    amt = np.zeros(int(g_n.sum()))

    point = e == s
    if point.any():
        cell = (s[point] - lo[night[point]]) // step
        ok = (cell >= 0) & (cell < n[night[point]])
        np.add.at(amt, (g_first[group[point]] + cell)[ok], v[point][ok])

    span = ~point
    if span.any():
        sg, s2, e2 = group[span], s[span], e[span]
        rate = v[span] / (e2 - s2)
        k_g = np.bincount(sg, minlength=n_g)
        k_first = np.cumsum(k_g) - k_g
        pos = np.arange(sg.size) - k_first[sg]  # index within the group
        L = 2 * k_g  # knots per group: its starts, then its ends
        l_first = 2 * k_first
        slot = np.concatenate([l_first[sg] + pos, l_first[sg] + k_g[sg] + pos])
        t_int = np.empty(slot.size, dtype=np.int64)
        t_int[slot] = np.concatenate([s2, e2])
        d = np.empty(slot.size)
        d[slot] = np.concatenate([rate, -rate])
        kg = np.repeat(np.arange(n_g), L)
        # edges: n + 1 per group with knots
        gs = np.flatnonzero(L > 0)
        ne = g_n[gs] + 1
        eg = np.repeat(gs, ne)
        e_first = np.cumsum(ne) - ne
        x_int = lo[g_night[eg]] + step * (np.arange(int(ne.sum())) - np.repeat(e_first, ne))
        # stable sort by (group, time) on one int64 key (lexsort if it would not fit)
        t0 = min(int(t_int.min()), int(x_int.min()))
        span_us = max(int(t_int.max()), int(x_int.max())) - t0 + 1
        one_key = n_g * span_us < 2**62
        if one_key:
            key = kg * span_us + (t_int - t0)
            order = np.argsort(key, kind="stable")
        else:
            order = np.lexsort((t_int, kg))
        t = t_int[order].astype(float)
        col = np.arange(t.size) - np.repeat(l_first, L)
        width = int(L.max())
        last_t = np.zeros(n_g)
        last_t[gs] = t[(l_first + L - 1)[gs]]
        tm = np.repeat(last_t[:, None], width, axis=1)  # padding: the last knot again
        tm[kg, col] = t
        dm = np.zeros((n_g, width))  # padding: slope + 0
        dm[kg, col] = d[order]
        slope = np.cumsum(dm, axis=1)
        cum = np.zeros((n_g, width))
        cum[:, 1:] = np.cumsum(slope[:, :-1] * np.diff(tm, axis=1), axis=1)
        # np.interp(edges, t, cum, left=0, right=cum[-1]) of each group
        if one_key:
            j = np.searchsorted(key[order], eg * span_us + (x_int - t0), side="right")
            j = j - 1 - l_first[eg]
        else:
            j = np.concatenate(
                [
                    np.searchsorted(tm[g, : L[g]], x_int[a : a + c].astype(float), side="right") - 1
                    for g, a, c in zip(gs.tolist(), e_first.tolist(), ne.tolist(), strict=True)
                ]
            )
        x = x_int.astype(float)
        lg = L[eg]
        jc = np.clip(j, 0, lg - 1)
        j1 = np.minimum(jc + 1, lg - 1)
        tj, tj1, cj, cj1 = tm[eg, jc], tm[eg, j1], cum[eg, jc], cum[eg, j1]
        with np.errstate(divide="ignore", invalid="ignore"):
            sl = (cj1 - cj) / (tj1 - tj)
            val = sl * (x - tj) + cj
            nan = np.isnan(val)  # numpy's retry from the right knot
            if nan.any():
                val[nan] = (sl * (x - tj1) + cj1)[nan]
                still = np.isnan(val) & (cj == cj1)
                val[still] = cj[still]
        val = np.where(tj == x, cj, val)
        val = np.where(j >= lg - 1, cum[eg, lg - 1], val)  # on or after the last knot
        val = np.where(j < 0, 0.0, val)  # before the first knot
        dif = np.diff(val)
        within = np.ones(dif.size, dtype=bool)
        within[(e_first + ne - 1)[:-1]] = False  # not across two groups
        cells = np.repeat(g_first[gs], g_n[gs]) + (
            np.arange(int(g_n[gs].sum())) - np.repeat(np.cumsum(g_n[gs]) - g_n[gs], g_n[gs])
        )
        amt[cells] += dif[within]
    dest = np.repeat(first[g_night], g_n) + (np.arange(amt.size) - np.repeat(g_first, g_n))
    np.maximum.at(out, dest, amt)  # = out = np.maximum(out, amt) per group, in order
    return out, touched


def _runs_split(mask: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_runs`, with every run also cut at the indices ``starts`` (night boundaries)."""
    cut = np.zeros(mask.size + 1, dtype=bool)
    cut[starts] = True
    m = mask.astype(bool)
    prev = np.concatenate([[False], m[:-1]])
    nxt = np.concatenate([m[1:], [False]])
    on = np.flatnonzero(m & (~prev | cut[:-1]))
    off = np.flatnonzero(m & (~nxt | cut[1:])) + 1
    return on, off


def _medfilt_runs_split(x: np.ndarray, starts: np.ndarray, kernel: int) -> np.ndarray:
    """:func:`_medfilt_runs` on concatenated nights (finite stretches cut at ``starts``)."""
    if kernel == 3 and x.size:
        # in place on the grid: a neighbour outside the cell's finite stretch (NaN, or the
        # other side of a night boundary) is replaced by the cell itself (= edge padding),
        # then the median of three by min/max, as _medfilt_edge computes it; NaN stays NaN
        fin = np.isfinite(x)
        cut = np.zeros(x.size + 1, dtype=bool)
        cut[starts] = True
        left = np.empty_like(x)
        left[0] = x[0]
        left[1:] = x[:-1]
        bad = ~np.concatenate([[False], fin[:-1]]) | cut[:-1]
        left[bad] = x[bad]
        right = np.empty_like(x)
        right[-1] = x[-1]
        right[:-1] = x[1:]
        bad = ~np.concatenate([fin[1:], [False]]) | cut[1:]
        right[bad] = x[bad]
        med = np.maximum(np.minimum(left, x), np.minimum(np.maximum(left, x), right))
        med[~fin] = np.nan  # (inf cells too, as the stretch-wise filter leaves them)
        return med
    out = np.full_like(x, np.nan)
    ok = np.isfinite(x)
    on, off = _runs_split(ok, starts)
    if on.size:  # the runs tile the finite cells in order
        out[ok] = _medfilt_edge(x[ok], off - on, kernel)
    return out


def _ffill_split(x: np.ndarray, night_of_cell: np.ndarray, first: np.ndarray, max_cells: int):
    """Forward fill over gaps <= ``max_cells`` within each night: (filled, source index)."""
    n = x.size
    ok_raw = np.isfinite(x)
    last = np.maximum.accumulate(np.where(ok_raw, np.arange(n), -1))
    ok = (last >= first[night_of_cell]) & (np.arange(n) - last <= max_cells)
    return np.where(ok, x[np.maximum(last, 0)], np.nan), np.where(ok, last, -1)


def _cum_coverage(ms: np.ndarray, me: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Exact covered microseconds of the disjoint sorted intervals before each ``t``."""
    if ms.size == 0:
        return np.zeros(t.size, dtype=np.int64)
    cum = np.concatenate([[0], np.cumsum(me - ms)])
    k = np.searchsorted(ms, t, side="right")  # intervals starting at or before t
    kk = np.maximum(k - 1, 0)
    part = np.clip(t - ms[kk], 0, me[kk] - ms[kk])
    return np.where(k > 0, cum[kk] + part, 0)


def _seg_medians(v: np.ndarray, owner: np.ndarray, m: int) -> np.ndarray:
    """:func:`_median` of each group ``owner == i`` (``i < m``; ``owner`` non-decreasing, so
    each group is contiguous): NaN for an empty group or one holding a NaN, else the mean
    of the two middle values, found by ``np.partition`` (the sorted order's values). A copy
    kept on measurement: polars' grouped quantiles in its place made ``detect_nocturnal_cramps``
    1.1-1.25x slower end to end (same-process A/B, 10 benchmark participant-years), though
    ``benchmarks/fast_helpers.py`` timed the call alone at 0.7x."""
    out = np.full(m, np.nan)
    if v.size == 0:
        return out
    cnt = np.bincount(owner, minlength=m)
    stops = np.cumsum(cnt)
    has_nan = np.bincount(owner[np.isnan(v)], minlength=m) > 0
    cnt_l, stops_l = cnt.tolist(), stops.tolist()
    for i in np.flatnonzero((cnt > 0) & ~has_nan).tolist():
        k, b = cnt_l[i], stops_l[i]
        lo, hi = (k - 1) // 2, k // 2
        part = v[b - k : b].copy()  # np.partition(x, kth) = a copy, partitioned in place
        part.partition((lo, hi) if hi != lo else lo)
        out[i] = (part[lo] + part[hi]) / 2
    return out


def _seg_mad(x: np.ndarray, owner: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Per group: (median absolute deviation around the median, number of values)."""
    cnt = np.bincount(owner, minlength=m)
    med = _seg_medians(x, owner, m)
    return _seg_medians(np.abs(x - med[owner]), owner, m), cnt


def _seg_robust_spread(x: np.ndarray, owner: np.ndarray, m: int, floor: float) -> np.ndarray:
    """:func:`_robust_spread` of each group (finite values only)."""
    ok = np.isfinite(x)
    mad, cnt = _seg_mad(x[ok], owner[ok], m)
    return np.where(cnt >= 2, np.maximum(_MAD_NORMAL * mad, floor), floor)


#: scipy.stats.median_abs_deviation's divisor for scale="normal" (scipy 1.17: ndtri(0.75))
_SCIPY_NORMAL_SCALE = 0.6744897501960817


def _seg_scipy_spread(x: np.ndarray, owner: np.ndarray, m: int, floor: float) -> np.ndarray:
    """``max(scipy.stats.median_abs_deviation(x, scale="normal"), floor)`` per group
    (finite values) = MAD / 0.67449 (a division, as scipy computes it), floored; the one
    scipy call it replaces is the specification in tests/detectors/test_cramps_equivalence.py."""
    mad, cnt = _seg_mad(x, owner, m)
    with np.errstate(invalid="ignore"):
        mad = mad / _SCIPY_NORMAL_SCALE
    return np.maximum(np.where((cnt >= 2) & np.isfinite(mad), mad, floor), floor)


def _close_gaps(mask: np.ndarray, starts: np.ndarray, k: int) -> np.ndarray:
    """``ndimage.binary_closing(np.pad(x, k), np.ones(k))[k:-k]`` of every night ``x`` of the
    concatenated ``mask`` (nights begin at ``starts``): a 1-d closing by ``k`` cells fills
    exactly the gaps shorter than ``k`` that have a True cell on both sides (the padding keeps
    gaps at the ends open)."""
    out = mask.copy()
    if k <= 1 or mask.size == 0:
        return out
    on, off = _runs_split(~mask, starts)  # gaps, cut at night boundaries
    cut = np.zeros(mask.size + 1, dtype=bool)
    cut[starts] = True
    cut[mask.size] = True
    inner = (~cut[on]) & (~cut[off]) & ((off - on) < k)  # True before and after, same night
    if inner.any():
        idx, _ = _ragged(on[inner], off[inner])
        out[idx] = True
    return out
