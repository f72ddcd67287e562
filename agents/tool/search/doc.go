// Package search holds Atrium's web_search tool (seed 000: "Search the
// web"). It asks one of three search backends, chosen by the operator's
// Config: a SearXNG instance's JSON API, the Brave Search API or the
// Tavily API. When several are configured they are tried in that order,
// the next one taking over when one fails. Results reach the model as a
// numbered list of titles, URLs and snippets, cleaned of HTML.
//
// The backends' URLs come from the operator, not from the model, so the
// tool uses a plain *http.Client rather than safehttp's guarded one: a
// SearXNG instance on the operator's own network is a normal setup.
package search
