-- The ledger's quick check (pipeline/ingest.py): where a file was found and its modification
-- time, so that a nightly run over an inbox recognises a file it has already seen at the same
-- place, with the same size and mtime, without hashing it again and without adding a ledger
-- row each night. The content hash (sha256) stays the authority for "already imported".
ALTER TABLE imports ADD COLUMN abs_path VARCHAR;  -- absolute path of the file when imported
ALTER TABLE imports ADD COLUMN mtime_ns BIGINT;   -- its modification time, ns since the epoch
