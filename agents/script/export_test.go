package script

// RewriteFStrings exposes the f-string rewrite to the external tests.
var RewriteFStrings = rewriteFStrings
