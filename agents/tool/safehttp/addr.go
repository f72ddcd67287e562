package safehttp

import "net/netip"

// blockedRange is a range of addresses a tool may not reach, with the
// reason shown to the model and the operator.
type blockedRange struct {
	prefix netip.Prefix
	reason string
}

// blockedRanges lists the refused ranges, most specific first so that the
// metadata addresses get their own reason rather than "link-local" or
// "private". It is never modified.
var blockedRanges = []blockedRange{
	{netip.MustParsePrefix("169.254.169.254/32"), "cloud metadata address"}, // AWS, GCP, Azure, Oracle…
	{netip.MustParsePrefix("fd00:ec2::254/128"), "cloud metadata address"},  // AWS over IPv6
	{netip.MustParsePrefix("100.100.100.200/32"), "cloud metadata address"}, // Alibaba Cloud
	{netip.MustParsePrefix("0.0.0.0/32"), "unspecified address"},
	{netip.MustParsePrefix("::/128"), "unspecified address"},
	// Linux connects 0.x.x.x to the local host.
	{netip.MustParsePrefix("0.0.0.0/8"), "this-network address"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback address"},
	{netip.MustParsePrefix("::1/128"), "loopback address"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private address"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private address"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private address"},
	{netip.MustParsePrefix("fc00::/7"), "private address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (CGNAT) address"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local address"},
	{netip.MustParsePrefix("fe80::/10"), "link-local address"},
	// Deprecated, but some stacks still route it like fc00::/7.
	{netip.MustParsePrefix("fec0::/10"), "site-local address"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast address"},
	{netip.MustParsePrefix("ff00::/8"), "multicast address"},
	{netip.MustParsePrefix("255.255.255.255/32"), "broadcast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved address"},
	// IPv4-compatible IPv6 (deprecated); ::1 and :: are matched above.
	{netip.MustParsePrefix("::/96"), "reserved address"},
}

// Prefixes whose IPv6 addresses carry an IPv4 address that a translator
// or relay forwards to: 64:ff9b::a.b.c.d (NAT64, RFC 6052) in the last 32
// bits, 2002:AABB:CCDD:: (6to4, RFC 3056) in bits 16–48.
var (
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour   = netip.MustParsePrefix("2002::/16")
)

// blockReason says why ip must not be dialed, or returns "" for an address
// a tool may reach. IPv4-mapped, NAT64 and 6to4 forms are judged by the
// IPv4 address they carry, since that is where the packets end up.
func blockReason(ip netip.Addr) string {
	if !ip.IsValid() {
		return "invalid address"
	}
	ip = ip.WithZone("").Unmap()
	if ip.Is6() {
		b := ip.As16()
		var v4 netip.Addr
		switch {
		case nat64Prefix.Contains(ip):
			v4 = netip.AddrFrom4([4]byte(b[12:16]))
		case sixToFour.Contains(ip):
			v4 = netip.AddrFrom4([4]byte(b[2:6]))
		}
		if v4.IsValid() {
			if r := blockReason(v4); r != "" {
				return r + " (" + v4.String() + " in IPv6 form)"
			}
		}
	}
	for _, r := range blockedRanges {
		if r.prefix.Contains(ip) {
			return r.reason
		}
	}
	return ""
}
