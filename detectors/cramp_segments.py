"""Candidate segments of the cramp detector (Step B), per night or for many nights at once.

Candidate minutes (recorded awake stage, or minutes not covered by ``asleep`` in old-style
nights; activity z >= 3; any steps; seconds exports: an abrupt sustained HR rise, brief 7.2),
closed over gaps <= 2 min and cut into 1-30 min segments; with them the per-night arrays the
features read (:class:`_Night`) and whether the movement channel exists around each segment.
:func:`_prepare_chunk` is the vectorised pass that detection and
:func:`detectors.cramps.compute_night_features` run (:func:`_prepare_nights`); its
specification, one night alone, is ``prepare_night`` in ``tests/detectors/cramp_reference.py``,
equal value for value.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from scipy import signal

from detectors.actigraphy import keep_finest_resolution
from detectors.cramp_grid import (
    _US,
    _amount_per_cell_split,
    _close_gaps,
    _runs_split,
    _seg_medians,
    _seg_robust_spread,
)
from detectors.cramp_prep import (
    _OTHER_MOVEMENT_METRICS,
    _PRE_NIGHTS,
    _chunk_pre,
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
    base_ok: np.ndarray | None = None  # asleep_open with finite HR (the baseline's minutes)
    hr_peak: np.ndarray | None = None  # HR, -inf where missing or sampled in a walking minute
    last_moving: np.ndarray | None = None  # last cell <= i with steps or act z >= min (-1)
    next_step: np.ndarray | None = None  # first cell >= i with steps (n: none)
    hr_measured: np.ndarray | None = None  # raw HR where sampled, NaN elsewhere
    bout_on_list: list[int] | None = None  # bout_on as a list
    bout_len_list: list[int] | None = None  # bout_len_s as a list
    cum_short: list[int] | None = None  # short bouts among the first j (j = 0..len)
    peak_list: list[int] | None = None  # peak_idx as a list


def _surge_threshold(b_hr: float, s_hr: float, p: CrampParams) -> float:
    """Smallest rise that counts as a surge: 10 bpm or 10 % (whichever is smaller, brief 7.2
    says "or"), and never below 3 robust SDs of the night's asleep HR."""
    return max(min(p.hr_rise_min_bpm, p.hr_rise_min_frac * b_hr), p.hr_rise_min_spread * s_hr)


def _abrupt_sustained_cat(
    x: np.ndarray,
    f_first: np.ndarray,
    f_n: np.ndarray,
    base: np.ndarray,
    thr: np.ndarray,
    p: CrampParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Fine cells where HR has risen by >= ``thr`` within the last 30 s and then stays
    >= ``base + thr`` for >= 60 s (brief 7.2), on concatenated fine nights (night ``j`` at
    ``f_first[j]``, ``f_n[j]`` cells, its own ``base`` and ``thr``; the one-night reference
    is ``abrupt_sustained`` in ``tests/detectors/cramp_reference.py``). Returns (night, cell within the night)
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


def _prepare_chunk(
    data: _ParticipantData, ps: np.ndarray, pe: np.ndarray, p: CrampParams
) -> list[_Night]:
    """Per-night grids and candidate segments of several nights of a participant in one
    vectorised pass: the values of ``prepare_night`` (``tests/detectors/cramp_reference.py``)
    for each night alone (every step along the grid is cut at the night boundaries, medians
    and spreads are per night, float sums keep the per-night order)."""
    c = _chunk_pre(data, ps, pe, p)
    m, n, first, noc, total, step = c.m, c.n, c.first, c.night_of_cell, c.total, c.step
    in_period = (c.cell_start + step > ps[noc]) & (c.cell_start < pe[noc])
    half = p.stage_min_cover_s
    wake = in_period & np.where(c.staged[noc], c.awake_cov >= half, c.asleep_cov < half)
    asleep = in_period & (c.asleep_cov >= half) & ~wake
    hr_s = c.hr_s

    # steps and activity: each night's _amount_per_cell (its float sums depend on the
    # night's window), all nights in one pass
    steps, has_steps = _amount_per_cell_split(data.steps, c.g0, n, step)
    act, has_act = _amount_per_cell_split(data.act, c.g0, n, step)
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


def _prepare_nights(
    data: _ParticipantData, ps: np.ndarray, pe: np.ndarray, p: CrampParams
) -> list[_Night]:
    """:func:`_prepare_chunk` over all of a participant's nights, :data:`_PRE_NIGHTS` at a
    time (whole-year grids would leave the CPU caches: slower). Detection and
    :func:`detectors.cramps.compute_night_features` both run on it."""
    return [
        night
        for k in range(0, ps.size, _PRE_NIGHTS)
        for night in _prepare_chunk(data, ps[k : k + _PRE_NIGHTS], pe[k : k + _PRE_NIGHTS], p)
    ]


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
    # two filters (the second on the few metric rows only), then per participant a numpy
    # sort by start: the overlap test reads the sorted starts and the running max of the
    # ends up to a start, which do not depend on the order of equal starts
    other = keep_finest_resolution(
        samples.filter(pl.col("metric").is_in(_OTHER_MOVEMENT_METRICS)).filter(
            pl.col("participant_id").is_in(pids)
        )
    ).select(
        "participant_id",
        s=pl.col("start_utc").dt.epoch("us"),
        e=pl.col("end_utc").dt.epoch("us"),
    )
    if other.height == 0:
        return
    by_pid = {}
    for (pid,), g in other.partition_by("participant_id", as_dict=True).items():
        s_us = g["s"].to_numpy().astype(np.int64)
        order = np.argsort(s_us, kind="stable")
        s_us = s_us[order]
        e_us = np.maximum(g["e"].to_numpy().astype(np.int64)[order], s_us)
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
