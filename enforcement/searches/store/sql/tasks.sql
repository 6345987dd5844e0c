-- claim_tasks --
-- $1 agency, $2 worker id, $3 how many tasks at most, $4 lease seconds, $5 agency-wide limit of calls in flight, $6 which tasks ('any' | 'polls': holding a ticket | 'fresh': not yet sent), $7 call group (uuid: all the tasks go in one batch call; null: one call each), $8 calls allowed while the shared breaker is half-open: due tasks (or tasks whose lease a dead worker lost) with the request context; none while the agency's breaker is open; in one round trip: the function (migration 0020) takes the agency's lock (the agency-wide limit of calls in flight holds across workers), then claims with a fresh snapshot
SELECT * FROM claim_agency_tasks($1::text, $2::text, $3::int, $4::float8, $5::int, $6::text, $7::uuid, $8::int)

-- claim_tasks_many --
-- $1 agencies text[], $2 worker id, $3 how many tasks at most per agency int[], $4 lease seconds, $5 agency-wide limits of calls in flight int[], $6 calls allowed while each agency's shared breaker is half-open int[], $7 how many tasks at most in all (the earliest due first): claim_tasks for several agencies at once (one call per task, no batches), in one round trip: the function (migration 0009) takes the agencies' locks in name order, then claims with a fresh snapshot
SELECT * FROM claim_due_tasks($1::text[], $2::text, $3::int[], $4::float8, $5::int[], $6::int[], $7::int)

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

-- flush_outcomes --
-- $1 worker id (null: any holder, e.g. a callback), $2 task ids, $3 raw answers jsonb[], $4 record counts, $5 agency references, $6 answered_at[], $7 record task ids, $8 record kinds, $9 record natural keys, $10 record data jsonb[], $11 task ids, $12 outcomes ('waiting' | 'retry' | 'rejected' | 'failed' | 'expired'), $13 tickets, $14 delay seconds, $15 error codes, $16 error messages, $17 the answered tasks' created_at (aligned with $2), $18 the other tasks' created_at (aligned with $11; both: only those partitions are read, migration 0025): store the answers and records ($2-$10), every other outcome ($11-$16), and complete the searches they finish, in one round trip (function in migrations 0010, 0025); one row per completed search (search_id, duration_seconds)
SELECT * FROM flush_outcomes($1::text, $2::bigint[], $3::jsonb[], $4::int[], $5::text[], $6::timestamptz[],
                             $7::bigint[], $8::text[], $9::text[], $10::jsonb[], $11::bigint[], $12::text[],
                             $13::text[], $14::float8[], $15::text[], $16::text[],
                             $17::timestamptz[], $18::timestamptz[])

-- flush_outcomes_packed --
-- $1 worker id (null: any holder, e.g. a callback), $2 the answers as ONE jsonb document, [[task id, raw answer, agency reference, [[record kind, natural key, data], ...]], ...], $3 their answered_at timestamptz[] (aligned with $2), $4 their tasks' created_at (aligned with $2), $5 task ids of the other outcomes, $6 outcomes ('waiting' | 'retry' | 'rejected' | 'failed' | 'expired'), $7 tickets, $8 delay seconds, $9 error codes, $10 error messages, $11 those tasks' created_at (aligned with $5): flush_outcomes, the answers and their records unpacked here from the one document in the order given (issue 19: an answer and each of its records as elements of parallel arrays cost the worker asyncpg's per-element checks and a JSON encoding each, ~300 Python calls a search; one document is one encoding a flush); one row per completed search (search_id, duration_seconds)
SELECT * FROM flush_outcomes(
    $1::text,
    ARRAY(SELECT (a.e->>0)::bigint FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS a(e, i) ORDER BY a.i),
    ARRAY(SELECT a.e->1 FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS a(e, i) ORDER BY a.i),
    ARRAY(SELECT jsonb_array_length(a.e->3) FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS a(e, i)
          ORDER BY a.i),
    ARRAY(SELECT a.e->>2 FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS a(e, i) ORDER BY a.i),
    $3::timestamptz[],
    ARRAY(SELECT (a.e->>0)::bigint FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS a(e, i),
          jsonb_array_elements(a.e->3) WITH ORDINALITY AS r(e, j) ORDER BY a.i, r.j),
    ARRAY(SELECT r.e->>0 FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS a(e, i),
          jsonb_array_elements(a.e->3) WITH ORDINALITY AS r(e, j) ORDER BY a.i, r.j),
    ARRAY(SELECT r.e->>1 FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS a(e, i),
          jsonb_array_elements(a.e->3) WITH ORDINALITY AS r(e, j) ORDER BY a.i, r.j),
    ARRAY(SELECT r.e->2 FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS a(e, i),
          jsonb_array_elements(a.e->3) WITH ORDINALITY AS r(e, j) ORDER BY a.i, r.j),
    $5::bigint[], $6::text[], $7::text[], $8::float8[], $9::text[], $10::text[],
    $4::timestamptz[], $11::timestamptz[])

-- finish_searches --
-- $1 search ids uuid[]: lock the running ones in key order, mark those whose tasks are all terminal as completed with an event each, and wake the event streams (function in migration 0010); one row per completed search (search_id, duration_seconds)
SELECT * FROM finish_searches($1::uuid[])

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

-- task_created_at --
-- $1 task ids bigint[]: each task's created_at (its partition), for an outcome that came without it (every partition's primary key index is read)
SELECT id, created_at FROM agency_task WHERE id = ANY($1::bigint[])

-- find_task_by_ticket --
-- $1 agency, $2 ticket: through agency_ticket to the one task by (id, created_at), so one partition is read (migration 0025)
SELECT t.id, t.search_id, t.status, t.created_at
FROM agency_ticket k
JOIN agency_task t ON t.id = k.task_id AND t.created_at = k.task_created_at AND t.agency = k.agency AND t.ticket = k.ticket
WHERE k.agency = $1 AND k.ticket = $2
  AND t.created_at = (SELECT k1.task_created_at FROM agency_ticket k1 WHERE k1.agency = $1 AND k1.ticket = $2)

-- task_counts_by_agency --
-- no parameters: queue depth and in-flight per agency and status (for /api/v1/agencies and metrics)
SELECT agency, status, count(*) AS n, extract(epoch FROM now() - min(due_at))::float8 AS oldest_age
FROM agency_task WHERE status IN ('queued', 'running', 'waiting')
GROUP BY agency, status
