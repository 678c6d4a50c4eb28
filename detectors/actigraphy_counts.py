"""Count-based sleep/wake on 1-min epochs, minute-level non-wear and the HDCZA block rules.

Pure numpy functions (part of :mod:`detectors.actigraphy`, which re-exports them): the
consumer proxy for activity counts (Freedson 1998 anchors; our adaptation, grade D),
Cole-Kripke 1992 with Webster's rescoring rules, Sadeh 1994, minute non-wear (van Hees
2013's 60-min window with Choi 2011's spike tolerance) and van Hees 2018's block rules. Each
function's docstring names its sources; the thresholds are fields of
:class:`detectors.actigraphy_params.ActigraphyParams`.
"""

from __future__ import annotations

import numpy as np

from detectors.actigraphy_params import ActigraphyParams


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
# runs of a boolean array


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
