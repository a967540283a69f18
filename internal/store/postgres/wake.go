package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// notifyChannel is the LISTEN/NOTIFY channel on which every Update that
// changed something announces its sequence number at commit.
const notifyChannel = "dirgate_changes"

// wakeRetry is how long Wake waits before listening again after its
// connection failed (the database restarting, a failover).
const wakeRetry = 2 * time.Second

var _ interface {
	Wake(context.Context) <-chan struct{}
} = (*Store)(nil)

// Wake listens on a connection of its own (outside the pool, which
// would otherwise lose one connection to it) and signals the channel
// after each commit of any node, coalescing bursts: the follower reads
// every change since its sequence anyway. While the connection is down
// nothing is signalled and the follower's polling carries on; on
// reconnecting Wake signals once, for what it may have missed.
func (s *Store) Wake(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{}, 1)
	signal := func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	go func() {
		for ctx.Err() == nil {
			s.listen(ctx, signal)
			select {
			case <-ctx.Done():
			case <-time.After(wakeRetry):
			}
		}
	}()
	return ch
}

// listen holds one LISTEN connection until it fails or ctx ends.
func (s *Store) listen(ctx context.Context, signal func()) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return
	}
	signal() // changes made while no one listened
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return
		}
		signal()
	}
}
