"""The cramp detector's vectorised passes equal their per-night references, value for value.

``_prepare_chunk`` (several nights laid end to end) against ``prepare_night`` (one night
alone, ``cramp_reference.py``), ``compute_night_features`` (the dashboard's night view, on the
chunked pass) against the per-night ``night_features``, and each exact replacement of a
per-night scipy / numpy call against that call: binary closing, the abrupt-rise filter,
grouped medians and MADs, minute medians.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import fields, replace

import numpy as np
import polars as pl
import pytest
from scipy import ndimage, stats

from detectors import cramp_grid, cramp_prep, cramp_segments
from detectors.cramps import CrampParams
from detectors.sleep import detect_sleep
from simulators.nightgen import GenConfig, generate
from tests.detectors import cramp_reference


def _robust_spreads(arrays: list[np.ndarray], floor: float) -> np.ndarray:
    """Specification of ``cramp_grid._seg_scipy_spread`` (the detector's code until the
    split): ``max(MAD_normal, floor)`` of many ragged arrays in one scipy call (NaN-padded)."""
    width = max((a.size for a in arrays), default=0)
    if width < 2:
        return np.full(len(arrays), floor)
    m = np.full((len(arrays), width), np.nan)
    for i, a in enumerate(arrays):
        m[i, : a.size] = a
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rows with < 2 values: handled just below
        mad = stats.median_abs_deviation(m, axis=1, scale="normal", nan_policy="omit")
    n = np.array([a.size for a in arrays])
    mad = np.where((n >= 2) & np.isfinite(mad), mad, floor)
    return np.maximum(mad, floor)


def _nights(rng: np.random.Generator, count: int, lo: int, hi: int) -> np.ndarray:
    return rng.integers(lo, hi, count)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 7])
def test_close_gaps_equals_scipy_binary_closing_per_night(k: int) -> None:
    rng = np.random.default_rng(k)
    for density in (0.1, 0.3, 0.6):
        n = _nights(rng, 6, 1, 40)
        first = np.concatenate([[0], np.cumsum(n)[:-1]])
        mask = rng.random(int(n.sum())) < density
        got = cramp_grid._close_gaps(mask, first, k)
        for a, m in zip(first.tolist(), n.tolist(), strict=True):
            x = mask[a : a + m]
            want = ndimage.binary_closing(np.pad(x, k), structure=np.ones(k, dtype=bool))
            np.testing.assert_array_equal(got[a : a + m], want[k : k + m])


@pytest.mark.parametrize(
    ("abrupt_s", "sustained_s"), [(30, 60), (5, 60), (15, 30), (45, 90), (60, 5)]
)
def test_abrupt_sustained_on_concatenated_nights_equals_each_night(
    abrupt_s: int, sustained_s: int
) -> None:
    p = replace(CrampParams(), hr_abrupt_window_s=abrupt_s, hr_sustained_min_s=sustained_s)
    rng = np.random.default_rng(abrupt_s * 100 + sustained_s)
    n = _nights(rng, 7, 3, 400)
    n[0] = 2  # shorter than the windows
    xs, bases, thrs = [], [], []
    for m in n.tolist():
        x = 55 + np.cumsum(rng.normal(0, 1.5, m))
        x[rng.random(m) < 0.05] = np.nan
        for _ in range(3):  # surges of various lengths
            a = int(rng.integers(0, max(m - 1, 1)))
            x[a : a + int(rng.integers(1, 40))] += rng.uniform(5, 30)
        xs.append(x)
        bases.append(float(np.nanmedian(x)) if np.isfinite(x).any() else 55.0)
        thrs.append(float(rng.uniform(3, 12)))
    x = np.concatenate(xs)
    first = np.concatenate([[0], np.cumsum(n)[:-1]])
    night, cell = cramp_segments._abrupt_sustained_cat(
        x, first, n, np.array(bases), np.array(thrs), p
    )
    for j, xj in enumerate(xs):
        want = cramp_reference.abrupt_sustained(xj, np.full(xj.size, bases[j]), thrs[j], p)
        np.testing.assert_array_equal(cell[night == j], want)


def test_grouped_medians_and_spreads_equal_the_single_array_functions() -> None:
    rng = np.random.default_rng(5)
    groups = [rng.normal(60, 4, int(s)) for s in rng.integers(0, 30, 12)]
    groups[3] = np.array([np.nan, 1.0, 2.0])  # a NaN makes the median NaN
    groups[4] = np.array([3.5])
    groups[5] = np.round(groups[5])  # ties
    # middle values far apart or of mixed sign: (lo + hi) / 2 and lo + (hi - lo) / 2 differ
    groups[6] = np.array([0.7, 0.1])
    groups[7] = np.array([-0.2, 5.0, 0.9, -7.0])
    v = np.concatenate(groups)
    owner = np.repeat(np.arange(len(groups)), [g.size for g in groups])
    med = cramp_grid._seg_medians(v, owner, len(groups))
    spread = cramp_grid._seg_robust_spread(v, owner, len(groups), 2.0)
    for i, g in enumerate(groups):
        want = cramp_grid._median(g)
        assert (med[i] == want) or (math.isnan(med[i]) and math.isnan(want))
        if g.size and not np.isnan(g).any():
            assert med[i] == np.median(g)
        assert spread[i] == cramp_grid._robust_spread(g, 2.0)
    finite = [g[np.isfinite(g)] for g in groups]
    w = np.concatenate(finite)
    w_owner = np.repeat(np.arange(len(groups)), [g.size for g in finite])
    got = cramp_grid._seg_scipy_spread(w, w_owner, len(groups), 0.5)
    np.testing.assert_array_equal(got, _robust_spreads(finite, 0.5))
    for i, g in enumerate(finite):
        if g.size >= 2:
            assert got[i] == max(stats.median_abs_deviation(g, scale="normal"), 0.5)


def test_minute_median_row_sort_equals_the_lexsort_path() -> None:
    rng = np.random.default_rng(9)
    t = np.sort(rng.integers(0, 600 * 60, 3000)) * 1_000_000  # several samples per minute
    v = np.round(rng.normal(60, 5, t.size), 1)
    got = cramp_grid._minute_median(t, v, 0, 60_000_000, 601)
    cell = t // 60_000_000
    for c in np.unique(cell)[:200].tolist():
        assert got[c] == np.median(v[cell == c])
    assert np.isnan(got[np.setdiff1d(np.arange(601), cell)]).all()
    shuffled = rng.permutation(t.size)  # out of time order: the lexsort path, same values
    np.testing.assert_array_equal(
        cramp_grid._minute_median(t[shuffled], v[shuffled], 0, 60_000_000, 601), got
    )


def _same(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, np.ndarray):
        return a.shape == np.asarray(b).shape and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b


@pytest.mark.parametrize(
    ("res", "stages", "params"),
    [
        (300, True, CrampParams()),
        (1, True, CrampParams()),
        (1, False, replace(CrampParams(), closing_s=300, hr_abrupt_window_s=15)),
    ],
)
def test_prepare_chunk_equals_prepare_night(res: int, stages: bool, params: CrampParams) -> None:
    g = generate(GenConfig(participants=2, nights=20, seed=77, hr_resolution_s=res, stages=stages))
    periods, seg = detect_sleep(g.sleep_segments if stages else g.sleep_segments.clear(), g.samples)
    smp = g.samples.select(
        "participant_id",
        "metric",
        s=pl.col("start_utc").dt.epoch("us"),
        e=pl.col("end_utc").dt.epoch("us"),
        v="value",
        src=pl.lit(""),
    )
    seg = seg.select(
        "participant_id",
        "stage",
        s=pl.col("start_utc").dt.epoch("us"),
        e=pl.col("end_utc").dt.epoch("us"),
    )
    split = cramp_prep._split_by_participant(smp)
    checked = 0
    for pid in periods["participant_id"].unique().sort().to_list():
        data = cramp_prep._ParticipantData.build(
            split[pid], seg.filter(pl.col("participant_id") == pid)
        )
        per = periods.filter(pl.col("participant_id") == pid).sort("start_utc")
        ps = per["start_utc"].dt.epoch("us").to_numpy().astype(np.int64)
        pe = per["end_utc"].dt.epoch("us").to_numpy().astype(np.int64)
        fast = [
            night
            for k in range(0, ps.size, 6)
            for night in cramp_segments._prepare_chunk(data, ps[k : k + 6], pe[k : k + 6], params)
        ]
        for a, b, f in zip(ps.tolist(), pe.tolist(), fast, strict=True):
            ref = cramp_reference.prepare_night(data, a, b, params)
            for fl in fields(cramp_segments._Night):
                if fl.name in ("peak_idx", "peak_prom") and not ref.segments:
                    continue  # not computed without segments
                assert _same(getattr(f, fl.name), getattr(ref, fl.name)), fl.name
            checked += 1
    assert checked == periods.height


def test_medfilt_on_concatenated_nights_equals_each_night() -> None:
    rng = np.random.default_rng(3)
    n = _nights(rng, 9, 1, 60)
    first = np.concatenate([[0], np.cumsum(n)[:-1]])
    x = np.round(rng.normal(60, 8, int(n.sum())))
    x[rng.random(x.size) < 0.25] = np.nan
    x[rng.random(x.size) < 0.02] = np.inf
    for kernel in (3, 5):
        got = cramp_grid._medfilt_runs_split(x, first, kernel)
        for a, m in zip(first.tolist(), n.tolist(), strict=True):
            np.testing.assert_array_equal(
                got[a : a + m], cramp_grid._medfilt_runs(x[a : a + m], kernel)
            )


@pytest.mark.parametrize("interleaved", [False, True])
def test_split_by_participant_keeps_each_participants_rows_in_input_order(
    interleaved: bool,
) -> None:
    rng = np.random.default_rng(1)
    n = 400
    frame = pl.DataFrame(
        {
            "participant_id": np.where(np.arange(n) < 250, "a", "b"),
            "metric": rng.choice(["heart_rate_bpm", "steps", "active_energy_kcal", "met"], n),
            "s": rng.integers(0, 10**9, n),
            "e": rng.integers(0, 10**9, n),
            "v": rng.normal(0, 1, n),
            "src": rng.choice(["watch", "phone"], n),
        }
    )
    if interleaved:
        frame = frame.sample(fraction=1.0, shuffle=True, seed=2)
    split = cramp_prep._split_by_participant(frame)
    assert sorted(split) == ["a", "b"]
    for pid, arrays in split.items():
        rows = frame.filter(pl.col("participant_id") == pid)
        np.testing.assert_array_equal(arrays.s, rows["s"].to_numpy())
        np.testing.assert_array_equal(arrays.v, rows["v"].to_numpy())
        names = {code: name for name, code in arrays.metric_codes.items()}
        assert [names.get(int(c), "other") for c in arrays.metric] == [
            m if m in names.values() else "other" for m in rows["metric"].to_list()
        ]
        same_src = rows["src"].to_numpy()[:, None] == rows["src"].to_numpy()[None, :]
        assert ((arrays.src[:, None] == arrays.src[None, :]) == same_src).all()


@pytest.mark.parametrize(
    ("res", "stages"),
    [(300, True), (1, True), (1, False), (60, True)],
)
def test_night_features_run_on_the_chunked_pass_and_equal_the_per_night_reference(
    res: int, stages: bool
) -> None:
    """``compute_night_features`` (chunked, as detection) == the per-night reference, frame
    for frame, over 40 nights (more than one chunk of ``_PRE_NIGHTS``)."""
    from polars.testing import assert_frame_equal

    from detectors.cramp_prep import _PRE_NIGHTS
    from detectors.cramps import compute_night_features

    g = generate(GenConfig(participants=2, nights=40, seed=78, hr_resolution_s=res, stages=stages))
    segs = g.sleep_segments if stages else g.sleep_segments.clear()
    periods, seg = detect_sleep(segs, g.samples)
    assert periods.group_by("participant_id").len()["len"].max() > _PRE_NIGHTS
    got = compute_night_features(g.samples, seg, periods)
    want = cramp_reference.night_features(g.samples, seg, periods, CrampParams())
    assert got.height > 0 and got["candidate"].any()
    assert_frame_equal(got, want)
