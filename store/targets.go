package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/pantau-id/pantau/kpi"
)

// Action is what a change does to a target.
type Action string

const (
	ActionCreate Action = "create"
	ActionUpdate Action = "update"
	ActionDelete Action = "delete"
	// ActionUnchanged is a change that leaves the target as it is: the same
	// values, or a delete of a target that does not exist. It writes nothing
	// and appends no audit entry.
	ActionUnchanged Action = "unchanged"
)

// Change sets a target (creating it or replacing its values) or, with
// Delete, removes it; only the key (KPI, Region, Year) of a deleted target
// is read.
type Change struct {
	Target kpi.Target
	Delete bool
	// Precondition, when set, is called inside the transaction with the
	// target's current value (nil when there is none) after it is read and
	// locked; an error aborts the batch and is returned wrapped. It is how
	// a writer makes sure it replaces the version it saw (If-Match).
	Precondition func(cur *kpi.Target) error

	// Action and Old are filled in by PlanChanges and ignored by
	// ApplyTargets: what the change would do, and the target it would
	// replace (nil when there is none).
	Action Action
	Old    *kpi.Target
}

// Summary counts what a batch of changes did (or, from PlanChanges, would do).
type Summary struct {
	Created, Updated, Deleted, Unchanged int
}

func (s *Summary) add(a Action) {
	switch a {
	case ActionCreate:
		s.Created++
	case ActionUpdate:
		s.Updated++
	case ActionDelete:
		s.Deleted++
	default:
		s.Unchanged++
	}
}

// TargetFilter selects targets; zero fields match everything.
type TargetFilter struct {
	KPI    string
	Year   int
	Region string // exact region code
}

// AuditFilter selects audit entries; zero fields match everything. Since
// keeps the changes made at or after that instant. Limit caps the number of
// entries (newest first); 0 means no cap.
type AuditFilter struct {
	KPI, Region string
	Year        int
	Since       time.Time
	Limit       int
}

// AuditEntry is one change to a target, as recorded when it was made.
type AuditEntry struct {
	ID          int64
	KPI, Region string
	Year        int
	Action      Action // create, update or delete
	ChangedAt   time.Time
	ChangedBy   string
	Reason      string
	// Old is the target before the change (nil for a create), New the
	// target after it (nil for a delete).
	Old, New *kpi.Target
}

type targetKey struct {
	kpi, region string
	year        int
}

func keyOf(t kpi.Target) targetKey { return targetKey{t.KPI, t.Region, t.Year} }

const targetColumns = "kpi, region_code, year, annual, profile, rate"

type targetRow struct {
	KPI     string          `db:"kpi"`
	Region  string          `db:"region_code"`
	Year    int             `db:"year"`
	Annual  float64         `db:"annual"`
	Profile sql.NullString  `db:"profile"`
	Rate    sql.NullFloat64 `db:"rate"`
}

func (r targetRow) target() (kpi.Target, error) {
	t := kpi.Target{KPI: r.KPI, Region: r.Region, Year: r.Year, Annual: r.Annual, Rate: r.Rate.Float64}
	p, err := decodeProfile(r.Profile)
	if err != nil {
		return kpi.Target{}, fmt.Errorf("store: target %s %s %d: %w", r.KPI, r.Region, r.Year, err)
	}
	t.Profile = p
	// The schema refuses bad profiles since migration 4; a row written
	// around it must still not reach the phasing.
	if err := t.Validate(); err != nil {
		return kpi.Target{}, fmt.Errorf("store: target %s %s %d: %w; correct it with pantau targets import", r.KPI, r.Region, r.Year, err)
	}
	return t, nil
}

func encodeProfile(p []float64) sql.NullString {
	if p == nil {
		return sql.NullString{}
	}
	b, _ := json.Marshal(p) // Validate has ruled out NaN and ±Inf
	return sql.NullString{String: string(b), Valid: true}
}

func decodeProfile(s sql.NullString) ([]float64, error) {
	if !s.Valid {
		return nil, nil
	}
	var p []float64
	if err := json.Unmarshal([]byte(s.String), &p); err != nil {
		return nil, fmt.Errorf("bad monthly profile %q: %w", s.String, err)
	}
	return p, nil
}

// nullRate stores "no per-region rate" (0) as NULL.
func nullRate(r float64) sql.NullFloat64 { return sql.NullFloat64{Float64: r, Valid: r != 0} }

// Targets returns every KPI's targets for a year, ordered by KPI and region.
func (s *Store) Targets(ctx context.Context, year int) ([]kpi.Target, error) {
	return s.ListTargets(ctx, TargetFilter{Year: year})
}

// ListTargets returns the targets the filter selects, ordered by KPI, year
// and region.
func (s *Store) ListTargets(ctx context.Context, f TargetFilter) ([]kpi.Target, error) {
	var where []string
	var args []any
	if f.KPI != "" {
		where, args = append(where, "kpi = ?"), append(args, f.KPI)
	}
	if f.Year != 0 {
		where, args = append(where, "year = ?"), append(args, f.Year)
	}
	if f.Region != "" {
		where, args = append(where, "region_code = ?"), append(args, f.Region)
	}
	q := "SELECT " + targetColumns + " FROM targets" + whereClause(where) + " ORDER BY kpi, year, region_code"
	return s.selectTargets(ctx, s.rdb, q, args...)
}

func (s *Store) selectTargets(ctx context.Context, q sqlx.QueryerContext, query string, args ...any) ([]kpi.Target, error) {
	rows, err := q.QueryxContext(ctx, s.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: read targets: %w", err)
	}
	defer rows.Close()
	var out []kpi.Target
	for rows.Next() {
		var r targetRow
		if err := rows.StructScan(&r); err != nil {
			return nil, fmt.Errorf("store: read targets: %w", err)
		}
		t, err := r.target()
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read targets: %w", err)
	}
	return out, nil
}

func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// validateChange checks a change before anything is written.
func validateChange(i int, ch Change) error {
	t := ch.Target
	fail := func(err error) error {
		return fmt.Errorf("store: change %d (%s %s %d): %w", i+1, t.KPI, t.Region, t.Year, err)
	}
	if strings.TrimSpace(t.KPI) == "" {
		return fail(errors.New("kpi is empty"))
	}
	if _, err := kpi.CodeLevel(t.Region); err != nil {
		return fail(err)
	}
	if ch.Delete {
		if t.Year < 1900 || t.Year > 9999 {
			return fail(fmt.Errorf("year %d out of range", t.Year))
		}
		return nil
	}
	if err := t.Validate(); err != nil {
		return fail(err)
	}
	return nil
}

// decide says what ch does to a target whose current value is cur (nil
// when there is none).
func decide(cur *kpi.Target, ch Change) Action {
	switch {
	case ch.Delete && cur == nil:
		return ActionUnchanged
	case ch.Delete:
		return ActionDelete
	case cur == nil:
		return ActionCreate
	case sameValues(*cur, ch.Target):
		return ActionUnchanged
	}
	return ActionUpdate
}

func sameValues(a, b kpi.Target) bool {
	return a.Annual == b.Annual && a.Rate == b.Rate &&
		(a.Profile == nil) == (b.Profile == nil) && slices.Equal(a.Profile, b.Profile)
}

// PlanChanges reports what ApplyTargets would do with targets, without
// writing: one Change per target, in order, with its Action and the Old
// value it would replace, and the counts. A target given twice is planned
// against the value the earlier one would leave.
func (s *Store) PlanChanges(ctx context.Context, targets []kpi.Target) ([]Change, Summary, error) {
	var sum Summary
	changes := make([]Change, len(targets))
	for i, t := range targets {
		changes[i] = Change{Target: t}
		if err := validateChange(i, changes[i]); err != nil {
			return nil, Summary{}, err
		}
	}
	// Read each KPI × year touched once rather than target by target.
	type kpiYear struct {
		kpi  string
		year int
	}
	current := map[targetKey]kpi.Target{}
	seen := map[kpiYear]bool{}
	for _, t := range targets {
		ky := kpiYear{t.KPI, t.Year}
		if seen[ky] {
			continue
		}
		seen[ky] = true
		ts, err := s.ListTargets(ctx, TargetFilter{KPI: t.KPI, Year: t.Year})
		if err != nil {
			return nil, Summary{}, err
		}
		for _, c := range ts {
			current[keyOf(c)] = c
		}
	}
	for i := range changes {
		ch := &changes[i]
		k := keyOf(ch.Target)
		if cur, ok := current[k]; ok {
			ch.Old = &cur
		}
		ch.Action = decide(ch.Old, *ch)
		sum.add(ch.Action)
		current[k] = ch.Target
	}
	return changes, sum, nil
}

// ApplyTargets applies changes in one transaction: for each it reads the
// target's current value, writes the new one and appends an audit entry
// with the old and new values, by and reason. A change that leaves a target
// as it is (or deletes one that does not exist) writes nothing. Every
// target is validated first; any error leaves the database as it was.
func (s *Store) ApplyTargets(ctx context.Context, changes []Change, by, reason string) (Summary, error) {
	if strings.TrimSpace(by) == "" {
		return Summary{}, errors.New("store: apply targets: who makes the change is required")
	}
	for i, ch := range changes {
		if err := validateChange(i, ch); err != nil {
			return Summary{}, err
		}
	}
	var sum Summary
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		sum = Summary{}
		now := formatTime(s.now())
		for i, ch := range changes {
			a, err := s.applyOne(ctx, tx, ch, now, by, reason)
			if err != nil {
				t := ch.Target
				return fmt.Errorf("store: change %d (%s %s %d): %w", i+1, t.KPI, t.Region, t.Year, err)
			}
			sum.add(a)
			if s.applyHook != nil {
				if err := s.applyHook(i); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return Summary{}, err
	}
	return sum, nil
}

func (s *Store) applyOne(ctx context.Context, tx *sqlx.Tx, ch Change, now, by, reason string) (Action, error) {
	t := ch.Target
	ts, err := s.selectTargets(ctx, tx,
		"SELECT "+targetColumns+" FROM targets WHERE kpi = ? AND region_code = ? AND year = ?"+s.d.forUpdate,
		t.KPI, t.Region, t.Year)
	if err != nil {
		return "", err
	}
	var cur *kpi.Target
	if len(ts) == 1 {
		cur = &ts[0]
	}
	if ch.Precondition != nil {
		if err := ch.Precondition(cur); err != nil {
			return "", err
		}
	}
	a := decide(cur, ch)
	profile, rate := encodeProfile(t.Profile), nullRate(t.Rate)
	switch a {
	case ActionUnchanged:
		return a, nil
	case ActionCreate:
		_, err = tx.ExecContext(ctx, s.rebind(
			"INSERT INTO targets (kpi, region_code, year, annual, profile, rate, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
			t.KPI, t.Region, t.Year, t.Annual, profile, rate, now, by)
	case ActionUpdate:
		_, err = tx.ExecContext(ctx, s.rebind(
			"UPDATE targets SET annual = ?, profile = ?, rate = ?, updated_at = ?, updated_by = ? WHERE kpi = ? AND region_code = ? AND year = ?"),
			t.Annual, profile, rate, now, by, t.KPI, t.Region, t.Year)
	case ActionDelete:
		_, err = tx.ExecContext(ctx, s.rebind(
			"DELETE FROM targets WHERE kpi = ? AND region_code = ? AND year = ?"),
			t.KPI, t.Region, t.Year)
	}
	if err != nil {
		return "", err
	}
	var oldAnnual, oldRate, newAnnual, newRate sql.NullFloat64
	var oldProfile, newProfile sql.NullString
	if cur != nil {
		oldAnnual = sql.NullFloat64{Float64: cur.Annual, Valid: true}
		oldProfile, oldRate = encodeProfile(cur.Profile), nullRate(cur.Rate)
	}
	if a != ActionDelete {
		newAnnual = sql.NullFloat64{Float64: t.Annual, Valid: true}
		newProfile, newRate = profile, rate
	}
	_, err = tx.ExecContext(ctx, s.rebind(`INSERT INTO target_audit
		(kpi, region_code, year, action, changed_at, changed_by, reason,
		 old_annual, old_profile, old_rate, new_annual, new_profile, new_rate)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		t.KPI, t.Region, t.Year, string(a), now, by, reason,
		oldAnnual, oldProfile, oldRate, newAnnual, newProfile, newRate)
	if err != nil {
		return "", err
	}
	return a, nil
}

type auditRow struct {
	ID         int64           `db:"id"`
	KPI        string          `db:"kpi"`
	Region     string          `db:"region_code"`
	Year       int             `db:"year"`
	Action     string          `db:"action"`
	ChangedAt  string          `db:"changed_at"`
	ChangedBy  string          `db:"changed_by"`
	Reason     string          `db:"reason"`
	OldAnnual  sql.NullFloat64 `db:"old_annual"`
	OldProfile sql.NullString  `db:"old_profile"`
	OldRate    sql.NullFloat64 `db:"old_rate"`
	NewAnnual  sql.NullFloat64 `db:"new_annual"`
	NewProfile sql.NullString  `db:"new_profile"`
	NewRate    sql.NullFloat64 `db:"new_rate"`
}

func (r auditRow) version(annual sql.NullFloat64, profile sql.NullString, rate sql.NullFloat64) (*kpi.Target, error) {
	if !annual.Valid {
		return nil, nil
	}
	p, err := decodeProfile(profile)
	if err != nil {
		return nil, fmt.Errorf("store: audit entry %d: %w", r.ID, err)
	}
	return &kpi.Target{KPI: r.KPI, Region: r.Region, Year: r.Year, Annual: annual.Float64, Profile: p, Rate: rate.Float64}, nil
}

// Audit returns the audit entries the filter selects, newest first.
func (s *Store) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var where []string
	var args []any
	if f.KPI != "" {
		where, args = append(where, "kpi = ?"), append(args, f.KPI)
	}
	if f.Region != "" {
		where, args = append(where, "region_code = ?"), append(args, f.Region)
	}
	if f.Year != 0 {
		where, args = append(where, "year = ?"), append(args, f.Year)
	}
	if !f.Since.IsZero() {
		// changed_at is fixed-width UTC text: text order is time order.
		where, args = append(where, "changed_at >= ?"), append(args, formatTime(f.Since))
	}
	q := `SELECT id, kpi, region_code, year, action, changed_at, changed_by, reason,
		old_annual, old_profile, old_rate, new_annual, new_profile, new_rate
		FROM target_audit` + whereClause(where) + " ORDER BY id DESC"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := s.rdb.QueryxContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("store: read audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var r auditRow
		if err := rows.StructScan(&r); err != nil {
			return nil, fmt.Errorf("store: read audit: %w", err)
		}
		e := AuditEntry{ID: r.ID, KPI: r.KPI, Region: r.Region, Year: r.Year, Action: Action(r.Action),
			ChangedBy: r.ChangedBy, Reason: r.Reason}
		if e.ChangedAt, err = parseTime(r.ChangedAt); err != nil {
			return nil, err
		}
		if e.Old, err = r.version(r.OldAnnual, r.OldProfile, r.OldRate); err != nil {
			return nil, err
		}
		if e.New, err = r.version(r.NewAnnual, r.NewProfile, r.NewRate); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read audit: %w", err)
	}
	return out, nil
}
