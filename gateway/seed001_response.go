package gateway

import "github.com/atrium-hq/atrium/agents"

// The response shapes of seed 001's (OpenAI's) completions, for the
// non-streamed answers; streams write theirs by hand (completionStream).

// oaiChatCompletion is a whole chat completion.
type oaiChatCompletion struct {
	ID      string          `json:"id"`
	Object  string          `json:"object"`
	Created int64           `json:"created"`
	Model   string          `json:"model"`
	Choices []oaiChatChoice `json:"choices"`
	Usage   oaiUsage        `json:"usage"`
}

type oaiChatChoice struct {
	Index        int       `json:"index"`
	Message      oaiAnswer `json:"message"`
	Logprobs     *struct{} `json:"logprobs"`
	FinishReason string    `json:"finish_reason"`
}

// oaiAnswer is the assistant's message; its content is null when it only
// calls tools, as OpenAI's is.
type oaiAnswer struct {
	Role      string        `json:"role"`
	Content   *string       `json:"content"`
	Refusal   *string       `json:"refusal"`
	ToolCalls []oaiToolCall `json:"tool_calls,omitempty"`
}

type oaiUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func oaiUsageView(u agents.Usage) oaiUsage {
	return oaiUsage{PromptTokens: u.InputTokens, CompletionTokens: u.OutputTokens, TotalTokens: u.InputTokens + u.OutputTokens}
}

// oaiChatCompletionView is the response of a non-streamed chat completion.
func oaiChatCompletionView(id string, created int64, model string, results []choiceResult, u agents.Usage) oaiChatCompletion {
	out := oaiChatCompletion{ID: id, Object: "chat.completion", Created: created, Model: model,
		Choices: make([]oaiChatChoice, len(results)), Usage: oaiUsageView(u)}
	for i, res := range results {
		a := oaiAnswer{Role: agents.RoleAssistant}
		if text := res.resp.Text; text != "" || len(res.resp.ToolCalls) == 0 {
			a.Content = &text
		}
		for _, tc := range res.resp.ToolCalls {
			a.ToolCalls = append(a.ToolCalls, oaiToolCall{ID: tc.ID, Type: "function", Function: oaiFunction{Name: tc.Name, Arguments: tc.Arguments}})
		}
		out.Choices[i] = oaiChatChoice{Index: i, Message: a, FinishReason: oaiFinish(res.resp)}
	}
	return out
}

// oaiTextCompletion is a whole text completion.
type oaiTextCompletion struct {
	ID      string          `json:"id"`
	Object  string          `json:"object"`
	Created int64           `json:"created"`
	Model   string          `json:"model"`
	Choices []oaiTextChoice `json:"choices"`
	Usage   oaiUsage        `json:"usage"`
}

type oaiTextChoice struct {
	Text         string    `json:"text"`
	Index        int       `json:"index"`
	Logprobs     *struct{} `json:"logprobs"`
	FinishReason string    `json:"finish_reason"`
}

// oaiTextCompletionView is the response of a non-streamed text completion.
func oaiTextCompletionView(id string, created int64, model string, results []choiceResult, u agents.Usage) oaiTextCompletion {
	out := oaiTextCompletion{ID: id, Object: "text_completion", Created: created, Model: model,
		Choices: make([]oaiTextChoice, len(results)), Usage: oaiUsageView(u)}
	for i, res := range results {
		out.Choices[i] = oaiTextChoice{Text: res.resp.Text, Index: i, FinishReason: oaiFinish(res.resp)}
	}
	return out
}
