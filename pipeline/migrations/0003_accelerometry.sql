-- crampwatch schema: raw accelerometry. Never edit a released migration: add a new one.
-- Raw samples (30-100 Hz) live in zstd Parquet files in the data folder beside the store
-- (crampwatch.duckdb -> crampwatch.data/accelerometry/participant_id=<id>/<sha256>.parquet,
-- columns time_utc TIMESTAMP(us, UTC), x_g/y_g/z_g FLOAT in g); this table indexes them.

-- natural key: (participant_id, start_utc, source)
CREATE TABLE accelerometry_files (
    participant_id  VARCHAR NOT NULL,
    path            VARCHAR NOT NULL,   -- relative to the data folder, '/'-separated
    start_utc       TIMESTAMPTZ NOT NULL, -- first sample
    end_utc         TIMESTAMPTZ NOT NULL, -- last sample
    utc_offset_s    INTEGER NOT NULL,   -- local offset at the first sample
    n_samples       BIGINT NOT NULL,
    fs_hz           DOUBLE,             -- 1 / median sample interval
    source          VARCHAR NOT NULL DEFAULT '', -- accelerometry:<device>
    import_id       BIGINT
);

-- Every sample of every file: participant_id, time_utc, x_g, y_g, z_g. Until a file exists
-- this is an empty placeholder with those columns; the writer replaces it with a view over
-- read_parquet('<absolute data folder>/accelerometry/*/*.parquet', hive_partitioning = true)
-- (pipeline.importers.accelerometry.ensure_accelerometry_view) before publishing a snapshot.
CREATE VIEW accelerometry AS
SELECT CAST(NULL AS VARCHAR) AS participant_id, CAST(NULL AS TIMESTAMPTZ) AS time_utc,
       CAST(NULL AS FLOAT) AS x_g, CAST(NULL AS FLOAT) AS y_g, CAST(NULL AS FLOAT) AS z_g
WHERE false;
