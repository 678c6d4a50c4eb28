"""Nights: the sleep-stage hypnogram and the scheduled events (nocturnal cramps and the
confounders a cramp detector must reject). Mixed into :class:`.sim.Sim`."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from .config import AWAKE, CORE, DEEP, EPOCH_S, REM
from .helpers import iso_utc
from .latent import Event, Night


class NightsMixin:
    """Night-level steps of :class:`.sim.Sim` (uses its stream ``r_night``)."""

    # ---------------------------------------------------------------------- nights ---------
    def hypnogram(self, night: Night) -> np.ndarray:
        r = self.r_night
        n_ep = (night.wake - night.onset) // EPOCH_S
        st = np.full(n_ep, CORE, dtype=np.int8)
        t = 0
        k = 0
        while t < n_ep:
            core1 = r.uniform(10, 25) if k == 0 else r.uniform(8, 20)
            deep = (
                max(0.0, r.normal(38 - 12 * k, 6))
                if k < 3
                else (r.uniform(0, 8) if r.random() < 0.3 else 0)
            )
            core2 = r.uniform(10, 25)
            rem = float(np.clip(r.normal(8 + 9 * k, 4), 3, 40))
            for stage, minutes in ((CORE, core1), (DEEP, deep), (CORE, core2), (REM, rem)):
                m = int(round(minutes * 2))
                st[t : t + m] = stage
                t += m
            k += 1
        return st

    def schedule_nights(self) -> None:
        r = self.r_night
        p = self.p
        n = self.n
        nights = self.nights
        # watch off: 2 whole nights (charging overnight), 3 partial windows
        n_whole = max(1, int(round(2 * n / 90))) if n >= 10 else 0
        n_part = max(1, int(round(3 * n / 90)))
        cand = [nt for nt in nights[1:-1] if nt.evening not in self.travel_dates]
        pick = r.choice(len(cand), size=min(len(cand), n_whole + n_part), replace=False)
        for j, k in enumerate(sorted(int(x) for x in pick)):
            nt = cand[k]
            if j < n_whole:
                nt.whole_off = True
                nt.off = (
                    nt.bed - int(r.uniform(20, 60) * 60),
                    nt.outbed + int(r.uniform(10, 40) * 60),
                )
            else:
                hours = float(r.uniform(2, 5))
                if r.random() < 0.5:  # put it on late after charging
                    nt.off = (nt.bed - int(r.uniform(15, 45) * 60), nt.onset + int(hours * 3600))
                else:  # battery died in the small hours
                    nt.off = (nt.wake - int(hours * 3600), nt.outbed + int(r.uniform(5, 20) * 60))
        for nt in nights:
            nt.stages = self.hypnogram(nt)
            day = self.days[nt.idx]
            tmin = min(self.outdoor_temp(float(t))[0] for t in range(nt.onset, nt.wake, 1800))
            nt.tmin_c = tmin
            nt.hr_offset = min(3.0, 0.4 * max(0.0, tmin - 16.0))
            if day.kind == "dehydration":
                nt.hr_offset += 1.2 * day.fluid["deficit_end_pct"]
        # cramp nights: a latent hazard (heat, dehydration, hard workouts), see README
        usable = [nt for nt in nights if not nt.whole_off]
        weights = []
        for nt in usable:
            day = self.days[nt.idx]
            wgt = 1.0 + 2.5 * (day.kind == "dehydration") + 1.0 * (day.tmax_c >= 30)
            wgt += 0.5 * (sum(w.kcal for w in day.workouts) >= 500)
            weights.append(wgt)
        wts = np.array(weights) / sum(weights)
        k_cramp = int(round(r.uniform(10, 15) * n / 90))
        k_cramp = max(2 if n >= 7 else 1, min(k_cramp, len(usable)))
        forced: list[tuple[Night, int | None]] = []
        dst_ts = int(datetime(2025, 11, 2, 6, 20, tzinfo=UTC).timestamp())  # 01:20 EST, 2nd 1 am
        for nt in usable:
            if p.tz == "America/New_York" and nt.onset + 5400 < dst_ts < nt.wake - 3600:
                forced.append((nt, dst_ts))
        if self.travel_dates and len(self.travel_dates) > 2:
            la = [nt for nt in usable if nt.evening == self.travel_dates[2]]
            forced += [(nt, None) for nt in la]
        picked = [nt for nt, _ in forced]
        order = r.choice(len(usable), size=len(usable), replace=False, p=wts)
        for k in order:
            if len(picked) >= k_cramp:
                break
            if usable[int(k)] not in picked:
                picked.append(usable[int(k)])
        n_double = max(1, int(round(len(picked) * 0.2))) if len(picked) >= 4 else 0
        doubles = (
            set(int(x) for x in r.choice(len(picked), size=n_double, replace=False))
            if n_double
            else set()
        )
        pref = dict((id(nt), t) for nt, t in forced)
        # restless nights
        k_rest = max(1, int(round(r.uniform(5, 8) * n / 90)))
        rest_pool = [nt for nt in usable if nt not in picked]
        rest_nights = set()
        if rest_pool:
            sel = r.choice(len(rest_pool), size=min(k_rest, len(rest_pool)), replace=False)
            rest_nights = {rest_pool[int(k)].idx for k in sel}
        for nt in nights:
            if nt.whole_off:
                ev = Event("watch_off", nt.off[0], nt.off[1], detail={"whole_night": True})
                nt.events.append(ev)
                continue
            if nt.off:
                nt.events.append(
                    Event(
                        "watch_off",
                        nt.off[0],
                        nt.off[1],
                        detail={
                            "whole_night": False,
                            "hours": round((nt.off[1] - nt.off[0]) / 3600, 2),
                        },
                    )
                )
            if nt.idx in rest_nights:
                self.place_restless(nt)
            if nt in picked:
                i = picked.index(nt)
                self.place_cramp(nt, pref.get(id(nt)))
                if i in doubles:
                    self.place_cramp(nt, None)
            for _ in range(min(2, int(r.poisson(p.bathroom_rate)))):
                self.place_bathroom(nt)
            for _ in range(min(3, int(r.poisson(0.8)))):
                self.place_rollover(nt)
        # cramps that failed to be placed (rare) are simply absent: recount from events

    # footprint bookkeeping
    def free(self, nt: Night, s: int, e: int, gap: int = 900) -> bool:
        if s < nt.onset + 2700 or e > nt.wake - 2700:
            return False
        if nt.off and s < nt.off[1] + gap and e > nt.off[0] - gap:
            return False
        for ev in nt.events:
            if ev.kind == "watch_off":
                continue
            a0 = min([ev.start] + [w[0] for w in ev.awake])
            a1 = max([ev.end] + [w[1] for w in ev.awake] + ([ev.dense[1]] if ev.dense else []))
            if s < a1 + gap and e > a0 - gap:
                return False
        return True

    def epoch_at(self, nt: Night, ts: int) -> int:
        return (ts - nt.onset) // EPOCH_S

    def set_awake(self, nt: Night, s: int, e: int, resume_core_min: float) -> tuple[int, int]:
        i0 = self.epoch_at(nt, s)
        i1 = self.epoch_at(nt, e)
        nt.stages[i0:i1] = AWAKE
        j = i1 + int(resume_core_min * 2)
        seg = nt.stages[i1:j]
        seg[seg != AWAKE] = CORE
        return nt.onset + i0 * EPOCH_S, nt.onset + i1 * EPOCH_S

    def rand_start(self, nt: Night, span: int) -> int:
        lo = nt.onset + 2700
        hi = nt.wake - 2700 - span
        if hi <= lo:
            return -1
        k = int(self.r_night.integers((lo - nt.onset) // EPOCH_S, (hi - nt.onset) // EPOCH_S))
        return nt.onset + k * EPOCH_S

    def place_cramp(self, nt: Night, preferred: int | None) -> None:
        r = self.r_night
        cramp_min = float(r.uniform(2.0, 8.0))
        awake_min = float(np.clip(cramp_min + r.uniform(2.0, 5.0), 4.0, 10.0))
        awake_ep = int(round(awake_min * 2))
        span = awake_ep * EPOCH_S + 40 * 60
        tries = []
        if preferred is not None:
            base = nt.onset + ((preferred - nt.onset) // EPOCH_S) * EPOCH_S
            tries = [base + k * EPOCH_S * sgn for k in range(0, 60) for sgn in (1, -1)]
        for _ in range(400):
            tries.append(self.rand_start(nt, span))
        for s in tries:
            if s < 0:
                continue
            i = self.epoch_at(nt, s)
            if i < 4 or i + awake_ep >= len(nt.stages):
                continue
            # out of core/deep sleep, asleep for the last 2 minutes
            if nt.stages[i] not in (CORE, DEEP) or not np.all(
                np.isin(nt.stages[i - 4 : i], (CORE, DEEP, REM))
            ):
                continue
            e_aw = s + awake_ep * EPOCH_S
            if not self.free(nt, s, e_aw + 15 * 60):
                continue
            a0, a1 = self.set_awake(nt, s, e_aw, float(r.uniform(10, 20)))
            onset = a0 + int(r.integers(0, 26))
            end = onset + int(cramp_min * 60)
            end = min(end, a1 - 60)
            rise = float(r.uniform(15, 30))
            plateau_end = onset + max(300, end - onset + 60) + int(r.uniform(0, 60))
            tau = float(r.uniform(240, 480))
            st0 = onset + int(r.uniform(20, 60))
            st1 = min(end - 5, st0 + int(r.uniform(60, 120)))
            steps = int(r.integers(5, 31))
            muscle = str(r.choice(["calf", "foot", "thigh"], p=[0.75, 0.18, 0.07]))
            side = str(r.choice(["left", "right", "both"], p=[0.45, 0.45, 0.10]))
            sev = int(r.integers(4, 10))
            ev = Event(
                "nocturnal_cramp",
                onset,
                end,
                awake=[(a0, a1)],
                steps=[(st0, st1, steps)],
                kcal=[(onset, end, float(r.uniform(1.0, 3.0)))],
                dense=(onset + int(r.uniform(35, 55)), a1 + 600),
                hr=[("cramp", onset, float(r.uniform(15, 30)), rise, plateau_end, tau)],
                detail={
                    "muscle": muscle,
                    "body_side": side,
                    "severity": sev,
                    "hr_rise_bpm": round(rise, 1),
                    "steps": steps,
                    "awake_start_utc": iso_utc(a0),
                    "awake_end_utc": iso_utc(a1),
                    "stage_before": {CORE: "core", DEEP: "deep"}[
                        int(nt.stages[self.epoch_at(nt, s) - 1])
                    ]
                    if nt.stages[self.epoch_at(nt, s) - 1] in (CORE, DEEP)
                    else "core",
                },
            )
            nt.events.append(ev)
            return

    def place_bathroom(self, nt: Night) -> None:
        r = self.r_night
        awake_min = float(r.uniform(3.0, 15.0))
        awake_ep = int(round(awake_min * 2))
        for _ in range(300):
            s = self.rand_start(nt, awake_ep * EPOCH_S + 600)
            if s < 0:
                return
            e = s + awake_ep * EPOCH_S
            if not self.free(nt, s, e + 300):
                continue
            a0, a1 = self.set_awake(nt, s, e, float(r.uniform(2, 6)))
            total = int(r.integers(60, 151))
            n1 = int(total * r.uniform(0.42, 0.58))
            w1s = a0 + int(r.uniform(20, 60))
            w1e = w1s + int(r.uniform(40, 90))
            w2e = a1 - int(r.uniform(20, 50))
            w2s = w2e - int(r.uniform(40, 90))
            if w2s <= w1e + 30:
                w2s = w1e + 30
                w2e = max(w2e, w2s + 40)
            rise = float(r.uniform(5, 10))
            ev = Event(
                "bathroom_trip",
                a0,
                a1,
                awake=[(a0, a1)],
                steps=[(w1s, w1e, n1), (w2s, w2e, total - n1)],
                kcal=[(w1s, w1e, float(r.uniform(1.5, 3))), (w2s, w2e, float(r.uniform(1.5, 3)))],
                dense=(w1s, a1 + 180),
                hr=[("plateau", w1s, 60.0, rise, a1, float(r.uniform(90, 150)))],
                detail={"steps": total, "hr_rise_bpm": round(rise, 1)},
            )
            nt.events.append(ev)
            return

    def place_rollover(self, nt: Night) -> None:
        r = self.r_night
        phone = r.random() < 0.25
        awake_min = float(r.uniform(5, 20)) if phone else float(r.uniform(1, 4))
        awake_ep = max(2, int(round(awake_min * 2)))
        for _ in range(200):
            s = self.rand_start(nt, awake_ep * EPOCH_S + 300)
            if s < 0:
                return
            e = s + awake_ep * EPOCH_S
            if not self.free(nt, s, e, gap=600):
                continue
            a0, a1 = self.set_awake(nt, s, e, float(r.uniform(1, 4)))
            bump = float(r.uniform(2, 4)) if phone else float(r.uniform(0, 2))
            ev = Event(
                "rollover",
                a0,
                a1,
                awake=[(a0, a1)],
                hr=[("bump", a0 + 30, 60.0 if not phone else 300.0, bump)],
                detail={
                    "variant": "phone_reading" if phone else "rollover",
                    "hr_rise_bpm": round(bump, 1),
                },
            )
            nt.events.append(ev)
            return

    def place_restless(self, nt: Night) -> None:
        r = self.r_night
        win_min = float(r.uniform(60, 150))
        for _ in range(200):
            s = self.rand_start(nt, int(win_min * 60))
            if s < 0:
                return
            e = s + int(win_min * 60)
            if not self.free(nt, s, e, gap=900):
                continue
            t = s
            awake = []
            kernels = []
            extra = []
            while True:
                dur_ep = int(r.integers(2, 5))
                if t + dur_ep * EPOCH_S > e:
                    break
                a0, a1 = self.set_awake(nt, t, t + dur_ep * EPOCH_S, 1.0)
                awake.append((a0, a1))
                bump = float(r.uniform(3, 8))
                kernels.append(("bump", a0 + 30, 40.0, bump))
                if r.random() < 0.5:
                    extra.append(a0 + 30 + int(r.integers(-10, 25)))
                t = a1 + int(r.uniform(4, 15) * 60) // EPOCH_S * EPOCH_S
            if len(awake) < 5:
                continue
            ev = Event(
                "restless_night",
                awake[0][0],
                awake[-1][1],
                awake=awake,
                hr=kernels,
                extra_hr_samples=extra,
                detail={
                    "awakenings": len(awake),
                    "awakening_min": round(sum(b - a for a, b in awake) / 60, 1),
                },
            )
            nt.events.append(ev)
            return
