"""Apple Health ``export.xml`` of one simulated participant: devices, record formatting,
the order of the writers and the final document. The records come from two mixins:
:mod:`.apple_activity` (heart rate, steps, distance, energy, workouts) and
:mod:`.apple_body` (sleep, body mass, diet, resting HR and HRV)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from simulators.apple_export.layout import DTD

from .apple_activity import ActivityRecordsMixin
from .apple_body import BodyRecordsMixin
from .config import HK, SLEEP_TYPE, TYPE_ORDER
from .helpers import esc, num

if TYPE_CHECKING:
    from .sim import Sim


class FastRandom:
    """Scalar draws from a buffer of numpy uniforms (numpy scalar calls are slow)."""

    def __init__(self, gen: np.random.Generator):
        self.g = gen
        self.buf: list[float] = []
        self.i = 0

    def random(self) -> float:
        if self.i >= len(self.buf):
            self.buf = self.g.random(1 << 16).tolist()
            self.i = 0
        v = self.buf[self.i]
        self.i += 1
        return v

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.random()

    def integers(self, lo: int, hi: int) -> int:
        """Integer in [lo, hi)."""
        return lo + int(self.random() * (hi - lo))

    def random_array(self, n: int) -> np.ndarray:
        return self.g.random(n)

    def integers_array(self, lo: int, hi: int, n: int) -> np.ndarray:
        return self.g.integers(lo, hi, n)

    def normal(self, mu, sd, n=None):
        return self.g.normal(mu, sd, n)

    def gauss(self, mu: float, sd: float) -> float:
        """One normal draw (Box-Muller on two buffered uniforms)."""
        u1 = 1.0 - self.random()
        u2 = self.random()
        return mu + sd * math.sqrt(-2.0 * math.log(u1)) * math.cos(2 * math.pi * u2)

    def dirichlet(self, alpha):
        return self.g.dirichlet(alpha)


class Export(ActivityRecordsMixin, BodyRecordsMixin):
    """Writes the records of one Sim as Apple Health's export.xml."""

    def __init__(self, sim: Sim):
        self.sim = sim
        self.p = sim.p
        self.c = sim.clock
        self.r = FastRandom(sim.r_rec)
        self.records: dict[str, list[tuple[int, int, str]]] = {t: [] for t in TYPE_ORDER}
        self.workouts: list[tuple[int, str]] = []
        self.counts: dict[str, int] = {}
        self._dev_cache: dict[tuple[str, int], str] = {}
        self._seq = 0
        self.pending: list[tuple] = []

    # devices: the HKDevice pointer changes from day to day, as in real exports
    def device(self, kind: str, ts: int) -> str:
        day = int(ts // 86400)
        key = (kind, day)
        if key not in self._dev_cache:
            addr = "0x%012x" % (0x600000000000 + int(self.r.integers(0, 1 << 36)) * 16)
            if kind == "watch":
                old = self.is_old_watch(ts)
                hw = self.p.old_watch_hw if old else self.p.watch_hw
                sw = self.p.old_watch_sw if old else self.p.watch_sw
                s = (
                    f"<<HKDevice: {addr}>, name:Apple Watch, manufacturer:Apple Inc., "
                    f"model:Watch, hardware:{hw}, software:{sw}>"
                )
            else:
                s = (
                    f"<<HKDevice: {addr}>, name:iPhone, manufacturer:Apple Inc., "
                    f"model:iPhone, hardware:{self.p.phone_hw}, software:{self.p.phone_sw}>"
                )
            self._dev_cache[key] = esc(s)
        return self._dev_cache[key]

    def is_old_watch(self, ts: int) -> bool:
        if not self.p.old_watch_hw or self.sim.old_era_nights == 0:
            return False
        switch = self.sim.nights[self.sim.old_era_nights].bed - 3 * 3600
        return ts < switch

    def watch_version(self, ts: int) -> str:
        return self.p.old_watch_sw if self.is_old_watch(ts) else self.p.watch_sw

    def add(self, type_: str, start: int, text: str) -> None:
        self._seq += 1
        self.records[type_].append((start, self._seq, text))

    def rec(
        self,
        short: str,
        source: str,
        version: str,
        device: str | None,
        unit: str | None,
        created: int,
        start: int,
        end: int,
        value: str,
        children: str = "",
    ) -> None:
        type_ = SLEEP_TYPE if short == "SleepAnalysis" else HK + short
        f = self.c.fmt
        head = f' <Record type="{type_}" sourceName="{source}" sourceVersion="{version}"'
        if device:
            head += f' device="{device}"'
        if unit:
            head += f' unit="{unit}"'
        head += (
            f' creationDate="{f(created)}" startDate="{f(start)}" endDate="{f(end)}"'
            f' value="{value}"'
        )
        if children:
            text = head + ">\n" + children + " </Record>\n"
        else:
            text = head + "/>\n"
        self.add(short, start, text)

    _meta_cache: dict[tuple[str, str], str] = {}

    @classmethod
    def meta(cls, key: str, value: str) -> str:
        got = cls._meta_cache.get((key, value))
        if got is None:
            got = f'  <MetadataEntry key="{esc(key)}" value="{esc(value)}"/>\n'
            if len(cls._meta_cache) < 10000:
                cls._meta_cache[(key, value)] = got
        return got

    def watch_rec(self, short, unit, start, end, value, created=None, children=""):
        """A record from the watch; formatted later in one vectorised pass (see flush)."""
        if created is None:
            created = end + int(self.r.integers(5, 300))
        self.pending.append((short, unit, int(start), int(end), value, int(created), children))

    def flush(self) -> None:
        if not self.pending:
            return
        arr = np.array([(x[2], x[3], x[5]) for x in self.pending], dtype=np.int64)
        fs = self.c.fmt_many(arr[:, 0])
        fe = self.c.fmt_many(arr[:, 1])
        fc = self.c.fmt_many(arr[:, 2])
        src = self.p.watch
        for k, (short, unit, start, _end, value, _created, children) in enumerate(self.pending):
            type_ = SLEEP_TYPE if short == "SleepAnalysis" else HK + short
            dev = self.device("watch", start)
            ver = self.watch_version(start)
            u = f' unit="{unit}"' if unit else ""
            head = (
                f' <Record type="{type_}" sourceName="{src}" sourceVersion="{ver}"'
                f' device="{dev}"{u} creationDate="{fc[k]}" startDate="{fs[k]}"'
                f' endDate="{fe[k]}" value="{value}"'
            )
            text = head + ">\n" + children + " </Record>\n" if children else head + "/>\n"
            self.add(short, start, text)
        self.pending = []

    # ----------------------------------------------------------------------------------------
    def build(self) -> str:
        self.heart_rate()
        self.steps_distance_energy()
        self.workouts_xml()
        self.sleep()
        self.body_mass()
        self.diet()
        self.rhr_hrv()
        self.flush()
        return self.render()

    def activity_summaries(self) -> list[str]:
        s = self.sim
        r = self.r
        p = self.p
        out = []
        for d in s.days:
            key = d.date.isoformat()
            if key not in self.act_by_date:
                continue
            stand = min(16, len(self.stand_by_date.get(key, ())))
            out.append(
                f' <ActivitySummary dateComponents="{key}" '
                f'activeEnergyBurned="{num(self.act_by_date[key], 3)}" '
                f'activeEnergyBurnedGoal="{p.move_goal_kcal}" activeEnergyBurnedUnit="kcal" '
                f'appleMoveTime="0" appleMoveTimeGoal="0" '
                f'appleExerciseTime="{int(round(self.ex_by_date.get(key, 0.0)))}" '
                f'appleExerciseTimeGoal="30" appleStandHours="{stand}" appleStandHoursGoal="12"/>\n'
            )
        del r
        return out

    def render(self) -> str:
        s = self.sim
        p = self.p
        export_ts = s.t_end
        sex = "HKBiologicalSexFemale" if p.sex == "female" else "HKBiologicalSexMale"
        parts = [
            DTD,
            f'<HealthData locale="{p.locale}">\n',
            f' <ExportDate value="{self.c.fmt(export_ts)}"/>\n',
            f' <Me HKCharacteristicTypeIdentifierDateOfBirth="{p.birth_date.isoformat()}" '
            f'HKCharacteristicTypeIdentifierBiologicalSex="{sex}" '
            f'HKCharacteristicTypeIdentifierBloodType="HKBloodTypeNotSet" '
            f'HKCharacteristicTypeIdentifierFitzpatrickSkinType="HKFitzpatrickSkinTypeNotSet" '
            f'HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse="None"/>\n',
        ]
        for t in TYPE_ORDER:
            recs = sorted(self.records[t])
            self.counts[t] = len(recs)
            parts.extend(x[2] for x in recs)
        self.workouts.sort()
        self.counts["Workout"] = len(self.workouts)
        parts.extend(x[1] for x in self.workouts)
        summ = self.activity_summaries()
        self.counts["ActivitySummary"] = len(summ)
        parts.extend(summ)
        parts.append("</HealthData>\n")
        return "".join(parts)
