"""One night in bed at 1 s: hypnogram (30 s epochs), events, true movement, steps, heart rate.

Stage codes: 0 wake, 1 N1, 2 N2, 3 N3, 4 REM. Times inside a night are seconds after going to
bed. Events are placed one by one on free stretches of the sleep period (cramps first, then
bathroom trips, phone use, PLM series, awakenings, rollovers); each paints wake on the
hypnogram where the person is awake, adds its own heart-rate kernel, wrist movement and steps,
and keeps its hidden features (drawn from :mod:`simulators.bedside.ranges`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.signal import lfilter

from simulators.bedside.ranges import RANGES, draw

EPOCH = 30


@dataclass
class Night:
    night_of: object  # local date of the evening
    tz: str
    bed: int  # epoch s
    n: int  # seconds in bed
    onset: int
    final: int
    stage: np.ndarray  # per 30 s epoch
    hr: np.ndarray  # per s, bpm
    move: np.ndarray  # per s, 0..1 wrist movement
    steps: np.ndarray  # per s, true steps
    worn: np.ndarray  # per s
    hot: bool
    bedroom_c: float
    events: list = field(default_factory=list)


def _hypnogram(p: dict, n_ep: int, on: int, fin: int, rng) -> np.ndarray:
    st = np.zeros(n_ep, np.int8)
    t, c = on, 0
    while t < fin:
        cyc = int(p["cycle_min"] * draw("cycle_jitter", rng) * 2)
        n1 = int(draw("n1_first_min", rng) * 2) if c == 0 else int(rng.integers(1, 4))
        n3 = int(p["n3_first_cycle_min"] * 2 * p["n3_decay_per_cycle"] ** c)
        frac = min(c / 4, 1.0)
        rem = int(2 * (p["rem_first_cycle_min"] * (1 - frac) + p["rem_last_cycle_min"] * frac))
        n2 = max(cyc - n1 - n3 - rem, 6)
        seq = [1] * n1 + [2] * (n2 * 2 // 3) + [3] * n3 + [2] * (n2 - n2 * 2 // 3) + [4] * rem
        seg = np.array(seq[: fin - t], np.int8)
        st[t : t + len(seg)] = seg
        t += len(seg)
        c += 1
    return st


class _Builder:
    def __init__(self, person, n: int, on: int, fin: int, rng):
        self.p, self.rng, self.n = person.p, rng, n
        self.on, self.fin = on, fin
        self.busy = np.zeros(n, bool)
        self.wake = []  # (a, b) seconds awake
        self.arousal = []  # epochs set to N1
        self.hr_add = np.zeros(n, np.float64)
        self.move = np.zeros(n, np.float32)
        self.steps = np.zeros(n, np.float32)
        self.events: list[dict] = []
        self.base = np.zeros(0, np.int8)  # hypnogram before the events

    def stage_at(self, t: int) -> int:
        return int(self.base[min(t // EPOCH, len(self.base) - 1)]) if len(self.base) else 0

    def place(self, dur: int, margin: int = 60, lo=None, hi=None, stages=None):
        """A free start for ``dur`` s in [lo, hi - dur), preferring a start in ``stages``."""
        lo = self.on if lo is None else lo
        hi = (self.fin if hi is None else hi) - dur
        for i in range(25):
            if hi <= lo:
                return None
            a = int(self.rng.integers(lo, hi))
            if stages is not None and i < 15 and self.stage_at(a) not in stages:
                continue
            if not self.busy[max(a - margin, 0) : min(a + dur + margin, self.n)].any():
                self.busy[max(a - margin, 0) : min(a + dur + margin, self.n)] = True
                return a
        return None

    def kernel(self, a: int, rise_s: float, hold_s: float, decay_s: float, size: float):
        """Rise linearly to ``size`` over ``rise_s``, hold, decay exponentially."""
        rise = max(int(rise_s), 1)
        length = int(rise + hold_s + 5 * decay_s)
        t = np.arange(length, dtype=np.float64)
        k = np.where(t < rise, t / rise, 1.0)
        k = np.where(t > rise + hold_s, np.exp(-(t - rise - hold_s) / max(decay_s, 1)), k)
        b = min(a + length, self.n)
        if b > a:
            self.hr_add[a:b] += size * k[: b - a]

    def walk_s(self, n_steps: int) -> int:
        return int(np.ceil(n_steps / self.p["indoor_step_rate_hz"]))

    def walk(self, a: int, n_steps: int):
        if n_steps <= 0:
            return a
        b = min(a + self.walk_s(n_steps), self.n)
        if b > a:
            self.steps[a:b] += n_steps / (b - a)
            self.move[a:b] = np.maximum(self.move[a:b], self.p["walk_wrist_intensity"])
        return b

    def wiggle(self, a: int, b: int, level: float):
        self.move[a:b] = np.maximum(self.move[a:b], level)


def _cramp(bd: _Builder, person, rng) -> None:
    p = person.p
    c = float(draw("cramp_contraction_s", rng))
    lat = float(draw("cramp_surge_latency_s", rng))
    stood = bool(rng.random() < p["cramp_stand_share"])
    r_after = RANGES["cramp_stand_after_onset_s"]
    after = float(rng.uniform(max(r_after.low, lat + 1), r_after.high)) if stood else 0.0
    standing = float(draw("cramp_standing_s", rng)) if stood else 0.0
    steps = int(draw("cramp_stretch_steps", rng)) if stood else 0
    residual = float(draw("cramp_residual_wake_s", rng))
    from_wake = bool(rng.random() < p["cramp_from_wake_share"])
    pre = int(draw("cramp_pre_onset_wake_s", rng)) if from_wake else 0
    awake = int(max(c, after + standing) + residual)
    r_frac, span = RANGES["cramp_onset_night_fraction"], bd.fin - bd.on
    centre = bd.on + int(float(draw("cramp_onset_night_fraction", rng)) * span)
    lo = max(bd.on + int(np.ceil(r_frac.low * span)), centre - 1800, bd.on + pre)
    hi = min(bd.on + int(r_frac.high * span), centre + 1800, bd.n - awake)
    a = bd.place(pre + awake, 120, lo - pre, hi + awake)  # onset in [lo, hi)
    if a is None:
        return
    onset = a + pre
    surge = float(draw("cramp_pain_surge_bpm", rng))
    decay = float(draw("cramp_surge_decay_s", rng))
    rise = float(draw("pain_surge_rise_s", rng))
    bd.kernel(onset + int(lat), rise, max(c - lat - rise, 0), decay, surge)
    bd.wake.append((a, onset + awake))
    bd.wiggle(onset, onset + int(c), draw("cramp_wrist_intensity", rng))
    ortho = 0.0
    massage = False
    if stood:
        s = onset + int(after)
        ortho = float(draw("orthostatic_rise_bpm", rng))
        olat = float(draw("orthostatic_peak_latency_s", rng))
        plateau = float(draw("standing_hr_plateau_share", rng))
        bd.kernel(s, olat, 0, draw("orthostatic_initial_decay_s", rng), ortho * (1 - plateau))
        bd.kernel(s, olat, standing, draw("orthostatic_recovery_s", rng), ortho * plateau)
        bd.wiggle(s, s + int(standing), draw("stand_wrist_intensity", rng))
        bd.walk(s + 3, steps)
    else:
        massage = bool(rng.random() < p["cramp_massage_share"])
        if massage:
            end = onset + int(min(c + 60, awake))
            bd.wiggle(onset + int(lat), end, draw("massage_wrist_intensity", rng))
    bd.events.append(
        {
            "kind": "nocturnal_cramp",
            "a": onset,
            "b": onset + int(c),
            "contraction_s": int(c),
            "stage_at_onset": 0 if from_wake else bd.stage_at(onset),
            "pain_surge_bpm": surge,
            "surge_latency_s": lat,
            "surge_decay_s": decay,
            "from_wake": from_wake,
            "stood": stood,
            "stand_after_onset_s": after if stood else None,
            "standing_s": standing if stood else None,
            "orthostatic_bpm": ortho if stood else None,
            "steps_true": steps,
            "massage": massage,
            "residual_wake_s": residual,
            "wake_s": awake,
            "onset_night_fraction": (onset - bd.on) / max(bd.fin - bd.on, 1),
        }
    )


def _bathroom(bd: _Builder, rng) -> None:
    lying = float(draw("bathroom_lying_before_stand_s", rng))
    out = float(draw("bathroom_out_of_bed_s", rng))
    back = float(draw("bathroom_back_to_sleep_s", rng))
    steps = int(draw("bathroom_steps", rng))
    dur = int(lying + out + back)
    a = bd.place(dur, 120)
    if a is None:
        return
    s = a + int(lying)
    ortho = float(draw("orthostatic_rise_bpm", rng))
    olat = float(draw("orthostatic_peak_latency_s", rng))
    plateau = float(draw("standing_hr_plateau_share", rng))
    bd.kernel(s, olat, 0, draw("orthostatic_initial_decay_s", rng), ortho * (1 - plateau))
    bd.kernel(s, olat, out, draw("orthostatic_recovery_s", rng), ortho * plateau)
    rise, decay = draw("event_hr_rise_s", rng), draw("event_hr_decay_s", rng)
    bd.kernel(s, rise, out, decay, float(draw("walking_hr_add_bpm", rng)))
    half = steps // 2
    bd.walk(s + 2, half)
    bd.walk(s + int(out) - bd.walk_s(steps - half) - 2, steps - half)
    bd.wiggle(a, a + 10, draw("get_up_wrist_intensity", rng))
    bd.wiggle(s, s + int(out), draw("stand_wrist_intensity", rng))
    bd.wake.append((a, a + dur))
    bd.events.append(
        {
            "kind": "bathroom_trip",
            "a": a,
            "b": a + dur,
            "lying_before_stand_s": lying,
            "out_of_bed_s": out,
            "back_to_sleep_s": back,
            "orthostatic_bpm": ortho,
            "orthostatic_latency_s": olat,
            "stood": True,
            "steps_true": steps,
            "wake_s": dur,
        }
    )


def _phone(bd: _Builder, rng) -> None:
    dur = int(draw("phone_use_s", rng))
    a = bd.place(dur, 60)
    if a is None:
        return
    d = float(draw("phone_hr_change_bpm", rng))
    rise, decay = draw("event_hr_rise_s", rng), draw("event_hr_decay_s", rng)
    bd.kernel(a, rise, dur - rise, decay, d)
    bd.wiggle(a, a + dur, draw("phone_wrist_intensity", rng))
    bd.wake.append((a, a + dur))
    bd.events.append(
        {"kind": "phone_use", "a": a, "b": a + dur, "duration_s": dur, "hr_change_bpm": d}
    )


def _plm(bd: _Builder, rng) -> None:
    k = int(draw("plm_movements", rng))
    imi_mean = float(draw("plm_imi_s", rng))
    r = RANGES["plm_imi_s"]
    jit = float(draw("plm_imi_jitter", rng))
    imis = np.clip(imi_mean * rng.uniform(1 - jit, 1 + jit, k - 1), r.low, r.high)
    lens = np.asarray(draw("plm_movement_s", rng, k), float)
    starts = np.r_[0, np.cumsum(imis)]
    dur = int(starts[-1] + lens[-1]) + 1
    a = bd.place(dur, 60, stages=(1, 2))  # PLMS mostly in light NREM (Pollmacher 1993)
    if a is None:
        return
    accel = float(draw("plm_hr_accel_bpm", rng))
    peak = float(draw("plm_hr_peak_s", rng))
    wrist = float(draw("plm_wrist_intensity", rng))
    arousal = float(draw("plm_arousal_share", rng))
    decay = float(draw("movement_hr_decay_s", rng))
    for s0, ln in zip(starts, lens, strict=True):
        s = a + int(s0)
        bd.kernel(s, peak, 0, decay, accel * draw("plm_bump_share", rng))
        bd.wiggle(s, s + max(int(ln), 1), wrist)
        if rng.random() < arousal:
            bd.arousal.append(s // EPOCH)
    bd.events.append(
        {
            "kind": "plm_series",
            "a": a,
            "b": a + dur,
            "movements": k,
            "imi_mean_s": float(imis.mean()),
            "movement_mean_s": float(lens.mean()),
            "hr_accel_bpm": accel,
            "hr_peak_s": peak,
            "movement_intensity": wrist,
        }
    )


def _rls(bd: _Builder, rng, a: int) -> int:
    dur = int(draw("rls_duration_s", rng))
    every = float(draw("rls_movement_every_s", rng))
    rise = float(draw("rls_hr_rise_bpm", rng))
    walks = rng.random() < draw("rls_walk_share", rng)
    steps = int(draw("rls_steps", rng)) if walks else 0
    dur = min(dur, bd.n - a - 1)
    bd.busy[a : a + dur] = True
    up, decay = draw("event_hr_rise_s", rng), draw("event_hr_decay_s", rng)
    bd.kernel(a, up, dur - up, decay, rise)
    for s in np.arange(a, a + dur, every).astype(int):
        ln = int(draw("rls_movement_s", rng))
        bd.wiggle(s, s + ln, draw("rls_wrist_intensity", rng))
    if steps:
        bd.walk(a + dur // 2, steps)
    bd.wake.append((a, a + dur))
    bd.events.append(
        {
            "kind": "rls",
            "a": a,
            "b": a + dur,
            "duration_s": dur,
            "movement_every_s": every,
            "hr_rise_bpm": rise,
            "steps_true": steps,
        }
    )
    return a + dur


def _awakening(bd: _Builder, rng, factor: float) -> None:
    dur = int(min(draw("awakening_s", rng) * factor, RANGES["awakening_s"].high))
    a = bd.place(dur, 60)
    if a is None:
        return
    rise = float(draw("awakening_hr_rise_bpm", rng))
    up, decay = draw("event_hr_rise_s", rng), draw("event_hr_decay_s", rng)
    # the arousal response is transient (Trinder 2001; Horner 1996): it peaks and decays
    # while the person lies awake; the wake stage offset carries the sustained part
    bd.kernel(a, up, 0.0, decay, rise)
    bd.wiggle(a, a + int(draw("awakening_wrist_s", rng)), draw("awakening_wrist_intensity", rng))
    bd.wake.append((a, a + dur))
    bd.events.append(
        {"kind": "awakening", "a": a, "b": a + dur, "duration_s": dur, "hr_rise_bpm": rise}
    )


def _rollover(bd: _Builder, rng) -> None:
    dur = int(np.ceil(draw("rollover_s", rng)))
    a = bd.place(dur, 30)
    if a is None:
        return
    bump = float(draw("rollover_hr_bump_bpm", rng))
    inten = float(draw("rollover_intensity", rng))
    bd.kernel(a, draw("plm_hr_peak_s", rng), dur, draw("movement_hr_decay_s", rng), bump)
    bd.wiggle(a, a + dur, inten)
    bd.arousal.append(a // EPOCH)
    bd.events.append(
        {
            "kind": "rollover",
            "a": a,
            "b": a + dur,
            "duration_s": dur,
            "hr_bump_bpm": bump,
            "movement_intensity": inten,
        }
    )


def simulate_night(person, night_of, tz: str, bed: int, n_cramps: int, rng) -> Night:
    p = person.p
    n = int(p["time_in_bed_h"] * 3600 * draw("time_in_bed_night_factor", rng)) // EPOCH * EPOCH
    hot = bool(rng.random() < p["hot_night_share"])
    room = float(draw("hot_bedroom_c" if hot else "cool_bedroom_c", rng))
    on = int(draw("sleep_latency_min", rng) * 60)
    fin = n - int(draw("final_wake_before_up_min", rng) * 60)
    bd = _Builder(person, n, on, fin, rng)
    if person.has_rls and rng.random() < min(draw("rls_episodes_per_night", rng), 1.0):
        end = _rls(bd, rng, int(draw("rls_start_after_bed_s", rng)))
        bd.on = on = max(on, end + int(draw("rls_to_sleep_s", rng)))
    fin = max(fin, on + 3600)
    bd.fin = fin = min(fin, n - 60)
    hours = (fin - on) / 3600
    n_ep = n // EPOCH
    stage = _hypnogram(p, n_ep, -(-on // EPOCH), fin // EPOCH, rng)
    bd.base = stage.copy()
    factor = float(draw("hot_night_wake_factor", rng)) if hot else 1.0
    for _ in range(n_cramps):
        _cramp(bd, person, rng)
    for _ in range(
        rng.poisson(
            p["nocturia_per_night"] * (draw("hot_night_nocturia_factor", rng) if hot else 1.0)
        )
    ):
        _bathroom(bd, rng)
    for _ in range(rng.poisson(p["phone_use_per_night"])):
        _phone(bd, rng)
    for _ in range(rng.poisson(p["plm_series_per_night"])):
        _plm(bd, rng)
    for _ in range(rng.poisson(p["awakenings_per_hour"] * hours * factor)):
        _awakening(bd, rng, factor)
    for _ in range(rng.poisson(p["rollovers_per_hour"] * hours)):
        _rollover(bd, rng)
    for ep in bd.arousal:
        if 0 <= ep < n_ep and stage[ep] > 1:
            stage[ep] = 1
    for a, b in bd.wake:
        stage[a // EPOCH : -(-b // EPOCH)] = 0
        nxt = -(-b // EPOCH)
        stage[nxt : nxt + 2][stage[nxt : nxt + 2] > 0] = 1
    # heart rate: stage offsets (smoothed), overnight decline, slow noise, event kernels
    base = p["sleep_hr_bpm"] + rng.normal(0, p["night_hr_sd_bpm"])
    base += float(draw("hot_night_hr_add_bpm", rng)) if hot else 0.0
    off = {0: draw("wake_hr_add_bpm", rng), 1: draw("n1_hr_add_bpm", rng), 2: 0.0}
    off[3], off[4] = draw("n3_hr_add_bpm", rng), draw("rem_hr_add_bpm", rng)
    lev = np.vectorize(off.get)(stage).astype(np.float64)
    per_s = np.repeat(lev, EPOCH)[:n]
    per_s = np.r_[per_s, np.full(n - len(per_s), lev[-1] if len(lev) else 0.0)]
    k = 1 / float(draw("stage_hr_tau_s", rng))
    per_s = lfilter([k], [1, -(1 - k)], per_s, zi=[per_s[0] * (1 - k)])[0]
    tau = float(draw("hr_noise_tau_s", rng))
    a1 = np.exp(-1 / tau)
    noise = lfilter([np.sqrt(1 - a1 * a1)], [1, -a1], rng.normal(0, 1, n))
    noise *= float(draw("hr_noise_sd_bpm", rng))
    decline = -p["overnight_hr_decline_bpm"] * np.linspace(0, 1, n)
    hr = (base + per_s + decline + noise + bd.hr_add).astype(np.float32)
    move = bd.move + rng.uniform(0, 0.02, n).astype(np.float32) * (np.repeat(stage, EPOCH) == 0)[
        :n
    ].astype(np.float32)
    worn = np.ones(n, bool)
    if rng.random() < p["watch_off_night_share"]:
        dur = int(min(draw("watch_off_s", rng), n - 600))
        a = int(rng.integers(60, n - dur))
        worn[a : a + dur] = False
        bd.events.append({"kind": "watch_off", "a": a, "b": a + dur, "duration_s": dur})
    for e in bd.events:
        e.setdefault("stage_at_onset", bd.stage_at(e["a"]))
    return Night(
        night_of=night_of,
        tz=tz,
        bed=bed,
        n=n,
        onset=on,
        final=fin,
        stage=stage,
        hr=hr,
        move=move,
        steps=bd.steps,
        worn=worn,
        hot=hot,
        bedroom_c=room,
        events=sorted(bd.events, key=lambda e: e["a"]),
    )
