package webhook_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/webhook"
	"github.com/atrium-hq/atrium/workspaces"
)

// completed is seed 001's payload example as a notification.
func completed(owner workspaces.UserID, agent agents.ID, exec string) agents.Notification {
	return agents.Notification{
		Event: agents.NotifyExecutionDone, Owner: owner, Agent: agent,
		At:   time.Date(2026, 1, 4, 10, 30, 0, 0, time.UTC),
		Data: map[string]any{"agent_id": agent, "execution_id": exec, "status": "success", "duration_ms": 1450},
	}
}

func TestDeliveryIsSignedAndLogged(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.worker(t, true)
	rcv := newReceiver(t)
	alice := e.user(t, "alice@x.io")
	agent := e.agent(t, alice, "Support")
	ep := e.endpoint(t, alice, webhook.NewEndpoint{URL: rcv.url("/hooks/atrium"), Description: "mine"})
	if !strings.HasPrefix(ep.Secret, "whsec_") || !ep.Enabled || len(ep.Events) != 0 || ep.Agent != "" {
		t.Fatalf("created %+v", ep)
	}

	e.svc.Notify(context.Background(), completed(alice, agent, "exec_xyz789"))
	req := rcv.next(t)
	if req.method != "POST" || req.path != "/hooks/atrium" || req.header.Get("Content-Type") != "application/json" ||
		!strings.HasPrefix(req.header.Get("User-Agent"), "Atrium-Webhooks/") {
		t.Fatalf("request %s %s %v", req.method, req.path, req.header)
	}
	want := `{"event":"agent.execution.completed","timestamp":"2026-01-04T10:30:00Z","data":{"agent_id":"` + string(agent) +
		`","duration_ms":1450,"execution_id":"exec_xyz789","status":"success"}}`
	if string(req.body) != want {
		t.Fatalf("body\n%s\nwant\n%s", req.body, want)
	}
	msgID := req.header.Get("webhook-id")
	ts, err := strconv.ParseInt(req.header.Get("webhook-timestamp"), 10, 64)
	if !strings.HasPrefix(msgID, "msg_") || err != nil || time.Since(time.Unix(ts, 0)).Abs() > time.Minute {
		t.Fatalf("webhook-id %q, webhook-timestamp %q", msgID, req.header.Get("webhook-timestamp"))
	}
	verify(t, ep.Secret, req)

	ds := e.waitDeliveries(t, alice, ep.ID, "the delivery to succeed", settled)
	d := ds[0]
	if len(ds) != 1 || d.Status != webhook.DeliverySucceeded || d.MessageID() != msgID || d.Event != agents.NotifyExecutionDone ||
		string(d.Payload) != want || d.AttemptCount != 1 || d.NextAttemptAt != nil || d.LastStatusCode != 200 || d.LastError != "" {
		t.Fatalf("delivery %+v", d)
	}
	a := d.Attempts[0]
	if len(d.Attempts) != 1 || a.Number != 1 || a.StatusCode != 200 || a.Error != "" || a.ResponseBody != "answer OK" ||
		a.Duration < 0 || a.Duration > 5*time.Second || time.Since(a.At) > time.Minute {
		t.Fatalf("attempts %+v", d.Attempts)
	}
}

func TestRetriesWithBackoffUntilSuccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	schedule := []time.Duration{50 * time.Millisecond, 150 * time.Millisecond, time.Hour}
	e.worker(t, true, schedule...)
	rcv := newReceiver(t, 500, 500, 200)
	alice := e.user(t, "alice@x.io")
	agent := e.agent(t, alice, "A")
	ep := e.endpoint(t, alice, webhook.NewEndpoint{URL: rcv.url("/h")})

	e.svc.Notify(context.Background(), completed(alice, agent, "exec_1"))
	var reqs []request
	for range 3 {
		reqs = append(reqs, rcv.next(t))
	}
	for i, r := range reqs {
		verify(t, ep.Secret, r) // signed afresh on each attempt
		if r.header.Get("webhook-id") != reqs[0].header.Get("webhook-id") || string(r.body) != string(reqs[0].body) {
			t.Fatalf("attempt %d: webhook-id %q body %s; want the first attempt's", i+1, r.header.Get("webhook-id"), r.body)
		}
	}
	for i := 1; i < 3; i++ {
		if gap := reqs[i].at.Sub(reqs[i-1].at); gap < schedule[i-1] {
			t.Fatalf("attempt %d came %v after the one before, want at least %v", i+1, gap, schedule[i-1])
		}
	}
	d := e.waitDeliveries(t, alice, ep.ID, "the delivery to succeed", settled)[0]
	if d.Status != webhook.DeliverySucceeded || d.AttemptCount != 3 || len(d.Attempts) != 3 {
		t.Fatalf("delivery %+v", d)
	}
	for i, want := range []int{500, 500, 200} {
		a := d.Attempts[i]
		if a.Number != i+1 || a.StatusCode != want {
			t.Fatalf("attempt %d = %+v, want status %d", i+1, a, want)
		}
	}
	if a := d.Attempts[0]; a.Error != "the endpoint answered 500 Internal Server Error" || a.ResponseBody != "answer Internal Server Error" {
		t.Fatalf("failed attempt logged as %+v", a)
	}
}

func TestGivesUpWhenTheScheduleIsUsedUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.worker(t, true, 10*time.Millisecond, 10*time.Millisecond)
	rcv := newReceiver(t, 503)
	alice := e.user(t, "alice@x.io")
	ep := e.endpoint(t, alice, webhook.NewEndpoint{URL: rcv.url("/h")})

	e.svc.Notify(context.Background(), completed(alice, e.agent(t, alice, "A"), "exec_1"))
	d := e.waitDeliveries(t, alice, ep.ID, "the delivery to fail", settled)[0]
	if d.Status != webhook.DeliveryFailed || d.AttemptCount != 3 || d.NextAttemptAt != nil || d.LastStatusCode != 503 ||
		!strings.Contains(d.LastError, "503") {
		t.Fatalf("delivery %+v", d)
	}
	if got, _ := e.svc.Get(context.Background(), alice, ep.ID); !got.Enabled {
		t.Fatal("failing deliveries disabled the endpoint")
	}
}

func TestGoneDisablesTheEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.worker(t, true, time.Hour)
	ctx := context.Background()
	gone, ok := newReceiver(t, http.StatusGone), newReceiver(t)
	alice := e.user(t, "alice@x.io")
	agent := e.agent(t, alice, "A")
	epGone := e.endpoint(t, alice, webhook.NewEndpoint{URL: gone.url("/h")})
	epOK := e.endpoint(t, alice, webhook.NewEndpoint{URL: ok.url("/h")})

	e.svc.Notify(ctx, completed(alice, agent, "exec_1"))
	d := e.waitDeliveries(t, alice, epGone.ID, "the delivery to end", settled)[0]
	if d.Status != webhook.DeliveryFailed || d.AttemptCount != 1 || d.LastStatusCode != 410 || !strings.Contains(d.LastError, "disabled") {
		t.Fatalf("delivery %+v", d)
	}
	got, err := e.svc.Get(ctx, alice, epGone.ID)
	if err != nil || got.Enabled || !strings.Contains(got.DisabledReason, "410 Gone") {
		t.Fatalf("endpoint after 410 = %+v, %v", got, err)
	}

	// Later events skip it: once the second of two later events reached the
	// other endpoint, the first was dispatched too.
	e.svc.Notify(ctx, completed(alice, agent, "exec_2"))
	e.svc.Notify(ctx, completed(alice, agent, "exec_3"))
	e.waitDeliveries(t, alice, epOK.ID, "three deliveries", func(ds []webhook.Delivery) bool { return len(ds) == 3 })
	if ds := e.deliveries(t, alice, epGone.ID); len(ds) != 1 {
		t.Fatalf("the disabled endpoint has %d deliveries, want 1", len(ds))
	}
	if _, err := e.svc.Redeliver(ctx, alice, epGone.ID, d.ID); workspaces.ErrorKind(err) != workspaces.KindConflict {
		t.Fatalf("redeliver to a disabled endpoint: %v, want a conflict", err)
	}
	on := true
	if got, err := e.svc.Update(ctx, alice, epGone.ID, webhook.EndpointUpdate{Enabled: &on}); err != nil || !got.Enabled || got.DisabledReason != "" {
		t.Fatalf("enable = %+v, %v", got, err)
	}
}

// TestEndpointGetsOnlyLaterEvents: a notification that waited in the
// dispatcher's queue while an endpoint was made does not go to it.
func TestEndpointGetsOnlyLaterEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.worker(t, true, time.Hour)
	ctx := context.Background()
	alice := e.user(t, "alice@x.io")
	agent := e.agent(t, alice, "A")

	e.stop() // the dispatcher is behind: exec_1 waits
	e.svc.Notify(ctx, completed(alice, agent, "exec_1"))
	ep := e.endpoint(t, alice, webhook.NewEndpoint{URL: newReceiver(t).url("/h")})
	e.stop = run(t, e.svc.Run)
	e.svc.Notify(ctx, completed(alice, agent, "exec_2"))

	// Dispatched in order: once exec_2's delivery is there, exec_1 was
	// dispatched too.
	ds := e.waitDeliveries(t, alice, ep.ID, "a delivery", func(ds []webhook.Delivery) bool { return len(ds) > 0 })
	if len(ds) != 1 || !strings.Contains(string(ds[0].Payload), "exec_2") {
		t.Fatalf("deliveries %+v, want exec_2's only", ds)
	}
}

func TestPrivateAddressIsRefusedByDefault(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.worker(t, false, 10*time.Millisecond) // not allowed to reach 127.0.0.1
	rcv := newReceiver(t)
	alice := e.user(t, "alice@x.io")
	ep := e.endpoint(t, alice, webhook.NewEndpoint{URL: rcv.url("/h")})

	e.svc.Notify(context.Background(), completed(alice, e.agent(t, alice, "A"), "exec_1"))
	d := e.waitDeliveries(t, alice, ep.ID, "the delivery to fail", settled)[0]
	if d.Status != webhook.DeliveryFailed || d.AttemptCount != 1 || len(d.Attempts) != 1 {
		t.Fatalf("delivery %+v", d)
	}
	a := d.Attempts[0]
	if a.StatusCode != 0 || !strings.Contains(a.Error, "refusing to connect to 127.0.0.1") || !strings.Contains(a.Error, "ATRIUM_TOOLS_ALLOW_HOSTS") {
		t.Fatalf("attempt %+v: want a refusal naming the address and the setting", a)
	}
	select {
	case r := <-rcv.reqs:
		t.Fatalf("the receiver was reached: %+v", r)
	default:
	}
}

func TestRedeliverySendsTheSameMessageAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.worker(t, true)
	ctx := context.Background()
	rcv := newReceiver(t)
	alice, bob := e.user(t, "alice@x.io"), e.user(t, "bob@x.io")
	ep := e.endpoint(t, alice, webhook.NewEndpoint{URL: rcv.url("/h")})

	e.svc.Notify(ctx, completed(alice, e.agent(t, alice, "A"), "exec_1"))
	first := rcv.next(t)
	d := e.waitDeliveries(t, alice, ep.ID, "the delivery", settled)[0]

	// Another user's endpoint or delivery is not found.
	if _, err := e.svc.Redeliver(ctx, bob, ep.ID, d.ID); workspaces.ErrorKind(err) != workspaces.KindNotFound {
		t.Fatalf("bob redelivers alice's: %v", err)
	}
	other := e.endpoint(t, alice, webhook.NewEndpoint{URL: rcv.url("/other")})
	if _, err := e.svc.Redeliver(ctx, alice, other.ID, d.ID); workspaces.ErrorKind(err) != workspaces.KindNotFound {
		t.Fatalf("redeliver through another endpoint: %v", err)
	}

	again, err := e.svc.Redeliver(ctx, alice, ep.ID, d.ID)
	if err != nil || again.Status != webhook.DeliveryPending || again.ID != d.ID {
		t.Fatalf("Redeliver = %+v, %v", again, err)
	}
	second := rcv.next(t)
	if second.header.Get("webhook-id") != first.header.Get("webhook-id") || string(second.body) != string(first.body) {
		t.Fatalf("redelivered %q %s, want %q %s", second.header.Get("webhook-id"), second.body, first.header.Get("webhook-id"), first.body)
	}
	verify(t, ep.Secret, second)
	d = e.waitDeliveries(t, alice, ep.ID, "the redelivery", func(ds []webhook.Delivery) bool { return settled(ds) && ds[0].AttemptCount == 2 })[0]
	if d.Status != webhook.DeliverySucceeded || len(d.Attempts) != 2 || d.Attempts[1].Number != 2 {
		t.Fatalf("delivery after redelivery %+v", d)
	}
}

func TestPendingDeliveriesSurviveARestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	rcv := newReceiver(t, 500, 200)
	alice := e.user(t, "alice@x.io")
	agent := e.agent(t, alice, "A")
	ep := e.endpoint(t, alice, webhook.NewEndpoint{URL: rcv.url("/h")})

	// One delivery fails its first attempt and waits for a retry...
	stopWorker := e.worker(t, true, 200*time.Millisecond)
	e.svc.Notify(ctx, completed(alice, agent, "exec_1"))
	first := rcv.next(t)
	e.waitDeliveries(t, alice, ep.ID, "the first attempt logged", func(ds []webhook.Delivery) bool { return len(ds) == 1 && ds[0].AttemptCount == 1 })
	stopWorker()
	// ...and one is queued while no worker runs. Then everything stops.
	e.svc.Notify(ctx, completed(alice, agent, "exec_2"))
	e.waitDeliveries(t, alice, ep.ID, "the second delivery queued", func(ds []webhook.Delivery) bool { return len(ds) == 2 })
	e.stop()
	if err := e.bus.Close(); err != nil {
		t.Fatal(err)
	}

	e.startBus(t)
	e.startService(t)
	e.worker(t, true, 200*time.Millisecond)
	got := map[string]string{}
	for range 2 {
		r := rcv.next(t)
		var p struct {
			Data struct {
				ExecutionID string `json:"execution_id"`
			}
		}
		json.Unmarshal(r.body, &p)
		got[p.Data.ExecutionID] = r.header.Get("webhook-id")
	}
	if got["exec_1"] != first.header.Get("webhook-id") || got["exec_2"] == "" {
		t.Fatalf("after the restart got %v; want exec_1 again as %s, and exec_2", got, first.header.Get("webhook-id"))
	}
	ds := e.waitDeliveries(t, alice, ep.ID, "both delivered", func(ds []webhook.Delivery) bool {
		return len(ds) == 2 && ds[0].Status == webhook.DeliverySucceeded && ds[1].Status == webhook.DeliverySucceeded
	})
	if ds[1].AttemptCount != 2 || ds[0].AttemptCount != 1 {
		t.Fatalf("attempts: %d and %d, want 2 (retried) and 1", ds[1].AttemptCount, ds[0].AttemptCount)
	}
}

func TestRotatedSecretSignsBesideThePreviousOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.worker(t, true)
	ctx := context.Background()
	rcv := newReceiver(t)
	alice := e.user(t, "alice@x.io")
	ep := e.endpoint(t, alice, webhook.NewEndpoint{URL: rcv.url("/h")})

	rotated, err := e.svc.RotateSecret(ctx, alice, ep.ID)
	if err != nil || rotated.Secret == "" || rotated.Secret == ep.Secret {
		t.Fatalf("RotateSecret = %+v, %v", rotated, err)
	}
	if _, err := e.svc.RotateSecret(ctx, e.user(t, "bob@x.io"), ep.ID); workspaces.ErrorKind(err) != workspaces.KindNotFound {
		t.Fatalf("bob rotates alice's secret: %v", err)
	}
	if got, _ := e.svc.Get(ctx, alice, ep.ID); got.Secret != "" {
		t.Fatal("Get shows the secret")
	}
	if _, err := e.svc.Test(ctx, alice, ep.ID); err != nil {
		t.Fatal(err)
	}
	req := rcv.next(t)
	if sigs := strings.Fields(req.header.Get("webhook-signature")); len(sigs) != 2 {
		t.Fatalf("webhook-signature %q, want two during the grace period", req.header.Get("webhook-signature"))
	}
	verify(t, rotated.Secret, req)
	verify(t, ep.Secret, req)
	var p map[string]any
	if err := json.Unmarshal(req.body, &p); err != nil || p["event"] != webhook.EventTest {
		t.Fatalf("test ping %s", req.body)
	}
}
