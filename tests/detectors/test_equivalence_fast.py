"""The vectorised helpers give exactly what the straightforward loops they replace give.

Each ``_ref_*`` below is the earlier per-run / per-window implementation, kept here as the
specification; the detectors' fast versions must match it bit for bit on random inputs with
gaps, short runs and edge cases.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal

from detectors import actigraphy, cramp_grid, cramp_model


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def _ref_medfilt_runs(x: np.ndarray, kernel: int) -> np.ndarray:
    out = np.full_like(x, np.nan)
    pad = kernel // 2
    for a, b in zip(*_runs(np.isfinite(x)), strict=True):
        run = np.pad(x[a:b], pad, mode="edge")
        out[a:b] = signal.medfilt(run, kernel)[pad : pad + (b - a)]
    return out


def _ref_medfilt_samples(hr_raw: np.ndarray, kernel: int, max_gap_cells: int) -> np.ndarray:
    idx = np.flatnonzero(np.isfinite(hr_raw))
    if idx.size < kernel:
        return hr_raw
    out = hr_raw.copy()
    breaks = np.flatnonzero(np.diff(idx) > max_gap_cells) + 1
    pad = kernel // 2
    for run in np.split(idx, breaks):
        if run.size >= kernel:
            v = np.pad(hr_raw[run], pad, mode="edge")
            out[run] = signal.medfilt(v, kernel)[pad : pad + run.size]
    return out


def _gappy(rng: np.random.Generator, n: int, p_nan: float) -> np.ndarray:
    x = np.round(rng.normal(60, 8, n))  # rounded: ties, as real bpm values have
    x[rng.random(n) < p_nan] = np.nan
    return x


@pytest.mark.parametrize("kernel", [1, 3, 5, 7])
@pytest.mark.parametrize("p_nan", [0.0, 0.2, 0.6, 0.95, 1.0])
def test_medfilt_runs_matches_per_run_medfilt(kernel: int, p_nan: float) -> None:
    rng = np.random.default_rng([kernel, int(p_nan * 100)])
    for n in (0, 1, 2, 3, 10, 500):
        x = _gappy(rng, n, p_nan)
        np.testing.assert_array_equal(
            cramp_grid._medfilt_runs(x, kernel), _ref_medfilt_runs(x, kernel)
        )


@pytest.mark.parametrize("kernel", [3, 5])
@pytest.mark.parametrize("p_nan", [0.0, 0.5, 0.8, 0.97])
@pytest.mark.parametrize("gap", [1, 3, 10])
def test_medfilt_samples_matches_per_run_medfilt(kernel: int, p_nan: float, gap: int) -> None:
    rng = np.random.default_rng([kernel, gap, int(p_nan * 100)])
    for n in (0, 2, 5, 40, 600):
        x = _gappy(rng, n, p_nan)
        np.testing.assert_array_equal(
            cramp_grid._medfilt_samples(x, kernel, gap), _ref_medfilt_samples(x, kernel, gap)
        )


def _ref_nan_rolling_median(x: np.ndarray, k: int) -> np.ndarray:
    import warnings

    from numpy.lib.stride_tricks import sliding_window_view

    if k <= 1 or x.size == 0:
        return x.copy()
    pad = k // 2
    xp = np.pad(x, (pad, k - 1 - pad), constant_values=np.nan)
    win = sliding_window_view(xp, k)
    out = np.full(x.size, np.nan)
    ok = np.isfinite(win).any(axis=1)
    if ok.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out[ok] = np.nanmedian(win[ok], axis=1)
    return out


@pytest.mark.parametrize("k", [1, 2, 3, 10, 11])
@pytest.mark.parametrize("p_nan", [0.0, 0.3, 0.9, 1.0])
def test_nan_rolling_median_matches_nanmedian(k: int, p_nan: float) -> None:
    rng = np.random.default_rng([k, int(p_nan * 100)])
    for n in (0, 1, 5, 2000):
        x = _gappy(rng, n, p_nan)
        x[rng.random(n) < 0.3] += 0.5  # some non-integers: even-count means not on the grid
        np.testing.assert_array_equal(
            actigraphy._nan_rolling_median(x, k), _ref_nan_rolling_median(x, k)
        )


def _ref_minute_median(t: np.ndarray, v: np.ndarray, g0: int, step: int, n: int) -> np.ndarray:
    out = np.full(n, np.nan)
    if t.size == 0:
        return out
    cell = (t - g0) // step
    order = np.lexsort((v, cell))
    cell, v = cell[order], v[order]
    uniq, first, counts = np.unique(cell, return_index=True, return_counts=True)
    out[uniq] = 0.5 * (v[first + (counts - 1) // 2] + v[first + counts // 2])
    return out


@pytest.mark.parametrize("spacing_s", [1, 5, 15, 60, 300])
def test_minute_median_matches_sorted_groups(spacing_s: int) -> None:
    rng = np.random.default_rng(spacing_s)
    g0, step, n = 1_700_000_000 * 1_000_000, 5_000_000, 800
    for size in (0, 1, 2, 50, 700):
        t = np.sort(
            g0 + rng.integers(0, n * step // (spacing_s * 1_000_000), size) * spacing_s * 1_000_000
        )
        t = np.unique(t) if size % 2 else t  # with and without repeated instants
        v = np.round(rng.normal(60, 8, t.size))
        np.testing.assert_array_equal(
            cramp_grid._minute_median(t, v, g0, step, n), _ref_minute_median(t, v, g0, step, n)
        )


def test_median_matches_numpy() -> None:
    rng = np.random.default_rng(5)
    for n in range(1, 40):
        x = rng.normal(60, 8, n)
        assert cramp_grid._median(x) == float(np.median(x))
        xr = np.round(x)
        assert cramp_grid._median(xr) == float(np.median(xr))
        ints = rng.integers(0, 10**9, n)
        assert cramp_grid._median(ints) == float(np.median(ints))
        xn = x.copy()
        xn[rng.integers(0, n)] = np.nan
        assert np.isnan(cramp_grid._median(xn))
        xi = x.copy()
        xi[0] = np.inf
        assert cramp_grid._median(xi) == float(np.median(xi))


@pytest.mark.parametrize("n_src", [1, 3])
def test_amount_per_cell_split_matches_per_night(n_src: int) -> None:
    """All nights in one pass = each night's ``_amount_per_cell`` alone, bit for bit (spans,
    point samples, overlaps, several sources, nights with nothing in their window)."""
    from detectors.cramp_prep import _intervals_np

    us, step = 1_000_000, 60_000_000
    base = 1_767_000_000 * us
    rng = np.random.default_rng(n_src)
    for k in (0, 1, 5, 300):
        for _ in range(20):
            s = base + rng.integers(0, 3 * 86400, k) * us
            kind = rng.integers(0, 4, k)
            dur = np.where(kind == 0, 0, np.where(kind == 1, step, rng.integers(1, 7200, k) * us))
            v = np.round(rng.gamma(2.0, 20.0, k), 1)
            iv = _intervals_np(s, s + dur, v, rng.integers(0, n_src, k))
            m = int(rng.integers(1, 6))
            lo = (base + np.sort(rng.integers(-3600, 3 * 86400, m)) * us) // step * step
            n = rng.integers(1, 900, m)
            got, touched = cramp_grid._amount_per_cell_split(iv, lo, n, step)
            first = np.cumsum(n) - n
            for i in range(m):
                ref, has = cramp_grid._amount_per_cell(iv, lo[i] + step * np.arange(n[i] + 1))
                part = got[first[i] : first[i] + n[i]]
                assert has == touched[i]
                np.testing.assert_array_equal(part.view(np.int64), ref.view(np.int64))


def _clip(x: float, lo: float, hi: float, scale: float) -> float:
    return 0.0 if not math.isfinite(x) else min(max(x, lo), hi) / scale


def features(e: dict) -> dict[str, float]:
    """The model's feature vector from one candidate's evidence dict, one value at a time:
    the specification ``cramp_model.matrix`` must match bit for bit."""
    fine = e.get("method") == "brief7.2_fine_hr"
    lying = cramp_model._f(e, "hr_rise_lying_bpm")
    lead = cramp_model._f(e, "hr_lead_s")
    return {
        "hr_rise": _clip(cramp_model._f(e, "hr_rise_bpm"), -10, 40, 10),
        "hr_rise_z": _clip(cramp_model._f(e, "hr_rise_z"), -3, 12, 3),
        "hr_rise_lying": _clip(lying, -10, 40, 10),
        "hr_rise_moving": _clip(cramp_model._f(e, "hr_rise_moving_bpm"), -10, 40, 10),
        "hr_lead": _clip(lead, -600, 600, 300),
        "hr_post": _clip(cramp_model._f(e, "hr_post_bpm"), -10, 30, 10),
        "hr_sustain": _clip(cramp_model._f(e, "hr_sustain_min"), 0, 10, 3),
        "fine_sustained": _clip(cramp_model._f(e, "hr_sustained_s"), 0, 600, 60) if fine else 0.0,
        "fine_rise_30s": _clip(cramp_model._f(e, "hr_rise_30s_bpm"), -10, 40, 10) if fine else 0.0,
        "log_steps": math.log1p(max(cramp_model._f(e, "steps"), 0.0))
        if math.isfinite(cramp_model._f(e, "steps"))
        else 0.0,
        "walk": 1.0 if e.get("walk") else 0.0,
        "log_steps_after": (
            math.log1p(max(cramp_model._f(e, "steps_following"), 0.0))
            if math.isfinite(cramp_model._f(e, "steps_following"))
            else 0.0
        ),
        "log_wake": math.log1p(_clip(cramp_model._f(e, "wake_s"), 0, 3600, 60)),
        "log_wake_after": math.log1p(_clip(cramp_model._f(e, "wake_after_s"), 0, 3600, 60)),
        "restless": _clip(cramp_model._f(e, "restless_frac"), 0, 1, 1),
        "short_bouts": _clip(float(e.get("short_wake_bouts_count") or 0), 0, 12, 4),
        "act_peak": _clip(cramp_model._f(e, "act_peak_z"), 0, 15, 5),
        "hr_missing": _clip(cramp_model._f(e, "hr_missing_frac"), 0, 1, 1),
        "no_lying_hr": 0.0 if math.isfinite(lying) else 1.0,
        **{f"rule_{k}": 1.0 if k in (e.get("rules") or ()) else 0.0 for k in cramp_model.RULES},
    }


def test_model_matrix_matches_features_per_row() -> None:
    """``cramp_model.matrix`` (column by column) = the rows of :func:`features`, bit for bit,
    on evidence with missing keys, None, NaN, inf, -0.0, bounds and bools."""

    rng = np.random.default_rng(7)
    keys = (
        "hr_rise_bpm hr_rise_z hr_rise_lying_bpm hr_rise_moving_bpm hr_lead_s hr_post_bpm "
        "hr_sustain_min hr_sustained_s hr_rise_30s_bpm steps steps_following wake_s "
        "wake_after_s restless_frac act_peak_z hr_missing_frac"
    ).split()
    special = [None, math.nan, math.inf, -math.inf, -0.0, 0.0, 0, -10, 40, 600, 3600, 1, True]

    def value() -> object:
        if rng.random() < 0.3:
            return special[int(rng.integers(len(special)))]
        return round(float(rng.normal(0, 300)), int(rng.integers(0, 4)))

    evidence = []
    for _ in range(400):
        e = {k: value() for k in keys if rng.random() < 0.9}
        e["method"] = "brief7.2_fine_hr" if rng.random() < 0.5 else "brief7.1_minute_export"
        e["walk"] = bool(rng.random() < 0.3)
        e["short_wake_bouts_count"] = [None, 0, 3, 20][int(rng.integers(4))]
        e["rules"] = [k for k in cramp_model.RULES if rng.random() < 0.3]
        evidence.append(e)
    ref = np.array([list(features(e).values()) for e in evidence], float)
    assert tuple(features({})) == cramp_model.FEATURES
    got = cramp_model.matrix(evidence)
    assert got.shape == ref.shape
    np.testing.assert_array_equal(got.view(np.int64), ref.view(np.int64))
    assert cramp_model.matrix([]).shape == (0, len(cramp_model.FEATURES))
