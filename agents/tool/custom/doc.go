// Package custom runs users' own tools (seed 000's custom HTTP tools and
// seed 003's tools): a tool with an endpoint is called over HTTP through
// safehttp, so it cannot reach internal addresses the operator has not
// allowed; a tool without one is left to the API caller, whose answer
// names it and its parameters; a call that lacks a required parameter
// asks the user for it (seed 003's "question") instead of guessing.
package custom
