// Package sqldb opens Atrium's SQL database through Bun, on SQLite (the
// embedded default, a pure-Go driver) or PostgreSQL (pgx), runs the schema
// migrations on either, and declares the row models the domain packages read
// and write.
//
// It imports nothing of Atrium's: domain types live in the packages above it,
// which convert rows into them.
package sqldb
