package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrations holds one directory per dialect, migrations/postgres and
// migrations/sqlite, with the same version numbers: the DDL differs
// (identity columns, triggers, WITHOUT ROWID) but the schema is the same.
//
//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrations embed.FS

// ErrSchemaTooNew reports a database migrated by a newer pantau than this
// one. The error returned is a *SchemaTooNewError.
var ErrSchemaTooNew = errors.New("store: database schema is newer than this pantau")

// SchemaTooNewError is returned by Migrate when the database has been
// migrated past the latest migration this binary knows.
type SchemaTooNewError struct {
	Current, Latest int64
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("store: database is at migration %d but this pantau knows only up to %d; upgrade pantau or use the matching version", e.Current, e.Latest)
}

// Is makes errors.Is(err, ErrSchemaTooNew) true.
func (e *SchemaTooNewError) Is(target error) bool { return target == ErrSchemaTooNew }

func (s *Store) provider() (*goose.Provider, error) {
	fsys, err := fs.Sub(migrations, s.d.dir)
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if s.d.goose == goose.DialectPostgres {
		// Replicas starting together migrate one at a time.
		l, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(l))
	}
	// The provider takes the writing pool: it creates goose's version table.
	return goose.NewProvider(s.d.goose, s.db.DB, fsys, opts...)
}

func latestVersion(p *goose.Provider) int64 {
	src := p.ListSources()
	return src[len(src)-1].Version // NewProvider refuses an empty set
}

// Version returns the database's migration version (0 when none has been
// applied) and the latest version this pantau knows. It creates goose's
// version table if the database has none.
func (s *Store) Version(ctx context.Context) (current, latest int64, err error) {
	p, err := s.provider()
	if err != nil {
		return 0, 0, fmt.Errorf("store: migrations: %w", err)
	}
	latest = latestVersion(p)
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, latest, fmt.Errorf("store: read migration version: %w", err)
	}
	return current, latest, nil
}

// Migrate applies the pending migrations in order and returns their
// versions; none pending returns none. A database at a version newer than
// this pantau's latest migration is refused with a *SchemaTooNewError.
func (s *Store) Migrate(ctx context.Context) (applied []int64, err error) {
	p, err := s.provider()
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	latest := latestVersion(p)
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: read migration version: %w", err)
	}
	if current > latest {
		return nil, &SchemaTooNewError{Current: current, Latest: latest}
	}
	results, err := p.Up(ctx)
	var partial *goose.PartialError
	if errors.As(err, &partial) {
		results = partial.Applied
	}
	for _, r := range results {
		applied = append(applied, r.Source.Version)
	}
	if err != nil {
		return applied, fmt.Errorf("store: migrate: %w", err)
	}
	return applied, nil
}
