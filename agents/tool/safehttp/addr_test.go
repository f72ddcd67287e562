package safehttp

import (
	"net/netip"
	"testing"
)

func TestBlockReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ip   string
		want string // "" when the address may be reached
	}{
		// Public addresses.
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"93.184.216.34", ""},
		{"172.32.0.1", ""},  // just past 172.16.0.0/12
		{"100.128.0.1", ""}, // just past 100.64.0.0/10
		{"169.253.255.255", ""},
		{"2606:4700:4700::1111", ""},
		{"2001:4860:4860::8888", ""},
		{"::ffff:8.8.8.8", ""},
		{"64:ff9b::808:808", ""}, // NAT64 of 8.8.8.8
		{"2002:808:808::1", ""},  // 6to4 of 8.8.8.8

		// Loopback.
		{"127.0.0.1", "loopback address"},
		{"127.255.255.254", "loopback address"},
		{"::1", "loopback address"},
		{"::ffff:127.0.0.1", "loopback address"},
		{"64:ff9b::7f00:1", "loopback address (127.0.0.1 in IPv6 form)"},
		{"2002:7f00:1::", "loopback address (127.0.0.1 in IPv6 form)"},

		// Unspecified and this-network.
		{"0.0.0.0", "unspecified address"},
		{"::", "unspecified address"},
		{"::ffff:0.0.0.0", "unspecified address"},
		{"0.1.2.3", "this-network address"},

		// Private.
		{"10.0.0.1", "private address"},
		{"10.255.255.255", "private address"},
		{"172.16.0.1", "private address"},
		{"172.31.255.255", "private address"},
		{"192.168.1.1", "private address"},
		{"::ffff:192.168.1.1", "private address"},
		{"::ffff:a00:1", "private address"}, // ::ffff:10.0.0.1 written in hex
		{"fc00::1", "private address"},
		{"fd12:3456::1", "private address"},

		// CGNAT.
		{"100.64.0.1", "shared (CGNAT) address"},
		{"100.127.255.255", "shared (CGNAT) address"},

		// Link-local.
		{"169.254.1.1", "link-local address"},
		{"fe80::1", "link-local address"},
		{"fe80::1%eth0", "link-local address"},
		{"febf::1", "link-local address"},
		{"fec0::1", "site-local address"},

		// Cloud metadata, before link-local and private.
		{"169.254.169.254", "cloud metadata address"},
		{"::ffff:169.254.169.254", "cloud metadata address"},
		{"::ffff:a9fe:a9fe", "cloud metadata address"},
		{"fd00:ec2::254", "cloud metadata address"},
		{"100.100.100.200", "cloud metadata address"},
		{"64:ff9b::a9fe:a9fe", "cloud metadata address (169.254.169.254 in IPv6 form)"},

		// Multicast, broadcast, reserved.
		{"224.0.0.1", "multicast address"},
		{"239.255.255.250", "multicast address"},
		{"ff02::1", "multicast address"},
		{"ff05::2", "multicast address"},
		{"255.255.255.255", "broadcast address"},
		{"240.0.0.1", "reserved address"},
		{"::127.0.0.1", "reserved address"}, // IPv4-compatible, deprecated
	}
	for _, tt := range tests {
		got := blockReason(netip.MustParseAddr(tt.ip))
		if got != tt.want {
			t.Errorf("blockReason(%s) = %q, want %q", tt.ip, got, tt.want)
		}
	}
	if got := blockReason(netip.Addr{}); got == "" {
		t.Error("the zero Addr is allowed")
	}
}
