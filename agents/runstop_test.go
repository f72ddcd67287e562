package agents

import (
	"context"
	"testing"
)

func TestRunStopsReachRunsRegisteredLater(t *testing.T) {
	var s runStops
	held, cancelHeld := context.WithCancelCause(context.Background())
	defer cancelHeld(nil)
	heldClaim := s.add("held", cancelHeld)
	s.stop("held")
	if context.Cause(held) != errStopped {
		t.Fatalf("a held run's cause = %v, want stopped", context.Cause(held))
	}

	// A stop that arrives between the claim and the registration.
	s.stop("claimed")
	late, cancelLate := context.WithCancelCause(context.Background())
	defer cancelLate(nil)
	lateClaim := s.add("claimed", cancelLate)
	if context.Cause(late) != errStopped {
		t.Fatalf("a run stopped before it was registered: cause %v, want stopped", context.Cause(late))
	}

	// Ended runs are forgotten; a stop for them is kept only as early.
	s.remove("held", heldClaim)
	s.remove("claimed", lateClaim)
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

// A later claim of a run held here supersedes the earlier one, and the
// earlier one's end does not forget the later one.
func TestRunStopsLaterClaimSupersedesEarlier(t *testing.T) {
	var s runStops
	first, cancelFirst := context.WithCancelCause(context.Background())
	defer cancelFirst(nil)
	firstClaim := s.add("run", cancelFirst)
	second, cancelSecond := context.WithCancelCause(context.Background())
	defer cancelSecond(nil)
	s.add("run", cancelSecond)
	if context.Cause(first) != errSuperseded || second.Err() != nil {
		t.Fatalf("causes: first %v, second %v; want the first superseded", context.Cause(first), context.Cause(second))
	}
	s.remove("run", firstClaim)
	s.stop("run")
	if context.Cause(second) != errStopped {
		t.Fatalf("the later claim's cause = %v, want stopped", context.Cause(second))
	}
}
