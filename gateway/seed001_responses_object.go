package gateway

import (
	"encoding/json"
	"strings"

	"github.com/atrium-hq/atrium/agents"
)

// The shapes of OpenAI's Response object, as POST /responses returns it
// and as its stream's response.* events carry it. Fields are the ones
// OpenAI's clients read (the AI SDK checks its own with a schema), and a
// few they echo back.

// oaiResponse is a Response object.
type oaiResponse struct {
	ID                 string                `json:"id"`
	Object             string                `json:"object"`
	CreatedAt          int64                 `json:"created_at"`
	Status             string                `json:"status"`
	CompletedAt        *int64                `json:"completed_at"`
	Background         bool                  `json:"background"`
	Error              *oaiResponseError     `json:"error"`
	IncompleteDetails  *oaiIncompleteDetails `json:"incomplete_details"`
	Instructions       *string               `json:"instructions"`
	MaxOutputTokens    *int                  `json:"max_output_tokens"`
	Model              string                `json:"model"`
	Output             []any                 `json:"output"`
	ParallelToolCalls  bool                  `json:"parallel_tool_calls"`
	PreviousResponseID *string               `json:"previous_response_id"`
	Store              bool                  `json:"store"`
	Temperature        *float64              `json:"temperature"`
	TopP               *float64              `json:"top_p"`
	Text               json.RawMessage       `json:"text"`
	ToolChoice         json.RawMessage       `json:"tool_choice"`
	Tools              []oaiResponsesTool    `json:"tools"`
	Truncation         string                `json:"truncation"`
	Usage              *oaiResponseUsage     `json:"usage"`
	User               *string               `json:"user"`
	Metadata           map[string]string     `json:"metadata"`
}

// Statuses of a Response and of its items.
const (
	respInProgress = "in_progress"
	respCompleted  = "completed"
	respIncomplete = "incomplete"
	respFailed     = "failed"
)

// oaiResponseError is why a response failed.
type oaiResponseError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type oaiIncompleteDetails struct {
	Reason string `json:"reason"`
}

type oaiResponseUsage struct {
	InputTokens        int `json:"input_tokens"`
	InputTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokens        int `json:"output_tokens"`
	OutputTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
	TotalTokens int `json:"total_tokens"`
}

func oaiResponseUsageView(u agents.Usage) *oaiResponseUsage {
	return &oaiResponseUsage{InputTokens: u.InputTokens, OutputTokens: u.OutputTokens, TotalTokens: u.InputTokens + u.OutputTokens}
}

// oaiMessageItem is an output message. Its content is always an array
// (empty while it streams): clients append the streamed parts to it.
type oaiMessageItem struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	Status  string          `json:"status"`
	Role    string          `json:"role"`
	Content []oaiOutputText `json:"content"`
}

type oaiOutputText struct {
	Type        string     `json:"type"`
	Text        string     `json:"text"`
	Annotations []struct{} `json:"annotations"`
	Logprobs    []struct{} `json:"logprobs"`
}

func outputText(text string) oaiOutputText {
	return oaiOutputText{Type: "output_text", Text: text, Annotations: []struct{}{}, Logprobs: []struct{}{}}
}

// oaiFunctionCallItem is an output function call: the model asks the
// client to run one of its tools.
type oaiFunctionCallItem struct {
	Type      string `json:"type"`
	ID        string `json:"id"`
	CallID    string `json:"call_id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
	Status    string `json:"status"`
}

// responseItem is one output item as Atrium keeps it while it answers: a
// message (its text) or a function call.
type responseItem struct {
	ID   string
	Call bool
	// Text is a message's.
	Text string
	// CallID, Name and Arguments are a call's.
	CallID, Name, Arguments string
}

// view is the item on the wire, with status.
func (it *responseItem) view(status string) any {
	if it.Call {
		return &oaiFunctionCallItem{Type: "function_call", ID: it.ID, CallID: it.CallID, Name: it.Name, Arguments: it.Arguments, Status: status}
	}
	content := []oaiOutputText{}
	if status != respInProgress {
		content = append(content, outputText(it.Text))
	}
	return &oaiMessageItem{Type: "message", ID: it.ID, Status: status, Role: agents.RoleAssistant, Content: content}
}

// responseItems are the output items of a model's whole answer: its text
// as a message (also when it is empty and there are no calls, so an answer
// always has an item), then its calls. Calls without an id get one.
func responseItems(resp agents.ModelResponse) []responseItem {
	var items []responseItem
	if resp.Text != "" || len(resp.ToolCalls) == 0 {
		items = append(items, responseItem{ID: newOAIID("msg_"), Text: resp.Text})
	}
	for _, tc := range resp.ToolCalls {
		callID := tc.ID
		if callID == "" {
			callID = newOAIID("call_")
		}
		items = append(items, responseItem{ID: newOAIID("fc_"), Call: true, CallID: callID, Name: tc.Name, Arguments: tc.Arguments})
	}
	return items
}

// responseOutcome is a response's status, and why when it is incomplete:
// an answer cut by max_output_tokens or by a content filter.
func responseOutcome(finish string) (string, *oaiIncompleteDetails) {
	switch finish {
	case agents.FinishLength:
		return respIncomplete, &oaiIncompleteDetails{Reason: "max_output_tokens"}
	case agents.FinishFilter:
		return respIncomplete, &oaiIncompleteDetails{Reason: "content_filter"}
	}
	return respCompleted, nil
}

// answered returns the conversation turn items make, for the store: one
// assistant message with the text and the calls.
func answered(items []responseItem) agents.ModelMessage {
	m := agents.ModelMessage{Role: agents.RoleAssistant}
	var texts []string
	for _, it := range items {
		if it.Call {
			m.ToolCalls = append(m.ToolCalls, agents.ToolCall{ID: it.CallID, Name: it.Name, Arguments: it.Arguments})
		} else if it.Text != "" {
			texts = append(texts, it.Text)
		}
	}
	m.Content = strings.Join(texts, "\n")
	return m
}

// itemTurn returns the conversation turn one item is, for the store.
func itemTurn(it responseItem) agents.ModelMessage {
	return answered([]responseItem{it})
}
