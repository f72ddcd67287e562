package main

// The users, workspaces and chats a scenario runs in, made over REST.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
)

// chatsPerWorkspace is how many chats share one workspace: the chats
// scenario spreads its chats over several workspaces, as real use would.
const chatsPerWorkspace = 100

// fixture is what a scenario's clients need: a sender (the workspaces'
// owner, who may send) and a watcher (a viewer of every workspace), and the
// chats, each with the owner's message string.
type fixture struct {
	ownerToken   string
	watcherToken string
	chats        []chatFixture
}

type chatFixture struct {
	id, workspace string
	messageString string
}

// makeFixture creates two users, ceil(n/chatsPerWorkspace) workspaces with
// an echo agent attached and the watcher as a viewer, and n chats. Emails
// are random, so a long-running server (-server) can be reused.
func makeFixture(ctx context.Context, a *api, n int) (*fixture, error) {
	var rnd [6]byte
	rand.Read(rnd[:])
	tag := hex.EncodeToString(rnd[:])
	const password = "loadtest-password-1"
	owner, watcher := "lt-owner-"+tag+"@example.com", "lt-watcher-"+tag+"@example.com"
	f := &fixture{}
	var err error
	if f.ownerToken, err = a.user(ctx, owner, password); err != nil {
		return nil, err
	}
	if f.watcherToken, err = a.user(ctx, watcher, password); err != nil {
		return nil, err
	}
	agent, err := a.createAgent(ctx, f.ownerToken, "loadtest echo "+tag)
	if err != nil {
		return nil, err
	}
	var spaces []string
	for i := 0; i < (n+chatsPerWorkspace-1)/chatsPerWorkspace; i++ {
		ws, err := a.createWorkspace(ctx, f.ownerToken, fmt.Sprintf("loadtest %s %d", tag, i))
		if err != nil {
			return nil, err
		}
		if err := a.attachAgent(ctx, f.ownerToken, ws, agent); err != nil {
			return nil, err
		}
		if err := a.addMember(ctx, f.ownerToken, ws, watcher, "viewer"); err != nil {
			return nil, err
		}
		spaces = append(spaces, ws)
	}
	f.chats = make([]chatFixture, n)
	var mu sync.Mutex
	var first error
	parallel(n, 8, func(i int) {
		c := chatFixture{workspace: spaces[i/chatsPerWorkspace]}
		var err error
		if c.id, err = a.createChat(ctx, f.ownerToken, c.workspace); err == nil {
			c.messageString, err = a.messageString(ctx, f.ownerToken, c.id)
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil && first == nil {
			first = err
		}
		f.chats[i] = c
	})
	if first != nil {
		return nil, first
	}
	return f, nil
}

// parallel calls f(0) … f(n-1), at most limit at a time, and returns when
// all have returned.
func parallel(n, limit int, f func(i int)) {
	if limit < 1 {
		limit = 1
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(i)
		}()
	}
	wg.Wait()
}
