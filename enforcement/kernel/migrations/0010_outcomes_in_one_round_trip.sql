-- Finishing searches and writing agency outcomes, each in one round trip (decision 0704).
--
-- finish_searches: lock the running searches among $1 in key order (concurrent finishers never
-- deadlock), then, with a fresh snapshot that sees every task finished by the locks' previous
-- holders, mark those whose tasks are all terminal as completed, with an event each, and wake the
-- event streams. Was three statements (lock_running_searches, complete_searches, notify).
--
-- flush_outcomes: a dispatcher's (or a callback's) outcomes in one statement, its own transaction:
-- the answers and their records (succeed_tasks before), every other outcome (settle_tasks before),
-- then finish_searches for the searches they touched. Was BEGIN, up to five statements, COMMIT.
-- $1 worker id (null: any holder, e.g. a callback); successes: $2 task ids, $3 raw answers, $4
-- record counts, $5 agency references, $6 answered_at, $7 record task ids, $8 record kinds, $9
-- record natural keys, $10 record data; other outcomes: $11 task ids, $12 outcomes ('waiting' |
-- 'retry' | 'rejected' | 'failed' | 'expired'), $13 tickets, $14 delay seconds, $15 error codes,
-- $16 error messages. Outcomes for tasks the worker no longer holds are ignored.

CREATE FUNCTION finish_searches(uuid[])
RETURNS TABLE (search_id uuid, duration_seconds float8) LANGUAGE plpgsql VOLATILE AS $fn$
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
        RETURNING search_id, (payload ->> 'duration_seconds')::float8 AS duration_seconds;
    PERFORM pg_notify('search_events', '');
END
$fn$;

CREATE FUNCTION flush_outcomes(
    text, bigint[], jsonb[], int[], text[], timestamptz[], bigint[], text[], text[], jsonb[],
    bigint[], text[], text[], float8[], text[], text[]
) RETURNS TABLE (search_id uuid, duration_seconds float8) LANGUAGE plpgsql VOLATILE AS $fn$
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
            SELECT * FROM unnest($11::bigint[], $12::text[], $13::text[], $14::float8[], $15::text[], $16::text[])
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
$fn$;
