package workspaces

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"unicode/utf8"
)

// UserID identifies a user. IDs have their own types so a workspace id can
// never be passed where a user id is meant.
type UserID string

// WorkspaceID identifies a workspace.
type WorkspaceID string

// ChatID identifies a chat.
type ChatID string

// ValidID reports whether s could be an Atrium id: 1 to 64 letters, digits,
// '-' or '_'. Lookups refuse anything else as not found before it reaches SQL.
func ValidID(s string) bool {
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

// isText reports whether s is UTF-8 with no NUL byte: what the databases
// (and Bun, which refuses NUL) can store.
func isText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// NewID returns a random 128-bit id as 32 hex digits.
func NewID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand documents it)
	return hex.EncodeToString(b[:])
}
