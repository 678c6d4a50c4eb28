"""Days between nights, per minute: walking bouts (true steps), an occasional workout, daily
charging, and a latent heart rate that follows cadence. Cheap on purpose: the export must look
like a whole-day one, the night is where the detail is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.signal import lfilter

from simulators.bedside.ranges import draw


@dataclass
class Days:
    t0: int  # epoch s of minute 0
    steps: np.ndarray  # true steps per minute (daytime; nights are added by the devices)
    hr: np.ndarray  # latent daytime heart rate per minute
    workouts: list = field(default_factory=list)  # (start, end) epoch s
    charging: list = field(default_factory=list)  # (start, end) epoch s, watch off


def simulate_days(person, t0: int, t_end: int, nights: list, rng: np.random.Generator) -> Days:
    p = person.p
    n_min = (t_end - t0) // 60
    steps = np.zeros(n_min, np.float32)
    cadence = np.zeros(n_min, np.float32)
    d = Days(t0=t0, steps=steps, hr=np.zeros(n_min, np.float32))
    edges = [t0] + [x for nt in nights for x in (nt.bed, nt.bed + nt.n)] + [t_end]
    for a, b in zip(edges[0::2], edges[1::2], strict=True):
        ma, mb = -(-(a - t0) // 60), (b - t0) // 60
        if mb - ma < 30:
            continue
        budget = float(p["daily_steps"]) * draw("day_steps_factor", rng) * (mb - ma) / 960
        if rng.random() < p["workout_day_share"] and mb - ma > 180:
            w = int(draw("workout_min", rng))
            ws = int(rng.integers(ma + 60, mb - w - 60))
            cad = float(draw("workout_cadence_spm", rng))
            steps[ws : ws + w] += cad
            cadence[ws : ws + w] = cad
            budget -= cad * w
            d.workouts.append((t0 + 60 * ws, t0 + 60 * (ws + w)))
        tries = 0
        while budget > 0 and tries < 400:
            tries += 1
            ln = max(int(draw("day_walk_bout_min", rng)), 1)
            s = int(rng.integers(ma + 5, max(ma + 6, mb - ln - 5)))
            if cadence[s : s + ln].any():
                continue
            cad = p["walk_cadence_spm"] * draw("day_cadence_factor", rng)
            partial = rng.uniform(0.3, 1.0)  # the first/last minute of a bout is partial
            steps[s : s + ln] += cad
            steps[s] *= partial
            cadence[s : s + ln] = cad
            budget -= cad * ln
        # charge the watch once a day, soon after getting up
        c = int(draw("daily_charge_min", rng))
        cs = ma + int(draw("charge_after_wake_min", rng))
        if cs + c < mb:
            steps[cs : cs + c] = 0
            d.charging.append((t0 + 60 * cs, t0 + 60 * (cs + c)))
    target = (
        p["sleep_hr_bpm"] + p["day_hr_above_sleep_bpm"] + p["walk_hr_per_10spm_bpm"] * cadence / 10
    )
    smooth = lfilter([0.4], [1, -0.6], target - target[0]) + target[0]
    noise = lfilter([0.3], [1, -0.9], rng.normal(0, draw("day_hr_noise_sd_bpm", rng), n_min))
    d.hr = np.clip(smooth + noise, 40, 190).astype(np.float32)
    d.steps = np.round(steps).astype(np.float32)
    return d
