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

// NewID returns a random 128-bit id as 32 hex digits.
func NewID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand documents it)
	return hex.EncodeToString(b[:])
}
