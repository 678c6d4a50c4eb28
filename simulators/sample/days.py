"""Days: sleep schedule, day kinds, walks and workouts, the latent fluid balance, the
morning scale reading and resting heart rate. Mixed into :class:`.sim.Sim`."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np

from .config import EPOCH_S
from .latent import Day, Night, Workout


class DaysMixin:
    """Day-level steps of :class:`.sim.Sim` (uses its streams ``r_sched``, ``r_day``, ``r_phys``)."""

    # ---------------------------------------------------------------------- schedule -------
    def schedule_sleep(self) -> None:
        r = self.r_sched
        p = self.p
        for i in range(self.n):
            ev = self.first + timedelta(days=i)
            first_la_night = bool(self.travel_dates) and ev == self.travel_dates[0]
            bed_h = float(np.clip(r.normal(p.bed_h, 0.35), 22.5, 24.5))
            if first_la_night:
                bed_h = 22.5  # jet lag: body clock three hours ahead
            zone = self.zone_for_date(ev, bed_h)
            bed = self.clock.to_utc(ev, bed_h, zone) + int(r.integers(0, 60))
            onset = bed + int(r.uniform(5, 25) * 60)
            dur_h = float(np.clip(r.normal(p.sleep_h, 0.5), 6.0, 8.5))
            wake = onset + int(dur_h * 3600 / EPOCH_S) * EPOCH_S
            outbed = wake + int(r.uniform(2, 15) * 60)
            old = i < self.old_era_nights
            self.nights.append(
                Night(i, ev, self.clock.zone_name(onset), bed, onset, wake, outbed, old)
            )
        for i in range(self.n + 1):
            d = self.first + timedelta(days=i)
            start = self.nights[i - 1].outbed if i > 0 else self.at_local(d, 7.0)
            end = self.nights[i].bed if i < self.n else self.t_end
            day = Day(i, d, start, end)
            day.travel = d in self.travel_dates[1:-1] if self.travel_dates else False
            self.days.append(day)
        if self.travel:
            dep, ret = self.travel_dates[0], self.travel_dates[-1]
            self.days[(dep - self.first).days].flight = self.flight_out
            self.days[(ret - self.first).days].flight = self.flight_back

    def day_tmax(self, d: Day) -> float:
        ts = np.arange(d.start, d.end, 1800)
        return max(self.outdoor_temp(float(t))[0] for t in ts)

    def choose_day_kinds(self) -> None:
        """Which days are dehydration, hot-but-hydrated and water-not-logged days."""
        r = self.r_sched
        # (participant constants are on self.p)
        for d in self.days:
            d.tmax_c = self.day_tmax(d)
            hot = [
                t for t in np.arange(d.start, d.end, 1800) if self.outdoor_temp(float(t))[0] >= 28
            ]
            d.heat_hours = len(hot) / 2.0
        usable = [d for d in self.days[1:-1] if not d.travel and d.flight is None]
        spell = [d for d in usable if d.date in self.weather.spell_days]
        hot_other = [d for d in usable if d.date == self.weather.extra_hot_day]
        n_dehyd = max(1, int(round(3 * self.n / 90)))
        chosen: list[Day] = []
        # dehydration: two days in the spell (not adjacent), then the extra hot day
        spell_sorted = sorted(spell, key=lambda d: -d.tmax_c)
        for d in spell_sorted:
            if len([c for c in chosen if c in spell]) >= min(2, n_dehyd):
                break
            if all(abs(d.idx - c.idx) >= 3 for c in chosen):
                chosen.append(d)
        if len(chosen) < min(2, n_dehyd):  # short spell: allow one day in between
            for d in spell_sorted:
                if len(chosen) < min(2, n_dehyd) and all(abs(d.idx - c.idx) >= 2 for c in chosen):
                    chosen.append(d)
        for d in hot_other:
            if len(chosen) < n_dehyd:
                chosen.append(d)
        for d in chosen:
            d.kind = "dehydration"
        # hot but well hydrated: other spell days with a workout in the heat
        # (never the day after a dehydration day: that one is for recovering)
        n_hyd = max(1, int(round(3 * self.n / 90)))
        hyd: list[Day] = []
        warm = [
            d
            for d in usable
            if d.kind == "normal"
            and d.tmax_c >= 28
            and all(d.idx - c.idx >= 2 or c.idx - d.idx >= 1 for c in chosen)
        ]
        for d in sorted(warm, key=lambda d: (d not in spell, -d.tmax_c)):
            if len(hyd) < n_hyd and all(abs(d.idx - h.idx) >= 2 for h in hyd):
                hyd.append(d)
        for d in hyd:
            d.kind = "hot_hydrated"
        # water simply not logged (one of them a warm workout day if there is one)
        rest = [
            d for d in usable if d.kind == "normal" and all(abs(d.idx - c.idx) >= 2 for c in chosen)
        ]
        n_nl = max(1, int(round(4 * self.n / 90)))
        warm = sorted(rest, key=lambda d: -d.tmax_c)[:3]
        picks = []
        if warm:
            picks.append(warm[int(r.integers(len(warm)))])
        pool = [d for d in rest if d not in picks]
        if pool:
            idx = r.choice(len(pool), size=min(len(pool), n_nl - len(picks)), replace=False)
            picks += [pool[int(k)] for k in sorted(idx)]
        for d in picks:
            d.kind = "water_not_logged"
            d.water_logged = False
        # food diary skipped on some days
        for d in self.days:
            d.minerals_logged = bool(r.random() > 0.1)

    def schedule_activity(self) -> None:
        r = self.r_day
        p = self.p
        for d in self.days:
            busy: list[tuple[int, int]] = []
            if d.flight:
                busy.append((d.flight[0] - 5400, d.flight[1] + 3600))
            # workouts
            acts: list[str] = []
            for act, per_week in p.workouts:
                if r.random() < per_week / 7.0:
                    acts.append(act)
            if d.travel:
                acts = ["Walking"] if r.random() < 0.7 else []
            if d.flight or d.idx == 0:
                acts = []
            if d.idx > 0 and self.days[d.idx - 1].kind == "dehydration":
                acts = []  # a recovery day after the dehydration day
            if d.kind in ("dehydration", "hot_hydrated"):
                acts = ["Cycling"] if p.pid == "p01" or r.random() < 0.6 else ["Walking"]
            if d.kind == "water_not_logged" and d.tmax_c >= 27 and not acts:
                acts = ["Walking"]
            acts = acts[:2]
            for k, act in enumerate(acts):
                w = self.make_workout(d, act, k, busy)
                if w:
                    d.workouts.append(w)
                    busy.append((w.start - 900, w.end + 900))
            # everyday walks (errands, dog, garden), non-overlapping
            n_walk = int(r.integers(4, 9)) if not d.flight else 2
            for _ in range(n_walk * 3):
                if len(d.walks) >= n_walk:
                    break
                dur = float(r.uniform(3, 22)) * 60
                lo, hi = d.start + 1800, d.end - 1800 - dur
                if hi <= lo:
                    break
                s = int(r.uniform(lo, hi))
                e = int(s + dur)
                if any(s < b1 + 300 and e > b0 - 300 for b0, b1 in busy):
                    continue
                spm = float(r.uniform(88, 112))
                d.walks.append((s, e, spm))
                busy.append((s, e))
            d.walks.sort()

    def make_workout(self, d: Day, act: str, k: int, busy) -> Workout | None:
        r = self.r_day
        p = self.p
        if d.kind in ("dehydration", "hot_hydrated"):
            hour = float(r.uniform(11.5, 13.5))
            minutes = float(r.uniform(140, 175)) if act == "Cycling" else float(r.uniform(150, 200))
        else:
            hot = d.tmax_c >= 28
            hour = (
                float(r.uniform(7.5, 9.5))
                if (hot or k == 0) and r.random() < 0.6
                else float(r.uniform(16.5, 18.5))
            )
            minutes = {
                "Cycling": r.uniform(55, 130),
                "Walking": r.uniform(40, 90),
                "Running": r.uniform(22, 38),
            }[act]
            minutes = float(minutes)
        s = self.at_local(d.date, hour) + int(r.integers(0, 600))
        e = s + int(minutes * 60)
        if s < d.start + 1800 or e > d.end - 1800:
            return None
        if any(s < b1 and e > b0 for b0, b1 in busy):
            return None
        kpm = {
            "Cycling": r.uniform(6.0, 7.6),
            "Walking": r.uniform(3.9, 4.8),
            "Running": r.uniform(8.5, 10.0),
        }[act]
        hrmax = p.hr_max_bpm
        frac = {
            "Cycling": r.uniform(0.74, 0.82),
            "Walking": r.uniform(0.64, 0.70),
            "Running": r.uniform(0.86, 0.91),
        }[act]
        mid = (s + e) / 2
        t, rh = self.outdoor_temp(mid)
        return Workout(
            act,
            s,
            e,
            float(kpm),
            float(frac * hrmax),
            True,
            t,
            rh,
            d.kind if d.kind in ("dehydration", "hot_hydrated") else "",
        )

    # ---------------------------------------------------------------------- fluids ---------
    @staticmethod
    def sweat_litres(kcal: float, temp_c: float, minutes: float) -> float:
        """Latent-heat estimate (detectors-science.md 2.1 fallback), clamped to 2.5 L/h.

        sweat_L = AEE_kcal * 0.8 * f_evap(Ta) / (580 * eta), eta = 0.7,
        f_evap = 0.6 at 20 degC rising linearly to 1.0 at 35 degC.
        """
        f_evap = min(1.0, max(0.6, 0.6 + 0.4 * (temp_c - 20.0) / 15.0))
        s = kcal * 0.8 * f_evap / (580.0 * 0.7)
        return min(s, 2.5 * minutes / 60.0)

    def fluid_balance(self) -> None:
        """Latent daily water balance; sets day.fluid, day.kind is the schedule's intent.

        Per day (litres):
          losses   = baseline_loss (EFSA AI: 2.0 F / 2.5 M, covers moderate temperature and
                     PAL 1.6) + diuretic_loss (thiazide) + workout sweat + 0.06 L per waking
                     hour with outdoor temperature >= 28 degC (passive heat sweat, no A/C)
          intake   = food_water + beverages
          beverages = habitual (losses at rest - food + 0.15 surplus, +/- noise)
                      + c * (workout sweat + heat sweat)   c ~ U(0.85, 1.05) normally
                      + 0.7 * deficit carried in from the previous day (thirst)
          On a designed dehydration day (hot, long outdoor workout) the person drinks only
          enough to end the day U(2.8, 3.6) % of body mass short (at least 0.4 L).
          deficit_end = max(0, deficit_start + losses - intake); the kidneys excrete any surplus.
        A day is a `dehydration` day in the ground truth when deficit_end >= 2 % of body mass.
        The next morning's true body mass is baseline - deficit (1 L = 1 kg).
        """
        r = self.r_phys
        p = self.p
        deficit = 0.0
        bm_base = p.body_mass_kg
        for d in self.days:
            bm_base = bm_base + 0.2 * (p.body_mass_kg - bm_base) + float(r.normal(0, 0.06))
            f: dict = {"bm_base_kg": bm_base, "deficit_start_l": deficit}
            sweat = sum(self.sweat_litres(w.kcal, w.temp_c, w.minutes) for w in d.workouts)
            heat = 0.06 * d.heat_hours
            base_loss = p.baseline_loss_l + p.diuretic_loss_l
            food = p.food_water_l + float(r.normal(0, 0.04))
            habitual = base_loss - food + 0.15 + float(r.normal(0, 0.12))
            c = float(r.uniform(0.85, 1.05))
            bev = habitual + c * (sweat + heat) + 0.7 * deficit
            if d.kind == "dehydration":
                target = float(r.uniform(0.028, 0.036)) * bm_base
                bev = max(0.4, deficit + base_loss + sweat + heat - food - target)
                while (
                    deficit + base_loss + sweat + heat - food - bev < 0.024 * bm_base and d.workouts
                ):
                    d.workouts[0].end += 600  # a longer ride until the day crosses the line
                    sweat = sum(self.sweat_litres(x.kcal, x.temp_c, x.minutes) for x in d.workouts)
            end = max(0.0, deficit + base_loss + sweat + heat - food - bev)
            f.update(
                sweat_l=sweat,
                heat_sweat_l=heat,
                baseline_loss_l=base_loss,
                food_water_l=food,
                beverages_l=bev,
                deficit_end_l=end,
                deficit_end_pct=100 * end / bm_base,
            )
            d.fluid = f
            deficit = end
        for d in self.days:
            if d.kind == "dehydration":
                assert d.fluid["deficit_end_pct"] >= 2.0, (self.p.pid, d.date)
            elif d.fluid["deficit_end_pct"] >= 2.0:  # pragma: no cover - by construction
                d.kind = "dehydration"

    def weigh_ins_and_rhr(self) -> None:
        """Morning scale readings and daily resting HR, from the latent deficit."""
        r = self.r_phys
        p = self.p
        measured: list[tuple[int, float]] = []  # (day idx, kg)
        rhr_hist: list[tuple[int, int]] = []
        for d in self.days:
            prev = self.days[d.idx - 1] if d.idx > 0 else None
            after_dehyd = prev is not None and prev.kind == "dehydration"
            deficit_morning = prev.fluid["deficit_end_l"] if prev else 0.0
            # resting HR
            base_rhr = p.rhr_bpm + float(r.normal(0, 0.6))
            eff = 0.0
            if after_dehyd:
                eff = max(2.6, 1.3 * 100 * deficit_morning / d.fluid["bm_base_kg"])
            rhr = int(round(base_rhr + eff + float(r.uniform(-0.4, 0.4))))
            hist = [v for k, v in rhr_hist if d.idx - 7 <= k < d.idx]
            if after_dehyd and len(hist) >= 3:
                rhr = max(rhr, int(math.ceil(float(np.median(hist)))) + 2)
            d.rhr = rhr
            rhr_hist.append((d.idx, rhr))
            # weigh-in: most mornings at home, always after a dehydration day
            if d.idx == 0 or d.travel or (d.flight and d.date != self.travel_dates[0]):
                continue
            if not after_dehyd and r.random() > 0.86:
                continue
            true = d.fluid["bm_base_kg"] - deficit_morning
            noise = float(np.clip(r.normal(0, 0.003), -0.008, 0.008))
            kg = true * (1 + noise)
            base = [v for k, v in measured if d.idx - 7 <= k < d.idx]
            if len(base) >= 3:
                med = float(np.median(base))
                drop = 100 * (med - kg) / med
                if after_dehyd and drop < 2.05:
                    kg = med * (1 - float(r.uniform(2.1, 2.5)) / 100)
                elif not after_dehyd and drop >= 1.5:
                    kg = med * (1 - float(r.uniform(0.0, 1.2)) / 100)
            d.weigh_ts = d.start + int(r.uniform(4, 35) * 60)
            if p.mass_unit == "lb":
                kg = round(kg / 0.45359237, 1) * 0.45359237  # typed in as lb with 1 decimal
            else:
                kg = round(kg, 2)
            d.bm_kg = kg
            measured.append((d.idx, kg))
