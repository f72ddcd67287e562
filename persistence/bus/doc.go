// Package bus connects Atrium to NATS: either an embedded nats-server running
// in this process with JetStream stored in the data dir (the one-machine
// default), or an external cluster at NATS_URL. Either way callers get a
// *nats.Conn and a JetStream context, ready for work queues and event streams.
package bus
