package agents_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/agents"
)

func TestCatalogueFileAddsModelsAndUpstreams(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "models.json")
	os.WriteFile(path, []byte(`{
	  "upstreams": {"local": {"type": "openai", "base_url": "http://127.0.0.1:11434/v1"}},
	  "models": [
	    {"name": "llama3.1", "upstream": "local", "upstream_model": "llama3.1:8b", "input_price": 30, "output_price": 60},
	    {"name": "gpt-4o", "upstream": "local", "decentralized_price": 7}
	  ],
	  "default_model": "llama3.1"
	}`), 0o600)
	f, err := agents.ReadCatalogueFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Upstreams["local"].BaseURL != "http://127.0.0.1:11434/v1" {
		t.Fatalf("upstreams = %+v", f.Upstreams)
	}
	local := &toolModel{}
	c, err := agents.NewCatalogue(f.Merge(agents.BuiltinModels()), map[string]agents.Provider{"local": local}, f.DefaultModel)
	if err != nil {
		t.Fatal(err)
	}
	p, up, ok := c.Provider("llama3.1")
	if !ok || p != local || up != "llama3.1:8b" || c.Default() != "llama3.1" {
		t.Fatalf("Provider(llama3.1) = %v %q %v, default %q", p, up, ok, c.Default())
	}
	// A built-in name is replaced in place, keeping its catalogue number.
	m, _ := c.Lookup("gpt-4o")
	if m.Upstream != "local" || m.DecentralizedPrice != 7 || m.ID != 4 {
		t.Fatalf("gpt-4o = %+v", m)
	}
	if why := c.Why("gpt-4o-mini"); !strings.Contains(why, "OPENAI_BASE_URL") {
		t.Fatalf("Why(gpt-4o-mini) = %q", why)
	}
	if why := c.Why("claude-3-haiku"); !strings.Contains(why, "AWS_REGION") {
		t.Fatalf("Why(claude-3-haiku) = %q", why)
	}
	if why := c.Why("nope"); !strings.Contains(why, "not in the catalogue") || c.Why("llama3.1") != "" {
		t.Fatalf("Why(nope) = %q", why)
	}
	// Seed 001's examples ask for "ashnaai": the default model, unless one
	// is listed by that name.
	if m, ok := c.Lookup("AshnaAI"); !ok || m.Name != "llama3.1" {
		t.Fatalf("Lookup(AshnaAI) = %+v %v", m, ok)
	}
	own, err := agents.NewCatalogue([]agents.Model{{Name: "echo", Upstream: "local"}, {Name: "ashnaai", Upstream: "local"}}, map[string]agents.Provider{"local": local}, "echo")
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := own.Lookup("ashnaai"); !ok || m.Name != "ashnaai" {
		t.Fatalf("a listed ashnaai: Lookup = %+v %v", m, ok)
	}
	if _, err := agents.NewCatalogue(agents.BuiltinModels(), nil, "ashnaai"); err == nil {
		t.Error("ashnaai as the default of a catalogue without it was accepted")
	}

	for _, bad := range []string{
		`{"models":[{"name":"x"}]}`,
		`{"upstreams":{"u":{"type":"gopher"}}}`,
		`{"models":[{"name":"x","upstream":"u","availability":"Sometimes"}]}`,
		`{"modles":[]}`,
		`not json`,
	} {
		os.WriteFile(path, []byte(bad), 0o600)
		if _, err := agents.ReadCatalogueFile(path); err == nil {
			t.Errorf("ReadCatalogueFile(%s) accepted it", bad)
		}
	}
	if _, err := agents.NewCatalogue([]agents.Model{{Name: "a", Upstream: "u"}, {Name: "A", Upstream: "u"}}, nil, ""); err == nil {
		t.Error("a name listed twice was accepted")
	}
	if _, err := agents.NewCatalogue(agents.BuiltinModels(), nil, "nope"); err == nil {
		t.Error("an unknown default was accepted")
	}
}

func TestCreditsFollowSeed003Pricing(t *testing.T) {
	t.Parallel()
	c, _ := agents.NewCatalogue(agents.BuiltinModels(), nil, "")
	mini, _ := c.Lookup("gpt-4o-mini")
	u := agents.Usage{InputTokens: 1_000_000, OutputTokens: 500_000}
	// Decentralized: 50 credits per hundred queries, per request.
	if got := mini.Credits(agents.PlanDecentralized, u); got != 0.5 {
		t.Fatalf("decentralized = %v", got)
	}
	// Dedicated: 150 per million input tokens and 600 per million output.
	if got := mini.Credits(agents.PlanDedicated, u); got != 450 {
		t.Fatalf("dedicated = %v", got)
	}
	// -latest and plain names find each other (seed 003's note), any case.
	for in, want := range map[string]string{"gemini-1.5-flash": "gemini-1.5-flash-latest", "GPT-4O-LATEST": "gpt-4o", "1": "echo"} {
		if m, ok := c.Lookup(in); !ok || m.Name != want {
			t.Errorf("Lookup(%q) = %q %v, want %q", in, m.Name, ok, want)
		}
	}
}
