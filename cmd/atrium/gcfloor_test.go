package main

import (
	"os"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

// gogc is the collector's GOGC as the runtime reports it.
func gogc() uint64 {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// waitGOGC collects until GOGC satisfies ok (the floor adjusts after a
// cycle, on the runtime's cleanup goroutine), or fails after a while.
func waitGOGC(t *testing.T, what string, ok func(uint64) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok(gogc()) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: GOGC is %d", what, gogc())
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

func TestGCFloorFollowsTheLiveHeap(t *testing.T) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("an operator's GOGC or GOMEMLIMIT turns the floor off")
	}
	startGCFloor()

	// A small live heap: GOGC is raised so that the next goal is the live
	// heap plus gcHeapFloor.
	waitGOGC(t, "small heap", func(p uint64) bool { return p > 100 })

	// A live heap larger than the floor: Go's default again.
	big := make([]byte, 3*gcHeapFloor)
	for i := range big {
		big[i] = byte(i)
	}
	waitGOGC(t, "large heap", func(p uint64) bool { return p == 100 })
	runtime.KeepAlive(big)
	big = nil

	waitGOGC(t, "heap freed", func(p uint64) bool { return p > 100 })
}
