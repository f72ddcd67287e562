package embed_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"

	"github.com/atrium-hq/atrium/agents/embed"
)

func TestParse(t *testing.T) {
	t.Parallel()
	br := bedrockruntime.New(bedrockruntime.Options{Region: "us-east-1"})
	withKey := embed.ParseConfig{OpenAIAPIKey: "sk-test"}
	withURL := embed.ParseConfig{OpenAIBaseURL: "http://localhost:11434/v1"}
	withBedrock := embed.ParseConfig{Bedrock: br}
	for _, tc := range []struct {
		spec string
		cfg  embed.ParseConfig
		name string // the embedder's Name, or
		err  string // part of the error
	}{
		{"", embed.ParseConfig{}, "hash-512", ""},
		{"hash", embed.ParseConfig{}, "hash-512", ""},
		{" hash-64\n", embed.ParseConfig{}, "hash-64", ""},
		{"hash-16", embed.ParseConfig{}, "hash-16", ""},
		{"hash-8192", embed.ParseConfig{}, "hash-8192", ""},
		{"hash-15", embed.ParseConfig{}, "", "dimensions must be from 16 to 8192"},
		{"hash-8193", embed.ParseConfig{}, "", "dimensions must be from 16 to 8192"},
		{"hash-064", embed.ParseConfig{}, "", `"064" is not a number of dimensions`},
		{"hash-+64", embed.ParseConfig{}, "", "not a number of dimensions"},
		{"hash-", embed.ParseConfig{}, "", "not a number of dimensions"},
		{"hash-big", embed.ParseConfig{}, "", "not a number of dimensions"},
		{"openai:text-embedding-3-small", withKey, "openai:text-embedding-3-small", ""},
		{"openai:nomic-embed-text", withURL, "openai:nomic-embed-text", ""},
		{"openai:nomic-embed-text", embed.ParseConfig{}, "", "openai embeddings need OPENAI_BASE_URL or OPENAI_API_KEY"},
		{"openai:", withKey, "", "name the model"},
		{"bedrock:amazon.titan-embed-text-v1", withBedrock, "bedrock:amazon.titan-embed-text-v1", ""},
		{"bedrock:", withBedrock, "bedrock:amazon.titan-embed-text-v2:0", ""},
		{"bedrock:amazon.titan-embed-text-v2:0", embed.ParseConfig{}, "", "bedrock embeddings need ATRIUM_BEDROCK_REGION or AWS_REGION"},
		{"Hash", embed.ParseConfig{}, "", `unknown embedding model "Hash": want "hash", "hash-<16..8192>", "openai:<model>" or "bedrock:<model>"`},
		{"cohere:embed-v4", withKey, "", "unknown embedding model"},
		{"text-embedding-3-small", withKey, "", "unknown embedding model"},
	} {
		e, err := embed.Parse(tc.spec, tc.cfg)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("Parse(%q) error %v, want one saying %q", tc.spec, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("Parse(%q): %v", tc.spec, err)
		case tc.err == "" && e.Name() != tc.name:
			t.Errorf("Parse(%q).Name() = %q, want %q", tc.spec, e.Name(), tc.name)
		}
	}
}

// TestParseOpenAI checks that Parse wires the base URL, key and client.
func TestParseOpenAI(t *testing.T) {
	t.Parallel()
	f := newFakeOpenAI(t, reversed(t))
	e, err := embed.Parse("openai:test-embed", embed.ParseConfig{OpenAIBaseURL: f.srv.URL + "/v1", OpenAIAPIKey: "sk-parse", HTTP: f.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	vecs, err := e.Embed(context.Background(), []string{"t0", "t1"})
	if err != nil {
		t.Fatal(err)
	}
	checkOneHot(t, vecs, 2)
	r := f.seen()[0]
	if r.Header.Get("Authorization") != "Bearer sk-parse" || r.Body["model"] != "test-embed" {
		t.Errorf("request: Authorization %q, body %v", r.Header.Get("Authorization"), r.Body)
	}
}

// TestParseBedrock checks that Parse uses the client it is given.
func TestParseBedrock(t *testing.T) {
	t.Parallel()
	f := newFakeBedrock(t, titan(t))
	e, err := embed.Parse("bedrock:amazon.titan-embed-text-v2:0", embed.ParseConfig{Bedrock: f.client()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Embed(context.Background(), []string{"t3"}); err != nil {
		t.Fatal(err)
	}
	if r := f.seen()[0]; r.Model != "amazon.titan-embed-text-v2:0" || r.Body["inputText"] != "t3" {
		t.Errorf("request: model %q, body %v", r.Model, r.Body)
	}
}
