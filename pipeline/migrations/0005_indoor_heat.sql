-- exposures-0.2: the bedroom sensor gets the outdoor side's apparent temperature and NWS band
-- hours (issue 5: heat "outdoor and indoor (bedroom) separately"). NULL without an indoor
-- sensor; rows written by exposures-0.1 are recomputed by the next update_exposures run.
ALTER TABLE daily_exposures ADD COLUMN indoor_sensor_h INTEGER;     -- h with indoor T and RH
ALTER TABLE daily_exposures ADD COLUMN indoor_at_max_c DOUBLE;      -- C, Steadman 1994 calm air
ALTER TABLE daily_exposures ADD COLUMN indoor_hi_ge_80f_h INTEGER;  -- h, NWS caution and above
ALTER TABLE daily_exposures ADD COLUMN indoor_hi_ge_90f_h INTEGER;  -- h, NWS extreme caution+
