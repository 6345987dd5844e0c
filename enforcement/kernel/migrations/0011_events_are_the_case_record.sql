-- Issue 14, decision 0901: one canonical case number on every path, the original kept beside it;
-- lifecycle events are the source of truth for a case's state, and a push that contradicts them
-- is kept for review instead of being applied.
--
-- case_number_key(text): the identity of a case number: full-width digits, letters and brackets
-- made half-width (brackets full-width), whitespace removed, and the serial's leading zeros
-- dropped (执0877号 and 执877号 are one serial). enforcement.domain.cases.case_number_key is the
-- same rule in Python (a test holds them equal). enforcement_case.case_number stays the number
-- shown and sent to agencies: tidied, the serial as the court first wrote it.

CREATE FUNCTION case_number_key(raw text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT CASE WHEN t ~ '^（[0-9]{4}）[^0-9]{1}[0-9]{4}(执恢|执保|执异|执复|执)[0-9]{1,6}号$'
                THEN regexp_replace(t, '(执恢|执保|执异|执复|执)0+([0-9]+号)$', '\1\2')
                ELSE t END
    FROM (SELECT regexp_replace(
                     translate(raw,
                               '０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ()',
                               '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz（）'),
                     '[\s\u3000]', '', 'g') AS t) x
$fn$;

-- Two rows that are one case under the new rule (the old code stored 执877号 when 执0877号 was
-- seeded): the older keeps its number; a later one is marked, so that nothing is merged or lost
-- silently; each is logged for the court to settle.
DO $do$
DECLARE r record;
BEGIN
    FOR r IN
        SELECT c.id, c.case_number, first_value(c.id) OVER w AS kept, row_number() OVER w AS n
        FROM enforcement_case c
        WINDOW w AS (PARTITION BY case_number_key(c.case_number) ORDER BY c.id)
    LOOP
        IF r.n > 1 THEN
            UPDATE enforcement_case SET case_number = r.case_number || '（重复，见案件' || r.kept || '）'
            WHERE id = r.id;
            RAISE NOTICE 'case % (%) is the same case number as case %: marked as a duplicate', r.id,
                r.case_number, r.kept;
        END IF;
    END LOOP;
END
$do$;

ALTER TABLE enforcement_case
    ADD COLUMN case_number_key text GENERATED ALWAYS AS (case_number_key(case_number)) STORED,
    ADD COLUMN case_number_as_written text;  -- as the case system first sent it (null: not pushed)
UPDATE enforcement_case SET case_number_as_written = case_number;
CREATE UNIQUE INDEX enforcement_case_number_key ON enforcement_case (case_number_key);

-- What a case's lifecycle events recorded of its state (null: nothing): the closure, the
-- recovered amount, whether a suspension is open. The same facts events.replay derives; the push
-- and the reconciliation both read them here.
CREATE VIEW case_event_state AS
SELECT e.case_id,
       (array_agg(e.occurred_on ORDER BY e.occurred_on, e.id) FILTER (WHERE e.event_type = 'closed'))[1] AS closed_on,
       (array_agg(e.data->>'mode' ORDER BY e.occurred_on, e.id) FILTER (WHERE e.event_type = 'closed'))[1]
           AS closure_mode,
       sum((e.data->>'amount')::numeric) FILTER (WHERE e.event_type = 'amount_recovered') AS amount_recovered,
       CASE WHEN count(*) FILTER (WHERE e.event_type = 'suspension_started') = 0 THEN NULL
            ELSE count(*) FILTER (WHERE e.event_type = 'suspension_started')
                 > count(*) FILTER (WHERE e.event_type = 'suspension_ended') END AS suspended
FROM case_event e
GROUP BY e.case_id;

-- A push whose status, closure or recovered amount contradicts the case's events: not applied,
-- kept here for review; the same contradiction pushed again counts again (times).
CREATE TABLE case_push_conflict (
    id             bigserial PRIMARY KEY,
    case_id        bigint NOT NULL REFERENCES enforcement_case (id) ON DELETE CASCADE,
    court_code     text NOT NULL,
    fields         jsonb NOT NULL,           -- [{"field", "pushed", "recorded"}]
    pushed_by      text,
    first_seen_at  timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    times          integer NOT NULL DEFAULT 1,
    resolved_at    timestamptz
);
CREATE UNIQUE INDEX case_push_conflict_open ON case_push_conflict (case_id, fields) WHERE resolved_at IS NULL;
CREATE INDEX case_push_conflict_court ON case_push_conflict (court_code, last_seen_at DESC);
