-- Conditions and medications beside the trigger statistics (detectors/triggers.py
-- context_triggers and between_person_rates), written with trigger_associations by
-- pipeline/store_triggers.py so that `crampwatch triggers` with nothing new reads them instead
-- of recomputing (issue 12: a command with little to do answers in under 2 s). Columns and
-- units: docs/data-model.md.
CREATE TABLE trigger_context (
    participant_id VARCHAR NOT NULL,
    kind           VARCHAR NOT NULL,  -- condition or medication
    trigger        VARCHAR NOT NULL,  -- class key (detectors/drugs_conditions.py)
    finding        VARCHAR NOT NULL,  -- what the literature reports
    evidence_grade VARCHAR NOT NULL,  -- brief 5.3
    computed_utc   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (participant_id, kind, trigger)
);

CREATE TABLE trigger_between_people (
    kind                 VARCHAR NOT NULL,  -- condition or medication
    trigger              VARCHAR NOT NULL,
    people_with          BIGINT NOT NULL,
    people_without       BIGINT NOT NULL,
    cramp_nights_with    BIGINT NOT NULL,
    nights_with          BIGINT NOT NULL,
    cramp_nights_without BIGINT NOT NULL,
    nights_without       BIGINT NOT NULL,
    rate_ratio           DOUBLE,
    ci_low               DOUBLE,  -- 95 %, exact conditional (binomial split)
    ci_high              DOUBLE,
    p                    DOUBLE,
    case_source          VARCHAR NOT NULL,  -- the case sources of the nights counted
    caveat               VARCHAR NOT NULL,
    computed_utc         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (kind, trigger)
);

-- the next run recomputes every participant's trigger rows once, which fills the two tables
DELETE FROM trigger_runs;
