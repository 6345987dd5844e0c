-- 0002 (issue 4): identities of court systems, case registry indexes, and the hash-chained audit trail.

-- A court's case-management system pushes its cases with a service account of role case_system.
ALTER TABLE app_user DROP CONSTRAINT app_user_role_check;
ALTER TABLE app_user ADD CONSTRAINT app_user_role_check
    CHECK (role IN ('judge', 'supervisor', 'ops', 'agency', 'case_system'));
ALTER TABLE app_user ADD CONSTRAINT app_user_court_bound
    CHECK (role NOT IN ('judge', 'supervisor', 'case_system') OR court_code IS NOT NULL);

-- The case registry: who pushed each case last, and the indexes the case lists filter by.
ALTER TABLE enforcement_case ADD COLUMN pushed_by text;
CREATE INDEX enforcement_case_judge_filed ON enforcement_case (judge_login, filed_on DESC);
CREATE INDEX enforcement_case_court_status ON enforcement_case (court_code, status, filed_on DESC);
CREATE INDEX case_party_case ON case_party (case_id, role);

-- The audit trail: append-only, one chain for the whole service. Each record's hash is an
-- HMAC-SHA256 (key held by the service, not the database) over the previous record's hash and
-- the canonical JSON of the record's fields, so a change, deletion or insertion anywhere breaks
-- the chain, even when made by a database superuser. Appends are serialized by a lock on the one
-- row of audit_chain_head, so concurrent writers never fork the chain.
CREATE TABLE audit_chain_head (
    id      integer PRIMARY KEY CHECK (id = 1),
    seq     bigint NOT NULL,
    hash    text NOT NULL,
    key_id  text                         -- fingerprint of the chain key, set by the first append
);
INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, repeat('0', 64));

CREATE TABLE audit_log (
    seq          bigint PRIMARY KEY,
    at           timestamptz NOT NULL,
    action       text NOT NULL,          -- search | dossier_read | export | refusal | ...
    actor_login  text NOT NULL,
    actor_role   text NOT NULL,
    actor_court  text,
    case_id      bigint,
    case_number  text,
    case_court   text,
    subject_key  text,                   -- person:<resident id> | organization:<credit code>
    purpose      text,
    reason       text,                   -- a refusal's code
    target       text,                   -- what was acted on: a search id, an export's name, a route
    request_id   text NOT NULL DEFAULT '',
    details      jsonb NOT NULL DEFAULT '{}'::jsonb,
    prev_hash    text NOT NULL,
    hash         text NOT NULL
);
CREATE INDEX audit_log_case_court ON audit_log (case_court, seq);
CREATE INDEX audit_log_actor_court ON audit_log (actor_court, seq);
CREATE INDEX audit_log_case ON audit_log (case_id, seq);
CREATE INDEX audit_log_request ON audit_log (request_id);

-- Append-only: the service never updates or deletes a record. (A superuser can disable this;
-- the chain still shows it.)
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
