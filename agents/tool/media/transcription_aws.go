package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/transcribestreaming"
	"github.com/aws/aws-sdk-go-v2/service/transcribestreaming/schemas"
	"github.com/aws/aws-sdk-go-v2/service/transcribestreaming/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/transport/http/protocol/restjson1"
)

// pcmChunk is the audio of one event: 200 ms, within the 50 to 200 ms AWS
// recommends.
const pcmChunk = pcmBytesPerSec / 5

// defaultLead is how far ahead of real time the audio may be sent.
// Transcribe Streaming hears audio at its real speed, and each event is
// signed with the time it was sent: an event that waits in the service's
// queue for more than five minutes fails its signature check. So the
// first minute goes at once and the rest at real speed, and a recording
// takes about its own length to transcribe.
const defaultLead = time.Minute

// preferredLanguages picks among a language's regional variants when the
// model gives only the language.
var preferredLanguages = map[string]string{
	"en": "en-US", "es": "es-US", "fr": "fr-FR", "de": "de-DE", "pt": "pt-BR", "zh": "zh-CN", "ar": "ar-SA",
	"it": "it-IT", "ja": "ja-JP", "ko": "ko-KR", "nl": "nl-NL", "hi": "hi-IN", "no": "no-NO", "nb": "no-NO",
}

// transcribeLanguage turns the model's language (like "en", "fr-fr" or
// "de-DE") into a Transcribe language code.
func transcribeLanguage(lang, def string) (string, error) {
	lang = strings.TrimSpace(strings.ReplaceAll(lang, "_", "-"))
	if lang == "" {
		return def, nil
	}
	codes := types.LanguageCode("").Values()
	for _, c := range codes {
		if strings.EqualFold(string(c), lang) {
			return string(c), nil
		}
	}
	if p, ok := preferredLanguages[strings.ToLower(lang)]; ok {
		return p, nil
	}
	for _, c := range codes {
		if prefix, _, _ := strings.Cut(string(c), "-"); strings.EqualFold(prefix, lang) {
			return string(c), nil
		}
	}
	return "", fmt.Errorf("Amazon Transcribe does not know the language %q: use a code like en-US, en-GB, fr-FR, de-DE or es-ES", lang)
}

// transcribeAWS streams the PCM at path to Transcribe Streaming and
// returns the final segments.
func (k *toolkit) transcribeAWS(ctx context.Context, path, lang string) ([]segment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out, err := k.transcribe.StartStreamTranscription(sctx, &transcribestreaming.StartStreamTranscriptionInput{
		LanguageCode:         types.LanguageCode(lang),
		MediaEncoding:        types.MediaEncodingPcm,
		MediaSampleRateHertz: aws.Int32(pcmRate),
	}, ownProtocol)
	if err != nil {
		return nil, transcribeError(err)
	}
	stream := out.GetStream()
	defer stream.Close()

	// The audio is sent while the results are read: Transcribe answers
	// as it goes and stops reading when its answers are not read.
	var wg sync.WaitGroup
	var sendErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		sendErr = sendPCM(sctx, stream, f, k.lead)
		// Closing the writer ends the audio; the results keep coming
		// until Transcribe has read all of it.
		stream.Writer.Close()
	}()
	var segs []segment
	for ev := range stream.Events() {
		segs = collect(segs, ev)
	}
	cancel() // if the results ended first, the sender stops
	wg.Wait()
	if err := stream.Err(); err != nil {
		return nil, transcribeError(err)
	}
	if sendErr != nil && !errors.Is(sendErr, context.Canceled) {
		return nil, fmt.Errorf("sending the audio to Amazon Transcribe: %w", sendErr)
	}
	return segs, ctx.Err()
}

// ownProtocol gives one call its own protocol instance. The client's
// restjson1.Protocol keeps one event-stream encoder, decoder and buffer
// (smithy-go v1.28.9, internal/eventstream.Codec) that every stream
// shares without a lock, so two transcriptions at once would interleave
// each other's frames (the race detector sees it in this package's tests).
func ownProtocol(o *transcribestreaming.Options) {
	o.Protocol = restjson1.New(schemas.Transcribe)
}

// sendPCM sends r as audio events of pcmChunk bytes, at most lead ahead
// of real time.
func sendPCM(ctx context.Context, stream *transcribestreaming.StartStreamTranscriptionEventStream, r io.Reader, lead time.Duration) error {
	start := time.Now()
	sent := 0
	for {
		if wait := time.Duration(sent)*time.Second/pcmBytesPerSec - time.Since(start) - lead; wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
		buf := make([]byte, pcmChunk)
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if err := stream.Send(ctx, &types.AudioStreamMemberAudioEvent{Value: types.AudioEvent{AudioChunk: buf[:n]}}); err != nil {
				return err
			}
			sent += n
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// segment is one final result of Transcribe: a stretch of speech.
type segment struct {
	start, end float64 // seconds
	text       string
}

// collect adds the final results of ev to segs. Partial results are
// skipped: Transcribe sends each again, final, once it is sure of it.
func collect(segs []segment, ev types.TranscriptResultStream) []segment {
	te, ok := ev.(*types.TranscriptResultStreamMemberTranscriptEvent)
	if !ok || te.Value.Transcript == nil {
		return segs
	}
	for _, r := range te.Value.Transcript.Results {
		if r.IsPartial || len(r.Alternatives) == 0 {
			continue
		}
		if text := strings.TrimSpace(aws.ToString(r.Alternatives[0].Transcript)); text != "" {
			segs = append(segs, segment{start: r.StartTime, end: r.EndTime, text: text})
		}
	}
	return segs
}

// formatTranscript writes one segment a line, each with its start time.
func formatTranscript(segs []segment) string {
	var b strings.Builder
	for i, s := range segs {
		if i > 0 {
			b.WriteByte('\n')
		}
		sec := int(s.start)
		fmt.Fprintf(&b, "[%d:%02d] %s", sec/60, sec%60, s.text)
	}
	return b.String()
}

// transcribeError words a failed Transcribe call for the model.
func transcribeError(err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		return fmt.Errorf("Amazon Transcribe refused the request: %s: %s", api.ErrorCode(), api.ErrorMessage())
	}
	return fmt.Errorf("Amazon Transcribe failed: %w", err)
}
