-- get_case_for_search --
-- $1 case id: the case with its judge's name and officer id, and whether (and how) it is open or closed
SELECT c.id, c.case_number, c.court_code, c.case_type, c.status, c.closure_mode, c.judge_login, c.filed_on,
       u.display_name AS judge_name, coalesce(u.officer_id, '') AS judge_officer_id
FROM enforcement_case c
LEFT JOIN app_user u ON u.login = c.judge_login
WHERE c.id = $1

-- case_for_search_with_serial --
-- $1 case id, $2 subject kind, $3 id number, $4 actor login, $5 actor role, $6 take a 协助查询通知书 serial (boolean): the case, its judge, whether the subject is one of its debtors, and (only when $6 and the search is allowed: the actor is the judge holding the case, open or closed as 终本 (终结本次执行程序), and the subject is its debtor, as domain.authorization.check_search decides) the court's next serial this year, else null: a refused search never consumes a number
WITH c AS (
    SELECT c.id, c.case_number, c.court_code, c.case_type, c.status, c.closure_mode, c.judge_login, c.filed_on,
           u.display_name AS judge_name, coalesce(u.officer_id, '') AS judge_officer_id,
           EXISTS (SELECT 1 FROM case_party p
                   WHERE p.case_id = c.id AND p.role = 'debtor' AND p.kind = $2 AND p.id_number = $3) AS is_debtor
    FROM enforcement_case c
    LEFT JOIN app_user u ON u.login = c.judge_login
    WHERE c.id = $1
), n AS (
    INSERT INTO document_serial (court_code, year, last)
    SELECT court_code, extract(year FROM now())::integer, 1 FROM c
    WHERE $6::boolean AND $5::text = 'judge' AND c.judge_login = $4::text AND c.is_debtor
      AND (c.status = 'open' OR (c.status = 'closed' AND c.closure_mode = '终结本次执行程序'))
    ON CONFLICT (court_code, year) DO UPDATE SET last = document_serial.last + 1
    RETURNING last
)
SELECT c.*, (SELECT last FROM n) AS serial FROM c

-- case_debtor --
-- $1 case id, $2 subject kind, $3 id number: the debtor row if the subject is a debtor of the case
SELECT id, kind, id_number, name FROM case_party
WHERE case_id = $1 AND role = 'debtor' AND kind = $2 AND id_number = $3

-- next_document_serial --
-- $1 court code: the next serial of this court's 协助查询通知书 numbers this year (one counter row per court and year)
INSERT INTO document_serial (court_code, year, last)
VALUES ($1, extract(year FROM now())::integer, 1)
ON CONFLICT (court_code, year) DO UPDATE SET last = document_serial.last + 1
RETURNING last
