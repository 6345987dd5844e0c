-- 0026: the lifecycle worker is woken by what concerns it, not by every search event (issue 19).
-- It listened on `search_events`, raised by every submission and every outcome flush, so at four
-- workers each search woke four lifecycle ticks of about seven statements. What it has to do
-- promptly is review answers that may raise an alert: those are queued here, by this trigger, so
-- the trigger says so on a channel of its own (`answer_review`, delivered at commit, folded to
-- one per transaction). Re-query rounds and removal checks wait for the tick's interval.

CREATE OR REPLACE FUNCTION queue_answer_review() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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
    IF FOUND THEN
        PERFORM pg_notify('answer_review', '');
    END IF;
    RETURN NULL;
END
$$;
