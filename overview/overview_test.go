package overview

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

var update = flag.Bool("update", false, "rewrite the golden pages in testdata")

// The expected figures are worked out by hand from the test data
// (collector/testdata/dinsos-data.sql) and testTargets at 16 October 2026,
// 12:00 WIB, when 19/24 of a linear target is due and October's month
// target is 10/12 of the way from the 1 January level (stocks).
func TestPagesShowEachRegionsFiguresRankingAndHistory(t *testing.T) {
	f := newFixture(t, fixtureOptions{openRead: true, september: true})
	tests := []struct {
		name string
		path string
		// kpiRow is the region's e-Warong row (or the chosen KPI's) in the KPI table.
		kpiID  string
		kpiRow []string
		// ranking is the first rows of the ranking, worst pace first.
		ranking [][]string
		rows    int
		history [][]string
		check   func(t *testing.T, n *html.Node)
	}{
		{
			name: "the national page maps the 38 provinces and ranks DKI Jakarta, furthest behind, first",
			path: "/", kpiID: "ewarong_aktif",
			// Σ provinces: DKI 4 of 5⅓ (6 from a level of 2), Jawa Barat 8 of 9.8.
			kpiRow: []string{"e-Warong aktif", "2026-10", "12", "15,2", "14,7", "82 %", "tertinggal", "12,3", "12", "17", "13,6", "tertinggal"},
			ranking: [][]string{
				// DKI: 2 + 4×10/12 = 5,3 due by month end, 2 + 4×19/24 = 5,2 now; September
				// ended at 3 of 2 + 4×9/12 = 5 (60 %), now 77 %.
				{"1", "Daerah Khusus Ibukota Jakarta 31", "4", "5,3", "5,2", "75 %", "77 %", "tertinggal", "naik 17 poin"},
				{"2", "Jawa Barat 32", "8", "9,8", "9,5", "81 %", "84 %", "tertinggal", "turun 3 poin"},
				{"3", "Aceh 11", "0", "—", "—", "—", "—", "tanpa target", "—"},
			},
			rows:    38,
			history: [][]string{{"Sep 2026", "11", "14,2", "tertinggal", "final"}, {"Okt 2026", "12", "15,2", "tertinggal", "berjalan"}},
			check: func(t *testing.T, n *html.Node) {
				paths := all(n, func(c *html.Node) bool { return c.Data == "path" && attr(c, "data-code") != "" })
				if len(paths) != 38 {
					t.Errorf("the map has %d province shapes, want 38", len(paths))
				}
				dki := byID(n, "prov-31")
				if dki == nil || dki.Parent.Data != "a" || attr(dki.Parent, "href") != "/wilayah/31" || attr(dki, "fill") != statusFills["behind"] ||
					!strings.Contains(text(dki), "tertinggal") {
					t.Errorf("DKI Jakarta's shape should link to its page, be red and say tertinggal in its title: %v", dki)
				}
			},
		},
		{
			name: "a kabupaten ranks its kecamatan with the slip since September's close",
			path: "/wilayah/32.16", kpiID: "ewarong_aktif",
			kpiRow: []string{"e-Warong aktif", "2026-10", "5", "6,3", "6,2", "81 %", "tertinggal", "5,1", "5", "7", "5,5", "tertinggal"},
			ranking: [][]string{
				// Tambun Selatan: 3 of 2 + 3×10/12 = 4,5 (4,375 due now: 69 %); September
				// ended at 2 of 4,25 (47 %).
				{"1", "Tambun Selatan 32.16.06", "3", "4,5", "4,4", "67 %", "69 %", "tertinggal", "naik 22 poin"},
				// Cibitung: 2 of 1 + 10/12; September ended at 3 of 1,75 (171 %).
				{"2", "Cibitung 32.16.07", "2", "1,8", "1,8", "109 %", "112 %", "sesuai target", "turun 60 poin"},
				{"3", "Tarumajaya 32.16.01", "0", "—", "—", "—", "—", "tanpa target", "—"},
			},
			rows:    23,
			history: [][]string{{"Sep 2026", "5", "6", "tertinggal", "final"}, {"Okt 2026", "5", "6,3", "tertinggal", "berjalan"}},
			check: func(t *testing.T, n *html.Node) {
				bars := all(n, func(c *html.Node) bool { return c.Data == "ol" && attr(c, "class") == "batang" })
				if len(bars) != 1 || !strings.HasPrefix(text(bars[0]), "Tambun Selatan laju 69 % · tertinggal Cibitung laju 112 % · sesuai target Tarumajaya aktual 0 · tanpa target") {
					t.Errorf("the bars should rank the kecamatan, worst pace first, in words: %v", bars)
				}
				if len(all(n, func(c *html.Node) bool { return c.Data == "path" })) != 0 {
					t.Error("below the nation there are no boundaries to draw")
				}
			},
		},
		{
			name: "a rate shows numerator and denominator, and best first on request",
			path: "/wilayah/32?kpi=sembako_salur&urut=laju&arah=turun", kpiID: "sembako_salur",
			// Kabupaten Bekasi 5/6, Kota Bekasi 2/5.
			kpiRow: []string{"Penyaluran Sembako", "2026-10", "63,6 % 7 / 11", "95,0 %", "47,5 %", "134 %", "sesuai target", "100,0 %", "77,3 % 17 / 22", "95,0 %", "100,0 %", "sesuai target"},
			ranking: [][]string{
				// A rate's slip is in attainment: Kabupaten Bekasi was 5/6 in September
				// too, Kota Bekasi 3/3 (105 % of 95 %).
				{"1", "Kabupaten Bekasi 32.16", "83,3 %", "5 / 6", "95,0 %", "47,5 %", "88 %", "175 %", "sesuai target", "tetap"},
				{"2", "Kota Bekasi 32.75", "40,0 %", "2 / 5", "95,0 %", "47,5 %", "42 %", "84 %", "tertinggal", "turun 63 poin"},
			},
			rows: 27,
		},
		{
			name: "a kecamatan shows its own figures and no ranking below the KPI's level",
			path: "/wilayah/32.16.06?kpi=kube_jasa", kpiID: "kube_jasa",
			// 2 formed in October of 12/12 a month (0,5 due by the 16th); 3 this year.
			kpiRow: []string{"KUBE Jasa terbentuk", "2026-10", "2", "1", "0,5", "400 %", "sesuai target", "4", "3", "12", "3,8", "tertinggal"},
			// A flow's target line adds up every month since January, and only
			// September is in history: the line is unknown, not zero.
			history: [][]string{{"Sep 2026", "1", "—", "tertinggal", "final"}, {"Okt 2026", "3", "—", "sesuai target", "berjalan"}},
			check: func(t *testing.T, n *html.Node) {
				if got := text(byID(n, "isi")); strings.Contains(got, "Peringkat") {
					t.Errorf("a kecamatan page has a ranking: %s", got)
				}
				var crumbs []string
				for _, li := range all(n, func(c *html.Node) bool {
					return c.Data == "li" && c.Parent != nil && attr(c.Parent, "class") == "crumbs"
				}) {
					crumbs = append(crumbs, text(li))
				}
				if want := []string{"Indonesia", "Jawa Barat", "Kabupaten Bekasi", "Tambun Selatan"}; !reflect.DeepEqual(crumbs, want) {
					t.Errorf("breadcrumbs %q, want %q", crumbs, want)
				}
			},
		},
	}
	t.Run("Kabupaten Bekasi's page is testdata/kabupaten-bekasi.html (go test -update rewrites it)", func(t *testing.T) {
		got := f.get(t, "/wilayah/32.16?kpi=sembako_salur", "").Body.Bytes()
		golden := filepath.Join("testdata", "kabupaten-bekasi.html")
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("the page differs from %s; if the change is meant, run go test ./overview -run TestPages -update and review the diff", golden)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.get(t, tt.path, "")
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s: %d\n%s", tt.path, rec.Code, rec.Body.String())
			}
			n := doc(t, rec)
			if row := byID(n, "kpi-"+tt.kpiID); row == nil || !reflect.DeepEqual(rowCells(row), tt.kpiRow) {
				t.Errorf("KPI row:\n got %q\nwant %q", rowCells(row), tt.kpiRow)
			}
			ranking := rankingRows(n)
			if len(ranking) != tt.rows {
				t.Errorf("the ranking has %d rows, want %d", len(ranking), tt.rows)
			}
			for i, want := range tt.ranking {
				if i >= len(ranking) || !reflect.DeepEqual(ranking[i], want) {
					t.Errorf("ranking row %d:\n got %q\nwant %q", i+1, ranking[min(i, len(ranking)-1)], want)
				}
			}
			if tt.history != nil {
				var got [][]string
				for _, tr := range all(byID(n, "riwayat-tabel"), func(c *html.Node) bool { return c.Data == "tr" && c.Parent.Data == "tbody" }) {
					got = append(got, rowCells(tr))
				}
				if !reflect.DeepEqual(got, tt.history) {
					t.Errorf("history table:\n got %q\nwant %q", got, tt.history)
				}
				if len(all(n, func(c *html.Node) bool { return c.Data == "circle" })) != len(tt.history) {
					t.Errorf("the history chart should have a point per month of the table")
				}
			}
			if tt.check != nil {
				tt.check(t, n)
			}
		})
	}
}

func TestBadChoicesAndRegionsGetAPageThatSaysWhy(t *testing.T) {
	f := newFixture(t, fixtureOptions{openRead: true})
	for _, tt := range []struct {
		name, path string
		status     int
		says       string
	}{
		{"an unknown KPI lists the spec's", "/wilayah/32?kpi=nope", http.StatusBadRequest, `KPI "nope" tidak ada dalam spesifikasi; pilih salah satu: ewarong_aktif, kube_jasa`},
		{"an unknown order names the columns", "/wilayah/32?urut=acak", http.StatusBadRequest, `urut="acak" tidak dikenal; gunakan laju, capaian, nama, selisih.`},
		{"an unknown direction", "/?arah=kiri", http.StatusBadRequest, "gunakan naik atau turun"},
		{"a malformed code", "/wilayah/3x", http.StatusBadRequest, "Kode wilayah tidak sah."},
		{"a code not in the region master", "/wilayah/99", http.StatusNotFound, "tidak dikenal atau tidak dipantau"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.get(t, tt.path, "")
			if rec.Code != tt.status || !strings.Contains(text(doc(t, rec)), tt.says) {
				t.Errorf("GET %s: %d, want %d saying %q:\n%s", tt.path, rec.Code, tt.status, tt.says, rec.Body.String())
			}
		})
	}
}

func TestATokensScopeHoldsOnThePages(t *testing.T) {
	f := newFixture(t, fixtureOptions{})

	rec := f.get(t, "/", "")
	if rec.Code != http.StatusUnauthorized || len(all(doc(t, rec), func(c *html.Node) bool { return c.Data == "input" && attr(c, "name") == "token" })) != 1 {
		t.Fatalf("without a token: %d, want 401 with the token form:\n%s", rec.Code, rec.Body.String())
	}

	rec = f.login(t, "pnt_wrong", "http://example.com")
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "Token tidak dikenal atau sudah dicabut.") || rec.Header().Get("Set-Cookie") != "" {
		t.Errorf("a wrong token: %d, cookie %q, want 401 saying so and no cookie:\n%s", rec.Code, rec.Header().Get("Set-Cookie"), rec.Body.String())
	}

	if rec = f.login(t, f.tokens["bekasi"], "http://evil.example"); rec.Code != http.StatusForbidden || rec.Header().Get("Set-Cookie") != "" {
		t.Errorf("a token posted from another site's page: %d, cookie %q; want 403 and no cookie", rec.Code, rec.Header().Get("Set-Cookie"))
	}
	rec = f.login(t, f.tokens["bekasi"], "http://example.com")
	cookie := rec.Result().Cookies()
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" || len(cookie) != 1 ||
		cookie[0].Value != f.tokens["bekasi"] || !cookie[0].HttpOnly || cookie[0].SameSite != http.SameSiteStrictMode || cookie[0].Secure {
		t.Fatalf("logging in: %d to %q with cookies %+v; want 303 to / with an HttpOnly, SameSite=Strict cookie (not Secure over plain HTTP)",
			rec.Code, rec.Header().Get("Location"), cookie)
	}

	rec = f.get(t, "/", "bekasi")
	n := doc(t, rec)
	if h1 := all(n, func(c *html.Node) bool { return c.Data == "h1" }); rec.Code != http.StatusOK || len(h1) != 1 || !strings.HasPrefix(text(h1[0]), "Kabupaten Bekasi") {
		t.Fatalf("a token for 32.16 should land on Kabupaten Bekasi: %d\n%s", rec.Code, rec.Body.String())
	}
	for _, a := range all(n, func(c *html.Node) bool { return c.Data == "a" }) {
		if h := attr(a, "href"); h == "/wilayah/32" || strings.HasPrefix(h, "/wilayah/32?") || strings.HasPrefix(h, "/wilayah/ID") {
			t.Errorf("Kabupaten Bekasi's page links above the token's scope: %s", h)
		}
	}
	if got := text(all(n, func(c *html.Node) bool { return attr(c, "class") == "crumbs" })[0]); got != "Indonesia Jawa Barat Kabupaten Bekasi" {
		t.Errorf("breadcrumbs %q should still name the provinces above (the › separators are CSS)", got)
	}

	for _, tt := range []struct {
		path   string
		status int
	}{
		{"/wilayah/32.16.06", http.StatusOK},
		{"/wilayah/32", http.StatusForbidden},
		{"/wilayah/ID", http.StatusForbidden},
		{"/wilayah/31.71", http.StatusForbidden},
		{"/wilayah/32.75.01", http.StatusForbidden},
	} {
		if rec := f.get(t, tt.path, "bekasi"); rec.Code != tt.status {
			t.Errorf("GET %s with the 32.16 token: %d, want %d", tt.path, rec.Code, tt.status)
		} else if tt.status == http.StatusForbidden && !strings.Contains(rec.Body.String(), "Token Anda tidak berhak membuka wilayah ini.") {
			t.Errorf("GET %s: the 403 page should say why:\n%s", tt.path, rec.Body.String())
		}
	}

	rec = f.get(t, "/", "revoked")
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "Token tidak dikenal atau sudah dicabut.") {
		t.Errorf("a revoked token's cookie: %d, want 401 saying so", rec.Code)
	}
	if c := rec.Result().Cookies(); len(c) != 1 || c[0].MaxAge >= 0 {
		t.Errorf("a revoked token's cookie should be cleared: %+v", c)
	}
	if rec := f.get(t, "/", "national"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Peta provinsi") {
		t.Errorf("a national token: %d, want the national page with the map", rec.Code)
	}
}

func TestStaleOrMissingDataIsSaidInWordsNotShownAsZero(t *testing.T) {
	t.Run("a source that went down keeps its last values, marked stale since the last success", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{openRead: true})
		f.source.Close()
		f.collector.Refresh(context.Background())
		body := f.get(t, "/wilayah/32.16", "").Body.String()
		for _, want := range []string{
			"<td>dinsos</td>",
			"Data e-Warong aktif basi: sumber dinsos gagal diperbarui; angka di halaman ini dari 2026-10-16 12:00:00 WIB.",
			`<span class="basi">basi: pembaruan terakhir gagal</span><br><small>data per 2026-10-16 12:00:00 WIB</small>`,
			`<span class="basi">(basi)</span>`,
			`<td class="angka">3</td><td class="angka">4,5</td>`, // Tambun Selatan's last e-Warong figures
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the page lacks %q:\n%s", want, body)
			}
		}
	})
	t.Run("a source never read says so instead of zeros", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{openRead: true, noRefresh: true})
		f.source.Close()
		f.collector.Refresh(context.Background())
		rec := f.get(t, "/wilayah/32.16", "")
		n := doc(t, rec)
		row := rowCells(byID(n, "kpi-ewarong_aktif"))
		if rec.Code != http.StatusOK || !reflect.DeepEqual(row, []string{"e-Warong aktif", "2026-10", "tidak ada data: KPI ini belum pernah berhasil diperbarui"}) {
			t.Errorf("%d, e-Warong row %q; want it to say there is no data", rec.Code, row)
		}
		body := rec.Body.String()
		for _, want := range []string{"gagal: belum pernah berhasil diperbarui", "belum ada data dari sumber dinsos", "Belum siap",
			"e-Warong aktif: belum ada data, sumber dinsos belum pernah berhasil dibaca."} {
			if !strings.Contains(body, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		if len(rankingRows(n)) != 0 {
			t.Errorf("a KPI without values has a ranking: %q", rankingRows(n))
		}
	})
	t.Run("before the first refresh the page waits", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{openRead: true, noRefresh: true})
		rec := f.get(t, "/", "")
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "Menunggu pembaruan pertama") {
			t.Errorf("%d, want 503 with Retry-After, waiting:\n%s", rec.Code, rec.Body.String())
		}
	})
	t.Run("a store that fails costs the history and the slip, not the page", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{openRead: true})
		f.store.Close()
		rec := f.get(t, "/wilayah/32.16", "")
		if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), unreadableHistory) != 2 || len(rankingRows(doc(t, rec))) != 23 {
			t.Errorf("%d, want 200 with the ranking and the history and the slip said unreadable:\n%s", rec.Code, rec.Body.String())
		}
	})
	t.Run("without a store and with tokens required, the page says there can be no token", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{noStore: true})
		if rec := f.get(t, "/", ""); rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "berjalan tanpa store, tempat token disimpan") {
			t.Errorf("%d, want 401 explaining --store and --api-open-read:\n%s", rec.Code, rec.Body.String())
		}
	})
	t.Run("without a store there is no history and no slip, and the page says why", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{openRead: true, noStore: true})
		body := f.get(t, "/wilayah/32.16", "").Body.String()
		for _, want := range []string{"Riwayat bulanan memerlukan store", "Selisih memerlukan riwayat bulanan"} {
			if !strings.Contains(body, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
	})
}

func TestAShardOpensOnItsOwnRegion(t *testing.T) {
	f := newFixture(t, fixtureOptions{root: "31"})
	for _, tt := range []struct {
		name, token string
		status      int
		says        string
	}{
		{"a national token lands on the shard's province", "national", http.StatusOK, "Daerah Khusus Ibukota Jakarta provinsi · 31"},
		{"a token for a region outside the shard is told so", "bekasi", http.StatusForbidden, "Token Anda untuk wilayah 32.16, dan pantau ini memantau 31."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.get(t, "/", tt.token)
			if rec.Code != tt.status || !strings.Contains(text(byID(doc(t, rec), "isi")), tt.says) {
				t.Errorf("GET / as %s: %d, want %d saying %q:\n%s", tt.token, rec.Code, tt.status, tt.says, rec.Body.String())
			}
		})
	}
}
