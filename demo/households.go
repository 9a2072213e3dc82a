package demo

import (
	"fmt"
	"math/rand/v2"
)

// familyCards returns n family card numbers (no_kk) of a kecamatan, boxed for
// binding: the kecamatan's six digits, a ddmmyy issue date and a serial, like
// real Kartu Keluarga numbers.
func (m *model) familyCards(k kecamatan, n int) []any {
	r := newRand(m.seed, k.code, "no_kk")
	out := make([]any, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d%02d%02d%04d", k.digits,
			1+r.IntN(28), 1+r.IntN(12), r.IntN(24), 1+i%9999)
	}
	return out
}

// batchDays spreads nb batch days evenly over days first..last of a month,
// each somewhere in its share, in order.
func batchDays(r *rand.Rand, nb, first, last int, out []int) []int {
	out = out[:0]
	span := float64(last - first + 1)
	for i := range nb {
		d := first + int((float64(i)+uniform(r, 0.15, 0.85))*span/float64(nb))
		out = append(out, min(d, last))
	}
	return out
}

// households is what the household tables of one kecamatan need from month
// to month.
type households struct {
	sembako, pkh int   // households on each programme
	cards        []any // family card numbers, max(sembako, pkh) of them
	pkhNominal   []any // each PKH household's payment per stage (int64)
}

func (m *model) households(k kecamatan) households {
	h := households{sembako: m.count(k.sembakoReal()), pkh: m.count(k.pkhReal())}
	h.cards = m.familyCards(k, max(h.sembako, h.pkh))
	r := newRand(m.seed, k.code, "pkh")
	h.pkhNominal = make([]any, h.pkh)
	for i := range h.pkhNominal {
		h.pkhNominal[i] = pkhNominal[r.IntN(len(pkhNominal))]
	}
	return h
}

// scratch is reused from kecamatan to kecamatan.
type scratch struct {
	paid    []bool
	order   []int
	batches []int
}

// choosePaid marks d of n households as paid, at random.
func (s *scratch) choosePaid(r *rand.Rand, n, d int) {
	s.paid = s.paid[:0]
	s.order = s.order[:0]
	for i := range n {
		s.paid = append(s.paid, true)
		s.order = append(s.order, i)
	}
	// A partial Fisher-Yates shuffle picks the n-d who are not paid.
	for i := range n - d {
		j := i + r.IntN(n-i)
		s.order[i], s.order[j] = s.order[j], s.order[i]
		s.paid[s.order[i]] = false
	}
}

// paidCount is how many of n households a rate pays: n × rate, rounded up
// with probability equal to its fraction.
func paidCount(n int, rate, u float64) int {
	d := int(float64(n) * rate)
	if u < float64(n)*rate-float64(d) {
		d++
	}
	return d
}

// rowID numbers a household's row of a month: yyyymm, the kecamatan's six
// digits, the household. Rows written month by month, kecamatan by
// kecamatan get increasing ids, and a row's id depends on nothing else.
func rowID(mo monthInfo, k kecamatan, i int) int64 {
	return (int64(mo.year)*100+int64(mo.month))*1_000_000_000_000 + k.num*1_000_000 + int64(i+1)
}

// sembako writes a kecamatan's Sembako allocations of month mi, one row per
// household.
func (m *model) sembako(mi int, k kecamatan, h households, s *scratch, w *writer) {
	c := m.cal
	mo := c.months[mi]
	r := newRand(m.seed, k.code, "sembako", mo.periode.(string))
	n := h.sembako
	rate := min(0.99, max(0.85, m.sembakoBase[k.regency]+k.sembakoOffset+uniform(r, -0.02, 0.02)))
	lagRate, u := uniform(r, 0.60, 0.80), r.Float64()
	if stallFrom, stalls := m.stallFrom[k.regency]; stalls && mi >= stallFrom {
		rate = 0
	} else if m.sembakoLag[k.regency] {
		rate = lagRate
	}
	s.choosePaid(r, n, paidCount(n, rate, u))
	// Batches on 3 to 5 days spread over the month, ending a few days
	// before it does, so the share distributed builds up day by day.
	s.batches = batchDays(r, 3+r.IntN(3), 1, mo.days-3, s.batches)
	for i, card := range h.cards[:n] {
		b := s.batches[r.IntN(len(s.batches))]
		var salur any
		if day := mo.start + b - 1; s.paid[i] && day <= c.today {
			salur = c.days[day]
		}
		w.sembako.row(rowID(mo, k, i), card, k.kode, mo.periode, int64(sembakoNominal), salur)
	}
}

// PKH components paid per stage, in rupiah (a household's largest one).
var pkhNominal = []int64{225000, 375000, 500000, 600000, 750000}

// pkh writes a kecamatan's PKH stage that starts in month mi (January,
// April, July or October).
func (m *model) pkh(mi int, k kecamatan, h households, s *scratch, w *writer) {
	c := m.cal
	mo := c.months[mi]
	r := newRand(m.seed, k.code, "pkh", mo.periode.(string))
	n := h.pkh
	rate, lagRate, u := uniform(r, 0.90, 0.99), uniform(r, 0.70, 0.85), r.Float64()
	if m.pkhLag[k.regency] {
		rate = lagRate
	}
	s.choosePaid(r, n, paidCount(n, rate, u))
	s.batches = batchDays(r, 2+r.IntN(2), 2, mo.days-4, s.batches)
	tahun, tahap := int64(mo.year), int64(mo.month-1)/3+1
	for i, card := range h.cards[:n] {
		b := s.batches[r.IntN(len(s.batches))]
		var salur any
		if day := mo.start + b - 1; s.paid[i] && day <= c.today {
			salur = c.days[day]
		}
		w.pkh.row(rowID(mo, k, i), card, k.kode, tahun, tahap, mo.periode, h.pkhNominal[i], salur)
	}
}
