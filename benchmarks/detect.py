"""Benchmark: sleep periods + cramp detection over participant-years of minute data.

Generates, in-process and seeded, Fitbit-like data (minute steps and intensity level,
HR once a minute by day and every 15 s in bed, no device stages, so the actigraphy fallback
runs) for ``--participants`` participant-years, then times

* ``load``: building the input frames (the floor any detector pays: polars construction),
* ``sleep``: :func:`detectors.sleep.detect_sleep` (Cole-Kripke + HR, actigraphy segments),
* ``cramps``: :func:`detectors.cramps.detect_nocturnal_cramps`,
* ``naive``: a per-night pure-Python loop computing only each night's minute HR medians and
  a Cole-Kripke sum (a baseline for the ratio, on 5 participants, scaled),

and prints participant-nights per second, seconds per participant-year and the ratios
(detector / load, detector / naive), as the brief asks for ratios on noisy machines.

    uv run python benchmarks/detect.py                  # 100 participant-years
    uv run python benchmarks/detect.py --participants 5 # quick look
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detectors.actigraphy import classify_minute_grid  # noqa: E402
from detectors.cramps import detect_nocturnal_cramps  # noqa: E402
from detectors.sleep import detect_sleep  # noqa: E402

DAYS = 365
US = 1_000_000


def participant_year(k: int, seed: int) -> pl.DataFrame:
    """One participant-year of long samples (vectorised numpy, no per-night Python loop)."""
    rng = np.random.default_rng([seed, k])
    t0 = 1_704_067_200 + 5 * 3600  # 2024-01-01 00:00 at UTC-5
    off = -18000
    n_min = DAYS * 1440
    m = np.arange(n_min)
    local_min = (m + 0) % 1440
    bed = 23 * 60 + rng.integers(-60, 60, DAYS)
    wake = 7 * 60 + rng.integers(-60, 60, DAYS)
    day = m // 1440
    asleep = (local_min >= bed[day]) | (local_min < wake[np.minimum(day, DAYS - 1)])
    walking = (~asleep) & (rng.random(n_min) < 0.05)
    steps = np.where(walking, rng.integers(60, 120, n_min), 0)
    level = np.where(walking, 2, np.where(~asleep & (rng.random(n_min) < 0.3), 1, 0))
    hr_min = np.where(asleep, 55.0, 72.0) + rng.normal(0, 2, n_min) + 20 * walking
    # a cramp-like event on ~3 % of nights: 6 min, 12 steps, HR +22
    ev_days = np.flatnonzero(rng.random(DAYS) < 0.03)
    for d in ev_days:
        s = d * 1440 + 60 * 3
        hr_min[s : s + 8] += 22
        steps[s + 1] = 12
        level[s : s + 6] = 1
    start = (t0 + 60 * m) * US
    frames = [
        pl.DataFrame({"metric": "steps", "s": start[steps > 0], "v": steps[steps > 0]}),
        pl.DataFrame({"metric": "intensity_level", "s": start, "v": level}),
    ]
    # HR: one per minute awake; every 15 s asleep (4 per minute)
    sub = np.repeat(np.arange(n_min)[asleep], 4)
    frac = np.tile([0, 15, 30, 45], int(asleep.sum()))
    hr_t = np.concatenate([start[~asleep], start[sub] + frac * US])
    hr_v = np.concatenate([hr_min[~asleep], hr_min[sub] + rng.normal(0, 1, sub.size)])
    frames.append(pl.DataFrame({"metric": "heart_rate_bpm", "s": hr_t, "v": np.round(hr_v)}))
    out = pl.concat(
        [f.with_columns(pl.col("v").cast(pl.Float64), pl.col("s").cast(pl.Int64)) for f in frames]
    )
    dur = pl.when(pl.col("metric") == "heart_rate_bpm").then(0).otherwise(60 * US)
    return out.select(
        participant_id=pl.lit(f"b{k:03d}"),
        metric="metric",
        start_utc=pl.col("s").cast(pl.Datetime("us", "UTC")),
        end_utc=(pl.col("s") + dur).cast(pl.Datetime("us", "UTC")),
        utc_offset_s=pl.lit(off, pl.Int32),
        value="v",
        source=pl.lit("bench:minute"),
    ).sort("metric", "start_utc")


def naive_baseline(smp: pl.DataFrame) -> float:
    """Per-night Python loop: minute HR medians and a Cole-Kripke sum, nothing else."""
    t = time.perf_counter()
    hr = smp.filter(pl.col("metric") == "heart_rate_bpm")
    ts = (hr["start_utc"].dt.epoch("s").to_numpy() // 60).tolist()
    vs = hr["value"].to_list()
    st = smp.filter(pl.col("metric") == "steps")
    steps = dict(
        zip(
            (st["start_utc"].dt.epoch("s").to_numpy() // 60).tolist(),
            st["value"].to_list(),
            strict=True,
        )
    )
    by_min: dict[int, list[float]] = {}
    for a, b in zip(ts, vs, strict=True):
        by_min.setdefault(a, []).append(b)
    first = min(by_min)
    w = (106, 54, 58, 76, 230, 74, 67)
    for night in range(DAYS):
        lo = first + night * 1440 + 12 * 60
        meds = [statistics.median(by_min[x]) for x in range(lo, lo + 1440) if x in by_min]
        a = [min(steps.get(x, 0) * 19.52 / 100, 300) for x in range(lo - 4, lo + 1442)]
        _ = [sum(w[k] * a[i + k] for k in range(7)) * 0.001 < 1 for i in range(1440)]
        _ = meds
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--participants", type=int, default=100)
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--batch", type=int, default=10, help="participants per detector call")
    args = ap.parse_args()

    t_load = t_sleep = t_cramps = 0.0
    nights = episodes = 0
    per_year: list[float] = []
    naive_s: list[float] = []
    grid_s: list[float] = []  # minute classification alone (first batch), for the breakdown
    for b0 in range(0, args.participants, args.batch):
        t = time.perf_counter()
        smp = pl.concat(
            [
                participant_year(k, args.seed)
                for k in range(b0, min(args.participants, b0 + args.batch))
            ]
        )
        t_load += time.perf_counter() - t
        seg = pl.DataFrame()
        t = time.perf_counter()
        periods, segs = detect_sleep(seg, smp)
        ts = time.perf_counter() - t
        t = time.perf_counter()
        eps = detect_nocturnal_cramps(smp, segs, periods)
        tc = time.perf_counter() - t
        t_sleep += ts
        t_cramps += tc
        if not grid_s:
            t = time.perf_counter()
            classify_minute_grid(smp)
            grid_s.append((time.perf_counter() - t) / smp["participant_id"].n_unique())
        n_p = smp["participant_id"].n_unique()
        per_year.append((ts + tc) / n_p)
        nights += periods.height
        episodes += eps.height
        if len(naive_s) < 5:
            one = smp.filter(pl.col("participant_id") == smp["participant_id"][0])
            naive_s.append(naive_baseline(one))
    total = t_sleep + t_cramps
    naive = statistics.median(naive_s)
    load_py = t_load / args.participants
    det_py = total / args.participants
    print(f"participant-years: {args.participants}  participant-nights with a period: {nights}")
    print(f"episodes: {episodes} ({episodes / max(nights, 1):.3f} per night; ~0.03 planted)")
    print(f"sleep {t_sleep:.1f} s, cramps {t_cramps:.1f} s, total {total:.1f} s")
    print(f"participant-nights per second: {nights / total:.0f}")
    sleep_py = t_sleep / args.participants
    print(
        f"sleep per participant-year: {sleep_py:.3f} s ({sleep_py / load_py:.2f}x building the "
        f"input frames); of which minute classification ~{grid_s[0]:.3f} s (first batch, "
        "timed again alone), periods + segments the rest"
    )
    print(
        f"seconds per participant-year (sleep + cramps): {det_py:.3f} "
        f"(median batch {statistics.median(per_year):.3f}; target < 1 s)"
    )
    print(f"ratio to building the input frames: {det_py / load_py:.1f}x ({load_py:.3f} s/year)")
    print(
        f"ratio to a naive per-night Python loop (HR medians + CK sum only, {naive:.2f} s/year): "
        f"{det_py / naive:.2f}x"
    )


if __name__ == "__main__":
    main()
