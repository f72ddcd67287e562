package hub

import "net/http"

type socketIO struct{ h *Hub }

func newSocketIO(h *Hub) *socketIO                 { return &socketIO{h: h} }
func (s *socketIO) handler() http.Handler          { return http.NotFoundHandler() }
func (s *socketIO) close()                         {}
