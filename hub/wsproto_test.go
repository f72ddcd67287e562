package hub

import "testing"

// TestOriginPatternsMeanTheSameForSocketIO: the regular expressions handed
// to the Socket.IO library let through what OriginAllowed does.
func TestOriginPatternsMeanTheSameForSocketIO(t *testing.T) {
	patterns := []string{"https://app.example.com", "*.example.org", "dev-?.test:3000"}
	for _, origin := range []string{
		"https://app.example.com", "http://app.example.com", "https://APP.example.com", "https://evil.com",
		"https://a.example.org", "https://example.org", "https://a.b.example.org", "http://dev-1.test:3000",
		"http://dev-12.test:3000", "https://app.example.com.evil.com",
	} {
		want := OriginAllowed(origin, "atrium.local", patterns)
		got := false
		for _, p := range patterns {
			got = got || originRegexp(p).MatchString(origin)
		}
		if got != want {
			t.Errorf("%s: Socket.IO allows %v, OriginAllowed %v", origin, got, want)
		}
	}
}
