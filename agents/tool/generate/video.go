package generate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
)

// Nova Reel's output: the only frame size and rate it makes.
const (
	videoDimension = "1280x720"
	videoWidth     = 1280
	videoHeight    = 720
	videoFPS       = 24
	// maxVideoSeed is the largest seed Nova Reel takes.
	maxVideoSeed = 2_147_483_646
)

// videoRequest is the model input of StartAsyncInvoke for Nova Reel. The
// SDK sends it as a Smithy document, which reads `document` tags.
type videoRequest struct {
	TaskType                 string              `document:"taskType"`
	TextToVideoParams        *textToVideoParams  `document:"textToVideoParams,omitempty"`
	MultiShotAutomatedParams *multiShotAutomated `document:"multiShotAutomatedParams,omitempty"`
	VideoGenerationConfig    videoConfig         `document:"videoGenerationConfig"`
}

type textToVideoParams struct {
	Text   string       `document:"text"`
	Images []videoImage `document:"images,omitempty"`
}

type multiShotAutomated struct {
	Text string `document:"text"`
}

type videoImage struct {
	Format string `document:"format"` // "png" or "jpeg"
	Source struct {
		Bytes string `document:"bytes"` // base64
	} `document:"source"`
}

type videoConfig struct {
	DurationSeconds int    `document:"durationSeconds"`
	FPS             int    `document:"fps"`
	Dimension       string `document:"dimension"`
	Seed            int    `document:"seed"`
}

// newVideoRequest is a request of task for a video of seconds.
func newVideoRequest(task string, seconds int) videoRequest {
	return videoRequest{TaskType: task, VideoGenerationConfig: videoConfig{
		DurationSeconds: seconds, FPS: videoFPS, Dimension: videoDimension, Seed: rand.IntN(maxVideoSeed + 1),
	}}
}

// makeVideo runs one video job: it starts req on Bedrock, waits
// for it, and saves its video as name. The context bounds the wait, not
// the job: a job left behind goes on in AWS.
func (s *service) makeVideo(ctx context.Context, in agents.ToolInput, req videoRequest, name string) (agents.File, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.VideoTimeout)
	defer cancel()
	began := time.Now()
	model := s.cfg.VideoModel
	started, err := s.bedrock.StartAsyncInvoke(ctx, &bedrockruntime.StartAsyncInvokeInput{
		ModelId:    aws.String(model),
		ModelInput: document.NewLazyDocument(req),
		OutputDataConfig: &types.AsyncInvokeOutputDataConfigMemberS3OutputDataConfig{
			Value: types.AsyncInvokeS3OutputDataConfig{S3Uri: aws.String(s.cfg.VideoS3URI)},
		},
	})
	if err != nil {
		if ctx.Err() != nil {
			return agents.File{}, 0, fmt.Errorf("stopped before the video job started: %w", context.Cause(ctx))
		}
		return agents.File{}, 0, s.bedrockError(err, "the video request", model)
	}
	arn := aws.ToString(started.InvocationArn)
	job, err := s.wait(ctx, arn, began)
	if err != nil {
		return agents.File{}, 0, err
	}
	out, ok := job.OutputDataConfig.(*types.AsyncInvokeOutputDataConfigMemberS3OutputDataConfig)
	if !ok || aws.ToString(out.Value.S3Uri) == "" {
		return agents.File{}, 0, fmt.Errorf("the video job %s finished, but Bedrock did not say where its video is", arn)
	}
	f, err := s.download(ctx, in, joinS3(aws.ToString(out.Value.S3Uri), "output.mp4"), name)
	if err != nil {
		return agents.File{}, 0, err
	}
	return f, time.Since(began).Round(time.Second), nil
}

// wait polls the job arn until it ends, and returns its final state; a
// failed job is an error with Bedrock's reason.
func (s *service) wait(ctx context.Context, arn string, began time.Time) (*bedrockruntime.GetAsyncInvokeOutput, error) {
	tick := time.NewTicker(s.cfg.PollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, s.stoppedWaiting(ctx, arn, began)
		case <-tick.C:
		}
		job, err := s.bedrock.GetAsyncInvoke(ctx, &bedrockruntime.GetAsyncInvokeInput{InvocationArn: aws.String(arn)})
		if err != nil {
			if ctx.Err() != nil {
				return nil, s.stoppedWaiting(ctx, arn, began)
			}
			return nil, wordedf(err, "could not check on the video job %s, which may still be running in AWS: %v",
				arn, s.bedrockError(err, "the status request", s.cfg.VideoModel))
		}
		switch job.Status {
		case types.AsyncInvokeStatusCompleted:
			return job, nil
		case types.AsyncInvokeStatusFailed:
			reason := aws.ToString(job.FailureMessage)
			if reason == "" {
				reason = "Bedrock gave no reason"
			}
			if contentFiltered(reason) {
				return nil, fmt.Errorf("Bedrock's content filters stopped the video job (%s). No video was made: rephrase the prompt and try again", reason)
			}
			return nil, fmt.Errorf("the video job failed on Bedrock: %s. No video was made", reason)
		}
	}
}

// stoppedWaiting explains a wait cut short by the tool's time limit or a
// cancelled run: the job itself cannot be stopped from here.
func (s *service) stoppedWaiting(ctx context.Context, arn string, began time.Time) error {
	why := "the run was cancelled"
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		why = fmt.Sprintf("the video was not ready after %s, the tool's time limit", time.Since(began).Round(time.Second))
	}
	return fmt.Errorf("stopped waiting because %s. The job %s goes on in AWS and, if it succeeds, writes its video under %s, "+
		"but this tool will not fetch it: %w", why, arn, s.cfg.VideoS3URI, context.Cause(ctx))
}

// download streams the S3 object uri into a new file of the conversation,
// refusing one larger than Config.MaxVideoBytes.
func (s *service) download(ctx context.Context, in agents.ToolInput, uri, name string) (agents.File, error) {
	bucket, key, err := parseS3URI(uri)
	if err != nil {
		return agents.File{}, fmt.Errorf("Bedrock gave a video location that is not valid: %w", err)
	}
	obj, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return agents.File{}, s.s3Error(err, uri)
	}
	defer obj.Body.Close()
	max := s.cfg.MaxVideoBytes
	if n := aws.ToInt64(obj.ContentLength); n > max {
		return agents.File{}, fmt.Errorf("the video is %s, more than this server's limit of %s; it stays at %s",
			safehttp.FormatSize(n), safehttp.FormatSize(max), uri)
	}
	body := &capped{r: obj.Body, left: max}
	f, err := s.store.Save(ctx, in.Agent, in.ChatID, name, "video/mp4", "tool", body)
	switch {
	case body.over:
		return agents.File{}, fmt.Errorf("the video is more than this server's limit of %s; it stays at %s", safehttp.FormatSize(max), uri)
	case err != nil:
		return agents.File{}, fmt.Errorf("the video was made but could not be saved (%w); it stays at %s", err, uri)
	}
	return f, nil
}

// capped reads r until more than left bytes come, then fails, so that an
// S3 object without a length cannot fill the disk.
type capped struct {
	r    io.Reader
	left int64
	over bool
}

var errTooLarge = errors.New("the video is too large")

func (c *capped) Read(p []byte) (int, error) {
	if c.over {
		return 0, errTooLarge
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	if int64(n) > c.left {
		c.over = true
		return int(c.left), errTooLarge
	}
	c.left -= int64(n)
	return n, err
}
