package hub

import (
	"errors"
	"sync/atomic"

	"github.com/zishang520/engine.io/v2/events"
	"github.com/zishang520/socket.io-go-parser/v2/parser"
)

// errSIOPayload is a Socket.IO packet the library would crash on.
var errSIOPayload = errors.New("invalid payload")

// sioParser is the Socket.IO library's parser with one check added. The
// library's decoder accepts an event or ack packet without its data
// ("42", "421", "43"), and the library then asserts the data is a list on
// the goroutine it handles the packet on: a panic nothing recovers, which
// ends the process. Its decoder here refuses such packets instead, which
// makes the library close that client's connection as for any malformed
// packet.
type sioParser struct{ parser.Parser }

func newSIOParser() parser.Parser { return sioParser{parser.NewParser()} }

func (p sioParser) NewDecoder() parser.Decoder {
	d := &sioDecoder{EventEmitter: events.New(), inner: p.Parser.NewDecoder()}
	d.inner.On("decoded", d.decoded)
	return d
}

// sioDecoder passes on the packets of its inner decoder that carry the
// data their type needs.
type sioDecoder struct {
	events.EventEmitter
	inner parser.Decoder
	bad   atomic.Bool // the last Add decoded a packet without its data
}

// decoded runs inside inner.Add, on Add's goroutine.
func (d *sioDecoder) decoded(args ...any) {
	if len(args) > 0 {
		if p, ok := args[0].(*parser.Packet); ok && !sioPacketComplete(p) {
			d.bad.Store(true)
			return
		}
	}
	d.Emit("decoded", args...)
}

// Add decodes data; a packet without the data its type needs is an error.
func (d *sioDecoder) Add(data any) error {
	d.bad.Store(false)
	if err := d.inner.Add(data); err != nil {
		return err
	}
	if d.bad.Load() {
		return errSIOPayload
	}
	return nil
}

func (d *sioDecoder) Destroy() { d.inner.Destroy() }

// sioPacketComplete reports whether p carries what the library assumes it
// does: events and acks a list.
func sioPacketComplete(p *parser.Packet) bool {
	switch p.Type {
	case parser.EVENT, parser.BINARY_EVENT, parser.ACK, parser.BINARY_ACK:
		_, ok := p.Data.([]any)
		return ok
	}
	return true
}
