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

Modules: ``layout`` (names, record types, Apple's DTD), ``text`` (local times, numbers,
metadata entries), ``records`` (a day's quantity records and stand hours), ``day`` (its sleep,
blood pressure, workout and activity summary), ``writer`` (:class:`ExportSpec`,
:class:`Manifest`, :func:`write_export`, :func:`days_for_size`, :func:`generate`), ``cli``.

Usage::

    uv run python -m simulators.apple_export OUT_DIR --size-mb 100 --seed 1
"""

from simulators.apple_export.cli import main
from simulators.apple_export.layout import (
    CDA,
    CDA_MEMBER,
    DEFAULT_END,
    DTD,
    FOOD_APP,
    FOOD_VERSION,
    HC,
    HK,
    NEW_PHONE,
    NEW_WATCH,
    OLD_PHONE,
    OLD_WATCH,
    OWNER,
    PHONE,
    SCALE_APP,
    SCALE_VERSION,
    TYPE_ORDER,
    TZ_NAME,
    UNMAPPED_TYPES,
    WATCH,
    WATER_APP,
    WATER_VERSION,
    ZIP_MEMBER,
)
from simulators.apple_export.text import Clock
from simulators.apple_export.writer import (
    ExportSpec,
    Manifest,
    days_for_size,
    generate,
    write_export,
)

__all__ = [
    "CDA",
    "CDA_MEMBER",
    "DEFAULT_END",
    "DTD",
    "FOOD_APP",
    "FOOD_VERSION",
    "HC",
    "HK",
    "NEW_PHONE",
    "NEW_WATCH",
    "OLD_PHONE",
    "OLD_WATCH",
    "OWNER",
    "PHONE",
    "SCALE_APP",
    "SCALE_VERSION",
    "TYPE_ORDER",
    "TZ_NAME",
    "UNMAPPED_TYPES",
    "WATCH",
    "WATER_APP",
    "WATER_VERSION",
    "ZIP_MEMBER",
    "Clock",
    "ExportSpec",
    "Manifest",
    "days_for_size",
    "generate",
    "main",
    "write_export",
]
