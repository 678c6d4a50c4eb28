"""crampwatch detectors: pure functions over polars frames (no I/O, no SQL, no clock).

Public API only; see each function's docstring for inputs, method and sources.
"""

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
