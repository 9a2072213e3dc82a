-- Targets and their audit trail.
--
-- Instants are TEXT in RFC 3339, UTC, millisecond precision
-- ("2026-10-31T17:30:00.000Z"): the same type and bytes on PostgreSQL and
-- SQLite, readable in psql and sqlite3, and in chronological order when
-- sorted as text. DOUBLE PRECISION has REAL affinity in SQLite.

-- +goose Up
CREATE TABLE targets (
    kpi         TEXT             NOT NULL,
    region_code TEXT             NOT NULL,
    year        INTEGER          NOT NULL CHECK (year BETWEEN 1900 AND 9999),
    annual      DOUBLE PRECISION NOT NULL CHECK (annual >= 0),
    -- JSON array of the 12 monthly targets (January first); NULL phases linearly.
    profile     TEXT,
    -- Per-region target rate of a rate KPI; NULL uses the KPI's fixed rate.
    rate        DOUBLE PRECISION CHECK (rate > 0),
    updated_at  TEXT             NOT NULL,
    updated_by  TEXT             NOT NULL,
    PRIMARY KEY (kpi, region_code, year)
) WITHOUT ROWID;
CREATE INDEX targets_year ON targets (year, kpi, region_code);

-- Append-only: pantau never updates or deletes a row, and the triggers
-- below refuse anyone else who tries.
CREATE TABLE target_audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kpi         TEXT    NOT NULL,
    region_code TEXT    NOT NULL,
    year        INTEGER NOT NULL,
    action      TEXT    NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    changed_at  TEXT    NOT NULL,
    changed_by  TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    old_annual  DOUBLE PRECISION,
    old_profile TEXT,
    old_rate    DOUBLE PRECISION,
    new_annual  DOUBLE PRECISION,
    new_profile TEXT,
    new_rate    DOUBLE PRECISION
);
CREATE INDEX target_audit_target ON target_audit (kpi, region_code, year, id);

-- +goose StatementBegin
CREATE TRIGGER target_audit_no_update BEFORE UPDATE ON target_audit
BEGIN
    SELECT RAISE(ABORT, 'target_audit is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER target_audit_no_delete BEFORE DELETE ON target_audit
BEGIN
    SELECT RAISE(ABORT, 'target_audit is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE target_audit;
DROP TABLE targets;
