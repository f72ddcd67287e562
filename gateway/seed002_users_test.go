package gateway_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/workspaces"
)

func TestSeed002PingAndProbes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	st, body := e.do(t, "GET", "/ping", "", "")
	want(t, "ping", st, body, 200, "pong")
	if len(body) != 1 {
		t.Fatalf("ping body = %v, want exactly {\"msg\":\"pong\"}", body)
	}
	st, body = e.do(t, "GET", "/healthz", "", "")
	if st != 200 || body["status"] != "ok" {
		t.Fatalf("healthz = %d %v", st, body)
	}
	st, body = e.do(t, "GET", "/readyz", "", "")
	if st != 200 || body["status"] != "ready" || obj(t, body, "checks")["database"] != "ok" {
		t.Fatalf("readyz = %d %v", st, body)
	}
}

func TestSeed002RegisterAndLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	creds := `{"email": "user@example.com", "password": "securepassword123"}`
	st, body := e.do(t, "POST", "/register", "", creds)
	want(t, "register", st, body, 200, "User created successfully")
	if body["email"] != "user@example.com" {
		t.Fatalf("register email = %#v", body["email"])
	}
	uid := str(t, body, "user_id")

	st, body = e.do(t, "POST", "/register", "", creds)
	want(t, "register again", st, body, 400, "User already exists")
	st, body = e.do(t, "POST", "/register", "", `{"email": "USER@Example.com", "password": "other"}`)
	want(t, "register again, other case", st, body, 400, "User already exists")

	st, body = e.do(t, "POST", "/auth/login", "", creds)
	want(t, "login", st, body, 200, "")
	token := str(t, body, "access_token")
	if n := strings.Count(token, "."); n != 2 {
		t.Fatalf("access_token %q is not a JWT", token)
	}

	st, body = e.do(t, "GET", "/user", token, "")
	want(t, "get user", st, body, 200, "")
	u := obj(t, body, "user")
	if u["user_id"] != uid || u["email"] != "user@example.com" {
		t.Fatalf("GET /user = %v, want user_id %s and email user@example.com", u, uid)
	}

	st, body = e.do(t, "POST", "/auth/login", "", `{"email": "nobody@example.com", "password": "x"}`)
	want(t, "login unknown user", st, body, 404, "User not found")
	st, body = e.do(t, "POST", "/auth/login", "", `{"email": "user@example.com", "password": "wrong"}`)
	want(t, "login wrong password", st, body, 401, "Incorrect password.")

	for _, path := range []string{"/register", "/auth/login"} {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			st, body := e.do(t, "POST", path, "", "")
			want(t, "no body", st, body, 400, "Missing JSON in request")
			st, body = e.do(t, "POST", path, "", "  \n ")
			want(t, "blank body", st, body, 400, "Missing JSON in request")
			for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded"} {
				hdr := map[string]string{}
				if ct != "" {
					hdr["Content-Type"] = ct
				}
				resp, body := e.raw(t, "POST", path, hdr, "email=user@example.com&password=x")
				want(t, "form body as "+ct, resp.StatusCode, body, 400, "Missing JSON in request")
			}
			for _, b := range []string{
				`{}`,
				`{"email": "user@example.com"}`,
				`{"password": "x"}`,
				`{"email": "", "password": "x"}`,
				`{"email": "user@example.com", "password": ""}`,
				`{"email": null, "password": "x"}`,
			} {
				st, body := e.do(t, "POST", path, "", b)
				want(t, b, st, body, 400, "Missing email/password parameter")
			}
			// Malformed or mistyped JSON is the client's fault: 400, never 500.
			for _, b := range []string{
				`{"email": 5, "password": "x"}`,
				`{"email": "user@example.com", "password": true}`,
				`{"email": ["user@example.com"], "password": "x"}`,
				`{"email": "user@example.com", "password": {"a": 1}}`,
				`[]`,
				`"user@example.com"`,
				`null`,
				`42`,
				`{"email": "user@example.com", "password": "x"`,
				`{"email": "user@example.com", "password": "x"} trailing`,
			} {
				st, body := e.do(t, "POST", path, "", b)
				wantErr(t, b, st, body, 400)
			}
		})
	}

	// Nothing above created or changed a user.
	st, body = e.do(t, "POST", "/auth/login", "", creds)
	want(t, "login after errors", st, body, 200, "")
}

func TestSeed002BodyLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token, _ := e.user(t, "big@example.com")

	// Exactly 1 MiB is accepted.
	small := `{"email": "edge@example.com", "password": "p"}`
	exact := small + strings.Repeat(" ", 1<<20-len(small))
	st, body := e.do(t, "POST", "/register", "", exact)
	want(t, "1 MiB register", st, body, 200, "User created successfully")

	huge := `{"email": "huge@example.com", "password": "` + strings.Repeat("x", 1<<20) + `"}`
	st, body = e.do(t, "POST", "/register", "", huge)
	wantErr(t, "over 1 MiB register", st, body, 413)
	st, body = e.do(t, "POST", "/auth/login", "", huge)
	wantErr(t, "over 1 MiB login", st, body, 413)

	bigName := `{"name": "` + strings.Repeat("n", 1<<20+1) + `"}`
	st, body = e.do(t, "POST", "/workspace", token, bigName)
	wantErr(t, "over 1 MiB workspace", st, body, 413)
	ws := e.workspace(t, token, "W")
	st, body = e.do(t, "PUT", "/workspace/"+ws+"/rename", token, bigName)
	wantErr(t, "over 1 MiB rename", st, body, 413)
	st, body = e.do(t, "PUT", "/user", token, `{"email": "`+strings.Repeat("e", 1<<20)+`@x.io"}`)
	wantErr(t, "over 1 MiB user update", st, body, 413)

	st, body = e.do(t, "POST", "/auth/login", "", `{"email": "huge@example.com", "password": "x"}`)
	want(t, "oversized register created nothing", st, body, 404, "User not found")
	st, body = e.do(t, "GET", "/workspace/"+ws, token, "")
	want(t, "get workspace", st, body, 200, "")
	if got := obj(t, body, "workspace")["name"]; got != "W" {
		t.Fatalf("name after oversized rename = %v", got)
	}
}

func TestSeed002JWT(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token, uid := e.user(t, "jwt@example.com")

	other := workspaces.NewTokens([]byte("another-secret-another-secret-xx!"), time.Hour, nil)
	forged, _, err := other.Issue(workspaces.UserID(uid))
	if err != nil {
		t.Fatal(err)
	}
	past := workspaces.NewTokens(testSecret, time.Hour, func() time.Time { return time.Now().Add(-2 * time.Hour) })
	expired, _, err := past.Issue(workspaces.UserID(uid))
	if err != nil {
		t.Fatal(err)
	}
	// A token whose header and claims were edited to another user, keeping
	// the original signature.
	parts := strings.Split(token, ".")
	tampered := parts[0] + "." + strings.TrimRight(parts[1], "=") + "x." + parts[2]

	protected := []struct{ method, path string }{
		{"GET", "/user"},
		{"PUT", "/user"},
		{"POST", "/workspace"},
		{"GET", "/workspace"},
		{"GET", "/workspace/abc"},
		{"DELETE", "/workspace/abc"},
		{"GET", "/workspace/abc/chats"},
		{"POST", "/workspace/abc/agent"},
		{"DELETE", "/workspace/abc/agent"},
		{"PUT", "/workspace/abc/rename"},
		{"POST", "/workspace/abc/members"},
		{"GET", "/workspace/abc/members"},
		{"DELETE", "/workspace/abc/members/def"},
		{"POST", "/chat?workspace_id=abc"},
		{"GET", "/chat?chat_id=abc"},
		{"DELETE", "/chat?chat_id=abc"},
		{"GET", "/chat/authorize?chat_id=abc"},
		{"GET", "/chat/authorize/message?chat_id=abc"},
	}
	for _, p := range protected {
		what := p.method + " " + p.path
		resp, body := e.raw(t, p.method, p.path, nil, "")
		want(t, what+" without header", resp.StatusCode, body, 401, "Missing Authorization Header")
		for name, h := range map[string]string{
			"garbage":      "Bearer garbage",
			"empty bearer": "Bearer ",
			"basic":        "Basic dXNlcjpwYXNz",
			"no scheme":    token,
			"other secret": "Bearer " + forged,
			"expired":      "Bearer " + expired,
			"tampered":     "Bearer " + tampered,
			"alg none":     "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxIiwidHlwZSI6ImFjY2VzcyIsImV4cCI6OTk5OTk5OTk5OX0.",
		} {
			resp, body := e.raw(t, p.method, p.path, map[string]string{"Authorization": h, "Content-Type": "application/json"}, `{"name": "x"}`)
			wantErr(t, what+" with "+name+" token", resp.StatusCode, body, 401)
		}
	}

	st, body := e.do(t, "GET", "/user", forged, "")
	want(t, "token from another secret", st, body, 401, "Signature verification failed")
	st, body = e.do(t, "GET", "/user", expired, "")
	want(t, "expired token", st, body, 401, "Token has expired")

	// "bearer" in any case works, as with Flask-JWT-Extended.
	resp, body := e.raw(t, "GET", "/user", map[string]string{"Authorization": "bearer " + token}, "")
	want(t, "lowercase bearer", resp.StatusCode, body, 200, "")

	// A well-signed token for a user that does not exist.
	ghost, _, err := e.tokens.Issue("no-such-user")
	if err != nil {
		t.Fatal(err)
	}
	st, body = e.do(t, "GET", "/user", ghost, "")
	want(t, "GET /user for unknown user", st, body, 404, "User not found")
	st, body = e.do(t, "PUT", "/user", ghost, `{"email": "ghost@example.com"}`)
	want(t, "PUT /user for unknown user", st, body, 404, "User not found")

	// Nothing got through: the user has no workspaces.
	st, body = e.do(t, "GET", "/workspace", token, "")
	want(t, "list workspaces", st, body, 200, "")
	if n := len(list(t, body, "workspaces")); n != 0 {
		t.Fatalf("workspaces = %d, want 0", n)
	}
}

func TestSeed002UpdateUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token, uid := e.user(t, "old@example.com")
	e.user(t, "taken@example.com")

	st, body := e.do(t, "PUT", "/user", token, `{"email": "new@example.com"}`)
	want(t, "update email", st, body, 200, "User updated")
	st, body = e.do(t, "GET", "/user", token, "")
	want(t, "get user", st, body, 200, "")
	if u := obj(t, body, "user"); u["email"] != "new@example.com" || u["user_id"] != uid {
		t.Fatalf("user after update = %v", u)
	}
	st, body = e.do(t, "POST", "/auth/login", "", `{"email": "new@example.com", "password": "pw-old@example.com"}`)
	want(t, "login new email", st, body, 200, "")
	str(t, body, "access_token")
	st, body = e.do(t, "POST", "/auth/login", "", `{"email": "old@example.com", "password": "pw-old@example.com"}`)
	want(t, "login old email", st, body, 404, "User not found")

	st, body = e.do(t, "PUT", "/user", token, `{"email": "taken@example.com"}`)
	want(t, "update to taken email", st, body, 400, "User already exists")
	st, body = e.do(t, "PUT", "/user", token, `{"email": "Taken@Example.COM"}`)
	want(t, "update to taken email, other case", st, body, 400, "User already exists")

	// Keeping one's own email is not a conflict; an empty object changes nothing.
	st, body = e.do(t, "PUT", "/user", token, `{"email": "new@example.com"}`)
	want(t, "update to own email", st, body, 200, "User updated")
	st, body = e.do(t, "PUT", "/user", token, `{}`)
	want(t, "empty update", st, body, 200, "User updated")

	st, body = e.do(t, "PUT", "/user", token, "")
	want(t, "update without body", st, body, 400, "Missing JSON in request")
	resp, body := e.raw(t, "PUT", "/user", map[string]string{"Authorization": "Bearer " + token, "Content-Type": "text/plain"}, "email=x@y.z")
	want(t, "update with text body", resp.StatusCode, body, 400, "Missing JSON in request")
	for _, b := range []string{`{"email": 5}`, `{"email": ["a@b.c"]}`, `{"email": false}`, `{"password": 12}`, `[]`, `{"email":`, `{"email": ""}`, `{"email": "not-an-email"}`} {
		st, body := e.do(t, "PUT", "/user", token, b)
		wantErr(t, "update "+b, st, body, 400)
	}

	st, body = e.do(t, "GET", "/user", token, "")
	want(t, "get user after errors", st, body, 200, "")
	if u := obj(t, body, "user"); u["email"] != "new@example.com" {
		t.Fatalf("email after failed updates = %v", u["email"])
	}
	// The other user still logs in with their own email.
	st, body = e.do(t, "POST", "/auth/login", "", `{"email": "taken@example.com", "password": "pw-taken@example.com"}`)
	want(t, "login other user", st, body, 200, "")

	// The old email is free again.
	st, body = e.do(t, "POST", "/register", "", `{"email": "old@example.com", "password": "p"}`)
	want(t, "register freed email", st, body, 200, "User created successfully")
	if body["user_id"] == uid {
		t.Fatal("re-registering the old email returned the renamed user's id")
	}
}

func TestSeed002ConcurrentSameEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tokA, _ := e.user(t, "a@example.com")
	tokB, _ := e.user(t, "b@example.com")

	const n = 6
	var wg sync.WaitGroup
	statuses := make([]int, n)
	msgs := make([]any, n)
	for i := range n {
		wg.Go(func() {
			st, body, err := e.tryJSON("POST", "/register", "", `{"email": "race@example.com", "password": "p"}`)
			if err != nil {
				t.Error(err)
				return
			}
			statuses[i], msgs[i] = st, body["msg"]
		})
	}
	wg.Wait()
	ok := 0
	for i := range n {
		switch {
		case statuses[i] == 200:
			ok++
		case statuses[i] != 400 || msgs[i] != "User already exists":
			t.Errorf("concurrent register %d: %d %v, want 200 or 400 User already exists", i, statuses[i], msgs[i])
		}
	}
	if ok != 1 {
		t.Errorf("%d concurrent registrations succeeded, want 1", ok)
	}

	// Two users claiming the same new email at once: one wins.
	st2 := make([]int, 2)
	for i, tok := range []string{tokA, tokB} {
		wg.Go(func() {
			st, body, err := e.tryJSON("PUT", "/user", tok, `{"email": "same@example.com"}`)
			if err != nil {
				t.Error(err)
				return
			}
			st2[i] = st
			if st != 200 && body["msg"] != "User already exists" {
				t.Errorf("concurrent update %d: %d %v", i, st, body)
			}
		})
	}
	wg.Wait()
	slices.Sort(st2)
	if st2[0] != 200 || st2[1] != 400 {
		t.Errorf("concurrent email updates = %v, want one 200 and one 400", st2)
	}
}
