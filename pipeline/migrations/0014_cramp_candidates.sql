-- Every scored cramp candidate of the minute-level detector (detectors/cramps.py,
-- score_cramp_candidates), reported or not: the awakenings the detector looked at, with their
-- confidence under the participant's active parameter set and their evidence. Written by
-- detection with the episodes (pipeline/detect.py); `crampwatch review` ranks them for the
-- episode review without running the detector again. Columns and units: docs/data-model.md.
CREATE TABLE cramp_candidates (
    participant_id   VARCHAR NOT NULL,
    night_of         DATE NOT NULL,         -- local date the night begins
    start_utc        TIMESTAMPTZ NOT NULL,
    end_utc          TIMESTAMPTZ NOT NULL,
    confidence       DOUBLE NOT NULL,       -- 0-1; 0 when a confounder vetoed it
    label            VARCHAR,               -- likely, possible, NULL (not reported)
    suppressed_by    VARCHAR,               -- the vetoing confounder, or NULL
    evidence         VARCHAR NOT NULL,      -- JSON, as in episodes.evidence
    params_id        VARCHAR NOT NULL,      -- the parameter set it was scored with
    detector_version VARCHAR NOT NULL,
    computed_utc     TIMESTAMPTZ NOT NULL
);

-- the next `crampwatch detect` (or nightly run) detects every night once more, which fills the
-- table; the detection run history before this upgrade is dropped with it
DELETE FROM detection_runs;
