// Package qdranttest serves, in memory, the subset of Qdrant's REST API that
// package qdrant uses, for tests: the same paths, the same request and
// answer JSON, the same error answers ({"status": {"error": "..."}} with a
// 4xx status) and the same api-key check. Points are searched by brute-force
// cosine (or dot) similarity with the filters qdrant.Store sends.
//
// It is strict where Qdrant is lenient: request fields, query parameters
// and filter conditions it does not understand are refused with a 400, so a
// change in what Store sends fails tests instead of passing unnoticed.
package qdranttest
