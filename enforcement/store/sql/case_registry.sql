-- upsert_case --
-- $1 case_number, $2 court_code, $3 case_type, $4 judge_login, $5 applicant_name, $6 cause, $7 amount_to_enforce, $8 amount_recovered, $9 non_litigation, $10 filed_on, $11 status, $12 closure_mode, $13 closed_on, $14 pushed_by: insert, or update when anything differs; no row back when nothing changed
INSERT INTO enforcement_case (case_number, court_code, case_type, judge_login, applicant_name, cause, amount_to_enforce,
                              amount_recovered, non_litigation, filed_on, status, closure_mode, closed_on, pushed_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (case_number) DO UPDATE SET
    judge_login = EXCLUDED.judge_login, applicant_name = EXCLUDED.applicant_name, cause = EXCLUDED.cause,
    amount_to_enforce = EXCLUDED.amount_to_enforce, amount_recovered = EXCLUDED.amount_recovered,
    non_litigation = EXCLUDED.non_litigation, filed_on = EXCLUDED.filed_on, status = EXCLUDED.status,
    closure_mode = EXCLUDED.closure_mode, closed_on = EXCLUDED.closed_on, pushed_by = EXCLUDED.pushed_by,
    updated_at = now()
WHERE (enforcement_case.judge_login, enforcement_case.applicant_name, enforcement_case.cause,
       enforcement_case.amount_to_enforce, enforcement_case.amount_recovered, enforcement_case.non_litigation,
       enforcement_case.filed_on, enforcement_case.status, enforcement_case.closure_mode, enforcement_case.closed_on)
      IS DISTINCT FROM
      (EXCLUDED.judge_login, EXCLUDED.applicant_name, EXCLUDED.cause, EXCLUDED.amount_to_enforce,
       EXCLUDED.amount_recovered, EXCLUDED.non_litigation, EXCLUDED.filed_on, EXCLUDED.status,
       EXCLUDED.closure_mode, EXCLUDED.closed_on)
RETURNING id, (xmax = 0) AS created

-- case_id_by_number --
-- $1 case_number
SELECT id FROM enforcement_case WHERE case_number = $1

-- sync_case_parties --
-- $1 case_id, $2 roles text[], $3 kinds text[], $4 id_numbers text[], $5 names text[]: the case's parties become exactly these; returns how many rows changed
WITH wanted AS (
    SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS w(role, kind, id_number, name)
), removed AS (
    DELETE FROM case_party p
    WHERE p.case_id = $1
      AND NOT EXISTS (SELECT 1 FROM wanted w WHERE w.role = p.role AND w.id_number = p.id_number)
    RETURNING 1
), upserted AS (
    INSERT INTO case_party (case_id, role, kind, id_number, name)
    SELECT $1, role, kind, id_number, name FROM wanted
    ON CONFLICT (case_id, role, id_number) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name
    WHERE (case_party.kind, case_party.name) IS DISTINCT FROM (EXCLUDED.kind, EXCLUDED.name)
    RETURNING 1
)
SELECT (SELECT count(*) FROM removed) + (SELECT count(*) FROM upserted)

-- list_cases --
-- $1 court_code or null, $2 judge_login or null, $3 status or null, $4 filed_from or null, $5 filed_to or null, $6 overdue (boolean) or null, $7 limit, $8 offset: cases with parties, judge and statutory deadline (the lifecycle's, with suspensions and extensions, once computed; else filing + 6 months, 3 for non-litigation; null while the clock is stopped), newest filing first, with the total count
WITH c AS (
    SELECT c.*,
           CASE WHEN l.case_id IS NULL
                THEN (c.filed_on + CASE WHEN c.non_litigation THEN interval '3 months'
                                        ELSE interval '6 months' END)::date
                ELSE l.deadline END AS statutory_deadline
    FROM enforcement_case c
    LEFT JOIN case_lifecycle l ON l.case_id = c.id
    WHERE ($1::text IS NULL OR c.court_code = $1)
      AND ($2::text IS NULL OR c.judge_login = $2)
      AND ($3::text IS NULL OR c.status = $3)
      AND ($4::date IS NULL OR c.filed_on >= $4)
      AND ($5::date IS NULL OR c.filed_on <= $5)
)
SELECT c.id, c.case_number, c.court_code, ct.name AS court_name, c.case_type, c.judge_login,
       u.display_name AS judge_name, u.officer_id AS judge_officer_id, c.applicant_name, c.cause,
       c.amount_to_enforce, c.amount_recovered, c.non_litigation, c.filed_on, c.status, c.closure_mode, c.closed_on,
       c.statutory_deadline, coalesce(c.status <> 'closed' AND current_date > c.statutory_deadline, false) AS overdue,
       c.created_at, c.updated_at,
       (SELECT coalesce(json_agg(json_build_object('role', p.role, 'kind', p.kind, 'id_number', p.id_number,
                                                   'name', p.name) ORDER BY p.role, p.id), '[]'::json)
        FROM case_party p WHERE p.case_id = c.id) AS parties,
       count(*) OVER () AS total
FROM c
JOIN court ct ON ct.code = c.court_code
LEFT JOIN app_user u ON u.login = c.judge_login
WHERE ($6::boolean IS NULL
       OR coalesce(c.status <> 'closed' AND current_date > c.statutory_deadline, false) = $6)
ORDER BY c.filed_on DESC, c.id DESC
LIMIT $7 OFFSET $8

-- get_case_detail --
-- $1 case id: the case with parties, judge and statutory deadline (same columns and rules as list_cases, without total)
SELECT c.id, c.case_number, c.court_code, ct.name AS court_name, c.case_type, c.judge_login,
       u.display_name AS judge_name, u.officer_id AS judge_officer_id, c.applicant_name, c.cause,
       c.amount_to_enforce, c.amount_recovered, c.non_litigation, c.filed_on, c.status, c.closure_mode, c.closed_on,
       d.statutory_deadline,
       coalesce(c.status <> 'closed' AND current_date > d.statutory_deadline, false) AS overdue,
       c.created_at, c.updated_at,
       (SELECT coalesce(json_agg(json_build_object('role', p.role, 'kind', p.kind, 'id_number', p.id_number,
                                                   'name', p.name) ORDER BY p.role, p.id), '[]'::json)
        FROM case_party p WHERE p.case_id = c.id) AS parties
FROM enforcement_case c
JOIN court ct ON ct.code = c.court_code
LEFT JOIN app_user u ON u.login = c.judge_login
LEFT JOIN case_lifecycle l ON l.case_id = c.id
CROSS JOIN LATERAL (
    SELECT CASE WHEN l.case_id IS NULL
                THEN (c.filed_on + CASE WHEN c.non_litigation THEN interval '3 months'
                                        ELSE interval '6 months' END)::date
                ELSE l.deadline END AS statutory_deadline
) d
WHERE c.id = $1

-- case_events_of --
-- $1 case id: the case's lifecycle events in order
SELECT id, event_type, occurred_on, data, source, recorded_at FROM case_event WHERE case_id = $1
ORDER BY occurred_on, id

-- case_searches_of --
-- $1 case id, $2 limit: the case's searches, newest first, with how many agencies each asked and how many answered
SELECT s.id, s.subject_kind, s.subject_id_number, s.subject_name, s.purpose, s.status, s.requested_by,
       s.created_at, s.completed_at,
       count(t.id) AS agencies,
       count(t.id) FILTER (WHERE t.status = 'succeeded') AS answered
FROM search s
LEFT JOIN agency_task t ON t.search_id = s.id
WHERE s.case_id = $1
GROUP BY s.id
ORDER BY s.created_at DESC
LIMIT $2
