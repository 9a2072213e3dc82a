package collector

import (
	"bytes"
	"compress/flate"
	"hash/crc32"
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
// gzips when the scraper accepts it: one gzip member made of the cached
// DEFLATE parts, the self-metrics compressed now, and a trailer whose
// CRC-32 continues the cached one over the self-metrics (gzip.go).
func (c *Collector) MetricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := scrapeBuffers.Get().(*scrapeBuffer)
		defer scrapeBuffers.Put(b)
		b.text.Reset()
		mfs, err := c.metrics.registry.Gather()
		for _, mf := range mfs {
			if e := b.enc.Encode(mf); e != nil && err == nil {
				err = e
			}
		}
		if err != nil {
			c.log.Error("gathering self-metrics", "err", err)
		}
		self := b.text.Bytes()
		cached := &exposition{}
		if s := c.Snapshot(); s != nil {
			cached = s.exposition
		}
		h := w.Header()
		h.Set("Content-Type", string(textFormat))
		h.Add("Vary", "Accept-Encoding")
		if !acceptsGzip(r) {
			h.Set("Content-Length", strconv.Itoa(cached.textBytes+len(self)))
			zr := inflate(cached.deflate)
			if _, err := io.Copy(w, zr); err != nil {
				c.log.Error("serving uncompressed metrics", "err", err)
				return
			}
			w.Write(self)
			return
		}
		// The tail: the self-metrics, the final block and the trailer.
		b.tail.Reset()
		b.zw.Reset(&b.tail)
		b.zw.Write(self)
		b.zw.Close()
		b.tail.Write(gzipTrailer(crc32.Update(cached.crc, crc32.IEEETable, self), cached.textBytes+len(self)))
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", strconv.Itoa(len(gzipHeader)+len(cached.deflate)+b.tail.Len()))
		w.Write(gzipHeader)
		w.Write(cached.deflate)
		w.Write(b.tail.Bytes())
	})
}

var textFormat = expfmt.NewFormat(expfmt.TypeTextPlain)

// scrapeBuffer is a scrape's scratch space, kept between scrapes: the
// self-metrics text and its encoder, and their compressed tail and
// compressor (a new one allocates about a megabyte, far more than the few
// kilobytes of self-metrics it compresses).
type scrapeBuffer struct {
	text, tail bytes.Buffer
	enc        expfmt.Encoder
	zw         *flate.Writer
}

var scrapeBuffers = sync.Pool{New: func() any {
	b := &scrapeBuffer{}
	b.enc = expfmt.NewEncoder(&b.text, textFormat)
	b.zw, _ = flate.NewWriter(io.Discard, flate.BestSpeed)
	return b
}}

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
