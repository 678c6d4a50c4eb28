"""One local day's basis (its bounds, devices, seeded streams and ``<Record>`` lines) and its
quantity records (heart rate, steps, distance, energy, water, magnesium, resting HR, HRV, body
mass) and stand hours; :class:`simulators.apple_export.day._Day` adds the rest of the day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from simulators.apple_export.layout import (
    FOOD_APP,
    FOOD_VERSION,
    HC,
    HK,
    NEW_PHONE,
    NEW_WATCH,
    OLD_PHONE,
    OLD_WATCH,
    PHONE,
    SCALE_APP,
    SCALE_VERSION,
    WATCH,
    WATER_APP,
    WATER_VERSION,
)
from simulators.apple_export.text import _meta, _num

if TYPE_CHECKING:
    from simulators.apple_export.writer import _Writer


class _DayRecords:
    """The quantity records and stand hours of one local day, per type (independent of the
    span around it); the base of :class:`simulators.apple_export.day._Day`."""

    def __init__(self, gen: _Writer, d: date):
        self.g = gen
        self.d = d
        self.t0 = gen.clock.midnight(d)
        self.t1 = gen.clock.midnight(d + timedelta(days=1))
        self.modern = d >= gen.spec.switch
        self.dnum = (d - date(1970, 1, 1)).days
        watch_hw, watch_sw = NEW_WATCH if self.modern else OLD_WATCH
        phone_hw, phone_sw = NEW_PHONE if self.modern else OLD_PHONE
        self.watch_ver, self.phone_ver = watch_sw, phone_sw
        if self.modern:
            prng = np.random.default_rng([gen.spec.seed, 7001, gen.spec.pointer_salt, self.dnum])
            a1, a2 = (0x600000000000 + int(x) * 16 for x in prng.integers(0, 1 << 36, 2))
            self.watch_dev = (
                f' device="&lt;&lt;HKDevice: 0x{a1:012x}&gt;, name:Apple Watch, '
                f"manufacturer:Apple Inc., model:Watch, hardware:{watch_hw}, "
                f'software:{watch_sw}&gt;"'
            )
            self.phone_dev = (
                f' device="&lt;&lt;HKDevice: 0x{a2:012x}&gt;, name:iPhone, '
                f"manufacturer:Apple Inc., model:iPhone, hardware:{phone_hw}, "
                f'software:{phone_sw}&gt;"'
            )
        else:
            self.watch_dev = self.phone_dev = ""

    def rng(self, what: int) -> np.random.Generator:
        return np.random.default_rng([self.g.spec.seed, what, self.dnum])

    def times(self, rng, n: int, lo: int = 0, hi: int = 86400) -> np.ndarray:
        """Distinct sorted UTC seconds within the local day (``lo``..``hi`` s after midnight)."""
        hi = min(hi, self.t1 - self.t0)
        return self.t0 + np.unique(rng.integers(lo, hi, max(n, 0)))

    # ------------------------------------------------------------------ quantity types

    def _lines(
        self, typ, source, version, device, unit, start, end, created, values, children=None
    ) -> list[str]:
        f = self.g.clock.fmt
        unit_attr = f' unit="{unit}"' if unit else ""
        head = (
            f' <Record type="{typ}" sourceName="{source}" sourceVersion="{version}"'
            f'{device}{unit_attr} creationDate="'
        )
        starts = start.tolist()
        ends = end.tolist()
        made = created.tolist()
        out = []
        if children is None:
            for s, e, c, v in zip(starts, ends, made, values, strict=True):
                out.append(f'{head}{f(c)}" startDate="{f(s)}" endDate="{f(e)}" value="{v}"/>\n')
        else:
            for s, e, c, v, ch in zip(starts, ends, made, values, children, strict=True):
                if ch:
                    out.append(
                        f'{head}{f(c)}" startDate="{f(s)}" endDate="{f(e)}" '
                        f'value="{v}">\n{ch} </Record>\n'
                    )
                else:
                    out.append(f'{head}{f(c)}" startDate="{f(s)}" endDate="{f(e)}" value="{v}"/>\n')
        return out

    def heart_rate(self) -> list[str]:
        r = self.rng(1)
        t = self.times(r, int(r.poisson(625)))
        n = len(t)
        hour = ((t - self.t0) // 3600) % 24
        base = np.where((hour < 7) | (hour >= 23), 58.0, 74.0)
        bpm = np.clip(np.rint(base + r.normal(0, 9, n)), 40, 190).astype(int)
        ctx = r.choice(4, n, p=[0.25, 0.40, 0.30, 0.05])  # 0: no metadata entry
        kids = [
            "" if c == 0 else _meta("HKMetadataKeyHeartRateMotionContext", str(c - 1))
            for c in ctx.tolist()
        ]
        self.g.count_meta(sum(1 for k in kids if k))
        created = t + r.integers(30, 900, n)
        return self._lines(
            f"{HK}HeartRate",
            WATCH,
            self.watch_ver,
            self.watch_dev,
            "count/min",
            t,
            t,
            created,
            [str(b) for b in bpm.tolist()],
            kids,
        )

    def _interval_type(self, what, typ, n_mean, durs, unit, values, sources) -> list[str]:
        """Interval records from one or more sources (each source's starts distinct)."""
        r = self.rng(what)
        rows = []
        for share, (source, version, device) in sources:
            t = self.times(r, int(r.poisson(n_mean * share)))
            end = np.minimum(t + r.integers(durs[0], durs[1], len(t)), self.t1 - 1)
            created = end + r.integers(5, 600, len(t))
            rows.append((t, end, created, values(r, len(t)), source, version, device))
        out: list[tuple[int, str]] = []
        for t, end, created, vals, source, version, device in rows:
            lines = self._lines(typ, source, version, device, unit, t, end, created, vals)
            out.extend(zip(t.tolist(), lines, strict=True))
        if len(rows) > 1:
            out.sort(key=lambda x: x[0])
        return [x[1] for x in out]

    def _watch(self):
        return (WATCH, self.watch_ver, self.watch_dev)

    def _phone(self):
        return (PHONE, self.phone_ver, self.phone_dev)

    def steps(self) -> list[str]:
        return self._interval_type(
            2,
            f"{HK}StepCount",
            290,
            (60, 600),
            "count",
            lambda r, n: [str(v) for v in r.integers(4, 900, n).tolist()],
            [(0.6, self._phone()), (0.4, self._watch())],
        )

    def distance(self) -> list[str]:
        return self._interval_type(
            3,
            f"{HK}DistanceWalkingRunning",
            280,
            (60, 600),
            "km",
            lambda r, n: [_num(v, 5) for v in r.uniform(0.002, 0.6, n).tolist()],
            [(0.6, self._phone()), (0.4, self._watch())],
        )

    def basal(self) -> list[str]:
        return self._interval_type(
            4,
            f"{HK}BasalEnergyBurned",
            300,
            (60, 900),
            "kcal",
            lambda r, n: [_num(v, 3) for v in r.uniform(0.8, 6.0, n).tolist()],
            [(1.0, self._watch())],
        )

    def active(self) -> list[str]:
        return self._interval_type(
            5,
            f"{HK}ActiveEnergyBurned",
            640,
            (30, 120),
            "kcal",
            lambda r, n: [_num(v, 3) for v in r.exponential(0.35, n).tolist()],
            [(1.0, self._watch())],
        )

    def water(self) -> list[str]:
        """Third-party writer: other attribute order, no creationDate, no device."""
        r = self.rng(6)
        t = self.times(r, int(r.poisson(6)), 7 * 3600, 22 * 3600)
        f = self.g.clock.fmt
        sizes = r.choice([150, 200, 250, 330, 500], len(t)).tolist()
        return [
            f' <Record type="{HK}DietaryWater" value="{ml}" unit="mL" '
            f'sourceName="{WATER_APP}" sourceVersion="{WATER_VERSION}" '
            f'startDate="{f(s)}" endDate="{f(s)}"/>\n'
            for s, ml in zip(t.tolist(), sizes, strict=True)
        ]

    def magnesium(self) -> list[str]:
        r = self.rng(7)
        t = self.t0 + np.array(
            sorted(
                {8 * 3600, 13 * 3600, 19 * 3600} if r.random() < 0.7 else {12 * 3600, 19 * 3600}
            ),
            dtype=np.int64,
        )
        created = t + r.integers(60, 3600, len(t))
        vals = [_num(v, 1) for v in r.uniform(40, 180, len(t)).tolist()]
        return self._lines(
            f"{HK}DietaryMagnesium", FOOD_APP, FOOD_VERSION, "", "mg", t, t, created, vals
        )

    def resting_hr(self) -> list[str]:
        r = self.rng(8)
        t = np.array([self.t0 + int(r.integers(0, 600))])
        end = np.array([self.t1 - 1 - int(r.integers(0, 600))])
        return self._lines(
            f"{HK}RestingHeartRate",
            WATCH,
            self.watch_ver,
            self.watch_dev,
            "count/min",
            t,
            end,
            end + 300,
            [str(int(r.integers(52, 68)))],
        )

    def hrv(self) -> list[str]:
        r = self.rng(9)
        t = self.times(r, int(r.poisson(5.5)))
        clock = self.g.clock
        kids, ends = [], []
        for s in t.tolist():
            n = int(r.integers(55, 96))
            hr0 = float(r.uniform(55, 75))
            beats = s + np.cumsum(60.0 / np.clip(hr0 + r.normal(0, 2.5, n), 40, 120))
            bpm = np.rint(60.0 / np.diff(np.concatenate([[s], beats]))).astype(int)
            lines = ["  <HeartRateVariabilityMetadataList>\n"]
            lines += [
                f'   <InstantaneousBeatsPerMinute bpm="{b}" time="{clock.local_hms(bt)}"/>\n'
                for b, bt in zip(bpm.tolist(), beats.tolist(), strict=True)
            ]
            lines.append("  </HeartRateVariabilityMetadataList>\n")
            kids.append("".join(lines))
            ends.append(int(beats[-1]) + 1)
            self.g.manifest.hrv_beats += n
        end = np.array(ends, dtype=np.int64)
        vals = [_num(v, 4) for v in r.uniform(18, 70, len(t)).tolist()]
        return self._lines(
            f"{HK}HeartRateVariabilitySDNN",
            WATCH,
            self.watch_ver,
            self.watch_dev,
            "ms",
            t,
            end,
            end + 120,
            vals,
            kids,
        )

    def body_mass(self) -> list[str]:
        r = self.rng(10)
        if r.random() >= 0.4:
            return []
        t = np.array([self.t0 + int(r.integers(6 * 3600 + 1800, 8 * 3600))])
        created = t + int(r.integers(30, 900))
        ts = int(t[0])
        modified = datetime.fromtimestamp(ts + 7, UTC).strftime("%Y-%m-%d %H:%M:%S +0000")
        kids = (
            _meta("Health Mate App Version", "6.9.1")
            + _meta("Withings User Identifier", "31415926")
            + _meta("Modified Date", modified)
            + _meta(
                "Withings Link",
                f"withings-bd2://timeline/measure?userid=31415926&amp;date={ts}&amp;type=1",
            )
        )
        self.g.count_meta(4)
        return self._lines(
            f"{HK}BodyMass",
            SCALE_APP,
            SCALE_VERSION,
            "",
            "kg",
            t,
            t,
            created,
            [_num(float(r.uniform(66.0, 71.0)), 2)],
            [kids],
        )

    def stand_hours(self) -> list[str]:
        r = self.rng(11)
        hours = np.arange(7, 23)
        t = self.t0 + hours * 3600
        t = t[t + 3600 <= self.t1]
        stood = r.random(len(t)) < 0.8
        created = t + 3600 + r.integers(60, 900, len(t))
        vals = [
            "HKCategoryValueAppleStandHourStood" if s else "HKCategoryValueAppleStandHourIdle"
            for s in stood.tolist()
        ]
        return self._lines(
            f"{HC}AppleStandHour",
            WATCH,
            self.watch_ver,
            self.watch_dev,
            "",
            t,
            t + 3600,
            created,
            vals,
        )
