-- 0004: agencies as they really behave (issue 3).
--   * call groups: the tasks sent together in one batch call count as one call in flight;
--   * the circuit breaker of each agency, shared by every dispatcher process;
--   * dispatcher heartbeats (live workers share an agency's request rate) and each worker's
--     recent view of each agency (latency, errors) for GET /api/v1/agencies;
--   * nonces of signed agency callbacks, remembered until their timestamp is stale anyway;
--   * bulk searches: a batch's subjects keep their order, and the batch its court.

ALTER TABLE agency_task ADD COLUMN call_group uuid;

-- One row per agency. 'open' with open_until in the past is half-open: a few probe calls go
-- out (the claim limits calls in flight to half_open_probes), their results close or re-open it.
CREATE TABLE agency_breaker (
    agency       text PRIMARY KEY,
    state        text NOT NULL DEFAULT 'closed' CHECK (state IN ('closed', 'open')),
    opened_at    timestamptz,
    open_until   timestamptz,
    opened_by    text,                     -- the worker whose calls opened it
    reason       text,                     -- the last error code seen when it opened
    changed_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dispatcher_heartbeat (
    worker_id    text PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT now(),
    seen_at      timestamptz NOT NULL DEFAULT now()
);

-- Each worker's recent calls to each agency, written every heartbeat.
CREATE TABLE agency_worker_stats (
    agency        text NOT NULL,
    worker_id     text NOT NULL,
    calls         integer NOT NULL,          -- calls finished in the recent window
    failures      integer NOT NULL,          -- of which failed (transient or auth)
    p50_seconds   double precision,
    p95_seconds   double precision,
    in_flight     integer NOT NULL DEFAULT 0,
    auth_failed   boolean NOT NULL DEFAULT false,
    last_error    text,
    last_call_at  timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency, worker_id)
);

CREATE TABLE callback_nonce (
    agency       text NOT NULL,
    nonce        text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (agency, nonce)
);
CREATE INDEX callback_nonce_expiry ON callback_nonce (expires_at);

ALTER TABLE search ADD COLUMN batch_seq integer;
CREATE UNIQUE INDEX search_batch_seq ON search (batch_id, batch_seq) WHERE batch_id IS NOT NULL;

ALTER TABLE search_batch ADD COLUMN court_code text;
ALTER TABLE search_batch ADD COLUMN force_fresh boolean NOT NULL DEFAULT false;

-- A callback names tickets without saying whose: find them (and refuse another agency's) by ticket.
CREATE INDEX agency_task_ticket_any ON agency_task (ticket) WHERE ticket IS NOT NULL;
