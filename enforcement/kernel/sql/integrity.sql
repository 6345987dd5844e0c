-- dangling_references --
-- no parameters: per reference checked by construction rather than by foreign key (migration 0027, decision 1925), the rows pointing at nothing: (child, reference, dangling)
SELECT 'agency_task' AS child, 'agency_answer (answer_id)' AS reference, count(*) AS dangling
FROM agency_task t WHERE t.answer_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM agency_answer a WHERE a.id = t.answer_id)
UNION ALL
SELECT 'agency_answer', 'search (search_id)', count(*)
FROM agency_answer a WHERE NOT EXISTS (SELECT 1 FROM search s WHERE s.id = a.search_id)
UNION ALL
SELECT 'asset_record', 'agency_answer (answer_id)', count(*)
FROM asset_record r WHERE NOT EXISTS (SELECT 1 FROM agency_answer a WHERE a.id = r.answer_id)
UNION ALL
SELECT 'subject_asset', 'enforcement_case (case_id)', count(*)
FROM subject_asset x WHERE NOT EXISTS (SELECT 1 FROM enforcement_case c WHERE c.id = x.case_id)
UNION ALL
SELECT 'search_event', 'search (search_id)', count(*)
FROM search_event e WHERE NOT EXISTS (SELECT 1 FROM search s WHERE s.id = e.search_id)
