-- 0024: banks answer a control asynchronously, in hours to several days, by ticket (DOMAIN.md
-- section 2). A measure whose control the agency accepted for processing waits with the agency's
-- ticket kept here (durable: a worker killed while waiting loses nothing; the next one polls the
-- same ticket and the agency answers the same), and is polled when due (task_status 'waiting',
-- due_at the next poll), leased like a queued task.

ALTER TABLE measure ADD COLUMN agency_ticket text;

ALTER TABLE measure DROP CONSTRAINT measure_task_status_check;
ALTER TABLE measure ADD CONSTRAINT measure_task_status_check
    CHECK (task_status IN ('held', 'queued', 'running', 'waiting', 'answered', 'failed', 'cancelled'));
-- Waiting only with the agency's ticket to poll.
ALTER TABLE measure ADD CONSTRAINT measure_waiting_has_ticket
    CHECK (task_status <> 'waiting' OR agency_ticket IS NOT NULL);

CREATE INDEX measure_waiting ON measure (due_at) WHERE task_status = 'waiting';
