package safehttp

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// ErrBadURL is matched (with errors.Is) by refusals of a URL for its form:
// a scheme other than http and https, user info, or no host.
var ErrBadURL = errors.New("refusing the URL")

// guard is the RoundTripper in front of the transport: it runs for the
// first request and for every redirect, so each hop's URL is checked and
// each body limited, also for callers of HTTPClient.
type guard struct {
	next         http.RoundTripper
	userAgent    string
	maxBodyBytes int64 // negative: no limit
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := checkURL(req.URL); err != nil {
		if req.Body != nil {
			req.Body.Close() // a RoundTripper must close it, even on error
		}
		return nil, err
	}
	if req.Header.Get("User-Agent") == "" {
		// A RoundTripper must not modify the caller's request.
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", g.userAgent)
	}
	resp, err := g.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if g.maxBodyBytes >= 0 && resp.Body != nil {
		resp.Body = newLimitedBody(resp.Body, g.maxBodyBytes)
	}
	return resp, nil
}

// checkURL refuses URLs a tool has no business fetching: other schemes
// (file:, gopher:…), and user info, which hides the real host from a
// reader ("https://trusted.com@evil.com/") and would send credentials.
func checkURL(u *url.URL) error {
	if u == nil {
		return fmt.Errorf("%w: no URL", ErrBadURL)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: only http and https URLs can be fetched, not %q", ErrBadURL, u.Scheme)
	}
	if u.User != nil {
		return fmt.Errorf("%w: URLs with a user name or password are refused", ErrBadURL)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%w: the URL has no host", ErrBadURL)
	}
	return nil
}
