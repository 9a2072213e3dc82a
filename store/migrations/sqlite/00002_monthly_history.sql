-- Final values of closed months, one row per KPI × region × month × window.
-- A row is written once and never changed: writers use
-- INSERT ... ON CONFLICT DO NOTHING, so a restart or a second replica
-- closing the same month adds nothing. Undefined figures are NULL.
-- The window column is time_window: WINDOW is a reserved word in SQL.

-- +goose Up
CREATE TABLE monthly_history (
    kpi         TEXT             NOT NULL,
    region_code TEXT             NOT NULL,
    level       TEXT             NOT NULL,
    period      TEXT             NOT NULL CHECK (period LIKE '____-__'),
    time_window TEXT             NOT NULL CHECK (time_window IN ('month', 'year')),
    actual      DOUBLE PRECISION,
    target      DOUBLE PRECISION,
    expected    DOUBLE PRECISION,
    numerator   DOUBLE PRECISION,
    denominator DOUBLE PRECISION,
    attainment  DOUBLE PRECISION,
    pace        DOUBLE PRECISION,
    status      TEXT             NOT NULL,
    closed_at   TEXT             NOT NULL,
    PRIMARY KEY (kpi, region_code, period, time_window)
) WITHOUT ROWID;
CREATE INDEX monthly_history_period ON monthly_history (kpi, period);

-- +goose Down
DROP TABLE monthly_history;
