-- insert_requery_rounds --
-- $1 case id, $2 party ids bigint[], $3 round numbers int[], $4 closed_on, $5 due dates date[], $6 run dates date[]: schedule a 终本 case's re-query rounds (rounds already there are kept)
INSERT INTO requery_round (case_id, party_id, round, closed_on, due_on, run_on)
SELECT $1, u.party_id, u.round, $4, u.due_on, u.run_on
FROM unnest($2::bigint[], $3::int[], $5::date[], $6::date[]) AS u(party_id, round, due_on, run_on)
ON CONFLICT (party_id, round) DO NOTHING

-- drop_pending_rounds_of_other_closure --
-- $1 case id, $2 closed_on: pending rounds scheduled for another closure date (the closure was corrected)
DELETE FROM requery_round WHERE case_id = $1 AND status = 'pending' AND closed_on IS DISTINCT FROM $2

-- cancel_pending_rounds --
-- $1 case id: a resumed (or no longer 终本) case is not re-queried any more
UPDATE requery_round SET status = 'cancelled' WHERE case_id = $1 AND status = 'pending'

-- claim_due_requeries --
-- $1 today (date), $2 interval days, $3 limit: pending rounds due to start whose window has not passed, locked (SKIP LOCKED), with the debtor
SELECT r.id, r.case_id, r.party_id, r.round, r.due_on, r.run_on, p.kind, p.id_number, p.name
FROM requery_round r
JOIN case_party p ON p.id = r.party_id
WHERE r.status = 'pending' AND r.run_on <= $1 AND r.due_on > $1::date - $2::int
ORDER BY r.run_on, r.id
LIMIT $3
FOR UPDATE OF r SKIP LOCKED

-- mark_rounds_submitted --
-- $1 round ids bigint[], $2 search ids uuid[], $3 submitted at (the scheduler's clock)
UPDATE requery_round r
SET status = 'submitted', search_id = u.search_id, submitted_at = $3
FROM unnest($1::bigint[], $2::uuid[]) AS u(id, search_id)
WHERE r.id = u.id AND r.status = 'pending'

-- mark_rounds_missed --
-- $1 round ids bigint[]: superseded by a later round of the same debtor
UPDATE requery_round SET status = 'missed' WHERE id = ANY($1::bigint[]) AND status = 'pending'

-- sweep_missed_rounds --
-- $1 today, $2 interval days: pending rounds whose window passed without a re-query
UPDATE requery_round SET status = 'missed'
WHERE status = 'pending' AND due_on <= $1::date - $2::int
RETURNING id

-- complete_requery_rounds --
-- $1 completed at (the scheduler's clock), $2 property kinds text[], $3 limit: rounds whose search completed become done, with how many properties were first seen in that search
WITH picked AS (
    SELECT r.id, r.search_id, s.subject_key
    FROM requery_round r
    JOIN search s ON s.id = r.search_id
    WHERE r.status = 'submitted' AND s.status = 'completed'
    ORDER BY r.id
    LIMIT $3
    FOR UPDATE OF r SKIP LOCKED
)
UPDATE requery_round r
SET status = 'done', completed_at = $1,
    new_assets = (SELECT count(*) FROM subject_asset sa
                  WHERE sa.case_id = r.case_id AND sa.subject_key = picked.subject_key
                    AND sa.first_seen_search_id = picked.search_id
                    AND sa.kind = ANY($2::text[]))
FROM picked
WHERE r.id = picked.id
RETURNING r.id, r.case_id, r.party_id, r.round, r.search_id, r.new_assets

-- dishonest_removal_facts --
-- $1 case id, $2 property kinds text[], $3 required network categories text[]: the closure, the latest dishonest listing and delisting, leads received after closure, and every post-closure network search of the case's debtors: each re-query round once all its debtors' searches are done, each day on which the judge's own full searches through the service (every agency answered afresh, none reused, none failed) covered every debtor, and each day on which the judge recorded network searches made outside the service (network_search_recorded after the closure) covering every required category; with whether any property at all was in their answers (DOMAIN section 4)
WITH debtors AS (SELECT count(*) AS n FROM case_party WHERE case_id = $1 AND role = 'debtor'),
occasions AS (
    SELECT 'requery' AS source, (max(r.completed_at) AT TIME ZONE 'Asia/Shanghai')::date AS done_on,
           bool_or(EXISTS (SELECT 1 FROM agency_answer a JOIN asset_record ar ON ar.answer_id = a.id
                           WHERE a.search_id = r.search_id AND ar.kind = ANY($2::text[]))) AS found
    FROM requery_round r
    WHERE r.case_id = $1 AND r.status NOT IN ('cancelled', 'missed')
    GROUP BY r.round
    HAVING bool_and(r.status = 'done')
    UNION ALL
    SELECT 'judge', (s.completed_at AT TIME ZONE 'Asia/Shanghai')::date,
           bool_or(EXISTS (SELECT 1 FROM agency_answer a JOIN asset_record ar ON ar.answer_id = a.id
                           WHERE a.search_id = s.id AND ar.kind = ANY($2::text[])))
    FROM search s
    JOIN enforcement_case c ON c.id = s.case_id
    WHERE s.case_id = $1 AND s.requested_by <> 'system:requery' AND s.status = 'completed'
      AND (s.created_at AT TIME ZONE 'Asia/Shanghai')::date > c.closed_on
      AND NOT EXISTS (SELECT 1 FROM agency_task t WHERE t.search_id = s.id AND (t.status <> 'succeeded' OR t.reused))
    GROUP BY (s.completed_at AT TIME ZONE 'Asia/Shanghai')::date
    HAVING count(DISTINCT s.subject_key) >= (SELECT n FROM debtors)
    UNION ALL
    SELECT 'judge', e.occurred_on, bool_or(coalesce((e.data->>'found')::boolean, false))
    FROM case_event e
    JOIN enforcement_case c ON c.id = e.case_id
    WHERE e.case_id = $1 AND e.event_type = 'network_search_recorded' AND e.occurred_on > c.closed_on
    GROUP BY e.occurred_on
    HAVING array_agg(DISTINCT e.data->>'category') @> $3::text[]
)
SELECT c.id, c.closure_mode, c.closed_on,
       lst.id AS listing_event_id, lst.occurred_on AS listed_on,
       (SELECT max(e.occurred_on) FROM case_event e
        WHERE e.case_id = c.id AND e.event_type = 'dishonest_delisted') AS delisted_on,
       (SELECT count(*) FROM case_event e
        WHERE e.case_id = c.id AND e.event_type IN ('applicant_lead_received', 'leads_provided')
          AND e.occurred_on > c.closed_on) AS leads_after,
       (SELECT coalesce(array_agg(o.done_on ORDER BY o.done_on, o.source), '{}') FROM occasions o) AS search_done_on,
       (SELECT coalesce(array_agg(o.found ORDER BY o.done_on, o.source), '{}') FROM occasions o) AS search_found,
       (SELECT coalesce(array_agg(o.source ORDER BY o.done_on, o.source), '{}') FROM occasions o) AS search_source
FROM enforcement_case c
LEFT JOIN LATERAL (SELECT e.id, e.occurred_on FROM case_event e
                   WHERE e.case_id = c.id AND e.event_type = 'dishonest_listed'
                   ORDER BY e.occurred_on DESC, e.id DESC LIMIT 1) lst ON true
WHERE c.id = $1

-- removal_candidates --
-- $1 limit: 终本 cases whose debtor is listed (not delisted since), with no removal alert for that listing yet, in which a judge's own search completed, or was recorded, after the closure (the re-query's rounds are checked as they complete)
SELECT c.id
FROM enforcement_case c
JOIN LATERAL (SELECT e.id, e.occurred_on FROM case_event e
              WHERE e.case_id = c.id AND e.event_type = 'dishonest_listed'
              ORDER BY e.occurred_on DESC, e.id DESC LIMIT 1) lst ON true
WHERE c.closure_mode = '终结本次执行程序'
  AND NOT EXISTS (SELECT 1 FROM case_event d WHERE d.case_id = c.id AND d.event_type = 'dishonest_delisted'
                  AND d.occurred_on >= lst.occurred_on)
  AND NOT EXISTS (SELECT 1 FROM case_alert a WHERE a.dedupe_key = 'dishonest_removal_due:' || c.id || ':' || lst.id)
  AND (EXISTS (SELECT 1 FROM search s WHERE s.case_id = c.id AND s.requested_by <> 'system:requery'
               AND s.status = 'completed' AND (s.created_at AT TIME ZONE 'Asia/Shanghai')::date > c.closed_on)
       OR EXISTS (SELECT 1 FROM case_event e WHERE e.case_id = c.id AND e.event_type = 'network_search_recorded'
                  AND e.occurred_on > c.closed_on))
ORDER BY c.id
LIMIT $1

-- requery_rounds_of_case --
-- $1 case id: the case's re-query schedule
SELECT r.id, r.party_id, p.name AS debtor_name, p.kind, r.round, r.closed_on, r.due_on, r.run_on, r.status,
       r.search_id, r.submitted_at, r.completed_at, r.new_assets
FROM requery_round r
JOIN case_party p ON p.id = r.party_id
WHERE r.case_id = $1
ORDER BY r.round, r.party_id

-- requery_backlog --
-- $1 today: pending rounds already due to start, and searches submitted but not completed
SELECT (SELECT count(*) FROM requery_round WHERE status = 'pending' AND run_on <= $1) AS due,
       (SELECT count(*) FROM requery_round WHERE status = 'submitted') AS in_flight
