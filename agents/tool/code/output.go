package code

import (
	"fmt"
	"strings"
	"sync"

	"github.com/atrium-hq/atrium/agents/tool/safehttp"
)

// Output limits that are not configured.
const (
	// tailBytes is how much of the end of each stream is kept, so that a
	// traceback after a flood of output is still seen.
	tailBytes = 4 << 10
	// floodBytes is output after which a run is killed: reading and
	// dropping it would only burn the rest of the run's time.
	floodBytes = 16 << 20
)

// capture collects a run's stdout and stderr: the first limit bytes of
// each and the last tailBytes, counting and dropping the rest, so that a
// run can print without end and cost only bounded memory. The streams are
// written by exec's copying goroutines, hence the lock.
type capture struct {
	limit   int
	onFlood func() // called once, when the output passes floodBytes

	mu      sync.Mutex // guards the following fields
	total   int64
	flooded bool
}

func newCapture(limit int, onFlood func()) (*capture, *stream, *stream) {
	c := &capture{limit: limit, onFlood: onFlood}
	return c, &stream{c: c}, &stream{c: c}
}

// stream is one of a run's output streams; it never fails a write, so
// the process is never blocked or signalled for printing.
type stream struct {
	c    *capture
	head []byte // the first bytes, up to the capture's limit
	tail []byte // the last tailBytes bytes
	n    int64  // bytes written in all
}

func (s *stream) Write(p []byte) (int, error) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	s.n += int64(len(p))
	if room := c.limit - len(s.head); room > 0 {
		s.head = append(s.head, p[:min(room, len(p))]...)
	}
	s.tail = append(s.tail, p[max(0, len(p)-tailBytes):]...)
	if len(s.tail) > tailBytes {
		s.tail = append(s.tail[:0], s.tail[len(s.tail)-tailBytes:]...)
	}
	c.total += int64(len(p))
	if c.total > floodBytes && !c.flooded {
		c.flooded = true
		go c.onFlood()
	}
	return len(p), nil
}

// wasFlooded reports whether the output passed floodBytes.
func (c *capture) wasFlooded() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flooded
}

// shares splits the capture's limit between stdout and stderr: each gets
// what it wrote when both fit, and otherwise at least half, or all the
// other leaves.
func (c *capture) shares(stdout, stderr *stream) (int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	errShare := int(min(stderr.n, int64(c.limit/2)))
	outShare := int(min(stdout.n, int64(c.limit-errShare)))
	errShare = int(min(stderr.n, int64(c.limit-outShare)))
	return outShare, errShare
}

// text is what the result shows of the stream in share bytes: all of it,
// or its start and its end with a note of what was dropped between them.
// The bytes are made valid UTF-8.
func (s *stream) text(share int) string {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if s.n <= int64(share) && s.n <= int64(len(s.head)) {
		return strings.ToValidUTF8(string(s.head), "\uFFFD")
	}
	tail := min(len(s.tail), share/2)
	head := min(len(s.head), share-tail)
	dropped := s.n - int64(head) - int64(tail)
	return strings.ToValidUTF8(string(s.head[:head]), "\uFFFD") +
		fmt.Sprintf("\n[… %s of output cut here …]\n", safehttp.FormatSize(dropped)) +
		strings.ToValidUTF8(string(s.tail[len(s.tail)-tail:]), "\uFFFD")
}
