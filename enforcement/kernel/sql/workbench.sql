-- sign_in_users --
-- no parameters: the active judges, supervisors and operators the demo sign-in page offers, with their court's name
SELECT u.login, u.display_name, u.role, u.court_code, c.name AS court_name
FROM app_user u LEFT JOIN court c ON c.code = u.court_code
WHERE u.active AND u.role IN ('judge', 'supervisor', 'ops')
ORDER BY u.court_code NULLS LAST, CASE u.role WHEN 'supervisor' THEN 0 ELSE 1 END, u.login

-- sign_in_user --
-- $1 login: that active judge, supervisor or operator, with their court's name, or no row
SELECT u.login, u.display_name, u.role, u.court_code, c.name AS court_name
FROM app_user u LEFT JOIN court c ON c.code = u.court_code
WHERE u.login = $1 AND u.active AND u.role IN ('judge', 'supervisor', 'ops')

-- court_name_of --
-- $1 court code: the court's name, or no row
SELECT name FROM court WHERE code = $1
