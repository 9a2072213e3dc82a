package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pantau-id/pantau/httpserve/httpservetest"
	"github.com/pantau-id/pantau/source/sourcetest"
	"github.com/pantau-id/pantau/store"
)

// securedServe starts an in-process pantau serve over SQLite with a
// SQLite store holding an admin token and a viewer token, and extra args;
// it returns the server and the tokens by role.
func securedServe(t *testing.T, extra ...string) (*served, map[string]string) {
	t.Helper()
	dsn := sourcetest.SQLite(t)
	sourcetest.Exec(t, "sqlite", dsn, exampleData(time.Now())...)
	t.Setenv(dsnEnv, dsn)
	storeDSN := filepath.Join(t.TempDir(), "pantau.db")
	st, err := store.OpenAndMigrate(context.Background(), "sqlite", storeDSN)
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{}
	for _, role := range []string{store.RoleAdmin, store.RoleViewer} {
		if tokens[role], err = st.CreateToken(context.Background(), role, role, "32"); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--config", exampleSpec(t, "sqlite", "5m"), "--store", "--store-dsn", storeDSN}, extra...)
	return startServe(t, args...), tokens
}

// curl runs curl with args and returns the HTTP status it got.
func curl(t *testing.T, args ...string) string {
	t.Helper()
	bin := sourcetest.Program(t, "curl", "install curl (apt-get install curl)")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, append([]string{"-sS", "-o", "/dev/null", "-w", "%{http_code}"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("curl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestWebConfigGuardsTheListener(t *testing.T) {
	if testing.Short() {
		t.Skip("starts pantau and Prometheus")
	}
	const user, pass = "prometheus", "sandi-scrape-yang-panjang"
	web := httpservetest.Write(t, true, map[string]string{user: pass}, "")
	s, tokens := securedServe(t, "--web.config.file", web.File)
	if !strings.HasPrefix(s.url, "https://") {
		t.Fatalf("pantau serves on %s, want https", s.url)
	}
	waitFor(t, time.Minute, "the first refresh", func() bool {
		return curl(t, "--cacert", web.CAFile, "-u", user+":"+pass, s.url+"/readyz") == "200"
	})

	t.Run("curl", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			args []string
			want string
		}{
			{"a scrape without credentials is refused", []string{s.url + "/metrics"}, "401"},
			{"a scrape with the basic auth user is answered", []string{"-u", user + ":" + pass, s.url + "/metrics"}, "200"},
			{"a wrong password is refused", []string{"-u", user + ":salah", s.url + "/metrics"}, "401"},
			{"the overview needs basic auth too", []string{s.url + "/"}, "401"},
			{"the API with a valid token needs no basic auth", []string{"-H", "Authorization: Bearer " + tokens[store.RoleViewer], s.url + "/api/v1/kpis"}, "200"},
			{"the API with an unknown token is refused by the API", []string{"-H", "Authorization: Bearer " + store.TokenPrefix + "bukan-token", s.url + "/api/v1/kpis"}, "401"},
			{"the API without a token or basic auth is refused", []string{s.url + "/api/v1/kpis"}, "401"},
			// The mux cleans the path and redirects (the redirect's target
			// then needs basic auth); an encoded climb stays inside the API,
			// which has no such route.
			{"a path that climbs out of the API is no way round basic auth", []string{"--path-as-is", "-H", "Authorization: Bearer " + tokens[store.RoleViewer], s.url + "/api/v1/../metrics"}, "307"},
			{"an encoded climb is no way round either", []string{"--path-as-is", "-H", "Authorization: Bearer " + tokens[store.RoleViewer], s.url + "/api/v1/%2e%2e/metrics"}, "404"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if got := curl(t, append([]string{"--cacert", web.CAFile}, tt.args...)...); got != tt.want {
					t.Errorf("status %s, want %s", got, tt.want)
				}
			})
		}
		t.Run("curl without the CA refuses the certificate", func(t *testing.T) {
			bin := sourcetest.Program(t, "curl", "install curl")
			out, err := exec.Command(bin, "-sS", "-u", user+":"+pass, s.url+"/metrics").CombinedOutput()
			if err == nil || !strings.Contains(string(out), "certificate") {
				t.Errorf("curl without --cacert: err %v, output %q; want a certificate error", err, out)
			}
		})
	})

	t.Run("Prometheus scrapes over TLS with basic auth, and not without", func(t *testing.T) {
		promBin := sourcetest.Program(t, "prometheus", promHow)
		target := strings.TrimPrefix(s.url, "https://")
		dir := t.TempDir()
		promConfig := filepath.Join(dir, "prometheus.yml")
		tlsConfig := "    scheme: https\n    tls_config:\n      ca_file: " + web.CAFile + "\n"
		if err := os.WriteFile(promConfig, []byte(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: pantau
`+tlsConfig+`    basic_auth:
      username: `+user+`
      password: `+pass+`
    static_configs:
      - targets: ['`+target+`']
  - job_name: pantau-without-auth
`+tlsConfig+`    static_configs:
      - targets: ['`+target+`']
`), 0o600); err != nil {
			t.Fatal(err)
		}
		prom := runPrometheus(t, promBin, promConfig)
		health := map[string]string{}
		waitFor(t, time.Minute, "both targets to be scraped", func() bool {
			if !prom.ready() {
				return false
			}
			var data struct {
				ActiveTargets []struct {
					Labels    map[string]string `json:"labels"`
					Health    string            `json:"health"`
					LastError string            `json:"lastError"`
				} `json:"activeTargets"`
			}
			promAPI(t, prom.url, "/api/v1/targets", url.Values{"state": {"active"}}, &data)
			for _, tg := range data.ActiveTargets {
				health[tg.Labels["job"]] = tg.Health + " " + tg.LastError
			}
			return strings.HasPrefix(health["pantau"], "up") && strings.HasPrefix(health["pantau-without-auth"], "down")
		})
		if !strings.Contains(health["pantau-without-auth"], "401") {
			t.Errorf("the scrape without basic auth failed with %q, want a 401", health["pantau-without-auth"])
		}
		waitFor(t, 30*time.Second, "pantau's series in Prometheus", func() bool {
			return len(query(t, prom.url, `pantau_kpi_up{job="pantau"}`)) == len(exampleKPIs)
		})
	})
}

func TestTokensAreNeverLogged(t *testing.T) {
	s, tokens := securedServe(t, "--log-level", "debug")
	waitFor(t, time.Minute, "the first refresh", func() bool {
		code, _ := get(t, s.url+"/readyz")
		return code == http.StatusOK
	})
	unknown := store.TokenPrefix + "Zm9yZ2VkLXRva2VuLXRoYXQtaXMtbm90LWluLXRoZS1zdG9yZQ"
	secrets := []string{tokens[store.RoleAdmin], tokens[store.RoleViewer], unknown}
	send := func(method, path, auth, body string) int {
		req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tok := range secrets {
		for _, r := range []struct{ method, path, auth, body string }{
			{"GET", "/api/v1/kpis", "Bearer " + tok, ""},
			{"GET", "/api/v1/progress?kpi=kube_jasa&region=32", "bearer " + tok, ""},
			{"GET", "/api/v1/progress?kpi=tidak_ada", "Bearer " + tok, ""}, // a 400
			{"PUT", "/api/v1/targets/kube_jasa/32.16.06/2026", "Bearer " + tok, `{"target": 12, "reason": "uji log"}`},
			{"GET", "/api/v1/kpis?token=" + tok, "", ""},
			{"GET", "/api/v1/kpis?access_token=" + strings.Replace(tok, "_", "%5F", 1), "", ""},
			{"GET", "/api/v1/kpis?access_token=" + url.QueryEscape(strings.Replace(tok, "_", "%5F", 1)), "", ""},
			{"GET", "/api/v1/targets/" + tok, "", ""},
			{"GET", "/metrics", "Bearer " + tok, ""},
			{"GET", "/api/v1/kpis", "Basic " + tok, ""},
		} {
			send(r.method, r.path, r.auth, r.body)
		}
	}
	if code := send("GET", "/api/v1/kpis", "Bearer "+tokens[store.RoleViewer], ""); code != http.StatusOK {
		t.Fatalf("a valid token was refused (%d): the requests above did not reach the API", code)
	}
	if code := s.stop(); code != exitOK {
		t.Errorf("exit %d", code)
	}
	log := s.stderr.String()
	if !strings.Contains(log, `msg="api request"`) || !strings.Contains(log, "token="+store.RoleViewer) {
		t.Fatalf("the log has no API request with the token's name; the test would prove nothing:\n%.2000s", log)
	}
	for _, tok := range secrets {
		sum := sha256.Sum256([]byte(tok))
		secret := strings.TrimPrefix(tok, store.TokenPrefix)
		for what, s := range map[string]string{"token": secret, "SHA-256 hash": hex.EncodeToString(sum[:])} {
			if strings.Contains(log, s) || strings.Contains(log, s[:16]) {
				t.Errorf("the log holds the %s of %s…", what, tok[:8])
			}
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", log)
	}
}

func TestEveryAnswerCarriesSecurityHeaders(t *testing.T) {
	s, tokens := securedServe(t)
	waitFor(t, time.Minute, "the first refresh", func() bool {
		code, _ := get(t, s.url+"/readyz")
		return code == http.StatusOK
	})
	for _, tt := range []struct {
		path   string
		token  bool
		status int
	}{
		{"/", false, http.StatusUnauthorized}, // the overview asks for a token
		{"/metrics", false, http.StatusOK},
		{"/healthz", false, http.StatusOK},
		{"/readyz", false, http.StatusOK},
		{"/tidak-ada", false, http.StatusNotFound},
		{"/api/v1/openapi.json", false, http.StatusOK},
		{"/api/v1/kpis", false, http.StatusUnauthorized},
		{"/api/v1/kpis", true, http.StatusOK},
		{"/api/v1/progress?kpi=kube_jasa&region=32", true, http.StatusOK},
		{"/api/v1/export?format=csv&kpi=kube_jasa", true, http.StatusOK},
		{"/api/v1/geo/provinces", true, http.StatusOK},
		{"/api/v1/tidak-ada", true, http.StatusNotFound},
	} {
		req, err := http.NewRequest("GET", s.url+tt.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tt.token {
			req.Header.Set("Authorization", "Bearer "+tokens[store.RoleViewer])
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d", tt.path, resp.StatusCode, tt.status)
		}
		h := resp.Header
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" ||
			h.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'none'") {
			t.Errorf("%s (%d): security headers missing: %v", tt.path, resp.StatusCode, h)
		}
		if cc := h.Get("Cache-Control"); tt.token && !strings.Contains(cc, "private") && !strings.Contains(cc, "no-store") {
			t.Errorf("%s with a token: Cache-Control %q, want private", tt.path, cc)
		}
	}
}

func TestABadWebConfigStopsServeAndDemoAtStart(t *testing.T) {
	bad := httpservetest.Write(t, false, nil, "basic_auth_users:\n  prometheus: rahasia\ntls_config: {}\n")
	spec := exampleSpec(t, "sqlite", "5m")
	dataDir := t.TempDir()
	for _, args := range [][]string{
		{"serve", "--config", spec, "--listen", "127.0.0.1:0", "--web.config.file", bad.File},
		{"demo", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--web.config.file", bad.File},
	} {
		t.Run(args[0], func(t *testing.T) {
			var stdout, stderr syncBuffer
			if code := run(context.Background(), args, &stdout, &stderr); code != exitFailure {
				t.Errorf("exit %d, want %d", code, exitFailure)
			}
			msg := stderr.String()
			if !strings.Contains(msg, "--web.config.file") || !strings.Contains(msg, bad.File) || !strings.Contains(msg, "line 3") {
				t.Errorf("stderr %q, want it to name the flag, the file and the line of the unknown key", msg)
			}
			// Checked before any work: the demo generated nothing.
			if entries, _ := os.ReadDir(dataDir); len(entries) > 0 {
				t.Errorf("the demo wrote %s before refusing the web config", entries[0].Name())
			}
		})
	}
}
