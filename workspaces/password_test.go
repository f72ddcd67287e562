package workspaces

import "testing"

func TestPasswordHashRoundTrip(t *testing.T) {
	t.Parallel()
	h := newHasher()
	enc := h.hash("correct horse")
	for pw, want := range map[string]bool{"correct horse": true, "correct horsE": false, "": false} {
		ok, err := h.verify(enc, pw)
		if err != nil || ok != want {
			t.Errorf("verify(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	if _, err := h.verify("$2a$10$bcrypt", "x"); err == nil {
		t.Error("verify of a non-argon2id hash succeeded")
	}
}

// BenchmarkPasswordHash measures the cost of one registration or login.
func BenchmarkPasswordHash(b *testing.B) {
	h := newHasher()
	for b.Loop() {
		h.hash("securepassword123")
	}
}
