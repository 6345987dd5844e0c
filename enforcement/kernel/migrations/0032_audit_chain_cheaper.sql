-- 0032 (issue 19, decision 1940): what the audit chain costs the database per record.
--
-- 1. The readers' indexes hold chained records only. Every reader of audit_log but the chainer's
--    (the trail's pages, verify's walk in seq order, the records of a request) asks for
--    `seq IS NOT NULL`, and the chainer reads the waiting records by audit_log_unchained. An
--    index entry for a record not yet chained was never read, and its chaining (an UPDATE that
--    sets seq, so never HOT: a non-HOT update writes a new entry in every index) made it dead at
--    once. Partial indexes `WHERE seq IS NOT NULL`: a record's insert writes 3 index entries
--    (id, mac, the chainer's queue) instead of 8; its chaining still writes 7 (the seq is in
--    them); 10 a record instead of 15, and its dead version leaves 3 to vacuum instead of 8.
--    The seq stays unique (a unique index on the chained records; NULLs never conflicted), and
--    mac stays unique over every record (a copy of a chained record is refused as before).
--
-- 2. The chainer's UPDATE is still checked row by row to change nothing but seq, prev_hash and
--    hash (0008), now by comparing the rows' binary images (`*=`, every column, one added later
--    too) instead of two to_jsonb() conversions of the whole row, which were about half of the
--    chain statement's time.

DROP INDEX audit_log_case_court;
DROP INDEX audit_log_actor_court;
DROP INDEX audit_log_case;
DROP INDEX audit_log_request;
CREATE INDEX audit_log_case_court ON audit_log (case_court, seq) WHERE seq IS NOT NULL;
CREATE INDEX audit_log_actor_court ON audit_log (actor_court, seq) WHERE seq IS NOT NULL;
CREATE INDEX audit_log_case ON audit_log (case_id, seq) WHERE seq IS NOT NULL;
CREATE INDEX audit_log_request ON audit_log (request_id) WHERE seq IS NOT NULL;
ALTER TABLE audit_log DROP CONSTRAINT audit_log_seq_key;
CREATE UNIQUE INDEX audit_log_seq_key ON audit_log (seq) WHERE seq IS NOT NULL;

CREATE OR REPLACE FUNCTION audit_log_chain_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    probe audit_log;
BEGIN
    IF OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL AND NEW.seq IS NOT NULL THEN
        probe := NEW;
        probe.seq := NULL;
        probe.prev_hash := NULL;
        probe.hash := NULL;
        IF probe *= OLD THEN  -- every other column, byte for byte
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only (UPDATE refused: only a record not yet chained may be given its place in the chain)'
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
