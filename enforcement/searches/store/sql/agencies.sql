-- ensure_agency_breakers --
-- $1 agency names text[]: a closed breaker row for every agency that has none
INSERT INTO agency_breaker (agency) SELECT unnest($1::text[]) ON CONFLICT (agency) DO NOTHING

-- open_agency_breaker --
-- $1 agency, $2 open seconds, $3 worker id, $4 reason (last error code): open a closed breaker, or re-open a half-open one; answers the state it had and whether it changed
WITH prev AS (
    SELECT state, open_until FROM agency_breaker WHERE agency = $1 FOR UPDATE
), upd AS (
    UPDATE agency_breaker b
    SET state = 'open',
        opened_at = CASE WHEN prev.state = 'closed' THEN now() ELSE b.opened_at END,
        open_until = now() + make_interval(secs => $2),
        opened_by = $3, reason = $4, changed_at = now()
    FROM prev
    WHERE b.agency = $1 AND (prev.state = 'closed' OR prev.open_until <= now())
    RETURNING b.agency
)
SELECT prev.state AS previous, EXISTS (SELECT 1 FROM upd) AS changed FROM prev

-- close_agency_breaker --
-- $1 agency: close a half-open breaker (open, its open time over) after its probes succeeded; answers whether it changed
UPDATE agency_breaker
SET state = 'closed', open_until = NULL, changed_at = now()
WHERE agency = $1 AND state = 'open' AND open_until <= now()
RETURNING agency

-- read_agency_breakers --
-- no parameters: every agency's shared breaker, with the seconds left open (<= 0: half-open)
SELECT agency, state, opened_at, open_until, opened_by, reason, changed_at,
       extract(epoch FROM open_until - now())::float8 AS remaining
FROM agency_breaker

-- beat_dispatcher --
-- $1 worker id, $2 liveness seconds: record that this dispatcher is alive; answers how many dispatchers are (itself included) and its rank among them (how many live ones have a smaller worker id: 0 .. live - 1)
WITH beat AS (
    INSERT INTO dispatcher_heartbeat (worker_id) VALUES ($1)
    ON CONFLICT (worker_id) DO UPDATE SET seen_at = now()
    RETURNING worker_id
)
SELECT 1 + count(*) AS live, count(*) FILTER (WHERE worker_id < $1) AS rank FROM dispatcher_heartbeat
WHERE worker_id <> $1 AND seen_at > now() - make_interval(secs => $2)

-- forget_dispatcher --
-- $1 worker id: a dispatcher that stops cleanly leaves the count at once
WITH s AS (DELETE FROM agency_worker_stats WHERE worker_id = $1)
DELETE FROM dispatcher_heartbeat WHERE worker_id = $1

-- live_dispatchers --
-- $1 liveness seconds: dispatchers that beat recently
SELECT count(*) FROM dispatcher_heartbeat WHERE seen_at > now() - make_interval(secs => $1)

-- write_agency_worker_stats --
-- $1 worker id, $2 agencies text[], $3 calls int[], $4 failures int[], $5 p50 float8[], $6 p95 float8[], $7 in flight int[], $8 auth failed bool[], $9 last error text[], $10 last call at timestamptz[]: this worker's recent view of each agency
INSERT INTO agency_worker_stats (agency, worker_id, calls, failures, p50_seconds, p95_seconds, in_flight,
                                 auth_failed, last_error, last_call_at, updated_at)
SELECT u.agency, $1, u.calls, u.failures, u.p50, u.p95, u.in_flight, u.auth_failed, u.last_error, u.last_call_at, now()
FROM unnest($2::text[], $3::int[], $4::int[], $5::float8[], $6::float8[], $7::int[], $8::bool[], $9::text[],
            $10::timestamptz[]) AS u(agency, calls, failures, p50, p95, in_flight, auth_failed, last_error, last_call_at)
ON CONFLICT (agency, worker_id) DO UPDATE
SET calls = EXCLUDED.calls, failures = EXCLUDED.failures, p50_seconds = EXCLUDED.p50_seconds,
    p95_seconds = EXCLUDED.p95_seconds, in_flight = EXCLUDED.in_flight, auth_failed = EXCLUDED.auth_failed,
    last_error = EXCLUDED.last_error, last_call_at = EXCLUDED.last_call_at, updated_at = now()

-- agency_call_stats --
-- $1 freshness seconds: per agency, the recent calls every live worker reported (latency: calls-weighted p50, worst p95)
SELECT agency,
       count(*) AS workers,
       sum(calls)::int AS calls,
       sum(failures)::int AS failures,
       (sum(p50_seconds * calls) FILTER (WHERE p50_seconds IS NOT NULL)
            / nullif(sum(calls) FILTER (WHERE p50_seconds IS NOT NULL), 0))::float8 AS p50_seconds,
       max(p95_seconds) AS p95_seconds,
       sum(in_flight)::int AS in_flight,
       bool_or(auth_failed) AS auth_failed,
       (array_agg(last_error ORDER BY last_call_at DESC NULLS LAST) FILTER (WHERE last_error IS NOT NULL))[1] AS last_error,
       max(last_call_at) AS last_call_at
FROM agency_worker_stats
WHERE updated_at > now() - make_interval(secs => $1)
GROUP BY agency

-- purge_agency_housekeeping --
-- $1 keep seconds: forget dispatchers and worker stats long silent, callback counters older than
-- two hours (the agencies view reads the last one), and callback nonces past their expiry
WITH h AS (DELETE FROM dispatcher_heartbeat WHERE seen_at < now() - make_interval(secs => $1)),
     s AS (DELETE FROM agency_worker_stats WHERE updated_at < now() - make_interval(secs => $1)),
     c AS (DELETE FROM agency_callback_minute WHERE minute < now() - interval '2 hours')
DELETE FROM callback_nonce WHERE expires_at < now()

-- remember_callback_nonce --
-- $1 agency, $2 nonce, $3 seconds to remember it: true when the nonce is new, nothing when it was seen before (a replay)
INSERT INTO callback_nonce (agency, nonce, expires_at)
VALUES ($1, $2, now() + make_interval(secs => $3))
ON CONFLICT (agency, nonce) DO NOTHING
RETURNING true

-- find_tasks_by_tickets --
-- $1 tickets text[]: the tasks holding these tickets, of any agency (a callback may name another agency's); through agency_ticket (index by ticket, migration 0025) to each task by (id, created_at), bounded by the tickets' earliest and latest task times: only their partitions are read, in any plan
SELECT t.id, t.search_id, t.agency, t.ticket, t.status, t.created_at
FROM agency_ticket k
JOIN agency_task t ON t.id = k.task_id AND t.created_at = k.task_created_at AND t.agency = k.agency AND t.ticket = k.ticket
WHERE k.ticket = ANY($1::text[])
  AND t.created_at >= (SELECT min(k1.task_created_at) FROM agency_ticket k1 WHERE k1.ticket = ANY($1::text[]))
  AND t.created_at <= (SELECT max(k1.task_created_at) FROM agency_ticket k1 WHERE k1.ticket = ANY($1::text[]))

-- count_callback --
-- $1 agency, $2 accepted boolean, $3 refusal reason (null when accepted): this minute's counter
INSERT INTO agency_callback_minute AS c (agency, minute, accepted, refused, last_at, last_result, last_reason)
VALUES ($1, date_trunc('minute', now()), CASE WHEN $2 THEN 1 ELSE 0 END, CASE WHEN $2 THEN 0 ELSE 1 END,
        clock_timestamp(), CASE WHEN $2 THEN 'accepted' ELSE 'refused' END, $3)
ON CONFLICT (agency, minute) DO UPDATE
SET accepted = c.accepted + EXCLUDED.accepted,
    refused = c.refused + EXCLUDED.refused,
    last_at = greatest(c.last_at, EXCLUDED.last_at),
    last_result = CASE WHEN EXCLUDED.last_at >= c.last_at THEN EXCLUDED.last_result ELSE c.last_result END,
    last_reason = CASE WHEN EXCLUDED.last_at >= c.last_at THEN EXCLUDED.last_reason ELSE c.last_reason END

-- callback_counts --
-- $1 window seconds: each agency's callbacks accepted and refused in the window, and the last one
SELECT agency, sum(accepted)::bigint AS accepted, sum(refused)::bigint AS refused,
       (array_agg(last_at ORDER BY last_at DESC))[1] AS last_at,
       (array_agg(last_result ORDER BY last_at DESC))[1] AS last_result,
       (array_agg(last_reason ORDER BY last_at DESC))[1] AS last_reason
FROM agency_callback_minute
WHERE minute > now() - make_interval(secs => $1)
GROUP BY agency
