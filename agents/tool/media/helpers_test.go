package media

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
	"github.com/atrium-hq/atrium/workspaces"
)

// requireEnv makes a missing program fail the test instead of skipping
// it; CI sets it.
const requireEnv = "ATRIUM_TEST_REQUIRE_PROGRAMS"

// need skips the test when a program it runs is missing, or fails it
// when requireEnv is 1.
func need(t *testing.T, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			if os.Getenv(requireEnv) == "1" {
				t.Fatalf("%s is not installed and %s=1", p, requireEnv)
			}
			t.Skipf("%s is not installed", p)
		}
	}
}

// font is the TrueType font the OCR tests draw text with.
const font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

func needFont(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(font); err != nil {
		if os.Getenv(requireEnv) == "1" {
			t.Fatalf("%s is missing (Debian package fonts-dejavu-core) and %s=1", font, requireEnv)
		}
		t.Skipf("%s is missing (Debian package fonts-dejavu-core)", font)
	}
}

// sh runs a program the test needs to make its inputs or check outputs.
func sh(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// memStore is a Store keeping files in a directory, for tests that need
// no database.
type memStore struct {
	dir   string
	mu    sync.Mutex // guards files
	files []agents.File
}

func newMemStore(t *testing.T) *memStore { return &memStore{dir: t.TempDir()} }

func (s *memStore) Find(_ context.Context, agent agents.ID, conv workspaces.ChatID, ref string) (agents.File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.files) - 1; i >= 0; i-- {
		f := s.files[i]
		if f.Agent == agent && f.Conversation == conv && (f.ID == ref || f.Name == ref) {
			return f, nil
		}
	}
	return agents.File{}, workspaces.E(workspaces.KindNotFound, "File not found")
}

func (s *memStore) Open(f agents.File) (*os.File, error) { return os.Open(filepath.Join(s.dir, f.ID)) }

func (s *memStore) Save(_ context.Context, a agents.Agent, conv workspaces.ChatID, name, contentType, source string, r io.Reader) (agents.File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := agents.File{ID: "f" + strconv.Itoa(len(s.files)+1), Agent: a.ID, Conversation: conv, Name: name, ContentType: contentType, Source: source}
	w, err := os.Create(filepath.Join(s.dir, f.ID))
	if err != nil {
		return agents.File{}, err
	}
	defer w.Close()
	if f.Size, err = io.Copy(w, r); err != nil {
		return agents.File{}, err
	}
	s.files = append(s.files, f)
	return f, nil
}

// put stores a file of the test agent in the test conversation.
func (s *memStore) put(t *testing.T, name string, data []byte) agents.File {
	t.Helper()
	f, err := s.Save(t.Context(), testAgent, testChat, name, "", "upload", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// putFile stores the file at path under name.
func (s *memStore) putFile(t *testing.T, name, path string) agents.File {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return s.put(t, name, data)
}

// path is where a saved file's bytes are.
func (s *memStore) path(id string) string { return filepath.Join(s.dir, id) }

// file returns the saved file id.
func (s *memStore) file(t *testing.T, id string) agents.File {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.files {
		if f.ID == id {
			return f
		}
	}
	t.Fatalf("no file %s", id)
	return agents.File{}
}

var (
	testAgent = agents.Agent{ID: "agent1", Owner: "user1", Name: "media"}
	testChat  = workspaces.ChatID("chat1")
)

// realFiles returns the real file store on a fresh database, and an agent
// that owns files there.
func realFiles(t *testing.T) (*agents.Files, agents.Agent) {
	t.Helper()
	ctx := t.Context()
	db := sqldbtest.Open(t)
	ws := workspaces.New(db, workspaces.Config{})
	user, err := ws.Register(ctx, "ann@x.io", "pw")
	if err != nil {
		t.Fatal(err)
	}
	a, err := agents.New(db, ws).Create(ctx, user.ID, agents.NewAgent{Name: "speaker", ModelID: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	return agents.NewFiles(db, agents.FilesConfig{Dir: t.TempDir(), Secret: []byte("test file key")}), a
}

// tools returns the four tools by name.
func tools(cfg Config, store Store, fetch *safehttp.Client, fake *fakeAWS) map[string]agents.Tool {
	if fetch == nil {
		fetch = safehttp.New(safehttp.Config{MaxBodyBytes: 100 << 20})
	}
	m := map[string]agents.Tool{}
	for _, tool := range New(cfg, fake.config(), store, fetch) {
		m[tool.Spec().Name] = tool
	}
	return m
}

// call calls tool with args as the test agent in the test conversation.
func call(t *testing.T, tool agents.Tool, args map[string]any) (agents.ToolOutput, error) {
	t.Helper()
	raw, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	return tool.Call(t.Context(), agents.ToolInput{Agent: testAgent, ChatID: testChat, Arguments: raw})
}

func mustCall(t *testing.T, tool agents.Tool, args map[string]any) agents.ToolOutput {
	t.Helper()
	out, err := call(t, tool, args)
	if err != nil {
		t.Fatalf("%s(%v): %v", tool.Spec().Name, args, err)
	}
	return out
}

// wantErr checks that err contains every one of want.
func wantErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}

func contains(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%q lacks %q", got, w)
		}
	}
}

// probe is what ffprobe says of a media file.
type probe struct {
	Streams []struct {
		CodecType string `json:"codec_type"`
		CodecName string `json:"codec_name"`
	} `json:"streams"`
	Format struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
	} `json:"format"`
}

func ffprobe(t *testing.T, path string) probe {
	t.Helper()
	out := sh(t, "ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format", path)
	var p probe
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("ffprobe: %v: %s", err, out)
	}
	return p
}

func (p probe) duration(t *testing.T) float64 {
	t.Helper()
	d, err := strconv.ParseFloat(p.Format.Duration, 64)
	if err != nil {
		t.Fatalf("ffprobe duration %q: %v", p.Format.Duration, err)
	}
	return d
}

func (p probe) codecs() string {
	var s []string
	for _, st := range p.Streams {
		s = append(s, fmt.Sprintf("%s:%s", st.CodecType, st.CodecName))
	}
	return strings.Join(s, ",")
}

// espeakWAV speaks text into a WAV file in dir.
func espeakWAV(t *testing.T, dir, text string) string {
	t.Helper()
	p := filepath.Join(dir, "speech.wav")
	sh(t, "espeak-ng", "-v", "en-us", "-w", p, text)
	return p
}

// testVideo makes a 2-second test pattern video without sound.
func testVideo(t *testing.T, dir, name string, codec ...string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=duration=2:size=160x120:rate=10"}
	args = append(args, codec...)
	sh(t, "ffmpeg", append(args, p)...)
	return p
}

// toolInput is a call of agent a, outside any conversation, with raw
// arguments.
func toolInput(a agents.Agent, raw string) agents.ToolInput {
	return agents.ToolInput{Agent: a, Arguments: json.RawMessage(raw)}
}
