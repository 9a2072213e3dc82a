package httpserve_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pantau-id/pantau/httpserve"
	"github.com/pantau-id/pantau/httpserve/httpservetest"
)

// serve serves a handler that answers "ok" through the web config at
// path, on a loopback port, and returns its base URL and a client that
// trusts the test certificate.
func serve(t *testing.T, c httpservetest.Config) (string, *http.Client) {
	t.Helper()
	w, err := httpserve.Load(c.File, "/api/v1/")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v1/") {
			rw.Header().Set("Cache-Control", "private, max-age=10")
		}
		io.WriteString(rw, "ok")
	}), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	serve := w.Configure(srv)
	go func() { done <- serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != http.ErrServerClosed {
			t.Errorf("Serve: %v", err)
		}
	})
	tr := &http.Transport{TLSClientConfig: c.ClientTLS()}
	t.Cleanup(tr.CloseIdleConnections)
	return w.Scheme() + "://" + ln.Addr().String(), &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func get(t *testing.T, client *http.Client, url string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

func TestBasicAuthAndTLS(t *testing.T) {
	c := httpservetest.Write(t, true, map[string]string{"prometheus": "rahasia-scrape"}, "")
	base, client := serve(t, c)
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("base %s, want https", base)
	}
	basic := func(user, pass string) []string {
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth(user, pass)
		return []string{"Authorization", req.Header.Get("Authorization")}
	}
	tests := []struct {
		name   string
		path   string
		header []string
		want   int
	}{
		{"a request without credentials is refused", "/metrics", nil, http.StatusUnauthorized},
		{"the right user and password pass", "/metrics", basic("prometheus", "rahasia-scrape"), http.StatusOK},
		{"a wrong password is refused", "/metrics", basic("prometheus", "salah"), http.StatusUnauthorized},
		{"an unknown user is refused", "/metrics", basic("tamu", "rahasia-scrape"), http.StatusUnauthorized},
		{"a bearer token outside the API does not replace basic auth", "/metrics", []string{"Authorization", "Bearer pnt_x"}, http.StatusUnauthorized},
		{"a bearer token under the API is left to the API to check", "/api/v1/kpis", []string{"Authorization", "Bearer pnt_x"}, http.StatusOK},
		{"the API without a token needs basic auth", "/api/v1/kpis", nil, http.StatusUnauthorized},
		{"the API with basic auth passes on to the API", "/api/v1/kpis", basic("prometheus", "rahasia-scrape"), http.StatusOK},
		{"a path that only starts like the API is not the API", "/api/v10/x", []string{"Authorization", "Bearer pnt_x"}, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := get(t, client, base+tt.path, tt.header...)
			if res.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.want)
			}
			if tt.want == http.StatusUnauthorized && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("WWW-Authenticate %q, want a Basic challenge", res.Header.Get("WWW-Authenticate"))
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("a %d answer without the security headers", res.StatusCode)
			}
		})
	}
	t.Run("answers over TLS ask browsers to stay on TLS", func(t *testing.T) {
		if res := get(t, client, base+"/"); !strings.HasPrefix(res.Header.Get("Strict-Transport-Security"), "max-age=") {
			t.Errorf("Strict-Transport-Security %q", res.Header.Get("Strict-Transport-Security"))
		}
	})
	t.Run("a refusal under the API is the API's error JSON", func(t *testing.T) {
		res, err := client.Get(base + "/api/v1/kpis")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if err := json.NewDecoder(res.Body).Decode(&e); err != nil || e.Error.Code != "unauthorized" || e.Error.Message == "" {
			t.Errorf("body %+v (%v), want {\"error\": {\"code\": \"unauthorized\", ...}}", e, err)
		}
	})
	t.Run("plain HTTP to the TLS port gets no answer from pantau", func(t *testing.T) {
		res, err := http.Get("http://" + strings.TrimPrefix(base, "https://") + "/metrics")
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusBadRequest || strings.Contains(string(body), "ok") {
				t.Errorf("plain HTTP: status %d %q, want Go's 400 to a plain request on a TLS port", res.StatusCode, body)
			}
		}
	})
	t.Run("a client that does not trust the certificate is refused", func(t *testing.T) {
		if _, err := (&http.Client{Timeout: 5 * time.Second}).Get(base + "/metrics"); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("err = %v, want a certificate error", err)
		}
	})
}

func TestRateLimit(t *testing.T) {
	base, client := serve(t, httpservetest.Write(t, false, nil, "rate_limit:\n  interval: 1h\n  burst: 2\n"))
	for i, want := range []int{http.StatusOK, http.StatusOK, http.StatusTooManyRequests} {
		if res := get(t, client, base+"/metrics"); res.StatusCode != want {
			t.Errorf("request %d: status %d, want %d", i+1, res.StatusCode, want)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	base, client := serve(t, httpservetest.Config{})
	if !strings.HasPrefix(base, "http://") {
		t.Fatalf("without a web config the base is %s, want http", base)
	}
	for _, tt := range []struct {
		name, path, auth, cache string
	}{
		{"an anonymous page gets the headers and no cache policy of ours", "/", "", ""},
		{"a request with credentials is private and not stored by default", "/metrics", "Basic eDp5", "private, no-store"},
		{"the API's own private policy is kept", "/api/v1/kpis", "Bearer pnt_x", "private, max-age=10"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var h []string
			if tt.auth != "" {
				h = []string{"Authorization", tt.auth}
			}
			res := get(t, client, base+tt.path, h...)
			for k, want := range map[string]string{
				"Strict-Transport-Security": "", // plain HTTP
				"X-Content-Type-Options":    "nosniff",
				"Referrer-Policy":           "no-referrer",
				"X-Frame-Options":           "DENY",
				"Cache-Control":             tt.cache,
			} {
				if got := res.Header.Get(k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			csp := res.Header.Get("Content-Security-Policy")
			for _, d := range []string{"default-src 'none'", "script-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"} {
				if !strings.Contains(csp, d) {
					t.Errorf("Content-Security-Policy %q lacks %q", csp, d)
				}
			}
			if strings.Contains(csp, "unsafe-eval") || strings.Contains(strings.SplitN(strings.SplitN(csp, "script-src", 2)[1], ";", 2)[0], "unsafe-inline") {
				t.Errorf("Content-Security-Policy %q lets scripts run", csp)
			}
		})
	}
}

func TestBadWebConfigIsRefusedAtStart(t *testing.T) {
	for _, tt := range []struct {
		name, extra, want string
	}{
		{"an unknown key names its line", "basic_auth_user:\n  x: y\n", "line 1"},
		{"a password that is not a bcrypt hash is refused", "basic_auth_users:\n  prometheus: rahasia\n", "hash"},
		{"a missing certificate file is named", "tls_server_config:\n  cert_file: tidak-ada.crt\n  key_file: tidak-ada.key\n", "tidak-ada.crt"},
		{"a certificate without its key is refused", "tls_server_config:\n  cert_file: pantau.crt\n", "key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := httpservetest.Write(t, false, nil, tt.extra)
			_, err := httpserve.Load(c.File, "/api/v1/")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), c.File) {
				t.Errorf("err = %v, want it to name %s and contain %q", err, c.File, tt.want)
			}
		})
	}
	t.Run("a file that does not exist is an error", func(t *testing.T) {
		if _, err := httpserve.Load(t.TempDir()+"/web.yml", ""); err == nil || !os.IsNotExist(unwrapAll(err)) {
			t.Errorf("err = %v, want not-exist", err)
		}
	})
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}
