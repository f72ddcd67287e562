package agents_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
	"github.com/atrium-hq/atrium/workspaces"
)

func TestCustomToolsAreTheOwnersAndAtMostTenPerAgent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := sqldbtest.Open(t)
	ws := workspaces.New(db, workspaces.Config{})
	ag := agents.New(db, ws)
	tools := agents.NewCustomTools(db)
	alice, _ := ws.Register(ctx, "alice@x.io", "pw")
	bob, _ := ws.Register(ctx, "bob@x.io", "pw")

	schema := json.RawMessage(`{"type": "object", "properties": {"param1": {"type": "string"}}, "required": ["param1"]}`)
	t1, err := tools.Create(ctx, alice.ID, agents.CustomTool{Name: "My New Tool", Description: "A tool for doing things", Type: "Custom", Schema: schema})
	if err != nil || t1.ID <= 0 {
		t.Fatalf("Create = %+v, %v", t1, err)
	}
	t2, err := tools.Create(ctx, alice.ID, agents.CustomTool{Name: "Orders", Description: "d", Type: "Custom",
		Endpoint: "https://api.example.com/orders", Headers: map[string]string{"X-Key": "k"}})
	if err != nil || t2.ID <= t1.ID || t2.Method != "POST" {
		t.Fatalf("Create = %+v, %v", t2, err)
	}
	got, err := tools.Get(ctx, alice.ID, t1.ID)
	if err != nil || got.Name != "My New Tool" || string(got.Schema) != `{"type":"object","properties":{"param1":{"type":"string"}},"required":["param1"]}` {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if _, err := tools.Get(ctx, bob.ID, t1.ID); workspaces.ErrorKind(err) != workspaces.KindNotFound {
		t.Fatalf("Bob's Get = %v", err)
	}
	if err := tools.Delete(ctx, bob.ID, t1.ID); workspaces.ErrorKind(err) != workspaces.KindNotFound {
		t.Fatalf("Bob's Delete = %v", err)
	}
	if list, _ := tools.List(ctx, bob.ID); len(list) != 0 {
		t.Fatalf("Bob sees %v", list)
	}

	// Partial updates keep what they do not name.
	name := "Renamed"
	params := []agents.ToolParameter{{Name: "q", Type: "string", Description: "Query", Required: true}}
	up, err := tools.Update(ctx, alice.ID, t2.ID, agents.ToolPatch{Name: &name, Parameters: &params})
	if err != nil || up.Name != "Renamed" || up.Endpoint != "https://api.example.com/orders" || up.Headers["X-Key"] != "k" {
		t.Fatalf("Update = %+v, %v", up, err)
	}
	if s := string(up.EffectiveSchema()); s != `{"properties":{"q":{"description":"Query","type":"string"}},"required":["q"],"type":"object"}` {
		t.Fatalf("schema from parameters = %s", s)
	}

	bad := map[string]agents.CustomTool{
		"Tool name, description, and type cannot be empty": {Name: " ", Description: "d", Type: "Custom"},
		"Tool type must be 'File Search' or 'Custom'":      {Name: "n", Description: "d", Type: "Other"},
		"Invalid value for 'tool_schema'":                  {Name: "n", Description: "d", Type: "Custom", Schema: json.RawMessage(`{"type":"string"}`)},
		"Invalid value for 'endpoint'":                     {Name: "n", Description: "d", Type: "Custom", Endpoint: "ftp://x"},
		"Invalid value for 'method'":                       {Name: "n", Description: "d", Type: "Custom", Endpoint: "https://x.io", Method: "TRACE"},
		"Invalid value for 'headers'":                      {Name: "n", Description: "d", Type: "Custom", Endpoint: "https://x.io", Headers: map[string]string{"Bad Name": "v"}},
	}
	for want, tc := range bad {
		if _, err := tools.Create(ctx, alice.ID, tc); workspaces.ErrorKind(err) != workspaces.KindInvalid || !strings.Contains(workspaces.ErrorMessage(err), want) {
			t.Errorf("Create(%+v) = %v, want %q", tc, err, want)
		}
	}

	a, _ := ag.Create(ctx, alice.ID, agents.NewAgent{Name: "A", ModelID: "echo"})
	if err := tools.SetNamed(ctx, a, []string{"my new tool", "web_search"}); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := range 10 {
		tl, err := tools.Create(ctx, alice.ID, agents.CustomTool{Name: "t" + string(rune('a'+i)), Description: "d", Type: "Custom"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tl.ID)
	}
	if err := tools.Attach(ctx, a, ids...); workspaces.ErrorKind(err) != workspaces.KindInvalid {
		t.Fatalf("an 11th tool: %v", err)
	}
	if err := tools.Attach(ctx, a, ids[:9]...); err != nil {
		t.Fatal(err)
	}
	of, err := tools.OfAgent(ctx, a)
	if err != nil || len(of) != 10 || of[0].ID != t1.ID {
		t.Fatalf("OfAgent = %d tools, %v", len(of), err)
	}
	bobs, _ := tools.Create(ctx, bob.ID, agents.CustomTool{Name: "b", Description: "d", Type: "Custom"})
	if err := tools.Attach(ctx, a, bobs.ID); workspaces.ErrorKind(err) != workspaces.KindNotFound {
		t.Fatalf("attaching Bob's tool: %v", err)
	}
	// Deleting a tool takes it from its agents.
	if err := tools.Delete(ctx, alice.ID, t1.ID); err != nil {
		t.Fatal(err)
	}
	if of, _ := tools.OfAgent(ctx, a); len(of) != 9 {
		t.Fatalf("after delete: %d tools", len(of))
	}
	// A seed 003 tools list sets the whole list.
	if err := tools.SetNamed(ctx, a, []string{"ta", "TB", "url_resolver"}); err != nil {
		t.Fatal(err)
	}
	if of, _ := tools.OfAgent(ctx, a); len(of) != 2 || of[0].Name != "ta" || of[1].Name != "tb" {
		t.Fatalf("after SetNamed: %+v", of)
	}
}

// TestAnAgentsToolsHaveDistinctNames checks that an agent never gets two
// tools of one name (the model is offered one of them): not a custom tool
// named like another of its own (in any case, or spelt differently but
// the same for the model), nor one named like a built-in tool; nor by a
// rename.
func TestAnAgentsToolsHaveDistinctNames(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := sqldbtest.Open(t)
	ws := workspaces.New(db, workspaces.Config{})
	ag := agents.New(db, ws)
	tools := agents.NewCustomTools(db)
	tools.Reserve("web_search", "url_resolver")
	alice, _ := ws.Register(ctx, "alice@x.io", "pw")
	a, _ := ag.Create(ctx, alice.ID, agents.NewAgent{Name: "A", ModelID: "echo"})
	b, _ := ag.Create(ctx, alice.ID, agents.NewAgent{Name: "B", ModelID: "echo"})
	mk := func(name string) agents.CustomTool {
		t.Helper()
		tl, err := tools.Create(ctx, alice.ID, agents.CustomTool{Name: name, Description: "d", Type: "Custom"})
		if err != nil {
			t.Fatal(err)
		}
		return tl
	}
	m5, other, spaced, search, m6 := mk("m5"), mk("M5"), mk("Get order"), mk("Web Search"), mk("m6")
	if err := tools.Attach(ctx, a, m5.ID); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id   int64
		want string
	}{
		{other.ID, `already has a tool named "M5"`},
		{search.ID, `"Web_Search" is the name of a built-in tool`},
	} {
		err := tools.Attach(ctx, a, c.id)
		if workspaces.ErrorKind(err) != workspaces.KindInvalid || !strings.Contains(workspaces.ErrorMessage(err), c.want) {
			t.Errorf("Attach(%d) = %v, want %q", c.id, err, c.want)
		}
	}
	// Two of one name in one call.
	if err := tools.Attach(ctx, b, spaced.ID, mk("Get_order").ID); workspaces.ErrorKind(err) != workspaces.KindInvalid {
		t.Errorf("two tools named Get_order at once: %v", err)
	}
	if of, _ := tools.OfAgent(ctx, b); len(of) != 0 {
		t.Errorf("a refused Attach attached %+v", of)
	}
	// Another agent may have the other M5.
	if err := tools.Attach(ctx, b, other.ID); err != nil {
		t.Fatal(err)
	}
	// Renaming an attached tool onto another of its agent's is refused; an
	// unattached tool may take any name.
	if err := tools.Attach(ctx, a, m6.ID); err != nil {
		t.Fatal(err)
	}
	name := "m5"
	if _, err := tools.Update(ctx, alice.ID, m6.ID, agents.ToolPatch{Name: &name}); workspaces.ErrorKind(err) != workspaces.KindInvalid {
		t.Errorf("renaming m6 to m5 on agent A: %v", err)
	}
	name = "url_resolver"
	if _, err := tools.Update(ctx, alice.ID, m6.ID, agents.ToolPatch{Name: &name}); workspaces.ErrorKind(err) != workspaces.KindInvalid {
		t.Errorf("renaming m6 to a built-in's name: %v", err)
	}
	if _, err := tools.Update(ctx, alice.ID, spaced.ID, agents.ToolPatch{Name: &name}); err != nil {
		t.Errorf("renaming an unattached tool: %v", err)
	}
	name = "m7"
	if _, err := tools.Update(ctx, alice.ID, m6.ID, agents.ToolPatch{Name: &name}); err != nil {
		t.Errorf("renaming m6 to m7: %v", err)
	}
}

// pendingTool is a tool Atrium does not finish: it asks when q is missing
// and is left to the caller otherwise.
type pendingTool struct{}

func (pendingTool) Spec() agents.ToolSpec {
	return agents.ToolSpec{Name: "Get_delivery_date", Parameters: json.RawMessage(`{"type":"object","properties":{"q":{"type":"string"}}}`)}
}
func (pendingTool) Alias() string { return "Get delivery date" }
func (pendingTool) Call(_ context.Context, in agents.ToolInput) (agents.ToolOutput, error) {
	var a struct{ Q string }
	json.Unmarshal(in.Arguments, &a)
	if a.Q == "" {
		return agents.ToolOutput{}, &agents.ToolPending{Name: "Get delivery date", Question: "Could you please tell me your order number?"}
	}
	return agents.ToolOutput{}, &agents.ToolPending{Name: "Get delivery date"}
}

func TestPendingToolCallsEndTheAnswer(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ args, text, question string }{
		"question": {`{}`, "Let me check.\n\nCould you please tell me your order number?", "Could you please tell me your order number?"},
		"caller":   {`{"q":"ORD-789"}`, "Let me check.\n\nTool call(s) initiated", ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			model := &toolModel{tool: "Get_delivery_date", args: tc.args, rounds: -1}
			// The agent enables the tool by its owner's name.
			e := newLiveEnvWith(t, agents.RunnerConfig{Models: models{"m": model}, Tools: agents.StaticTools{pendingTool{}, lookupTool(nil)}},
				"m", `{"enabled_tools":["Get delivery date"]}`)
			if _, err := e.conv.Send(ctx, e.wsID, e.chat, e.owner.ID, "when does my order arrive?", ""); err != nil {
				t.Fatal(err)
			}
			got := e.until(t, agents.EventRunCompleted)
			var done struct{ Message struct{ Content string } }
			json.Unmarshal(got[len(got)-1].Data, &done)
			if done.Message.Content != tc.text {
				t.Fatalf("answer = %q, want %q", done.Message.Content, tc.text)
			}
			reqs := model.requests()
			if len(reqs) != 1 || len(reqs[0].Tools) != 1 || reqs[0].Tools[0].Name != "Get_delivery_date" {
				t.Fatalf("the model was asked %d times with tools %+v", len(reqs), reqs[0].Tools)
			}
			var rows []sqldb.ToolCall
			if err := e.db.NewSelect().Model(&rows).Where("chat_id = ?", string(e.chat)).Scan(ctx); err != nil || len(rows) != 1 {
				t.Fatalf("tool calls = %+v, %v", rows, err)
			}
			if r := rows[0]; !r.Pending || r.Question != tc.question || r.Name != "Get delivery date" || r.Parameters != tc.args {
				t.Fatalf("tool call row = %+v", r)
			}
		})
	}
}
