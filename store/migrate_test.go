package store

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	const latest = 5
	tests := []struct {
		name string
		run  func(t *testing.T, s *Store)
	}{
		{"migrations from an empty database reach the latest version", func(t *testing.T, s *Store) {
			cur, lat, err := s.Version(ctx)
			if err != nil || cur != 0 || lat != latest {
				t.Fatalf("Version before = %d, %d, %v; want 0, %d", cur, lat, err, latest)
			}
			applied, err := s.Migrate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want := []int64{1, 2, 3, 4, 5}; !slices.Equal(applied, want) {
				t.Errorf("applied %v, want %v", applied, want)
			}
			cur, lat, err = s.Version(ctx)
			if err != nil || cur != latest || lat != latest {
				t.Fatalf("Version after = %d, %d, %v; want %d, %d", cur, lat, err, latest, latest)
			}
		}},
		{"running Migrate twice applies nothing the second time", func(t *testing.T, s *Store) {
			if _, err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			applied, err := s.Migrate(ctx)
			if err != nil || len(applied) != 0 {
				t.Fatalf("second Migrate = %v, %v; want nothing", applied, err)
			}
		}},
		{"a database stamped with a future version is refused with a clear message", func(t *testing.T, s *Store) {
			if _, err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := s.db.ExecContext(ctx, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (999, TRUE)"); err != nil {
				t.Fatal(err)
			}
			_, err := s.Migrate(ctx)
			want := "store: database is at migration 999 but this pantau knows only up to 5; upgrade pantau or use the matching version"
			if err == nil || err.Error() != want {
				t.Fatalf("Migrate error = %v\nwant %s", err, want)
			}
			if !errors.Is(err, ErrSchemaTooNew) {
				t.Errorf("errors.Is(err, ErrSchemaTooNew) = false")
			}
			var tooNew *SchemaTooNewError
			if !errors.As(err, &tooNew) || tooNew.Current != 999 || tooNew.Latest != latest {
				t.Errorf("error = %#v", err)
			}
			cur, lat, err := s.Version(ctx)
			if err != nil || cur != 999 || lat != latest {
				t.Errorf("Version = %d, %d, %v; want 999, %d", cur, lat, err, latest)
			}
		}},
		{"every migration goes down and up again", func(t *testing.T, s *Store) {
			if _, err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			p, err := s.provider()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.DownTo(ctx, 0); err != nil {
				t.Fatalf("down: %v", err)
			}
			if cur, _, err := s.Version(ctx); err != nil || cur != 0 {
				t.Fatalf("Version after down = %d, %v", cur, err)
			}
			if applied, err := s.Migrate(ctx); err != nil || len(applied) != latest {
				t.Fatalf("up again = %v, %v", applied, err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, driver := range drivers {
				t.Run(driver, func(t *testing.T) { tc.run(t, openEmpty(t, driver)) })
			}
		})
	}

	t.Run("OpenAndMigrate refuses a database from a newer pantau", func(t *testing.T) {
		for _, driver := range drivers {
			t.Run(driver, func(t *testing.T) {
				dsn := testDSN(t, driver)
				s, err := OpenAndMigrate(ctx, driver, dsn)
				if err != nil {
					t.Fatal(err)
				}
				_, err = s.db.ExecContext(ctx, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (7, TRUE)")
				s.Close()
				if err != nil {
					t.Fatal(err)
				}
				s, err = OpenAndMigrate(ctx, driver, dsn)
				if err == nil {
					s.Close()
				}
				if !errors.Is(err, ErrSchemaTooNew) {
					t.Fatalf("OpenAndMigrate = %v, want ErrSchemaTooNew", err)
				}
			})
		}
	})
}
