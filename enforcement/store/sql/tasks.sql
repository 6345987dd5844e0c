-- lock_agency_claims --
-- $1 agency: serialize claims for one agency until the transaction ends, so that the agency-wide limit of calls in flight holds across workers
SELECT pg_advisory_xact_lock(1701734767, hashtext($1))

-- claim_tasks --
-- $1 agency, $2 worker id, $3 how many tasks at most, $4 lease seconds, $5 agency-wide limit of calls in flight, $6 which tasks ('any' | 'polls': holding a ticket | 'fresh': not yet sent), $7 call group (uuid: all the tasks go in one batch call; null: one call each), $8 calls allowed while the shared breaker is half-open: due tasks (or tasks whose lease a dead worker lost) with the request context; none while the agency's breaker is open
WITH gate AS (
    SELECT CASE WHEN b.state = 'open' AND b.open_until > now() THEN 0
                WHEN b.state = 'open' THEN least($5::int, $8::int)
                ELSE $5::int END AS calls
    FROM (SELECT 1) AS one LEFT JOIN agency_breaker b ON b.agency = $1
), busy AS (
    SELECT count(DISTINCT coalesce(call_group::text, id::text)) AS calls FROM agency_task
    WHERE agency = $1 AND status = 'running' AND lease_expires_at > now()
), room AS (
    SELECT greatest(0, gate.calls - busy.calls) AS calls FROM gate, busy
), n AS (
    SELECT CASE WHEN $7::uuid IS NULL THEN least($3::int, (SELECT calls FROM room))
                WHEN (SELECT calls FROM room) > 0 THEN $3::int
                ELSE 0 END AS n
), due AS (
    -- due tasks and lapsed leases each read in index order, only as many as wanted: the cost
    -- follows the claim, not the backlog (one OR'ed scan sorted every due task on each claim)
    SELECT id, due_at FROM agency_task
    WHERE agency = $1 AND status IN ('queued', 'waiting') AND due_at <= now()
      AND ($6::text = 'any' OR ($6::text = 'polls') = (ticket IS NOT NULL))
    ORDER BY due_at LIMIT (SELECT n FROM n)
    FOR UPDATE SKIP LOCKED
), lapsed AS (
    SELECT id, due_at FROM agency_task
    WHERE agency = $1 AND status = 'running' AND lease_expires_at < now()
      AND ($6::text = 'any' OR ($6::text = 'polls') = (ticket IS NOT NULL))
    ORDER BY lease_expires_at LIMIT (SELECT n FROM n)
    FOR UPDATE SKIP LOCKED
), picked AS (
    SELECT id FROM (SELECT id, due_at FROM due UNION ALL SELECT id, due_at FROM lapsed) AS both_kinds
    ORDER BY due_at LIMIT (SELECT n FROM n)
)
UPDATE agency_task t
SET status = 'running', leased_by = $2, lease_expires_at = now() + make_interval(secs => $4),
    attempts = t.attempts + 1, updated_at = now(), call_group = $7::uuid
FROM picked, search s
WHERE t.id = picked.id AND s.id = t.search_id
RETURNING t.id, t.search_id, t.agency, t.idempotency_key, t.ticket, t.attempts, t.deadline_at,
          s.subject_kind, s.subject_id_number, s.subject_name, s.purpose, s.request_no, s.case_number,
          s.court_code, s.judge_name, s.judge_officer_id, s.document_number, s.date_from, s.date_to,
          t.error_code AS last_error

-- lock_agencies_claims --
-- $1 agencies text[]: serialize claims for these agencies until the transaction ends, taking the locks in name order (so that two claimers never wait for each other in a cycle); and plan the claim that follows once, generically (see below)
SELECT count(pg_advisory_xact_lock(1701734767, hashtext(agency))),
       -- claim_tasks_many is planned anew on every call otherwise (PostgreSQL keeps custom plans
       -- when they look cheaper than the generic one): planning was 3/4 of its time at low load.
       -- Its generic plan is the one wanted whatever the arrays (index scans by agency and due
       -- time); the setting ends with the transaction.
       set_config('plan_cache_mode', 'force_generic_plan', true)
FROM (SELECT agency FROM unnest($1::text[]) AS u(agency) ORDER BY agency) AS ordered

-- claim_tasks_many --
-- $1 agencies text[], $2 worker id, $3 how many tasks at most per agency int[], $4 lease seconds, $5 agency-wide limits of calls in flight int[], $6 calls allowed while each agency's shared breaker is half-open int[], $7 how many tasks at most in all (the earliest due first): claim_tasks for several agencies at once (one call per task, no batches), under lock_agencies_claims
WITH a AS (
    SELECT * FROM unnest($1::text[], $3::int[], $5::int[], $6::int[]) AS a(agency, want, agency_limit, probes)
), room AS (
    SELECT a.agency,
           least(a.want, greatest(0,
               CASE WHEN b.state = 'open' AND b.open_until > now() THEN 0
                    WHEN b.state = 'open' THEN least(a.agency_limit, a.probes)
                    ELSE a.agency_limit END
               - (SELECT count(DISTINCT coalesce(r.call_group::text, r.id::text)) FROM agency_task r
                  WHERE r.agency = a.agency AND r.status = 'running' AND r.lease_expires_at > now()))) AS n
    FROM a LEFT JOIN agency_breaker b ON b.agency = a.agency
), due AS (
    -- as in claim_tasks: due tasks and lapsed leases each read in index order
    SELECT room.agency, room.n, p.id, p.due_at
    FROM room CROSS JOIN LATERAL (
        SELECT id, due_at FROM agency_task
        WHERE agency = room.agency AND status IN ('queued', 'waiting') AND due_at <= now()
        ORDER BY due_at LIMIT room.n
        FOR UPDATE SKIP LOCKED
    ) AS p
), lapsed AS (
    SELECT room.agency, room.n, p.id, p.due_at
    FROM room CROSS JOIN LATERAL (
        SELECT id, due_at FROM agency_task
        WHERE agency = room.agency AND status = 'running' AND lease_expires_at < now()
        ORDER BY lease_expires_at LIMIT room.n
        FOR UPDATE SKIP LOCKED
    ) AS p
), ranked AS (
    SELECT id, due_at, n, row_number() OVER (PARTITION BY agency ORDER BY due_at) AS k
    FROM (SELECT * FROM due UNION ALL SELECT * FROM lapsed) AS both_kinds
), chosen AS (
    SELECT id FROM ranked WHERE k <= n ORDER BY due_at LIMIT $7::int
)
UPDATE agency_task t
SET status = 'running', leased_by = $2, lease_expires_at = now() + make_interval(secs => $4),
    attempts = t.attempts + 1, updated_at = now(), call_group = NULL
FROM chosen, search s
WHERE t.id = chosen.id AND s.id = t.search_id
RETURNING t.id, t.search_id, t.agency, t.idempotency_key, t.ticket, t.attempts, t.deadline_at,
          s.subject_kind, s.subject_id_number, s.subject_name, s.purpose, s.request_no, s.case_number,
          s.court_code, s.judge_name, s.judge_officer_id, s.document_number, s.date_from, s.date_to,
          t.error_code AS last_error

-- oldest_due_task --
-- $1 agency, $2 count up to this many of each kind: how long the oldest subject not yet sent has been due, and how many are (a dead worker's lapsed lease counts as due since it lapsed): batching decisions; read in index order, so the cost follows $2, not the backlog
SELECT extract(epoch FROM now() - min(since))::float8 AS age, count(*) AS n
FROM (
    (SELECT due_at AS since FROM agency_task
     WHERE agency = $1 AND status = 'queued' AND ticket IS NULL AND due_at <= now()
     ORDER BY due_at LIMIT $2)
    UNION ALL
    (SELECT lease_expires_at FROM agency_task
     WHERE agency = $1 AND status = 'running' AND ticket IS NULL AND lease_expires_at < now()
     ORDER BY lease_expires_at LIMIT $2)
) AS due

-- succeed_tasks --
-- $1 worker id (null: any holder, e.g. a callback), $2 task ids, $3 raw answers jsonb[], $4 record counts, $5 agency references, $6 answered_at[], $7 record task ids, $8 record kinds, $9 record natural keys, $10 record data jsonb[]: store answers and records, finish the tasks
WITH done AS (
    UPDATE agency_task t
    SET status = 'succeeded', answer_id = nextval('agency_answer_id_seq'), finished_at = now(),
        updated_at = now(), leased_by = NULL, lease_expires_at = NULL, error_code = NULL, error_message = NULL
    -- = ANY, not a join with unnest: an index scan by primary key whatever the generic plan
    -- guesses of the array's length and the table's size
    WHERE t.id = ANY($2::bigint[]) AND t.status IN ('queued', 'running', 'waiting')
      AND ($1::text IS NULL OR t.leased_by = $1)
    RETURNING t.id, t.search_id, t.agency, t.answer_id
), ctx AS MATERIALIZED (
    -- every later part reads the finished tasks from here, each joined once by key (records do
    -- not join the answers' RETURNING: the foreign key is checked at the end of the statement)
    SELECT d.id, d.search_id, d.agency, d.answer_id, s.case_id, s.subject_key, u.raw, u.n, u.ref, u.at
    FROM done d
    JOIN search s ON s.id = d.search_id
    JOIN unnest($2::bigint[], $3::jsonb[], $4::int[], $5::text[], $6::timestamptz[]) AS u(id, raw, n, ref, at)
      ON u.id = d.id
), answers AS (
    INSERT INTO agency_answer (id, task_id, search_id, case_id, agency, subject_key, raw, record_count,
                               agency_reference, answered_at)
    SELECT c.answer_id, c.id, c.search_id, c.case_id, c.agency, c.subject_key, c.raw, c.n, c.ref, c.at
    FROM ctx c
), recs AS MATERIALIZED (
    SELECT c.answer_id, c.agency, c.subject_key, c.search_id, c.at, r.kind, r.nk, r.data
    FROM unnest($7::bigint[], $8::text[], $9::text[], $10::jsonb[]) AS r(task_id, kind, nk, data)
    JOIN ctx c ON c.id = r.task_id
), records AS (
    INSERT INTO asset_record (answer_id, agency, subject_key, kind, natural_key, data, observed_at)
    SELECT answer_id, agency, subject_key, kind, nk, data, at FROM recs
), first_seen AS (
    INSERT INTO subject_asset (subject_key, kind, natural_key, first_seen_search_id, first_seen_at)
    SELECT DISTINCT ON (subject_key, kind, nk) subject_key, kind, nk, search_id, now()
    FROM recs
    ON CONFLICT DO NOTHING
)
INSERT INTO search_event (search_id, agency, kind, payload)
SELECT c.search_id, c.agency, 'task',
       jsonb_build_object('task_id', c.id, 'status', 'succeeded', 'record_count', c.n,
                          'answered_at', c.at, 'reused', false)
FROM ctx c
RETURNING search_id

-- settle_tasks --
-- $1 worker id (null: any holder), $2 task ids, $3 outcomes ('waiting' | 'retry' | 'rejected' | 'failed' | 'expired'), $4 tickets, $5 delay seconds, $6 error codes, $7 error messages: every outcome other than success
WITH u AS (
    SELECT * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::float8[], $6::text[], $7::text[])
        AS u(id, outcome, ticket, delay, error_code, error_message)
), done AS (
    UPDATE agency_task t
    SET status = CASE
            WHEN u.outcome = 'retry' AND coalesce(u.ticket, t.ticket) IS NULL THEN 'queued'
            WHEN u.outcome = 'retry' THEN 'waiting'
            ELSE u.outcome END,
        ticket = coalesce(u.ticket, t.ticket),
        due_at = now() + make_interval(secs => coalesce(u.delay, 0)),
        error_code = u.error_code, error_message = u.error_message,
        leased_by = NULL, lease_expires_at = NULL, updated_at = now(),
        finished_at = CASE WHEN u.outcome IN ('rejected', 'failed', 'expired') THEN now() END
    FROM u
    WHERE t.id = u.id AND t.status IN ('queued', 'running', 'waiting')
      AND ($1::text IS NULL OR t.leased_by = $1)
    RETURNING t.id, t.search_id, t.agency, t.status, t.attempts, t.error_code, t.error_message
)
INSERT INTO search_event (search_id, agency, kind, payload)
SELECT search_id, agency, 'task',
       jsonb_build_object('task_id', id, 'status', status, 'attempts', attempts,
                          'error_code', error_code, 'error_message', error_message)
FROM done
RETURNING search_id

-- lock_running_searches --
-- $1 search ids uuid[] (sorted, so that concurrent lockers never deadlock): lock the running ones until the transaction ends; the next statement's snapshot then sees every task finished by transactions that held the lock before
SELECT s.id, set_config('plan_cache_mode', 'force_generic_plan', true)  -- for complete_searches, as in lock_agencies_claims
FROM unnest($1::uuid[]) AS u(id) JOIN search s ON s.id = u.id
WHERE s.status = 'running' ORDER BY s.id FOR NO KEY UPDATE OF s

-- complete_searches --
-- $1 search ids: mark searches whose tasks are all terminal as completed, with an event each (driven by the batch: each search's own tasks are probed, then the search is found by primary key; the cost follows the batch, not the number of running searches)
WITH ready AS MATERIALIZED (
    -- a scalar subquery per id, not NOT EXISTS: the planner turned that into an anti-join that
    -- hashed every unfinished task of the table on each call
    SELECT DISTINCT u.id FROM unnest($1::uuid[]) AS u(id)
    WHERE (SELECT count(*) FROM agency_task t
           WHERE t.search_id = u.id AND t.status IN ('queued', 'running', 'waiting')) = 0
), c AS (
    UPDATE search s SET status = 'completed', completed_at = now()
    FROM ready
    WHERE s.id = ready.id AND s.status = 'running'
    RETURNING s.id, s.created_at, s.completed_at
)
INSERT INTO search_event (search_id, agency, kind, payload)
SELECT id, NULL, 'search_completed',
       jsonb_build_object('completed_at', completed_at,
                          'duration_seconds', extract(epoch FROM completed_at - created_at))
FROM c
RETURNING search_id, (payload ->> 'duration_seconds')::float8 AS duration_seconds

-- expire_overdue_tasks --
-- $1 how many at most: tasks past their deadline that nobody holds end as expired
WITH picked AS (
    SELECT id FROM agency_task
    WHERE deadline_at < now()
      AND (status IN ('queued', 'waiting') OR (status = 'running' AND lease_expires_at < now()))
    LIMIT $1 FOR UPDATE SKIP LOCKED
), done AS (
    UPDATE agency_task t
    SET status = 'expired', finished_at = now(), updated_at = now(), leased_by = NULL,
        lease_expires_at = NULL, error_code = 'deadline',
        error_message = 'no answer before the deadline / 截止期限内未获答复'
            || CASE WHEN t.error_code IS NULL THEN ''
                    ELSE ' (last error / 最近一次错误: ' || t.error_code || ')' END
    FROM picked WHERE t.id = picked.id
    RETURNING t.id, t.search_id, t.agency
), ev AS (
    INSERT INTO search_event (search_id, agency, kind, payload)
    SELECT search_id, agency, 'task',
           jsonb_build_object('task_id', id, 'status', 'expired', 'error_code', 'deadline')
    FROM done
)
SELECT DISTINCT search_id FROM done

-- release_forgotten_leases --
-- $1 worker id, $2 task ids the worker holds in memory, $3 seconds since the lease was taken: the worker's other leases (the database lost what it did with them, or it could not write it) are due again now instead of when they lapse
UPDATE agency_task
SET status = CASE WHEN ticket IS NULL THEN 'queued' ELSE 'waiting' END, leased_by = NULL, lease_expires_at = NULL,
    due_at = now(), updated_at = now()
WHERE leased_by = $1 AND status = 'running' AND NOT (id = ANY($2::bigint[]))
  AND updated_at < now() - make_interval(secs => $3)
RETURNING id

-- find_task_by_ticket --
-- $1 agency, $2 ticket
SELECT id, search_id, status FROM agency_task WHERE agency = $1 AND ticket = $2

-- task_counts_by_agency --
-- no parameters: queue depth and in-flight per agency and status (for /api/v1/agencies and metrics)
SELECT agency, status, count(*) AS n, extract(epoch FROM now() - min(due_at))::float8 AS oldest_age
FROM agency_task WHERE status IN ('queued', 'running', 'waiting')
GROUP BY agency, status
