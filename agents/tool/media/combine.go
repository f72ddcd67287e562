package media

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
)

// CombineVideoAudio is the combine_video_audio tool: it puts an audio
// track on a video with ffmpeg. It is safe for concurrent use.
type CombineVideoAudio struct{ k *toolkit }

var _ agents.TimedTool = (*CombineVideoAudio)(nil)

// Spec describes the tool to the model.
func (t *CombineVideoAudio) Spec() agents.ToolSpec {
	return agents.ToolSpec{
		Name: CombineVideoAudioName,
		Description: "Combine a video and an audio recording into one MP4 video that plays the audio, " +
			"replacing the video's own sound; the result lasts as long as the shorter of the two and is saved in the conversation. " +
			"Each input is a file of the conversation (its id or name) or a URL.",
		Parameters: json.RawMessage(`{"type":"object","properties":{` +
			`"video":{"type":"string","description":"The video: a file id or name of the conversation, or an http or https URL."},` +
			`"audio":{"type":"string","description":"The audio (or a video whose sound to use): a file id or name, or a URL."}},` +
			`"required":["video","audio"]}`),
	}
}

// Timeout is the longest one call may take.
func (t *CombineVideoAudio) Timeout() time.Duration { return t.k.cfg.Timeout }

// Call muxes the two inputs and saves the video.
func (t *CombineVideoAudio) Call(ctx context.Context, in agents.ToolInput) (agents.ToolOutput, error) {
	var args struct {
		Video string `json:"video"`
		Audio string `json:"audio"`
	}
	if err := json.Unmarshal(in.Arguments, &args); err != nil {
		return agents.ToolOutput{}, errors.New(`the arguments must be a JSON object like {"video": "clip.mp4", "audio": "speech.mp3"}`)
	}
	args.Video, args.Audio = strings.TrimSpace(args.Video), strings.TrimSpace(args.Audio)
	if args.Video == "" || args.Audio == "" {
		return agents.ToolOutput{}, errors.New(`the video and audio arguments are required, like {"video": "clip.mp4", "audio": "speech.mp3"}`)
	}
	if !t.k.has(progFFmpeg) {
		return agents.ToolOutput{}, errors.New("combine_video_audio needs ffmpeg (Debian package ffmpeg), which is not installed")
	}
	dir, cleanup, err := t.k.tempDir()
	if err != nil {
		return agents.ToolOutput{}, err
	}
	defer cleanup()
	video, err := t.k.load(ctx, in, args.Video, dir, "video")
	if err != nil {
		return agents.ToolOutput{}, fmt.Errorf("the video: %w", err)
	}
	audio, err := t.k.load(ctx, in, args.Audio, dir, "audio")
	if err != nil {
		return agents.ToolOutput{}, fmt.Errorf("the audio: %w", err)
	}

	out := filepath.Join(dir, "combined.mp4")
	how := "the video copied as it was"
	err = t.k.mux(ctx, dir, video.path, audio.path, out, "-c:v", "copy")
	var pe *programError
	if errors.As(err, &pe) && !noStream(pe) {
		// The video's codec does not fit in MP4 (VP8, Theora...): encode it.
		how = "the video encoded as H.264"
		err = t.k.mux(ctx, dir, video.path, audio.path, out, "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p")
	}
	if errors.As(err, &pe) && noStream(pe) {
		if strings.Contains(pe.msg, "0:v:0") {
			return agents.ToolOutput{}, fmt.Errorf("%s has no video track", video.name)
		}
		return agents.ToolOutput{}, fmt.Errorf("%s has no audio track", audio.name)
	}
	if err != nil {
		return agents.ToolOutput{}, fmt.Errorf("combining %s and %s: %w", video.name, audio.name, err)
	}

	f, err := os.Open(out)
	if err != nil {
		return agents.ToolOutput{}, err
	}
	defer f.Close()
	name := "combined.mp4"
	if s := stem(video.name); s != "" {
		name = s + "-with-audio.mp4"
	}
	fl, err := t.k.store.Save(ctx, in.Agent, in.ChatID, name, "video/mp4", "tool", f)
	if err != nil {
		return agents.ToolOutput{}, fmt.Errorf("saving the video: %w", err)
	}
	return agents.ToolOutput{
		Content: fmt.Sprintf("Saved the video of %s with the audio of %s as %s (file id %s, MP4, %s; %s, the audio encoded as AAC, cut to the shorter of the two).",
			video.name, audio.name, fl.Name, fl.ID, safehttp.FormatSize(fl.Size), how),
		FileIDs: []string{fl.ID},
	}, nil
}

// mux writes the first video track of video and the first audio track of
// audio to out, with the video codec arguments given.
func (k *toolkit) mux(ctx context.Context, dir, video, audio, out string, videoCodec ...string) error {
	args := ffmpegInputs(video, audio)
	args = append(args, "-map", "0:v:0", "-map", "1:a:0")
	args = append(args, videoCodec...)
	args = append(args, "-c:a", "aac", "-b:a", "160k", "-shortest", "-movflags", "+faststart", out)
	_, err := k.run(ctx, dir, progFFmpeg, 64<<10, args...)
	return err
}

// noStream reports whether ffmpeg failed for lack of the mapped track.
func noStream(pe *programError) bool { return strings.Contains(pe.msg, "matches no streams") }
