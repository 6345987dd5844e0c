-- 0018: a held deduction can be rejected by a supervisor of the case's court or withdrawn by the
-- case's judge (issue 17): nothing goes to the bank; the measure keeps who, when and why. And
-- each court may set its own amount above which a deduction waits for approval (NULL: the
-- deployment's MEASURE_DEDUCTION_APPROVAL_YUAN).

ALTER TABLE measure DROP CONSTRAINT measure_status_check;
ALTER TABLE measure ADD CONSTRAINT measure_status_check
    CHECK (status IN ('awaiting_approval', 'pending', 'active', 'partial', 'refused', 'released', 'lapsed', 'done',
                      'failed', 'rejected', 'withdrawn'));
ALTER TABLE measure DROP CONSTRAINT measure_task_status_check;
ALTER TABLE measure ADD CONSTRAINT measure_task_status_check
    CHECK (task_status IN ('held', 'queued', 'running', 'answered', 'failed', 'cancelled'));
-- Cancelled exactly when a held deduction was rejected or withdrawn (it never reached a queue).
ALTER TABLE measure ADD CONSTRAINT measure_cancelled_never_sent
    CHECK ((task_status = 'cancelled') = (status IN ('rejected', 'withdrawn')));

ALTER TABLE measure ADD COLUMN cancelled_by text;
ALTER TABLE measure ADD COLUMN cancelled_at timestamptz;
ALTER TABLE measure ADD COLUMN cancel_reason text;

ALTER TABLE court ADD COLUMN measure_deduction_approval_yuan numeric(16,2)
    CHECK (measure_deduction_approval_yuan IS NULL OR measure_deduction_approval_yuan >= 0);
