package gateway

import "net/http"

// CORS lets pages of other origins call h from a browser (a chat front end
// served from its own domain, the AI SDK's useChat, EventSource on the
// events streams). allowed says whether an origin may; nil lets every
// origin, answered with "*". Atrium's credentials are headers (bearer
// tokens, API keys), never cookies, so no credentialed requests are
// allowed and a page can only use credentials it was given.
//
// A preflight (OPTIONS with Access-Control-Request-Method) is answered
// here: 204 with the methods and the headers asked for, or 403 for an
// origin not allowed. Other requests from an origin not allowed are served
// without CORS headers, so the browser keeps the answer from the page.
func CORS(h http.Handler, allowed func(r *http.Request, origin string) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			h.ServeHTTP(w, r)
			return
		}
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		hdr := w.Header()
		switch {
		case allowed == nil:
			hdr.Set("Access-Control-Allow-Origin", "*")
		case allowed(r, origin):
			hdr.Set("Access-Control-Allow-Origin", origin)
			hdr.Add("Vary", "Origin")
		default:
			hdr.Add("Vary", "Origin")
			if preflight {
				w.WriteHeader(http.StatusForbidden)
				return
			}
			h.ServeHTTP(w, r)
			return
		}
		if preflight {
			hdr.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
			if asked := r.Header.Get("Access-Control-Request-Headers"); asked != "" {
				hdr.Set("Access-Control-Allow-Headers", asked)
			}
			hdr.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		hdr.Set("Access-Control-Expose-Headers", "Content-Disposition, ETag, Location, Retry-After, WWW-Authenticate")
		h.ServeHTTP(w, r)
	})
}
