"""A night: schedule (bed / sleep onset / final wake / rise with night-to-night jitter, in the
zone the person is in), hypnogram with NREM-REM cycles, bedroom temperature and heat,
overnight HR dip, watch-off gaps, and the background events (awakenings, arousals,
rollovers) placed outside the busy windows of the major events (:mod:`events`) and
``BG_GAP_S`` apart; inside a PLM series only the movements themselves are busy, so
awakenings and arousals can fall between them (PLMs with arousal or awakening)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from simulators.nocturne.cohort import Person, local_to_utc_s
from simulators.nocturne.ranges import CLIMATE, draw
from simulators.nocturne.timeline import N1, N2, N3, REM, WAKE, Event, Timeline


@dataclass
class Night:
    i: int
    local_date: date
    zone: str
    bed: int
    onset: int
    final_wake: int
    rise: int
    bedroom_c: float = 0.0
    hot_excess: float = 0.0
    jetlag: bool = False
    major: list = field(default_factory=list)  # (start, end) windows of the major events
    occ: np.ndarray | None = None  # seconds from ``bed - OCC_LEAD_S`` that background avoids


def schedule(person: Person, tl: Timeline, start: date, i: int, prev_rise: int, rng) -> Night:
    p = person.p
    d = start + timedelta(days=i)
    zone = person.zone_for_night(i)
    bed_h = p["bedtime_h"] + np.clip(rng.normal(0, p["bedtime_jitter_sd_min"] / 60), -2, 2)
    jet = False
    if person.travel:
        a, b = person.travel
        if a <= i < a + 2:  # westward: the body clock is ahead, sleepy earlier
            bed_h -= p["jetlag_shift_h"] * (1 - 0.5 * (i - a))
            jet = True
        elif b <= i < b + 2:  # back east: later
            bed_h += p["jetlag_shift_h"] * (1 - 0.5 * (i - b))
            jet = True
    bed = local_to_utc_s(d, float(bed_h), zone) - tl.t0
    bed = max(bed, prev_rise + 4 * 3600)
    latency = int(draw(rng, "sleep_latency_min") * 60)
    tib = float(np.clip(p["time_in_bed_h"] + rng.normal(0, 0.4), 6.0, 10.5))
    rise = bed + int(tib * 3600)
    final_wake = rise - int(draw(rng, "final_wake_lie_min") * 60)
    onset = min(bed + latency, final_wake - 3600)
    return Night(i, d, zone, bed, onset, final_wake, rise, jetlag=jet)


def hypnogram(p: dict, length: int, rng) -> np.ndarray:
    """Stages for ``length`` seconds from sleep onset: cycles N1 -> N2 -> N3 -> N2 -> REM,
    N3 shrinking and REM growing across the night."""
    out = np.full(length, N2, np.int8)
    t, k = 0, 0
    n_cycles = max(1, round(length / (p["cycle_min"] * 60)))
    while t < length:
        L = int(p["cycle_min"] * 60 * rng.uniform(0.9, 1.1))
        n1 = int(draw(rng, "n1_min") * 60) if k == 0 else int(rng.uniform(0, 3) * 60)
        n3 = int(p["n3_first_min"] * 60 * max(0.0, 1 - 0.45 * k) * rng.uniform(0.7, 1.3))
        frac = k / max(1, n_cycles - 1)
        rem = int(60 * (p["rem_first_min"] + (p["rem_last_min"] - p["rem_first_min"]) * frac))
        n2 = max(60, L - n1 - n3 - rem)
        n2a = int(n2 * rng.uniform(0.3, 0.6))
        for stage, dur in ((N1, n1), (N2, n2a), (N3, n3), (N2, n2 - n2a), (REM, rem)):
            out[t : t + dur] = stage
            t += dur
        k += 1
    return out


def lay_down(person: Person, tl: Timeline, nt: Night, rng) -> None:
    """Write the night's base state: in bed lying, wake until onset, hypnogram, wake after."""
    tl.set_stage(nt.bed, nt.rise, WAKE)
    a, b = tl.clip(nt.bed, nt.rise)
    tl.posture[a:b] = 0
    a, b = tl.clip(nt.onset, nt.final_wake)
    tl.stage[a:b] = hypnogram(person.p, b - a, rng)
    x = np.linspace(0, 1, b - a)
    tl.dip[a:b] = -person.p["overnight_dip_bpm"] * np.sin(np.pi * x**1.73)


def bedroom(person: Person, tl: Timeline, nt: Night, outdoor_anom: float) -> Event | None:
    p = person.p
    month = min(2, max(0, nt.local_date.month - 9))
    outdoor = CLIMATE[nt.zone][month] + outdoor_anom
    nt.bedroom_c = p["bedroom_base_c"] + p["bedroom_slope"] * max(0.0, outdoor - 15.0)
    nt.hot_excess = max(0.0, nt.bedroom_c - p["hot_threshold_c"])
    if nt.hot_excess <= 0:
        return None
    a, b = tl.clip(nt.bed, nt.rise)
    tl.heat[a:b] = p["heat_hr_per_c"] * nt.hot_excess
    return Event("hot_night", nt.onset, nt.final_wake, nt.i, f"bedroom_c={nt.bedroom_c:.1f}")


def watch_off(person: Person, tl: Timeline, nt: Night, rng) -> Event | None:
    if rng.random() >= person.p["watch_off_night_frac"]:
        return None
    dur = int(draw(rng, "watch_off_min") * 60)
    a = int(rng.uniform(nt.bed - 1800, max(nt.bed - 1800 + 1, nt.rise - 1200)))
    b = min(a + dur, nt.rise + 1800)
    a, b = tl.clip(a, b)
    tl.worn[a:b] = False
    return Event("watch_off", a, b, nt.i, "night")


def wake_transient(tl: Timeline, t: int, amp: float, rng, until: int | None = None) -> None:
    """The HR response at a spontaneous awakening: a transient that peaks ``awakening_hr_peak_s``
    after onset and returns to the quiet-wake level (the stage offset, filtered) with time
    constant ``awakening_hr_decay_s``, however long the awakening (Horner 1996; Sforza et al.
    2000; Trinder et al. 2003). ``until`` ends the peak early (rising from bed sooner)."""
    peak = float(draw(rng, "awakening_hr_peak_s"))
    decay = float(draw(rng, "awakening_hr_decay_s"))
    rise = peak / 3  # 1 s latency, then the rise reaches ``amp`` at ``peak``
    end = t + peak if until is None else min(t + peak, until)
    tl.surge(t, amp / (1 - np.exp(-(peak - 1) / rise)), 1, rise, end, decay)


#: background events keep this gap (s) from each other: an arousal is scored only after at
#: least 10 s of sleep (Iber et al. 2007 AASM manual; Berry et al. 2012 J Clin Sleep Med 8:597)
BG_GAP_S = 10
OCC_LEAD_S = 3600  # the occupancy mask starts this long before bed (a cramp's lead-in)
BUSY, PLM = 1, 2  # occupancy flags: busy (major events, background events), a PLM movement
TRIES = 30  # onsets tried per background event before it is dropped


def mark_busy(nt: Night, a: int, b: int, flag: int = BUSY) -> None:
    """Keep background events out of [a, b) (timeline seconds)."""
    if nt.occ is None:
        nt.occ = np.zeros(nt.rise - nt.bed + 2 * OCC_LEAD_S, np.int8)
    a, b = max(0, int(a) - nt.bed + OCC_LEAD_S), max(0, int(b) - nt.bed + OCC_LEAD_S)
    nt.occ[a:b] |= flag


def _free(nt: Night, t: int, dur: int, plm_inside: bool = False) -> bool:
    """[t, t + dur) is clear; with ``plm_inside`` only its first second must be clear of PLM
    movements (limb movements go on during an awakening: PLMW, Iber et al. 2007)."""
    if nt.occ is None:
        return True
    a = max(0, t - nt.bed + OCC_LEAD_S)
    w = nt.occ[a : a + dur]
    if plm_inside:
        return not (w & BUSY).any() and not (w[:1] & PLM).any()
    return not w.any()


def background(person: Person, tl: Timeline, nt: Night, rng) -> list[Event]:
    """Spontaneous awakenings, arousals and rollovers during the sleep period. Awakenings and
    arousals are counted per hour of sleep (the true sleep stages of the period once the major
    events and the earlier kinds are written), as the arousal index is (Bonnet & Arand 2007),
    and each starts from sleep; rollovers per hour of the sleep period, asleep or awake. Each
    event tries up to ``TRIES`` onsets, so the placement does not thin the drawn rates."""
    p = person.p
    hours = (nt.final_wake - nt.onset) / 3600
    a, b = tl.clip(nt.onset, nt.final_wake)
    gain = (1 + p["heat_wake_gain_per_c"] * nt.hot_excess) * (
        p["jetlag_wake_gain"] if nt.jetlag else 1.0
    )
    out = []
    for kind in ("awakening", "arousal", "rollover"):
        if kind == "rollover":
            n = rng.poisson(p["rollover_per_h"] * hours)
        else:  # per hour of the sleep left once the earlier kinds are written
            sleep_h = float((tl.stage[a:b] >= N1).sum()) / 3600
            n = rng.poisson(p[f"{kind}_per_h"] * sleep_h * gain)
        for _ in range(n):
            dur = int(draw(rng, kind + "_s"))
            for _ in range(TRIES):
                t = int(rng.integers(nt.onset, nt.final_wake - 60))
                st = int(tl.stage[t])
                if kind != "rollover" and st == WAKE:
                    continue  # an awakening or arousal starts from sleep
                if _free(nt, t, dur, plm_inside=kind == "awakening"):
                    break
            else:
                continue
            amp = float(draw(rng, kind + "_hr_bpm"))
            if kind == "awakening":
                tl.set_stage(t, t + dur, WAKE)
                tl.set_stage(t + dur, t + dur + int(rng.uniform(30, 180)), N1)
                wake_transient(tl, t, amp, rng)
                if rng.random() < 0.5:
                    tl.motion(t, t + int(rng.uniform(3, 15)), float(rng.uniform(0.2, 0.7)))
            elif kind == "arousal":
                tl.surge(t, amp, 1, 2, t + dur, 10)
                if rng.random() < 0.3:
                    tl.motion(t, t + dur, float(rng.uniform(0.05, 0.3)))
            else:
                tl.surge(t, amp, 1, 3, t + dur, 15)
                tl.motion(t, t + dur, float(rng.uniform(0.4, 1.0)))
            mark_busy(nt, t - BG_GAP_S, t + dur + BG_GAP_S)
            out.append(Event(kind, t, t + dur, nt.i))
    return out
