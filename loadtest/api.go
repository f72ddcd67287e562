package main

// The REST calls that prepare a scenario: users, workspaces, an echo agent,
// chats and message strings.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// api is Atrium's REST API at base.
type api struct {
	base string
	hc   *http.Client
}

func newAPI(base string) *api {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
	return &api{base: base, hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// call sends body (if not nil) as JSON with the bearer token (if any) and
// decodes a 2xx answer into out (if not nil).
func (a *api) call(ctx context.Context, method, path, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(b)))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %v", method, path, err)
		}
	}
	return nil
}

// user registers email and logs in, returning the access token.
func (a *api) user(ctx context.Context, email, password string) (string, error) {
	cred := map[string]string{"email": email, "password": password}
	if err := a.call(ctx, "POST", "/register", "", cred, nil); err != nil {
		return "", err
	}
	var login struct {
		AccessToken string `json:"access_token"`
	}
	if err := a.call(ctx, "POST", "/auth/login", "", cred, &login); err != nil {
		return "", err
	}
	if login.AccessToken == "" {
		return "", fmt.Errorf("POST /auth/login: no access_token")
	}
	return login.AccessToken, nil
}

func (a *api) createWorkspace(ctx context.Context, token, name string) (string, error) {
	var out struct {
		Workspace struct {
			ID string `json:"workspace_id"`
		} `json:"workspace"`
	}
	if err := a.call(ctx, "POST", "/workspace", token, map[string]string{"name": name}, &out); err != nil {
		return "", err
	}
	if out.Workspace.ID == "" {
		return "", fmt.Errorf("POST /workspace: no workspace.workspace_id")
	}
	return out.Workspace.ID, nil
}

func (a *api) createAgent(ctx context.Context, token, name string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	if err := a.call(ctx, "POST", "/api/agents/", token, map[string]string{"name": name, "model_id": "echo"}, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", fmt.Errorf("POST /api/agents/: no id")
	}
	return out.ID, nil
}

func (a *api) attachAgent(ctx context.Context, token, ws, agent string) error {
	return a.call(ctx, "POST", "/workspace/"+url.PathEscape(ws)+"/agent", token, map[string]string{"agent_id": agent}, nil)
}

func (a *api) addMember(ctx context.Context, token, ws, email, role string) error {
	return a.call(ctx, "POST", "/workspace/"+url.PathEscape(ws)+"/members", token, map[string]string{"email": email, "role": role}, nil)
}

func (a *api) createChat(ctx context.Context, token, ws string) (string, error) {
	var out struct {
		Chat struct {
			ID string `json:"chat_id"`
		} `json:"chat"`
	}
	if err := a.call(ctx, "POST", "/chat?workspace_id="+url.QueryEscape(ws), token, nil, &out); err != nil {
		return "", err
	}
	if out.Chat.ID == "" {
		return "", fmt.Errorf("POST /chat: no chat.chat_id")
	}
	return out.Chat.ID, nil
}

// messageString returns a message string for chat, which lets its creator
// send messages there until it expires (10 minutes by default).
func (a *api) messageString(ctx context.Context, token, chat string) (string, error) {
	var out struct {
		MessageString string `json:"message_string"`
	}
	if err := a.call(ctx, "GET", "/chat/authorize/message?chat_id="+url.QueryEscape(chat), token, nil, &out); err != nil {
		return "", err
	}
	if out.MessageString == "" {
		return "", fmt.Errorf("GET /chat/authorize/message: no message_string")
	}
	return out.MessageString, nil
}

// servesSocketIO reports whether the server answers an Engine.IO v4 polling
// handshake with an open packet ("0{…}") at /socket.io/.
func (a *api) servesSocketIO(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, "GET", a.base+"/socket.io/?EIO=4&transport=polling", nil)
	if err != nil {
		return false
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode == http.StatusOK && bytes.HasPrefix(b, []byte("0{"))
}

// churn makes the server allocate about mib MiB of short-lived garbage, by
// sending request bodies it reads whole and rejects (blank bodies to
// POST /register). Its garbage collector then runs, so an RSS reading that
// follows is of live memory rather than of what an earlier phase left
// behind (the password hashes of the setup use tens of MiB).
func (a *api) churn(ctx context.Context, mib int) {
	body := bytes.Repeat([]byte(" "), 1000*1000)
	parallel(mib/2, 2, func(int) {
		req, err := http.NewRequestWithContext(ctx, "POST", a.base+"/register", bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/json")
		if resp, err := a.hc.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
