-- A batch-capable agency's claim in one round trip (issue 19, decision 0706).
--
-- The agencies called one task at a time are claimed by claim_due_tasks (migration 0009) in one
-- statement; a batch-capable agency (the banks) was still claimed in four round trips: BEGIN, its
-- advisory lock (lock_agency_claims), the claim (claim_tasks), COMMIT. Every poll of a ticket and
-- every batch of fresh subjects took them: 0.36 of the 4.6 statements a search sent. This function
-- does the same in one statement, as claim_due_tasks does: the agency's lock first, then the claim
-- with a fresh snapshot (each statement of a VOLATILE function takes one under READ COMMITTED),
-- which sees every claim committed by the lock's previous holders, so the agency-wide limit of
-- calls in flight holds across workers as before. The lock ends with the statement's transaction.
-- Parameters as the named block claim_tasks documents them: $1 agency, $2 worker id, $3 how many
-- tasks at most, $4 lease seconds, $5 agency-wide limit of calls in flight, $6 'any' | 'polls' |
-- 'fresh', $7 call group (null: one call each), $8 calls allowed while the breaker is half-open.

CREATE FUNCTION claim_agency_tasks(
    p_agency text, p_worker_id text, p_limit int, p_lease_seconds float8, p_agency_limit int, p_which text,
    p_call_group uuid, p_half_open_calls int
) RETURNS TABLE (
    id bigint, search_id uuid, agency text, idempotency_key text, ticket text, attempts integer,
    deadline_at timestamptz, subject_kind text, subject_id_number text, subject_name text, purpose text,
    request_no text, case_number text, court_code text, judge_name text, judge_officer_id text,
    document_number text, date_from date, date_to date, last_error text
) LANGUAGE plpgsql VOLATILE AS $fn$
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
        SELECT d.id, d.due_at FROM agency_task d
        WHERE d.agency = $1 AND d.status IN ('queued', 'waiting') AND d.due_at <= now()
          AND ($6 = 'any' OR ($6 = 'polls') = (d.ticket IS NOT NULL))
        ORDER BY d.due_at LIMIT (SELECT n FROM n)
        FOR UPDATE SKIP LOCKED
    ), lapsed AS (
        SELECT l.id, l.due_at FROM agency_task l
        WHERE l.agency = $1 AND l.status = 'running' AND l.lease_expires_at < now()
          AND ($6 = 'any' OR ($6 = 'polls') = (l.ticket IS NOT NULL))
        ORDER BY l.lease_expires_at LIMIT (SELECT n FROM n)
        FOR UPDATE SKIP LOCKED
    ), picked AS (
        SELECT both_kinds.id FROM (SELECT id, due_at FROM due UNION ALL SELECT id, due_at FROM lapsed) AS both_kinds
        ORDER BY both_kinds.due_at LIMIT (SELECT n FROM n)
    )
    UPDATE agency_task t
    SET status = 'running', leased_by = $2, lease_expires_at = now() + make_interval(secs => $4),
        attempts = t.attempts + 1, updated_at = now(), call_group = $7
    FROM picked, search s
    WHERE t.id = picked.id AND s.id = t.search_id
    RETURNING t.id, t.search_id, t.agency, t.idempotency_key, t.ticket, t.attempts, t.deadline_at,
              s.subject_kind, s.subject_id_number, s.subject_name, s.purpose, s.request_no, s.case_number,
              s.court_code, s.judge_name, s.judge_officer_id, s.document_number, s.date_from, s.date_to,
              t.error_code AS last_error;
END
$fn$;
