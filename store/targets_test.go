package store

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pantau-id/pantau/kpi"
)

var (
	// DKI Jakarta's 2017 targets: 70 e-Warong, phased linearly.
	linear = kpi.Target{KPI: "ewarong_aktif", Region: "31", Year: 2017, Annual: 70}
	// 71 KUBE Jasa with a monthly profile.
	profiled = kpi.Target{KPI: "kube_jasa", Region: "31", Year: 2017, Annual: 71,
		Profile: []float64{5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 7}}
	// Tambun Selatan's own Sembako distribution rate.
	rated = kpi.Target{KPI: "sembako_salur", Region: "32.16.06", Year: 2017, Rate: 0.95}
	// Decimals that binary floating point cannot hold exactly must come back
	// bit for bit.
	decimals = kpi.Target{KPI: "pkh_graduasi", Region: "32.75", Year: 2017, Annual: 0.3,
		Profile: []float64{0.1, 0.2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, Rate: 0.113}
)

func with(t kpi.Target, f func(*kpi.Target)) kpi.Target {
	t.Profile = append([]float64(nil), t.Profile...) // nil stays nil
	f(&t)
	return t
}

func sets(ts ...kpi.Target) []Change {
	cs := make([]Change, len(ts))
	for i, t := range ts {
		cs[i] = Change{Target: t}
	}
	return cs
}

// stepClock returns a clock that advances a minute at every reading.
func stepClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2017, 1, 2, 3, 4, 5, 6_000_000, kpi.WIB)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Minute)
		return t
	}
}

func mustApply(t *testing.T, s *Store, cs []Change, by, reason string) Summary {
	t.Helper()
	sum, err := s.ApplyTargets(context.Background(), cs, by, reason)
	if err != nil {
		t.Fatalf("ApplyTargets: %v", err)
	}
	return sum
}

func mustTargets(t *testing.T, s *Store, f TargetFilter) []kpi.Target {
	t.Helper()
	ts, err := s.ListTargets(context.Background(), f)
	if err != nil {
		t.Fatalf("ListTargets: %v", err)
	}
	return ts
}

func mustAudit(t *testing.T, s *Store, f AuditFilter) []AuditEntry {
	t.Helper()
	es, err := s.Audit(context.Background(), f)
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	return es
}

func equalTargets(t *testing.T, what string, got, want []kpi.Target) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func ptr(t kpi.Target) *kpi.Target { return &t }

func TestTargets(t *testing.T) {
	ctx := context.Background()
	runStoreTests(t, []storeTest{
		{"linear, profiled and rate targets come back as they were written", func(t *testing.T, s *Store) {
			other := with(linear, func(t *kpi.Target) { t.Year = 2018; t.Annual = 90 })
			sum := mustApply(t, s, sets(linear, profiled, rated, decimals, other), "ani", "Renstra")
			if sum != (Summary{Created: 5}) {
				t.Errorf("summary %+v", sum)
			}
			got, err := s.Targets(ctx, 2017)
			if err != nil {
				t.Fatal(err)
			}
			// Ordered by KPI, then region.
			equalTargets(t, "Targets(2017)", got, []kpi.Target{linear, profiled, decimals, rated})
			got, _ = s.Targets(ctx, 2018)
			equalTargets(t, "Targets(2018)", got, []kpi.Target{other})
			got, _ = s.Targets(ctx, 2019)
			equalTargets(t, "Targets(2019)", got, nil)
		}},
		{"ListTargets filters by KPI, year and region", func(t *testing.T, s *Store) {
			other := with(linear, func(t *kpi.Target) { t.Year = 2018 })
			bekasi := with(linear, func(t *kpi.Target) { t.Region = "32.16" })
			mustApply(t, s, sets(linear, profiled, rated, other, bekasi), "ani", "")
			for _, tc := range []struct {
				f    TargetFilter
				want []kpi.Target
			}{
				{TargetFilter{}, []kpi.Target{linear, bekasi, other, profiled, rated}},
				{TargetFilter{KPI: linear.KPI}, []kpi.Target{linear, bekasi, other}},
				{TargetFilter{KPI: linear.KPI, Year: 2018}, []kpi.Target{other}},
				{TargetFilter{Region: "31"}, []kpi.Target{linear, other, profiled}},
				{TargetFilter{Region: "31", Year: 2017}, []kpi.Target{linear, profiled}},
				{TargetFilter{KPI: "nope"}, nil},
			} {
				equalTargets(t, fmt.Sprintf("ListTargets(%+v)", tc.f), mustTargets(t, s, tc.f), tc.want)
			}
		}},
		{"every create, update and delete is audited with old and new values, who and why", func(t *testing.T, s *Store) {
			s.now = stepClock()
			v80 := with(linear, func(t *kpi.Target) { t.Annual = 80 })
			steps := []struct {
				change Change
				by     string
				reason string
				want   Summary
			}{
				{Change{Target: linear}, "ani", "Renstra 2017", Summary{Created: 1}},
				{Change{Target: v80}, "budi", "APBD-P revision", Summary{Updated: 1}},
				{Change{Target: v80}, "budi", "imported again", Summary{Unchanged: 1}},
				{Change{Target: v80, Delete: true}, "citra", "KPI dropped", Summary{Deleted: 1}},
				{Change{Target: v80, Delete: true}, "citra", "dropped again", Summary{Unchanged: 1}},
			}
			for i, st := range steps {
				if got := mustApply(t, s, []Change{st.change}, st.by, st.reason); got != st.want {
					t.Errorf("step %d: summary %+v, want %+v", i+1, got, st.want)
				}
			}
			got := mustAudit(t, s, AuditFilter{KPI: linear.KPI})
			type entry struct {
				action    Action
				by, why   string
				old, new_ *kpi.Target
			}
			want := []entry{ // newest first
				{ActionDelete, "citra", "KPI dropped", ptr(v80), nil},
				{ActionUpdate, "budi", "APBD-P revision", ptr(linear), ptr(v80)},
				{ActionCreate, "ani", "Renstra 2017", nil, ptr(linear)},
			}
			if len(got) != len(want) {
				t.Fatalf("%d audit entries, want %d: %+v", len(got), len(want), got)
			}
			for i, w := range want {
				g := got[i]
				if g.Action != w.action || g.ChangedBy != w.by || g.Reason != w.why ||
					!reflect.DeepEqual(g.Old, w.old) || !reflect.DeepEqual(g.New, w.new_) ||
					g.KPI != linear.KPI || g.Region != linear.Region || g.Year != linear.Year {
					t.Errorf("entry %d = %+v (old %v, new %v)\nwant %+v", i, g, g.Old, g.New, w)
				}
				if g.ChangedAt.Location() != time.UTC || g.ChangedAt.Nanosecond()%int(time.Millisecond) != 0 {
					t.Errorf("entry %d changed at %v, want UTC to the millisecond", i, g.ChangedAt)
				}
				if i > 0 && !g.ChangedAt.Before(got[i-1].ChangedAt) {
					t.Errorf("entry %d changed at %v, not before the newer %v", i, g.ChangedAt, got[i-1].ChangedAt)
				}
			}
			if want := time.Date(2017, 1, 1, 20, 5, 5, 6_000_000, time.UTC); !got[2].ChangedAt.Equal(want) {
				t.Errorf("create changed at %v, want %v", got[2].ChangedAt, want)
			}
			if es := mustAudit(t, s, AuditFilter{KPI: linear.KPI, Limit: 1}); len(es) != 1 || es[0].Action != ActionDelete {
				t.Errorf("Limit 1: %+v", es)
			}
			if es := mustAudit(t, s, AuditFilter{KPI: linear.KPI, Since: got[1].ChangedAt}); len(es) != 2 || es[0].Action != ActionDelete || es[1].Action != ActionUpdate {
				t.Errorf("Since the update: %+v, want the delete and the update", es)
			}
			if es := mustAudit(t, s, AuditFilter{Since: got[0].ChangedAt.Add(time.Millisecond)}); len(es) != 0 {
				t.Errorf("Since after the last change: %+v, want none", es)
			}
			if es := mustAudit(t, s, AuditFilter{Region: "32"}); len(es) != 0 {
				t.Errorf("other region: %+v", es)
			}
			if es := mustAudit(t, s, AuditFilter{Year: 2017, Region: "31"}); len(es) != 3 {
				t.Errorf("year and region: %d entries", len(es))
			}
		}},
		{"profiles and rates are compared value by value", func(t *testing.T, s *Store) {
			mustApply(t, s, sets(profiled, rated), "ani", "")
			flat := with(profiled, func(t *kpi.Target) { t.Profile = nil })
			moved := with(profiled, func(t *kpi.Target) { t.Profile[0], t.Profile[11] = 7, 5 })
			higher := with(rated, func(t *kpi.Target) { t.Rate = 0.97 })
			same := with(profiled, func(*kpi.Target) {})
			sum := mustApply(t, s, sets(same, rated), "ani", "")
			if sum != (Summary{Unchanged: 2}) {
				t.Errorf("same values: %+v", sum)
			}
			sum = mustApply(t, s, sets(flat, moved, higher), "ani", "")
			if sum != (Summary{Updated: 3}) {
				t.Errorf("changed values: %+v", sum)
			}
			es := mustAudit(t, s, AuditFilter{})
			if len(es) != 5 || !reflect.DeepEqual(es[1].Old, ptr(flat)) || !reflect.DeepEqual(es[1].New, ptr(moved)) {
				t.Errorf("audit %+v", es)
			}
		}},
		{"a batch whose last change is invalid writes nothing", func(t *testing.T, s *Store) {
			bad := with(rated, func(t *kpi.Target) { t.Profile = []float64{1, 2, 3} })
			_, err := s.ApplyTargets(ctx, sets(linear, profiled, bad), "ani", "")
			if err == nil || !strings.Contains(err.Error(), "change 3") || !strings.Contains(err.Error(), "12") {
				t.Fatalf("err = %v, want change 3's profile refused", err)
			}
			equalTargets(t, "targets", mustTargets(t, s, TargetFilter{}), nil)
			if es := mustAudit(t, s, AuditFilter{}); len(es) != 0 {
				t.Errorf("audit %+v", es)
			}
		}},
		{"a batch that fails while writing leaves everything as it was", func(t *testing.T, s *Store) {
			mustApply(t, s, sets(linear), "ani", "")
			s.applyHook = func(i int) error {
				if i == 2 {
					return fmt.Errorf("disk full")
				}
				return nil
			}
			v80 := with(linear, func(t *kpi.Target) { t.Annual = 80 })
			_, err := s.ApplyTargets(ctx, append(sets(v80, profiled), Change{Target: linear, Delete: true}), "budi", "")
			if err == nil || !strings.Contains(err.Error(), "disk full") {
				t.Fatalf("err = %v", err)
			}
			equalTargets(t, "targets", mustTargets(t, s, TargetFilter{}), []kpi.Target{linear})
			if es := mustAudit(t, s, AuditFilter{}); len(es) != 1 {
				t.Errorf("%d audit entries, want the first create only", len(es))
			}
		}},
		{"changes that cannot be stored are refused before anything is written", func(t *testing.T, s *Store) {
			for _, tc := range []struct {
				name   string
				change Change
				by     string
				want   string
			}{
				{"no author", Change{Target: linear}, " ", "who makes the change"},
				{"malformed region", Change{Target: with(linear, func(t *kpi.Target) { t.Region = "32.1" })}, "ani", "must have 2 digits"},
				{"no kpi", Change{Target: with(linear, func(t *kpi.Target) { t.KPI = "" })}, "ani", "kpi is empty"},
				{"negative target", Change{Target: with(linear, func(t *kpi.Target) { t.Annual = -1 })}, "ani", "≥ 0"},
				{"delete of a bad year", Change{Target: with(linear, func(t *kpi.Target) { t.Year = 17 }), Delete: true}, "ani", "year 17"},
			} {
				_, err := s.ApplyTargets(ctx, []Change{tc.change}, tc.by, "")
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
				}
			}
		}},
		{"two concurrent writers of one target leave every change in the audit trail, in order", func(t *testing.T, s *Store) {
			const writers, each = 2, 20
			var wg sync.WaitGroup
			errs := make(chan error, writers*each)
			for w := range writers {
				wg.Go(func() {
					for i := range each {
						v := with(linear, func(t *kpi.Target) { t.Annual = float64(1000*(w+1) + i) })
						if _, err := s.ApplyTargets(ctx, sets(v), fmt.Sprintf("writer %d", w), fmt.Sprint(i)); err != nil {
							errs <- err
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			es := mustAudit(t, s, AuditFilter{KPI: linear.KPI})
			if len(es) != writers*each {
				t.Fatalf("%d audit entries, want %d", len(es), writers*each)
			}
			final := mustTargets(t, s, TargetFilter{KPI: linear.KPI})
			if len(final) != 1 || !reflect.DeepEqual(&final[0], es[0].New) {
				t.Errorf("final %+v, newest audit entry's new value %+v", final, es[0].New)
			}
			oldest := es[len(es)-1]
			if oldest.Action != ActionCreate || oldest.Old != nil {
				t.Errorf("oldest entry %+v, want the create", oldest)
			}
			last := map[string]float64{}
			for i := len(es) - 1; i >= 0; i-- {
				e := es[i]
				if i < len(es)-1 && (e.Action != ActionUpdate || !reflect.DeepEqual(e.Old, es[i+1].New)) {
					t.Errorf("entry %d (%s) has old %v, but the entry before it left %v", i, e.Action, e.Old, es[i+1].New)
				}
				if e.New.Annual <= last[e.ChangedBy] && last[e.ChangedBy] != 0 {
					t.Errorf("%s's changes out of order: %v after %v", e.ChangedBy, e.New.Annual, last[e.ChangedBy])
				}
				last[e.ChangedBy] = e.New.Annual
			}
		}},
		{"PlanChanges reports creates, updates and unchanged without writing", func(t *testing.T, s *Store) {
			mustApply(t, s, sets(linear, profiled), "ani", "")
			v80 := with(linear, func(t *kpi.Target) { t.Annual = 80 })
			higher := with(rated, func(t *kpi.Target) { t.Rate = 0.97 })
			changes, sum, err := s.PlanChanges(ctx, []kpi.Target{v80, profiled, rated, higher})
			if err != nil {
				t.Fatal(err)
			}
			if sum != (Summary{Created: 1, Updated: 2, Unchanged: 1}) {
				t.Errorf("summary %+v", sum)
			}
			want := []Change{
				{Target: v80, Action: ActionUpdate, Old: ptr(linear)},
				{Target: profiled, Action: ActionUnchanged, Old: ptr(profiled)},
				{Target: rated, Action: ActionCreate},
				// Planned against the value the change before it would leave.
				{Target: higher, Action: ActionUpdate, Old: ptr(rated)},
			}
			if !reflect.DeepEqual(changes, want) {
				t.Errorf("changes:\n got %+v\nwant %+v", changes, want)
			}
			equalTargets(t, "targets after planning", mustTargets(t, s, TargetFilter{}), []kpi.Target{linear, profiled})
			if es := mustAudit(t, s, AuditFilter{}); len(es) != 2 {
				t.Errorf("%d audit entries after planning, want 2", len(es))
			}
			// Applying the plan does what it said.
			got := mustApply(t, s, changes, "ani", "")
			if got != sum {
				t.Errorf("applied %+v, planned %+v", got, sum)
			}
			if _, _, err := s.PlanChanges(ctx, []kpi.Target{with(linear, func(t *kpi.Target) { t.Year = 1 })}); err == nil {
				t.Error("an invalid target was planned")
			}
		}},
		{"the audit trail refuses updates and deletes", func(t *testing.T, s *Store) {
			mustApply(t, s, sets(linear), "ani", "")
			for _, q := range []string{"UPDATE target_audit SET reason = 'x'", "DELETE FROM target_audit"} {
				_, err := s.db.ExecContext(ctx, q)
				if err == nil || !strings.Contains(err.Error(), "append-only") {
					t.Errorf("%s: err = %v, want append-only refusal", q, err)
				}
			}
			if es := mustAudit(t, s, AuditFilter{}); len(es) != 1 || es[0].Reason != "" {
				t.Errorf("audit %+v", es)
			}
		}},
	})
}

func TestStoredProfilesAreTwelveMonths(t *testing.T) {
	ctx := context.Background()
	insert := "INSERT INTO targets (kpi, region_code, year, annual, profile, updated_at, updated_by) VALUES ('kube_jasa', '31', 2026, 55, ?, '2026-10-01T00:00:00.000Z', 'sql')"
	runStoreTests(t, []storeTest{
		{"the schema refuses a profile that is not twelve numbers ≥ 0 and accepts one that is", func(t *testing.T, s *Store) {
			for _, bad := range []string{"[5,5,5,5,5,5,5,5,5,5,5]", "[5,5,5,5,5,5,5,5,5,5,5,5,5]", "[]", "{}", "5",
				`[5,5,5,5,5,5,5,5,5,5,5,"x"]`, "[-5,5,5,5,5,5,5,5,5,5,5,20]"} {
				if _, err := s.db.ExecContext(ctx, s.rebind(insert), bad); err == nil {
					t.Errorf("profile %s was stored", bad)
				}
			}
			if _, err := s.db.ExecContext(ctx, s.rebind(insert), "[5,5,5,5,5,5,5,5,5,5,5,0]"); err != nil {
				t.Errorf("a profile of twelve numbers: %v", err)
			}
			upd := "UPDATE targets SET profile = ? WHERE kpi = 'kube_jasa'"
			if _, err := s.db.ExecContext(ctx, s.rebind(upd), "[5,5]"); err == nil {
				t.Error("an update to a profile of two values was stored")
			}
		}},
		{"a profile written around the schema is refused on read with the target named", func(t *testing.T, s *Store) {
			drop := map[string]string{
				"sqlite":   "DROP TRIGGER targets_profile_insert",
				"postgres": "ALTER TABLE targets DROP CONSTRAINT targets_profile_twelve_months",
			}[s.d.name]
			if _, err := s.db.ExecContext(ctx, drop); err != nil {
				t.Fatal(err)
			}
			if _, err := s.db.ExecContext(ctx, s.rebind(insert), "[5,5,5,5,5,5,5,5,5,5,5]"); err != nil {
				t.Fatal(err)
			}
			_, err := s.Targets(ctx, 2026)
			if err == nil || !strings.Contains(err.Error(), "kube_jasa 31 2026: monthly profile has 11 values, want 12") {
				t.Errorf("Targets: err = %v, want the eleven-value profile of kube_jasa 31 2026 named", err)
			}
		}},
	})
	t.Run("migrating a store that holds a bad profile fails and keeps the row", func(t *testing.T) {
		for _, driver := range drivers {
			t.Run(driver, func(t *testing.T) {
				s := openEmpty(t, driver)
				p, err := s.provider()
				if err != nil {
					t.Fatal(err)
				}
				if _, err := p.UpTo(ctx, 3); err != nil {
					t.Fatal(err)
				}
				if _, err := s.db.ExecContext(ctx, s.rebind(insert), "[5,5]"); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Migrate(ctx); err == nil {
					t.Error("Migrate succeeded over a profile of two values")
				}
				var n int
				if err := s.db.GetContext(ctx, &n, "SELECT COUNT(*) FROM targets"); err != nil || n != 1 {
					t.Errorf("%d targets after the failed migration (%v), want the 1 row kept", n, err)
				}
			})
		}
	})
}
