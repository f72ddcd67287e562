package media

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/polly"
	"github.com/aws/aws-sdk-go-v2/service/textract"
	"github.com/aws/aws-sdk-go-v2/service/transcribestreaming"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
	"github.com/atrium-hq/atrium/workspaces"
)

// The tools' names, as agent configurations enable them.
const (
	TextToSpeechName      = "text_to_speech"
	TranscriptionName     = "transcription"
	OCRName               = "ocr"
	CombineVideoAudioName = "combine_video_audio"
)

// Defaults for the zero values of Config's fields.
const (
	DefaultTimeout          = 5 * time.Minute
	DefaultProgramTimeout   = 3 * time.Minute
	DefaultMaxInputBytes    = 100 << 20
	DefaultMaxSpeechRunes   = 10000
	DefaultMaxAudio         = 10 * time.Minute
	DefaultMaxPages         = 20
	DefaultMaxTextRunes     = 20000
	DefaultPollyVoice       = "Joanna"
	DefaultEspeakVoice      = "en-us"
	DefaultTranscribeLang   = "en-US"
	DefaultTesseractLang    = "eng"
	defaultMaxProgramOutput = 4 << 20
)

// Config configures the tools. The zero value works: programs are found in
// PATH and the limits are the defaults above.
type Config struct {
	// Timeout bounds one call of a tool, downloads and programs included:
	// 5 minutes when zero. The agent loop uses it instead of its default
	// tool timeout. transcription takes the longer of Timeout and MaxAudio
	// plus 2 minutes, since Transcribe hears a recording at its real speed.
	Timeout time.Duration
	// ProgramTimeout bounds one run of a local program: 3 minutes when
	// zero.
	ProgramTimeout time.Duration
	// MaxInputBytes caps an input file or download: 100 MiB when zero.
	// A safehttp client with a smaller MaxBodyBytes fails first.
	MaxInputBytes int64
	// MaxSpeechRunes caps the text of text_to_speech: 10,000 characters
	// when zero. Polly takes 3,000 at a time, so longer text is sent in
	// pieces cut at sentence ends and the MP3s are joined.
	MaxSpeechRunes int
	// MaxAudio is how much of a recording transcription transcribes: 10
	// minutes when zero. The rest is left out, and the result says so.
	MaxAudio time.Duration
	// MaxPages caps the PDF pages ocr reads: 20 when zero.
	MaxPages int
	// MaxTextRunes caps the text ocr and transcription return to the
	// model: 20,000 characters when zero. The saved transcript is whole.
	MaxTextRunes int

	// FFmpeg, Espeak, Tesseract, Pdftoppm and Pdfinfo are the programs'
	// paths. Empty means looking up "ffmpeg", "espeak-ng", "tesseract",
	// "pdftoppm" and "pdfinfo" in PATH at each call.
	FFmpeg    string
	Espeak    string
	Tesseract string
	Pdftoppm  string
	Pdfinfo   string
	// TempDir is where each call makes its private directory: the
	// system's temporary directory when empty.
	TempDir string

	// EspeakVoice is espeak-ng's voice when the model names neither a
	// voice nor a language: "en-us" when empty.
	EspeakVoice string
	// TesseractLanguage is tesseract's -l argument: "eng" when empty. Its
	// traineddata must be installed (Debian tesseract-ocr-LANG).
	TesseractLanguage string

	// PollyVoice is Polly's voice when the model names neither a voice
	// nor a language: "Joanna" when empty.
	PollyVoice string
	// PollyEngine forces Polly's engine ("standard", "neural",
	// "long-form" or "generative"). Empty means neural, falling back to
	// standard for voices without it.
	PollyEngine string
	// TranscribeLanguage is Transcribe's language when the model names
	// none: "en-US" when empty.
	TranscribeLanguage string
}

// withDefaults returns cfg with its zero values replaced by the defaults.
func (cfg Config) withDefaults() Config {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.ProgramTimeout <= 0 {
		cfg.ProgramTimeout = DefaultProgramTimeout
	}
	if cfg.MaxInputBytes <= 0 {
		cfg.MaxInputBytes = DefaultMaxInputBytes
	}
	if cfg.MaxSpeechRunes <= 0 {
		cfg.MaxSpeechRunes = DefaultMaxSpeechRunes
	}
	if cfg.MaxAudio <= 0 {
		cfg.MaxAudio = DefaultMaxAudio
	}
	if cfg.MaxPages <= 0 {
		cfg.MaxPages = DefaultMaxPages
	}
	if cfg.MaxTextRunes <= 0 {
		cfg.MaxTextRunes = DefaultMaxTextRunes
	}
	if cfg.EspeakVoice == "" {
		cfg.EspeakVoice = DefaultEspeakVoice
	}
	if cfg.TesseractLanguage == "" {
		cfg.TesseractLanguage = DefaultTesseractLang
	}
	if cfg.PollyVoice == "" {
		cfg.PollyVoice = DefaultPollyVoice
	}
	if cfg.TranscribeLanguage == "" {
		cfg.TranscribeLanguage = DefaultTranscribeLang
	}
	return cfg
}

// Store is the file store the tools read inputs from and save results to;
// *agents.Files implements it.
type Store interface {
	// Find returns the file that ref (an id or a name) names for a tool
	// of agent's conversation conv.
	Find(ctx context.Context, agent agents.ID, conv workspaces.ChatID, ref string) (agents.File, error)
	// Open opens a file's bytes; the caller closes them.
	Open(f agents.File) (*os.File, error)
	// Save stores a new file of agent a.
	Save(ctx context.Context, a agents.Agent, conv workspaces.ChatID, name, contentType, source string, r io.Reader) (agents.File, error)
}

var _ Store = (*agents.Files)(nil)

// toolkit is what the four tools share. It is not modified after New.
type toolkit struct {
	cfg   Config
	store Store
	fetch *safehttp.Client
	// The AWS clients are nil when AWS is not configured.
	polly      *polly.Client
	textract   *textract.Client
	transcribe *transcribestreaming.Client
	voices     *engineCache
	// lead is how far ahead of real time audio is sent to Transcribe.
	lead time.Duration
}

// New returns the tools text_to_speech, transcription, ocr and
// combine_video_audio. awsCfg nil (or without a region) means AWS is not
// configured, and the local programs do the work; a tool that has none
// says what to install or configure. store is required. fetch downloads
// URL inputs; nil means safehttp's defaults with MaxBodyBytes raised to
// cfg.MaxInputBytes, which refuse every internal address.
func New(cfg Config, awsCfg *aws.Config, store Store, fetch *safehttp.Client) []agents.Tool {
	k := newToolkit(cfg, awsCfg, store, fetch)
	return []agents.Tool{
		&TextToSpeech{k: k},
		&Transcription{k: k},
		&OCR{k: k},
		&CombineVideoAudio{k: k},
	}
}

func newToolkit(cfg Config, awsCfg *aws.Config, store Store, fetch *safehttp.Client) *toolkit {
	cfg = cfg.withDefaults()
	if fetch == nil {
		fetch = safehttp.New(safehttp.Config{MaxBodyBytes: cfg.MaxInputBytes, Timeout: cfg.Timeout})
	}
	k := &toolkit{cfg: cfg, store: store, fetch: fetch, voices: newEngineCache(), lead: defaultLead}
	if awsCfg != nil && awsCfg.Region != "" {
		c := awsCfg.Copy()
		k.polly = polly.NewFromConfig(c)
		k.textract = textract.NewFromConfig(c)
		k.transcribe = transcribestreaming.NewFromConfig(c)
	}
	return k
}

// awsHint is how the errors say to configure AWS.
const awsHint = "set AWS_REGION and AWS credentials"
