package main

import (
	"net/http"
	"time"

	"github.com/pantau-id/pantau/api"
)

// httpLimits bound what one client can hold of pantau's server: a slow or
// hostile client is dropped, and the refresh, the scrapes and the other
// clients go on (docs/reliability.md, "Bad input").
type httpLimits struct {
	// readHeader bounds reading a request's headers: a client dribbling
	// them (slowloris) is dropped after it.
	readHeader time.Duration
	// read bounds reading a whole request, body included: the API's bodies
	// are at most 64 KiB.
	read time.Duration
	// write bounds a request from its headers to the end of its answer, for
	// the JSON API and the pages: answers are encoded in memory first, so
	// this cuts off a client that stops reading.
	write time.Duration
	// bulkWrite replaces write for the big answers: a national /metrics
	// without gzip is 83 MB (4 MB gzipped), and an export of every region's
	// progress is megabytes; a Prometheus or a browser on a slow link must
	// get them whole.
	bulkWrite time.Duration
	// idle bounds a kept-alive connection between requests; Prometheus
	// reconnects when its scrape interval is longer.
	idle time.Duration
	// maxHeader bounds the request line and headers; more is a 431.
	maxHeader int
}

// serverLimits are the limits pantau serve runs with; tests shorten them.
var serverLimits = httpLimits{
	readHeader: 10 * time.Second,
	read:       30 * time.Second,
	write:      time.Minute,
	bulkWrite:  5 * time.Minute,
	idle:       2 * time.Minute,
	maxHeader:  64 << 10,
}

// newHTTPServer is the server pantau serve listens with.
func newHTTPServer(h http.Handler, l httpLimits) *http.Server {
	return &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/metrics" || r.URL.Path == api.Prefix+"/export" {
				// It fails only on a connection without deadlines, where
				// there is nothing to extend.
				_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(l.bulkWrite))
			}
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: l.readHeader,
		ReadTimeout:       l.read,
		WriteTimeout:      l.write,
		IdleTimeout:       l.idle,
		MaxHeaderBytes:    l.maxHeader,
	}
}
