-- insert_audit_record --
-- $1 at, $2 action, $3 actor_login, $4 actor_role, $5 actor_court, $6 case_id, $7 case_number, $8 case_court, $9 subject_key, $10 purpose, $11 reason, $12 target, $13 request_id, $14 details, $15 mac (the writer's signature): one record, not yet chained, and the chainers woken at commit; its id
WITH rec AS (
    INSERT INTO audit_log (at, action, actor_login, actor_role, actor_court, case_id, case_number, case_court,
                           subject_key, purpose, reason, target, request_id, details, mac)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
    RETURNING id
)
SELECT id, pg_notify('audit_pending', '') FROM rec

-- insert_audit_records --
-- $1 at, $2 actions, $3 actor logins, $4 actor roles, $5 actor courts, $6 case ids, $7 case numbers, $8 case courts, $9 subject keys, $10 purposes, $11 reasons, $12 targets, $13 request ids, $14 details (jsonb[]), $15 macs: several records in their order, not yet chained, and the chainers woken at commit; their ids in order
WITH rec AS (
    INSERT INTO audit_log (at, action, actor_login, actor_role, actor_court, case_id, case_number, case_court,
                           subject_key, purpose, reason, target, request_id, details, mac)
    SELECT $1, u.action, u.actor_login, u.actor_role, u.actor_court, u.case_id, u.case_number, u.case_court,
           u.subject_key, u.purpose, u.reason, u.target, u.request_id, u.details, u.mac
    FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[],
                $10::text[], $11::text[], $12::text[], $13::text[], $14::jsonb[], $15::text[])
         WITH ORDINALITY AS u(action, actor_login, actor_role, actor_court, case_id, case_number, case_court,
                              subject_key, purpose, reason, target, request_id, details, mac, ord)
    ORDER BY u.ord
    RETURNING id
)
SELECT array_agg(id ORDER BY id) AS ids, pg_notify('audit_pending', '') FROM rec

-- any_unchained_audit --
-- $1 ids to pass over (records the chainer refused): whether any other record waits to be chained
SELECT EXISTS (SELECT 1 FROM audit_log WHERE seq IS NULL AND id <> ALL($1::bigint[]))

-- claim_audit_round --
-- $1 limit, $2 ids to pass over (records the chainer refused): the chain head, locked until the chainer's transaction ends, and the records waiting to be chained, oldest first, in one statement (issue 19): one row per record (one row with a null id when none waits), no row when another chainer holds the head. The records are read in the statement's snapshot, taken before the lock: `fresh` is false when a chainer committed in between (the snapshot's head is not the locked one), and the chainer then reads them again (unchained_audit_records) in a statement of its own.
SELECT h.seq AS head_seq, h.hash AS head_hash, h.key_id,
       h.seq = (SELECT seq FROM audit_chain_head WHERE id = 1) AS fresh,
       r.id, r.at, r.action, r.actor_login, r.actor_role, r.actor_court, r.case_id, r.case_number, r.case_court,
       r.subject_key, r.purpose, r.reason, r.target, r.request_id, r.details, r.mac
FROM (SELECT seq, hash, key_id FROM audit_chain_head WHERE id = 1 FOR UPDATE SKIP LOCKED) h
LEFT JOIN LATERAL (
    SELECT id, at, action, actor_login, actor_role, actor_court, case_id, case_number, case_court, subject_key,
           purpose, reason, target, request_id, details, mac
    FROM audit_log
    WHERE seq IS NULL AND id <> ALL($2::bigint[])
    ORDER BY id
    LIMIT $1
) r ON true
ORDER BY r.id

-- unchained_audit_records --
-- $1 limit, $2 ids to pass over (records the chainer refused): the records waiting to be chained, oldest first
SELECT id, at, action, actor_login, actor_role, actor_court, case_id, case_number, case_court, subject_key,
       purpose, reason, target, request_id, details, mac
FROM audit_log
WHERE seq IS NULL AND id <> ALL($2::bigint[])
ORDER BY id
LIMIT $1

-- chain_audit_records --
-- $1 ids in chain order, $2 their hashes, $3 the head's seq before them, $4 the head's hash before them, $5 key_id: the records given their places (seq $3 + 1, $3 + 2, ...; each one's prev_hash the hash before it), and the head moved onto the last; how many records were chained
WITH u AS (
    SELECT u.id, $3::bigint + u.n AS seq, coalesce(lag(u.hash) OVER (ORDER BY u.n), $4::text) AS prev_hash, u.hash
    FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS u(id, hash, n)
), chained AS (
    UPDATE audit_log a SET seq = u.seq, prev_hash = u.prev_hash, hash = u.hash
    FROM u
    WHERE a.id = u.id AND a.seq IS NULL
    RETURNING a.id
), head AS (
    UPDATE audit_chain_head SET seq = $3::bigint + cardinality($1::bigint[]), hash = $2[cardinality($2::text[])],
                                key_id = coalesce(key_id, $5)
    WHERE id = 1
)
SELECT count(*) FROM chained

-- audit_backlog --
-- no parameters: how many records wait to be chained, and the oldest of them with its age in seconds (at the transaction's start)
SELECT p.pending, o.id, o.at, o.action, o.actor_login, o.actor_role, o.actor_court, o.case_id, o.case_number,
       o.case_court, o.subject_key, o.purpose, o.reason, o.target, o.request_id, o.details, o.mac,
       greatest(0, extract(epoch FROM now() - o.at))::float8 AS age
FROM (SELECT count(*) AS pending FROM audit_log WHERE seq IS NULL) p
LEFT JOIN LATERAL (SELECT * FROM audit_log WHERE seq IS NULL ORDER BY id LIMIT 1) o ON true

-- audit_head --
-- no parameters: the last record's seq and hash as the chain head records them, and the key fingerprint
SELECT seq, hash, key_id FROM audit_chain_head WHERE id = 1

-- audit_chain --
-- no parameters: every chained record in chain order (read through a cursor)
SELECT seq, at, action, actor_login, actor_role, actor_court, case_id, case_number, case_court, subject_key,
       purpose, reason, target, request_id, details, prev_hash, hash
FROM audit_log WHERE seq IS NOT NULL ORDER BY seq

-- audit_page --
-- $1 court (records about its cases or by its users), $2 case_id or null, $3 actor login or null, $4 action or null, $5 from (timestamptz) or null, $6 to (timestamptz) or null, $7 before seq or null (page backwards), $8 limit: chained records only, newest first
SELECT seq, at, action, actor_login, actor_role, actor_court, case_id, case_number, case_court, subject_key,
       purpose, reason, target, request_id, details, prev_hash, hash
FROM audit_log
WHERE seq IS NOT NULL
  AND (case_court = $1 OR actor_court = $1)
  AND ($2::bigint IS NULL OR case_id = $2)
  AND ($3::text IS NULL OR actor_login = $3)
  AND ($4::text IS NULL OR action = $4)
  AND ($5::timestamptz IS NULL OR at >= $5)
  AND ($6::timestamptz IS NULL OR at < $6)
  AND ($7::bigint IS NULL OR seq < $7)
ORDER BY seq DESC
LIMIT $8

-- audit_page_courtless --
-- $1 case_id or null, $2 actor login or null, $3 action or null, $4 from (timestamptz) or null, $5 to (timestamptz) or null, $6 before seq or null (page backwards), $7 limit: chained records that belong to no court (neither the actor's nor a case's: operations, agencies, anonymous callers), newest first; what ops reads
SELECT seq, at, action, actor_login, actor_role, actor_court, case_id, case_number, case_court, subject_key,
       purpose, reason, target, request_id, details, prev_hash, hash
FROM audit_log
WHERE seq IS NOT NULL
  AND case_court IS NULL AND actor_court IS NULL
  AND ($1::bigint IS NULL OR case_id = $1)
  AND ($2::text IS NULL OR actor_login = $2)
  AND ($3::text IS NULL OR action = $3)
  AND ($4::timestamptz IS NULL OR at >= $4)
  AND ($5::timestamptz IS NULL OR at < $5)
  AND ($6::bigint IS NULL OR seq < $6)
ORDER BY seq DESC
LIMIT $7

-- case_for_refusal --
-- $1 case id: the case's number and court, for the audit record of a refusal that named it in its path
SELECT case_number, court_code FROM enforcement_case WHERE id = $1

-- audit_by_request --
-- $1 request id: the chained records one request wrote
SELECT seq, at, action, actor_login, actor_role, actor_court, case_id, case_number, case_court, subject_key,
       purpose, reason, target, request_id, details, prev_hash, hash
FROM audit_log WHERE request_id = $1 AND seq IS NOT NULL ORDER BY seq
