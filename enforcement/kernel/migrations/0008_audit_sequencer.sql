-- 0008 (audit sequencer, decision 0404): the action's transaction writes its audit record without
-- its place in the chain; a chainer (one at a time, under the chain head's row lock, in a short
-- transaction of its own) gives the records their seq, prev_hash and hash a moment later. The
-- chain and its hashes are as before (0002); only the moment of chaining moves off the action.

-- Every record has an id from its insert (chained records keep their seq as id); seq, prev_hash
-- and hash stay NULL until the chainer sets them, all three at once.
ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update;
ALTER TABLE audit_log ADD COLUMN id bigint;
UPDATE audit_log SET id = seq;
DROP TRIGGER audit_log_no_update ON audit_log;
ALTER TABLE audit_log ALTER COLUMN id SET NOT NULL;
ALTER TABLE audit_log ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY;
SELECT setval(pg_get_serial_sequence('audit_log', 'id'), coalesce(max(id), 0) + 1, false) FROM audit_log;
ALTER TABLE audit_log DROP CONSTRAINT audit_log_pkey;
ALTER TABLE audit_log ADD PRIMARY KEY (id);
ALTER TABLE audit_log ALTER COLUMN seq DROP NOT NULL,
                      ALTER COLUMN prev_hash DROP NOT NULL,
                      ALTER COLUMN hash DROP NOT NULL;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_seq_key UNIQUE (seq);
ALTER TABLE audit_log ADD CONSTRAINT audit_log_chained_whole
    CHECK ((seq IS NULL) = (hash IS NULL) AND (seq IS NULL) = (prev_hash IS NULL));

-- The writer's signature (HMAC under the chain key) of a record not yet chained: the chainer
-- chains only records the service wrote. Unique: a copy of a record is not chained twice.
-- Records chained before this migration have none.
ALTER TABLE audit_log ADD COLUMN mac text;
CREATE UNIQUE INDEX audit_log_mac ON audit_log (mac);

-- The chainer's queue: records not yet chained, in the order they were written.
CREATE INDEX audit_log_unchained ON audit_log (id) WHERE seq IS NULL;

-- Still append-only: no DELETE, no TRUNCATE (0002's triggers), and the one UPDATE allowed is the
-- chainer's: setting seq, prev_hash and hash of a record that has none, every other column as it was.
CREATE FUNCTION audit_log_chain_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL AND NEW.seq IS NOT NULL
       AND to_jsonb(NEW) - ARRAY['seq', 'prev_hash', 'hash'] = to_jsonb(OLD) - ARRAY['seq', 'prev_hash', 'hash'] THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only (UPDATE refused: only a record not yet chained may be given its place in the chain)'
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_chain_only BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_chain_only();
