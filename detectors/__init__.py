"""crampwatch detectors: pure functions over polars frames (no I/O, no SQL, no clock).

Public API only; see each function's docstring for inputs, method and sources. Names are
imported on first use (PEP 562), so ``import detectors.tables`` or ``detectors.schema`` does
not pay for scipy and the detectors: commands with nothing to do stay fast (issue 12).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

#: public name -> the module that defines it
_WHERE: dict[str, str] = {
    "ActigraphyParams": "detectors.actigraphy",
    "classify_minutes": "detectors.actigraphy",
    "cole_kripke_1992": "detectors.actigraphy",
    "detect_sleep_periods_actigraphy": "detectors.actigraphy",
    "epoch_z_angle": "detectors.actigraphy",
    "hdcza": "detectors.actigraphy",
    "keep_finest_resolution": "detectors.actigraphy",
    "nonwear_minutes": "detectors.actigraphy",
    "nonwear_raw": "detectors.actigraphy",
    "sadeh_1994": "detectors.actigraphy",
    "sustained_inactivity": "detectors.actigraphy",
    "z_angle_deg": "detectors.actigraphy",
    "CalibrationResult": "detectors.calibration",
    "calibrate_participant": "detectors.calibration",
    "params_id": "detectors.calibration",
    "CrampParams": "detectors.cramp_params",
    "compute_night_features": "detectors.cramps",
    "detect_nocturnal_cramps": "detectors.cramps",
    "episodes_from_candidates": "detectors.cramps",
    "score_cramp_candidates": "detectors.cramps",
    "RawCrampParams": "detectors.cramps_raw",
    "detect_raw_nights": "detectors.cramps_raw",
    "DehydrationParams": "detectors.dehydration",
    "bmr_mifflin_kcal_d": "detectors.dehydration",
    "body_surface_area_m2": "detectors.dehydration",
    "build_daily_table": "detectors.dehydration",
    "build_hourly_table": "detectors.dehydration",
    "detect_dehydration": "detectors.dehydration",
    "heat_index_c": "detectors.dehydration",
    "heat_index_f": "detectors.dehydration",
    "metabolic_rate_w_m2": "detectors.dehydration",
    "nws_heat_band": "detectors.dehydration",
    "saturation_vapour_pressure_hpa": "detectors.dehydration",
    "sweat_rate_pw_g_m2_h": "detectors.dehydration",
    "DAILY_EXPOSURES_SCHEMA": "detectors.exposures",
    "ExposureParams": "detectors.exposures",
    "compute_daily_exposures": "detectors.exposures",
    "cramp_condition_classes": "detectors.exposures",
    "cramp_drug_classes": "detectors.drugs_conditions",
    "apparent_temperature_c": "detectors.heat",
    "psychrometric_wet_bulb_c": "detectors.heat",
    "wbgt_bernard_c": "detectors.heat",
    "wbgt_liljegren_c": "detectors.heat",
    "wbgt_stull_c": "detectors.heat",
    "local_date": "detectors.nights",
    "local_datetime": "detectors.nights",
    "local_midnight_utc": "detectors.nights",
    "night_of": "detectors.nights",
    "NutrientParams": "detectors.nutrients",
    "compute_nutrient_adequacy": "detectors.nutrients",
    "reference_intakes": "detectors.nutrients",
    "REFERENCES": "detectors.references",
    "SleepParams": "detectors.sleep",
    "detect_sleep": "detectors.sleep",
    "detect_sleep_periods": "detectors.sleep",
}

if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from detectors.actigraphy import (
        ActigraphyParams,
        classify_minutes,
        cole_kripke_1992,
        detect_sleep_periods_actigraphy,
        epoch_z_angle,
        hdcza,
        keep_finest_resolution,
        nonwear_minutes,
        nonwear_raw,
        sadeh_1994,
        sustained_inactivity,
        z_angle_deg,
    )
    from detectors.calibration import CalibrationResult, calibrate_participant, params_id
    from detectors.cramps import (
        CrampParams,
        compute_night_features,
        detect_nocturnal_cramps,
        episodes_from_candidates,
        score_cramp_candidates,
    )
    from detectors.cramps_raw import RawCrampParams, detect_raw_nights
    from detectors.dehydration import (
        DehydrationParams,
        bmr_mifflin_kcal_d,
        body_surface_area_m2,
        build_daily_table,
        build_hourly_table,
        detect_dehydration,
        heat_index_c,
        heat_index_f,
        metabolic_rate_w_m2,
        nws_heat_band,
        saturation_vapour_pressure_hpa,
        sweat_rate_pw_g_m2_h,
    )
    from detectors.exposures import (
        DAILY_EXPOSURES_SCHEMA,
        ExposureParams,
        compute_daily_exposures,
        cramp_condition_classes,
        cramp_drug_classes,
    )
    from detectors.heat import (
        apparent_temperature_c,
        psychrometric_wet_bulb_c,
        wbgt_bernard_c,
        wbgt_liljegren_c,
        wbgt_stull_c,
    )
    from detectors.nights import local_date, local_datetime, local_midnight_utc, night_of
    from detectors.nutrients import NutrientParams, compute_nutrient_adequacy, reference_intakes
    from detectors.references import REFERENCES
    from detectors.sleep import SleepParams, detect_sleep, detect_sleep_periods


def __getattr__(name: str):
    mod = _WHERE.get(name)
    if mod is None:
        raise AttributeError(f"module 'detectors' has no attribute {name!r}")
    value = getattr(importlib.import_module(mod), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])


__all__ = [
    "REFERENCES",
    "DAILY_EXPOSURES_SCHEMA",
    "ExposureParams",
    "NutrientParams",
    "apparent_temperature_c",
    "compute_daily_exposures",
    "compute_nutrient_adequacy",
    "cramp_condition_classes",
    "cramp_drug_classes",
    "psychrometric_wet_bulb_c",
    "reference_intakes",
    "wbgt_bernard_c",
    "wbgt_liljegren_c",
    "wbgt_stull_c",
    "ActigraphyParams",
    "CalibrationResult",
    "calibrate_participant",
    "compute_night_features",
    "params_id",
    "classify_minutes",
    "cole_kripke_1992",
    "detect_sleep",
    "detect_sleep_periods_actigraphy",
    "epoch_z_angle",
    "hdcza",
    "keep_finest_resolution",
    "nonwear_minutes",
    "nonwear_raw",
    "sadeh_1994",
    "sustained_inactivity",
    "z_angle_deg",
    "CrampParams",
    "RawCrampParams",
    "detect_raw_nights",
    "DehydrationParams",
    "SleepParams",
    "bmr_mifflin_kcal_d",
    "body_surface_area_m2",
    "build_daily_table",
    "build_hourly_table",
    "detect_dehydration",
    "detect_nocturnal_cramps",
    "episodes_from_candidates",
    "detect_sleep_periods",
    "heat_index_c",
    "heat_index_f",
    "local_date",
    "local_datetime",
    "local_midnight_utc",
    "metabolic_rate_w_m2",
    "night_of",
    "nws_heat_band",
    "saturation_vapour_pressure_hpa",
    "score_cramp_candidates",
    "sweat_rate_pw_g_m2_h",
]
