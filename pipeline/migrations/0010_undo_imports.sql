-- Undoing a wrong --participant or --timezone (issue 13): `crampwatch forget` and
-- `crampwatch reassign` remove an import's rows and keep its ledger row, saying what
-- happened; participant links and participant rows carry the import that wrote them.
ALTER TABLE imports ADD COLUMN tz VARCHAR;                 -- zone used for times without an offset (--timezone, else the participant's stored zone)
ALTER TABLE imports ADD COLUMN warning VARCHAR;            -- e.g. the export's devices share nothing with those stored for the participant
ALTER TABLE imports ADD COLUMN forgotten_utc TIMESTAMPTZ;  -- when its rows were removed (status 'forgotten')
ALTER TABLE imports ADD COLUMN forgotten_by VARCHAR;       -- the command that removed them, e.g. 'reassign --participant p02 (import 17)'
ALTER TABLE imports ADD COLUMN rows_removed BIGINT;        -- rows removed then
ALTER TABLE imports ADD COLUMN replaces_import_id BIGINT;  -- this import re-imported that forgotten one (reassign)
ALTER TABLE participant_locations ADD COLUMN import_id BIGINT;  -- the import that linked the location
ALTER TABLE participants ADD COLUMN import_id BIGINT;      -- the import that created the row (NULL: before 0010)
