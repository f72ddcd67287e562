package agents_test

import (
	"context"
	"testing"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
	"github.com/atrium-hq/atrium/workspaces"
)

func TestAttachOnlyVisibleAgentsToOwnedWorkspaces(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := sqldbtest.Open(t)
	ws := workspaces.New(db, workspaces.Config{})
	ag := agents.New(db, ws)
	alice, _ := ws.Register(ctx, "alice@x.io", "pw")
	bob, _ := ws.Register(ctx, "bob@x.io", "pw")
	w, err := ws.CreateWorkspace(ctx, alice.ID, "A")
	if err != nil {
		t.Fatal(err)
	}
	mine, err := ag.Create(ctx, alice.ID, agents.NewAgent{Name: "mine", ModelID: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	bobs, _ := ag.Create(ctx, bob.ID, agents.NewAgent{Name: "bobs", ModelID: "echo"})

	if err := ag.Attach(ctx, alice.ID, w.ID, mine.ID); err != nil {
		t.Fatal(err)
	}
	if err := ag.Attach(ctx, alice.ID, w.ID, mine.ID); err != nil {
		t.Fatalf("attaching twice: %v", err)
	}
	// Bob's draft agent is invisible to Alice; unknown ids are the same 404.
	for _, id := range []agents.ID{bobs.ID, "nope"} {
		if err := ag.Attach(ctx, alice.ID, w.ID, id); workspaces.ErrorKind(err) != workspaces.KindNotFound {
			t.Fatalf("Attach(%s) = %v, want not found", id, err)
		}
	}
	// Published, it may be attached by anyone.
	if _, err := db.NewUpdate().Model((*sqldb.Agent)(nil)).Set("status = ?", "published").Where("id = ?", string(bobs.ID)).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ag.Attach(ctx, alice.ID, w.ID, bobs.ID); err != nil {
		t.Fatal(err)
	}
	// Bob does not own the workspace.
	if err := ag.Attach(ctx, bob.ID, w.ID, bobs.ID); workspaces.ErrorKind(err) != workspaces.KindForbidden {
		t.Fatalf("Attach by non-owner = %v, want forbidden", err)
	}
	got, err := ag.Attached(ctx, w.ID)
	if err != nil || len(got[w.ID]) != 2 || got[w.ID][0] != mine.ID {
		t.Fatalf("Attached = %v, %v", got, err)
	}
	if err := ag.Detach(ctx, alice.ID, w.ID, mine.ID); err != nil {
		t.Fatal(err)
	}
	if err := ag.Detach(ctx, alice.ID, w.ID, mine.ID); workspaces.ErrorKind(err) != workspaces.KindNotFound {
		t.Fatalf("second Detach = %v, want not found", err)
	}
	if _, err := ag.Create(ctx, alice.ID, agents.NewAgent{Name: " ", ModelID: "echo"}); workspaces.ErrorKind(err) != workspaces.KindInvalid {
		t.Fatalf("Create without name = %v, want invalid", err)
	}
}
