-- measure_case --
-- $1 case id: the case a measure is taken on (its status and closure mode), with its judge's name and officer id, and its court's own deduction approval amount and renewal notice days (null: the deployment's settings)
SELECT c.id, c.case_number, c.court_code, c.status, c.closure_mode, c.judge_login,
       coalesce(u.display_name, '') AS judge_name, coalesce(u.officer_id, '') AS judge_officer_id,
       ct.measure_deduction_approval_yuan AS approval_above, ct.measure_renewal_notice_days AS notice_days
FROM enforcement_case c
LEFT JOIN app_user u ON u.login = c.judge_login
LEFT JOIN court ct ON ct.code = c.court_code
WHERE c.id = $1

-- measure_target --
-- $1 case id, $2 asset kind, $3 natural key: the latest record of the asset found by a search of the case, with the subject it was found for and the agency that reported it
SELECT r.kind, r.natural_key, r.data, r.agency, s.subject_kind, s.subject_id_number, s.subject_name
FROM search s
JOIN agency_task t ON t.search_id = s.id AND t.answer_id IS NOT NULL
JOIN asset_record r ON r.answer_id = t.answer_id
WHERE s.case_id = $1 AND r.kind = $2 AND r.natural_key = $3
ORDER BY r.observed_at DESC, r.id DESC
LIMIT 1

-- frozen_by_others --
-- $1 case id, $2 agency, $3 target key: what this case's own live freezes of the asset ask (the bank record's available balance predates them)
SELECT coalesce(sum(coalesce(effect_amount, amount)), 0) FROM measure
WHERE case_id = $1 AND agency = $2 AND target_key = $3 AND kind = 'freeze' AND status IN ('pending', 'active', 'partial')

-- live_control --
-- $1 case id, $2 agency, $3 target key: the case's live control of the asset, if any
SELECT id FROM measure
WHERE case_id = $1 AND agency = $2 AND target_key = $3 AND kind IN ('freeze', 'seal')
  AND status IN ('pending', 'active', 'partial')

-- pending_follow_up --
-- $1 parent measure id: a follow-up of the control still pending (or awaiting a supervisor's approval), if any
SELECT id FROM measure WHERE parent_id = $1 AND status IN ('awaiting_approval', 'pending')

-- measure_by_key --
-- $1 idempotency key: the measure made by the same act, if any
SELECT * FROM measure WHERE idempotency_key = $1

-- next_measure_serial --
-- $1 court code: the court's next notice serial this year (the one counter of 协助查询通知书 and 协助执行通知书), and the year
INSERT INTO document_serial (court_code, year, last)
VALUES ($1, court_year(now()), 1)
ON CONFLICT (court_code, year) DO UPDATE SET last = document_serial.last + 1
RETURNING last, year

-- insert_measure --
-- $1 case id, $2 parent id, $3 kind, $4 asset kind, $5 agency, $6 target key, $7 target, $8 subject kind, $9 id number, $10 name, $11 amount, $12 asked until, $13 ruling number, $14 ruled on, $15 document number, $16 case number, $17 court, $18 judge login, $19 judge name, $20 officer id, $21 requested by, $22 idempotency key, $23 request no, $24 deadline seconds, $25 held for approval: a new measure, queued for its agency (or held until a supervisor approves it)
INSERT INTO measure (case_id, parent_id, kind, asset_kind, agency, target_key, target, subject_kind, subject_id_number,
                     subject_name, amount, asked_until, ruling_number, ruled_on, document_number, case_number,
                     court_code, judge_login, judge_name, judge_officer_id, requested_by, idempotency_key, request_no,
                     deadline_at, status, task_status)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,
        now() + make_interval(secs => $24),
        CASE WHEN $25::boolean THEN 'awaiting_approval' ELSE 'pending' END,
        CASE WHEN $25::boolean THEN 'held' ELSE 'queued' END)
RETURNING *

-- approve_measure --
-- $1 measure id, $2 approver login, $3 deadline seconds: a held deduction approved: queued for its agency now, its deadline counted from the approval; no row: it was not awaiting approval
UPDATE measure
SET status = 'pending', task_status = 'queued', due_at = now(), deadline_at = now() + make_interval(secs => $3),
    approved_by = $2, approved_at = now(), updated_at = now()
WHERE id = $1 AND status = 'awaiting_approval'
RETURNING id

-- cancel_held_measure --
-- $1 measure id, $2 status (rejected | withdrawn), $3 by login, $4 reason: a held deduction rejected by a supervisor or withdrawn by the judge: it never reaches the bank; no row: it was not awaiting approval
UPDATE measure
SET status = $2, task_status = 'cancelled', cancelled_by = $3, cancelled_at = now(), cancel_reason = $4,
    updated_at = now()
WHERE id = $1 AND status = 'awaiting_approval'
RETURNING id

-- get_measure --
-- $1 measure id: the measure with the reference of the control it follows and its court's own renewal notice days (null: the deployment's setting)
SELECT m.*, p.reference AS parent_reference, ct.measure_renewal_notice_days AS court_notice_days
FROM measure m LEFT JOIN measure p ON p.id = m.parent_id LEFT JOIN court ct ON ct.code = m.court_code
WHERE m.id = $1

-- court_renewal_notice_days --
-- $1 court code: the court's own renewal notice days (null: none of its own, or no such court)
SELECT measure_renewal_notice_days FROM court WHERE code = $1

-- measures_of_case --
-- $1 case id: the case's measures, oldest first, each with its court's own renewal notice days (null: the deployment's setting)
SELECT m.*, p.reference AS parent_reference, ct.measure_renewal_notice_days AS court_notice_days
FROM measure m LEFT JOIN measure p ON p.id = m.parent_id LEFT JOIN court ct ON ct.code = m.court_code
WHERE m.case_id = $1 ORDER BY m.id

-- claim_measures --
-- $1 worker id, $2 batch size, $3 lease seconds: claim due measure tasks (queued and due, waiting for the agency's answer and due for a poll, or running with an expired lease) under a lease, skipping those another worker holds; a poll of the agency's ticket is no new attempt
WITH c AS (
    SELECT id FROM measure
    WHERE (task_status IN ('queued', 'waiting') AND due_at <= now())
       OR (task_status = 'running' AND lease_expires_at < now())
    ORDER BY due_at, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE measure m
SET task_status = 'running', lease_owner = $1, lease_expires_at = now() + make_interval(secs => $3),
    attempts = m.attempts + CASE WHEN m.agency_ticket IS NULL THEN 1 ELSE 0 END, updated_at = now()
FROM c
WHERE m.id = c.id
RETURNING m.*, (SELECT p.reference FROM measure p WHERE p.id = m.parent_id) AS parent_reference,
          (now() > m.deadline_at) AS past_deadline

-- wait_measure --
-- $1 id, $2 worker, $3 the agency's ticket, $4 seconds to the next poll, $5 seconds the agency may take to answer: the agency accepted the control for processing; the task waits with the ticket (kept only by the lease holder), polled when due; the first acceptance gives the agency its own time to answer (the deadline moves out to it); no row: the lease was lost
UPDATE measure
SET task_status = 'waiting', agency_ticket = $3, lease_owner = NULL, lease_expires_at = NULL, last_error = NULL,
    due_at = now() + make_interval(secs => $4),
    deadline_at = CASE WHEN agency_ticket IS NULL THEN greatest(deadline_at, now() + make_interval(secs => $5))
                       ELSE deadline_at END,
    updated_at = now()
WHERE id = $1 AND lease_owner = $2 AND task_status = 'running'
RETURNING id

-- answer_measure --
-- $1 id, $2 worker, $3 status, $4 reference, $5 effect amount, $6 queue position, $7 transfer reference, $8 refusal code, $9 refusal reason, $10 answered at, $11 starts on, $12 expires on: the agency's answer, kept only by the lease holder
UPDATE measure
SET status = $3, task_status = 'answered', lease_owner = NULL, lease_expires_at = NULL, last_error = NULL,
    reference = coalesce($4, reference), effect_amount = $5, queue_position = $6, transfer_reference = $7,
    refusal_code = $8, refusal_reason = $9, answered_at = $10, starts_on = $11, expires_on = $12, updated_at = now()
WHERE id = $1 AND lease_owner = $2 AND task_status = 'running'
RETURNING *

-- renew_control --
-- $1 control id, $2 new expiry: a renewal answered: the control runs to its new expiry
UPDATE measure SET expires_on = $2, updated_at = now() WHERE id = $1

-- release_control --
-- $1 control id: a release answered: the control ends
UPDATE measure SET status = 'released', updated_at = now() WHERE id = $1 AND status IN ('active', 'partial', 'lapsed')

-- deduct_from_control --
-- $1 control id, $2 amount deducted: what the freeze holds after a deduction
UPDATE measure SET effect_amount = greatest(coalesce(effect_amount, 0) - $2, 0), updated_at = now() WHERE id = $1

-- record_recovery --
-- $1 case id, $2 occurred on, $3 data jsonb (amount, transfer reference, measure), $4 external id: the deduction as the case's amount_recovered event (the case_event semantics of the cases feature: source 'measures', once per measure), and the case's recovered amount follows its events
WITH e AS (
    INSERT INTO case_event (case_id, event_type, occurred_on, data, source, external_id)
    VALUES ($1, 'amount_recovered', $2, $3, 'measures', $4)
    ON CONFLICT (case_id, external_id) WHERE external_id IS NOT NULL DO NOTHING
    RETURNING id
)
UPDATE enforcement_case c
SET amount_recovered = coalesce((SELECT sum((x.data->>'amount')::numeric) FROM case_event x
                                 WHERE x.case_id = $1 AND x.event_type = 'amount_recovered'), 0)
                       + coalesce((SELECT ($3::jsonb->>'amount')::numeric FROM e), 0),
    updated_at = now()
WHERE c.id = $1
RETURNING (SELECT id FROM e) AS event_id

-- retry_measure --
-- $1 id, $2 worker, $3 delay seconds, $4 error: a failed call, tried again later (a failed poll of the agency's ticket waits again)
UPDATE measure
SET task_status = CASE WHEN agency_ticket IS NULL THEN 'queued' ELSE 'waiting' END, lease_owner = NULL,
    lease_expires_at = NULL, due_at = now() + make_interval(secs => $3), last_error = $4, updated_at = now()
WHERE id = $1 AND lease_owner = $2 AND task_status = 'running'

-- fail_measure --
-- $1 id, $2 worker, $3 error: the measure could not be done (refused by the connector, or past its deadline)
UPDATE measure
SET status = 'failed', task_status = 'failed', lease_owner = NULL, lease_expires_at = NULL, last_error = $3,
    updated_at = now()
WHERE id = $1 AND lease_owner = $2 AND task_status = 'running'

-- renewals_due --
-- $1 today, $2 the deployment's notice days: live controls whose renewal is due (expiry within their court's notice days, else $2) and no renewal pending; the widest notice in force bounds the expiry index's range
SELECT m.id, m.case_id, m.kind, m.agency, m.target_key, m.expires_on, c.status AS case_status, c.closure_mode
FROM measure m JOIN enforcement_case c ON c.id = m.case_id
LEFT JOIN court ct ON ct.code = m.court_code
WHERE m.status IN ('active', 'partial') AND m.expires_on IS NOT NULL
  AND m.expires_on >= $1 AND m.expires_on - coalesce(ct.measure_renewal_notice_days, $2::integer) <= $1
  AND m.expires_on <= $1 + greatest($2::integer, (SELECT max(measure_renewal_notice_days) FROM court))
  AND NOT EXISTS (SELECT 1 FROM measure r WHERE r.parent_id = m.id AND r.kind = 'renew' AND r.status = 'pending')
ORDER BY m.expires_on, m.id

-- lapse_measures --
-- $1 today: live controls past their expiry (no renewal answered in time) lapse, and each lapse alert is raised in the same statement (once per control and expiry, by its dedupe key: a crash leaves neither or both); each lapsed control with its lapse alert's id (null: it existed)
WITH lapsed AS (
    UPDATE measure SET status = 'lapsed', updated_at = now()
    WHERE status IN ('active', 'partial') AND expires_on IS NOT NULL AND expires_on < $1
    RETURNING id, case_id, kind, agency, target_key, expires_on,
              'measure_lapsed:' || id || ':' || to_char(expires_on, 'YYYY-MM-DD') AS dedupe_key
), raised AS (
    INSERT INTO case_alert (kind, dedupe_key, case_id, due_on, evidence)
    SELECT 'measure_lapsed', l.dedupe_key, l.case_id, l.expires_on,
           jsonb_build_object('measure_id', l.id, 'kind', l.kind, 'asset', l.target_key,
                              'expired_on', to_char(l.expires_on, 'YYYY-MM-DD'))
    FROM lapsed l ORDER BY l.id
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id, dedupe_key
)
SELECT l.id, l.case_id, l.kind, l.agency, l.target_key, l.expires_on, r.id AS alert_id
FROM lapsed l LEFT JOIN raised r ON r.dedupe_key = l.dedupe_key
ORDER BY l.id

-- raise_measure_alert --
-- $1 kind, $2 dedupe key, $3 case id, $4 due on, $5 evidence jsonb: a renewal or lapse alert on the case, once per key
INSERT INTO case_alert (kind, dedupe_key, case_id, due_on, evidence)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id

-- resolve_renewal_alerts_of_lapse --
-- $1 the renewal-due alerts' dedupe keys text[] (the controls that lapsed, at the expiry each lapsed at): those still open or acknowledged, resolved by the system as the lapse alert is raised beside each (the lapse alert takes its place: decision 1706), by the unique key alone (one index probe a key); the status checked again under the row's lock, so resolved (and audited by the caller) once
WITH keyed AS MATERIALIZED (
    SELECT id FROM case_alert WHERE dedupe_key = ANY($1::text[])
)
UPDATE case_alert a
SET status = 'resolved', resolved_by = 'system', resolved_at = now(), updated_at = now()
FROM keyed k
WHERE a.id = k.id AND a.kind = 'measure_renewal_due' AND a.status IN ('open', 'acknowledged')
RETURNING a.id, a.case_id, a.kind, a.dedupe_key

-- control_expiry --
-- $1 control id: its expiry now (a renewal's answer reads it before moving it: the renewal-due alert's key)
SELECT expires_on FROM measure WHERE id = $1

-- resolve_control_alerts_by_key --
-- $1 dedupe keys text[] (the renewal-due and lapse alerts of the control a renewal or release just answered): those still open whose control no longer asks for them, resolved by the system (decision 1706): a renewal-due alert once its control runs past the expiry alerted (the renewal done) or is released; a lapse alert once released. The status is checked again under the row's lock: each alert resolved (and audited by the caller) once
WITH keyed AS MATERIALIZED (  -- by the unique key alone: one index probe a key, however many alerts are open
    SELECT id FROM case_alert WHERE dedupe_key = ANY($1::text[])
)
UPDATE case_alert a
SET status = 'resolved', resolved_by = 'system', resolved_at = now(), updated_at = now()
FROM keyed k, measure m
WHERE a.id = k.id AND a.status IN ('open', 'acknowledged')
  AND a.kind IN ('measure_renewal_due', 'measure_lapsed') AND m.id = (a.evidence->>'measure_id')::bigint
  AND (m.status = 'released'
       OR (a.kind = 'measure_renewal_due' AND m.expires_on > (a.evidence->>'expires_on')::date))
RETURNING a.id, a.case_id, a.kind

-- resolve_lapse_alerts_of_asset --
-- $1 case id, $2 agency, $3 asset key, $4 the new freeze or seal now in force: open lapse alerts of earlier controls of the same asset on the case, resolved by the system (decision 1706; a lapsed control cannot be renewed: controlling the asset again answers the lapse), each once
UPDATE case_alert a
SET status = 'resolved', resolved_by = 'system', resolved_at = now(), updated_at = now()
FROM measure m
WHERE a.case_id = $1 AND a.status IN ('open', 'acknowledged') AND a.kind = 'measure_lapsed'
  AND a.evidence->>'asset' = $3 AND m.id = (a.evidence->>'measure_id')::bigint
  AND m.agency = $2 AND m.target_key = $3 AND m.id < $4
RETURNING a.id, a.case_id, a.kind

-- resolve_control_alerts --
-- no parameters: the expiry watch's sweep: every open renewal-due or lapse alert its control no longer asks for (as resolve_control_alerts_by_key and resolve_lapse_alerts_of_asset decide), left open (answered before decision 1706), resolved by the system with the measure that answered it (the latest), each once
WITH picked AS (
    SELECT a.id, a.kind, m.id AS control_id, m.case_id, m.agency, m.target_key
    FROM case_alert a JOIN measure m ON m.id = (a.evidence->>'measure_id')::bigint
    WHERE a.status IN ('open', 'acknowledged') AND a.kind IN ('measure_renewal_due', 'measure_lapsed')
      AND (m.status = 'released'
           OR (a.kind = 'measure_renewal_due' AND m.expires_on > (a.evidence->>'expires_on')::date)
           OR (a.kind = 'measure_lapsed' AND EXISTS (
                 SELECT 1 FROM measure n
                 WHERE n.case_id = m.case_id AND n.agency = m.agency AND n.target_key = m.target_key
                   AND n.kind IN ('freeze', 'seal') AND n.status IN ('active', 'partial') AND n.id > m.id)))
), answered AS (
    SELECT p.id, fu.id AS follow_up_id, fu.kind AS follow_up_kind, fu.document_number AS follow_up_notice
    FROM picked p
    CROSS JOIN LATERAL (
        SELECT f.id, f.kind, f.document_number FROM measure f
        WHERE f.case_id = p.case_id AND f.parent_id = p.control_id AND f.status = 'done'
          AND (f.kind = 'release' OR (f.kind = 'renew' AND p.kind = 'measure_renewal_due'))
        UNION ALL
        SELECT f.id, f.kind, f.document_number FROM measure f
        WHERE p.kind = 'measure_lapsed' AND f.case_id = p.case_id AND f.agency = p.agency
          AND f.target_key = p.target_key AND f.kind IN ('freeze', 'seal') AND f.status IN ('active', 'partial')
          AND f.id > p.control_id
        ORDER BY id DESC LIMIT 1) fu
)
UPDATE case_alert a
SET status = 'resolved', resolved_by = 'system', resolved_at = now(), updated_at = now()
FROM answered x
WHERE a.id = x.id AND a.status IN ('open', 'acknowledged')
RETURNING a.id, a.case_id, a.kind, x.follow_up_id, x.follow_up_kind, x.follow_up_notice

-- measure_gauges --
-- $1 today, $2 the deployment's notice days: live controls by expiry state (due within their court's notice days, else $2; lapsed)
SELECT count(*) FILTER (WHERE m.status IN ('active', 'partial')
                          AND m.expires_on - coalesce(ct.measure_renewal_notice_days, $2::integer) <= $1) AS due,
       count(*) FILTER (WHERE m.status = 'lapsed') AS lapsed
FROM measure m LEFT JOIN court ct ON ct.code = m.court_code
WHERE m.kind IN ('freeze', 'seal')

-- measures_listed --
-- $1 court code (NULL: any), $2 judge login of the case (NULL: any judge), $3 state (due | lapsed | awaiting_approval | live; NULL: due, lapsed and awaiting_approval), $4 today (the court's date), $5 the deployment's notice days (a measure's court's own, where set, decides), $6 limit: measures across cases for the court's and the judge's views (renewals due soonest first, then lapses, then deductions awaiting approval), each with the kind of a follow-up of it still pending, and its case's judge, status and closure mode now (what measure_permissions decides by: case_*)
SELECT m.*, p.reference AS parent_reference, ct.measure_renewal_notice_days AS court_notice_days,
       c.court_code AS case_court_code, c.judge_login AS case_judge_login, c.status AS case_status,
       c.closure_mode AS case_closure_mode,
       (SELECT f.kind FROM measure f WHERE f.parent_id = m.id AND f.status IN ('awaiting_approval', 'pending')
        ORDER BY f.id DESC LIMIT 1) AS pending_follow_up,
       CASE WHEN m.status = 'awaiting_approval' THEN 'awaiting_approval'
            WHEN m.status = 'lapsed' OR (m.status IN ('active', 'partial') AND m.expires_on < $4) THEN 'lapsed'
            WHEN m.status IN ('active', 'partial')
                 AND m.expires_on - coalesce(ct.measure_renewal_notice_days, $5::integer) <= $4 THEN 'due'
            ELSE 'live' END AS listed_state
FROM measure m
JOIN enforcement_case c ON c.id = m.case_id
LEFT JOIN measure p ON p.id = m.parent_id
LEFT JOIN court ct ON ct.code = m.court_code
WHERE ($1::text IS NULL OR m.court_code = $1)
  AND ($2::text IS NULL OR c.judge_login = $2)
  AND (
    (($3::text IS NULL OR $3 = 'due') AND m.kind IN ('freeze', 'seal') AND m.status IN ('active', 'partial')
      AND m.expires_on IS NOT NULL AND m.expires_on >= $4
      AND m.expires_on - coalesce(ct.measure_renewal_notice_days, $5::integer) <= $4
      -- the widest notice in force bounds the range read of the expiry index (as renewals_due)
      AND m.expires_on <= $4 + greatest($5::integer, (SELECT max(measure_renewal_notice_days) FROM court)))
    OR (($3::text IS NULL OR $3 = 'lapsed') AND m.kind IN ('freeze', 'seal')
      AND (m.status = 'lapsed' OR (m.status IN ('active', 'partial') AND m.expires_on < $4)))
    OR (($3::text IS NULL OR $3 = 'awaiting_approval') AND m.status = 'awaiting_approval')
    OR ($3 = 'live' AND m.kind IN ('freeze', 'seal') AND m.status IN ('pending', 'active', 'partial'))
  )
ORDER BY CASE WHEN m.status = 'awaiting_approval' THEN 2
              WHEN m.status = 'lapsed' OR m.expires_on < $4 THEN 1 ELSE 0 END,
         m.expires_on NULLS LAST, m.id
LIMIT $6
