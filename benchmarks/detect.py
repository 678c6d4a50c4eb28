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

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detectors.actigraphy import classify_minute_grid  # noqa: E402
from detectors.cramps import detect_nocturnal_cramps  # noqa: E402
from detectors.sleep import detect_sleep  # noqa: E402
from simulators.minute_year import DAYS, participant_year  # noqa: E402


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
