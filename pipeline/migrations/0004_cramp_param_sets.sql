-- Per-participant cramp-detector parameter sets fitted from the cramp journal
-- (detectors/calibration.py). At most one active set per participant.
CREATE TABLE cramp_param_sets (
    params_id           VARCHAR PRIMARY KEY,  -- detectors.calibration.params_id(params)
    participant_id      VARCHAR NOT NULL,
    name                VARCHAR NOT NULL,     -- e.g. cramp-fitted-p01-72n
    params_json         VARCHAR NOT NULL,     -- detectors.calibration.params_to_json(params)
    detector_version    VARCHAR NOT NULL,     -- cramp detector version at fit time
    fitted_utc          TIMESTAMPTZ NOT NULL,
    n_nights            INTEGER,              -- labelled nights used
    n_events            INTEGER,              -- journalled cramps on them
    heldout_f1          DOUBLE,               -- leave-one-night-out F1 of the fitting procedure
    default_heldout_f1  DOUBLE,               -- same nights, default parameters
    active              BOOLEAN NOT NULL      -- used for this participant's detections
);
