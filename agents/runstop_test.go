package agents

import (
	"context"
	"testing"
)

func TestRunStopsReachRunsRegisteredLater(t *testing.T) {
	var s runStops
	held, cancelHeld := context.WithCancelCause(context.Background())
	defer cancelHeld(nil)
	s.add("held", cancelHeld)
	s.stop("held")
	if context.Cause(held) != errStopped {
		t.Fatalf("a held run's cause = %v, want stopped", context.Cause(held))
	}

	// A stop that arrives between the claim and the registration.
	s.stop("claimed")
	late, cancelLate := context.WithCancelCause(context.Background())
	defer cancelLate(nil)
	s.add("claimed", cancelLate)
	if context.Cause(late) != errStopped {
		t.Fatalf("a run stopped before it was registered: cause %v, want stopped", context.Cause(late))
	}

	// Ended runs are forgotten; a stop for them is kept only as early.
	s.remove("held")
	s.remove("claimed")
	other, cancelOther := context.WithCancelCause(context.Background())
	defer cancelOther(nil)
	s.add("other", cancelOther)
	if other.Err() != nil {
		t.Fatal("an unrelated run was stopped")
	}
	if len(s.runs) != 1 {
		t.Fatalf("%d runs held, want 1", len(s.runs))
	}
}
