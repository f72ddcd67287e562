package safehttp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"time"
)

// Defaults for the zero values of Config's fields.
const (
	DefaultTimeout      = 20 * time.Second
	DefaultMaxRedirects = 5
	DefaultMaxBodyBytes = 5 << 20
	DefaultUserAgent    = "Atrium/1 (+https://github.com/atrium-hq/atrium)"
)

// Config configures a Client. The zero value refuses every internal
// address and uses the defaults above.
type Config struct {
	// Allow lists the host names, IPs and CIDR prefixes the operator lets
	// tools reach even though they are internal, normally parsed from
	// ATRIUM_TOOLS_ALLOW_HOSTS by ParseAllowList. A host name matches the
	// request URL's host exactly (case-insensitive), and then any address
	// it resolves to is allowed; an IP or prefix matches the address
	// dialed, whatever name led to it. An entry ParseAllowList would
	// reject allows nothing.
	Allow []string
	// Timeout bounds a whole request, redirects and reading the body
	// included: 20s when zero, none when negative.
	Timeout time.Duration
	// MaxRedirects is how many redirects are followed: 5 when zero. When
	// negative none are, and the redirect response itself is returned.
	MaxRedirects int
	// MaxBodyBytes is how much of a response body may be read before
	// reading fails with ErrBodyTooLarge: 5 MiB when zero, no limit when
	// negative (for long-lived streams).
	MaxBodyBytes int64
	// UserAgent is sent when a request sets none.
	UserAgent string
	// RootCAs replaces the system's trusted certificate authorities when
	// set; tests use it to trust httptest's TLS servers.
	RootCAs *x509.CertPool
}

// Client makes outbound HTTP requests for tools. It is safe for concurrent
// use; make one and share it so connections are reused.
type Client struct {
	hc           *http.Client
	maxRedirects int
}

// New returns a client configured by cfg.
func New(cfg Config) *Client {
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Timeout < 0 {
		cfg.Timeout = 0
	}
	if cfg.MaxRedirects == 0 {
		cfg.MaxRedirects = DefaultMaxRedirects
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	d := newDialer(newAllowList(cfg.Allow))
	tr := &http.Transport{
		// Never a proxy: it would be the address dialed, and the check
		// would no longer see where the request goes.
		Proxy:                 nil,
		DialContext:           d.dialContext,
		TLSClientConfig:       &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	c := &Client{maxRedirects: cfg.MaxRedirects}
	c.hc = &http.Client{
		Transport: &guard{
			next:         tr,
			userAgent:    cfg.UserAgent,
			maxBodyBytes: cfg.MaxBodyBytes,
		},
		CheckRedirect: c.checkRedirect,
		Timeout:       cfg.Timeout,
	}
	return c
}

// Do sends req. Its URL must be http or https without user info; internal
// addresses are refused with an error matching ErrBlocked; the response
// body fails with ErrBodyTooLarge past Config.MaxBodyBytes. As with
// http.Client, the caller closes the body.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	return c.hc.Do(req)
}

// Get fetches rawURL, as Do does.
func (c *Client) Get(ctx context.Context, rawURL string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	return c.Do(req)
}

// HTTPClient returns the underlying *http.Client, for SDKs that take one.
// It applies the same checks and limits as Do.
func (c *Client) HTTPClient() *http.Client { return c.hc }

// checkRedirect bounds the number of redirects. Each hop's URL and
// address are checked by the transport like the first request's.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if c.maxRedirects < 0 {
		return http.ErrUseLastResponse
	}
	if len(via) > c.maxRedirects {
		return fmt.Errorf("stopped after %d redirects", c.maxRedirects)
	}
	return nil
}
