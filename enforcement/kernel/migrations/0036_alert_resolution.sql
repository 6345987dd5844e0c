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

-- A control marked lapsed whose lapse alert was never raised (the expiry watch raised it in a
-- second transaction, so a crash between left none, and nothing raised it later) gets it now, as
-- the watch raises it (now one transaction with the lapse: MeasureStore.lapse). One it no longer
-- asks for (the asset controlled again) is resolved, audited, by the watch's next sweep.
INSERT INTO case_alert (kind, dedupe_key, case_id, due_on, evidence)
SELECT 'measure_lapsed', 'measure_lapsed:' || m.id || ':' || to_char(m.expires_on, 'YYYY-MM-DD'), m.case_id,
       m.expires_on, jsonb_build_object('measure_id', m.id, 'kind', m.kind, 'asset', m.target_key,
                                        'expired_on', to_char(m.expires_on, 'YYYY-MM-DD'))
FROM measure m
WHERE m.status = 'lapsed' AND m.expires_on IS NOT NULL
ORDER BY m.id
ON CONFLICT (dedupe_key) DO NOTHING;
