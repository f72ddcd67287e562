package agents

import (
	"context"
	"testing"
)

// countingSource counts its reads; with versioned set it is a
// ToolsVersioner of version.
type countingSource struct {
	reads   int
	version uint64
}

func (s *countingSource) Tools(context.Context, Agent) ([]Tool, error) {
	s.reads++
	return nil, nil
}

type versionedSource struct{ *countingSource }

func (s versionedSource) ToolsVersion() uint64 { return s.version }

func TestToolCacheRereadsWhenTheVersionChanges(t *testing.T) {
	ctx, a := context.Background(), Agent{ID: "a1"}
	var c toolCache
	src := &countingSource{}
	versioned := ToolSources{StaticTools{}, versionedSource{src}}
	for range 3 {
		if _, err := c.get(ctx, versioned, a); err != nil {
			t.Fatal(err)
		}
	}
	if src.reads != 1 {
		t.Fatalf("3 runs read the tools %d times, want 1", src.reads)
	}
	src.version++ // a tool was changed on this node
	c.get(ctx, versioned, a)
	if src.reads != 2 {
		t.Fatalf("after a change the tools were read %d times in all, want 2", src.reads)
	}
	c.get(ctx, versioned, Agent{ID: "a2"})
	if src.reads != 3 {
		t.Fatalf("another agent's tools were not read")
	}

	// A source that cannot tell when it changes is read every time.
	plain := &countingSource{}
	for range 3 {
		c.get(ctx, ToolSources{plain}, a)
	}
	if plain.reads != 3 {
		t.Fatalf("an unversioned source was read %d times for 3 runs, want 3", plain.reads)
	}
}
