-- batch_cases --
-- $1 case ids bigint[]: the cases a bulk search names, with their judge's name and officer id
SELECT c.id, c.case_number, c.court_code, c.case_type, c.status, c.judge_login, c.filed_on,
       u.display_name AS judge_name, coalesce(u.officer_id, '') AS judge_officer_id
FROM enforcement_case c
LEFT JOIN app_user u ON u.login = c.judge_login
WHERE c.id = ANY($1::bigint[])

-- batch_debtors --
-- $1 row numbers int[], $2 case ids bigint[], $3 subject kinds text[], $4 id numbers text[]: the rows whose subject is a debtor of its case
SELECT u.i
FROM unnest($1::int[], $2::bigint[], $3::text[], $4::text[]) AS u(i, case_id, kind, id_number)
WHERE EXISTS (SELECT 1 FROM case_party p
              WHERE p.case_id = u.case_id AND p.role = 'debtor' AND p.kind = u.kind AND p.id_number = u.id_number)

-- insert_search_batch --
-- $1 id, $2 requested_by, $3 purpose (the first row's; rows may differ), $4 total, $5 court code, $6 force_fresh (any row)
INSERT INTO search_batch (id, requested_by, purpose, total, court_code, force_fresh)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING created_at

-- insert_batch_searches --
-- $1 batch id, $2 ids uuid[], $3 seq int[], $4 case ids bigint[], $5 kinds text[], $6 id numbers text[], $7 names text[], $8 subject keys text[], $9 purposes text[], $10 requested_by, $11 force_fresh bool[], $12 request numbers text[], $13 case numbers text[], $14 court codes text[], $15 judge names text[], $16 judge officer ids text[], $17 document numbers text[], $18 date_from date[], $19 date_to date[]: the searches of a bulk search, in one statement
INSERT INTO search (id, batch_id, batch_seq, case_id, subject_kind, subject_id_number, subject_name, subject_key,
                    purpose, requested_by, force_fresh, request_no, case_number, court_code, judge_name,
                    judge_officer_id, document_number, date_from, date_to)
SELECT u.id, $1::uuid, u.seq, u.case_id, u.kind, u.id_number, u.name, u.subject_key, u.purpose, $10::text,
       u.force_fresh, u.request_no, u.case_number, u.court_code, u.judge_name, u.judge_officer_id, u.document_number,
       u.date_from, u.date_to
FROM unnest($2::uuid[], $3::int[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
            $11::bool[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::date[],
            $19::date[])
     AS u(id, seq, case_id, kind, id_number, name, subject_key, purpose, force_fresh, request_no, case_number,
          court_code, judge_name, judge_officer_id, document_number, date_from, date_to)

-- insert_batch_tasks --
-- $1 search ids uuid[], $2 plan agencies text[], $3 plan subject kinds text[], $4 plan deadline seconds float8[], $5 plan freshness hours float8[]: one task per search and agency covering its subject (answered from a fresh stored answer unless the search forces a fresh one); their submission events are derived, not written (events_of_search, decision 1930); answers (search_id, queued, reused) per search
WITH tasks AS (
    INSERT INTO agency_task (search_id, agency, idempotency_key, deadline_at, status, answer_id, reused, finished_at)
    SELECT s.id, p.agency, s.id::text || ':' || p.agency, now() + make_interval(secs => p.deadline),
           CASE WHEN prev.id IS NULL THEN 'queued' ELSE 'succeeded' END,
           prev.id, prev.id IS NOT NULL,
           CASE WHEN prev.id IS NULL THEN NULL ELSE now() END
    FROM search s
    JOIN unnest($2::text[], $3::text[], $4::float8[], $5::float8[]) AS p(agency, kind, deadline, freshness)
      ON p.kind = s.subject_kind
    LEFT JOIN LATERAL (
        SELECT a.id FROM agency_answer a
        WHERE a.subject_key = s.subject_key AND a.agency = p.agency AND a.case_id = s.case_id AND NOT s.force_fresh
          AND p.freshness > 0 AND a.answered_at > now() - make_interval(secs => p.freshness * 3600)
        ORDER BY a.answered_at DESC LIMIT 1
    ) prev ON true
    WHERE s.id = ANY($1::uuid[])
    RETURNING id, search_id, agency, status, reused
)
SELECT search_id, count(*) FILTER (WHERE status = 'queued')::int AS queued, count(*) FILTER (WHERE reused)::int AS reused
FROM tasks GROUP BY search_id

-- get_search_batch --
-- $1 batch id
SELECT id, requested_by, purpose, total, court_code, force_fresh, created_at FROM search_batch WHERE id = $1

-- batch_search_counts --
-- $1 batch id: searches of the batch, completed and not, and when the last completed
SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'completed')::int AS completed,
       max(completed_at) AS last_completed_at
FROM search WHERE batch_id = $1

-- batch_task_counts --
-- $1 batch id: the batch's agency tasks by agency and status
SELECT t.agency, t.status, count(*)::int AS n
FROM search s JOIN agency_task t ON t.search_id = s.id
WHERE s.batch_id = $1
GROUP BY t.agency, t.status

-- batch_results --
-- $1 batch id, $2 from row (0-based), $3 rows: per subject, in submission order, the search and each agency's state
SELECT s.batch_seq, s.id, s.case_id, s.case_number, s.subject_kind, s.subject_id_number, s.subject_name, s.status,
       s.created_at, s.completed_at,
       json_agg(json_build_object('agency', t.agency, 'status', t.status, 'reused', t.reused,
                                  'record_count', a.record_count, 'error_code', t.error_code)
                ORDER BY t.agency) AS agencies
FROM search s
JOIN agency_task t ON t.search_id = s.id
LEFT JOIN agency_answer a ON a.id = t.answer_id
WHERE s.batch_id = $1 AND s.batch_seq >= $2 AND s.batch_seq < $2 + $3
GROUP BY s.id
ORDER BY s.batch_seq
