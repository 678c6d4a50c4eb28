"""Apple Health's vocabulary and how it maps to crampwatch's canonical rows.

This module owns what the export's values *mean*, and nothing about how the file is read:

* the type table: which ``HKQuantityTypeIdentifier*`` types are imported, as which metric, in
  which canonical unit, and from which Apple units (:data:`QUANTITY_TYPES`, built with
  :func:`_q`), and the same as one polars frame joined with the plausible ranges
  (:data:`_QMAP`, from :func:`_quantity_frame`) for the vectorised mapping;
* sleep (:data:`SLEEP_TYPE`, :data:`SLEEP_STAGES`), ``Me`` (:data:`SEXES`) and workout
  durations (:data:`_DURATION_S`), activity names (:func:`_snake`) and device descriptions
  (:data:`_DEVICE_POINTER`);
* the value helpers: unit keys (:func:`_unit_key`), Apple dates (:func:`_parse_dates` for a
  column, :func:`_parse_date` for one value), numbers (:func:`_float`) and optional unit
  conversion (:func:`_convert_opt`).

It imports neither the scanner (:mod:`pipeline.importers.apple_health_scan`) nor the importer;
:mod:`pipeline.importers.apple_health` puts the three together.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import polars as pl

from pipeline import normalize

_Q = "HKQuantityTypeIdentifier"
SLEEP_TYPE = "HKCategoryTypeIdentifierSleepAnalysis"

# --------------------------------------------------------------------------- quantity types

#: Apple type suffix -> (metric, canonical unit, {Apple unit: (from, to) for normalize})
QUANTITY_TYPES: dict[str, tuple[str, str, dict[str, tuple[str, str] | tuple[float, float]]]] = {}


def _q(suffix: str, metric: str, unit: str, units: dict) -> None:
    QUANTITY_TYPES[_Q + suffix] = (metric, unit, units)


_ENERGY = {"kcal": ("kcal", "kcal"), "Cal": ("Cal", "kcal"), "kJ": ("kJ", "kcal")}
_MINERAL = {"mg": ("mg", "mg"), "g": ("g", "mg"), "mcg": ("mcg", "mg")}
_q("HeartRate", "heart_rate_bpm", "count/min", {"count/min": ("count/min", "count/min")})
_q(
    "RestingHeartRate",
    "resting_heart_rate_bpm",
    "count/min",
    {"count/min": ("count/min", "count/min")},
)
_q(
    "WalkingHeartRateAverage",
    "walking_heart_rate_bpm",
    "count/min",
    {"count/min": ("count/min", "count/min")},
)
_q("HeartRateVariabilitySDNN", "hrv_sdnn_ms", "ms", {"ms": ("ms", "ms")})
_q("StepCount", "steps", "count", {"count": ("count", "count")})
_q("ActiveEnergyBurned", "active_energy_kcal", "kcal", _ENERGY)
_q("BasalEnergyBurned", "basal_energy_kcal", "kcal", _ENERGY)
_q(
    "DistanceWalkingRunning",
    "distance_m",
    "m",
    {
        "m": ("m", "m"),
        "km": ("km", "m"),
        "mi": ("mi", "m"),
        "ft": ("ft", "m"),
        "yd": ("yd", "m"),
        "cm": ("cm", "m"),
    },
)
_q(
    "BodyMass",
    "body_mass_kg",
    "kg",
    {
        "kg": ("kg", "kg"),
        "lb": ("lb", "kg"),
        "g": ("g", "kg"),
        "oz": ("oz", "kg"),
        "st": ("st", "kg"),
    },
)
_q(
    "Height",
    "height_cm",
    "cm",
    {"cm": ("cm", "cm"), "m": ("m", "cm"), "in": ("in", "cm"), "ft": ("ft", "cm")},
)
_q(
    "DietaryWater",
    "water_ml",
    "mL",
    {
        "mL": ("mL", "mL"),
        "L": ("L", "mL"),
        "fl_oz_us": ("fl_oz_us", "mL"),
        "fl_oz_imp": ("fl_oz_imp", "mL"),
        "cup_us": ("cup_us", "mL"),
    },
)
_q("DietaryMagnesium", "magnesium_mg", "mg", _MINERAL)
_q("DietaryCalcium", "calcium_mg", "mg", _MINERAL)
_q("DietaryPotassium", "potassium_mg", "mg", _MINERAL)
_q("DietarySodium", "sodium_mg", "mg", _MINERAL)
_q(
    "DietaryVitaminD",
    "vitamin_d_ug",
    "ug",
    {"mcg": ("mcg", "ug"), "ug": ("ug", "ug"), "IU": ("IU", "ug")},
)
# Apple writes "mmol<180.1558800000541>/L" (molar mass embedded); it is aliased to mmol/L
_q(
    "BloodGlucose",
    "blood_glucose_mg_dl",
    "mg/dL",
    {"mg/dL": ("mg/dL", "mg/dL"), "mmol/L": ("mmol/L", "mg/dL")},
)
_q(
    "RespiratoryRate",
    "respiratory_rate_per_min",
    "count/min",
    {"count/min": ("count/min", "count/min")},
)
# HealthKit's percent unit is a fraction 0-1 in the export: explicit factor 100
_q("OxygenSaturation", "oxygen_saturation_pct", "%", {"%": (100.0, 0.0)})
_q(
    "AppleSleepingWristTemperature",
    "wrist_temperature_c",
    "degC",
    {"degC": ("degC", "degC"), "degF": ("degF", "degC")},
)
_q(
    "TimeInDaylight",
    "time_in_daylight_min",
    "min",
    {"min": ("min", "min"), "s": ("s", "min"), "hr": ("hr", "min")},
)

# --------------------------------------------------------------------------- other types

#: HKCategoryValueSleepAnalysis* -> sleep_segments.stage
SLEEP_STAGES = {
    "InBed": "in_bed",
    "Asleep": "asleep",
    "AsleepUnspecified": "asleep",
    "AsleepCore": "light",
    "AsleepDeep": "deep",
    "AsleepREM": "rem",
    "Awake": "awake",
}
_SLEEP_VALUE_PREFIX = "HKCategoryValueSleepAnalysis"

SEXES = {
    "HKBiologicalSexFemale": "female",
    "HKBiologicalSexMale": "male",
    "HKBiologicalSexOther": "other",
}

#: Workout ``durationUnit`` -> seconds
_DURATION_S = {
    "s": 1.0,
    "sec": 1.0,
    "min": 60.0,
    "hr": 3600.0,
    "h": 3600.0,
    "ms": 0.001,
    "d": 86400.0,
}

#: the memory address Apple prints into every device description changes between exports
#: (and between records), so it is removed to keep the natural key stable across re-exports
_DEVICE_POINTER = r"HKDevice: 0x[0-9a-fA-F]+"

DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"

# --------------------------------------------------------------------------- mapping frame


def _quantity_frame() -> pl.DataFrame:
    rows = []
    for apple_type, (metric, unit, units) in QUANTITY_TYPES.items():
        for apple_unit, conv in units.items():
            if isinstance(conv[0], str):
                scale, offset = normalize.unit_scale_offset(conv[0], conv[1])
            else:
                scale, offset = conv
            rows.append((apple_type, apple_unit, metric, unit, scale, offset))
    df = pl.DataFrame(
        rows,
        orient="row",
        schema={
            "type": pl.String,
            "unit_key": pl.String,
            "metric": pl.String,
            "canon_unit": pl.String,
            "scale": pl.Float64,
            "offset": pl.Float64,
        },
    )
    return df.join(normalize.plausible_ranges_frame(), on="metric", how="left")


_QMAP = _quantity_frame()
_MAPPED_TYPES = [*QUANTITY_TYPES, SLEEP_TYPE]
_GLUCOSE_UNIT = re.compile(r"^mmol<[^>]*>/L$")

# --------------------------------------------------------------------------- value helpers


def _unit_key(unit: str) -> str:
    return "mmol/L" if _GLUCOSE_UNIT.match(unit) else unit


def _offset_seconds(off: str) -> int | None:
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", off)
    if not m:
        return None
    s = int(m.group(2)) * 3600 + int(m.group(3)) * 60
    return -s if m.group(1) == "-" else s


def _parse_dates(df: pl.DataFrame, col: str) -> tuple[pl.Expr, pl.Expr]:
    """(instant as Datetime UTC, offset in s) for Apple dates ``2025-06-15 23:12:45 +0200``.

    The local part is parsed at fixed width (polars' fast path, without its cache of parsed
    strings: nearly every value is distinct, and the cache doubled the time) and the offset
    looked up in a map built from the few distinct offsets present; anything not exactly in
    this shape is null (-> rejected as unparseable).
    """
    tail = pl.col(col).str.slice(19)
    offs = df.get_column(col).str.slice(19).drop_nulls().unique().to_list()
    mapping = {o: v for o in offs if (v := _offset_seconds(o.lstrip(" "))) is not None}
    off = tail.replace_strict(mapping, default=None, return_dtype=pl.Int32)
    local = (
        pl.col(col)
        .str.slice(0, 19)
        .str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us", strict=False, cache=False)
    )
    instant = (local - pl.duration(seconds=off)).dt.replace_time_zone("UTC")
    return instant, off


def _snake(name: str) -> str:
    name = name.removeprefix("HKWorkoutActivityType")
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return name.lower()


def _parse_date(text: str | None) -> tuple[datetime, int] | None:
    if not text:
        return None
    try:
        dt = datetime.strptime(text, DATE_FORMAT)
        off = dt.utcoffset()
        return dt.astimezone(UTC), int(off.total_seconds()) if off is not None else 0
    except (ValueError, OverflowError):  # OverflowError: 0001-01-01 east of UTC
        return None


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def _convert_opt(value: str | None, unit: str | None, to_unit: str) -> float | None:
    v = _float(value)
    if v is None or not unit:
        return None
    try:
        return normalize.convert(v, unit, to_unit)
    except KeyError:
        return None
