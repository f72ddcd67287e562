package mcp

// PID returns the process id of server id's running stdio child, or 0.
func PID(m *Manager, id ServerID) int { return m.pid(id) }
