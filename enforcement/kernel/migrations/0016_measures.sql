-- 0016: control measures (查控的"控", issue 17): freeze, seal, renew, release, deduct, each a durable
-- task like an agency query (idempotency key, lease, attempts, deadline), with its ruling, its
-- 协助执行通知书 number (from document_serial, the one counter with the 协助查询通知书), its effect at
-- the agency and its expiry. Renewal and lapse alerts join the case alerts.

CREATE TABLE measure (
    id                  bigserial PRIMARY KEY,
    case_id             bigint NOT NULL REFERENCES enforcement_case (id),
    parent_id           bigint REFERENCES measure (id),
    kind                text NOT NULL CHECK (kind IN ('freeze', 'seal', 'renew', 'release', 'deduct')),
    asset_kind          text NOT NULL CHECK (asset_kind IN ('bank_account', 'vehicle', 'real_estate')),
    agency              text NOT NULL,
    target_key          text NOT NULL,     -- the asset's natural key in the dossier
    target              text NOT NULL,     -- the asset as the agency names it (account number, VIN)
    subject_kind        text NOT NULL,
    subject_id_number   text NOT NULL,
    subject_name        text NOT NULL,
    amount              numeric(16, 2),    -- asked: freeze (null: the whole account), deduction
    asked_until         date,
    ruling_number       text NOT NULL,
    ruled_on            date NOT NULL,
    document_number     text NOT NULL,     -- 协助执行通知书
    case_number         text NOT NULL,
    court_code          text NOT NULL,
    judge_login         text NOT NULL,
    judge_name          text NOT NULL,
    judge_officer_id    text NOT NULL,
    requested_by        text NOT NULL,
    idempotency_key     text NOT NULL UNIQUE,
    request_no          text NOT NULL,
    status              text NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'active', 'partial', 'refused', 'released', 'lapsed', 'done',
                                          'failed')),
    -- the task
    task_status         text NOT NULL DEFAULT 'queued' CHECK (task_status IN ('queued', 'running', 'answered', 'failed')),
    attempts            integer NOT NULL DEFAULT 0,
    due_at              timestamptz NOT NULL DEFAULT now(),
    deadline_at         timestamptz NOT NULL,
    lease_owner         text,
    lease_expires_at    timestamptz,
    last_error          text,
    -- the agency's answer
    reference           text,              -- the control at the agency
    effect_amount       numeric(16, 2),    -- frozen (what it holds now) or deducted
    queue_position      integer,
    transfer_reference  text,
    refusal_code        text,
    refusal_reason      text,
    answered_at         timestamptz,
    starts_on           date,
    expires_on          date,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind IN ('freeze', 'seal')) = (parent_id IS NULL))
);

-- One live control of a case on one asset; one pending follow-up on one control.
CREATE UNIQUE INDEX measure_one_control ON measure (case_id, agency, target_key)
    WHERE kind IN ('freeze', 'seal') AND status IN ('pending', 'active', 'partial');
CREATE UNIQUE INDEX measure_one_follow_up ON measure (parent_id) WHERE parent_id IS NOT NULL AND status = 'pending';
CREATE INDEX measure_case ON measure (case_id, id);
CREATE INDEX measure_due ON measure (due_at) WHERE task_status = 'queued';
CREATE INDEX measure_leased ON measure (lease_expires_at) WHERE task_status = 'running';
CREATE INDEX measure_expiry ON measure (expires_on) WHERE status IN ('active', 'partial');

ALTER TABLE case_alert DROP CONSTRAINT case_alert_kind_check;
ALTER TABLE case_alert ADD CONSTRAINT case_alert_kind_check
    CHECK (kind IN ('new_property', 'consumption_breach', 'dishonest_removal_due', 'measure_renewal_due',
                    'measure_lapsed'));
