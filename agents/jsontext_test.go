package agents_test

import (
	"encoding/json"
	"testing"

	"github.com/atrium-hq/atrium/agents"
)

// FuzzAppendJSONString checks hand-written JSON strings
// decode to what encoding/json's would, whatever the model sends
// (invalid UTF-8, control characters, quotes, U+2028).
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `quo"te \ back`, "nl\n cr\r tab\t nul\x00 esc\x1b", "héllo 👋🏽 世界", "bad \xff\xfe utf8 \xe2\x82", "ls\u2028ps\u2029", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := agents.AppendJSONString(nil, s)
		var fromOurs, fromStd string
		if err := json.Unmarshal(got, &fromOurs); err != nil {
			t.Fatalf("AppendJSONString(%q) = %s: not a JSON string: %v", s, got, err)
		}
		std, _ := json.Marshal(s)
		if err := json.Unmarshal(std, &fromStd); err != nil {
			t.Fatal(err)
		}
		if fromOurs != fromStd {
			t.Fatalf("AppendJSONString(%q) decodes to %q, encoding/json's to %q", s, fromOurs, fromStd)
		}
	})
}
