package web

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// schemePrefix matches a URL scheme and its colon (RFC 3986 §3.1).
var schemePrefix = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+.\-]*):`)

// normalizeURL turns what a model wrote into an absolute http(s) URL,
// adding https:// when there is no scheme (seed 000: "URL resolver
// normalizes URLs"). "example.com/x", "localhost:8080" and "//example.com"
// get https://; "mailto:…" or "ftp://…" are refused here with a clearer
// message than the client would give.
func normalizeURL(raw string) (*url.URL, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, errors.New("the url argument is empty")
	}
	switch m := schemePrefix.FindStringSubmatch(s); {
	case strings.HasPrefix(s, "//"):
		s = "https:" + s
	case m == nil:
		s = "https://" + s
	case isPort(s[len(m[0]):]):
		// "localhost:8080/x" is a host and port, not the scheme "localhost".
		s = "https://" + s
	default:
		scheme := strings.ToLower(m[1])
		if scheme != "http" && scheme != "https" {
			return nil, fmt.Errorf("only http and https URLs can be fetched, not %s: URLs", scheme)
		}
		if rest := s[len(m[0]):]; !strings.HasPrefix(rest, "//") {
			s = scheme + "://" + strings.TrimLeft(rest, "/")
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a valid URL", raw)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%q has no host name", raw)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%q is not a valid URL: bad port", raw)
		}
	}
	return u, nil
}

// isPort reports whether s starts with a port number ending the authority
// ("8080", "8080/path", "8080?q").
func isPort(s string) bool {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i > 0 && (i == len(s) || strings.IndexByte("/?#", s[i]) >= 0)
}
