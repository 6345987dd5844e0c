-- 0034: each court sets how many days before a control's expiry its renewal is due and alerted
-- (issue 17: "court setting, default 15 days"), as it sets its deduction approval amount (0018).
-- NULL: the deployment's MEASURE_RENEWAL_NOTICE_DAYS. 1..90 (decision 1704): at least a day's
-- notice, since a renewal needs a new ruling and a bank may take days to answer; at most a
-- quarter, beyond which a one-year deposit freeze would sit "due" for a quarter of its term and
-- the court's list of renewals due would stop meaning "act now".

ALTER TABLE court ADD COLUMN measure_renewal_notice_days integer
    CHECK (measure_renewal_notice_days IS NULL OR measure_renewal_notice_days BETWEEN 1 AND 90);
