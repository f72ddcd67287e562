// Package hub delivers chat events live to the people watching them, over
// Socket.IO (/socket.io/), plain WebSocket (/ws) and server-sent events
// (/chat/{id}/events, /workspace/{id}/events).
//
// A Hub keeps one room per chat or workspace its clients watch, each backed
// by one NATS subscription to the chat log's live subject, so a node only
// receives the events of what its own clients watch. A client joining with
// the last sequence number it saw is replayed the events it missed from the
// chat log (from the room's recent events when they cover the gap) before
// it receives live events, with no gap and no duplicate. Each client has a
// bounded send queue; a client that falls behind is disconnected with the
// reason "slow_consumer" and slows nobody else.
package hub
