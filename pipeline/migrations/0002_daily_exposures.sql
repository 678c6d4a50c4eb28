-- crampwatch schema v2: daily_exposures, one row per participant and local calendar day with
-- every cramp trigger the data can speak to (detectors/exposures.py). Columns, units and
-- sources: docs/data-model.md, section daily_exposures. Missing data is NULL, never zero.
-- Rows are replaced per participant and date range by pipeline/exposures.py.

CREATE TABLE daily_exposures (
    participant_id VARCHAR NOT NULL,
    local_date DATE NOT NULL,

    -- outdoor weather of the participant's location (ambient; NULL without weather rows)
    outdoor_weather_h INTEGER,
    outdoor_temp_max_c DOUBLE,
    outdoor_hi_max_c DOUBLE,
    outdoor_hi_ge_80f_h INTEGER,
    outdoor_hi_ge_91f_h INTEGER,
    outdoor_hi_caution_h INTEGER,
    outdoor_hi_extreme_caution_h INTEGER,
    outdoor_hi_danger_h INTEGER,
    outdoor_hi_extreme_danger_h INTEGER,
    outdoor_at_max_c DOUBLE,
    outdoor_at_method VARCHAR,
    outdoor_wbgt_max_c DOUBLE,
    outdoor_wbgt_method VARCHAR,
    exposed_hi_ge_80f_h INTEGER,
    exposed_hi_ge_91f_h INTEGER,

    -- indoor sensor (environment.setting = 'indoor'; NULL without one)
    indoor_temp_max_c DOUBLE,
    indoor_hi_max_c DOUBLE,
    indoor_wbgt_max_c DOUBLE,
    indoor_wbgt_method VARCHAR,

    -- sweat and fluids (NULL balance when water was not logged: fluid_logged = false)
    sweat_loss_ml DOUBLE,
    sweat_loss_pct_bm DOUBLE,
    fluid_need_ml DOUBLE,
    fluid_logged BOOLEAN,
    fluid_log_status VARCHAR,
    fluid_logged_ml DOUBLE,
    fluid_balance_ml DOUBLE,
    fluid_deficit_pct_bm DOUBLE,

    -- activity
    workouts_count INTEGER,
    workout_min DOUBLE,
    outdoor_workout_min DOUBLE,
    active_energy_kcal DOUBLE,
    steps DOUBLE,

    -- nutrients: day totals and rolling 7-day adequacy (IOM 2000; NIH ODS reference intakes)
    magnesium_intake_mg DOUBLE,
    magnesium_7d_mean_mg DOUBLE,
    magnesium_7d_days_logged INTEGER,
    magnesium_7d_z DOUBLE,
    magnesium_7d_pct_rda DOUBLE,
    magnesium_adequacy VARCHAR,
    calcium_intake_mg DOUBLE,
    calcium_7d_mean_mg DOUBLE,
    calcium_7d_days_logged INTEGER,
    calcium_7d_z DOUBLE,
    calcium_7d_pct_rda DOUBLE,
    calcium_adequacy VARCHAR,
    potassium_intake_mg DOUBLE,
    potassium_7d_mean_mg DOUBLE,
    potassium_7d_days_logged INTEGER,
    potassium_7d_pct_ai DOUBLE,
    potassium_adequacy VARCHAR,
    vitamin_d_intake_ug DOUBLE,
    vitamin_d_7d_mean_ug DOUBLE,
    vitamin_d_7d_days_logged INTEGER,
    vitamin_d_7d_z DOUBLE,
    vitamin_d_7d_pct_rda DOUBLE,
    vitamin_d_adequacy VARCHAR,
    calcium_above_ul BOOLEAN,
    vitamin_d_above_ul BOOLEAN,

    -- daylight, glucose
    time_in_daylight_min DOUBLE,
    blood_glucose_mean_mg_dl DOUBLE,
    blood_glucose_max_mg_dl DOUBLE,

    -- participant conditions and medications (as currently recorded) with cramp-associated classes
    conditions VARCHAR[],
    medications VARCHAR[],
    cramp_drug_classes VARCHAR[],
    cramp_condition_classes VARCHAR[],

    -- body mass, heart rate and HRV against the person's own baselines
    body_mass_kg DOUBLE,
    body_mass_baseline_kg DOUBLE,
    body_mass_delta_pct DOUBLE,
    next_morning_mass_change_pct DOUBLE,
    resting_hr_bpm DOUBLE,
    resting_hr_baseline_bpm DOUBLE,
    resting_hr_delta_bpm DOUBLE,
    resting_hr_z DOUBLE,
    sleeping_hr_bpm DOUBLE,
    sleeping_hr_baseline_bpm DOUBLE,
    sleeping_hr_delta_bpm DOUBLE,
    sleeping_hr_z DOUBLE,
    hrv_sdnn_ms DOUBLE,
    hrv_sdnn_baseline_ms DOUBLE,
    hrv_sdnn_z DOUBLE,

    -- the dehydration condition of the day (detectors.dehydration)
    dehydration_level VARCHAR,
    dehydration_corroboration VARCHAR,
    dehydration_confidence DOUBLE,
    detector_version VARCHAR NOT NULL,
    computed_utc TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (participant_id, local_date)
);

-- bookkeeping for pipeline/exposures.py (independent of detection_runs)
CREATE TABLE exposure_runs (
    run_id           BIGINT PRIMARY KEY,
    started_utc      TIMESTAMPTZ NOT NULL,
    finished_utc     TIMESTAMPTZ,
    max_import_id    BIGINT NOT NULL,     -- imports up to this id are reflected in daily_exposures
    participants     INTEGER,
    days_written     INTEGER
);
