-- 0005: a counter per court and year for 协助查询通知书 numbers (was a count over the year's
-- searches on every submission: linear in the court's volume).

CREATE TABLE document_serial (
    court_code  text NOT NULL,
    year        integer NOT NULL,
    last        bigint NOT NULL,
    PRIMARY KEY (court_code, year)
);

INSERT INTO document_serial (court_code, year, last)
SELECT court_code, extract(year FROM created_at)::integer, count(*)
FROM search
GROUP BY 1, 2;
