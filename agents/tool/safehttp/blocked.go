package safehttp

import (
	"errors"
	"net/netip"
)

// AllowHostsEnv names the setting with which an operator allows addresses
// this package refuses; refusals mention it so the fix is one step away.
const AllowHostsEnv = "ATRIUM_TOOLS_ALLOW_HOSTS"

// ErrBlocked is matched (with errors.Is) by every refusal to connect to a
// loopback, private, link-local, metadata or otherwise internal address.
var ErrBlocked = errors.New("refusing to connect to an internal address")

// BlockedError is a refused connection: which host, which address and why.
// It matches ErrBlocked.
type BlockedError struct {
	// Host is the host name of the request URL ("localhost", or an IP).
	Host string
	// Addr is the address that was about to be dialed; it is invalid when
	// the host was refused by name.
	Addr netip.Addr
	// Reason is what kind of address it is, like "loopback address".
	Reason string
}

// Error says what was refused and how to allow it.
func (e *BlockedError) Error() string {
	target := e.Host
	switch {
	case target == "":
		target = e.Addr.String()
	case e.Addr.IsValid() && e.Addr.String() != target:
		target += " (" + e.Addr.String() + ")"
	}
	return "refusing to connect to " + target + ": " + e.Reason + " (allow it with " + AllowHostsEnv + ")"
}

// Unwrap returns ErrBlocked, so errors.Is(err, ErrBlocked) holds.
func (e *BlockedError) Unwrap() error { return ErrBlocked }
