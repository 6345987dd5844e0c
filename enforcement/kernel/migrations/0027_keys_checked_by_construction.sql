-- Issue 19, decision 1925: the foreign keys of the rows a search's own statements write, checked
-- by construction instead of by trigger.
--
-- Every row below is written by one of the service's statements in the same statement (or
-- transaction) as, or from, the row it points to: an answer and its records and first sightings from the
-- task being finished (flush_outcomes), a task's answer id from nextval in that same statement or
-- from a stored answer picked in the submission's statement (answers are never deleted), events
-- from the search's or its tasks' rows. Nothing deletes a search, an answer or a case that has
-- searches (search.case_id keeps its key: a case is what a user names). So these checks could
-- never fail, and each cost a trigger and a KEY SHARE lock on the parent row: about 38 a search
-- (5 task answers, 5 answers, 8 records, 8 first sightings, 12 events). A task keeps its key to
-- its search (id, created_at): that key is what makes the partitioned table's unique
-- (idempotency_key, created_at) mean one task per search and agency, the at-most-once call, a sixth of PostgreSQL's time on
-- the search path. `enforcement db check` (kernel/integrity.py) verifies the same references, and
-- the acceptance tests run it after the crash and fault tests.

ALTER TABLE agency_task DROP CONSTRAINT agency_task_answer_fk;
ALTER TABLE agency_answer DROP CONSTRAINT agency_answer_search_id_fkey;
ALTER TABLE asset_record DROP CONSTRAINT asset_record_answer_id_fkey;
ALTER TABLE subject_asset DROP CONSTRAINT subject_asset_case_id_fkey;
ALTER TABLE search_event DROP CONSTRAINT search_event_search_id_fkey;
