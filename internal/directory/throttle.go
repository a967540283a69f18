package directory

import (
	"context"
	"sync"
	"time"
)

// ThrottleConfig limits failed sign-ins per client IP, so one address
// cannot guess passwords fast while every other client is unaffected.
// Successful sign-ins are never limited (PostgreSQL search+bind binds its
// service account on every login). Failures within Window are counted per
// IP: past Soft, each failure is answered after a delay that grows with
// the count (up to MaxDelay). Past Hard failures for one account from one
// address, that address is refused for that account until the window
// ends: refusing the whole address would lock out every user behind a
// shared client such as a PostgreSQL server. Zero fields take the
// defaults; Hard < 0 turns refusal off.
type ThrottleConfig struct {
	Window   time.Duration // default 1 minute
	Soft     int           // default 10
	Hard     int           // default 100
	Step     time.Duration // delay per failure past Soft (default 200 ms)
	MaxDelay time.Duration // default 2 s
	MaxIPs   int           // addresses and address-account pairs tracked at most (default 100,000)
}

func (c ThrottleConfig) withDefaults() ThrottleConfig {
	if c.Window <= 0 {
		c.Window = time.Minute
	}
	if c.Soft <= 0 {
		c.Soft = 10
	}
	if c.Hard == 0 {
		c.Hard = 100
	}
	if c.Step <= 0 {
		c.Step = 200 * time.Millisecond
	}
	if c.MaxDelay <= 0 {
		c.MaxDelay = 2 * time.Second
	}
	if c.MaxIPs <= 0 {
		c.MaxIPs = 100000
	}
	return c
}

// throttle counts failed sign-ins per client IP. It is in memory, per
// node: lockout (in the store) is what bounds guesses per account.
type throttle struct {
	cfg ThrottleConfig
	mu  sync.Mutex
	ips map[string]*ipFailures
}

type ipFailures struct {
	start time.Time // of the current window
	n     int
}

func newThrottle(c ThrottleConfig) *throttle {
	return &throttle{cfg: c.withDefaults(), ips: map[string]*ipFailures{}}
}

// appendPairKey appends the name of one account as tried from one
// address.
func appendPairKey(dst []byte, ip string, account []byte) []byte {
	return append(append(append(dst, ip...), 0), account...)
}

// refused reports whether account, tried from ip, is past the hard limit
// in its window. It is asked on every sign-in, so it builds the key on
// the stack rather than allocate it.
func (t *throttle) refused(ip string, account []byte, now time.Time) bool {
	if ip == "" || t.cfg.Hard < 0 {
		return false
	}
	var buf [256]byte
	key := appendPairKey(buf[:0], ip, account)
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.ips[string(key)]
	return f != nil && now.Sub(f.start) < t.cfg.Window && f.n >= t.cfg.Hard
}

// failed counts a failure for account from ip and returns how long to
// wait before answering it.
func (t *throttle) failed(ip string, account []byte, now time.Time) time.Duration {
	if ip == "" {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.count(string(appendPairKey(nil, ip, account)), now)
	n := t.count(ip, now)
	if n <= t.cfg.Soft {
		return 0
	}
	return min(time.Duration(n-t.cfg.Soft)*t.cfg.Step, t.cfg.MaxDelay)
}

// count adds a failure to key's window and returns the window's count.
func (t *throttle) count(key string, now time.Time) int {
	f := t.ips[key]
	if f == nil || now.Sub(f.start) >= t.cfg.Window {
		if f == nil && len(t.ips) >= t.cfg.MaxIPs {
			t.evict(now)
		}
		f = &ipFailures{start: now}
		t.ips[key] = f
	}
	f.n++
	return f.n
}

// evict drops the windows that ended, or (when all are current) half of
// them, so a flood of addresses cannot grow the map without bound.
func (t *throttle) evict(now time.Time) {
	for ip, f := range t.ips {
		if now.Sub(f.start) >= t.cfg.Window {
			delete(t.ips, ip)
		}
	}
	for ip := range t.ips {
		if len(t.ips) < t.cfg.MaxIPs/2 {
			break
		}
		delete(t.ips, ip)
	}
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
	case <-ctx.Done():
	}
}
