-- case_for_breach_check --
-- $1 case id: the case's number, court, judge and status (who may run its breach check)
SELECT id, case_number, court_code, judge_login, status FROM enforcement_case WHERE id = $1

-- bound_persons_of_case --
-- $1 case id, $2 organization debtor's credit code (null: every organization debtor): the responsible persons of the case's organization debtors under a consumption restriction still in force (issued, not lifted since), one row per person and organization, with his roles
SELECT p.id_number AS debtor_id_number, p.name AS debtor_name, r.id_number, min(r.name) AS name,
       array_agg(DISTINCT r.role ORDER BY r.role) AS roles
FROM case_responsible_person r
JOIN case_party p ON p.id = r.party_id
WHERE r.case_id = $1
  AND ($2::text IS NULL OR p.id_number = $2)
  AND EXISTS (
      SELECT 1 FROM case_event e
      WHERE e.case_id = r.case_id AND e.event_type = 'consumption_restriction_issued'
        AND (e.data->>'debtor_id_number' IS NULL OR e.data->>'debtor_id_number' = p.id_number)
        AND NOT EXISTS (SELECT 1 FROM case_event l
                        WHERE l.case_id = e.case_id AND l.event_type = 'consumption_restriction_lifted'
                          AND l.occurred_on >= e.occurred_on
                          AND (l.data->>'debtor_id_number' IS NULL OR l.data->>'debtor_id_number' = p.id_number)))
GROUP BY p.id_number, p.name, r.id_number
ORDER BY p.id_number, r.id_number
