-- The source's figures for each closed month of a KPI, one row per KPI ×
-- collector scope × month: the sums the year-to-date window adds up, so a
-- refresh queries only the open month. Unlike monthly_history (what was
-- reported when the month closed, written once) a row is replaced when a
-- recheck finds rows that arrived late. sums is JSON, keyed by the region
-- codes of the KPI's level; query_hash names the query and level the sums
-- came from, so a changed query is read afresh instead of trusted.

-- +goose Up
CREATE TABLE closed_month_sums (
    kpi        TEXT NOT NULL,
    scope      TEXT NOT NULL,
    period     TEXT NOT NULL CHECK (period LIKE '____-__'),
    query_hash TEXT NOT NULL,
    sums       TEXT NOT NULL,
    checked_at TEXT NOT NULL,
    PRIMARY KEY (kpi, scope, period)
);

-- +goose Down
DROP TABLE closed_month_sums;
