package safehttp

import (
	"errors"
	"fmt"
	"io"
)

// ErrBodyTooLarge is matched (with errors.Is) by the error of reading more
// of a response body than Config.MaxBodyBytes allows.
var ErrBodyTooLarge = errors.New("response body too large")

// limitedBody is a response body that fails once more than limit bytes
// have been read, so a tool cannot be made to read an endless stream or a
// decompression bomb into memory. The bytes up to the limit are still
// returned first, so a caller may keep what it read.
type limitedBody struct {
	rc    io.ReadCloser
	limit int64
	left  int64
	err   error // sticky: the first error seen
}

func newLimitedBody(rc io.ReadCloser, limit int64) *limitedBody {
	return &limitedBody{rc: rc, limit: limit, left: limit}
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	// Read one byte past the limit to tell "exactly limit bytes" from
	// "more than limit bytes".
	if int64(len(p))-1 > b.left {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	if int64(n) <= b.left {
		b.left -= int64(n)
		b.err = err
		return n, err
	}
	n = int(b.left)
	b.left = 0
	b.err = fmt.Errorf("%w: it is larger than %s", ErrBodyTooLarge, FormatSize(b.limit))
	return n, b.err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// FormatSize writes a byte count for people: "512 bytes", "12.5 KiB",
// "5 MiB".
func FormatSize(n int64) string {
	const unit = 1024
	if n < unit {
		if n == 1 {
			return "1 byte"
		}
		return fmt.Sprintf("%d bytes", n)
	}
	v, suffix := float64(n)/unit, "KiB"
	for _, s := range []string{"MiB", "GiB", "TiB"} {
		if v < unit {
			break
		}
		v, suffix = v/unit, s
	}
	s := fmt.Sprintf("%.1f", v)
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		s = s[:len(s)-2]
	}
	return s + " " + suffix
}
