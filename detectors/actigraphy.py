"""Sleep/wake and non-wear from activity: published actigraphy algorithms as pure functions.

Two families, both pure (numpy in, numpy out; polars wrappers at the end):

* **1-min counts** (or a documented proxy for them): Cole-Kripke 1992 with Webster's
  rescoring rules, Sadeh 1994. Consumer exports (Fitbit, Garmin) give minute *steps*,
  *intensity levels* or *METs*, not counts; :func:`activity_counts_proxy` maps them onto the
  count scale with published anchors (Freedson 1998 cut-points, 100 steps/min ~ 1952
  counts/min). Running the count algorithms on that proxy is **our adaptation**, not a
  validated method: steps are zero for arm movements in bed, so the proxy under-reports
  wake. Heart rate, when present, adds a second wake criterion (night-relative, grade D).
* **Raw tri-axial acceleration**: the z-angle, van Hees 2015 sustained inactivity bouts,
  van Hees 2018 HDCZA sleep-period-time window, and van Hees 2013 non-wear.

Non-wear is always excluded from sleep: a watch on the charger is never "deep sleep".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import ndimage

from detectors.frames import SAMPLES_SCHEMA, prepare
from detectors.nights import NIGHT_START_HOUR
from detectors.schema import SLEEP_PERIOD_SCHEMA

DETECTOR_VERSION = "actigraphy-0.1"

#: method names written to ``sleep_periods.method`` (also citation keys, style guide 3)
METHOD_COLE_KRIPKE = "cole1992"
METHOD_SADEH = "sadeh1994"
METHOD_HDCZA = "vanhees2018_hdcza"

#: metrics read as the activity proxy (the proxy is the maximum over the available ones):
#: steps (count per interval), Fitbit's intensity level 0-3 per minute, METs per minute
ACTIVITY_METRICS: tuple[str, ...] = ("steps", "intensity_level", "met")

#: a source whose median interval is this many times longer than the finest source of the same
#: metric is a coarser copy of the same signal (Fitabase stores minute, hourly and daily steps)
COARSE_SOURCE_RATIO = 20.0

_US = 1_000_000
_MIN_US = 60 * _US


@dataclass(frozen=True)
class ActigraphyParams:
    """Parameters of the actigraphy functions; each field cites ``REFERENCES[key]``."""

    # --- Cole-Kripke 1992, 1-min epochs (ActiLife variant) ---
    #: [cole1992] weights of A-4 .. A+2 for 1-min epochs
    ck_weights: tuple[float, ...] = (106.0, 54.0, 58.0, 76.0, 230.0, 74.0, 67.0)
    ck_scale: float = 0.001  # [cole1992] P = 0.001
    ck_threshold: float = 1.0  # [cole1992] sleep if D < 1
    ck_count_divisor: float = 100.0  # [actilife] counts / 100 ...
    ck_count_cap: float = 300.0  # [actilife] ... capped at 300
    webster_rescore: bool = True  # [cole1992] Webster rules a-e [webster1982]

    # --- Sadeh 1994 ---
    sadeh_count_cap: float = 300.0  # [sadeh1994] counts capped at 300 (also [actilife])
    sadeh_intercept: float = 7.601  # [sadeh1994]
    sadeh_w_mean: float = 0.065  # [sadeh1994] mean of the 11-min window centred on t
    sadeh_w_nats: float = 1.08  # [sadeh1994] epochs in the window with 50 <= counts < 100
    sadeh_w_sd: float = 0.056  # [sadeh1994] SD of the current and 5 preceding epochs
    sadeh_w_log: float = 0.703  # [sadeh1994] ln(A0 + 1)
    sadeh_threshold: float = 0.0  # [sadeh1994] sleep if PS > 0 (ActiLife uses -4 [actilife])

    # --- consumer proxy for counts (our adaptation) ---
    #: [freedson1998] 1952 counts/min = 3 METs; [tudorlocke2018] 100 steps/min ~ 3 METs,
    #: hence 19.52 counts per step (grade D: steps miss in-bed arm movement)
    counts_per_step: float = 19.52
    #: [freedson1998] lower cut-point of each Fitbit intensity level 0-3 (sedentary, light,
    #: moderate, vigorous), counts/min; grade D mapping of a vendor level onto count bands
    intensity_counts: tuple[float, ...] = (0.0, 100.0, 1952.0, 5725.0)
    met_intercept: float = 1.439008  # [freedson1998] METs = 1.439008 + 0.000795 counts/min
    met_slope: float = 0.000795  # [freedson1998]

    # --- heart-rate wake criterion (grade D) ---
    #: [burgess1997] HR falls at sleep onset; grade D: a minute is wake if the 10-min rolling
    #: median HR exceeds the noon-to-noon window's sleeping reference (its 10th percentile)
    #: by more than this margin (relaxed wake in bed sits ~10 bpm above deep/NREM sleep)
    hr_wake_margin_bpm: float = 10.0
    hr_low_pct: float = 10.0  # [burgess1997] grade D: sleeping-HR reference percentile
    hr_roll_s: int = 600  # [crampwatch_brief] grade D: 10-min rolling median (7.1 Step A idea)
    hr_min_minutes: int = 240  # [crampwatch_brief] grade D: fewer HR minutes -> no HR criterion

    # --- non-wear ---
    #: [vanhees2013] 60-min window; [choi2011] spike tolerance 2 min. Minute data: no HR and
    #: a flat activity proxy (<= spike tolerance of non-zero minutes) for >= 60 min
    nonwear_min_s: int = 3600
    nonwear_spike_s: int = 120  # [choi2011] up to 2 min of non-zero counts inside the window
    raw_nonwear_sd_g: float = 0.013  # [vanhees2013] per-axis SD < 13 mg ...
    raw_nonwear_range_g: float = 0.050  # [vanhees2013] ... and value range < 50 mg
    raw_nonwear_axes: int = 2  # [vanhees2013] on >= 2 of 3 axes
    raw_nonwear_window_s: int = 3600  # [vanhees2013] 60-min windows ...
    raw_nonwear_step_s: int = 900  # [vanhees2013] ... moved in 15-min steps

    # --- sleep blocks (HDCZA rules, reused for minute classifications) ---
    block_min_s: int = 1800  # [vanhees2018] keep blocks > 30 min
    block_merge_gap_s: int = 3600  # [vanhees2018] merge gaps < 60 min

    #: [roenneberg2007] grade D: an actigraphy main block must have its midpoint between
    #: 21:00 and 09:00 local (a still afternoon on the sofa is not the night's sleep when
    #: steps are the only motion signal); shift workers need device stages
    night_midpoint_earliest_h: float = 21.0
    night_midpoint_latest_h: float = 9.0  # [roenneberg2007] grade D

    # --- raw accelerometry: z-angle, SIB, HDCZA ---
    epoch_s: int = 5  # [vanhees2018] 5-s z-angle epochs
    sib_angle_deg: float = 5.0  # [vanhees2015] no z-angle change > 5 deg ...
    sib_min_s: int = 300  # [vanhees2015] ... for >= 5 min
    hdcza_roll_s: int = 300  # [vanhees2018] 5-min rolling median of |diff(z-angle)|
    hdcza_pct: float = 10.0  # [vanhees2018] 10th percentile ...
    hdcza_mult: float = 15.0  # [vanhees2018] ... times 15
    hdcza_min_deg: float = 0.13  # [ggir] threshold clipped to [0.13, 0.50]
    hdcza_max_deg: float = 0.50  # [ggir]


# ----------------------------------------------------------------------------------------
# count-based sleep/wake (1-min epochs)


def activity_counts_proxy(
    steps: np.ndarray | None = None,
    intensity: np.ndarray | None = None,
    met: np.ndarray | None = None,
    *,
    params: ActigraphyParams = ActigraphyParams(),
) -> np.ndarray:
    """Counts/min proxy from consumer minute data (maximum over the given channels).

    ``steps`` -> ``counts_per_step * steps``; ``intensity`` level 0-3 -> the lower Freedson
    cut-point of its band; ``met`` -> inverted Freedson regression (clipped at 0). NaN in
    every channel stays NaN (no data). This is an adaptation: the count algorithms were
    validated on wrist accelerometer counts, not on these proxies.
    """
    chans = []
    p = params
    if steps is not None:
        chans.append(np.asarray(steps, float) * p.counts_per_step)
    if intensity is not None:
        lv = np.asarray(intensity, float)
        table = np.asarray(p.intensity_counts)
        idx = np.clip(np.nan_to_num(lv, nan=0).round().astype(int), 0, table.size - 1)
        chans.append(np.where(np.isfinite(lv), table[idx], np.nan))
    if met is not None:
        m = np.asarray(met, float)
        chans.append(np.clip((m - p.met_intercept) / p.met_slope, 0, None))
    if not chans:
        raise ValueError("activity_counts_proxy: give at least one of steps, intensity, met")
    stack = np.vstack(chans)
    with np.errstate(all="ignore"):
        out = np.nanmax(np.where(np.isfinite(stack), stack, -np.inf), axis=0)
    return np.where(np.isfinite(out), out, np.nan)


def cole_kripke_1992(
    counts_per_min: np.ndarray, *, params: ActigraphyParams = ActigraphyParams()
) -> tuple[np.ndarray, np.ndarray]:
    """Cole-Kripke 1992 sleep/wake on 1-min counts (ActiLife scaling).

    ``A = min(counts / 100, 300)``; ``D = 0.001 (106 A-4 + 54 A-3 + 58 A-2 + 76 A-1 + 230 A0
    + 74 A+1 + 67 A+2)``; sleep if ``D < 1``, then Webster's rescoring rules (a-e) when
    ``params.webster_rescore``. Epochs beyond the ends count as 0; NaN (no data) counts as 0.

    Returns ``(sleep, D)``: a boolean array and the score.

    References: [cole1992], [webster1982], [actilife].
    """
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
    """Webster's rescoring rules as given by Cole et al. 1992 (1-min epochs).

    (a) after >= 4 min wake, the next 1 min of sleep -> wake; (b) after >= 10 min wake, the
    next 3 min; (c) after >= 15 min wake, the next 4 min; (d) sleep bouts <= 6 min surrounded
    by >= 10 min of wake on both sides -> wake; (e) sleep bouts <= 10 min surrounded by
    >= 20 min of wake -> wake. Rules a-c use the original wake runs; d-e run on the result.
    The array ends do not count as wake.
    """
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


def sadeh_1994(
    counts_per_min: np.ndarray, *, params: ActigraphyParams = ActigraphyParams()
) -> tuple[np.ndarray, np.ndarray]:
    """Sadeh 1994 sleep/wake on 1-min counts.

    ``PS = 7.601 - 0.065 mean(W5) - 1.08 NATS - 0.056 SD6 - 0.703 ln(A0 + 1)`` with counts
    capped at 300; ``W5`` the 11-epoch window centred on t (epochs beyond the ends are
    absent, not zero), ``NATS`` the number of epochs in it with 50 <= counts < 100, ``SD6``
    the sample SD (ddof=1) of the current and 5 preceding epochs (fewer at the start; 0
    with a single epoch). Sleep if ``PS > sadeh_threshold`` (0 in the paper).

    Returns ``(sleep, PS)``. References: [sadeh1994], [actilife].
    """
    p = params
    a = np.minimum(np.nan_to_num(np.asarray(counts_per_min, float)), p.sadeh_count_cap)
    n = a.size
    if n == 0:
        return np.zeros(0, bool), np.zeros(0)
    c = np.concatenate([[0.0], np.cumsum(a)])
    lo = np.maximum(np.arange(n) - 5, 0)
    hi = np.minimum(np.arange(n) + 6, n)
    mean_w = (c[hi] - c[lo]) / (hi - lo)
    nat = ((a >= 50) & (a < 100)).astype(float)
    cn = np.concatenate([[0.0], np.cumsum(nat)])
    nats = cn[hi] - cn[lo]
    # SD of a[t-5 .. t], ddof=1
    lo6 = np.maximum(np.arange(n) - 5, 0)
    hi6 = np.arange(n) + 1
    m = hi6 - lo6
    c2 = np.concatenate([[0.0], np.cumsum(a * a)])
    s1 = c[hi6] - c[lo6]
    s2 = c2[hi6] - c2[lo6]
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.where(m > 1, (s2 - s1 * s1 / m) / np.maximum(m - 1, 1), 0.0)
    sd6 = np.sqrt(np.clip(var, 0, None))
    ps = (
        p.sadeh_intercept
        - p.sadeh_w_mean * mean_w
        - p.sadeh_w_nats * nats
        - p.sadeh_w_sd * sd6
        - p.sadeh_w_log * np.log(a + 1.0)
    )
    return ps > p.sadeh_threshold, ps


def nonwear_minutes(
    counts_per_min: np.ndarray,
    hr_present: np.ndarray | None,
    *,
    params: ActigraphyParams = ActigraphyParams(),
) -> np.ndarray:
    """Minute-level non-wear: no heart rate and a flat activity proxy for >= 60 min.

    A minute is *flat* when its proxy is 0 or missing; up to ``nonwear_spike_s`` of
    non-flat minutes are tolerated inside a run (Choi 2011's spike allowance), never at its
    ends. Runs of (flat and no HR) of at least ``nonwear_min_s`` are non-wear (van Hees
    2013's 60-min window). Without an HR channel (``hr_present`` None) nothing can be called
    non-wear from minute proxies alone (a still sleeper also has zero steps), so the result
    is all False: the caller must say so.
    """
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
    """HDCZA block rules on a boolean sleep array: keep runs > ``min_block_s``, then merge
    blocks separated by < ``merge_gap_s`` (van Hees 2018). Returns (start, stop) indices."""
    on, off = _runs(np.asarray(sleep, bool))
    keep = [(a, b) for a, b in zip(on, off, strict=True) if (b - a) * epoch_s > min_block_s]
    merged: list[tuple[int, int]] = []
    for a, b in keep:
        if merged and (a - merged[-1][1]) * epoch_s < merge_gap_s:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


# ----------------------------------------------------------------------------------------
# raw acceleration


def z_angle_deg(x_g: np.ndarray, y_g: np.ndarray, z_g: np.ndarray) -> np.ndarray:
    """Arm z-angle ``atan(a_z / sqrt(a_x^2 + a_y^2)) * 180 / pi`` (van Hees 2015), degrees."""
    x, y, z = (np.asarray(v, float) for v in (x_g, y_g, z_g))
    return np.degrees(np.arctan2(z, np.sqrt(x * x + y * y)))


def epoch_z_angle(acc_g: np.ndarray, fs_hz: float, *, epoch_s: int = 5) -> np.ndarray:
    """z-angle per ``epoch_s`` epoch from raw ``acc_g`` (n, 3): the angle of the epoch's
    mean acceleration vector (the gravity estimate over 5 s; GGIR averages per 5-s epoch).
    A trailing partial epoch is dropped."""
    acc = np.asarray(acc_g, float)
    k = int(round(fs_hz * epoch_s))
    m = acc.shape[0] // k
    if m == 0:
        return np.zeros(0)
    mean = acc[: m * k].reshape(m, k, 3).mean(axis=1)
    return z_angle_deg(mean[:, 0], mean[:, 1], mean[:, 2])


def sustained_inactivity(
    angle_deg: np.ndarray, *, epoch_s: int = 5, params: ActigraphyParams = ActigraphyParams()
) -> np.ndarray:
    """van Hees 2015 sustained inactivity bouts, per epoch.

    Change points are epochs whose z-angle differs from the previous epoch's by more than
    5 deg; the stretches between consecutive change points lasting >= 5 min are sustained
    inactivity (GGIR's implementation of the method). Returns a boolean per epoch.
    """
    ang = np.asarray(angle_deg, float)
    n = ang.size
    out = np.zeros(n, bool)
    if n < 2:
        return out
    change = np.flatnonzero(np.abs(np.diff(ang)) > params.sib_angle_deg) + 1
    bounds = np.concatenate([[0], change, [n]])
    k = params.sib_min_s / epoch_s
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        if b - a >= k:
            out[a:b] = True
    return out


def hdcza(
    angle_deg: np.ndarray,
    *,
    epoch_s: int = 5,
    params: ActigraphyParams = ActigraphyParams(),
    valid: np.ndarray | None = None,
) -> tuple[tuple[int, int] | None, float]:
    """van Hees 2018 HDCZA sleep-period-time window on one (noon-to-noon) z-angle series.

    1. ``x = |diff(z-angle)|`` between successive 5-s epochs; 2. 5-min rolling median;
    3. threshold = 10th percentile x 15, clipped to [0.13, 0.50] deg (GGIR); 4. epochs below
    it are candidate sleep; blocks > 30 min kept; 5. gaps < 60 min merged; 6. the longest
    block is the SPT window. Epochs with ``valid`` False (non-wear) are never candidates and
    are left out of the percentile.

    Returns ``((start, stop) epoch indices or None, threshold_deg)``.
    """
    p = params
    ang = np.asarray(angle_deg, float)
    if ang.size < 3:
        return None, math.nan
    dx = np.abs(np.diff(ang))
    dx = np.concatenate([dx[:1], dx])  # epoch i: change into epoch i
    k = max(1, int(p.hdcza_roll_s // epoch_s))
    med = ndimage.median_filter(dx, size=k, mode="nearest")
    ok = np.ones(ang.size, bool) if valid is None else np.asarray(valid, bool)
    if not ok.any():
        return None, math.nan
    thr = float(np.percentile(med[ok], p.hdcza_pct)) * p.hdcza_mult
    thr = min(max(thr, p.hdcza_min_deg), p.hdcza_max_deg)
    cand = (med < thr) & ok
    blocks = sleep_blocks(cand, epoch_s, min_block_s=p.block_min_s, merge_gap_s=p.block_merge_gap_s)
    if not blocks:
        return None, thr
    best = max(blocks, key=lambda ab: (ab[1] - ab[0], -ab[0]))
    return best, thr


def nonwear_raw(
    acc_g: np.ndarray,
    fs_hz: float,
    *,
    hr_present: np.ndarray | None = None,
    params: ActigraphyParams = ActigraphyParams(),
) -> np.ndarray:
    """van Hees 2013 non-wear on raw acceleration, per sample.

    60-min windows moved in 15-min steps; a window is non-wear when on >= 2 of 3 axes the SD
    is < 13 mg *and* the range is < 50 mg. With ``hr_present`` (per sample, True where an
    HR reading exists within the sample's minute) a window also needs no HR at all:
    a motionless sleeper with a beating heart is worn. Returns the union of non-wear windows.
    """
    acc = np.asarray(acc_g, float)
    n = acc.shape[0]
    out = np.zeros(n, bool)
    w = int(round(params.raw_nonwear_window_s * fs_hz))
    st = int(round(params.raw_nonwear_step_s * fs_hz))
    if n < w or w <= 0:
        return out
    for a in range(0, n - w + 1, st):
        seg = acc[a : a + w]
        sd = seg.std(axis=0)
        rng = seg.max(axis=0) - seg.min(axis=0)
        flat = (sd < params.raw_nonwear_sd_g) & (rng < params.raw_nonwear_range_g)
        if int(flat.sum()) >= params.raw_nonwear_axes and (
            hr_present is None or not np.asarray(hr_present[a : a + w]).any()
        ):
            out[a : a + w] = True
    return out


# ----------------------------------------------------------------------------------------
# polars wrappers: per participant-minute classification and main sleep periods


MINUTE_SCHEMA: dict[str, pl.DataType] = {
    "participant_id": pl.String,
    "minute_utc": pl.Datetime("us", "UTC"),
    "utc_offset_s": pl.Int32,
    "counts_proxy": pl.Float64,  # counts/min proxy (NaN: no activity record)
    "hr_bpm": pl.Float64,  # median of the minute's HR samples (null: none)
    "sleep": pl.Boolean,  # asleep by the method (False for non-wear)
    "nonwear": pl.Boolean,
    "hr_wake": pl.Boolean,  # the HR criterion said wake
}


def classify_minutes(
    samples: pl.DataFrame,
    *,
    method: str = METHOD_COLE_KRIPKE,
    params: ActigraphyParams = ActigraphyParams(),
) -> pl.DataFrame:
    """Per participant-minute sleep/wake and non-wear from minute activity and heart rate.

    Parameters
    ----------
    samples : polars.DataFrame
        Long samples. Activity: ``steps`` (interval totals, spread over the minutes they
        cover), ``intensity_level`` (Fitbit level 0-3, per-minute maximum), ``met``
        (per-minute mean); level and MET rows longer than 2 min are ignored, and coarser
        copies of a metric are dropped first (:func:`keep_finest_resolution`).
        ``heart_rate_bpm`` point samples (minute median). Other metrics are ignored.
    method : str
        ``"cole1992"`` (Cole-Kripke with Webster rescoring) or ``"sadeh1994"``.

    Returns
    -------
    polars.DataFrame
        ``MINUTE_SCHEMA``, one row per participant-minute from the first to the last minute
        with any activity or HR record. A minute is asleep when the count algorithm says
        sleep, it is not non-wear, and (where the HR criterion applies) HR does not say wake.
    """
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
    """Drop coarser copies of the same signal: per participant and metric, rows of a
    ``source`` whose median interval length is >= 20 x that of the metric's finest source.

    Fitabase stores minute, hourly and daily steps as separate sources; adding or taking the
    maximum across them would spread daily totals over the night. Sources of similar
    resolution (an Apple phone and watch, both minutes) are all kept. Point metrics (heart
    rate) have length 0 everywhere and are unaffected. Frames without ``source`` are returned
    unchanged.
    """
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
    """Centred rolling median ignoring NaN (NaN where the window has no value).

    Window ``[i - k // 2, i + k - 1 - k // 2]``; each window is sorted once (NaN sorts last),
    and the median of its ``c`` finite values is the mean of sorted positions
    ``(c - 1) // 2`` and ``c // 2`` (the same value ``np.nanmedian`` gives).
    """
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
    params: ActigraphyParams = ActigraphyParams(),
    minutes: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Main sleep period per participant and noon-to-noon night from minute activity + HR.

    Minutes are classified with :func:`classify_minutes`; asleep runs > 30 min are kept and
    runs separated by < 60 min merged (van Hees 2018 block rules); blocks whose local midpoint
    falls between 09:00 and 21:00 are dropped (grade D); the merged block with the most asleep
    minutes in each night (night of its onset, noon-to-noon, onset's own offset)
    is the main period. ``asleep_s`` counts asleep minutes inside it; ``awake_s`` the other
    minutes inside it that are worn and have data (non-wear is neither). ``method`` is
    ``"cole1992"`` or ``"sadeh1994"``, with ``"+hr"`` when the HR criterion was active.
    Pass ``minutes`` (the output of :func:`classify_minutes`) to avoid recomputing it.
    """
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
    """(start, stop) indices of the True runs of a boolean array."""
    d = np.diff(np.concatenate([[0], np.asarray(mask).astype(np.int8), [0]]))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)
