package qdrant

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultCollection is the collection used when Config.Collection is empty.
const DefaultCollection = "atrium_rag"

// Config says where Qdrant is.
type Config struct {
	URL        string       // e.g. http://127.0.0.1:6333 (QDRANT_URL); required
	APIKey     string       // sent as the "api-key" header when set (QDRANT_API_KEY)
	Collection string       // "" means "atrium_rag"
	Client     *http.Client // nil: a client with a 30 s timeout
}

// Store keeps the vectors of RAG indexes in one Qdrant collection. It holds
// no state of its own besides its configuration, so one Store may be used by
// any number of goroutines.
type Store struct {
	base       string // Qdrant's URL, without a trailing slash
	apiKey     string
	collection string
	client     *http.Client
}

// New returns a Store for cfg. It checks the configuration (an http or https
// URL with a host, a collection name that fits in a URL path) but does not
// contact Qdrant: Ensure and Ping do.
func New(cfg Config) (*Store, error) {
	if cfg.URL == "" {
		return nil, errors.New("qdrant: no URL")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("qdrant: URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("qdrant: URL scheme %q: want http or https", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("qdrant: URL has no host")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("qdrant: URL has a query or fragment")
	}
	collection := cfg.Collection
	if collection == "" {
		collection = DefaultCollection
	}
	if strings.ContainsAny(collection, "/\\?#%") || strings.TrimSpace(collection) != collection {
		return nil, fmt.Errorf("qdrant: collection name %q: no slashes, ?, #, %% or surrounding spaces", collection)
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return &Store{
		base:       strings.TrimSuffix(u.String(), "/"),
		apiKey:     cfg.APIKey,
		collection: collection,
		client:     client,
	}, nil
}

// Collection is the name of the Qdrant collection s uses.
func (s *Store) Collection() string { return s.collection }

// path is the path of the collection's endpoint rest (e.g. "/points").
func (s *Store) path(rest string) string {
	return "/collections/" + url.PathEscape(s.collection) + rest
}

// ErrVectorSize is returned (wrapped) by Ensure when the collection exists
// with vectors of another size: they come from another embedding model, and
// the index needs a collection of its own.
var ErrVectorSize = errors.New("qdrant: collection has vectors of another size")

// Error is a non-2xx answer from Qdrant.
type Error struct {
	Op      string // what Store was doing, e.g. "upsert points"
	Status  int    // the HTTP status code
	Message string // Qdrant's status.error, or the start of the body; may be ""
}

// Error says the operation, the status and Qdrant's message.
func (e *Error) Error() string {
	msg := fmt.Sprintf("qdrant: %s: %d %s", e.Op, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// NotFound reports whether err is Qdrant's 404, e.g. for a missing collection.
func NotFound(err error) bool {
	var qe *Error
	return errors.As(err, &qe) && qe.Status == http.StatusNotFound
}
