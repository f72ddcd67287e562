package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents/webhook"
)

// TestSignMatchesTheStandardWebhooksVector signs the test vector of the
// Standard Webhooks reference libraries (libraries/go/webhook_test.go,
// TestWebhookSign): a receiver's stock library must accept what we send.
func TestSignMatchesTheStandardWebhooksVector(t *testing.T) {
	t.Parallel()
	const (
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		msgID  = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		body   = `{"test": 2432232314}`
		want   = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	at := time.Unix(1614265330, 0)
	got, err := webhook.Sign(secret, msgID, at, []byte(body))
	if err != nil || got != want {
		t.Fatalf("Sign = %q, %v; want %q", got, err, want)
	}
	// The libraries accept the key without its prefix too.
	if got, err := webhook.Sign(strings.TrimPrefix(secret, "whsec_"), msgID, at, []byte(body)); err != nil || got != want {
		t.Fatalf("Sign without prefix = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{"", "whsec_", "whsec_not base64!"} {
		if _, err := webhook.Sign(bad, msgID, at, []byte(body)); err == nil {
			t.Errorf("Sign with secret %q: no error", bad)
		}
	}
}

// TestNewSecretSigns checks a generated secret's form and that Sign with it
// is the HMAC an independent computation gives.
func TestNewSecretSigns(t *testing.T) {
	t.Parallel()
	s := webhook.NewSecret()
	if s == webhook.NewSecret() {
		t.Fatal("two secrets are equal")
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
	if !strings.HasPrefix(s, "whsec_") || err != nil || len(key) != 32 {
		t.Fatalf("secret %q: want whsec_ and the base64 of 32 bytes (%v)", s, err)
	}
	at := time.Date(2026, 1, 4, 10, 30, 0, 0, time.UTC)
	body := []byte(`{"event":"agent.created"}`)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("msg_1.1767522600." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if got, err := webhook.Sign(s, "msg_1", at, body); err != nil || got != want {
		t.Fatalf("Sign = %q, %v; want %q", got, err, want)
	}
}
