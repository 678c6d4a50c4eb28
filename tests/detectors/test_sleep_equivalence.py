"""The vectorised minute classification and actigraphy sleep periods give exactly what the
per-participant polars implementation they replaced gives.

The section "reference" below is that implementation (``detectors/actigraphy.py`` and
``detectors/sleep.py`` at commit 3f54e1b: ``partition_by`` per participant, a ``filter`` per
metric, a ``np.percentile`` call per night, Python loops over runs, a minute frame joined to
the periods for the segments), docstrings dropped, kept as the specification. The fast
code must match it bit for bit (``check_exact``) on:

* the benchmark's participant-years (``simulators/minute_year.py``), also shuffled and with a
  travel offset and a DST change added;
* the bundled sample data (two Apple Health exports read by the importer: two step
  sources, old-style and staged nights, travel and a DST change), with and without the
  device stages;
* the nights generator (``simulators/nightgen.py``) at 1-s and 5-min heart rate;
* random arrays for the helpers (Webster rescoring, non-wear, blocks, percentiles, minute
  medians).

The three rules added after that commit (``night_window_clip``, ``nonwear_flat_daytime``,
``max_main_sleep_s`` on :class:`ActigraphyParams`, issue 4) change behaviour on purpose:
the fast code is compared here with them switched off (``_PREV``), which is the behaviour
the reference specifies. ``test_new_rules_do_not_fire_on_benchmark_years`` checks that with
the defaults (rules on) the output is still the reference's where none of the rules applies;
their own behaviour has hand-built tests in ``test_actigraphy.py``.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from detectors import actigraphy
from detectors import sleep as fast_sleep
from detectors.actigraphy import (
    ACTIVITY_METRICS,
    COARSE_SOURCE_RATIO,
    DETECTOR_VERSION,
    METHOD_COLE_KRIPKE,
    METHOD_SADEH,
    MINUTE_SCHEMA,
    ActigraphyParams,
    activity_counts_proxy,
    sadeh_1994,
)
from detectors.frames import SAMPLES_SCHEMA, SLEEP_SEGMENTS_SCHEMA, prepare
from detectors.nights import NIGHT_START_HOUR
from detectors.schema import SLEEP_PERIOD_SCHEMA
from detectors.sleep import SleepParams, detect_stage_periods
from simulators.minute_year import participant_year
from simulators.nightgen import GenConfig, generate
from tests.conftest import SAMPLE_DATA

_US = 1_000_000
_MIN_US = 60 * _US

# ----------------------------------------------------------------------------------------
# reference: the implementation before vectorisation (commit 3f54e1b), unchanged but for
# dropped docstrings

_ACTI = ActigraphyParams(night_window_clip=False, nonwear_flat_daytime=False, max_main_sleep_s=0)
_SLEEP = SleepParams()
#: the fast code with the rules added after the reference switched off
_PREV = _ACTI


def cole_kripke_1992(
    counts_per_min: np.ndarray, *, params: ActigraphyParams = _ACTI
) -> tuple[np.ndarray, np.ndarray]:
    p = params
    a = np.minimum(
        np.nan_to_num(np.asarray(counts_per_min, float)) / p.ck_count_divisor, p.ck_count_cap
    )
    w = np.asarray(p.ck_weights) * p.ck_scale
    # D[t] = sum_k w[k] * a[t + k - 4]; correlate with zero padding
    padded = np.pad(a, (4, 2))
    d = np.zeros(a.size)
    for k, wk in enumerate(w):
        d += wk * padded[k : k + a.size]
    sleep = d < p.ck_threshold
    if p.webster_rescore:
        sleep = webster_rescore(sleep)
    return sleep, d


def webster_rescore(sleep: np.ndarray) -> np.ndarray:
    s = np.asarray(sleep, bool).copy()
    n = s.size
    if n == 0:
        return s
    won, woff = _runs(~s)
    length = woff - won
    k = np.where(length >= 15, 4, np.where(length >= 10, 3, np.where(length >= 4, 1, 0)))
    for b, kk in zip(woff[k > 0], k[k > 0], strict=True):
        s[b : b + kk] = False
    son, soff = _runs(s)
    if son.size == 0:
        return s
    won, woff = _runs(~s)
    # wake run ending at each sleep-run start / starting at each sleep-run end
    before = np.zeros(son.size, int)
    after = np.zeros(son.size, int)
    end_at = dict(zip(woff.tolist(), (woff - won).tolist(), strict=True))
    start_at = dict(zip(won.tolist(), (woff - won).tolist(), strict=True))
    before = np.array([end_at.get(int(a), 0) for a in son])
    after = np.array([start_at.get(int(b), 0) for b in soff])
    slen = soff - son
    kill = ((slen <= 6) & (before >= 10) & (after >= 10)) | (
        (slen <= 10) & (before >= 20) & (after >= 20)
    )
    for a, b in zip(son[kill], soff[kill], strict=True):
        s[a:b] = False
    return s


def nonwear_minutes(
    counts_per_min: np.ndarray,
    hr_present: np.ndarray | None,
    *,
    params: ActigraphyParams = _ACTI,
) -> np.ndarray:
    n = np.asarray(counts_per_min).size
    if hr_present is None:
        return np.zeros(n, bool)
    counts = np.nan_to_num(np.asarray(counts_per_min, float))
    quiet = (counts <= 0) & ~np.asarray(hr_present, bool)
    tol = params.nonwear_spike_s // 60
    # close gaps of <= tol minutes (spikes) inside quiet runs, then keep long runs
    closed = quiet.copy()
    if tol > 0:
        on, off = _runs(~quiet)
        for a, b in zip(on, off, strict=True):
            if a > 0 and b < n and b - a <= tol:
                closed[a:b] = True
    out = np.zeros(n, bool)
    for a, b in zip(*_runs(closed), strict=True):
        if (b - a) * 60 >= params.nonwear_min_s:
            out[a:b] = True
    return out


def sleep_blocks(
    sleep: np.ndarray, epoch_s: float, *, min_block_s: float, merge_gap_s: float
) -> list[tuple[int, int]]:
    on, off = _runs(np.asarray(sleep, bool))
    keep = [(a, b) for a, b in zip(on, off, strict=True) if (b - a) * epoch_s > min_block_s]
    merged: list[tuple[int, int]] = []
    for a, b in keep:
        if merged and (a - merged[-1][1]) * epoch_s < merge_gap_s:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def classify_minutes(
    samples: pl.DataFrame,
    *,
    method: str = METHOD_COLE_KRIPKE,
    params: ActigraphyParams = _ACTI,
) -> pl.DataFrame:
    if method not in (METHOD_COLE_KRIPKE, METHOD_SADEH):
        raise ValueError(f"method must be {METHOD_COLE_KRIPKE!r} or {METHOD_SADEH!r}")
    smp = prepare(samples, "samples", SAMPLES_SCHEMA)
    smp = keep_finest_resolution(
        smp.filter(
            pl.col("metric").is_in([*ACTIVITY_METRICS, "heart_rate_bpm"])
            & pl.col("value").is_finite()
        )
    )
    if smp.height == 0:
        return pl.DataFrame(schema=MINUTE_SCHEMA)
    parts = []
    for (pid,), df in smp.partition_by("participant_id", as_dict=True).items():
        parts.append(_classify_participant(pid, df, method, params))
    return pl.concat(parts).sort("participant_id", "minute_utc").cast(MINUTE_SCHEMA)  # type: ignore[arg-type]


def keep_finest_resolution(samples: pl.DataFrame) -> pl.DataFrame:
    if "source" not in samples.columns or samples.height == 0:
        return samples
    if (
        samples["source"].n_unique() == 1
        and samples["participant_id"].null_count() == 0
        and samples["metric"].null_count() == 0
    ):
        # one source everywhere: nothing is a coarser copy, and the semi join below would
        # keep every row (it drops only null keys, excluded here); skip the grouped pass
        return samples
    src = pl.col("source").cast(pl.String).fill_null("")
    dur = (pl.col("end_utc") - pl.col("start_utc")).dt.total_microseconds()
    res = (
        samples.group_by("participant_id", "metric", src.alias("_src"))
        .agg(_med=dur.median())
        .with_columns(_fin=pl.col("_med").min().over("participant_id", "metric"))
        .filter(
            (pl.col("_med") <= 0)
            | (pl.col("_med") < COARSE_SOURCE_RATIO * pl.col("_fin").clip(lower_bound=1))
        )
        .select("participant_id", "metric", "_src")
    )
    return (
        samples.with_columns(_src=src)
        .join(res, on=["participant_id", "metric", "_src"], how="semi")
        .drop("_src")
    )


def _classify_participant(
    pid: str, df: pl.DataFrame, method: str, p: ActigraphyParams
) -> pl.DataFrame:
    df = df.with_columns(s=pl.col("start_utc").dt.epoch("us"), e=pl.col("end_utc").dt.epoch("us"))
    g0 = int(df["s"].min()) // _MIN_US * _MIN_US
    g1 = (int(df["e"].max()) // _MIN_US + 1) * _MIN_US
    n = int((g1 - g0) // _MIN_US)
    cell = lambda t: ((np.asarray(t, np.int64) - g0) // _MIN_US).clip(0, n - 1)  # noqa: E731

    def metric(name: str) -> pl.DataFrame:
        return df.filter(pl.col("metric") == name)

    # steps: amounts spread uniformly over [s, e) (point records land in their minute)
    st = metric("steps")
    steps = None
    if st.height:
        steps = np.zeros(n)
        s, e, v = (st[c].to_numpy() for c in ("s", "e", "value"))
        e = np.maximum(e, s)
        edges = g0 + _MIN_US * np.arange(n + 1, dtype=np.int64)
        point = e == s
        np.add.at(steps, cell(s[point]), v[point])
        if (~point).any():
            s2, e2, v2 = s[~point], e[~point], v[~point]
            rate = v2 / (e2 - s2)
            t = np.concatenate([s2, e2]).astype(float)
            d = np.concatenate([rate, -rate])
            order = np.argsort(t, kind="stable")
            t, d = t[order], d[order]
            slope = np.cumsum(d)
            cum = np.concatenate([[0.0], np.cumsum(slope[:-1] * np.diff(t))])
            steps += np.diff(np.interp(edges.astype(float), t, cum, left=0.0, right=cum[-1]))
    intensity = None
    it = metric("intensity_level").filter(pl.col("e") - pl.col("s") <= 120 * _US)
    if it.height:
        intensity = np.full(n, np.nan)
        np.fmax.at(intensity, cell(it["s"].to_numpy()), it["value"].to_numpy())
    met = None
    mt = metric("met").filter(pl.col("e") - pl.col("s") <= 120 * _US)
    if mt.height:
        tot, cnt = np.zeros(n), np.zeros(n)
        c = cell(mt["s"].to_numpy())
        np.add.at(tot, c, mt["value"].to_numpy())
        np.add.at(cnt, c, 1)
        met = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)
    has_activity = steps is not None or intensity is not None or met is not None
    if has_activity:
        counts = activity_counts_proxy(steps, intensity, met, params=p)
        if steps is not None:  # step exports omit zero intervals: missing steps are zero
            counts = np.where(np.isnan(counts), 0.0, counts)
    else:
        counts = np.full(n, np.nan)

    hr = metric("heart_rate_bpm").filter(pl.col("value") > 0)
    hr_min = np.full(n, np.nan)
    if hr.height:
        hc = cell(hr["s"].to_numpy())
        hv = hr["value"].to_numpy()
        order = np.lexsort((hv, hc))
        hc, hv = hc[order], hv[order]
        uniq, first, cnts = np.unique(hc, return_index=True, return_counts=True)
        hr_min[uniq] = 0.5 * (hv[first + (cnts - 1) // 2] + hv[first + cnts // 2])
    hr_present = np.isfinite(hr_min)
    has_hr_channel = int(hr_present.sum()) >= p.hr_min_minutes

    # offsets per minute: forward-filled from the records
    off = np.full(n, np.iinfo(np.int32).min, dtype=np.int64)
    oc = cell(df["s"].to_numpy())
    off[oc] = df["utc_offset_s"].to_numpy()
    idx = np.maximum.accumulate(np.where(off != np.iinfo(np.int32).min, np.arange(n), 0))
    off = off[idx]
    off = np.where(off == np.iinfo(np.int32).min, int(df["utc_offset_s"][0]), off)

    if method == METHOD_COLE_KRIPKE:
        sleep, _ = cole_kripke_1992(counts, params=p)
    else:
        sleep, _ = sadeh_1994(counts, params=p)
    nonwear = nonwear_minutes(counts, hr_present if has_hr_channel else None, params=p)

    hr_wake = np.zeros(n, bool)
    if has_hr_channel:
        k = max(1, p.hr_roll_s // 60)
        # rolling median over finite values only (NaN-aware via filling with a sentinel run)
        roll = _nan_rolling_median(hr_min, k)
        minute_t = g0 + _MIN_US * np.arange(n, dtype=np.int64)
        night_key = (minute_t // _US + off - NIGHT_START_HOUR * 3600) // 86400
        # minutes grouped by night key (stable sort: each night's minutes keep their order)
        order = np.argsort(night_key, kind="stable")
        bounds = np.flatnonzero(np.diff(night_key[order])) + 1
        for sel in np.split(order, bounds):
            v = hr_min[sel][hr_present[sel]]
            if v.size < p.hr_min_minutes:
                continue
            thr = float(np.percentile(v, p.hr_low_pct)) + p.hr_wake_margin_bpm
            hr_wake[sel] = np.isfinite(roll[sel]) & (roll[sel] > thr)
    asleep = sleep & ~nonwear & ~hr_wake & (np.isfinite(counts) | hr_present)
    return pl.DataFrame(
        {
            "participant_id": pid,
            "minute_utc": (g0 + _MIN_US * np.arange(n, dtype=np.int64)).astype("datetime64[us]"),
            "utc_offset_s": off.astype(np.int32),
            "counts_proxy": counts,
            "hr_bpm": np.where(hr_present, hr_min, np.nan),
            "sleep": asleep,
            "nonwear": nonwear,
            "hr_wake": hr_wake,
        }
    ).with_columns(
        pl.col("minute_utc").dt.replace_time_zone("UTC"),
        pl.col("hr_bpm").fill_nan(None),
    )


def _nan_rolling_median(x: np.ndarray, k: int) -> np.ndarray:
    if k <= 1 or x.size == 0:
        return x.copy()
    from numpy.lib.stride_tricks import sliding_window_view

    pad = k // 2
    xp = np.pad(np.asarray(x, float), (pad, k - 1 - pad), constant_values=np.nan)
    win = np.sort(sliding_window_view(xp, k), axis=1)
    c = np.isfinite(win).sum(axis=1)
    rows = np.arange(x.size)
    lo = win[rows, np.maximum(c - 1, 0) // 2]
    hi = win[rows, c // 2 - (c == 0)]
    return np.where(c > 0, (lo + hi) / 2, np.nan)


def detect_sleep_periods_actigraphy(
    samples: pl.DataFrame,
    *,
    method: str = METHOD_COLE_KRIPKE,
    params: ActigraphyParams = _ACTI,
    minutes: pl.DataFrame | None = None,
) -> pl.DataFrame:
    mins = classify_minutes(samples, method=method, params=params) if minutes is None else minutes
    if mins.height == 0:
        return pl.DataFrame(schema=SLEEP_PERIOD_SCHEMA)
    rows = []
    for (pid,), df in mins.partition_by(
        "participant_id", as_dict=True, maintain_order=True
    ).items():
        t = df["minute_utc"].dt.epoch("us").to_numpy()
        off = df["utc_offset_s"].to_numpy()
        sleep = df["sleep"].to_numpy()
        nonwear = df["nonwear"].to_numpy()
        has_data = (
            df["counts_proxy"].is_not_nan().fill_null(False).to_numpy()
            | df["hr_bpm"].is_not_null().to_numpy()
        )
        hr_used = bool(df["hr_wake"].any()) or int(df["hr_bpm"].is_not_null().sum()) >= (
            params.hr_min_minutes
        )
        # contiguous grid assumed (classify_minutes makes one); split where it is not
        for a, b in sleep_blocks(
            sleep, 60, min_block_s=params.block_min_s, merge_gap_s=params.block_merge_gap_s
        ):
            mid_local_h = ((t[a] + t[b - 1]) // 2 // _US + int(off[a])) % 86400 / 3600
            if params.night_midpoint_latest_h <= mid_local_h < params.night_midpoint_earliest_h:
                continue
            asleep = int(sleep[a:b].sum())
            awake = int((~sleep[a:b] & ~nonwear[a:b] & has_data[a:b]).sum())
            local_s = t[a] // _US + int(off[a]) - NIGHT_START_HOUR * 3600
            rows.append(
                {
                    "participant_id": pid,
                    "night_of": np.datetime64(int(local_s // 86400), "D").astype(object),
                    "start_us": int(t[a]),
                    "end_us": int(t[b - 1] + _MIN_US),
                    "utc_offset_s": int(off[a]),
                    "asleep_s": asleep * 60.0,
                    "awake_s": awake * 60.0,
                    "method": method + ("+hr" if hr_used else ""),
                }
            )
    if not rows:
        return pl.DataFrame(schema=SLEEP_PERIOD_SCHEMA)
    out = (
        pl.DataFrame(rows)
        .sort(
            ["participant_id", "night_of", "asleep_s", "start_us"],
            descending=[False, False, True, False],
        )
        .group_by("participant_id", "night_of", maintain_order=True)
        .first()
    )
    return (
        out.select(
            "participant_id",
            pl.col("night_of").cast(pl.Date),
            start_utc=pl.from_epoch("start_us", time_unit="us").dt.replace_time_zone("UTC"),
            end_utc=pl.from_epoch("end_us", time_unit="us").dt.replace_time_zone("UTC"),
            utc_offset_s=pl.col("utc_offset_s").cast(pl.Int32),
            asleep_s="asleep_s",
            awake_s="awake_s",
            method="method",
            detector_version=pl.lit(DETECTOR_VERSION),
        )
        .sort("participant_id", "night_of")
        .cast(SLEEP_PERIOD_SCHEMA)  # type: ignore[arg-type]
    )


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.diff(np.concatenate([[0], np.asarray(mask).astype(np.int8), [0]]))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def detect_sleep(
    sleep_segments: pl.DataFrame,
    samples: pl.DataFrame | None = None,
    *,
    params: SleepParams = _SLEEP,
    method: str = METHOD_COLE_KRIPKE,
    actigraphy_params: ActigraphyParams = _ACTI,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    seg = prepare(sleep_segments, "sleep_segments", SLEEP_SEGMENTS_SCHEMA)
    staged = detect_stage_periods(seg, params=params)
    if samples is None or samples.height == 0:
        return staged, seg
    minutes = classify_minutes(samples, method=method, params=actigraphy_params)
    acti = detect_sleep_periods_actigraphy(
        samples, method=method, params=actigraphy_params, minutes=minutes
    )
    if acti.height == 0:
        return staged, seg
    acti = acti.join(
        staged.select("participant_id", "night_of"), on=["participant_id", "night_of"], how="anti"
    )
    # an actigraphy period must not overlap a device-stage period of a neighbouring night
    if staged.height and acti.height:
        ov = (
            acti.join(
                staged.select("participant_id", s2="start_utc", e2="end_utc"),
                on="participant_id",
                how="inner",
            )
            .filter((pl.col("start_utc") < pl.col("e2")) & (pl.col("end_utc") > pl.col("s2")))
            .select("participant_id", "night_of")
            .unique()
        )
        acti = acti.join(ov, on=["participant_id", "night_of"], how="anti")
    periods = pl.concat([staged, acti]).sort("participant_id", "night_of")
    extra = actigraphy_segments(minutes, acti, method=method)
    if extra.height:
        if "source" not in seg.columns:
            seg = seg.with_columns(source=pl.lit("", pl.String))
        keep = [c for c in seg.columns if c in extra.columns]
        seg = pl.concat([seg, extra.select(keep)], how="diagonal_relaxed")
    return periods, seg


def actigraphy_segments(
    minutes: pl.DataFrame, periods: pl.DataFrame, *, method: str = METHOD_COLE_KRIPKE
) -> pl.DataFrame:
    schema = {**SLEEP_SEGMENTS_SCHEMA, "source": pl.String}
    if minutes.height == 0 or periods.height == 0:
        return pl.DataFrame(schema=schema)
    m = minutes.join_asof(
        periods.select("participant_id", "start_utc", p_end="end_utc").sort(
            "participant_id", "start_utc"
        ),
        left_on="minute_utc",
        right_on="start_utc",
        by="participant_id",
        strategy="backward",
        check_sortedness=False,  # sorted by start_utc within each participant
    ).filter(pl.col("start_utc").is_not_null() & (pl.col("minute_utc") < pl.col("p_end")))
    if m.height == 0:
        return pl.DataFrame(schema=schema)
    has_data = pl.col("counts_proxy").is_not_nan().fill_null(False) | pl.col("hr_bpm").is_not_null()
    m = m.with_columns(
        stage=pl.when(pl.col("sleep"))
        .then(pl.lit("asleep"))
        .when(~pl.col("nonwear") & ~pl.col("hr_wake") & has_data)
        .then(pl.lit("awake"))
        .otherwise(pl.lit(None, pl.String)),
    ).sort("participant_id", "minute_utc")
    m = m.with_columns(
        run=(
            (pl.col("stage") != pl.col("stage").shift(1)).fill_null(True)
            | (pl.col("minute_utc").diff() != pl.duration(minutes=1)).fill_null(True)
            | (pl.col("start_utc") != pl.col("start_utc").shift(1)).fill_null(True)
        )
        .cum_sum()
        .over("participant_id")
    ).filter(pl.col("stage").is_not_null())
    return (
        m.group_by("participant_id", "run")
        .agg(
            start_utc=pl.col("minute_utc").first(),
            end_utc=pl.col("minute_utc").last() + pl.duration(minutes=1),
            utc_offset_s=pl.col("utc_offset_s").first(),
            stage=pl.col("stage").first(),
        )
        .select(*SLEEP_SEGMENTS_SCHEMA, source=pl.lit(f"actigraphy:{method}"))
        .sort("participant_id", "start_utc")
        .cast(schema)  # type: ignore[arg-type]
    )


# ----------------------------------------------------------------------------------------
# comparison


def _assert_same(
    samples: pl.DataFrame,
    segments: pl.DataFrame | None = None,
    methods: tuple[str, ...] = (METHOD_COLE_KRIPKE, METHOD_SADEH),
) -> None:
    """Minutes, periods (with and without ``minutes=``) and detect_sleep, per method."""
    seg = pl.DataFrame() if segments is None else segments
    for method in methods:
        ref_min = classify_minutes(samples, method=method)
        fast_min = actigraphy.classify_minutes(samples, method=method, params=_PREV)
        assert_frame_equal(fast_min, ref_min, check_exact=True)
        ref_p = detect_sleep_periods_actigraphy(samples, method=method, minutes=ref_min)
        assert_frame_equal(
            actigraphy.detect_sleep_periods_actigraphy(samples, method=method, params=_PREV),
            ref_p,
            check_exact=True,
        )
        assert_frame_equal(
            actigraphy.detect_sleep_periods_actigraphy(
                samples, method=method, minutes=ref_min, params=_PREV
            ),
            ref_p,
            check_exact=True,
        )
        ref_periods, ref_seg = detect_sleep(seg, samples, method=method)
        periods, fast_seg = fast_sleep.detect_sleep(
            seg, samples, method=method, actigraphy_params=_PREV
        )
        assert_frame_equal(periods, ref_periods, check_exact=True)
        assert_frame_equal(fast_seg, ref_seg, check_exact=True)
        assert_frame_equal(
            fast_sleep.actigraphy_segments(ref_min, ref_p, method=method),
            actigraphy_segments(ref_min, ref_p, method=method),
            check_exact=True,
        )
    assert ref_periods.height > 0  # the comparison saw periods ...
    assert (ref_seg["source"] == f"actigraphy:{method}").any() or segments is not None


def _shuffled(frame: pl.DataFrame, seed: int) -> pl.DataFrame:
    order = np.random.default_rng(seed).permutation(frame.height)
    return frame[order]


@pytest.fixture(scope="module")
def bench_years() -> pl.DataFrame:
    return pl.concat([participant_year(k, 20260101) for k in range(2)])


def test_benchmark_years_match(bench_years: pl.DataFrame) -> None:
    _assert_same(bench_years, methods=(METHOD_COLE_KRIPKE,))  # Sadeh: the smaller cases


def test_new_rules_do_not_fire_on_benchmark_years(bench_years: pl.DataFrame) -> None:
    # every benchmark participant has HR (no daytime-flat rule), no block crosses local noon
    # and no main period exceeds 16 h: the defaults give exactly the reference's output
    ref_min = classify_minutes(bench_years)
    assert_frame_equal(actigraphy.classify_minutes(bench_years), ref_min, check_exact=True)
    ref = detect_sleep_periods_actigraphy(bench_years, minutes=ref_min)
    assert ref.height > 300
    assert_frame_equal(
        actigraphy.detect_sleep_periods_actigraphy(bench_years), ref, check_exact=True
    )


def test_benchmark_years_shuffled_match(bench_years: pl.DataFrame) -> None:
    # rows in random order: participants interleaved, HR minutes out of order
    _assert_same(_shuffled(bench_years.filter(pl.col("start_utc").dt.month() <= 2), 1))


def test_benchmark_year_with_travel_and_dst_matches(bench_years: pl.DataFrame) -> None:
    one = bench_years.filter(pl.col("participant_id") == "b000")
    t = pl.col("start_utc")

    def utc(*a: int) -> pl.Expr:
        return pl.datetime(*a, time_zone="UTC")

    # DST from 10 March (-4 h), a week at +1 h in June and one at +9 h in August: offsets
    # change inside nights, and the flight back from +9 h at 13:00 local lands on the
    # previous noon-to-noon night (night keys go back in time order)
    off = (
        pl.when(t.is_between(utc(2024, 6, 3, 23), utc(2024, 6, 10, 4, 30)))
        .then(3600)
        .when(t.is_between(utc(2024, 8, 10, 2), utc(2024, 8, 17, 4)))
        .then(32400)
        .when(t >= utc(2024, 3, 10, 7))
        .then(-14400)
        .otherwise(-18000)
    )
    smp = one.with_columns(utc_offset_s=off.cast(pl.Int32))
    mins = actigraphy.classify_minutes(smp, params=_PREV)
    key = (mins["minute_utc"].dt.epoch("s") + mins["utc_offset_s"] - 12 * 3600) // 86400
    assert (key.diff().drop_nulls() < 0).any()
    _assert_same(smp, methods=(METHOD_COLE_KRIPKE,))


@pytest.fixture(scope="module")
def sample_inputs() -> tuple[pl.DataFrame, pl.DataFrame]:
    from pipeline.importers import ImportContext, apple_health

    tables: dict[str, list[pl.DataFrame]] = {}
    for pid in ("p01", "p02"):
        path = SAMPLE_DATA / "inbox" / pid / "export.zip"
        for batch in apple_health.read(path, ImportContext(participant_id=pid)):
            tables.setdefault(batch.table, []).append(batch.frame)
    smp = pl.concat(tables["samples"], how="diagonal_relaxed")
    seg = pl.concat(tables["sleep_segments"], how="diagonal_relaxed")
    return smp, seg


def test_sample_data_matches(sample_inputs: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    smp, seg = sample_inputs
    assert smp.filter(pl.col("metric") == "steps")["source"].n_unique() == 4  # phone + watch
    _assert_same(smp, seg)
    _assert_same(smp)  # no device stages: actigraphy for every night


def test_sample_data_shuffled_matches(sample_inputs: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    smp, seg = sample_inputs
    _assert_same(_shuffled(smp, 2), _shuffled(seg, 3))


@pytest.mark.parametrize("hr_s", [1, 300])
def test_nightgen_matches(hr_s: int) -> None:
    g = generate(GenConfig(participants=3, nights=12, seed=11, hr_resolution_s=hr_s))
    _assert_same(g.samples, g.sleep_segments)
    _assert_same(g.samples)


# ----------------------------------------------------------------------------------------
# helpers on random arrays


def _random_sleep(rng: np.random.Generator, n: int) -> np.ndarray:
    # runs of geometric lengths around 1-40 minutes
    lengths = rng.geometric(rng.choice([0.05, 0.2, 0.6]), n)
    vals = np.arange(lengths.size) % 2 == rng.integers(0, 2)
    return np.repeat(vals, lengths)[:n]


@pytest.mark.parametrize("seed", range(6))
def test_webster_nonwear_blocks_match(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for n in (0, 1, 5, 30, 2000, 20000):
        s = _random_sleep(rng, n)
        np.testing.assert_array_equal(actigraphy.webster_rescore(s), webster_rescore(s))
        counts = np.where(_random_sleep(rng, n), 0.0, rng.integers(1, 300, n))
        counts[rng.random(n) < 0.05] = np.nan
        hr = _random_sleep(rng, n)
        for p in (ActigraphyParams(), ActigraphyParams(nonwear_spike_s=0, nonwear_min_s=600)):
            np.testing.assert_array_equal(
                actigraphy.nonwear_minutes(counts, hr, params=p),
                nonwear_minutes(counts, hr, params=p),
            )
        for min_s, gap_s in ((1800, 3600), (0, 0), (300, 900)):
            fast = actigraphy.sleep_blocks(s, 60, min_block_s=min_s, merge_gap_s=gap_s)
            assert fast == sleep_blocks(s, 60, min_block_s=min_s, merge_gap_s=gap_s)


def test_percentile_sorted_matches_numpy() -> None:
    rng = np.random.default_rng(7)
    counts = np.concatenate([np.arange(1, 60), rng.integers(200, 1500, 40)])
    groups = [np.sort(np.round(rng.normal(60, 9, c)) + rng.choice([0, 0.5], c)) for c in counts]
    srt = np.concatenate(groups)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    for pct in (0.0, 10.0, 10, 33.3, 50.0, 90.0, 100.0):
        got = actigraphy._percentile_sorted(srt, start, counts, pct)
        want = np.array([np.percentile(g, pct) for g in groups])
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("per_minute", [1, 4, 13, 60])
def test_cell_medians_match_sorted_groups(per_minute: int) -> None:
    rng = np.random.default_rng(per_minute)
    n = 500
    for sort in (True, False):
        cell = rng.integers(0, n, n * per_minute)
        cell = np.sort(cell) if sort else cell
        value = np.round(rng.normal(60, 8, cell.size)) + rng.choice([0, 0.25], cell.size)
        order = np.lexsort((value, cell))
        c, v = cell[order], value[order]
        want = np.full(n, np.nan)
        uniq, first, cnts = np.unique(c, return_index=True, return_counts=True)
        want[uniq] = 0.5 * (v[first + (cnts - 1) // 2] + v[first + cnts // 2])
        np.testing.assert_array_equal(actigraphy.cell_medians(cell, value, n), want)


def _ref_hr_wake(hr_min, hr_present, minute_t, off, p):
    # the per-night loop of the reference _classify_participant
    hr_wake = np.zeros(hr_min.size, bool)
    roll = _nan_rolling_median(hr_min, max(1, p.hr_roll_s // 60))
    night_key = (minute_t // _US + off - NIGHT_START_HOUR * 3600) // 86400
    order = np.argsort(night_key, kind="stable")
    bounds = np.flatnonzero(np.diff(night_key[order])) + 1
    for sel in np.split(order, bounds):
        v = hr_min[sel][hr_present[sel]]
        if v.size < p.hr_min_minutes:
            continue
        thr = float(np.percentile(v, p.hr_low_pct)) + p.hr_wake_margin_bpm
        hr_wake[sel] = np.isfinite(roll[sel]) & (roll[sel] > thr)
    return hr_wake


@pytest.mark.parametrize("seed", range(4))
def test_hr_wake_matches_per_night_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 12 * 1440
    t = 1_704_067_200 * _US + _MIN_US * np.arange(n, dtype=np.int64)
    # offsets jumping back and forth by up to 14 h (night keys out of time order)
    off = np.repeat(rng.choice([-36000, -18000, 0, 19800, 32400, 50400], 30), n // 30 + 1)[:n]
    level = np.repeat(rng.normal(60, 6, 40), n // 40 + 1)[:n]  # HR level changing in steps
    hr = np.round(level + rng.normal(0, 4, n) + 15 * (rng.random(n) < 0.2)) + rng.choice(
        [0, 0.5], n
    )
    hr[rng.random(n) < rng.choice([0.02, 0.5, 0.9])] = np.nan
    present = np.isfinite(hr)
    for p in (ActigraphyParams(), ActigraphyParams(hr_min_minutes=600, hr_low_pct=25.0)):
        np.testing.assert_array_equal(
            actigraphy._hr_wake(hr, present, t, off.astype(np.int64), p),
            _ref_hr_wake(hr, present, t, off.astype(np.int64), p),
        )


@pytest.mark.parametrize("k", [1, 2, 3, 10, 11])
@pytest.mark.parametrize("p_nan", [0.0, 0.3, 0.9])
def test_rolling_median_above_matches_median_then_compare(k: int, p_nan: float) -> None:
    rng = np.random.default_rng([k, int(p_nan * 10)])
    for n in (1, 2, 7, 3000):
        x = np.round(rng.normal(60, 6, n)) + rng.choice([0, 0.5], n)
        x[rng.random(n) < p_nan] = np.nan
        # thresholds constant over stretches (nights), some NaN, often equal to data values
        thr = np.repeat(rng.choice([np.nan, 55.0, 60.0, 60.5, 64.0], n // 50 + 1), 50)[:n]
        m = actigraphy._nan_rolling_median(x, k)
        np.testing.assert_array_equal(
            actigraphy._rolling_median_above(x, k, thr), np.isfinite(m) & (m > thr)
        )
        at = np.flatnonzero(rng.random(n) < 0.3)
        np.testing.assert_array_equal(actigraphy._nan_rolling_median(x, k, at=at), m[at])


def test_mixed_channels_and_odd_rows_match(bench_years: pl.DataFrame) -> None:
    # three weeks of both participants with every kind of row the classification reads or
    # skips: METs, a second (lower) intensity row in some minutes (per-minute maximum),
    # level rows longer than 2 min (ignored), point steps, an hourly steps copy (dropped as
    # coarser), other metrics, NaN and null values, a second source
    base = bench_years.filter(pl.col("start_utc") < pl.datetime(2024, 1, 22, time_zone="UTC"))
    lvl = base.filter(pl.col("metric") == "intensity_level")
    t = pl.col("start_utc")
    extra = [
        lvl.with_columns(metric=pl.lit("met"), value=1.2 + pl.col("value") * 2.1),
        lvl.filter(t.dt.minute() % 7 == 0).with_columns(value=(pl.col("value") - 1).clip(0)),
        lvl.filter(t.dt.minute() == 30).with_columns(end_utc=t + pl.duration(minutes=5)),
        base.filter(pl.col("metric") == "steps")
        .filter(t.dt.minute() % 3 == 0)
        .with_columns(end_utc=t, value=pl.col("value") / 2),
        base.filter(pl.col("metric") == "steps")
        .group_by("participant_id", t.dt.truncate("1h"))
        .agg(pl.col("value").sum(), pl.col("utc_offset_s").first())
        .select(
            "participant_id",
            metric=pl.lit("steps"),
            start_utc="start_utc",
            end_utc=t + pl.duration(hours=1),
            utc_offset_s="utc_offset_s",
            value="value",
            source=pl.lit("bench:hourly"),
        ),
        lvl.head(50).with_columns(metric=pl.lit("water_ml")),
        lvl.slice(100, 20).with_columns(value=pl.lit(float("nan"))),
        lvl.slice(200, 20).with_columns(value=pl.lit(None, pl.Float64)),
        lvl.slice(300, 20).with_columns(source=pl.lit("other:minute")),
    ]
    mixed = pl.concat([base, *[e.select(base.columns) for e in extra]])
    _assert_same(mixed)
    hr_only = base.filter(pl.col("metric") == "heart_rate_bpm")
    no_hr = mixed.filter(pl.col("metric") != "heart_rate_bpm")
    for frame in (hr_only, no_hr, mixed.drop("source")):
        for method in (METHOD_COLE_KRIPKE, METHOD_SADEH):
            assert_frame_equal(
                actigraphy.classify_minutes(frame, method=method, params=_PREV),
                classify_minutes(frame, method=method),
                check_exact=True,
            )
            ref = detect_sleep(pl.DataFrame(), frame, method=method)
            got = fast_sleep.detect_sleep(
                pl.DataFrame(), frame, method=method, actigraphy_params=_PREV
            )
            assert_frame_equal(got[0], ref[0], check_exact=True)
            assert_frame_equal(got[1], ref[1], check_exact=True)
    # nothing the classification reads: empty, same schemas
    none = lvl.head(10).with_columns(metric=pl.lit("water_ml"))
    assert_frame_equal(actigraphy.classify_minutes(none), classify_minutes(none))
    for got, ref in zip(
        fast_sleep.detect_sleep(pl.DataFrame(), none),
        detect_sleep(pl.DataFrame(), none),
        strict=True,
    ):
        assert_frame_equal(got, ref)
