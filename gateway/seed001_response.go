package gateway

import "github.com/atrium-hq/atrium/agents"

// The response shapes of seed 001's (OpenAI's) completions, for the
// non-streamed answers; streams write theirs by hand (completionStream).

// chatCompletion is a whole chat completion.
type chatCompletion struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []chatChoice `json:"choices"`
	Usage   usageView    `json:"usage"`
}

type chatChoice struct {
	Index        int        `json:"index"`
	Message      chatAnswer `json:"message"`
	Logprobs     *struct{}  `json:"logprobs"`
	FinishReason string     `json:"finish_reason"`
}

// chatAnswer is the assistant's message; its content is null when it only
// calls tools, as OpenAI's is.
type chatAnswer struct {
	Role      string         `json:"role"`
	Content   *string        `json:"content"`
	Refusal   *string        `json:"refusal"`
	ToolCalls []chatToolCall `json:"tool_calls,omitempty"`
}

type usageView struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func viewUsage(u agents.Usage) usageView {
	return usageView{PromptTokens: u.InputTokens, CompletionTokens: u.OutputTokens, TotalTokens: u.InputTokens + u.OutputTokens}
}

// chatCompletionView is the response of a non-streamed chat completion.
func chatCompletionView(id string, created int64, model string, results []choiceResult, u agents.Usage) chatCompletion {
	out := chatCompletion{ID: id, Object: "chat.completion", Created: created, Model: model,
		Choices: make([]chatChoice, len(results)), Usage: viewUsage(u)}
	for i, res := range results {
		a := chatAnswer{Role: agents.RoleAssistant}
		if text := res.resp.Text; text != "" || len(res.resp.ToolCalls) == 0 {
			a.Content = &text
		}
		for _, tc := range res.resp.ToolCalls {
			a.ToolCalls = append(a.ToolCalls, chatToolCall{ID: tc.ID, Type: "function", Function: chatFunction{Name: tc.Name, Arguments: tc.Arguments}})
		}
		out.Choices[i] = chatChoice{Index: i, Message: a, FinishReason: finishReason(res.resp)}
	}
	return out
}

// textCompletion is a whole text completion.
type textCompletion struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []textChoice `json:"choices"`
	Usage   usageView    `json:"usage"`
}

type textChoice struct {
	Text         string    `json:"text"`
	Index        int       `json:"index"`
	Logprobs     *struct{} `json:"logprobs"`
	FinishReason string    `json:"finish_reason"`
}

// textCompletionView is the response of a non-streamed text completion.
func textCompletionView(id string, created int64, model string, results []choiceResult, u agents.Usage) textCompletion {
	out := textCompletion{ID: id, Object: "text_completion", Created: created, Model: model,
		Choices: make([]textChoice, len(results)), Usage: viewUsage(u)}
	for i, res := range results {
		out.Choices[i] = textChoice{Text: res.resp.Text, Index: i, FinishReason: finishReason(res.resp)}
	}
	return out
}
