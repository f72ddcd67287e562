package agents

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/atrium-hq/atrium/workspaces"
)

// Plans of seed 003.
const (
	PlanDecentralized = "Decentralized"
	PlanDedicated     = "Dedicated"
)

// Regions are the regions a Dedicated agent may run in (seed 003's
// examples and their neighbours).
var Regions = []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1", "ap-northeast-1"}

// Config is an agent's configuration, as seed 000 §4 and seed 003's agent
// settings describe it. Keys it does not know are kept as they were sent.
type Config struct {
	SystemPrompt string
	// Temperature and TopP: nil means the model's default.
	Temperature *float64
	TopP        *float64
	// MaxTokens caps an answer; zero means the model's default.
	MaxTokens int
	// Stream says whether API answers stream (seed 003); chats always do.
	Stream bool
	Plan   string
	Region string

	ToolsEnabled      bool
	MaxToolIterations int
	EnabledTools      []string
	DisabledTools     []string

	UseMemory          bool
	MaxHistoryMessages int

	UseRAG       bool
	RAGTopK      int
	RAGThreshold float64
	// RAGThresholdSet is whether the configuration sets rag_threshold;
	// unset, the embedder's own default applies (SearchThreshold).
	RAGThresholdSet bool

	// UseCache answers a new conversation's first question from the
	// response cache when the same question was answered (seed 000 §11.4).
	UseCache bool
	// APIKeyID is the user key seed 003's agent settings select.
	APIKeyID string
}

// Defaults of Config (seed 000 §4.3).
const (
	DefaultMaxToolIterations  = 10
	DefaultMaxHistoryMessages = 50
	DefaultRAGTopK            = 5
	DefaultRAGThreshold       = 0.7
)

// SearchThreshold is the threshold to search the agent's knowledge with:
// its rag_threshold when the configuration sets one, else -1 (the
// embedder's default: DefaultRAGThreshold for a semantic model, a low floor
// for a lexical one, whose cosines are low even for good matches).
func (c Config) SearchThreshold() float64 {
	if !c.RAGThresholdSet {
		return -1
	}
	return c.RAGThreshold
}

// configKeys are the keys Config reads; every other key is kept untouched.
var configKeys = []string{
	"system_prompt", "temperature", "top_p", "max_tokens", "stream", "plan", "region",
	"tools_enabled", "max_tool_iterations", "enabled_tools", "disabled_tools",
	"use_memory", "max_history_messages", "use_rag", "rag_top_k", "rag_threshold",
	"use_cache", "api_key_id",
}

// ParseConfig reads and checks a configuration (a JSON object; empty means
// {}) and fills in the defaults. Errors are KindInvalid and name the key.
func ParseConfig(raw string) (Config, error) {
	c := Config{ToolsEnabled: true, MaxToolIterations: DefaultMaxToolIterations, UseMemory: true,
		MaxHistoryMessages: DefaultMaxHistoryMessages, RAGTopK: DefaultRAGTopK, RAGThreshold: DefaultRAGThreshold,
		Plan: PlanDecentralized, UseCache: true}
	if strings.TrimSpace(raw) == "" {
		return c, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &m); err != nil || m == nil {
		return c, workspaces.E(workspaces.KindInvalid, "Invalid value for 'configuration': expected an object")
	}
	r := configReader{m: m}
	r.str("system_prompt", &c.SystemPrompt, 100_000)
	c.Temperature = r.num("temperature", 0, 2)
	c.TopP = r.num("top_p", 0, 1)
	r.int("max_tokens", &c.MaxTokens, 0, 1_000_000)
	r.bool("stream", &c.Stream)
	r.str("plan", &c.Plan, 50)
	r.str("region", &c.Region, 50)
	r.bool("tools_enabled", &c.ToolsEnabled)
	r.int("max_tool_iterations", &c.MaxToolIterations, 1, 50)
	r.names("enabled_tools", &c.EnabledTools)
	r.names("disabled_tools", &c.DisabledTools)
	r.bool("use_memory", &c.UseMemory)
	r.int("max_history_messages", &c.MaxHistoryMessages, 0, 1000)
	r.bool("use_rag", &c.UseRAG)
	r.int("rag_top_k", &c.RAGTopK, 1, 100)
	if p := r.num("rag_threshold", 0, 1); p != nil {
		c.RAGThreshold, c.RAGThresholdSet = *p, true
	}
	r.bool("use_cache", &c.UseCache)
	r.str("api_key_id", &c.APIKeyID, 100)
	if r.err != nil {
		return c, r.err
	}
	if c.Plan == "" {
		c.Plan = PlanDecentralized
	}
	if c.Plan != PlanDecentralized && c.Plan != PlanDedicated {
		return c, workspaces.E(workspaces.KindInvalid, "Invalid value for 'configuration.plan': expected \"Decentralized\" or \"Dedicated\"")
	}
	if c.Region != "" && !slices.Contains(Regions, c.Region) {
		return c, workspaces.E(workspaces.KindInvalid, "Invalid value for 'configuration.region': expected one of "+strings.Join(Regions, ", "))
	}
	return c, nil
}

// MergeConfig applies patch to the configuration old: each key of patch
// replaces the same key of old, and a null value removes it, so a client
// can change one setting without resending the others (seed 000 §4.2.2
// sends only disabled_tools). The result is checked with ParseConfig.
func MergeConfig(old string, patch map[string]json.RawMessage) (string, error) {
	m := map[string]json.RawMessage{}
	if strings.TrimSpace(old) != "" {
		if err := json.Unmarshal([]byte(old), &m); err != nil || m == nil {
			m = map[string]json.RawMessage{}
		}
	}
	for k, v := range patch {
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	out, err := json.Marshal(m)
	if err != nil {
		return "", workspaces.E(workspaces.KindInvalid, "Invalid value for 'configuration': expected an object")
	}
	if _, err := ParseConfig(string(out)); err != nil {
		return "", err
	}
	return string(out), nil
}

// configReader reads typed keys of a configuration, keeping the first error.
type configReader struct {
	m   map[string]json.RawMessage
	err error
}

func (r *configReader) get(key string) (json.RawMessage, bool) {
	v, ok := r.m[key]
	if !ok || r.err != nil || string(bytes.TrimSpace(v)) == "null" {
		return nil, false
	}
	return v, true
}

func (r *configReader) fail(key, want string) {
	r.err = workspaces.E(workspaces.KindInvalid, fmt.Sprintf("Invalid value for 'configuration.%s': expected %s", key, want))
}

func (r *configReader) str(key string, dst *string, max int) {
	if v, ok := r.get(key); ok {
		if json.Unmarshal(v, dst) != nil || len(*dst) > max {
			r.fail(key, fmt.Sprintf("a string of at most %d bytes", max))
		}
	}
}

func (r *configReader) bool(key string, dst *bool) {
	if v, ok := r.get(key); ok && json.Unmarshal(v, dst) != nil {
		r.fail(key, "true or false")
	}
}

func (r *configReader) num(key string, min, max float64) *float64 {
	v, ok := r.get(key)
	if !ok {
		return nil
	}
	var f float64
	if json.Unmarshal(v, &f) != nil || f < min || f > max {
		r.fail(key, fmt.Sprintf("a number from %g to %g", min, max))
		return nil
	}
	return &f
}

func (r *configReader) int(key string, dst *int, min, max int) {
	v, ok := r.get(key)
	if !ok {
		return
	}
	var f float64
	if json.Unmarshal(v, &f) != nil || f != float64(int(f)) || int(f) < min || int(f) > max {
		r.fail(key, fmt.Sprintf("a whole number from %d to %d", min, max))
		return
	}
	*dst = int(f)
}

func (r *configReader) names(key string, dst *[]string) {
	v, ok := r.get(key)
	if !ok {
		return
	}
	var names []string
	if json.Unmarshal(v, &names) != nil || len(names) > 1000 {
		r.fail(key, "a list of tool names")
		return
	}
	for _, n := range names {
		if strings.TrimSpace(n) == "" || len(n) > 200 {
			r.fail(key, "a list of tool names")
			return
		}
	}
	*dst = names
}

// Video tools and the tools a video with sound needs (seed 000 §3.3).
var (
	videoTools     = []string{"text_to_video", "image_to_video"}
	videoCompanion = []string{"url_resolver", "text_to_speech", "combine_video_audio"}
)

// ToolAllowed applies seed 000 §4.2.3 to one tool name:
//   - tools_enabled false: no tool is available;
//   - enabled_tools empty: every tool is available except those in
//     disabled_tools;
//   - enabled_tools non-empty: only the tools it lists are available, even
//     when disabled_tools lists them too (enabled_tools takes precedence).
//
// Custom and MCP tools follow the same rule by their names. Use
// AllowedTools for a whole set: it also applies the video rule.
func (c Config) ToolAllowed(name string) bool {
	if !c.ToolsEnabled {
		return false
	}
	if len(c.EnabledTools) > 0 {
		return slices.Contains(c.EnabledTools, name)
	}
	return !slices.Contains(c.DisabledTools, name)
}

// AllowedTools returns the names among available that the agent may call,
// sorted: ToolAllowed's rule, plus seed 000 §3.3's — when a video tool is
// allowed, url_resolver, text_to_speech and combine_video_audio are too
// (unless disabled_tools names them and enabled_tools does not: an
// explicit "no" beats the automatic "yes").
func (c Config) AllowedTools(available []string) []string {
	var out []string
	video := false
	for _, n := range available {
		if c.ToolAllowed(n) {
			out = append(out, n)
			video = video || slices.Contains(videoTools, n)
		}
	}
	if video {
		for _, n := range videoCompanion {
			if slices.Contains(available, n) && !slices.Contains(out, n) &&
				(!slices.Contains(c.DisabledTools, n) || slices.Contains(c.EnabledTools, n)) {
				out = append(out, n)
			}
		}
	}
	sort.Strings(out)
	return out
}
