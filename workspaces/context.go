package workspaces

import "context"

type ctxKey struct{}

// WithUser returns a context that carries the authenticated user.
func WithUser(ctx context.Context, id UserID) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// UserFromContext returns the authenticated user of ctx, if any.
func UserFromContext(ctx context.Context) (UserID, bool) {
	id, ok := ctx.Value(ctxKey{}).(UserID)
	return id, ok && id != ""
}
