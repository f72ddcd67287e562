// Package kv is Atrium's node-local key-value store on Pebble: hot state a
// runner keeps beside the SQL database (conversation context caches, response
// caches, counters). Keys and values are opaque bytes; callers own their
// key prefixes.
package kv
