package media

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/transcribestreaming/types"
)

func TestTranscriptionNeedsAWS(t *testing.T) {
	t.Parallel()
	store := newMemStore(t)
	store.put(t, "talk.wav", []byte("RIFF"))
	tool := tools(Config{}, store, nil, nil)[TranscriptionName]
	_, err := call(t, tool, map[string]any{"file": "talk.wav"})
	wantErr(t, err, "transcription needs Amazon Transcribe, and AWS is not configured: set AWS_REGION and AWS credentials")
	_, err = call(t, tool, map[string]any{})
	wantErr(t, err, "the recording is required")
}

// transcriptEvent is a TranscriptEvent frame with one result.
func transcriptEvent(t *testing.T, text string, start, end float64, partial bool) []byte {
	payload, _ := json.Marshal(map[string]any{"Transcript": map[string]any{"Results": []map[string]any{{
		"ResultId": "r", "StartTime": start, "EndTime": end, "IsPartial": partial,
		"Alternatives": []map[string]any{{"Transcript": text, "Items": []any{}}},
	}}}})
	return eventFrame(t, map[string]string{":message-type": "event", ":event-type": "TranscriptEvent", ":content-type": "application/json"}, payload)
}

// TestTranscriptionAWS transcribes espeak-ng speech through the fake
// Transcribe Streaming: the audio arrives as signed AudioEvents of 16 kHz
// PCM while results come back on the same HTTP/2 stream.
func TestTranscriptionAWS(t *testing.T) {
	t.Parallel()
	need(t, "espeak-ng", "ffmpeg", "ffprobe")
	wav := espeakWAV(t, t.TempDir(), "hello world, this is a test of the transcription tool")
	wantSecs := ffprobe(t, wav).duration(t)

	type seen struct {
		header http.Header
		audio  int
		chunks int
	}
	got := make(chan seen, 1)
	fake := newFakeAWS(t)
	fake.transcribe = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
		w.Header().Set("X-Amzn-Transcribe-Session-Id", "session-1")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		chunks := 0
		audio, err := readAudioEvents(t, r.Body, func() {
			if chunks++; chunks == 1 { // a partial result while audio still comes
				w.Write(transcriptEvent(t, "hello", 0.1, 0.6, true))
				w.(http.Flusher).Flush()
			}
		})
		if err != nil {
			t.Errorf("reading audio: %v", err)
		}
		got <- seen{r.Header.Clone(), len(audio), chunks}
		w.Write(transcriptEvent(t, "Hello world.", 0.1, 1.2, false))
		w.Write(transcriptEvent(t, "This is a test of the transcription", 62.5, 64, true))
		w.Write(transcriptEvent(t, "This is a test of the transcription tool.", 62.5, 64.2, false))
	}
	store := newMemStore(t)
	store.putFile(t, "My Talk.wav", wav)
	tool := tools(Config{}, store, nil, fake)[TranscriptionName]

	out := mustCall(t, tool, map[string]any{"file": "My Talk.wav", "language": "en"})
	s := <-got
	if h := s.header; h.Get("X-Amzn-Transcribe-Language-Code") != "en-US" || h.Get("X-Amzn-Transcribe-Sample-Rate") != "16000" ||
		h.Get("X-Amzn-Transcribe-Media-Encoding") != "pcm" || h.Get("X-Amz-Content-Sha256") != "STREAMING-AWS4-HMAC-SHA256-EVENTS" {
		t.Errorf("request headers = %v", h)
	}
	if want := int(wantSecs * pcmBytesPerSec); math.Abs(float64(s.audio-want)) > 0.02*float64(want) || s.audio%2 != 0 {
		t.Errorf("%d bytes of audio, want about %d (%.2f s at 16 kHz, 16-bit mono)", s.audio, want, wantSecs)
	}
	if s.chunks != (s.audio+pcmChunk-1)/pcmChunk {
		t.Errorf("%d audio events for %d bytes", s.chunks, s.audio)
	}
	if len(out.FileIDs) != 1 {
		t.Fatalf("FileIDs = %v", out.FileIDs)
	}
	fl := store.file(t, out.FileIDs[0])
	want := "[0:00] Hello world.\n[1:02] This is a test of the transcription tool."
	data, _ := os.ReadFile(store.path(fl.ID))
	if fl.Name != "My-Talk-transcript.txt" || fl.Source != "tool" || string(data) != want+"\n" {
		t.Errorf("saved %+v: %q", fl, data)
	}
	contains(t, out.Content, "Transcript of My Talk.wav (Amazon Transcribe, en-US, ", "saved as My-Talk-transcript.txt (file id "+fl.ID+"):\n\n"+want)
	if strings.Count(out.Content, "transcription") != 1 {
		t.Errorf("partial results were kept: %q", out.Content)
	}
}

func TestTranscriptionAWSErrors(t *testing.T) {
	t.Parallel()
	need(t, "espeak-ng", "ffmpeg")
	fake := newFakeAWS(t)
	store := newMemStore(t)
	store.putFile(t, "a.wav", espeakWAV(t, t.TempDir(), "hello"))
	tool := tools(Config{}, store, nil, fake)[TranscriptionName]

	// An exception inside the stream.
	fake.transcribe = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
		w.WriteHeader(http.StatusOK)
		w.Write(eventFrame(t, map[string]string{":message-type": "exception", ":exception-type": "BadRequestException", ":content-type": "application/json"},
			[]byte(`{"Message":"Your stream is too big"}`)))
	}
	_, err := call(t, tool, map[string]any{"file": "a.wav"})
	wantErr(t, err, "Amazon Transcribe refused the request: BadRequestException: Your stream is too big")

	// A refusal before the stream.
	fake.transcribe = func(w http.ResponseWriter, r *http.Request) {
		awsError(w, http.StatusBadRequest, "BadRequestException", "The language code is not supported")
	}
	_, err = call(t, tool, map[string]any{"file": "a.wav", "language": "fr"})
	wantErr(t, err, "Amazon Transcribe refused the request: BadRequestException: The language code is not supported")

	// No speech: nothing saved.
	fake.transcribe = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush() // as Transcribe does: the SDK sends audio once it has the headers
		readAudioEvents(t, r.Body, nil)
	}
	out := mustCall(t, tool, map[string]any{"file": "a.wav"})
	if !strings.HasSuffix(out.Content, "[no speech was recognized]") || len(out.FileIDs) != 0 {
		t.Errorf("out = %+v", out)
	}

	_, err = call(t, tool, map[string]any{"file": "a.wav", "language": "klingon"})
	wantErr(t, err, `Amazon Transcribe does not know the language "klingon"`)

	noFFmpeg := tools(Config{FFmpeg: "/nonexistent/ffmpeg"}, store, nil, fake)[TranscriptionName]
	_, err = call(t, noFFmpeg, map[string]any{"file": "a.wav"})
	wantErr(t, err, "transcription needs ffmpeg (Debian package ffmpeg)")
}

// TestToPCM checks the conversion Transcribe is sent: a 440 Hz tone of
// 1.5 s, 44.1 kHz stereo, becomes 1.5 s of 16 kHz mono 16-bit PCM with
// 440 cycles a second; a video without sound and a concat script are
// refused.
func TestToPCM(t *testing.T) {
	t.Parallel()
	need(t, "ffmpeg")
	dir := t.TempDir()
	tone := filepath.Join(dir, "tone.m4a")
	sh(t, "ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=1.5", "-ac", "2", tone)
	k := newToolkit(Config{MaxAudio: time.Second}, nil, nil, nil)

	pcm, err := k.toPCM(t.Context(), dir, input{path: tone, name: "tone.m4a"})
	if err != nil {
		t.Fatal(err)
	}
	if pcm.duration != time.Second || !pcm.cut {
		t.Errorf("pcm = %+v, want 1 s, cut", pcm)
	}
	raw, err := os.ReadFile(pcm.path)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != pcmBytesPerSec {
		t.Fatalf("%d bytes, want %d", len(raw), pcmBytesPerSec)
	}
	crossings := 0
	prev := int16(0)
	for i := 0; i+1 < len(raw); i += 2 {
		s := int16(binary.LittleEndian.Uint16(raw[i:]))
		if prev < 0 && s >= 0 {
			crossings++
		}
		prev = s
	}
	if crossings < 430 || crossings > 450 {
		t.Errorf("%d upward zero crossings in 1 s, want about 440", crossings)
	}

	video := testVideo(t, dir, "silent.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p")
	_, err = k.toPCM(t.Context(), dir, input{path: video, name: "silent.mp4"})
	wantErr(t, err, "silent.mp4 has no audio track")

	script := filepath.Join(dir, "list.txt")
	os.WriteFile(script, []byte("ffconcat version 1.0\nfile '"+tone+"'\n"), 0o600)
	_, err = k.toPCM(t.Context(), dir, input{path: script, name: "list.txt"})
	wantErr(t, err, "list.txt could not be decoded as audio or video")
}

func TestCollectAndFormat(t *testing.T) {
	t.Parallel()
	event := func(results ...types.Result) types.TranscriptResultStream {
		return &types.TranscriptResultStreamMemberTranscriptEvent{Value: types.TranscriptEvent{Transcript: &types.Transcript{Results: results}}}
	}
	alt := func(s string) []types.Alternative {
		return []types.Alternative{{Transcript: aws.String(s)}, {Transcript: aws.String("other")}}
	}
	var segs []segment
	segs = collect(segs, event(types.Result{Alternatives: alt("hel"), IsPartial: true}))
	segs = collect(segs, event(types.Result{Alternatives: alt("Hello."), StartTime: 0.4, EndTime: 1}))
	segs = collect(segs, event())
	segs = collect(segs, &types.TranscriptResultStreamMemberTranscriptEvent{})
	segs = collect(segs, event(types.Result{Alternatives: alt("  ")}, types.Result{}, types.Result{Alternatives: alt("Later on."), StartTime: 3671.9}))
	if got := formatTranscript(segs); got != "[0:00] Hello.\n[61:11] Later on." {
		t.Errorf("transcript = %q", got)
	}
	if formatTranscript(nil) != "" {
		t.Error("no segments, some text")
	}
}

func TestTranscribeLanguage(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"": "en-GB", "en": "en-US", "EN-gb": "en-GB", "fr": "fr-FR", "fr_CA": "fr-CA", "de": "de-DE", "zh": "zh-CN", "sv": "sv-SE",
	} {
		if got, err := transcribeLanguage(in, "en-GB"); got != want || err != nil {
			t.Errorf("transcribeLanguage(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	if _, err := transcribeLanguage("xx-YY", "en-US"); err == nil {
		t.Error("xx-YY is accepted")
	}
}

// TestTranscriptionConcurrent runs two transcriptions at once on one tool:
// each stream has its own encoder (see ownProtocol), which the race
// detector checks.
func TestTranscriptionConcurrent(t *testing.T) {
	t.Parallel()
	need(t, "espeak-ng", "ffmpeg")
	fake := newFakeAWS(t)
	fake.transcribe = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		audio, err := readAudioEvents(t, r.Body, nil)
		if err != nil {
			t.Errorf("reading audio: %v", err)
		}
		w.Write(transcriptEvent(t, "heard "+strconv.Itoa(len(audio))+" bytes", 0, 1, false))
	}
	store := newMemStore(t)
	store.putFile(t, "a.wav", espeakWAV(t, t.TempDir(), "one two three four five six seven"))
	tool := tools(Config{}, store, nil, fake)[TranscriptionName]

	outs := make(chan string, 2)
	for range 2 {
		go func() {
			out, err := call(t, tool, map[string]any{"file": "a.wav"})
			if err != nil {
				t.Errorf("transcription: %v", err)
			}
			outs <- out.Content
		}()
	}
	a, b := <-outs, <-outs
	_, a, _ = strings.Cut(a, "\n\n")
	_, b, _ = strings.Cut(b, "\n\n")
	if !strings.HasPrefix(a, "[0:00] heard ") || a != b {
		t.Errorf("the two transcripts differ:\n%s\n%s", a, b)
	}
}

// TestTranscriptionPaced sends audio at real speed once it is lead ahead:
// with no lead, 2 s of speech take 2 s to send.
func TestTranscriptionPaced(t *testing.T) {
	t.Parallel()
	need(t, "espeak-ng", "ffmpeg", "ffprobe")
	wav := espeakWAV(t, t.TempDir(), "one two three four five six")
	secs := ffprobe(t, wav).duration(t)
	fake := newFakeAWS(t)
	fake.transcribe = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		readAudioEvents(t, r.Body, nil)
		w.Write(transcriptEvent(t, "one two three", 0, 1, false))
	}
	store := newMemStore(t)
	store.putFile(t, "a.wav", wav)
	k := newToolkit(Config{}, fake.config(), store, nil)
	k.lead = 0
	start := time.Now()
	out := mustCall(t, &Transcription{k: k}, map[string]any{"file": "a.wav"})
	if took := time.Since(start).Seconds(); took < secs-0.3 {
		t.Errorf("%.2f s of audio sent in %.2f s", secs, took)
	}
	contains(t, out.Content, "[0:00] one two three")
}
