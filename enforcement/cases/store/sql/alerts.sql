-- upsert_alert --
-- $1 kind, $2 dedupe key, $3 case id, $4 party id, $5 search id, $6 round id, $7 event id, $8 due_on, $9 evidence jsonb: raise an alert once per key; raising it again merges the evidence's "assets" lists; returns the row and whether it was created
INSERT INTO case_alert (kind, dedupe_key, case_id, party_id, search_id, round_id, event_id, due_on, evidence)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (dedupe_key) DO UPDATE
SET evidence = case_alert.evidence || jsonb_build_object('assets', (
        SELECT coalesce(jsonb_agg(DISTINCT x), '[]'::jsonb)
        FROM jsonb_array_elements(coalesce(case_alert.evidence->'assets', '[]'::jsonb)
                                  || coalesce(EXCLUDED.evidence->'assets', '[]'::jsonb)) AS x)),
    updated_at = now()
WHERE EXCLUDED.evidence ? 'assets'
  AND NOT (coalesce(case_alert.evidence->'assets', '[]'::jsonb) @> (EXCLUDED.evidence->'assets'))
RETURNING id, (xmax = 0) AS created

-- list_alerts --
-- $1 court (null: any), $2 judge login (null: any), $3 status (null: any), $4 kind (null: any), $5 case id (null: any), $6 limit, $7 offset: alerts newest first, with their case, a renewal-due alert's renewal or release submitted since (follow_up_*), and the total
SELECT a.id, a.kind, a.case_id, c.case_number, c.court_code, c.judge_login, a.party_id, p.name AS debtor_name,
       a.search_id, a.round_id, a.event_id, a.due_on, a.evidence, a.status, a.raised_at, a.updated_at,
       a.acknowledged_by, a.acknowledged_at, a.resolved_by, a.resolved_at, c.status AS case_status, c.closure_mode,
       fu.id AS follow_up_id, fu.kind AS follow_up_kind, fu.status AS follow_up_status,
       fu.document_number AS follow_up_notice,
       count(*) OVER () AS total
FROM case_alert a
JOIN enforcement_case c ON c.id = a.case_id
LEFT JOIN case_party p ON p.id = a.party_id
LEFT JOIN LATERAL (
    -- a renewal-due alert's answer so far: the latest renewal or release of its control since it was raised
    -- (a read-only look at the measures feature's table, as lifecycle.sql's: decision 1701)
    SELECT f.id, f.kind, f.status, f.document_number FROM measure f
    WHERE a.kind = 'measure_renewal_due' AND f.case_id = a.case_id
      AND f.parent_id = (a.evidence->>'measure_id')::bigint AND f.kind IN ('renew', 'release')
      AND f.created_at >= a.raised_at
    ORDER BY f.id DESC LIMIT 1) fu ON true
WHERE ($1::text IS NULL OR c.court_code = $1)
  AND ($2::text IS NULL OR c.judge_login = $2)
  AND ($3::text IS NULL OR a.status = $3)
  AND ($4::text IS NULL OR a.kind = $4)
  AND ($5::bigint IS NULL OR a.case_id = $5)
ORDER BY a.raised_at DESC, a.id DESC
LIMIT $6 OFFSET $7

-- get_alert --
-- $1 alert id: the alert with its case (and, as list_alerts, its follow-up)
SELECT a.id, a.kind, a.case_id, c.case_number, c.court_code, c.judge_login, a.party_id, p.name AS debtor_name,
       a.search_id, a.round_id, a.event_id, a.due_on, a.evidence, a.status, a.raised_at, a.updated_at,
       a.acknowledged_by, a.acknowledged_at, a.resolved_by, a.resolved_at, c.status AS case_status, c.closure_mode,
       fu.id AS follow_up_id, fu.kind AS follow_up_kind, fu.status AS follow_up_status,
       fu.document_number AS follow_up_notice
FROM case_alert a
JOIN enforcement_case c ON c.id = a.case_id
LEFT JOIN case_party p ON p.id = a.party_id
LEFT JOIN LATERAL (
    -- a renewal-due alert's answer so far: the latest renewal or release of its control since it was raised
    -- (a read-only look at the measures feature's table, as lifecycle.sql's: decision 1701)
    SELECT f.id, f.kind, f.status, f.document_number FROM measure f
    WHERE a.kind = 'measure_renewal_due' AND f.case_id = a.case_id
      AND f.parent_id = (a.evidence->>'measure_id')::bigint AND f.kind IN ('renew', 'release')
      AND f.created_at >= a.raised_at
    ORDER BY f.id DESC LIMIT 1) fu ON true
WHERE a.id = $1

-- set_alert_status --
-- $1 alert id, $2 new status (acknowledged | resolved), $3 by login: a person's change, under the row's lock, with the status it had (from_status) for the audit record written in the same transaction; an acknowledgement sets acknowledged_*, a resolution resolved_* (the acknowledgement kept); acknowledging a resolved alert reopens it as acknowledged; the same status again changes nothing (no row)
WITH old AS (SELECT id, status FROM case_alert WHERE id = $1 FOR UPDATE)
UPDATE case_alert a
SET status = $2,
    acknowledged_by = CASE WHEN $2 = 'acknowledged' THEN $3 ELSE a.acknowledged_by END,
    acknowledged_at = CASE WHEN $2 = 'acknowledged' THEN now() ELSE a.acknowledged_at END,
    resolved_by = CASE WHEN $2 = 'resolved' THEN $3 END,
    resolved_at = CASE WHEN $2 = 'resolved' THEN now() END,
    updated_at = now()
FROM old
WHERE a.id = old.id AND old.status <> $2
RETURNING a.id, a.case_id, a.kind, old.status AS from_status

-- resolve_alerts_of_case --
-- $1 case id, $2 kinds text[], $3 by: open alerts of these kinds on the case are resolved (e.g. by resuming the case, or by the delisting), an acknowledgement kept
UPDATE case_alert SET status = 'resolved', resolved_by = $3, resolved_at = now(), updated_at = now()
WHERE case_id = $1 AND kind = ANY($2::text[]) AND status <> 'resolved'

-- claim_answer_reviews --
-- $1 limit: answers queued for review, taken off the queue (the caller's transaction keeps them if it fails)
DELETE FROM answer_review q
USING (SELECT answer_id FROM answer_review ORDER BY answer_id LIMIT $1 FOR UPDATE SKIP LOCKED) picked
WHERE q.answer_id = picked.answer_id
RETURNING q.answer_id

-- answers_for_review --
-- $1 answer ids: each answer's search, purpose, subject and case, and the re-query round it belongs to
SELECT a.id AS answer_id, a.search_id, a.case_id, a.agency, s.purpose, s.subject_kind, s.subject_id_number,
       s.subject_key, r.id AS round_id, r.party_id AS round_party_id, r.case_id AS round_case_id
FROM agency_answer a
JOIN search s ON s.id = a.search_id
LEFT JOIN requery_round r ON r.search_id = s.id
WHERE a.id = ANY($1::bigint[])

-- records_of_answers --
-- $1 answer ids, $2 kinds text[]: the answers' records of these kinds, and whether each was first seen in the answer's search
SELECT r.answer_id, r.kind, r.natural_key, r.data, (sa.first_seen_search_id = a.search_id) AS first_seen
FROM asset_record r
JOIN agency_answer a ON a.id = r.answer_id
LEFT JOIN subject_asset sa ON sa.case_id = a.case_id AND sa.subject_key = r.subject_key AND sa.kind = r.kind
                          AND sa.natural_key = r.natural_key
WHERE r.answer_id = ANY($1::bigint[]) AND r.kind = ANY($2::text[])
ORDER BY r.answer_id, r.kind, r.natural_key

-- property_first_seen_in_search --
-- $1 subject key, $2 search id, $3 kinds text[]: the subject's assets of these kinds seen for the first time in this search
SELECT kind, natural_key FROM subject_asset
WHERE case_id = (SELECT case_id FROM search WHERE id = $2) AND subject_key = $1 AND first_seen_search_id = $2
  AND kind = ANY($3::text[])
ORDER BY kind, natural_key
