package generate

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
)

// Nova Reel's limits: a single shot is 6 seconds with a prompt of 512
// characters; v1:1 also makes 12 to 120 seconds, in steps of 6, from a
// prompt of up to 4,000 characters that it splits into shots.
const (
	shotSeconds      = 6
	maxVideoSeconds  = 120
	maxShotPrompt    = 512
	maxMultiPrompt   = 4000
	defaultI2VPrompt = "Bring this image to life with natural, gentle motion and a slow camera move."
)

// TextToVideo is the text_to_video tool: it makes a video from a prompt
// with Nova Reel and saves it as an MP4 file. It is safe for concurrent
// use.
type TextToVideo struct{ s *service }

// ImageToVideo is the image_to_video tool: it animates an image (a file
// of the conversation or a URL) with Nova Reel and saves the video as an
// MP4 file. It is safe for concurrent use.
type ImageToVideo struct{ s *service }

var (
	_ agents.TimedTool = (*TextToVideo)(nil)
	_ agents.TimedTool = (*ImageToVideo)(nil)
)

// Timeout is the longest one call may take: making a video takes minutes.
func (t *TextToVideo) Timeout() time.Duration { return t.s.cfg.VideoTimeout }

// Timeout is the longest one call may take: making a video takes minutes.
func (t *ImageToVideo) Timeout() time.Duration { return t.s.cfg.VideoTimeout }

// multiShot reports whether the video model makes videos longer than one
// shot; Nova Reel v1:0 does not.
func (s *service) multiShot() bool { return !strings.Contains(s.cfg.VideoModel, "nova-reel-v1:0") }

// Spec describes the tool to the model.
func (t *TextToVideo) Spec() agents.ToolSpec {
	durations := "Only 6 seconds."
	if t.s.multiShot() {
		durations = "6 seconds (default), or a multiple of 6 from 12 to 120 for a video of several shots; longer videos take much longer to make."
	}
	params := `{"type":"object","properties":{` +
		`"text_prompt":{"type":"string","description":"What the video shows: subject, action, setting, camera motion, style, in English. Up to 512 characters for 6 seconds, 4,000 for longer videos."},` +
		`"duration_seconds":{"type":"integer","description":"Length of the video in seconds. ` + durations + `"}},` +
		`"required":["text_prompt"]}`
	return agents.ToolSpec{
		Name: TextToVideoName,
		Description: "Generate a video (1280x720, 24 fps, no sound) from a text description with Amazon Nova Reel on AWS Bedrock, " +
			"and save it as an MP4 file of the conversation. It takes a few minutes. " +
			"Returns the new file's file_id, which the user can download.",
		Parameters: json.RawMessage(params),
	}
}

// Call makes the video the arguments describe.
func (t *TextToVideo) Call(ctx context.Context, in agents.ToolInput) (agents.ToolOutput, error) {
	s := t.s
	if err := s.ready(TextToVideoName, s.cfg.VideoModel, true); err != nil {
		return agents.ToolOutput{}, err
	}
	args, err := parseArguments(in.Arguments, `{"text_prompt": "a drone shot over a misty forest at dawn"}`)
	if err != nil {
		return agents.ToolOutput{}, err
	}
	prompt, err := args.text("text_prompt")
	if err != nil {
		return agents.ToolOutput{}, err
	}
	seconds, err := args.integer("duration_seconds", shotSeconds, "seconds")
	if err != nil {
		return agents.ToolOutput{}, err
	}
	var req videoRequest
	switch {
	case seconds == shotSeconds:
		if err := checkPrompt("text_prompt", prompt, maxShotPrompt, true); err != nil {
			return agents.ToolOutput{}, err
		}
		req = newVideoRequest("TEXT_VIDEO", seconds)
		req.TextToVideoParams = &textToVideoParams{Text: prompt}
	case !s.multiShot():
		return agents.ToolOutput{}, fmt.Errorf("duration_seconds must be 6: the model %s makes only 6-second videos", s.cfg.VideoModel)
	case seconds < 2*shotSeconds || seconds > maxVideoSeconds || seconds%shotSeconds != 0:
		return agents.ToolOutput{}, fmt.Errorf("duration_seconds must be 6, or a multiple of 6 from 12 to 120 (it was %d)", seconds)
	default:
		if err := checkPrompt("text_prompt", prompt, maxMultiPrompt, true); err != nil {
			return agents.ToolOutput{}, err
		}
		req = newVideoRequest("MULTI_SHOT_AUTOMATED", seconds)
		req.MultiShotAutomatedParams = &multiShotAutomated{Text: prompt}
	}
	f, took, err := s.makeVideo(ctx, in, req, fileName(prompt, "video", ".mp4"))
	if err != nil {
		return agents.ToolOutput{}, err
	}
	return videoOutput(f, seconds, s.cfg.VideoModel, took, ""), nil
}

// Spec describes the tool to the model.
func (t *ImageToVideo) Spec() agents.ToolSpec {
	params := `{"type":"object","properties":{` +
		`"image":{"type":"string","description":"The starting frame: the file_id or name of an image file of the conversation (such as one text_to_image made), or an http(s) URL. It must be a PNG or JPEG of exactly 1280x720 pixels."},` +
		`"text_prompt":{"type":"string","description":"How the image should move: action, camera motion, style, in English, up to 512 characters. Optional."}},` +
		`"required":["image"]}`
	return agents.ToolSpec{
		Name: ImageToVideoName,
		Description: "Generate a 6-second video (1280x720, 24 fps, no sound) that starts from an image, with Amazon Nova Reel on AWS Bedrock, " +
			"and save it as an MP4 file of the conversation. It takes a few minutes. " +
			"The image must be exactly 1280x720 pixels (text_to_image can make one with width 1280 and height 720). " +
			"Returns the new file's file_id, which the user can download.",
		Parameters: json.RawMessage(params),
	}
}

// Call animates the image the arguments name.
func (t *ImageToVideo) Call(ctx context.Context, in agents.ToolInput) (agents.ToolOutput, error) {
	s := t.s
	if err := s.ready(ImageToVideoName, s.cfg.VideoModel, true); err != nil {
		return agents.ToolOutput{}, err
	}
	args, err := parseArguments(in.Arguments, `{"image": "<file_id, file name or URL>", "text_prompt": "the camera slowly pans right"}`)
	if err != nil {
		return agents.ToolOutput{}, err
	}
	ref, err := args.text("image")
	if err != nil {
		return agents.ToolOutput{}, err
	}
	if ref == "" {
		return agents.ToolOutput{}, fmt.Errorf(`the image argument is required: the file_id or name of a 1280x720 image of the conversation, or its URL, like {"image": "photo.png"}`)
	}
	prompt, err := args.text("text_prompt")
	if err != nil {
		return agents.ToolOutput{}, err
	}
	if err := checkPrompt("text_prompt", prompt, maxShotPrompt, false); err != nil {
		return agents.ToolOutput{}, err
	}
	img, err := s.loadImage(ctx, in, ref)
	if err != nil {
		return agents.ToolOutput{}, err
	}
	note := ""
	if prompt == "" {
		prompt = defaultI2VPrompt
		note = fmt.Sprintf("No text_prompt was given, so the video was made with the prompt %q.", prompt)
	}
	req := newVideoRequest("TEXT_VIDEO", shotSeconds)
	frame := videoImage{Format: img.format}
	frame.Source.Bytes = base64.StdEncoding.EncodeToString(img.data)
	req.TextToVideoParams = &textToVideoParams{Text: prompt, Images: []videoImage{frame}}
	f, took, err := s.makeVideo(ctx, in, req, fileName(strings.TrimSuffix(img.name, path.Ext(img.name)), "image", "-video.mp4"))
	if err != nil {
		return agents.ToolOutput{}, err
	}
	return videoOutput(f, shotSeconds, s.cfg.VideoModel, took, note), nil
}

// videoOutput tells the model about the video file f.
func videoOutput(f agents.File, seconds int, model string, took time.Duration, note string) agents.ToolOutput {
	content := fmt.Sprintf("Generated a %d-second 1280x720 video (MP4, %s) with %s in %s and saved it as a file.\nfile_id: %s\nname: %s",
		seconds, safehttp.FormatSize(f.Size), model, took, f.ID, f.Name)
	if note != "" {
		content += "\n" + note
	}
	return agents.ToolOutput{Content: content, FileIDs: []string{f.ID}}
}
