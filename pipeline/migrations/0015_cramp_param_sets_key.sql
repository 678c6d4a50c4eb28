-- cramp_param_sets: key (participant_id, params_id) instead of params_id alone. params_id is
-- the hash of the parameter values, so two participants whose fits land on the same values
-- (both on the defaults, say) shared a key and the second fit deleted the first one's row.
CREATE TABLE cramp_param_sets_v15 (
    params_id           VARCHAR NOT NULL,     -- detectors.calibration.params_id(params)
    participant_id      VARCHAR NOT NULL,
    name                VARCHAR NOT NULL,     -- e.g. cramp-fitted-p01-72n
    params_json         VARCHAR NOT NULL,     -- detectors.calibration.params_to_json(params)
    detector_version    VARCHAR NOT NULL,     -- cramp detector version at fit time
    fitted_utc          TIMESTAMPTZ NOT NULL,
    n_nights            INTEGER,              -- labelled nights used
    n_events            INTEGER,              -- journalled cramps on them
    heldout_f1          DOUBLE,               -- leave-one-night-out F1 of the fitting procedure
    default_heldout_f1  DOUBLE,               -- same nights, default parameters
    active              BOOLEAN NOT NULL,     -- used for this participant's detections
    n_labels            INTEGER,              -- current labels used
    labels_through_seq  BIGINT,               -- max merged_seq seen
    PRIMARY KEY (participant_id, params_id)
);
INSERT INTO cramp_param_sets_v15
SELECT params_id, participant_id, name, params_json, detector_version, fitted_utc, n_nights,
       n_events, heldout_f1, default_heldout_f1, active, n_labels, labels_through_seq
FROM cramp_param_sets;
DROP TABLE cramp_param_sets;
ALTER TABLE cramp_param_sets_v15 RENAME TO cramp_param_sets;
