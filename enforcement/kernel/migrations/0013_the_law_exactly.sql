-- 0013 (issue 16): the law, exactly.
--
-- * An extension of the statutory period counts only when approved within the period
--   (法发〔2006〕35号 art. 1); one approved after it ran out is kept in case_lifecycle.late_extensions
--   (approved_on, months, days), shown, and named in the statutory closure rate's reason.
-- * A court's choice the law leaves open: petitions received before the window and closed in it.
--   ind_petition_closure_rate (default) counts petitions received in the window;
--   ind_petition_closure_rate_carried also counts those received earlier and closed in the window
--   (not closed before it). The setting PETITIONS_BEFORE_WINDOW picks the second.

ALTER TABLE case_lifecycle ADD COLUMN late_extensions jsonb NOT NULL DEFAULT '[]';

-- Every stored lifecycle was computed with undated extensions: recompute (reconcile).
UPDATE case_lifecycle SET params = params || ';stale';

CREATE OR REPLACE FUNCTION ind_statutory_closure_rate(p_from date, p_to date)
RETURNS TABLE (case_id bigint, court_code text, judge_login text, case_type text,
               numerator numeric, denominator numeric, reason_zh text, reason_en text)
LANGUAGE sql STABLE AS $$
    SELECT c.id, c.court_code, c.judge_login, c.case_type,
           CASE WHEN v.ok THEN 1 ELSE 0 END::numeric, 1::numeric,
           CASE WHEN v.ok THEN NULL
                ELSE CASE
                WHEN c.closed_on IS NULL THEN format('法定期限于%s届满，未结案', l.deadline)
                WHEN c.closed_on > l.deadline THEN format('%s以%s结案，超过法定期限（%s届满）%s天',
                     c.closed_on, c.closure_mode, l.deadline, c.closed_on - l.deadline)
                ELSE format('%s以%s结案，和解协议尚未履行完毕', c.closed_on, c.closure_mode) END
                || CASE WHEN jsonb_array_length(l.late_extensions) > 0
                        THEN format('；%s次延长期限于期限届满后批准，未计入', jsonb_array_length(l.late_extensions)) ELSE '' END END,
           CASE WHEN v.ok THEN NULL
                ELSE CASE
                WHEN c.closed_on IS NULL THEN format('statutory period ended on %s without closure', l.deadline)
                WHEN c.closed_on > l.deadline THEN format('closed (%s) on %s, %s days after the statutory period ended on %s',
                     c.closure_mode, c.closed_on, c.closed_on - l.deadline, l.deadline)
                ELSE format('closed on %s by a long-term settlement not yet performed', c.closed_on) END
                || CASE WHEN jsonb_array_length(l.late_extensions) > 0
                        THEN format('; %s extension(s) approved after the period ran out, not counted',
                                    jsonb_array_length(l.late_extensions)) ELSE '' END END
    FROM enforcement_case c
    JOIN case_lifecycle l ON l.case_id = c.id
    CROSS JOIN LATERAL (SELECT c.closed_on IS NOT NULL AND c.closed_on <= l.deadline
                               AND (c.closure_mode = '执行完毕'
                                    OR (c.closure_mode = '和解长期履行' AND l.settlement_performed)) AS ok) v
    WHERE c.case_type IN ('执', '执恢')
      AND l.deadline BETWEEN p_from AND p_to
      AND coalesce(c.closure_mode, '') NOT IN ('终结本次执行程序', '终结执行', '不予执行', '驳回申请', '销案')
$$;

-- 3'. 执行信访案件办结率, with petitions carried over: received in the window, or received
--     before it, still open at its start and closed in it.
CREATE FUNCTION ind_petition_closure_rate_carried(p_from date, p_to date)
RETURNS TABLE (case_id bigint, court_code text, judge_login text, case_type text,
               numerator numeric, denominator numeric, reason_zh text, reason_en text)
LANGUAGE sql STABLE AS $$
    SELECT c.id, c.court_code, c.judge_login, c.case_type,
           CASE WHEN pc.closed_on IS NULL THEN 0 ELSE 1 END::numeric, 1::numeric,
           CASE WHEN pc.closed_on IS NULL THEN format('信访%s于%s收到，截至%s未办结', pr.data->>'petition_id', pr.occurred_on, p_to) END,
           CASE WHEN pc.closed_on IS NULL THEN format('petition %s received on %s, not closed by %s', pr.data->>'petition_id', pr.occurred_on, p_to) END
    FROM case_event pr
    JOIN enforcement_case c ON c.id = pr.case_id
    LEFT JOIN LATERAL (
        SELECT min(e.occurred_on) AS closed_on FROM case_event e
        WHERE e.case_id = pr.case_id AND e.event_type = 'petition_closed'
          AND e.data->>'petition_id' = pr.data->>'petition_id' AND e.occurred_on <= p_to
    ) pc ON true
    WHERE pr.event_type = 'petition_received' AND pr.occurred_on <= p_to
      AND (pr.occurred_on >= p_from
           OR (pc.closed_on >= p_from
               AND NOT EXISTS (SELECT 1 FROM case_event e0 WHERE e0.case_id = pr.case_id
                               AND e0.event_type = 'petition_closed' AND e0.data->>'petition_id' = pr.data->>'petition_id'
                               AND e0.occurred_on < p_from)))
$$;
