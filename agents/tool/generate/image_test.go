package generate

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/atrium-hq/atrium/agents"
)

// answerImage answers InvokeModel with img as Nova Canvas does.
func answerImage(img []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"images": []string{base64.StdEncoding.EncodeToString(img)}})
	}
}

func TestSpecs(t *testing.T) {
	t.Parallel()
	for _, tool := range New(Config{}, nil, nil, nil) {
		spec := tool.Spec()
		var schema struct {
			Type       string
			Properties map[string]struct{ Type, Description string }
			Required   []string
		}
		if err := json.Unmarshal(spec.Parameters, &schema); err != nil {
			t.Fatalf("%s parameters: %v", spec.Name, err)
		}
		if spec.Description == "" || schema.Type != "object" || len(schema.Required) != 1 {
			t.Errorf("%s: spec = %+v, schema %+v", spec.Name, spec, schema)
		}
		for name, p := range schema.Properties {
			if p.Type == "" || p.Description == "" {
				t.Errorf("%s.%s = %+v", spec.Name, name, p)
			}
		}
	}
}

func TestTextToImageSavesTheImage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newFakeAWS(t)
	img := picture(t, "png", 512, 768)
	f.invoke = answerImage(img)
	tool, _, _ := e.tools(f, Config{})

	out, err := tool.Call(t.Context(), e.input(`{"text_prompt":"A red fox in the snow, watercolor","negative_prompt":"text","width":"512","height":768.0}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.FileIDs) != 1 {
		t.Fatalf("FileIDs = %v", out.FileIDs)
	}
	id := out.FileIDs[0]
	contains(t, out.Content, "file_id: "+id, "512x768", "PNG", DefaultImageModel, "a-red-fox-in-the-snow-watercolor.png")
	fl, data := e.stored(t, id)
	if !bytes.Equal(data, img) {
		t.Errorf("stored %d bytes, want the model's %d", len(data), len(img))
	}
	if fl.Source != "tool" || fl.ContentType != "image/png" || fl.Conversation != e.chat || fl.Name != "a-red-fox-in-the-snow-watercolor.png" {
		t.Errorf("file = %+v", fl)
	}
	// The file is the conversation's: image_to_video could find it by name.
	if found, err := e.files.Find(t.Context(), e.agent.ID, e.chat, fl.Name); err != nil || found.ID != id {
		t.Errorf("Find(%s) = %+v, %v", fl.Name, found, err)
	}

	reqs := f.seen("InvokeModel")
	if len(reqs) != 1 {
		t.Fatalf("InvokeModel calls = %d", len(reqs))
	}
	r := reqs[0]
	if r.Path != DefaultImageModel {
		t.Errorf("model in path = %q", r.Path)
	}
	b := r.Body
	if b["taskType"] != "TEXT_IMAGE" || dig(b, "textToImageParams", "text") != "A red fox in the snow, watercolor" ||
		dig(b, "textToImageParams", "negativeText") != "text" {
		t.Errorf("body = %v", b)
	}
	cfg := dig(b, "imageGenerationConfig").(map[string]any)
	if cfg["numberOfImages"] != 1.0 || cfg["width"] != 512.0 || cfg["height"] != 768.0 || cfg["cfgScale"] != 6.5 {
		t.Errorf("imageGenerationConfig = %v", cfg)
	}
	if seed, ok := cfg["seed"].(float64); !ok || seed < 0 || seed > maxImageSeed {
		t.Errorf("seed = %v", cfg["seed"])
	}
}

func TestTextToImageTitan(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newFakeAWS(t)
	f.invoke = answerImage(picture(t, "png", 1024, 1024))
	tool, _, _ := e.tools(f, Config{ImageModel: "amazon.titan-image-generator-v2:0"})

	// Titan makes only the sizes of its table.
	_, err := tool.Call(t.Context(), e.input(`{"text_prompt":"a lighthouse","width":1024,"height":768}`))
	if err == nil {
		t.Fatal("1024x768 was accepted for Titan")
	}
	contains(t, err.Error(), "Titan Image Generator cannot make a 1024x768 image", "1152x896")
	if n := f.total(); n != 0 {
		t.Errorf("a refused size reached Bedrock (%d requests)", n)
	}
	out, err := tool.Call(t.Context(), e.input(`{"text_prompt":"a lighthouse"}`))
	if err != nil {
		t.Fatal(err)
	}
	r := f.seen("InvokeModel")[0]
	if r.Path != "amazon.titan-image-generator-v2:0" || dig(r.Body, "imageGenerationConfig", "cfgScale") != 8.0 ||
		dig(r.Body, "imageGenerationConfig", "width") != 1024.0 {
		t.Errorf("request = %s %v", r.Path, r.Body)
	}
	if _, ok := dig(r.Body, "textToImageParams").(map[string]any)["negativeText"]; ok {
		t.Errorf("an empty negativeText was sent: %v", r.Body)
	}
	contains(t, out.Content, "1024x1024")
}

func TestTextToImageErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		name   string
		answer http.HandlerFunc
		want   []string
	}{
		{"content filter", func(w http.ResponseWriter, r *http.Request) {
			apiError(w, 400, "ValidationException", "This request has been blocked by our content filters. Please adjust your text prompt to submit a new request.")
		}, []string{"content filters blocked the image request", "rephrase"}},
		{"other validation", func(w http.ResponseWriter, r *http.Request) {
			apiError(w, 400, "ValidationException", "Malformed input request")
		}, []string{"Bedrock rejected the image request", "Malformed input request"}},
		{"access denied", func(w http.ResponseWriter, r *http.Request) {
			apiError(w, 403, "AccessDeniedException", "You don't have access to the model with the specified model ID.")
		}, []string{"AWS refused access to the model amazon.nova-canvas-v1:0 in region us-east-1", "Model access"}},
		{"throttled", func(w http.ResponseWriter, r *http.Request) {
			apiError(w, 429, "ThrottlingException", "Too many requests, please wait before trying again.")
		}, []string{"rate-limiting", "try again"}},
		{"filtered output", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"images": []string{}, "error": "The generated image was blocked by content filters."})
		}, []string{"without a usable image", "content filters blocked the image"}},
		{"not an image", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"images": []string{base64.StdEncoding.EncodeToString([]byte("GIF89a...."))}})
		}, []string{"neither PNG nor JPEG"}},
	}
	t.Cleanup(func() { // after the parallel subtests
		files, err := e.files.List(context.Background(), e.agent.ID, e.chat)
		if err != nil || len(files) != 0 {
			t.Errorf("failed calls left files: %v %v", files, err)
		}
	})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAWS(t)
			f.invoke = c.answer
			tool, _, _ := e.tools(f, Config{})
			out, err := tool.Call(t.Context(), e.input(`{"text_prompt":"something"}`))
			if err == nil {
				t.Fatalf("no error; output %+v", out)
			}
			contains(t, err.Error(), c.want...)
			if strings.Contains(err.Error(), "RequestID") || strings.Contains(err.Error(), "operation error") {
				t.Errorf("the SDK's wording reached the model: %v", err)
			}
		})
	}
}

func TestTextToImageChecksArguments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newFakeAWS(t)
	tool, _, _ := e.tools(f, Config{})
	cases := map[string]string{
		`{}`:                                             "text_prompt argument is required",
		`{"text_prompt":"  "}`:                           "text_prompt argument is required",
		`{"text_prompt":42}`:                             "text_prompt must be a string",
		`{"text_prompt":"x","width":"wide"}`:             "width must be a whole number of pixels",
		`{"text_prompt":"x","width":1000}`:               "width must be a multiple of 16 from 320 to 4096",
		`{"text_prompt":"x","height":256}`:               "height must be a multiple of 16 from 320 to 4096",
		`{"text_prompt":"x","width":4096,"height":4096}`: "16,777,216 pixels, more than the 4,194,304",
		`{"text_prompt":"x","width":2048,"height":320}`:  "too narrow",
		`[1,2]`: "must be a JSON object",
		`{"text_prompt":"` + strings.Repeat("é", 1025) + `"}`: "1025 characters, more than the model's limit of 1024",
	}
	for args, want := range cases {
		_, err := tool.Call(t.Context(), e.input(args))
		if err == nil {
			t.Errorf("%s: no error", args)
			continue
		}
		contains(t, err.Error(), want)
	}
	if n := f.total(); n != 0 {
		t.Errorf("bad arguments reached Bedrock (%d requests)", n)
	}
}

func TestImageSizes(t *testing.T) {
	t.Parallel()
	ok := [][2]int{{1024, 1024}, {1280, 720}, {320, 1280}, {2048, 2048}, {4096, 1024}, {512, 512}}
	for _, s := range ok {
		if err := novaCanvas.checkSize(s[0], s[1]); err != nil {
			t.Errorf("Nova Canvas %dx%d: %v", s[0], s[1], err)
		}
	}
	bad := [][2]int{{1000, 1000}, {304, 1024}, {4112, 1024}, {4096, 2048}, {1024, 4096 + 16}, {320, 1296}, {0, 1024}, {-1024, 1024}}
	for _, s := range bad {
		if err := novaCanvas.checkSize(s[0], s[1]); err == nil {
			t.Errorf("Nova Canvas %dx%d was accepted", s[0], s[1])
		}
	}
	for _, s := range titanImage.sizes {
		if s[0]%64 != 0 || s[1]%64 != 0 {
			t.Errorf("Titan size %v is not of multiples of 64", s)
		}
	}
	if titanImage.checkSize(1152, 640) != nil || titanImage.checkSize(1280, 720) == nil {
		t.Error("Titan's sizes are wrong")
	}
	if imageModelOf("us.amazon.titan-image-generator-v2:0").family != "Titan Image Generator" ||
		imageModelOf("us.amazon.nova-canvas-v1:0").family != "Nova Canvas" {
		t.Error("imageModelOf does not know the inference profiles")
	}
}

func TestWithoutAWS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	img, t2v, i2v := e.tools(nil, Config{VideoS3URI: "s3://bucket/videos/"})
	for _, c := range []struct {
		tool agents.Tool
		args string
		want []string
	}{
		{img, `{"text_prompt":"a cat"}`, []string{"text_to_image needs AWS Bedrock", "ATRIUM_BEDROCK_REGION", "AWS_REGION", "credentials", "amazon.nova-canvas-v1:0", "Nothing was generated"}},
		{t2v, `{"text_prompt":"a cat"}`, []string{"text_to_video needs AWS Bedrock", "ATRIUM_BEDROCK_REGION", "ATRIUM_VIDEO_S3_URI", "amazon.nova-reel-v1:1"}},
		{i2v, `{"image":"cat.png"}`, []string{"image_to_video needs AWS Bedrock", "ATRIUM_BEDROCK_REGION", "ATRIUM_VIDEO_S3_URI"}},
	} {
		out, err := c.tool.Call(t.Context(), e.input(c.args))
		if err == nil {
			t.Fatalf("%s worked without AWS: %+v", c.tool.Spec().Name, out)
		}
		contains(t, err.Error(), c.want...)
	}
}

func TestFileName(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"A red fox, in the SNOW!": "a-red-fox-in-the-snow.png",
		"  ":                      "image.png",
		"日本の庭":                    "image.png",
		strings.Repeat("ab ", 40): strings.Repeat("ab-", 15) + "ab.png", // cut between words
	}
	for in, want := range cases {
		if got := fileName(in, "image", ".png"); got != want {
			t.Errorf("fileName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMissingCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newFakeAWS(t)
	awsCfg := testAWS()
	awsCfg.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, errors.New("no EC2 IMDS role found")
	})
	tool := New(Config{BedrockEndpoint: f.srv.URL}, awsCfg, e.files, nil)[0]
	_, err := tool.Call(t.Context(), e.input(`{"text_prompt":"a cat"}`))
	if err == nil {
		t.Fatal("no error without credentials")
	}
	contains(t, err.Error(), "no usable AWS credentials", "AWS_ACCESS_KEY_ID")
	if n := f.total(); n != 0 {
		t.Errorf("an unsigned request went out (%d)", n)
	}
}
