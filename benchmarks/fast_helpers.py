"""Benchmark: the detectors' hand-written median / MAD / rolling helpers against the library
calls they replace, on the calls the detectors actually make.

Issue 10 item 6: "Call scipy / polars for medians, MADs and rolling windows rather than hand
copies, unless a benchmark shows the copy is needed." This is that benchmark.

1. **Record.** Builds ``--participants`` seeded participant-years of Fitbit-like minute data
   (``simulators.minute_year.participant_year``, as ``benchmarks/detect.py``), and runs
   :func:`detectors.sleep.detect_sleep` and :func:`detectors.cramps.detect_nocturnal_cramps`
   on them (one batch) with every helper below wrapped in a counting shim (set on the
   detector modules' namespaces in this process only; ``detectors/`` is not edited). Every
   call's arguments are copied: calls per participant-year and the sizes are those of the
   detectors' own run. Calls made from inside another helper (``_seg_mad`` inside
   ``_seg_robust_spread``, ``cell_medians`` inside ``_minute_median``, ...) are recorded too
   and counted apart ("nested"); their time is also inside their caller's.
2. **Replay.** For each helper, all its recorded calls are run again with the fast form and
   with each library form (``numpy.median``, ``scipy.stats.median_abs_deviation``,
   ``scipy.ndimage.median_filter`` / ``scipy.signal.medfilt`` per finite stretch,
   ``scipy.ndimage.median`` by label, a polars ``group_by(...).agg(median)`` or
   ``rolling_median``, ``numpy.nanmedian`` / ``numpy.percentile``), alternating, best of
   ``--repeat``; seconds per participant-year and the ratio library / fast. Every library
   form's output is checked against the fast form's on every recorded call (bit for bit;
   the run stops on a difference).

The verdict per helper: "needed" when its fastest library form costs >= 1.5x the fast form
and the saving is > 0.02 s per participant-year, else "not needed" with that library form.

    uv run python benchmarks/fast_helpers.py                   # 3 participant-years
    uv run python benchmarks/fast_helpers.py --participants 1 --days 14 --repeat 1  # quick
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
from scipy import ndimage, signal, stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detectors import (  # noqa: E402
    actigraphy,
    actigraphy_hr,
    actigraphy_minutes,
    cramp_features,
    cramp_grid,
    cramp_output,
    cramp_prep,
    cramp_segments,
    cramps,
)
from detectors.cramps import compute_night_features, detect_nocturnal_cramps  # noqa: E402
from detectors.sleep import detect_sleep  # noqa: E402
from simulators.minute_year import participant_year  # noqa: E402

#: modules whose globals may hold a helper (the callers, and the helpers' own modules for
#: their calls to one another; ``actigraphy`` re-exports the helpers of its part modules
#: ``actigraphy_minutes`` and ``actigraphy_hr``, which call them)
MODULES = (actigraphy, cramp_grid, cramp_prep, cramp_segments, cramp_features, cramp_output)
MODULES += (cramps, actigraphy_minutes, actigraphy_hr)

NEEDED_RATIO = 1.5
NEEDED_SAVING_S = 0.02  # per participant-year


# ----------------------------------------------------------------------------------------
# library forms: each takes the helper's arguments and returns what the helper returns


def lib_median(x: np.ndarray) -> float:
    return float(np.median(x))


_MAD_NORMAL = cramp_grid._MAD_NORMAL


def lib_robust_spread(x: np.ndarray, floor: float) -> float:
    x = x[np.isfinite(x)]
    if x.size < 2:
        return floor
    # scale=1.0 times the helper's constant: bit for bit (scale="normal" divides instead)
    return max(_MAD_NORMAL * float(stats.median_abs_deviation(x)), floor)


def _medfilt_scipy(run: np.ndarray, kernel: int) -> np.ndarray:
    pad = kernel // 2
    return signal.medfilt(np.pad(run, pad, mode="edge"), kernel)[pad : pad + run.size]


def _medfilt_ndimage(run: np.ndarray, kernel: int) -> np.ndarray:
    return ndimage.median_filter(run, size=kernel, mode="nearest")


def _per_run(filt: Callable) -> Callable:
    """A helper's finite stretches filtered one library call each."""

    def edge(v: np.ndarray, lengths: np.ndarray, kernel: int) -> np.ndarray:
        out = np.empty(v.size)
        a = 0
        for n in lengths.tolist():
            if n:
                out[a : a + n] = filt(v[a : a + n], kernel)
            a += n
        return out

    def runs(x: np.ndarray, kernel: int) -> np.ndarray:
        out = np.full_like(x, np.nan)
        for a, b in zip(*cramp_grid._runs(np.isfinite(x)), strict=True):
            out[a:b] = filt(x[a:b], kernel)
        return out

    def runs_split(x: np.ndarray, starts: np.ndarray, kernel: int) -> np.ndarray:
        out = np.full_like(x, np.nan)
        for a, b in zip(*cramp_grid._runs_split(np.isfinite(x), starts), strict=True):
            out[a:b] = filt(x[a:b], kernel)
        return out

    def samples(hr_raw, kernel, max_gap_cells, night_of_cell=None):
        idx = np.flatnonzero(np.isfinite(hr_raw))
        if idx.size < kernel:
            return hr_raw
        out = hr_raw.copy()
        gap = np.diff(idx) > max_gap_cells
        if night_of_cell is not None:
            gap |= night_of_cell[idx[1:]] != night_of_cell[idx[:-1]]
        for run in np.split(idx, np.flatnonzero(gap) + 1):
            if run.size >= kernel:
                out[run] = filt(hr_raw[run], kernel)
        return out

    return {"edge": edge, "runs": runs, "runs_split": runs_split, "samples": samples}


MEDFILT_SCIPY = _per_run(_medfilt_scipy)
MEDFILT_NDIMAGE = _per_run(_medfilt_ndimage)


def _scatter(n: int, idx: np.ndarray, val: np.ndarray) -> np.ndarray:
    out = np.full(n, np.nan)
    out[idx] = val
    return out


def pl_cell_medians(cell: np.ndarray, value: np.ndarray, n: int) -> np.ndarray:
    g = pl.DataFrame({"c": cell, "v": value}).group_by("c").agg(pl.col("v").median())
    return _scatter(n, g["c"].to_numpy(), g["v"].to_numpy())


def nd_cell_medians(cell: np.ndarray, value: np.ndarray, n: int) -> np.ndarray:
    if cell.size == 0:
        return np.full(n, np.nan)
    uniq = np.unique(cell)
    return _scatter(n, uniq, ndimage.median(value, labels=cell, index=uniq))


def pl_minute_median(t, v, g0, step, n):
    return pl_cell_medians((np.asarray(t) - g0) // step, v, n)


def nd_minute_median(t, v, g0, step, n):
    return nd_cell_medians((np.asarray(t) - g0) // step, v, n)


def pl_seg_medians(v: np.ndarray, owner: np.ndarray, m: int) -> np.ndarray:
    g = (
        pl.DataFrame({"g": owner, "v": v})
        .group_by("g")
        .agg(pl.col("v").median(), pl.col("v").is_nan().any().alias("nan"))
    )
    med = g["v"].to_numpy().copy()
    med[g["nan"].to_numpy()] = np.nan  # the helper's rule: a NaN in a group makes it NaN
    return _scatter(m, g["g"].to_numpy(), med)


def nd_seg_medians(v: np.ndarray, owner: np.ndarray, m: int) -> np.ndarray:
    return nd_cell_medians(owner, v, m)


def _pl_mad(x: np.ndarray, owner: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    v = pl.col("v")
    g = (
        pl.DataFrame({"g": owner, "v": x})
        .group_by("g")
        .agg((v - v.median()).abs().median().alias("mad"), pl.len().alias("n"))
    )
    cnt = np.zeros(m, dtype=np.int64)
    cnt[g["g"].to_numpy()] = g["n"].to_numpy()
    return _scatter(m, g["g"].to_numpy(), g["mad"].to_numpy()), cnt


def _padded(x: np.ndarray, owner: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """NaN-padded rows, one per group (as the detector's scipy call before the split)."""
    cnt = np.bincount(owner, minlength=m)
    mat = np.full((m, max(int(cnt.max(initial=0)), 1)), np.nan)
    first = np.cumsum(cnt) - cnt
    mat[owner, np.arange(x.size) - first[owner]] = x
    return mat, cnt


def _sp_mad(x: np.ndarray, owner: np.ndarray, m: int, scale="normal"):
    mat, cnt = _padded(x, owner, m)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mad = stats.median_abs_deviation(mat, axis=1, scale=scale, nan_policy="omit")
    return np.asarray(mad, dtype=float), cnt


def pl_seg_mad(x, owner, m):
    return _pl_mad(x, owner, m)


def sp_seg_mad(x, owner, m):
    return _sp_mad(x, owner, m, scale=1.0)


def _robust_from(mad_fn: Callable) -> Callable:
    def spread(x, owner, m, floor):
        ok = np.isfinite(x)
        mad, cnt = mad_fn(x[ok], owner[ok], m)
        return np.where(cnt >= 2, np.maximum(_MAD_NORMAL * mad, floor), floor)

    return spread


def _scipy_spread_from(mad_fn: Callable, divide: bool) -> Callable:
    def spread(x, owner, m, floor):
        mad, cnt = mad_fn(x, owner, m)
        if divide:
            with np.errstate(invalid="ignore"):
                mad = mad / cramp_grid._SCIPY_NORMAL_SCALE
        return np.maximum(np.where((cnt >= 2) & np.isfinite(mad), mad, floor), floor)

    return spread


def np_percentile_loop(srt, start, count, pct):
    return np.array(
        [
            np.percentile(srt[a : a + c], pct)
            for a, c in zip(start.tolist(), count.tolist(), strict=True)
        ]
    )


def pl_percentile(srt, start, count, pct):
    idx, owner = cramp_grid._ragged(start, start + count)
    g = (
        pl.DataFrame({"g": owner, "v": srt[idx]})
        .group_by("g")
        .agg(pl.col("v").quantile(pct / 100, "linear"))
    )
    return _scatter(start.size, g["g"].to_numpy(), g["v"].to_numpy())


def _ref_windows(x: np.ndarray, k: int, at: np.ndarray | None) -> np.ndarray:
    from numpy.lib.stride_tricks import sliding_window_view

    pad = k // 2
    xp = np.pad(np.asarray(x, float), (pad, k - 1 - pad), constant_values=np.nan)
    win = sliding_window_view(xp, k)
    return win if at is None else win[np.asarray(at)]


def np_nan_rolling_median(x, k, at=None):
    if k <= 1 or x.size == 0:
        return x.copy() if at is None else np.asarray(x, float)[at]
    win = _ref_windows(x, k, at)
    out = np.full(win.shape[0], np.nan)
    ok = np.isfinite(win).any(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out[ok] = np.nanmedian(win[ok], axis=1)
    return out


def pl_nan_rolling_median(x, k, at=None):
    if k <= 1 or x.size == 0:
        return x.copy() if at is None else np.asarray(x, float)[at]
    s = pl.Series(np.asarray(x, float), nan_to_null=True)
    m = s.rolling_median(k, min_samples=1, center=True).to_numpy()
    m = np.where(np.isnan(m), np.nan, m)  # nulls -> NaN
    return m if at is None else m[np.asarray(at)]


def _above_from(rolling: Callable) -> Callable:
    def above(x, k, thr):
        m = rolling(x, k)
        with np.errstate(invalid="ignore"):
            return np.isfinite(m) & (m > thr)

    return above


# ----------------------------------------------------------------------------------------
# the helpers: fast form, library forms, size of a call


@dataclass
class Helper:
    name: str
    module: object
    libs: dict[str, Callable]
    size: Callable = lambda a: np.asarray(a[0]).size  # noqa: E731
    calls: list = field(default_factory=list)  # (args, kwargs)
    nested: int = 0

    @property
    def fast(self) -> Callable:
        return getattr(self.module, self.name)


HELPERS = [
    Helper("_median", cramp_grid, {"numpy.median": lib_median}),
    Helper("_robust_spread", cramp_grid, {"scipy.stats.median_abs_deviation": lib_robust_spread}),
    Helper(
        "_medfilt_edge",
        cramp_grid,
        {
            "scipy.ndimage.median_filter per run": MEDFILT_NDIMAGE["edge"],
            "scipy.signal.medfilt per run": MEDFILT_SCIPY["edge"],
        },
    ),
    Helper(
        "_medfilt_runs",
        cramp_grid,
        {
            "scipy.ndimage.median_filter per run": MEDFILT_NDIMAGE["runs"],
            "scipy.signal.medfilt per run": MEDFILT_SCIPY["runs"],
        },
    ),
    Helper(
        "_medfilt_samples",
        cramp_grid,
        {
            "scipy.ndimage.median_filter per run": MEDFILT_NDIMAGE["samples"],
            "scipy.signal.medfilt per run": MEDFILT_SCIPY["samples"],
        },
    ),
    Helper(
        "_medfilt_runs_split",
        cramp_grid,
        {
            "scipy.ndimage.median_filter per run": MEDFILT_NDIMAGE["runs_split"],
            "scipy.signal.medfilt per run": MEDFILT_SCIPY["runs_split"],
        },
    ),
    Helper(
        "_minute_median",
        cramp_grid,
        {"polars group_by median": pl_minute_median, "scipy.ndimage.median": nd_minute_median},
    ),
    Helper(
        "_seg_medians",
        cramp_grid,
        {"polars group_by median": pl_seg_medians, "scipy.ndimage.median": nd_seg_medians},
    ),
    Helper(
        "_seg_mad",
        cramp_grid,
        {"polars group_by median(|x-med|)": pl_seg_mad, "scipy MAD, NaN-padded rows": sp_seg_mad},
    ),
    Helper(
        "_seg_robust_spread",
        cramp_grid,
        {
            "polars group_by median(|x-med|)": _robust_from(_pl_mad),
            "scipy MAD, NaN-padded rows": _robust_from(sp_seg_mad),
        },
    ),
    Helper(
        "_seg_scipy_spread",
        cramp_grid,
        {
            "polars group_by median(|x-med|)": _scipy_spread_from(_pl_mad, divide=True),
            "scipy MAD(scale=normal), NaN-padded rows": _scipy_spread_from(_sp_mad, divide=False),
        },
    ),
    Helper(
        "cell_medians",
        actigraphy,
        {"polars group_by median": pl_cell_medians, "scipy.ndimage.median": nd_cell_medians},
    ),
    Helper(
        "_percentile_sorted",
        actigraphy,
        {
            "polars group_by quantile": pl_percentile,
            "numpy.percentile per slice": np_percentile_loop,
        },
    ),
    Helper(
        "_nan_rolling_median",
        actigraphy,
        {
            "polars rolling_median": pl_nan_rolling_median,
            "numpy.nanmedian on windows": np_nan_rolling_median,
        },
        size=lambda a: np.asarray(a[2]).size if len(a) > 2 and a[2] is not None else a[0].size,
    ),
    Helper(
        "_rolling_median_above",
        actigraphy,
        {
            "polars rolling_median": _above_from(pl_nan_rolling_median),
            "numpy.nanmedian on windows": _above_from(np_nan_rolling_median),
        },
    ),
]


# ----------------------------------------------------------------------------------------
# recording


def _copy(a):
    return a.copy() if isinstance(a, np.ndarray) else a


def instrument(helpers: list[Helper]) -> Callable[[], None]:
    """Wrap the helpers wherever a detector module holds them; returns the undo."""
    depth = [0]
    undo: list[tuple[object, str, object]] = []
    for h in helpers:
        orig = h.fast

        @functools.wraps(orig)
        def shim(*args, _h=h, _orig=orig, **kwargs):
            _h.calls.append(([_copy(a) for a in args], {k: _copy(v) for k, v in kwargs.items()}))
            _h.nested += depth[0] > 0
            depth[0] += 1
            try:
                return _orig(*args, **kwargs)
            finally:
                depth[0] -= 1

        for mod in MODULES:
            if getattr(mod, h.name, None) is orig:
                undo.append((mod, h.name, orig))
                setattr(mod, h.name, shim)

    def restore() -> None:
        for mod, name, orig in undo:
            setattr(mod, name, orig)

    return restore


# ----------------------------------------------------------------------------------------
# replay


def _same(a, b) -> bool:
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype == bool or b.dtype == bool:
        return a.dtype == b.dtype and bool((a == b).all())
    return bool(np.array_equal(a.astype(float), b.astype(float), equal_nan=True))


def replay(fn: Callable, calls: list) -> tuple[float, list]:
    outs = []
    t0 = time.perf_counter()
    for args, kwargs in calls:
        outs.append(fn(*args, **kwargs))
    return time.perf_counter() - t0, outs


HEAD = (
    f"{'helper':<21} {'library form':<41} {'calls/py':>9} {'nested':>7} "
    f"{'size med (max)':>18} {'fast s/py':>10} {'lib s/py':>9} {'lib/fast':>9}"
)


def report(h: Helper, n_p: int, repeat: int) -> str:
    """Replay ``h``'s recorded calls (fast and library forms alternating, best of
    ``repeat``), check every output, print its rows; returns the verdict."""
    sizes = [int(h.size(a)) for a, _ in h.calls]
    size = f"{statistics.median(sizes):,.0f} ({max(sizes):,})"
    fast_t: list[float] = []
    lib_t: dict[str, list[float]] = {name: [] for name in h.libs}
    for rep in range(repeat):
        dt, want = replay(h.fast, h.calls)
        fast_t.append(dt)
        for name, lib in h.libs.items():
            dt, got = replay(lib, h.calls)
            lib_t[name].append(dt)
            if rep == 0:
                bad = [i for i, (w, g) in enumerate(zip(want, got, strict=True)) if not _same(w, g)]
                if bad:
                    raise SystemExit(
                        f"{h.name} != {name} on {len(bad)} of {len(want)} calls "
                        f"(first: call {bad[0]})"
                    )
    fast = min(fast_t) / n_p
    best_name, best_lib = "", float("inf")
    for name in h.libs:
        lib = min(lib_t[name]) / n_p
        if lib < best_lib:
            best_name, best_lib = name, lib
        print(
            f"{h.name:<21} {name:<41} {len(h.calls) / n_p:>9,.1f} {h.nested / n_p:>7,.1f} "
            f"{size:>18} {fast:>10.4f} {lib:>9.4f} {lib / fast:>8.1f}x",
            flush=True,
        )
    ratio, saved = best_lib / fast, best_lib - fast
    if ratio >= NEEDED_RATIO and saved > NEEDED_SAVING_S:
        return f"{h.name}: needed ({ratio:.1f}x, {saved:.3f} s per participant-year saved)"
    return (
        f"{h.name}: not needed: could be replaced by {best_name} "
        f"({ratio:.1f}x, {saved:+.3f} s per participant-year)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--participants", type=int, default=3)
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--days", type=int, default=0, help="keep only the first N days (0: all)")
    ap.add_argument("--repeat", type=int, default=3, help="best of N replays of each form")
    args = ap.parse_args()

    smp = pl.concat([participant_year(k, args.seed) for k in range(args.participants)])
    if args.days:
        t0 = smp["start_utc"].min()
        smp = smp.filter(pl.col("start_utc") < t0 + pl.duration(days=args.days))
    restore = instrument(HELPERS)
    try:
        t = time.perf_counter()
        periods, segs = detect_sleep(pl.DataFrame(), smp)
        eps = detect_nocturnal_cramps(smp, segs, periods)
        t_det = time.perf_counter() - t
    finally:
        restore()
    # helpers detection never calls: recorded on compute_night_features (the dashboard's
    # night view: the same preparation, and the per-night output frame) over the same nights
    rest = [h for h in HELPERS if not h.calls]
    restore = instrument(rest)
    try:
        t = time.perf_counter()
        compute_night_features(smp, segs, periods)
        t_nf = time.perf_counter() - t
    finally:
        restore()
    n_p = args.participants
    print(
        f"participant-years: {n_p}{f' ({args.days} days each)' if args.days else ''}  "
        f"nights with a period: {periods.height}  episodes: {eps.height}"
    )
    print(f"sleep + cramps, instrumented (arguments copied): {t_det:.2f} s")
    print(f"compute_night_features, instrumented: {t_nf:.2f} s\n")
    print("detection (detect_sleep + detect_nocturnal_cramps), per participant-year (py):")
    print(HEAD)
    print("-" * len(HEAD))
    verdicts: list[str] = []
    for h in HELPERS:
        if h in rest:
            continue
        verdicts.append(report(h, n_p, args.repeat))
    print("\nnot called by detection; compute_night_features over the same nights, per py:")
    print(HEAD)
    print("-" * len(HEAD))
    for h in rest:
        if not h.calls:
            print(f"{h.name:<21} (not called)")
            verdicts.append(f"{h.name}: not called by the detectors nor compute_night_features")
            continue
        verdicts.append(report(h, n_p, args.repeat) + " (compute_night_features)")
    print("\nall library forms equal the fast forms on every recorded call")
    print(
        f"\nverdicts (needed: >= {NEEDED_RATIO}x and > {NEEDED_SAVING_S} s per participant-year "
        "saved against the fastest library form):"
    )
    for v in verdicts:
        print(f"  {v}")


if __name__ == "__main__":
    main()
