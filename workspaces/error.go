package workspaces

import (
	"errors"
	"fmt"
)

// Kind classifies an error for the transports, which map each kind to their
// own status code. The zero Kind is KindInternal.
type Kind uint8

// The kinds of error.
const (
	KindInternal        Kind = iota // a bug or an unreachable dependency
	KindInvalid                     // the request is malformed or breaks a rule
	KindUnauthenticated             // no valid credentials
	KindForbidden                   // valid credentials, not allowed
	KindNotFound                    // the thing does not exist (or is not visible)
	KindConflict                    // the thing already exists
	KindTooLarge                    // the request is over a size limit
	KindUnavailable                 // a dependency is down; try later
	KindPaymentRequired             // the owner has no credits left
)

var kindNames = [...]string{"internal", "invalid", "unauthenticated", "forbidden", "not_found", "conflict", "too_large", "unavailable", "payment_required"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Error is an error with a kind, a message safe to show the user, and an
// optional cause that is logged but never shown.
type Error struct {
	Kind    Kind
	Message string
	Err     error
}

// E returns an *Error of kind with a user-facing message.
func E(kind Kind, message string) *Error {
	return &Error{Kind: kind, Message: message}
}

// Errorf is E with a formatted message.
func Errorf(kind Kind, format string, args ...any) *Error {
	return E(kind, fmt.Sprintf(format, args...))
}

// Internal wraps a low-level cause as an internal error. op is a short
// lowercase description of what failed, for the logs.
func Internal(op string, err error) *Error {
	return &Error{Kind: KindInternal, Message: "Internal server error", Err: fmt.Errorf("%s: %w", op, err)}
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorKind returns the kind of err: the Kind of the first *Error in its
// chain, or KindInternal.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// ErrorMessage returns the user-facing message of err, or "Internal server
// error" for errors that carry none.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return "Internal server error"
}
