package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	for _, tc := range []struct {
		name string
		ds   []time.Duration
		p    int
		want time.Duration
	}{
		{"no samples have no percentile", nil, 99, 0},
		{"the median of unsorted samples is the middle one", ms(5, 1, 3), 50, 3 * time.Millisecond},
		{"the 99th of 1 to 200 ms is 199 ms", ms(seq(200)...), 99, 199 * time.Millisecond},
		{"the 99th never runs past the last sample", ms(1, 2, 3, 4), 99, 4 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percentile(tc.ds, tc.p); got != tc.want {
				t.Errorf("Percentile(%v, %d) = %v, want %v", tc.ds, tc.p, got, tc.want)
			}
		})
	}
}

// seq is 1 to n.
func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func TestDriftsCompareTheSecondFifthWithTheLast(t *testing.T) {
	// Goroutines warm up in the first fifth (ignored), then hold at 10 and
	// end at 40: a leak the drift must show.
	var r Result
	for i := range 20 {
		v := 10.0
		switch {
		case i < 4:
			v = 100
		case i >= 16:
			v = 40
		}
		r.Samples = append(r.Samples, Sample{Values: map[string]float64{"go_goroutines": v}})
	}
	d := r.Drifts()
	if len(d) != 1 || d[0].Series != "go_goroutines" || d[0].Start != 10 || d[0].End != 40 {
		t.Errorf("Drifts() = %+v, want go_goroutines from 10 to 40", d)
	}
}

func TestSoakCountsServerErrorsAndPacesItsStreams(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/metrics":
			w.Write([]byte("go_goroutines 7\n"))
		case "/broken":
			http.Error(w, "boom", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	res := Soak{
		Duration: 500 * time.Millisecond, ScrapeEvery: 100 * time.Millisecond,
		Readers: 1, ReadEvery: 50 * time.Millisecond, ReadPaths: []string{"/ok", "/broken"},
		SampleEvery: 100 * time.Millisecond,
	}.Run(context.Background(), NewClient(srv.URL, "", 2))
	read := res.Streams["read"]
	if read == nil || read.Failures() == 0 || read.Failures() != read.Status[500] || read.Status[200] == 0 {
		t.Fatalf("reads: %+v, want some 200s and the 500s counted as failures", read)
	}
	// Paced at 50ms for 500ms: about 10, never a flood.
	if read.Requests > 12 {
		t.Errorf("%d reads in 500ms at one per 50ms", read.Requests)
	}
	if len(res.Samples) == 0 || res.Samples[0].Values["go_goroutines"] != 7 {
		t.Errorf("samples %+v, want go_goroutines 7", res.Samples)
	}
}
