"""The cramp detector's per-night reference path: the specification its chunked pass meets.

Detection and :func:`detectors.cramps.compute_night_features` run on the vectorised pass
(:func:`detectors.cramp_segments._prepare_nights`: many nights laid end to end, every step
cut at the night boundaries). These functions compute the same for **one night alone**, in
the plainest form (one scipy / numpy call per step), and the tests hold the chunked pass to
them value for value (``test_cramps_equivalence.py``, ``test_cramps_frozen.py``). They moved
here from ``detectors/`` (issue 10, item 6) once ``compute_night_features`` ran on the chunked
pass: nothing in the product calls them.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import ndimage, signal

from detectors.actigraphy import keep_finest_resolution
from detectors.cramp_grid import (
    _MIN_US,
    _US,
    _amount_per_cell,
    _coverage_s,
    _medfilt_runs,
    _medfilt_samples,
    _median,
    _minute_median,
    _robust_spread,
    _runs,
)
from detectors.cramp_output import NIGHT_FEATURES_SCHEMA, _night_frame
from detectors.cramp_prep import _fine_hr, _ParticipantData
from detectors.cramp_segments import _movement_seen, _Night, _surge_threshold
from detectors.cramps import CrampParams
from detectors.frames import SAMPLES_SCHEMA, SLEEP_SEGMENTS_SCHEMA, prepare
from detectors.schema import SLEEP_PERIOD_SCHEMA


def night_grid(ps: int, pe: int, p: CrampParams) -> tuple[int, int, int]:
    """(g0, step, n): the night's 1-min grid over the period with 30 min of margin."""
    step = p.grid_s * _US
    pad = 30 * _MIN_US
    g0 = (ps // step) * step - pad
    g1 = -(-pe // step) * step + pad
    return g0, step, int((g1 - g0) // step)


@dataclass
class NightPre:
    """The parts of a night's grids that can be computed for all nights of a participant at
    once: stage coverage (s per cell), Step A minute HR and the fine HR grid."""

    asleep_cov: np.ndarray
    awake_cov: np.ndarray
    staged: bool
    hr_raw: np.ndarray  # minute medians after the sample medfilt (NaN: no sample)
    src: np.ndarray  # index of the minute whose sample fills each cell, -1 if none
    hr_s: np.ndarray  # forward-filled, medfilt(3) per finite stretch
    spacing_s: float  # median spacing of the window's HR samples (NaN: <= 10 samples)
    hr_fine: np.ndarray | None  # fine grid HR, only for nights that take the fine path


def night_pre(data: _ParticipantData, ps: int, pe: int, p: CrampParams) -> NightPre:
    """:class:`NightPre` of one night on its own (the reference for
    :func:`detectors.cramp_prep._chunk_pre`)."""
    g0, step, n = night_grid(ps, pe, p)
    edges = g0 + step * np.arange(n + 1, dtype=np.int64)
    i0, i1 = np.searchsorted(data.staged_t, [ps, pe])
    j0, j1 = np.searchsorted(data.hr_t, [g0, g0 + n * step])
    hr_raw = _minute_median(data.hr_t[j0:j1], data.hr_v[j0:j1], g0, step, n)
    hr_raw = _medfilt_samples(
        hr_raw, p.hr_medfilt_samples, p.hr_sample_medfilt_max_gap_s // p.grid_s
    )
    has_raw = np.isfinite(hr_raw)
    last = np.maximum.accumulate(np.where(has_raw, np.arange(n), -1))
    ok = (last >= 0) & (np.arange(n) - last <= p.hr_ffill_max_s // p.grid_s)
    src = np.where(ok, last, -1)
    hr_ff = np.where(ok, hr_raw[np.maximum(last, 0)], np.nan)
    hr_s = _medfilt_runs(hr_ff, p.hr_medfilt_samples)
    hr_t_win = data.hr_t[j0:j1]
    spacing = _median(np.diff(hr_t_win)) / _US if hr_t_win.size > 10 else math.nan
    hr_fine = None
    if math.isfinite(spacing) and spacing <= p.hr_fine_max_spacing_s:
        per_cell = max(1, p.grid_s // p.hr_fine_grid_s)
        hr_fine = _fine_hr(hr_t_win, data.hr_v[j0:j1], g0, n * per_cell, p)
    return NightPre(
        asleep_cov=_coverage_s(data.asleep, edges),
        awake_cov=_coverage_s(data.awake, edges),
        staged=bool(i1 > i0),
        hr_raw=hr_raw,
        src=src,
        hr_s=hr_s,
        spacing_s=spacing,
        hr_fine=hr_fine,
    )


def abrupt_sustained(x: np.ndarray, base: np.ndarray, thr: float, p: CrampParams) -> np.ndarray:
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


def prepare_night(
    data: _ParticipantData, ps: int, pe: int, p: CrampParams, pre: NightPre | None = None
) -> _Night:
    """Per-night grids and candidate segments of one night alone: the reference that
    :func:`detectors.cramp_segments._prepare_chunk` equals. ``pre``: the night's Step A parts
    if already computed (else :func:`night_pre`)."""
    g0, step, n = night_grid(ps, pe, p)
    g1 = g0 + n * step
    edges = g0 + step * np.arange(n + 1, dtype=np.int64)
    cell_start = edges[:-1]
    in_period = (cell_start + step > ps) & (cell_start < pe)
    if pre is None:
        pre = night_pre(data, ps, pe, p)

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
            starts = abrupt_sustained(hr_fine, np.full(hr_fine.size, med), thr, p)
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


def night_features(
    samples: pl.DataFrame,
    sleep_segments: pl.DataFrame,
    sleep_periods: pl.DataFrame,
    params: CrampParams,
) -> pl.DataFrame:
    """:func:`detectors.cramps.compute_night_features` as it was computed before it ran on
    the chunked pass: each night alone through :func:`prepare_night` (and the sample frame
    read as it was then: every value, not only finite ones)."""
    smp = prepare(samples, "samples", SAMPLES_SCHEMA)
    seg = prepare(sleep_segments, "sleep_segments", SLEEP_SEGMENTS_SCHEMA)
    per = prepare(
        sleep_periods,
        "sleep_periods",
        {k: SLEEP_PERIOD_SCHEMA[k] for k in ("participant_id", "night_of", "start_utc", "end_utc")},
    )
    if per.height == 0:
        return pl.DataFrame(schema=NIGHT_FEATURES_SCHEMA)
    smp = keep_finest_resolution(
        smp.filter(pl.col("metric").is_in(["heart_rate_bpm", "steps", "active_energy_kcal"]))
    ).select(
        "participant_id",
        "metric",
        s=pl.col("start_utc").dt.epoch("us"),
        e=pl.col("end_utc").dt.epoch("us"),
        v=pl.col("value"),
        src=(
            pl.col("source").cast(pl.String).fill_null("")
            if "source" in smp.columns
            else pl.lit("")
        ),
    )
    seg = seg.select(
        "participant_id",
        "stage",
        s=pl.col("start_utc").dt.epoch("us"),
        e=pl.col("end_utc").dt.epoch("us"),
    ).filter(pl.col("e") > pl.col("s"))
    smp_by = {k[0]: v for k, v in smp.partition_by("participant_id", as_dict=True).items()}
    seg_by = {k[0]: v for k, v in seg.partition_by("participant_id", as_dict=True).items()}
    parts = []
    for (pid,), nights in (
        per.sort("participant_id", "start_utc")
        .partition_by("participant_id", as_dict=True, maintain_order=True)
        .items()
    ):
        data = _ParticipantData.build(smp_by.get(pid), seg_by.get(pid))
        for night, ps, pe in zip(
            nights["night_of"].to_list(),
            nights["start_utc"].dt.epoch("us").to_list(),
            nights["end_utc"].dt.epoch("us").to_list(),
            strict=True,
        ):
            c = prepare_night(data, int(ps), int(pe), params)
            parts.append(_night_frame(pid, night, c, data, params))
    if not parts:
        return pl.DataFrame(schema=NIGHT_FEATURES_SCHEMA)
    return pl.concat(parts).cast(NIGHT_FEATURES_SCHEMA).sort("participant_id", "minute_utc")  # type: ignore[arg-type]
