package generate

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents"
)

const (
	testS3URI   = "s3://atrium-videos/out/"
	videoObject = "atrium-videos/out/job42/output.mp4"
)

// fakeVideo is some bytes standing for an MP4.
func fakeVideo(n int) []byte {
	b := bytes.Repeat([]byte("\x00\x00\x00\x20ftypmp42 video bytes "), n/24+1)
	return b[:n]
}

// checkStart checks the StartAsyncInvoke request the fake saw and returns
// its model input.
func checkStart(t *testing.T, f *fakeAWS, model string) map[string]any {
	t.Helper()
	starts := f.seen("StartAsyncInvoke")
	if len(starts) != 1 {
		t.Fatalf("StartAsyncInvoke calls = %d", len(starts))
	}
	b := starts[0].Body
	if b["modelId"] != model || dig(b, "outputDataConfig", "s3OutputDataConfig", "s3Uri") != testS3URI || b["clientRequestToken"] == "" {
		t.Errorf("StartAsyncInvoke body = %v", b)
	}
	in, _ := b["modelInput"].(map[string]any)
	cfg, _ := in["videoGenerationConfig"].(map[string]any)
	if cfg["fps"] != 24.0 || cfg["dimension"] != "1280x720" {
		t.Errorf("videoGenerationConfig = %v", cfg)
	}
	if seed, ok := cfg["seed"].(float64); !ok || seed < 0 || seed > maxVideoSeed {
		t.Errorf("seed = %v", cfg["seed"])
	}
	return in
}

func TestTextToVideoStoresTheVideo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newFakeAWS(t)
	video := fakeVideo(300_000)
	f.objects[videoObject] = video
	_, tool, _ := e.tools(f, Config{VideoS3URI: testS3URI})

	out, err := tool.Call(t.Context(), e.input(`{"text_prompt":"A drone shot over a misty forest at dawn"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.FileIDs) != 1 {
		t.Fatalf("FileIDs = %v", out.FileIDs)
	}
	id := out.FileIDs[0]
	contains(t, out.Content, "file_id: "+id, "6-second", "1280x720", "MP4, 293 KiB", DefaultVideoModel)
	fl, data := e.stored(t, id)
	if !bytes.Equal(data, video) {
		t.Errorf("stored %d bytes, want S3's %d", len(data), len(video))
	}
	if fl.ContentType != "video/mp4" || fl.Source != "tool" || fl.Conversation != e.chat || fl.Name != "a-drone-shot-over-a-misty-forest-at-dawn.mp4" {
		t.Errorf("file = %+v", fl)
	}

	in := checkStart(t, f, DefaultVideoModel)
	if in["taskType"] != "TEXT_VIDEO" || dig(in, "textToVideoParams", "text") != "A drone shot over a misty forest at dawn" ||
		dig(in, "videoGenerationConfig", "durationSeconds") != 6.0 {
		t.Errorf("model input = %v", in)
	}
	if _, ok := in["textToVideoParams"].(map[string]any)["images"]; ok {
		t.Errorf("text_to_video sent images: %v", in)
	}
	polls := f.seen("GetAsyncInvoke")
	if len(polls) != 3 || polls[0].Path != testARN {
		t.Errorf("polls = %d, first for %q", len(polls), polls[0].Path)
	}
	if gets := f.seen("GetObject"); len(gets) != 1 || gets[0].Path != videoObject {
		t.Errorf("GetObject = %+v", gets)
	}
}

func TestTextToVideoDurations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newFakeAWS(t)
	f.objects[videoObject] = fakeVideo(1000)
	_, tool, _ := e.tools(f, Config{VideoS3URI: testS3URI})

	for args, want := range map[string]string{
		`{"text_prompt":"x","duration_seconds":7}`:           "must be 6, or a multiple of 6 from 12 to 120 (it was 7)",
		`{"text_prompt":"x","duration_seconds":126}`:         "(it was 126)",
		`{"text_prompt":"x","duration_seconds":0}`:           "(it was 0)",
		`{"text_prompt":"x","duration_seconds":"a"}`:         "duration_seconds must be a whole number of seconds",
		`{"text_prompt":"` + strings.Repeat("x", 513) + `"}`: "limit of 512",
	} {
		if _, err := tool.Call(t.Context(), e.input(args)); err == nil {
			t.Errorf("%.60s: no error", args)
		} else {
			contains(t, err.Error(), want)
		}
	}
	if n := f.total(); n != 0 {
		t.Fatalf("bad arguments reached AWS (%d requests)", n)
	}

	out, err := tool.Call(t.Context(), e.input(`{"text_prompt":"`+strings.Repeat("a story ", 100)+`","duration_seconds":"18"}`))
	if err != nil {
		t.Fatal(err)
	}
	contains(t, out.Content, "18-second")
	in := checkStart(t, f, DefaultVideoModel)
	if in["taskType"] != "MULTI_SHOT_AUTOMATED" || !strings.HasPrefix(dig(in, "multiShotAutomatedParams", "text").(string), "a story") ||
		dig(in, "videoGenerationConfig", "durationSeconds") != 18.0 || in["textToVideoParams"] != nil {
		t.Errorf("model input = %v", in)
	}

	// Nova Reel v1:0 makes single shots only.
	_, old, _ := e.tools(f, Config{VideoS3URI: testS3URI, VideoModel: "amazon.nova-reel-v1:0"})
	_, err = old.Call(t.Context(), e.input(`{"text_prompt":"x","duration_seconds":12}`))
	if err == nil {
		t.Fatal("v1:0 accepted 12 seconds")
	}
	contains(t, err.Error(), "only 6-second videos")
	if strings.Contains(string(old.Spec().Parameters), "120") {
		t.Errorf("v1:0's spec offers long videos: %s", old.Spec().Parameters)
	}
}

func TestVideoJobFailed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, c := range []struct{ failure, want string }{
		{"Internal error while generating the video.", "the video job failed on Bedrock: Internal error while generating the video.. No video was made"},
		{"The output video was blocked by our content filters.", "content filters stopped the video job"},
		{"", "Bedrock gave no reason"},
	} {
		f := newFakeAWS(t)
		f.statuses = []string{"InProgress", "Failed"}
		f.failure = c.failure
		_, tool, _ := e.tools(f, Config{VideoS3URI: testS3URI})
		_, err := tool.Call(t.Context(), e.input(`{"text_prompt":"a cat"}`))
		if err == nil {
			t.Fatalf("%q: no error", c.failure)
		}
		contains(t, err.Error(), c.want)
		if n := len(f.seen("GetObject")); n != 0 {
			t.Errorf("a failed job was downloaded")
		}
	}
}

func TestVideoNeedsS3URI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newFakeAWS(t)
	_, t2v, i2v := e.tools(f, Config{})
	for _, tool := range []agents.Tool{t2v, i2v} {
		_, err := tool.Call(t.Context(), e.input(`{"text_prompt":"a cat","image":"cat.png"}`))
		if err == nil {
			t.Fatalf("%s ran without an S3 location", tool.Spec().Name)
		}
		contains(t, err.Error(), tool.Spec().Name+" needs an S3 location", "set ATRIUM_VIDEO_S3_URI", "s3://", "us-east-1")
	}
	_, t2v, _ = e.tools(f, Config{VideoS3URI: "https://bucket.s3.amazonaws.com/videos"})
	_, err := t2v.Call(t.Context(), e.input(`{"text_prompt":"a cat"}`))
	if err == nil {
		t.Fatal("an https:// location was accepted")
	}
	contains(t, err.Error(), "ATRIUM_VIDEO_S3_URI is wrong", "not an S3 URI")
	if n := f.total(); n != 0 {
		t.Errorf("AWS got %d requests", n)
	}
}

func TestVideoCancelStopsPolling(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newFakeAWS(t)
	f.statuses = []string{"InProgress"}
	f.polled = make(chan int, 1)
	_, tool, _ := e.tools(f, Config{VideoS3URI: testS3URI})

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := tool.Call(ctx, e.input(`{"text_prompt":"a cat"}`))
		done <- err
	}()
	<-f.polled
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the tool kept polling after its context was cancelled")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	contains(t, err.Error(), "stopped waiting because the run was cancelled", testARN, "goes on in AWS", testS3URI)
}

func TestVideoTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newFakeAWS(t)
	f.statuses = []string{"InProgress"}
	// Long enough for the job to start on a loaded machine (the timeout
	// covers starting it too); the fake never finishes it.
	_, t2v, i2v := e.tools(f, Config{VideoS3URI: testS3URI, VideoTimeout: 2 * time.Second, PollInterval: 20 * time.Millisecond})
	if t2v.Timeout() != 2*time.Second || i2v.Timeout() != 2*time.Second {
		t.Errorf("Timeout() = %v, %v", t2v.Timeout(), i2v.Timeout())
	}
	_, err := t2v.Call(t.Context(), e.input(`{"text_prompt":"a cat"}`))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	contains(t, err.Error(), "the video was not ready after", "goes on in AWS")

	_, t2v, i2v = e.tools(nil, Config{})
	if t2v.Timeout() != 10*time.Minute || i2v.Timeout() != 10*time.Minute {
		t.Errorf("default Timeout() = %v, %v", t2v.Timeout(), i2v.Timeout())
	}
}

func TestVideoDownloadLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newFakeAWS(t)
	f.objects[videoObject] = fakeVideo(5000)
	_, tool, _ := e.tools(f, Config{VideoS3URI: testS3URI, MaxVideoBytes: 1000})
	_, err := tool.Call(t.Context(), e.input(`{"text_prompt":"a cat"}`))
	if err == nil {
		t.Fatal("a video over the limit was stored")
	}
	contains(t, err.Error(), "more than this server's limit of 1000 bytes", "s3://atrium-videos/out/job42/output.mp4")

	// A job whose video is missing from S3.
	f = newFakeAWS(t)
	_, tool, _ = e.tools(f, Config{VideoS3URI: testS3URI})
	_, err = tool.Call(t.Context(), e.input(`{"text_prompt":"a cat"}`))
	if err == nil {
		t.Fatal("no error for a missing video")
	}
	contains(t, err.Error(), "its video is not at s3://atrium-videos/out/job42/output.mp4")

	if files, _ := e.files.List(t.Context(), e.agent.ID, e.chat); len(files) != 0 {
		t.Errorf("failed downloads left files: %v", files)
	}
}

func TestCapped(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		size, limit int
		over        bool
	}{{1000, 1000, false}, {1001, 1000, true}, {0, 10, false}, {100_000, 4096, true}} {
		r := &capped{r: bytes.NewReader(make([]byte, c.size)), left: int64(c.limit)}
		data, err := io.ReadAll(r)
		if r.over != c.over || (err != nil) != c.over || len(data) > c.limit {
			t.Errorf("%d bytes, limit %d: read %d, err %v, over %v", c.size, c.limit, len(data), err, r.over)
		}
	}
}

// saveUpload stores data as an upload of the env's conversation (or of
// another one).
func (e env) saveUpload(t *testing.T, name string, data []byte, other bool) agents.File {
	t.Helper()
	chat := e.chat
	if other {
		chat += "x"
	}
	f, err := e.files.Save(t.Context(), e.agent, chat, name, "", "upload", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestImageToVideoWithConversationFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newFakeAWS(t)
	f.objects[videoObject] = fakeVideo(2000)
	frame := picture(t, "png", 1280, 720)
	upload := e.saveUpload(t, "castle.png", frame, false)
	_, _, tool := e.tools(f, Config{VideoS3URI: testS3URI})

	out, err := tool.Call(t.Context(), e.input(`{"image":"castle.png","text_prompt":"clouds drift over the towers"}`))
	if err != nil {
		t.Fatal(err)
	}
	fl, data := e.stored(t, out.FileIDs[0])
	if fl.Name != "castle-video.mp4" || !bytes.Equal(data, f.objects[videoObject]) {
		t.Errorf("file = %+v (%d bytes)", fl, len(data))
	}
	in := checkStart(t, f, DefaultVideoModel)
	images, _ := dig(in, "textToVideoParams", "images").([]any)
	if in["taskType"] != "TEXT_VIDEO" || dig(in, "textToVideoParams", "text") != "clouds drift over the towers" || len(images) != 1 {
		t.Fatalf("model input = %.300v", in)
	}
	if dig(images[0], "format") != "png" || dig(images[0], "source", "bytes") != base64.StdEncoding.EncodeToString(frame) {
		t.Errorf("image = %.200v", images[0])
	}

	// By file id, without a prompt: the default prompt, and the model is told.
	f2 := newFakeAWS(t)
	f2.objects[videoObject] = fakeVideo(2000)
	_, _, tool = e.tools(f2, Config{VideoS3URI: testS3URI})
	out, err = tool.Call(t.Context(), e.input(`{"image":"`+upload.ID+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	contains(t, out.Content, "No text_prompt was given", defaultI2VPrompt)
	if got := dig(checkStart(t, f2, DefaultVideoModel), "textToVideoParams", "text"); got != defaultI2VPrompt {
		t.Errorf("text = %v", got)
	}
}

func TestImageToVideoRefusesWrongImages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newFakeAWS(t)
	_, _, tool := e.tools(f, Config{VideoS3URI: testS3URI})
	e.saveUpload(t, "square.png", picture(t, "png", 1024, 1024), false)
	e.saveUpload(t, "elsewhere.png", picture(t, "png", 1280, 720), true)
	e.saveUpload(t, "notes.txt", []byte("hello, not an image"), false)
	var g bytes.Buffer
	if err := gif.Encode(&g, image.NewPaletted(image.Rect(0, 0, 1280, 720), color.Palette{color.Black, color.White}), nil); err != nil {
		t.Fatal(err)
	}
	e.saveUpload(t, "anim.gif", g.Bytes(), false)

	for args, want := range map[string]string{
		`{"image":"square.png"}`:    "square.png is 1024x1024 pixels, but Nova Reel needs a starting image of exactly 1280x720",
		`{"image":"elsewhere.png"}`: `no file "elsewhere.png" in this conversation`,
		`{"image":"nope.png"}`:      `no file "nope.png" in this conversation`,
		`{"image":"notes.txt"}`:     "notes.txt is not a PNG or JPEG image",
		`{"image":"anim.gif"}`:      "anim.gif is a gif image; Nova Reel takes only PNG or JPEG",
		`{"image":""}`:              "the image argument is required",
		`{"text_prompt":"hi"}`:      "the image argument is required",
	} {
		_, err := tool.Call(t.Context(), e.input(args))
		if err == nil {
			t.Errorf("%s: no error", args)
			continue
		}
		contains(t, err.Error(), want)
	}
	if n := f.total(); n != 0 {
		t.Errorf("refused images reached AWS (%d requests)", n)
	}
}

func TestImageToVideoFromURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newFakeAWS(t)
	f.objects[videoObject] = fakeVideo(2000)
	frame := picture(t, "jpeg", 1280, 720)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/pics/frame.jpg" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(frame)
	}))
	t.Cleanup(web.Close)
	_, _, tool := e.tools(f, Config{VideoS3URI: testS3URI})

	out, err := tool.Call(t.Context(), e.input(`{"image":"`+web.URL+`/pics/frame.jpg","text_prompt":"zoom in"}`))
	if err != nil {
		t.Fatal(err)
	}
	if fl, _ := e.stored(t, out.FileIDs[0]); fl.Name != "frame-video.mp4" {
		t.Errorf("name = %q", fl.Name)
	}
	images, _ := dig(checkStart(t, f, DefaultVideoModel), "textToVideoParams", "images").([]any)
	if len(images) != 1 || dig(images[0], "format") != "jpeg" || dig(images[0], "source", "bytes") != base64.StdEncoding.EncodeToString(frame) {
		t.Errorf("images = %.200v", images)
	}

	_, err = tool.Call(t.Context(), e.input(`{"image":"`+web.URL+`/missing.png"}`))
	if err == nil {
		t.Fatal("a 404 was accepted")
	}
	contains(t, err.Error(), "could not fetch the image", "404")

	// Without the allow list, safehttp refuses the loopback address.
	strict := New(Config{VideoS3URI: testS3URI, BedrockEndpoint: f.srv.URL, S3Endpoint: f.srv.URL, S3PathStyle: true},
		testAWS(), e.files, nil)[2]
	_, err = strict.Call(t.Context(), e.input(`{"image":"`+web.URL+`/pics/frame.jpg"}`))
	if err == nil {
		t.Fatal("an internal address was fetched")
	}
	contains(t, err.Error(), "could not fetch the image")
}

func TestS3URI(t *testing.T) {
	t.Parallel()
	for uri, want := range map[string][2]string{
		"s3://atrium-videos":          {"atrium-videos", ""},
		"s3://atrium-videos/":         {"atrium-videos", ""},
		"s3://my.bucket-1/a/b/":       {"my.bucket-1", "a/b/"},
		"s3://abc/out/job/output.mp4": {"abc", "out/job/output.mp4"},
	} {
		b, k, err := parseS3URI(uri)
		if err != nil || b != want[0] || k != want[1] {
			t.Errorf("parseS3URI(%q) = %q, %q, %v", uri, b, k, err)
		}
	}
	for _, bad := range []string{"", "bucket/key", "https://b.s3.amazonaws.com/k", "s3://", "s3://AB/x", "s3://ab", "s3://-abc/", "s3://abc-/x", "s3://a_b_c"} {
		if ValidateS3URI(bad) == nil {
			t.Errorf("ValidateS3URI(%q) accepted it", bad)
		}
	}
	if got := joinS3("s3://b/out/job42", "output.mp4"); got != "s3://b/out/job42/output.mp4" {
		t.Errorf("joinS3 = %q", got)
	}
	if got := joinS3("s3://b/out/job42/", "output.mp4"); got != "s3://b/out/job42/output.mp4" {
		t.Errorf("joinS3 = %q", got)
	}
}
