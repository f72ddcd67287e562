package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/polly"
	"github.com/aws/aws-sdk-go-v2/service/polly/types"
	"github.com/aws/smithy-go"
)

// Polly's limits: 3,000 billed characters of plain text per request, and
// a bound of our own on the audio of one request (3,000 characters are
// about 4 minutes, some 4 MB of MP3).
const (
	pollyMaxRunes = 3000
	pollyMaxAudio = 32 << 20
)

// pollyVoices is the voice for a language when the model names no voice,
// chosen among those that have the neural engine.
var pollyVoices = map[string]string{
	"en": "Joanna", "en-us": "Joanna", "en-gb": "Amy", "en-au": "Olivia", "en-in": "Kajal",
	"en-ie": "Niamh", "en-nz": "Aria", "en-za": "Ayanda",
	"fr": "Lea", "fr-fr": "Lea", "fr-ca": "Gabrielle", "fr-be": "Isabelle",
	"de": "Vicki", "de-de": "Vicki", "de-at": "Hannah", "de-ch": "Sabrina",
	"es": "Lucia", "es-es": "Lucia", "es-us": "Lupe", "es-mx": "Mia",
	"it": "Bianca", "it-it": "Bianca", "pt": "Camila", "pt-br": "Camila", "pt-pt": "Ines",
	"nl": "Laura", "nl-nl": "Laura", "nl-be": "Lisa", "da": "Sofie", "da-dk": "Sofie",
	"sv": "Elin", "sv-se": "Elin", "nb": "Ida", "no": "Ida", "nb-no": "Ida", "fi": "Suvi", "fi-fi": "Suvi",
	"pl": "Ola", "pl-pl": "Ola", "cs": "Jitka", "cs-cz": "Jitka", "tr": "Burcu", "tr-tr": "Burcu",
	"ja": "Takumi", "ja-jp": "Takumi", "ko": "Seoyeon", "ko-kr": "Seoyeon",
	"zh": "Zhiyu", "zh-cn": "Zhiyu", "cmn": "Zhiyu", "cmn-cn": "Zhiyu", "yue": "Hiujin", "zh-hk": "Hiujin",
	"ar": "Hala", "ar-ae": "Hala", "arb": "Zeina", "hi": "Kajal", "hi-in": "Kajal",
	"ca": "Arlet", "ca-es": "Arlet", "is": "Dora", "ro": "Carmen", "ru": "Tatyana", "cy": "Gwyneth",
}

// engineCache remembers the engine each Polly voice took, so a voice
// without the neural engine costs one refused request, not one a call.
type engineCache struct {
	mu      sync.Mutex // guards engines
	engines map[string]types.Engine
}

func newEngineCache() *engineCache { return &engineCache{engines: map[string]types.Engine{}} }

func (c *engineCache) get(voice string) (types.Engine, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.engines[voice]
	return e, ok
}

func (c *engineCache) set(voice string, e types.Engine) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.engines[voice] = e
}

// pollySpeech speaks text with Amazon Polly into an MP3. Text longer than
// one request takes is spoken in pieces whose MP3s are joined: MP3 is a
// sequence of frames, so the joined bytes are one playable file.
func (k *toolkit) pollySpeech(ctx context.Context, text, voice, language string) (speech, error) {
	if voice == "" {
		voice = k.cfg.PollyVoice
		if language != "" {
			v, ok := pollyVoices[strings.ToLower(strings.ReplaceAll(language, "_", "-"))]
			if !ok {
				return speech{}, fmt.Errorf("there is no default Amazon Polly voice for the language %q: give a voice, like {\"voice\": \"Joanna\"}", language)
			}
			voice = v
		}
	}
	engine, fixed := types.Engine(k.cfg.PollyEngine), k.cfg.PollyEngine != ""
	if !fixed {
		engine = types.EngineNeural
		if e, ok := k.voices.get(voice); ok {
			engine = e
		}
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
	path := filepath.Join(dir, "speech.mp3")
	out, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return speech{}, err
	}
	defer out.Close()
	for _, piece := range splitText(text, pollyMaxRunes) {
		audio, err := k.synthesize(ctx, piece, voice, engine)
		var unsupported *types.EngineNotSupportedException
		if errors.As(err, &unsupported) && !fixed && engine == types.EngineNeural {
			engine = types.EngineStandard
			k.voices.set(voice, engine)
			audio, err = k.synthesize(ctx, piece, voice, engine)
		}
		if err != nil {
			return speech{}, pollyError(err)
		}
		if !fixed {
			k.voices.set(voice, engine)
		}
		_, err = io.Copy(out, audio)
		audio.Close()
		if err != nil {
			return speech{}, fmt.Errorf("reading Amazon Polly's audio: %w", err)
		}
	}
	if err := out.Close(); err != nil {
		return speech{}, err
	}
	ok = true
	return speech{path: path, ext: ".mp3", contentType: "audio/mpeg", format: "MP3",
		engine: fmt.Sprintf("Amazon Polly (voice %s, %s engine)", voice, engine), close: cleanup}, nil
}

// synthesize asks Polly for the MP3 of one piece of text.
func (k *toolkit) synthesize(ctx context.Context, text, voice string, engine types.Engine) (io.ReadCloser, error) {
	out, err := k.polly.SynthesizeSpeech(ctx, &polly.SynthesizeSpeechInput{
		Text:         aws.String(text),
		TextType:     types.TextTypeText,
		VoiceId:      types.VoiceId(voice),
		Engine:       engine,
		OutputFormat: types.OutputFormatMp3,
	})
	if err != nil {
		return nil, err
	}
	if ct := aws.ToString(out.ContentType); ct != "" && !strings.HasPrefix(ct, "audio/") {
		out.AudioStream.Close()
		return nil, fmt.Errorf("Amazon Polly answered %s instead of audio", ct)
	}
	return limitedReadCloser{io.LimitReader(out.AudioStream, pollyMaxAudio), out.AudioStream}, nil
}

type limitedReadCloser struct {
	io.Reader
	io.Closer
}

// pollyError words a failed Polly request for the model.
func pollyError(err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		return fmt.Errorf("Amazon Polly refused the request: %s: %s", api.ErrorCode(), api.ErrorMessage())
	}
	return fmt.Errorf("Amazon Polly failed: %w", err)
}

// splitText cuts text into pieces of at most n characters, at sentence
// ends when it can, else at spaces, else anywhere.
func splitText(text string, n int) []string {
	var out []string
	for utf8.RuneCountInString(text) > n {
		head := truncateRunes(text, n)
		cut := -1
		for i, r := range head {
			if i > 0 && unicode.IsSpace(r) && strings.ContainsRune(".!?;:\n", prevRune(head, i)) {
				cut = i
			}
		}
		if cut < len(head)/2 {
			if i := strings.LastIndexFunc(head, unicode.IsSpace); i > len(head)/2 {
				cut = i
			}
		}
		if cut <= 0 {
			cut = len(head)
		}
		if p := strings.TrimSpace(text[:cut]); p != "" {
			out = append(out, p)
		}
		text = strings.TrimSpace(text[cut:])
	}
	if text != "" {
		out = append(out, text)
	}
	return out
}

func prevRune(s string, i int) rune {
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return r
}
