// Package gateway is Atrium's HTTP surface: the REST APIs of the seed
// documents, each at its documented paths with its own wire shapes and error
// format, plus health and readiness. Every route is listed in routes.go.
//
// Handlers decode, call a domain service, and encode; access rules live in
// the domain packages, which every handler passes the authenticated user to.
package gateway
