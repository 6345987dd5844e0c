-- get_case_for_search --
-- $1 case id: the case with its judge's name and officer id, and whether (and how) it is open or closed
SELECT c.id, c.case_number, c.court_code, c.case_type, c.status, c.closure_mode, c.judge_login, c.filed_on,
       u.display_name AS judge_name, coalesce(u.officer_id, '') AS judge_officer_id
FROM enforcement_case c
LEFT JOIN app_user u ON u.login = c.judge_login
WHERE c.id = $1

-- fragment case_and_serial_for_actor --
-- who may search, written once (domain.authorization.check_search's rule; the two statements below take it in): after a relation actor (login, role: one row, or none when there is no one to allow), $1 case id, $2 subject kind, $3 id number, $6 take a 协助查询通知书 serial (boolean): c, the case with its judge and whether the subject is one of its debtors (is_debtor), and n, the court's next serial this year (Beijing time: court_year) with that year, taken only when $6 and the search is allowed: the actor is a judge holding the case, open or closed as 终本 (终结本次执行程序), and the subject is its debtor
c AS (
    SELECT c.id, c.case_number, c.court_code, c.case_type, c.status, c.closure_mode, c.judge_login, c.filed_on,
           u.display_name AS judge_name, coalesce(u.officer_id, '') AS judge_officer_id,
           EXISTS (SELECT 1 FROM case_party p
                   WHERE p.case_id = c.id AND p.role = 'debtor' AND p.kind = $2 AND p.id_number = $3) AS is_debtor
    FROM enforcement_case c
    LEFT JOIN app_user u ON u.login = c.judge_login
    WHERE c.id = $1
), n AS (
    INSERT INTO document_serial (court_code, year, last)
    SELECT c.court_code, court_year(now()), 1 FROM c, actor
    WHERE $6::boolean AND actor.role = 'judge' AND c.judge_login = actor.login AND c.is_debtor
      AND (c.status = 'open' OR (c.status = 'closed' AND c.closure_mode = '终结本次执行程序'))
    ON CONFLICT (court_code, year) DO UPDATE SET last = document_serial.last + 1
    RETURNING last, year
)

-- case_for_search_with_serial --
-- $1 case id, $2 subject kind, $3 id number, $4 actor login, $5 actor role, $6 take a 协助查询通知书 serial (boolean): the case, its judge, whether the subject is one of its debtors, and (only when $6 and the search is allowed, as domain.authorization.check_search decides: case_and_serial_for_actor) the court's next serial this year (serial) with that year (serial_year), else nulls: a refused search never consumes a number
WITH actor AS (
    SELECT $4::text AS login, $5::text AS role
), {{case_and_serial_for_actor}}
SELECT c.*, (SELECT last FROM n) AS serial, (SELECT year FROM n) AS serial_year FROM c

-- case_for_search_as_user --
-- $1 case id, $2 subject kind, $3 id number, $4 login a verified token names, $5 the role it claims (null: none), $6 take a serial (boolean): one row, the active user of $4 (user_*: the auth middleware's active_user, folded into the search's first statement; nulls when there is none) beside case_for_search_with_serial's answer for that user (nulls when there is no such case); the serial is taken only as there, and only for an active user holding the role the token claims (a 401 consumes no number)
WITH me AS (
    SELECT login, role, display_name, court_code, officer_id, agency FROM app_user WHERE login = $4::text AND active
), actor AS (
    SELECT login, role FROM me WHERE $5::text IS NULL OR $5::text = me.role
), {{case_and_serial_for_actor}}
SELECT me.login AS user_login, me.role AS user_role, me.display_name AS user_display_name,
       me.court_code AS user_court_code, me.officer_id AS user_officer_id, me.agency AS user_agency,
       c.*, (SELECT last FROM n) AS serial, (SELECT year FROM n) AS serial_year
FROM (SELECT 1) AS one LEFT JOIN me ON true LEFT JOIN c ON true

-- case_debtor --
-- $1 case id, $2 subject kind, $3 id number: the debtor row if the subject is a debtor of the case
SELECT id, kind, id_number, name FROM case_party
WHERE case_id = $1 AND role = 'debtor' AND kind = $2 AND id_number = $3

-- next_document_serial --
-- $1 court code: the next serial of this court's 协助查询通知书 numbers this year, Beijing time (one counter row per court and year), and that year
INSERT INTO document_serial (court_code, year, last)
VALUES ($1, court_year(now()), 1)
ON CONFLICT (court_code, year) DO UPDATE SET last = document_serial.last + 1
RETURNING last, year
