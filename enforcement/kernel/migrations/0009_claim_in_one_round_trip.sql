-- The dispatcher's claim in one round trip (decision 0704).
--
-- Claiming for the agencies called one task at a time took four round trips: BEGIN, the agencies'
-- advisory locks (lock_agencies_claims), the claim (claim_tasks_many), COMMIT. On the path from a
-- judge's submission to the first agency call each is a wake-up of two processes. This function
-- does the same in one statement: it takes the locks in name order (no cycle between claimers),
-- then claims with a fresh snapshot (a VOLATILE function's statements each take one under READ
-- COMMITTED), which sees every claim committed by the locks' previous holders, so the agency-wide
-- limits of calls in flight hold across workers exactly as before. The locks end with the
-- statement's own transaction. Parameters as the named block claim_tasks_many documents them.

CREATE FUNCTION claim_due_tasks(
    agencies text[], worker_id text, wants int[], lease_seconds float8, agency_limits int[],
    half_open_calls int[], total int
) RETURNS TABLE (
    id bigint, search_id uuid, agency text, idempotency_key text, ticket text, attempts integer,
    deadline_at timestamptz, subject_kind text, subject_id_number text, subject_name text, purpose text,
    request_no text, case_number text, court_code text, judge_name text, judge_officer_id text,
    document_number text, date_from date, date_to date, last_error text
) LANGUAGE plpgsql VOLATILE AS $fn$
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
              t.error_code AS last_error;
END
$fn$;
