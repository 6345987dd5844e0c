-- lock_audit_head --
-- no parameters: the chain head, locked until the caller's transaction ends (serializes appends), and the time now
SELECT seq, hash, key_id, clock_timestamp() AS now FROM audit_chain_head WHERE id = 1 FOR UPDATE

-- append_audit_record --
-- $1 seq, $2 at, $3 action, $4 actor_login, $5 actor_role, $6 actor_court, $7 case_id, $8 case_number, $9 case_court, $10 subject_key, $11 purpose, $12 reason, $13 target, $14 request_id, $15 details, $16 prev_hash, $17 hash, $18 key_id: the record, and the head moved onto it
WITH appended AS (
    INSERT INTO audit_log (seq, at, action, actor_login, actor_role, actor_court, case_id, case_number, case_court,
                           subject_key, purpose, reason, target, request_id, details, prev_hash, hash)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
    RETURNING seq, hash
)
UPDATE audit_chain_head h SET seq = a.seq, hash = a.hash, key_id = coalesce(h.key_id, $18)
FROM appended a WHERE h.id = 1

-- audit_head --
-- no parameters: the last record's seq and hash as the chain head records them, and the key fingerprint
SELECT seq, hash, key_id FROM audit_chain_head WHERE id = 1

-- audit_chain --
-- no parameters: every record in chain order (read through a cursor)
SELECT seq, at, action, actor_login, actor_role, actor_court, case_id, case_number, case_court, subject_key,
       purpose, reason, target, request_id, details, prev_hash, hash
FROM audit_log ORDER BY seq

-- audit_page --
-- $1 court (records about its cases or by its users), $2 case_id or null, $3 actor login or null, $4 action or null, $5 from (timestamptz) or null, $6 to (timestamptz) or null, $7 before seq or null (page backwards), $8 limit
SELECT seq, at, action, actor_login, actor_role, actor_court, case_id, case_number, case_court, subject_key,
       purpose, reason, target, request_id, details, prev_hash, hash
FROM audit_log
WHERE (case_court = $1 OR actor_court = $1)
  AND ($2::bigint IS NULL OR case_id = $2)
  AND ($3::text IS NULL OR actor_login = $3)
  AND ($4::text IS NULL OR action = $4)
  AND ($5::timestamptz IS NULL OR at >= $5)
  AND ($6::timestamptz IS NULL OR at < $6)
  AND ($7::bigint IS NULL OR seq < $7)
ORDER BY seq DESC
LIMIT $8

-- audit_by_request --
-- $1 request id: the records one request wrote
SELECT seq, at, action, actor_login, actor_role, actor_court, case_id, case_number, case_court, subject_key,
       purpose, reason, target, request_id, details, prev_hash, hash
FROM audit_log WHERE request_id = $1 ORDER BY seq
