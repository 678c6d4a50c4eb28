"""Daytime between nights: sitting and standing, walking bouts to a daily step target, a few
recorded workouts, and device charging, so that the files look like whole days."""

from __future__ import annotations

import numpy as np

from simulators.nocturne.cohort import Person
from simulators.nocturne.ranges import draw
from simulators.nocturne.timeline import Event, Timeline


def daytime(person: Person, tl: Timeline, a: int, b: int, day_i: int, rng) -> list[Event]:
    """Fill the awake span [a, b) (stage stays -1). Returns workout and charging events."""
    p = person.p
    a, b = tl.clip(a, b)
    if b - a < 3600:
        return []
    out = []
    span = b - a
    tl.posture[a:b] = 1
    tl.wrist[a:b] = np.repeat(rng.uniform(0.05, 0.4, span // 60 + 1), 60)[:span]
    # standing chores: about a fifth of the day in 5-20 min chunks
    for _ in range(int(span / 3600 * 0.2 * 60 / 12)):
        s = int(rng.integers(a, b))
        e = min(b, s + int(rng.uniform(300, 1200)))
        tl.posture[s:e] = 2
    # walking bouts to the day's target
    target = p["daily_steps"] * max(0.2, 1 + p["daily_steps_cv"] * rng.standard_normal())
    done = 0
    while done < target:
        cad = p["walk_cadence_spm"] * rng.uniform(0.95, 1.05)
        n = int(draw(rng, "walk_bout_min") * cad)
        s = int(rng.integers(a, max(a + 1, b - int(n * 60 / cad) - 1)))
        tl.walk(s, n, cad, rng)
        done += n
    # a workout on some days
    if rng.random() < p["workouts_per_week"] / 7:
        dur = int(draw(rng, "workout_min") * 60)
        s = int(rng.integers(a + 1800, max(a + 1801, b - dur - 3600)))
        e = min(b, s + dur)
        kind = "walking" if rng.random() < 0.6 else "cycling"
        tl.workout[s:e] = True
        tl.workout_hr[s:e] = p["workout_hr_bpm"] * rng.uniform(0.92, 1.05)
        if kind == "walking":
            tl.walk(s, int((e - s) / 60 * rng.uniform(105, 120)), rng.uniform(105, 120), rng)
        else:
            tl.steps[s:e] = 0
            tl.posture[s:e] = 1
            tl.wrist[s:e] = 0.2
        out.append(Event("workout", s, e, day_i, kind))
    # charging (Apple Watch nearly daily, before bed; Fitbit every few days, afternoon)
    if person.device == "apple":
        charge = rng.random() < 0.85
        s = b - int(rng.uniform(1800, 7200))
    else:
        charge = day_i % int(p["fitbit_charge_every_d"]) == 0
        s = a + int(span * rng.uniform(0.3, 0.6))
    if charge:
        e = min(b, s + int(p["day_charge_min"] * 60 * rng.uniform(0.8, 1.2)))
        s, e = tl.clip(s, e)
        if e > s and not tl.workout[s:e].any():
            tl.worn[s:e] = False
            out.append(Event("watch_off", s, e, day_i, "day"))
    return out
