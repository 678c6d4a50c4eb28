"""Per-participant and per-night preparation of the cramp detector (Step A).

The input frames become numpy arrays per participant (:class:`_ParticipantData`: HR samples,
steps and active energy as intervals, asleep / awake stages); each night gets its 1-min grid
over the sleep period with 30 min of margin, stage coverage per cell, the Step A minute HR
(sample medfilt, forward fill <= 5 min, medfilt per finite stretch) and, for seconds
exports, the fine HR grid. :func:`_chunk_pre` computes this for many nights in one pass (the
path of detection and of :func:`detectors.cramps.compute_night_features`); its specification,
the same for one night alone, is ``night_pre`` in ``tests/detectors/cramp_reference.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from detectors.actigraphy import keep_finest_resolution
from detectors.cramp_grid import (
    _MIN_US,
    _US,
    _cum_coverage,
    _ffill_split,
    _medfilt_runs,
    _medfilt_runs_split,
    _medfilt_samples,
    _merge,
    _minute_median,
    _ragged,
    _seg_medians,
)
from detectors.sleep import ASLEEP_STAGES, STAGED_STAGES

if TYPE_CHECKING:
    from detectors.cramps import CrampParams

# ----------------------------------------------------------------------------------------
# per-participant arrays


@dataclass
class _Intervals:
    s: np.ndarray  # int64 us, sorted
    e: np.ndarray
    v: np.ndarray
    src: np.ndarray  # int codes
    emax: np.ndarray  # running max of e (for window look-ups)

    @classmethod
    def from_frame(cls, df: pl.DataFrame | None) -> _Intervals:
        if df is None or df.height == 0:
            z = np.zeros(0, dtype=np.int64)
            return cls(z, z, np.zeros(0), z, z)
        df = df.sort("s", "e")
        s = df["s"].to_numpy().astype(np.int64)
        e = np.maximum(df["e"].to_numpy().astype(np.int64), s)
        src = df["src"].rank("dense").fill_null(0).to_numpy().astype(np.int64)
        return cls(s, e, df["v"].to_numpy().astype(float), src, np.maximum.accumulate(e))

    def window(self, lo: int, hi: int) -> np.ndarray:
        """Indices of intervals overlapping [lo, hi) (point samples at lo..hi included)."""
        if self.s.size == 0:
            return np.zeros(0, dtype=np.int64)
        i0 = int(np.searchsorted(self.emax, lo, side="left"))
        i1 = int(np.searchsorted(self.s, hi, side="left"))
        idx = np.arange(i0, max(i0, i1))
        keep = (self.e[idx] > lo) | ((self.e[idx] == self.s[idx]) & (self.s[idx] >= lo))
        return idx[keep]


@dataclass
class _SampleArrays:
    """One participant's samples as numpy columns (metric and source as integer codes)."""

    metric: np.ndarray
    s: np.ndarray
    e: np.ndarray
    v: np.ndarray
    src: np.ndarray
    metric_codes: dict[str, int]


#: the sample metrics the detector reads, in the order of their integer codes
_USED_METRICS: tuple[str, ...] = ("heart_rate_bpm", "steps", "active_energy_kcal")
#: movement-channel metrics read only for their existence (cramp-0.3 rule), and only for
#: segments with no steps or active energy within the window (few: one extra filter then)
_OTHER_MOVEMENT_METRICS: tuple[str, ...] = (
    "intensity_level",  # Fitbit activity level (minute rows; 0 = sedentary is still present)
    "met",
    "activity_intensity",  # Garmin monitoring intensity
)


def _metric_code() -> pl.Expr:
    """Code of ``metric`` in :data:`_USED_METRICS` (``len(_USED_METRICS)`` for any other)."""
    expr = pl.lit(len(_USED_METRICS), dtype=pl.Int64)
    for code in range(len(_USED_METRICS) - 1, -1, -1):
        expr = (
            pl.when(pl.col("metric") == _USED_METRICS[code])
            .then(pl.lit(code, dtype=pl.Int64))
            .otherwise(expr)
        )
    return expr


def _split_by_participant(smp: pl.DataFrame) -> dict[str, _SampleArrays]:
    """Samples per participant as numpy arrays: one pass instead of a partition and a
    filter + sort per metric (the polars copies of the string columns dominated).

    Rows of one participant usually come together (exports, the pipeline's queries): then
    the participants are the runs of equal ids (``rle_id``, one comparison per row) and no
    sort is needed; metric codes come from comparisons with the three metrics used, and a
    single ``src`` everywhere gets one code. Otherwise the columns are categorical-coded and
    the rows stably sorted by participant (same arrays in the same order)."""
    if smp.height == 0:
        return {}
    used = _USED_METRICS
    one_src = smp["src"].null_count() == 0 and bool((smp["src"] == smp["src"][0]).all())
    runs = smp["participant_id"].rle().struct.unnest()  # (len, value) per run
    run_len = runs["len"].to_numpy().astype(np.int64)
    run_pids = runs["value"].to_list()
    bounds = np.cumsum(run_len)[:-1]
    lo = np.concatenate([[0], bounds])
    metric = smp["_metric"] if "_metric" in smp.columns else smp.select(_metric_code()).to_series()
    metric = metric.to_numpy().astype(np.int64, copy=False)
    if one_src:
        src = np.zeros(smp.height, dtype=np.int64)
    else:
        src = smp.select(pl.col("src").cast(pl.Categorical).to_physical()).to_series()
        src = src.to_numpy().astype(np.int64)
    s = smp["s"].to_numpy().astype(np.int64, copy=False)
    e = smp["e"].to_numpy().astype(np.int64, copy=False)
    v = smp["v"].to_numpy().astype(float, copy=False)
    if len(set(run_pids)) != len(run_pids) or None in run_pids:
        # interleaved participants: group by a code per participant, stable within each
        pid = (
            smp.select(pl.col("participant_id").cast(pl.Categorical).to_physical())
            .to_series()
            .to_numpy()
            .astype(np.int64)
        )
        order = np.argsort(pid, kind="stable")
        pid = pid[order]
        metric, src, s, e, v = metric[order], src[order], s[order], e[order], v[order]
        bounds = np.flatnonzero(np.diff(pid)) + 1
        lo = np.concatenate([[0], bounds])
        run_pids = smp["participant_id"].gather(order[lo]).to_list()
    hi = np.concatenate([bounds, [smp.height]])
    mc = {name: code for code, name in enumerate(used)}
    return {
        str(pid): _SampleArrays(metric[a:b], s[a:b], e[a:b], v[a:b], src[a:b], mc)
        for pid, a, b in zip(run_pids, lo.tolist(), hi.tolist(), strict=True)
    }


def _arrays_by_participant(
    smp: pl.DataFrame, seg: pl.DataFrame
) -> tuple[dict[str, _SampleArrays], dict[str, pl.DataFrame]]:
    """Prepared ``samples`` and ``sleep_segments`` frames as the detector reads them, per
    participant: the three metrics it uses at their finest resolution, finite values only,
    instants in epoch microseconds; segments with a positive duration. Detection and
    :func:`detectors.cramps.compute_night_features` both start here."""
    smp = keep_finest_resolution(  # (the metric filter first: the codes of fewer rows)
        smp.filter(pl.col("metric").is_in(_USED_METRICS)).with_columns(_metric=_metric_code())
    )
    has_source = "source" in smp.columns
    smp = smp.select(
        "participant_id",
        "metric",
        "_metric",
        s=pl.col("start_utc").dt.epoch("us"),
        e=pl.col("end_utc").dt.epoch("us"),
        v=pl.col("value"),
        src=(pl.col("source").cast(pl.String).fill_null("") if has_source else pl.lit("")),
    ).filter(pl.col("v").is_not_null() & pl.col("v").is_finite())
    seg = seg.select(
        "participant_id",
        "stage",
        s=pl.col("start_utc").dt.epoch("us"),
        e=pl.col("end_utc").dt.epoch("us"),
    ).filter(pl.col("e") > pl.col("s"))
    seg_by = {k[0]: v for k, v in seg.partition_by("participant_id", as_dict=True).items()}
    return _split_by_participant(smp), seg_by


def _intervals_np(s: np.ndarray, e: np.ndarray, v: np.ndarray, src: np.ndarray) -> _Intervals:
    """:meth:`_Intervals.from_frame` from numpy columns (sorted by start, then end)."""
    if s.size == 0:
        z = np.zeros(0, dtype=np.int64)
        return _Intervals(z, z, np.zeros(0), z, z)
    order = np.lexsort((e, s))
    s, e, v, src = s[order], e[order], v[order], src[order]
    e = np.maximum(e, s)
    return _Intervals(s, e, v, src, np.maximum.accumulate(e))


def _present(s: np.ndarray, emax: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Whether any interval (starts ``s`` sorted, ``emax`` running max of the ends) overlaps
    each ``[lo, hi]``: some start <= hi whose end (or an earlier one's) is >= lo."""
    lo, hi = np.asarray(lo), np.asarray(hi)
    if s.size == 0:
        return np.zeros(lo.shape, dtype=bool)
    i1 = np.searchsorted(s, hi, side="right")
    return (i1 > 0) & (emax[np.maximum(i1 - 1, 0)] >= lo)


@dataclass
class _ParticipantData:
    hr_t: np.ndarray
    hr_v: np.ndarray
    steps: _Intervals
    act: _Intervals
    asleep: _Intervals
    awake: _Intervals
    staged_t: np.ndarray  # starts of stage-only segments (awake/light/deep/rem), sorted

    @classmethod
    def build(
        cls, smp: pl.DataFrame | _SampleArrays | None, seg: pl.DataFrame | None
    ) -> _ParticipantData:
        if isinstance(smp, _SampleArrays):
            a = smp

            def sel(name: str) -> np.ndarray:
                code = a.metric_codes.get(name, -1)
                return np.flatnonzero(a.metric == code)

            h = sel("heart_rate_bpm")
            h = h[a.v[h] > 0]
            h = h[np.argsort(a.s[h], kind="stable")]
            hr_t, hr_v = a.s[h], a.v[h]
            st, ac = sel("steps"), sel("active_energy_kcal")
            steps_iv = _intervals_np(a.s[st], a.e[st], a.v[st], a.src[st])
            act_iv = _intervals_np(a.s[ac], a.e[ac], a.v[ac], a.src[ac])
        else:

            def metric(name: str) -> pl.DataFrame | None:
                return None if smp is None else smp.filter(pl.col("metric") == name)

            hr = metric("heart_rate_bpm")
            if hr is None or hr.height == 0:
                hr_t, hr_v = np.zeros(0, dtype=np.int64), np.zeros(0)
            else:
                hr = hr.filter(pl.col("v") > 0).sort("s")
                hr_t, hr_v = hr["s"].to_numpy().astype(np.int64), hr["v"].to_numpy().astype(float)
            steps_iv = _Intervals.from_frame(metric("steps"))
            act_iv = _Intervals.from_frame(metric("active_energy_kcal"))

        def stages(names: tuple[str, ...]) -> pl.DataFrame | None:
            if seg is None:
                return None
            return seg.filter(pl.col("stage").is_in(names)).with_columns(
                v=pl.lit(1.0), src=pl.lit("")
            )

        staged = None if seg is None else seg.filter(pl.col("stage").is_in(STAGED_STAGES))
        staged_t = (
            np.zeros(0, dtype=np.int64)
            if staged is None or staged.height == 0
            else np.sort(staged["s"].to_numpy().astype(np.int64))
        )
        return cls(
            hr_t=hr_t,
            hr_v=hr_v,
            steps=steps_iv,
            act=act_iv,
            asleep=_Intervals.from_frame(stages(ASLEEP_STAGES)),
            awake=_Intervals.from_frame(stages(("awake",))),
            staged_t=staged_t,
        )


# ----------------------------------------------------------------------------------------
# Step A per night: stage coverage, minute HR, fine HR


def _fine_hr(t: np.ndarray, v: np.ndarray, g0: int, n_fine: int, p: CrampParams) -> np.ndarray:
    """HR on the fine grid: per-cell median, forward fill <= ``hr_fine_ffill_s``, then a
    3-cell median filter on each finite stretch (removes single-cell PPG artefacts)."""
    step = p.hr_fine_grid_s * _US
    x = _minute_median(t, v, g0, step, n_fine)
    ok = np.isfinite(x)
    last = np.maximum.accumulate(np.where(ok, np.arange(n_fine), -1))
    keep = (last >= 0) & (np.arange(n_fine) - last <= p.hr_fine_ffill_s // p.hr_fine_grid_s)
    x = np.where(keep, x[np.maximum(last, 0)], np.nan)
    return _medfilt_runs(x, p.hr_fine_medfilt_cells)


#: nights per :func:`_prepare_chunk` pass (about 60 kB of fine-HR cells per night: 32 nights
#: stay within the CPU caches; benchmarks/detect.py measured 8 -> 32 about 5 % faster)
_PRE_NIGHTS = 32


@dataclass
class _ChunkPre:
    """Step A arrays of several nights (stage coverage in s per cell, minute HR, fine HR;
    per night as ``NightPre`` of ``tests/detectors/cramp_reference.py``), laid end to end
    (night ``i`` holds cells ``first[i] : first[i] + n[i]``)."""

    m: int
    step: int
    g0: np.ndarray
    n: np.ndarray
    first: np.ndarray
    total: int
    night_of_cell: np.ndarray
    cell_start: np.ndarray
    asleep_cov: np.ndarray
    awake_cov: np.ndarray
    staged: np.ndarray
    hr_raw: np.ndarray
    src: np.ndarray  # index within the night
    hr_s: np.ndarray
    spacing: np.ndarray
    fine_idx: np.ndarray  # nights on the fine path
    f_first: np.ndarray  # their offsets in hr_fine_cat
    f_n: np.ndarray
    hr_fine_cat: np.ndarray
    hr_fine: list  # per night: view into hr_fine_cat, or None


def _chunk_pre(data: _ParticipantData, ps: np.ndarray, pe: np.ndarray, p: CrampParams) -> _ChunkPre:
    """Step A for several of a participant's nights in one vectorised pass (the reference:
    ``night_pre`` of ``tests/detectors/cramp_reference.py``, one night alone).

    The nights' grids are laid end to end; every step that runs along the grid (sample
    medfilt, forward fill, medfilt per finite stretch) is cut at the night boundaries, so
    each night gets exactly the values it gets alone. Stage coverage is computed in exact
    integer microseconds (the per-night path's float interpolation is exact there too).
    """
    m = ps.size
    step = p.grid_s * _US
    pad = 30 * _MIN_US
    g0 = (ps // step) * step - pad
    n = ((-(-pe // step) * step + pad) - g0) // step
    first = np.concatenate([[0], np.cumsum(n)[:-1]])
    total = int(n.sum())
    night_of_cell = np.repeat(np.arange(m), n)
    cell_start = g0[night_of_cell] + step * (np.arange(total) - first[night_of_cell])

    def coverage(iv: _Intervals) -> np.ndarray:
        ms, me = _merge(iv.s, iv.e)
        return (_cum_coverage(ms, me, cell_start + step) - _cum_coverage(ms, me, cell_start)) / _US

    asleep_cov, awake_cov = coverage(data.asleep), coverage(data.awake)
    i0 = np.searchsorted(data.staged_t, ps)
    i1 = np.searchsorted(data.staged_t, pe)

    # minute HR: the samples of each night's window, as cells of the concatenated grid
    j0 = np.searchsorted(data.hr_t, g0)
    j1 = np.searchsorted(data.hr_t, g0 + n * step)
    idx, owner = _ragged(j0, j1)
    t, v = data.hr_t[idx], data.hr_v[idx]
    cells = first[owner] + (t - g0[owner]) // step
    hr_raw = _minute_median(cells, v, 0, 1, total)
    hr_raw = _medfilt_samples(
        hr_raw,
        p.hr_medfilt_samples,
        p.hr_sample_medfilt_max_gap_s // p.grid_s,
        night_of_cell=night_of_cell,
    )
    hr_ff, last = _ffill_split(hr_raw, night_of_cell, first, p.hr_ffill_max_s // p.grid_s)
    hr_s = _medfilt_runs_split(hr_ff, first, p.hr_medfilt_samples)
    src = np.where(last >= 0, last - first[night_of_cell], -1)

    # median sample spacing per night (windows of > 10 samples), as _median computes it
    cnt = j1 - j0
    spacing = np.full(m, np.nan)
    if idx.size > 1:
        same = owner[1:] == owner[:-1]
        d = np.diff(t).astype(float)[same]
        d_owner = owner[1:][same]
        nd = np.bincount(d_owner, minlength=m)
        has = (cnt > 10) & (nd > 0)
        spacing = np.where(has, _seg_medians(d, d_owner, m) / _US, np.nan)

    # fine HR grid for the nights that take the fine path
    fine = np.isfinite(spacing) & (spacing <= p.hr_fine_max_spacing_s)
    hr_fine: list[np.ndarray | None] = [None] * m
    fine_idx = np.flatnonzero(fine)
    f_first = f_n = np.zeros(0, dtype=np.int64)
    hr_fine_cat = np.zeros(0)
    if fine.any():
        per_cell = max(1, p.grid_s // p.hr_fine_grid_s)
        fstep = p.hr_fine_grid_s * _US
        fi = np.flatnonzero(fine)
        nf = n[fi] * per_cell
        ffirst = np.concatenate([[0], np.cumsum(nf)[:-1]])
        ftotal = int(nf.sum())
        fpos = np.full(m, -1)
        fpos[fi] = np.arange(fi.size)
        keep = fine[owner]
        fo = fpos[owner[keep]]
        fcells = ffirst[fo] + (t[keep] - g0[fi][fo]) // fstep
        x = _minute_median(fcells, v[keep], 0, 1, ftotal)
        f_night = np.repeat(np.arange(fi.size), nf)
        x, _ = _ffill_split(x, f_night, ffirst, p.hr_fine_ffill_s // p.hr_fine_grid_s)
        x = _medfilt_runs_split(x, ffirst, p.hr_fine_medfilt_cells)
        for k, i in enumerate(fi):
            hr_fine[i] = x[ffirst[k] : ffirst[k] + nf[k]]
        f_first, f_n, hr_fine_cat = ffirst, nf, x

    return _ChunkPre(
        m=m,
        step=step,
        g0=g0,
        n=n,
        first=first,
        total=total,
        night_of_cell=night_of_cell,
        cell_start=cell_start,
        asleep_cov=asleep_cov,
        awake_cov=awake_cov,
        staged=i1 > i0,
        hr_raw=hr_raw,
        src=src,
        hr_s=hr_s,
        spacing=spacing,
        fine_idx=fine_idx,
        f_first=f_first,
        f_n=f_n,
        hr_fine_cat=hr_fine_cat,
        hr_fine=hr_fine,
    )
