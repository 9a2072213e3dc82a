package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/lib/pq"
)

func TestIsUnavailable(t *testing.T) {
	// A real refused connection, as lib/pq reports it.
	refused := func() error {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		_, err = Open(context.Background(), "postgres", "postgres://pantau@"+addr+"/pantau?sslmode=disable")
		return err
	}()
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"a refused connection is unavailable", refused, true},
		{"a connection the driver found broken is unavailable", fmt.Errorf("store: %w", driver.ErrBadConn), true},
		{"PostgreSQL out of disk space is unavailable", &pq.Error{Code: "53100"}, true},
		{"PostgreSQL shutting down is unavailable", &pq.Error{Code: "57P01"}, true},
		{"a lost PostgreSQL connection is unavailable", &pq.Error{Code: "08006"}, true},
		{"a unique violation is the request's problem, not the store's", &pq.Error{Code: "23505"}, false},
		{"a syntax error is a bug, not an outage", &pq.Error{Code: "42601"}, false},
		{"a plain error is not an outage", errors.New("boom"), false},
		{"no error is not an outage", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsUnavailable(tc.err); got != tc.want {
				t.Errorf("IsUnavailable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
