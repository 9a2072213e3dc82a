package httpserve

import "net/http"

// contentSecurityPolicy is the one policy of every answer. The pages are
// server-rendered HTML with no script at all, so the policy can be strict;
// JSON, CSV and the exposition ignore it, so one policy serves all.
var contentSecurityPolicy = "" +
	// Nothing loads unless a directive below allows it.
	"default-src 'none'; " +
	// No script runs, inline or fetched: an injected <script> is inert.
	"script-src 'none'; " +
	// The pages embed their stylesheet in a <style> element and inline SVG
	// carries style attributes; with no script, styles can at worst change
	// how a page looks, and html/template escapes every value.
	"style-src 'self' 'unsafe-inline'; " +
	// Images and SVG from pantau itself (and data: URIs inside inline SVG).
	"img-src 'self' data:; " +
	// Forms, if a page ever has one, post only back to pantau.
	"form-action 'self'; " +
	// No <base> may redirect the pages' relative links elsewhere.
	"base-uri 'none'; " +
	// No other site may frame a page (clickjacking); X-Frame-Options says
	// the same to browsers without CSP level 2.
	"frame-ancestors 'none'"

// Headers sets the security headers on every answer of next:
// nosniff, no referrer, no framing, the Content-Security-Policy above, HSTS
// over TLS, and
// for requests that carry credentials a private Cache-Control unless the
// handler sets its own (the API's answers set "private, max-age=…").
func Headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// Browsers must not guess a type: a CSV cell or a KPI name that
		// looks like HTML stays text.
		h.Set("X-Content-Type-Options", "nosniff")
		// Links from the pages leak no URL (with its query) to other sites.
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		if r.TLS != nil {
			// Once a browser has reached pantau over TLS it never falls
			// back to plain HTTP (and a password to plain text).
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if r.Header.Get("Authorization") != "" {
			// What one token or user may see must not be kept by a
			// shared cache and handed to another.
			h.Set("Cache-Control", "private, no-store")
		}
		next.ServeHTTP(w, r)
	})
}
