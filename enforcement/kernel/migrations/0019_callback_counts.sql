-- Issue 18: the operator's agency page shows each calling-back agency's callbacks of the last hour
-- (accepted, refused, the last one's time and a refusal's reason). Every API process receives
-- callbacks, so the figures are counted here, one row per agency and minute, upserted by the
-- receiver; rows older than two hours are purged with the dispatcher housekeeping. Only agencies
-- the service knows get a row (a callback naming an unknown agency is counted by the metric alone).
CREATE TABLE agency_callback_minute (
    agency              text NOT NULL,
    minute              timestamptz NOT NULL,
    accepted            integer NOT NULL DEFAULT 0,
    refused             integer NOT NULL DEFAULT 0,
    last_at             timestamptz NOT NULL,
    last_result         text NOT NULL CHECK (last_result IN ('accepted', 'refused')),
    last_reason         text,
    PRIMARY KEY (agency, minute)
);
