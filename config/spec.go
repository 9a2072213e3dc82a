package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	// The spec's timezone is loaded by name; embedding the tz database makes
	// that work on machines (and containers) without /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/sqlcheck"
)

// Defaults applied when the spec leaves a setting out.
const (
	DefaultTimezone      = "Asia/Jakarta"
	DefaultRefresh       = 5 * time.Minute
	MinRefresh           = time.Second
	DefaultTimeout       = 30 * time.Second
	DefaultMaxConcurrent = 4
	DefaultLevel         = kpi.LevelKecamatan
	// DefaultRecheckClosed: late rows for a closed month mostly arrive in
	// the days after it ends; reading the year's closed months again once
	// an hour shows them within the hour at a twelfth of the cost of
	// rereading them on every 5-minute refresh.
	DefaultRecheckClosed = time.Hour
)

// How a source's current month is chosen.
const (
	// CurrentMonthCalendar: the month of the refresh instant in the spec's
	// timezone. The default.
	CurrentMonthCalendar = "calendar"
	// CurrentMonthLatestData: for sources that lag, the latest month that
	// has data.
	CurrentMonthLatestData = "latest_data"
)

// Spec is a parsed, validated KPI spec with defaults applied.
type Spec struct {
	// File is the name the spec was loaded from, as given to Load or Parse.
	File string
	// Location is the timezone periods are calendar months in.
	Location *time.Location
	// Refresh is how often the collector runs every query.
	Refresh time.Duration
	// Sources by name; SourceNames lists the same names in file order.
	Sources     map[string]Source
	SourceNames []string
	// KPIs in file order.
	KPIs []KPI
	// Alerts configures the Prometheus rules pantau rules generates.
	Alerts Alerts
	// Exposure is the spec-wide exposure: DefaultExposure with the
	// top-level exposure: applied. Each KPI's own is in KPI.Exposure.
	Exposure Exposure
	// Warnings are likely mistakes that do not stop the spec from loading
	// (a query that never uses :period_end), sorted by position; pantau
	// check prints them and serve logs them.
	Warnings Errors
}

// Source is a database the KPI queries run against.
type Source struct {
	Name   string
	Driver string // sqlcheck.DriverPostgres, sqlcheck.DriverMySQL or sqlcheck.DriverSQLite
	// DSNEnv names the environment variable holding the connection string:
	// secrets never live in the spec file.
	DSNEnv string
	// Timeout bounds each query.
	Timeout time.Duration
	// MaxConcurrent bounds how many of this source's queries run at once.
	MaxConcurrent int
	// CurrentMonth is CurrentMonthCalendar or CurrentMonthLatestData.
	CurrentMonth string
	// RecheckClosed is how often the current year's closed months are
	// queried again for rows that arrived late; in between, each refresh
	// queries only the open month. A latest_data source also looks for a
	// newer month with data at this cadence.
	RecheckClosed time.Duration
	// Line is where the source is defined in the spec file.
	Line int
}

// DSN returns the connection string from the environment.
func (s Source) DSN() (string, error) {
	v, ok := os.LookupEnv(s.DSNEnv)
	switch {
	case !ok:
		return "", fmt.Errorf("source %s: environment variable %s is not set; export it with the connection string, like %s=%s",
			s.Name, s.DSNEnv, s.DSNEnv, dsnExample(s.Driver))
	case v == "":
		return "", fmt.Errorf("source %s: environment variable %s is empty; set it to the connection string, like %s=%s",
			s.Name, s.DSNEnv, s.DSNEnv, dsnExample(s.Driver))
	}
	return v, nil
}

func dsnExample(driver string) string {
	switch driver {
	case sqlcheck.DriverMySQL:
		return "'pantau:secret@tcp(db.example:3306)/dinsos'"
	case sqlcheck.DriverSQLite:
		return "'file:/var/lib/dinsos/dinsos.db?mode=ro'"
	default:
		return "'postgres://pantau:secret@db.example:5432/dinsos?sslmode=require'"
	}
}

// KPI is one indicator: its domain definition plus where its data comes from.
type KPI struct {
	kpi.KPI
	// Source names an entry of Spec.Sources.
	Source string
	// Query is SQL returning one row per region at KPI.Level: columns
	// region_code and value for counts, region_code, numerator and
	// denominator for rates. It may use the named parameters of
	// sqlcheck.ParamNames.
	Query string
	// GroupBy says whether the query has a GROUP BY: without one, a query
	// over raw rows returns a row per record, not per region.
	GroupBy bool
	// Exposure is which of the KPI's series go to Prometheus: the spec's
	// exposure with the KPI's own exposure: applied.
	Exposure Exposure
	// Line is where the KPI is defined in the spec file.
	Line int
}

// KPIIDs returns the KPI ids, in file order.
func (s *Spec) KPIIDs() []string {
	out := make([]string, len(s.KPIs))
	for i, k := range s.KPIs {
		out[i] = k.ID
	}
	return out
}

// Definitions returns the domain definitions of every KPI, in file order.
func (s *Spec) Definitions() []kpi.KPI {
	out := make([]kpi.KPI, len(s.KPIs))
	for i, k := range s.KPIs {
		out[i] = k.KPI
	}
	return out
}

// KPI returns the KPI with the given id.
func (s *Spec) KPI(id string) (KPI, bool) {
	for _, k := range s.KPIs {
		if k.ID == id {
			return k, true
		}
	}
	return KPI{}, false
}

// Load reads and parses the spec at path. Any error is of type Errors.
func Load(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		msg := err.Error()
		var pe *fs.PathError
		if errors.As(err, &pe) {
			msg = pe.Err.Error()
		}
		return nil, Errors{{File: path, Message: "cannot read the spec: " + msg}}
	}
	return Parse(path, data)
}

// Parse parses and validates a spec; filename is used in messages. It
// reports every problem it finds, as Errors sorted by position.
func Parse(filename string, data []byte) (spec *Spec, err error) {
	defer func() {
		// The YAML parser has panicked on malformed input before; a spec
		// must never take the process down.
		if r := recover(); r != nil {
			spec = nil
			err = Errors{{File: filename, Message: fmt.Sprintf("cannot parse the file as YAML (%v); check it with a YAML linter", r)}}
		}
	}()
	d := &decoder{file: filename, lines: bytes.Split(data, []byte("\n"))}
	spec = d.decode(data)
	if len(d.errs) > 0 {
		d.errs.sort()
		return nil, d.errs.dedupe()
	}
	d.warns.sort()
	spec.Warnings = d.warns.dedupe()
	return spec, nil
}
