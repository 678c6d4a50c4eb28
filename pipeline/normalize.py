"""Unit conversions and plausibility ranges shared by all importers.

Values outside a metric's plausible range are rejected with a reason (kept in
``rejected_rows``), never silently clipped. Ranges are physiological limits wide enough for
any real person and device; they catch sensor glitches (heart rate 0 or 300), sign errors
(negative steps) and unit mix-ups (body mass in grams).
"""

from __future__ import annotations

import polars as pl

#: metric -> (min, max) inclusive, in the metric's unit
PLAUSIBLE_RANGES: dict[str, tuple[float, float]] = {
    "heart_rate_bpm": (25.0, 240.0),
    "resting_heart_rate_bpm": (25.0, 150.0),
    "walking_heart_rate_bpm": (30.0, 220.0),
    "hrv_sdnn_ms": (1.0, 500.0),
    "steps": (0.0, 100_000.0),
    "active_energy_kcal": (0.0, 10_000.0),
    "basal_energy_kcal": (0.0, 10_000.0),
    "distance_m": (0.0, 500_000.0),
    "body_mass_kg": (20.0, 400.0),
    "height_cm": (50.0, 260.0),
    "water_ml": (0.0, 10_000.0),
    "magnesium_mg": (0.0, 10_000.0),
    "calcium_mg": (0.0, 20_000.0),
    "potassium_mg": (0.0, 30_000.0),
    "sodium_mg": (0.0, 50_000.0),
    "vitamin_d_ug": (0.0, 2_500.0),
    "blood_glucose_mg_dl": (10.0, 1_000.0),
    "respiratory_rate_per_min": (3.0, 80.0),
    "oxygen_saturation_pct": (50.0, 100.0),
    "wrist_temperature_c": (25.0, 45.0),
    "time_in_daylight_min": (0.0, 1_440.0),
    # environment
    "temp_c": (-90.0, 60.0),
    "rh_pct": (0.0, 100.0),
    "dew_point_c": (-90.0, 40.0),
    "apparent_temp_c": (-100.0, 80.0),
    "precipitation_mm": (0.0, 500.0),
    "wind_speed_m_s": (0.0, 120.0),
}

#: the metrics Fitbit exports add (same units as the metric names; part of
#: :data:`PLAUSIBLE_RANGES`, so every importer accepts them). energy_kcal: like active/basal
#: energy, a day's total stays below 10 000 kcal; intensity_level: Fitbit's scale 0 sedentary .. 3 very active; met: resting is 1, the
#: Compendium of Physical Activities tops out near 23 METs, 30 leaves room;
#: minutes per day: at most 1440.
FITBIT_RANGES: dict[str, tuple[float, float]] = {
    "energy_kcal": (0.0, 10_000.0),
    "intensity_level": (0.0, 3.0),
    "met": (0.0, 30.0),
    "sleep_asleep_min": (0.0, 1_440.0),
    "time_in_bed_min": (0.0, 1_440.0),
    "sedentary_min": (0.0, 1_440.0),
    "lightly_active_min": (0.0, 1_440.0),
    "fairly_active_min": (0.0, 1_440.0),
    "very_active_min": (0.0, 1_440.0),
}
PLAUSIBLE_RANGES.update(FITBIT_RANGES)

#: (from_unit, to_unit) -> factor (multiplicative conversions)
UNIT_FACTORS: dict[tuple[str, str], float] = {
    ("lb", "kg"): 0.45359237,
    ("g", "kg"): 0.001,
    ("oz", "kg"): 0.028349523125,
    ("kJ", "kcal"): 1 / 4.184,
    ("Cal", "kcal"): 1.0,
    ("L", "mL"): 1000.0,
    ("fl_oz_us", "mL"): 29.5735295625,
    ("cup_us", "mL"): 236.5882365,
    ("g", "mg"): 1000.0,
    ("mcg", "ug"): 1.0,
    ("IU", "ug"): 0.025,  # vitamin D: 40 IU = 1 ug (NIH ODS vitamin D fact sheet)
    ("km", "m"): 1000.0,
    ("mi", "m"): 1609.344,
    ("km/h", "m/s"): 1 / 3.6,
    ("mmol/L", "mg/dL"): 18.0156,  # glucose, molar mass 180.156 g/mol
    ("%", "pct"): 1.0,
    # added for Apple Health units (exact by definition unless noted)
    ("st", "kg"): 6.35029318,
    ("m", "cm"): 100.0,
    ("in", "cm"): 2.54,
    ("ft", "cm"): 30.48,
    ("cm", "m"): 0.01,
    ("ft", "m"): 0.3048,
    ("yd", "m"): 0.9144,
    ("fl_oz_imp", "mL"): 28.4130625,
    ("mcg", "mg"): 0.001,
    ("ug", "mg"): 0.001,
    ("s", "min"): 1 / 60,
    ("hr", "min"): 60.0,
    ("min", "s"): 60.0,
    ("hr", "s"): 3600.0,
    ("ms", "s"): 0.001,
}

#: spellings of the same temperature unit
_DEG_F = ("degF", "°F")
_DEG_C = ("degC", "°C", "c")


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert one value; temperatures (degF/degC) handled specially."""
    scale, offset = unit_scale_offset(from_unit, to_unit)
    return value * scale + offset


def unit_scale_offset(from_unit: str, to_unit: str) -> tuple[float, float]:
    """``(scale, offset)`` with ``to = from * scale + offset``, for vectorised conversion.

    Raises KeyError for a pair with no known conversion.
    """
    if from_unit == to_unit or (from_unit in _DEG_C and to_unit in _DEG_C):
        return 1.0, 0.0
    if from_unit in _DEG_F and to_unit in _DEG_C:
        return 5.0 / 9.0, -32.0 * 5.0 / 9.0
    return UNIT_FACTORS[(from_unit, to_unit)], 0.0


def range_text(metric: str) -> str:
    """``"[lo, hi]"`` as printed in rejection reasons for ``metric``."""
    lo, hi = PLAUSIBLE_RANGES[metric]
    return f"[{lo:g}, {hi:g}]"


def range_violation(metric: str, value: pl.Expr) -> pl.Expr:
    """Expression giving a rejection reason (String) or null when ``value`` is plausible."""
    lo, hi = PLAUSIBLE_RANGES[metric]
    return range_violation_by(
        pl.lit(metric), value, pl.lit(lo), pl.lit(hi), pl.lit(range_text(metric))
    )


def range_violation_by(
    metric: pl.Expr, value: pl.Expr, lo: pl.Expr, hi: pl.Expr, text: pl.Expr
) -> pl.Expr:
    """:func:`range_violation` for a frame mixing metrics: bounds come from columns.

    ``lo``/``hi``/``text`` are typically joined from :func:`plausible_ranges_frame`; the
    reasons are worded exactly as :func:`range_violation` words them.
    """
    return (
        pl.when(value.is_null() | value.is_nan())
        .then(pl.format("{}: missing or non-numeric value", metric))
        .when((value < lo) | (value > hi))
        .then(pl.format("{}: value {} outside plausible range {}", metric, value, text))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def plausible_ranges_frame() -> pl.DataFrame:
    """``PLAUSIBLE_RANGES`` as a frame: metric, lo, hi, range_text (for joins)."""
    metrics = list(PLAUSIBLE_RANGES)
    return pl.DataFrame(
        {
            "metric": metrics,
            "lo": [PLAUSIBLE_RANGES[m][0] for m in metrics],
            "hi": [PLAUSIBLE_RANGES[m][1] for m in metrics],
            "range_text": [range_text(m) for m in metrics],
        },
        schema={"metric": pl.String, "lo": pl.Float64, "hi": pl.Float64, "range_text": pl.String},
    )
