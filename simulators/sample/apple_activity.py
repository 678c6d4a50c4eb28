"""Apple Health records of activity: watch heart rate, steps and distance (watch and phone),
active and basal energy, cycling distance, workouts. Mixed into :class:`.apple_xml.Export`."""

from __future__ import annotations

import numpy as np

from .config import EPOCH_S, HK, R_DAY, R_DENSE, R_OFF, R_SLEEP, R_WORKOUT
from .helpers import num


class ActivityRecordsMixin:
    """Activity writers of :class:`.apple_xml.Export`."""

    def heart_rate(self) -> None:
        """Watch HR samples: ~5 min asleep, 3-7 min by day, ~1/min in night wake windows with
        movement, every 8-12 s in workouts; none while the watch is off."""
        s = self.sim
        r = self.r
        reg, worn = s.reg, s.worn
        n_ep = s.n_ep
        t0 = s.t0
        ep = np.arange(n_ep)
        nxt_on = np.minimum.accumulate(np.where(worn, ep, n_ep)[::-1])[::-1].tolist()
        busy = (reg == R_DENSE) | (reg == R_WORKOUT)
        nxt_busy = np.minimum.accumulate(np.where(busy, ep, n_ep)[::-1])[::-1].tolist() + [n_ep]
        reg_l = reg.tolist()
        lo_hi = {R_SLEEP: (240, 361), R_DAY: (180, 421), R_DENSE: (45, 76), R_WORKOUT: (10, 17)}
        times: list[int] = []
        t = s.days[0].start + r.integers(30, 240)
        t_stop = s.t_end - 60
        while t < t_stop:
            i = (t - t0) // EPOCH_S
            if i >= n_ep:
                break
            g = reg_l[i]
            if g == R_OFF:
                j = nxt_on[i]
                t = t0 + j * EPOCH_S + r.integers(20, 200)
                continue
            times.append(t)
            lo, hi = lo_hi[g]
            step = r.integers(lo, hi)
            if g == R_SLEEP or g == R_DAY:
                # do not step over the start of a dense window or a workout
                k = nxt_busy[i + 1]
                if k < n_ep and t + step >= t0 + k * EPOCH_S:
                    step = max(5, t0 + k * EPOCH_S - t + r.integers(0, 20))
            t += step
        for nt in s.nights:
            for ev in nt.events:
                times.extend(ev.extra_hr_samples)
        tt = np.array(sorted(set(times)), dtype=np.int64)
        ii = np.clip((tt - t0) // EPOCH_S, 0, n_ep - 1)
        keep = worn[ii]
        tt, ii = tt[keep], ii[keep]
        mean = np.interp(tt.astype(float), s.ep_t.astype(float) + EPOCH_S / 2, s.hr_mean)
        g = reg[ii]
        sd = np.select([g == R_SLEEP, g == R_DENSE, g == R_WORKOUT], [1.4, 1.6, 2.0], 2.6)
        val = mean + r.normal(0, 1, len(tt)) * sd
        # PPG artefacts: a single spurious high reading on about one night in three
        art_idx = []
        for nt in s.nights:
            if nt.whole_off or r.random() > 0.33:
                continue
            ok = (tt > nt.onset + 3600) & (tt < nt.wake - 3600) & (g == R_SLEEP)
            for ev in nt.events:  # never near a labelled event: an artefact has no wake
                a0 = min([ev.start] + [w[0] for w in ev.awake])
                a1 = max([ev.end] + [w[1] for w in ev.awake])
                ok &= (tt < a0 - 1800) | (tt > a1 + 1800)
            cand = np.nonzero(ok)[0]
            if len(cand):
                k = int(cand[r.integers(0, len(cand))])
                val[k] += r.uniform(20, 35)
                art_idx.append(k)
        s.ppg_artefacts = [int(tt[k]) for k in art_idx]
        # values: mostly whole numbers, some with 4 decimals as Apple writes them
        fractional = (r.random_array(len(tt)) < 0.08).tolist()
        vals = [
            num(v, 4) if f else str(int(round(v)))
            for v, f in zip(val.tolist(), fractional, strict=True)
        ]
        # creation: a few minutes after the sample; workout samples are saved at the end
        wk_end = np.array(
            sorted(w.end for d in s.days for w in d.workouts) + [s.t_end], dtype=np.int64
        )
        created = tt + r.integers_array(5, 300, len(tt))
        in_wk = g == R_WORKOUT
        created[in_wk] = wk_end[np.searchsorted(wk_end, tt[in_wk])] + r.integers_array(
            10, 60, int(in_wk.sum())
        )
        mot = s.motion[ii]
        ctx = np.where((g == R_SLEEP) | (g == R_DENSE), 0, np.where((mot == 2) | in_wk, 2, 1))
        metas = [self.meta("HKMetadataKeyHeartRateMotionContext", str(c)) for c in range(3)]
        for t, v, c, m in zip(tt.tolist(), vals, created.tolist(), ctx.tolist(), strict=True):
            self.watch_rec("HeartRate", "count/min", t, t, v, c, metas[m])
        self.hr_times = tt
        self.hr_vals = val

    def steps_distance_energy(self) -> None:
        s = self.sim
        r = self.r
        p = self.p
        per_km = 1.0 if p.dist_unit == "km" else 1 / 1.609344
        # watch steps: walks and workouts chunked; small shuffles through the day; night events
        step_chunks: list[tuple[int, int, int]] = []
        phone_chunks: list[tuple[int, int, int]] = []
        for d in s.days:
            bouts = [(a, b, spm, "walk") for a, b, spm in d.walks]
            for w in d.workouts:
                if w.activity in ("Walking", "Running"):
                    spm = (
                        float(r.uniform(100, 115))
                        if w.activity == "Walking"
                        else float(r.uniform(150, 165))
                    )
                    bouts.append((w.start, w.end, spm, w.activity))
            for a, b, spm, kind in bouts:
                t = a
                while t < b:
                    e = min(b, t + int(r.integers(60, 480)))
                    cnt = int(round(spm * (e - t) / 60 * float(r.uniform(0.92, 1.05))))
                    if cnt > 0:
                        step_chunks.append((t, e, cnt))
                    t = e + int(r.integers(0, 20))
                if kind != "Running" and r.random() < 0.7 and not s.clock.zone_name(a) != p.tz:
                    t = a + int(r.integers(0, 60))
                    while t < b:
                        e = min(b, t + int(r.integers(300, 700)))
                        cnt = int(round(spm * (e - t) / 60 * float(r.uniform(0.9, 1.08))))
                        if cnt > 0:
                            phone_chunks.append((t, e, cnt))
                        t = e + int(r.integers(5, 60))
            # shuffles: a few each waking hour, avoiding walks and workouts
            busy = [(a, b) for a, b, _, _ in bouts]
            if d.flight:
                busy.append(d.flight)
            t = d.start + int(r.integers(60, 600))
            while t < d.end - 300:
                e = t + int(r.integers(40, 200))
                if not any(t < b1 + 60 and e > b0 - 60 for b0, b1 in busy):
                    step_chunks.append((t, e, int(r.integers(8, 70))))
                t = e + int(r.integers(600, 1500))
        for nt in s.nights:
            for ev in nt.events:
                for a, b, cnt in ev.steps:
                    step_chunks.append((a, b, cnt))
        worn = s.worn

        def is_worn(t):
            i = (t - s.t0) // EPOCH_S
            return 0 <= i < s.n_ep and bool(worn[i])

        step_chunks = [c for c in step_chunks if is_worn(c[0]) and is_worn(c[1])]
        step_chunks.sort()
        for a, b, cnt in step_chunks:
            self.watch_rec("StepCount", "count", a, b, str(cnt))
            dist = cnt * p.stride_m * float(r.uniform(0.95, 1.05)) / 1000 * per_km
            self.watch_rec("DistanceWalkingRunning", p.dist_unit, a, b, num(dist, 5))
        for a, b, cnt in sorted(phone_chunks):
            dev = self.device("phone", a)
            created = b + int(r.integers(1, 120))
            self.rec("StepCount", p.phone, p.phone_sw, dev, "count", created, a, b, str(cnt))
            dist = cnt * p.stride_m * float(r.uniform(0.93, 1.07)) / 1000 * per_km
            self.rec(
                "DistanceWalkingRunning",
                p.phone,
                p.phone_sw,
                dev,
                p.dist_unit,
                created,
                a,
                b,
                num(dist, 5),
            )
        self.step_chunks = step_chunks
        # active energy: contiguous chunks through each waking day, 1-min chunks in workouts
        act_by_date: dict[str, float] = {}
        ex_by_date: dict[str, float] = {}
        stand_by_date: dict[str, set] = {}

        def add_active(a, b, kcal):
            if kcal <= 0 or not is_worn(a) or not is_worn(b):
                return
            self.watch_rec("ActiveEnergyBurned", "kcal", a, b, num(kcal, 3))
            key = s.clock.local(a).date().isoformat()
            act_by_date[key] = act_by_date.get(key, 0.0) + kcal

        for d in s.days:
            walks = [(a, b, 4.0) for a, b, _ in d.walks]
            wks = [(w.start, w.end, w.kcal_per_min) for w in d.workouts]
            t = d.start
            for a, b, rate in sorted(walks + wks):
                while t < a - 60:
                    e = min(a, t + int(r.integers(240, 900)))
                    add_active(t, e, (e - t) / 60 * float(r.uniform(0.18, 0.45)))
                    t = e
                step = 60 if (a, b, rate) in wks else int(r.integers(120, 300))
                t = a
                while t < b:
                    e = min(b, t + step)
                    add_active(t, e, (e - t) / 60 * rate * float(r.uniform(0.9, 1.1)))
                    t = e
                key = s.clock.local(a).date().isoformat()
                if (a, b, rate) in wks or rate >= 4.0:
                    ex_by_date[key] = ex_by_date.get(key, 0.0) + (b - a) / 60 * (
                        1.0 if (a, b, rate) in wks else 0.6
                    )
            while t < d.end - 60:
                e = min(d.end, t + int(r.integers(240, 900)))
                add_active(t, e, (e - t) / 60 * float(r.uniform(0.15, 0.4)))
                t = e
        for nt in s.nights:
            for ev in nt.events:
                for a, b, kcal in ev.kcal:
                    add_active(a, b, kcal)
        for a, _b, _cnt in step_chunks:
            key = s.clock.local(a).date().isoformat()
            stand_by_date.setdefault(key, set()).add(s.clock.local(a).hour)
        # basal energy: 30-min chunks around the clock while the watch is worn
        t = s.days[0].start - s.days[0].start % 1800 + 1800
        rate = s.bmr_kcal / 48.0
        while t + 1800 <= s.t_end:
            if is_worn(t) and is_worn(t + 1799):
                self.watch_rec(
                    "BasalEnergyBurned",
                    "kcal",
                    t,
                    t + 1800,
                    num(rate * float(r.uniform(0.97, 1.03)), 3),
                )
            t += 1800
        # distance cycling (watch) in ~3-min chunks
        for d in s.days:
            for w in d.workouts:
                if w.activity != "Cycling":
                    continue
                t = w.start
                while t < w.end:
                    e = min(w.end, t + int(r.integers(120, 240)))
                    km = (e - t) / 3600 * float(r.uniform(17, 23))
                    self.watch_rec("DistanceCycling", p.dist_unit, t, e, num(km * per_km, 5))
                    t = e
        self.act_by_date, self.ex_by_date, self.stand_by_date = (
            act_by_date,
            ex_by_date,
            stand_by_date,
        )

    def workouts_xml(self) -> None:
        s = self.sim
        r = self.r
        p = self.p
        f = self.c.fmt
        per_km = 1.0 if p.dist_unit == "km" else 1 / 1.609344
        for d in s.days:
            for w in d.workouts:
                dev = self.device("watch", w.start)
                created = w.end + int(r.integers(5, 90))
                dur = (w.end - w.start) / 60 - float(r.uniform(0, 0.05))
                m = (self.hr_times >= w.start) & (self.hr_times <= w.end)
                hrs = self.hr_vals[m]
                kcal = w.kcal * float(r.uniform(0.97, 1.03))
                basal = s.bmr_kcal / 1440 * (w.end - w.start) / 60
                if w.activity == "Cycling":
                    dist_km = (w.end - w.start) / 3600 * 20.0
                    dist_type = "DistanceCycling"
                elif w.activity == "Walking":
                    dist_km = (w.end - w.start) / 60 * 105 * p.stride_m / 1000
                    dist_type = "DistanceWalkingRunning"
                else:
                    dist_km = (w.end - w.start) / 60 * 158 * p.stride_m * 1.35 / 1000
                    dist_type = "DistanceWalkingRunning"
                tz = s.clock.zone_name(w.start)
                temp = w.temp_c if p.dist_unit == "km" else w.temp_c * 9 / 5 + 32
                tunit = "degC" if p.dist_unit == "km" else "degF"
                met = (w.kcal_per_min * 60 + s.bmr_kcal / 24) / p.body_mass_kg
                lines = [
                    f' <Workout workoutActivityType="HKWorkoutActivityType{w.activity}" '
                    f'duration="{num(dur, 10)}" durationUnit="min" sourceName="{p.watch}" '
                    f'sourceVersion="{self.watch_version(w.start)}" device="{dev}" '
                    f'creationDate="{f(created)}" startDate="{f(w.start)}" endDate="{f(w.end)}">\n',
                    self.meta("HKIndoorWorkout", "0"),
                    self.meta("HKTimeZone", tz),
                    self.meta("HKWeatherTemperature", f"{temp:.0f} {tunit}"),
                    self.meta("HKWeatherHumidity", f"{w.rh_pct:.0f} %"),
                    self.meta("HKAverageMETs", f"{met:.5f} kcal/hr\u00b7kg"),
                ]
                fs, fe = f(w.start), f(w.end)
                lines.append(
                    f'  <WorkoutStatistics type="{HK}ActiveEnergyBurned" startDate="{fs}" '
                    f'endDate="{fe}" sum="{num(kcal, 6)}" unit="kcal"/>\n'
                )
                lines.append(
                    f'  <WorkoutStatistics type="{HK}BasalEnergyBurned" startDate="{fs}" '
                    f'endDate="{fe}" sum="{num(basal, 6)}" unit="kcal"/>\n'
                )
                lines.append(
                    f'  <WorkoutStatistics type="{HK}{dist_type}" startDate="{fs}" '
                    f'endDate="{fe}" sum="{num(dist_km * per_km, 6)}" unit="{p.dist_unit}"/>\n'
                )
                if len(hrs):
                    lines.append(
                        f'  <WorkoutStatistics type="{HK}HeartRate" startDate="{fs}" '
                        f'endDate="{fe}" average="{num(float(np.mean(hrs)), 4)}" '
                        f'minimum="{round(float(np.min(hrs)))}" '
                        f'maximum="{round(float(np.max(hrs)))}" unit="count/min"/>\n'
                    )
                lines.append(" </Workout>\n")
                self.workouts.append((w.start, "".join(lines)))
