package api

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"

	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/store"
)

// downStore is a store whose database refuses every connection.
type downStore struct{}

var errRefused = &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}

func (downStore) LookupToken(context.Context, string) (store.Token, error) {
	return store.Token{}, errRefused
}
func (downStore) History(context.Context, store.HistoryFilter) ([]store.HistoryRow, error) {
	return nil, errRefused
}
func (downStore) ListTargets(context.Context, store.TargetFilter) ([]kpi.Target, error) {
	return nil, errRefused
}
func (downStore) ApplyTargets(context.Context, []store.Change, string, string) (store.Summary, error) {
	return store.Summary{}, errRefused
}
func (downStore) Audit(context.Context, store.AuditFilter) ([]store.AuditEntry, error) {
	return nil, errRefused
}

func TestStoreUnavailable(t *testing.T) {
	f := newFixture(t, "sqlite", fixtureOptions{})
	a, err := New(Options{Snapshots: f.collector, Regions: f.regions, Store: downStore{}, OpenRead: true, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, url, token string
		status           int
		code             string
	}{
		{"a read of the store's targets is a 503 to retry", "/api/v1/targets?kpi=kube_jasa", "", http.StatusServiceUnavailable, "store_unavailable"},
		{"a token that cannot be checked is a 503, not a 401 or a 500", "/api/v1/progress?kpi=kube_jasa", "pnt_x", http.StatusServiceUnavailable, "store_unavailable"},
		{"a read of the snapshot goes on", "/api/v1/progress?kpi=kube_jasa", "", http.StatusOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", tc.url, nil)
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			rec := httptest.NewRecorder()
			a.Handler().ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body.String())
			}
			if tc.code == "" {
				return
			}
			if got := errorCode(t, rec); got != tc.code || rec.Header().Get("Retry-After") == "" {
				t.Errorf("error %q, Retry-After %q; want %s with Retry-After", got, rec.Header().Get("Retry-After"), tc.code)
			}
		})
	}
}
