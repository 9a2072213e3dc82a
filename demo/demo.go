package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"strings"
	"time"

	_ "modernc.org/sqlite" // driver "sqlite"

	"github.com/pantau-id/pantau/examples"
	"github.com/pantau-id/pantau/kpi"
)

// Options say what data to make.
type Options struct {
	// Seed picks one of many equally plausible data sets; the same Options
	// always give the same data.
	Seed uint64
	// Scale sizes the household tables (Sembako, PKH, graduations): 1 is
	// the default, about 13 Sembako households per kecamatan; 0 means 1.
	// e-Warong and KUBE keep their real-world counts at any Scale.
	Scale float64
	// Now is the instant the data runs up to, taken in Asia/Jakarta: data
	// starts on 1 January of the year before and stops at Now's date. Only
	// the date counts, so any Now on the same day gives the same data.
	Now time.Time
	// Regions is the region hierarchy (wilayah.Load()); every kecamatan in
	// it gets data.
	Regions *kpi.Hierarchy
}

// MaxScale bounds Options.Scale: Scale 1 makes about 2.7 M rows a year and
// a half into the data, so MaxScale makes some 270 M.
const MaxScale = 100

// Info describes a generated database.
type Info struct {
	// Rows counts the rows of each table.
	Rows map[string]int64
	// Kecamatan is how many kecamatan have data.
	Kecamatan int
	// From and To are the first and last day of data, 'YYYY-MM-DD'.
	From, To string
}

// Tables lists the tables Generate fills, in schema order.
var Tables = []string{"ewarong", "kube", "sembako_alokasi", "pkh_tahap", "pkh_graduasi"}

// String summarises the database in one line, tables in schema order.
func (i Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d kecamatan, %s to %s:", i.Kecamatan, i.From, i.To)
	for n, t := range Tables {
		if n > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, " %s %d", t, i.Rows[t])
	}
	return b.String()
}

func (o Options) normalise() (Options, error) {
	switch {
	case o.Regions == nil:
		return o, errors.New("demo: Options.Regions is nil; pass the region master (wilayah.Load())")
	case o.Now.IsZero():
		return o, errors.New("demo: Options.Now is zero; pass the instant the data should run up to")
	case math.IsNaN(o.Scale) || math.IsInf(o.Scale, 0) || o.Scale < 0:
		return o, fmt.Errorf("demo: scale %v must be a number > 0", o.Scale)
	case o.Scale > MaxScale:
		return o, fmt.Errorf("demo: scale %v is more than %v (about %d M rows)", o.Scale, MaxScale, MaxScale*27/10)
	case o.Scale == 0:
		o.Scale = 1
	}
	if y := o.Now.In(kpi.WIB).Year(); y < 1901 || y > 9998 {
		return o, fmt.Errorf("demo: year %d of Options.Now out of range", y)
	}
	return o, nil
}

// Generate creates an SQLite database at path with the schema of
// examples.DinsosSchema and fills it with synthetic data for every kecamatan
// of opts.Regions, from 1 January of the year before opts.Now up to Now's
// date in Asia/Jakarta. An existing file at path is replaced atomically: the
// database is built in path+".tmp" and renamed over path once complete, so
// a reader sees the old file or the new one, never half of one, and a failed
// run leaves the old file alone.
func Generate(ctx context.Context, path string, opts Options) (info Info, err error) {
	opts, err = opts.normalise()
	if err != nil {
		return Info{}, err
	}
	m, err := newModel(opts)
	if err != nil {
		return Info{}, fmt.Errorf("demo: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Info{}, fmt.Errorf("demo: %w", err)
	}
	defer func() {
		if err != nil {
			os.Remove(tmp)
			err = fmt.Errorf("demo: %s: %w", path, err)
		}
	}()
	w, err := fill(ctx, tmp, m)
	if err != nil {
		return Info{}, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return Info{}, err
	}
	info = Info{
		Rows:      map[string]int64{},
		Kecamatan: len(m.kecs),
		From:      m.cal.days[0].(string),
		To:        m.cal.days[m.cal.today].(string),
	}
	for _, t := range w.tables() {
		info.Rows[t.name] = t.rows
	}
	return info, nil
}

// fill builds the database at path.
func fill(ctx context.Context, path string, m *model) (w *writer, err error) {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}()
	// One connection, so the pragmas hold for every statement. The file
	// is thrown away on failure, so it needs no journal and no fsync.
	db.SetMaxOpenConns(1)
	for _, p := range []string{
		"PRAGMA journal_mode = OFF",
		"PRAGMA synchronous = OFF",
		"PRAGMA locking_mode = EXCLUSIVE",
		"PRAGMA temp_store = MEMORY",
		"PRAGMA cache_size = -65536", // 64 MiB
	} {
		if _, err := db.ExecContext(ctx, p); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if _, err := tx.ExecContext(ctx, examples.DinsosSchema); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	w = newWriter(ctx, tx)
	if err := m.write(ctx, w); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return w, nil
}

// write writes every row up to Now's date. The big tables go month by
// month, kecamatan by kecamatan, household by household: the order of their
// ids and of their (periode, kode_kecamatan) index, so SQLite only ever
// appends to both and the schema's indexes can exist from the start.
func (m *model) write(ctx context.Context, w *writer) error {
	c := m.cal
	hs := make([]households, len(m.kecs))
	for i, k := range m.kecs {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		hs[i] = m.households(k)
		m.writeSmall(k, hs[i], w)
		if w.err != nil {
			return w.err
		}
	}
	var s scratch
	for mi := 0; mi <= c.curMonth; mi++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		for i, k := range m.kecs {
			m.sembako(mi, k, hs[i], &s, w)
		}
		if w.err != nil {
			return w.err
		}
	}
	for mi := 0; mi <= c.curMonth; mi += 3 {
		if err := ctx.Err(); err != nil {
			return err
		}
		for i, k := range m.kecs {
			m.pkh(mi, k, hs[i], &s, w)
		}
		if w.err != nil {
			return w.err
		}
	}
	return w.close()
}

// writeSmall writes the small tables of one kecamatan: e-Warong, KUBE and
// PKH graduations.
func (m *model) writeSmall(k kecamatan, h households, w *writer) {
	c := m.cal
	for i, e := range m.ewarongs(k) {
		if e.open > c.today {
			break // ordered by opening
		}
		status, tutup := "aktif", any(nil)
		if e.closed && e.close <= c.today {
			status, tutup = "tutup", c.date(e.close)
		}
		w.ewarong.row(k.num*10_000+int64(i+1), k.kode, e.name, status, c.date(e.open), tutup)
	}
	for i, g := range m.kubes(k) {
		if g.day > c.today {
			break
		}
		nama := fmt.Sprintf("KUBE %s %s %d", kubeTitle[g.jenis], k.name, i+1)
		w.kube.row(k.num*10_000+int64(i+1), k.kode, nama, g.jenis, c.days[g.day])
	}
	// Graduates come from the kecamatan's PKH households, in turn.
	for i, day := range m.graduations(k) {
		if day > c.today {
			break
		}
		w.graduasi.row(k.num*1_000_000+int64(i+1), h.cards[i%h.pkh], k.kode, c.days[day])
	}
}

var kubeTitle = map[string]string{"jasa": "Jasa", "perdagangan": "Perdagangan", "produksi": "Produksi"}

// writer batches rows into multi-row INSERTs, one per table.
type writer struct {
	ctx                                   context.Context
	tx                                    *sql.Tx
	err                                   error
	ewarong, kube, sembako, pkh, graduasi *table
}

// insertBatch is the rows per INSERT statement; SQLite allows 32,766
// parameters a statement.
const insertBatch = 256

func newWriter(ctx context.Context, tx *sql.Tx) *writer {
	w := &writer{ctx: ctx, tx: tx}
	t := func(name string, cols ...string) *table {
		return &table{w: w, name: name, cols: cols, args: make([]any, 0, insertBatch*len(cols))}
	}
	w.ewarong = t("ewarong", "id", "kode_kecamatan", "nama", "status", "tanggal_aktif", "tanggal_tutup")
	w.kube = t("kube", "id", "kode_kecamatan", "nama", "jenis", "tanggal_bentuk")
	w.sembako = t("sembako_alokasi", "id", "no_kk", "kode_kecamatan", "periode", "nominal", "tanggal_salur")
	w.pkh = t("pkh_tahap", "id", "no_kk", "kode_kecamatan", "tahun", "tahap", "periode", "nominal", "tanggal_salur")
	w.graduasi = t("pkh_graduasi", "id", "no_kk", "kode_kecamatan", "tanggal_graduasi")
	return w
}

func (w *writer) tables() []*table {
	return []*table{w.ewarong, w.kube, w.sembako, w.pkh, w.graduasi}
}

// close writes the last partial batches and releases the statements.
func (w *writer) close() error {
	for _, t := range w.tables() {
		t.flush()
		if t.stmt != nil {
			if err := t.stmt.Close(); err != nil && w.err == nil {
				w.err = err
			}
		}
	}
	return w.err
}

type table struct {
	w    *writer
	name string
	cols []string
	args []any
	rows int64
	stmt *sql.Stmt // INSERT of insertBatch rows
}

// row adds one row, its values in column order.
func (t *table) row(values ...any) {
	t.args = append(t.args, values...)
	if len(t.args) == insertBatch*len(t.cols) {
		t.flush()
	}
}

func (t *table) insert(rows int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", t.name, strings.Join(t.cols, ", "))
	tuple := "(?" + strings.Repeat(", ?", len(t.cols)-1) + ")"
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
	}
	return b.String()
}

func (t *table) flush() {
	w := t.w
	rows := len(t.args) / len(t.cols)
	if rows == 0 || w.err != nil {
		t.args = t.args[:0]
		return
	}
	var err error
	if rows == insertBatch {
		if t.stmt == nil {
			t.stmt, err = w.tx.PrepareContext(w.ctx, t.insert(rows))
		}
		if err == nil {
			_, err = t.stmt.ExecContext(w.ctx, t.args...)
		}
	} else {
		_, err = w.tx.ExecContext(w.ctx, t.insert(rows), t.args...)
	}
	if err != nil {
		w.err = fmt.Errorf("insert into %s: %w", t.name, err)
	}
	t.rows += int64(rows)
	clear(t.args)
	t.args = t.args[:0]
}
