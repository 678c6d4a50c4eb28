"""One person's whole run at 1 s resolution (UTC seconds from ``t0``): the true state.

Arrays: ``stage`` (-1 daytime, outside the night's sleep period; 0 wake (in bed or up at
night), 1 N1, 2 N2, 3 N3, 4 REM), ``posture``
(0 lying, 1 sitting, 2 standing), ``steps`` (true steps in the second), ``wrist`` (0-1 wrist
motion), ``worn`` (device on the wrist), ``workout`` (recorded workout), ``ev`` (event HR
surges, bpm, added after the state filter), ``heat`` (bpm added for a hot bedroom),
``dip`` (overnight HR drift, bpm). :meth:`Timeline.heart_rate` composes the true HR.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.signal import lfilter

WAKE, N1, N2, N3, REM = 0, 1, 2, 3, 4
STAGE_NAMES = {-1: "up", 0: "wake", 1: "n1", 2: "n2", 3: "n3", 4: "rem"}


@dataclass
class Event:
    kind: str
    start: int  # timeline index (s)
    end: int
    night: int
    detail: str = ""


@dataclass
class Timeline:
    t0: int
    n: int
    stage: np.ndarray = field(init=False)
    posture: np.ndarray = field(init=False)
    steps: np.ndarray = field(init=False)
    wrist: np.ndarray = field(init=False)
    worn: np.ndarray = field(init=False)
    workout: np.ndarray = field(init=False)
    workout_hr: np.ndarray = field(init=False)
    ev: np.ndarray = field(init=False)
    heat: np.ndarray = field(init=False)
    dip: np.ndarray = field(init=False)

    def __post_init__(self):
        n = self.n
        self.stage = np.full(n, -1, np.int8)
        self.posture = np.ones(n, np.int8)
        self.steps = np.zeros(n, np.uint8)
        self.wrist = np.zeros(n, np.float32)
        self.worn = np.ones(n, bool)
        self.workout = np.zeros(n, bool)
        self.workout_hr = np.zeros(n, np.float32)
        self.ev = np.zeros(n, np.float32)
        self.heat = np.zeros(n, np.float32)
        self.dip = np.zeros(n, np.float32)

    # ------------------------------------------------------------------ helpers for events
    def clip(self, a: int, b: int) -> tuple[int, int]:
        return max(0, min(self.n, int(a))), max(0, min(self.n, int(b)))

    def surge(self, t0, amp, latency, rise, hold_end, decay):
        """Add an HR response: zero until ``t0 + latency``, rising with time constant ``rise``
        towards ``amp`` until ``hold_end``, then decaying with time constant ``decay``."""
        a = int(t0 + latency)
        b = max(a + 1, int(hold_end))
        e = int(b + 5 * decay)
        a, e = self.clip(a, e)
        if e <= a:
            return
        t = np.arange(a, e, dtype=np.float64)
        up = amp * (1 - np.exp(-(np.minimum(t, b) - a) / max(rise, 1.0)))
        down = np.where(t > b, np.exp(-(t - b) / max(decay, 1.0)), 1.0)
        self.ev[a:e] += (up * down).astype(np.float32)

    def walk(self, a: int, n_steps: int, cadence: float, rng) -> int:
        """``n_steps`` true steps from ``a`` at ``cadence`` steps/min, standing; returns end."""
        if n_steps <= 0:
            return a
        dur = max(1, int(round(n_steps * 60.0 / cadence)))
        a, b = self.clip(a, a + dur)
        if b <= a:
            return a
        k = b - a
        per = np.full(k, n_steps // k, np.int64)
        per[rng.choice(k, n_steps % k, replace=False)] += 1
        self.steps[a:b] = np.minimum(per, 255).astype(np.uint8)
        self.posture[a:b] = 2
        self.wrist[a:b] = np.maximum(self.wrist[a:b], 0.5)
        return b

    def set_stage(self, a: int, b: int, s: int) -> None:
        a, b = self.clip(a, b)
        self.stage[a:b] = s

    def motion(self, a: int, b: int, level: float) -> None:
        a, b = self.clip(a, b)
        self.wrist[a:b] = np.maximum(self.wrist[a:b], level)

    # ------------------------------------------------------------------ composition
    def heart_rate(self, p: dict, rng: np.random.Generator) -> np.ndarray:
        """True HR (bpm, float32): the state's target level, low-pass filtered with the
        person's ``stage_hr_tau_s``, plus event surges, heat, overnight dip and AR(1) noise."""
        stage_off = np.array(
            [
                p["wake_offset_bpm"],
                p["n1_offset_bpm"],
                0.0,
                p["n3_offset_bpm"],
                p["rem_offset_bpm"],
            ],
            np.float32,
        )
        in_bed = self.stage >= 0  # inside the night's sleep period (up at night counts)
        lvl = np.where(
            in_bed,
            p["sleep_hr_bpm"] + stage_off[np.clip(self.stage, 0, 4)],
            p["day_rest_hr_bpm"],
        ).astype(np.float32)
        lvl += np.where(self.posture == 1, p["sit_hr_bpm"], 0.0).astype(np.float32)
        lvl += np.where(self.posture == 2, p["stand_hr_bpm"], 0.0).astype(np.float32)
        walking = self.steps > 0
        walk_add = np.where(in_bed, p["walk_hr_bpm"], p["walk_hr_day_bpm"]).astype(np.float32)
        lvl += np.where(walking, walk_add, 0.0).astype(np.float32)
        lvl = np.where(self.workout, self.workout_hr, lvl)
        alpha = 1.0 / p["stage_hr_tau_s"]
        hr = lfilter([alpha], [1, alpha - 1], lvl - lvl[0]) + lvl[0]
        a = np.exp(-1.0 / p["hr_noise_tau_s"])
        e = rng.standard_normal(self.n) * p["hr_noise_sd_bpm"] * np.sqrt(1 - a * a)
        noise = lfilter([1.0], [1, -a], e)
        return (hr + self.ev + self.heat + self.dip + noise).astype(np.float32)
