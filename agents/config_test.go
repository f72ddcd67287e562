package agents_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// builtins are seed 000's sixteen built-in tools.
var builtins = []string{
	"read_file", "write_file", "web_search", "url_resolver", "code_executor", "transcription",
	"text_to_image", "text_to_video", "image_to_video", "text_to_speech", "combine_video_audio",
	"svg_diagram", "ocr", "summarization", "question_answering", "translation",
}

func except(all []string, drop ...string) []string {
	var out []string
	for _, n := range all {
		keep := true
		for _, d := range drop {
			keep = keep && n != d
		}
		if keep {
			out = append(out, n)
		}
	}
	return out
}

// TestToolRuleOfSeed000 covers every case of seed 000 §4.2.3 and the
// examples of §4.2.2 and §4.2.4.
func TestToolRuleOfSeed000(t *testing.T) {
	t.Parallel()
	available := append(append([]string{}, builtins...), "my_custom_tool", "mcp_filesystem_read")
	cases := []struct {
		name   string
		config string
		want   []string
	}{
		{"no configuration: every tool", `{}`, available},
		{"enabled_tools empty: all but disabled (§4.2.4 text_to_image)", `{"disabled_tools":["text_to_image"]}`, except(available, "text_to_image")},
		{"enabled_tools empty: all but disabled (§4.2.4 code_executor)", `{"disabled_tools":["code_executor"]}`, except(available, "code_executor")},
		{"§4.2.2 disabled_tools only", `{"disabled_tools":["text_to_image","transcription"]}`, except(available, "text_to_image", "transcription")},
		{"explicitly empty lists: every tool", `{"enabled_tools":[],"disabled_tools":[]}`, available},
		{"enabled_tools has items: only those (§4.2.4)", `{"enabled_tools":["web_search","url_resolver"]}`, []string{"url_resolver", "web_search"}},
		{"§4.2.2 enabled with empty disabled", `{"enabled_tools":["web_search","url_resolver","code_executor"],"disabled_tools":[]}`, []string{"code_executor", "url_resolver", "web_search"}},
		{"in both lists: enabled_tools wins", `{"enabled_tools":["web_search","ocr"],"disabled_tools":["web_search"]}`, []string{"ocr", "web_search"}},
		{"disabled and not enabled, with enabled non-empty: off", `{"enabled_tools":["ocr"],"disabled_tools":["web_search"]}`, []string{"ocr"}},
		{"enabled names a tool that does not exist", `{"enabled_tools":["nope"]}`, nil},
		{"custom and MCP tools follow the same rule", `{"disabled_tools":["my_custom_tool","mcp_filesystem_read"]}`, builtins},
		{"custom tool enabled by name", `{"enabled_tools":["mcp_filesystem_read"]}`, []string{"mcp_filesystem_read"}},
		{"tools_enabled false: nothing", `{"tools_enabled":false}`, nil},
		{"tools_enabled false beats enabled_tools", `{"tools_enabled":false,"enabled_tools":["ocr"]}`, nil},
		{"a video tool brings its companions (§3.3)", `{"enabled_tools":["text_to_video"]}`, []string{"combine_video_audio", "text_to_speech", "text_to_video", "url_resolver"}},
		{"image_to_video too", `{"enabled_tools":["image_to_video","ocr"]}`, []string{"combine_video_audio", "image_to_video", "ocr", "text_to_speech", "url_resolver"}},
		{"an explicit disable beats the companion rule", `{"enabled_tools":["text_to_video"],"disabled_tools":["text_to_speech"]}`, []string{"combine_video_audio", "text_to_video", "url_resolver"}},
		{"video disabled: companions follow their own rule", `{"disabled_tools":["text_to_video","image_to_video","url_resolver"]}`, except(available, "text_to_video", "image_to_video", "url_resolver")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := agents.ParseConfig(tc.config)
			if err != nil {
				t.Fatal(err)
			}
			got := c.AllowedTools(available)
			want := append([]string(nil), tc.want...)
			slices.Sort(want)
			if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Fatalf("AllowedTools = %v, want %v", got, want)
			}
		})
	}
}

func TestConfigDefaultsAndValidation(t *testing.T) {
	t.Parallel()
	c, err := agents.ParseConfig("")
	if err != nil {
		t.Fatal(err)
	}
	if !c.ToolsEnabled || c.MaxToolIterations != 10 || !c.UseMemory || c.MaxHistoryMessages != 50 ||
		c.UseRAG || c.RAGTopK != 5 || c.RAGThreshold != 0.7 || c.SearchThreshold() != -1 || c.Plan != agents.PlanDecentralized || c.Temperature != nil {
		t.Fatalf("defaults: %+v", c)
	}
	c, err = agents.ParseConfig(`{"system_prompt":"Be brief 🙂","temperature":0.2,"top_p":0.9,"max_tokens":300,"stream":true,
		"plan":"Dedicated","region":"us-east-1","max_tool_iterations":3,"max_history_messages":0,"use_rag":true,"rag_top_k":8,"rag_threshold":0.5,"custom":{"x":1}}`)
	if err != nil {
		t.Fatal(err)
	}
	if c.SystemPrompt != "Be brief 🙂" || *c.Temperature != 0.2 || *c.TopP != 0.9 || c.MaxTokens != 300 || !c.Stream ||
		c.Plan != agents.PlanDedicated || c.Region != "us-east-1" || c.MaxToolIterations != 3 || c.MaxHistoryMessages != 0 ||
		!c.UseRAG || c.RAGTopK != 8 || c.RAGThreshold != 0.5 || c.SearchThreshold() != 0.5 {
		t.Fatalf("parsed: %+v", c)
	}
	bad := map[string]string{
		`[]`:                             "'configuration'",
		`{"temperature":3}`:              "'configuration.temperature': expected a number from 0 to 2",
		`{"temperature":"hot"}`:          "'configuration.temperature'",
		`{"top_p":-0.1}`:                 "'configuration.top_p'",
		`{"max_tool_iterations":0}`:      "'configuration.max_tool_iterations': expected a whole number from 1 to 50",
		`{"max_tool_iterations":2.5}`:    "'configuration.max_tool_iterations'",
		`{"enabled_tools":"web_search"}`: "'configuration.enabled_tools': expected a list of tool names",
		`{"disabled_tools":[""]}`:        "'configuration.disabled_tools'",
		`{"use_memory":"yes"}`:           "'configuration.use_memory': expected true or false",
		`{"plan":"Cheap"}`:               "'configuration.plan'",
		`{"region":"mars-1"}`:            "'configuration.region'",
		`{"rag_threshold":2}`:            "'configuration.rag_threshold'",
		`{"system_prompt":5}`:            "'configuration.system_prompt'",
	}
	for raw, want := range bad {
		_, err := agents.ParseConfig(raw)
		if workspaces.ErrorKind(err) != workspaces.KindInvalid || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseConfig(%s) = %v, want an invalid error with %q", raw, err, want)
		}
	}
}

func TestMergeConfigKeepsUnknownKeysAndRemovesNulls(t *testing.T) {
	t.Parallel()
	merged, err := agents.MergeConfig(`{"system_prompt":"a","custom":{"keep":true},"enabled_tools":["ocr"]}`,
		map[string]json.RawMessage{"disabled_tools": json.RawMessage(`["web_search"]`), "enabled_tools": json.RawMessage(`null`)})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal([]byte(merged), &m)
	if m["system_prompt"] != "a" || m["custom"] == nil || m["enabled_tools"] != nil || m["disabled_tools"] == nil {
		t.Fatalf("merged: %s", merged)
	}
	if _, err := agents.MergeConfig(`{}`, map[string]json.RawMessage{"temperature": json.RawMessage(`9`)}); workspaces.ErrorKind(err) != workspaces.KindInvalid {
		t.Fatalf("a bad patch merged: %v", err)
	}
}
