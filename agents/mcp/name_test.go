package mcp_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/agents/mcp"
)

var validToolName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func TestToolName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ server, tool, want string }{
		{"filesystem", "read_file", "mcp_filesystem_read_file"},
		{"everything", "get-sum", "mcp_everything_get-sum"},
		{"gh", "repos/list.all", "mcp_gh_repos_list_all"},
		{"x", "héllo wörld", "mcp_x_h_llo_w_rld"},
	} {
		if got := mcp.ToolName(tc.server, tc.tool); got != tc.want {
			t.Errorf("ToolName(%q, %q) = %q, want %q", tc.server, tc.tool, got, tc.want)
		}
	}
	server := strings.Repeat("s", 40)
	a := mcp.ToolName(server, strings.Repeat("t", 30)+"_alpha")
	b := mcp.ToolName(server, strings.Repeat("t", 30)+"_beta")
	if len(a) != 64 || len(b) != 64 || a == b || !validToolName.MatchString(a) {
		t.Fatalf("long names %q and %q: want 64 valid, distinct characters", a, b)
	}
	if a != mcp.ToolName(server, strings.Repeat("t", 30)+"_alpha") {
		t.Fatal("shortening is not deterministic")
	}
	if got := mcp.AgentToolName("  Customer Support Bot!! "); got != "ask_Customer_Support_Bot" {
		t.Errorf("AgentToolName = %q", got)
	}
	if got := mcp.AgentToolName("日本"); got != "ask_agent" {
		t.Errorf("AgentToolName of a name without ASCII = %q", got)
	}
}

// FuzzToolName checks that any server and tool name (tool names come from
// the servers, untrusted) give a name models accept.
func FuzzToolName(f *testing.F) {
	f.Add("filesystem", "read_file")
	f.Add(strings.Repeat("s", 40), strings.Repeat("é", 100))
	f.Add("", "\x00\xff")
	f.Fuzz(func(t *testing.T, server, tool string) {
		if n := mcp.ToolName(server, tool); !validToolName.MatchString(n) {
			t.Fatalf("ToolName(%q, %q) = %q", server, tool, n)
		}
		if n := mcp.AgentToolName(tool); !validToolName.MatchString(n) {
			t.Fatalf("AgentToolName(%q) = %q", tool, n)
		}
	})
}
