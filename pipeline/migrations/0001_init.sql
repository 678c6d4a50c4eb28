-- crampwatch schema v1. Never edit a released migration: add 0002_....sql instead.
-- Every instant is TIMESTAMPTZ stored in UTC; every sample keeps its local UTC offset
-- (utc_offset_s, seconds east of UTC) so that nights and days are computed in local time.
-- Natural keys are documented per table; importers insert with an anti-join on them, so
-- re-importing the same or an overlapping export never duplicates rows.

CREATE TABLE participants (
    participant_id  VARCHAR PRIMARY KEY,
    sex             VARCHAR,          -- 'female' | 'male' | 'other' | NULL (unknown)
    birth_year      INTEGER,
    tz              VARCHAR,          -- IANA zone, e.g. 'Europe/Berlin'
    home_lat_deg    DOUBLE,
    home_lon_deg    DOUBLE,
    height_cm       DOUBLE,
    conditions      VARCHAR[],        -- e.g. ['type2_diabetes', 'hypothyroidism']
    medications     VARCHAR[],        -- e.g. ['hydrochlorothiazide', 'atorvastatin']
    updated_utc     TIMESTAMPTZ
);

CREATE SEQUENCE import_id_seq START 1;
CREATE TABLE imports (
    import_id       BIGINT PRIMARY KEY DEFAULT nextval('import_id_seq'),
    path            VARCHAR NOT NULL,
    sha256          VARCHAR,
    size_bytes      BIGINT,
    format          VARCHAR,          -- apple_health | open_meteo_csv | journal_csv | participants_csv | unknown
    participant_id  VARCHAR,
    rows_accepted   BIGINT DEFAULT 0, -- new rows written
    rows_duplicate  BIGINT DEFAULT 0, -- valid rows already in the store (overlapping exports)
    rows_rejected   BIGINT DEFAULT 0, -- rows kept aside in rejected_rows
    status          VARCHAR NOT NULL, -- running | ok | partial | failed | skipped | already_imported
    error           VARCHAR,
    started_utc     TIMESTAMPTZ NOT NULL,
    finished_utc    TIMESTAMPTZ
);

CREATE TABLE rejected_rows (
    import_id       BIGINT NOT NULL,
    record_no       BIGINT,           -- 1-based line (CSV) or record ordinal (XML) in the file
    reason          VARCHAR NOT NULL,
    raw             VARCHAR           -- the rejected line / element, truncated to 2000 chars
);

-- natural key: (participant_id, metric, start_utc, end_utc, source, device)
CREATE TABLE samples (
    participant_id  VARCHAR NOT NULL,
    metric          VARCHAR NOT NULL, -- unit-suffixed name, e.g. heart_rate_bpm
    start_utc       TIMESTAMPTZ NOT NULL,
    end_utc         TIMESTAMPTZ NOT NULL,
    utc_offset_s    INTEGER NOT NULL,
    value           DOUBLE NOT NULL,  -- in `unit`
    unit            VARCHAR NOT NULL,
    source          VARCHAR NOT NULL DEFAULT '',
    device          VARCHAR NOT NULL DEFAULT '',
    original_value  DOUBLE,           -- as exported, before unit conversion
    original_unit   VARCHAR,
    import_id       BIGINT
);

-- natural key: (participant_id, start_utc, end_utc, stage, source)
CREATE TABLE sleep_segments (
    participant_id  VARCHAR NOT NULL,
    start_utc       TIMESTAMPTZ NOT NULL,
    end_utc         TIMESTAMPTZ NOT NULL,
    utc_offset_s    INTEGER NOT NULL,
    stage           VARCHAR NOT NULL, -- in_bed | asleep | awake | light | deep | rem
    source          VARCHAR NOT NULL DEFAULT '',
    device          VARCHAR NOT NULL DEFAULT '',
    import_id       BIGINT
);

-- natural key: (participant_id, activity_type, start_utc, source)
CREATE TABLE workouts (
    participant_id      VARCHAR NOT NULL,
    activity_type       VARCHAR NOT NULL, -- e.g. running, walking, cycling (HK prefix removed, snake_case)
    start_utc           TIMESTAMPTZ NOT NULL,
    end_utc             TIMESTAMPTZ NOT NULL,
    utc_offset_s        INTEGER NOT NULL,
    duration_s          DOUBLE,
    active_energy_kcal  DOUBLE,
    distance_m          DOUBLE,
    source              VARCHAR NOT NULL DEFAULT '',
    device              VARCHAR NOT NULL DEFAULT '',
    import_id           BIGINT
);

-- natural key: (location_id, time_utc, setting, source)
CREATE TABLE environment (
    location_id         VARCHAR NOT NULL, -- 'lat,lon' rounded to 0.01 deg, or a sensor name
    latitude_deg        DOUBLE,
    longitude_deg       DOUBLE,
    time_utc            TIMESTAMPTZ NOT NULL, -- start of the hour
    utc_offset_s        INTEGER NOT NULL,
    setting             VARCHAR NOT NULL DEFAULT 'outdoor', -- outdoor | indoor
    temp_c              DOUBLE,
    rh_pct              DOUBLE,
    dew_point_c         DOUBLE,
    apparent_temp_c     DOUBLE,
    precipitation_mm    DOUBLE,
    wind_speed_m_s      DOUBLE,
    shortwave_radiation_w_m2 DOUBLE,
    source              VARCHAR NOT NULL DEFAULT '',
    import_id           BIGINT
);

-- which environment series applies to which participant (home weather, bedroom sensor)
CREATE TABLE participant_locations (
    participant_id  VARCHAR NOT NULL,
    location_id     VARCHAR NOT NULL,
    PRIMARY KEY (participant_id, location_id)
);

-- natural key: (participant_id, time_utc, kind)
CREATE TABLE journal (
    participant_id  VARCHAR NOT NULL,
    time_utc        TIMESTAMPTZ NOT NULL,
    utc_offset_s    INTEGER NOT NULL,
    kind            VARCHAR NOT NULL, -- cramp | no_cramp | bathroom | note ...
    severity        INTEGER,          -- 0-10 numeric rating scale
    body_side       VARCHAR,          -- left | right | both | NULL
    muscle          VARCHAR,          -- calf | foot | thigh | hamstring | NULL
    duration_s      DOUBLE,
    note            VARCHAR,
    source          VARCHAR NOT NULL DEFAULT 'journal',
    import_id       BIGINT
);

-- detector output: main sleep period per participant and local night
CREATE TABLE sleep_periods (
    participant_id   VARCHAR NOT NULL,
    night_of         DATE NOT NULL,   -- local date of the evening the night starts (noon-to-noon)
    start_utc        TIMESTAMPTZ NOT NULL,
    end_utc          TIMESTAMPTZ NOT NULL,
    utc_offset_s     INTEGER NOT NULL,
    asleep_s         DOUBLE,
    awake_s          DOUBLE,
    method           VARCHAR NOT NULL, -- device_stages | ...
    detector_version VARCHAR NOT NULL,
    PRIMARY KEY (participant_id, night_of)
);

-- detector output: episodes
CREATE TABLE episodes (
    episode_id       VARCHAR PRIMARY KEY, -- deterministic: hash of participant, kind, start, detector_version
    participant_id   VARCHAR NOT NULL,
    kind             VARCHAR NOT NULL,    -- nocturnal_cramp | dehydration
    start_utc        TIMESTAMPTZ NOT NULL,
    end_utc          TIMESTAMPTZ NOT NULL,
    local_date       DATE NOT NULL,       -- night_of for cramps, local calendar day for dehydration
    confidence       DOUBLE NOT NULL,     -- 0-1
    label            VARCHAR NOT NULL,    -- likely (>= 0.7) | possible (0.4-0.7)
    evidence         JSON NOT NULL,       -- the signals that fired, unit-suffixed keys
    detector_version VARCHAR NOT NULL,
    created_utc      TIMESTAMPTZ NOT NULL
);

-- bookkeeping for incremental detection
CREATE TABLE detection_runs (
    run_id           BIGINT PRIMARY KEY,
    started_utc      TIMESTAMPTZ NOT NULL,
    finished_utc     TIMESTAMPTZ,
    max_import_id    BIGINT NOT NULL,     -- imports up to this id are reflected in episodes
    participants     INTEGER,
    nights           INTEGER,
    episodes_written INTEGER
);
