package collector

import (
	"bytes"
	"context"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// checkHeaders checks what every /metrics answer carries, and that the
// body is as long as Content-Length says. It returns the raw body.
func checkHeaders(t *testing.T, res *http.Response, wantGzip bool) []byte {
	t.Helper()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", res.StatusCode)
	}
	mt, params, err := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if err != nil || mt != "text/plain" || params["version"] != "0.0.4" {
		t.Errorf("Content-Type %q, want text/plain; version=0.0.4", res.Header.Get("Content-Type"))
	}
	if got := res.Header.Get("Content-Encoding") == "gzip"; got != wantGzip {
		t.Errorf("Content-Encoding %q, want gzip %v", res.Header.Get("Content-Encoding"), wantGzip)
	}
	if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
		t.Errorf("Vary %q lacks Accept-Encoding", res.Header.Get("Vary"))
	}
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if cl := res.Header.Get("Content-Length"); cl != strconv.Itoa(len(raw)) {
		t.Errorf("Content-Length %s, the body has %d bytes", cl, len(raw))
	}
	return raw
}

// servesCached reports whether a gzip body is the gzip header followed by
// the cached DEFLATE bytes, copied rather than compressed again.
func servesCached(body []byte, e *exposition) bool {
	return bytes.HasPrefix(body, gzipHeader) && bytes.HasPrefix(body[len(gzipHeader):], e.deflate)
}

// selfSeries keys the self-metrics lines of an exposition: the Go and
// process metrics change between two scrapes, so only their series are
// kept; pantau's own keep their values.
func selfSeries(text []byte) []string {
	var out []string
	for _, l := range textLines(text) {
		if strings.HasPrefix(l, "go_") || strings.HasPrefix(l, "process_") {
			l = l[:strings.LastIndexByte(l, ' ')]
		}
		out = append(out, l)
	}
	return out
}

func TestMetricsHandler(t *testing.T) {
	t.Run("a scrape before the first refresh answers 200 with only self-metrics", func(t *testing.T) {
		spec := dinsosSpec(t, "sqlite")
		c := newCollector(t, spec, "", map[string]Querier{"dinsos": openSource(t, spec, "dinsos", sourceDSN(t, "sqlite"))}, nil)
		for _, enc := range []string{"", "gzip"} {
			raw := checkHeaders(t, scrape(t, c, enc), enc == "gzip")
			text := raw
			if enc == "gzip" {
				text = gunzip(t, raw)
			}
			for _, l := range textLines(text) {
				if strings.HasPrefix(l, "pantau_kpi_") || strings.HasPrefix(l, "pantau_region_info") {
					t.Errorf("a KPI series before the first refresh: %s", l)
				}
			}
			mfs := parseFamilies(t, text)
			if v, ok := sample(mfs, "pantau_snapshot_age_seconds", nil); !ok || v != -1 {
				t.Errorf("pantau_snapshot_age_seconds = %v (present %v), want -1", v, ok)
			}
			if v, ok := sample(mfs, "pantau_snapshot_series", nil); !ok || v != 0 {
				t.Errorf("pantau_snapshot_series = %v (present %v), want 0", v, ok)
			}
			if _, ok := mfs["pantau_build_info"]; !ok {
				t.Error("no pantau_build_info")
			}
		}
	})

	c, snap := refreshDinsos(t, "sqlite", "32")
	kpiText := cachedText(t, snap.exposition)

	t.Run("gzip and identity answers decode to the same text", func(t *testing.T) {
		zipped := gunzip(t, checkHeaders(t, scrape(t, c, "gzip"), true))
		plain := checkHeaders(t, scrape(t, c, ""), false)
		if !bytes.HasPrefix(zipped, kpiText) || !bytes.HasPrefix(plain, kpiText) {
			t.Fatal("an answer does not start with the snapshot's KPI series")
		}
		a, b := selfSeries(zipped[len(kpiText):]), selfSeries(plain[len(kpiText):])
		if strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Errorf("the self-metrics differ between gzip and identity:\n%s\n---\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
		}
		mfs := parseFamilies(t, plain)
		if v, ok := sample(mfs, "pantau_snapshot_age_seconds", nil); !ok || v != 0 {
			t.Errorf("pantau_snapshot_age_seconds = %v with the clock pinned at the refresh, want 0", v)
		}
		if v, _ := sample(mfs, "pantau_snapshot_series", nil); v != float64(snap.Series()) {
			t.Errorf("pantau_snapshot_series = %v, want %d", v, snap.Series())
		}
	})

	t.Run("the gzip answer starts with the cached KPI bytes, unchanged between scrapes", func(t *testing.T) {
		before, cached := c.Snapshot(), snap.exposition
		one := checkHeaders(t, scrape(t, c, "gzip"), true)
		two := checkHeaders(t, scrape(t, c, "gzip"), true)
		if c.Snapshot() != before || before.exposition != cached {
			t.Fatal("a scrape replaced the snapshot or its exposition")
		}
		if !servesCached(one, cached) || !servesCached(two, cached) {
			t.Fatal("the gzip answers do not carry the exposition rendered at the refresh after the gzip header")
		}
	})

	t.Run("Accept-Encoding decides gzip as promhttp does", func(t *testing.T) {
		for enc, wantGzip := range map[string]bool{
			"":                  false,
			"identity":          false,
			"gzip":              true,
			"GZIP":              true,
			"deflate, gzip":     true,
			"gzip;q=1.0, br":    true,
			"gzip;q=0":          false,
			"gzip;q=0.5":        true,
			"gzip;q=0.000":      false,
			"br;q=1, gzip; q=0": false,
		} {
			req, _ := http.NewRequest(http.MethodGet, "/metrics", nil)
			if enc != "" {
				req.Header.Set("Accept-Encoding", enc)
			}
			if got := acceptsGzip(req); got != wantGzip {
				t.Errorf("Accept-Encoding %q: gzip %v, want %v", enc, got, wantGzip)
			}
		}
	})

	t.Run("scrapes during a refresh see one whole snapshot or the other", func(t *testing.T) {
		old := c.Snapshot()
		var wg sync.WaitGroup
		var fresh *Snapshot
		wg.Go(func() { fresh = c.Refresh(context.Background()) })
		var bodies [][]byte
		for range 5 {
			bodies = append(bodies, checkHeaders(t, scrape(t, c, "gzip"), true))
		}
		wg.Wait()
		if fresh == old || c.Snapshot() != fresh {
			t.Fatal("the refresh did not publish a new snapshot")
		}
		for _, raw := range bodies {
			if !servesCached(raw, old.exposition) && !servesCached(raw, fresh.exposition) {
				t.Error("a scrape during a refresh served neither the old nor the new KPI part")
			}
		}
		raw := checkHeaders(t, scrape(t, c, "gzip"), true)
		if !servesCached(raw, fresh.exposition) {
			t.Error("after the refresh, scrapes do not serve its exposition")
		}
	})
}
