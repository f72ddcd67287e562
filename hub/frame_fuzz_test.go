package hub

import (
	"encoding/json"
	"testing"
)

// FuzzParseFrame feeds arbitrary bytes to the /ws frame decoder and the
// payload decoder: they must never panic, and whatever they accept must be
// a well-formed request whose id can be echoed back as JSON.
func FuzzParseFrame(f *testing.F) {
	for _, seed := range []string{
		`{"type":"join","id":1,"data":{"chat_id":"abc","since":3}}`,
		`{"type":"message","id":"x","data":{"chat_id":"a","message_string":"atm_x","content":"hi","client_id":"c"}}`,
		`{"type":"join","id":1e400}`, `{"type":"","id":null}`, `[]`, `null`, `{"type":"join","id":{"a":1}}`,
		`{"type":"join","data":{"since":-1}}`, `{"type":"join","data":{"since":18446744073709551616}}`,
		"{\"type\":\"join\",\"data\":\"\xff\"}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := parseFrame(data)
		ack := ackFrame(fr.ID, failure(invalid("x")))
		if !json.Valid(ack) {
			t.Fatalf("ack for %q is not JSON: %s", data, ack)
		}
		if err != nil {
			return
		}
		if fr.Type == "" {
			t.Fatalf("accepted a frame without a type: %q", data)
		}
		var req joinReq
		if decode(fr.Data, &req) == nil && req.Since != nil && *req.Since > 1<<64-1 {
			t.Fatal("impossible since")
		}
		var msg messageReq
		_ = decode(fr.Data, &msg)
	})
}
