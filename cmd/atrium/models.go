package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/embed"
	"github.com/atrium-hq/atrium/agents/provider/bedrock"
	"github.com/atrium-hq/atrium/agents/provider/echo"
	"github.com/atrium-hq/atrium/agents/provider/openai"
	"github.com/atrium-hq/atrium/agents/tool/generate"
)

// buildCatalogue makes the model catalogue: the built-in models, the file
// in ATRIUM_MODELS if any, and their upstreams.
//
// The built-in upstreams are "echo" (always), "openai" (when
// OPENAI_BASE_URL or OPENAI_API_KEY is set) and "bedrock" (when
// ATRIUM_BEDROCK_REGION or AWS_REGION is set; credentials from the
// standard AWS chain). A model whose upstream is not configured is listed
// as unavailable, and runs that ask for it fail saying so.
func buildCatalogue(ctx context.Context, cfg config, logger *slog.Logger) (*agents.Catalogue, error) {
	ups := map[string]agents.UpstreamConfig{"echo": {Type: "echo"}}
	if cfg.openaiBaseURL != "" || cfg.openaiAPIKey != "" {
		ups["openai"] = agents.UpstreamConfig{Type: "openai", BaseURL: cfg.openaiBaseURL, APIKey: cfg.openaiAPIKey}
	}
	if cfg.bedrockRegion != "" {
		ups["bedrock"] = agents.UpstreamConfig{Type: "bedrock", Region: cfg.bedrockRegion}
	}
	models := agents.BuiltinModels()
	def := cfg.defaultModel
	if cfg.modelsFile != "" {
		f, err := agents.ReadCatalogueFile(cfg.modelsFile)
		if err != nil {
			return nil, fmt.Errorf("ATRIUM_MODELS: %w", err)
		}
		maps.Copy(ups, f.Upstreams)
		models = f.Merge(models)
		if def == "" {
			def = f.DefaultModel
		}
	}
	providers := make(map[string]agents.Provider, len(ups))
	for name, u := range ups {
		p, err := upstream(ctx, cfg, name, u)
		if err != nil {
			return nil, fmt.Errorf("model upstream %q: %w", name, err)
		}
		providers[name] = p
		logger.Info("model upstream", "name", name, "type", u.Type, "base_url", u.BaseURL, "region", u.Region)
	}
	return agents.NewCatalogue(models, providers, def)
}

// upstream makes the provider of one upstream.
func upstream(ctx context.Context, cfg config, name string, u agents.UpstreamConfig) (agents.Provider, error) {
	switch u.Type {
	case "echo":
		return echo.New(echo.Config{Tokens: cfg.echoTokens, Rate: cfg.echoRate}), nil
	case "openai":
		key := u.APIKey
		if u.APIKeyEnv != "" {
			key = os.Getenv(u.APIKeyEnv)
		}
		// No HTTPClient: the provider's own keeps a pool per upstream.
		return openai.New(openai.Config{BaseURL: u.BaseURL, APIKey: key, Headers: u.Headers, Name: name}), nil
	case "bedrock":
		return bedrock.New(ctx, bedrock.Config{Region: u.Region, Endpoint: u.Endpoint, Name: name})
	}
	return nil, fmt.Errorf("unknown type %q", u.Type)
}

// newEmbedder makes what ATRIUM_EMBEDDING_MODEL names; Bedrock's client is
// made only for a "bedrock:" model.
func newEmbedder(ctx context.Context, cfg config) (embed.Embedder, error) {
	pc := embed.ParseConfig{OpenAIBaseURL: cfg.openaiBaseURL, OpenAIAPIKey: cfg.openaiAPIKey}
	if strings.HasPrefix(strings.TrimSpace(cfg.embedModel), "bedrock:") {
		aws, err := generate.LoadAWS(ctx, cfg.bedrockRegion)
		if err != nil {
			return nil, fmt.Errorf("ATRIUM_EMBEDDING_MODEL: %w", err)
		}
		if aws != nil {
			pc.Bedrock = bedrockruntime.NewFromConfig(*aws)
		}
	}
	e, err := embed.Parse(cfg.embedModel, pc)
	if err != nil {
		return nil, fmt.Errorf("ATRIUM_EMBEDDING_MODEL: %w", err)
	}
	return e, nil
}
