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
}


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert one value; temperatures (degF/degC) handled specially."""
    if from_unit == to_unit:
        return value
    if from_unit in ("degF", "°F") and to_unit in ("degC", "°C", "c"):
        return (value - 32.0) * 5.0 / 9.0
    return value * UNIT_FACTORS[(from_unit, to_unit)]


def range_violation(metric: str, value: pl.Expr) -> pl.Expr:
    """Expression giving a rejection reason (String) or null when ``value`` is plausible."""
    lo, hi = PLAUSIBLE_RANGES[metric]
    return (
        pl.when(value.is_null() | value.is_nan())
        .then(pl.lit(f"{metric}: missing or non-numeric value"))
        .when((value < lo) | (value > hi))
        .then(pl.format(f"{metric}: value {{}} outside plausible range [{lo:g}, {hi:g}]", value))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
