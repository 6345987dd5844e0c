-- Issue 19: the banks' claim (claim_agency_tasks) keeps its generic plan. Its one statement was
-- planned anew on every call, 3.1 ms of planning against 5.4 ms of execution at full load
-- (pg_stat_statements, fanout.py, 1,000 searches), while claim_due_tasks has used the generic
-- plan since decision 0702. The bounds on created_at from the picked rows (InitPlans) keep the
-- executor's partition pruning in the generic plan (tests/integration/test_partition_pruning.py).

CREATE OR REPLACE FUNCTION claim_agency_tasks(p_agency text, p_worker_id text, p_limit integer, p_lease_seconds double precision, p_agency_limit integer, p_which text, p_call_group uuid, p_half_open_calls integer) RETURNS TABLE(id bigint, search_id uuid, agency text, idempotency_key text, ticket text, attempts integer, deadline_at timestamp with time zone, subject_kind text, subject_id_number text, subject_name text, purpose text, request_no text, case_number text, court_code text, judge_name text, judge_officer_id text, document_number text, date_from date, date_to date, last_error text, created_at timestamp with time zone)
    LANGUAGE plpgsql
    AS $fn$
#variable_conflict use_column
BEGIN
    PERFORM pg_advisory_xact_lock(1701734767, hashtext($1));
    -- The generic plan, as claim_due_tasks (decision 0702): planned once per connection, not on
    -- every call (3 ms a call, a third of the statement's time at full load, issue 19).
    PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);
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
$fn$;
