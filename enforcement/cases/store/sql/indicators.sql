-- indicator_definitions --
-- no parameters: every registered indicator, in display order
SELECT code, position, name_zh, name_en, function_name, kind, unit, core, target, higher_is_better,
       window_years, enabled, description
FROM indicator_definition
ORDER BY position, code

-- indicator_function_exists --
-- $1 function name: whether a function of that name taking (date, date) exists on the search path
SELECT to_regprocedure($1 || '(date, date)') IS NOT NULL

-- indicator_totals --
-- $1 from, $2 to, $3 court code (null: all), $4 judge login (null: all), $5 case type (null: all); {function} is the indicator's function, a quoted identifier taken from indicator_definition: sums per court, per court and judge, per court and case type, and overall
SELECT r.court_code, r.judge_login, r.case_type,
       GROUPING(r.court_code) AS g_court, GROUPING(r.judge_login) AS g_judge, GROUPING(r.case_type) AS g_type,
       sum(r.numerator) AS numerator, sum(r.denominator) AS denominator, count(*) AS items,
       count(*) FILTER (WHERE r.reason_en IS NOT NULL) AS pulling_down
FROM {function}($1, $2) r
WHERE ($3::text IS NULL OR r.court_code = $3)
  AND ($4::text IS NULL OR r.judge_login = $4)
  AND ($5::text IS NULL OR r.case_type = $5)
GROUP BY GROUPING SETS ((), (r.court_code), (r.court_code, r.judge_login), (r.court_code, r.case_type))

-- indicator_cases --
-- $1 from, $2 to, $3 court code (null: all), $4 judge login (null: all), $5 case type (null: all), $6 limit, $7 offset; {function} as in indicator_totals: the items that pull the indicator down, with their case and the reason, and the total count
SELECT r.case_id, c.case_number, r.court_code, r.judge_login, u.display_name AS judge_name, r.case_type, c.cause,
       r.numerator, r.denominator, r.reason_zh, r.reason_en, count(*) OVER () AS total
FROM {function}($1, $2) r
JOIN enforcement_case c ON c.id = r.case_id
LEFT JOIN app_user u ON u.login = r.judge_login
WHERE r.reason_en IS NOT NULL
  AND ($3::text IS NULL OR r.court_code = $3)
  AND ($4::text IS NULL OR r.judge_login = $4)
  AND ($5::text IS NULL OR r.case_type = $5)
ORDER BY r.court_code, r.judge_login NULLS LAST, c.case_number, r.reason_en
LIMIT $6 OFFSET $7

-- court_codes --
-- no parameters: every court, for the per-court gauges
SELECT code FROM court ORDER BY code

-- judge_names --
-- $1 logins text[]: display names of these users
SELECT login, display_name FROM app_user WHERE login = ANY($1::text[])
