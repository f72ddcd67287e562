package files_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/files"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
	"github.com/atrium-hq/atrium/workspaces"
)

// env is a real file store on SQLite (or PostgreSQL) with one agent and
// one conversation.
type env struct {
	store *agents.Files
	agent agents.Agent
	conv  workspaces.ChatID
	read  agents.Tool
	write agents.Tool
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db := sqldbtest.Open(t)
	ws := workspaces.New(db, workspaces.Config{})
	u, err := ws.Register(ctx, "files@x.io", "pw")
	if err != nil {
		t.Fatal(err)
	}
	a, err := agents.New(db, ws).Create(ctx, u.ID, agents.NewAgent{Name: "filer", ModelID: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	store := agents.NewFiles(db, agents.FilesConfig{Dir: t.TempDir(), Secret: []byte("k")})
	tools := files.New(store)
	return &env{store: store, agent: a, conv: "chat-1", read: tools[0], write: tools[1]}
}

// call runs tool with args (a Go value marshalled to JSON) in the env's
// conversation.
func (e *env) call(t *testing.T, tool agents.Tool, args any) (agents.ToolOutput, error) {
	t.Helper()
	raw, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	out, err := tool.Call(t.Context(), agents.ToolInput{Agent: e.agent, ChatID: e.conv, Arguments: raw})
	if err == nil && !utf8.ValidString(out.Content) {
		t.Errorf("the content is not valid UTF-8: %q", out.Content)
	}
	return out, err
}

func (e *env) mustCall(t *testing.T, tool agents.Tool, args any) agents.ToolOutput {
	t.Helper()
	out, err := e.call(t, tool, args)
	if err != nil {
		t.Fatalf("%s(%v): %v", tool.Spec().Name, args, err)
	}
	return out
}

// upload stores a file as a user's upload would be.
func (e *env) upload(t *testing.T, name, contentType string, body []byte) agents.File {
	t.Helper()
	f, err := e.store.Save(t.Context(), e.agent, e.conv, name, contentType, "upload", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSpecs(t *testing.T) {
	for _, tool := range files.New(nil) {
		s := tool.Spec()
		var schema map[string]any
		if err := json.Unmarshal(s.Parameters, &schema); err != nil || schema["type"] != "object" {
			t.Errorf("%s: parameters are not a JSON schema object: %s", s.Name, s.Parameters)
		}
		if s.Description == "" {
			t.Errorf("%s has no description", s.Name)
		}
	}
	if got := []string{files.New(nil)[0].Spec().Name, files.New(nil)[1].Spec().Name}; got[0] != "read_file" || got[1] != "write_file" {
		t.Fatalf("names = %v", got)
	}
}

func TestWriteThenRead(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := e.mustCall(t, e.write, map[string]string{"path": "notes.md", "content": "# Plan\nshé ☃ 🙂\n"})
	if len(out.FileIDs) != 1 {
		t.Fatalf("FileIDs = %v", out.FileIDs)
	}
	id := out.FileIDs[0]
	for _, want := range []string{"notes.md", id, "bytes"} {
		if !strings.Contains(out.Content, want) {
			t.Errorf("write result %q lacks %q", out.Content, want)
		}
	}
	f, err := e.store.File(t.Context(), e.agent.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	if f.Source != "tool" || f.Conversation != e.conv || f.Name != "notes.md" {
		t.Errorf("stored file = %+v", f)
	}
	if !strings.HasPrefix(f.ContentType, "text/") {
		t.Errorf("content type of notes.md = %q, want text/…", f.ContentType)
	}

	for _, ref := range []string{"notes.md", "./notes.md", "/notes.md", "some/dir/notes.md", `dir\notes.md`, id} {
		got := e.mustCall(t, e.read, map[string]string{"path": ref}).Content
		if !strings.Contains(got, "# Plan\nshé ☃ 🙂") || !strings.Contains(got, id) {
			t.Errorf("read_file(%q) = %q", ref, got)
		}
	}
}

func TestWritingAgainMakesANewVersionThatReadFinds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.mustCall(t, e.write, map[string]string{"path": "todo.txt", "content": "one"})
	second := e.mustCall(t, e.write, map[string]string{"path": "todo.txt", "content": "two"})
	if first.FileIDs[0] == second.FileIDs[0] {
		t.Fatal("the second write reused the first file's id")
	}
	if strings.Contains(first.Content, "new version") || !strings.Contains(second.Content, "new version") {
		t.Errorf("version notes: first %q, second %q", first.Content, second.Content)
	}
	if got := e.mustCall(t, e.read, map[string]string{"path": "todo.txt"}).Content; !strings.HasSuffix(got, "\n\ntwo") {
		t.Errorf("read_file after two writes = %q, want the second", got)
	}
	if got := e.mustCall(t, e.read, map[string]string{"path": first.FileIDs[0]}).Content; !strings.HasSuffix(got, "\n\none") {
		t.Errorf("read_file of the first id = %q", got)
	}
}

func TestContentTypeFromTheExtension(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for name, want := range map[string]string{
		"data.json":  "application/json",
		"page.html":  "text/html; charset=utf-8",
		"pic.svg":    "image/svg+xml",
		"script.zzz": "text/plain; charset=utf-8",
		"README":     "text/plain; charset=utf-8",
	} {
		id := e.mustCall(t, e.write, map[string]string{"path": name, "content": "x"}).FileIDs[0]
		f, err := e.store.File(t.Context(), e.agent.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		if f.ContentType != want {
			t.Errorf("%s: content type %q, want %q", name, f.ContentType, want)
		}
	}
}

func TestPathsThatReachOutAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.upload(t, "passwd", "text/plain", []byte("not the system's"))
	for _, path := range []string{
		"../passwd", "a/../passwd", "..", `..\passwd`, "/etc/passwd", "/../passwd", `C:\..\passwd`, "", "  ", "/", "./",
		strings.Repeat("n", 300),
	} {
		for _, tool := range []agents.Tool{e.read, e.write} {
			out, err := e.call(t, tool, map[string]string{"path": path, "content": "x"})
			if err == nil {
				t.Errorf("%s(%q) = %q, want an error", tool.Spec().Name, path, out.Content)
			}
		}
	}
	list, _ := e.store.List(t.Context(), e.agent.ID, e.conv)
	if len(list) != 1 {
		t.Errorf("refused writes stored files: %v", list)
	}
}

func TestArgumentErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.upload(t, "a.txt", "text/plain", []byte("abc"))
	cases := []struct {
		tool agents.Tool
		args string
		want string
	}{
		{e.read, `{}`, "path argument is required"},
		{e.read, `{"path": 7}`, "JSON object"},
		{e.read, `{"path": "a.txt", "offset": -1}`, "offset"},
		{e.read, `{"path": "a.txt", "offset": 1.5}`, "offset"},
		{e.read, `{"path": "a.txt", "offset": "3"}`, "offset"},
		{e.write, `{"path": "b.txt"}`, "required"},
		{e.write, `{"content": "x"}`, "required"},
		{e.write, `{"path": "b.txt", "content": 3}`, "JSON object"},
	}
	for _, c := range cases {
		_, err := c.tool.Call(t.Context(), agents.ToolInput{Agent: e.agent, ChatID: e.conv, Arguments: json.RawMessage(c.args)})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s: error %v, want one saying %q", c.tool.Spec().Name, c.args, err, c.want)
		}
	}
	// An offset of null or 0 is the start.
	for _, args := range []string{`{"path": "a.txt", "offset": null}`, `{"path": "a.txt", "offset": 0}`} {
		out, err := e.read.Call(t.Context(), agents.ToolInput{Agent: e.agent, ChatID: e.conv, Arguments: json.RawMessage(args)})
		if err != nil || !strings.HasSuffix(out.Content, "\n\nabc") {
			t.Errorf("%s: %q, %v", args, out.Content, err)
		}
	}
}

func TestWriteCapsTheContent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, err := e.call(t, e.write, map[string]string{"path": "big.txt", "content": strings.Repeat("x", 10<<20+1)})
	if err == nil || !strings.Contains(err.Error(), "more than the 10 MiB") {
		t.Fatalf("writing 10 MiB + 1 byte: %v", err)
	}
	out := e.mustCall(t, e.write, map[string]string{"path": "big.txt", "content": strings.Repeat("x", 10<<20)})
	if !strings.Contains(out.Content, "10 MiB") {
		t.Errorf("result %q", out.Content)
	}
}

func TestNotFoundListsTheFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, err := e.call(t, e.read, map[string]string{"path": "nope.txt"})
	if err == nil || !strings.Contains(err.Error(), "no files yet") {
		t.Fatalf("empty conversation: %v", err)
	}
	e.upload(t, "report.pdf", "application/pdf", []byte("%PDF-1.4"))
	e.upload(t, "data.csv", "text/csv", []byte("a,b"))
	e.upload(t, "data.csv", "text/csv", []byte("a,b,c"))
	_, err = e.call(t, e.read, map[string]string{"path": "nope.txt"})
	if err == nil || !strings.Contains(err.Error(), `"data.csv", "report.pdf"`) || strings.Count(err.Error(), "data.csv") != 1 {
		t.Fatalf("error %v, want it to list data.csv once and report.pdf", err)
	}
	for i := range 25 {
		e.upload(t, "f"+strings.Repeat("x", i)+".txt", "text/plain", []byte("x"))
	}
	_, err = e.call(t, e.read, map[string]string{"path": "nope.txt"})
	if err == nil || strings.Count(err.Error(), "x.txt\"") != 20 || !strings.Contains(err.Error(), "and 7 more") {
		t.Fatalf("error %v, want 20 names and 7 more", err)
	}

	// Another conversation's files are not found, nor listed.
	other := *e
	other.conv = "chat-2"
	if _, err := other.call(t, other.read, map[string]string{"path": "data.csv"}); err == nil || !strings.Contains(err.Error(), "no files yet") {
		t.Fatalf("another conversation read data.csv: %v", err)
	}
}

func TestLongFilesAreCutAndReadOnWithOffset(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var b strings.Builder
	for i := 0; b.Len() < 50000; i++ {
		b.WriteString("line ")
		b.WriteString(strings.Repeat("é", i%7))
		b.WriteString("\n")
	}
	text := []rune(b.String())
	e.upload(t, "long.txt", "text/plain", []byte(b.String()))

	var got []rune
	offset := 0
	for calls := 0; ; calls++ {
		if calls > 5 {
			t.Fatal("never reached the end")
		}
		out := e.mustCall(t, e.read, map[string]any{"path": "long.txt", "offset": offset}).Content
		body := out[strings.Index(out, "\n\n")+2:]
		if i := strings.Index(body, "\n\n[cut at character "); i >= 0 {
			body = body[:i]
			if !strings.Contains(out, `offset `) {
				t.Fatalf("cut without telling the next offset: %q", out[len(out)-200:])
			}
		} else if len(got)+utf8.RuneCountInString(body) != len(text) {
			t.Fatalf("the last read ends at %d of %d characters without a note", len(got)+utf8.RuneCountInString(body), len(text))
		} else {
			got = append(got, []rune(body)...)
			break
		}
		n := utf8.RuneCountInString(body)
		if n > 20000 || len(body) > 60000 {
			t.Fatalf("one read returned %d characters, %d bytes", n, len(body))
		}
		got = append(got, []rune(body)...)
		offset += n
	}
	if string(got) != string(text) {
		t.Fatal("the pieces read with offsets are not the file")
	}
	_, err := e.call(t, e.read, map[string]any{"path": "long.txt", "offset": len(text) + 1})
	if err == nil || !strings.Contains(err.Error(), "past the end") {
		t.Fatalf("offset past the end: %v", err)
	}
	out := e.mustCall(t, e.read, map[string]any{"path": "long.txt", "offset": len(text)}).Content
	if !strings.Contains(out, "nothing more") {
		t.Fatalf("offset at the end: %q", out)
	}
}

func TestWideCharactersAreCutByBytes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.upload(t, "emoji.txt", "text/plain", []byte(strings.Repeat("🙂", 20000)))
	out := e.mustCall(t, e.read, map[string]string{"path": "emoji.txt"}).Content
	if n := strings.Count(out, "🙂"); n != 15000 || !strings.Contains(out, "offset 15000") {
		t.Fatalf("read %d emoji (want 15000, 60,000 bytes) and %q", n, out[len(out)-120:])
	}
}

func TestCharsetsAndBinaryFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 100)...)
	cases := []struct {
		name, contentType string
		body              []byte
		want, not         string
	}{
		{"latin1.txt", "text/plain", []byte("caf\xe9 cr\xe8me"), "café crème", ""},
		{"declared.txt", "text/plain; charset=iso-8859-2", []byte("\xb1"), "ą", ""},
		{"bom8.txt", "text/plain", []byte("\xef\xbb\xbfhello"), "\n\nhello", "\uFEFF"},
		{"utf16.txt", "text/plain", []byte("\xff\xfeh\x00i\x00 \x00\x03\x26"), "\n\nhi ☃", "\uFEFF"},
		{"script.py", "application/octet-stream", []byte("print('hi')\n"), "print('hi')", ""},
		{"blob.bin", "application/octet-stream", []byte("\x00\x01\x02\x03binary"), "binary file", "\x01"},
		{"pic.png", "image/png", png, "is a binary file", "IHDR"},
		{"fake.txt", "text/plain", []byte("QRS\x00\x00TUV\x00"), "is a binary file", "QRS"},
		{"broken.txt", "text/plain", []byte("ok \xff\xfe then fine é"), "ok \uFFFD\uFFFD then fine é", ""},
		{"empty.txt", "text/plain", nil, "[the file is empty]", ""},
		// The charset is judged on the first 4096 bytes, which here end in
		// the middle of the first é: still UTF-8.
		{"cut.txt", "text/plain", []byte(strings.Repeat("a", 4095) + "é, then more é"), "aé, then more é", "Ã"},
	}
	for _, c := range cases {
		f := e.upload(t, c.name, c.contentType, c.body)
		out := e.mustCall(t, e.read, map[string]string{"path": c.name}).Content
		if !strings.Contains(out, c.want) || (c.not != "" && strings.Contains(out, c.not)) {
			t.Errorf("%s: %q, want %q and not %q", c.name, out, c.want, c.not)
		}
		if !strings.Contains(out, f.ID) {
			t.Errorf("%s: %q lacks the file id", c.name, out)
		}
	}
}
