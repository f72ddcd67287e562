package agents

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// Model is one entry of the model catalogue.
type Model struct {
	// ID is the catalogue's number for the model (seed 000 sends
	// "model_id": 1), stable in catalogue order, from 1.
	ID int
	// Name is what agents, scripts and API clients call the model.
	Name string
	// Upstream names the upstream (provider configuration) serving it.
	Upstream string
	// UpstreamModel is the model's name at the upstream; empty means Name.
	UpstreamModel string
	// Availability is seed 003's "Decentralized", "Dedicated" or "Both".
	Availability string
	// DecentralizedPrice is credits per hundred queries on the
	// Decentralized plan; InputPrice and OutputPrice are credits per
	// million tokens on the Dedicated plan (seed 003's price table).
	DecentralizedPrice float64
	InputPrice         float64
	OutputPrice        float64
	Description        string
}

// Catalogue is the models a server knows, the upstreams that serve them,
// and their prices. It is read-only once made, so safe for concurrent use.
type Catalogue struct {
	models    []Model
	index     map[string]int // lower-case name and decimal id → position
	upstreams map[string]Provider
	def       string
}

var _ Models = (*Catalogue)(nil)

// NewCatalogue returns a catalogue of models served by upstreams (by
// upstream name; a model whose upstream is missing is listed as
// unavailable). Models get IDs in order. def is the default model's name;
// empty means the first available model.
func NewCatalogue(models []Model, upstreams map[string]Provider, def string) (*Catalogue, error) {
	c := &Catalogue{index: make(map[string]int), upstreams: upstreams}
	for _, m := range models {
		m.Name = strings.TrimSpace(m.Name)
		if m.Name == "" {
			return nil, fmt.Errorf("model catalogue: a model has no name")
		}
		if _, dup := c.index[strings.ToLower(m.Name)]; dup {
			return nil, fmt.Errorf("model catalogue: model %q is listed twice", m.Name)
		}
		if m.Availability == "" {
			m.Availability = "Both"
		}
		m.ID = len(c.models) + 1
		c.index[strings.ToLower(m.Name)] = len(c.models)
		c.models = append(c.models, m)
	}
	for i, m := range c.models {
		c.index[strconv.Itoa(m.ID)] = i
	}
	c.def = def
	if def != "" {
		if _, ok := c.Lookup(def); !ok {
			return nil, fmt.Errorf("model catalogue: the default model %q is not in the catalogue", def)
		}
	} else {
		for _, m := range c.models {
			if c.Available(m.Name) {
				c.def = m.Name
				break
			}
		}
	}
	return c, nil
}

// PlatformModel is the model name seed 001's examples use ("model":
// "ashnaai", the platform's own model). Unless the catalogue lists a model
// of that name, it is the default model.
const PlatformModel = "ashnaai"

// Lookup finds a model by name (any case) or by catalogue id. Seed 003
// asks for "-latest" names on one plan and plain names on the other, so
// each finds the other when only one is listed. PlatformModel finds the
// default model.
func (c *Catalogue) Lookup(model string) (Model, bool) {
	key := strings.ToLower(strings.TrimSpace(model))
	if i, ok := c.index[key]; ok {
		return c.models[i], true
	}
	if key == PlatformModel && c.def != "" && !strings.EqualFold(c.def, PlatformModel) {
		return c.Lookup(c.def)
	}
	if base, ok := strings.CutSuffix(key, "-latest"); ok {
		if i, ok := c.index[base]; ok {
			return c.models[i], true
		}
	} else if i, ok := c.index[key+"-latest"]; ok {
		return c.models[i], true
	}
	return Model{}, false
}

// Provider returns the provider serving model and its upstream name.
func (c *Catalogue) Provider(model string) (Provider, string, bool) {
	m, ok := c.Lookup(model)
	if !ok {
		return nil, "", false
	}
	p, ok := c.upstreams[m.Upstream]
	if !ok || p == nil {
		return nil, "", false
	}
	up := m.UpstreamModel
	if up == "" {
		up = m.Name
	}
	return p, up, true
}

// Available says whether model exists and an upstream serves it.
func (c *Catalogue) Available(model string) bool {
	_, _, ok := c.Provider(model)
	return ok
}

// Why says why model cannot answer on this server ("" when it can).
func (c *Catalogue) Why(model string) string {
	m, ok := c.Lookup(model)
	if !ok {
		return fmt.Sprintf("model %q is not in the catalogue (see GET /v1/models)", model)
	}
	if c.Available(m.Name) {
		return ""
	}
	hint := ""
	switch m.Upstream {
	case "openai":
		hint = " (set OPENAI_BASE_URL, and OPENAI_API_KEY if it needs one)"
	case "bedrock":
		hint = " (set ATRIUM_BEDROCK_REGION or AWS_REGION, and AWS credentials)"
	}
	return fmt.Sprintf("model %q is served by the upstream %q, which is not configured on this server%s", m.Name, m.Upstream, hint)
}

// Models returns the catalogue in order.
func (c *Catalogue) Models() []Model { return append([]Model(nil), c.models...) }

// Default returns the default model's name ("" when none is available).
func (c *Catalogue) Default() string { return c.def }

// Credits is what a request costs on plan: Decentralized bills per request
// (the price is per hundred queries), Dedicated per token (prices per
// million). Seed 003: tool calls are not billed. Rounded to 1/1000 credit.
func (m Model) Credits(plan string, u Usage) float64 {
	var c float64
	if plan == PlanDedicated {
		c = m.InputPrice*float64(u.InputTokens)/1e6 + m.OutputPrice*float64(u.OutputTokens)/1e6
	} else {
		c = m.DecentralizedPrice / 100
	}
	return math.Round(c*1000) / 1000
}

// CatalogueFile is the model catalogue's configuration file (ATRIUM_MODELS),
// in JSON:
//
//	{
//	  "upstreams": {"local": {"type": "openai", "base_url": "http://127.0.0.1:11434/v1"}},
//	  "models": [{"name": "llama3.1", "upstream": "local", "upstream_model": "llama3.1:8b",
//	              "availability": "Both", "input_price": 30, "output_price": 60}],
//	  "default_model": "llama3.1",
//	  "replace": false
//	}
//
// Its models are added after the built-in ones (a model with a built-in
// name replaces that one), or replace them all with "replace": true.
// Its upstreams are added to the built-in ones ("echo", "openai",
// "bedrock"), replacing those with the same name.
type CatalogueFile struct {
	Upstreams    map[string]UpstreamConfig `json:"upstreams"`
	Models       []ModelEntry              `json:"models"`
	DefaultModel string                    `json:"default_model"`
	Replace      bool                      `json:"replace"`
}

// UpstreamConfig configures one upstream of the catalogue.
type UpstreamConfig struct {
	// Type is "openai" (any /v1/chat/completions server), "bedrock" or "echo".
	Type string `json:"type"`
	// BaseURL and APIKey are for "openai"; APIKeyEnv names an environment
	// variable holding the key, so the file needs no secret.
	BaseURL   string            `json:"base_url,omitempty"`
	APIKey    string            `json:"api_key,omitempty"`
	APIKeyEnv string            `json:"api_key_env,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
	// Region and Endpoint are for "bedrock" (credentials come from the
	// standard AWS chain).
	Region   string `json:"region,omitempty"`
	Endpoint string `json:"endpoint,omitempty"`
}

// ModelEntry is a model in a CatalogueFile.
type ModelEntry struct {
	Name               string  `json:"name"`
	Upstream           string  `json:"upstream"`
	UpstreamModel      string  `json:"upstream_model,omitempty"`
	Availability       string  `json:"availability,omitempty"`
	DecentralizedPrice float64 `json:"decentralized_price,omitempty"`
	InputPrice         float64 `json:"input_price,omitempty"`
	OutputPrice        float64 `json:"output_price,omitempty"`
	Description        string  `json:"description,omitempty"`
}

// ReadCatalogueFile reads and checks a catalogue file.
func ReadCatalogueFile(path string) (CatalogueFile, error) {
	var f CatalogueFile
	b, err := os.ReadFile(path)
	if err != nil {
		return f, fmt.Errorf("model catalogue: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("model catalogue %s: %w", path, err)
	}
	for name, u := range f.Upstreams {
		switch u.Type {
		case "openai", "bedrock", "echo":
		default:
			return f, fmt.Errorf("model catalogue %s: upstream %q has type %q; want openai, bedrock or echo", path, name, u.Type)
		}
	}
	for _, m := range f.Models {
		if strings.TrimSpace(m.Name) == "" || m.Upstream == "" {
			return f, fmt.Errorf("model catalogue %s: every model needs a name and an upstream", path)
		}
		switch m.Availability {
		case "", "Both", PlanDecentralized, PlanDedicated:
		default:
			return f, fmt.Errorf("model catalogue %s: model %q has availability %q; want Both, Decentralized or Dedicated", path, m.Name, m.Availability)
		}
	}
	return f, nil
}

// Merge returns the built-in models with f's applied (see CatalogueFile).
func (f CatalogueFile) Merge(builtin []Model) []Model {
	var out []Model
	if !f.Replace {
		out = append(out, builtin...)
	}
	for _, e := range f.Models {
		m := Model{Name: strings.TrimSpace(e.Name), Upstream: e.Upstream, UpstreamModel: e.UpstreamModel, Availability: e.Availability,
			DecentralizedPrice: e.DecentralizedPrice, InputPrice: e.InputPrice, OutputPrice: e.OutputPrice, Description: e.Description}
		replaced := false
		for i := range out {
			if strings.EqualFold(out[i].Name, m.Name) {
				out[i], replaced = m, true
			}
		}
		if !replaced {
			out = append(out, m)
		}
	}
	return out
}

// BuiltinModels is the default catalogue: the echo model, seed 003's model
// table (served by the "openai" upstream: point OPENAI_BASE_URL at any
// OpenAI-compatible server that serves those names), two Bedrock models
// (served by the "bedrock" upstream) and seed 001's GPT-3.5.
func BuiltinModels() []Model {
	out := []Model{{Name: "echo", Upstream: "echo", Availability: "Both", Description: "Atrium's built-in test model: it repeats your message and is not an AI."}}
	for _, r := range seed003Prices {
		out = append(out, Model{Name: r.name, Upstream: "openai", Availability: "Both", DecentralizedPrice: r.dec, InputPrice: r.in, OutputPrice: r.out})
	}
	out = append(out,
		Model{Name: "claude-3-haiku", Upstream: "bedrock", UpstreamModel: "anthropic.claude-3-haiku-20240307-v1:0", Availability: PlanDedicated, InputPrice: 2500, OutputPrice: 12500, Description: "Anthropic Claude 3 Haiku on AWS Bedrock"},
		Model{Name: "nova-lite", Upstream: "bedrock", UpstreamModel: "amazon.nova-lite-v1:0", Availability: PlanDedicated, InputPrice: 600, OutputPrice: 2400, Description: "Amazon Nova Lite on AWS Bedrock"},
		// Seed 001 offers GPT-3.5 beside GPT-4 and Gemini; seed 003's table
		// has no price for it: OpenAI's, in the table's unit (credits per
		// million tokens, 1,000 a dollar). Last, so the others keep their
		// catalogue ids.
		Model{Name: "gpt-3.5-turbo", Upstream: "openai", Availability: "Both", DecentralizedPrice: 100, InputPrice: 500, OutputPrice: 1500},
	)
	return out
}

// seed003Prices is seed 003's "Available Models" table.
var seed003Prices = []struct {
	name         string
	dec, in, out float64
}{
	{"gpt-4", 20000, 30000, 60000}, {"gpt-4-turbo", 10000, 10000, 30000}, {"gpt-4o", 1000, 2500, 10000},
	{"gpt-4o-mini", 50, 150, 600}, {"gemini-pro", 100, 75, 300}, {"gemini-1.0-pro", 100, 75, 300},
	{"gemini-1.5-pro-latest", 1000, 1250, 5000}, {"gemini-1.5-flash-latest", 50, 75, 300},
	{"gemini-2.0-flash", 0, 100, 400}, {"gemini-2.0-flash-thinking-exp", 0, 100, 100}, {"gemini-2.0-pro-exp", 0, 100, 100},
	{"gemini-2.0-flash-lite-preview", 0, 100, 100}, {"gemini-exp-1206", 0, 100, 100}, {"learnlm-1.5-pro-experimental", 0, 100, 100},
	{"gemini-flash-1.5-8b", 0, 100, 100}, {"gemma-2-9b-it", 0, 100, 100}, {"llama-3.1-8b-instruct", 10, 30, 60},
	{"llama-3.2-11b-vision-instruct", 40, 55, 55}, {"llama-3-405b", 100, 200, 200}, {"dolphin3.0-r1-mistral-24b", 0, 100, 100},
	{"dolphin3.0-mistral-24b", 0, 100, 100}, {"qwen-vl-plus", 0, 100, 100}, {"qwen2.5-vl-72b-instruct", 0, 100, 100},
	{"mistral-small-24b-instruct-2501", 0, 70, 140}, {"deepseek-r1-distill-llama-70b", 0, 230, 690}, {"deepseek-r1", 0, 80, 240},
	{"rogue-rose-103b-v0.2", 0, 100, 100}, {"deepseek-v3", 0, 90, 90}, {"llama-3.3-70b-instruct", 0, 120, 30},
	{"llama-3.1-nemotron-70b-instruct", 0, 120, 30}, {"mistral-nemo", 0, 35, 8}, {"mistral-7b-instruct", 0, 100, 100},
	{"phi-3-mini-128k-instruct", 0, 100, 100}, {"phi-3-medium-128k-instruct", 0, 100, 100}, {"llama-3-8b-instruct", 0, 100, 100},
	{"openchat-7b", 0, 100, 100}, {"toppy-m-7b", 0, 100, 100}, {"zephyr-7b-beta", 0, 100, 100}, {"mythomax-l2-13b", 0, 100, 100},
}
