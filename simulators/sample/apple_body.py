"""Apple Health records of sleep and the body: sleep stages, body mass (Withings or typed
in), water and food diary, resting HR and HRV with beat lists. Mixed into
:class:`.apple_xml.Export`."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np

from .config import (
    ASLEEP_OLD,
    CORE,
    DEEP,
    EPOCH_S,
    GLASSES_ML,
    HK,
    IN_BED,
    NONE,
    R_DENSE,
    R_WORKOUT,
    REM,
    STAGE_VALUE,
)
from .helpers import num


class BodyRecordsMixin:
    """Sleep and body writers of :class:`.apple_xml.Export`."""

    def sleep(self) -> None:
        s = self.sim
        r = self.r
        p = self.p
        for nt in s.nights:
            tz = nt.zone
            tzmeta = self.meta("HKTimeZone", tz)
            created_m = nt.outbed + int(r.integers(60, 1800))
            # InBed from the phone (sleep schedule), also on watch-off nights
            self.rec(
                "SleepAnalysis",
                p.phone,
                p.phone_sw,
                None,
                None,
                created_m,
                nt.bed,
                nt.outbed,
                IN_BED,
                tzmeta,
            )
            if nt.whole_off:
                continue
            st = nt.stages.copy()
            ep_abs = nt.onset + EPOCH_S * np.arange(len(st))
            if nt.off:
                st[(ep_abs + EPOCH_S > nt.off[0]) & (ep_abs < nt.off[1])] = NONE
            runs = []
            i = 0
            L = len(st)
            if nt.old_style:
                asleep = np.isin(st, (CORE, DEEP, REM))
                while i < L:
                    j = i
                    while j < L and asleep[j] == asleep[i]:
                        j += 1
                    if asleep[i]:
                        runs.append((i, j, ASLEEP_OLD))
                    i = j
            else:
                while i < L:
                    j = i
                    while j < L and st[j] == st[i]:
                        j += 1
                    if st[i] != NONE:
                        runs.append((i, j, STAGE_VALUE[int(st[i])]))
                    i = j
            for a, b, val in runs:
                self.watch_rec(
                    "SleepAnalysis",
                    None,
                    nt.onset + a * EPOCH_S,
                    nt.onset + b * EPOCH_S,
                    val,
                    created=created_m + int(r.integers(0, 30)),
                    children=tzmeta,
                )

    def body_mass(self) -> None:
        s = self.sim
        r = self.r
        p = self.p
        for d in s.days:
            if d.bm_kg is None:
                continue
            t = d.weigh_ts
            if p.mass_unit == "lb":
                v = num(d.bm_kg / 0.45359237, 1)
                self.rec(
                    "BodyMass",
                    "Health",
                    p.phone_sw,
                    None,
                    "lb",
                    t + int(r.integers(20, 400)),
                    t,
                    t,
                    v,
                    self.meta("HKWasUserEntered", "1"),
                )
            else:
                created = t + int(r.integers(30, 900))
                epoch = t
                kids = (
                    self.meta("Health Mate App Version", "6.9.1")
                    + self.meta("Withings User Identifier", "31415926")
                    + self.meta(
                        "Modified Date",
                        datetime.fromtimestamp(t + 7, UTC).strftime("%Y-%m-%d %H:%M:%S +0000"),
                    )
                    + self.meta(
                        "Withings Link",
                        f"withings-bd2://timeline/measure?userid=31415926&date={epoch}&type=1",
                    )
                    + self.meta("HKWasUserEntered", "0")
                )
                self.rec(
                    "BodyMass",
                    "Health Mate",
                    "6090100",
                    None,
                    "kg",
                    created,
                    t,
                    t,
                    num(d.bm_kg, 2),
                    kids,
                )

    def diet(self) -> None:
        s = self.sim
        r = self.r
        p = self.p
        app, ver = p.water_app
        self.water_logged: dict[str, float] = {}
        for d in s.days:
            f = d.fluid
            if not d.water_logged:
                f["beverages_logged_l"] = None
                continue
            logged = f["beverages_l"] * float(r.uniform(0.80, 0.95))
            # glasses and bottles until the logged amount is reached
            sizes: list[int] = []
            left = logged * 1000
            while left >= 60:
                ml = GLASSES_ML[r.integers(0, len(GLASSES_ML))]
                ml = min(ml, int(round(left / 10.0)) * 10)
                sizes.append(ml)
                left -= ml
            times = np.sort(r.g.uniform(d.start + 600, d.end - 900, len(sizes))).astype(int)
            tot = 0
            for t, ml in zip(times, sizes, strict=True):
                tot += ml
                t = int(t)
                text = (
                    f' <Record type="{HK}DietaryWater" value="{ml}" unit="mL" sourceName="{app}"'
                    f' sourceVersion="{ver}" startDate="{self.c.fmt(t)}" endDate="{self.c.fmt(t)}"/>\n'
                )
                self.add("DietaryWater", t, text)
            f["beverages_logged_l"] = tot / 1000
        # minerals from a food diary, three meals a day
        base = {"p01": (260, 780, 2500, 3.5), "p02": (290, 900, 2700, 4.5)}[p.pid]
        meals = (("Breakfast", 7.8, 0.25), ("Lunch", 12.8, 0.35), ("Dinner", 18.9, 0.40))
        for d in s.days[1:]:
            if not d.minerals_logged:
                continue
            for name, hour, share in meals:
                t = s.at_local(d.date, hour) + int(r.integers(-1800, 1800))
                if not (d.start < t < d.end):
                    continue
                if name == "Dinner" and r.random() < 0.3:
                    name = "Dinner & snacks"
                mg, ca, k, vd = [b * share * float(r.uniform(0.7, 1.3)) for b in base]
                created = t + int(r.integers(60, 3600))
                kids = self.meta("Meal", name)
                for short, unit, v, nd in (
                    ("DietaryCalcium", "mg", ca, 1),
                    ("DietaryMagnesium", "mg", mg, 1),
                    ("DietaryPotassium", "mg", k, 1),
                    ("DietaryVitaminD", "mcg", vd, 2),
                ):
                    self.rec(
                        short, "Cronometer", "3.32.1", None, unit, created, t, t, num(v, nd), kids
                    )

    def rhr_hrv(self) -> None:
        s = self.sim
        r = self.r
        p = self.p
        tt = self.hr_times
        for d in s.days:
            m = (tt >= d.start) & (tt < d.end)
            if m.sum() < 20 or d.rhr is None:
                continue
            a, b = int(tt[m][0]), int(tt[m][-1])
            self.watch_rec(
                "RestingHeartRate",
                "count/min",
                a,
                b,
                str(d.rhr),
                created=b + int(r.integers(60, 1200)),
            )
        # HRV SDNN: 1-2 during sleep, 2-3 by day; beats list for the 1-minute window
        locale_us = p.locale == "en_US"
        for d in s.days:
            nt = s.nights[d.idx] if d.idx < len(s.nights) else None
            slots = []
            for _ in range(int(r.integers(1, 3))):
                slots.append(int(r.uniform(d.start + 1800, max(d.start + 1900, d.end - 1800))))
            if nt and not nt.whole_off:
                for _ in range(int(r.integers(1, 3))):
                    slots.append(int(r.uniform(nt.onset + 1800, nt.wake - 1800)))
            for t in sorted(slots):
                i = (t - s.t0) // EPOCH_S
                if not (0 <= i < s.n_ep) or not s.worn[i] or s.reg[i] in (R_WORKOUT, R_DENSE):
                    continue
                hr0 = float(s.hr_mean[i])
                sdnn = p.hrv_ms * math.exp(r.gauss(0, 0.25))
                if d.kind == "dehydration":
                    sdnn *= 0.85
                beats = []
                bt = float(t) + float(r.uniform(0.5, 2.5))
                while bt < t + 60:
                    bpm = int(round(hr0 + r.gauss(0, 2.5)))
                    beats.append((bpm, bt))
                    bt += 60.0 / max(40, bpm) * float(r.uniform(0.93, 1.07))
                kids = ["  <HeartRateVariabilityMetadataList>\n"]
                loc0 = s.clock.local(t)
                for bpm, bt in beats:
                    loc = loc0 + timedelta(seconds=int(bt) - t)
                    frac = int((bt - math.floor(bt)) * 100)
                    if locale_us:
                        h12 = loc.hour % 12 or 12
                        ampm = "AM" if loc.hour < 12 else "PM"
                        ts = f"{h12}:{loc.minute:02d}:{loc.second:02d}.{frac:02d}\u202f{ampm}"
                    else:
                        ts = f"{loc.hour:02d}:{loc.minute:02d}:{loc.second:02d},{frac:02d}"
                    kids.append(f'   <InstantaneousBeatsPerMinute bpm="{bpm}" time="{ts}"/>\n')
                kids.append("  </HeartRateVariabilityMetadataList>\n")
                end = int(beats[-1][1]) + 1 if beats else t + 60
                self.watch_rec(
                    "HeartRateVariabilitySDNN", "ms", t, end, num(sdnn, 4), children="".join(kids)
                )
