-- 0003 (issue 5): the case lifecycle summary, 终本 closure verdicts, the six-monthly re-query
-- schedule, alerts for the judge, the answer-review queue, and the enforcement indicators as
-- replaceable SQL functions registered in indicator_definition. See docs/indicators.md.

-- Events pushed by the case system may carry their own id: pushing the same event twice records it once.
ALTER TABLE case_event ADD COLUMN external_id text;
CREATE UNIQUE INDEX case_event_external ON case_event (case_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX case_event_type_on ON case_event (event_type, occurred_on);

-- What the lifecycle service derives from a case's events (enforcement/indicators/events.py),
-- rewritten in the same transaction as every event. One row per case.
CREATE TABLE case_lifecycle (
    case_id               bigint PRIMARY KEY REFERENCES enforcement_case (id) ON DELETE CASCADE,
    filed_on              date NOT NULL,            -- the case's, when the row was computed (a change recomputes it)
    non_litigation        boolean NOT NULL,
    base_months           integer NOT NULL,         -- statutory period: 6, or 3 for non-litigation cases
    extension_months      integer NOT NULL DEFAULT 0,
    extension_days        integer NOT NULL DEFAULT 0,
    suspended_days        integer NOT NULL DEFAULT 0, -- suspended days that moved the deadline
    suspended_since       date,                     -- an open suspension
    deadline              date,                     -- end of the statutory period; NULL while its clock is stopped
    settlement_performed  boolean NOT NULL DEFAULT false,
    zb_qualified          boolean,                  -- 终本 closures: every section-4 condition met at closure
    zb_missing            text[] NOT NULL DEFAULT '{}',
    zb_override_by        text,
    zb_override_reason    text,
    resumed_on            date,
    requery_for           date,                     -- the 终本 closure date the re-query rounds were scheduled for
    params                text NOT NULL,            -- the settings the row was computed with
    computed_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_lifecycle_deadline ON case_lifecycle (deadline);

-- The six-monthly re-query of every 终本 debtor for five years: one row per debtor per round.
--   pending -> submitted (search created, same transaction) -> done (search completed)
--   pending -> missed (its window passed, or a later round superseded it) | cancelled (case resumed)
CREATE TABLE requery_round (
    id            bigserial PRIMARY KEY,
    case_id       bigint NOT NULL REFERENCES enforcement_case (id) ON DELETE CASCADE,
    party_id      bigint NOT NULL REFERENCES case_party (id) ON DELETE CASCADE,
    round         smallint NOT NULL CHECK (round > 0),
    closed_on     date NOT NULL,
    due_on        date NOT NULL,   -- the legal due date: closure + round x interval
    run_on        date NOT NULL,   -- when the scheduler starts it: spread a little before due_on
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'submitted', 'done', 'missed', 'cancelled')),
    search_id     uuid REFERENCES search (id),
    submitted_at  timestamptz,
    completed_at  timestamptz,
    new_assets    integer,
    UNIQUE (party_id, round)
);
CREATE INDEX requery_round_run ON requery_round (run_on) WHERE status = 'pending';
CREATE INDEX requery_round_submitted ON requery_round (search_id) WHERE status = 'submitted';
CREATE INDEX requery_round_case ON requery_round (case_id, round);
CREATE INDEX requery_round_due ON requery_round (due_on);

-- What the judge must look at: new property found by a re-query, a breach of a consumption
-- restriction, a dishonest listing that must be removed. Exactly one row per dedupe_key.
CREATE TABLE case_alert (
    id               bigserial PRIMARY KEY,
    kind             text NOT NULL CHECK (kind IN ('new_property', 'consumption_breach', 'dishonest_removal_due')),
    dedupe_key       text NOT NULL UNIQUE,
    case_id          bigint NOT NULL REFERENCES enforcement_case (id) ON DELETE CASCADE,
    party_id         bigint REFERENCES case_party (id) ON DELETE SET NULL,
    search_id        uuid REFERENCES search (id),
    round_id         bigint REFERENCES requery_round (id),
    event_id         bigint REFERENCES case_event (id) ON DELETE SET NULL,
    due_on           date,
    evidence         jsonb NOT NULL DEFAULT '{}'::jsonb,
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
    raised_at        timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    acknowledged_by  text,
    acknowledged_at  timestamptz
);
CREATE INDEX case_alert_case ON case_alert (case_id, status);
CREATE INDEX case_alert_open ON case_alert (status, raised_at DESC);
CREATE INDEX case_alert_search ON case_alert (search_id) WHERE search_id IS NOT NULL;

-- Answers the reviewer must look at (a breach, or new property on a re-query), queued by a
-- statement trigger in the same transaction that stores them: nothing is missed, whatever the
-- writer (dispatcher, callback, another process).
CREATE TABLE answer_review (
    answer_id  bigint PRIMARY KEY,
    queued_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION queue_answer_review() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO answer_review (answer_id)
    SELECT n.id
    FROM new_answers n
    JOIN search s ON s.id = n.search_id
    WHERE n.record_count > 0
      AND (s.purpose = '终本复查'
           OR EXISTS (SELECT 1 FROM case_party p
                      JOIN case_event e ON e.case_id = p.case_id AND e.event_type = 'consumption_restriction_issued'
                      WHERE p.role = 'debtor' AND p.kind = s.subject_kind AND p.id_number = s.subject_id_number))
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER agency_answer_review AFTER INSERT ON agency_answer
    REFERENCING NEW TABLE AS new_answers
    FOR EACH STATEMENT EXECUTE FUNCTION queue_answer_review();

-- The indicators. Each is a SQL function (p_from date, p_to date) returning one row per item it
-- counts (a case, a petition, a re-query round): numerator and denominator contributions, and a
-- reason (both languages) when the item pulls the indicator down. A court replaces a definition
-- with CREATE OR REPLACE FUNCTION (same signature), or registers its own function here.
CREATE TABLE indicator_definition (
    code              text PRIMARY KEY,
    position          integer NOT NULL,
    name_zh           text NOT NULL,
    name_en           text NOT NULL,
    function_name     text NOT NULL CHECK (function_name ~ '^[a-z_][a-z0-9_]*$'),
    kind              text NOT NULL CHECK (kind IN ('ratio', 'average')),
    unit              text NOT NULL CHECK (unit IN ('percent', 'days')),
    core              boolean NOT NULL DEFAULT false,
    target            numeric,
    higher_is_better  boolean NOT NULL DEFAULT true,
    window_years      integer,        -- when set, the window is the N years ending at "to"
    enabled           boolean NOT NULL DEFAULT true,
    description       text NOT NULL DEFAULT ''
);

-- Case-based indicators count enforcement-implementation cases (执, 执恢) by default.

-- 1. 有财产可供执行案件法定期限内实际执结率
CREATE FUNCTION ind_statutory_closure_rate(p_from date, p_to date)
RETURNS TABLE (case_id bigint, court_code text, judge_login text, case_type text,
               numerator numeric, denominator numeric, reason_zh text, reason_en text)
LANGUAGE sql STABLE AS $$
    SELECT c.id, c.court_code, c.judge_login, c.case_type,
           CASE WHEN v.ok THEN 1 ELSE 0 END::numeric, 1::numeric,
           CASE WHEN v.ok THEN NULL
                WHEN c.closed_on IS NULL THEN format('法定期限于%s届满，未结案', l.deadline)
                WHEN c.closed_on > l.deadline THEN format('%s以%s结案，超过法定期限（%s届满）%s天',
                     c.closed_on, c.closure_mode, l.deadline, c.closed_on - l.deadline)
                ELSE format('%s以%s结案，和解协议尚未履行完毕', c.closed_on, c.closure_mode) END,
           CASE WHEN v.ok THEN NULL
                WHEN c.closed_on IS NULL THEN format('statutory period ended on %s without closure', l.deadline)
                WHEN c.closed_on > l.deadline THEN format('closed (%s) on %s, %s days after the statutory period ended on %s',
                     c.closure_mode, c.closed_on, c.closed_on - l.deadline, l.deadline)
                ELSE format('closed on %s by a long-term settlement not yet performed', c.closed_on) END
    FROM enforcement_case c
    JOIN case_lifecycle l ON l.case_id = c.id
    CROSS JOIN LATERAL (SELECT c.closed_on IS NOT NULL AND c.closed_on <= l.deadline
                               AND (c.closure_mode = '执行完毕'
                                    OR (c.closure_mode = '和解长期履行' AND l.settlement_performed)) AS ok) v
    WHERE c.case_type IN ('执', '执恢')
      AND l.deadline BETWEEN p_from AND p_to
      AND coalesce(c.closure_mode, '') NOT IN ('终结本次执行程序', '终结执行', '不予执行', '驳回申请', '销案')
$$;

-- 2. 无财产可供执行案件终本合格率
CREATE FUNCTION ind_zhongben_compliance_rate(p_from date, p_to date)
RETURNS TABLE (case_id bigint, court_code text, judge_login text, case_type text,
               numerator numeric, denominator numeric, reason_zh text, reason_en text)
LANGUAGE sql STABLE AS $$
    SELECT c.id, c.court_code, c.judge_login, c.case_type,
           CASE WHEN l.zb_qualified THEN 1 ELSE 0 END::numeric, 1::numeric,
           CASE WHEN l.zb_qualified THEN NULL
                WHEN l.zb_qualified IS NULL THEN '终本结案时未核对终本条件'
                ELSE format('终本结案时缺少条件：%s%s', array_to_string(l.zb_missing, '、'),
                            CASE WHEN l.zb_override_by IS NOT NULL THEN format('（%s批准越过）', l.zb_override_by) ELSE '' END) END,
           CASE WHEN l.zb_qualified THEN NULL
                WHEN l.zb_qualified IS NULL THEN 'closed as 终本 without the closure checklist'
                ELSE format('closed as 终本 with conditions missing: %s%s', array_to_string(l.zb_missing, ', '),
                            CASE WHEN l.zb_override_by IS NOT NULL THEN format(' (override by %s)', l.zb_override_by) ELSE '' END) END
    FROM enforcement_case c
    LEFT JOIN case_lifecycle l ON l.case_id = c.id
    WHERE c.case_type IN ('执', '执恢')
      AND c.closure_mode = '终结本次执行程序'
      AND c.closed_on BETWEEN p_from AND p_to
$$;

-- 3. 执行信访案件办结率: petitions received in the window, closed by its end.
CREATE FUNCTION ind_petition_closure_rate(p_from date, p_to date)
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
    WHERE pr.event_type = 'petition_received' AND pr.occurred_on BETWEEN p_from AND p_to
$$;

-- 4. 整体结案率 (近三年): closed / (pending at the window's start + filed in the window).
--    indicator_definition.window_years = 3 widens the window to the three years ending at "to".
CREATE FUNCTION ind_overall_closure_rate(p_from date, p_to date)
RETURNS TABLE (case_id bigint, court_code text, judge_login text, case_type text,
               numerator numeric, denominator numeric, reason_zh text, reason_en text)
LANGUAGE sql STABLE AS $$
    SELECT c.id, c.court_code, c.judge_login, c.case_type,
           CASE WHEN c.closed_on <= p_to THEN 1 ELSE 0 END::numeric, 1::numeric,
           CASE WHEN c.closed_on IS NULL OR c.closed_on > p_to THEN format('%s立案，截至%s未结案', c.filed_on, p_to) END,
           CASE WHEN c.closed_on IS NULL OR c.closed_on > p_to THEN format('filed on %s, still pending on %s', c.filed_on, p_to) END
    FROM enforcement_case c
    WHERE c.case_type IN ('执', '执恢')
      AND c.filed_on <= p_to
      AND (c.closed_on IS NULL OR c.closed_on >= p_from)
$$;

-- 4'. The documented alternative reading (disabled): (终本 closures + closures within the
--     statutory period) / cases accepted (filed) in the window.
CREATE FUNCTION ind_overall_closure_rate_alt(p_from date, p_to date)
RETURNS TABLE (case_id bigint, court_code text, judge_login text, case_type text,
               numerator numeric, denominator numeric, reason_zh text, reason_en text)
LANGUAGE sql STABLE AS $$
    SELECT c.id, c.court_code, c.judge_login, c.case_type,
           CASE WHEN v.ok THEN 1 ELSE 0 END::numeric, 1::numeric,
           CASE WHEN NOT v.ok THEN format('%s立案，未在法定期限内结案，也未终本', c.filed_on) END,
           CASE WHEN NOT v.ok THEN format('filed on %s, neither closed within the statutory period nor closed as 终本', c.filed_on) END
    FROM enforcement_case c
    LEFT JOIN case_lifecycle l ON l.case_id = c.id
    CROSS JOIN LATERAL (SELECT coalesce(c.closed_on <= p_to AND (c.closure_mode = '终结本次执行程序'
                                        OR c.closed_on <= l.deadline), false) AS ok) v
    WHERE c.case_type IN ('执', '执恢') AND c.filed_on BETWEEN p_from AND p_to
$$;

-- 5. 执行到位率: amount recovered / amount to enforce, over cases closed in the window.
CREATE FUNCTION ind_recovery_rate(p_from date, p_to date)
RETURNS TABLE (case_id bigint, court_code text, judge_login text, case_type text,
               numerator numeric, denominator numeric, reason_zh text, reason_en text)
LANGUAGE sql STABLE AS $$
    SELECT c.id, c.court_code, c.judge_login, c.case_type,
           c.amount_recovered, c.amount_to_enforce,
           CASE WHEN c.amount_recovered < c.amount_to_enforce
                THEN format('执行到位%s元，执行标的%s元', c.amount_recovered, c.amount_to_enforce) END,
           CASE WHEN c.amount_recovered < c.amount_to_enforce
                THEN format('recovered %s of %s yuan', c.amount_recovered, c.amount_to_enforce) END
    FROM enforcement_case c
    WHERE c.case_type IN ('执', '执恢') AND c.closed_on BETWEEN p_from AND p_to AND c.amount_to_enforce > 0
$$;

-- 6. 执行完毕率: closed as 执行完毕 / closed, in the window.
CREATE FUNCTION ind_full_enforcement_rate(p_from date, p_to date)
RETURNS TABLE (case_id bigint, court_code text, judge_login text, case_type text,
               numerator numeric, denominator numeric, reason_zh text, reason_en text)
LANGUAGE sql STABLE AS $$
    SELECT c.id, c.court_code, c.judge_login, c.case_type,
           CASE WHEN c.closure_mode = '执行完毕' THEN 1 ELSE 0 END::numeric, 1::numeric,
           CASE WHEN c.closure_mode <> '执行完毕' THEN format('以%s结案', c.closure_mode) END,
           CASE WHEN c.closure_mode <> '执行完毕' THEN format('closed as %s', c.closure_mode) END
    FROM enforcement_case c
    WHERE c.case_type IN ('执', '执恢') AND c.closed_on BETWEEN p_from AND p_to
$$;

-- 7. 实际执行率: (enforced + performed voluntarily + settled) / closed, in the window.
CREATE FUNCTION ind_actual_enforcement_rate(p_from date, p_to date)
RETURNS TABLE (case_id bigint, court_code text, judge_login text, case_type text,
               numerator numeric, denominator numeric, reason_zh text, reason_en text)
LANGUAGE sql STABLE AS $$
    SELECT c.id, c.court_code, c.judge_login, c.case_type,
           CASE WHEN c.closure_mode IN ('执行完毕', '和解长期履行') THEN 1 ELSE 0 END::numeric, 1::numeric,
           CASE WHEN c.closure_mode NOT IN ('执行完毕', '和解长期履行') THEN format('以%s结案', c.closure_mode) END,
           CASE WHEN c.closure_mode NOT IN ('执行完毕', '和解长期履行') THEN format('closed as %s', c.closure_mode) END
    FROM enforcement_case c
    WHERE c.case_type IN ('执', '执恢') AND c.closed_on BETWEEN p_from AND p_to
$$;

-- 8. 终本率: closed as 终本 / closed, in the window (lower is better: 终本 closures pull it the wrong way).
CREATE FUNCTION ind_zhongben_rate(p_from date, p_to date)
RETURNS TABLE (case_id bigint, court_code text, judge_login text, case_type text,
               numerator numeric, denominator numeric, reason_zh text, reason_en text)
LANGUAGE sql STABLE AS $$
    SELECT c.id, c.court_code, c.judge_login, c.case_type,
           CASE WHEN c.closure_mode = '终结本次执行程序' THEN 1 ELSE 0 END::numeric, 1::numeric,
           CASE WHEN c.closure_mode = '终结本次执行程序' THEN format('%s终本结案', c.closed_on) END,
           CASE WHEN c.closure_mode = '终结本次执行程序' THEN format('closed as 终本 on %s', c.closed_on) END
    FROM enforcement_case c
    WHERE c.case_type IN ('执', '执恢') AND c.closed_on BETWEEN p_from AND p_to
$$;

-- 9. Average days to close (filing to closure), over cases closed in the window; cases closed
--    after their statutory deadline are the ones listed.
CREATE FUNCTION ind_avg_days_to_close(p_from date, p_to date)
RETURNS TABLE (case_id bigint, court_code text, judge_login text, case_type text,
               numerator numeric, denominator numeric, reason_zh text, reason_en text)
LANGUAGE sql STABLE AS $$
    SELECT c.id, c.court_code, c.judge_login, c.case_type,
           (c.closed_on - c.filed_on)::numeric, 1::numeric,
           CASE WHEN c.closed_on > l.deadline
                THEN format('用时%s天，超过法定期限（%s届满）', c.closed_on - c.filed_on, l.deadline) END,
           CASE WHEN c.closed_on > l.deadline
                THEN format('took %s days, beyond the statutory period (ended %s)', c.closed_on - c.filed_on, l.deadline) END
    FROM enforcement_case c
    LEFT JOIN case_lifecycle l ON l.case_id = c.id
    WHERE c.case_type IN ('执', '执恢') AND c.closed_on BETWEEN p_from AND p_to
$$;

-- 10. Share of 终本 debtors re-queried on time: rounds legally due in the window, re-queried
--     (search submitted) no later than 7 days after the due date. A round not yet submitted
--     whose grace has not run out yet is not counted (it may still be on time).
CREATE FUNCTION ind_requery_on_time_rate(p_from date, p_to date)
RETURNS TABLE (case_id bigint, court_code text, judge_login text, case_type text,
               numerator numeric, denominator numeric, reason_zh text, reason_en text)
LANGUAGE sql STABLE AS $$
    SELECT c.id, c.court_code, c.judge_login, c.case_type,
           CASE WHEN v.on_time THEN 1 ELSE 0 END::numeric, 1::numeric,
           CASE WHEN v.on_time THEN NULL
                WHEN r.submitted_at IS NULL THEN format('第%s次复查应于%s完成，未复查', r.round, r.due_on)
                ELSE format('第%s次复查应于%s完成，%s才复查', r.round, r.due_on, v.done_on) END,
           CASE WHEN v.on_time THEN NULL
                WHEN r.submitted_at IS NULL THEN format('re-query %s due on %s was not made', r.round, r.due_on)
                ELSE format('re-query %s due on %s was made late, on %s', r.round, r.due_on, v.done_on) END
    FROM requery_round r
    JOIN enforcement_case c ON c.id = r.case_id
    CROSS JOIN LATERAL (SELECT (r.submitted_at AT TIME ZONE 'Asia/Shanghai')::date AS done_on) d
    CROSS JOIN LATERAL (SELECT d.done_on AS done_on, coalesce(d.done_on <= r.due_on + 7, false) AS on_time) v
    WHERE r.due_on BETWEEN p_from AND p_to
      AND r.status <> 'cancelled'
      AND (r.submitted_at IS NOT NULL OR r.due_on + 7 < current_date)
$$;

INSERT INTO indicator_definition
    (code, position, name_zh, name_en, function_name, kind, unit, core, target, higher_is_better, window_years, enabled, description)
VALUES
    ('statutory_closure_rate', 1, '有财产可供执行案件法定期限内实际执结率',
     'Cases with executable property closed within the statutory period', 'ind_statutory_closure_rate',
     'ratio', 'percent', true, 0.90, true, NULL, true,
     'Among 执/执恢 cases whose statutory period ended in the window (not closed as 终本, 终结执行, 不予执行, 驳回申请 or 销案): closed as 执行完毕 (or by a settlement marked fully performed) on or before the deadline.'),
    ('zhongben_compliance_rate', 2, '无财产可供执行案件终本合格率',
     '终本 closures meeting every legal condition', 'ind_zhongben_compliance_rate',
     'ratio', 'percent', true, 0.90, true, NULL, true,
     '终本 closures in the window whose checklist (DOMAIN section 4) was complete at closure, without a supervisor override.'),
    ('petition_closure_rate', 3, '执行信访案件办结率',
     'Enforcement petitions closed', 'ind_petition_closure_rate',
     'ratio', 'percent', true, 0.90, true, NULL, true,
     'Petitions (信访) received in the window and closed by its end / petitions received in the window.'),
    ('overall_closure_rate', 4, '近三年执行案件整体执结率',
     'Overall closure rate (three years)', 'ind_overall_closure_rate',
     'ratio', 'percent', true, 0.80, true, 3, true,
     'Over the three years ending at the window''s end: cases closed / (cases pending at the start + cases filed).'),
    ('overall_closure_rate_alt', 5, '整体结案率（另一口径）',
     'Overall closure rate (alternative reading)', 'ind_overall_closure_rate_alt',
     'ratio', 'percent', false, 0.80, true, 3, false,
     'Alternative reading: (终本 closures + closures within the statutory period) / cases filed in the window.'),
    ('recovery_rate', 6, '执行到位率', 'Amount recovered / amount to enforce', 'ind_recovery_rate',
     'ratio', 'percent', false, NULL, true, NULL, true,
     'Over cases closed in the window: amount recovered / amount to enforce.'),
    ('full_enforcement_rate', 7, '执行完毕率', 'Closed as fully enforced', 'ind_full_enforcement_rate',
     'ratio', 'percent', false, NULL, true, NULL, true,
     'Cases closed as 执行完毕 / cases closed, in the window.'),
    ('actual_enforcement_rate', 8, '实际执行率', 'Actually enforced (enforced, performed or settled)',
     'ind_actual_enforcement_rate', 'ratio', 'percent', false, NULL, true, NULL, true,
     'Cases closed as 执行完毕 or 和解长期履行 / cases closed, in the window.'),
    ('zhongben_rate', 9, '终本率', 'Closed without property (终本)', 'ind_zhongben_rate',
     'ratio', 'percent', false, NULL, false, NULL, true,
     'Cases closed as 终本 / cases closed, in the window. Lower is better.'),
    ('avg_days_to_close', 10, '平均结案用时', 'Average days to close', 'ind_avg_days_to_close',
     'average', 'days', false, NULL, false, NULL, true,
     'Mean of (closure date - filing date) over cases closed in the window; cases closed after their deadline are listed.'),
    ('requery_on_time_rate', 11, '终本案件按期复查率', '终本 debtors re-queried on time', 'ind_requery_on_time_rate',
     'ratio', 'percent', false, NULL, true, NULL, true,
     'Re-query rounds due in the window made no later than 7 days after their due date / rounds due.');
