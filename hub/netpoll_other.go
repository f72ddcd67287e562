//go:build !linux

package hub

import (
	"errors"
	"net"
	"syscall"
)

// epoll exists only on Linux; elsewhere every /ws connection reads on its
// own goroutine (see blockingWatch).
type epoll struct{}

func newEpoll() (*epoll, error)           { return nil, errors.New("epoll is Linux only") }
func (e *epoll) run(wake func(id uint32)) {}
func (e *epoll) close()                   {}
func (e *epoll) watch(net.Conn, uint32) (readWatch, error) {
	return nil, errors.New("epoll is Linux only")
}

// rawConn reports false: without Linux, writes go through the writer
// goroutine only.
func rawConn(net.Conn) (syscall.RawConn, bool) { return nil, false }

func (t *wsConn) tryWrite(b []byte) (int, error) { return 0, errors.New("not supported") }
