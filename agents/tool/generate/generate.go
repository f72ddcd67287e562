package generate

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/provider/bedrock"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
	"github.com/atrium-hq/atrium/workspaces"
)

// The tools' names, as agent configurations enable them.
const (
	TextToImageName  = "text_to_image"
	TextToVideoName  = "text_to_video"
	ImageToVideoName = "image_to_video"
)

// Default models and limits, for the zero values of Config's fields.
const (
	DefaultImageModel    = "amazon.nova-canvas-v1:0"
	DefaultVideoModel    = "amazon.nova-reel-v1:1"
	DefaultVideoTimeout  = 10 * time.Minute
	DefaultPollInterval  = 5 * time.Second
	DefaultMaxVideoBytes = 100 << 20
	DefaultMaxImageBytes = 10 << 20
)

// Config configures the tools. The zero value works wherever AWS is
// configured, except that the video tools also need VideoS3URI.
type Config struct {
	// ImageModel is text_to_image's Bedrock model id (or inference
	// profile, like "us.amazon.nova-canvas-v1:0"). Empty means Amazon Nova
	// Canvas, DefaultImageModel. Titan Image Generator v2
	// ("amazon.titan-image-generator-v2:0") takes the same request; any
	// other id is sent Nova Canvas's request and checked by its limits.
	ImageModel string
	// ImageCfgScale is how strictly images follow the prompt (1.1 to 10).
	// Zero means the model's default: 6.5 for Nova Canvas, 8 for Titan.
	ImageCfgScale float64
	// VideoModel is the video tools' Bedrock model id. Empty means Amazon
	// Nova Reel, DefaultVideoModel; the tools send Nova Reel's request.
	VideoModel string
	// VideoS3URI is where Bedrock writes videos, like
	// "s3://my-bucket/atrium-videos/" (ATRIUM_VIDEO_S3_URI): a bucket in
	// the Bedrock region that the AWS credentials may write and read.
	// Required by the video tools; ValidateS3URI checks it.
	VideoS3URI string
	// VideoTimeout bounds one video tool call, from the request to the
	// stored file. Zero means 10 minutes.
	VideoTimeout time.Duration
	// PollInterval is how often a video job's status is checked. Zero
	// means 5 seconds.
	PollInterval time.Duration
	// MaxVideoBytes caps a video read from S3. Zero means 100 MiB.
	MaxVideoBytes int64
	// MaxImageBytes caps the input image of image_to_video. Zero means
	// 10 MiB.
	MaxImageBytes int64
	// BedrockEndpoint overrides the Bedrock runtime URL, for tests or VPC
	// endpoints. Empty means the region's public endpoint.
	BedrockEndpoint string
	// S3Endpoint overrides the S3 URL, for tests or VPC endpoints. Empty
	// means the region's public endpoint.
	S3Endpoint string
	// S3PathStyle addresses buckets in the URL path rather than the host
	// name, as S3 look-alikes and tests need.
	S3PathStyle bool
}

// Store is what the tools need of agents.Files: saving what they make and
// reading the conversation's files.
type Store interface {
	Save(ctx context.Context, a agents.Agent, conv workspaces.ChatID, name, contentType, source string, r io.Reader) (agents.File, error)
	Find(ctx context.Context, agent agents.ID, conv workspaces.ChatID, ref string) (agents.File, error)
	Open(f agents.File) (*os.File, error)
}

var _ Store = (*agents.Files)(nil)

// service is what the three tools share. It is not modified after New.
type service struct {
	cfg     Config
	region  string
	bedrock *bedrockruntime.Client // nil without AWS
	s3      *s3.Client             // nil without AWS
	store   Store
	fetch   *safehttp.Client
}

// New returns the text_to_image, text_to_video and image_to_video tools.
// awsCfg is the AWS configuration (region, credentials); nil means AWS is
// not configured, and every tool then fails saying what to set. store
// keeps the files the tools make (normally *agents.Files); fetch gets
// input images given by URL, and nil means safehttp's defaults, which
// refuse every internal address.
func New(cfg Config, awsCfg *aws.Config, store Store, fetch *safehttp.Client) []agents.Tool {
	if cfg.ImageModel == "" {
		cfg.ImageModel = DefaultImageModel
	}
	if cfg.VideoModel == "" {
		cfg.VideoModel = DefaultVideoModel
	}
	if cfg.VideoTimeout <= 0 {
		cfg.VideoTimeout = DefaultVideoTimeout
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.MaxVideoBytes <= 0 {
		cfg.MaxVideoBytes = DefaultMaxVideoBytes
	}
	if cfg.MaxImageBytes <= 0 {
		cfg.MaxImageBytes = DefaultMaxImageBytes
	}
	if fetch == nil {
		fetch = safehttp.New(safehttp.Config{})
	}
	s := &service{cfg: cfg, store: store, fetch: fetch}
	if awsCfg != nil {
		s.region = awsCfg.Region
		s.bedrock = bedrockruntime.NewFromConfig(*awsCfg, func(o *bedrockruntime.Options) {
			if cfg.BedrockEndpoint != "" {
				o.BaseEndpoint = aws.String(cfg.BedrockEndpoint)
			}
			o.HTTPClient = bedrock.ReadOnlyBodies(o.HTTPClient)
		})
		s.s3 = s3.NewFromConfig(*awsCfg, func(o *s3.Options) {
			if cfg.S3Endpoint != "" {
				o.BaseEndpoint = aws.String(cfg.S3Endpoint)
			}
			o.UsePathStyle = cfg.S3PathStyle
			// S3 sends checksums for whole objects only; a missing one
			// is normal and not worth a log line per video.
			o.DisableLogOutputChecksumValidationSkipped = true
		})
	}
	return []agents.Tool{&TextToImage{s}, &TextToVideo{s}, &ImageToVideo{s}}
}

// LoadAWS loads the standard AWS chain (environment, shared files,
// instance role) with region, such as ATRIUM_BEDROCK_REGION, overriding
// the chain's region (AWS_REGION). It returns nil, and no error, when no
// region is known: AWS is then not configured, which New accepts.
func LoadAWS(ctx context.Context, region string) (*aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	if cfg.Region == "" {
		return nil, nil
	}
	return &cfg, nil
}

// ready fails when the tool cannot run on this server: without AWS, or
// without a file store for what it makes.
func (s *service) ready(tool, model string, video bool) error {
	if s.bedrock == nil {
		msg := tool + " needs AWS Bedrock, which is not configured on this server. The operator must set " +
			"ATRIUM_BEDROCK_REGION (or AWS_REGION) and AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, " +
			"a profile or an instance role) with access to the model " + model
		if video {
			msg += ", and ATRIUM_VIDEO_S3_URI (an s3:// location where Bedrock writes the videos)"
		}
		return fmt.Errorf("%s. Nothing was generated", msg)
	}
	if video && s.cfg.VideoS3URI == "" {
		return fmt.Errorf("%s needs an S3 location where Bedrock writes the video, and none is configured: "+
			"the operator must set ATRIUM_VIDEO_S3_URI, like s3://my-bucket/atrium-videos/ "+
			"(a bucket in the Bedrock region %s that the server's AWS credentials may write and read). Nothing was generated",
			tool, s.regionName())
	}
	if video {
		if err := ValidateS3URI(s.cfg.VideoS3URI); err != nil {
			return fmt.Errorf("the server's ATRIUM_VIDEO_S3_URI is wrong (%v), so %s cannot run; the operator must fix it", err, tool)
		}
	}
	if s.store == nil {
		return fmt.Errorf("%s cannot run: this server has no file store to keep what it makes", tool)
	}
	return nil
}

func (s *service) regionName() string {
	if s.region == "" {
		return "(unknown)"
	}
	return s.region
}
