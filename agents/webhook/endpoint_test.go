package webhook_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/webhook"
	"github.com/atrium-hq/atrium/workspaces"
)

// events returns the events of a delivery log, oldest first.
func events(ds []webhook.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[len(ds)-1-i] = d.Event
	}
	return out
}

func TestEventAndAgentFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.worker(t, true)
	ctx := context.Background()
	rcv := newReceiver(t)
	alice, bob := e.user(t, "alice@x.io"), e.user(t, "bob@x.io")
	a1, bobs := e.agent(t, alice, "one"), e.agent(t, bob, "bob's")
	all := e.endpoint(t, alice, webhook.NewEndpoint{URL: rcv.url("/all")})
	tools := e.endpoint(t, alice, webhook.NewEndpoint{URL: rcv.url("/tools"), Events: []string{agents.NotifyToolInvoked, agents.NotifyToolInvoked}})
	one := e.endpoint(t, alice, webhook.NewEndpoint{URL: rcv.url("/one"), Agent: a1})
	bobEP := e.endpoint(t, bob, webhook.NewEndpoint{URL: rcv.url("/bob")})
	off := false
	disabled := e.endpoint(t, alice, webhook.NewEndpoint{URL: rcv.url("/off"), Enabled: &off})
	if !slices.Equal(tools.Events, []string{agents.NotifyToolInvoked}) || one.Agent != a1 || disabled.Enabled {
		t.Fatalf("created %+v, %+v, %+v", tools, one, disabled)
	}

	// The agents service reports a new agent (agent.created, through the
	// real notifier path; a1 and bob's agent came before it was wired); the
	// runner's events are sent by hand.
	e.ag.NotifyTo(e.svc)
	a2 := e.agent(t, alice, "two")
	e.svc.Notify(ctx, agents.Notification{Event: agents.NotifyToolInvoked, Owner: alice, Agent: a1, Data: map[string]any{"tool_name": "url_resolver"}})
	e.svc.Notify(ctx, agents.Notification{Event: agents.NotifyExecutionStarted, Owner: alice, Agent: a2})
	e.svc.Notify(ctx, agents.Notification{Event: agents.NotifyExecutionStarted, Owner: bob, Agent: bobs})
	e.svc.Notify(ctx, completed(alice, a1, "exec_1")) // the last: once seen, all were dispatched
	e.waitDeliveries(t, alice, one.ID, "the last event", func(ds []webhook.Delivery) bool {
		return len(ds) > 0 && ds[0].Event == agents.NotifyExecutionDone
	})

	for _, c := range []struct {
		name  string
		owner workspaces.UserID
		ep    webhook.EndpointID
		want  []string
	}{
		{"all", alice, all.ID, []string{agents.NotifyAgentCreated, agents.NotifyToolInvoked, agents.NotifyExecutionStarted, agents.NotifyExecutionDone}},
		{"tools only", alice, tools.ID, []string{agents.NotifyToolInvoked}},
		{"agent one only", alice, one.ID, []string{agents.NotifyToolInvoked, agents.NotifyExecutionDone}},
		{"bob's", bob, bobEP.ID, []string{agents.NotifyExecutionStarted}},
		{"disabled", alice, disabled.ID, []string{}},
	} {
		if got := events(e.deliveries(t, c.owner, c.ep)); !slices.Equal(got, c.want) {
			t.Errorf("%s got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestEndpointsAreCheckedAndScoped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	alice, bob := e.user(t, "alice@x.io"), e.user(t, "bob@x.io")
	bobs := e.agent(t, bob, "bob's")
	for _, c := range []struct {
		n    webhook.NewEndpoint
		want string
	}{
		{webhook.NewEndpoint{}, "url is required"},
		{webhook.NewEndpoint{URL: "ftp://example.com/x"}, "http:// or https://"},
		{webhook.NewEndpoint{URL: "/relative"}, "http:// or https://"},
		{webhook.NewEndpoint{URL: "https://user:pw@example.com/"}, "user name"},
		{webhook.NewEndpoint{URL: "https:///path"}, "no host"},
		{webhook.NewEndpoint{URL: "https://example.com/#x"}, "fragment"},
		{webhook.NewEndpoint{URL: "https://example.com/" + strings.Repeat("a", 2048)}, "longer than"},
		{webhook.NewEndpoint{URL: "https://example.com/", Events: []string{"agent.deleted"}}, "Unknown event 'agent.deleted'"},
		{webhook.NewEndpoint{URL: "https://example.com/", Events: []string{webhook.EventTest}}, "Unknown event"},
		{webhook.NewEndpoint{URL: "https://example.com/", Agent: bobs}, "Unknown agent_id"},
		{webhook.NewEndpoint{URL: "https://example.com/", Description: "a\x00b"}, "NUL"},
	} {
		_, err := e.svc.Create(ctx, alice, c.n)
		if workspaces.ErrorKind(err) != workspaces.KindInvalid || !strings.Contains(workspaces.ErrorMessage(err), c.want) {
			t.Errorf("Create(%+v) = %v, want invalid with %q", c.n, err, c.want)
		}
	}

	ep := e.endpoint(t, alice, webhook.NewEndpoint{URL: "https://example.com/hook", Description: "d"})
	list, err := e.svc.List(ctx, alice)
	if err != nil || len(list) != 1 || list[0].ID != ep.ID || list[0].Secret != "" {
		t.Fatalf("List = %+v, %v; want the endpoint without its secret", list, err)
	}
	if list, _ := e.svc.List(ctx, bob); len(list) != 0 {
		t.Fatalf("bob lists %+v", list)
	}
	notFound := func(what string, err error) {
		t.Helper()
		if workspaces.ErrorKind(err) != workspaces.KindNotFound {
			t.Errorf("%s: %v, want not found", what, err)
		}
	}
	_, err = e.svc.Get(ctx, bob, ep.ID)
	notFound("bob gets", err)
	u := "https://evil.example/"
	_, err = e.svc.Update(ctx, bob, ep.ID, webhook.EndpointUpdate{URL: &u})
	notFound("bob updates", err)
	_, _, err = e.svc.Deliveries(ctx, bob, ep.ID, 0, 10)
	notFound("bob lists deliveries", err)
	_, err = e.svc.Test(ctx, bob, ep.ID)
	notFound("bob tests", err)
	notFound("bob deletes", e.svc.Delete(ctx, bob, ep.ID))
	_, err = e.svc.Get(ctx, alice, "no such id!")
	notFound("a malformed id", err)

	// Update changes only what it is given; an empty agent means all.
	a1 := e.agent(t, alice, "one")
	events := []string{agents.NotifyExecutionDone, agents.NotifyAgentCreated}
	got, err := e.svc.Update(ctx, alice, ep.ID, webhook.EndpointUpdate{URL: &u, Agent: &a1, Events: &events})
	if err != nil || got.URL != u || got.Agent != a1 || got.Description != "d" || !slices.Equal(got.Events, []string{agents.NotifyAgentCreated, agents.NotifyExecutionDone}) {
		t.Fatalf("Update = %+v, %v", got, err)
	}
	none, empty := agents.ID(""), []string{}
	if got, err = e.svc.Update(ctx, alice, ep.ID, webhook.EndpointUpdate{Agent: &none, Events: &empty}); err != nil || got.Agent != "" || len(got.Events) != 0 {
		t.Fatalf("Update to all = %+v, %v", got, err)
	}
	if _, err := e.svc.Update(ctx, alice, ep.ID, webhook.EndpointUpdate{Agent: &bobs}); workspaces.ErrorKind(err) != workspaces.KindInvalid {
		t.Fatalf("Update to bob's agent: %v", err)
	}
	if err := e.svc.Delete(ctx, alice, ep.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Get(ctx, alice, ep.ID)
	notFound("after delete", err)
}
