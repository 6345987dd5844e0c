-- lock_case_by_key --
-- $1 case number key (domain.cases.case_number_key): the case with that identity, locked for a push, with what its events recorded (case_event_state; nulls: nothing)
SELECT c.id, c.judge_login, c.applicant_name, c.cause, c.amount_to_enforce, c.amount_recovered, c.non_litigation,
       c.filed_on, c.status, c.closure_mode, c.closed_on,
       s.closed_on AS ev_closed_on, s.closure_mode AS ev_closure_mode, s.amount_recovered AS ev_amount_recovered,
       s.suspended AS ev_suspended
FROM enforcement_case c
LEFT JOIN case_event_state s ON s.case_id = c.id
WHERE c.case_number_key = $1
FOR UPDATE OF c

-- insert_case --
-- $1 case_number (canonical), $2 case_number_as_written, $3 court_code, $4 case_type, $5 judge_login, $6 applicant_name, $7 cause, $8 amount_to_enforce, $9 amount_recovered, $10 non_litigation, $11 filed_on, $12 status, $13 closure_mode, $14 closed_on, $15 pushed_by: a new case; no row back when one with the same number key exists (a concurrent push won)
INSERT INTO enforcement_case (case_number, case_number_as_written, court_code, case_type, judge_login, applicant_name,
                              cause, amount_to_enforce, amount_recovered, non_litigation, filed_on, status, closure_mode,
                              closed_on, pushed_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
ON CONFLICT DO NOTHING
RETURNING id

-- update_pushed_case --
-- $1 case id, $2 judge_login, $3 applicant_name, $4 cause, $5 amount_to_enforce, $6 amount_recovered, $7 non_litigation, $8 filed_on, $9 status, $10 closure_mode, $11 closed_on, $12 pushed_by: the filing-time fields a push owns and the state decided by domain.cases.state_after_push; no row back when nothing changed
UPDATE enforcement_case SET
    judge_login = $2, applicant_name = $3, cause = $4, amount_to_enforce = $5, amount_recovered = $6,
    non_litigation = $7, filed_on = $8, status = $9, closure_mode = $10, closed_on = $11, pushed_by = $12,
    updated_at = now()
WHERE id = $1
  AND (judge_login, applicant_name, cause, amount_to_enforce, amount_recovered, non_litigation, filed_on, status,
       closure_mode, closed_on) IS DISTINCT FROM ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING id

-- record_push_conflict --
-- $1 case id, $2 court code, $3 fields jsonb ([{field, pushed, recorded}]), $4 pushed_by: a push that contradicts the events, kept for review (the same open conflict counted again); its id
INSERT INTO case_push_conflict (case_id, court_code, fields, pushed_by)
VALUES ($1, $2, $3, $4)
ON CONFLICT (case_id, fields) WHERE resolved_at IS NULL DO UPDATE SET
    times = case_push_conflict.times + 1, last_seen_at = now(), pushed_by = EXCLUDED.pushed_by
RETURNING id

-- list_push_conflicts --
-- $1 court code (null: all), $2 limit, $3 offset: the pushes kept for review, latest first, with the total count
SELECT k.id, k.case_id, c.case_number, k.court_code, k.fields, k.pushed_by, k.first_seen_at, k.last_seen_at, k.times,
       k.resolved_at, count(*) OVER () AS total
FROM case_push_conflict k
JOIN enforcement_case c ON c.id = k.case_id
WHERE ($1::text IS NULL OR k.court_code = $1)
ORDER BY k.last_seen_at DESC, k.id DESC
LIMIT $2 OFFSET $3

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

-- sync_responsible_persons --
-- $1 case_id, $2 debtor (organization) id_numbers text[], $3 person id_numbers text[], $4 names text[], $5 roles text[]: the persons the organization debtors' consumption restrictions bind become exactly these; returns how many rows changed
WITH wanted AS (
    SELECT p.id AS party_id, w.id_number, w.name, w.role
    FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS w(debtor_id_number, id_number, name, role)
    JOIN case_party p ON p.case_id = $1 AND p.role = 'debtor' AND p.kind = 'organization'
                     AND p.id_number = w.debtor_id_number
), removed AS (
    DELETE FROM case_responsible_person r
    WHERE r.case_id = $1
      AND NOT EXISTS (SELECT 1 FROM wanted w
                      WHERE w.party_id = r.party_id AND w.id_number = r.id_number AND w.role = r.role)
    RETURNING 1
), upserted AS (
    INSERT INTO case_responsible_person (case_id, party_id, id_number, name, role)
    SELECT $1, party_id, id_number, name, role FROM wanted
    ON CONFLICT (party_id, id_number, role) DO UPDATE SET name = EXCLUDED.name
    WHERE case_responsible_person.name IS DISTINCT FROM EXCLUDED.name
    RETURNING 1
)
SELECT (SELECT count(*) FROM removed) + (SELECT count(*) FROM upserted)

-- list_cases --
-- $1 court_code or null, $2 judge_login or null, $3 status or null, $4 filed_from or null, $5 filed_to or null, $6 overdue (boolean) or null, $7 limit, $8 offset, $9 search text or null (a LIKE pattern, already escaped: part of the case number with either kind of brackets, a party's name or ID number, the applicant), $10 order (urgency | filed_desc | filed_asc | amount_desc | deadline_asc | case_number): cases with parties, judge and statutory deadline (the lifecycle's, with suspensions and extensions, once computed; else filing + 6 months, 3 for non-litigation; null while the clock is stopped) and the total count; urgency first puts the cases still running furthest past (or nearest to) their deadline, then the larger amount, closed cases last
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
      AND ($9::text IS NULL
           OR translate(c.case_number, '（）', '()') ILIKE translate($9, '（）', '()')
           OR translate(coalesce(c.case_number_as_written, ''), '（）', '()') ILIKE translate($9, '（）', '()')
           OR c.applicant_name ILIKE $9
           OR EXISTS (SELECT 1 FROM case_party p
                      WHERE p.case_id = c.id AND (p.name ILIKE $9 OR p.id_number ILIKE $9)))
)
SELECT c.id, c.case_number, coalesce(c.case_number_as_written, c.case_number) AS case_number_as_written, c.court_code, ct.name AS court_name, c.case_type, c.judge_login,
       u.display_name AS judge_name, u.officer_id AS judge_officer_id, c.applicant_name, c.cause,
       c.amount_to_enforce, c.amount_recovered, c.non_litigation, c.filed_on, c.status, c.closure_mode, c.closed_on,
       c.statutory_deadline, coalesce(c.status <> 'closed' AND current_date > c.statutory_deadline, false) AS overdue,
       c.created_at, c.updated_at,
       (SELECT coalesce(json_agg(json_build_object('role', p.role, 'kind', p.kind, 'id_number', p.id_number,
                                                   'name', p.name, 'responsible_persons',
                                                   (SELECT coalesce(json_agg(json_build_object(
                                                               'name', r.name, 'id_number', r.id_number,
                                                               'role', r.role) ORDER BY r.id), '[]'::json)
                                                    FROM case_responsible_person r WHERE r.party_id = p.id))
                                 ORDER BY p.role, p.id), '[]'::json)
        FROM case_party p WHERE p.case_id = c.id) AS parties,
       count(*) OVER () AS total
FROM c
JOIN court ct ON ct.code = c.court_code
LEFT JOIN app_user u ON u.login = c.judge_login
WHERE ($6::boolean IS NULL
       OR coalesce(c.status <> 'closed' AND current_date > c.statutory_deadline, false) = $6)
ORDER BY
    CASE WHEN $10 = 'urgency' THEN (c.status = 'closed') END,
    CASE WHEN $10 = 'urgency' AND c.status <> 'closed' THEN current_date - c.statutory_deadline END DESC NULLS LAST,
    CASE WHEN $10 IN ('urgency', 'amount_desc') THEN c.amount_to_enforce END DESC NULLS LAST,
    CASE WHEN $10 = 'deadline_asc' THEN c.statutory_deadline END ASC NULLS LAST,
    CASE WHEN $10 = 'filed_asc' THEN c.filed_on END ASC,
    CASE WHEN $10 = 'case_number' THEN c.case_number END ASC,
    c.filed_on DESC, c.id DESC
LIMIT $7 OFFSET $8

-- get_case_detail --
-- $1 case id: the case with parties, judge and statutory deadline (same columns and rules as list_cases, without total)
SELECT c.id, c.case_number, coalesce(c.case_number_as_written, c.case_number) AS case_number_as_written, c.court_code, ct.name AS court_name, c.case_type, c.judge_login,
       u.display_name AS judge_name, u.officer_id AS judge_officer_id, c.applicant_name, c.cause,
       c.amount_to_enforce, c.amount_recovered, c.non_litigation, c.filed_on, c.status, c.closure_mode, c.closed_on,
       d.statutory_deadline,
       coalesce(c.status <> 'closed' AND current_date > d.statutory_deadline, false) AS overdue,
       c.created_at, c.updated_at,
       (SELECT coalesce(json_agg(json_build_object('role', p.role, 'kind', p.kind, 'id_number', p.id_number,
                                                   'name', p.name, 'responsible_persons',
                                                   (SELECT coalesce(json_agg(json_build_object(
                                                               'name', r.name, 'id_number', r.id_number,
                                                               'role', r.role) ORDER BY r.id), '[]'::json)
                                                    FROM case_responsible_person r WHERE r.party_id = p.id))
                                 ORDER BY p.role, p.id), '[]'::json)
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
