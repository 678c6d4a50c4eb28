"""What the wrist device records from the true state.

* Apple Watch HR: background readings with gaps drawn from the spacing measured on a real
  export (lognormal, median 285 s, clipped 60-900 s); every ~5 s inside a workout; 99 %
  integers. Fitbit HR: spacing drawn from the measured night / day mixtures of 1-15 s, plus
  gaps >= 60 s at the measured rate. Each reading is the true HR averaged over 5 s plus an
  independent device error per reading (< 1 bpm at rest, measured on the real series; larger
  while the wrist moves). The true HR's own slow fluctuation (``hr_noise_sd_bpm``) carries the
  rest of the measured night variability, so the error is not counted twice. Nothing while the
  device is off the wrist.
* Steps: bouts of true steps (seconds with steps, < 5 s apart); a bout shorter than the
  device's minimum is not credited, slow bouts (< 100 steps/min) lose the person's
  ``slow_undercount``; strong wrist motion without steps adds false steps.
* iPhone steps (Apple people): the phone's own pedometer counts only while carried: in
  30 min daytime blocks with probability ``iphone_carry_frac``, losing ``iphone_undercount``;
  from bed to rise it lies on the nightstand and counts nothing.
* Sleep staging per 30 s epoch in the device's sleep window, with misclassification:
  quiet wake often scored as light sleep, deep and REM confused with light.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

from simulators.nocturne.ranges import RANGES, draw
from simulators.nocturne.timeline import N1, N2, N3, REM, WAKE, Timeline

FITBIT_STEPS_S = np.array([1, 2, 3, 5, 10, 15])
FITBIT_NIGHT_P = np.array([0.10, 0.06, 0.22, 0.11, 0.33, 0.18])  # measured, see ranges
FITBIT_DAY_P = np.array([0.06, 0.03, 0.12, 0.40, 0.21, 0.18])


def _readings(hr, tl: Timeline, idx, err_sd, motion_sd, rng):
    idx = idx[(idx >= 5) & (idx < tl.n)]
    idx = idx[tl.worn[idx]]
    cs = np.concatenate([[0.0], np.cumsum(hr, dtype=np.float64)])
    mean5 = (cs[idx + 1] - cs[idx - 4]) / 5
    sd = err_sd + motion_sd * tl.wrist[idx]
    return idx, mean5 + rng.standard_normal(len(idx)) * sd


def apple_hr(hr, tl: Timeline, p, rng):
    gaps = draw(rng, "apple_hr_gap_s", tl.n // 60 + 10)
    t = np.cumsum(gaps).astype(np.int64) + int(rng.integers(0, 300))
    t = t[t < tl.n]
    t = t[~tl.workout[t]]
    w = np.flatnonzero(tl.workout)
    extra = w[(w % 5) == int(rng.integers(0, 5))] if len(w) else w
    idx = np.sort(np.concatenate([t, extra]))
    idx, v = _readings(hr, tl, idx, p["apple_hr_err_sd"], p["motion_hr_err_sd"], rng)
    v = np.clip(v, 30, 220)
    integer = rng.random(len(v)) < RANGES["apple_hr_integer_frac"].low
    v = np.where(integer, np.round(v), np.round(v, 4))
    return idx, v


def fitbit_hr(hr, tl: Timeline, p, rng):
    n = tl.n
    night = tl.stage >= 0
    k = n // 3 + 10
    sn = rng.choice(FITBIT_STEPS_S, k, p=FITBIT_NIGHT_P / FITBIT_NIGHT_P.sum())
    sd = rng.choice(FITBIT_STEPS_S, k, p=FITBIT_DAY_P / FITBIT_DAY_P.sum())
    t, j = 0, 0
    # walk the timeline in chunks so that night/day spacing follows the state
    idx = np.empty(k, np.int64)
    while t < n and j < k:
        idx[j] = t
        t += int(sn[j] if night[t] else sd[j])
        j += 1
    idx = idx[:j]
    # gaps >= 60 s at the measured rate
    n_gaps = rng.poisson(p["fitbit_gap_per_h"] * n / 3600)
    keep = np.ones(len(idx), bool)
    for g0 in rng.integers(0, n, n_gaps):
        g1 = g0 + int(draw(rng, "fitbit_gap_s"))
        keep &= ~((idx >= g0) & (idx < g1))
    idx = idx[keep]
    idx, v = _readings(hr, tl, idx, p["fitbit_hr_err_sd"], p["motion_hr_err_sd"], rng)
    return idx, np.clip(np.round(v), 30, 220).astype(np.int64)


def counted_steps(tl: Timeline, p, device: str, rng) -> np.ndarray:
    """Steps the device credits, per second (float; sums are rounded by the writers)."""
    s = tl.steps.astype(np.float32)
    out = np.zeros(tl.n, np.float32)
    nz = np.flatnonzero(s)
    min_bout = p["apple_min_bout"] if device == "apple" else p["fitbit_min_bout"]
    if len(nz):
        brk = np.flatnonzero(np.diff(nz) > 5) + 1
        for seg in np.split(nz, brk):
            a, b = seg[0], seg[-1] + 1
            n = float(s[a:b].sum())
            if n < min_bout:
                continue
            cadence = n / max(1, b - a) * 60
            loss = p["slow_undercount"] if cadence < 100 else 0.03
            out[a:b] = s[a:b] * (1 - loss) * rng.uniform(0.95, 1.05)
    # false steps from strong wrist motion while not walking, in bed only
    still = (tl.steps == 0) & (tl.wrist >= 0.3) & (tl.stage >= 0)
    rate = p["false_steps_per_min"] / 60 * tl.wrist
    out += np.where(still, rng.poisson(rate).astype(np.float32), 0)
    out[~tl.worn] = 0
    return out


def _blocky(rng, n: int, lo: int = 2, hi: int = 10) -> np.ndarray:
    """Uniform numbers held for runs of ``lo``-``hi`` epochs: device errors come in episodes
    (scored segments last minutes), not as independent 30 s flickers (grade D)."""
    lens = rng.integers(lo, hi + 1, n // lo + 2)
    return np.repeat(rng.random(len(lens)), lens)[:n]


def stage_epochs(tl: Timeline, a: int, b: int, p, rng) -> np.ndarray:
    """Device stage per 30 s epoch for [a, b): 0 wake, 1 light, 3 deep, 4 rem, -1 no data."""
    n_ep = (b - a) // 30
    if n_ep <= 0:
        return np.zeros(0, np.int8)
    st = tl.stage[a : a + n_ep * 30].reshape(n_ep, 30)
    true = np.array([np.bincount(np.clip(r, 0, 4), minlength=5).argmax() for r in st])
    move = tl.wrist[a : a + n_ep * 30].reshape(n_ep, 30).max(axis=1)
    move = uniform_filter1d(move, 3)
    worn = tl.worn[a : a + n_ep * 30].reshape(n_ep, 30).all(axis=1)
    upright = tl.posture[a : a + n_ep * 30].reshape(n_ep, 30).max(axis=1) == 2
    u = _blocky(rng, n_ep)
    out = np.full(n_ep, 1, np.int8)
    wake = true == WAKE
    active = (move >= 0.3) | upright
    out[wake & active & (u < p["active_wake_as_wake"])] = 0
    out[wake & ~active & (u >= p["quiet_wake_as_sleep"])] = 0
    sleep = ~wake
    out[sleep & (u < p["sleep_as_wake"])] = 0
    v = _blocky(rng, n_ep)
    ok = sleep & (u >= p["sleep_as_wake"])
    out[ok & (true == N3) & (v < p["deep_correct"])] = 3
    out[ok & (true == REM) & (v < p["rem_correct"])] = 4
    light = ok & np.isin(true, (N1, N2))
    wrong = light & (v >= p["light_correct"])
    out[wrong] = np.where(rng.random(wrong.sum()) < 0.6, 3, 4)
    out[~worn] = -1
    return out


def iphone_steps(tl: Timeline, rng) -> np.ndarray:
    """Steps per second counted by the iPhone (see the module docstring)."""
    carry, miss = float(draw(rng, "iphone_carry_frac")), float(draw(rng, "iphone_undercount"))
    carried = np.repeat(rng.random(tl.n // 1800 + 1) < carry, 1800)[: tl.n] & (tl.stage < 0)
    return tl.steps * carried * (1 - miss)
