package generate

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // registers JPEG with image.DecodeConfig
	_ "image/png"  // registers PNG with image.DecodeConfig
	"math/rand/v2"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
)

// maxImageSeed is the largest seed Nova Canvas takes (Titan takes more).
// Nova Canvas's default seed is fixed, so without one the same prompt
// would always give the same image.
const maxImageSeed = 858_993_459

// TextToImage is the text_to_image tool: it makes one image from a prompt
// with a Bedrock image model and saves it as a PNG file. It is safe for
// concurrent use.
type TextToImage struct{ s *service }

var _ agents.Tool = (*TextToImage)(nil)

// Spec describes the tool to the model.
func (t *TextToImage) Spec() agents.ToolSpec {
	m := imageModelOf(t.s.cfg.ImageModel)
	params := fmt.Sprintf(`{"type":"object","properties":{`+
		`"text_prompt":{"type":"string","description":"What the image shows: subject, setting, style, lighting, in English, up to %[1]d characters."},`+
		`"negative_prompt":{"type":"string","description":"What the image must not show, like \"blurry, text, watermark\", up to %[1]d characters. Do not use negations in text_prompt; put them here."},`+
		`"width":{"type":"integer","description":"Width in pixels (default 1024)."},`+
		`"height":{"type":"integer","description":"Height in pixels (default 1024)."}},`+
		`"required":["text_prompt"]}`, m.maxPrompt)
	return agents.ToolSpec{
		Name: TextToImageName,
		Description: "Generate an image from a text description with " + m.family + " on AWS Bedrock, and save it as a PNG file of the conversation. " +
			"Returns the new file's file_id, which the user can download and other tools (such as image_to_video) can use. " +
			"Sizes: " + m.sizeHint() + ". Default 1024x1024.",
		Parameters: json.RawMessage(params),
	}
}

// imageRequest is the body of InvokeModel for Nova Canvas and Titan
// Image Generator, whose TEXT_IMAGE requests are the same.
type imageRequest struct {
	TaskType          string `json:"taskType"`
	TextToImageParams struct {
		Text         string `json:"text"`
		NegativeText string `json:"negativeText,omitempty"`
	} `json:"textToImageParams"`
	ImageGenerationConfig struct {
		NumberOfImages int     `json:"numberOfImages"`
		Width          int     `json:"width"`
		Height         int     `json:"height"`
		CfgScale       float64 `json:"cfgScale"`
		Seed           int     `json:"seed"`
	} `json:"imageGenerationConfig"`
}

// imageResponse is InvokeModel's answer: base64 images, and an error when
// the model made none (Titan reports filtered output this way).
type imageResponse struct {
	Images []string `json:"images"`
	Error  *string  `json:"error"`
}

// Call makes the image the arguments describe.
func (t *TextToImage) Call(ctx context.Context, in agents.ToolInput) (agents.ToolOutput, error) {
	s, model := t.s, t.s.cfg.ImageModel
	m := imageModelOf(model)
	if err := s.ready(TextToImageName, model, false); err != nil {
		return agents.ToolOutput{}, err
	}
	args, err := parseArguments(in.Arguments, `{"text_prompt": "a red fox in the snow, watercolor"}`)
	if err != nil {
		return agents.ToolOutput{}, err
	}
	prompt, err := args.text("text_prompt")
	if err != nil {
		return agents.ToolOutput{}, err
	}
	negative, err := args.text("negative_prompt")
	if err != nil {
		return agents.ToolOutput{}, err
	}
	width, err := args.integer("width", defaultSide, "pixels")
	if err != nil {
		return agents.ToolOutput{}, err
	}
	height, err := args.integer("height", defaultSide, "pixels")
	if err != nil {
		return agents.ToolOutput{}, err
	}
	if err := checkPrompt("text_prompt", prompt, m.maxPrompt, true); err != nil {
		return agents.ToolOutput{}, err
	}
	if err := checkPrompt("negative_prompt", negative, m.maxPrompt, false); err != nil {
		return agents.ToolOutput{}, err
	}
	if err := m.checkSize(width, height); err != nil {
		return agents.ToolOutput{}, err
	}

	var req imageRequest
	req.TaskType = "TEXT_IMAGE"
	req.TextToImageParams.Text = prompt
	req.TextToImageParams.NegativeText = negative
	req.ImageGenerationConfig.NumberOfImages = 1
	req.ImageGenerationConfig.Width, req.ImageGenerationConfig.Height = width, height
	req.ImageGenerationConfig.CfgScale = m.cfgScale
	if s.cfg.ImageCfgScale > 0 {
		req.ImageGenerationConfig.CfgScale = s.cfg.ImageCfgScale
	}
	req.ImageGenerationConfig.Seed = rand.IntN(maxImageSeed + 1)
	body, err := json.Marshal(req)
	if err != nil {
		return agents.ToolOutput{}, fmt.Errorf("encode the image request: %w", err)
	}
	out, err := s.bedrock.InvokeModel(ctx, &bedrockruntime.InvokeModelInput{
		ModelId:     aws.String(model),
		Body:        body,
		ContentType: aws.String("application/json"),
		Accept:      aws.String("application/json"),
	})
	if err != nil {
		if ctx.Err() != nil {
			return agents.ToolOutput{}, fmt.Errorf("stopped waiting for the image: %w", context.Cause(ctx))
		}
		return agents.ToolOutput{}, s.bedrockError(err, "the image request", model)
	}
	img, err := decodeImage(out.Body)
	if err != nil {
		return agents.ToolOutput{}, fmt.Errorf("%s answered without a usable image: %w", model, err)
	}

	ext := ".png"
	if img.format == "jpeg" {
		ext = ".jpg"
	}
	name := fileName(prompt, "image", ext)
	f, err := s.store.Save(ctx, in.Agent, in.ChatID, name, "image/"+img.format, "tool", bytes.NewReader(img.data))
	if err != nil {
		return agents.ToolOutput{}, fmt.Errorf("the image was made but could not be saved: %w", err)
	}
	return agents.ToolOutput{
		Content: fmt.Sprintf("Generated a %dx%d %s image (%s) with %s and saved it as a file.\nfile_id: %s\nname: %s",
			img.width, img.height, strings.ToUpper(img.format), safehttp.FormatSize(int64(len(img.data))), model, f.ID, f.Name),
		FileIDs: []string{f.ID},
	}, nil
}

// decodedImage is the image of an InvokeModel answer.
type decodedImage struct {
	data          []byte
	format        string // "png" or "jpeg", as image.DecodeConfig names it
	width, height int
}

// decodeImage reads the first image of an InvokeModel answer, checking
// that it is one: a model that answers with anything else must not leave
// a broken file behind.
func decodeImage(body []byte) (decodedImage, error) {
	var resp imageResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return decodedImage{}, errors.New("the answer is not the JSON the model documents")
	}
	if len(resp.Images) == 0 {
		if resp.Error != nil && *resp.Error != "" {
			msg := *resp.Error
			if contentFiltered(msg) {
				return decodedImage{}, fmt.Errorf("its content filters blocked the image (%s); rephrase the prompt and try again", msg)
			}
			return decodedImage{}, fmt.Errorf("it reported: %s", msg)
		}
		return decodedImage{}, errors.New("the answer holds no image")
	}
	data, err := base64.StdEncoding.DecodeString(resp.Images[0])
	if err != nil {
		return decodedImage{}, errors.New("the image is not valid base64")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || (format != "png" && format != "jpeg") {
		return decodedImage{}, errors.New("the image is neither PNG nor JPEG")
	}
	return decodedImage{data: data, format: format, width: cfg.Width, height: cfg.Height}, nil
}
