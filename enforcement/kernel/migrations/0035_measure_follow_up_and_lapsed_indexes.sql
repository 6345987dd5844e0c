-- 0035: two indexes of the measure table for readers that scanned it.
--
-- measure_follow_up: the follow-ups (renewals, releases) of a control by its id. The alerts list
-- and an alert (alerts.sql list_alerts, get_alert: a renewal-due alert's renewal or release since
-- it was raised, of any status) and the expiry watch's sweep (measures.sql resolve_control_alerts:
-- the done follow-up that answered an alert) look a control's follow-ups up by parent_id; the
-- unique measure_one_follow_up holds only the pending ones, so they read the case's measures
-- (measure_case) instead: one case of 10,000 controls, 10,000 rows an alert. Partial: a freeze,
-- seal or deduction (no parent) is never looked up this way, and most rows are those.
--
-- measure_lapsed: the lapsed controls of a court (measures.sql measures_listed: GET
-- /api/v1/measures?state=lapsed, and with no state), read beside measure_expiry's past (controls
-- expired but not yet marked lapsed) instead of a scan of every measure. Lapses are incidents,
-- few beside the live and released controls; the court first, as the supervisor's list filters
-- by it, and the expiry as the list orders.

CREATE INDEX measure_follow_up ON measure (parent_id, id) WHERE parent_id IS NOT NULL;
CREATE INDEX measure_lapsed ON measure (court_code, expires_on) WHERE status = 'lapsed';
