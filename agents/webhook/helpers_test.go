package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/webhook"
	"github.com/atrium-hq/atrium/persistence/bus"
	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
	"github.com/atrium-hq/atrium/workspaces"
)

// env is a webhook service over its own database and embedded NATS.
type env struct {
	db     *sqldb.DB
	ws     *workspaces.Service
	ag     *agents.Service
	natsAt string // the embedded NATS's data dir
	bus    *bus.Bus
	queue  *bus.WebhookQueue
	svc    *webhook.Service
	stop   func() // stops svc.Run
}

// testAckWait is the queue's ack wait in tests: short, so deliveries held
// by a stopped server come back quickly, and well longer than an attempt
// (its 1 s timeout plus recording it) on a loaded machine.
const testAckWait = 5 * time.Second

func newEnv(t *testing.T) *env {
	t.Helper()
	db := sqldbtest.Open(t)
	ws := workspaces.New(db, workspaces.Config{})
	e := &env{db: db, ws: ws, ag: agents.New(db, ws), natsAt: t.TempDir()}
	e.startBus(t)
	e.startService(t)
	return e
}

// startBus starts (or restarts) the embedded NATS on the env's data dir.
func (e *env) startBus(t *testing.T) {
	t.Helper()
	b, err := bus.Start(context.Background(), bus.Config{DataDir: e.natsAt})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	q, err := b.WebhookQueue(context.Background(), bus.WebhookQueueConfig{AckWait: testAckWait})
	if err != nil {
		t.Fatal(err)
	}
	e.bus, e.queue = b, q
}

// startService makes a new service on the current queue, running its
// dispatcher. It is not the agents' notifier unless a test makes it one,
// so creating agents sends nothing.
func (e *env) startService(t *testing.T) {
	t.Helper()
	e.svc = webhook.New(e.db, e.ag, e.queue, webhook.Config{})
	e.stop = run(t, e.svc.Run)
}

// worker starts a worker on the current queue; allowLocal lets it reach
// the test receivers on 127.0.0.1. The returned func stops it.
func (e *env) worker(t *testing.T, allowLocal bool, schedule ...time.Duration) func() {
	t.Helper()
	cfg := webhook.WorkerConfig{Schedule: schedule, Timeout: time.Second, Logger: slog.New(slog.DiscardHandler)}
	if schedule == nil {
		cfg.Schedule = []time.Duration{}
	}
	if allowLocal {
		cfg.Allow = []string{"127.0.0.1"}
	}
	return run(t, webhook.NewWorker(e.svc, e.queue, cfg).Run)
}

// run runs fn on its own goroutine until the returned func (also called
// at cleanup) cancels it and waits for it.
func run(t *testing.T, fn func(context.Context) error) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := fn(ctx); err != nil {
			t.Error(err)
		}
	}()
	stop := sync.OnceFunc(func() { cancel(); <-done })
	t.Cleanup(stop)
	return stop
}

func (e *env) user(t *testing.T, email string) workspaces.UserID {
	t.Helper()
	u, err := e.ws.Register(context.Background(), email, "password-"+email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func (e *env) agent(t *testing.T, owner workspaces.UserID, name string) agents.ID {
	t.Helper()
	a, err := e.ag.Create(context.Background(), owner, agents.NewAgent{Name: name, ModelID: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

func (e *env) endpoint(t *testing.T, owner workspaces.UserID, n webhook.NewEndpoint) webhook.Endpoint {
	t.Helper()
	ep, err := e.svc.Create(context.Background(), owner, n)
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

// deliveries returns the log of endpoint ep, newest first.
func (e *env) deliveries(t *testing.T, owner workspaces.UserID, ep webhook.EndpointID) []webhook.Delivery {
	t.Helper()
	ds, _, err := e.svc.Deliveries(context.Background(), owner, ep, 0, 200)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// waitDeliveries polls the log of ep until ok accepts it.
func (e *env) waitDeliveries(t *testing.T, owner workspaces.UserID, ep webhook.EndpointID, what string, ok func([]webhook.Delivery) bool) []webhook.Delivery {
	t.Helper()
	var ds []webhook.Delivery
	waitFor(t, what, func() bool {
		ds = e.deliveries(t, owner, ep)
		return ok(ds)
	})
	return ds
}

// waitFor polls cond until it holds, failing the test after 15 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// settled says whether the newest delivery is no longer pending.
func settled(ds []webhook.Delivery) bool {
	return len(ds) > 0 && ds[0].Status != webhook.DeliveryPending
}

// request is what a receiver got.
type request struct {
	method, path string
	header       http.Header
	body         []byte
	at           time.Time
}

// receiver is a webhook endpoint on a real socket. It answers each request
// with the next of its statuses (the last one repeats) and a body naming it.
type receiver struct {
	srv  *httptest.Server
	reqs chan request

	mu       sync.Mutex // guards statuses
	statuses []int
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	t.Helper()
	if len(statuses) == 0 {
		statuses = []int{http.StatusOK}
	}
	r := &receiver{reqs: make(chan request, 100), statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		status := r.statuses[0]
		if len(r.statuses) > 1 {
			r.statuses = r.statuses[1:]
		}
		r.mu.Unlock()
		r.reqs <- request{method: req.Method, path: req.URL.Path, header: req.Header.Clone(), body: body, at: time.Now()}
		w.WriteHeader(status)
		io.WriteString(w, "answer "+http.StatusText(status))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) url(path string) string { return r.srv.URL + path }

func (r *receiver) next(t *testing.T) request {
	t.Helper()
	select {
	case req := <-r.reqs:
		return req
	case <-time.After(15 * time.Second):
		t.Fatal("the receiver got no request within 15s")
		return request{}
	}
}

// verify checks the Standard Webhooks signature of a request with secret,
// computing the HMAC itself rather than with the package's Sign: one of
// the space-separated signatures must match.
func verify(t *testing.T, secret string, req request) {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatalf("secret %q: %v", secret, err)
	}
	mac := hmac.New(sha256.New, key)
	io.WriteString(mac, req.header.Get("webhook-id")+"."+req.header.Get("webhook-timestamp")+".")
	mac.Write(req.body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(req.header.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return
		}
	}
	t.Fatalf("webhook-signature %q has no %q (secret %s)", req.header.Get("webhook-signature"), want, secret)
}
