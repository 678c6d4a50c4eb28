"""Recorded-data bound for the physio and bedside simulators: what a classifier reaches when it is told
where every night event begins and sees only what the watch recorded around it (issue 10,
item 1, beside :mod:`evaluation.oracle`).

:mod:`evaluation.oracle` gives a classifier the simulator's hidden event features (true heart
rate rise, true steps, standing, ...) and reaches F1 0.68 on physio and 0.71 on bedside: how
far the literature ranges themselves leave cramps and their confounders apart. This script
keeps the oracle's one
advantage that no detector has -- the true onset of every event, so segmentation costs
nothing -- and takes away the hidden features: each event is described only by the samples
that the exports hold after the real importers (``simulators.<family>.ingest``) and the sleep
pipeline (``pipeline.detect._sleep``):

* heart rate (``heart_rate_bpm`` samples): the median over the 20 min before onset; the
  maximum, mean and number of samples in the 10 min from onset, and their rise over that
  median; the mean 10-20 min after onset minus the median; the seconds from onset to the
  first sample; the median spacing of samples within +-30 min (the resolution);
* steps (``steps`` samples, counted): in the 2 min around onset, from 2 min before to 10 min
  after, and 10-30 min after; the minutes from onset to the first minute with steps;
* sleep (the device's or the actigraphy segments): the stage at onset (one-hot: awake,
  asleep, light/core, deep, rem, unknown), minutes awake in the 30 min from onset, hours since
  the night's first asleep segment.

A gradient-boosted classifier (scikit-learn's ``HistGradientBoostingClassifier``, the same
as the hidden-feature oracle) is fitted on the development seeds and scored on the held-out
seeds per event, overall and per export format (Apple Health: heart rate minutes apart;
Fitabase: seconds). The gap between this bound and the hidden-feature oracle is what the
recording loses; the gap between it and the detector is what segmentation and the detector
leave on the table.

Usage::

    uv run --frozen python -m evaluation.oracle_observed [--family physio|bedside|nocturne]
"""

from __future__ import annotations

import importlib
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation import candidates as C  # noqa: E402
from evaluation.oracle import NOT_EVENTS, scores, simulator_cache_key  # noqa: E402

STAGES = ("awake", "asleep", "light", "deep", "rem")
FEATURES = (
    "hr_base_bpm",
    "hr_n_base",
    "hr_post_max_rise_bpm",
    "hr_post_mean_rise_bpm",
    "hr_n_post",
    "hr_late_rise_bpm",
    "hr_first_after_s",
    "hr_spacing_s",
    "steps_around",
    "steps_post10",
    "steps_post30",
    "first_step_min",
    "awake_min_30",
    "hours_since_sleep",
    *(f"stage_{s}" for s in STAGES),
)


def _epoch_s(col: pl.Series) -> np.ndarray:
    return col.dt.epoch("us").to_numpy().astype(np.float64) / 1e6


def _window_stats(t: np.ndarray, v: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """Per window [lo, hi): count, sum, max (nan when empty) of the sorted series."""
    a = np.searchsorted(t, lo, "left")
    b = np.searchsorted(t, hi, "left")
    n = b - a
    cs = np.r_[0.0, np.cumsum(v)]
    s = cs[b] - cs[a]
    mx = np.full(lo.size, np.nan)
    ok = n > 0
    if ok.any() and v.size:
        mx[ok] = np.maximum.reduceat(v, a[ok]) if ok.all() else _max_ranges(v, a[ok], b[ok])
    return n, s, mx, a


def _max_ranges(v: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.array([v[i:j].max() for i, j in zip(a, b, strict=True)])


def _median_window(t, v, lo, hi) -> np.ndarray:
    a = np.searchsorted(t, lo, "left")
    b = np.searchsorted(t, hi, "left")
    return np.array([np.median(v[i:j]) if j > i else np.nan for i, j in zip(a, b, strict=True)])


def event_features(
    events: pl.DataFrame, samples: pl.DataFrame, segments: pl.DataFrame
) -> pl.DataFrame:
    """One row of :data:`FEATURES` per event (``participant_id``, ``start_utc``)."""
    out = []
    for (pid,), ev in events.partition_by("participant_id", as_dict=True).items():
        t0 = _epoch_s(ev["start_utc"])
        s = samples.filter(pl.col("participant_id") == pid)
        hr = s.filter(pl.col("metric") == "heart_rate_bpm").sort("start_utc")
        th, vh = _epoch_s(hr["start_utc"]), hr["value"].to_numpy().astype(float)
        st = s.filter(pl.col("metric") == "steps").sort("start_utc")
        ts, vs = _epoch_s(st["start_utc"]), st["value"].to_numpy().astype(float)
        f: dict[str, np.ndarray] = {}
        base = _median_window(th, vh, t0 - 1200, t0 - 60)
        f["hr_base_bpm"] = base
        f["hr_n_base"] = np.searchsorted(th, t0 - 60) - np.searchsorted(th, t0 - 1200)
        n, sm, mx, a = _window_stats(th, vh, t0, t0 + 600)
        f["hr_post_max_rise_bpm"] = mx - base
        f["hr_post_mean_rise_bpm"] = np.where(n > 0, sm / np.maximum(n, 1), np.nan) - base
        f["hr_n_post"] = n
        n2, sm2, _, _ = _window_stats(th, vh, t0 + 600, t0 + 1200)
        f["hr_late_rise_bpm"] = np.where(n2 > 0, sm2 / np.maximum(n2, 1), np.nan) - base
        nxt = np.searchsorted(th, t0, "left")
        f["hr_first_after_s"] = (
            np.where(nxt < th.size, th[np.minimum(nxt, th.size - 1)] - t0, np.nan)
            if th.size
            else np.full(t0.size, np.nan)
        )
        lo_i = np.searchsorted(th, t0 - 1800)
        hi_i = np.searchsorted(th, t0 + 1800)
        f["hr_spacing_s"] = np.array(
            [
                np.median(np.diff(th[i:j])) if j - i > 1 else np.nan
                for i, j in zip(lo_i, hi_i, strict=True)
            ]
        )
        f["steps_around"] = _window_stats(ts, vs, t0 - 120, t0 + 120)[1]
        f["steps_post10"] = _window_stats(ts, vs, t0 - 120, t0 + 600)[1]
        f["steps_post30"] = _window_stats(ts, vs, t0 + 600, t0 + 1800)[1]
        pos = np.flatnonzero(vs > 0)
        tpos = ts[pos]
        k = np.searchsorted(tpos, t0 - 120)
        f["first_step_min"] = (
            np.where(k < tpos.size, (tpos[np.minimum(k, max(tpos.size - 1, 0))] - t0) / 60, np.nan)
            if tpos.size
            else np.full(t0.size, np.nan)
        )
        seg = segments.filter(pl.col("participant_id") == pid).sort("start_utc")
        gs, ge = _epoch_s(seg["start_utc"]), _epoch_s(seg["end_utc"])
        stage = seg["stage"].to_list()
        j = np.searchsorted(gs, t0, "right") - 1
        at = [stage[i] if i >= 0 and ge[i] > x else "unknown" for i, x in zip(j, t0, strict=True)]
        for name in STAGES:
            f[f"stage_{name}"] = np.array([1.0 if st_ == name else 0.0 for st_ in at])
        awake = np.array([x == "awake" for x in stage], bool)
        aw_s, aw_e = gs[awake], ge[awake]
        f["awake_min_30"] = np.array(
            [
                np.clip(np.minimum(aw_e, x + 1800) - np.maximum(aw_s, x), 0, None).sum() / 60
                for x in t0
            ]
        )
        asleep = np.array([x in ("asleep", "light", "deep", "rem") for x in stage], bool)
        sl = gs[asleep]
        # the night's first asleep segment: the first after the last >= 4 h gap in sleep
        starts = np.r_[sl[:1], sl[1:][np.diff(sl) > 4 * 3600]] if sl.size else sl
        m = np.searchsorted(starts, t0, "right") - 1
        f["hours_since_sleep"] = np.where(
            m >= 0, (t0 - starts[np.maximum(m, 0)]) / 3600 if starts.size else np.nan, np.nan
        )
        out.append(
            ev.select("participant_id", "kind", "is_cramp").with_columns(
                **{k: pl.Series(k, np.asarray(v, float)) for k, v in f.items()}
            )
        )
    return pl.concat(out)


def recorded_features(seed: int, family: str = "physio") -> pl.DataFrame:
    """Events of ``family`` (physio, bedside or nocturne) at ``seed`` with their recorded-data
    features (cached)."""
    key = simulator_cache_key(Path(__file__), family=family)
    cached = C.CACHE / f"oracle-observed-{family}-{seed}-{key}.parquet"
    if cached.exists():
        return pl.read_parquet(cached)
    from pipeline import store

    ingest = importlib.import_module(f"simulators.{family}.ingest").ingest
    tmp = Path(tempfile.mkdtemp(prefix=f"cw-oracle-obs-{family}-{seed}-"))
    try:
        C._generate(family, seed, tmp)
        hidden = pl.read_csv(tmp / "hidden_features.csv", infer_schema_length=None)
        db = tmp / "oracle.duckdb"
        with store.connect(db) as con:
            ingest(tmp, db, con=con)
            samples, segments, _ = C.sleep_inputs(con)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    events = hidden.filter(~pl.col("kind").is_in(NOT_EVENTS)).with_columns(
        pl.col("start_utc").str.to_datetime(time_zone="UTC"),
    )
    frame = event_features(
        events,
        samples.select("participant_id", "metric", "start_utc", "value"),
        segments.select("participant_id", "start_utc", "end_utc", "stage"),
    )
    fmt = (
        pl.when(pl.col("participant_id").str.starts_with("fitabase-"))
        .then(pl.lit("fitabase"))
        .otherwise(pl.lit("apple"))
    )
    frame = frame.with_columns(export=fmt)
    C.CACHE.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(cached)
    return frame


def bound(family: str = "physio") -> dict:
    from sklearn.ensemble import HistGradientBoostingClassifier

    dev, held = C.SEEDS[family]
    train = pl.concat([recorded_features(s, family) for s in dev])
    test = pl.concat([recorded_features(s, family) for s in held])
    m = HistGradientBoostingClassifier(random_state=0).fit(
        train.select(FEATURES).to_numpy(), train["is_cramp"].to_numpy()
    )
    p = m.predict_proba(test.select(FEATURES).to_numpy())[:, 1]
    y = test["is_cramp"].to_numpy().astype(bool)
    res = {
        "events": int(y.size),
        "cramps": int(y.sum()),
        "possible": scores(y, p >= 0.4),
        "likely": scores(y, p >= 0.7),
    }
    for fmt in ("apple", "fitabase"):
        sel = (test["export"] == fmt).to_numpy()
        res[fmt] = scores(y[sel], p[sel] >= 0.4) | {"cramps": int(y[sel].sum())}
    return res


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--family", choices=("physio", "bedside", "nocturne"), default="physio")
    fam = ap.parse_args(argv).family
    b = bound(fam)
    print(
        f"recorded-data bound on {fam} held-out seeds {C.SEEDS[fam][1]} "
        f"({b['events']} events told by their true onset, {b['cramps']} cramps; "
        f"features: what the exports record around each onset)"
    )
    for name in ("possible", "likely", "apple", "fitabase"):
        s = b[name]
        print(
            f"  {name:8s} P {s['precision']:.2f}  R {s['recall']:.2f}  F1 {s['f1']:.2f}  "
            f"(TP {s['tp']}, FP {s['fp']}, FN {s['fn']})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
