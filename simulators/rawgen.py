"""Seeded simulator of raw wrist accelerometry (x/y/z in g) with heart rate, one night each.

Written for the raw cramp detector's tests without sharing code or structure with it: the
signals are built from postures (gravity directions), additive movement bursts (low-passed
Gaussian noise), heel-strike impulse trains, and a latent 1-s heart rate with event responses.

Night layout (local time, fixed UTC offset): ``pre_wake_min`` of evening wake (restless arm:
bursts every 5-30 s, posture changes every 20-120 s), ``sleep_h`` of sleep, ``post_wake_min``
of morning wake. During sleep the wrist holds a posture between rollovers; sensor noise is
white (SD 3-6 mg per axis).

Events during sleep (>= 30 min after onset, >= 30 min before the end, >= 4 min apart):

=============  ===================================================================================
event          signature
=============  ===================================================================================
cramp          burst of 10-120 s of vigorous movement (0.15-0.45 g, 2-4 posture changes: reaching
               for the leg, massage); then 2-8 min awake: small movements (0.05-0.15 g, 1-4 s)
               every 10-40 s; 40 % stand and take 4-15 steps; then a new posture, still.
               HR +12..+28 bpm from 3-15 s after onset (rise time constant 8 s), held through the
               burst and half the wake, then decays (time constant 2-4 min). Truth: the burst.
plm_series     10-40 movements of 0.5-5 s (0.03-0.10 g), onset-to-onset 15-40 s; each gives an
               HR bump of +4..+8 bpm for ~8 s (Winkelman 1999: ~10 beats).
rollover       2-14 s movement (0.10-0.30 g) to a new posture (80 %: z-angle change >= 35 deg);
               HR +3..+6 bpm for 6-10 s.
bathroom_trip  get up (3-6 s), walk 40-70 s at 1.6-2.0 steps/s, stand 1-5 min (hand washing
               bursts), walk back 40-70 s, lie down; HR +15..+25 bpm while up (time constant 20 s),
               decaying after (2 min).
phone_use      pick up (2-4 s), 3-15 min with the arm up: taps and scrolls (0.015-0.05 g, 0.3-1.5 s,
               every 1-5 s), put down; HR +0..+3 bpm, no surge.
watch_off      taken off (3-6 s), 10-40 min flat on the table (face up, noise 2 mg) and no HR; half
               of them as a recording gap (no samples at all); put back on.
=============  ===================================================================================

HR is sampled every ``hr_spacing_s`` (1 s, or 5 s like the Apple Watch) with measurement noise
(SD 0.7 bpm) and 1-3 single-sample PPG artefacts (+25..+40 bpm) per night.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl
from scipy import signal

US = 1_000_000
KINDS = ("nocturnal_cramp", "plm_series", "rollover", "bathroom_trip", "phone_use", "watch_off")


@dataclass(frozen=True)
class RawGenConfig:
    seed: int = 0
    participant_id: str = "raw01"
    first_night: date = date(2025, 7, 1)
    utc_offset_s: int = 7200
    fs_hz: float = 25.0
    hr_spacing_s: int = 1
    sleep_h: tuple[float, float] = (4.0, 5.0)
    pre_wake_min: tuple[float, float] = (25.0, 40.0)
    post_wake_min: tuple[float, float] = (20.0, 30.0)
    #: events per night, (low, high) inclusive, for the random schedule
    cramps: tuple[int, int] = (1, 2)
    rollovers: tuple[int, int] = (3, 8)
    plm_series: tuple[int, int] = (0, 1)
    bathroom_trips: tuple[int, int] = (0, 1)
    phone_uses: tuple[int, int] = (0, 1)
    watch_offs: tuple[int, int] = (0, 1)


@dataclass
class RawNightData:
    participant_id: str
    night_of: date
    utc_offset_s: int
    t_us: np.ndarray
    acc_g: np.ndarray  # (n, 3) float32
    hr_t_us: np.ndarray
    hr_bpm: np.ndarray
    sleep_us: tuple[int, int]
    truth: list[dict] = field(default_factory=list)  # kind, start_us, end_us

    def accel_frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "participant_id": self.participant_id,
                "time_utc": pl.Series(self.t_us)
                .cast(pl.Datetime("us"))
                .dt.replace_time_zone("UTC"),
                "x_g": self.acc_g[:, 0],
                "y_g": self.acc_g[:, 1],
                "z_g": self.acc_g[:, 2],
            }
        )

    def hr_samples(self) -> pl.DataFrame:
        t = pl.Series(self.hr_t_us).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        return pl.DataFrame(
            {
                "participant_id": self.participant_id,
                "metric": "heart_rate_bpm",
                "start_utc": t,
                "end_utc": t,
                "utc_offset_s": pl.Series([self.utc_offset_s] * t.len(), dtype=pl.Int32),
                "value": self.hr_bpm.astype(float),
                "source": "rawgen",
            }
        )

    def truth_frame(self, kind: str = "nocturnal_cramp") -> pl.DataFrame:
        rows = [r for r in self.truth if r["kind"] == kind]
        return pl.DataFrame(
            {
                "participant_id": [self.participant_id] * len(rows),
                "kind": [kind] * len(rows),
                "start_utc": [r["start_us"] for r in rows],
                "end_utc": [r["end_us"] for r in rows],
                "local_date": [self.night_of] * len(rows),
            },
            schema={
                "participant_id": pl.String,
                "kind": pl.String,
                "start_utc": pl.Int64,
                "end_utc": pl.Int64,
                "local_date": pl.Date,
            },
        ).with_columns(
            pl.col("start_utc", "end_utc").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        )


def _posture(el_deg: float, az_deg: float) -> np.ndarray:
    el, az = np.radians(el_deg), np.radians(az_deg)
    return np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])


ARM_DOWN = np.array([-0.95, 0.10, 0.25])  # standing, arm hanging
PHONE = np.array([-0.55, 0.35, -0.75])  # forearm raised, screen towards the face
TABLE = np.array([0.0, 0.0, 1.0])  # watch lying face up


class _Night:
    """Mutable builder of one night's signals."""

    def __init__(self, rng: np.random.Generator, fs: float, total_s: int):
        self.rng, self.fs, self.total_s = rng, fs, total_s
        self.n = int(total_s * fs)
        self.key_t: list[float] = [0.0]
        self.key_v: list[np.ndarray] = []
        self.mov = np.zeros((self.n, 3))
        self.hr = np.zeros(total_s)  # latent offsets, bpm
        self.hr_off = np.zeros(total_s, bool)  # no HR (watch off)
        self.flat = np.zeros(self.n, bool)  # off the wrist: no movement, table posture
        self.gap = np.zeros(self.n, bool)  # no samples recorded
        self.steps: list[float] = []  # heel-strike instants (s)
        self.truth: list[dict] = []

    def set_posture(self, t_s: float, v: np.ndarray, ramp_s: float = 1.0) -> None:
        v = np.asarray(v, float) / np.linalg.norm(v)
        if not self.key_v:
            self.key_v.append(v)
            return
        self.key_t += [t_s, t_s + ramp_s]
        self.key_v += [self.key_v[-1], v]

    def burst(self, t_s: float, dur_s: float, amp_g: float, hi_hz: float = 6.0) -> None:
        a, b = int(t_s * self.fs), min(self.n, int((t_s + dur_s) * self.fs))
        if b - a < 4:
            return
        sos = signal.butter(2, min(hi_hz, 0.45 * self.fs), fs=self.fs, output="sos")
        x = signal.sosfilt(sos, self.rng.normal(size=(b - a + 50, 3)), axis=0)[50:]
        x /= max(float(x.std()), 1e-9)
        env = np.hanning(b - a + 2)[1:-1] ** 0.5
        self.mov[a:b] += amp_g * x * env[:, None]

    def walk(self, t_s: float, dur_s: float, cadence_hz: float) -> float:
        """Heel strikes from ``t_s``; returns the end time."""
        k = int(dur_s * cadence_hz)
        times = t_s + (np.arange(k) + self.rng.normal(0, 0.02, k)) / cadence_hz
        self.steps += times.tolist()
        swing_a = int(t_s * self.fs)
        swing_b = min(self.n, int((t_s + dur_s) * self.fs))
        tt = np.arange(swing_b - swing_a) / self.fs
        self.mov[swing_a:swing_b, 1] += 0.12 * np.sin(np.pi * cadence_hz * tt)
        return t_s + dur_s

    def hr_bump(
        self, t_s: float, amp: float, dur_s: float, tau_up: float = 2.0, tau_down: float = 3.0
    ) -> None:
        tt = np.arange(self.total_s) - t_s
        up = np.where(tt >= 0, 1 - np.exp(-np.clip(tt, 0, None) / tau_up), 0.0)
        down = np.where(tt > dur_s, np.exp(-np.clip(tt - dur_s, 0, None) / tau_down), 1.0)
        self.hr += amp * up * down

    def build(self, noise_g: float) -> np.ndarray:
        kt = np.asarray(self.key_t)
        kv = np.asarray(self.key_v)
        t = np.arange(self.n) / self.fs
        g = np.column_stack([np.interp(t, kt, kv[:, k]) for k in range(3)])
        g /= np.linalg.norm(g, axis=1, keepdims=True)
        acc = g + self.mov
        if self.steps:
            st = np.asarray(self.steps)
            idx = (st * self.fs).astype(np.int64)
            idx = idx[(idx >= 0) & (idx < self.n)]
            pulse = np.zeros(self.n)
            pulse[idx] = self.rng.uniform(0.25, 0.5, idx.size)
            w = max(1, int(0.08 * self.fs))
            kern = np.hanning(2 * w + 1)
            pulse = np.convolve(pulse, kern, mode="same")
            acc[:, 0] += pulse
        acc[self.flat] = TABLE
        acc += self.rng.normal(0.0, noise_g, acc.shape) * np.where(self.flat, 0.4, 1.0)[:, None]
        return acc


def _pick_times(
    rng, lo_s: float, hi_s: float, durations: list[float], gap_s: float = 240.0
) -> list[float] | None:
    """Non-overlapping start times for events of the given durations, in random order."""
    for _ in range(200):
        starts = rng.uniform(lo_s, hi_s, len(durations))
        order = np.argsort(starts)
        s, d = starts[order], np.asarray(durations)[order]
        if np.all(s[1:] >= s[:-1] + d[:-1] + gap_s) and (s.size == 0 or s[-1] + d[-1] <= hi_s):
            out = np.empty_like(starts)
            out[order] = s
            return out.tolist()
    return None


def generate_night(
    cfg: RawGenConfig,
    index: int = 0,
    schedule: list[tuple[str, float, dict]] | None = None,
    sleep_h: float | None = None,
) -> RawNightData:
    """One night. ``schedule`` = ``[(kind, start s after sleep onset, overrides), ...]`` to
    place events by hand (then no random events are drawn); kinds as in :data:`KINDS`."""
    rng = np.random.default_rng([cfg.seed, index])
    fs = cfg.fs_hz
    pre = rng.uniform(*cfg.pre_wake_min) * 60
    sleep = (sleep_h if sleep_h is not None else rng.uniform(*cfg.sleep_h)) * 3600
    post = rng.uniform(*cfg.post_wake_min) * 60
    total = int(pre + sleep + post)
    nt = _Night(rng, fs, total)
    hr0 = rng.uniform(50, 65)
    noise_g = rng.uniform(0.003, 0.006)

    # evening wake: restless arm, frequent postures
    nt.set_posture(0.0, _posture(rng.uniform(-60, 60), rng.uniform(0, 360)))
    t = 0.0
    while t < pre - 10:
        if rng.random() < 0.7:
            nt.set_posture(t, _posture(rng.uniform(-70, 70), rng.uniform(0, 360)), 1.5)
        d = rng.uniform(1, 10)
        nt.burst(t, d, rng.uniform(0.05, 0.3))
        t += d + rng.uniform(5, 30)
    posture = _posture(rng.uniform(-60, 60), rng.uniform(0, 360))
    nt.set_posture(pre - 5, posture, 2.0)
    awake = np.zeros(total)
    awake[: int(pre)] = 1
    awake[int(pre + sleep) :] = 1

    if schedule is None:
        kinds: list[str] = []
        for kind, (lo, hi) in zip(
            KINDS,
            (
                cfg.cramps,
                cfg.plm_series,
                cfg.rollovers,
                cfg.bathroom_trips,
                cfg.phone_uses,
                cfg.watch_offs,
            ),
            strict=True,
        ):
            kinds += [kind] * int(rng.integers(lo, hi + 1))
        plans = [(k, _draw(rng, k)) for k in kinds]
        durs = [pl_["span_s"] for _, pl_ in plans]
        times = _pick_times(rng, 1800.0, sleep - 1800.0, durs)
        if times is None:  # too many events for this night: keep the cramps only
            plans = [x for x in plans if x[0] == "nocturnal_cramp"]
            times = _pick_times(rng, 1800.0, sleep - 1800.0, [x[1]["span_s"] for x in plans])
            times = times or []
        events = [(k, pre + ts, plan) for (k, plan), ts in zip(plans, times, strict=True)]
    else:
        events = [(k, pre + ts, {**_draw(rng, k), **over}) for k, ts, over in schedule]
    events.sort(key=lambda e: e[1])
    for kind, ts, plan in events:
        posture = _EVENT[kind](nt, ts, plan, posture, awake)
    # morning wake (after the events: posture keyframes are written in time order)
    t = pre + sleep
    while t < total - 10:
        if rng.random() < 0.7:
            nt.set_posture(t, _posture(rng.uniform(-70, 70), rng.uniform(0, 360)), 1.5)
        d = rng.uniform(1, 10)
        nt.burst(t, d, rng.uniform(0.05, 0.3))
        t += d + rng.uniform(5, 30)

    # heart rate: baseline + wake offset + drift + AR noise + responses
    tt = np.arange(total)
    ar = signal.lfilter([1.0], [1.0, -0.995], rng.normal(0, 0.08, total))
    wake_s = np.convolve(awake, np.ones(60) / 60, mode="same")
    latent = hr0 + 9 * wake_s - 3 * tt / total + ar + nt.hr
    step = cfg.hr_spacing_s
    sample = np.arange(int(rng.uniform(0, step)), total, step)
    sample = sample[~nt.hr_off[sample]]
    hr = latent[sample] + rng.normal(0, 0.7, sample.size)
    for _ in range(int(rng.integers(1, 4))):
        if sample.size:
            hr[rng.integers(0, sample.size)] += rng.uniform(25, 40)

    acc = nt.build(noise_g)
    # local noon-to-noon: the night starts at local 22:00-23:00 on night_of
    night_of = cfg.first_night + timedelta(days=index)
    local0 = (np.datetime64(night_of, "s") - np.datetime64("1970-01-01", "s")).astype(np.int64)
    t0_us = int((local0 + 22 * 3600 + rng.uniform(0, 3600) - cfg.utc_offset_s) * US)
    t_us = t0_us + (np.arange(nt.n) * (US / fs)).astype(np.int64)
    keep = ~nt.gap
    truth = [
        {
            "kind": r["kind"],
            "start_us": t0_us + int(r["start_s"] * US),
            "end_us": t0_us + int(r["end_s"] * US),
        }
        for r in nt.truth
    ]
    return RawNightData(
        participant_id=cfg.participant_id,
        night_of=night_of,
        utc_offset_s=cfg.utc_offset_s,
        t_us=t_us[keep],
        acc_g=acc[keep].astype(np.float32),
        hr_t_us=t0_us + sample.astype(np.int64) * US,
        hr_bpm=np.round(hr, 1),
        sleep_us=(t0_us + int(pre * US), t0_us + int((pre + sleep) * US)),
        truth=truth,
    )


def generate(cfg: RawGenConfig, nights: int) -> list[RawNightData]:
    return [generate_night(cfg, i) for i in range(nights)]


# ----------------------------------------------------------------------------------------
# events: each draws its plan (durations, amplitudes) and writes itself into the night


def _draw(rng, kind: str) -> dict:
    if kind == "nocturnal_cramp":
        burst = float(rng.uniform(10, 120))
        wake = float(rng.uniform(120, 480))
        return {
            "burst_s": burst,
            "wake_s": wake,
            "amp_g": rng.uniform(0.15, 0.45),
            "hr_rise_bpm": rng.uniform(12, 28),
            "hr_delay_s": rng.uniform(3, 15),
            "hr_tau_s": rng.uniform(120, 240),
            "steps": int(rng.integers(4, 16)) if rng.random() < 0.4 else 0,
            "span_s": burst + wake,
        }
    if kind == "plm_series":
        k = int(rng.integers(10, 41))
        ioi = rng.uniform(15, 40, k)
        return {
            "onsets_s": np.concatenate([[0.0], np.cumsum(ioi[:-1])]).tolist(),
            "durs_s": rng.uniform(0.5, 5, k).tolist(),
            "amp_g": rng.uniform(0.03, 0.10),
            "span_s": float(ioi.sum()),
        }
    if kind == "rollover":
        return {
            "dur_s": rng.uniform(2, 14),
            "amp_g": rng.uniform(0.10, 0.30),
            "big": rng.random() < 0.8,
            "span_s": 20.0,
        }
    if kind == "bathroom_trip":
        w1, stand, w2 = rng.uniform(40, 70), rng.uniform(60, 300), rng.uniform(40, 70)
        return {
            "walk1_s": w1,
            "stand_s": stand,
            "walk2_s": w2,
            "cadence_hz": rng.uniform(1.6, 2.0),
            "hr_rise_bpm": rng.uniform(15, 25),
            "span_s": w1 + stand + w2 + 15,
        }
    if kind == "phone_use":
        d = rng.uniform(180, 900)
        return {"dur_s": d, "span_s": d + 10}
    if kind == "watch_off":
        d = rng.uniform(600, 2400)
        return {
            "dur_s": d,
            "gap": rng.random() < 0.5,
            "remove_s": rng.uniform(3, 6),
            "span_s": d + 15,
        }
    raise ValueError(kind)


def _new_posture(rng, old: np.ndarray, big: bool = True) -> np.ndarray:
    el_old = np.degrees(np.arcsin(np.clip(old[2], -1, 1)))
    for _ in range(100):
        el = rng.uniform(-75, 75)
        if (abs(el - el_old) >= 35) == big:
            return _posture(el, rng.uniform(0, 360))
    return _posture(el_old + (40 if el_old < 0 else -40), rng.uniform(0, 360))


def _cramp(nt: _Night, t: float, p: dict, posture, awake) -> np.ndarray:
    rng = nt.rng
    b = p["burst_s"]
    nt.burst(t, b, p["amp_g"])
    for k in range(int(rng.integers(2, 5))):
        nt.set_posture(
            t + b * (k + 0.5) / 4, _posture(rng.uniform(-70, 70), rng.uniform(0, 360)), 1.5
        )
    u = t + b
    end = t + b + p["wake_s"]
    if p["steps"]:
        nt.set_posture(u + 3, ARM_DOWN, 2.0)
        u = nt.walk(u + 6, p["steps"] / 1.7, 1.7) + 3
    while u < end - 5:
        d = rng.uniform(1, 4)
        nt.burst(u, d, rng.uniform(0.05, 0.15))
        if rng.random() < 0.3:
            nt.set_posture(u, _posture(rng.uniform(-70, 70), rng.uniform(0, 360)), 1.0)
        u += d + rng.uniform(10, 40)
    new = _new_posture(rng, posture)
    nt.set_posture(end - 3, new, 2.0)
    held = b + 0.5 * p["wake_s"]
    nt.hr_bump(
        t + p["hr_delay_s"],
        p["hr_rise_bpm"],
        held - p["hr_delay_s"],
        tau_up=8.0,
        tau_down=p["hr_tau_s"],
    )
    awake[int(t) : int(end)] = 1
    nt.truth.append({"kind": "nocturnal_cramp", "start_s": t, "end_s": t + b})
    return new


def _plm(nt: _Night, t: float, p: dict, posture, awake) -> np.ndarray:
    for on, d in zip(p["onsets_s"], p["durs_s"], strict=True):
        nt.burst(t + on, d, p["amp_g"] * nt.rng.uniform(0.7, 1.3))
        nt.hr_bump(t + on + 1, nt.rng.uniform(4, 8), 4.0, tau_up=1.5, tau_down=3.0)
    nt.truth.append({"kind": "plm_series", "start_s": t, "end_s": t + p["span_s"]})
    return posture


def _rollover(nt: _Night, t: float, p: dict, posture, awake) -> np.ndarray:
    new = _new_posture(nt.rng, posture, p["big"])
    nt.burst(t, p["dur_s"], p["amp_g"])
    nt.set_posture(t + 0.2 * p["dur_s"], new, 0.6 * p["dur_s"])
    nt.hr_bump(t + 1, nt.rng.uniform(3, 6), nt.rng.uniform(3, 6), tau_up=1.5, tau_down=3.0)
    nt.truth.append({"kind": "rollover", "start_s": t, "end_s": t + p["dur_s"]})
    return new


def _bathroom(nt: _Night, t: float, p: dict, posture, awake) -> np.ndarray:
    rng = nt.rng
    d = rng.uniform(3, 6)
    nt.burst(t, d, 0.25)
    nt.set_posture(t + 1, ARM_DOWN, d - 1)
    u = nt.walk(t + d, p["walk1_s"], p["cadence_hz"])
    stand_end = u + p["stand_s"]
    while u < stand_end - 5:
        dd = rng.uniform(2, 8)
        nt.burst(u, dd, rng.uniform(0.08, 0.2))
        u += dd + rng.uniform(3, 20)
    u = nt.walk(stand_end, p["walk2_s"], p["cadence_hz"])
    new = _new_posture(rng, posture)
    nt.burst(u, 5, 0.25)
    nt.set_posture(u + 1, new, 3.0)
    up = u + 5 - t
    nt.hr_bump(t + 2, p["hr_rise_bpm"], up, tau_up=20.0, tau_down=120.0)
    awake[int(t) : int(u + 5)] = 1
    nt.truth.append({"kind": "bathroom_trip", "start_s": t, "end_s": u + 5})
    return new


def _phone(nt: _Night, t: float, p: dict, posture, awake) -> np.ndarray:
    rng = nt.rng
    nt.burst(t, rng.uniform(2, 4), 0.15)
    nt.set_posture(t + 0.5, PHONE + rng.normal(0, 0.05, 3), 1.5)
    u, end = t + 4, t + p["dur_s"]
    while u < end - 3:
        d = rng.uniform(0.3, 1.5)
        nt.burst(u, d, rng.uniform(0.015, 0.05), hi_hz=10.0)
        u += d + rng.uniform(1, 5)
    new = _new_posture(rng, PHONE)
    nt.burst(end, 3, 0.15)
    nt.set_posture(end + 0.5, new, 1.5)
    # reading in bed: no surge (the HR offset of active wake is not applied)
    nt.hr_bump(t, rng.uniform(0, 3), p["dur_s"], tau_up=60.0, tau_down=60.0)
    nt.truth.append({"kind": "phone_use", "start_s": t, "end_s": end + 3})
    return new


def _watch_off(nt: _Night, t: float, p: dict, posture, awake) -> np.ndarray:
    rng = nt.rng
    d = p["remove_s"]
    nt.burst(t, d, 0.2)
    a = int((t + d) * nt.fs)
    b = int((t + d + p["dur_s"]) * nt.fs)
    (nt.gap if p["gap"] else nt.flat)[a:b] = True
    nt.hr_off[int(t + d) : int(t + d + p["dur_s"])] = True
    new = _new_posture(rng, posture)
    nt.burst(t + d + p["dur_s"], 5, 0.2)
    nt.set_posture(t + d + p["dur_s"] + 1, new, 3.0)
    nt.truth.append({"kind": "watch_off", "start_s": t, "end_s": t + d + p["dur_s"] + 5})
    return new


_EVENT = {
    "nocturnal_cramp": _cramp,
    "plm_series": _plm,
    "rollover": _rollover,
    "bathroom_trip": _bathroom,
    "phone_use": _phone,
    "watch_off": _watch_off,
}
