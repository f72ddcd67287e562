package hub

import (
	"encoding/json"
	"errors"
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

// FuzzParseClientFrame feeds arbitrary bytes to the WebSocket frame
// decoder: it must never panic or read past its input, a frame it accepts
// must account for exactly its bytes, and every prefix of an accepted
// frame must ask for more.
func FuzzParseClientFrame(f *testing.F) {
	masked := func(b0 byte, payload []byte) []byte {
		b := []byte{b0, 0x80 | byte(len(payload)), 1, 2, 3, 4}
		for i, c := range payload {
			b = append(b, c^b[2+i&3])
		}
		return b
	}
	f.Add(masked(0x81, []byte(`{"type":"join"}`)))
	f.Add(masked(0x89, []byte("ping")))
	f.Add(masked(0x88, []byte{3, 232}))
	f.Add([]byte{0x81, 0xFE, 0x01, 0x00, 1, 2, 3, 4})
	f.Add([]byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4})
	f.Add([]byte{0x81, 0x05, 'h', 'e', 'l', 'l', 'o'})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := append([]byte(nil), data...)
		fr, n, err := parseClientFrame(in, 1<<10)
		if err == errNeedMore {
			if n != 0 && n <= len(data) {
				t.Fatalf("needs %d bytes but has %d", n, len(data))
			}
			return
		}
		if err != nil {
			var pe *wsProtocolError
			if !errors.As(err, &pe) || pe.code < 1000 {
				t.Fatalf("error without a close code: %v", err)
			}
			return
		}
		if n > len(data) || len(fr.payload) > n || len(fr.payload) > 1<<10 {
			t.Fatalf("frame of %d bytes with a %d-byte payload from %d bytes", n, len(fr.payload), len(data))
		}
		for i := 1; i < n; i++ {
			if _, _, err := parseClientFrame(append([]byte(nil), data[:i]...), 1<<10); err != errNeedMore {
				t.Fatalf("prefix of %d/%d bytes: %v", i, n, err)
			}
		}
	})
}
