-- lock_case_for_lifecycle --
-- $1 case id: the case, locked while an event is recorded or its lifecycle recomputed
SELECT c.id, c.case_number, c.court_code, c.case_type, c.judge_login, c.filed_on, c.non_litigation, c.status,
       c.closure_mode, c.closed_on, c.amount_recovered
FROM enforcement_case c WHERE c.id = $1
FOR UPDATE

-- get_case_for_lifecycle --
-- $1 case id: the case (not locked)
SELECT c.id, c.case_number, c.court_code, c.case_type, c.judge_login, c.filed_on, c.non_litigation, c.status,
       c.closure_mode, c.closed_on, c.amount_recovered
FROM enforcement_case c WHERE c.id = $1

-- case_id_for_number --
-- $1 case number key (domain.cases.case_number_key)
SELECT id FROM enforcement_case WHERE case_number_key = $1

-- events_of_case --
-- $1 case id: every event of the case, in date order, then as recorded
SELECT id, event_type, occurred_on, data, source, external_id, recorded_at
FROM case_event WHERE case_id = $1 ORDER BY occurred_on, id

-- events_of_cases --
-- $1 case ids: every event of these cases, in date order
SELECT case_id, id, event_type, occurred_on, data, source
FROM case_event WHERE case_id = ANY($1::bigint[]) ORDER BY case_id, occurred_on, id

-- event_by_external_id --
-- $1 case id, $2 external id: an event the case system pushed before with this id
SELECT id, event_type, occurred_on, data, source, external_id, recorded_at
FROM case_event WHERE case_id = $1 AND external_id = $2

-- insert_case_event --
-- $1 case id, $2 event type, $3 occurred_on, $4 data jsonb, $5 source, $6 external id (or null)
INSERT INTO case_event (case_id, event_type, occurred_on, data, source, external_id)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id, event_type, occurred_on, data, source, external_id, recorded_at

-- upsert_case_lifecycle --
-- $1 case id, $2 filed_on, $3 non_litigation, $4 base months, $5 extension months, $6 extension days, $7 suspended days, $8 suspended since, $9 deadline, $10 settlement performed, $11 resumed on, $12 params, $13 late extensions (jsonb: approved after the period ran out, not counted): the derived lifecycle of a case (the 终本 verdict is kept)
INSERT INTO case_lifecycle (case_id, filed_on, non_litigation, base_months, extension_months, extension_days,
                            suspended_days, suspended_since, deadline, settlement_performed, resumed_on, params,
                            late_extensions, computed_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, now())
ON CONFLICT (case_id) DO UPDATE SET
    filed_on = EXCLUDED.filed_on, non_litigation = EXCLUDED.non_litigation, base_months = EXCLUDED.base_months,
    extension_months = EXCLUDED.extension_months, extension_days = EXCLUDED.extension_days,
    suspended_days = EXCLUDED.suspended_days, suspended_since = EXCLUDED.suspended_since,
    deadline = EXCLUDED.deadline, settlement_performed = EXCLUDED.settlement_performed,
    resumed_on = EXCLUDED.resumed_on, params = EXCLUDED.params, late_extensions = EXCLUDED.late_extensions,
    computed_at = now()

-- get_case_lifecycle --
-- $1 case id: the stored lifecycle row
SELECT * FROM case_lifecycle WHERE case_id = $1

-- set_requery_for --
-- $1 case id, $2 closure date the re-query rounds are now scheduled for
UPDATE case_lifecycle SET requery_for = $2 WHERE case_id = $1

-- set_closure_verdict --
-- $1 case id, $2 qualified, $3 missing requirement codes text[], $4 override by (login or null), $5 override reason
UPDATE case_lifecycle
SET zb_qualified = $2, zb_missing = $3, zb_override_by = $4, zb_override_reason = $5
WHERE case_id = $1

-- update_case_status --
-- $1 case id, $2 status, $3 closure mode, $4 closed_on, $5 amount recovered (null: keep the case's own): the case row follows its events
UPDATE enforcement_case
SET status = $2, closure_mode = $3, closed_on = $4, amount_recovered = coalesce($5, amount_recovered), updated_at = now()
WHERE id = $1
  AND (status, closure_mode, closed_on, amount_recovered) IS DISTINCT FROM ($2, $3, $4, coalesce($5, amount_recovered))

-- debtors_of_case --
-- $1 case id: the case's debtors
SELECT id, kind, id_number, name FROM case_party WHERE case_id = $1 AND role = 'debtor' ORDER BY id

-- search_facts_of_case --
-- $1 case id: every successful agency answer (empty ones too) in the case's searches, with subject and purpose
SELECT s.id AS search_id, s.subject_key, s.purpose, t.agency, t.reused, a.answered_at, a.record_count
FROM search s
JOIN agency_task t ON t.search_id = s.id AND t.status = 'succeeded'
JOIN agency_answer a ON a.id = t.answer_id
WHERE s.case_id = $1
ORDER BY a.answered_at

-- lifecycle_stale_cases --
-- $1 court code (null: all), $2 params, $3 limit: cases whose lifecycle row is missing or computed from other inputs, 终本 cases without a verdict or without their re-query rounds, and every case whose row disagrees with what its events recorded (closure, mode, date, recovered amount, suspension; case_event_state)
SELECT c.id
FROM enforcement_case c
LEFT JOIN case_lifecycle l ON l.case_id = c.id
LEFT JOIN case_event_state s ON s.case_id = c.id
WHERE ($1::text IS NULL OR c.court_code = $1)
  AND (l.case_id IS NULL OR l.filed_on <> c.filed_on OR l.non_litigation <> c.non_litigation OR l.params <> $2
       OR (s.closed_on IS NOT NULL AND (c.status <> 'closed' OR c.closure_mode IS DISTINCT FROM s.closure_mode
                                        OR c.closed_on IS DISTINCT FROM s.closed_on))
       OR (s.amount_recovered IS NOT NULL AND c.amount_recovered <> s.amount_recovered)
       OR (s.closed_on IS NULL AND s.suspended IS NOT NULL AND c.status <> 'closed'
           AND c.status <> CASE WHEN s.suspended THEN 'suspended' ELSE 'open' END)
       OR (c.closure_mode = '终结本次执行程序' AND c.case_type IN ('执', '执恢')
           AND (l.zb_qualified IS NULL OR (l.resumed_on IS NULL AND l.requery_for IS DISTINCT FROM c.closed_on)))
       OR (l.requery_for IS NOT NULL AND (c.closure_mode IS DISTINCT FROM '终结本次执行程序'
                                          OR c.closed_on IS DISTINCT FROM l.requery_for)))
ORDER BY c.id
LIMIT $3

-- restriction_orders_of_subject --
-- $1 subject kind, $2 id number, $3 case id: the consumption restriction orders of case $3 (and of no other case: a search serves its own case only, DOMAIN.md §6) binding the subject as a debtor of that case, with when each was lifted; and, for a person, the orders of case $3 on an organization debtor he is a responsible person of (bound_role, bound_name: his role and name; the order binds him through the organization, SPC 限制消费规定 art. 3(2))
SELECT e.id AS event_id, e.case_id, p.id AS party_id, e.occurred_on AS issued_on,
       (SELECT min(l.occurred_on) FROM case_event l
        WHERE l.case_id = e.case_id AND l.event_type = 'consumption_restriction_lifted' AND l.occurred_on >= e.occurred_on
          AND (l.data->>'debtor_id_number' IS NULL OR l.data->>'debtor_id_number' = p.id_number)) AS lifted_on,
       NULL::text AS bound_role, NULL::text AS bound_name, p.name AS debtor_name
FROM case_party p
JOIN case_event e ON e.case_id = p.case_id AND e.event_type = 'consumption_restriction_issued'
WHERE p.role = 'debtor' AND p.kind = $1 AND p.id_number = $2 AND p.case_id = $3::bigint
  AND (e.data->>'debtor_id_number' IS NULL OR e.data->>'debtor_id_number' = p.id_number)
UNION ALL
SELECT e.id, e.case_id, p.id, e.occurred_on,
       (SELECT min(l.occurred_on) FROM case_event l
        WHERE l.case_id = e.case_id AND l.event_type = 'consumption_restriction_lifted' AND l.occurred_on >= e.occurred_on
          AND (l.data->>'debtor_id_number' IS NULL OR l.data->>'debtor_id_number' = p.id_number)),
       rp.role, rp.name, p.name
FROM case_responsible_person rp
JOIN case_party p ON p.id = rp.party_id
JOIN case_event e ON e.case_id = p.case_id AND e.event_type = 'consumption_restriction_issued'
WHERE $1 = 'person' AND rp.id_number = $2 AND rp.case_id = $3::bigint
  AND (e.data->>'debtor_id_number' IS NULL OR e.data->>'debtor_id_number' = p.id_number)
ORDER BY issued_on, event_id

-- hotel_stays_of_subjects --
-- $1 subject keys text[], $2 case id: every hotel stay reported about these subjects in a search of case $2 (its own answers and those it reused; never a search of another case: results serve their own case only, DOMAIN.md §6), once each, with the answer that reported it and the case's search that showed it
SELECT DISTINCT ON (a.subject_key, r.natural_key) a.subject_key, r.natural_key, r.data, r.answer_id, s.id AS search_id
FROM search s
JOIN agency_task t ON t.search_id = s.id AND t.answer_id IS NOT NULL
JOIN agency_answer a ON a.id = t.answer_id
JOIN asset_record r ON r.answer_id = a.id AND r.kind = 'hotel_stay'
WHERE s.case_id = $2 AND a.subject_key = ANY($1::text[])
ORDER BY a.subject_key, r.natural_key, r.id DESC

-- responsible_persons_of_case --
-- $1 case id: the responsible persons of the case's organization debtors (法定代表人, 主要负责人, 直接责任人员), once per person
SELECT r.id_number, min(r.name) AS name
FROM case_responsible_person r
WHERE r.case_id = $1
GROUP BY r.id_number
ORDER BY r.id_number

-- live_controls_of_case --
-- $1 case id: the case's live controls (freezes and seals in force), for the closure checklist: a read-only look at the measures feature's table (decision 1701; the measures feature owns and writes it)
SELECT m.id, m.kind, m.asset_kind, m.agency, m.target_key, m.status, m.effect_amount, m.starts_on, m.expires_on,
       m.document_number
FROM measure m
WHERE m.case_id = $1 AND m.kind IN ('freeze', 'seal') AND m.status IN ('active', 'partial')
ORDER BY m.expires_on NULLS LAST, m.id

-- court_notice_days_for_closure --
-- $1 court code: the court's own renewal notice days (null: the deployment's MEASURE_RENEWAL_NOTICE_DAYS), by which the closure checklist's controls are due for renewal, as the measures feature counts them (decision 1704)
SELECT measure_renewal_notice_days FROM court WHERE code = $1
