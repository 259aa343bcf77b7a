package httpserver

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter is a token bucket per client address. Buckets idle for ten
// minutes are dropped so the map cannot grow without bound.
type Limiter struct {
	perMinute int
	now       func() time.Time

	mu      sync.Mutex // guards buckets
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func NewLimiter(perMinute int, now func() time.Time) *Limiter {
	return &Limiter{perMinute: perMinute, now: now, buckets: map[string]*bucket{}, swept: now()}
}

// Allow takes a token for addr.
func (l *Limiter) Allow(addr string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[addr]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(float64(l.perMinute)/60), l.perMinute)}
		l.buckets[addr] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}
