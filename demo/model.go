package demo

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pantau-id/pantau/kpi"
)

// Real-world sizes the demo scales from (docs/design.md, Scale).
const (
	// householdScale is the share of real households the demo keeps at
	// Scale 1.
	householdScale = 0.005
	// sembakoPerKecamatan: 18.8 M Sembako KPM over 7,285 kecamatan.
	sembakoPerKecamatan = 2580
	// pkhPerKecamatan: 10 M PKH KPM over 7,285 kecamatan.
	pkhPerKecamatan = 1373
	// Kota Bekasi: 40,618 PKH KPM in 12 kecamatan, 4,618 ready to graduate.
	bekasiCode      = "32.75"
	bekasiPKH       = 40618
	bekasiKecamatan = 12
	bekasiGraduate  = 4618
	// DKI Jakarta, whose 2017 e-Warong and KUBE Jasa targets are the story.
	dkiCode = "31"
	// sembakoNominal is the monthly Sembako aid in rupiah.
	sembakoNominal = 200000
)

// dkiKubeProfile is DKI Jakarta's monthly KUBE Jasa plan: 71 in a year.
var dkiKubeProfile = [12]float64{4, 5, 6, 6, 6, 6, 6, 6, 6, 7, 7, 6}

// dkiKubePace is the share of the plan DKI Jakarta actually forms.
const dkiKubePace = 0.9

// dkiEwarongOpen is how many e-Warong DKI Jakarta opens each month of Now's
// year: 27, from 40 on 1 January, so 67 by December against a target of 70.
var dkiEwarongOpen = [12]int{2, 2, 3, 2, 2, 2, 3, 2, 2, 3, 2, 2}

const (
	dkiEwarongBefore    = 33 // opened before last year
	dkiEwarongClosed    = 4  // of those, closed last year
	dkiEwarongLastYear  = 11 // opened last year: 33 − 4 + 11 = 40 on 1 January
	dkiEwarongTarget    = 70
	dkiKubeJasaTarget   = 71
	monthsInRange       = 24 // January of last year to December of Now's year
	firstMonthOfNowYear = 12 // month index of January of Now's year
)

// calendar maps days and months of the generated range to indices: day 0 is
// 1 January of the year before Now's year.
type calendar struct {
	base     time.Time // 1 January of last year, midnight WIB
	year     int       // Now's year
	today    int       // day index of Now's date
	curMonth int       // month index of Now's month
	nowYear  int       // day index of 1 January of Now's year
	end      int       // day index of 1 January after Now's year (exclusive)
	months   [monthsInRange]monthInfo
	days     []any // boxed 'YYYY-MM-DD' of day indices 0..end-1
}

type monthInfo struct {
	start, days int
	periode     any // boxed 'YYYY-MM-01'
	year        int
	month       time.Month
}

func newCalendar(now time.Time) *calendar {
	now = now.In(kpi.WIB)
	c := &calendar{year: now.Year()}
	c.base = time.Date(c.year-1, time.January, 1, 0, 0, 0, 0, kpi.WIB)
	day := func(t time.Time) int {
		// Whole days between civil dates; WIB has no daylight saving.
		return int(t.Sub(c.base).Hours()+0.5) / 24
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, kpi.WIB)
	c.today = day(today)
	c.curMonth = 12 + int(now.Month()) - 1
	c.nowYear = day(time.Date(c.year, time.January, 1, 0, 0, 0, 0, kpi.WIB))
	c.end = day(time.Date(c.year+1, time.January, 1, 0, 0, 0, 0, kpi.WIB))
	for i := range c.months {
		t := time.Date(c.year-1, time.Month(i+1), 1, 0, 0, 0, 0, kpi.WIB)
		p := kpi.NewPeriod(t.Year(), t.Month(), kpi.WIB)
		c.months[i] = monthInfo{
			start:   day(t),
			days:    p.Days(),
			periode: t.Format(time.DateOnly),
			year:    t.Year(),
			month:   t.Month(),
		}
	}
	c.days = make([]any, c.end)
	for d := range c.days {
		c.days[d] = c.base.AddDate(0, 0, d).Format(time.DateOnly)
	}
	return c
}

// date returns day index d as a boxed 'YYYY-MM-DD'; d may lie before the
// range (e-Warong opened years ago).
func (c *calendar) date(d int) any {
	if d >= 0 && d < len(c.days) {
		return c.days[d]
	}
	return c.base.AddDate(0, 0, d).Format(time.DateOnly)
}

// streams: every random choice is drawn from a PCG stream keyed by the seed
// and the parts (region code, what is drawn), never from a shared one.
func newRand(seed uint64, parts ...string) *rand.Rand {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	k := h.Sum64()
	return rand.New(rand.NewPCG(mix64(seed^k), mix64(k+0x9e3779b97f4a7c15)))
}

// mix64 is the splitmix64 finaliser.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// sampler turns an expected count per step into whole counts whose running
// total never strays more than one from the expectation (systematic
// sampling), so a kecamatan that expects 0.9 e-Warong a year opens one in
// most years and a province's year total is close to its plan.
type sampler struct{ acc float64 }

func newSampler(r *rand.Rand) sampler { return sampler{acc: r.Float64()} }

func (s *sampler) next(expected float64) int {
	before := math.Floor(s.acc)
	s.acc += expected
	return int(math.Floor(s.acc) - before)
}

func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// kecamatan is one kecamatan and what its data depends on.
type kecamatan struct {
	code, name string
	kode       any // code, boxed once for binding
	regency    string
	province   string
	num        int64  // 32.16.06 → 321606, the prefix of row ids
	digits     string // "321606", the prefix of a family card number
	urban      bool   // in a kota rather than a kabupaten
	size       float64

	// sembakoOffset shifts the kabupaten's usual Sembako rate.
	sembakoOffset float64
}

func newKecamatan(seed uint64, r kpi.Region) (kecamatan, error) {
	digits := strings.ReplaceAll(r.Code, ".", "")
	num, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || len(digits) != 6 {
		return kecamatan{}, fmt.Errorf("kecamatan code %q is not like 32.16.06", r.Code)
	}
	regency := r.RegencyCode()
	k := kecamatan{
		code:     r.Code,
		kode:     r.Code,
		name:     r.Name,
		regency:  regency,
		province: r.ProvinceCode(),
		num:      num,
		digits:   digits,
		// Kepmendagri numbers kota from 71 within a province.
		urban: len(regency) == 5 && regency[3:] >= "71",
	}
	// Kecamatan differ in size: a lognormal factor with mean 1, kept
	// within 0.5..2.
	g := newRand(seed, r.Code, "kecamatan")
	k.size = min(2, max(0.5, math.Exp(0.35*g.NormFloat64()-0.35*0.35/2)))
	k.sembakoOffset = uniform(g, -0.03, 0.03)
	return k, nil
}

// count is how many households the demo keeps of a real-world count.
func (m *model) count(real float64) int {
	return max(1, int(math.Round(real*householdScale*m.scale)))
}

func (k kecamatan) sembakoReal() float64 { return sembakoPerKecamatan * k.size }

func (k kecamatan) pkhReal() float64 {
	if k.regency == bekasiCode {
		return bekasiPKH / bekasiKecamatan
	}
	return pkhPerKecamatan * k.size
}

// model holds what the data of all kecamatan depends on.
type model struct {
	seed  uint64
	scale float64
	cal   *calendar
	kecs  []kecamatan

	// Per kabupaten/kota.
	sembakoBase map[string]float64 // usual share of Sembako distributed
	sembakoLag  map[string]bool    // distributes 60-80 %
	stallFrom   map[string]int     // stops distributing Sembako from this month index
	pkhLag      map[string]bool    // pays 70-85 % of a PKH stage
	gradRate    map[string]float64 // share of PKH households graduating a year

	// DKI Jakarta's province-wide schedules, by kecamatan.
	dkiEwarong map[string][]ewarongRow
	dkiKube    map[string][]kubeRow
}

func newModel(opts Options) (*model, error) {
	m := &model{
		seed:        opts.Seed,
		scale:       opts.Scale,
		cal:         newCalendar(opts.Now),
		sembakoBase: map[string]float64{},
		sembakoLag:  map[string]bool{},
		stallFrom:   map[string]int{},
		pkhLag:      map[string]bool{},
		gradRate:    map[string]float64{},
	}
	var regencies []string
	for _, r := range opts.Regions.Regions() {
		switch r.Level {
		case kpi.LevelKabupatenKota:
			regencies = append(regencies, r.Code)
			g := newRand(m.seed, r.Code, "regency")
			m.sembakoBase[r.Code] = uniform(g, 0.88, 0.97)
			m.gradRate[r.Code] = uniform(g, 0.05, 0.12)
			if r.Code == bekasiCode {
				m.gradRate[r.Code] = float64(bekasiGraduate) / bekasiPKH
			}
		case kpi.LevelKecamatan:
			k, err := newKecamatan(m.seed, r)
			if err != nil {
				return nil, err
			}
			m.kecs = append(m.kecs, k)
		}
	}
	m.pickMisbehaving(regencies)
	m.scheduleDKI()
	return m, nil
}

// pickMisbehaving chooses the kabupaten/kota that lag or stall: those whose
// keys, drawn from their own streams, are the smallest in the hierarchy.
func (m *model) pickMisbehaving(regencies []string) {
	n := len(regencies)
	if n == 0 {
		return
	}
	rank := func(label string) []string {
		type keyed struct {
			code string
			key  uint64
		}
		ks := make([]keyed, n)
		for i, c := range regencies {
			ks[i] = keyed{c, newRand(m.seed, c, label).Uint64()}
		}
		slices.SortFunc(ks, func(a, b keyed) int {
			return cmp.Or(cmp.Compare(a.key, b.key), strings.Compare(a.code, b.code))
		})
		out := make([]string, n)
		for i, k := range ks {
			out[i] = k.code
		}
		return out
	}
	stalled := min(2, max(1, n/200))
	lagging := max(1, int(math.Round(float64(n)*0.015)))
	sembako := rank("sembako-role")
	for i, c := range sembako {
		switch {
		case i < stalled:
			// Stops two to four months before Now's month, and stays stopped.
			back := 2 + newRand(m.seed, c, "stall").IntN(3)
			m.stallFrom[c] = max(0, m.cal.curMonth-back)
		case i < stalled+lagging:
			m.sembakoLag[c] = true
		}
	}
	for i, c := range rank("pkh-role") {
		if i < max(1, int(math.Round(float64(n)*0.01))) {
			m.pkhLag[c] = true
		}
	}
}

type ewarongRow struct {
	open   int // day index; negative before the range
	close  int // day index of tanggal_tutup; valid when closed
	closed bool
	name   string
}

type kubeRow struct {
	day   int
	jenis string
}

// active reports whether e is active on day d: opened before d and not
// closed by d, as the ewarong_aktif query counts.
func (e ewarongRow) active(d int) bool { return e.open < d && (!e.closed || e.close >= d) }

var ewarongNames = []string{
	"Melati", "Mawar", "Anggrek", "Kenanga", "Cempaka", "Dahlia", "Teratai",
	"Sejahtera", "Mandiri", "Berkah", "Makmur", "Sentosa", "Harapan", "Bersama",
	"Maju Jaya", "Sumber Rezeki", "Barokah", "Gotong Royong",
}

func ewarongName(r *rand.Rand, kec string) string {
	return "e-Warong KUBE " + ewarongNames[r.IntN(len(ewarongNames))] + " " + kec
}

// scheduleDKI hands DKI Jakarta's province-wide e-Warong and KUBE Jasa out
// to its kecamatan.
func (m *model) scheduleDKI() {
	var kecs []kecamatan
	for _, k := range m.kecs {
		if k.province == dkiCode {
			kecs = append(kecs, k)
		}
	}
	if len(kecs) == 0 {
		return
	}
	m.dkiEwarong = map[string][]ewarongRow{}
	m.dkiKube = map[string][]kubeRow{}
	c := m.cal
	r := newRand(m.seed, dkiCode, "ewarong")
	lastYear := c.nowYear // days in last year
	// The first rows go one to each kecamatan, so every one has a row.
	perm := r.Perm(len(kecs))
	i := 0
	add := func(k kecamatan, e ewarongRow) {
		e.name = ewarongName(r, k.name)
		m.dkiEwarong[k.code] = append(m.dkiEwarong[k.code], e)
	}
	for j := range dkiEwarongBefore {
		e := ewarongRow{open: -(30 + r.IntN(4*365))}
		if j < dkiEwarongClosed {
			e.close, e.closed = r.IntN(lastYear), true
		}
		add(kecs[perm[i%len(kecs)]], e)
		i++
	}
	for range dkiEwarongLastYear {
		add(kecs[perm[i%len(kecs)]], ewarongRow{open: r.IntN(lastYear)})
		i++
	}
	for j, n := range dkiEwarongOpen {
		mo := c.months[firstMonthOfNowYear+j]
		for range n {
			add(kecs[r.IntN(len(kecs))], ewarongRow{open: mo.start + r.IntN(mo.days)})
		}
	}

	r = newRand(m.seed, dkiCode, "kube")
	s := newSampler(r)
	for mi, mo := range c.months {
		for range s.next(dkiKubeProfile[mi%12] * dkiKubePace) {
			k := kecs[r.IntN(len(kecs))]
			m.dkiKube[k.code] = append(m.dkiKube[k.code], kubeRow{day: mo.start + r.IntN(mo.days), jenis: "jasa"})
		}
	}
}

// ewarongs returns every e-Warong of a kecamatan over the whole range
// (including days after Now, which Generate leaves out), ordered by opening.
func (m *model) ewarongs(k kecamatan) []ewarongRow {
	c := m.cal
	var out []ewarongRow
	if k.province == dkiCode {
		out = slices.Clone(m.dkiEwarong[k.code])
	} else {
		r := newRand(m.seed, k.code, "ewarong")
		// Active on 1 January of last year: 0-3 in a kabupaten, 1-4 in a kota.
		weights := []float64{0.25, 0.40, 0.25, 0.10}
		first := 0
		if k.urban {
			weights = []float64{0.20, 0.35, 0.30, 0.15}
			first = 1
		}
		n0 := first + pick(r, weights)
		for range n0 {
			e := ewarongRow{open: -(30 + r.IntN(4*365)), name: ewarongName(r, k.name)}
			if r.Float64() < 0.08 {
				e.close, e.closed = r.IntN(c.end), true
			}
			out = append(out, e)
		}
		if n0 == 0 {
			// One that closed last year: every kecamatan has a row.
			out = append(out, ewarongRow{
				open: -(200 + r.IntN(1200)), close: r.IntN(c.nowYear - 30), closed: true,
				name: ewarongName(r, k.name),
			})
		}
		perYear := 0.45
		if k.urban {
			perYear = 0.9
		}
		perYear *= uniform(r, 0.5, 1.5)
		s := newSampler(r)
		for _, mo := range c.months {
			for range s.next(perYear / 12) {
				e := ewarongRow{open: mo.start + r.IntN(mo.days), name: ewarongName(r, k.name)}
				if r.Float64() < 0.05 {
					e.close = e.open + 60 + r.IntN(730)
					e.closed = e.close < c.end
				}
				out = append(out, e)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b ewarongRow) int { return cmp.Compare(a.open, b.open) })
	return out
}

func pick(r *rand.Rand, weights []float64) int {
	u := r.Float64()
	for i, w := range weights {
		if u < w {
			return i
		}
		u -= w
	}
	return len(weights) - 1
}

var kubeJenis = []string{"jasa", "perdagangan", "produksi"}

// kubes returns every KUBE formed in a kecamatan over the whole range,
// ordered by day.
func (m *model) kubes(k kecamatan) []kubeRow {
	c := m.cal
	r := newRand(m.seed, k.code, "kube")
	perYear := [3]float64{0.8, 1.2, 1.0} // jasa, perdagangan, produksi
	if k.urban {
		perYear = [3]float64{1.5, 1.5, 0.5}
	}
	f := uniform(r, 0.5, 1.5)
	var samplers [3]sampler
	for j := range samplers {
		samplers[j] = newSampler(r)
	}
	var out []kubeRow
	for _, mo := range c.months {
		for j, jenis := range kubeJenis {
			n := samplers[j].next(perYear[j] * f / 12)
			if j == 0 && k.province == dkiCode {
				continue // DKI's KUBE Jasa follow the province's plan
			}
			for range n {
				out = append(out, kubeRow{day: mo.start + r.IntN(mo.days), jenis: jenis})
			}
		}
	}
	if k.province == dkiCode {
		out = append(out, m.dkiKube[k.code]...)
	}
	slices.SortStableFunc(out, func(a, b kubeRow) int { return cmp.Compare(a.day, b.day) })
	return out
}

// graduations returns the days PKH households of a kecamatan graduate over
// the whole range, in order.
func (m *model) graduations(k kecamatan) []int {
	c := m.cal
	r := newRand(m.seed, k.code, "graduasi")
	perMonth := k.pkhReal() * householdScale * m.scale * m.gradRate[k.regency] / 12
	s := newSampler(r)
	var out []int
	for _, mo := range c.months {
		for range s.next(perMonth) {
			out = append(out, mo.start+r.IntN(mo.days))
		}
	}
	slices.Sort(out)
	return out
}
