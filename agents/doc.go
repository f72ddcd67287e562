// Package agents owns Atrium's agents: what they are, who owns them, and
// which workspaces they answer in. The agent loop, providers, tools and the
// runner build on this package (see the open issues).
package agents
