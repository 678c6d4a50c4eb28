-- Undoing what an import did to a participant row (issue 13): `crampwatch forget --import N`
-- (and `reassign`) put the row back as it was before import N, keeping what other live
-- imports wrote, and remove it when N created it and nothing else refers to it. One row per
-- import and participant it created or changed: the row before the import, and the values
-- the import wrote (non-null values replace stored ones; NULL: left as it was).
CREATE TABLE participant_updates (
    import_id               BIGINT NOT NULL,   -- the import (→ imports)
    participant_id          VARCHAR NOT NULL,
    existed                 BOOLEAN NOT NULL,  -- the row existed before the import (false: it created it)
    before_sex              VARCHAR,
    before_birth_year       INTEGER,
    before_tz               VARCHAR,
    before_home_lat_deg     DOUBLE,
    before_home_lon_deg     DOUBLE,
    before_height_cm        DOUBLE,
    before_conditions       VARCHAR[],
    before_medications      VARCHAR[],
    before_import_id        BIGINT,            -- participants.import_id before the import
    sex                     VARCHAR,
    birth_year              INTEGER,
    tz                      VARCHAR,
    home_lat_deg            DOUBLE,
    home_lon_deg            DOUBLE,
    height_cm               DOUBLE,
    conditions              VARCHAR[],
    medications             VARCHAR[]
);
