"""Seeded generator of realistic Apple Health exports for benchmarks and tests.

It follows the layout described in ``/work/shared/research/perf-anchors.md`` §1 (HealthKit
Export Version 14) and does not use crampwatch code, so the benchmark and the re-export tests
check the importer against an independent writer:

* Apple's internal DTD, ``<ExportDate>``, ``<Me>``;
* ``<Record>``s grouped by type, each type in date order, attributes in Apple's order
  (type, sourceName, sourceVersion, device, unit, creationDate, startDate, endDate, value);
* local times with the Europe/Berlin offset of the instant (DST switches included);
* source names with a U+2019 apostrophe (``Anna’s Apple Watch``);
* ``device="&lt;&lt;HKDevice: 0x…&gt;, name:Apple Watch, …&gt;"`` only from
  ``modern_from`` on (by default the later 40 % of the span); the memory address changes
  every day and with ``pointer_salt`` (a later export of the same data prints other addresses);
* heart rate with an ``HKMetadataKeyHeartRateMotionContext`` child (three records in four);
* sleep without unit and with an ``HKTimeZone`` child: InBed / AsleepUnspecified before
  ``modern_from``, InBed plus Core/Deep/REM/Awake stages from then on;
* HRV SDNN with 55-95 ``InstantaneousBeatsPerMinute`` children;
* Withings ``BodyMass`` with four metadata entries, one holding ``&amp;``;
* ``DietaryWater`` from a third-party app in another attribute order, without creationDate;
* ``AppleStandHour`` (a type crampwatch does not map: skipped by design) and a few blood
  pressure ``Correlation``s whose Records also appear at top level, as Apple writes them;
* ``<Workout>``s with metadata, events, ``WorkoutStatistics`` and a ``WorkoutRoute`` file
  reference; one ``<ActivitySummary>`` a day.

Every day's content depends only on ``(seed, date)`` (and ``modern_from``/``pointer_salt``),
so a longer export starting on the same date repeats the shorter one's records exactly:
that is how Apple's cumulative exports behave and what the re-export tests rely on. About
340 bytes per ``<Record>``; :func:`days_for_size` picks the span for a target size.

Usage::

    uv run python -m benchmarks.apple_export OUT_DIR --size-mb 100 --seed 1
"""

from __future__ import annotations

import argparse
import json
import shutil
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

TZ_NAME = "Europe/Berlin"
#: the day the default span ends (the export is taken the morning after)
DEFAULT_END = date(2026, 11, 20)
ZIP_MEMBER = "apple_health_export/export.xml"
CDA_MEMBER = "apple_health_export/export_cda.xml"

HK = "HKQuantityTypeIdentifier"
HC = "HKCategoryTypeIdentifier"

OWNER = "Anna"
WATCH = f"{OWNER}\u2019s Apple Watch"
PHONE = f"{OWNER}\u2019s iPhone"
WATER_APP, WATER_VERSION = "WaterMinder", "5.3.2"
FOOD_APP, FOOD_VERSION = "MyFitnessPal", "24.19.0"
SCALE_APP, SCALE_VERSION = "Health Mate", "6090100"
OLD_WATCH = ("Watch5,4", "9.6.3")
NEW_WATCH = ("Watch7,2", "11.1")
OLD_PHONE = ("iPhone12,1", "16.7.2")
NEW_PHONE = ("iPhone15,2", "18.1")

#: Record types in the order they are written (Apple groups records by type)
TYPE_ORDER = [
    f"{HK}BodyMass",
    f"{HK}HeartRate",
    f"{HK}StepCount",
    f"{HK}DistanceWalkingRunning",
    f"{HK}BasalEnergyBurned",
    f"{HK}ActiveEnergyBurned",
    f"{HK}DietaryWater",
    f"{HK}DietaryMagnesium",
    f"{HK}BloodPressureSystolic",
    f"{HK}BloodPressureDiastolic",
    f"{HK}RestingHeartRate",
    f"{HK}HeartRateVariabilitySDNN",
    f"{HC}SleepAnalysis",
    f"{HC}AppleStandHour",
]
#: types crampwatch does not import (counted as skipped by design)
UNMAPPED_TYPES = {
    f"{HK}BloodPressureSystolic",
    f"{HK}BloodPressureDiastolic",
    f"{HC}AppleStandHour",
}

DTD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 14 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord|Audiogram|VisionPrescription)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate
  value CDATA #REQUIRED
>
<!ELEMENT Me EMPTY>
<!ATTLIST Me
  HKCharacteristicTypeIdentifierDateOfBirth                   CDATA #REQUIRED
  HKCharacteristicTypeIdentifierBiologicalSex                 CDATA #REQUIRED
  HKCharacteristicTypeIdentifierBloodType                     CDATA #REQUIRED
  HKCharacteristicTypeIdentifierFitzpatrickSkinType           CDATA #REQUIRED
  HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse   CDATA #REQUIRED
>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  value         CDATA #IMPLIED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!-- Note: Any Records that appear as children of a correlation also appear as top-level records in this document. -->
<!ELEMENT Correlation ((MetadataEntry|Record)*)>
<!ATTLIST Correlation
  type          CDATA #REQUIRED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT Workout ((MetadataEntry|WorkoutEvent|WorkoutRoute|WorkoutStatistics)*)>
<!ATTLIST Workout
  workoutActivityType   CDATA #REQUIRED
  duration              CDATA #IMPLIED
  durationUnit          CDATA #IMPLIED
  totalDistance         CDATA #IMPLIED
  totalDistanceUnit     CDATA #IMPLIED
  totalEnergyBurned     CDATA #IMPLIED
  totalEnergyBurnedUnit CDATA #IMPLIED
  sourceName            CDATA #REQUIRED
  sourceVersion         CDATA #IMPLIED
  device                CDATA #IMPLIED
  creationDate          CDATA #IMPLIED
  startDate             CDATA #REQUIRED
  endDate               CDATA #REQUIRED
>
<!ELEMENT WorkoutActivity ((MetadataEntry)*)>
<!ATTLIST WorkoutActivity
  uuid                 CDATA #REQUIRED
  startDate            CDATA #REQUIRED
  endDate              CDATA #IMPLIED
  duration             CDATA #IMPLIED
  durationUnit         CDATA #IMPLIED
>
<!ELEMENT WorkoutEvent ((MetadataEntry)*)>
<!ATTLIST WorkoutEvent
  type                 CDATA #REQUIRED
  date                 CDATA #REQUIRED
  duration             CDATA #IMPLIED
  durationUnit         CDATA #IMPLIED
>
<!ELEMENT WorkoutStatistics EMPTY>
<!ATTLIST WorkoutStatistics
  type                 CDATA #REQUIRED
  startDate            CDATA #REQUIRED
  endDate              CDATA #REQUIRED
  average              CDATA #IMPLIED
  minimum              CDATA #IMPLIED
  maximum              CDATA #IMPLIED
  sum                  CDATA #IMPLIED
  unit                 CDATA #IMPLIED
>
<!ELEMENT WorkoutRoute ((MetadataEntry|FileReference)*)>
<!ATTLIST WorkoutRoute
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT FileReference EMPTY>
<!ATTLIST FileReference
  path CDATA #REQUIRED
>
<!ELEMENT ActivitySummary EMPTY>
<!ATTLIST ActivitySummary
  dateComponents           CDATA #IMPLIED
  activeEnergyBurned       CDATA #IMPLIED
  activeEnergyBurnedGoal   CDATA #IMPLIED
  activeEnergyBurnedUnit   CDATA #IMPLIED
  appleMoveTime            CDATA #IMPLIED
  appleMoveTimeGoal        CDATA #IMPLIED
  appleExerciseTime        CDATA #IMPLIED
  appleExerciseTimeGoal    CDATA #IMPLIED
  appleStandHours          CDATA #IMPLIED
  appleStandHoursGoal      CDATA #IMPLIED
>
<!ELEMENT MetadataEntry EMPTY>
<!ATTLIST MetadataEntry
  key   CDATA #REQUIRED
  value CDATA #REQUIRED
>
<!-- Note: Heart Rate Variability records captured by Apple Watch may include an associated list of instantaneous beats-per-minute readings. -->
<!ELEMENT HeartRateVariabilityMetadataList (InstantaneousBeatsPerMinute*)>
<!ELEMENT InstantaneousBeatsPerMinute EMPTY>
<!ATTLIST InstantaneousBeatsPerMinute
  bpm  CDATA #REQUIRED
  time CDATA #REQUIRED
>
<!ELEMENT ClinicalRecord EMPTY>
<!ATTLIST ClinicalRecord
  type              CDATA #REQUIRED
  identifier        CDATA #REQUIRED
  sourceName        CDATA #REQUIRED
  sourceURL         CDATA #REQUIRED
  fhirVersion       CDATA #REQUIRED
  receivedDate      CDATA #REQUIRED
  resourceFilePath  CDATA #REQUIRED
>
<!ELEMENT Audiogram ((MetadataEntry|SensitivityPoint)*)>
<!ATTLIST Audiogram
  type          CDATA #REQUIRED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT SensitivityPoint EMPTY>
<!ATTLIST SensitivityPoint
  frequencyValue   CDATA #REQUIRED
  frequencyUnit    CDATA #REQUIRED
  leftEarValue     CDATA #IMPLIED
  leftEarUnit      CDATA #IMPLIED
  rightEarValue    CDATA #IMPLIED
  rightEarUnit     CDATA #IMPLIED
>
<!ELEMENT VisionPrescription ((RightEye|LeftEye|Attachment|MetadataEntry)*)>
<!ATTLIST VisionPrescription
  type             CDATA #REQUIRED
  dateIssued       CDATA #REQUIRED
  expirationDate   CDATA #IMPLIED
  brand            CDATA #IMPLIED
>
]>
"""

CDA = """<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <realmCode code="US"/>
 <title>Health Data Export</title>
</ClinicalDocument>
"""

_HMS = [f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}" for s in range(86400)]


# --------------------------------------------------------------------------- clock


class Clock:
    """Europe/Berlin local time for UTC seconds, formatted the way Apple writes it."""

    def __init__(self) -> None:
        self.zone = ZoneInfo(TZ_NAME)
        self._hours: dict[int, tuple[int, str]] = {}
        self._days: dict[int, str] = {}

    def _hour(self, h: int) -> tuple[int, str]:
        got = self._hours.get(h)
        if got is None:  # offsets change on whole UTC hours only
            off = int(
                datetime.fromtimestamp(h * 3600, UTC)
                .astimezone(self.zone)
                .utcoffset()
                .total_seconds()
            )
            a = abs(off)
            got = (off, f"{'+' if off >= 0 else '-'}{a // 3600:02d}{a % 3600 // 60:02d}")
            self._hours[h] = got
        return got

    def _day(self, dnum: int) -> str:
        s = self._days.get(dnum)
        if s is None:
            s = self._days[dnum] = (date(1970, 1, 1) + timedelta(days=dnum)).isoformat()
        return s

    def offset(self, ts: int) -> int:
        return self._hour(ts // 3600)[0]

    def fmt(self, ts: int) -> str:
        """``2026-05-01 07:12:45 +0200``"""
        off, suffix = self._hour(ts // 3600)
        dnum, sec = divmod(ts + off, 86400)
        return f"{self._day(dnum)} {_HMS[sec]} {suffix}"

    def fmt_many(self, ts) -> list[str]:
        fmt = self.fmt
        return [fmt(t) for t in ts.tolist()] if hasattr(ts, "tolist") else [fmt(t) for t in ts]

    def local_hms(self, ts: float) -> str:
        """Local clock time with hundredths, de_DE style (``07:12:46,12``)."""
        t = int(ts)
        sec = (t + self.offset(t)) % 86400
        return f"{_HMS[sec]},{int((ts - t) * 100):02d}"

    def midnight(self, d: date) -> int:
        """UTC seconds of local midnight starting date ``d``."""
        return int(datetime(d.year, d.month, d.day, tzinfo=self.zone).timestamp())


# --------------------------------------------------------------------------- spec, manifest


@dataclass(frozen=True)
class ExportSpec:
    """What to write: ``days`` local days from ``start`` (inclusive)."""

    start: date
    days: int
    seed: int = 1
    #: first day written with device attributes and sleep stages (None: 60 % into the span)
    modern_from: date | None = None
    #: varies the HKDevice memory addresses only (a later export of the same data)
    pointer_salt: int = 0

    @property
    def end(self) -> date:  # exclusive
        return self.start + timedelta(days=self.days)

    @property
    def switch(self) -> date:
        if self.modern_from is not None:
            return self.modern_from
        return self.start + timedelta(days=int(round(self.days * 0.6)))


@dataclass
class Manifest:
    """What the generator wrote (the ground truth of the count check)."""

    seed: int
    start: str
    days: int
    modern_from: str
    records: int = 0  # every <Record start tag, nested ones included
    records_top_level: int = 0
    records_in_correlations: int = 0
    records_unmapped: int = 0  # top-level records of types crampwatch does not import
    by_type: dict[str, int] = field(default_factory=dict)  # top-level records per type
    correlations: int = 0
    metadata_in_records: int = 0
    hrv_beats: int = 0
    workouts: int = 0
    activity_summaries: int = 0
    xml_bytes: int = 0
    zip_bytes: int = 0
    xml_path: str = ""
    zip_path: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, ensure_ascii=False)


# --------------------------------------------------------------------------- one day


def _num(v: float, nd: int) -> str:
    s = f"{v:.{nd}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _meta(key: str, value: str, indent: str = "  ") -> str:
    return f'{indent}<MetadataEntry key="{key}" value="{value}"/>\n'


class _Day:
    """The records of one local day, per type (independent of the span around it)."""

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

    # ------------------------------------------------------------------ sleep

    def sleep(self) -> list[str]:
        """The night that starts on the evening of this day."""
        r = self.rng(12)
        bed = self.t0 + 22 * 3600 + 1800 + int(r.integers(0, 90 * 60))
        wake = bed + int(r.integers(int(6.3 * 3600), int(8.5 * 3600)))
        tz = _meta("HKTimeZone", TZ_NAME)
        segs = [(bed, wake, "HKCategoryValueSleepAnalysisInBed", self._phone())]
        t = bed + int(r.integers(300, 1500))
        if not self.modern:
            while t < wake - 1800:
                e = min(wake - 60, t + int(r.integers(40 * 60, 180 * 60)))
                segs.append((t, e, "HKCategoryValueSleepAnalysisAsleepUnspecified", self._watch()))
                t = e + int(r.integers(120, 900))
        else:
            cycle = [
                ("AsleepCore", 10, 40),
                ("AsleepDeep", 5, 30),
                ("AsleepCore", 5, 25),
                ("AsleepREM", 5, 30),
            ]
            i = 0
            while t < wake - 600:
                if r.random() < 0.12:
                    stage, lo, hi = "Awake", 1, 6
                else:
                    stage, lo, hi = cycle[i % len(cycle)]
                    i += 1
                e = min(wake, t + 60 * int(r.integers(lo, hi + 1)))
                segs.append((t, e, "HKCategoryValueSleepAnalysis" + stage, self._watch()))
                t = e
        segs.sort(key=lambda s: s[0])
        f = self.g.clock.fmt
        out = []
        for s, e, value, (source, version, device) in segs:
            out.append(
                f' <Record type="{HC}SleepAnalysis" sourceName="{source}" '
                f'sourceVersion="{version}"{device} creationDate="{f(wake + 600)}" '
                f'startDate="{f(s)}" endDate="{f(e)}" value="{value}">\n{tz} </Record>\n'
            )
        self.g.count_meta(len(out))
        return out

    # ------------------------------------------------------------------ blood pressure

    def blood_pressure(self) -> tuple[list[str], list[str], str | None]:
        """(systolic records, diastolic records, correlation) about twice a week."""
        r = self.rng(13)
        if r.random() >= 0.3:
            return [], [], None
        t = self.t0 + 7 * 3600 + int(r.integers(0, 3600))
        f = self.g.clock.fmt
        sys_v, dia_v = int(r.integers(115, 150)), int(r.integers(70, 95))
        src, ver = PHONE, self.phone_ver
        made = f(t + 30)

        def rec(kind, v, indent):
            return (
                f'{indent}<Record type="{HK}BloodPressure{kind}" sourceName="{src}" '
                f'sourceVersion="{ver}" unit="mmHg" creationDate="{made}" '
                f'startDate="{f(t)}" endDate="{f(t)}" value="{v}"/>\n'
            )

        corr = (
            f' <Correlation type="HKCorrelationTypeIdentifierBloodPressure" '
            f'sourceName="{src}" sourceVersion="{ver}" creationDate="{made}" '
            f'startDate="{f(t)}" endDate="{f(t)}">\n'
            + _meta("HKWasUserEntered", "1")
            + rec("Diastolic", dia_v, "  ")
            + rec("Systolic", sys_v, "  ")
            + " </Correlation>\n"
        )
        return [rec("Systolic", sys_v, " ")], [rec("Diastolic", dia_v, " ")], corr

    # ------------------------------------------------------------------ workouts, summary

    def workout(self) -> str | None:
        r = self.rng(14)
        if r.random() >= 0.73:
            return None
        kind = str(r.choice(["Walking", "Walking", "Running", "Cycling"]))
        start = self.t0 + 17 * 3600 + int(r.integers(0, 150 * 60))
        minutes = float(r.uniform(20, 80))
        end = start + int(minutes * 60)
        f = self.g.clock.fmt
        fs, fe = f(start), f(end)
        kcal = minutes * {"Walking": 4.5, "Running": 10.5, "Cycling": 8.0}[kind]
        km = minutes * {"Walking": 0.09, "Running": 0.18, "Cycling": 0.35}[kind]
        dist = f"{HK}DistanceCycling" if kind == "Cycling" else f"{HK}DistanceWalkingRunning"
        pause = start + int(minutes * 30)
        hr = r.normal({"Walking": 105, "Running": 150, "Cycling": 132}[kind], 9, 3)
        lines = [
            f' <Workout workoutActivityType="HKWorkoutActivityType{kind}" '
            f'duration="{_num(minutes, 10)}" durationUnit="min" sourceName="{WATCH}" '
            f'sourceVersion="{self.watch_ver}"{self.watch_dev} creationDate="{f(end + 40)}" '
            f'startDate="{fs}" endDate="{fe}">\n',
            _meta("HKIndoorWorkout", "0"),
            _meta("HKTimeZone", TZ_NAME),
            _meta("HKWeatherTemperature", f"{int(r.integers(2, 30))} degC"),
            _meta("HKWeatherHumidity", f"{int(r.integers(30, 95)) * 100} %"),
            _meta("HKAverageMETs", f"{_num(float(r.uniform(3, 9)), 5)} kcal/hr\u00b7kg"),
            f'  <WorkoutEvent type="HKWorkoutEventTypePause" date="{f(pause)}"/>\n',
            f'  <WorkoutEvent type="HKWorkoutEventTypeResume" date="{f(pause + 45)}"/>\n',
            f'  <WorkoutStatistics type="{HK}ActiveEnergyBurned" startDate="{fs}" '
            f'endDate="{fe}" sum="{_num(kcal, 6)}" unit="kcal"/>\n',
            f'  <WorkoutStatistics type="{HK}BasalEnergyBurned" startDate="{fs}" '
            f'endDate="{fe}" sum="{_num(minutes * 1.2, 6)}" unit="kcal"/>\n',
            f'  <WorkoutStatistics type="{dist}" startDate="{fs}" endDate="{fe}" '
            f'sum="{_num(km, 6)}" unit="km"/>\n',
            f'  <WorkoutStatistics type="{HK}HeartRate" startDate="{fs}" endDate="{fe}" '
            f'average="{_num(float(hr.mean()), 4)}" minimum="{int(hr.min()) - 20}" '
            f'maximum="{int(hr.max()) + 15}" unit="count/min"/>\n',
            f'  <WorkoutRoute sourceName="{WATCH}" sourceVersion="{self.watch_ver}" '
            f'creationDate="{f(end + 60)}" startDate="{fs}" endDate="{fe}">\n',
            _meta("HKMetadataKeySyncVersion", "2", "   "),
            f'   <FileReference path="/workout-routes/route_{self.d.isoformat()}_'
            f'{self._route_time(start)}.gpx"/>\n',
            "  </WorkoutRoute>\n",
            " </Workout>\n",
        ]
        return "".join(lines)

    def _route_time(self, ts: int) -> str:
        """Apple's route file time: ``6.59pm``."""
        sec = (ts + self.g.clock.offset(ts)) % 86400
        h, m = sec // 3600, sec % 3600 // 60
        return f"{h % 12 or 12}.{m:02d}{'am' if h < 12 else 'pm'}"

    def activity_summary(self) -> str:
        r = self.rng(15)
        return (
            f' <ActivitySummary dateComponents="{self.d.isoformat()}" '
            f'activeEnergyBurned="{_num(float(r.uniform(200, 900)), 3)}" '
            f'activeEnergyBurnedGoal="450" activeEnergyBurnedUnit="kcal" '
            f'appleMoveTime="0" appleMoveTimeGoal="0" '
            f'appleExerciseTime="{int(r.integers(0, 90))}" appleExerciseTimeGoal="30" '
            f'appleStandHours="{int(r.integers(6, 16))}" appleStandHoursGoal="12"/>\n'
        )


# --------------------------------------------------------------------------- writer

#: TYPE_ORDER entry -> _Day method name
_TYPE_METHODS = {
    f"{HK}BodyMass": "body_mass",
    f"{HK}HeartRate": "heart_rate",
    f"{HK}StepCount": "steps",
    f"{HK}DistanceWalkingRunning": "distance",
    f"{HK}BasalEnergyBurned": "basal",
    f"{HK}ActiveEnergyBurned": "active",
    f"{HK}DietaryWater": "water",
    f"{HK}DietaryMagnesium": "magnesium",
    f"{HK}RestingHeartRate": "resting_hr",
    f"{HK}HeartRateVariabilitySDNN": "hrv",
    f"{HC}SleepAnalysis": "sleep",
    f"{HC}AppleStandHour": "stand_hours",
}


class _Writer:
    def __init__(self, spec: ExportSpec):
        self.spec = spec
        self.clock = Clock()
        self.manifest = Manifest(
            seed=spec.seed,
            start=spec.start.isoformat(),
            days=spec.days,
            modern_from=spec.switch.isoformat(),
        )
        self.by_type: Counter[str] = Counter()

    def count_meta(self, n: int) -> None:
        self.manifest.metadata_in_records += n

    def header(self) -> str:
        export_ts = self.clock.midnight(self.spec.end) + 7 * 3600 + 1234
        return (
            DTD + '<HealthData locale="de_DE">\n'
            f' <ExportDate value="{self.clock.fmt(export_ts)}"/>\n'
            ' <Me HKCharacteristicTypeIdentifierDateOfBirth="1961-03-08" '
            'HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale" '
            'HKCharacteristicTypeIdentifierBloodType="HKBloodTypeNotSet" '
            'HKCharacteristicTypeIdentifierFitzpatrickSkinType="HKFitzpatrickSkinTypeNotSet" '
            'HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse="None"/>\n'
        )

    def dates(self):
        return [self.spec.start + timedelta(days=i) for i in range(self.spec.days)]

    def pieces(self):
        """The document as a sequence of text pieces (about one type-day each)."""
        yield self.header()
        days = self.dates()
        for typ in TYPE_ORDER:
            for d in days:
                day = _Day(self, d)
                if typ.startswith(f"{HK}BloodPressure"):
                    sys_, dia, _ = day.blood_pressure()
                    lines = sys_ if typ.endswith("Systolic") else dia
                else:
                    lines = getattr(day, _TYPE_METHODS[typ])()
                if lines:
                    self.by_type[typ] += len(lines)
                    yield "".join(lines)
        for d in days:
            corr = _Day(self, d).blood_pressure()[2]
            if corr:
                self.manifest.correlations += 1
                self.manifest.records_in_correlations += 2
                yield corr
        for d in days:
            w = _Day(self, d).workout()
            if w:
                self.manifest.workouts += 1
                yield w
        for d in days:
            self.manifest.activity_summaries += 1
            yield _Day(self, d).activity_summary()
        yield "</HealthData>\n"

    def finish(self) -> Manifest:
        m = self.manifest
        m.by_type = {t: self.by_type[t] for t in TYPE_ORDER if self.by_type[t]}
        m.records_top_level = sum(m.by_type.values())
        m.records = m.records_top_level + m.records_in_correlations
        m.records_unmapped = sum(n for t, n in m.by_type.items() if t in UNMAPPED_TYPES)
        return m


def write_export(
    out_dir: str | Path,
    spec: ExportSpec,
    *,
    make_zip: bool = True,
    xml_name: str = "export.xml",
    zip_name: str = "export.zip",
    compresslevel: int = 6,
) -> Manifest:
    """Write ``export.xml`` (and ``export.zip`` holding it as Apple does) into ``out_dir``;
    returns the :class:`Manifest` (also written as ``manifest.json``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    w = _Writer(spec)
    xml_path = out / xml_name
    buf: list[str] = []
    size = 0
    with open(xml_path, "wb") as fh:
        for piece in w.pieces():
            buf.append(piece)
            size += len(piece)
            if size >= 4 << 20:
                fh.write("".join(buf).encode("utf-8"))
                buf, size = [], 0
        fh.write("".join(buf).encode("utf-8"))
    m = w.finish()
    m.xml_path, m.xml_bytes = str(xml_path), xml_path.stat().st_size
    if make_zip:
        zip_path = out / zip_name
        stamp = (spec.end.year, spec.end.month, spec.end.day, 7, 20, 34)
        with zipfile.ZipFile(
            zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel
        ) as zf:
            info = zipfile.ZipInfo(ZIP_MEMBER, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(xml_path, "rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                shutil.copyfileobj(src, dst, 8 << 20)
            cda = zipfile.ZipInfo(CDA_MEMBER, date_time=stamp)
            cda.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(cda, CDA)
        m.zip_path, m.zip_bytes = str(zip_path), zip_path.stat().st_size
    (out / "manifest.json").write_text(m.to_json(), encoding="utf-8")
    return m


def _day_bytes(spec: ExportSpec, d: date) -> int:
    w = _Writer(spec)
    day = _Day(w, d)
    n = sum(len("".join(getattr(day, meth)()).encode()) for meth in _TYPE_METHODS.values())
    sys_, dia, corr = day.blood_pressure()
    n += sum(len(x.encode()) for x in sys_ + dia + ([corr] if corr else []))
    n += len((day.workout() or "").encode()) + len(day.activity_summary().encode())
    return n


def days_for_size(size_mb: float, seed: int = 1, end: date = DEFAULT_END) -> int:
    """Days of data that make an export.xml of about ``size_mb`` MB (10**6 bytes)."""
    target = size_mb * 1e6
    probe = ExportSpec(
        start=end - timedelta(days=100), days=100, seed=seed, modern_from=end - timedelta(days=50)
    )
    old = [_day_bytes(probe, end - timedelta(days=100 - 3 * i)) for i in range(16)]
    new = [_day_bytes(probe, end - timedelta(days=49 - 3 * i)) for i in range(16)]
    per_day = 0.6 * float(np.mean(old)) + 0.4 * float(np.mean(new))
    return max(1, int(round((target - len(_Writer(probe).header().encode())) / per_day)))


def generate(
    out_dir: str | Path,
    size_mb: float,
    seed: int = 1,
    *,
    end: date = DEFAULT_END,
    make_zip: bool = True,
) -> Manifest:
    """An export of about ``size_mb`` MB of XML whose span ends on ``end``."""
    days = days_for_size(size_mb, seed, end)
    spec = ExportSpec(start=end - timedelta(days=days), days=days, seed=seed)
    return write_export(out_dir, spec, make_zip=make_zip)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--size-mb", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-zip", action="store_true")
    args = ap.parse_args(argv)
    m = generate(args.out_dir, args.size_mb, args.seed, make_zip=not args.no_zip)
    print(m.to_json())


if __name__ == "__main__":
    main()
