package gateway

import (
	"encoding/json"
	"testing"
)

// FuzzSeed001JSONString checks the stream's hand-written JSON strings
// decode to what encoding/json's would, whatever the model sends
// (invalid UTF-8, control characters, quotes, U+2028).
func FuzzSeed001JSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `quo"te \ back`, "nl\n cr\r tab\t nul\x00 esc\x1b", "héllo 👋🏽 世界", "bad \xff\xfe utf8 \xe2\x82", "ls\u2028ps\u2029", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendJSONString(nil, s)
		var fromOurs, fromStd string
		if err := json.Unmarshal(got, &fromOurs); err != nil {
			t.Fatalf("appendJSONString(%q) = %s: not a JSON string: %v", s, got, err)
		}
		std, _ := json.Marshal(s)
		if err := json.Unmarshal(std, &fromStd); err != nil {
			t.Fatal(err)
		}
		if fromOurs != fromStd {
			t.Fatalf("appendJSONString(%q) decodes to %q, encoding/json's to %q", s, fromOurs, fromStd)
		}
	})
}
