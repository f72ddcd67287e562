package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/mcp"
	"github.com/atrium-hq/atrium/agents/tool/code"
	"github.com/atrium-hq/atrium/agents/tool/custom"
	"github.com/atrium-hq/atrium/agents/tool/files"
	"github.com/atrium-hq/atrium/agents/tool/generate"
	"github.com/atrium-hq/atrium/agents/tool/media"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
	"github.com/atrium-hq/atrium/agents/tool/search"
	"github.com/atrium-hq/atrium/agents/tool/text"
	webtool "github.com/atrium-hq/atrium/agents/tool/web"
)

// toolDeps are what the agents' tools are made of.
type toolDeps struct {
	cfg    config
	logger *slog.Logger
	web    *safehttp.Client
	files  *agents.Files
	custom *agents.CustomTools
	mcp    *mcp.Manager
	// knowledge is searched by seed 003's File Search tools.
	knowledge agents.Knowledge
}

// buildTools returns every tool an agent may be given: the built-in
// tools, each agent's custom tools, and the tools of its MCP servers.
// Their configurations' enable rule picks among them per agent.
func buildTools(ctx context.Context, d toolDeps) (agents.ToolSource, error) {
	// AWS, when a region is known, serves the tools the seed gives to AWS
	// (Bedrock images and video, Polly, Transcribe, Textract, Translate).
	aws, err := generate.LoadAWS(ctx, d.cfg.bedrockRegion)
	if err != nil {
		return nil, fmt.Errorf("AWS for the tools: %w", err)
	}
	builtin := agents.StaticTools{webtool.NewURLResolver(d.web)}
	builtin = append(builtin, files.New(d.files)...)
	builtin = append(builtin, code.New(code.Config{Timeout: d.cfg.codeTimeout, AllowSameUser: d.cfg.codeSameUser}, d.files))
	builtin = append(builtin, generate.New(generate.Config{
		ImageModel: d.cfg.imageModel, VideoModel: d.cfg.videoModel, VideoS3URI: d.cfg.videoS3URI,
	}, aws, d.files, d.web)...)
	// Media may be big and slow to fetch: its own client, same allow list.
	mediaFetch := safehttp.New(safehttp.Config{Allow: d.cfg.toolAllow, MaxBodyBytes: 100 << 20, Timeout: 5 * time.Minute})
	builtin = append(builtin, media.New(media.Config{}, aws, d.files, mediaFetch)...)
	builtin = append(builtin, text.Tools(text.Config{Files: d.files, AWS: aws})...)
	builtin = append(builtin, search.New(search.Config{
		SearXNGURL: d.cfg.searxngURL, BraveAPIKey: d.cfg.braveKey, TavilyAPIKey: d.cfg.tavilyKey,
	}))
	// A custom tool may not take a built-in tool's name: the model would
	// be offered only one of the two.
	for _, t := range builtin {
		if d.custom != nil {
			d.custom.Reserve(t.Spec().Name)
		}
	}
	return agents.ToolSources{builtin, custom.NewSource(d.custom, d.web).SearchingWith(d.knowledge), d.mcp}, nil
}
