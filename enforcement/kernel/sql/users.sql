-- active_user --
-- $1 login: the active user of that login, as the auth middleware needs them
SELECT login, role, display_name, court_code, officer_id, agency FROM app_user WHERE login = $1 AND active

-- user_by_login --
-- $1 login: a user, active or not
SELECT login, role, display_name, court_code, officer_id, agency, active FROM app_user WHERE login = $1

-- provision_judge --
-- $1 login, $2 display name, $3 court code, $4 officer id: a judge the case system names, created if new (an existing user is left as is)
INSERT INTO app_user (login, display_name, role, court_code, officer_id)
VALUES ($1, $2, 'judge', $3, $4)
ON CONFLICT (login) DO NOTHING

-- court_exists --
-- $1 court code
SELECT EXISTS (SELECT 1 FROM court WHERE code = $1)
