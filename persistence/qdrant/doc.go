// Package qdrant keeps the vectors of RAG indexes in Qdrant, through its
// REST API (port 6333), with nothing but net/http and encoding/json.
//
// All agents share one collection (cosine distance). Each point is one
// passage of one version of one agent's index, with the payload
// {agent_id, version, idx, title, text}; agent_id and version carry payload
// indexes, and every search and delete filters on them. Point ids are UUIDs
// derived from (agent, version, idx), so storing a version again replaces
// its points instead of adding copies.
//
// The endpoints used are those of Qdrant 1.10 and later (the query API):
//
//	GET  /collections                              Ping
//	GET  /collections/{name}                       Ensure (vector size, payload indexes)
//	PUT  /collections/{name}                       Ensure (create)
//	PUT  /collections/{name}/index?wait=true       Ensure (payload indexes)
//	PUT  /collections/{name}/points?wait=true      Upsert
//	POST /collections/{name}/points/query          Search
//	POST /collections/{name}/points/delete?wait=true  DeleteOthers
//
// Package qdranttest serves the same subset in memory for tests.
package qdrant
