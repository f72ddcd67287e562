package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// gcHeapFloor is the least room the garbage collector's heap goal leaves
// above the live heap (see startGCFloor).
const gcHeapFloor = 32 << 20

var gcFloorOnce sync.Once

// startGCFloor makes the collector wait until at least gcHeapFloor bytes
// have been allocated since the last cycle, however small the live heap.
//
// With Go's default (GOGC=100) a heap of L bytes is collected again after
// L more bytes are allocated. Atrium's live heap is small when it serves
// API calls (6 MB idle, about 28 MB with 512 streams in flight), and each
// request allocates about 10 KB, so the default collects several times a
// second; each cycle's stop-the-world phases and mark work land on the
// requests in flight, and that was most of the p99 Atrium added to a model
// call (docs/api.md). After every cycle this raises GOGC just enough that
// the next goal is the live heap plus gcHeapFloor; once the live heap is
// larger than gcHeapFloor (thousands of connections) it is GOGC=100 again,
// so memory per connection is unchanged. The cost is at most gcHeapFloor
// of garbage held between cycles.
//
// An operator's GOGC or GOMEMLIMIT wins: with either set, nothing changes.
func startGCFloor() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	gcFloorOnce.Do(func() {
		f := &gcFloor{base: 100, percent: 100, live: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
		f.adjust()
		f.arm()
	})
}

// gcFloor sets GOGC after each collection.
type gcFloor struct {
	mu      sync.Mutex
	base    int // the GOGC it never goes below
	percent int // the GOGC set last
	live    []metrics.Sample
}

// arm has adjust run after the next collection: a cleanup runs once the
// object it watches is found unreachable, which is in a cycle.
func (f *gcFloor) arm() {
	runtime.AddCleanup(new([64]byte), func(f *gcFloor) {
		f.adjust()
		f.arm()
	}, f)
}

// adjust sets GOGC from the live heap the last cycle found.
func (f *gcFloor) adjust() {
	f.mu.Lock()
	defer f.mu.Unlock()
	metrics.Read(f.live)
	want := f.base
	if f.live[0].Value.Kind() == metrics.KindUint64 {
		if live := f.live[0].Value.Uint64(); live > 0 {
			want = max(want, int(min(uint64(gcHeapFloor)*100/live, 100_000)))
		}
	}
	// Within a tenth of the current setting it is left alone.
	if d := want - f.percent; d*10 > f.percent || -d*10 > f.percent {
		debug.SetGCPercent(want)
		f.percent = want
	}
}
