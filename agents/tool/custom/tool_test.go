package custom

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
)

// fakeStore returns fixed tools.
type fakeStore []agents.CustomTool

func (f fakeStore) OfAgent(context.Context, agents.Agent) ([]agents.CustomTool, error) { return f, nil }

var orderSchema = json.RawMessage(`{"type":"object","properties":{"order_number":{"type":"string"},` +
	`"phone":{"type":"string","description":"Phone number"}},"required":["order_number"]}`)

// toolOf returns the only tool def offers.
func toolOf(t *testing.T, def agents.CustomTool, client *safehttp.Client) agents.Tool {
	t.Helper()
	tools, err := NewSource(fakeStore{def}, client).Tools(context.Background(), agents.Agent{})
	if err != nil || len(tools) != 1 {
		t.Fatalf("tools = %v, %v", tools, err)
	}
	return tools[0]
}

func call(t *testing.T, tool agents.Tool, args string) (agents.ToolOutput, error) {
	t.Helper()
	return tool.Call(context.Background(), agents.ToolInput{Arguments: json.RawMessage(args)})
}

func allowLocal() *safehttp.Client {
	return safehttp.New(safehttp.Config{Allow: []string{"127.0.0.1"}})
}

func TestSpecUsesAModelNameAndKeepsTheOwnersName(t *testing.T) {
	t.Parallel()
	tool := toolOf(t, agents.CustomTool{Name: "Get delivery date", Description: "Delivery date of an order",
		Type: agents.ToolTypeCustom, Schema: orderSchema}, nil)
	spec := tool.Spec()
	if spec.Name != "Get_delivery_date" || spec.Description != "Delivery date of an order" || string(spec.Parameters) != string(orderSchema) {
		t.Fatalf("spec = %+v", spec)
	}
	if a := tool.(agents.AliasedTool).Alias(); a != "Get delivery date" {
		t.Fatalf("alias = %q", a)
	}
}

func TestFileSearchToolsAreNotOffered(t *testing.T) {
	t.Parallel()
	tools, err := NewSource(fakeStore{{Name: "Terms", Description: "d", Type: agents.ToolTypeFileSearch}}, nil).Tools(context.Background(), agents.Agent{})
	if err != nil || len(tools) != 0 {
		t.Fatalf("tools = %v, %v", tools, err)
	}
}

func TestMissingRequiredParameterAsksTheUser(t *testing.T) {
	t.Parallel()
	tool := toolOf(t, agents.CustomTool{Name: "Order lookup", Description: "d", Type: agents.ToolTypeCustom, Schema: orderSchema,
		Endpoint: "https://example.com/orders/{order_number}", Method: "GET"}, nil)
	for _, args := range []string{`{}`, `{"order_number": "  "}`, `{"order_number": null}`} {
		_, err := call(t, tool, args)
		var p *agents.ToolPending
		if !errors.As(err, &p) || p.Name != "Order lookup" || p.Question != "Could you please tell me your order number?" {
			t.Fatalf("%s: err = %v", args, err)
		}
	}
	// The question reads the parameter's description when there is one.
	tool = toolOf(t, agents.CustomTool{Name: "Call me", Description: "d", Type: agents.ToolTypeCustom,
		Parameters: []agents.ToolParameter{{Name: "phone", Description: "Phone number", Required: true}}}, nil)
	_, err := call(t, tool, `{}`)
	var p *agents.ToolPending
	if !errors.As(err, &p) || p.Question != "Could you please tell me your phone number?" {
		t.Fatalf("err = %v", err)
	}
}

func TestToolWithoutEndpointIsLeftToTheCaller(t *testing.T) {
	t.Parallel()
	tool := toolOf(t, agents.CustomTool{Name: "Get delivery date", Description: "d", Type: agents.ToolTypeCustom, Schema: orderSchema}, nil)
	_, err := call(t, tool, `{"order_number": "ORD-789"}`)
	var p *agents.ToolPending
	if !errors.As(err, &p) || p.Question != "" || p.Name != "Get delivery date" {
		t.Fatalf("err = %v", err)
	}
}

// recorded is one request the endpoint saw.
type recorded struct {
	method, path, query, body, auth, ctype string
}

func endpoint(t *testing.T, status int, answer string) (*httptest.Server, <-chan recorded) {
	t.Helper()
	got := make(chan recorded, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- recorded{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, string(b), r.Header.Get("Authorization"), r.Header.Get("Content-Type")}
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestPostSendsTheArgumentsAsJSONWithTheHeaders(t *testing.T) {
	t.Parallel()
	srv, got := endpoint(t, 200, `{"delivery":"2/3/2024"}`)
	tool := toolOf(t, agents.CustomTool{Name: "Get delivery date", Description: "d", Type: agents.ToolTypeCustom, Schema: orderSchema,
		Endpoint: srv.URL + "/delivery", Method: "POST", Headers: map[string]string{"Authorization": "Bearer s3cret"}}, allowLocal())
	out, err := call(t, tool, `{"order_number": "ORD-789"}`)
	if err != nil || out.Content != `{"delivery":"2/3/2024"}` {
		t.Fatalf("out = %+v, %v", out, err)
	}
	r := <-got
	if r.method != "POST" || r.path != "/delivery" || r.body != `{"order_number":"ORD-789"}` || r.auth != "Bearer s3cret" || r.ctype != "application/json" {
		t.Fatalf("request = %+v", r)
	}
}

func TestGetFillsThePathAndTheQuery(t *testing.T) {
	t.Parallel()
	srv, got := endpoint(t, 200, "in stock: 4")
	tool := toolOf(t, agents.CustomTool{Name: "Check Inventory", Description: "d", Type: agents.ToolTypeCustom,
		Schema:   json.RawMessage(`{"type":"object","properties":{"sku":{"type":"string"},"region":{"type":"string"},"n":{"type":"integer"}},"required":["sku"]}`),
		Endpoint: srv.URL + "/items/{sku}/stock", Method: "GET"}, allowLocal())
	out, err := call(t, tool, `{"sku": "A B/7", "region": "eu & us", "n": 3}`)
	if err != nil || out.Content != "in stock: 4" {
		t.Fatalf("out = %+v, %v", out, err)
	}
	r := <-got
	if r.method != "GET" || r.path != "/items/A%20B%2F7/stock" || r.query != "n=3&region=eu+%26+us" || r.body != "" {
		t.Fatalf("request = %+v", r)
	}
}

func TestEndpointFailuresAreToolErrors(t *testing.T) {
	t.Parallel()
	srv, _ := endpoint(t, 503, "maintenance")
	tool := toolOf(t, agents.CustomTool{Name: "Flaky", Description: "d", Type: agents.ToolTypeCustom, Endpoint: srv.URL, Method: "POST"}, allowLocal())
	_, err := call(t, tool, `{}`)
	if err == nil || !strings.Contains(err.Error(), "Flaky answered 503: maintenance") {
		t.Fatalf("err = %v", err)
	}
}

func TestSlowEndpointTimesOut(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	tool := toolOf(t, agents.CustomTool{Name: "Slow", Description: "d", Type: agents.ToolTypeCustom, Endpoint: srv.URL, Method: "GET",
		Timeout: 200 * time.Millisecond}, allowLocal())
	if got := tool.(agents.TimedTool).Timeout(); got <= 200*time.Millisecond {
		t.Fatalf("timeout = %v", got)
	}
	_, err := call(t, tool, `{}`)
	if err == nil || !strings.Contains(err.Error(), "did not answer within 200ms") {
		t.Fatalf("err = %v", err)
	}
}

func TestPrivateEndpointIsRefused(t *testing.T) {
	t.Parallel()
	srv, got := endpoint(t, 200, "secret")
	tool := toolOf(t, agents.CustomTool{Name: "Internal", Description: "d", Type: agents.ToolTypeCustom, Endpoint: srv.URL, Method: "GET"}, nil)
	_, err := call(t, tool, `{}`)
	if !errors.Is(err, safehttp.ErrBlocked) && (err == nil || !strings.Contains(err.Error(), "ATRIUM_TOOLS_ALLOW_HOSTS")) {
		t.Fatalf("err = %v", err)
	}
	select {
	case r := <-got:
		t.Fatalf("the endpoint was reached: %+v", r)
	default:
	}
}
