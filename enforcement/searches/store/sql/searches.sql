-- submit_search --
-- $1 id, $2 case_id, $3 batch_id, $4 subject_kind, $5 id_number, $6 name, $7 subject_key, $8 purpose, $9 requested_by, $10 force_fresh, $11 request_no, $12 case_number, $13 court_code, $14 judge_name, $15 judge_officer_id, $16 document_number, $17 date_from, $18 date_to, $19 agencies text[], $20 deadline seconds float8[], $21 freshness hours float8[], then the audit record as insert_audit_record takes it ($22 at, $23 action (null: no record), $24 actor_login, $25 actor_role, $26 actor_court, $27 case_id, $28 case_number, $29 case_court, $30 subject_key, $31 purpose, $32 reason, $33 target, $34 request_id, $35 details, $36 mac): a submission in ONE statement (its own transaction): reuse decided per agency, the search (completed at once when every agency is answered from a stored answer), its tasks (their submission events are not written: `events_of_search` derives them from the tasks, decision 1930), search_completed when completed at once, the audit record, and the notifications (agency_tasks when tasks are queued, with the agencies and the search id: `agencies;search id`, search_events when completed at once, audit_pending with a record); one row per task (id, agency, status, reused, answer_id) with the audit record's id
WITH plan AS MATERIALIZED (
    SELECT a.agency, a.deadline, a.ord, prev.id AS answer_id
    FROM unnest($19::text[], $20::float8[], $21::float8[]) WITH ORDINALITY AS a(agency, deadline, freshness, ord)
    LEFT JOIN LATERAL (
        SELECT id FROM agency_answer
        WHERE subject_key = $7::text AND agency = a.agency AND case_id = $2::bigint AND NOT $10::boolean
          AND a.freshness > 0 AND answered_at > now() - make_interval(secs => a.freshness * 3600)
        ORDER BY answered_at DESC LIMIT 1
    ) prev ON true
), s AS (
    INSERT INTO search (id, case_id, batch_id, subject_kind, subject_id_number, subject_name, subject_key,
                        purpose, requested_by, force_fresh, request_no, case_number, court_code, judge_name,
                        judge_officer_id, document_number, date_from, date_to, status, completed_at)
    SELECT $1::uuid, $2::bigint, $3::uuid, $4::text, $5::text, $6::text, $7::text, $8::text, $9::text, $10::boolean,
           $11::text, $12::text, $13::text, $14::text, $15::text, $16::text, $17::date, $18::date,
           CASE WHEN d.done THEN 'completed' ELSE 'running' END, CASE WHEN d.done THEN now() END
    -- every agency answered from a stored answer (no agency at all: nothing to wait for, as complete_searches)
    FROM (SELECT coalesce(bool_and(answer_id IS NOT NULL), true) AS done FROM plan) d
    RETURNING id, status, created_at, completed_at
), t AS (
    INSERT INTO agency_task (search_id, agency, idempotency_key, deadline_at, status, answer_id, reused, finished_at)
    SELECT $1::uuid, p.agency, $1::uuid::text || ':' || p.agency, now() + make_interval(secs => p.deadline),
           CASE WHEN p.answer_id IS NULL THEN 'queued' ELSE 'succeeded' END,
           p.answer_id, p.answer_id IS NOT NULL,
           CASE WHEN p.answer_id IS NULL THEN NULL ELSE now() END
    FROM plan p ORDER BY p.ord
    RETURNING id, agency, status, reused, answer_id
), e AS (
    -- a search completed at once (every agency reused): its completion (the same payload as finish_searches
    -- writes); the tasks' own submission events are derived, not written (events_of_search, decision 1930)
    INSERT INTO search_event (search_id, agency, kind, payload)
    SELECT id, NULL, 'search_completed',
           jsonb_build_object('completed_at', completed_at,
                              'duration_seconds', extract(epoch FROM completed_at - created_at))
    FROM s WHERE status = 'completed'
), rec AS (
    INSERT INTO audit_log (at, action, actor_login, actor_role, actor_court, case_id, case_number, case_court,
                           subject_key, purpose, reason, target, request_id, details, mac)
    SELECT $22::timestamptz, $23::text, $24::text, $25::text, $26::text, $27::bigint, $28::text, $29::text,
           $30::text, $31::text, $32::text, $33::text, $34::text, $35::jsonb, $36::text
    WHERE $23::text IS NOT NULL
    RETURNING id
), woken AS MATERIALIZED (
    -- referenced below, so evaluated (once); the notifications are delivered at commit
    SELECT q.audit_id,
           CASE WHEN q.queued <> '' THEN pg_notify('agency_tasks', q.queued || ';' || $1::uuid::text) END AS tasks_notified,
           -- the event streams only when there is an event: the completion of a search answered at once
           CASE WHEN (SELECT status FROM s) = 'completed' THEN pg_notify('search_events', '') END AS events_notified,
           CASE WHEN q.audit_id IS NOT NULL THEN pg_notify('audit_pending', '') END AS audit_notified
    FROM (SELECT coalesce((SELECT string_agg(agency, ',') FROM t WHERE status = 'queued'), '') AS queued,
                 (SELECT id FROM rec) AS audit_id) q
)
SELECT t.id, t.agency, t.status, t.reused, t.answer_id, w.audit_id
FROM woken w LEFT JOIN t ON true

-- submit_searches --
-- several judges' submissions (issue 19, decision 1945) in ONE statement, one transaction: what `submit_search` does, for N searches. The searches as arrays in queue order: $1 ids uuid[], $2 case_ids bigint[], $3 batch_ids uuid[], $4 subject_kinds, $5 id_numbers, $6 names, $7 subject_keys, $8 purposes, $9 requested_by, $10 force_fresh bool[], $11 request_nos, $12 case_numbers, $13 court_codes, $14 judge_names, $15 judge_officer_ids, $16 document_numbers text[], $17 date_from date[], $18 date_to date[]; their tasks: $19 search index int[] (1-based, into the searches), $20 agencies text[], $21 deadline seconds float8[], $22 freshness hours float8[]; their audit records, one per search (action null: none), as insert_audit_record takes them: $23 at timestamptz[], $24 action, $25 actor_login, $26 actor_role, $27 actor_court text[], $28 case_id bigint[], $29 case_number, $30 case_court, $31 subject_key, $32 purpose, $33 reason, $34 target, $35 request_id text[], $36 details jsonb[], $37 mac text[] (written in queue order, so their ids follow it); agency_tasks notified once per search that queued tasks (`agencies;search id`), search_events once if a search completed at once, audit_pending once if a record was written; one row per task (search_id, id, agency, status, reused, answer_id) with every audit id (audit_ids, ascending); a single row with null task columns if no search has a task
WITH submitted AS MATERIALIZED (
    SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[],
                         $8::text[], $9::text[], $10::boolean[], $11::text[], $12::text[], $13::text[], $14::text[],
                         $15::text[], $16::text[], $17::date[], $18::date[])
        WITH ORDINALITY AS sub(id, case_id, batch_id, subject_kind, subject_id_number, subject_name, subject_key,
                             purpose, requested_by, force_fresh, request_no, case_number, court_code, judge_name,
                             judge_officer_id, document_number, date_from, date_to, ord)
), plan AS MATERIALIZED (
    SELECT sub.ord AS search_ord, sub.id AS search_id, a.agency, a.deadline, a.ord, prev.id AS answer_id
    FROM unnest($19::int[], $20::text[], $21::float8[], $22::float8[]) WITH ORDINALITY AS a(i, agency, deadline, freshness, ord)
    JOIN submitted sub ON sub.ord = a.i
    LEFT JOIN LATERAL (
        SELECT id FROM agency_answer
        WHERE subject_key = sub.subject_key AND agency = a.agency AND case_id = sub.case_id AND NOT sub.force_fresh
          AND a.freshness > 0 AND answered_at > now() - make_interval(secs => a.freshness * 3600)
        ORDER BY answered_at DESC LIMIT 1
    ) prev ON true
), s AS (
    INSERT INTO search (id, case_id, batch_id, subject_kind, subject_id_number, subject_name, subject_key,
                        purpose, requested_by, force_fresh, request_no, case_number, court_code, judge_name,
                        judge_officer_id, document_number, date_from, date_to, status, completed_at)
    SELECT sub.id, sub.case_id, sub.batch_id, sub.subject_kind, sub.subject_id_number, sub.subject_name, sub.subject_key,
           sub.purpose, sub.requested_by, sub.force_fresh, sub.request_no, sub.case_number, sub.court_code, sub.judge_name,
           sub.judge_officer_id, sub.document_number, sub.date_from, sub.date_to,
           CASE WHEN d.done THEN 'completed' ELSE 'running' END, CASE WHEN d.done THEN now() END
    FROM submitted sub
    -- every agency answered from a stored answer (no agency at all: nothing to wait for, as complete_searches)
    CROSS JOIN LATERAL (SELECT coalesce(bool_and(p.answer_id IS NOT NULL), true) AS done
                        FROM plan p WHERE p.search_ord = sub.ord) d
    ORDER BY sub.ord
    RETURNING id, status, created_at, completed_at
), t AS (
    INSERT INTO agency_task (search_id, agency, idempotency_key, deadline_at, status, answer_id, reused, finished_at)
    SELECT p.search_id, p.agency, p.search_id::text || ':' || p.agency, now() + make_interval(secs => p.deadline),
           CASE WHEN p.answer_id IS NULL THEN 'queued' ELSE 'succeeded' END,
           p.answer_id, p.answer_id IS NOT NULL,
           CASE WHEN p.answer_id IS NULL THEN NULL ELSE now() END
    FROM plan p ORDER BY p.ord
    RETURNING id, search_id, agency, status, reused, answer_id
), e AS (
    -- the searches completed at once (every agency reused): their completion, as submit_search writes it
    INSERT INTO search_event (search_id, agency, kind, payload)
    SELECT id, NULL, 'search_completed',
           jsonb_build_object('completed_at', completed_at,
                              'duration_seconds', extract(epoch FROM completed_at - created_at))
    FROM s WHERE status = 'completed'
), rec AS (
    INSERT INTO audit_log (at, action, actor_login, actor_role, actor_court, case_id, case_number, case_court,
                           subject_key, purpose, reason, target, request_id, details, mac)
    SELECT r.at, r.action, r.actor_login, r.actor_role, r.actor_court, r.case_id, r.case_number, r.case_court,
           r.subject_key, r.purpose, r.reason, r.target, r.request_id, r.details, r.mac
    FROM unnest($23::timestamptz[], $24::text[], $25::text[], $26::text[], $27::text[], $28::bigint[], $29::text[],
                $30::text[], $31::text[], $32::text[], $33::text[], $34::text[], $35::text[], $36::jsonb[], $37::text[])
         WITH ORDINALITY AS r(at, action, actor_login, actor_role, actor_court, case_id, case_number, case_court,
                              subject_key, purpose, reason, target, request_id, details, mac, ord)
    WHERE r.action IS NOT NULL
    ORDER BY r.ord
    RETURNING id
), woken AS MATERIALIZED (
    -- referenced below, so evaluated (once); the notifications are delivered at commit, each listener once
    SELECT (SELECT array_agg(id ORDER BY id) FROM rec) AS audit_ids,
           (SELECT count(n.sent) FROM (
                SELECT pg_notify('agency_tasks', q.agencies || ';' || q.search_id::text)::text AS sent
                FROM (SELECT search_id, string_agg(agency, ',' ORDER BY id) AS agencies
                      FROM t WHERE status = 'queued' GROUP BY search_id) q) n) AS tasks_notified,
           CASE WHEN EXISTS (SELECT 1 FROM s WHERE status = 'completed') THEN pg_notify('search_events', '') END
               AS events_notified,
           CASE WHEN EXISTS (SELECT 1 FROM rec) THEN pg_notify('audit_pending', '') END AS audit_notified
)
SELECT t.search_id, t.id, t.agency, t.status, t.reused, t.answer_id, w.audit_ids
FROM woken w LEFT JOIN t ON true

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
-- $1 search id: tasks with their answer's time and the original answer's search when reused; a search's tasks share its created_at (made in its transaction): only that partition is read
SELECT t.id, t.agency, t.status, t.attempts, t.reused, t.error_code, t.error_message, t.ticket IS NOT NULL AS has_ticket,
       t.created_at, t.finished_at, t.deadline_at, t.answer_id,
       a.answered_at, a.record_count, a.search_id AS answer_search_id, a.agency_reference
FROM agency_task t
LEFT JOIN agency_answer a ON a.id = t.answer_id
WHERE t.search_id = $1 AND t.created_at = (SELECT s.created_at FROM search s WHERE s.id = $1)
ORDER BY t.agency

-- get_search_records --
-- $1 search id: every asset record behind the search's answers, with provenance and first sighting (its tasks read in the search's partition)
SELECT t.agency, r.kind, r.natural_key, r.data, a.id AS answer_id, a.answered_at, t.reused,
       (sa.first_seen_search_id = t.search_id) AS is_new, sa.first_seen_at
FROM agency_task t
JOIN agency_answer a ON a.id = t.answer_id
JOIN asset_record r ON r.answer_id = a.id
JOIN search s ON s.id = t.search_id
LEFT JOIN subject_asset sa ON sa.case_id = s.case_id AND sa.subject_key = s.subject_key AND sa.kind = r.kind
                          AND sa.natural_key = r.natural_key
WHERE t.search_id = $1 AND t.created_at = (SELECT s0.created_at FROM search s0 WHERE s0.id = $1)
ORDER BY r.kind, r.natural_key

-- previous_search_of_subject --
-- $1 subject_key, $2 before (timestamptz): the subject's latest earlier search
SELECT id, created_at FROM search WHERE subject_key = $1 AND created_at < $2 ORDER BY created_at DESC LIMIT 1

-- events_after --
-- $1 last event id seen, $2 max rows: new events for every search, in order
SELECT id, search_id, agency, kind, payload, created_at FROM search_event WHERE id > $1 ORDER BY id LIMIT $2

-- events_of_search --
-- $1 search id, $2 after event id (the stream's cursor; below every id: from the start): replay for a late subscriber, in id order. First each task's state at submission, derived from agency_task (decision 1930: no longer written): a `task` event with the payload the submission used to write (task_id, status queued, or succeeded and reused when answered from a stored answer), ids -n..-1 for the search's n tasks in task order (real event ids start at 1, so derived and stored ids never collide and the cursor orders both); a search whose submission did write them (before decision 1930: a stored `task` event made in its transaction) gets none. Only the search's partition of agency_task is read (its tasks share its created_at), and only while the cursor is below 0. Then the stored events; only the months of the search's life are read: its events are written from its creation to its completion (each by a transaction that saw the search, so no earlier than its created_at, and no later than its completion or this statement; a day's margin either side for a transaction's now() taken before its snapshot). A completed search whose creation or completion month has no partition of search_event any more (retention dropped it, decision 1901) has lost some or all of its stored events: its whole log is derived instead, nothing stored is read (decision 1950): the tasks as submitted, then each task's final state in the order they ended (the payload the flush wrote: an answer's task_id, status, record_count, answered_at, reused; any other end's task_id, status, attempts, error_code, error_message; at its finished_at), then search_completed from the search row (completed_at, duration_seconds; at its completed_at); ids -k..-1 for its k events, the same at every read
WITH s AS MATERIALIZED (
    SELECT s.created_at, s.completed_at,
           CASE WHEN s.status = 'completed'
                THEN to_regclass('search_event_p' || to_char(s.created_at AT TIME ZONE 'UTC', 'YYYYMM')) IS NULL
                  OR to_regclass('search_event_p' || to_char(s.completed_at AT TIME ZONE 'UTC', 'YYYYMM')) IS NULL
                ELSE false END AS gone
    FROM search s WHERE s.id = $1
), t AS (
    -- the search's tasks (read once: each gives its submission event, and past retention its end)
    SELECT tk.id, tk.agency, tk.reused, tk.status, tk.attempts, tk.error_code, tk.error_message, tk.answer_id,
           tk.created_at, tk.finished_at
    FROM agency_task tk
    WHERE tk.search_id = $1 AND $2::bigint < 0
      AND tk.created_at = (SELECT created_at FROM s)
      AND ((SELECT gone FROM s)
           OR NOT EXISTS (SELECT 1 FROM search_event e0
                          WHERE e0.search_id = $1 AND e0.kind = 'task'
                            AND e0.created_at = (SELECT created_at FROM s)))
)
SELECT d.id, d.search_id, d.agency, d.kind, d.payload, d.created_at FROM (
    SELECT (row_number() OVER (ORDER BY x.phase, x.ended, x.task_id) - count(*) OVER () - 1)::bigint AS id,
           $1::uuid AS search_id, x.agency, x.kind, x.payload, x.created_at
    FROM (
        -- each task as submitted, and past retention its final state (a reused one's was its submission)
        SELECT ev.phase, ev.ended, t.id AS task_id, t.agency, 'task'::text AS kind, ev.payload, ev.created_at
        FROM t
        CROSS JOIN LATERAL (
            SELECT 1 AS phase, NULL::timestamptz AS ended,
                   jsonb_build_object('task_id', t.id, 'status', CASE WHEN t.reused THEN 'succeeded' ELSE 'queued' END,
                                      'reused', t.reused) AS payload,
                   t.created_at
            UNION ALL
            SELECT 2, t.finished_at,
                   CASE WHEN t.status = 'succeeded'
                        THEN jsonb_build_object('task_id', t.id, 'status', 'succeeded', 'record_count', a.record_count,
                                                'answered_at', a.answered_at, 'reused', false)
                        ELSE jsonb_build_object('task_id', t.id, 'status', t.status, 'attempts', t.attempts,
                                                'error_code', t.error_code, 'error_message', t.error_message) END,
                   t.finished_at
            FROM (SELECT) one LEFT JOIN agency_answer a ON a.id = t.answer_id
            WHERE (SELECT gone FROM s) AND NOT t.reused AND t.status IN ('succeeded', 'rejected', 'failed', 'expired')
        ) ev
        UNION ALL
        -- past retention: the completion
        SELECT 3, NULL, NULL, NULL, 'search_completed',
               jsonb_build_object('completed_at', s.completed_at,
                                  'duration_seconds', extract(epoch FROM s.completed_at - s.created_at)),
               s.completed_at
        FROM s WHERE s.gone AND $2::bigint < 0
    ) x
) d
WHERE d.id > $2
UNION ALL
SELECT e.id, e.search_id, e.agency, e.kind, e.payload, e.created_at FROM search_event e
WHERE e.search_id = $1 AND e.id > $2 AND NOT (SELECT gone FROM s)
  AND e.created_at >= (SELECT created_at - interval '1 day' FROM s)
  AND e.created_at <= (SELECT least(completed_at, statement_timestamp()) + interval '1 day' FROM s)
ORDER BY id

-- stored_events_of_search --
-- $1 search id, $2 after event id, 0 or more (past every derived event: an idle stream's replay once it sent the derived ones, a client that resumes after a stored event): the search's stored events after it in id order, read in the months of its life only (as events_of_search). Past the events' retention (decision 1950) this is what is left of them: a client already past the derived log, or holding a stored id from before the drop, gets the rest of what is stored and no derived event (none of those is above 0)
SELECT e.id, e.search_id, e.agency, e.kind, e.payload, e.created_at FROM search_event e
WHERE e.search_id = $1 AND e.id > $2
  AND e.created_at >= (SELECT s.created_at - interval '1 day' FROM search s WHERE s.id = $1)
  AND e.created_at <= (SELECT least(s.completed_at, statement_timestamp()) + interval '1 day' FROM search s WHERE s.id = $1)
ORDER BY id

-- last_event_id --
-- no parameters
SELECT coalesce(max(id), 0) FROM search_event
