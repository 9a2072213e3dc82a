-- The source's figures for the closed months of the year, per KPI and
-- collector scope: what the year-to-date window adds the open month to, so
-- a refresh queries only the open month. One row per KPI and scope, for
-- the latest open month (open_period): the year query of that month minus
-- its month query, read again every recheck_closed for rows that arrive
-- late, and replaced then. sums is JSON keyed by the region codes of the
-- KPI's level; query_hash names the query and level they came from, so a
-- changed query is read afresh instead of trusted. Unlike monthly_history
-- (the figures reported when a month closed, written once) these follow
-- the source.

-- +goose Up
CREATE TABLE closed_month_sums (
    kpi         TEXT NOT NULL,
    scope       TEXT NOT NULL,
    open_period TEXT NOT NULL CHECK (open_period LIKE '____-__'),
    query_hash  TEXT NOT NULL,
    sums        TEXT NOT NULL,
    checked_at  TEXT NOT NULL,
    PRIMARY KEY (kpi, scope)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE closed_month_sums;
