-- 0001: courts, users, cases, durable searches and their agency tasks, answers, records, events.

CREATE TABLE court (
    code        text PRIMARY KEY,              -- e.g. 辽0102
    name        text NOT NULL,
    province    text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE app_user (
    login        text PRIMARY KEY,
    display_name text NOT NULL,
    role         text NOT NULL CHECK (role IN ('judge', 'supervisor', 'ops', 'agency')),
    court_code   text REFERENCES court (code),
    officer_id   text,                         -- 执法证号 / 工作证号
    agency       text,                         -- for role 'agency': the connector it speaks for
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE enforcement_case (
    id                bigserial PRIMARY KEY,
    case_number       text NOT NULL UNIQUE,    -- （2025）辽0102执1234号
    court_code        text NOT NULL REFERENCES court (code),
    case_type         text NOT NULL CHECK (case_type IN ('执', '执恢', '执保', '执异', '执复')),
    judge_login       text REFERENCES app_user (login),
    applicant_name    text NOT NULL,
    cause             text NOT NULL DEFAULT '',  -- 案由
    amount_to_enforce numeric(18, 2) NOT NULL DEFAULT 0 CHECK (amount_to_enforce >= 0),
    amount_recovered  numeric(18, 2) NOT NULL DEFAULT 0 CHECK (amount_recovered >= 0),
    non_litigation    boolean NOT NULL DEFAULT false,
    filed_on          date NOT NULL,
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'suspended', 'closed')),
    closure_mode      text,
    closed_on         date,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX enforcement_case_judge ON enforcement_case (judge_login, status);
CREATE INDEX enforcement_case_court ON enforcement_case (court_code, filed_on);

CREATE TABLE case_party (
    id          bigserial PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES enforcement_case (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('applicant', 'debtor')),
    kind        text NOT NULL CHECK (kind IN ('person', 'organization')),
    id_number   text NOT NULL,
    name        text NOT NULL,
    UNIQUE (case_id, role, id_number)
);
CREATE INDEX case_party_subject ON case_party (kind, id_number);

CREATE TABLE case_event (
    id           bigserial PRIMARY KEY,
    case_id      bigint NOT NULL REFERENCES enforcement_case (id) ON DELETE CASCADE,
    event_type   text NOT NULL,
    occurred_on  date NOT NULL,
    data         jsonb NOT NULL DEFAULT '{}'::jsonb,
    source       text NOT NULL DEFAULT 'case_system',   -- case_system | service | user:<login>
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_event_case ON case_event (case_id, event_type, occurred_on);

CREATE TABLE search_batch (
    id            uuid PRIMARY KEY,
    requested_by  text NOT NULL,
    purpose       text NOT NULL,
    total         integer NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- One judge's query about one subject, with the request context sent to every agency.
CREATE TABLE search (
    id                uuid PRIMARY KEY,
    case_id           bigint NOT NULL REFERENCES enforcement_case (id),
    batch_id          uuid REFERENCES search_batch (id),
    subject_kind      text NOT NULL CHECK (subject_kind IN ('person', 'organization')),
    subject_id_number text NOT NULL,
    subject_name      text NOT NULL,
    subject_key       text NOT NULL,
    purpose           text NOT NULL,
    requested_by      text NOT NULL,
    force_fresh       boolean NOT NULL DEFAULT false,
    request_no        text NOT NULL,
    case_number       text NOT NULL,
    court_code        text NOT NULL,
    judge_name        text NOT NULL,
    judge_officer_id  text NOT NULL,
    document_number   text NOT NULL,
    date_from         date,
    date_to           date,
    status            text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    completed_at      timestamptz
);
CREATE INDEX search_subject ON search (subject_key, created_at);
CREATE INDEX search_case ON search (case_id, created_at);
CREATE INDEX search_batch_idx ON search (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX search_running ON search (created_at) WHERE status = 'running';

-- The outbox: one row per agency per search; dispatchers claim due rows with SKIP LOCKED.
--   queued   -> running -> succeeded | rejected | failed | expired
--   running  -> waiting (deferred: holds a ticket, polled at due_at or answered by callback)
--   running  -> queued  (transient failure: retried at due_at)
CREATE TABLE agency_task (
    id                bigserial PRIMARY KEY,
    search_id         uuid NOT NULL REFERENCES search (id) ON DELETE CASCADE,
    agency            text NOT NULL,
    idempotency_key   text NOT NULL UNIQUE,
    status            text NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'running', 'waiting', 'succeeded', 'rejected', 'failed', 'expired')),
    attempts          integer NOT NULL DEFAULT 0,
    due_at            timestamptz NOT NULL DEFAULT now(),
    deadline_at       timestamptz NOT NULL,
    leased_by         text,
    lease_expires_at  timestamptz,
    ticket            text,
    answer_id         bigint,
    reused            boolean NOT NULL DEFAULT false,
    error_code        text,
    error_message     text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz
);
CREATE INDEX agency_task_due ON agency_task (agency, due_at) WHERE status IN ('queued', 'waiting');
CREATE INDEX agency_task_leased ON agency_task (agency, lease_expires_at) WHERE status = 'running';
CREATE INDEX agency_task_search ON agency_task (search_id);
CREATE UNIQUE INDEX agency_task_ticket ON agency_task (agency, ticket) WHERE ticket IS NOT NULL;

-- Each agency answer, stored raw for audit. An empty answer (查无信息) has record_count = 0.
CREATE TABLE agency_answer (
    id                bigserial PRIMARY KEY,
    task_id           bigint NOT NULL REFERENCES agency_task (id),
    search_id         uuid NOT NULL REFERENCES search (id),
    case_id           bigint NOT NULL,
    agency            text NOT NULL,
    subject_key       text NOT NULL,
    raw               jsonb NOT NULL,
    record_count      integer NOT NULL,
    agency_reference  text,
    answered_at       timestamptz NOT NULL,
    received_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agency_answer_reuse ON agency_answer (subject_key, agency, case_id, answered_at DESC);
ALTER TABLE agency_task ADD CONSTRAINT agency_task_answer_fk FOREIGN KEY (answer_id) REFERENCES agency_answer (id)
    DEFERRABLE INITIALLY DEFERRED;

-- Normalized asset records with provenance (which answer, which agency, when).
CREATE TABLE asset_record (
    id           bigserial PRIMARY KEY,
    answer_id    bigint NOT NULL REFERENCES agency_answer (id),
    agency       text NOT NULL,
    subject_key  text NOT NULL,
    kind         text NOT NULL,
    natural_key  text NOT NULL,
    data         jsonb NOT NULL,
    observed_at  timestamptz NOT NULL
);
CREATE INDEX asset_record_answer ON asset_record (answer_id);

-- First sighting of each asset of a subject: what is "new since the previous search".
CREATE TABLE subject_asset (
    subject_key           text NOT NULL,
    kind                  text NOT NULL,
    natural_key           text NOT NULL,
    first_seen_search_id  uuid NOT NULL,
    first_seen_at         timestamptz NOT NULL,
    PRIMARY KEY (subject_key, kind, natural_key)
);

-- Everything a judge's page follows live; also replayed to late SSE subscribers.
CREATE TABLE search_event (
    id          bigserial PRIMARY KEY,
    search_id   uuid NOT NULL REFERENCES search (id) ON DELETE CASCADE,
    agency      text,
    kind        text NOT NULL,       -- task | search_completed
    payload     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX search_event_search ON search_event (search_id, id);
