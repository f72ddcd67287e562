package main

import (
	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/custom"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
	webtool "github.com/atrium-hq/atrium/agents/tool/web"
)

// toolDeps are what the agents' tools are made of.
type toolDeps struct {
	cfg    config
	web    *safehttp.Client
	files  *agents.Files
	custom *agents.CustomTools
}

// buildTools returns every tool an agent may be given: the built-in tools,
// then each agent's custom tools. Their configurations' enable rule picks
// among them per agent.
func buildTools(d toolDeps) agents.ToolSource {
	builtin := agents.StaticTools{webtool.NewURLResolver(d.web)}
	return agents.ToolSources{builtin, custom.NewSource(d.custom, d.web)}
}
