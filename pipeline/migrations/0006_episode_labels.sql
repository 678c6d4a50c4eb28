-- Episode labels: the person's answers about detected episodes (confirmed / rejected) and
-- cramps the detector missed, from the dashboard's episode review, `crampwatch label` or an
-- import (pipeline/labels.py; docs/data-model.md, section episode_labels). History is kept:
-- a newer label for the same episode supersedes an older one (the *current* label is the
-- latest by labelled_utc, then merged_seq). Labels written while another process holds the
-- store wait in the queue file beside it (<db stem>.labels.jsonl) and are merged, idempotently
-- by label_id, by the next writer.
CREATE SEQUENCE episode_label_seq START 1;
CREATE TABLE episode_labels (
    label_id            VARCHAR PRIMARY KEY,  -- client-generated (uuid4 hex): merge key
    participant_id      VARCHAR NOT NULL,
    episode_id          VARCHAR,              -- episodes.episode_id; NULL for 'missed'
    kind                VARCHAR NOT NULL CHECK (kind IN ('nocturnal_cramp', 'dehydration')),
    start_utc           TIMESTAMPTZ NOT NULL, -- episode span, or the span given for a missed cramp
    end_utc             TIMESTAMPTZ NOT NULL,
    label               VARCHAR NOT NULL CHECK (label IN ('confirmed', 'rejected', 'missed')),
    labelled_utc        TIMESTAMPTZ NOT NULL, -- when the person answered
    labelled_by         VARCHAR NOT NULL DEFAULT 'self', -- free text; never the OS user name
    source              VARCHAR NOT NULL CHECK (source IN ('dashboard', 'cli', 'import')),
    note                VARCHAR,
    detector_version    VARCHAR,              -- of the episode when shown
    confidence_at_label DOUBLE,               -- 0-1, the episode's confidence when shown
    merged_seq          BIGINT NOT NULL DEFAULT nextval('episode_label_seq'), -- arrival order
    merged_utc          TIMESTAMPTZ NOT NULL DEFAULT now(),                   -- arrival time
    CHECK (end_utc >= start_utc),
    CHECK ((label = 'missed') = (episode_id IS NULL))
);

-- which labels a fitted cramp parameter set has seen (refit when newer labels arrive)
ALTER TABLE cramp_param_sets ADD COLUMN n_labels INTEGER;           -- current labels used
ALTER TABLE cramp_param_sets ADD COLUMN labels_through_seq BIGINT;  -- max merged_seq seen
