"""The trigger definitions and the exposure of every night to them (issue 14; brief section 9;
docs/triggers.md).

Part of :mod:`detectors.triggers` (which re-exports every public name): :data:`TRIGGERS`,
binary day-level definitions over ``daily_exposures`` in the article's order with the brief's
evidence grade (section 5.3); :func:`exposure_long` reads them at lag 0-24 h and 24-48 h;
:func:`analysis_frame` joins the nights to their exposures with the time-stratified stratum
(the same person, calendar month and weekday; Janes, Sheppard & Lumley 2005).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import polars as pl

#: lag labels: 0-24 h = the exposure day is the day whose evening the night begins
LAGS: dict[str, int] = {"0-24h": 0, "24-48h": 1}


@dataclass(frozen=True)
class Trigger:
    """A binary day-level exposure definition over ``daily_exposures`` columns."""

    key: str
    group: str  # nutrition, dehydration, exercise, bedroom_heat (the article's order)
    definition: str  # human-readable, with units
    columns: tuple[str, ...]  # daily_exposures columns it reads
    expr: Callable[[], pl.Expr]  # -> Boolean (null = unknown that day)
    grade: str  # brief 5.3 evidence grade of the trigger for nocturnal cramps
    primary: bool = False  # in the pre-specified mutually adjusted model (lag 0-24 h)


def _lt(col: str, v: float) -> Callable[[], pl.Expr]:
    return lambda: pl.col(col) < v


def _ge(col: str, v: float) -> Callable[[], pl.Expr]:
    return lambda: pl.col(col) >= v


def _le(col: str, v: float) -> Callable[[], pl.Expr]:
    return lambda: pl.col(col) <= v


def _dehydration_day() -> pl.Expr:
    return pl.col("dehydration_level") == "likely_dehydration_condition"


def _exercise_load() -> pl.Expr:
    # the person's own upper quartile of daily active energy (over the days in the frame)
    return pl.col("active_energy_kcal") >= pl.col("active_energy_kcal").quantile(
        0.75, "linear"
    ).over("participant_id")


#: the exposure definitions, in the article's order (nutrition; dehydration; exercise;
#: bedroom heat). A definition that reads a 7-day window (nutrients) is that window ending on
#: the exposure day. Grades: brief section 5.3
TRIGGERS: tuple[Trigger, ...] = (
    Trigger("magnesium_low", "nutrition",
            "7-day mean magnesium intake (day and 6 before, >= 5 logged days) below the RDA "
            "(magnesium_7d_pct_rda < 100 %)", ("magnesium_7d_pct_rda",),
            _lt("magnesium_7d_pct_rda", 100.0), "C", primary=True),
    Trigger("calcium_low", "nutrition",
            "7-day mean calcium intake below the RDA (calcium_7d_pct_rda < 100 %)",
            ("calcium_7d_pct_rda",), _lt("calcium_7d_pct_rda", 100.0), "C/D"),
    Trigger("potassium_low", "nutrition",
            "7-day mean potassium intake below the AI (potassium_7d_pct_ai < 100 %)",
            ("potassium_7d_pct_ai",), _lt("potassium_7d_pct_ai", 100.0), "C/D"),
    Trigger("vitamin_d_low", "nutrition",
            "7-day mean vitamin D intake below the RDA (vitamin_d_7d_pct_rda < 100 %)",
            ("vitamin_d_7d_pct_rda",), _lt("vitamin_d_7d_pct_rda", 100.0), "D"),
    Trigger("heat_index_caution", "dehydration",
            ">= 2 h with outdoor heat index >= 80 F (27 C; NWS caution band and above; "
            "outdoor_hi_ge_80f_h >= 2 h)", ("outdoor_hi_ge_80f_h",),
            _ge("outdoor_hi_ge_80f_h", 2), "C/D", primary=True),
    Trigger("heat_index_high", "dehydration",
            ">= 1 h with outdoor heat index >= 91 F (33 C; OSHA moderate risk and above; "
            "outdoor_hi_ge_91f_h >= 1 h)", ("outdoor_hi_ge_91f_h",),
            _ge("outdoor_hi_ge_91f_h", 1), "C/D"),
    Trigger("sweat_loss_high", "dehydration",
            "estimated sweat loss >= 1 % of body mass (sweat_loss_pct_bm >= 1 %)",
            ("sweat_loss_pct_bm",), _ge("sweat_loss_pct_bm", 1.0), "C/D"),
    Trigger("fluid_deficit", "dehydration",
            "fluid balance of a logged day >= 1 % of body mass short of need "
            "(fluid_deficit_pct_bm >= 1 %; unknown when water was not logged)",
            ("fluid_deficit_pct_bm",), _ge("fluid_deficit_pct_bm", 1.0), "C/D"),
    Trigger("dehydration_condition_day", "dehydration",
            "the dehydration detector's level is likely_dehydration_condition (deficit >= 2 % "
            "of body mass; dehydration_level)", ("dehydration_level",), _dehydration_day,
            "C/D", primary=True),
    Trigger("body_mass_drop", "dehydration",
            "next-morning body mass >= 1 % below its 7-morning baseline "
            "(next_morning_mass_change_pct <= -1 %; weighed at the end of the night)",
            ("next_morning_mass_change_pct",), _le("next_morning_mass_change_pct", -1.0),
            "C/D"),
    Trigger("exercise_load", "exercise",
            "active energy in the person's own top quarter of days "
            "(active_energy_kcal >= their 75th percentile, kcal)", ("active_energy_kcal",),
            _exercise_load, "C/D", primary=True),
    Trigger("bedroom_heat", "bedroom_heat",
            ">= 1 h with indoor (bedroom sensor) heat index >= 80 F (indoor_hi_ge_80f_h >= 1 h; "
            "unknown without an indoor sensor)", ("indoor_hi_ge_80f_h",),
            _ge("indoor_hi_ge_80f_h", 1), "D"),
)  # fmt: skip
TRIGGER_BY_KEY = {t.key: t for t in TRIGGERS}


def exposure_long(daily: pl.DataFrame, triggers: Sequence[Trigger] = TRIGGERS) -> pl.DataFrame:
    """Binary exposures by night: ``participant_id, night_of, trigger, lag, x`` (x 0/1, rows
    with unknown exposure dropped). Lag 0-24 h takes the exposure day = ``night_of``, lag
    24-48 h the day before. Missing ``daily_exposures`` columns count as unknown."""
    have = set(daily.columns)
    exprs = []
    for t in triggers:
        if all(c in have for c in t.columns):
            exprs.append(t.expr().cast(pl.Int8).alias(t.key))
        else:
            exprs.append(pl.lit(None, pl.Int8).alias(t.key))
    base = daily.select("participant_id", "local_date", *exprs)
    frames = []
    for lag, shift in LAGS.items():
        frames.append(
            base.with_columns(
                night_of=pl.col("local_date") + timedelta(days=shift), lag=pl.lit(lag)
            )
        )
    wide = pl.concat(frames).drop("local_date")
    long = wide.unpivot(
        index=["participant_id", "night_of", "lag"],
        on=[t.key for t in triggers],
        variable_name="trigger",
        value_name="x",
    )
    return long.drop_nulls("x")


def analysis_frame(nights: pl.DataFrame, exposures: pl.DataFrame) -> pl.DataFrame:
    """Nights (:func:`case_nights`) joined with their exposures (:func:`exposure_long`), with
    the time-stratified stratum: person, year-month and weekday of ``night_of``."""
    n = nights.with_columns(
        stratum=pl.concat_str(
            "participant_id",
            pl.col("night_of").dt.strftime("%Y-%m"),
            pl.col("night_of").dt.weekday().cast(pl.String),
            separator="|",
        )
    )
    return n.join(exposures, on=["participant_id", "night_of"], how="inner")
