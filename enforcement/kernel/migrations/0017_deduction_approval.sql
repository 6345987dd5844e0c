-- 0017: a deduction above the court's set amount waits for a supervisor's approval (issue 17).
-- Such a deduction is written `awaiting_approval` with its task `held`: the dispatcher claims only
-- `queued` tasks, so nothing reaches the bank until POST /api/v1/measures/{id}:approve by a
-- supervisor of the case's court turns it `pending`/`queued` (with who approved it and when).

ALTER TABLE measure DROP CONSTRAINT measure_status_check;
ALTER TABLE measure ADD CONSTRAINT measure_status_check
    CHECK (status IN ('awaiting_approval', 'pending', 'active', 'partial', 'refused', 'released', 'lapsed', 'done',
                      'failed'));
ALTER TABLE measure DROP CONSTRAINT measure_task_status_check;
ALTER TABLE measure ADD CONSTRAINT measure_task_status_check
    CHECK (task_status IN ('held', 'queued', 'running', 'answered', 'failed'));
-- Held exactly while awaiting approval.
ALTER TABLE measure ADD CONSTRAINT measure_held_awaits_approval
    CHECK ((status = 'awaiting_approval') = (task_status = 'held'));

ALTER TABLE measure ADD COLUMN approved_by text;
ALTER TABLE measure ADD COLUMN approved_at timestamptz;

-- A deduction awaiting approval is a pending follow-up too: one at a time on one control.
DROP INDEX measure_one_follow_up;
CREATE UNIQUE INDEX measure_one_follow_up ON measure (parent_id)
    WHERE parent_id IS NOT NULL AND status IN ('awaiting_approval', 'pending');
CREATE INDEX measure_awaiting_approval ON measure (court_code, id) WHERE status = 'awaiting_approval';
