package hub_test

// /ws at the level of bytes on the wire: the handshake, fragments, control
// frames and protocol errors that a WebSocket library on the client side
// would never produce.

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents/provider/echo"
	"github.com/atrium-hq/atrium/hub"
)

// rawWS is a hand-driven WebSocket client.
type rawWS struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

// rawDial connects to /ws?token=… and sends the opening handshake followed,
// in the same write, by extra (bytes a fast client may send at once).
func rawDial(t *testing.T, n *node, token string, extra []byte) *rawWS {
	t.Helper()
	return rawDialWith(t, &net.Dialer{}, n, token, extra)
}

// rawDialWith is rawDial through d.
func rawDialWith(t *testing.T, d *net.Dialer, n *node, token string, extra []byte) *rawWS {
	t.Helper()
	u, _ := url.Parse(n.srv.URL)
	conn, err := d.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	var k [16]byte
	rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	req := "GET /ws?token=" + token + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + "\r\n\r\n"
	if _, err := conn.Write(append([]byte(req), extra...)); err != nil {
		t.Fatal(err)
	}
	c := &rawWS{t: t, conn: conn, r: bufio.NewReader(conn)}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Fatalf("handshake: %d %v", resp.StatusCode, resp.Header)
	}
	return c
}

// clientFrame encodes a masked client frame.
func clientFrame(fin bool, op byte, payload []byte) []byte {
	b := []byte{op, 0x80}
	if fin {
		b[0] |= 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b[1] |= byte(n)
	case n <= 0xFFFF:
		b[1] |= 126
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b[1] |= 127
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	mask := [4]byte{0x12, 0x34, 0x56, 0x78}
	b = append(b, mask[:]...)
	for i, c := range payload {
		b = append(b, c^mask[i&3])
	}
	return b
}

func (c *rawWS) write(b []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// next reads one server frame.
func (c *rawWS) next() (op byte, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(c.r, h[:]); err != nil {
		return 0, nil, err
	}
	if h[1]&0x80 != 0 {
		return 0, nil, errors.New("server frame is masked")
	}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var l [2]byte
		io.ReadFull(c.r, l[:])
		n = uint64(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		io.ReadFull(c.r, l[:])
		n = binary.BigEndian.Uint64(l[:])
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(c.r, payload); err != nil {
		return 0, nil, err
	}
	return h[0] & 0x0F, payload, nil
}

// nextOf skips frames until one with op.
func (c *rawWS) nextOf(op byte) []byte {
	c.t.Helper()
	for {
		o, p, err := c.next()
		if err != nil {
			c.t.Fatalf("waiting for opcode %d: %v", op, err)
		}
		if o == op {
			return p
		}
	}
}

// ackOf waits for the ack with id.
func (c *rawWS) ackOf(id string) ack {
	c.t.Helper()
	for {
		var f frame
		if err := json.Unmarshal(c.nextOf(0x1), &f); err != nil {
			c.t.Fatal(err)
		}
		if f.Type == "ack" && string(f.ID) == id {
			var a ack
			json.Unmarshal(f.Data, &a)
			return a
		}
	}
}

// closeCode waits for the server's close frame and returns its code.
func (c *rawWS) closeCode() int {
	c.t.Helper()
	p := c.nextOf(0x8)
	if len(p) < 2 {
		c.t.Fatalf("close frame without a code: %q", p)
	}
	return int(binary.BigEndian.Uint16(p))
}

func TestWSWireHandshakeRefusals(t *testing.T) {
	e := newEnv(t, echo.Config{Tokens: 1, Rate: -1})
	base := e.nodes[0].srv.URL + "/ws?token=" + e.token(e.owner)
	for _, tc := range []struct {
		name   string
		header map[string]string
		status int
	}{
		{"plain GET", nil, http.StatusUpgradeRequired},
		{"old version", map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "8", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}, http.StatusBadRequest},
		{"bad key", map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "short"}, http.StatusBadRequest},
	} {
		req, _ := http.NewRequest("GET", base, nil)
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		resp, err := testHTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || len(body) == 0 {
			t.Errorf("%s: %d %q, want %d with a reason", tc.name, resp.StatusCode, body, tc.status)
		}
	}
}

func TestWSWireFramesAndControl(t *testing.T) {
	e := newEnv(t, echo.Config{Tokens: 1, Rate: -1})
	n := e.nodes[0]
	join := `{"type":"join","id":1,"data":{"chat_id":"` + string(e.chat) + `"}}`

	// A request sent in the same packet as the handshake is answered.
	c := rawDial(t, n, e.token(e.owner), clientFrame(true, 0x1, []byte(join)))
	if a := c.ackOf("1"); !a.OK {
		t.Fatalf("join sent with the handshake: %+v", a)
	}

	// A request in three fragments, with a ping between them, written a
	// byte at a time: the pong comes back with the ping's payload, then
	// the ack.
	typing := []byte(`{"type":"typing","id":2,"data":{"chat_id":"` + string(e.chat) + `"}}`)
	var msg []byte
	msg = append(msg, clientFrame(false, 0x1, typing[:5])...)
	msg = append(msg, clientFrame(false, 0x0, typing[5:20])...)
	msg = append(msg, clientFrame(true, 0x9, []byte("are you there"))...)
	msg = append(msg, clientFrame(true, 0x0, typing[20:])...)
	for i := range msg {
		c.write(msg[i : i+1])
	}
	if p := c.nextOf(0xA); string(p) != "are you there" {
		t.Fatalf("pong %q", p)
	}
	if a := c.ackOf("2"); !a.OK {
		t.Fatalf("fragmented typing: %+v", a)
	}

	// A binary message gets an error ack, the connection stays.
	c.write(clientFrame(true, 0x2, []byte(join)))
	if a := c.ackOf("null"); a.OK || a.Error == nil || a.Error.Code != "invalid" {
		t.Fatalf("binary frame: %+v", a)
	}

	// A message just under the limit passes (extended 16-bit length).
	big := `{"type":"nope","id":3,"data":"` + strings.Repeat("x", 10000) + `"}`
	c.write(clientFrame(true, 0x1, []byte(big)))
	if a := c.ackOf("3"); a.OK {
		t.Fatalf("unknown event acked ok")
	}

	// A close from the client is answered with the same code.
	c.write(clientFrame(true, 0x8, []byte{0x03, 0xE8, 'b', 'y', 'e'}))
	if code := c.closeCode(); code != 1000 {
		t.Fatalf("close echoed with %d", code)
	}
	if _, _, err := c.next(); err == nil {
		t.Fatal("connection still open after the close handshake")
	}
}

func TestWSWireProtocolErrorsClose(t *testing.T) {
	e := newEnv(t, echo.Config{Tokens: 1, Rate: -1})
	n := e.nodes[0]
	unmasked := []byte{0x81, 0x02, '{', '}'}
	for _, tc := range []struct {
		name  string
		bytes []byte
		code  int
	}{
		{"unmasked", unmasked, 1002},
		{"reserved bits", append([]byte{0xC1}, clientFrame(true, 0x1, []byte("{}"))[1:]...), 1002},
		{"unknown opcode", clientFrame(true, 0x3, nil), 1002},
		{"fragmented ping", clientFrame(false, 0x9, nil), 1002},
		{"continuation first", clientFrame(true, 0x0, []byte("{}")), 1002},
		{"invalid UTF-8", clientFrame(true, 0x1, []byte("{\"type\":\"\xff\"}")), 1007},
		{"too big", clientFrame(true, 0x1, make([]byte, 17<<10)), 1009},
		{"too big in fragments", append(clientFrame(false, 0x1, make([]byte, 9<<10)), clientFrame(true, 0x0, make([]byte, 9<<10))...), 1009},
	} {
		c := rawDial(t, n, e.token(e.owner), nil)
		c.write(tc.bytes)
		if code := c.closeCode(); code != tc.code {
			t.Errorf("%s: closed with %d, want %d", tc.name, code, tc.code)
		}
	}
}

func TestWSPingsAndDropsSilentClients(t *testing.T) {
	e := newEnvWith(t, echo.Config{Tokens: 1, Rate: -1}, hub.Config{SendQueue: 64, PingInterval: 50 * time.Millisecond})
	c := rawDial(t, e.nodes[0], e.token(e.owner), nil)
	c.nextOf(0x9) // pinged
	// Answering nothing, the client is closed after two intervals.
	if code := c.closeCode(); code != 1001 {
		t.Fatalf("silent client closed with %d", code)
	}
}
