-- 0006 (issue 7): what operations watch, read cheaply. Deferred answers past their deadline are
-- counted every few seconds by every API process; this partial index holds only tickets that
-- are waiting or expired, so the count never scans the whole task table.
CREATE INDEX agency_task_deferred_deadline ON agency_task (deadline_at)
    WHERE ticket IS NOT NULL AND status IN ('waiting', 'expired');
