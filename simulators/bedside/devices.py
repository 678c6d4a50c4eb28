"""What the wearables record of the latent person.

* Heart rate: Apple Watch samples in the background every few minutes when still (denser,
  ~ 5 s, in workouts); a Fitbit in Fitabase's ``heartrate_seconds`` every 5-15 s with
  occasional gaps. Nothing is recorded while the watch is off. Device error: Gaussian noise.
* Steps: the counter drops the first steps of each walking bout and counts a person-specific
  share of the rest (short night-time walks lose proportionally more).
* Sleep staging (consumer): short wake bouts are often missed and scored as sleep, a few sleep
  epochs are scored wake, deep and REM are partly scored as core/light. Apple writes stage
  segments (Core/Deep/REM/Awake) plus an InBed interval; Fitbit writes classic minute values
  (1 asleep, 2 restless, 3 awake) in sleep logs.
"""

from __future__ import annotations

import numpy as np

from simulators.bedside.night import EPOCH
from simulators.bedside.ranges import RANGES, draw


def counted_steps(true_steps: np.ndarray, p: dict, rng) -> np.ndarray:
    """Device steps for a 1-D array of true steps (bouts = runs of non-zero entries)."""
    out = np.zeros(len(true_steps), np.float64)
    nz = np.flatnonzero(true_steps > 0)
    if len(nz) == 0:
        return out
    for run in np.split(nz, np.flatnonzero(np.diff(nz) > 1) + 1):
        total = float(true_steps[run].sum())
        kept = max(total - p["step_drop_first"], 0) * p["step_efficiency"]
        out[run] = true_steps[run] * (kept / total)
    return out


def minute_steps(person, days, nights, rng) -> np.ndarray:
    """Counted steps per minute of the whole period (days and nights), watch off -> 0."""
    steps = counted_steps(days.steps, person.p, rng)
    for a, b in days.charging:
        steps[(a - days.t0) // 60 : (b - days.t0) // 60] = 0
    for nt in nights:
        s = counted_steps(nt.steps * nt.worn, person.p, rng)
        idx = (nt.bed - days.t0 + np.flatnonzero(s)) // 60
        np.add.at(steps, idx, s[s > 0])
    return np.round(steps).astype(np.int64)


def _worn_mask(t: np.ndarray, days, nights) -> np.ndarray:
    ok = np.ones(len(t), bool)
    for a, b in days.charging:
        ok &= ~((t >= a) & (t < b))
    for nt in nights:
        inside = (t >= nt.bed) & (t < nt.bed + nt.n)
        ok[inside] &= nt.worn[t[inside] - nt.bed]
    return ok


def latent_hr(t: np.ndarray, days, nights) -> np.ndarray:
    m = (t - days.t0) / 60.0
    hr = np.interp(m, np.arange(len(days.hr)), days.hr).astype(np.float64)
    for nt in nights:
        inside = (t >= nt.bed) & (t < nt.bed + nt.n)
        hr[inside] = nt.hr[t[inside] - nt.bed]
    return hr


def _irregular(a: int, b: int, mean_s: float, rng) -> np.ndarray:
    n = int((b - a) / mean_s * 1.3) + 2
    r = RANGES["hr_interval_jitter"]
    gaps = np.maximum(np.round(mean_s * r.draw(rng, n)), 1)
    t = a + np.cumsum(gaps).astype(np.int64)
    return t[t < b]


def hr_samples(person, days, nights, t_end: int, rng) -> tuple[np.ndarray, np.ndarray]:
    p = person.p
    parts = []
    if person.device == "apple":
        edges = [days.t0] + [x for nt in nights for x in (nt.bed, nt.bed + nt.n)] + [t_end]
        for i, (a, b) in enumerate(zip(edges[0::2], edges[1::2], strict=True)):
            parts.append(_irregular(a, b, p["apple_day_hr_interval_s"], rng))
            if i < len(nights):
                nt = nights[i]
                parts.append(_irregular(nt.bed, nt.bed + nt.n, p["apple_sleep_hr_interval_s"], rng))
        for a, b in days.workouts:
            mean = float(draw("apple_workout_hr_interval_s", rng))
            parts.append(_irregular(a, b, mean, rng))
    else:
        r = RANGES["fitbit_hr_interval_s"]
        n = int((t_end - days.t0) / r.low) + 2
        gaps = rng.integers(int(r.low), int(r.high) + 1, n)
        # occasional sparser stretches: a sample followed by a gap of 1-10 min
        long = rng.random(n) < p["fitbit_hr_gap_share"]
        gaps[long] = np.round(draw("fitbit_hr_gap_s", rng, int(long.sum())))
        t = days.t0 + np.cumsum(gaps)
        parts.append(t[t < t_end])
    t = np.unique(np.concatenate(parts)).astype(np.int64)
    t = t[_worn_mask(t, days, nights)]
    v = latent_hr(t, days, nights) + rng.normal(0, p["device_hr_sd_bpm"], len(t))
    return t, np.clip(np.round(v), 30, 220).astype(np.int64)


def _runs(x: np.ndarray):
    """(start, end, value) of runs of equal values."""
    if len(x) == 0:
        return []
    cut = np.flatnonzero(np.diff(x)) + 1
    st = np.r_[0, cut]
    en = np.r_[cut, len(x)]
    return list(zip(st.tolist(), en.tolist(), x[st].tolist(), strict=True))


def device_epochs(person, nt, rng) -> np.ndarray:
    """Consumer staging per 30 s epoch: -1 no data, 0 wake, 2 core/light, 3 deep, 4 REM."""
    p = person.p
    st = nt.stage
    lab = np.where(st == 3, 3, np.where(st == 4, 4, 2)).astype(np.int8)
    lab[st == 0] = 0
    on, fin = nt.onset // EPOCH, nt.final // EPOCH
    for a, b, v in _runs(st[on:fin]):
        if v != 0:
            continue
        short = (b - a) * EPOCH < 300
        pd = p["wake_bout_detect_short"] if short else p["wake_bout_detect_long"]
        if rng.random() >= pd:
            lab[on + a : on + b] = 2
    sleep_ep = np.flatnonzero(st[on:fin] > 0) + on
    flip = sleep_ep[rng.random(len(sleep_ep)) < p["sleep_epoch_as_wake"]]
    lab[flip] = 0
    # deep and REM bouts scored as core, bout by bout (staging errors come in stretches)
    for a, b, v in _runs(lab):
        share = {3: p["deep_as_core_share"], 4: p["rem_as_core_share"]}.get(v)
        if share is not None and rng.random() < share:
            lab[a:b] = 2
    worn_ep = nt.worn[: len(st) * EPOCH].reshape(len(st), EPOCH).all(1)
    lab[~worn_ep] = -1
    return lab


def apple_segments(nt, lab: np.ndarray) -> list[tuple[int, int, str]]:
    """InBed (iPhone) + watch stage segments from the first to the last asleep epoch."""
    names = {0: "Awake", 2: "AsleepCore", 3: "AsleepDeep", 4: "AsleepREM"}
    segs = [(nt.bed, nt.bed + nt.n, "InBed")]
    asleep = np.flatnonzero(lab > 0)
    if len(asleep) == 0:
        return segs
    a0, a1 = asleep[0], asleep[-1] + 1
    for a, b, v in _runs(lab[a0:a1]):
        if v >= 0:
            segs.append((nt.bed + EPOCH * (a0 + a), nt.bed + EPOCH * (a0 + b), names[v]))
    return segs


def fitbit_minutes(person, nt, lab: np.ndarray, rng) -> list[tuple[np.ndarray, np.ndarray]]:
    """Sleep logs [(minute start epochs, values 1/2/3)], split at watch-off gaps."""
    n_min = len(lab) // 2
    pair = lab[: 2 * n_min].reshape(n_min, 2)
    mv = nt.move[: n_min * 60].reshape(n_min, 60).max(1)
    val = np.ones(n_min, np.int8)
    restless = (mv > person.p["fitbit_restless_move_level"]) & (
        rng.random(n_min) < person.p["fitbit_restless_move_share"]
    )
    val[restless | (pair == 0).any(1)] = 2
    val[(pair == 0).all(1)] = 3
    nodata = (pair < 0).any(1)
    asleep = np.flatnonzero((val == 1) & ~nodata)
    if len(asleep) == 0:
        return []
    logs = []
    idx = np.arange(asleep[0], asleep[-1] + 1)
    idx = idx[~nodata[idx]]
    for grp in np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1):
        if len(grp) >= person.p["fitbit_min_log_min"]:
            logs.append((nt.bed + 60 * grp.astype(np.int64), val[grp]))
    return logs
