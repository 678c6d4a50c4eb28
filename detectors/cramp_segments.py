"""Candidate segments of the cramp detector (Step B), per night or for many nights at once.

Candidate minutes (recorded awake stage, or minutes not covered by ``asleep`` in old-style
nights; activity z >= 3; any steps; seconds exports: an abrupt sustained HR rise, brief 7.2),
closed over gaps <= 2 min and cut into 1-30 min segments; with them the per-night arrays the
features read (:class:`_Night`) and whether the movement channel exists around each segment.
:func:`_prepare_chunk` is the vectorised pass detection runs; :func:`_prepare_night` the
per-night path of :func:`detectors.cramps.compute_night_features`, equal value for value.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from scipy import ndimage, signal

from detectors.actigraphy import keep_finest_resolution
from detectors.cramp_grid import (
    _US,
    _amount_per_cell,
    _close_gaps,
    _median,
    _robust_spread,
    _runs,
    _runs_split,
    _seg_medians,
    _seg_robust_spread,
)
from detectors.cramp_prep import (
    _OTHER_MOVEMENT_METRICS,
    _chunk_pre,
    _fine_hr,
    _night_grid,
    _night_pre,
    _NightPre,
    _ParticipantData,
    _present,
)

if TYPE_CHECKING:
    from detectors.cramps import CrampParams


@dataclass
class _Night:
    """Per-night 1-min grid arrays and candidate segments (phase 1 of scoring)."""

    g0: int
    step: int
    n: int
    staged: bool
    in_period: np.ndarray
    asleep: np.ndarray
    raw_mask: np.ndarray
    closed: np.ndarray
    hr_raw: np.ndarray
    has_raw: np.ndarray
    src: np.ndarray
    hr_s: np.ndarray
    night_med: float
    sleep_hr: np.ndarray
    steps: np.ndarray
    has_steps: bool
    walking_cell: np.ndarray
    walk_on: np.ndarray
    walk_off: np.ndarray
    act_z: np.ndarray
    has_act: bool
    bout_on: np.ndarray
    bout_len_s: np.ndarray
    peak_idx: np.ndarray
    peak_prom: np.ndarray
    segments: list[tuple[int, int]]
    fine: bool = False
    hr_spacing_s: float = math.nan
    hr_fine: np.ndarray | None = None  # filtered HR on the fine grid (NaN: gap)
    fine_per_cell: int = 1  # fine cells per grid cell
    surge_cells: np.ndarray | None = None  # grid cells where a fine abrupt sustained rise starts
    #: per segment: movement samples seen within movement_channel_window_s before (bit 1) and
    #: after (bit 2) it; None with the rule off
    movement_seen: list[int] | None = None
    # per-night arrays of the segment scoring, filled by _scoring_arrays (once per night)
    asleep_open: np.ndarray | None = None  # asleep and not a candidate minute
    period_start: int = 0  # first cell of the period
    period_end: int = 0  # cell after the last cell of the period
    hr_fine_still: np.ndarray | None = None  # fine HR, NaN during walking + its recovery
    rise_30s: np.ndarray | None = None  # fine HR minus its minimum over the 30 s before
    prev_raw: np.ndarray | None = None  # last cell < i with a raw HR sample (-1: none)
    raw_run_start: np.ndarray | None = None  # first cell of the raw-sample run holding i
    cum_hr_gap: np.ndarray | None = None  # cumulative counts (n + 1): HR missing,
    cum_raw: np.ndarray | None = None  # raw sample present,
    cum_in_period: np.ndarray | None = None  # in the period,
    cum_raw_mask: np.ndarray | None = None  # candidate minute (raw mask, inside the period)


def _surge_threshold(b_hr: float, s_hr: float, p: CrampParams) -> float:
    """Smallest rise that counts as a surge: 10 bpm or 10 % (whichever is smaller, brief 7.2
    says "or"), and never below 3 robust SDs of the night's asleep HR."""
    return max(min(p.hr_rise_min_bpm, p.hr_rise_min_frac * b_hr), p.hr_rise_min_spread * s_hr)


def _abrupt_sustained(x: np.ndarray, base: np.ndarray, thr: float, p: CrampParams) -> np.ndarray:
    """Fine cells where HR has risen by >= ``thr`` within the last 30 s and then stays
    >= ``base + thr`` for >= 60 s (brief 7.2). Returns the cell indices (onsets)."""
    k = max(1, p.hr_abrupt_window_s // p.hr_fine_grid_s)
    m = max(1, p.hr_sustained_min_s // p.hr_fine_grid_s)
    if x.size <= k + m:
        return np.zeros(0, dtype=np.int64)
    filled = np.where(np.isfinite(x), x, np.inf)
    prior_min = ndimage.minimum_filter1d(filled, size=k, origin=(k - 1) // 2)
    prior_min = np.concatenate([np.full(1, np.inf), prior_min[:-1]])  # min of x[i-k .. i-1]
    above = np.isfinite(x) & (x >= base + thr)
    # above for the m cells starting at i
    c = np.concatenate([[0], np.cumsum(above)])
    run_ok = np.zeros(x.size, bool)
    run_ok[: x.size - m + 1] = (c[m:] - c[: x.size - m + 1]) == m
    rise = np.isfinite(x) & np.isfinite(prior_min) & (x - prior_min >= thr)
    onset = rise & run_ok
    on = np.flatnonzero(onset & ~np.concatenate([[False], onset[:-1]]))
    return on


def _abrupt_sustained_cat(
    x: np.ndarray,
    f_first: np.ndarray,
    f_n: np.ndarray,
    base: np.ndarray,
    thr: np.ndarray,
    p: CrampParams,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_abrupt_sustained` on concatenated fine nights (night ``j`` at ``f_first[j]``,
    ``f_n[j]`` cells, its own ``base`` and ``thr``). Returns (night, cell within the night)
    of every onset. An onset is above ``base + thr``, which few cells are, so the 30-s prior
    minimum and the 60-s run are evaluated at those cells only; the prior minimum reflects at
    the night's first cell, as ``minimum_filter1d``'s default boundary does for one night."""
    k = max(1, p.hr_abrupt_window_s // p.hr_fine_grid_s)
    m = max(1, p.hr_sustained_min_s // p.hr_fine_grid_s)
    none = np.zeros(0, dtype=np.int64)
    if x.size == 0:
        return none, none
    with np.errstate(invalid="ignore"):
        above = x >= np.repeat(base + thr, f_n)  # NaN cells are never above
    cand = np.flatnonzero(above)
    if cand.size == 0:
        return none, none
    night = np.searchsorted(f_first, cand, side="right") - 1
    local = cand - f_first[night]
    n_night = f_n[night]
    # above for the m cells starting at i (cand is strictly increasing)
    q = np.arange(cand.size)
    last = np.minimum(q + m - 1, cand.size - 1)
    run_ok = (q + m - 1 < cand.size) & (cand[last] - cand == m - 1) & (local <= n_night - m)
    # min of x[i-k .. i-1] within the night; positions before the night's start reflect
    # (position -1 -> 0, -2 -> 1, ...) as in minimum_filter1d(size=k, origin=(k-1)//2),
    # whose window ends at the cell itself, shifted by one
    pos = local[:, None] - np.arange(1, k + 1)[None, :]
    pos = np.where(pos < 0, -pos - 1, pos)
    pos = np.minimum(pos, np.maximum(n_night - 1, 0)[:, None])
    xs = x[f_first[night][:, None] + pos]
    prior_min = np.where(np.isfinite(xs), xs, np.inf).min(axis=1)
    prior_min[local == 0] = np.inf
    xi = x[cand]
    rise = np.isfinite(prior_min) & (xi - prior_min >= thr[night])
    onset = rise & run_ok & (n_night > k + m)
    prev = np.zeros(cand.size, dtype=bool)
    prev[1:] = onset[:-1] & (cand[1:] - cand[:-1] == 1)
    prev &= local > 0
    on = onset & ~prev
    return night[on], local[on]


def _prepare_night(
    data: _ParticipantData, ps: int, pe: int, p: CrampParams, pre: _NightPre | None = None
) -> _Night:
    """Per-night grids and candidate segments of one night alone: the path of
    :func:`detectors.cramps.compute_night_features` and the reference that
    :func:`_prepare_chunk` equals. ``pre``: the night's Step A parts if already computed
    (else :func:`detectors.cramp_prep._night_pre`, same values as the chunked pass)."""
    g0, step, n = _night_grid(ps, pe, p)
    g1 = g0 + n * step
    edges = g0 + step * np.arange(n + 1, dtype=np.int64)
    cell_start = edges[:-1]
    in_period = (cell_start + step > ps) & (cell_start < pe)
    if pre is None:
        pre = _night_pre(data, ps, pe, p)

    # stages: staged nights read the awake stage; old-style nights read gaps between asleep
    asleep_cov = pre.asleep_cov
    staged = pre.staged
    half = p.stage_min_cover_s
    if staged:
        wake = in_period & (pre.awake_cov >= half)
    else:
        wake = in_period & (asleep_cov < half)
    asleep = in_period & (asleep_cov >= half) & ~wake

    # heart rate: per-minute median, forward fill <= 5 min, medfilt(3) per finite stretch
    j0, j1 = np.searchsorted(data.hr_t, [g0, g1])
    hr_raw, src, hr_s = pre.hr_raw, pre.src, pre.hr_s
    has_raw = np.isfinite(hr_raw)

    # steps and activity (active energy per minute, robust z against asleep minutes)
    steps, has_steps = _amount_per_cell(data.steps, edges)
    act, has_act = _amount_per_cell(data.act, edges)
    act_z = np.full(n, -np.inf)
    if has_act:
        ref = act[asleep] if asleep.any() else act[in_period]
        med_act = _median(ref) if ref.size else 0.0
        act_z = (act - med_act) / _robust_spread(ref, p.act_spread_floor_kcal_min)
    walking_cell = steps >= p.walk_cadence_steps_min
    walk_on, walk_off = _runs(walking_cell)

    # fine HR (seconds exports): 5-s cells, abrupt sustained rises become candidates too
    spacing = pre.spacing_s
    fine = math.isfinite(spacing) and spacing <= p.hr_fine_max_spacing_s
    hr_fine = surge_cells = None
    per_cell = max(1, p.grid_s // p.hr_fine_grid_s)
    if fine:
        hr_fine = pre.hr_fine
        if hr_fine is None:
            hr_fine = _fine_hr(data.hr_t[j0:j1], data.hr_v[j0:j1], g0, n * per_cell, p)
        ref = hr_s[asleep]
        ref = ref[np.isfinite(ref)]
        if ref.size:
            med = _median(ref)
            thr = _surge_threshold(med, _robust_spread(ref, p.hr_spread_floor_bpm), p)
            starts = _abrupt_sustained(hr_fine, np.full(hr_fine.size, med), thr, p)
            surge_cells = np.zeros(n, bool)
            surge_cells[np.unique(starts // per_cell)] = True
            surge_cells &= in_period

    # Step B: candidate minutes, closing (on a padded array: no erosion at the edges), label
    raw_mask = in_period & (wake | (act_z >= p.act_z_min) | (steps > 0))
    if surge_cells is not None:
        raw_mask |= surge_cells
    k = max(1, p.closing_s // p.grid_s)
    closed = (
        ndimage.binary_closing(np.pad(raw_mask, k), structure=np.ones(k, dtype=bool))[k : k + n]
        & in_period
    )
    labels, _ = ndimage.label(closed)
    segments = []
    for sl in ndimage.find_objects(labels):
        if sl is None:
            continue
        dur_s = (sl[0].stop - sl[0].start) * p.grid_s
        if p.min_segment_s <= dur_s <= p.max_segment_s:
            segments.append((sl[0].start, sl[0].stop))

    sleep_hr = hr_s[asleep & ~closed]
    sleep_hr = sleep_hr[np.isfinite(sleep_hr)]
    night_med = _median(sleep_hr) if sleep_hr.size else math.nan
    bout_on, bout_off = _runs(raw_mask)

    # abruptness evidence: HR peaks and prominences once per night (a constant baseline
    # shift does not change prominence; wlen bounds the search to +-10 min)
    peak_idx = peak_prom = np.zeros(0)
    if segments and np.isfinite(hr_s).any():
        fill = night_med if math.isfinite(night_med) else float(np.nanmedian(hr_s))
        x = np.where(np.isfinite(hr_s), hr_s, fill)
        wlen = 2 * (p.sustain_window_s // p.grid_s) + 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # PeakPropertyWarning: flat plateaus
            peak_idx, props = signal.find_peaks(x, prominence=0.0, width=1, wlen=wlen)
        peak_prom = props["prominences"]
    return _Night(
        g0=g0,
        step=step,
        n=n,
        staged=staged,
        in_period=in_period,
        asleep=asleep,
        raw_mask=raw_mask,
        closed=closed,
        hr_raw=hr_raw,
        has_raw=has_raw,
        src=src,
        hr_s=hr_s,
        night_med=night_med,
        sleep_hr=sleep_hr,
        steps=steps,
        has_steps=has_steps,
        walking_cell=walking_cell,
        walk_on=walk_on,
        walk_off=walk_off,
        act_z=act_z,
        has_act=has_act,
        bout_on=bout_on,
        bout_len_s=(bout_off - bout_on) * p.grid_s,
        peak_idx=peak_idx,
        peak_prom=peak_prom,
        segments=segments,
        movement_seen=_movement_seen(
            data,
            g0,
            step,
            np.array([a for a, _ in segments], dtype=np.int64),
            np.array([b for _, b in segments], dtype=np.int64),
            p,
        ),
        fine=fine,
        hr_spacing_s=spacing,
        hr_fine=hr_fine,
        fine_per_cell=per_cell,
        surge_cells=surge_cells,
    )


def _prepare_chunk(
    data: _ParticipantData, ps: np.ndarray, pe: np.ndarray, p: CrampParams
) -> list[_Night]:
    """:func:`_prepare_night` for several nights of a participant in one vectorised pass
    (same values; every step along the grid is cut at the night boundaries, medians and
    spreads are per night, float sums keep the per-night order)."""
    c = _chunk_pre(data, ps, pe, p)
    m, n, first, noc, total, step = c.m, c.n, c.first, c.night_of_cell, c.total, c.step
    in_period = (c.cell_start + step > ps[noc]) & (c.cell_start < pe[noc])
    half = p.stage_min_cover_s
    wake = in_period & np.where(c.staged[noc], c.awake_cov >= half, c.asleep_cov < half)
    asleep = in_period & (c.asleep_cov >= half) & ~wake
    hr_s = c.hr_s

    # steps and activity: per night, because their float sums depend on the night's window
    steps = np.empty(total)
    act = np.empty(total)
    has_steps = np.zeros(m, dtype=bool)
    has_act = np.zeros(m, dtype=bool)
    for i in range(m):
        a, b = int(first[i]), int(first[i] + n[i])
        edges = c.cell_start[a:b]
        edges = np.append(edges, edges[-1] + step)
        steps[a:b], has_steps[i] = _amount_per_cell(data.steps, edges)
        act[a:b], has_act[i] = _amount_per_cell(data.act, edges)
    act_z = np.full(total, -np.inf)
    if has_act.any():
        any_asleep = np.bincount(noc[asleep], minlength=m) > 0
        ref = has_act[noc] & np.where(any_asleep[noc], asleep, in_period)
        med_act = _seg_medians(act[ref], noc[ref], m)
        med_act = np.where(np.bincount(noc[ref], minlength=m) > 0, med_act, 0.0)
        spread = _seg_robust_spread(act[ref], noc[ref], m, p.act_spread_floor_kcal_min)
        z = (act - med_act[noc]) / spread[noc]
        act_z = np.where(has_act[noc], z, act_z)
    walking_cell = steps >= p.walk_cadence_steps_min
    walk_on, walk_off = _runs_split(walking_cell, first)

    # fine HR: abrupt sustained rises against the night's asleep median
    fine = np.isfinite(c.spacing) & (c.spacing <= p.hr_fine_max_spacing_s)
    per_cell = max(1, p.grid_s // p.hr_fine_grid_s)
    surge = np.zeros(total, dtype=bool)
    has_surge = np.zeros(m, dtype=bool)
    if c.fine_idx.size:
        ref = asleep & np.isfinite(hr_s) & fine[noc]
        cnt = np.bincount(noc[ref], minlength=m)
        med = _seg_medians(hr_s[ref], noc[ref], m)
        spr = _seg_robust_spread(hr_s[ref], noc[ref], m, p.hr_spread_floor_bpm)
        thr = np.maximum(
            np.minimum(p.hr_rise_min_bpm, p.hr_rise_min_frac * med), p.hr_rise_min_spread * spr
        )
        fi = c.fine_idx
        use = cnt[fi] > 0
        base_f = np.where(use, med[fi], np.inf)
        thr_f = np.where(use, thr[fi], np.inf)
        j, cell = _abrupt_sustained_cat(c.hr_fine_cat, c.f_first, c.f_n, base_f, thr_f, p)
        surge[first[fi[j]] + cell // per_cell] = True
        surge &= in_period
        has_surge[fi[use]] = True

    # Step B: candidate minutes, closing, segments
    raw_mask = in_period & (wake | (act_z >= p.act_z_min) | (steps > 0)) | surge
    kc = max(1, p.closing_s // p.grid_s)
    closed = _close_gaps(raw_mask, first, kc) & in_period
    seg_on, seg_off = _runs_split(closed, first)
    dur_s = (seg_off - seg_on) * p.grid_s
    keep = (dur_s >= p.min_segment_s) & (dur_s <= p.max_segment_s)
    seg_on, seg_off = seg_on[keep], seg_off[keep]
    seg_night = noc[seg_on] if seg_on.size else np.zeros(0, dtype=np.int64)
    seg_seen = _movement_seen(data, 0, 1, c.cell_start[seg_on], c.cell_start[seg_off - 1] + step, p)
    sleep_mask = asleep & ~closed & np.isfinite(hr_s)
    sleep_owner = noc[sleep_mask]
    sleep_vals = hr_s[sleep_mask]
    night_med = _seg_medians(sleep_vals, sleep_owner, m)
    sleep_cnt = np.bincount(sleep_owner, minlength=m)
    sleep_first = np.cumsum(sleep_cnt) - sleep_cnt
    bout_on, bout_off = _runs_split(raw_mask, first)
    bout_night = noc[bout_on] if bout_on.size else np.zeros(0, dtype=np.int64)
    walk_night = noc[walk_on] if walk_on.size else np.zeros(0, dtype=np.int64)
    n_seg = np.bincount(seg_night, minlength=m)

    # HR peaks and prominences of the nights with segments, in one find_peaks call: the
    # nights are laid end to end with a separator higher than any HR, so no peak, base or
    # prominence window crosses a night boundary (windows stop at a higher value)
    peaks: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    fin_hr = np.bincount(noc[np.isfinite(hr_s)], minlength=m) > 0
    todo = np.flatnonzero((n_seg > 0) & fin_hr)
    if todo.size:
        xs = []
        for i in todo.tolist():
            x = hr_s[first[i] : first[i] + n[i]]
            fill = night_med[i]
            if not math.isfinite(fill):
                fill = float(np.nanmedian(x))
            xs.append(np.where(np.isfinite(x), x, fill))
        sep = max(float(np.max(np.concatenate(xs))), 0.0) * 2.0 + 1.0
        cat = np.concatenate([v for x in xs for v in (x, np.full(1, sep))])
        lens = n[todo] + 1
        off0 = np.cumsum(lens) - lens
        wlen = 2 * (p.sustain_window_s // p.grid_s) + 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # PeakPropertyWarning: flat plateaus
            pk, props = signal.find_peaks(cat, prominence=0.0, width=1, wlen=wlen)
        prom = props["prominences"]
        owner = np.searchsorted(off0, pk, side="right") - 1
        rel = pk - off0[owner]
        real = rel < n[todo][owner]  # drop the separators
        pk, prom, owner, rel = pk[real], prom[real], owner[real], rel[real]
        bounds = np.searchsorted(owner, np.arange(todo.size + 1))
        for t, i in enumerate(todo.tolist()):
            peaks[i] = (rel[bounds[t] : bounds[t + 1]], prom[bounds[t] : bounds[t + 1]])

    def by_night(night_of: np.ndarray) -> np.ndarray:
        return np.searchsorted(night_of, np.arange(m + 1))

    sb, bb, wb = by_night(seg_night), by_night(bout_night), by_night(walk_night)
    out = []
    empty = np.zeros(0)
    for i in range(m):
        a, b = int(first[i]), int(first[i] + n[i])
        fa = int(first[i])
        pk_i, prom_i = peaks.get(i, (empty, empty))
        segs = list(
            zip(
                (seg_on[sb[i] : sb[i + 1]] - fa).tolist(),
                (seg_off[sb[i] : sb[i + 1]] - fa).tolist(),
                strict=True,
            )
        )
        bo = bout_on[bb[i] : bb[i + 1]] - fa
        out.append(
            _Night(
                g0=int(c.g0[i]),
                step=step,
                n=int(n[i]),
                staged=bool(c.staged[i]),
                in_period=in_period[a:b],
                asleep=asleep[a:b],
                raw_mask=raw_mask[a:b],
                closed=closed[a:b],
                hr_raw=c.hr_raw[a:b],
                has_raw=np.isfinite(c.hr_raw[a:b]),
                src=c.src[a:b],
                hr_s=hr_s[a:b],
                night_med=float(night_med[i]),
                sleep_hr=sleep_vals[sleep_first[i] : sleep_first[i] + sleep_cnt[i]],
                steps=steps[a:b],
                has_steps=bool(has_steps[i]),
                walking_cell=walking_cell[a:b],
                walk_on=walk_on[wb[i] : wb[i + 1]] - fa,
                walk_off=walk_off[wb[i] : wb[i + 1]] - fa,
                act_z=act_z[a:b],
                has_act=bool(has_act[i]),
                bout_on=bo,
                bout_len_s=(bout_off[bb[i] : bb[i + 1]] - fa - bo) * p.grid_s,
                peak_idx=pk_i,
                peak_prom=prom_i,
                segments=segs,
                movement_seen=None if seg_seen is None else seg_seen[sb[i] : sb[i + 1]],
                fine=bool(fine[i]),
                hr_spacing_s=float(c.spacing[i]),
                hr_fine=c.hr_fine[i],
                fine_per_cell=per_cell,
                surge_cells=surge[a:b] if has_surge[i] else None,
            )
        )
    return out


def _check_other_movement(
    samples: pl.DataFrame, prepared: list[tuple[str, object, _Night]], p: CrampParams
) -> None:
    """Add the other movement metrics (intensity level, METs, Garmin intensity; finest
    source per metric) to ``movement_seen`` of the segments that steps and active energy
    do not bracket. One filter over the samples, and only when some segment needs it."""
    todo = [
        (pid, ctx, j)
        for pid, _, ctx in prepared
        if ctx.movement_seen
        for j, seen in enumerate(ctx.movement_seen)
        if seen != 3
    ]
    if not todo:
        return
    pids = sorted({pid for pid, _, _ in todo})
    other = keep_finest_resolution(
        samples.filter(
            pl.col("metric").is_in(_OTHER_MOVEMENT_METRICS) & pl.col("participant_id").is_in(pids)
        )
    ).select(
        "participant_id",
        s=pl.col("start_utc").dt.epoch("us"),
        e=pl.col("end_utc").dt.epoch("us"),
    )
    if other.height == 0:
        return
    by_pid = {}
    for (pid,), g in other.sort("s").partition_by("participant_id", as_dict=True).items():
        s_us = g["s"].to_numpy().astype(np.int64)
        e_us = np.maximum(g["e"].to_numpy().astype(np.int64), s_us)
        by_pid[pid] = (s_us, np.maximum.accumulate(e_us))
    w = p.movement_channel_window_s * _US
    for pid, ctx, j in todo:
        if pid in by_pid:
            t_on, t_off = ctx.segments[j]
            on = np.array([ctx.g0 + t_on * ctx.step])
            off = np.array([ctx.g0 + t_off * ctx.step])
            ctx.movement_seen[j] |= int(_seen_bits(*by_pid[pid], on, off, w)[0])


def _seen_bits(s: np.ndarray, emax: np.ndarray, on: np.ndarray, off: np.ndarray, w: int):
    """Bit 1: an interval overlaps ``[on - w, off]``; bit 2: one overlaps ``[on, off + w]``."""
    return _present(s, emax, on - w, off).astype(np.int64) | (
        _present(s, emax, on, off + w).astype(np.int64) << 1
    )


def _movement_seen(
    data: _ParticipantData, g0: int, step: int, on: np.ndarray, off: np.ndarray, p: CrampParams
) -> list[int] | None:
    """Per segment ``[on, off)`` (cells of a grid starting at ``g0``): whether a step or
    active-energy sample lies within ``movement_channel_window_s`` before (bit 1) and after
    (bit 2) it; the other movement metrics are added afterwards for segments not at 3."""
    if p.movement_channel_window_s <= 0:
        return None
    w = p.movement_channel_window_s * _US
    on_us = np.asarray(g0 + on * step, dtype=np.int64)
    off_us = np.asarray(g0 + off * step, dtype=np.int64)
    bits = _seen_bits(data.steps.s, data.steps.emax, on_us, off_us, w) | _seen_bits(
        data.act.s, data.act.emax, on_us, off_us, w
    )
    return bits.tolist()
