-- N-of-1 prevention experiments (issue 14): a randomised schedule of blocks with and without an
-- intervention (magnesium supplement, bedtime calf stretch, fluid target) in pairs, and its
-- analysis (detectors/nof1.py, pipeline/triggers.py). Columns and units: docs/data-model.md.
CREATE TABLE experiments (
    experiment_id   VARCHAR PRIMARY KEY,  -- <participant>-<intervention>-<start date>
    participant_id  VARCHAR NOT NULL,
    intervention    VARCHAR NOT NULL CHECK (intervention IN ('magnesium', 'stretch', 'fluid')),
    instructions    VARCHAR NOT NULL,
    pairs           INTEGER NOT NULL,     -- block pairs
    block_days      INTEGER NOT NULL,     -- days per block
    washout_days    INTEGER NOT NULL,     -- first nights of each block left out of the analysis
    start_date      DATE NOT NULL,        -- first night of the first block (local)
    end_date        DATE NOT NULL,        -- last night of the last block
    seed            BIGINT NOT NULL,      -- of the randomisation
    created_utc     TIMESTAMPTZ NOT NULL
);

CREATE TABLE experiment_blocks (
    experiment_id   VARCHAR NOT NULL,
    pair            INTEGER NOT NULL,     -- 1..pairs
    block           INTEGER NOT NULL,     -- 1..2*pairs, in time order
    arm             VARCHAR NOT NULL CHECK (arm IN ('intervention', 'control')),
    start_date      DATE NOT NULL,        -- first night (local)
    end_date        DATE NOT NULL,        -- last night
    PRIMARY KEY (experiment_id, block)
);

CREATE TABLE experiment_results (
    experiment_id       VARCHAR PRIMARY KEY,
    participant_id      VARCHAR NOT NULL,
    pairs_complete      INTEGER NOT NULL,  -- pairs with observed nights in both blocks
    nights_on           INTEGER NOT NULL,  -- analysed nights (after washout), intervention
    nights_off          INTEGER NOT NULL,
    cramp_nights_on     INTEGER NOT NULL,
    cramp_nights_off    INTEGER NOT NULL,
    rate_ratio          DOUBLE,            -- cramp-night rate on / off, stratified by pair
    rr_ci_low           DOUBLE,            -- 95 %
    rr_ci_high          DOUBLE,
    p                   DOUBLE,
    rate_difference_per_week DOUBLE,       -- cramp nights per week, on - off: mean over pairs
    rd_ci_low           DOUBLE,            -- 95 %, t over pairs
    rd_ci_high          DOUBLE,
    verdict             VARCHAR NOT NULL CHECK (verdict IN ('effect', 'no_effect', 'inconclusive', 'not_started')),
    more_pairs_needed   INTEGER,           -- for 80 % power at the stated effect (NULL: enough or unknown)
    method              VARCHAR NOT NULL,
    case_source         VARCHAR NOT NULL,
    computed_utc        TIMESTAMPTZ NOT NULL
);
