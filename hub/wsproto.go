package hub

// The server side of RFC 6455, just what /ws needs: the opening handshake,
// unmasked server frames (encoded once, written to many connections), and
// a decoder for masked client frames that works on whatever bytes have
// arrived so far, so a connection needs no reader goroutine while it idles.

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"path"
	"strings"
	"unicode/utf8"
)

// WebSocket opcodes.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// WebSocket close codes (RFC 6455 §7.4.1); 4000–4999 are the application's.
const (
	closeNormal        = 1000
	closeGoingAway     = 1001
	closeProtocolError = 1002
	closeInvalidData   = 1007
	closePolicy        = 1008
	closeTooBig        = 1009
)

// wsGUID is the fixed suffix of the handshake's accept key.
const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// handshakeError is a refused opening handshake: the HTTP status to answer.
type handshakeError struct {
	status int
	msg    string
}

func (e *handshakeError) Error() string { return e.msg }

// checkHandshake validates an upgrade request and returns the
// Sec-WebSocket-Accept value for it. Origins: with no allowed origins every
// origin may connect (API clients send none); otherwise a browser's Origin
// must be the server's own host or match one of the patterns (path.Match
// on the origin's host, as "*.example.com").
func checkHandshake(r *http.Request, origins []string) (string, error) {
	if !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") {
		return "", &handshakeError{http.StatusUpgradeRequired, "this endpoint speaks WebSocket: send Connection: Upgrade and Upgrade: websocket"}
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		return "", &handshakeError{http.StatusBadRequest, "unsupported Sec-WebSocket-Version: only 13 is spoken"}
	}
	key := strings.TrimSpace(r.Header.Get("Sec-WebSocket-Key"))
	if k, err := base64.StdEncoding.DecodeString(key); err != nil || len(k) != 16 {
		return "", &handshakeError{http.StatusBadRequest, "invalid Sec-WebSocket-Key"}
	}
	if err := checkOrigin(r, origins); err != nil {
		return "", err
	}
	sum := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

func checkOrigin(r *http.Request, patterns []string) error {
	origin := r.Header.Get("Origin")
	if origin == "" || OriginAllowed(origin, r.Host, patterns) {
		return nil
	}
	return &handshakeError{http.StatusForbidden, "origin " + origin + " is not allowed"}
}

// OriginAllowed reports whether a browser page from origin may use the
// server at host: with no patterns any origin may; otherwise the server's
// own host, or a host matching one of the patterns (path.Match, as
// "*.example.com"; a pattern may carry a scheme, "https://app.example.com").
func OriginAllowed(origin, host string, patterns []string) bool {
	if len(patterns) == 0 {
		return true
	}
	if _, rest, ok := strings.Cut(origin, "://"); ok {
		origin = rest
	}
	if strings.EqualFold(origin, host) {
		return true
	}
	for _, p := range patterns {
		if _, rest, ok := strings.Cut(p, "://"); ok {
			p = rest
		}
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(origin)); ok {
			return true
		}
	}
	return false
}

// headerHasToken reports whether a comma-separated header holds token,
// case-insensitively.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// serverFrame encodes one unfragmented, unmasked frame.
func serverFrame(op byte, payload []byte) []byte {
	n := len(payload)
	var b []byte
	switch {
	case n < 126:
		b = make([]byte, 2, 2+n)
		b[1] = byte(n)
	case n <= 0xFFFF:
		b = make([]byte, 4, 4+n)
		b[1] = 126
		binary.BigEndian.PutUint16(b[2:], uint16(n))
	default:
		b = make([]byte, 10, 10+n)
		b[1] = 127
		binary.BigEndian.PutUint64(b[2:], uint64(n))
	}
	b[0] = 0x80 | op
	return append(b, payload...)
}

// textFrame is payload as a text frame.
func textFrame(payload []byte) []byte { return serverFrame(opText, payload) }

// closeFrame is a close frame with code and reason (cut to fit the 125
// bytes a control frame may carry).
func closeFrame(code int, reason string) []byte {
	if len(reason) > 123 {
		reason = reason[:123]
	}
	p := make([]byte, 2, 2+len(reason))
	binary.BigEndian.PutUint16(p, uint16(code))
	return serverFrame(opClose, append(p, reason...))
}

// wsProtocolError fails the connection with a close code.
type wsProtocolError struct {
	code int
	msg  string
}

func (e *wsProtocolError) Error() string { return e.msg }

func protocolError(code int, msg string) error { return &wsProtocolError{code, msg} }

// errNeedMore says the buffer holds only part of a frame.
var errNeedMore = errors.New("incomplete frame")

// wsFrame is one decoded client frame; payload is unmasked in place and
// aliases the read buffer.
type wsFrame struct {
	fin     bool
	op      byte
	payload []byte
}

// parseClientFrame decodes the frame at the start of b, unmasking its
// payload in place, and returns it with the number of bytes it took.
// It returns errNeedMore (and how many bytes the whole frame needs, when
// the header says) while b holds only part of it, and a protocol error
// for what RFC 6455 forbids or a payload longer than limit.
func parseClientFrame(b []byte, limit int64) (f wsFrame, n int, err error) {
	if len(b) < 2 {
		return f, 2, errNeedMore
	}
	b0, b1 := b[0], b[1]
	if b0&0x70 != 0 {
		return f, 0, protocolError(closeProtocolError, "reserved bits set: no extension was negotiated")
	}
	f.fin, f.op = b0&0x80 != 0, b0&0x0F
	if b1&0x80 == 0 {
		return f, 0, protocolError(closeProtocolError, "client frames must be masked")
	}
	hdr := 2
	size := uint64(b1 & 0x7F)
	switch size {
	case 126:
		hdr += 2
		if len(b) < hdr {
			return f, hdr + 4, errNeedMore
		}
		size = uint64(binary.BigEndian.Uint16(b[2:]))
	case 127:
		hdr += 8
		if len(b) < hdr {
			return f, hdr + 4, errNeedMore
		}
		size = binary.BigEndian.Uint64(b[2:])
		if size>>63 != 0 {
			return f, 0, protocolError(closeProtocolError, "invalid payload length")
		}
	}
	switch f.op {
	case opContinuation, opText, opBinary:
		if size > uint64(limit) {
			return f, 0, protocolError(closeTooBig, "message too big")
		}
	case opClose, opPing, opPong:
		if !f.fin || size > 125 {
			return f, 0, protocolError(closeProtocolError, "control frames must be whole and at most 125 bytes")
		}
	default:
		return f, 0, protocolError(closeProtocolError, "unknown opcode")
	}
	total := hdr + 4 + int(size)
	if len(b) < total {
		return f, total, errNeedMore
	}
	mask := b[hdr : hdr+4]
	f.payload = b[hdr+4 : total]
	for i := range f.payload {
		f.payload[i] ^= mask[i&3]
	}
	return f, total, nil
}

// closePayload reads the code and reason of a client's close frame.
func closePayload(p []byte) (code int, reason string, err error) {
	switch {
	case len(p) == 0:
		return closeNormal, "", nil
	case len(p) == 1:
		return 0, "", protocolError(closeProtocolError, "invalid close payload")
	}
	code = int(binary.BigEndian.Uint16(p))
	if !utf8.Valid(p[2:]) || !validCloseCode(code) {
		return 0, "", protocolError(closeProtocolError, "invalid close payload")
	}
	return code, string(p[2:]), nil
}

func validCloseCode(c int) bool {
	switch {
	case c >= 3000 && c <= 4999:
		return true
	case c >= 1000 && c <= 1014:
		return c != 1004 && c != 1005 && c != 1006
	}
	return false
}
