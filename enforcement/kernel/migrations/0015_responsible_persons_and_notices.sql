-- Issue 16: the persons an organization debtor's consumption restriction binds, their hotel stays
-- reviewed for breaches, and the re-query indicator counting a round only once the applicant was told.
--
-- case_responsible_person: an organization debtor's legal representative (法定代表人), principal
-- responsible persons (主要负责人) and those directly responsible (直接责任人员): SPC 《关于限制被执行人
-- 高消费及有关消费的若干规定》 art. 3(2), the order on the organization binds them. A push makes them
-- exactly those listed (enforcement/cases/store/sql/case_registry.sql: sync_responsible_persons).
CREATE TABLE case_responsible_person (
    id          bigserial PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES enforcement_case (id) ON DELETE CASCADE,
    party_id    bigint NOT NULL REFERENCES case_party (id) ON DELETE CASCADE,  -- the organization debtor
    id_number   text NOT NULL,                                                 -- resident ID, checked
    name        text NOT NULL,
    role        text NOT NULL CHECK (role IN ('法定代表人', '主要负责人', '直接责任人员')),
    UNIQUE (party_id, id_number, role)
);
CREATE INDEX case_responsible_person_subject ON case_responsible_person (id_number);
CREATE INDEX case_responsible_person_case ON case_responsible_person (case_id);

-- The review queue also takes the answers about a responsible person of an organization debtor
-- under a consumption restriction, for a search of that same case (the 点对点 rule: a query made for
-- one case's enforcement is used for that case only).
CREATE OR REPLACE FUNCTION queue_answer_review() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO answer_review (answer_id)
    SELECT n.id
    FROM new_answers n
    JOIN search s ON s.id = n.search_id
    WHERE n.record_count > 0
      AND (s.purpose = '终本复查'
           OR EXISTS (SELECT 1 FROM case_party p
                      JOIN case_event e ON e.case_id = p.case_id AND e.event_type = 'consumption_restriction_issued'
                      WHERE p.role = 'debtor' AND p.kind = s.subject_kind AND p.id_number = s.subject_id_number)
           OR (s.subject_kind = 'person'
               AND EXISTS (SELECT 1 FROM case_responsible_person rp
                           JOIN case_event e ON e.case_id = rp.case_id
                                            AND e.event_type = 'consumption_restriction_issued'
                           WHERE rp.case_id = s.case_id AND rp.id_number = s.subject_id_number)))
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

-- 10. Share of 终本 debtors re-queried on time, and the applicant told (2016 rules art. 9: re-query
--     every six months and tell the applicant): a round legally due in the window counts when its
--     search was made no later than 7 days after the due date and an applicant_notified event of
--     the case for that round (data.occasion = 'requery', data.round) was recorded on or after the
--     search. A round not made whose grace has not run out yet is not counted.
CREATE OR REPLACE FUNCTION ind_requery_on_time_rate(p_from date, p_to date)
RETURNS TABLE (case_id bigint, court_code text, judge_login text, case_type text,
               numerator numeric, denominator numeric, reason_zh text, reason_en text)
LANGUAGE sql STABLE AS $$
    SELECT c.id, c.court_code, c.judge_login, c.case_type,
           CASE WHEN v.on_time AND t.told_on IS NOT NULL THEN 1 ELSE 0 END::numeric, 1::numeric,
           CASE WHEN v.on_time AND t.told_on IS NOT NULL THEN NULL
                WHEN r.submitted_at IS NULL THEN format('第%s次复查应于%s完成，未复查', r.round, r.due_on)
                WHEN NOT v.on_time THEN format('第%s次复查应于%s完成，%s才复查', r.round, r.due_on, v.done_on)
                ELSE format('第%s次复查已完成，未告知申请执行人', r.round) END,
           CASE WHEN v.on_time AND t.told_on IS NOT NULL THEN NULL
                WHEN r.submitted_at IS NULL THEN format('re-query %s due on %s was not made', r.round, r.due_on)
                WHEN NOT v.on_time THEN format('re-query %s due on %s was made late, on %s', r.round, r.due_on, v.done_on)
                ELSE format('re-query %s was made, the applicant was not told', r.round) END
    FROM requery_round r
    JOIN enforcement_case c ON c.id = r.case_id
    CROSS JOIN LATERAL (SELECT (r.submitted_at AT TIME ZONE 'Asia/Shanghai')::date AS done_on) d
    CROSS JOIN LATERAL (SELECT d.done_on AS done_on, coalesce(d.done_on <= r.due_on + 7, false) AS on_time) v
    CROSS JOIN LATERAL (
        SELECT min(e.occurred_on) AS told_on FROM case_event e
        WHERE e.case_id = r.case_id AND e.event_type = 'applicant_notified'
          AND e.data->>'occasion' = 'requery' AND e.data->>'round' = r.round::text
          AND e.occurred_on >= d.done_on
    ) t
    WHERE r.due_on BETWEEN p_from AND p_to
      AND r.status <> 'cancelled'
      AND (r.submitted_at IS NOT NULL OR r.due_on + 7 < current_date)
$$;

UPDATE indicator_definition
SET name_en = '终本 debtors re-queried on time, applicant told',
    description = 'Re-query rounds legally due in the window (not cancelled) whose search was made no later than 7 days after the due date and whose results the applicant was told of (an applicant_notified event for the round) / rounds due.'
WHERE code = 'requery_on_time_rate';
