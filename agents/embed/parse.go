package embed

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
)

// Bounds of the size "hash-<n>" may ask for: fewer dimensions than 16 make
// every passage collide with every other, and more than 8192 only cost
// memory in the index.
const (
	minHashDims = 16
	maxHashDims = 8192
)

// ParseConfig is what Parse needs besides the model's name: where and how to
// reach the remote models. Its zero value works for the hash embedder.
type ParseConfig struct {
	// OpenAIBaseURL is OPENAI_BASE_URL; empty means "https://api.openai.com/v1"
	// when OpenAIAPIKey is set. OpenAIAPIKey is OPENAI_API_KEY.
	OpenAIBaseURL, OpenAIAPIKey string
	// Bedrock is the client for "bedrock:" models; nil when no region is
	// configured, and then those models are an error.
	Bedrock *bedrockruntime.Client
	// HTTP is the client for "openai:" models; nil means one with a 60 s timeout.
	HTTP *http.Client
}

// Parse makes the embedder an ATRIUM_EMBEDDING_MODEL value names:
//
//	""  or "hash" -> NewHash(512); "hash-<n>" -> NewHash(n) (16..8192)
//	"openai:<model>" -> NewOpenAI with the base URL and key given in ParseConfig
//	"bedrock:<model>" -> NewBedrockTitan with ParseConfig.Bedrock (error if nil: "bedrock embeddings need ATRIUM_BEDROCK_REGION or AWS_REGION")
//
// Anything else is an error naming the accepted forms. "bedrock:" alone
// means Titan Text Embeddings v2; "openai:" needs a model, and a base URL or
// a key (without either, the call could only fail at OpenAI).
func Parse(spec string, cfg ParseConfig) (Embedder, error) {
	spec = strings.TrimSpace(spec)
	switch {
	case spec == "" || spec == "hash":
		return NewHash(defaultHashDims), nil
	case strings.HasPrefix(spec, "hash-"):
		s := strings.TrimPrefix(spec, "hash-")
		n, err := strconv.Atoi(s)
		// The written form must be the one Name gives back ("hash-64", not
		// "hash-064" or "hash-+64"), so the setting and the index agree.
		if err != nil || strconv.Itoa(n) != s {
			return nil, fmt.Errorf("embedding model %q: %q is not a number of dimensions", spec, s)
		}
		if n < minHashDims || n > maxHashDims {
			return nil, fmt.Errorf("embedding model %q: dimensions must be from %d to %d", spec, minHashDims, maxHashDims)
		}
		return NewHash(n), nil
	case strings.HasPrefix(spec, "openai:"):
		model := strings.TrimSpace(strings.TrimPrefix(spec, "openai:"))
		if model == "" {
			return nil, fmt.Errorf("embedding model %q: name the model, as in \"openai:text-embedding-3-small\"", spec)
		}
		base := cfg.OpenAIBaseURL
		if base == "" {
			if cfg.OpenAIAPIKey == "" {
				return nil, fmt.Errorf("embedding model %q: openai embeddings need OPENAI_BASE_URL or OPENAI_API_KEY", spec)
			}
			base = defaultOpenAIBaseURL
		}
		return NewOpenAI(OpenAIConfig{BaseURL: base, APIKey: cfg.OpenAIAPIKey, Model: model, Client: cfg.HTTP}), nil
	case strings.HasPrefix(spec, "bedrock:"):
		if cfg.Bedrock == nil {
			return nil, fmt.Errorf("embedding model %q: bedrock embeddings need ATRIUM_BEDROCK_REGION or AWS_REGION", spec)
		}
		return NewBedrockTitan(cfg.Bedrock, strings.TrimSpace(strings.TrimPrefix(spec, "bedrock:"))), nil
	}
	return nil, fmt.Errorf("unknown embedding model %q: want \"hash\", \"hash-<%d..%d>\", \"openai:<model>\" or \"bedrock:<model>\"", spec, minHashDims, maxHashDims)
}
