-- Issue 19: the statements that find a task by id, or a search's tasks and events, read only the
-- partition their rows lie in (migration 0021 partitioned agency_task and search_event by month of
-- created_at; with 72 months of retention a statement without the partition key read one index per
-- partition, ~77, and planned for each).
--
-- A task's created_at is its search's (the submission, a bulk batch, a re-query and a reuse each
-- insert a search's tasks in the search's own transaction, both taking now(); the foreign key
-- (search_id, created_at) -> search (id, created_at) of migration 0021 refuses anything else). So:
-- * the claims return each task's created_at (a new column: DROP and CREATE, the return type
--   changes), and update the picked rows by (id, created_at);
-- * flush_outcomes takes the tasks' created_at ($17 for the answers, aligned with $2; $18 for the
--   other outcomes, aligned with $11) and updates by (id, created_at): the old signature is dropped;
-- * finish_searches counts a search's unfinished tasks in its search's partition;
-- Each statement bounds the times by scalar values (parameters or InitPlans: min and max of the
-- rows' times), not only through a join or = ANY(array): the executor prunes by those before it
-- runs, whatever join the planner picks (on nearly empty partitions it hashed a join over a scan of
-- every partition) and in a generic plan too (PostgreSQL prunes by = ANY only for a constant
-- array, that is in a custom plan).
-- * agency_ticket gets an index by ticket alone (a callback's tickets may be another agency's):
--   the ticket lookups go through it to the one task by (id, created_at).

DROP FUNCTION claim_agency_tasks(text, text, integer, double precision, integer, text, uuid, integer);
DROP FUNCTION claim_due_tasks(text[], text, integer[], double precision, integer[], integer[], integer);
DROP FUNCTION flush_outcomes(text, bigint[], jsonb[], integer[], text[], timestamp with time zone[], bigint[], text[],
                             text[], jsonb[], bigint[], text[], text[], double precision[], text[], text[]);

CREATE INDEX agency_ticket_ticket ON agency_ticket (ticket);

CREATE FUNCTION claim_agency_tasks(p_agency text, p_worker_id text, p_limit integer, p_lease_seconds double precision, p_agency_limit integer, p_which text, p_call_group uuid, p_half_open_calls integer) RETURNS TABLE(id bigint, search_id uuid, agency text, idempotency_key text, ticket text, attempts integer, deadline_at timestamp with time zone, subject_kind text, subject_id_number text, subject_name text, purpose text, request_no text, case_number text, court_code text, judge_name text, judge_officer_id text, document_number text, date_from date, date_to date, last_error text, created_at timestamp with time zone)
    LANGUAGE plpgsql
    AS $_$
#variable_conflict use_column
BEGIN
    PERFORM pg_advisory_xact_lock(1701734767, hashtext($1));
    RETURN QUERY
    WITH gate AS (
        SELECT CASE WHEN b.state = 'open' AND b.open_until > now() THEN 0
                    WHEN b.state = 'open' THEN least($5, $8)
                    ELSE $5 END AS calls
        FROM (SELECT 1) AS one LEFT JOIN agency_breaker b ON b.agency = $1
    ), busy AS (
        SELECT count(DISTINCT coalesce(r.call_group::text, r.id::text)) AS calls FROM agency_task r
        WHERE r.agency = $1 AND r.status = 'running' AND r.lease_expires_at > now()
    ), room AS (
        SELECT greatest(0, gate.calls - busy.calls) AS calls FROM gate, busy
    ), n AS (
        SELECT CASE WHEN $7 IS NULL THEN least($3, (SELECT calls FROM room))
                    WHEN (SELECT calls FROM room) > 0 THEN $3
                    ELSE 0 END AS n
    ), due AS (
        SELECT d.id, d.created_at, d.due_at FROM agency_task d
        WHERE d.agency = $1 AND d.status IN ('queued', 'waiting') AND d.due_at <= now()
          AND ($6 = 'any' OR ($6 = 'polls') = (d.ticket IS NOT NULL))
        ORDER BY d.due_at LIMIT (SELECT n FROM n)
        FOR UPDATE SKIP LOCKED
    ), lapsed AS (
        SELECT l.id, l.created_at, l.due_at FROM agency_task l
        WHERE l.agency = $1 AND l.status = 'running' AND l.lease_expires_at < now()
          AND ($6 = 'any' OR ($6 = 'polls') = (l.ticket IS NOT NULL))
        ORDER BY l.lease_expires_at LIMIT (SELECT n FROM n)
        FOR UPDATE SKIP LOCKED
    ), picked AS (
        SELECT both_kinds.id, both_kinds.created_at
        FROM (SELECT id, created_at, due_at FROM due UNION ALL SELECT id, created_at, due_at FROM lapsed) AS both_kinds
        ORDER BY both_kinds.due_at LIMIT (SELECT n FROM n)
    )
    UPDATE agency_task t
    SET status = 'running', leased_by = $2, lease_expires_at = now() + make_interval(secs => $4),
        attempts = t.attempts + 1, updated_at = now(), call_group = $7
    FROM picked, search s
    WHERE t.id = picked.id AND t.created_at = picked.created_at AND s.id = t.search_id
      -- the picked rows' times as bounds (InitPlans): the executor drops the partitions outside them
      -- before it runs, whatever join the planner chose
      AND t.created_at >= (SELECT min(picked.created_at) FROM picked)
      AND t.created_at <= (SELECT max(picked.created_at) FROM picked)
    RETURNING t.id, t.search_id, t.agency, t.idempotency_key, t.ticket, t.attempts, t.deadline_at,
              s.subject_kind, s.subject_id_number, s.subject_name, s.purpose, s.request_no, s.case_number,
              s.court_code, s.judge_name, s.judge_officer_id, s.document_number, s.date_from, s.date_to,
              t.error_code AS last_error, t.created_at;
END
$_$;

CREATE FUNCTION claim_due_tasks(agencies text[], worker_id text, wants integer[], lease_seconds double precision, agency_limits integer[], half_open_calls integer[], total integer) RETURNS TABLE(id bigint, search_id uuid, agency text, idempotency_key text, ticket text, attempts integer, deadline_at timestamp with time zone, subject_kind text, subject_id_number text, subject_name text, purpose text, request_no text, case_number text, court_code text, judge_name text, judge_officer_id text, document_number text, date_from date, date_to date, last_error text, created_at timestamp with time zone)
    LANGUAGE plpgsql
    AS $_$
#variable_conflict use_column
BEGIN
    PERFORM count(pg_advisory_xact_lock(1701734767, hashtext(o.agency)))
    FROM (SELECT u.agency FROM unnest($1) AS u(agency) ORDER BY u.agency) AS o;
    -- The claim's generic plan is the one wanted whatever the arrays (index scans by agency and
    -- due time); a custom plan was planned anew on every call (decision 0702). Transaction-local.
    PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);
    RETURN QUERY
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
        SELECT room.agency, room.n, p.id, p.created_at, p.due_at
        FROM room CROSS JOIN LATERAL (
            SELECT id, created_at, due_at FROM agency_task
            WHERE agency = room.agency AND status IN ('queued', 'waiting') AND due_at <= now()
            ORDER BY due_at LIMIT room.n
            FOR UPDATE SKIP LOCKED
        ) AS p
    ), lapsed AS (
        SELECT room.agency, room.n, p.id, p.created_at, p.due_at
        FROM room CROSS JOIN LATERAL (
            SELECT id, created_at, due_at FROM agency_task
            WHERE agency = room.agency AND status = 'running' AND lease_expires_at < now()
            ORDER BY lease_expires_at LIMIT room.n
            FOR UPDATE SKIP LOCKED
        ) AS p
    ), ranked AS (
        SELECT id, created_at, due_at, n, row_number() OVER (PARTITION BY agency ORDER BY due_at) AS k
        FROM (SELECT * FROM due UNION ALL SELECT * FROM lapsed) AS both_kinds
    ), chosen AS (
        SELECT id, created_at FROM ranked WHERE k <= n ORDER BY due_at LIMIT $7::int
    )
    UPDATE agency_task t
    SET status = 'running', leased_by = $2, lease_expires_at = now() + make_interval(secs => $4),
        attempts = t.attempts + 1, updated_at = now(), call_group = NULL
    FROM chosen, search s
    WHERE t.id = chosen.id AND t.created_at = chosen.created_at AND s.id = t.search_id
      AND t.created_at >= (SELECT min(chosen.created_at) FROM chosen)  -- as in claim_agency_tasks
      AND t.created_at <= (SELECT max(chosen.created_at) FROM chosen)
    RETURNING t.id, t.search_id, t.agency, t.idempotency_key, t.ticket, t.attempts, t.deadline_at,
              s.subject_kind, s.subject_id_number, s.subject_name, s.purpose, s.request_no, s.case_number,
              s.court_code, s.judge_name, s.judge_officer_id, s.document_number, s.date_from, s.date_to,
              t.error_code AS last_error, t.created_at;
END
$_$;

CREATE OR REPLACE FUNCTION finish_searches(uuid[]) RETURNS TABLE(search_id uuid, duration_seconds double precision)
    LANGUAGE plpgsql
    AS $_$
#variable_conflict use_column
BEGIN
    IF coalesce(cardinality($1), 0) = 0 THEN
        RETURN;
    END IF;
    PERFORM s.id
    FROM unnest($1) AS u(id) JOIN search s ON s.id = u.id
    WHERE s.status = 'running' ORDER BY s.id FOR NO KEY UPDATE OF s;
    -- The completion's generic plan is the one wanted (by key, driven by the batch; decision 0702).
    PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);
    RETURN QUERY
        WITH ready AS MATERIALIZED (
            -- a scalar subquery per id, not NOT EXISTS: the planner turned that into an anti-join that
            -- hashed every unfinished task of the table on each call
            -- a search's tasks share its created_at (made in its transaction): one partition is read
            SELECT DISTINCT s.id FROM unnest($1::uuid[]) AS u(id) JOIN search s ON s.id = u.id
            WHERE s.status = 'running'
              AND (SELECT count(*) FROM agency_task t
                   WHERE t.search_id = s.id AND t.created_at = s.created_at
                     AND t.status IN ('queued', 'running', 'waiting')) = 0
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
        RETURNING search_id, (payload ->> 'duration_seconds')::float8 AS duration_seconds;
    PERFORM pg_notify('search_events', '');
END
$_$;

CREATE FUNCTION flush_outcomes(text, bigint[], jsonb[], integer[], text[], timestamp with time zone[], bigint[], text[], text[], jsonb[], bigint[], text[], text[], double precision[], text[], text[],
                               timestamp with time zone[], timestamp with time zone[]) RETURNS TABLE(search_id uuid, duration_seconds double precision)
    LANGUAGE plpgsql
    AS $_$
#variable_conflict use_column
DECLARE
    touched uuid[] := '{}';
BEGIN
    IF coalesce(cardinality($2), 0) > 0 THEN
        WITH done AS (
            UPDATE agency_task t
            SET status = 'succeeded', answer_id = nextval('agency_answer_id_seq'), finished_at = now(),
                updated_at = now(), leased_by = NULL, lease_expires_at = NULL, error_code = NULL, error_message = NULL
            -- = ANY, not a join with unnest: an index scan by primary key whatever the generic plan
            -- guesses of the array's length and the table's size
            -- and the tasks' created_at: the partitions they lie in, only those are read (migration 0025)
            WHERE t.id = ANY($2::bigint[]) AND t.created_at = ANY($17::timestamptz[])
              AND t.created_at >= (SELECT min(x) FROM unnest($17::timestamptz[]) AS x)
              AND t.created_at <= (SELECT max(x) FROM unnest($17::timestamptz[]) AS x)
              AND t.status IN ('queued', 'running', 'waiting')
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
            SELECT c.answer_id, c.agency, c.subject_key, c.search_id, c.case_id, c.at, r.kind, r.nk, r.data
            FROM unnest($7::bigint[], $8::text[], $9::text[], $10::jsonb[]) AS r(task_id, kind, nk, data)
            JOIN ctx c ON c.id = r.task_id
        ), records AS (
            INSERT INTO asset_record (answer_id, agency, subject_key, kind, natural_key, data, observed_at)
            SELECT answer_id, agency, subject_key, kind, nk, data, at FROM recs
        ), first_seen AS (
            -- first sighting per case: what this case's searches never saw before
            INSERT INTO subject_asset (case_id, subject_key, kind, natural_key, first_seen_search_id, first_seen_at)
            SELECT DISTINCT ON (case_id, subject_key, kind, nk) case_id, subject_key, kind, nk, search_id, now()
            FROM recs
            ON CONFLICT DO NOTHING
        ), events AS (
            INSERT INTO search_event (search_id, agency, kind, payload)
            SELECT c.search_id, c.agency, 'task',
                   jsonb_build_object('task_id', c.id, 'status', 'succeeded', 'record_count', c.n,
                                      'answered_at', c.at, 'reused', false)
            FROM ctx c
            RETURNING search_id
        )
        SELECT touched || coalesce(array_agg(events.search_id), '{}') INTO touched FROM events;
    END IF;
    IF coalesce(cardinality($11), 0) > 0 THEN
        WITH u AS (
            SELECT * FROM unnest($11::bigint[], $12::text[], $13::text[], $14::float8[], $15::text[], $16::text[],
                                 $18::timestamptz[])
                AS u(id, outcome, ticket, delay, error_code, error_message, created_at)
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
            WHERE t.id = u.id AND t.created_at = u.created_at AND t.created_at = ANY($18::timestamptz[])
              AND t.created_at >= (SELECT min(x) FROM unnest($18::timestamptz[]) AS x)
              AND t.created_at <= (SELECT max(x) FROM unnest($18::timestamptz[]) AS x)
              AND t.status IN ('queued', 'running', 'waiting')
              AND ($1::text IS NULL OR t.leased_by = $1)
            RETURNING t.id, t.search_id, t.agency, t.status, t.attempts, t.error_code, t.error_message
        ), events AS (
            INSERT INTO search_event (search_id, agency, kind, payload)
            SELECT search_id, agency, 'task',
                   jsonb_build_object('task_id', id, 'status', status, 'attempts', attempts,
                                      'error_code', error_code, 'error_message', error_message)
            FROM done
            RETURNING search_id
        )
        SELECT touched || coalesce(array_agg(events.search_id), '{}') INTO touched FROM events;
    END IF;
    RETURN QUERY SELECT * FROM finish_searches(touched);
END
$_$;
