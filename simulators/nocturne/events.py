"""The major night events: nocturnal leg cramps, bathroom trips, phone use in bed and periodic
limb movement series. Each writes the true state (stage, posture, steps, wrist motion, HR
surges) and returns its :class:`Event`. Each draws its durations first and is placed only
where its whole window is clear of the other major events; its busy window keeps background
events away.

Cramps and bathroom trips share machinery on purpose: a cramp relieved by standing or walking
uses the same stand-up (orthostatic transient, standing and walking HR) and the same return
to sleep as a trip to the toilet, so the two overlap in steps, HR and time awake."""

from __future__ import annotations

import numpy as np

from simulators.nocturne.cohort import Person
from simulators.nocturne.night import PLM, Night, mark_busy, wake_transient
from simulators.nocturne.ranges import RANGES, draw
from simulators.nocturne.timeline import N1, N2, N3, WAKE, Event, Timeline  # noqa: F401

#: minimum gap (s) between the windows of two major events (window = the event's lead-in,
#: the event, the time awake after it and the return through N1)
MAJOR_GAP_S = 300
#: background events keep this gap (s) from each movement of a PLM series, not from the span
PLM_PAD_S = 2


def _clear(nt: Night, a: int, b: int) -> bool:
    """True if the window [a, b) keeps ``MAJOR_GAP_S`` from every major window of the night."""
    return all(a >= e + MAJOR_GAP_S or b + MAJOR_GAP_S <= s for s, e in nt.major)


def _place(
    tl: Timeline, nt: Night, rng, pre: int, length: int, stages=(1, 2, 3, 4), margin=600
) -> int | None:
    """An onset ``t`` in one of ``stages`` whose whole window [t - pre, t + length) (drawn
    before placing) is clear of the night's other major events; None after 30 tries."""
    a, b = nt.onset + margin, nt.final_wake - margin
    if b <= a:
        return None
    for _ in range(30):
        t = int(rng.integers(a, b))
        if tl.stage[t] in stages and _clear(nt, t - pre, t + length):
            return t
    return None


def _walk_s(n_steps: int, cadence: float) -> int:
    """Seconds :meth:`Timeline.walk` takes for ``n_steps`` at ``cadence``."""
    return max(1, int(round(n_steps * 60.0 / cadence))) if n_steps > 0 else 0


def _stand_up(person: Person, tl: Timeline, t: int, rng) -> None:
    """Orthostatic transient on rising: the initial HR overshoot above sustained standing."""
    p = person.p
    extra = max(0.0, p["ortho_hr_bpm"] - p["stand_hr_bpm"]) + rng.uniform(0, 4)
    tl.surge(t, extra, 1, 3, t + 8, 15)
    tl.motion(t, t + 5, 0.8)


def _back_to_sleep(tl: Timeline, nt: Night, t: int, wake_s: int, n1_s: int) -> int:
    """Wake for ``wake_s`` from ``t`` (never past the final wake), then ``n1_s`` of N1;
    returns the end of the wake."""
    end = min(t + wake_s, nt.final_wake)
    tl.set_stage(t, end, WAKE)
    if end < nt.final_wake:
        tl.set_stage(end, min(end + n1_s, nt.final_wake), N1)
    return end


def _settle(rng, name: str) -> tuple[int, int]:
    """(wake s, N1 s) of the return to sleep: ``name`` minutes awake, then 1-3 min of N1."""
    return int(draw(rng, name) * 60), int(rng.uniform(60, 180))


def _occupy(nt: Night, a: int, end: int, n1_s: int = 0) -> None:
    """Record a major window [a, end + n1_s); background events avoid [a, end)."""
    nt.major.append((a, end + n1_s))
    if end > a:
        mark_busy(nt, a, end)


def cramp(person: Person, tl: Timeline, nt: Night, rng) -> Event | None:
    p = person.p
    # every duration is drawn first, so the whole window can be checked before placing
    from_sleep = rng.random() < p["cramp_from_sleep_frac"]
    pre = 0 if from_sleep else int(draw(rng, "cramp_prewake_min") * 60)
    c = float(draw(rng, "cramp_contraction_s"))
    amp = float(draw(rng, "cramp_hr_bpm"))
    lat, rise = float(draw(rng, "cramp_hr_latency_s")), float(draw(rng, "cramp_hr_rise_s"))
    decay = float(draw(rng, "cramp_hr_decay_s"))
    grip = float(draw(rng, "cramp_wrist_motion"))
    u = rng.random()
    if u < p["cramp_relief_stand_frac"]:
        mode = "stand"
        up = int(rng.uniform(3, 60))
        stand_s = float(draw(rng, "cramp_stand_s"))
        n = int(min(draw(rng, "cramp_stand_steps"), stand_s * p["indoor_cadence_spm"] / 60))
        lead = int(rng.uniform(0, max(1.0, stand_s - n * 60 / p["indoor_cadence_spm"])))
        relief = max(c, up + stand_s)
    elif u < p["cramp_relief_stand_frac"] + p["cramp_relief_massage_frac"]:
        mode = "massage"
        relief = c + rng.uniform(10, 90)
    else:
        mode = "stretch"
        sit = rng.random() < 0.5
        relief = c
    wake_s, n1_s = _settle(rng, "cramp_residual_wake_min")
    t0 = _place(tl, nt, rng, max(pre, 60), int(relief) + wake_s + n1_s + 1)
    if t0 is None:
        return None
    if pre:  # lying quietly awake first
        tl.set_stage(t0 - pre, t0 + 1, WAKE)
    tl.surge(t0, amp, lat, rise, t0 + c, decay)
    if mode == "stand":
        t_up = t0 + up
        tl.motion(t0, t_up, grip * 0.5)
        _stand_up(person, tl, t_up, rng)
        a, b = tl.clip(t_up, t_up + stand_s)
        tl.posture[a:b] = 2
        if n > 0:  # steps start after a few seconds of standing on the leg
            tl.walk(t_up + lead, n, p["indoor_cadence_spm"] * rng.uniform(0.8, 1.1), rng)
    elif mode == "massage":
        a, b = tl.clip(t0 + 3, t0 + relief)
        tl.posture[a:b] = 1
        tl.motion(a, b, grip)
    else:
        tl.motion(t0, t0 + min(c, 20), grip * 0.5)
        if sit:
            a, b = tl.clip(t0 + 2, t0 + c)
            tl.posture[a:b] = 1
    relief_end = int(t0 + relief)
    tl.set_stage(t0 + 1, relief_end, WAKE)
    end = _back_to_sleep(tl, nt, relief_end, wake_s, n1_s)
    _occupy(nt, t0 - max(pre, 60), end, n1_s)
    return Event("nocturnal_cramp", t0, int(t0 + c), nt.i, f"relief={mode}")


def bathroom(person: Person, tl: Timeline, nt: Night, rng) -> Event | None:
    p = person.p
    lie = int(draw(rng, "bath_lie_awake_s"))
    wake_amp = float(draw(rng, "awakening_hr_bpm"))
    cad = p["indoor_cadence_spm"] * rng.uniform(0.8, 1.1)
    k = int(draw(rng, "bath_oneway_steps"))
    delay = int(rng.uniform(2, 10))
    inside = int(draw(rng, "bath_inside_s"))
    shuffle = int(rng.integers(0, 5))
    k_back = max(1, k + int(rng.integers(-2, 3)))
    wake_s, n1_s = _settle(rng, "back_to_sleep_min")
    trip = lie + delay + _walk_s(k, cad) + inside + _walk_s(k_back, cad)
    t0 = _place(tl, nt, rng, 60, trip + wake_s + n1_s + 1)
    if t0 is None:
        return None
    wake_transient(tl, t0, wake_amp, rng, until=t0 + lie)
    t_up = t0 + lie
    tl.set_stage(t0, t_up, WAKE)
    _stand_up(person, tl, t_up, rng)
    t = tl.walk(t_up + delay, k, cad, rng)
    a, b = tl.clip(t_up, t + inside)
    tl.posture[a:b] = 2
    tl.walk(t + int(inside * 0.4), shuffle, cad, rng)  # shuffling inside
    back = tl.walk(t + inside, k_back, cad, rng)
    tl.set_stage(t0, back, WAKE)
    end = _back_to_sleep(tl, nt, back, wake_s, n1_s)
    _occupy(nt, t0 - 60, end, n1_s)
    return Event("bathroom_trip", t0, back, nt.i, "")


def phone(person: Person, tl: Timeline, nt: Night, rng) -> Event | None:
    dur = int(draw(rng, "phone_min") * 60)
    pre = int(rng.uniform(10, 120))
    sit = rng.random() < 0.3
    level = float(draw(rng, "phone_wrist_motion"))
    hr = float(draw(rng, "phone_hr_bpm"))
    wake_s, n1_s = _settle(rng, "back_to_sleep_min")
    t0 = _place(tl, nt, rng, 120, dur + wake_s + n1_s + 1, stages=(0, 1, 2, 3, 4), margin=300)
    if t0 is None:
        return None
    tl.set_stage(t0 - pre, t0 + dur, WAKE)
    a, b = tl.clip(t0, t0 + dur)
    if sit:
        tl.posture[a:b] = 1
    blocks = (b - a + 9) // 10
    w = np.repeat(rng.uniform(0.3, 1.0, blocks) * level, 10)[: b - a].astype(np.float32)
    tl.wrist[a:b] = np.maximum(tl.wrist[a:b], w)
    tl.surge(t0, hr, 5, 60, t0 + dur, 60)
    end = _back_to_sleep(tl, nt, b, wake_s, n1_s)
    _occupy(nt, t0 - 120, end, n1_s)
    return Event("phone_use", t0, b, nt.i, "")


def plms(person: Person, tl: Timeline, nt: Night, rng) -> Event | None:
    """A series of periodic limb movements. Its first four movements (the AASM minimum of a
    series) must fit clear of the other major events; it ends early, before the next one
    (the detail gives the movements written)."""
    n = int(draw(rng, "plm_count"))
    center = float(draw(rng, "plm_interval_s"))
    amp = float(draw(rng, "plm_hr_bpm"))
    peak = float(draw(rng, "plm_hr_peak_s"))
    arousal = float(draw(rng, "plm_arousal_frac"))
    dur = np.asarray(draw(rng, "plm_s", n), float)
    gain = rng.uniform(0.5, 1.0, n) * np.where(rng.random(n) < arousal, 1.6, 1.0)
    gap = np.clip(center * rng.uniform(0.8, 1.2, n), 5, 90).astype(int)
    onsets = np.concatenate([[0], np.cumsum(gap[:-1])])
    first = int(onsets[min(n, 4) - 1] + max(1, dur[min(n, 4) - 1])) + 60
    t0 = _place(tl, nt, rng, 60, first, stages=(N2, N3))
    if t0 is None:
        return None
    later = [s for s, _ in nt.major if s >= t0]
    limit = min([nt.final_wake - 60] + [s - MAJOR_GAP_S - 70 for s in later])
    last, m = t0, 0
    for k in range(n):
        t = t0 + int(onsets[k])
        if t >= limit:
            break
        tl.surge(t, amp * gain[k], 0.5, peak / 2, t + max(dur[k], peak), 6)
        tl.motion(t, t + max(1, int(dur[k])), 0.05)
        last = int(t + max(1, dur[k]))
        mark_busy(nt, t - PLM_PAD_S, last + PLM_PAD_S, PLM)  # only the movement is busy
        m += 1
    nt.major.append((t0 - 60, last + 60))
    return Event("plms_series", t0, last, nt.i, f"movements={m}")


def plms_series_rate(p: dict, nt: Night) -> float:
    """Expected PLM series this night: the person's PLM index x hours from sleep onset to
    final wake / the mean movements per series (``plm_count``: log-uniform, truncated)."""
    r = RANGES["plm_count"]
    mean_count = (r.high - r.low) / np.log(r.high / r.low) - 0.5
    hours = max(0.0, (nt.final_wake - nt.onset) / 3600)
    return p["plms_index_per_h"] * hours / mean_count


def major(person: Person, tl: Timeline, nt: Night, rng) -> list[Event]:
    """All major events of a night, in a random order of kinds. Each draws its durations first
    and is placed only where its whole window keeps ``MAJOR_GAP_S`` from the others'."""
    p = person.p
    n_cramp = min(int(rng.poisson(p["cramp_per_night"])), int(RANGES["cramp_max_per_night"].high))
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
