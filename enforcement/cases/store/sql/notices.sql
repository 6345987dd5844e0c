-- notice_case --
-- $1 case id: what a notice to the applicant names: the case, its court, its applicant, and who may read it
SELECT c.id, c.case_number, c.court_code, ct.name AS court_name, c.applicant_name, c.judge_login, c.status,
       c.closure_mode, c.closed_on
FROM enforcement_case c
JOIN court ct ON ct.code = c.court_code
WHERE c.id = $1

-- notice_answers_of_case --
-- $1 case id, $2 property kinds text[]: every successful agency answer about a debtor of the case, with the debtor's name, the search's purpose, its re-query round (if any) and how many property records it held
SELECT p.name AS debtor_name, s.purpose, t.agency, a.answered_at, r.round,
       (SELECT count(*) FROM asset_record x WHERE x.answer_id = a.id AND x.kind = ANY($2::text[])) AS property_count
FROM search s
JOIN case_party p ON p.case_id = s.case_id AND p.role = 'debtor' AND p.kind = s.subject_kind
                 AND p.id_number = s.subject_id_number
JOIN agency_task t ON t.search_id = s.id AND t.status = 'succeeded'
JOIN agency_answer a ON a.id = t.answer_id
LEFT JOIN requery_round r ON r.search_id = s.id
WHERE s.case_id = $1
ORDER BY a.answered_at
