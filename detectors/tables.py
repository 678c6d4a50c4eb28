"""Every table of the store, its columns and their polars types, once (issue 11).

The schema is data: ``TABLES`` maps each table of the DuckDB store (after every migration in
``pipeline/migrations/``) to its columns in table order with their polars dtypes.
``tests/pipeline/test_tables.py`` checks it column by column against a freshly migrated
store, so a migration that adds or changes a column fails until this module says so. Units
and meanings of the columns are in ``docs/data-model.md``.

Importers (``pipeline/importers``), the store and ``detectors.frames`` take their schemas
from here (:func:`rows` for what an importer emits, :func:`columns` for a subset) instead of
declaring them again. This module imports nothing of the project.

DuckDB -> polars: VARCHAR and JSON -> String, TIMESTAMPTZ -> Datetime(us, UTC), DOUBLE ->
Float64, FLOAT -> Float32, INTEGER -> Int32, BIGINT -> Int64, DATE -> Date, BOOLEAN ->
Boolean, VARCHAR[] -> List(String).
"""

from __future__ import annotations

import polars as pl

UTC_DT = pl.Datetime("us", "UTC")

#: DuckDB type names (``information_schema.columns.data_type``) -> polars dtype
DUCKDB_TYPES: dict[str, pl.DataType] = {
    "VARCHAR": pl.String,
    "JSON": pl.String,
    "TIMESTAMP WITH TIME ZONE": UTC_DT,
    "DOUBLE": pl.Float64,
    "FLOAT": pl.Float32,
    "INTEGER": pl.Int32,
    "BIGINT": pl.Int64,
    "DATE": pl.Date,
    "BOOLEAN": pl.Boolean,
    "VARCHAR[]": pl.List(pl.String),
}

TABLES: dict[str, dict[str, pl.DataType]] = {
    "accelerometry_files": {
        "participant_id": pl.String,
        "path": pl.String,
        "start_utc": UTC_DT,
        "end_utc": UTC_DT,
        "utc_offset_s": pl.Int32,
        "n_samples": pl.Int64,
        "fs_hz": pl.Float64,
        "source": pl.String,
        "import_id": pl.Int64,
    },
    "cramp_param_sets": {
        "params_id": pl.String,
        "participant_id": pl.String,
        "name": pl.String,
        "params_json": pl.String,
        "detector_version": pl.String,
        "fitted_utc": UTC_DT,
        "n_nights": pl.Int32,
        "n_events": pl.Int32,
        "heldout_f1": pl.Float64,
        "default_heldout_f1": pl.Float64,
        "active": pl.Boolean,
        "n_labels": pl.Int32,
        "labels_through_seq": pl.Int64,
    },
    "daily_exposures": {
        "participant_id": pl.String,
        "local_date": pl.Date,
        "outdoor_weather_h": pl.Int32,
        "outdoor_temp_max_c": pl.Float64,
        "outdoor_hi_max_c": pl.Float64,
        "outdoor_hi_ge_80f_h": pl.Int32,
        "outdoor_hi_ge_91f_h": pl.Int32,
        "outdoor_hi_caution_h": pl.Int32,
        "outdoor_hi_extreme_caution_h": pl.Int32,
        "outdoor_hi_danger_h": pl.Int32,
        "outdoor_hi_extreme_danger_h": pl.Int32,
        "outdoor_at_max_c": pl.Float64,
        "outdoor_at_method": pl.String,
        "outdoor_wbgt_max_c": pl.Float64,
        "outdoor_wbgt_method": pl.String,
        "exposed_hi_ge_80f_h": pl.Int32,
        "exposed_hi_ge_91f_h": pl.Int32,
        "indoor_temp_max_c": pl.Float64,
        "indoor_hi_max_c": pl.Float64,
        "indoor_wbgt_max_c": pl.Float64,
        "indoor_wbgt_method": pl.String,
        "sweat_loss_ml": pl.Float64,
        "sweat_loss_pct_bm": pl.Float64,
        "fluid_need_ml": pl.Float64,
        "fluid_logged": pl.Boolean,
        "fluid_log_status": pl.String,
        "fluid_logged_ml": pl.Float64,
        "fluid_balance_ml": pl.Float64,
        "fluid_deficit_pct_bm": pl.Float64,
        "workouts_count": pl.Int32,
        "workout_min": pl.Float64,
        "outdoor_workout_min": pl.Float64,
        "active_energy_kcal": pl.Float64,
        "steps": pl.Float64,
        "magnesium_intake_mg": pl.Float64,
        "magnesium_7d_mean_mg": pl.Float64,
        "magnesium_7d_days_logged": pl.Int32,
        "magnesium_7d_z": pl.Float64,
        "magnesium_7d_pct_rda": pl.Float64,
        "magnesium_adequacy": pl.String,
        "calcium_intake_mg": pl.Float64,
        "calcium_7d_mean_mg": pl.Float64,
        "calcium_7d_days_logged": pl.Int32,
        "calcium_7d_z": pl.Float64,
        "calcium_7d_pct_rda": pl.Float64,
        "calcium_adequacy": pl.String,
        "potassium_intake_mg": pl.Float64,
        "potassium_7d_mean_mg": pl.Float64,
        "potassium_7d_days_logged": pl.Int32,
        "potassium_7d_pct_ai": pl.Float64,
        "potassium_adequacy": pl.String,
        "vitamin_d_intake_ug": pl.Float64,
        "vitamin_d_7d_mean_ug": pl.Float64,
        "vitamin_d_7d_days_logged": pl.Int32,
        "vitamin_d_7d_z": pl.Float64,
        "vitamin_d_7d_pct_rda": pl.Float64,
        "vitamin_d_adequacy": pl.String,
        "calcium_above_ul": pl.Boolean,
        "vitamin_d_above_ul": pl.Boolean,
        "time_in_daylight_min": pl.Float64,
        "blood_glucose_mean_mg_dl": pl.Float64,
        "blood_glucose_max_mg_dl": pl.Float64,
        "conditions": pl.List(pl.String),
        "medications": pl.List(pl.String),
        "cramp_drug_classes": pl.List(pl.String),
        "cramp_condition_classes": pl.List(pl.String),
        "body_mass_kg": pl.Float64,
        "body_mass_baseline_kg": pl.Float64,
        "body_mass_delta_pct": pl.Float64,
        "next_morning_mass_change_pct": pl.Float64,
        "resting_hr_bpm": pl.Float64,
        "resting_hr_baseline_bpm": pl.Float64,
        "resting_hr_delta_bpm": pl.Float64,
        "resting_hr_z": pl.Float64,
        "sleeping_hr_bpm": pl.Float64,
        "sleeping_hr_baseline_bpm": pl.Float64,
        "sleeping_hr_delta_bpm": pl.Float64,
        "sleeping_hr_z": pl.Float64,
        "hrv_sdnn_ms": pl.Float64,
        "hrv_sdnn_baseline_ms": pl.Float64,
        "hrv_sdnn_z": pl.Float64,
        "dehydration_level": pl.String,
        "dehydration_corroboration": pl.String,
        "dehydration_confidence": pl.Float64,
        "detector_version": pl.String,
        "computed_utc": UTC_DT,
        "indoor_sensor_h": pl.Int32,
        "indoor_at_max_c": pl.Float64,
        "indoor_hi_ge_80f_h": pl.Int32,
        "indoor_hi_ge_90f_h": pl.Int32,
    },
    "detection_runs": {
        "run_id": pl.Int64,
        "started_utc": UTC_DT,
        "finished_utc": UTC_DT,
        "max_import_id": pl.Int64,
        "participants": pl.Int32,
        "nights": pl.Int32,
        "episodes_written": pl.Int32,
    },
    "environment": {
        "location_id": pl.String,
        "latitude_deg": pl.Float64,
        "longitude_deg": pl.Float64,
        "time_utc": UTC_DT,
        "utc_offset_s": pl.Int32,
        "setting": pl.String,
        "temp_c": pl.Float64,
        "rh_pct": pl.Float64,
        "dew_point_c": pl.Float64,
        "apparent_temp_c": pl.Float64,
        "precipitation_mm": pl.Float64,
        "wind_speed_m_s": pl.Float64,
        "shortwave_radiation_w_m2": pl.Float64,
        "source": pl.String,
        "import_id": pl.Int64,
    },
    "episode_labels": {
        "label_id": pl.String,
        "participant_id": pl.String,
        "episode_id": pl.String,
        "kind": pl.String,
        "start_utc": UTC_DT,
        "end_utc": UTC_DT,
        "label": pl.String,
        "labelled_utc": UTC_DT,
        "labelled_by": pl.String,
        "source": pl.String,
        "note": pl.String,
        "detector_version": pl.String,
        "confidence_at_label": pl.Float64,
        "merged_seq": pl.Int64,
        "merged_utc": UTC_DT,
    },
    "episodes": {
        "episode_id": pl.String,
        "participant_id": pl.String,
        "kind": pl.String,
        "start_utc": UTC_DT,
        "end_utc": UTC_DT,
        "local_date": pl.Date,
        "confidence": pl.Float64,
        "label": pl.String,
        "evidence": pl.String,
        "detector_version": pl.String,
        "created_utc": UTC_DT,
    },
    "exposure_runs": {
        "run_id": pl.Int64,
        "started_utc": UTC_DT,
        "finished_utc": UTC_DT,
        "max_import_id": pl.Int64,
        "participants": pl.Int32,
        "days_written": pl.Int32,
    },
    "imports": {
        "import_id": pl.Int64,
        "path": pl.String,
        "sha256": pl.String,
        "size_bytes": pl.Int64,
        "format": pl.String,
        "participant_id": pl.String,
        "rows_accepted": pl.Int64,
        "rows_duplicate": pl.Int64,
        "rows_rejected": pl.Int64,
        "status": pl.String,
        "error": pl.String,
        "started_utc": UTC_DT,
        "finished_utc": UTC_DT,
        "abs_path": pl.String,
        "mtime_ns": pl.Int64,
    },
    "journal": {
        "participant_id": pl.String,
        "time_utc": UTC_DT,
        "utc_offset_s": pl.Int32,
        "kind": pl.String,
        "severity": pl.Int32,
        "body_side": pl.String,
        "muscle": pl.String,
        "duration_s": pl.Float64,
        "note": pl.String,
        "source": pl.String,
        "import_id": pl.Int64,
    },
    "participant_locations": {
        "participant_id": pl.String,
        "location_id": pl.String,
    },
    "participants": {
        "participant_id": pl.String,
        "sex": pl.String,
        "birth_year": pl.Int32,
        "tz": pl.String,
        "home_lat_deg": pl.Float64,
        "home_lon_deg": pl.Float64,
        "height_cm": pl.Float64,
        "conditions": pl.List(pl.String),
        "medications": pl.List(pl.String),
        "updated_utc": UTC_DT,
    },
    "rejected_rows": {
        "import_id": pl.Int64,
        "record_no": pl.Int64,
        "reason": pl.String,
        "raw": pl.String,
    },
    "samples": {
        "participant_id": pl.String,
        "metric": pl.String,
        "start_utc": UTC_DT,
        "end_utc": UTC_DT,
        "utc_offset_s": pl.Int32,
        "value": pl.Float64,
        "unit": pl.String,
        "source": pl.String,
        "device": pl.String,
        "original_value": pl.Float64,
        "original_unit": pl.String,
        "import_id": pl.Int64,
    },
    "schema_migrations": {
        "version": pl.Int32,
        "name": pl.String,
        "applied_utc": UTC_DT,
    },
    "sleep_periods": {
        "participant_id": pl.String,
        "night_of": pl.Date,
        "start_utc": UTC_DT,
        "end_utc": UTC_DT,
        "utc_offset_s": pl.Int32,
        "asleep_s": pl.Float64,
        "awake_s": pl.Float64,
        "method": pl.String,
        "detector_version": pl.String,
    },
    "sleep_segments": {
        "participant_id": pl.String,
        "start_utc": UTC_DT,
        "end_utc": UTC_DT,
        "utc_offset_s": pl.Int32,
        "stage": pl.String,
        "source": pl.String,
        "device": pl.String,
        "import_id": pl.Int64,
    },
    "workouts": {
        "participant_id": pl.String,
        "activity_type": pl.String,
        "start_utc": UTC_DT,
        "end_utc": UTC_DT,
        "utc_offset_s": pl.Int32,
        "duration_s": pl.Float64,
        "active_energy_kcal": pl.Float64,
        "distance_m": pl.Float64,
        "source": pl.String,
        "device": pl.String,
        "import_id": pl.Int64,
    },
}

#: views of the store (``accelerometry``: the raw accelerometry Parquet files beside it)
VIEWS: dict[str, dict[str, pl.DataType]] = {
    "accelerometry": {
        "participant_id": pl.String,
        "time_utc": UTC_DT,
        "x_g": pl.Float32,
        "y_g": pl.Float32,
        "z_g": pl.Float32,
    },
}

#: columns the store fills itself when an importer's rows are written (never in a batch)
STORE_FILLED: tuple[str, ...] = ("import_id", "updated_utc")


def columns(table: str, names: list[str] | tuple[str, ...] | None = None
            ) -> dict[str, pl.DataType]:
    """``table``'s schema, or the named columns of it in the order given."""
    t = TABLES[table] if table in TABLES else VIEWS[table]
    if names is None:
        return dict(t)
    missing = [n for n in names if n not in t]
    if missing:
        raise KeyError(f"{table} has no column(s) {missing}")
    return {n: t[n] for n in names}


def rows(table: str, *, drop: tuple[str, ...] = STORE_FILLED) -> dict[str, pl.DataType]:
    """The schema of an importer's batch for ``table``: its columns minus those the store
    fills (``import_id``, ``updated_utc``)."""
    return {k: v for k, v in TABLES[table].items() if k not in drop}
