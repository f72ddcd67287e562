package mcp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// Asker answers a message with an agent, continuing conversationID when
// it is not empty. The gateway implements it by running the agent.
type Asker interface {
	Ask(ctx context.Context, a agents.Agent, conversationID, message string) (Answer, error)
}

// Answer is an agent's reply and the conversation it belongs to, which a
// later message may continue.
type Answer struct {
	Text           string
	ConversationID string
}

type agentsKey struct{}

// WithAgents returns ctx carrying the agents the caller of the agent MCP
// server may use. The gateway calls it after authenticating a request;
// NewAgentServer's handler refuses requests without it with 401.
func WithAgents(ctx context.Context, list []agents.Agent) context.Context {
	if list == nil {
		list = []agents.Agent{}
	}
	return context.WithValue(ctx, agentsKey{}, list)
}

func agentsFrom(ctx context.Context) ([]agents.Agent, bool) {
	list, ok := ctx.Value(agentsKey{}).([]agents.Agent)
	return list, ok
}

type serverKey struct{}

// askInput and askOutput are an agent tool's arguments and result; their
// JSON schemas are inferred from the fields.
type askInput struct {
	Message        string `json:"message" jsonschema:"the message to send to the agent"`
	ConversationID string `json:"conversation_id,omitempty" jsonschema:"the conversation_id of an earlier answer, to continue that conversation; omit to start a new one"`
}

type askOutput struct {
	Text           string `json:"text" jsonschema:"the agent's answer"`
	ConversationID string `json:"conversation_id" jsonschema:"pass it back as conversation_id to continue this conversation"`
}

// agentServer builds, per request, an MCP server whose tools are the
// caller's agents.
type agentServer struct {
	asker  Asker
	log    *slog.Logger
	schema *sdk.SchemaCache
}

// NewAgentServer returns a handler serving agents as MCP tools over
// Streamable HTTP. Every request must carry the caller's agents (see
// WithAgents); each agent is a tool named ask_<agent name> taking
// {message, conversation_id?} and answering through asker with the
// agent's text and the conversation id (as structured content, and as a
// trailing line of the text for clients that read only text).
//
// The handler is stateless: it issues no Mcp-Session-Id and builds the
// server anew from each request's agents, so there is no session that
// another caller could reuse, and a change to the caller's agents or
// keys applies to the very next request. The price is that the server
// cannot call the client back (no sampling or elicitation), which these
// tools do not need. Localhost DNS-rebinding protection is off because
// every request is authenticated and Atrium usually sits behind a local
// reverse proxy that forwards the public Host.
func NewAgentServer(asker Asker, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &agentServer{asker: asker, log: logger, schema: sdk.NewSchemaCache()}
	h := sdk.NewStreamableHTTPHandler(func(r *http.Request) *sdk.Server {
		srv, _ := r.Context().Value(serverKey{}).(*sdk.Server)
		return srv
	}, &sdk.StreamableHTTPOptions{
		Stateless:                    true,
		Logger:                       logger,
		DisableLocalhostProtection:   true,
		PropagateRequestCancellation: true,
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, ok := agentsFrom(r.Context())
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="atrium"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Authentication required: send an Atrium API key as Authorization: Bearer <key>"}}`)
			return
		}
		ctx := context.WithValue(r.Context(), serverKey{}, s.server(r.Context(), list))
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// server returns an MCP server with one tool per agent. reqCtx is the
// request's context: agent calls get its values (who is calling) and end
// with it.
func (s *agentServer) server(reqCtx context.Context, list []agents.Agent) *sdk.Server {
	srv := sdk.NewServer(&sdk.Implementation{Name: "atrium", Title: "Atrium agents"}, &sdk.ServerOptions{
		Instructions: "Each tool asks one Atrium agent a question and returns its answer. Pass the conversation_id of an answer back to continue that conversation.",
		Logger:       s.log,
		SchemaCache:  s.schema,
		HasTools:     true,
	})
	seen := map[string]bool{}
	for _, a := range list {
		name := uniqueName(AgentToolName(a.Name), string(a.ID), seen)
		desc := strings.TrimSpace(a.Description)
		if desc == "" {
			desc = fmt.Sprintf("Ask the agent %q.", a.Name)
		} else {
			desc = fmt.Sprintf("Ask the agent %q: %s", a.Name, desc)
		}
		sdk.AddTool(srv, &sdk.Tool{Name: name, Title: a.Name, Description: desc}, s.handler(reqCtx, a))
	}
	return srv
}

// AgentToolName is the tool name of an agent called name: ask_ and the
// name with runs of characters outside [A-Za-z0-9_-] made one '_', cut to
// 64 characters as ToolName does.
func AgentToolName(name string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.TrimSpace(name) {
		if r < 0x80 && isNameByte(byte(r)) && r != '_' {
			b.WriteRune(r)
			under = false
		} else if !under {
			b.WriteByte('_')
			under = true
		}
	}
	slug := strings.Trim(b.String(), "_")
	if slug == "" {
		slug = "agent"
	}
	return fitName("ask_" + slug)
}

func (s *agentServer) handler(reqCtx context.Context, a agents.Agent) sdk.ToolHandlerFor[askInput, askOutput] {
	return func(ctx context.Context, _ *sdk.CallToolRequest, in askInput) (*sdk.CallToolResult, askOutput, error) {
		msg := strings.TrimSpace(in.Message)
		if msg == "" {
			return nil, askOutput{}, errors.New("message is required")
		}
		actx, cancel := context.WithCancelCause(reqCtx)
		defer cancel(nil)
		stop := context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })
		defer stop()
		ans, err := s.asker.Ask(actx, a, strings.TrimSpace(in.ConversationID), msg)
		if err != nil {
			if workspaces.ErrorKind(err) == workspaces.KindInternal {
				s.log.Error("mcp: agent call failed", "agent", a.ID, "err", err)
			}
			return nil, askOutput{}, errors.New(workspaces.ErrorMessage(err))
		}
		text := ans.Text
		if ans.ConversationID != "" {
			text += "\n\nconversation_id: " + ans.ConversationID
		}
		res := &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: text}}}
		return res, askOutput{Text: ans.Text, ConversationID: ans.ConversationID}, nil
	}
}
