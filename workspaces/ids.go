package workspaces

import (
	"crypto/rand"
	"encoding/hex"
)

// UserID identifies a user. IDs have their own types so a workspace id can
// never be passed where a user id is meant.
type UserID string

// WorkspaceID identifies a workspace.
type WorkspaceID string

// ChatID identifies a chat.
type ChatID string

// validID reports whether s could be an id: 1 to 64 letters, digits, '-'
// or '_'. Lookups refuse anything else as not found before it reaches SQL.
func validID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// ValidID reports whether s has the form of an Atrium id, for packages that
// look ids up themselves.
func ValidID(s string) bool { return validID(s) }

// NewID returns a random 128-bit id as 32 hex digits.
func NewID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand documents it)
	return hex.EncodeToString(b[:])
}
