package media

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/atrium-hq/atrium/agents"
)

func TestSpecs(t *testing.T) {
	t.Parallel()
	for name, tool := range tools(Config{}, newMemStore(t), nil, nil) {
		spec := tool.Spec()
		if spec.Name != name || spec.Description == "" {
			t.Errorf("spec = %+v", spec)
		}
		var schema struct {
			Type       string
			Properties map[string]struct{ Type, Description string }
			Required   []string
		}
		if err := json.Unmarshal(spec.Parameters, &schema); err != nil {
			t.Fatalf("%s parameters: %v", name, err)
		}
		if schema.Type != "object" || len(schema.Properties) == 0 {
			t.Errorf("%s schema = %+v", name, schema)
		}
		for p, s := range schema.Properties {
			if s.Type != "string" || s.Description == "" {
				t.Errorf("%s: property %s = %+v", name, p, s)
			}
		}
		for _, r := range schema.Required {
			if _, ok := schema.Properties[r]; !ok {
				t.Errorf("%s: required %q is not a property", name, r)
			}
		}
		want := DefaultTimeout
		if name == TranscriptionName {
			want = DefaultMaxAudio + 2*time.Minute
		}
		if tt, ok := tool.(agents.TimedTool); !ok || tt.Timeout() != want {
			t.Errorf("%s is not a TimedTool with a timeout of %v", name, want)
		}
	}
	if n := len(New(Config{}, nil, newMemStore(t), nil)); n != 4 {
		t.Errorf("New made %d tools", n)
	}
}

// TestSpeechEspeak speaks with the real espeak-ng into the real file
// store: an MP3 that ffprobe finds sound in.
func TestSpeechEspeak(t *testing.T) {
	t.Parallel()
	need(t, "espeak-ng", "ffmpeg", "ffprobe")
	files, a := realFiles(t)
	tool := tools(Config{}, files, nil, nil)[TextToSpeechName]

	raw, _ := json.Marshal(map[string]string{"text": "Hello world, this is Atrium speaking."})
	out, err := tool.Call(t.Context(), agents.ToolInput{Agent: a, Arguments: raw})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.FileIDs) != 1 {
		t.Fatalf("FileIDs = %v", out.FileIDs)
	}
	fl, err := files.File(t.Context(), a.ID, out.FileIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	if fl.Name != "speech-hello-world-this-is-atrium-speaking.mp3" || fl.ContentType != "audio/mpeg" || fl.Source != "tool" {
		t.Errorf("file = %+v", fl)
	}
	contains(t, out.Content, "Saved the speech as "+fl.Name, "file id "+fl.ID, "MP3", "espeak-ng (voice en-us)")

	r, err := files.Open(fl)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p := ffprobe(t, r.Name())
	if d := p.duration(t); d <= 0.5 || p.Format.FormatName != "mp3" {
		t.Errorf("ffprobe: format %s, duration %v", p.Format.FormatName, d)
	}
}

func TestSpeechEspeakLanguageAndWAV(t *testing.T) {
	t.Parallel()
	need(t, "espeak-ng", "ffprobe")
	store := newMemStore(t)
	// Without ffmpeg the WAV is kept.
	tool := tools(Config{FFmpeg: "/nonexistent/ffmpeg"}, store, nil, nil)[TextToSpeechName]
	out := mustCall(t, tool, map[string]any{"text": "Bonjour tout le monde", "language": "fr"})
	fl := store.file(t, out.FileIDs[0])
	if fl.Name != "speech-bonjour-tout-le-monde.wav" || fl.ContentType != "audio/wav" {
		t.Errorf("file = %+v", fl)
	}
	contains(t, out.Content, "WAV", "espeak-ng (voice fr)")
	if d := ffprobe(t, store.path(fl.ID)).duration(t); d <= 0.5 {
		t.Errorf("duration %v", d)
	}
}

func TestSpeechErrors(t *testing.T) {
	t.Parallel()
	need(t, "espeak-ng")
	tool := tools(Config{MaxSpeechRunes: 20}, newMemStore(t), nil, nil)[TextToSpeechName]
	for _, c := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{}, "the text argument is required"},
		{map[string]any{"text": "  "}, "the text argument is required"},
		{map[string]any{"text": 42}, "must be a JSON object"},
		{map[string]any{"text": strings.Repeat("é", 21)}, "the text has 21 characters and text_to_speech takes at most 20"},
		{map[string]any{"text": "hi", "voice": "zz"}, `espeak-ng has no voice "zz"`},
		{map[string]any{"text": "hi", "voice": "-w/etc/x"}, "is not an espeak-ng voice"},
		{map[string]any{"text": "hi", "language": "en us"}, "is not an espeak-ng voice"},
	} {
		_, err := call(t, tool, c.args)
		wantErr(t, err, c.want)
	}
}

func TestSpeechNeedsAProgramOrAWS(t *testing.T) {
	t.Parallel()
	tool := tools(Config{Espeak: "/nonexistent/espeak-ng"}, newMemStore(t), nil, nil)[TextToSpeechName]
	_, err := call(t, tool, map[string]any{"text": "hello"})
	wantErr(t, err, "text_to_speech needs espeak-ng (Debian package espeak-ng) or Amazon Polly", "AWS_REGION")
}

// TestSpeechPolly checks the requests Polly gets: the voice, the text, the
// engine (neural, then standard for a voice without it, remembered), and
// long text in pieces whose audio is joined.
func TestSpeechPolly(t *testing.T) {
	t.Parallel()
	fake := newFakeAWS(t)
	fake.polly = func(w http.ResponseWriter, req pollyRequest) {
		if req.VoiceId == "Ivy" && req.Engine == "neural" {
			awsError(w, http.StatusBadRequest, "EngineNotSupportedException", "This voice does not support the selected engine: neural")
			return
		}
		w.Header().Set("Content-Type", "audio/mpeg")
		w.Header().Set("X-Amzn-Requestcharacters", "1")
		io.WriteString(w, "MP3["+req.VoiceId+"/"+req.Engine+"/"+req.Text[:min(len(req.Text), 8)]+"]")
	}
	store := newMemStore(t)
	// espeak-ng is not needed when Polly is configured.
	tool := tools(Config{Espeak: "/nonexistent/espeak-ng"}, store, nil, fake)[TextToSpeechName]

	out := mustCall(t, tool, map[string]any{"text": "Hello from Polly."})
	fl := store.file(t, out.FileIDs[0])
	data, _ := os.ReadFile(store.path(fl.ID))
	if string(data) != "MP3[Joanna/neural/Hello fr]" || fl.Name != "speech-hello-from-polly.mp3" || fl.ContentType != "audio/mpeg" {
		t.Errorf("file %+v = %q", fl, data)
	}
	contains(t, out.Content, "Amazon Polly (voice Joanna, neural engine)", "MP3")
	reqs := fake.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	if got := reqs[0].body.(pollyRequest); got != (pollyRequest{Text: "Hello from Polly.", VoiceId: "Joanna", Engine: "neural", OutputFormat: "mp3", TextType: "text"}) {
		t.Errorf("request = %+v", got)
	}

	// A language picks its voice.
	mustCall(t, tool, map[string]any{"text": "Guten Tag", "language": "de-DE"})
	if got := fake.requests()[0].body.(pollyRequest); got.VoiceId != "Vicki" {
		t.Errorf("voice for de-DE = %q", got.VoiceId)
	}
	_, err := call(t, tool, map[string]any{"text": "x", "language": "tlh"})
	wantErr(t, err, `no default Amazon Polly voice for the language "tlh"`)

	// A voice without the neural engine falls back to standard, once.
	out = mustCall(t, tool, map[string]any{"text": "Hi there", "voice": "Ivy"})
	contains(t, out.Content, "voice Ivy, standard engine")
	if reqs := fake.requests(); len(reqs) != 2 || reqs[0].body.(pollyRequest).Engine != "neural" || reqs[1].body.(pollyRequest).Engine != "standard" {
		t.Errorf("requests = %+v", reqs)
	}
	mustCall(t, tool, map[string]any{"text": "Again", "voice": "Ivy"})
	if reqs := fake.requests(); len(reqs) != 1 || reqs[0].body.(pollyRequest).Engine != "standard" {
		t.Errorf("requests = %+v", reqs)
	}

	// Long text goes in pieces of at most 3,000 characters, cut at
	// sentence ends, and the audio is joined.
	sentence := "This sentence is forty characters long. "
	out = mustCall(t, tool, map[string]any{"text": strings.Repeat(sentence, 180)})
	reqs = fake.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests for 7,200 characters", len(reqs))
	}
	var joined strings.Builder
	for _, r := range reqs {
		text := r.body.(pollyRequest).Text
		if n := utf8.RuneCountInString(text); n > 3000 || !strings.HasSuffix(text, "long.") {
			t.Errorf("piece of %d characters ending %q", n, text[len(text)-10:])
		}
		joined.WriteString("MP3[Joanna/neural/This sen]")
	}
	data, _ = os.ReadFile(store.path(out.FileIDs[0]))
	if string(data) != joined.String() {
		t.Errorf("joined audio = %q", data)
	}

	// Polly's refusals reach the model.
	fake.polly = func(w http.ResponseWriter, req pollyRequest) {
		awsError(w, http.StatusBadRequest, "ValidationException", "1 validation error detected: Value 'Nobody' at 'voiceId'")
	}
	_, err = call(t, tool, map[string]any{"text": "x", "voice": "Nobody"})
	wantErr(t, err, "Amazon Polly refused the request: ValidationException: 1 validation error detected")
}

func TestSplitText(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		text string
		n    int
		want []string
	}{
		{"short", 10, []string{"short"}},
		{"One. Two. Three.", 10, []string{"One. Two.", "Three."}},
		{"aaaa bbbb cccc", 10, []string{"aaaa bbbb", "cccc"}},
		{"abcdefghijkl", 5, []string{"abcde", "fghij", "kl"}},
		{"ééééé ééééé", 6, []string{"ééééé", "ééééé"}},
	} {
		got := splitText(c.text, c.n)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("splitText(%q, %d) = %q, want %q", c.text, c.n, got, c.want)
		}
	}
}

func TestNames(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Hello, World!":             "hello-world",
		"  ¡Olé! 123 go":            "ol-123-go",
		"日本語":                       "",
		strings.Repeat("word ", 20): "word-word-word-word-word-word-word",
	} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"My Meeting (final).mp3": "My-Meeting-final",
		"../../etc/passwd":       "etc-passwd",
		"-rf.wav":                "rf",
		"日本.png":                 "",
	} {
		if got := stem(in); got != want {
			t.Errorf("stem(%q) = %q, want %q", in, got, want)
		}
	}
}
