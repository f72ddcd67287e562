package bedrock

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"

	"github.com/atrium-hq/atrium/agents"
)

// Config configures a Provider. The zero value works wherever the standard
// AWS chain finds credentials and a region.
type Config struct {
	// Region is the AWS region of the Bedrock runtime, such as "us-east-1".
	// Empty means the region of AWS, or else of the standard chain
	// (AWS_REGION, the shared config file).
	Region string
	// Endpoint overrides the Bedrock runtime URL, for tests or VPC
	// endpoints. Empty means the region's public endpoint.
	Endpoint string
	// Name names the provider in errors. Empty means "bedrock".
	Name string
	// IdleTimeout fails a call when Bedrock sends nothing for this long,
	// whether waiting for the answer to start or between its pieces. Zero
	// means 60s.
	IdleTimeout time.Duration
	// AWS is the AWS configuration: credentials, retries, HTTP client. Nil
	// means loading the standard chain with config.LoadDefaultConfig.
	AWS *aws.Config
}

// ErrIdle is wrapped by the error of a call that Bedrock left silent for
// longer than Config.IdleTimeout.
var ErrIdle = errors.New("the model sent nothing for too long")

// Provider is a Bedrock model provider. It is safe for concurrent use.
type Provider struct {
	client *bedrockruntime.Client
	name   string
	idle   time.Duration
}

var _ agents.Provider = (*Provider)(nil)

// New returns a Provider configured by cfg, loading the standard AWS chain
// when cfg.AWS is nil. It fails when no region is known, because every call
// would fail later with a less helpful error.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	name := cfg.Name
	if name == "" {
		name = "bedrock"
	}
	var awsCfg aws.Config
	if cfg.AWS != nil {
		awsCfg = cfg.AWS.Copy()
	} else {
		var opts []func(*config.LoadOptions) error
		if cfg.Region != "" {
			opts = append(opts, config.WithRegion(cfg.Region))
		}
		loaded, err := config.LoadDefaultConfig(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("%s: load aws config: %w", name, err)
		}
		awsCfg = loaded
	}
	if cfg.Region == "" && awsCfg.Region == "" {
		return nil, fmt.Errorf("%s: no AWS region: set the region in the config or AWS_REGION", name)
	}
	return NewFromConfig(awsCfg, cfg), nil
}

// NewFromConfig returns a Provider that uses awsCfg as it is (cfg.AWS is
// ignored); cfg.Region and cfg.Endpoint, when set, override it.
func NewFromConfig(awsCfg aws.Config, cfg Config) *Provider {
	p := &Provider{name: cfg.Name, idle: cfg.IdleTimeout}
	if p.name == "" {
		p.name = "bedrock"
	}
	if p.idle <= 0 {
		p.idle = 60 * time.Second
	}
	p.client = bedrockruntime.NewFromConfig(awsCfg, func(o *bedrockruntime.Options) {
		if cfg.Region != "" {
			o.Region = cfg.Region
		}
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.HTTPClient = readOnlyBodies{next: o.HTTPClient}
	})
	return p
}

// Stream answers req with Bedrock's ConverseStream; see agents.Provider.
func (p *Provider) Stream(ctx context.Context, req agents.ModelRequest, emit func(agents.Delta) error) (agents.ModelResponse, error) {
	input, err := p.input(req)
	if err != nil {
		return agents.ModelResponse{}, err
	}

	// One watchdog covers the wait for the response and every gap between
	// events. It cancels the call's context rather than only ending our
	// loop, so the SDK also abandons the request and the body read.
	callCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	idle := time.AfterFunc(p.idle, func() { cancel(ErrIdle) })
	defer idle.Stop()

	out, err := p.client.ConverseStream(callCtx, input)
	if err != nil {
		return agents.ModelResponse{}, p.failed(ctx, callCtx, err)
	}
	stream := out.GetStream()
	defer stream.Close()

	var a answer
	events := stream.Events()
	for {
		idle.Reset(p.idle)
		select {
		case <-callCtx.Done():
			return agents.ModelResponse{}, p.failed(ctx, callCtx, callCtx.Err())
		case ev, ok := <-events:
			if !ok {
				return p.ended(ctx, callCtx, stream.Err(), &a, emit)
			}
			if err := a.handle(ev, emit); err != nil {
				return agents.ModelResponse{}, err
			}
		}
	}
}

// ended judges a stream whose events have run out: only one that said how
// the model stopped is an answer; a cut connection looks just like a clean
// end to the SDK.
func (p *Provider) ended(ctx, callCtx context.Context, err error, a *answer, emit func(agents.Delta) error) (agents.ModelResponse, error) {
	if callCtx.Err() != nil {
		return agents.ModelResponse{}, p.failed(ctx, callCtx, callCtx.Err())
	}
	if err != nil {
		return agents.ModelResponse{}, p.modelError(err)
	}
	if !a.stopped {
		return agents.ModelResponse{}, fmt.Errorf("%s: the stream ended before the model finished", p.name)
	}
	return a.response(emit)
}

// failed explains why a call ended early: the caller's context wins (the
// contract returns its error as is), then the idle watchdog, then what the
// SDK or Bedrock said.
func (p *Provider) failed(ctx, callCtx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(context.Cause(callCtx), ErrIdle) {
		return fmt.Errorf("%s: nothing from the model for %s: %w", p.name, p.idle, ErrIdle)
	}
	return p.modelError(err)
}
