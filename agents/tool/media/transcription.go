package media

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/atrium-hq/atrium/agents"
)

// Transcription is the transcription tool: it turns the speech of an
// audio or video file into text with Amazon Transcribe. It is safe for
// concurrent use.
type Transcription struct{ k *toolkit }

var _ agents.TimedTool = (*Transcription)(nil)

// Spec describes the tool to the model.
func (t *Transcription) Spec() agents.ToolSpec {
	return agents.ToolSpec{
		Name: TranscriptionName,
		Description: "Transcribe the speech of an audio or video file (MP3, WAV, M4A, OGG, FLAC, MP4, WebM...) into text, " +
			"with a [m:ss] time at the start of each segment. The input is a file of the conversation (its id or name) or a URL. " +
			fmt.Sprintf("At most the first %s are transcribed, and it takes about as long as the recording lasts. ", formatDuration(t.k.cfg.MaxAudio)) +
			"The transcript is also saved as a text file.",
		Parameters: json.RawMessage(`{"type":"object","properties":{` +
			`"file":{"type":"string","description":"The id or name of an audio or video file of the conversation."},` +
			`"url":{"type":"string","description":"The http or https URL of an audio or video file, instead of a file."},` +
			`"language":{"type":"string","description":` + jsonString("The language spoken, like en, en-GB, fr-FR or de. Default: "+t.k.cfg.TranscribeLanguage+".") + `}}}`),
	}
}

// Timeout is the longest one call may take: Config.Timeout, or longer
// when Config.MaxAudio needs more, as Transcribe hears audio at its real
// speed.
func (t *Transcription) Timeout() time.Duration {
	return max(t.k.cfg.Timeout, t.k.cfg.MaxAudio+2*time.Minute)
}

// Call transcribes the recording and saves the transcript.
func (t *Transcription) Call(ctx context.Context, in agents.ToolInput) (agents.ToolOutput, error) {
	var args struct {
		File     string `json:"file"`
		URL      string `json:"url"`
		Language string `json:"language"`
	}
	if err := json.Unmarshal(in.Arguments, &args); err != nil {
		return agents.ToolOutput{}, errors.New(`the arguments must be a JSON object like {"file": "meeting.mp3"}`)
	}
	ref, err := pick(args.File, args.URL, "recording")
	if err != nil {
		return agents.ToolOutput{}, err
	}
	if t.k.transcribe == nil {
		return agents.ToolOutput{}, fmt.Errorf("transcription needs Amazon Transcribe, and AWS is not configured: %s (this server has no offline speech recognition)", awsHint)
	}
	lang, err := transcribeLanguage(args.Language, t.k.cfg.TranscribeLanguage)
	if err != nil {
		return agents.ToolOutput{}, err
	}
	if !t.k.has(progFFmpeg) {
		return agents.ToolOutput{}, errors.New("transcription needs ffmpeg (Debian package ffmpeg) to decode the recording")
	}
	dir, cleanup, err := t.k.tempDir()
	if err != nil {
		return agents.ToolOutput{}, err
	}
	defer cleanup()
	src, err := t.k.load(ctx, in, ref, dir, "input")
	if err != nil {
		return agents.ToolOutput{}, err
	}
	pcm, err := t.k.toPCM(ctx, dir, src)
	if err != nil {
		return agents.ToolOutput{}, err
	}
	segs, err := t.k.transcribeAWS(ctx, pcm.path, lang)
	if err != nil {
		return agents.ToolOutput{}, err
	}
	return t.answer(ctx, in, src, pcm, lang, segs)
}

// answer saves the transcript and tells the model about it.
func (t *Transcription) answer(ctx context.Context, in agents.ToolInput, src input, pcm pcmAudio, lang string, segs []segment) (agents.ToolOutput, error) {
	transcript := formatTranscript(segs)
	var b strings.Builder
	fmt.Fprintf(&b, "Transcript of %s (Amazon Transcribe, %s, %s of audio", src.name, lang, formatDuration(pcm.duration))
	if pcm.cut {
		fmt.Fprintf(&b, ", only the first %s transcribed", formatDuration(t.k.cfg.MaxAudio))
	}
	b.WriteString(")")
	if transcript == "" {
		b.WriteString(":\n\n[no speech was recognized]")
		return agents.ToolOutput{Content: b.String()}, nil
	}
	name := "transcript.txt"
	if s := stem(src.name); s != "" {
		name = s + "-transcript.txt"
	}
	fl, err := t.k.store.Save(ctx, in.Agent, in.ChatID, name, "text/plain; charset=utf-8", "tool", strings.NewReader(transcript+"\n"))
	if err != nil {
		return agents.ToolOutput{}, fmt.Errorf("saving the transcript: %w", err)
	}
	fmt.Fprintf(&b, ", saved as %s (file id %s):\n\n", fl.Name, fl.ID)
	text, cut := capText(transcript, t.k.cfg.MaxTextRunes)
	b.WriteString(text)
	if cut {
		fmt.Fprintf(&b, "\n\n[transcript cut at %s characters; the saved file has all of it]", formatCount(t.k.cfg.MaxTextRunes))
	}
	return agents.ToolOutput{Content: b.String(), FileIDs: []string{fl.ID}}, nil
}

// The PCM Transcribe is sent: 16 kHz, mono, signed 16-bit little-endian.
const (
	pcmRate        = 16000
	pcmBytesPerSec = pcmRate * 2
)

// pcmAudio is a recording decoded for Transcribe.
type pcmAudio struct {
	path     string
	duration time.Duration
	// cut is set when the recording was longer than Config.MaxAudio.
	cut bool
}

// toPCM decodes the first audio track of src to raw 16 kHz mono PCM,
// at most Config.MaxAudio of it.
func (k *toolkit) toPCM(ctx context.Context, dir string, src input) (pcmAudio, error) {
	out := filepath.Join(dir, "audio.pcm")
	secs := strconv.FormatFloat(k.cfg.MaxAudio.Seconds(), 'f', 3, 64)
	args := append(ffmpegInputs(src.path), "-map", "0:a:0", "-vn", "-ac", "1", "-ar", strconv.Itoa(pcmRate),
		"-c:a", "pcm_s16le", "-f", "s16le", "-t", secs, out)
	_, err := k.run(ctx, dir, progFFmpeg, 64<<10, args...)
	var pe *programError
	switch {
	case errors.As(err, &pe) && strings.Contains(pe.msg, "matches no streams"):
		return pcmAudio{}, fmt.Errorf("%s has no audio track", src.name)
	case errors.As(err, &pe):
		return pcmAudio{}, fmt.Errorf("%s could not be decoded as audio or video: %s", src.name, pe.msg)
	case err != nil:
		return pcmAudio{}, err
	}
	fi, err := os.Stat(out)
	if err != nil {
		return pcmAudio{}, err
	}
	d := time.Duration(fi.Size()) * time.Second / pcmBytesPerSec
	// -t stops at the limit: a result that long was most likely cut.
	return pcmAudio{path: out, duration: d, cut: d >= k.cfg.MaxAudio-time.Second/10}, nil
}

// formatDuration writes 75s as "1:15" and 15m as "15 minutes".
func formatDuration(d time.Duration) string {
	if d >= time.Minute && d%time.Minute == 0 {
		if d == time.Minute {
			return "1 minute"
		}
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	s := int(d.Round(time.Second) / time.Second)
	if s < 60 {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
