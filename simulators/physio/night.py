"""One night at 1 s latent resolution: hypnogram, events in physiological order, heart rate.

Order of each event follows its physiology (ranges and sources in ``ranges.py``):

* cramp: contraction onset (from sleep, or rarely from wake); the pain surge begins while still
  lying (latency of a few beats, Chouchou 2011), plateaus during the contraction and decays
  afterwards; possibly stands (only after the surge began) and walks 0-40 counted steps, with
  the orthostatic rise on top; residual wake of minutes.
* bathroom trip: awakening, lying awake, gets up (orthostatic rise 10-20 bpm within the first
  minute of standing), walks (15-40 counted steps in a flat, 40-120 in a house), back to bed,
  back to sleep after minutes.
* phone use: awake lying, HR +0-8, hand movement, no steps.
* PLM series: >= 4 leg movements every 10-90 s for 15-60 min in NREM, each a ~10-beat HR
  acceleration (Winkelman 1999), some with a brief arousal.
* rollovers, spontaneous awakenings, watch-off gaps, hot bedroom, late exercise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.signal import lfilter

from simulators.physio.day import NightPlan
from simulators.physio.people import Person
from simulators.physio.ranges import draw

WAKE, N1, N2, N3, REM = 0, 1, 2, 3, 4
EPOCH = 30


@dataclass
class Night:
    plan: NightPlan
    onset: int  # s after bed
    final: int  # s after bed (final awakening)
    stage: np.ndarray  # per second, true
    hr: np.ndarray  # per second, latent bpm
    move: np.ndarray  # per second, wrist movement 0-1
    steps: np.ndarray  # per second, counted steps
    worn: np.ndarray  # per second
    events: list[dict] = field(default_factory=list)


def hypnogram(n_s: int, onset: int, final: int, p: dict, rng: np.random.Generator) -> np.ndarray:
    """True stage per second: cycles of N1/N2/N3/N2/REM between onset and final awakening."""
    stage = np.full(n_s, WAKE, np.int8)
    t, k = onset, 0
    while t < final:
        cyc = p["cycle_min"] * rng.uniform(0.9, 1.1) * 60
        rem = (
            (p["rem_first_min"] + (p["rem_last_min"] - p["rem_first_min"]) * min(k / 4, 1))
            * rng.uniform(0.8, 1.2)
            * 60
        )
        n3 = p["n3_first_cycle_min"] * max(0.0, 1 - k / 3) * rng.uniform(0.7, 1.3) * 60
        n1 = rng.uniform(2, 5) * 60 if k == 0 else rng.uniform(0.5, 3) * 60
        n2 = max(300.0, cyc - rem - n3 - n1)
        for st, dur in ((N1, n1), (N2, n2 * 0.6), (N3, n3), (N2, n2 * 0.4), (REM, rem)):
            a, b = t, min(final, t + int(dur))
            stage[a:b] = st
            t = b
            if t >= final:
                break
        k += 1
    return stage


def _ar_noise(n: int, sd: float, tau: float, rng: np.random.Generator) -> np.ndarray:
    phi = np.exp(-1 / tau)
    return lfilter([np.sqrt(1 - phi**2) * sd], [1, -phi], rng.normal(0, 1, n))


def _exp_window(n: int, a: int, b: int, amp: float, rise: float, decay: float) -> np.ndarray:
    """Rise with time constant ``rise`` from ``a``, hold to ``b``, decay with ``decay``."""
    out = np.zeros(n)
    a = max(a, 0)
    if a >= n:
        return out
    b = min(max(b, a + 1), n)
    t = np.arange(b - a)
    out[a:b] = amp * (1 - np.exp(-t / max(rise, 0.5)))
    end_val = out[b - 1]
    tail = np.arange(n - b)
    out[b:] = end_val * np.exp(-tail / max(decay, 1))
    return out


def _orthostatic(n: int, stand: int, lie: int, p_rise: float, peak_s: float) -> np.ndarray:
    """Orthostatic HR: peak ``p_rise`` ~``peak_s`` after standing, settles to 60 %, decays."""
    out = np.zeros(n)
    if stand >= n:
        return out
    lie = min(max(lie, stand + 1), n)
    t = np.arange(lie - stand, dtype=float)
    shape = (1 - np.exp(-t / (peak_s / 3))) * (0.6 + 0.4 * np.exp(-np.maximum(t - peak_s, 0) / 30))
    out[stand:lie] = p_rise * shape
    out[lie:] = out[lie - 1] * np.exp(-np.arange(n - lie) / 45.0)
    return out


def _walk(
    steps: np.ndarray, move: np.ndarray, a: int, counted: int, drop: int, cadence_s: float = 1.6
) -> tuple[int, int]:
    """Put a walk of ``counted + drop`` true steps from ``a``; returns (end s, true steps)."""
    true = counted + drop
    dur = max(1, int(np.ceil(true / cadence_s)))
    b = min(a + dur, len(steps))
    if b <= a:
        return a, 0
    per = np.zeros(b - a)
    per[:] = counted / (b - a)
    cum = np.floor(np.cumsum(per) + 1e-9)
    steps[a:b] += np.diff(np.r_[0, cum]).astype(np.int16)
    move[a:b] = np.maximum(move[a:b], 0.8)
    return b, true


def simulate_night(
    person: Person, plan: NightPlan, cramp_count: int, rng: np.random.Generator
) -> Night:
    p = person.p
    n = plan.out_of_bed - plan.bed
    final = plan.final_wake - plan.bed
    onset = int(plan.latency_s)
    events: list[dict] = []
    busy: list[tuple[int, int]] = []  # major events (s after bed), kept apart by >= 5 min

    def free(a: int, b: int) -> bool:
        return all(b + 300 < x or a > y + 300 for x, y in busy)

    def slot(dur: int, lo: int, hi: int, tries: int = 30, bias_late: bool = False) -> int | None:
        for _ in range(tries):
            u = rng.beta(2.0, 1.3) if bias_late else rng.random()
            a = int(lo + u * max(1, hi - lo - dur))
            if a >= lo and a + dur < hi and free(a, a + dur):
                return a
        return None

    # phone use at bedtime delays sleep onset (awake, lying, no steps)
    phone_night = rng.random() < p["phone_p_night"]
    if phone_night and rng.random() < 0.6:
        a = int(rng.uniform(0, 120))
        dur = int(draw("phone_min", rng) * 60)
        onset = max(onset, a + dur + int(rng.uniform(2, 10) * 60))
        events.append(
            {
                "kind": "phone_use",
                "a": a,
                "b": a + dur,
                "hr_rise": draw("phone_hr_bpm", rng),
                "when": "before_sleep",
            }
        )
        phone_night = False
    onset = min(onset, final - 3 * 3600)
    stage = hypnogram(n, onset, final, p, rng)
    awake = stage == WAKE
    hr_add = np.zeros(n)
    move = np.zeros(n, np.float32)
    steps = np.zeros(n, np.int16)

    def wake_span(a: int, b: int, hr_rise: float, rise_s: float = 5.0) -> None:
        a, b = max(a, 0), min(b, n)
        awake[a:b] = True  # sustained part: the awake stage offset; here the arousal transient
        hr_add[:] += _exp_window(n, a, min(b, a + 20), hr_rise, rise_s, 30.0)
        busy.append((a, b))

    # ---- cramps (contraction onset anywhere in the sleep period: no PSG data, grade D)
    for _ in range(cramp_count):
        dc = int(draw("cramp_contraction_s", rng))
        resid = int(draw("cramp_residual_wake_min", rng) * 60)
        c0 = slot(dc + resid + 300, onset + 900, final - 600)
        if c0 is None:
            continue
        from_wake = rng.random() < p["cramp_from_wake_p"]
        pre = int(rng.uniform(60, 300)) if from_wake else 0
        amp, lat = float(draw("cramp_hr_surge_bpm", rng)), float(draw("cramp_surge_latency_s", rng))
        rise, decay = (
            float(draw("cramp_surge_rise_s", rng)),
            float(draw("cramp_surge_decay_s", rng)),
        )
        end_c, end_w = c0 + dc, c0 + dc + resid
        if pre:
            wake_span(c0 - pre, c0, float(draw("awakening_hr_bpm", rng)) * 0.5)
        awake[c0:end_w] = True
        busy.append((c0 - pre, end_w))
        pain = _exp_window(n, c0 + int(lat), end_c, amp, rise, decay)
        hr_add += pain
        wake_hr = float(draw("awakening_hr_bpm", rng))
        hr_add += _exp_window(n, end_c, end_w, wake_hr * 0.6, 20.0, 60.0)
        stood, counted, true_steps, stand_at, up_s, ortho = False, 0, 0, None, 0, 0.0
        if rng.random() < p["cramp_p_stand"]:
            stand_at = c0 + int(max(lat + rise, draw("cramp_stand_delay_s", rng)))
            up_s = int(draw("cramp_stand_s", rng))
            if stand_at + up_s < end_w - 10:
                stood = True
                ortho = float(draw("orthostatic_rise_bpm", rng))
                hr_add += _orthostatic(
                    n, stand_at, stand_at + up_s, ortho, float(draw("orthostatic_peak_s", rng))
                )
                counted = int(rng.integers(0, 41))
                move[stand_at : stand_at + up_s] = np.maximum(move[stand_at : stand_at + up_s], 0.5)
                if counted:
                    _, true_steps = _walk(
                        steps,
                        move,
                        stand_at + int(rng.uniform(3, 20)),
                        counted,
                        int(p["step_drop_first"]),
                    )
                    hr_add += _exp_window(
                        n,
                        stand_at,
                        stand_at + up_s,
                        float(draw("walking_hr_extra_bpm", rng)) * 0.5,
                        10,
                        40,
                    )
        if not stood:  # stretching / massaging in bed: wrist moves
            move[c0:end_c] = np.maximum(move[c0:end_c], rng.uniform(0.3, 0.9))
        events.append(
            {
                "kind": "nocturnal_cramp",
                "a": c0,
                "b": end_c,
                "wake_end": end_w,
                "contraction_s": dc,
                "residual_wake_s": resid,
                "pain_surge_bpm": amp,
                "surge_latency_s": lat,
                "surge_rise_s": rise,
                "surge_decay_s": decay,
                "from_wake": from_wake,
                "stood": stood,
                "stand_after_onset_s": (stand_at - c0) if stood else None,
                "standing_s": up_s if stood else 0,
                "orthostatic_bpm": ortho,
                "steps_counted": counted,
                "steps_true": true_steps,
                "wake_hr_bpm": wake_hr,
            }
        )

    # ---- bathroom trips (later in the night more likely, grade D)
    n_bath = min(3, rng.poisson(p["nocturia_per_night"]))
    for _ in range(n_bath):
        lie_awake = int(draw("bath_lie_awake_s", rng))
        away = int(draw("bath_away_s", rng))
        back = int(draw("back_to_sleep_min", rng) * 60)
        b0 = slot(lie_awake + away + back, onset + 1800, final - 300, bias_late=True)
        if b0 is None:
            continue
        stand, lie = b0 + lie_awake, b0 + lie_awake + away
        wake_hr = float(draw("awakening_hr_bpm", rng))
        wake_span(b0, lie + back, wake_hr)
        ortho = float(draw("orthostatic_rise_bpm", rng))
        hr_add += _orthostatic(n, stand, lie, ortho, float(draw("orthostatic_peak_s", rng)))
        walk_hr = float(draw("walking_hr_extra_bpm", rng))
        hr_add += _exp_window(n, stand + 5, lie, walk_hr, 15, 45)
        counted = int(draw("bath_steps_house" if p["home_large"] else "bath_steps_flat", rng))
        drop = int(p["step_drop_first"])
        first = counted // 2
        e1, t1 = _walk(steps, move, stand + int(rng.uniform(2, 8)), first, drop)
        e2_start = max(e1 + 20, lie - int(np.ceil((counted - first + drop) / 1.6)) - 3)
        _, t2 = _walk(steps, move, e2_start, counted - first, drop)
        move[stand:lie] = np.maximum(move[stand:lie], 0.4)
        events.append(
            {
                "kind": "bathroom_trip",
                "a": b0,
                "b": lie + back,
                "stand_s": stand - b0,
                "away_s": away,
                "back_to_sleep_s": back,
                "orthostatic_bpm": ortho,
                "walk_hr_bpm": walk_hr,
                "wake_hr_bpm": wake_hr,
                "stood": True,
                "steps_counted": counted,
                "steps_true": t1 + t2,
            }
        )

    # ---- phone use in the middle of the night (after waking), awake lying, no steps
    if phone_night:
        dur = int(draw("phone_min", rng) * 60)
        a = slot(dur + 300, onset + 1800, final - 300)
        if a is not None:
            rise = float(draw("phone_hr_bpm", rng))
            wake_span(a, a + dur + int(rng.uniform(2, 10) * 60), rise)
            move[a : a + dur] = np.maximum(move[a : a + dur], rng.uniform(0.05, 0.2, dur))
            events.append(
                {"kind": "phone_use", "a": a, "b": a + dur, "hr_rise": rise, "when": "mid_night"}
            )
    for e in events:
        if e["kind"] == "phone_use" and e["when"] == "before_sleep":
            a, b = e["a"], e["b"]
            hr_add += _exp_window(n, a, b, e["hr_rise"], 10, 40)
            move[a:b] = np.maximum(move[a:b], rng.uniform(0.05, 0.2, b - a))

    # ---- spontaneous awakenings (more in a hot bedroom)
    heat = max(0.0, plan.bedroom_c - 24.0)
    n_aw = rng.poisson(p["awakenings_per_h"] * (final - onset) / 3600 * (1 + 0.1 * heat))
    for _ in range(n_aw):
        dur = int(draw("awakening_s", rng))
        a = slot(dur, onset + 600, final - 60, tries=5)
        if a is None:
            continue
        rise = float(draw("awakening_hr_bpm", rng))
        wake_span(a, a + dur, rise)
        mv = int(rng.uniform(3, 20))
        move[a : a + mv] = np.maximum(move[a : a + mv], rng.uniform(0.3, 0.8))
        events.append({"kind": "awakening", "a": a, "b": a + dur, "hr_rise": rise})

    # ---- PLM series (NREM, first two thirds of the night)
    if p["has_plm"]:
        for _ in range(rng.poisson(p["plm_series_per_night"])):
            dur = int(draw("plm_series_min", rng) * 60)
            a0 = int(rng.uniform(onset + 600, onset + 0.66 * (final - onset)))
            b0 = min(a0 + dur, final - 60)
            times, t = [], a0
            while t < b0:
                if stage[t] in (N1, N2, N3) and not awake[t]:
                    times.append(t)
                t += int(max(10, min(90, rng.normal(p["plm_imi_s"], 0.25 * p["plm_imi_s"]))))
            if len(times) < 4:
                continue
            amps, arousals = [], 0
            for t in times:
                amp = float(draw("plm_hr_bpm", rng))
                amps.append(amp)
                k = np.arange(min(25, n - t))
                hr_add[t : t + len(k)] += amp * (k / 5.0) * np.exp(1 - k / 5.0)  # peak at ~5 s
                lm = int(rng.uniform(1, 5))
                move[t : t + lm] = np.maximum(move[t : t + lm], rng.uniform(0.05, 0.3))
                if rng.random() < draw("plm_arousal_p", rng):
                    awake[t : t + int(rng.uniform(3, 15))] = True
                    arousals += 1
            events.append(
                {
                    "kind": "plm_series",
                    "a": times[0],
                    "b": times[-1] + 5,
                    "movements": len(times),
                    "mean_imi_s": float(np.mean(np.diff(times))),
                    "hr_rise": float(np.mean(amps)),
                    "arousals": arousals,
                }
            )

    # ---- rollovers
    for _ in range(rng.poisson(p["rollover_per_h"] * (final - onset) / 3600)):
        t = int(rng.uniform(onset, final - 30))
        if awake[t]:
            continue
        dur = int(draw("rollover_s", rng))
        amp = float(draw("rollover_hr_bpm", rng))
        k = np.arange(min(30, n - t))
        hr_add[t : t + len(k)] += amp * (k / 4.0) * np.exp(1 - k / 4.0)
        move[t : t + dur] = np.maximum(move[t : t + dur], rng.uniform(0.5, 1.0))
        events.append({"kind": "rollover", "a": t, "b": t + dur, "hr_rise": amp})

    # ---- heart rate
    stage = np.where(awake, WAKE, stage).astype(np.int8)
    base = p["sleep_hr_bpm"]
    pct = np.select(
        [stage == WAKE, stage == N1, stage == N3, stage == REM],
        [p["awake_rest_hr_delta_pct"], 2.0, p["n3_hr_pct"], p["rem_hr_pct"]],
        0.0,
    )
    stage_hr = lfilter(
        [1 - np.exp(-1 / 30)],
        [1, -np.exp(-1 / 30)],
        base * pct / 100,
        zi=[base * pct[0] / 100 * np.exp(-1 / 30)],
    )[0]
    t = np.arange(n)
    decline = -p["overnight_hr_decline_bpm"] * np.clip((t - onset) / max(1, final - onset), 0, 1)
    hot = p["hot_hr_per_c"] * heat
    late = 0.0
    if plan.late_ex is not None:
        since = (plan.bed - plan.late_ex["end"]) / 60
        tau = float(draw("late_ex_tau_min", rng))
        amp = float(draw("late_ex_hr_bpm", rng)) * (0.5 + (plan.late_ex["met"] - 6) / 5)
        late = amp * np.exp(-(since + t / 60) / tau)
        plan.late_ex.update(hr_bpm_at_bed=float(amp * np.exp(-since / tau)), tau_min=tau)
    rem_extra = np.where(stage == REM, _ar_noise(n, 2.0, 20, rng), 0.0)
    hr = (
        base
        + stage_hr
        + decline
        + hot
        + late
        + hr_add
        + rem_extra
        + _ar_noise(n, p["hr_noise_sd_bpm"], p["hr_noise_tau_s"], rng)
    )
    hr = np.clip(hr, 35, 200).astype(np.float32)

    # ---- watch off
    worn = np.ones(n, bool)
    if rng.random() < p["watch_off_p_night"]:
        kind = rng.choice(["whole", "start", "end", "middle"], p=[0.3, 0.25, 0.25, 0.2])
        off = int(rng.uniform(30, 180) * 60)
        a, b = {
            "whole": (0, n),
            "start": (0, min(n, off)),
            "end": (max(0, n - off), n),
            "middle": (int(n * rng.uniform(0.2, 0.6)), 0),
        }[kind]
        if kind == "middle":
            b = min(n, a + off)
        worn[a:b] = False
        events.append({"kind": "watch_off", "a": a, "b": b, "part": str(kind)})
    for e in events:
        a, b = e["a"], min(e["b"], n)
        pre = hr[max(0, a - 180) : max(1, a - 10)] if a > 10 else hr[:1]
        e["hr_rise_bpm"] = float(hr[a : b + 60].max() - np.median(pre)) if b > a else 0.0
        e["wake_s"] = int(awake[a : max(b, e.get("wake_end", b))].sum())
        e["movement_s"] = int((move[a:b] > 0.2).sum())
        e.setdefault("steps_counted", int(steps[a:b].sum()))
    return Night(plan, onset, final, stage, hr, move, steps, worn, events)
