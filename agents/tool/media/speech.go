package media

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
)

// TextToSpeech is the text_to_speech tool: it speaks a text into an audio
// file, with Amazon Polly when AWS is configured, else with espeak-ng. It
// is safe for concurrent use.
type TextToSpeech struct{ k *toolkit }

var _ agents.TimedTool = (*TextToSpeech)(nil)

// Spec describes the tool to the model.
func (t *TextToSpeech) Spec() agents.ToolSpec {
	voice := "An espeak-ng voice or language such as en-us, en-gb, fr or de."
	if t.k.polly != nil {
		voice = "An Amazon Polly voice such as Joanna, Matthew, Amy or Lea."
	}
	return agents.ToolSpec{
		Name: TextToSpeechName,
		Description: "Speak a text aloud into an audio file (MP3) saved in the conversation; returns the file's name and id. " +
			fmt.Sprintf("At most %s characters. ", formatCount(t.k.cfg.MaxSpeechRunes)) +
			"Give a language or a voice for text that is not in English.",
		Parameters: json.RawMessage(`{"type":"object","properties":{` +
			`"text":{"type":"string","description":"The text to speak, as plain text."},` +
			`"voice":{"type":"string","description":` + jsonString("Optional. "+voice) + `},` +
			`"language":{"type":"string","description":"Optional language of the text, like en, en-GB, fr, de or es; it picks the voice when none is given."}},` +
			`"required":["text"]}`),
	}
}

// Timeout is the longest one call may take.
func (t *TextToSpeech) Timeout() time.Duration { return t.k.cfg.Timeout }

// Call speaks the text and saves the audio.
func (t *TextToSpeech) Call(ctx context.Context, in agents.ToolInput) (agents.ToolOutput, error) {
	var args struct {
		Text     string `json:"text"`
		Voice    string `json:"voice"`
		Language string `json:"language"`
	}
	if err := json.Unmarshal(in.Arguments, &args); err != nil {
		return agents.ToolOutput{}, errors.New(`the arguments must be a JSON object like {"text": "Hello!", "language": "en"}`)
	}
	text := strings.TrimSpace(strings.ToValidUTF8(args.Text, ""))
	if text == "" {
		return agents.ToolOutput{}, errors.New(`the text argument is required, like {"text": "Hello!"}`)
	}
	if n := utf8.RuneCountInString(text); n > t.k.cfg.MaxSpeechRunes {
		return agents.ToolOutput{}, fmt.Errorf("the text has %s characters and text_to_speech takes at most %s: speak it in several calls",
			formatCount(n), formatCount(t.k.cfg.MaxSpeechRunes))
	}
	voice, language := strings.TrimSpace(args.Voice), strings.TrimSpace(args.Language)

	var sp speech
	var err error
	if t.k.polly != nil {
		sp, err = t.k.pollySpeech(ctx, text, voice, language)
	} else {
		sp, err = t.k.espeakSpeech(ctx, text, voice, language)
	}
	if err != nil {
		return agents.ToolOutput{}, err
	}
	defer sp.close()

	name := "speech" + sp.ext
	if s := slug(text); s != "" {
		name = "speech-" + s + sp.ext
	}
	f, err := os.Open(sp.path)
	if err != nil {
		return agents.ToolOutput{}, fmt.Errorf("reading the audio: %w", err)
	}
	defer f.Close()
	fl, err := t.k.store.Save(ctx, in.Agent, in.ChatID, name, sp.contentType, "tool", f)
	if err != nil {
		return agents.ToolOutput{}, fmt.Errorf("saving the audio: %w", err)
	}
	return agents.ToolOutput{
		Content: fmt.Sprintf("Saved the speech as %s (file id %s, %s, %s) with %s.",
			fl.Name, fl.ID, sp.format, safehttp.FormatSize(fl.Size), sp.engine),
		FileIDs: []string{fl.ID},
	}, nil
}

// speech is synthesized audio in a temporary file.
type speech struct {
	path        string
	ext         string // ".mp3" or ".wav"
	contentType string
	format      string // "MP3" or "WAV"
	engine      string // for the model: "Amazon Polly (voice Joanna, neural engine)"
	close       func()
}

// voiceName is what an espeak-ng voice or language may look like; it also
// keeps an argument from passing for an option.
var voiceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_+-]{0,40}$`)

// espeakSpeech speaks text with espeak-ng, to MP3 when ffmpeg can convert
// it, else to WAV.
func (k *toolkit) espeakSpeech(ctx context.Context, text, voice, language string) (speech, error) {
	if !k.has(progEspeak) {
		return speech{}, fmt.Errorf("text_to_speech needs espeak-ng (Debian package espeak-ng) or Amazon Polly: install espeak-ng, or %s", awsHint)
	}
	v := k.cfg.EspeakVoice
	switch {
	case voice != "":
		v = voice
	case language != "":
		v = language
	}
	if !voiceName.MatchString(v) {
		return speech{}, fmt.Errorf("%q is not an espeak-ng voice: use a language code such as en-us, en-gb, fr, de or es", v)
	}
	dir, cleanup, err := k.tempDir()
	if err != nil {
		return speech{}, err
	}
	ok := false
	defer func() {
		if !ok {
			cleanup()
		}
	}()
	// The text goes in a file, never on the command line.
	if err := os.WriteFile(filepath.Join(dir, "text.txt"), []byte(text), 0o600); err != nil {
		return speech{}, fmt.Errorf("writing the text: %w", err)
	}
	wav := filepath.Join(dir, "speech.wav")
	_, err = k.run(ctx, dir, progEspeak, 64<<10, "-b", "1", "-v", v, "-f", filepath.Join(dir, "text.txt"), "-w", wav)
	var pe *programError
	if errors.As(err, &pe) && strings.Contains(pe.msg, "voice does not exist") {
		return speech{}, fmt.Errorf("espeak-ng has no voice %q: use a language code such as en-us, en-gb, fr, de or es", v)
	}
	if err != nil {
		return speech{}, err
	}
	sp := speech{path: wav, ext: ".wav", contentType: "audio/wav", format: "WAV",
		engine: fmt.Sprintf("espeak-ng (voice %s)", v), close: cleanup}
	if k.has(progFFmpeg) {
		mp3 := filepath.Join(dir, "speech.mp3")
		// A failed conversion (an ffmpeg without an MP3 encoder) keeps
		// the WAV, which plays everywhere.
		if _, err := k.run(ctx, dir, progFFmpeg, 64<<10, "-nostdin", "-hide_banner", "-loglevel", "error",
			"-protocol_whitelist", "file", "-format_whitelist", "wav", "-i", wav,
			"-codec:a", "libmp3lame", "-q:a", "4", mp3); err == nil {
			sp.path, sp.ext, sp.contentType, sp.format = mp3, ".mp3", "audio/mpeg", "MP3"
		} else if ctx.Err() != nil {
			return speech{}, ctx.Err()
		}
	}
	ok = true
	return sp, nil
}

// slug is the first words of text, lower case, for a file name.
func slug(text string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(text) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			if b.Len() >= 30 {
				break
			}
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

// jsonString is s as a JSON string literal.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
