-- A monthly profile is NULL or a JSON array of twelve numbers ≥ 0, January
-- first. pantau validates profiles before writing them; the triggers keep
-- anyone writing to the table directly from storing one that could not be
-- phased. SQLite cannot add a CHECK to an existing table, so triggers do it,
-- and the no-op UPDATE at the end runs them over the rows already there: a
-- migration that fails on it names the profile; correct that target
-- (pantau targets export, fix, import) and migrate again.

-- +goose Up
-- +goose StatementBegin
CREATE TRIGGER targets_profile_insert BEFORE INSERT ON targets
WHEN NEW.profile IS NOT NULL AND NOT (
    json_valid(NEW.profile) AND json_type(NEW.profile) = 'array' AND json_array_length(NEW.profile) = 12
    AND NOT EXISTS (SELECT 1 FROM json_each(NEW.profile) WHERE type NOT IN ('integer', 'real') OR value < 0))
BEGIN
    SELECT RAISE(ABORT, 'targets.profile must be a JSON array of 12 numbers >= 0, January first');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER targets_profile_update BEFORE UPDATE OF profile ON targets
WHEN NEW.profile IS NOT NULL AND NOT (
    json_valid(NEW.profile) AND json_type(NEW.profile) = 'array' AND json_array_length(NEW.profile) = 12
    AND NOT EXISTS (SELECT 1 FROM json_each(NEW.profile) WHERE type NOT IN ('integer', 'real') OR value < 0))
BEGIN
    SELECT RAISE(ABORT, 'targets.profile must be a JSON array of 12 numbers >= 0, January first');
END;
-- +goose StatementEnd
UPDATE targets SET profile = profile WHERE profile IS NOT NULL;

-- +goose Down
DROP TRIGGER targets_profile_update;
DROP TRIGGER targets_profile_insert;
