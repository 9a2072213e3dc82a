package httpserve_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pantau-id/pantau/httpserve"
	"github.com/pantau-id/pantau/source/sourcetest"
)

// page is shaped like pantau's pages: an embedded stylesheet, inline SVG
// with style attributes, and (as an injected value might be) an inline
// script and a script from elsewhere.
const page = `<!doctype html><html lang="id"><head><meta charset="utf-8"><title>asli</title>
<style>body{color:rgb(1, 2, 3)}</style></head><body>
<svg width="10" height="10"><rect id="kotak" width="10" height="10" style="fill:rgb(4, 5, 6)"/></svg>
<script>document.title = "skrip jalan"</script>
<script src="https://example.invalid/x.js"></script>
</body></html>`

// TestBrowserEnforcesTheContentSecurityPolicy loads a page through Headers
// in headless Chromium: its styles apply and its scripts do not run.
func TestBrowserEnforcesTheContentSecurityPolicy(t *testing.T) {
	chromium := sourcetest.Program(t, "chromium", "install chromium (apt-get install chromium)")
	srv := httptest.NewServer(httpserve.Headers(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	})))
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute) // bounds a hung browser only
	defer cancelTimeout()

	if _, err := chromedp.Run(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	color, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).color`))
	if err != nil {
		t.Fatal(err)
	}
	fill, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.getElementById("kotak")).fill`))
	if err != nil {
		t.Fatal(err)
	}
	if title != "asli" {
		t.Errorf("title %q: an inline script ran", title)
	}
	if color != "rgb(1, 2, 3)" {
		t.Errorf("body color %q: the embedded stylesheet was blocked", color)
	}
	if fill != "rgb(4, 5, 6)" {
		t.Errorf("SVG fill %q: the style attribute was blocked", fill)
	}
}
