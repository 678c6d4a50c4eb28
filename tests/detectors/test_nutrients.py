"""Nutrient reference intakes and the rolling 7-day IOM (2000) adequacy rules."""

from __future__ import annotations

import math
from datetime import date, timedelta

import polars as pl
import pytest

from detectors.nutrients import (
    NUTRIENT_SCHEMA,
    compute_nutrient_adequacy,
    potassium_caution,
    reference_intakes,
)
from tests.detectors.builders import at, participants, samples

D0 = date(2024, 7, 1)


def _ppl(sex: str | None = "female", birth_year: int | None = 1958, **extra) -> pl.DataFrame:
    row = {"participant_id": "p1", "sex": sex, "birth_year": birth_year, "height_cm": 165.0}
    out = participants([{**row, "tz": "Europe/Berlin"}])
    for k, v in extra.items():
        out = out.with_columns(pl.lit(v).alias(k))
    return out


def _diary(per_day: dict[int, float], metric: str = "magnesium_mg", meals: int = 3) -> pl.DataFrame:
    """``per_day``: day index -> day total, split evenly over ``meals`` eating occasions."""
    rows = []
    for i, total in per_day.items():
        d = D0 + timedelta(days=i)
        for hh in ("08:00", "13:00", "19:00")[:meals]:
            rows.append((metric, at(d, hh), at(d, hh), total / meals))
    return samples(rows)


def _day(out: pl.DataFrame, i: int) -> dict:
    return out.filter(pl.col("local_date") == D0 + timedelta(days=i)).row(0, named=True)


# --- reference tables ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nutrient", "sex", "age", "field", "value"),
    [
        ("magnesium", "male", 45, "rda", 420.0),  # IOM 1997 / NIH ODS, >= 31 y
        ("magnesium", "female", 25, "ear", 255.0),
        ("magnesium", "female", 67, "ear", 265.0),
        ("magnesium", "male", 67, "ul", None),  # UL is for supplements only
        ("calcium", "female", 60, "rda", 1200.0),  # IOM 2011, women 51-70
        ("calcium", "male", 60, "rda", 1000.0),
        ("calcium", "male", 75, "ear", 1000.0),
        ("calcium", "female", 40, "ul", 2500.0),
        ("calcium", "female", 55, "ul", 2000.0),
        ("potassium", "male", 40, "ai", 3400.0),  # NASEM 2019, AI only
        ("potassium", "female", 40, "ai", 2600.0),
        ("potassium", "female", 40, "ear", None),
        ("vitamin_d", "male", 65, "rda", 15.0),  # IOM 2011
        ("vitamin_d", "male", 75, "rda", 20.0),
        ("vitamin_d", "female", 30, "ul", 100.0),
    ],
)
def test_reference_intakes(nutrient, sex, age, field, value) -> None:
    assert getattr(reference_intakes(nutrient, sex, age), field) == value


def test_no_reference_without_sex_or_below_14() -> None:
    assert reference_intakes("magnesium", None, 40) is None
    assert reference_intakes("magnesium", "other", 40) is None
    assert reference_intakes("calcium", "female", 10) is None


# --- adequacy --------------------------------------------------------------------------------


def test_iom_z_score_and_flags() -> None:
    # woman, 66 y: Mg EAR 265, RDA 320. Seven logged days of 200 and 220 mg alternating
    days = {i: (200.0 if i % 2 else 220.0) for i in range(7)}
    out = compute_nutrient_adequacy(_diary(days), _ppl())
    d = _day(out, 6)
    vals = [days[i] for i in range(7)]
    mean = sum(vals) / 7
    sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / 6)
    z = (mean - 265) / math.sqrt((0.1 * 265) ** 2 + sd**2 / 7)
    assert d["magnesium_7d_days_logged"] == 7
    assert d["magnesium_7d_mean_mg"] == pytest.approx(mean)
    assert d["magnesium_7d_z"] == pytest.approx(z)
    assert z <= -1 and d["magnesium_adequacy"] == "likely_inadequate"
    assert d["magnesium_7d_pct_rda"] == pytest.approx(mean / 320 * 100)


def test_adequate_and_uncertain() -> None:
    high = compute_nutrient_adequacy(_diary({i: 400.0 for i in range(7)}), _ppl())
    assert _day(high, 6)["magnesium_adequacy"] == "likely_adequate"
    mid = compute_nutrient_adequacy(_diary({i: 270.0 for i in range(7)}), _ppl())
    assert _day(mid, 6)["magnesium_adequacy"] == "uncertain"


def test_fewer_than_five_logged_days_is_insufficient() -> None:
    out = compute_nutrient_adequacy(_diary({0: 300, 1: 300, 3: 300, 6: 300}), _ppl())
    d = _day(out, 6)
    assert d["magnesium_7d_days_logged"] == 4
    assert d["magnesium_adequacy"] == "insufficient_data"
    assert d["magnesium_7d_mean_mg"] is None and d["magnesium_7d_z"] is None


def test_a_single_entry_day_is_not_logged_but_its_total_is_reported() -> None:
    smp = pl.concat([_diary({i: 300.0 for i in range(6)}), _diary({6: 50.0}, meals=1)])
    d = _day(compute_nutrient_adequacy(smp, _ppl()), 6)
    assert d["magnesium_intake_mg"] == pytest.approx(50.0)
    assert d["magnesium_7d_days_logged"] == 6  # day 6 has one eating occasion only
    assert d["magnesium_7d_mean_mg"] == pytest.approx(300.0)


def test_unlogged_day_is_null_not_zero_and_window_carries_on() -> None:
    days = pl.DataFrame({"participant_id": ["p1"], "local_date": [D0 + timedelta(days=7)]})
    out = compute_nutrient_adequacy(_diary({i: 300.0 for i in range(7)}), _ppl(), days)
    d = out.row(0, named=True)
    assert d["magnesium_intake_mg"] is None  # nothing logged that day
    assert d["magnesium_7d_days_logged"] == 6 and d["magnesium_adequacy"] != "insufficient_data"
    assert d["calcium_intake_mg"] is None and d["calcium_adequacy"] == "insufficient_data"


def test_potassium_ai_rules() -> None:
    above = compute_nutrient_adequacy(_diary({i: 2700.0 for i in range(7)}, "potassium_mg"), _ppl())
    assert _day(above, 6)["potassium_adequacy"] == "at_or_above_ai"
    below = compute_nutrient_adequacy(_diary({i: 2000.0 for i in range(7)}, "potassium_mg"), _ppl())
    d = _day(below, 6)
    assert d["potassium_adequacy"] == "below_ai_undetermined"  # never "inadequate"
    assert d["potassium_7d_pct_ai"] == pytest.approx(2000 / 2600 * 100)
    arb = _ppl(medications=["losartan"])
    d = _day(
        compute_nutrient_adequacy(_diary({i: 2000.0 for i in range(7)}, "potassium_mg"), arb), 6
    )
    assert d["potassium_adequacy"] == "not_assessed_high_k_risk"


def test_potassium_caution_lookup() -> None:
    assert potassium_caution(["ckd"], None)
    assert potassium_caution(None, ["triamterene/hydrochlorothiazide"])
    assert potassium_caution(None, ["Ramipril"])
    assert not potassium_caution(["hypothyroidism"], ["hydrochlorothiazide", "atorvastatin"])


def test_upper_limits() -> None:
    smp = pl.concat([_diary({0: 3000.0}, "calcium_mg"), _diary({0: 150.0}, "vitamin_d_ug")])
    d = _day(compute_nutrient_adequacy(smp, _ppl()), 0)
    assert d["calcium_above_ul"] is True  # 3000 > 2000 mg (>= 51 y)
    assert d["vitamin_d_above_ul"] is True  # 150 > 100 ug
    d = _day(compute_nutrient_adequacy(_diary({0: 800.0}, "calcium_mg"), _ppl()), 0)
    assert d["calcium_above_ul"] is False and d["vitamin_d_above_ul"] is None


def test_unknown_sex_gives_no_reference() -> None:
    out = compute_nutrient_adequacy(_diary({i: 300.0 for i in range(7)}), _ppl(sex=None))
    d = _day(out, 6)
    assert d["magnesium_adequacy"] == "no_reference"
    assert d["magnesium_7d_mean_mg"] == pytest.approx(300.0) and d["magnesium_7d_z"] is None


def test_empty_inputs() -> None:
    out = compute_nutrient_adequacy(pl.DataFrame(), pl.DataFrame())
    assert out.height == 0 and out.schema == pl.Schema(NUTRIENT_SCHEMA)
