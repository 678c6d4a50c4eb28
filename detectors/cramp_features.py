"""Features of a candidate segment (Step C), the evidence the scorers read.

Per night, the arrays every segment reads are computed once (:func:`_scoring_arrays`); per
segment, :func:`_segment_features` gives the baseline at onset and the HR rise, its
sustained part and abruptness, movement (steps, walking, activity), the order of events
(:func:`_order_of_events`: HR while still lying vs after getting up), restlessness and
PLM-like periodicity, and the watch-off, movement-only-HR and following-walk measures the
confounder rules use. Sources and grades: :class:`detectors.cramps.CrampParams`.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from detectors.cramp_grid import _median, _runs
from detectors.cramp_segments import _Night, _surge_threshold

if TYPE_CHECKING:
    from detectors.cramps import CrampParams


def _scoring_arrays(c: _Night, p: CrampParams) -> None:
    """The per-night arrays :func:`_segment_features` reads, computed once per night (the
    values are those the per-segment slices gave: fine HR with walking minutes and the
    recovery after them removed, and its rise over the preceding 30 s, whose window only
    looks back, so a night-wide pass equals a pass over each segment's slice). Every
    elementwise mask a segment needs is computed night-wide here (the segment reads its
    slice); the last movement minute up to ``i`` and the first step minute from ``i`` on are
    running max / min of the indices, so a segment reads one cell instead of searching its
    slice; bout starts, their short-bout counts and the peak positions are Python lists, so
    a segment's range of them is found by bisection (``bisect_left`` = ``np.searchsorted``,
    side left)."""
    c.asleep_open = c.asleep & ~c.closed
    cells_in = c.in_period.nonzero()[0]
    c.period_start = int(cells_in[0])
    c.period_end = int(cells_in[-1]) + 1
    idx = np.arange(c.n)
    last_raw = np.maximum.accumulate(np.where(c.has_raw, idx, -1))
    c.prev_raw = np.concatenate([[-1], last_raw[:-1]])
    c.raw_run_start = np.maximum.accumulate(np.where(c.has_raw, -1, idx)) + 1

    def cum(x: np.ndarray) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(x)])

    c.cum_hr_gap = cum(~np.isfinite(c.hr_s))
    c.cum_raw = cum(c.has_raw)
    c.cum_in_period = cum(c.in_period)
    c.cum_raw_mask = cum(c.raw_mask)
    c.base_ok = c.asleep_open & np.isfinite(c.hr_s)
    # HR sampled during a walking minute dropped (-inf: not measured, for a first-max argmax)
    walk_sourced = (c.src >= 0) & c.walking_cell[np.maximum(c.src, 0)]
    hr_peak = np.where(walk_sourced, np.nan, c.hr_s)
    c.hr_peak = np.where(np.isfinite(hr_peak), hr_peak, -np.inf)
    moving = (c.steps > 0) | (c.act_z >= p.act_z_min)
    c.last_moving = np.maximum.accumulate(np.where(moving, idx, -1))
    c.next_step = np.minimum.accumulate(np.where(c.steps > 0, idx, c.n)[::-1])[::-1]
    c.hr_measured = np.where(c.has_raw, c.hr_raw, np.nan)
    c.bout_on_list = c.bout_on.tolist()
    c.bout_len_list = c.bout_len_s.tolist()
    c.cum_short = cum(c.bout_len_s <= p.plm_short_bout_max_s).tolist()
    c.peak_list = c.peak_idx.tolist()
    if c.fine and c.hr_fine is not None:
        k = c.fine_per_cell
        rec = max(0, p.walk_hr_recovery_s // p.grid_s)
        walk_ext = c.walking_cell.copy()
        for r in range(1, rec + 1):
            walk_ext[r:] |= c.walking_cell[:-r]
        xx = c.hr_fine.copy()
        xx[np.repeat(walk_ext, k)[: xx.size]] = np.nan
        kk = max(1, p.hr_abrupt_window_s // p.hr_fine_grid_s)
        filled = np.where(np.isfinite(xx), xx, np.inf)
        pm = ndimage.minimum_filter1d(filled, size=kk, origin=(kk - 1) // 2)
        pm = np.concatenate([np.full(1, np.inf), pm[:-1]])
        with np.errstate(invalid="ignore"):
            c.rise_30s = np.where(np.isfinite(xx) & np.isfinite(pm), xx - pm, -np.inf)
        c.hr_fine_still = xx


def _order_of_events(
    c: _Night,
    t_on: int,
    t_off: int,
    w1: int,
    first_step: int,
    b_hr: float,
    s_hr: float,
    p: CrampParams,
) -> dict[str, float]:
    """Heart rate while still lying vs after getting up (issue 10, brief 6.3 / 5.2).

    * ``rise_lying_bpm``: the highest HR *measured* (raw samples; seconds HR: the fine grid)
      from ``hr_onset_search_before_s`` before the segment up to the first minute with steps
      (getting up; movement in bed does not count), minus the baseline ``b_hr``. A cramp's pain surge starts
      while lying ([lavigne2001] HR rises with nociceptive stimuli in sleep); an orthostatic
      rise (about 10-20 bpm in the first minute of standing, brief 6.3) follows getting up.
    * ``rise_moving_bpm``: the same from the first step minute to ``w1``.
    * ``lead_s``: first step minute minus the onset of the HR rise (first measured HR
      at >= b_hr + max(``sustain_delta_bpm``, 2 s_hr), grade D), in seconds: positive when HR
      rose before anyone stood up. A segment without steps gives the lead to its end.
    * ``post_bpm``: median measured HR over the 10 min after the segment minus ``b_hr``
      (brief 6.1: a cramp's elevation is sustained, a PLM's or rollover's lasts ~10 beats,
      [winkelman1999] [chouchou2011]).

    NaN where no HR was measured in the window.
    """
    out = {
        "rise_lying_bpm": math.nan,
        "rise_moving_bpm": math.nan,
        "lead_s": math.nan,
        "post_bpm": math.nan,
    }
    if not math.isfinite(b_hr):
        return out
    lo = max(0, t_on - int(p.hr_onset_search_before_s // p.grid_s))
    if c.fine and c.hr_fine is not None:
        k = c.fine_per_cell
        x, scale, step_s = c.hr_fine, k, p.hr_fine_grid_s
    else:
        x, scale, step_s = c.hr_measured, 1, p.grid_s
    a, m, b = lo * scale, min(first_step, w1) * scale, w1 * scale
    xab = x[a:b]
    fin = np.isfinite(xab)
    if fin[: m - a].any():  # np.nanmax is np.fmax.reduce (NaN ignored)
        out["rise_lying_bpm"] = float(np.fmax.reduce(x[a:m]) - b_hr)
    if fin[m - a :].any():
        out["rise_moving_bpm"] = float(np.fmax.reduce(x[m:b]) - b_hr)
    thr = max(p.sustain_delta_bpm, 2.0 * s_hr)
    over = (fin & (xab >= b_hr + thr)).nonzero()[0]  # = np.flatnonzero (1-d)
    if over.size:
        out["lead_s"] = float((m - (a + int(over[0]))) * step_s)
    post = x[t_off * scale : min(x.size, (t_off + int(p.sustain_window_s // p.grid_s)) * scale)]
    post = post[np.isfinite(post)]
    if post.size:
        out["post_bpm"] = _median(post) - b_hr  # _median: = float(np.median(post))
    return out


@dataclass(slots=True)
class _SegmentFeatures:
    """What :func:`_segment_features` measured for one segment (NaN: not measurable)."""

    dur_min: float
    b_hr: float
    hr_missing_frac: float
    raw_in_segment: bool
    dhr: float
    hr_usable: bool
    hr_sustain_min: float
    slope: float
    prominence: float
    steps_tot: float
    walk: bool
    act_peak: float
    wake_after_min: float
    lying: dict[str, float]
    stepped: bool
    steps_before_peak: float
    since_onset_min: float
    restless_frac: float
    n_short: int
    seg_longest_s: int
    hr_sustained_s: float
    hr_rise_30s: float
    gap_before_s: float
    hr_after_move: float
    steps_following: float


def _segment_features(
    c: _Night, t_on: int, t_off: int, s_hr: float, p: CrampParams
) -> _SegmentFeatures:
    """Step C features of the segment ``[t_on, t_off)`` (grid cells of night ``c``)."""
    if c.asleep_open is None:
        _scoring_arrays(c, p)

    def cells(sec: float) -> int:
        return int(sec // p.grid_s)

    n = c.n
    dur_min = (t_off - t_on) * p.grid_s / 60.0

    # --- Step A baseline at onset: preceding 30 min of asleep, non-candidate minutes
    b0 = max(0, t_on - cells(p.baseline_window_s))
    pre = c.hr_s[b0:t_on][c.base_ok[b0:t_on]]
    b_hr = _median(pre) if pre.size >= cells(p.baseline_min_s) else c.night_med

    # --- HR coverage
    m0, m1 = (
        max(0, t_on - cells(p.hr_missing_before_s)),
        min(n, t_off + cells(p.hr_missing_after_s)),
    )
    hr_missing_frac = int(c.cum_hr_gap[m1] - c.cum_hr_gap[m0]) / (m1 - m0)  # = np.mean
    raw_in_segment = bool(c.cum_raw[t_off] > c.cum_raw[t_on])

    # --- dHR over [t_on, t_off + 3 min], ignoring HR sampled during walking minutes
    w1 = min(n, t_off + cells(p.hr_peak_after_s))
    dhr, peak = math.nan, None
    if math.isfinite(b_hr) and w1 > t_on:
        win = c.hr_peak[t_on:w1]  # -inf where not measured or walk-sourced
        rel = int(win.argmax())  # = np.nanargmax (first max)
        if win[rel] > -math.inf:  # some HR in the window
            peak = t_on + rel
            dhr = float(win[rel] - b_hr)
    hr_usable = hr_missing_frac <= p.hr_missing_max_frac and math.isfinite(dhr)

    # --- sustained elevation after the segment
    post = c.hr_s[t_off : min(n, t_off + cells(p.sustain_window_s))]
    hr_sustain_min = (
        float(np.count_nonzero(np.isfinite(post) & (post - b_hr >= p.sustain_delta_bpm)))
        * p.grid_s
        / 60.0
        if math.isfinite(b_hr)
        else math.nan
    )

    # --- abruptness (evidence): slope into the peak sample, prominence of peaks in the window
    slope = prominence = math.nan
    if peak is not None:
        peak_src = int(c.src[peak])
        prev = int(c.prev_raw[peak_src])  # last raw sample in the hour before the peak's
        if prev >= max(0, peak_src - 60):
            slope = float(
                (c.hr_raw[peak_src] - c.hr_raw[prev]) / ((peak_src - prev) * p.grid_s / 60.0)
            )
        i0 = bisect_left(c.peak_list, t_on)  # peaks in [t_on, w1), sorted
        i1 = bisect_left(c.peak_list, w1)
        if i1 > i0:
            prominence = float(np.maximum.reduce(c.peak_prom[i0:i1]))  # = .max()

    # --- movement: steps, walking (>= 2 consecutive minutes at >= 40/min, or >= 60 steps)
    seg_steps = c.steps[t_on:t_off]
    steps_tot = float(np.add.reduce(seg_steps)) if c.has_steps else math.nan  # = .sum()
    overlap = np.minimum(c.walk_off, t_off) - np.maximum(c.walk_on, t_on)
    walk_run = int(np.maximum.reduce(overlap)) if overlap.size else 0  # = .max()
    walk = bool(
        c.has_steps and (walk_run * p.grid_s >= p.walk_min_s or steps_tot >= p.walk_total_steps)
    )
    act_peak = float(np.maximum.reduce(c.act_z[t_on:t_off])) if c.has_act else math.nan
    # last minute of the segment with steps or activity z >= act_z_min (< t_on: none)
    last_move = int(c.last_moving[t_off - 1])
    moved = last_move >= t_on
    arousal_end = last_move if moved else t_on
    if peak is not None and hr_usable:
        arousal_end = max(arousal_end, min(peak, t_off - 1))
    wake_after_min = max(0.0, (t_off - arousal_end - 1) * p.grid_s / 60.0)

    # --- order of events (issue 10; brief 6.3 "a pain surge that starts while still lying,
    # before any movement, vs a heart-rate rise that follows getting up"): HR read only
    # before the first movement minute of the segment, the onset of the HR rise against the
    # first movement, and HR after the movement ends
    first_step = min(int(c.next_step[t_on]), t_off)  # first minute with steps, t_off: none
    lying = _order_of_events(c, t_on, t_off, w1, first_step, b_hr, s_hr, p)
    steps_before_peak = (
        float(np.add.reduce(c.steps[t_on : max(t_on, peak)]))
        if c.has_steps and peak is not None
        else math.nan
    )
    since_onset_min = float((t_on - c.period_start) * p.grid_s / 60.0)

    # --- background restlessness and PLM-like periodicity
    r0 = max(0, t_on - cells(p.restless_window_s))
    r1 = min(n, t_off + cells(p.restless_window_s))
    # fraction of the period's minutes around (not in) the segment that are candidates
    n_around = int(
        c.cum_in_period[r1] - c.cum_in_period[r0] - (c.cum_in_period[t_off] - c.cum_in_period[t_on])
    )
    n_restless = int(
        c.cum_raw_mask[r1] - c.cum_raw_mask[r0] - (c.cum_raw_mask[t_off] - c.cum_raw_mask[t_on])
    )
    restless_frac = n_restless / n_around if n_around else 0.0
    # bouts starting in [r0, r1) that are short, and the longest starting in the segment
    # (bouts sorted by start: index ranges by bisection, counts by a cumulative sum)
    bouts = c.bout_on_list
    n_short = c.cum_short[bisect_left(bouts, r1)] - c.cum_short[bisect_left(bouts, r0)]
    j0, j1 = bisect_left(bouts, t_on), bisect_left(bouts, t_off)
    seg_longest_s = int(max(c.bout_len_list[j0:j1])) if j1 > j0 else 0

    # --- fine HR (seconds exports): abrupt (<= 30 s) rise sustained >= 60 s, brief 7.2
    hr_sustained_s = hr_rise_30s = math.nan
    if c.fine and c.hr_fine is not None and math.isfinite(b_hr):
        k = c.fine_per_cell
        f0 = max(0, (t_on * k) - p.hr_onset_search_before_s // p.hr_fine_grid_s)
        f1 = min(c.hr_fine.size, w1 * k)
        # walking and the recovery after it explain HR (fine cells of those minutes dropped)
        xf = c.hr_fine_still[f0:f1]
        fin = np.isfinite(xf)
        if fin.any():
            thr = _surge_threshold(b_hr, s_hr, p)
            above = fin & (xf >= b_hr + thr)
            hr_sustained_s = 0.0
            if above.any():
                on, off = _runs(above)
                hr_sustained_s = float(np.maximum.reduce(off - on) * p.hr_fine_grid_s)
            d = c.rise_30s[f0:f1]
            d_max = float(np.maximum.reduce(d)) if d.size else -math.inf
            hr_rise_30s = d_max if math.isfinite(d_max) else math.nan

    # --- watch-off edge: HR gap longer than the forward fill just before the peak
    gap_before_s = math.nan
    if peak is not None and p.hr_gap_edge_s > 0:
        peak_src = int(c.src[peak])
        if peak_src >= 0:
            first = int(c.raw_run_start[peak_src])  # first raw sample of the peak's stretch
            prev = int(c.prev_raw[first])
            gap_cells = first - (prev + 1) if prev >= 0 else first
            gap_before_s = float(gap_cells * p.grid_s)
            if (peak_src - first) * p.grid_s > p.hr_gap_edge_s:
                gap_before_s = 0.0  # the peak is not at the edge of that gap

    # --- movement-only HR: seconds HR in the minute after the last movement minute
    hr_after_move = math.nan
    if c.fine and c.hr_fine is not None and moved and math.isfinite(b_hr):
        after = last_move + 1
        if after < n:
            k = c.fine_per_cell
            cell_hr = c.hr_fine[after * k : (after + 1) * k]
            cell_hr = cell_hr[np.isfinite(cell_hr)]
            if cell_hr.size:
                hr_after_move = _median(cell_hr)

    # --- steps of a walk following the segment (bathroom trip split off by a gap)
    steps_following = math.nan
    if c.has_steps and p.bathroom_follow_s > 0:
        f1 = min(n, t_off + cells(p.bathroom_follow_s))
        steps_following = float(np.add.reduce(c.steps[t_off:f1]))

    return _SegmentFeatures(
        dur_min=dur_min,
        b_hr=b_hr,
        hr_missing_frac=hr_missing_frac,
        raw_in_segment=raw_in_segment,
        dhr=dhr,
        hr_usable=hr_usable,
        hr_sustain_min=hr_sustain_min,
        slope=slope,
        prominence=prominence,
        steps_tot=steps_tot,
        walk=walk,
        act_peak=act_peak,
        wake_after_min=wake_after_min,
        lying=lying,
        stepped=first_step < t_off,
        steps_before_peak=steps_before_peak,
        since_onset_min=since_onset_min,
        restless_frac=restless_frac,
        n_short=n_short,
        seg_longest_s=seg_longest_s,
        hr_sustained_s=hr_sustained_s,
        hr_rise_30s=hr_rise_30s,
        gap_before_s=gap_before_s,
        hr_after_move=hr_after_move,
        steps_following=steps_following,
    )
