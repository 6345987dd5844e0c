-- get_case_for_search --
-- $1 case id: the case with its judge's name and officer id, and whether it is open
SELECT c.id, c.case_number, c.court_code, c.case_type, c.status, c.judge_login, c.filed_on,
       u.display_name AS judge_name, coalesce(u.officer_id, '') AS judge_officer_id
FROM enforcement_case c
LEFT JOIN app_user u ON u.login = c.judge_login
WHERE c.id = $1

-- case_debtor --
-- $1 case id, $2 subject kind, $3 id number: the debtor row if the subject is a debtor of the case
SELECT id, kind, id_number, name FROM case_party
WHERE case_id = $1 AND role = 'debtor' AND kind = $2 AND id_number = $3

-- next_document_serial --
-- $1 court code: a serial for the 协助查询通知书 number of this court's searches this year
SELECT count(*) + 1 FROM search WHERE court_code = $1 AND created_at >= date_trunc('year', now())
