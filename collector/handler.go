package collector

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/common/expfmt"
)

// MetricsHandler serves /metrics: the KPI series pre-rendered at the last
// refresh, followed by the live self-metrics. A scrape never queries a
// source and never re-encodes a KPI series.
//
// Like promhttp with default options it answers in the text format and
// gzips when the scraper accepts it. The gzipped body is several gzip
// members back to back (one per cached KPI metric family, compressed in
// parallel at refresh, then the self-metrics): RFC 1952 allows that and
// Go's, curl's and Prometheus' readers all accept it.
func (c *Collector) MetricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var self bytes.Buffer
		enc := expfmt.NewEncoder(&self, expfmt.NewFormat(expfmt.TypeTextPlain))
		mfs, err := c.metrics.registry.Gather()
		for _, mf := range mfs {
			if e := enc.Encode(mf); e != nil && err == nil {
				err = e
			}
		}
		if err != nil {
			c.log.Error("gathering self-metrics", "err", err)
		}
		var cached *exposition
		if s := c.Snapshot(); s != nil {
			cached = s.exposition
		}
		h := w.Header()
		h.Set("Content-Type", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
		h.Add("Vary", "Accept-Encoding")
		if !acceptsGzip(r) {
			h.Set("Content-Length", strconv.Itoa(cached.size()+self.Len()))
			if cached != nil {
				zr, err := gzip.NewReader(bytes.NewReader(cached.gzip))
				if err == nil {
					_, err = io.Copy(w, zr)
				}
				if err != nil {
					c.log.Error("serving uncompressed metrics", "err", err)
					return
				}
			}
			w.Write(self.Bytes())
			return
		}
		var tail bytes.Buffer
		gz := gzipWriters.Get().(*gzip.Writer)
		gz.Reset(&tail)
		gz.Write(self.Bytes())
		gz.Close()
		gzipWriters.Put(gz)
		var head []byte
		if cached != nil {
			head = cached.gzip
		}
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", strconv.Itoa(len(head)+tail.Len()))
		w.Write(head)
		w.Write(tail.Bytes())
	})
}

// gzipWriters keeps compressors between scrapes: a new one allocates about
// a megabyte, far more than the few kilobytes of self-metrics it compresses.
var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return w
}}

func (e *exposition) size() int {
	if e == nil {
		return 0
	}
	return e.textBytes
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		// Only an explicit q=0 refuses gzip; q=0.5 still accepts it.
		for _, p := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if q, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && q == 0 {
					return false
				}
			}
		}
		return true
	}
	return false
}
