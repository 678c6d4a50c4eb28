"""Latent per-30-s timelines: mean heart rate, watch worn, sampling regime, motion, stage.
Mixed into :class:`.sim.Sim`."""

from __future__ import annotations

import numpy as np

from .config import AWAKE, DEEP, EPOCH_S, NONE, R_DAY, R_DENSE, R_OFF, R_SLEEP, R_WORKOUT, REM


class TimelinesMixin:
    """Timeline steps of :class:`.sim.Sim` (uses its stream ``r_phys``)."""

    # ---------------------------------------------------------------------- timelines ------
    def build_timelines(self) -> None:
        """Per-30 s arrays over the span: mean HR, watch worn, sampling regime, motion."""
        r = self.r_phys
        # (participant constants are on self.p)
        n = self.n_ep
        t = self.t0 + EPOCH_S * np.arange(n)
        self.ep_t = t
        hr = np.full(n, np.nan)
        reg = np.zeros(n, dtype=np.int8)
        motion = np.zeros(n, dtype=np.int8)
        stage = np.zeros(n, dtype=np.int8)

        def idx(ts):
            return int(np.clip((ts - self.t0) // EPOCH_S, 0, n))

        # days: sedentary level with slow wander, then walks and workouts
        for d in self.days:
            i0, i1 = idx(d.start), idx(d.end)
            m = i1 - i0
            if m <= 0:
                continue
            x = np.cumsum(r.normal(0, 0.35, m))
            x = x - np.linspace(0, x[-1], m)  # bridge: starts and ends at 0
            hr[i0:i1] = d.rhr + 13 + np.clip(x, -6, 6)
            reg[i0:i1] = R_DAY
            motion[i0:i1] = 1
            for s, e, _ in d.walks:
                a, b = idx(s), idx(e)
                rise = float(r.uniform(22, 32))
                ramp = 1 - np.exp(-np.arange(b - a) / 2.0)
                hr[a:b] += rise * ramp
                tail = np.arange(min(10, i1 - b))
                hr[b : b + len(tail)] += rise * np.exp(-tail / 4.0)
                motion[a:b] = 2
            for w in d.workouts:
                a, b = idx(w.start), idx(w.end)
                k = np.arange(b - a)
                base = d.rhr + 13
                drift = 0.02 * k * (1.0 + (w.temp_c >= 28) + (d.kind == "dehydration"))
                curve = base + (w.hr_target - base) * (1 - np.exp(-k / 6.0)) + drift
                curve += 4 * np.sin(k / 9.0) * r.uniform(0.5, 1)
                hr[a:b] = curve
                reg[a:b] = R_WORKOUT
                motion[a:b] = 2
                end_hr = curve[-1] if len(curve) else base
                tail = np.arange(min(30, i1 - b))
                hr[b : b + len(tail)] = base + (end_hr - base) * np.exp(-tail / 8.0)
            if d.flight:
                a, b = idx(d.flight[0]), idx(d.flight[1])
                hr[a:b] = d.rhr + 8
                motion[a:b] = 1
        # nights
        for nt in self.nights:
            day_before = self.days[nt.idx]
            rhr = day_before.rhr
            i_bed, i_on, i_wk, i_out = idx(nt.bed), idx(nt.onset), idx(nt.wake), idx(nt.outbed)
            hr[i_bed:i_on] = rhr + 3
            hr[i_wk:i_out] = rhr + 4
            reg[i_bed:i_out] = R_SLEEP
            motion[i_bed:i_out] = 0
            st = nt.stages
            L = len(st)
            prog = np.arange(L) / max(1, L - 1)
            base = rhr - 4 + 3.0 * ((prog - 0.6) / 0.6) ** 2 + nt.hr_offset
            off = np.select([st == DEEP, st == REM, st == AWAKE], [-3.0, 3.0, 1.0], 0.0)
            hr[i_on : i_on + L] = base + off
            stage[i_on : i_on + L] = st
            for ev in nt.events:
                for kern in ev.hr:
                    self.add_kernel(hr, kern)
                if ev.dense:
                    a, b = idx(ev.dense[0]), idx(ev.dense[1])
                    reg[a:b] = R_DENSE
                for s, e, _ in ev.steps:
                    motion[idx(s) : idx(e) + 1] = 2
        worn = np.ones(n, dtype=bool)
        worn[: idx(self.days[0].start)] = False
        for nt in self.nights:
            if nt.off:
                worn[idx(nt.off[0]) : idx(nt.off[1])] = False
        reg[~worn] = R_OFF
        stage[~worn] = NONE
        self.hr_mean, self.reg, self.motion, self.stage, self.worn = hr, reg, motion, stage, worn

    def add_kernel(self, hr: np.ndarray, kern: tuple) -> None:
        kind = kern[0]
        t = self.ep_t
        if kind == "cramp" or kind == "plateau":
            _, t0, ramp, rise, t_plat, tau = kern
            a = int((t0 - self.t0) // EPOCH_S)
            b = int((t_plat + 8 * tau - self.t0) // EPOCH_S) + 1
            tt = t[a:b].astype(float) + EPOCH_S  # value at the end of each epoch
            k = np.where(
                tt < t_plat,
                rise * np.clip((tt - t0) / ramp, 0, 1),
                rise * np.exp(-(tt - t_plat) / tau),
            )
            hr[a:b] += k
        elif kind == "bump":
            _, tc, width, rise = kern
            a = int((tc - 4 * width - self.t0) // EPOCH_S)
            b = int((tc + 4 * width - self.t0) // EPOCH_S) + 1
            tt = t[a:b].astype(float) + EPOCH_S / 2
            hr[a:b] += rise * np.exp(-0.5 * ((tt - tc) / width) ** 2)
