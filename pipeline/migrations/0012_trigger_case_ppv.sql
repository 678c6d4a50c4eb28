-- Trigger statistics corrected for false case nights (issue 14; detectors/trigger_misclass.py):
-- the mean probability that the rows' case nights are real cramp nights (the journal's and
-- review labels' assumed PPV, detections' confidence). Documented in docs/data-model.md.
ALTER TABLE trigger_associations ADD COLUMN case_ppv DOUBLE;
