"""The major night events: nocturnal leg cramps, bathroom trips, phone use in bed and periodic
limb movement series. Each writes the true state (stage, posture, steps, wrist motion, HR
surges) and returns its :class:`Event`; its busy window keeps background events away.

Cramps and bathroom trips share machinery on purpose: a cramp relieved by standing or walking
uses the same stand-up (orthostatic transient, standing and walking HR) and the same return
to sleep as a trip to the toilet, so the two overlap in steps, HR and time awake."""

from __future__ import annotations

import numpy as np

from simulators.nocturne.cohort import Person
from simulators.nocturne.night import Night, wake_transient
from simulators.nocturne.ranges import RANGES, draw
from simulators.nocturne.timeline import N1, N2, N3, WAKE, Event, Timeline  # noqa: F401


def _sleep_time(tl: Timeline, nt: Night, rng, stages=(1, 2, 3, 4), margin=600) -> int | None:
    a, b = nt.onset + margin, nt.final_wake - margin
    if b <= a:
        return None
    for _ in range(30):
        t = int(rng.integers(a, b))
        if tl.stage[t] in stages and all(t >= e + 300 or t + 900 <= s for s, e in nt.busy):
            return t
    return None


def _stand_up(person: Person, tl: Timeline, t: int, rng) -> None:
    """Orthostatic transient on rising: the initial HR overshoot above sustained standing."""
    p = person.p
    extra = max(0.0, p["ortho_hr_bpm"] - p["stand_hr_bpm"]) + rng.uniform(0, 4)
    tl.surge(t, extra, 1, 3, t + 8, 15)
    tl.motion(t, t + 5, 0.8)


def _back_to_sleep(tl: Timeline, nt: Night, t: int, rng, minutes: float) -> int:
    """Wake for ``minutes`` from ``t`` (never past the final wake), then N1; returns end."""
    end = min(t + int(minutes * 60), nt.final_wake)
    tl.set_stage(t, end, WAKE)
    if end < nt.final_wake:
        tl.set_stage(end, min(end + int(rng.uniform(60, 180)), nt.final_wake), N1)
    return end


def cramp(person: Person, tl: Timeline, nt: Night, rng) -> Event | None:
    p = person.p
    from_sleep = rng.random() < p["cramp_from_sleep_frac"]
    t0 = _sleep_time(tl, nt, rng)
    if t0 is None:
        return None
    if not from_sleep:  # lying quietly awake first
        pre = int(draw(rng, "cramp_prewake_min") * 60)
        tl.set_stage(t0 - pre, t0 + 1, WAKE)
    c = float(draw(rng, "cramp_contraction_s"))
    amp = float(draw(rng, "cramp_hr_bpm"))
    lat, rise = float(draw(rng, "cramp_hr_latency_s")), float(draw(rng, "cramp_hr_rise_s"))
    decay = float(draw(rng, "cramp_hr_decay_s"))
    tl.surge(t0, amp, lat, rise, t0 + c, decay)
    grip = float(draw(rng, "cramp_wrist_motion"))
    u = rng.random()
    if u < p["cramp_relief_stand_frac"]:
        mode = "stand"
        t_up = t0 + int(rng.uniform(3, 60))
        stand_s = float(draw(rng, "cramp_stand_s"))
        tl.motion(t0, t_up, grip * 0.5)
        _stand_up(person, tl, t_up, rng)
        a, b = tl.clip(t_up, t_up + stand_s)
        tl.posture[a:b] = 2
        n = int(min(draw(rng, "cramp_stand_steps"), stand_s * p["indoor_cadence_spm"] / 60))
        if n > 0:  # steps start after a few seconds of standing on the leg
            lead = int(rng.uniform(0, max(1.0, stand_s - n * 60 / p["indoor_cadence_spm"])))
            tl.walk(t_up + lead, n, p["indoor_cadence_spm"] * rng.uniform(0.8, 1.1), rng)
        relief_end = max(t0 + c, t_up + stand_s)
    elif u < p["cramp_relief_stand_frac"] + p["cramp_relief_massage_frac"]:
        mode = "massage"
        a, b = tl.clip(t0 + 3, t0 + c + rng.uniform(10, 90))
        tl.posture[a:b] = 1
        tl.motion(a, b, grip)
        relief_end = b
    else:
        mode = "stretch"
        tl.motion(t0, t0 + min(c, 20), grip * 0.5)
        if rng.random() < 0.5:
            a, b = tl.clip(t0 + 2, t0 + c)
            tl.posture[a:b] = 1
        relief_end = t0 + c
    tl.set_stage(t0 + 1, relief_end, WAKE)
    end = _back_to_sleep(tl, nt, int(relief_end), rng, draw(rng, "cramp_residual_wake_min"))
    nt.busy.append((t0 - 60, end))
    return Event("nocturnal_cramp", t0, int(t0 + c), nt.i, f"relief={mode}")


def bathroom(person: Person, tl: Timeline, nt: Night, rng) -> Event | None:
    p = person.p
    t0 = _sleep_time(tl, nt, rng)
    if t0 is None:
        return None
    lie = float(draw(rng, "bath_lie_awake_s"))
    wake_transient(tl, t0, float(draw(rng, "awakening_hr_bpm")), rng, until=int(t0 + lie))
    t_up = int(t0 + lie)
    tl.set_stage(t0, t_up, WAKE)
    _stand_up(person, tl, t_up, rng)
    cad = p["indoor_cadence_spm"] * rng.uniform(0.8, 1.1)
    k = int(draw(rng, "bath_oneway_steps"))
    t = tl.walk(t_up + int(rng.uniform(2, 10)), k, cad, rng)
    inside = int(draw(rng, "bath_inside_s"))
    a, b = tl.clip(t_up, t + inside)
    tl.posture[a:b] = 2
    tl.walk(t + int(inside * 0.4), int(rng.integers(0, 5)), cad, rng)  # shuffling inside
    back = tl.walk(t + inside, max(1, k + int(rng.integers(-2, 3))), cad, rng)
    tl.set_stage(t0, back, WAKE)
    end = _back_to_sleep(tl, nt, back, rng, draw(rng, "back_to_sleep_min"))
    nt.busy.append((t0 - 60, end))
    return Event("bathroom_trip", t0, back, nt.i, "")


def phone(person: Person, tl: Timeline, nt: Night, rng) -> Event | None:
    t0 = _sleep_time(tl, nt, rng, stages=(0, 1, 2, 3, 4), margin=300)
    if t0 is None:
        return None
    dur = int(draw(rng, "phone_min") * 60)
    tl.set_stage(t0 - int(rng.uniform(10, 120)), t0 + dur, WAKE)
    a, b = tl.clip(t0, t0 + dur)
    if rng.random() < 0.3:
        tl.posture[a:b] = 1
    level = float(draw(rng, "phone_wrist_motion"))
    blocks = (b - a + 9) // 10
    w = np.repeat(rng.uniform(0.3, 1.0, blocks) * level, 10)[: b - a].astype(np.float32)
    tl.wrist[a:b] = np.maximum(tl.wrist[a:b], w)
    tl.surge(t0, float(draw(rng, "phone_hr_bpm")), 5, 60, t0 + dur, 60)
    end = _back_to_sleep(tl, nt, b, rng, draw(rng, "back_to_sleep_min"))
    nt.busy.append((t0 - 120, end))
    return Event("phone_use", t0, b, nt.i, "")


def plms(person: Person, tl: Timeline, nt: Night, rng) -> Event | None:
    t = _sleep_time(tl, nt, rng, stages=(N2, N3))
    if t is None:
        return None
    n = int(draw(rng, "plm_count"))
    center = float(draw(rng, "plm_interval_s"))
    amp = float(draw(rng, "plm_hr_bpm"))
    peak = float(draw(rng, "plm_hr_peak_s"))
    arousal = float(draw(rng, "plm_arousal_frac"))
    t0, last = t, t
    for _ in range(n):
        if t >= nt.final_wake - 60:
            break
        dur = float(draw(rng, "plm_s"))
        a = amp * rng.uniform(0.5, 1.0) * (1.6 if rng.random() < arousal else 1.0)
        tl.surge(t, a, 0.5, peak / 2, t + max(dur, peak), 6)
        tl.motion(t, t + max(1, int(dur)), 0.05)
        last = int(t + max(1, dur))
        t += int(np.clip(center * rng.uniform(0.8, 1.2), 5, 90))
    nt.busy.append((t0 - 60, last + 60))
    return Event("plms_series", t0, last, nt.i, f"movements={n}")


def plms_series_rate(p: dict, nt: Night) -> float:
    """Expected PLM series this night: the person's PLM index x hours from sleep onset to
    final wake / the mean movements per series (``plm_count``: log-uniform, truncated)."""
    r = RANGES["plm_count"]
    mean_count = (r.high - r.low) / np.log(r.high / r.low) - 0.5
    hours = max(0.0, (nt.final_wake - nt.onset) / 3600)
    return p["plms_index_per_h"] * hours / mean_count


def major(person: Person, tl: Timeline, nt: Night, rng) -> list[Event]:
    """All major events of a night, in a random order of kinds (each avoids the others)."""
    p = person.p
    n_cramp = min(int(rng.poisson(p["cramp_per_night"])), 3)
    todo = (
        ["nocturnal_cramp"] * n_cramp
        + ["bathroom_trip"] * int(rng.poisson(person.nocturia_rate))
        + ["phone_use"] * int(rng.poisson(p["phone_per_night"]))
        + ["plms_series"] * int(rng.poisson(plms_series_rate(p, nt)))
    )
    fn = {"nocturnal_cramp": cramp, "bathroom_trip": bathroom, "phone_use": phone}
    fn["plms_series"] = plms
    out = []
    for kind in [todo[i] for i in rng.permutation(len(todo))]:
        ev = fn[kind](person, tl, nt, rng)
        if ev is not None:
            out.append(ev)
    return out
