"""What a device records from the latent state: HR samples, step intervals, sleep labels.

Whole-period arrays per person (seconds from ``Timeline.t0``): latent HR (day: minute HR from
METs plus 1 s noise; nights overwritten by :mod:`night`), counted steps per minute, worn mask
(night watch-off gaps plus a daily charging gap, grade D). Device sleep labels come from the
true stages with the errors of consumer devices (Walch 2019: wake specificity ~60 %, sleep
sensitivity ~93 %, three-class accuracy ~72 %): short wake bouts are mostly missed, long ones
mostly found, some sleep is labelled wake, stage labels are confused in 5-min blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulators.physio.day import Timeline
from simulators.physio.night import EPOCH, N3, REM, WAKE, Night, _ar_noise
from simulators.physio.people import Person
from simulators.physio.ranges import draw


@dataclass
class Streams:
    hr: np.ndarray  # float32 per second
    worn: np.ndarray  # bool per second
    steps_min: np.ndarray  # counted steps per minute
    met_min: np.ndarray
    charging: list  # (start epoch, end epoch)


def build_streams(
    person: Person, tl: Timeline, nights: list[Night], rng: np.random.Generator
) -> Streams:
    n_s = tl.minutes * 60
    hr = np.repeat(tl.hr.astype(np.float32), 60)
    hr += _ar_noise(n_s, person.p["hr_noise_sd_bpm"] * 1.5, 30.0, rng).astype(np.float32)
    worn = np.ones(n_s, bool)
    steps = tl.steps.astype(np.int32).copy()
    met = tl.met.copy()
    for nt in nights:
        a = nt.plan.bed - tl.t0
        b = a + len(nt.hr)
        hr[a:b] = nt.hr
        worn[a:b] = nt.worn
        m0 = a // 60
        off = a - m0 * 60
        per = np.zeros((len(nt.steps) + off + 59) // 60 * 60, np.int32)
        per[off : off + len(nt.steps)] = nt.steps
        mins = per.reshape(-1, 60).sum(1)
        steps[m0 : m0 + len(mins)] += mins[: max(0, tl.minutes - m0)]
        mv = np.zeros_like(per, dtype=np.float32)
        mv[off : off + len(nt.move)] = nt.move
        met[m0 : m0 + len(mins)] = np.where(
            mins > 0, 2.0, np.where(mv.reshape(-1, 60).mean(1) > 0.1, 1.1, 0.95)
        )[: max(0, tl.minutes - m0)]
    charging = []
    days = n_s // 86400
    for d in range(days):  # daily charging gap while awake (grade D): 20-60 min
        for _ in range(10):
            a = int(d * 86400 + rng.uniform(6, 22) * 3600)
            b = a + int(rng.uniform(20, 60) * 60)
            if (
                b < n_s
                and worn[a:b].all()
                and met[a // 60 : b // 60].max() < 1.0 + 0.5
                and not any(
                    nt.plan.bed - tl.t0 - 1800 < b and a < nt.plan.out_of_bed - tl.t0
                    for nt in nights
                )
            ):
                worn[a:b] = False
                steps[a // 60 : b // 60] = 0
                charging.append((tl.t0 + a, tl.t0 + b))
                break
    return Streams(hr, worn, steps, met, charging)


def sample_hr(st: Streams, idx: np.ndarray, sd: float, rng: np.random.Generator) -> np.ndarray:
    """Device HR at second indices: mean of the 5 s before, optical error, integer bpm."""
    c = np.concatenate([[0.0], np.cumsum(st.hr, dtype=np.float64)])
    lo = np.maximum(idx - 4, 0)
    mean = (c[idx + 1] - c[lo]) / (idx + 1 - lo)
    return np.clip(np.round(mean + rng.normal(0, sd, len(idx))), 30, 220).astype(int)


def apple_hr_times(
    person: Person,
    tl: Timeline,
    st: Streams,
    nights: list[Night],
    workouts: list[dict],
    rng: np.random.Generator,
) -> np.ndarray:
    """Irregular Apple Watch HR instants (s from t0), only while worn."""
    n_s = len(st.hr)
    night_mask = np.zeros(n_s, bool)
    for nt in nights:
        night_mask[nt.plan.bed - tl.t0 : nt.plan.out_of_bed - tl.t0] = True
    gaps = rng.uniform(180, 600, n_s // 180 + 10)  # daytime background (grade D)
    day_t = np.cumsum(gaps).astype(np.int64)
    day_t = day_t[day_t < n_s]
    times = [day_t[~night_mask[day_t]]]
    for nt in nights:  # sleep: every 60-300 s, some denser stretches
        a, b = nt.plan.bed - tl.t0, nt.plan.out_of_bed - tl.t0
        t, out = a, []
        while t < b:
            if rng.random() < person.p["apple_dense_p_h"] / 20:
                dense_end = t + int(rng.uniform(60, 300))
                while t < min(dense_end, b):
                    out.append(t)
                    t += int(rng.uniform(5, 10))
            out.append(t)
            t += int(draw("apple_hr_gap_s", rng))
        times.append(np.array(out, np.int64))
    for w in workouts:
        times.append(np.arange(w["start"] - tl.t0, w["end"] - tl.t0, 5, dtype=np.int64))
    t = np.unique(np.concatenate(times))
    t = t[t < n_s]
    return t[st.worn[t]]


def fitbit_hr_times(st: Streams, rng: np.random.Generator) -> np.ndarray:
    """Fitbit 'seconds' HR: every 5-15 s while worn (Fitabase 2016 data)."""
    n_s = len(st.hr)
    gaps = rng.choice([5, 5, 5, 5, 10, 10, 15], n_s // 5 + 10)
    t = np.cumsum(gaps).astype(np.int64)
    t = t[t < n_s]
    return t[st.worn[t]]


def device_epochs(person: Person, nt: Night, rng: np.random.Generator) -> np.ndarray:
    """Device stage per 30 s epoch from bed (WAKE/N1-N2 core/N3/REM; -1 not recorded)."""
    p = person.p
    n_ep = len(nt.stage) // EPOCH
    st = nt.stage[: n_ep * EPOCH].reshape(n_ep, EPOCH)
    wake_frac = (st == WAKE).mean(1)
    true = np.stack([(st == k).sum(1) for k in range(5)]).argmax(0)
    true[wake_frac >= 0.5] = WAKE
    lab = true.copy()
    lab[(lab == 1)] = 2
    # stage confusion in 5-min blocks among core / deep / REM
    for b0 in range(0, n_ep, 10):
        if rng.random() < p["stage_confusion"]:
            blk = slice(b0, b0 + 10)
            sleep = lab[blk] != WAKE
            lab[blk] = np.where(sleep, rng.choice([2, N3, REM], p=[0.5, 0.2, 0.3]), lab[blk])
    # missed wake bouts inside the sleep period
    on, fin = nt.onset // EPOCH, nt.final // EPOCH
    i = on
    while i < fin:
        if true[i] == WAKE:
            j = i
            while j < fin and true[j] == WAKE:
                j += 1
            length = j - i
            p_det = (
                p["wake_detect_short"]
                if length <= 4
                else min(
                    0.95,
                    p["wake_detect_short"] + (0.95 - p["wake_detect_short"]) * (length - 4) / 16,
                )
            )
            if rng.random() >= p_det:
                lab[i:j] = 2
            else:
                jit = int(rng.integers(-1, 2))
                lab[max(on, i + jit) : j] = WAKE
            i = j
        else:
            i += 1
    # false wake runs in sleep
    starts = np.flatnonzero(rng.random(n_ep) < p["false_wake_frac"] / 2.5)
    for s in starts:
        if on <= s < fin and true[s] != WAKE:
            lab[s : s + int(rng.integers(1, 5))] = WAKE
    # device sleep window: its onset estimate is a few epochs off the true one
    dev_on = max(0, on + int(rng.integers(-6, 10)))
    dev_fin = min(n_ep, fin + int(rng.integers(-2, 6)))
    lab[:dev_on] = -1
    lab[dev_fin:] = -1
    worn = nt.worn[: n_ep * EPOCH].reshape(n_ep, EPOCH).all(1)
    lab[~worn] = -1
    return lab


def runs(values: np.ndarray) -> list[tuple[int, int, int]]:
    """(start, end, value) runs of equal values, skipping -1."""
    out = []
    if len(values) == 0:
        return out
    edges = np.flatnonzero(np.diff(values)) + 1
    starts = np.r_[0, edges]
    ends = np.r_[edges, len(values)]
    for a, b in zip(starts, ends, strict=True):
        if values[a] != -1:
            out.append((int(a), int(b), int(values[a])))
    return out


def fitbit_minutes(nt: Night, lab: np.ndarray) -> np.ndarray:
    """Fitbit classic minute value per minute from bed: 1 asleep, 2 restless, 3 awake, 0 none."""
    n_min = len(lab) // 2
    ep = lab[: n_min * 2].reshape(n_min, 2)
    mv = nt.move[: n_min * 60].reshape(n_min, 60)
    out = np.ones(n_min, np.int8)
    woke = (ep == WAKE).sum(1)
    restless = ((mv > 0.2).sum(1) >= 5) | (woke == 1)
    out[restless] = 2
    out[woke == 2] = 3
    out[(ep == -1).any(1)] = 0
    return out
