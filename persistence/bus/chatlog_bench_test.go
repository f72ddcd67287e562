package bus_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/persistence/bus"
)

// BenchmarkChatLogAppendBusyChats appends from 500 chats at once, each
// waiting for its previous append, as 500 streaming runs do. It reports
// appends per second and the p50/p99 of one append.
func BenchmarkChatLogAppendBusyChats(b *testing.B) {
	ctx := context.Background()
	nb, err := bus.Start(ctx, bus.Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer nb.Close()
	log, err := nb.ChatLog(ctx, bus.ChatLogConfig{})
	if err != nil {
		b.Fatal(err)
	}
	const chats = 500
	payload := []byte(`{"seq":1,"type":"run.delta","data":{"text":"hello there "}}`)
	var mu sync.Mutex
	var lat []time.Duration
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	per := max(b.N/chats, 1)
	for c := range chats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			subject := bus.ChatSubject("w", fmt.Sprintf("c%d", c))
			mine := make([]time.Duration, 0, per)
			for range per {
				t0 := time.Now()
				if _, err := log.Append(ctx, subject, func(uint64) ([]byte, error) { return payload, nil }); err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "appends/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
