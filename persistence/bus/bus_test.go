package bus_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/atrium-hq/atrium/persistence/bus"
)

func TestEmbeddedJetStreamSurvivesRestart(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()

	b, err := bus.Start(ctx, bus.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if b.ClientURL() != "" {
		t.Fatalf("ClientURL = %q for an in-process server, want empty", b.ClientURL())
	}
	if _, err := b.JS.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.JS.Publish(ctx, "t.x", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	b, err = bus.Start(ctx, bus.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	stream, err := b.JS.Stream(ctx, "T")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := stream.GetLastMsgForSubject(ctx, "t.x")
	if err != nil {
		t.Fatal(err)
	}
	if string(msg.Data) != "hello" {
		t.Fatalf("after restart got %q, want hello", msg.Data)
	}
}

func TestEmbeddedListensForOtherNodes(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first, err := bus.Start(ctx, bus.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	url := first.ClientURL()
	if url == "" {
		t.Fatal("ClientURL is empty for a listening embedded server")
	}
	second, err := bus.Start(ctx, bus.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()

	sub, err := first.Conn.SubscribeSync("x")
	if err != nil {
		t.Fatal(err)
	}
	first.Conn.Flush()
	if err := second.Conn.Publish("x", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	m, err := sub.NextMsg(10 * time.Second)
	if err != nil || string(m.Data) != "hi" {
		t.Fatalf("cross-node message = %v, %v", m, err)
	}
}

func TestUnreachableNATSFailsFast(t *testing.T) {
	t.Parallel()
	start := time.Now()
	_, err := bus.Start(context.Background(), bus.Config{URL: "nats://127.0.0.1:1", ConnectTimeout: 2 * time.Second})
	if err == nil {
		t.Fatal("Start against a closed port succeeded")
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("Start took %v, want a quick failure", time.Since(start))
	}
}
