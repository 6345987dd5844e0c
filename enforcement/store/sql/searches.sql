-- insert_search --
-- $1 id, $2 case_id, $3 batch_id, $4 subject_kind, $5 id_number, $6 name, $7 subject_key, $8 purpose, $9 requested_by, $10 force_fresh, $11 request_no, $12 case_number, $13 court_code, $14 judge_name, $15 judge_officer_id, $16 document_number, $17 date_from, $18 date_to, $19 agencies text[], $20 deadline seconds float8[], $21 freshness hours float8[]: the search, one task per agency (answered from a fresh stored answer when allowed) and their first events, in one statement
WITH s AS (
    INSERT INTO search (id, case_id, batch_id, subject_kind, subject_id_number, subject_name, subject_key,
                        purpose, requested_by, force_fresh, request_no, case_number, court_code, judge_name,
                        judge_officer_id, document_number, date_from, date_to)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
    RETURNING id
), t AS (
    INSERT INTO agency_task (search_id, agency, idempotency_key, deadline_at, status, answer_id, reused, finished_at)
    SELECT $1::uuid, a.agency, $1::uuid::text || ':' || a.agency, now() + make_interval(secs => a.deadline),
           CASE WHEN prev.id IS NULL THEN 'queued' ELSE 'succeeded' END,
           prev.id, prev.id IS NOT NULL,
           CASE WHEN prev.id IS NULL THEN NULL ELSE now() END
    FROM unnest($19::text[], $20::float8[], $21::float8[]) AS a(agency, deadline, freshness)
    LEFT JOIN LATERAL (
        SELECT id FROM agency_answer
        WHERE subject_key = $7::text AND agency = a.agency AND case_id = $2::bigint AND NOT $10::boolean
          AND a.freshness > 0 AND answered_at > now() - make_interval(secs => a.freshness * 3600)
        ORDER BY answered_at DESC LIMIT 1
    ) prev ON true
    RETURNING id, agency, status, reused, answer_id
), e AS (
    INSERT INTO search_event (search_id, agency, kind, payload)
    SELECT $1::uuid, agency, 'task', jsonb_build_object('task_id', id, 'status', status, 'reused', reused)
    FROM t
)
SELECT id, agency, status, reused, answer_id FROM t

-- notify_new_search --
-- $1 payload for dispatchers (agency names with queued tasks, comma separated; empty: none): wakes dispatchers and event-stream listeners
SELECT CASE WHEN $1 = '' THEN NULL ELSE pg_notify('agency_tasks', $1) END, pg_notify('search_events', '')

-- insert_search_events --
-- $1 search_ids uuid[], $2 agencies text[] (null for search-level), $3 kinds text[], $4 payloads jsonb[]
INSERT INTO search_event (search_id, agency, kind, payload)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[])

-- notify_tasks --
-- $1 payload (agency names, comma separated): wakes dispatchers
SELECT pg_notify('agency_tasks', $1)

-- notify_search_events --
-- no parameters: wakes event-stream listeners
SELECT pg_notify('search_events', '')

-- get_search --
-- $1 search id
SELECT * FROM search WHERE id = $1

-- get_search_tasks --
-- $1 search id: tasks with their answer's time and the original answer's search when reused
SELECT t.id, t.agency, t.status, t.attempts, t.reused, t.error_code, t.error_message, t.ticket IS NOT NULL AS has_ticket,
       t.created_at, t.finished_at, t.deadline_at, t.answer_id,
       a.answered_at, a.record_count, a.search_id AS answer_search_id, a.agency_reference
FROM agency_task t
LEFT JOIN agency_answer a ON a.id = t.answer_id
WHERE t.search_id = $1
ORDER BY t.agency

-- get_search_records --
-- $1 search id: every asset record behind the search's answers, with provenance and first sighting
SELECT t.agency, r.kind, r.natural_key, r.data, a.id AS answer_id, a.answered_at, t.reused,
       (sa.first_seen_search_id = t.search_id) AS is_new, sa.first_seen_at
FROM agency_task t
JOIN agency_answer a ON a.id = t.answer_id
JOIN asset_record r ON r.answer_id = a.id
JOIN search s ON s.id = t.search_id
LEFT JOIN subject_asset sa ON sa.subject_key = s.subject_key AND sa.kind = r.kind AND sa.natural_key = r.natural_key
WHERE t.search_id = $1
ORDER BY r.kind, r.natural_key

-- previous_search_of_subject --
-- $1 subject_key, $2 before (timestamptz): the subject's latest earlier search
SELECT id, created_at FROM search WHERE subject_key = $1 AND created_at < $2 ORDER BY created_at DESC LIMIT 1

-- events_after --
-- $1 last event id seen, $2 max rows: new events for every search, in order
SELECT id, search_id, agency, kind, payload, created_at FROM search_event WHERE id > $1 ORDER BY id LIMIT $2

-- events_of_search --
-- $1 search id, $2 after event id: replay for a late subscriber
SELECT id, search_id, agency, kind, payload, created_at FROM search_event
WHERE search_id = $1 AND id > $2 ORDER BY id

-- last_event_id --
-- no parameters
SELECT coalesce(max(id), 0) FROM search_event
