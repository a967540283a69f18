package api

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// limiter counts each token's calls in fixed one-minute windows, as Okta's
// rate limits do, and reports them in Okta's headers: X-Rate-Limit-Limit,
// -Remaining, and -Reset (the Unix second the window ends).
type limiter struct {
	limit int // per window; < 0: unlimited
	now   func() time.Time

	mu      sync.Mutex
	windows map[string]*window
	swept   time.Time
}

type window struct {
	start time.Time
	used  int
}

func newLimiter(limit int, now func() time.Time) *limiter {
	return &limiter{limit: limit, now: now, windows: make(map[string]*window)}
}

// allow counts one call of key and sets the headers; false: over the limit.
func (l *limiter) allow(w http.ResponseWriter, key string) bool {
	if l.limit < 0 {
		return true
	}
	now := l.now()
	start := now.Truncate(time.Minute)
	l.mu.Lock()
	if now.Sub(l.swept) > time.Minute { // forget idle tokens' windows
		for k, win := range l.windows {
			if win.start.Before(start) {
				delete(l.windows, k)
			}
		}
		l.swept = now
	}
	win := l.windows[key]
	if win == nil || win.start != start {
		win = &window{start: start}
		l.windows[key] = win
	}
	ok := win.used < l.limit
	if ok {
		win.used++
	}
	remaining := l.limit - win.used
	l.mu.Unlock()
	h := w.Header()
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(l.limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(start.Add(time.Minute).Unix(), 10))
	return ok
}
