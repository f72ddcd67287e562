package script

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/starlark"
)

// A script's conversation is a Starlark list of dicts, each with "role"
// and "content", so a script can read it (len(conversation),
// conversation[-1]["content"]) and change it like any Python list. That
// freedom means it is only checked when it leaves the script: when query
// sends it to a model, after add and attach, and when the script ends.

// attachSeparator goes between a message's content and what attach adds
// to it, so attached text starts a line of its own instead of running on
// from the last word.
const attachSeparator = "\n"

func validRole(role string) bool {
	switch role {
	case "system", "user", "assistant":
		return true
	}
	return false
}

func newMessage(role, content string) *starlark.Dict {
	d := starlark.NewDict(2)
	_ = d.SetKey(starlark.String("role"), starlark.String(role)) // a new dict is not frozen
	_ = d.SetKey(starlark.String("content"), starlark.String(content))
	return d
}

func toStarlark(msgs []Message) *starlark.List {
	elems := make([]starlark.Value, len(msgs))
	for i, m := range msgs {
		elems[i] = newMessage(m.Role, m.Content)
	}
	return starlark.NewList(elems)
}

// messages checks v is a conversation within the limits and copies it out.
func (r *run) messages(v starlark.Value) ([]Message, error) {
	list, ok := v.(*starlark.List)
	if !ok {
		return nil, fmt.Errorf("conversation must be a list of messages, not %s", v.Type())
	}
	if list.Len() > r.limits.MaxMessages {
		return nil, limitf("the conversation has %d messages, more than the limit of %d", list.Len(), r.limits.MaxMessages)
	}
	msgs := make([]Message, list.Len())
	size := 0
	for i := range msgs {
		m, err := message(list.Index(i))
		if err != nil {
			return nil, fmt.Errorf("conversation[%d]: %w", i, err)
		}
		size += len(m.Content)
		if size > r.limits.MaxContentBytes {
			return nil, limitf("the conversation holds more than the limit of %s of content", byteSize(int64(r.limits.MaxContentBytes)))
		}
		msgs[i] = m
	}
	return msgs, nil
}

// message reads one message dict.
func message(v starlark.Value) (Message, error) {
	d, ok := v.(*starlark.Dict)
	if !ok {
		return Message{}, fmt.Errorf("a message must be a dict with role and content, not %s", v.Type())
	}
	field := func(key string) (string, error) {
		v, found, _ := d.Get(starlark.String(key)) // a string key always hashes
		if !found {
			return "", fmt.Errorf("the message has no %q", key)
		}
		s, ok := starlark.AsString(v)
		if !ok {
			return "", fmt.Errorf("%s must be a string, not %s", key, v.Type())
		}
		return s, nil
	}
	role, err := field("role")
	if err != nil {
		return Message{}, err
	}
	if !validRole(role) {
		return Message{}, fmt.Errorf("role must be \"user\", \"assistant\" or \"system\", not %q", role)
	}
	content, err := field("content")
	if err != nil {
		return Message{}, err
	}
	return Message{Role: role, Content: content}, nil
}

// contentSize is the total size of conv's contents, for checking room
// before adding to it; messages that are not well formed count as empty
// here and are reported when the conversation is next checked.
func contentSize(conv *starlark.List) int {
	n := 0
	for i := range conv.Len() {
		if d, ok := conv.Index(i).(*starlark.Dict); ok {
			if v, found, _ := d.Get(starlark.String("content")); found {
				if s, ok := starlark.AsString(v); ok {
					n += len(s)
				}
			}
		}
	}
	return n
}

// room fails unless extra more bytes of content and one more message (if
// more) fit in conv.
func (r *run) room(conv *starlark.List, extra int, more bool) error {
	if more && conv.Len()+1 > r.limits.MaxMessages {
		return limitf("the conversation would have more than the limit of %d messages", r.limits.MaxMessages)
	}
	if contentSize(conv)+extra > r.limits.MaxContentBytes {
		return limitf("the conversation would hold more than the limit of %s of content", byteSize(int64(r.limits.MaxContentBytes)))
	}
	return nil
}

// queryBuiltin is query(model_name, conversation): it asks the model,
// appends the answer to the conversation as an assistant message (so a
// later query sees it), and returns the answer.
func (r *run) queryBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var model string
	var conv *starlark.List
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "model_name", &model, "conversation", &conv); err != nil {
		return nil, err
	}
	if strings.TrimSpace(model) == "" {
		return nil, errors.New("query: model_name is empty")
	}
	if r.queries >= r.limits.MaxQueries {
		return nil, limitf("query: the script may make at most %d queries", r.limits.MaxQueries)
	}
	msgs, err := r.messages(conv)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	if r.query == nil {
		return nil, errors.New("query: no models are available here")
	}
	r.queries++
	answer, err := r.query(r.ctx, model, msgs)
	if err != nil {
		return nil, &queryError{model: model, err: err}
	}
	if err := r.room(conv, len(answer), true); err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	if err := conv.Append(newMessage("assistant", answer)); err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	r.answer = answer
	return starlark.String(answer), nil
}

// queryError is a query the Querier failed; it wraps the Querier's error
// so the caller can tell a model's failure from a script's.
type queryError struct {
	model string
	err   error
}

func (e *queryError) Error() string {
	if errors.Is(e.err, context.Canceled) || errors.Is(e.err, context.DeadlineExceeded) {
		return fmt.Sprintf("query(%q) stopped: %v", e.model, e.err)
	}
	return fmt.Sprintf("query(%q) failed: %v", e.model, e.err)
}

func (e *queryError) Unwrap() error { return e.err }

// addBuiltin is add(role, content, conversation): it appends a message and
// returns the conversation, so calls can be chained or assigned as in the
// seed's follow_up = add("user", ..., conversation).
func (r *run) addBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var role, content string
	var conv *starlark.List
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "role", &role, "content", &content, "conversation", &conv); err != nil {
		return nil, err
	}
	if !validRole(role) {
		return nil, fmt.Errorf("add: role must be \"user\", \"assistant\" or \"system\", not %q", role)
	}
	if err := r.room(conv, len(content), true); err != nil {
		return nil, fmt.Errorf("add: %w", err)
	}
	if err := conv.Append(newMessage(role, content)); err != nil {
		return nil, fmt.Errorf("add: %w", err)
	}
	return conv, nil
}

// attachBuiltin is attach(content, conversation, location="end"): it puts
// content at the end (or, for "start" or "beginning", the start) of the
// last message's content, on a line of its own, and returns the
// conversation.
func (r *run) attachBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var content string
	var conv *starlark.List
	location := "end"
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "content", &content, "conversation", &conv, "location?", &location); err != nil {
		return nil, err
	}
	atStart := false
	switch location {
	case "end":
	case "start", "beginning":
		atStart = true
	default:
		return nil, fmt.Errorf("attach: location must be \"start\" or \"end\", not %q", location)
	}
	if conv.Len() == 0 {
		return nil, errors.New("attach: the conversation is empty")
	}
	last := conv.Len() - 1
	m, err := message(conv.Index(last))
	if err != nil {
		return nil, fmt.Errorf("attach: conversation[%d]: %w", last, err)
	}
	if err := r.room(conv, len(content)+len(attachSeparator), false); err != nil {
		return nil, fmt.Errorf("attach: %w", err)
	}
	if err := r.charge(int64(len(m.Content) + len(attachSeparator) + len(content))); err != nil {
		return nil, err
	}
	switch {
	case content == "":
		return conv, nil
	case m.Content == "":
		m.Content = content
	case atStart:
		m.Content = content + attachSeparator + m.Content
	default:
		m.Content = m.Content + attachSeparator + content
	}
	d := conv.Index(last).(*starlark.Dict) // message checked it is one
	if err := d.SetKey(starlark.String("content"), starlark.String(m.Content)); err != nil {
		return nil, fmt.Errorf("attach: %w", err)
	}
	return conv, nil
}
