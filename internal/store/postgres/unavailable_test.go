package postgres

import (
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dirgate/dirgate/internal/store"
)

func TestUnavailable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{fmt.Errorf("postgres: begin: %w", io.ErrUnexpectedEOF), true},
		{&pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, true},
		{&pgconn.PgError{Code: "08006"}, true},
		{&pgconn.PgError{Code: "23505"}, false}, // a unique violation is no outage
		{store.ErrConflict, false},
		{errors.New("something else"), false},
	} {
		got := unavailable(tc.err)
		if errors.Is(got, store.ErrUnavailable) != tc.want || !errors.Is(got, tc.err) {
			t.Errorf("unavailable(%v) = %v, want unavailable %v", tc.err, got, tc.want)
		}
	}
	if unavailable(nil) != nil {
		t.Error("unavailable(nil) is not nil")
	}
}
