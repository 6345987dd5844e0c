-- queue_gauges --
-- no parameters: per agency, tasks queued and waiting, how long the oldest due one has waited to be claimed, and deferred answers (tickets) outstanding
SELECT agency,
       count(*) FILTER (WHERE status = 'queued') AS queued,
       count(*) FILTER (WHERE status = 'waiting') AS waiting,
       coalesce(extract(epoch FROM now() - min(due_at) FILTER (WHERE due_at <= now())), 0)::float8 AS oldest_due_age,
       count(*) FILTER (WHERE status = 'waiting' AND ticket IS NOT NULL) AS deferred
FROM agency_task
WHERE status IN ('queued', 'waiting')
GROUP BY agency

-- running_gauges --
-- no parameters: per agency, tasks held by a dispatcher, and how long the oldest lapsed lease (a dead holder's task, due again) has waited
SELECT agency,
       count(*) AS running,
       coalesce(extract(epoch FROM now() - min(lease_expires_at) FILTER (WHERE lease_expires_at < now())), 0)::float8
           AS oldest_lapsed_age
FROM agency_task
WHERE status = 'running'
GROUP BY agency

-- deferred_overdue_gauges --
-- no parameters: per agency, deferred answers past their deadline: tickets still waiting after it, or expired unanswered in the last 24 hours
SELECT agency, count(*) AS overdue
FROM agency_task
WHERE ticket IS NOT NULL AND status IN ('waiting', 'expired') AND deadline_at < now()
  AND (status = 'waiting' OR deadline_at > now() - interval '24 hours')
GROUP BY agency

-- searches_running_count --
-- no parameters: searches with a task not yet terminal
SELECT count(*) FROM search WHERE status = 'running'
