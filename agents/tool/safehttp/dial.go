package safehttp

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// metadataHosts are refused by name as well as by address, in case a
// resolver maps them to an address not in blockedRanges.
var metadataHosts = map[string]bool{
	"metadata.google.internal": true,
}

// dialHostKey carries the request's host name from dialContext to control,
// which sees only the IP, so refusals can name both.
type dialHostKey struct{}

// dialer dials for the transport, refusing internal addresses the operator
// has not allowed.
type dialer struct {
	allow allowList
	// open dials hosts the operator allowed by name: any address they
	// resolve to is fine.
	open net.Dialer
	// guarded checks every address it is about to connect to.
	guarded net.Dialer
}

func newDialer(allow allowList) *dialer {
	d := &dialer{allow: allow}
	d.open = net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	d.guarded = d.open
	d.guarded.ControlContext = d.control
	return d
}

// dialContext is the transport's DialContext. addr is the request URL's
// host and port, before any DNS lookup.
func (d *dialer) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if d.allow.allowsHost(host) {
		return d.open.DialContext(ctx, network, addr)
	}
	if metadataHosts[normalizeHost(host)] {
		return nil, &BlockedError{Host: host, Reason: "cloud metadata host"}
	}
	return d.guarded.DialContext(context.WithValue(ctx, dialHostKey{}, host), network, addr)
}

// control runs after DNS resolution and before connect, once for every
// address tried, so it sees exactly where the connection would go.
func (d *dialer) control(ctx context.Context, network, address string, _ syscall.RawConn) error {
	host, _ := ctx.Value(dialHostKey{}).(string)
	if network != "tcp4" && network != "tcp6" {
		return &BlockedError{Host: host, Reason: fmt.Sprintf("%s is not TCP", network)}
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &BlockedError{Host: host, Reason: fmt.Sprintf("address %q cannot be checked", address)}
	}
	ip := ap.Addr()
	if d.allow.allowsAddr(ip) {
		return nil
	}
	if reason := blockReason(ip); reason != "" {
		return &BlockedError{Host: host, Addr: ip.WithZone("").Unmap(), Reason: reason}
	}
	return nil
}
