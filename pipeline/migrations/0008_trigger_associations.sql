-- Trigger associations (issue 14): the time-stratified case-crossover of each participant's
-- cramp nights against the daily exposures (detectors/triggers.py), and the pooled cohort
-- estimate (participant_id = 'all'). Columns and units: docs/data-model.md, section
-- trigger_associations; methods: docs/triggers.md. Rows are replaced per participant by
-- pipeline/triggers.py.
CREATE TABLE trigger_associations (
    participant_id      VARCHAR NOT NULL,  -- or 'all' (pooled, stratified by person)
    trigger             VARCHAR NOT NULL,  -- detectors.triggers.TRIGGERS key
    trigger_group       VARCHAR NOT NULL,  -- nutrition, dehydration, exercise, bedroom_heat
    lag                 VARCHAR NOT NULL,  -- 0-24h, 24-48h
    model               VARCHAR NOT NULL,  -- single (one exposure) or adjusted (mutually)
    adjusted_for        VARCHAR,           -- comma-separated triggers (model = 'adjusted')
    exposure_definition VARCHAR NOT NULL,
    cases               INTEGER NOT NULL,  -- case nights with the exposure known
    referents           INTEGER NOT NULL,  -- non-case nights in strata with a case
    exposed_cases       INTEGER NOT NULL,  -- case nights exposed
    discordant_sets     INTEGER NOT NULL,  -- informative strata
    odds_ratio          DOUBLE,            -- NULL unless status = 'estimated'
    ci_low              DOUBLE,            -- 95 %
    ci_high             DOUBLE,            -- 95 %; NULL = unbounded (exact method, separation)
    p                   DOUBLE,
    q                   DOUBLE,            -- Benjamini-Hochberg over the participant's rows of the model
    method              VARCHAR NOT NULL,  -- mantel_haenszel, exact_conditional, conditional_logit, none
    status              VARCHAR NOT NULL CHECK (status IN ('estimated', 'insufficient_data')),
    target_or           DOUBLE,            -- the effect of the nights-needed estimate
    more_nights_needed  INTEGER,           -- further case nights for 80 % power at target_or
    evidence_grade      VARCHAR,           -- brief 5.3
    case_source         VARCHAR NOT NULL,  -- journal+confirmed, likely, ...
    triggers_version    VARCHAR NOT NULL,
    computed_utc        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (participant_id, trigger, lag, model)
);

-- what each participant's rows were computed from: the next run skips unchanged inputs
CREATE TABLE trigger_runs (
    participant_id VARCHAR PRIMARY KEY,  -- or 'all'
    inputs_key     VARCHAR NOT NULL,     -- digest of the inputs' counts and high-water marks
    case_sources   VARCHAR NOT NULL,     -- as requested: default, or e.g. journal,likely
    computed_utc   TIMESTAMPTZ NOT NULL
);
