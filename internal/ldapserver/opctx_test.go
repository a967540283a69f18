package ldapserver

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestOpContext: an operation's context behaves as context.WithTimeout's
// would: cancelled by its end, its connection's end or its deadline,
// whether Done was asked for before or after, and seen by derived
// contexts.
func TestOpContext(t *testing.T) {
	waitDone := func(t *testing.T, ch <-chan struct{}) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatal("Done not closed")
		}
	}
	type key struct{}
	t.Run("open", func(t *testing.T) {
		c := newOpContext(context.WithValue(context.Background(), key{}, "v"), time.Now().Add(time.Hour))
		if err := c.Err(); err != nil {
			t.Fatalf("Err %v", err)
		}
		if d, ok := c.Deadline(); !ok || time.Until(d) < 59*time.Minute {
			t.Errorf("Deadline %v %v", d, ok)
		}
		if c.Value(key{}) != "v" {
			t.Error("the connection's values are not seen")
		}
		select {
		case <-c.Done():
			t.Fatal("Done closed early")
		default:
		}
		c.end()
		waitDone(t, c.Done())
		if !errors.Is(c.Err(), context.Canceled) {
			t.Errorf("after end: %v", c.Err())
		}
	})
	t.Run("deadline, polled", func(t *testing.T) {
		c := newOpContext(context.Background(), time.Now().Add(-time.Millisecond))
		if !errors.Is(c.Err(), context.DeadlineExceeded) {
			t.Errorf("Err %v", c.Err())
		}
		waitDone(t, c.Done())
	})
	t.Run("deadline, waited", func(t *testing.T) {
		c := newOpContext(context.Background(), time.Now().Add(20*time.Millisecond))
		derived, cancel := context.WithCancel(c)
		defer cancel()
		waitDone(t, derived.Done())
		if !errors.Is(c.Err(), context.DeadlineExceeded) || !errors.Is(derived.Err(), context.DeadlineExceeded) {
			t.Errorf("Err %v, derived %v", c.Err(), derived.Err())
		}
	})
	t.Run("connection closes", func(t *testing.T) {
		parent, closeConn := context.WithCancel(context.Background())
		c := newOpContext(parent, time.Time{})
		if _, ok := c.Deadline(); ok {
			t.Error("a deadline without one")
		}
		done := c.Done()
		closeConn()
		waitDone(t, done)
		if !errors.Is(c.Err(), context.Canceled) {
			t.Errorf("Err %v", c.Err())
		}
		parent2, closeConn2 := context.WithCancel(context.Background())
		c2 := newOpContext(parent2, time.Time{})
		closeConn2()
		if !errors.Is(c2.Err(), context.Canceled) { // polled, Done never asked for
			t.Errorf("polled: %v", c2.Err())
		}
	})
	t.Run("end stops the watches", func(t *testing.T) {
		c := newOpContext(context.Background(), time.Now().Add(time.Hour))
		c.Done()
		c.end()
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.stop != nil || c.timer != nil {
			t.Error("the parent watch or the timer outlives the operation")
		}
	})
}

// BenchmarkOpContext is an operation's context as a search on the
// snapshot uses it: made, polled, ended.
func BenchmarkOpContext(b *testing.B) {
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.Run("opContext", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c := newOpContext(parent, time.Now().Add(time.Minute))
			_ = c.Err()
			c.end()
		}
	})
	b.Run("WithTimeout", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c, cancel := context.WithTimeout(parent, time.Minute)
			_ = c.Err()
			cancel()
		}
	})
}
