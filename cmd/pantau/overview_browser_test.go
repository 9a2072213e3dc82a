package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/pantau-id/pantau/source/sourcetest"
)

// chromium is the browser the overview's test drives; .ci/run installs
// Debian's package.
func chromium(t *testing.T) string {
	t.Helper()
	return sourcetest.Program(t, "chromium", "install Debian's chromium package (bash .ci/run does)")
}

// browser starts a headless Chromium with a fresh profile and collects
// what the pages write to the console.
func browser(t *testing.T, path string) (context.Context, func() []chromedp.ConsoleMessage) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1366, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting chromium: %v", err)
	}
	var mu sync.Mutex
	var messages []chromedp.ConsoleMessage
	console := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range console {
			if err != nil {
				return
			}
			mu.Lock()
			messages = append(messages, m)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancelTimeout(); <-done })
	return ctx, func() []chromedp.ConsoleMessage {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(messages)
	}
}

// screenshot saves the whole page as a PNG into dir and fails the test
// when it is blank: fewer than a handful of colours, or almost all one.
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	file := filepath.Join(dir, name+".png")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	colours := map[uint32]int{}
	bounds := img.Bounds()
	n := 0
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 3 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 3 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[r>>8<<16|g>>8<<8|b>>8]++
			n++
		}
	}
	most := 0
	for _, c := range colours {
		most = max(most, c)
	}
	if len(colours) < 16 || float64(most) > 0.985*float64(n) {
		t.Errorf("screenshot %s (%v) looks blank: %d colours, the commonest on %.1f %% of it", file, bounds.Size(), len(colours), 100*float64(most)/float64(n))
	}
	t.Logf("screenshot %s: %v, %d colours", file, bounds.Size(), len(colours))
}

// eval runs a script on the page and decodes its result.
func eval[T any](t *testing.T, ctx context.Context, script string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](script))
	if err != nil {
		t.Fatalf("evaluating %s: %v", script, err)
	}
	return v
}

// follow runs an action that navigates (a click, a key) and waits for the
// new page to load.
func follow[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, a)); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// apiRanking is the JSON API's ranking of a region's children by this
// month's pace, worst first: the order the page's ranking must have.
func apiRanking(t *testing.T, base, kpiID, parent string) []string {
	t.Helper()
	q := "/api/v1/ranking?kpi=" + kpiID + "&limit=1000"
	if parent != "ID" {
		q += "&parent=" + parent
	}
	code, body := get(t, base+q)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", q, code, body)
	}
	var rows []struct {
		RegionCode string `json:"region_code"`
	}
	if err := json.Unmarshal([]byte(body), &rows); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r.RegionCode)
	}
	return out
}

// TestOverviewInABrowser opens the demo's overview in headless Chromium
// as a Kepala Dinas would: the national map, then a province, a kabupaten
// and a kecamatan, by mouse and by keyboard, on a desktop and a phone.
func TestOverviewInABrowser(t *testing.T) {
	path := chromium(t)
	bin := buildPantau(t)
	p := startDemo(t, bin, t.TempDir(), "--at", noonToday().Format(time.RFC3339))
	if log := p.log.String(); !strings.Contains(log, "(Ctrl-C stops it).\n\n  Overview: "+p.url+"/\n") {
		t.Errorf("the demo should print the overview's URL first:\n%s", log)
	}
	waitReady(t, p)
	ctx, console := browser(t, path)
	shots := t.TempDir()

	// The nation: 38 provinces on the map, ranked as the API ranks them.
	if err := chromedp.Do(ctx, chromedp.Navigate(p.url+"/")); err != nil {
		t.Fatal(err)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("svg path[data-code]").length`); n != 38 {
		t.Errorf("the national map has %d province shapes, want 38", n)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("svg a > path[data-code]").length`); n != 38 {
		t.Errorf("%d of the provinces are links, want all 38", n)
	}
	rows := eval[[]string](t, ctx, `[...document.querySelectorAll("tr[data-code]")].map(r => r.dataset.code)`)
	if want := apiRanking(t, p.url, "ewarong_aktif", "ID"); len(rows) != 38 || !slices.Equal(rows[:len(want)], want) {
		t.Errorf("the national ranking is %v, want 38 rows starting with the API's order %v", rows, want)
	}
	screenshot(t, ctx, shots, "1-nasional")

	// The keyboard: the first Tab reaches the skip link, and a province
	// on the map opens with Enter.
	if _, err := chromedp.Run(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
		t.Fatal(err)
	}
	if got := eval[string](t, ctx, `document.activeElement.textContent`); got != "Langsung ke isi" {
		t.Errorf("the first Tab focuses %q, want the skip link", got)
	}
	eval[bool](t, ctx, `document.querySelector("#prov-31").parentElement.focus(), true`)
	follow(t, ctx, "opening DKI Jakarta from the map with Enter", chromedp.KeyEvent(kb.Enter))
	if got := eval[string](t, ctx, `location.pathname`); got != "/wilayah/31" {
		t.Fatalf("Enter on DKI Jakarta's shape opened %s", got)
	}
	// The KPI table's "Target tahun" column.
	if got := eval[string](t, ctx, `document.querySelector("#kpi-ewarong_aktif").cells[9].textContent.trim()`); got != "70" {
		t.Errorf("DKI Jakarta's e-Warong target for the year reads %q, want 70", got)
	}
	rows = eval[[]string](t, ctx, `[...document.querySelectorAll("tr[data-code]")].map(r => r.dataset.code)`)
	if want := apiRanking(t, p.url, "ewarong_aktif", "31"); len(rows) != 6 || !slices.Equal(rows[:len(want)], want) {
		t.Errorf("DKI Jakarta's ranking is %v, want its 6 kabupaten/kota starting with the API's order %v", rows, want)
	}
	screenshot(t, ctx, shots, "2-provinsi")

	// A kabupaten/kota: the worst one of the ranking, by mouse.
	kab := rows[0]
	follow(t, ctx, "clicking the worst kabupaten/kota", chromedp.Click(chromedp.CSS(`tr[data-code="`+kab+`"] th a`)))
	if got := eval[string](t, ctx, `location.pathname`); got != "/wilayah/"+kab {
		t.Fatalf("clicking %s opened %s", kab, got)
	}
	bars := eval[[]string](t, ctx, `[...document.querySelectorAll("ol.batang a")].map(a => a.getAttribute("href"))`)
	if len(bars) == 0 {
		t.Fatal("the kabupaten page has no bars of its kecamatan")
	}
	screenshot(t, ctx, shots, "3-kabupaten")

	// A phone: the same page fits 390 px; wide tables scroll on their own.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("on a phone the page is %d px wide, want at most 390", w)
	}
	screenshot(t, ctx, shots, "4-kabupaten-ponsel")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 900)); err != nil {
		t.Fatal(err)
	}

	// A kecamatan: the first bar, the worst pace.
	follow(t, ctx, "clicking the first kecamatan's bar", chromedp.Click(chromedp.CSS(`ol.batang a`)))
	if got := eval[string](t, ctx, `location.pathname + location.search`); got != bars[0] {
		t.Fatalf("clicking the first bar opened %s, want %s", got, bars[0])
	}
	if n := eval[int](t, ctx, `document.querySelectorAll(".crumbs li").length`); n != 4 {
		t.Errorf("a kecamatan's breadcrumbs have %d steps, want 4 (nation, province, kabupaten, kecamatan)", n)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#riwayat-tabel tbody tr").length`); n == 0 {
		t.Error("the kecamatan page has no history table")
	}
	screenshot(t, ctx, shots, "5-kecamatan")

	// The basics of accessibility on every page seen: each chart has a
	// text alternative, each status is in words.
	for _, u := range []string{"/", "/wilayah/31", "/wilayah/" + kab, bars[0]} {
		if err := chromedp.Do(ctx, chromedp.Navigate(p.url+u)); err != nil {
			t.Fatal(err)
		}
		if n := eval[int](t, ctx, `[...document.querySelectorAll("svg")].filter(s => !s.querySelector(":scope > title")).length`); n != 0 {
			t.Errorf("%s: %d charts without a title", u, n)
		}
		if n := eval[int](t, ctx, `[...document.querySelectorAll(".status")].filter(s => s.textContent.trim() === "").length`); n != 0 {
			t.Errorf("%s: %d statuses shown by colour alone", u, n)
		}
	}

	time.Sleep(200 * time.Millisecond) // let the last page's messages arrive
	for _, m := range console() {
		if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleWarning {
			t.Errorf("console %s at %s:%d: %s", m.Type, m.URL, m.Line+1, m)
		}
	}
}
