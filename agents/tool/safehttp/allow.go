package safehttp

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/net/idna"
)

// ParseAllowList parses the operator's allow list (ATRIUM_TOOLS_ALLOW_HOSTS):
// comma-separated host names, IP addresses and CIDR prefixes, for example
// "localhost, 10.1.2.3, 192.168.0.0/16, wiki.corp". It returns the entries
// normalized (lower case, prefixes masked) for Config.Allow, or an error
// naming the first bad entry so that a typo fails at start-up rather than
// silently allowing nothing.
func ParseAllowList(s string) ([]string, error) {
	var out []string
	for _, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		host, prefix, err := parseEntry(e)
		if err != nil {
			return nil, fmt.Errorf("allow list entry %q: %w", e, err)
		}
		if host != "" {
			out = append(out, host)
		} else if prefix.IsSingleIP() {
			out = append(out, prefix.Addr().String())
		} else {
			out = append(out, prefix.String())
		}
	}
	return out, nil
}

// allowList is the parsed Config.Allow. It is not modified after New.
type allowList struct {
	hosts    map[string]bool
	prefixes []netip.Prefix
}

// newAllowList parses entries, skipping those ParseAllowList would reject:
// an entry that cannot be parsed allows nothing, which fails closed.
func newAllowList(entries []string) allowList {
	a := allowList{hosts: map[string]bool{}}
	for _, e := range entries {
		host, prefix, err := parseEntry(strings.TrimSpace(e))
		switch {
		case err != nil:
		case host != "":
			a.hosts[host] = true
		default:
			a.prefixes = append(a.prefixes, prefix)
		}
	}
	return a
}

// allowsHost reports whether the operator allowed the host name of a
// request URL (as the transport dials it, without port).
func (a allowList) allowsHost(host string) bool {
	return len(a.hosts) > 0 && a.hosts[normalizeHost(host)]
}

// allowsAddr reports whether the operator allowed ip.
func (a allowList) allowsAddr(ip netip.Addr) bool {
	ip = ip.WithZone("").Unmap()
	for _, p := range a.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// parseEntry parses one allow-list entry into a host name or a prefix
// (a single IP becomes a full-length prefix).
func parseEntry(e string) (host string, prefix netip.Prefix, err error) {
	if e == "" {
		return "", netip.Prefix{}, fmt.Errorf("empty entry")
	}
	if strings.Contains(e, "://") {
		return "", netip.Prefix{}, errNotHost
	}
	if strings.Contains(e, "/") {
		p, err := netip.ParsePrefix(e)
		if err != nil {
			return "", netip.Prefix{}, fmt.Errorf("not a valid CIDR prefix (like 10.0.0.0/8)")
		}
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				return "", netip.Prefix{}, fmt.Errorf("an IPv4-mapped prefix needs at least 96 bits")
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return "", p.Masked(), nil
	}
	if ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(e, "["), "]")); err == nil {
		if ip.Zone() != "" {
			return "", netip.Prefix{}, fmt.Errorf("an IPv6 zone cannot be allowed; allow the address without it")
		}
		ip = ip.Unmap()
		return "", netip.PrefixFrom(ip, ip.BitLen()), nil
	}
	if strings.ContainsAny(e, ":/@?#[] \t") {
		return "", netip.Prefix{}, errNotHost
	}
	if strings.Contains(e, "*") {
		return "", netip.Prefix{}, fmt.Errorf("wildcards are not supported; list each host name")
	}
	host = normalizeHost(e)
	if !isASCII(host) {
		// The transport dials international names in their ASCII
		// (punycode) form, so that is the form to match.
		if host, err = idna.Lookup.ToASCII(host); err != nil {
			return "", netip.Prefix{}, fmt.Errorf("not a valid host name")
		}
	}
	if err := checkHostName(host); err != nil {
		return "", netip.Prefix{}, err
	}
	if last := host[strings.LastIndexByte(host, '.')+1:]; strings.Trim(last, "0123456789") == "" {
		// "127.1" or "2130706433": some resolvers read these as IPs,
		// so they are neither a clear host name nor a valid address.
		return "", netip.Prefix{}, fmt.Errorf("not a valid IP address")
	}
	return host, netip.Prefix{}, nil
}

var errNotHost = errors.New("use a host name, an IP address or a CIDR prefix, without scheme, port or path")

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// checkHostName checks the syntax of an ASCII host name.
func checkHostName(h string) error {
	if len(h) == 0 || len(h) > 253 {
		return fmt.Errorf("a host name has 1 to 253 characters")
	}
	for _, label := range strings.Split(h, ".") {
		if len(label) == 0 || len(label) > 63 {
			return fmt.Errorf("a host name label has 1 to 63 characters")
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("a host name has only letters, digits, '-', '_' and '.'")
			}
		}
	}
	return nil
}

// normalizeHost lower-cases a host name and drops a final dot, so that
// "LocalHost." and "localhost" are the same host.
func normalizeHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(h), ".")
}
