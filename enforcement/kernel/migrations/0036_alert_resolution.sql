-- 0036: an alert keeps who acknowledged it apart from who resolved it. acknowledged_by/_at were
-- written by every status change, so the system's resolution of a control's alert (decision 1706)
-- overwrote the judge's acknowledgement. Now acknowledged_* are written only by an
-- acknowledgement, resolved_* by a resolution (a person, 'system', or the case event's source).
-- A resolved alert's acknowledged_* named its resolver: moved to resolved_* (an acknowledgement
-- before it was already lost).

ALTER TABLE case_alert ADD COLUMN resolved_by text, ADD COLUMN resolved_at timestamptz;

UPDATE case_alert
SET resolved_by = coalesce(acknowledged_by, 'unknown'), resolved_at = coalesce(acknowledged_at, updated_at),
    acknowledged_by = NULL, acknowledged_at = NULL
WHERE status = 'resolved';

ALTER TABLE case_alert ADD CONSTRAINT case_alert_resolution
    CHECK ((status = 'resolved') = (resolved_at IS NOT NULL AND resolved_by IS NOT NULL));
