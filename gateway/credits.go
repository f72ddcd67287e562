package gateway

import "net/http"

// handleCredits is GET /api/credits/: the caller's balance and latest
// ledger entries (seed 000 §13's pay-as-you-go credits; seed 003's
// per-request prices).
func (s *server) handleCredits() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bal, entries, err := s.Workspaces.Credits(r.Context(), userOf(r), 50)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out := make([]map[string]any, len(entries))
		for i, e := range entries {
			out[i] = map[string]any{"amount": e.Amount, "reason": e.Reason, "ref": e.Ref, "created_at": timestamp(e.CreatedAt)}
		}
		writeJSON(w, http.StatusOK, map[string]any{"balance": bal, "unit": "credits", "ledger": out})
	})
}
