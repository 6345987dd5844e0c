-- Issue 17 follow-up (a finding of issue 16's session): "new property" is new to the CASE.
-- A search's answers serve only its own case (DOMAIN.md §6, 点对点); the first sighting of a
-- debtor's asset was kept per subject across every case, so another case's earlier search of the
-- same debtor hid this case's new-property alert (and its "new" marks in the dossier, and the
-- re-query round's count of new assets). The first sighting is now kept per case, recomputed from
-- the answers already stored (each case's earliest answer with the asset), and flush_outcomes
-- writes it per case.

ALTER TABLE subject_asset ADD COLUMN case_id bigint;

CREATE TEMP TABLE first_sightings ON COMMIT DROP AS
SELECT DISTINCT ON (a.case_id, r.subject_key, r.kind, r.natural_key)
       a.case_id, r.subject_key, r.kind, r.natural_key, a.search_id, a.received_at
FROM asset_record r
JOIN agency_answer a ON a.id = r.answer_id
ORDER BY a.case_id, r.subject_key, r.kind, r.natural_key, a.received_at, a.id;

DELETE FROM subject_asset;
INSERT INTO subject_asset (case_id, subject_key, kind, natural_key, first_seen_search_id, first_seen_at)
SELECT case_id, subject_key, kind, natural_key, search_id, received_at FROM first_sightings;

ALTER TABLE subject_asset ALTER COLUMN case_id SET NOT NULL;
ALTER TABLE subject_asset DROP CONSTRAINT subject_asset_pkey;
ALTER TABLE subject_asset ADD PRIMARY KEY (case_id, subject_key, kind, natural_key);
ALTER TABLE subject_asset ADD FOREIGN KEY (case_id) REFERENCES enforcement_case (id) ON DELETE CASCADE;

CREATE OR REPLACE FUNCTION flush_outcomes(
    text, bigint[], jsonb[], int[], text[], timestamptz[], bigint[], text[], text[], jsonb[],
    bigint[], text[], text[], float8[], text[], text[]
) RETURNS TABLE (search_id uuid, duration_seconds float8) LANGUAGE plpgsql VOLATILE AS $fn$
#variable_conflict use_column
DECLARE
    touched uuid[] := '{}';
BEGIN
    IF coalesce(cardinality($2), 0) > 0 THEN
        WITH done AS (
            UPDATE agency_task t
            SET status = 'succeeded', answer_id = nextval('agency_answer_id_seq'), finished_at = now(),
                updated_at = now(), leased_by = NULL, lease_expires_at = NULL, error_code = NULL, error_message = NULL
            -- = ANY, not a join with unnest: an index scan by primary key whatever the generic plan
            -- guesses of the array's length and the table's size
            WHERE t.id = ANY($2::bigint[]) AND t.status IN ('queued', 'running', 'waiting')
              AND ($1::text IS NULL OR t.leased_by = $1)
            RETURNING t.id, t.search_id, t.agency, t.answer_id
        ), ctx AS MATERIALIZED (
            -- every later part reads the finished tasks from here, each joined once by key (records do
            -- not join the answers' RETURNING: the foreign key is checked at the end of the statement)
            SELECT d.id, d.search_id, d.agency, d.answer_id, s.case_id, s.subject_key, u.raw, u.n, u.ref, u.at
            FROM done d
            JOIN search s ON s.id = d.search_id
            JOIN unnest($2::bigint[], $3::jsonb[], $4::int[], $5::text[], $6::timestamptz[]) AS u(id, raw, n, ref, at)
              ON u.id = d.id
        ), answers AS (
            INSERT INTO agency_answer (id, task_id, search_id, case_id, agency, subject_key, raw, record_count,
                                       agency_reference, answered_at)
            SELECT c.answer_id, c.id, c.search_id, c.case_id, c.agency, c.subject_key, c.raw, c.n, c.ref, c.at
            FROM ctx c
        ), recs AS MATERIALIZED (
            SELECT c.answer_id, c.agency, c.subject_key, c.search_id, c.case_id, c.at, r.kind, r.nk, r.data
            FROM unnest($7::bigint[], $8::text[], $9::text[], $10::jsonb[]) AS r(task_id, kind, nk, data)
            JOIN ctx c ON c.id = r.task_id
        ), records AS (
            INSERT INTO asset_record (answer_id, agency, subject_key, kind, natural_key, data, observed_at)
            SELECT answer_id, agency, subject_key, kind, nk, data, at FROM recs
        ), first_seen AS (
            -- first sighting per case: what this case's searches never saw before
            INSERT INTO subject_asset (case_id, subject_key, kind, natural_key, first_seen_search_id, first_seen_at)
            SELECT DISTINCT ON (case_id, subject_key, kind, nk) case_id, subject_key, kind, nk, search_id, now()
            FROM recs
            ON CONFLICT DO NOTHING
        ), events AS (
            INSERT INTO search_event (search_id, agency, kind, payload)
            SELECT c.search_id, c.agency, 'task',
                   jsonb_build_object('task_id', c.id, 'status', 'succeeded', 'record_count', c.n,
                                      'answered_at', c.at, 'reused', false)
            FROM ctx c
            RETURNING search_id
        )
        SELECT touched || coalesce(array_agg(events.search_id), '{}') INTO touched FROM events;
    END IF;
    IF coalesce(cardinality($11), 0) > 0 THEN
        WITH u AS (
            SELECT * FROM unnest($11::bigint[], $12::text[], $13::text[], $14::float8[], $15::text[], $16::text[])
                AS u(id, outcome, ticket, delay, error_code, error_message)
        ), done AS (
            UPDATE agency_task t
            SET status = CASE
                    WHEN u.outcome = 'retry' AND coalesce(u.ticket, t.ticket) IS NULL THEN 'queued'
                    WHEN u.outcome = 'retry' THEN 'waiting'
                    ELSE u.outcome END,
                ticket = coalesce(u.ticket, t.ticket),
                due_at = now() + make_interval(secs => coalesce(u.delay, 0)),
                error_code = u.error_code, error_message = u.error_message,
                leased_by = NULL, lease_expires_at = NULL, updated_at = now(),
                finished_at = CASE WHEN u.outcome IN ('rejected', 'failed', 'expired') THEN now() END
            FROM u
            WHERE t.id = u.id AND t.status IN ('queued', 'running', 'waiting')
              AND ($1::text IS NULL OR t.leased_by = $1)
            RETURNING t.id, t.search_id, t.agency, t.status, t.attempts, t.error_code, t.error_message
        ), events AS (
            INSERT INTO search_event (search_id, agency, kind, payload)
            SELECT search_id, agency, 'task',
                   jsonb_build_object('task_id', id, 'status', status, 'attempts', attempts,
                                      'error_code', error_code, 'error_message', error_message)
            FROM done
            RETURNING search_id
        )
        SELECT touched || coalesce(array_agg(events.search_id), '{}') INTO touched FROM events;
    END IF;
    RETURN QUERY SELECT * FROM finish_searches(touched);
END
$fn$;
