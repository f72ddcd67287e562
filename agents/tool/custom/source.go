package custom

import (
	"context"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
)

// DefaultTimeout bounds an HTTP tool whose owner set no timeout.
const DefaultTimeout = 30 * time.Second

// Store is where the agents' custom tools are kept (*agents.CustomTools).
type Store interface {
	OfAgent(ctx context.Context, a agents.Agent) ([]agents.CustomTool, error)
}

// Source offers each agent its custom tools. It is safe for concurrent
// use.
type Source struct {
	store     Store
	client    *safehttp.Client
	knowledge agents.Knowledge // nil: File Search tools are not offered
}

var _ agents.ToolSource = (*Source)(nil)

// NewSource returns the custom tools of store, calling endpoints with
// client (nil: safehttp's defaults, which refuse every internal address).
func NewSource(store Store, client *safehttp.Client) *Source {
	if client == nil {
		client = safehttp.New(safehttp.Config{})
	}
	return &Source{store: store, client: client}
}

// ToolsVersion is the store's Version when it has one
// (agents.ToolsVersioner); a store without one is read every time.
func (s *Source) ToolsVersion() uint64 {
	if v, ok := s.store.(interface{ Version() uint64 }); ok {
		return v.Version()
	}
	return 0
}

// SearchingWith makes the Source offer File Search tools, which search
// the agents' documents in k. It returns s.
func (s *Source) SearchingWith(k agents.Knowledge) *Source {
	s.knowledge = k
	return s
}

// Tools returns a's custom tools: HTTP ones, and File Search ones when the
// Source has the agents' documents (SearchingWith).
func (s *Source) Tools(ctx context.Context, a agents.Agent) ([]agents.Tool, error) {
	defs, err := s.store.OfAgent(ctx, a)
	if err != nil {
		return nil, err
	}
	out := make([]agents.Tool, 0, len(defs))
	for _, d := range defs {
		switch {
		case d.Type == agents.ToolTypeCustom:
			out = append(out, newTool(d, s.client))
		case d.Type == agents.ToolTypeFileSearch && s.knowledge != nil:
			out = append(out, &FileSearch{def: d, knowledge: s.knowledge})
		}
	}
	return out, nil
}
