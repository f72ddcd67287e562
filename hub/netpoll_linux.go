//go:build linux

package hub

import (
	"errors"
	"net"
	"sync/atomic"
	"syscall"
)

// epoll tells idle /ws connections that bytes have arrived, so that none of
// them needs a goroutine blocked in Read: at 10,000 connections those
// goroutines' stacks and buffers were most of the hub's memory. Each
// connection's socket is registered one-shot with its id; a wake-up reads
// what arrived on a fresh goroutine, which re-arms the socket when done.
// Go's own poller keeps watching the same sockets, so reads and writes on
// the net.Conn work as usual.
type epoll struct {
	fd     int
	closed atomic.Bool
}

const epollFlags = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

func newEpoll() (*epoll, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return &epoll{fd: fd}, nil
}

// run calls wake with the id of each connection that became readable,
// until close.
func (e *epoll) run(wake func(id uint32)) {
	events := make([]syscall.EpollEvent, 256)
	for !e.closed.Load() {
		// A bounded wait, so that close is noticed: closing an epoll
		// descriptor does not wake a thread waiting on it.
		n, err := syscall.EpollWait(e.fd, events, 500)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			return
		}
		for _, ev := range events[:n] {
			wake(uint32(ev.Pad))
		}
	}
}

func (e *epoll) close() {
	if e.closed.CompareAndSwap(false, true) {
		syscall.Close(e.fd)
	}
}

// epollWatch is one connection's registration.
type epollWatch struct {
	e   *epoll
	raw syscall.RawConn
	id  uint32
}

// watch registers conn under id, disarmed; arm starts the watching. It
// fails for connections without a file descriptor.
func (e *epoll) watch(conn net.Conn, id uint32) (readWatch, error) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil, errors.New("not a socket")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	w := &epollWatch{e: e, raw: raw, id: id}
	if err := w.ctl(syscall.EPOLL_CTL_ADD, 0); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *epollWatch) ctl(op int, events uint32) error {
	var err error
	cerr := w.raw.Control(func(fd uintptr) {
		ev := syscall.EpollEvent{Events: events, Fd: int32(fd), Pad: int32(w.id)}
		err = syscall.EpollCtl(w.e.fd, op, int(fd), &ev)
	})
	if cerr != nil {
		return cerr
	}
	return err
}

// arm asks for one wake-up when the connection has bytes to read (at once
// if it already has).
func (w *epollWatch) arm() error { return w.ctl(syscall.EPOLL_CTL_MOD, epollFlags) }

// remove unregisters the connection; call it before closing the conn.
func (w *epollWatch) remove() { w.ctl(syscall.EPOLL_CTL_DEL, 0) }

// rawConn is conn's descriptor, for tryWrite.
func rawConn(conn net.Conn) (syscall.RawConn, bool) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil, false
	}
	raw, err := sc.SyscallConn()
	return raw, err == nil
}

// tryWrite writes what the socket takes of b now, without waiting.
func (t *wsConn) tryWrite(b []byte) (int, error) {
	var n int
	var werr error
	err := t.raw.Write(func(fd uintptr) bool {
		for n < len(b) {
			m, err := syscall.Write(int(fd), b[n:])
			if err == syscall.EINTR {
				continue
			}
			if err == syscall.EAGAIN {
				break
			}
			if err != nil {
				werr = err
				break
			}
			n += m
		}
		return true // never wait: what is left goes to the writer goroutine
	})
	if err == nil {
		err = werr
	}
	return n, err
}
