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
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import ndimage

from detectors.frames import SAMPLES_SCHEMA, SLEEP_SEGMENTS_SCHEMA, prepare
from detectors.nights import NIGHT_START_HOUR
from detectors.schema import SLEEP_PERIOD_SCHEMA

DETECTOR_VERSION = "actigraphy-0.2"  # 0.2: noon cut, flat-daytime non-wear without HR, 16 h ceiling

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
    #: no HR channel: a flat activity run (zero or missing proxy, Choi spike tolerance) that
    #: covers a whole local daytime (``night_midpoint_latest_h`` to
    #: ``night_midpoint_earliest_h`` of one day) is non-wear, the whole run. [vanhees2013] /
    #: [choi2011] call long flat runs non-wear; a still sleeper makes them too, so without HR
    #: only a run no sleep can explain (all of a day, [roenneberg2007] grade D window) is
    #: called non-wear. Fitabase writes zero steps and level 0 for every unworn minute.
    nonwear_flat_daytime: bool = True
    raw_nonwear_sd_g: float = 0.013  # [vanhees2013] per-axis SD < 13 mg ...
    raw_nonwear_range_g: float = 0.050  # [vanhees2013] ... and value range < 50 mg
    raw_nonwear_axes: int = 2  # [vanhees2013] on >= 2 of 3 axes
    raw_nonwear_window_s: int = 3600  # [vanhees2013] 60-min windows ...
    raw_nonwear_step_s: int = 900  # [vanhees2013] ... moved in 15-min steps

    # --- sleep blocks (HDCZA rules, reused for minute classifications) ---
    block_min_s: int = 1800  # [vanhees2018] keep blocks > 30 min
    block_merge_gap_s: int = 3600  # [vanhees2018] merge gaps < 60 min
    #: [vanhees2018] the SPT window is searched per noon-to-noon day: sleep blocks are cut at
    #: local noon and never merged across it, so no main period exceeds 24 h
    night_window_clip: bool = True
    #: grade D (no source gives a ceiling on one main sleep period; [hirshkowitz2015] puts
    #: adult sleep above 10-11 h outside the recommended range, 16 h is far beyond it): a main
    #: actigraphy period longer than 16 h leaves at most 8 h of the day awake and is read as
    #: unflagged non-wear or a sedentary day, not sleep; the night gets no period (0: no ceiling)
    max_main_sleep_s: int = 16 * 3600

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


@dataclass(frozen=True)
class HistoryFacts:
    """Facts about a participant's whole history that a night's result depends on.

    Two decisions of the minute-level detectors look at everything they are given, not at the
    night: which sources of a metric are coarser copies (:func:`keep_finest_resolution`,
    from each source's median interval) and whether the participant has a heart-rate channel
    at all (>= ``hr_min_minutes`` minutes with HR). A caller that runs a long history in
    chunks of nights (``pipeline.detect``) computes both once over the whole range and sets
    them with :func:`history_facts`, so each chunk decides exactly as one pass over the whole
    range would.
    """

    #: ``participant_id``, ``metric``, ``_src`` (source, null as "") of the sources kept
    finest: pl.DataFrame
    #: participant -> minutes with at least one heart-rate sample (value > 0, finite)
    hr_minutes: Mapping[str, int]


_HISTORY: ContextVar[HistoryFacts | None] = ContextVar("crampwatch_history_facts", default=None)


@contextmanager
def history_facts(facts: HistoryFacts | None) -> Iterator[None]:
    """Within the block, :func:`keep_finest_resolution` and the HR-channel test use
    ``facts`` (whole-history decisions) instead of the frames they are given."""
    token = _HISTORY.set(facts)
    try:
        yield
    finally:
        _HISTORY.reset(token)


def _hr_minutes(pid: str, local: int) -> int:
    """HR minutes of ``pid``: the whole history's when :func:`history_facts` is set."""
    facts = _HISTORY.get()
    return local if facts is None else int(facts.hr_minutes.get(pid, local))


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
    s &= ~_cover(n, woff[k > 0], np.minimum(woff[k > 0] + k[k > 0], n))
    son, soff = _runs(s)
    if son.size == 0:
        return s
    won, woff = _runs(~s)
    # length of the wake run ending at each sleep-run start / starting at each sleep-run end
    # (0 at the array ends: they do not count as wake)
    before = _run_length_at(son, woff, woff - won)
    after = _run_length_at(soff, won, woff - won)
    slen = soff - son
    kill = ((slen <= 6) & (before >= 10) & (after >= 10)) | (
        (slen <= 10) & (before >= 20) & (after >= 20)
    )
    return s & ~_cover(n, son[kill], soff[kill])


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
        inner = (on > 0) & (off < n) & (off - on <= tol)
        closed |= _cover(n, on[inner], off[inner])
    on, off = _runs(closed)
    long = (off - on) * 60 >= params.nonwear_min_s
    return _cover(n, on[long], off[long])


def nonwear_flat_daytime(
    counts_per_min: np.ndarray,
    local_s: np.ndarray,
    *,
    params: ActigraphyParams = ActigraphyParams(),
) -> np.ndarray:
    """Non-wear without heart rate: flat activity runs that cover a whole local daytime.

    ``counts_per_min`` is the proxy per consecutive minute, ``local_s`` each minute's start
    in local seconds since the epoch. A minute is flat when its proxy is 0; a missing minute
    (NaN) is unknown, not flat, so a day without any record does not join the still night
    after it into one "non-wear" run; gaps
    of up to ``nonwear_spike_s`` of non-flat minutes inside a run are closed (Choi 2011's
    spike tolerance). A closed run is non-wear when it contains the whole interval
    ``[night_midpoint_latest_h, night_midpoint_earliest_h)`` (09:00-21:00) of some local day:
    a still sleeper gives flat runs too, but not through an entire day (grade D, see
    :class:`ActigraphyParams`). Returns a boolean per minute.
    """
    counts = np.asarray(counts_per_min, float)
    n = counts.size
    if n == 0 or not params.nonwear_flat_daytime:
        return np.zeros(n, bool)
    flat = counts <= 0  # NaN compares False: missing is not flat
    tol = params.nonwear_spike_s // 60
    if tol > 0:
        on, off = _runs(~flat)
        inner = (on > 0) & (off < n) & (off - on <= tol)
        flat = flat | _cover(n, on[inner], off[inner])
    a, b = _runs(flat)
    loc = np.asarray(local_s, np.int64)
    day0_s = int(params.night_midpoint_latest_h * 3600)
    day1_s = int(params.night_midpoint_earliest_h * 3600)
    start, end = loc[a], loc[b - 1] + 60
    # first local day whose daytime begins at or after the run's start
    d = (start - day0_s + 86399) // 86400
    covers = d * 86400 + day1_s <= end
    return _cover(n, a[covers], b[covers])


def sleep_blocks(
    sleep: np.ndarray, epoch_s: float, *, min_block_s: float, merge_gap_s: float
) -> list[tuple[int, int]]:
    """HDCZA block rules on a boolean sleep array: keep runs > ``min_block_s``, then merge
    blocks separated by < ``merge_gap_s`` (van Hees 2018). Returns (start, stop) indices."""
    on, off = _sleep_block_bounds(
        np.asarray(sleep, bool), epoch_s, min_block_s=min_block_s, merge_gap_s=merge_gap_s
    )
    return list(zip(on, off, strict=True))


def _sleep_block_bounds(
    sleep: np.ndarray,
    epoch_s: float,
    *,
    min_block_s: float,
    merge_gap_s: float,
    window: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sleep_blocks` as two index arrays (starts, stops).

    With ``window`` (an integer key per epoch, e.g. the noon-to-noon night), sleep runs are
    cut where the key changes and blocks are never merged across a change.
    """
    if window is None:
        on, off = _runs(sleep)
    else:
        s = np.asarray(sleep, bool)
        cut = np.zeros(s.size + 1, bool)
        cut[1:-1] = window[1:] != window[:-1]
        prev = np.concatenate([[False], s[:-1]])
        nxt = np.concatenate([s[1:], [False]])
        on = np.flatnonzero(s & (~prev | cut[:-1]))
        off = np.flatnonzero(s & (~nxt | cut[1:])) + 1
    keep = (off - on) * epoch_s > min_block_s
    on, off = on[keep], off[keep]
    if on.size == 0:
        return on, off
    # a kept run joins the previous block when the gap to the previous kept run is short
    new = np.ones(on.size, bool)
    new[1:] = ~((on[1:] - off[:-1]) * epoch_s < merge_gap_s)
    if window is not None:
        new[1:] |= window[on[1:]] != window[off[:-1] - 1]
    first = np.flatnonzero(new)
    last = np.concatenate([first[1:] - 1, [on.size - 1]])
    return on[first], off[last]


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

#: integer code of each metric the minute classification reads (-1: any other metric)
_METRIC_CODE: dict[str, int] = {"steps": 0, "intensity_level": 1, "met": 2, "heart_rate_bpm": 3}


@dataclass(frozen=True)
class MinuteGrid:
    """One participant's rows of :data:`MINUTE_SCHEMA` as numpy arrays.

    ``has_data`` (an activity proxy or an HR median) and ``hr_present`` (an HR median) are
    kept beside the columns so that periods and segments need no frame.
    """

    participant_id: str
    minute_us: np.ndarray  # minute start, epoch microseconds
    utc_offset_s: np.ndarray
    counts: np.ndarray  # counts/min proxy, NaN: no activity record
    hr_bpm: np.ndarray  # minute median HR, NaN: none
    hr_present: np.ndarray
    has_data: np.ndarray
    sleep: np.ndarray
    nonwear: np.ndarray
    hr_wake: np.ndarray

    def frame(self) -> pl.DataFrame:
        """The :data:`MINUTE_SCHEMA` rows."""
        return pl.DataFrame(
            {
                "participant_id": pl.repeat(
                    self.participant_id, self.minute_us.size, dtype=pl.String, eager=True
                ),
                "minute_utc": pl.Series(self.minute_us).cast(MINUTE_SCHEMA["minute_utc"]),
                "utc_offset_s": self.utc_offset_s,
                "counts_proxy": self.counts,
                "hr_bpm": pl.Series(np.where(self.hr_present, self.hr_bpm, np.nan)).fill_nan(None),
                "sleep": self.sleep,
                "nonwear": self.nonwear,
                "hr_wake": self.hr_wake,
            }
        ).cast(MINUTE_SCHEMA)  # type: ignore[arg-type]


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
    grids = classify_minute_grid(samples, method=method, params=params)
    if not grids:
        return pl.DataFrame(schema=MINUTE_SCHEMA)
    return pl.concat([g.frame() for g in grids])


def classify_minute_grid(
    samples: pl.DataFrame,
    *,
    method: str = METHOD_COLE_KRIPKE,
    params: ActigraphyParams = ActigraphyParams(),
) -> list[MinuteGrid]:
    """:func:`classify_minutes` as one :class:`MinuteGrid` per participant, sorted by id.

    The samples are read once into numpy columns; each participant's rows are a contiguous
    slice of them (the flow loads one participant at a time; other inputs are grouped by one
    stable sort), so no per-participant frame is built.
    """
    if method not in (METHOD_COLE_KRIPKE, METHOD_SADEH):
        raise ValueError(f"method must be {METHOD_COLE_KRIPKE!r} or {METHOD_SADEH!r}")
    smp = prepare(samples, "samples", SAMPLES_SCHEMA)
    code = _metric_codes(smp["metric"])
    # the metrics read here with a finite value (a null value reads as NaN: dropped too)
    keep = (code >= 0) & np.isfinite(smp["value"].to_numpy())
    read = smp
    if not keep.all():
        smp = smp.filter(pl.Series(keep))
    smp = keep_finest_resolution(smp)
    if smp.height == 0:
        return []
    smp, pids, bounds = _participant_slices(smp)
    if smp is not read:  # rows dropped or regrouped: code them again
        code = _metric_codes(smp["metric"])
    s = smp["start_utc"].dt.epoch("us").to_numpy()
    e = smp["end_utc"].dt.epoch("us").to_numpy()
    v = smp["value"].to_numpy()
    off = smp["utc_offset_s"].to_numpy()
    grids = []
    for k in pl.Series(pids, dtype=pl.String).arg_sort().to_list():
        sl = slice(bounds[k], bounds[k + 1])
        grids.append(
            _classify_participant(pids[k], code[sl], s[sl], e[sl], v[sl], off[sl], method, params)
        )
    return grids


def _grids_from_minutes(minutes: pl.DataFrame) -> list[MinuteGrid]:
    """:class:`MinuteGrid` per participant from a :data:`MINUTE_SCHEMA` frame (rows of a
    participant in frame order, as they were classified)."""
    if minutes.height == 0:
        return []
    mins, pids, bounds = _participant_slices(minutes)
    cols = {
        "minute_us": mins["minute_utc"].dt.epoch("us").to_numpy(),
        "utc_offset_s": mins["utc_offset_s"].to_numpy(),
        "counts": mins["counts_proxy"].to_numpy(),
        "hr_bpm": mins["hr_bpm"].fill_null(np.nan).to_numpy(),
        "hr_present": mins["hr_bpm"].is_not_null().to_numpy(),
        "has_data": mins.select(
            pl.col("counts_proxy").is_not_nan().fill_null(False) | pl.col("hr_bpm").is_not_null()
        )
        .to_series()
        .to_numpy(),
        "sleep": mins["sleep"].to_numpy(),
        "nonwear": mins["nonwear"].to_numpy(),
        "hr_wake": mins["hr_wake"].to_numpy(),
    }
    return [
        MinuteGrid(pid, **{c: v[bounds[k] : bounds[k + 1]] for c, v in cols.items()})
        for k, pid in enumerate(pids)
    ]


def _participant_slices(frame: pl.DataFrame) -> tuple[pl.DataFrame, list, np.ndarray]:
    """``frame`` with each participant's rows contiguous (frame order kept within a
    participant), the participants in that order and their row bounds.

    Frames already grouped by participant are returned as they are; others are grouped by
    a stable sort, which keeps each participant's rows exactly as ``partition_by`` would.
    """
    runs = frame["participant_id"].rle()
    if runs.struct.field("value").n_unique() != runs.len():
        frame = frame.sort("participant_id", maintain_order=True)
        runs = frame["participant_id"].rle()
    lens = runs.struct.field("len").to_numpy()
    bounds = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    return frame, runs.struct.field("value").to_list(), bounds


def _metric_codes(metric: pl.Series) -> np.ndarray:
    """``_METRIC_CODE`` of every row (-1 for other metrics), as int8."""
    runs = metric.rle()
    if runs.len() * 8 <= metric.len():  # sorted or grouped by metric: code each run once
        codes = [_METRIC_CODE.get(m, -1) for m in runs.struct.field("value").to_list()]
        return np.repeat(np.asarray(codes, np.int8), runs.struct.field("len").to_numpy())
    out = np.full(metric.len(), -1, np.int8)
    for name, c in _METRIC_CODE.items():
        out[(metric == name).fill_null(False).to_numpy()] = c
    return out


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
    facts = _HISTORY.get()
    if facts is not None:  # decided once over the whole history (chunked runs)
        src = pl.col("source").cast(pl.String).fill_null("")
        return (
            samples.with_columns(_src=src)
            .join(facts.finest, on=["participant_id", "metric", "_src"], how="semi")
            .drop("_src")
        )
    if (
        samples["participant_id"].null_count() == 0
        and samples["metric"].null_count() == 0
        and _single_value(samples["source"])
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


def _single_value(col: pl.Series) -> bool:
    """True when every row of ``col`` holds the same value (all null counts as one value),
    as ``n_unique() == 1`` but by one comparison with the first row instead of hashing."""
    nulls = col.null_count()
    if nulls:
        return nulls == col.len()
    return bool((col == col[0]).all())


def _classify_participant(
    pid: str,
    code: np.ndarray,
    s: np.ndarray,
    e: np.ndarray,
    value: np.ndarray,
    offset_s: np.ndarray,
    method: str,
    p: ActigraphyParams,
) -> MinuteGrid:
    """One participant's minute grid from the rows of its samples (``code`` from
    ``_METRIC_CODE``, ``s`` / ``e`` epoch microseconds, rows in input order)."""
    g0 = int(s.min()) // _MIN_US * _MIN_US
    g1 = (int(e.max()) // _MIN_US + 1) * _MIN_US
    n = int((g1 - g0) // _MIN_US)
    cell = lambda t: ((np.asarray(t, np.int64) - g0) // _MIN_US).clip(0, n - 1)  # noqa: E731
    short = e - s <= 120 * _US  # level and MET rows longer than 2 min are ignored

    # steps: amounts spread uniformly over [s, e) (point records land in their minute)
    st = code == _METRIC_CODE["steps"]
    steps = None
    if st.any():
        steps = np.zeros(n)
        s1, e1, v = s[st], e[st], value[st]
        e1 = np.maximum(e1, s1)
        edges = g0 + _MIN_US * np.arange(n + 1, dtype=np.int64)
        point = e1 == s1
        np.add.at(steps, cell(s1[point]), v[point])
        if (~point).any():
            s2, e2, v2 = s1[~point], e1[~point], v[~point]
            rate = v2 / (e2 - s2)
            t = np.concatenate([s2, e2]).astype(float)
            d = np.concatenate([rate, -rate])
            order = np.argsort(t, kind="stable")
            t, d = t[order], d[order]
            slope = np.cumsum(d)
            cum = np.concatenate([[0.0], np.cumsum(slope[:-1] * np.diff(t))])
            steps += np.diff(np.interp(edges.astype(float), t, cum, left=0.0, right=cum[-1]))
    intensity = None
    it = (code == _METRIC_CODE["intensity_level"]) & short
    if it.any():
        intensity = np.full(n, np.nan)
        c = cell(s[it])
        if c.size < 2 or bool((np.diff(c) > 0).all()):  # one row per minute: no maximum
            intensity[c] = value[it]
        else:
            np.fmax.at(intensity, c, value[it])
    met = None
    mt = (code == _METRIC_CODE["met"]) & short
    if mt.any():
        tot, cnt = np.zeros(n), np.zeros(n)
        c = cell(s[mt])
        np.add.at(tot, c, value[mt])
        np.add.at(cnt, c, 1)
        met = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)
    has_activity = steps is not None or intensity is not None or met is not None
    if has_activity:
        counts = activity_counts_proxy(steps, intensity, met, params=p)
        if steps is not None:  # step exports omit zero intervals: missing steps are zero
            counts = np.where(np.isnan(counts), 0.0, counts)
    else:
        counts = np.full(n, np.nan)

    hr = (code == _METRIC_CODE["heart_rate_bpm"]) & (value > 0)
    hr_min = cell_medians(cell(s[hr]), value[hr], n)
    hr_present = np.isfinite(hr_min)
    has_hr_channel = _hr_minutes(pid, int(hr_present.sum())) >= p.hr_min_minutes

    # offsets per minute: forward-filled from the records
    minute_t = g0 + _MIN_US * np.arange(n, dtype=np.int64)
    if offset_s.size and offset_s.min() == offset_s.max():  # one offset: nothing to fill
        off = np.full(n, offset_s[0], dtype=np.int64)
    else:
        off = np.full(n, np.iinfo(np.int32).min, dtype=np.int64)
        off[cell(s)] = offset_s
        idx = np.maximum.accumulate(np.where(off != np.iinfo(np.int32).min, np.arange(n), 0))
        off = off[idx]
        off = np.where(off == np.iinfo(np.int32).min, int(offset_s[0]), off)

    if method == METHOD_COLE_KRIPKE:
        sleep, _ = cole_kripke_1992(counts, params=p)
    else:
        sleep, _ = sadeh_1994(counts, params=p)
    nonwear = nonwear_minutes(counts, hr_present if has_hr_channel else None, params=p)
    if not has_hr_channel and p.nonwear_flat_daytime:
        nonwear |= nonwear_flat_daytime(counts, minute_t // _US + off, params=p)

    hr_wake = np.zeros(n, bool)
    if has_hr_channel:
        hr_wake = _hr_wake(hr_min, hr_present, minute_t, off, p)
    has_data = np.isfinite(counts) | hr_present
    return MinuteGrid(
        participant_id=pid,
        minute_us=minute_t,
        utc_offset_s=off.astype(np.int32),
        counts=counts,
        hr_bpm=hr_min,
        hr_present=hr_present,
        has_data=has_data,
        sleep=sleep & ~nonwear & ~hr_wake & has_data,
        nonwear=nonwear,
        hr_wake=hr_wake,
    )


def cell_medians(cell: np.ndarray, value: np.ndarray, n: int) -> np.ndarray:
    """Median of the values falling in each of ``n`` cells (NaN for an empty cell).

    A cell's median is the mean of its sorted values at positions ``(c - 1) // 2`` and
    ``c // 2`` (``c`` values), as ``np.median``. Rows already in cell order (samples sorted
    by time) are sorted within their cell in one ``np.sort`` per distinct cell size;
    otherwise all rows are sorted by (cell, value).
    """
    out = np.full(n, np.nan)
    if cell.size == 0:
        return out
    step = np.diff(cell)
    if (step >= 0).all():
        first = np.flatnonzero(np.concatenate([[True], step != 0]))
        size = np.diff(np.concatenate([first, [cell.size]]))
        sizes = np.flatnonzero(np.bincount(size))
        if sizes.size <= 32:
            for c in sizes.tolist():
                at = first[size == c]
                if c == 1:
                    v = value[at]
                    out[cell[at]] = 0.5 * (v + v)
                    continue
                block = np.sort(value[at[:, None] + np.arange(c)], axis=1)
                out[cell[at]] = 0.5 * (block[:, (c - 1) // 2] + block[:, c // 2])
            return out
    order = np.lexsort((value, cell))
    cell, value = cell[order], value[order]
    uniq, first, cnts = np.unique(cell, return_index=True, return_counts=True)
    out[uniq] = 0.5 * (value[first + (cnts - 1) // 2] + value[first + cnts // 2])
    return out


def _hr_wake(
    hr_min: np.ndarray,
    hr_present: np.ndarray,
    minute_t: np.ndarray,
    off: np.ndarray,
    p: ActigraphyParams,
) -> np.ndarray:
    """HR wake criterion per minute: the ``hr_roll_s`` rolling median HR above the
    noon-to-noon window's ``hr_low_pct`` percentile + ``hr_wake_margin_bpm`` (windows with
    fewer than ``hr_min_minutes`` HR minutes: never). Grade D, [burgess1997] and
    [crampwatch_brief] as cited on :class:`ActigraphyParams`.

    All windows at once: each window's HR minutes become one row of a matrix (padded with
    +inf), the rows are sorted in one ``np.sort``, and the percentile is read off each row
    as ``np.percentile`` (linear) reads it; the rolling median is compared by
    :func:`_rolling_median_above`.
    """
    night_key = (minute_t // _US + off - NIGHT_START_HOUR * 3600) // 86400
    # minutes grouped by night key (stable sort: each night's minutes keep their order;
    # none needed when the keys never decrease, the usual case)
    step = np.diff(night_key)
    order = None if (step >= 0).all() else np.argsort(night_key, kind="stable")
    key = night_key if order is None else night_key[order]
    first = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    size = np.diff(np.concatenate([first, [key.size]]))
    night = np.repeat(np.arange(first.size), size)  # night index of the sorted minutes
    pos = np.arange(key.size) - np.repeat(first, size)  # position inside its night
    vals = hr_min if order is None else hr_min[order]
    present = hr_present if order is None else hr_present[order]
    width = int(size.max())
    matrix = np.full((first.size, width), np.inf)
    matrix[night[present], pos[present]] = vals[present]
    matrix.sort(axis=1)
    cnt = np.bincount(night[present], minlength=first.size)
    ok = (cnt >= p.hr_min_minutes) & (cnt > 0)
    thr = np.full(first.size, np.nan)
    if ok.any():
        rows = np.flatnonzero(ok)
        thr[ok] = (
            _percentile_sorted(matrix.ravel(), rows * width, cnt[ok], p.hr_low_pct)
            + p.hr_wake_margin_bpm
        )
    thr_min = thr[night]
    if order is not None:
        thr_min = thr_min[np.argsort(order)]
    return _rolling_median_above(hr_min, max(1, p.hr_roll_s // 60), thr_min)


def _percentile_sorted(
    srt: np.ndarray, start: np.ndarray, count: np.ndarray, pct: float
) -> np.ndarray:
    """``np.percentile(srt[start[i] : start[i] + count[i]], pct)`` for every i (each slice
    sorted, count >= 1), with numpy's default linear method and the same arithmetic."""
    q = np.true_divide(pct, 100)
    virtual = (count - 1) * q
    prev = np.floor(virtual)
    above = virtual >= count - 1  # numpy takes the last value there
    lo = np.where(above, count - 1, prev).astype(np.intp)
    hi = np.where(above, count - 1, prev + 1).astype(np.intp)
    gamma = virtual - np.where(above, -1, prev)
    a, b = srt[start + lo], srt[start + hi]
    diff = b - a
    return np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)


def _nan_rolling_median(x: np.ndarray, k: int, at: np.ndarray | None = None) -> np.ndarray:
    """Centred rolling median ignoring NaN (NaN where the window has no value):
    ``np.nanmedian`` over the windows ``[i - k // 2, i + k - 1 - k // 2]`` (NaN-padded
    ends). With ``at`` (indices), only the windows centred there are computed. A library
    call: ``benchmarks/fast_helpers.py`` found a sort-based copy no faster here."""
    if k <= 1 or x.size == 0:
        return x.copy() if at is None else np.asarray(x, float)[at]
    from numpy.lib.stride_tricks import sliding_window_view

    pad = k // 2
    xp = np.pad(np.asarray(x, float), (pad, k - 1 - pad), constant_values=np.nan)
    win = sliding_window_view(xp, k)
    if at is not None:
        win = win[np.asarray(at)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows give NaN
        return np.nanmedian(win, axis=1)


def _rolling_median_above(x: np.ndarray, k: int, thr: np.ndarray) -> np.ndarray:
    """``np.isfinite(m) & (m > thr)`` with ``m = _nan_rolling_median(x, k)``, ``x`` finite
    or NaN, without computing most medians.

    In a window whose values all share the centre's threshold ``T``, the median of its ``c``
    finite values (the mean of sorted positions ``(c - 1) // 2`` and ``c // 2``) is above
    ``T`` when at most ``(c - 1) // 2`` values are <= T (both positions above ``T``), and
    not above it when at least ``c // 2 + 1`` are (both at or below); counting needs only
    cumulative sums. The median is computed for the other windows: an even count split at
    ``T``, or a threshold changing inside the window (a night boundary).
    """
    n = x.size
    if k <= 1 or n == 0:
        return np.isfinite(x) & (x > thr)
    pad = k // 2

    def window_sum(v: np.ndarray) -> np.ndarray:
        cs = np.concatenate([[0], np.cumsum(np.pad(v, (pad, k - 1 - pad)), dtype=np.int64)])
        return cs[k:] - cs[:-k]

    c = window_sum(np.isfinite(x))
    low = window_sum(x <= thr)  # NaN on either side compares False
    # thresholds change between i - 1 and i (NaN to NaN is no change)
    change = np.zeros(n, bool)
    change[1:] = (thr[1:] != thr[:-1]) & ~(np.isnan(thr[1:]) & np.isnan(thr[:-1]))
    cc = np.concatenate([[0], np.cumsum(change)])
    lo_i = np.maximum(np.arange(n) - pad, 0)
    hi_i = np.minimum(np.arange(n) + k - pad, n)
    uniform = cc[hi_i] - cc[lo_i + 1] == 0  # no change after the window's first minute
    both_above = low <= (c - 1) // 2
    both_below = low >= c // 2 + 1
    out = uniform & (c > 0) & both_above & np.isfinite(thr)
    todo = np.flatnonzero((c > 0) & np.isfinite(thr) & ~(uniform & (both_above | both_below)))
    if todo.size:
        out[todo] = _nan_rolling_median(x, k, at=todo) > thr[todo]
    return out


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
    if minutes is None:
        grids = classify_minute_grid(samples, method=method, params=params)
    else:
        grids = _grids_from_minutes(minutes)
    return sleep_periods_from_grid(grids, method=method, params=params).select(
        list(SLEEP_PERIOD_SCHEMA)
    )


def sleep_periods_from_grid(
    grids: list[MinuteGrid],
    *,
    method: str = METHOD_COLE_KRIPKE,
    params: ActigraphyParams = ActigraphyParams(),
) -> pl.DataFrame:
    """:func:`detect_sleep_periods_actigraphy` on :class:`MinuteGrid` s, plus where each
    period lies in them: ``grid`` (index in ``grids``), rows ``grid_start:grid_stop``.

    A grid's rows are taken as consecutive minutes (classification makes them so): the
    blocks are index runs.
    """
    parts = [_grid_periods(k, g, method, params) for k, g in enumerate(grids)]
    parts = [p for p in parts if p is not None]
    if not parts:
        return pl.DataFrame(
            schema={
                **SLEEP_PERIOD_SCHEMA,
                "grid": pl.Int64,
                "grid_start": pl.Int64,
                "grid_stop": pl.Int64,
            }
        )
    return pl.concat(parts).sort("participant_id", "night_of")


def _grid_periods(
    k: int, g: MinuteGrid, method: str, params: ActigraphyParams
) -> pl.DataFrame | None:
    """The main period of each night of one participant's grid (None: no period)."""
    sleep, t = g.sleep, g.minute_us
    window = None
    if params.night_window_clip:  # [vanhees2018] noon-to-noon windows
        window = (t // _US + g.utc_offset_s - NIGHT_START_HOUR * 3600) // 86400
    a, b = _sleep_block_bounds(
        sleep,
        60,
        min_block_s=params.block_min_s,
        merge_gap_s=params.block_merge_gap_s,
        window=window,
    )
    off = g.utc_offset_s[a].astype(np.int64)
    mid_local_h = ((t[a] + t[b - 1]) // 2 // _US + off) % 86400 / 3600
    night_time = ~(
        (params.night_midpoint_latest_h <= mid_local_h)
        & (mid_local_h < params.night_midpoint_earliest_h)
    )
    a, b, off = a[night_time], b[night_time], off[night_time]
    if a.size == 0:
        return None
    asleep = _range_sums(sleep, a, b)
    awake = _range_sums(~sleep & ~g.nonwear & g.has_data, a, b)
    night = (t[a] // _US + off - NIGHT_START_HOUR * 3600) // 86400
    # main block per night: most asleep minutes, ties to the earlier one
    order = np.lexsort((a, -asleep, night))
    main = order[np.concatenate([[True], np.diff(night[order]) != 0])]
    if params.max_main_sleep_s > 0:  # grade D ceiling: the night gets no period
        main = main[(b[main] - a[main]) * 60 <= params.max_main_sleep_s]
        if main.size == 0:
            return None
    hr_used = (
        bool(g.hr_wake.any())
        or _hr_minutes(g.participant_id, int(g.hr_present.sum())) >= params.hr_min_minutes
    )
    a, b = a[main], b[main]
    return pl.DataFrame(
        {
            "participant_id": pl.repeat(g.participant_id, a.size, dtype=pl.String, eager=True),
            "night_of": pl.Series(night[main]).cast(pl.Int32).cast(pl.Date),
            "start_utc": pl.Series(t[a]).cast(SLEEP_PERIOD_SCHEMA["start_utc"]),
            "end_utc": pl.Series(t[b - 1] + _MIN_US).cast(SLEEP_PERIOD_SCHEMA["end_utc"]),
            "utc_offset_s": off[main].astype(np.int32),
            "asleep_s": asleep[main] * 60.0,
            "awake_s": awake[main] * 60.0,
            "method": method + ("+hr" if hr_used else ""),
            "detector_version": DETECTOR_VERSION,
            "grid": k,
            "grid_start": a,
            "grid_stop": b,
        }
    ).cast({**SLEEP_PERIOD_SCHEMA, "grid": pl.Int64})  # type: ignore[arg-type]


def segments_from_grid(
    grids: list[MinuteGrid], periods: pl.DataFrame, *, source: str
) -> pl.DataFrame:
    """``asleep`` / ``awake`` segments inside ``periods`` (rows of
    :func:`sleep_periods_from_grid` on the same ``grids``).

    A minute is ``asleep`` when classified asleep, ``awake`` when it is worn, has data and
    the activity proxy (not only the HR criterion) says wake; other minutes get no segment.
    Runs of one stage inside one period become one segment; ``source`` names them.
    """
    schema = {**SLEEP_SEGMENTS_SCHEMA, "source": pl.String}
    parts = [
        _grid_segments(grids[k], per["grid_start"].to_numpy(), per["grid_stop"].to_numpy())
        for (k,), per in periods.partition_by("grid", as_dict=True).items()
    ]
    parts = [p for p in parts if p.height]
    if not parts:
        return pl.DataFrame(schema=schema)
    return (
        pl.concat(parts)
        .with_columns(source=pl.lit(source, pl.String))
        .cast(schema)  # type: ignore[arg-type]
        .sort("participant_id", "start_utc")
    )


def _grid_segments(g: MinuteGrid, a: np.ndarray, b: np.ndarray) -> pl.DataFrame:
    size = b - a
    total = int(size.sum())
    of = np.repeat(np.arange(a.size), size)  # period of each minute inside a period
    rows = a[of] + np.arange(total) - np.repeat(np.cumsum(size) - size, size)
    awake = ~g.nonwear[rows] & ~g.hr_wake[rows] & g.has_data[rows]
    stage = np.where(g.sleep[rows], 1, np.where(awake, 2, 0))
    new = np.ones(total, bool)
    new[1:] = (stage[1:] != stage[:-1]) | (of[1:] != of[:-1])
    first = np.flatnonzero(new)
    last = np.concatenate([first[1:], [total]]) - 1
    keep = stage[first] > 0
    code = stage[first[keep]]
    first, last = rows[first[keep]], rows[last[keep]]
    return pl.DataFrame(
        {
            "participant_id": pl.repeat(g.participant_id, first.size, dtype=pl.String, eager=True),
            "start_utc": pl.Series(g.minute_us[first]).cast(SLEEP_SEGMENTS_SCHEMA["start_utc"]),
            "end_utc": pl.Series(g.minute_us[last] + _MIN_US).cast(
                SLEEP_SEGMENTS_SCHEMA["end_utc"]
            ),
            "utc_offset_s": g.utc_offset_s[first].astype(np.int32),
            "stage": pl.Series(["", "asleep", "awake"], dtype=pl.String).gather(code),
        }
    )


def _range_sums(mask: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Number of True in ``mask[a[i]:b[i]]`` for every i."""
    c = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])
    return c[b] - c[a]


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, stop) indices of the True runs of a boolean array."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    edges = np.flatnonzero(m[1:] != m[:-1])  # starts and stops alternate
    return edges[0::2], edges[1::2]


def _cover(n: int, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Boolean array of length ``n``, True on every ``[starts[i], stops[i])`` (stops <= n)."""
    if len(starts) == 0:
        return np.zeros(n, bool)
    d = np.bincount(starts, minlength=n + 1) - np.bincount(stops, minlength=n + 1)
    return np.cumsum(d[:n]) > 0


def _run_length_at(pos: np.ndarray, edges: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``lengths[j]`` where ``edges[j] == pos[i]`` (``edges`` sorted, unique), else 0."""
    if edges.size == 0:
        return np.zeros(pos.size, np.int64)
    j = np.minimum(np.searchsorted(edges, pos), edges.size - 1)
    return np.where(edges[j] == pos, lengths[j], 0)
