-- Issue 19, decision 1901: agency_task and search_event partitioned by month of created_at (UTC),
-- so that retention is DROP of a whole old partition (enforcement db partitions --drop-expired)
-- instead of a DELETE that bloats the table and its indexes.
--
-- Each table is rebuilt from its own definition (CREATE TABLE .. (LIKE old INCLUDING ALL
-- EXCLUDING INDEXES)), so a column, default or CHECK an earlier migration added carries over; its
-- non-unique indexes and outgoing foreign keys are recreated from the catalog as they were; a unique
-- index or trigger this migration does not know stops it (a unique index must be re-thought to
-- include the partition key). The id sequences stay (one global sequence per table: ids stay unique
-- across partitions); every existing row is copied.
--
-- What partitioning changes, and how each invariant is kept (decision 1901):
-- * Primary keys become (id, created_at): a unique index on a partitioned table must hold the
--   partition key. id alone stays unique by its sequence.
-- * agency_task.idempotency_key (search id ':' agency) stays unique: UNIQUE (idempotency_key,
--   created_at) with a task's created_at tied to its search's by the foreign key (search_id,
--   created_at) -> search (id, created_at): a task is created in its search's transaction, so both
--   are that transaction's now(); two tasks with one key are one search's, so one created_at, so
--   the unique index refuses the second as before.
-- * A ticket stays unique per agency (a callback names exactly one task): the unique index
--   (agency, ticket) moves to a small table, agency_ticket, kept by triggers on agency_task (only
--   when a ticket is set, changed or its task deleted); the non-unique index stays for the lookups.
-- * agency_answer.task_id -> agency_task loses its foreign key: a key into a partitioned table
--   would have to carry the task's created_at, and an answer (kept for good: the system of record)
--   would then forbid dropping its task's partition forever. The task -> answer key
--   (agency_task.answer_id, deferrable) stays, and flush_outcomes only ever inserts an answer for
--   the task row its UPDATE returned.
-- * search_event keeps its key to search (a partitioned table may reference a plain one).

-- The rows' months, UTC: <table>_pYYYYMM for [first day, first day of the next month), and
-- <table>_default for anything else (so no insert ever fails). A month whose rows the default
-- partition took meanwhile gets them moved into its new partition before it is attached.
CREATE FUNCTION ensure_month_partitions(parent regclass, first_month date, last_month date) RETURNS SETOF text
    LANGUAGE plpgsql
    AS $fn$
DECLARE
    m date := date_trunc('month', first_month)::date;
    base text := (SELECT relname FROM pg_class WHERE oid = parent);
    part text;
    lo timestamptz;
    hi timestamptz;
BEGIN
    WHILE m <= last_month LOOP
        part := format('%s_p%s', base, to_char(m, 'YYYYMM'));
        IF to_regclass(part) IS NULL THEN
            lo := m::timestamp AT TIME ZONE 'UTC';
            hi := (m + interval '1 month')::timestamp AT TIME ZONE 'UTC';
            IF to_regclass(base || '_default') IS NULL THEN
                EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', part, base, lo, hi);
            ELSE
                EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part, base);
                EXECUTE format('WITH moved AS (DELETE FROM %I WHERE created_at >= $1 AND created_at < $2 RETURNING *) '
                               'INSERT INTO %I SELECT * FROM moved', base || '_default', part) USING lo, hi;
                EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', base, part, lo, hi);
                IF base = 'agency_task' THEN
                    -- the rows moved out of the default partition gave their tickets up (delete trigger);
                    -- the insert into the table not yet attached did not take them back
                    EXECUTE format('INSERT INTO agency_ticket (agency, ticket, task_id, task_created_at) '
                                   'SELECT agency, ticket, id, created_at FROM %I WHERE ticket IS NOT NULL', part);
                END IF;
            END IF;
            RETURN NEXT part;
        END IF;
        m := (m + interval '1 month')::date;
    END LOOP;
END
$fn$;

-- A ticket names one task of its agency (was: the unique index agency_task_ticket).
CREATE TABLE agency_ticket (
    agency           text NOT NULL,
    ticket           text NOT NULL,
    task_id          bigint NOT NULL,
    task_created_at  timestamptz NOT NULL,
    PRIMARY KEY (agency, ticket)
);
CREATE INDEX agency_ticket_task_created_at ON agency_ticket (task_created_at);

CREATE FUNCTION agency_ticket_follow() RETURNS trigger
    LANGUAGE plpgsql
    AS $fn$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.ticket IS NOT NULL THEN
        DELETE FROM agency_ticket WHERE agency = OLD.agency AND ticket = OLD.ticket AND task_id = OLD.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.ticket IS NOT NULL THEN
        INSERT INTO agency_ticket (agency, ticket, task_id, task_created_at)
        VALUES (NEW.agency, NEW.ticket, NEW.id, NEW.created_at);
    END IF;
    RETURN NULL;
END
$fn$;

-- search (id, created_at): what a task's foreign key names (see above).
ALTER TABLE search ADD CONSTRAINT search_id_created_at_key UNIQUE (id, created_at);

ALTER TABLE agency_answer DROP CONSTRAINT IF EXISTS agency_answer_task_id_fkey;

CREATE FUNCTION pg_temp.rebuild_partitioned(tab text, pkey text, known_unique text[], replaced_fks text[])
    RETURNS void
    LANGUAGE plpgsql
    AS $fn$
DECLARE
    seq text := pg_get_serial_sequence(tab, 'id');
    r record;
    idx text[] := '{}';
    fks text[] := '{}';
    stmt text;
    first_month date;
BEGIN
    FOR r IN SELECT c.relname, i.indisunique, pg_get_indexdef(i.indexrelid) AS def
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             WHERE i.indrelid = tab::regclass LOOP
        IF r.relname = ANY (known_unique) THEN
            CONTINUE;
        ELSIF r.indisunique THEN
            RAISE EXCEPTION 'migration 0021: unique index % on % is not known: decide how it holds on the partitioned table', r.relname, tab;
        END IF;
        idx := idx || r.def;
    END LOOP;
    IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = tab::regclass AND NOT tgisinternal) THEN
        RAISE EXCEPTION 'migration 0021: % has triggers this migration does not know', tab;
    END IF;
    FOR r IN SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
             WHERE conrelid = tab::regclass AND contype = 'f' AND NOT conname = ANY (replaced_fks) LOOP
        fks := fks || format('ALTER TABLE %I ADD CONSTRAINT %I %s', tab, r.conname, r.def);
    END LOOP;

    EXECUTE format('ALTER SEQUENCE %s OWNED BY NONE', seq);
    EXECUTE format('ALTER TABLE %I RENAME TO %I', tab, tab || '_unpartitioned');
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING ALL EXCLUDING INDEXES) PARTITION BY RANGE (created_at)',
                   tab, tab || '_unpartitioned');
    EXECUTE format('ALTER SEQUENCE %s OWNED BY %I.id', seq, tab);
    EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', tab || '_default', tab);
    EXECUTE format('SELECT (min(created_at) AT TIME ZONE ''UTC'')::date FROM %I', tab || '_unpartitioned') INTO first_month;
    PERFORM ensure_month_partitions(tab::regclass, least(first_month, (now() AT TIME ZONE 'UTC')::date),
                                    ((now() AT TIME ZONE 'UTC') + interval '3 months')::date);
    EXECUTE format('INSERT INTO %I SELECT * FROM %I', tab, tab || '_unpartitioned');
    EXECUTE format('DROP TABLE %I', tab || '_unpartitioned');
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I PRIMARY KEY (id, created_at)', tab, pkey);
    FOREACH stmt IN ARRAY idx || fks LOOP
        EXECUTE stmt;
    END LOOP;
END
$fn$;

-- agency_task --------------------------------------------------------------------------------
SELECT pg_temp.rebuild_partitioned('agency_task', 'agency_task_pkey',
                                   ARRAY['agency_task_pkey', 'agency_task_idempotency_key_key', 'agency_task_ticket'],
                                   ARRAY['agency_task_search_id_fkey']);
-- a task's created_at is its search's (one transaction: see above); a row that differs (none is
-- known to) takes its search's time before the key is checked
UPDATE agency_task t SET created_at = s.created_at FROM search s WHERE s.id = t.search_id AND t.created_at <> s.created_at;
ALTER TABLE agency_task ADD CONSTRAINT agency_task_idempotency_key_key UNIQUE (idempotency_key, created_at);
ALTER TABLE agency_task ADD CONSTRAINT agency_task_search_id_fkey FOREIGN KEY (search_id, created_at)
    REFERENCES search (id, created_at) ON DELETE CASCADE;
CREATE INDEX agency_task_ticket ON agency_task (agency, ticket) WHERE ticket IS NOT NULL;
INSERT INTO agency_ticket (agency, ticket, task_id, task_created_at)
SELECT agency, ticket, id, created_at FROM agency_task WHERE ticket IS NOT NULL;
CREATE TRIGGER agency_ticket_insert AFTER INSERT ON agency_task
    FOR EACH ROW WHEN (NEW.ticket IS NOT NULL) EXECUTE FUNCTION agency_ticket_follow();
CREATE TRIGGER agency_ticket_update AFTER UPDATE OF ticket, agency ON agency_task
    FOR EACH ROW WHEN (NEW.ticket IS DISTINCT FROM OLD.ticket OR (NEW.ticket IS NOT NULL AND NEW.agency <> OLD.agency))
    EXECUTE FUNCTION agency_ticket_follow();
CREATE TRIGGER agency_ticket_delete AFTER DELETE ON agency_task
    FOR EACH ROW WHEN (OLD.ticket IS NOT NULL) EXECUTE FUNCTION agency_ticket_follow();

-- search_event -------------------------------------------------------------------------------
SELECT pg_temp.rebuild_partitioned('search_event', 'search_event_pkey', ARRAY['search_event_pkey'], ARRAY[]::text[]);

DROP FUNCTION pg_temp.rebuild_partitioned(text, text, text[], text[]);

ANALYZE agency_task;
ANALYZE search_event;
