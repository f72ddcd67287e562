package gateway

import (
	"crypto/sha256"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/atrium-hq/atrium/workspaces"
)

// rateLimiter gives each caller of the OpenAI-compatible API (seed 001) a
// token bucket: Config.RateLimit requests a minute, in bursts of up to
// that many. A caller over it gets seed 001's 429 with Retry-After, which
// OpenAI's clients wait out and retry. A user's keys and login tokens
// share the user's bucket; an agent key has its own.
type rateLimiter struct {
	perMinute int
	limit     rate.Limit

	mu      sync.Mutex // guards the following fields
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time // the bucket's last request
}

// newRateLimiter returns a limiter of perMinute requests a minute per
// caller, or nil (no limit) when perMinute is not positive.
func newRateLimiter(perMinute int) *rateLimiter {
	if perMinute <= 0 {
		return nil
	}
	return &rateLimiter{perMinute: perMinute, limit: rate.Limit(float64(perMinute) / 60), buckets: make(map[string]*bucket)}
}

// allow takes one request from key's bucket at now. When the bucket is
// empty it reports false and how long until it holds a request again.
func (l *rateLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// A bucket idle for a minute is full again: forgetting it changes
	// nothing, and keeps the map to the callers of the last minute.
	if now.Sub(l.swept) > time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.last) > time.Minute {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.perMinute)}
		l.buckets[key] = b
	}
	b.last = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// rateKey is the bucket of a caller: its user, or its agent key (hashed,
// so the map holds no secret).
func rateKey(user workspaces.UserID, agentKey string) string {
	if agentKey != "" {
		h := sha256.Sum256([]byte(agentKey))
		return "k:" + string(h[:16])
	}
	return "u:" + string(user)
}

// checkRate is nil when the caller may make one more request now, or seed
// 001's 429.
func (s *server) checkRate(user workspaces.UserID, agentKey string) error {
	if s.limiter == nil {
		return nil
	}
	ok, wait := s.limiter.allow(rateKey(user, agentKey), time.Now())
	if ok {
		return nil
	}
	secs := int(math.Ceil(wait.Seconds()))
	return &oaiError{Status: http.StatusTooManyRequests, Type: oaiRateLimit, Code: "rate_limit_exceeded", RetryAfter: secs,
		Message: fmt.Sprintf("Rate limit reached: at most %d requests a minute. Try again in %d s.", s.limiter.perMinute, secs)}
}

// setRetryAfter adds Retry-After to a 429's headers.
func setRetryAfter(w http.ResponseWriter, e *oaiError) {
	if e.Status == http.StatusTooManyRequests && e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
}
