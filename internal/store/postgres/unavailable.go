package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dirgate/dirgate/internal/store"
)

// The Store's methods are the unexported ones with store.ErrUnavailable
// added to the errors of a database that cannot be reached, so that the
// directory tells "try again" (LDAP unavailable, HTTP 503) from a fault
// (an internal error), and a bind that must count a failure fails closed
// with that diagnostic.

func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	return unavailable(s.update(ctx, fn))
}

func (s *Store) View(ctx context.Context, fn func(store.Reader) error) error {
	return unavailable(s.view(ctx, fn))
}

func (s *Store) Seq(ctx context.Context) (uint64, error) {
	n, err := s.seq(ctx)
	return n, unavailable(err)
}

func (s *Store) ChangesSince(ctx context.Context, since uint64, limit int) ([]store.Change, error) {
	c, err := s.changesSince(ctx, since, limit)
	return c, unavailable(err)
}

func (s *Store) RecordLogins(ctx context.Context, at map[string]time.Time) error {
	return unavailable(s.recordLogins(ctx, at))
}

func (s *Store) RecordTokenUses(ctx context.Context, at map[string]time.Time) error {
	return unavailable(s.recordTokenUses(ctx, at))
}

func (s *Store) AppendEvents(ctx context.Context, events []*store.Event) error {
	return unavailable(s.appendEvents(ctx, events))
}

func (s *Store) Events(ctx context.Context, q store.EventQuery) ([]*store.Event, error) {
	e, err := s.events(ctx, q)
	return e, unavailable(err)
}

func (s *Store) PruneEvents(ctx context.Context, before time.Time) (int64, error) {
	n, err := s.pruneEvents(ctx, before)
	return n, unavailable(err)
}

// unavailable wraps err with store.ErrUnavailable when it says the
// database could not be reached or went away: no connection, a
// connection lost mid-way, a server shutting down or starting up
// (SQLSTATE class 08, and 57P01–57P03).
func unavailable(err error) error {
	if err == nil || errors.Is(err, store.ErrUnavailable) {
		return err
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
	case errors.As(err, &pe) && (len(pe.Code) == 5 && pe.Code[:2] == "08" || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"):
	default:
		return err
	}
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}
