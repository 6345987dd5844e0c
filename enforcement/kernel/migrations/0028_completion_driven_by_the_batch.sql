-- 0028: the completion costs what the flushed searches cost, not what the searches in flight cost
-- (issue 19, p-flush).
--
-- finish_searches joined `unnest($1)` with `search ... WHERE status = 'running'`. Its generic plan
-- (forced, decision 0702) drove that join from the `search_running` index: every running search,
-- each with its scalar count of unfinished tasks, then filtered against the batch (a nested loop on
-- the array). At full load (~1000 searches in flight) each flush counted the tasks of every search
-- in flight, and the UPDATE re-read the running searches once per completed search; the lock
-- statement hashed all running searches as well. Now each of the three parts goes by key:
-- * the lock and the `ready` probe select `search` by `id = ANY($1)` (its primary key, in any plan;
--   duplicates in $1 fold away by themselves), and test the status in a form the partial index
--   `search_running` cannot answer (else the plan ANDs the keys with a bitmap of every running
--   search: the planner's statistics rarely see searches running);
-- * a search's unfinished tasks are probed through its index range (search_id, created_at, status)
--   and the probe stops at the first one found (`LIMIT 1`, still a scalar subquery per search, not
--   an anti-join). `agency_task_search` was (search_id) alone: the probe read every index entry of
--   the search (every version left by the non-HOT updates of its tasks: queued, running, finished)
--   and fetched each from the heap to test created_at and status; with the status in the index,
--   finished versions are skipped in the index itself. The index is replaced, not added: a task's
--   status changes already defeat HOT (partial indexes' predicates), so each update inserted into
--   it anyway and the writes stay the same. (A partial index of only the unfinished tasks read about
--   as few buffers but would be one more index for every insert and claim to write.)
-- * the UPDATE joins the ready searches by key.
-- Exactly-once completion under concurrent flushes is unchanged: the running searches are locked
-- in key order first (FOR NO KEY UPDATE), and the probe is a later statement with a fresh
-- snapshot, so the flush that locks last sees the other's finished tasks.
--
-- flush_outcomes is unchanged (it calls finish_searches).

DROP INDEX agency_task_search;
CREATE INDEX agency_task_search ON agency_task (search_id, created_at, status);

CREATE OR REPLACE FUNCTION finish_searches(uuid[]) RETURNS TABLE(search_id uuid, duration_seconds double precision)
    LANGUAGE plpgsql
    AS $_$
#variable_conflict use_column
BEGIN
    IF coalesce(cardinality($1), 0) = 0 THEN
        RETURN;
    END IF;
    -- by primary key, driven by the batch (not by the searches in flight); `(status = 'running')
    -- IS TRUE`, not `status = 'running'`: the partial index search_running cannot answer it, so no
    -- plan ANDs the batch's keys with a bitmap of every running search (the planner, whose
    -- statistics rarely see a search running, picks that one)
    PERFORM s.id FROM search s
    WHERE s.id = ANY($1::uuid[]) AND (s.status = 'running') IS TRUE
    ORDER BY s.id FOR NO KEY UPDATE OF s;
    -- The completion's generic plan is the one wanted (by key, driven by the batch; decision 0702).
    PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);
    RETURN QUERY
        WITH ready AS MATERIALIZED (
            -- a scalar subquery per search, not NOT EXISTS: the planner may turn that into an
            -- anti-join that hashes every unfinished task of the table
            -- a search's tasks share its created_at (made in its transaction): one partition is read
            SELECT s.id FROM search s
            WHERE s.id = ANY($1::uuid[]) AND (s.status = 'running') IS TRUE
              AND (SELECT 1 FROM agency_task t
                   WHERE t.search_id = s.id AND t.created_at = s.created_at
                     AND t.status IN ('queued', 'running', 'waiting')
                   LIMIT 1) IS NULL
        ), c AS (
            UPDATE search s SET status = 'completed', completed_at = now()
            FROM ready
            WHERE s.id = ready.id AND (s.status = 'running') IS TRUE
            RETURNING s.id, s.created_at, s.completed_at
        )
        INSERT INTO search_event (search_id, agency, kind, payload)
        SELECT id, NULL, 'search_completed',
               jsonb_build_object('completed_at', completed_at,
                                  'duration_seconds', extract(epoch FROM completed_at - created_at))
        FROM c
        RETURNING search_id, (payload ->> 'duration_seconds')::float8 AS duration_seconds;
    PERFORM pg_notify('search_events', '');
END
$_$;
