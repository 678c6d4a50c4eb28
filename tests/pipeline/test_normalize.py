"""Unit conversions and plausibility reasons shared by the importers."""

from __future__ import annotations

import math

import polars as pl
import pytest

from pipeline import normalize
from pipeline.normalize import (
    PLAUSIBLE_RANGES,
    convert,
    plausible_ranges_frame,
    range_violation,
    range_violation_by,
    unit_scale_offset,
)


@pytest.mark.parametrize(
    ("value", "from_unit", "to_unit", "expected"),
    [
        (154.3, "lb", "kg", 69.98930269),  # 1 lb = 0.45359237 kg exactly
        (1.0, "lb", "kg", 0.45359237),
        (98.6, "degF", "degC", 37.0),
        (32.0, "°F", "°C", 0.0),
        (-40.0, "degF", "degC", -40.0),
        (418.4, "kJ", "kcal", 100.0),  # thermochemical calorie, 4.184 J
        (5.5, "mmol/L", "mg/dL", 99.0858),  # glucose, 180.156 g/mol
        (400.0, "IU", "ug", 10.0),  # vitamin D: 40 IU = 1 ug
        (1.0, "mi", "m", 1609.344),
        (5.5, "ft", "cm", 167.64),
        (0.5, "L", "mL", 500.0),
        (1.0, "fl_oz_us", "mL", 29.5735295625),
        (1.2, "g", "mg", 1200.0),
        (90.0, "s", "min", 1.5),
        (12.0, "kg", "kg", 12.0),
        (35.1, "degC", "degC", 35.1),
    ],
)
def test_convert(value, from_unit, to_unit, expected):
    assert convert(value, from_unit, to_unit) == pytest.approx(expected, rel=1e-9)


def test_unknown_conversion_raises():
    with pytest.raises(KeyError):
        convert(1.0, "kg", "mL")


@pytest.mark.parametrize(
    ("from_unit", "to_unit"),
    [
        ("lb", "kg"),
        ("degF", "degC"),
        ("kJ", "kcal"),
        ("mmol/L", "mg/dL"),
        ("IU", "ug"),
        ("mi", "m"),
        ("cm", "cm"),
    ],
)
def test_scale_offset_matches_convert(from_unit, to_unit):
    scale, offset = unit_scale_offset(from_unit, to_unit)
    for v in (0.0, 1.0, 37.5, -12.25):
        assert v * scale + offset == pytest.approx(convert(v, from_unit, to_unit), abs=1e-12)


def test_range_violation_reasons():
    df = pl.DataFrame({"v": [0.0, 300.0, 60.0, None, math.nan, 25.0, 240.0]})
    got = df.select(range_violation("heart_rate_bpm", pl.col("v"))).to_series().to_list()
    assert got == [
        "heart_rate_bpm: value 0.0 outside plausible range [25, 240]",
        "heart_rate_bpm: value 300.0 outside plausible range [25, 240]",
        None,
        "heart_rate_bpm: missing or non-numeric value",
        "heart_rate_bpm: missing or non-numeric value",
        None,  # bounds are inclusive
        None,
    ]


def test_range_violation_by_matches_per_metric_version():
    df = pl.DataFrame(
        {
            "metric": ["steps", "steps", "body_mass_kg", "vitamin_d_ug"],
            "v": [-12.0, 250.0, 1200.0, 10.0],
        }
    )
    joined = df.join(plausible_ranges_frame(), on="metric", how="left")
    by = joined.select(
        range_violation_by(
            pl.col("metric"), pl.col("v"), pl.col("lo"), pl.col("hi"), pl.col("range_text")
        )
    )
    one = [
        df[i].select(range_violation(df["metric"][i], pl.col("v"))).item() for i in range(df.height)
    ]
    assert by.to_series().to_list() == one
    assert one[0] == "steps: value -12.0 outside plausible range [0, 100000]"
    assert one[2] == "body_mass_kg: value 1200.0 outside plausible range [20, 400]"


def test_ranges_frame_and_suffixes():
    f = plausible_ranges_frame()
    assert f.height == len(PLAUSIBLE_RANGES)
    assert (f["lo"] <= f["hi"]).all()
    # units as suffixes (style guide): every metric name ends in a unit or is a count
    suffixes = (
        "_bpm",
        "_ms",
        "_kcal",
        "_m",
        "_kg",
        "_cm",
        "_ml",
        "_mg",
        "_ug",
        "_mg_dl",
        "_per_min",
        "_pct",
        "_c",
        "_min",
        "_mm",
        "_m_s",
        "steps",
    )
    # Fitbit's level (0-3) and MET are their own units (docs/data-model.md, "Metrics")
    assert all(m.endswith(suffixes) or m in ("intensity_level", "met") for m in PLAUSIBLE_RANGES)
    assert normalize.range_text("steps") == "[0, 100000]"
