"""One seeded participant-year of Fitbit-like minute data, generated in one vectorised pass.

Minute steps and intensity level, HR once a minute by day and every 15 s in bed (no device
stages, so the actigraphy fallback runs), bed 23:00 and wake 07:00 +/- 1 h at UTC-5, walking
in 5 % of waking minutes, and a cramp-like event (6 min, 12 steps, HR +22 bpm) on ~3 % of
nights. Used by ``benchmarks/detect.py`` (speed) and by the frozen-output and equivalence
tests of the detectors as a long, cheap input; it is not an accuracy benchmark.
"""

from __future__ import annotations

import numpy as np
import polars as pl

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
