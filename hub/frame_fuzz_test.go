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

// FuzzParseSIOPacket feeds arbitrary bytes to the native Socket.IO packet
// decoder: it must never panic, and what it accepts must have a known type,
// an ack id of digits that an ack frame can carry, and a namespace that is
// empty or starts with '/'.
func FuzzParseSIOPacket(f *testing.F) {
	for _, seed := range []string{
		`0{"token":"x"}`, `2["join",{"chat_id":"a"}]`, `21["join",{}]`, `2/admin,3["x"]`, `0/admin,`, `0/`,
		`51-["x",{"_placeholder":true,"num":0}]`, `5-`, `5`, `6/a,1-9[]`, `1`, `7`, ``, `2999999999999999999999["x"]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pk, ok := parseSIOPacket(data)
		if !ok {
			return
		}
		if pk.typ < '0' || pk.typ > '6' {
			t.Fatalf("accepted type %q from %q", pk.typ, data)
		}
		if len(pk.ackID) > 18 {
			t.Fatalf("ack id %q from %q is too long", pk.ackID, data)
		}
		for _, c := range []byte(pk.ackID) {
			if c < '0' || c > '9' {
				t.Fatalf("ack id %q from %q is not digits", pk.ackID, data)
			}
		}
		if pk.namespace != "" && pk.namespace[0] != '/' {
			t.Fatalf("namespace %q from %q", pk.namespace, data)
		}
		ack, _ := json.Marshal(failure(invalid("x")))
		frame := "43" + pk.ackID + "[" + string(ack) + "]"
		if !json.Valid([]byte(frame[2+len(pk.ackID):])) {
			t.Fatalf("ack frame %q is not an id and a JSON array", frame)
		}
	})
}
