package main

// A lock-free latency histogram: many watchers record into it at once.

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Values are microseconds. Below 2048 µs every value has its own bucket;
// above, each power of two is split into 1024 buckets, so a quantile is off
// by less than 0.1%.
const (
	histLinear  = 2048
	histSub     = 1024
	histShifts  = 36
	histBuckets = histLinear + histShifts*histSub
)

// histogram counts durations.
type histogram struct {
	counts   [histBuckets]atomic.Uint64
	n        atomic.Uint64
	negative atomic.Uint64 // receive time before ts: clock steps, counted as 0
	max      atomic.Int64  // µs
}

func bucketOf(us uint64) int {
	if us < histLinear {
		return int(us)
	}
	shift := bits.Len64(us) - 11
	i := histLinear + (shift-1)*histSub + int(us>>shift) - histSub
	return min(i, histBuckets-1)
}

// bucketMid is the middle of bucket i, in µs.
func bucketMid(i int) float64 {
	if i < histLinear {
		return float64(i)
	}
	shift := (i-histLinear)/histSub + 1
	m := uint64((i-histLinear)%histSub + histSub)
	return float64(m<<shift) + float64(uint64(1)<<shift)/2
}

func (h *histogram) record(d time.Duration) {
	us := d.Microseconds()
	if us < 0 {
		h.negative.Add(1)
		us = 0
	}
	h.counts[bucketOf(uint64(us))].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			break
		}
	}
}

// quantile returns the q-quantile (0 < q ≤ 1); 0 when nothing was recorded.
func (h *histogram) quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	rank = max(rank, 1)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			us := min(bucketMid(i), float64(h.max.Load()))
			return time.Duration(us * float64(time.Microsecond))
		}
	}
	return h.maximum()
}

func (h *histogram) maximum() time.Duration {
	return time.Duration(h.max.Load()) * time.Microsecond
}
