-- A monthly profile is NULL or a JSON array of twelve numbers ≥ 0, January
-- first. pantau validates profiles before writing them; the constraint
-- keeps anyone writing to the table directly from storing one that could
-- not be phased. Adding it checks the rows already there: a migration that
-- fails on it names the constraint; correct that target (pantau targets
-- export, fix, import) and migrate again.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION target_profile_ok(p TEXT) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN json_typeof(p::json) IS DISTINCT FROM 'array' THEN false
        ELSE json_array_length(p::json) = 12 AND NOT EXISTS (
            SELECT 1 FROM json_array_elements(p::json) AS e(v)
            WHERE CASE WHEN json_typeof(e.v) = 'number' THEN (e.v::text)::double precision < 0 ELSE true END)
    END
$$;
-- +goose StatementEnd
ALTER TABLE targets ADD CONSTRAINT targets_profile_twelve_months
    CHECK (profile IS NULL OR target_profile_ok(profile));

-- +goose Down
ALTER TABLE targets DROP CONSTRAINT targets_profile_twelve_months;
DROP FUNCTION target_profile_ok(TEXT);
